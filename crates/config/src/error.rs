//! Errors from reading and parsing configuration files, each with the position it concerns.

use std::path::PathBuf;

use crate::value::Position;

/// A configuration file could not be read or parsed; displays as `<file>:<line>:<col>: <reason>`.
#[derive(Debug, thiserror::Error)]
#[error("{position}: {kind}")]
pub struct ConfigError {
    /// Where the problem is (line 0 when it concerns the whole file).
    pub position: Position,
    /// What the problem is; the texts are nats-server's where it has one.
    pub kind: ErrorKind,
}

/// The reasons parsing can fail. Messages follow nats-server's conf package word for word, except
/// the `Parse error on line N:` prefix of lexer errors, since the position already says it.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The lexer rejected the text (nats-server: `Parse error on line N: '<message>'`).
    #[error("{0}")]
    Syntax(String),
    /// An integer does not fit in an i64, before or after its size suffix.
    #[error("integer '{0}' is out of the range")]
    IntegerOutOfRange(String),
    /// An integer token nats-server's parser cannot read (e.g. an unknown suffix such as `1kbi`).
    #[error("expected integer, but got '{0}'")]
    InvalidInteger(String),
    /// A float too large for an f64.
    #[error("float '{0}' is out of the range")]
    FloatOutOfRange(String),
    /// A datetime with an impossible field (month 13, February 30, hour 24...).
    #[error("expected Zulu formatted DateTime, but got '{0}'")]
    InvalidDatetime(String),
    /// `$name` is neither a key in an enclosing map nor an environment variable.
    #[error("variable reference for '{name}' on line {line} can not be found")]
    VariableNotFound {
        /// The variable name without `$`.
        name: String,
        /// The line of the reference.
        line: u32,
    },
    /// The environment variable's value did not parse as a configuration value.
    #[error("variable reference for '{name}' on line {line} could not be parsed: {reason}")]
    VariableNotParsed {
        /// The variable name without `$`.
        name: String,
        /// The line of the reference.
        line: u32,
        /// Why the value did not parse.
        reason: Box<ErrorKind>,
    },
    /// Environment variables refer to each other in a loop.
    #[error("variable reference cycle for '{0}'")]
    VariableCycle(String),
    /// An included file could not be read or parsed.
    #[error("error parsing include file '{name}', {source}")]
    Include {
        /// The include path as written.
        name: String,
        /// What went wrong in (or with) the included file.
        source: Box<ConfigError>,
    },
    /// The file could not be read (the position names it).
    #[error("error opening config file: {source}")]
    Open {
        /// The path that was opened.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not UTF-8 (nats-server would accept stray bytes; we refuse rather than guess).
    #[error("config file is not valid UTF-8")]
    NotUtf8,
    /// A `\x` escape produced bytes that are not UTF-8.
    #[error("string is not valid UTF-8 after \\x escapes")]
    EscapeNotUtf8,
    /// A key with no value at the end of the file.
    #[error("config is invalid")]
    KeyWithoutValue,
    /// Maps and arrays nested deeper than the bound (nats-server has none; we keep drop and walks
    /// from exhausting the stack).
    #[error("maps and arrays nested deeper than {0} levels")]
    TooDeep(u32),
    /// Includes nested deeper than the bound (nats-server recurses until it fails).
    #[error("includes nested deeper than {0} files")]
    IncludesTooDeep(usize),
    /// More includes in one parse than the bound (nats-server has none).
    #[error("more than {0} includes")]
    TooManyIncludes(usize),
    /// A token sequence nats-server's parser would panic on.
    #[error("unbalanced configuration structure")]
    Unbalanced,
}
