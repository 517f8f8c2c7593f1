//! Fuzzes the configuration parser over arbitrary bytes: it must return a tree or an error, never
//! panic, overflow the stack or hang, whatever the text, its includes and its variables; a
//! `mappings {}` block in it is read and applied too.
#![no_main]

use std::io;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use natrium_config::{parse_duration, parse_file_with, parse_str_with, Host, Value};

/// Serves the fuzz input itself as every included file, and a few fixed environment variables
/// that refer to each other, so includes, self-includes and variable cycles are all reachable.
struct FuzzHost<'a> {
    input: &'a [u8],
}

impl Host for FuzzHost<'_> {
    fn env_var(&self, name: &str) -> Option<String> {
        let value = match name {
            "A" => "$B",
            "B" => "$A",
            "M" => "{ a = 1, b = [x, $N] }",
            "N" => "4k",
            "S" => "'quoted'",
            _ => return None,
        };
        Some(value.to_string())
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        if path.to_string_lossy().contains("missing") {
            return Err(io::Error::new(io::ErrorKind::NotFound, "missing"));
        }
        Ok(self.input.to_vec())
    }
}

fuzz_target!(|input: &[u8]| {
    let host = FuzzHost { input };
    // Bytes as a file: covers the UTF-8 check, then the same text through includes.
    if let Err(e) = parse_file_with(Path::new("/fuzz/main.conf"), &host) {
        let _ = e.to_string();
    }
    if let Ok(text) = std::str::from_utf8(input) {
        match parse_str_with(text, Path::new("/fuzz/text.conf"), &host) {
            Ok(value) => {
                let map = value.as_map().expect("the top level is always a map");
                if let Some(block) = map.get("mappings") {
                    map_through(block, input.len() as u64);
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        let _ = parse_duration(text);
    }
});

/// A `mappings {}` block read as the server reads it and, when it is valid, each source
/// (wildcards and all) mapped through the table: transforms built from fuzzed destinations
/// must apply to any subject without panicking.
fn map_through(block: &Value, random: u64) {
    let Ok(mappings) = natrium_server::configure::mappings::parse(block) else {
        return;
    };
    let mut out = Vec::new();
    for mapping in mappings.iter() {
        let _ = mappings.map(mapping.source().as_bytes(), "", random, &mut out);
    }
    let _ = mappings.map(b"a.b.c", "", random.rotate_left(32), &mut out);
}
