//! The parser: turns lexer tokens into the value tree, resolving `$variables` and `include`s the
//! way nats-server's `conf/parse.go` does, with positions on every key and value.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::{ConfigError, ErrorKind};
use crate::lexer::{Lexer, Token, TokenKind};
use crate::value::{Datetime, Kind, Map, Position, Value};
use crate::Host;

/// Maps and arrays may nest this deep below the top level. nats-server has no bound; real
/// configurations nest a handful of levels, and the bound keeps recursive drops and walks of
/// the tree (including ones built up through `$variables`) within the stack.
pub const MAX_NESTING: u32 = 128;

/// Files may include files this deep. nats-server has no bound and recurses forever on a
/// self-include; we report it.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// At most this many includes are read in one parse, so files that include themselves twice do
/// not take exponential time before reaching `MAX_INCLUDE_DEPTH`.
pub const MAX_INCLUDES: usize = 1024;

/// The key nats-server assigns an environment variable's value to so it can parse it as a value.
const ENV_KEY: &str = "pk";

/// Raw bcrypt hashes (`$2a$11$...`) are not variable references; nats-server special-cases them.
const BCRYPT_PREFIX: &str = "2a$";

/// An open map or array; the bottom frame is the file's top level.
enum Frame {
    Map(Map, Position),
    Array(Vec<Value>, Position),
}

/// Per-parse state shared with sub-parses of environment variables.
pub(crate) struct Session<'h> {
    pub host: &'h dyn Host,
    /// Environment variables being expanded, innermost last, to detect reference cycles.
    pub env_refs: Vec<String>,
    /// Includes read so far in this parse.
    pub includes: usize,
}

struct Parser<'t, 's, 'h> {
    lexer: Lexer<'t>,
    file: Arc<Path>,
    base_dir: PathBuf,
    include_depth: usize,
    session: &'s mut Session<'h>,
    frames: Vec<Frame>,
    /// Keys waiting for their values; one stack for all levels, exactly as nats-server keeps it,
    /// so that keys left without a value are paired the same (odd) way.
    keys: Vec<(String, Position)>,
}

/// Reads and parses the file at `path` into its top-level map.
pub(crate) fn parse_path(
    path: &Path,
    session: &mut Session<'_>,
    include_depth: usize,
) -> Result<Map, ConfigError> {
    let file: Arc<Path> = Arc::from(path);
    let bytes = session.host.read_file(path).map_err(|source| ConfigError {
        position: Position::file_only(file.clone()),
        kind: ErrorKind::Open {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        ConfigError {
            position: Position {
                file: file.clone(),
                line: saturate(line),
                column: saturate(column),
            },
            kind: ErrorKind::NotUtf8,
        }
    })?;
    parse_text(&text, file, session, include_depth)
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses `text`, which came from `file`, into its top-level map.
pub(crate) fn parse_text(
    text: &str,
    file: Arc<Path>,
    session: &mut Session<'_>,
    include_depth: usize,
) -> Result<Map, ConfigError> {
    let base_dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let root_position = Position {
        file: file.clone(),
        line: 1,
        column: 1,
    };
    let mut parser = Parser {
        lexer: Lexer::new(text),
        file,
        base_dir,
        include_depth,
        session,
        frames: vec![Frame::Map(Map::default(), root_position)],
        keys: Vec::new(),
    };
    parser.run()
}

impl Parser<'_, '_, '_> {
    fn position(&self, token: &Token) -> Position {
        Position {
            file: self.file.clone(),
            line: token.line,
            column: token.column,
        }
    }

    fn error(&self, token: &Token, kind: ErrorKind) -> ConfigError {
        ConfigError {
            position: self.position(token),
            kind,
        }
    }

    fn run(&mut self) -> Result<Map, ConfigError> {
        let mut previous: Option<Token> = None;
        loop {
            let token = self.lexer.next_token();
            if token.kind == TokenKind::Eof {
                // A trailing `}` lexes as a key; nats-server lets it pass for JSON-like files.
                if let Some(key) = previous.filter(|t| t.kind == TokenKind::Key && t.text != "}") {
                    return Err(self.error(&key, ErrorKind::KeyWithoutValue));
                }
                break;
            }
            self.process(&token)?;
            previous = Some(token);
        }
        match self.frames.drain(..).next() {
            Some(Frame::Map(map, _)) => Ok(map),
            _ => Err(ConfigError {
                position: Position::file_only(self.file.clone()),
                kind: ErrorKind::Unbalanced,
            }),
        }
    }

    fn process(&mut self, token: &Token) -> Result<(), ConfigError> {
        let position = self.position(token);
        let scalar = |kind| Value::new(kind, position.clone());
        match token.kind {
            TokenKind::Eof => Ok(()),
            TokenKind::Error => Err(self.error(token, ErrorKind::Syntax(token.text.clone()))),
            TokenKind::EscapeNotUtf8 => Err(self.error(token, ErrorKind::EscapeNotUtf8)),
            TokenKind::Key => {
                self.keys.push((token.text.clone(), position));
                Ok(())
            }
            TokenKind::MapStart => self.open(token, Frame::Map(Map::default(), position)),
            TokenKind::ArrayStart => self.open(token, Frame::Array(Vec::new(), position)),
            TokenKind::MapEnd | TokenKind::ArrayEnd => {
                // The bottom frame is the file itself; only the lexer's own brackets close frames.
                let closed = if self.frames.len() > 1 {
                    self.frames.pop()
                } else {
                    None
                };
                let value = match closed {
                    Some(Frame::Map(map, at)) if token.kind == TokenKind::MapEnd => {
                        Value::new(Kind::Map(Arc::new(map)), at)
                    }
                    Some(Frame::Array(items, at)) if token.kind == TokenKind::ArrayEnd => {
                        Value::new(Kind::Array(items.into()), at)
                    }
                    _ => return Err(self.error(token, ErrorKind::Unbalanced)),
                };
                self.set_value(value, token)
            }
            TokenKind::String => self.set_value(scalar(Kind::String(token.text.clone())), token),
            TokenKind::Integer => {
                let number = integer(&token.text).map_err(|kind| self.error(token, kind))?;
                self.set_value(scalar(Kind::Integer(number)), token)
            }
            TokenKind::Float => {
                let number = float(&token.text).map_err(|kind| self.error(token, kind))?;
                self.set_value(scalar(Kind::Float(number)), token)
            }
            TokenKind::Bool => {
                // The lexer only produces these six words, in any case.
                let flag = matches!(token.text.to_lowercase().as_str(), "true" | "yes" | "on");
                self.set_value(scalar(Kind::Bool(flag)), token)
            }
            TokenKind::Datetime => {
                let datetime = datetime(&token.text).ok_or_else(|| {
                    self.error(token, ErrorKind::InvalidDatetime(token.text.clone()))
                })?;
                self.set_value(scalar(Kind::Datetime(datetime)), token)
            }
            TokenKind::Variable => {
                let value = self.lookup_variable(token, position)?;
                self.set_value(value, token)
            }
            TokenKind::Include => self.include(token),
        }
    }

    fn open(&mut self, token: &Token, frame: Frame) -> Result<(), ConfigError> {
        if self.frames.len() > MAX_NESTING as usize {
            return Err(self.error(token, ErrorKind::TooDeep(MAX_NESTING)));
        }
        self.frames.push(frame);
        Ok(())
    }

    /// Puts a finished value into the innermost open map (under the latest key) or array.
    fn set_value(&mut self, value: Value, token: &Token) -> Result<(), ConfigError> {
        self.set_entry(value, false, token)
    }

    fn set_entry(
        &mut self,
        value: Value,
        used_as_variable: bool,
        token: &Token,
    ) -> Result<(), ConfigError> {
        let open = self.frames.len() - 1;
        if open as u64 + u64::from(value.depth) > u64::from(MAX_NESTING) {
            return Err(self.error(token, ErrorKind::TooDeep(MAX_NESTING)));
        }
        match self.frames.last_mut() {
            Some(Frame::Array(items, _)) => items.push(value),
            Some(Frame::Map(map, _)) => {
                let Some((key, key_position)) = self.keys.pop() else {
                    return Err(self.error(token, ErrorKind::Unbalanced));
                };
                map.insert(key, key_position, value, used_as_variable);
            }
            None => return Err(self.error(token, ErrorKind::Unbalanced)),
        }
        Ok(())
    }

    /// Resolves `$name`: the innermost enclosing map that has the key, else the environment.
    fn lookup_variable(&mut self, token: &Token, at: Position) -> Result<Value, ConfigError> {
        let name = token.text.as_str();
        if name.starts_with(BCRYPT_PREFIX) {
            return Ok(Value::new(Kind::String(format!("${name}")), at));
        }
        for frame in self.frames.iter_mut().rev() {
            if let Frame::Map(map, _) = frame {
                if let Some(entry) = map.entry_mut(name) {
                    entry.used_as_variable = true;
                    return Ok(Value {
                        position: at,
                        ..entry.value.clone()
                    });
                }
            }
        }
        let not_parsed = |reason: ErrorKind| ErrorKind::VariableNotParsed {
            name: name.to_string(),
            line: token.line,
            reason: Box::new(reason),
        };
        if self.session.env_refs.iter().any(|seen| seen == name) {
            let cycle = not_parsed(ErrorKind::VariableCycle(name.to_string()));
            return Err(self.error(token, cycle));
        }
        let Some(text) = self.session.host.env_var(name) else {
            let missing = ErrorKind::VariableNotFound {
                name: name.to_string(),
                line: token.line,
            };
            return Err(self.error(token, missing));
        };
        self.session.env_refs.push(name.to_string());
        let env_file: Arc<Path> = Arc::from(Path::new(&format!("${name}")));
        let parsed = parse_text(
            &format!("{ENV_KEY}={text}"),
            env_file,
            self.session,
            self.include_depth,
        );
        self.session.env_refs.pop();
        match parsed {
            Ok(map) => match map.get(ENV_KEY) {
                Some(value) => Ok(Value {
                    position: at,
                    ..value.clone()
                }),
                None => Err(self.error(
                    token,
                    ErrorKind::VariableNotFound {
                        name: name.to_string(),
                        line: token.line,
                    },
                )),
            },
            Err(e) => Err(self.error(token, not_parsed(e.kind))),
        }
    }

    /// Parses the included file on its own (it sees none of our variables) and merges its top level here.
    fn include(&mut self, token: &Token) -> Result<(), ConfigError> {
        let wrap = |source: ConfigError| ErrorKind::Include {
            name: token.text.clone(),
            source: Box::new(source),
        };
        let path = join_like_go(&self.base_dir, &token.text);
        self.session.includes += 1;
        let bound = if self.include_depth >= MAX_INCLUDE_DEPTH {
            Some(ErrorKind::IncludesTooDeep(MAX_INCLUDE_DEPTH))
        } else if self.session.includes > MAX_INCLUDES {
            Some(ErrorKind::TooManyIncludes(MAX_INCLUDES))
        } else {
            None
        };
        if let Some(kind) = bound {
            let source = ConfigError {
                position: Position::file_only(Arc::from(path.as_path())),
                kind,
            };
            return Err(self.error(token, wrap(source)));
        }
        // An included file is a parse of its own: it starts with no environment references open.
        let open_refs = std::mem::take(&mut self.session.env_refs);
        let included = parse_path(&path, self.session, self.include_depth + 1);
        self.session.env_refs = open_refs;
        let included = included.map_err(|source| self.error(token, wrap(source)))?;
        for entry in included.into_entries() {
            self.keys.push((entry.key, entry.key_position));
            self.set_entry(entry.value, entry.used_as_variable, token)?;
        }
        Ok(())
    }
}

/// Go's filepath.Join: an absolute include path is still taken under the including file's directory.
fn join_like_go(dir: &Path, name: &str) -> PathBuf {
    let mut joined = dir.to_path_buf();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => joined.push(part),
            Component::ParentDir => joined.push(".."),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    joined
}

/// An integer token: digits (and `-`), then an optional size suffix with nats-server's multipliers:
/// a bare letter is a power of 1000, with `b`, `i` or `ib` a power of 1024.
fn integer(text: &str) -> Result<i64, ErrorKind> {
    let digits = text
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'-')
        .count();
    let number: i64 = text[..digits]
        .parse()
        .map_err(|e: std::num::ParseIntError| {
            use std::num::IntErrorKind::{NegOverflow, PosOverflow};
            match e.kind() {
                PosOverflow | NegOverflow => ErrorKind::IntegerOutOfRange(text.to_string()),
                _ => ErrorKind::InvalidInteger(text.to_string()),
            }
        })?;
    let suffix = text[digits..].trim().to_lowercase();
    let mut letters = suffix.chars();
    let power = match letters.next() {
        None => 0,
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        Some('p') => 5,
        Some('e') => 6,
        _ => return Err(ErrorKind::InvalidInteger(text.to_string())),
    };
    let base: i64 = match letters.as_str() {
        "" => 1000,
        "b" | "i" | "ib" => 1024,
        // nats-server sets no value at all for e.g. `1kbi`, silently misplacing the key; we refuse.
        _ => return Err(ErrorKind::InvalidInteger(text.to_string())),
    };
    base.checked_pow(power)
        .and_then(|multiplier| number.checked_mul(multiplier))
        .ok_or_else(|| ErrorKind::IntegerOutOfRange(text.to_string()))
}

fn float(text: &str) -> Result<f64, ErrorKind> {
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() => Ok(number),
        Ok(_) => Err(ErrorKind::FloatOutOfRange(text.to_string())),
        Err(_) => Err(ErrorKind::Syntax(format!(
            "expected float, but got '{text}'"
        ))),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` with Go time.Parse's range checks; the lexer guarantees the shape.
fn datetime(text: &str) -> Option<Datetime> {
    let field = |range: std::ops::Range<usize>| text.get(range)?.parse::<u16>().ok();
    let year = field(0..4)?;
    let month = u8::try_from(field(5..7)?).ok()?;
    let day = u8::try_from(field(8..10)?).ok()?;
    let hour = u8::try_from(field(11..13)?).ok()?;
    let minute = u8::try_from(field(14..16)?).ok()?;
    let second = u8::try_from(field(17..19)?).ok()?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    let valid = (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60;
    valid.then_some(Datetime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}
