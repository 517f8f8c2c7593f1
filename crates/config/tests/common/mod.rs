//! Shared test fixtures: an in-memory host and a compact rendering of value trees.
#![allow(dead_code)] // Each test binary uses its own subset of these helpers.

use std::collections::HashMap;
use std::fmt::Write;
use std::io;
use std::path::{Path, PathBuf};

use natrium_config::{Host, Kind, Value};

/// Environment and files from memory, so tests are deterministic and need no disk.
pub struct MemoryHost {
    pub env: HashMap<String, String>,
    pub files: HashMap<PathBuf, Vec<u8>>,
}

impl MemoryHost {
    pub fn new(env: &[(&str, &str)], files: &[(&str, &str)]) -> Self {
        MemoryHost {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: files
                .iter()
                .map(|(k, v)| (PathBuf::from(k), v.as_bytes().to_vec()))
                .collect(),
        }
    }
}

impl Host for MemoryHost {
    fn env_var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        // Normalise "./" and "a/../" the way a file system would.
        let mut clean = PathBuf::new();
        for part in path.components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    clean.pop();
                }
                other => clean.push(other),
            }
        }
        self.files
            .get(&clean)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file or directory"))
    }
}

/// Renders a tree compactly: `{key: value, ...}`, `[a, b]`, strings quoted, floats with a dot.
pub fn render(value: &Value) -> String {
    let mut out = String::new();
    render_into(value, &mut out);
    out
}

fn render_into(value: &Value, out: &mut String) {
    match &value.kind {
        Kind::Map(map) => {
            out.push('{');
            for (i, entry) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", entry.key);
                render_into(&entry.value, out);
            }
            out.push('}');
        }
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(item, out);
            }
            out.push(']');
        }
        Kind::String(text) => {
            let _ = write!(out, "{text:?}");
        }
        Kind::Integer(n) => {
            let _ = write!(out, "{n}");
        }
        Kind::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Kind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Kind::Datetime(dt) => {
            let _ = write!(out, "dt({dt})");
        }
    }
}

/// The value at a dotted path: map keys by name, array items by index.
pub fn at<'a>(root: &'a Value, path: &str) -> &'a Value {
    let mut value = root;
    for step in path.split('.').filter(|s| !s.is_empty()) {
        value = match &value.kind {
            Kind::Map(map) => map
                .get(step)
                .unwrap_or_else(|| panic!("no key {step} in {path}")),
            Kind::Array(items) => &items[step.parse::<usize>().expect("array index")],
            _ => panic!("{path}: {step} is below a scalar"),
        };
    }
    value
}
