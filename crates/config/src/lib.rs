//! The NATS configuration file format, parsed as nats-server's `conf` package parses it, into a
//! typed value tree whose every key and value carries its file, line and column.
//!
//! The crate reads files and environment variables only through a [`Host`], so the parser
//! itself is deterministic and can be driven from memory (tests, fuzzing). Mapping the tree
//! onto server options is the option layer's job, not this crate's; see README.md.

#![warn(missing_docs)]

mod duration;
mod error;
mod lexer;
mod parser;
mod value;

use std::path::Path;
use std::sync::Arc;

pub use duration::{parse_duration, DurationError};
pub use error::{ConfigError, ErrorKind};
pub use parser::{MAX_INCLUDES, MAX_INCLUDE_DEPTH, MAX_NESTING};
pub use value::{Datetime, Entry, Kind, Map, Position, Value, ValueError, ValueErrorKind};

/// Where the parser gets environment variables and included files from.
pub trait Host {
    /// The value of environment variable `name`, if it is set.
    fn env_var(&self, name: &str) -> Option<String>;
    /// The contents of the file at `path`.
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>>;
}

/// The real process environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemHost;

impl Host for SystemHost {
    fn env_var(&self, name: &str) -> Option<String> {
        // Names that cannot exist in an environment are simply not found.
        if name.is_empty() || name.contains(['=', '\0']) {
            return None;
        }
        std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
    }

    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Parses configuration text that came from `origin` (used in positions and to resolve includes),
/// with the process environment and file system.
pub fn parse_str(text: &str, origin: &Path) -> Result<Value, ConfigError> {
    parse_str_with(text, origin, &SystemHost)
}

/// Reads and parses the configuration file at `path`, with the process environment and file system.
pub fn parse_file(path: &Path) -> Result<Value, ConfigError> {
    parse_file_with(path, &SystemHost)
}

/// Parses configuration text that came from `origin`, taking variables and includes from `host`.
pub fn parse_str_with(text: &str, origin: &Path, host: &dyn Host) -> Result<Value, ConfigError> {
    let mut session = parser::Session {
        host,
        env_refs: Vec::new(),
        includes: 0,
    };
    let file: Arc<Path> = Arc::from(origin);
    let map = parser::parse_text(text, file.clone(), &mut session, 0)?;
    Ok(top_level(map, file))
}

/// Reads and parses the file at `path`, taking it, variables and includes from `host`.
pub fn parse_file_with(path: &Path, host: &dyn Host) -> Result<Value, ConfigError> {
    let mut session = parser::Session {
        host,
        env_refs: Vec::new(),
        includes: 0,
    };
    let map = parser::parse_path(path, &mut session, 0)?;
    Ok(top_level(map, Arc::from(path)))
}

fn top_level(map: Map, file: Arc<Path>) -> Value {
    let position = Position {
        file,
        line: 1,
        column: 1,
    };
    Value::new(Kind::Map(Arc::new(map)), position)
}
