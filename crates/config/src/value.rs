//! The typed value tree a configuration file parses into, with source positions and typed accessors.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::duration::{parse_duration, DurationError};

/// Where a key or value starts in its source: file, 1-based line and 1-based column in characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    /// The file the text came from (the `origin` given to `parse_str`, or an included file).
    pub file: Arc<Path>,
    /// 1-based line; 0 when the error concerns the whole file (e.g. it cannot be read).
    pub line: u32,
    /// 1-based column counted in characters; 0 together with `line == 0`.
    pub column: u32,
}

impl Position {
    /// A position naming only a file, used for errors about the file as a whole.
    pub fn file_only(file: Arc<Path>) -> Self {
        Position {
            file,
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

/// A calendar date and time in UTC, as written in ISO 8601 Zulu form (`2016-05-04T18:53:41Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Datetime {
    /// Year, 0000 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31 (checked against the month and leap years).
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 59 (Go's time.Parse rejects leap second 60, and so do we).
    pub second: u8,
}

impl Datetime {
    /// Seconds since 1970-01-01T00:00:00Z (negative before it).
    pub fn unix_seconds(&self) -> i64 {
        // Days from civil, after Howard Hinnant's well-known algorithm.
        let month = i64::from(self.month);
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let shifted_month = (month + 9) % 12;
        let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

impl fmt::Display for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// One parsed value and the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What the value is.
    pub kind: Kind,
    /// Where the value starts (for a value copied from a `$variable`, where the reference is).
    pub position: Position,
    /// How many maps and arrays nest inside this value (0 for scalars); bounds drop and walk depth.
    pub(crate) depth: u32,
}

/// The kinds of value nats-server's parser produces.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A `{ ... }` map (or the whole file); shared, because `$variables` copy by reference as in Go.
    Map(Arc<Map>),
    /// A `[ ... ]` array.
    Array(Arc<[Value]>),
    /// A quoted, bare or block string, after escapes.
    String(String),
    /// An integer, after its size suffix was applied.
    Integer(i64),
    /// A floating point number.
    Float(f64),
    /// `true/false/yes/no/on/off`, any case.
    Bool(bool),
    /// An ISO 8601 Zulu datetime.
    Datetime(Datetime),
}

/// A key of a map together with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key exactly as written (case preserved; nats-server matches option names case-insensitively).
    pub key: String,
    /// Where the key starts; nats-server reports unknown fields and bad values at the key.
    pub key_position: Position,
    /// The value.
    pub value: Value,
    /// Whether a `$variable` reference read this entry; nats-server does not call such keys unknown fields.
    pub used_as_variable: bool,
}

/// An ordered map of entries; a repeated key replaces the earlier value in its original slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<Entry>,
}

impl Map {
    /// The entries in the order their keys first appeared.
    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under exactly this key (variable lookup semantics: case-sensitive).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|entry| &entry.value)
    }

    /// The entry under exactly this key.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.key == key)
    }

    /// The last entry whose key equals `name` ignoring case, as nats-server matches option names.
    pub fn entry_ignore_case(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|entry| keys_equal_ignoring_case(&entry.key, name))
    }

    pub(crate) fn entry_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|entry| entry.key == key)
    }

    /// Sets `key`, replacing an earlier value like Go's map assignment does.
    pub(crate) fn insert(
        &mut self,
        key: String,
        key_position: Position,
        value: Value,
        used_as_variable: bool,
    ) {
        let entry = Entry {
            key,
            key_position,
            value,
            used_as_variable,
        };
        match self.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
    }

    pub(crate) fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Go's strings.ToLower comparison, which option matching in nats-server relies on.
fn keys_equal_ignoring_case(key: &str, name: &str) -> bool {
    key.chars()
        .flat_map(char::to_lowercase)
        .eq(name.chars().flat_map(char::to_lowercase))
}

/// A value had the wrong type or an unparsable content for what the caller asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{position}: {kind}")]
pub struct ValueError {
    /// Where the offending value starts.
    pub position: Position,
    /// What was wrong.
    pub kind: ValueErrorKind,
}

/// The reasons an accessor on `Value` can fail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueErrorKind {
    /// The value is of another type.
    #[error("expected {expected}, got {found}")]
    WrongType {
        /// The type the caller asked for.
        expected: &'static str,
        /// The type the value has.
        found: &'static str,
    },
    /// A duration string is not Go `time.ParseDuration` syntax.
    #[error("{0}")]
    Duration(#[from] DurationError),
    /// A negative duration where only non-negative ones make sense.
    #[error("negative duration {0:?}")]
    NegativeDuration(String),
    /// An integer of seconds too large for a duration.
    #[error("duration of {0} seconds is out of range")]
    DurationOutOfRange(i64),
    /// A storage size string nats-server's getStorageSize would reject (its message is kept).
    #[error("{0}")]
    StorageSize(String),
}

impl Value {
    pub(crate) fn new(kind: Kind, position: Position) -> Self {
        let depth = match &kind {
            Kind::Map(map) => 1 + map.iter().map(|e| e.value.depth).max().unwrap_or(0),
            Kind::Array(items) => 1 + items.iter().map(|v| v.depth).max().unwrap_or(0),
            _ => 0,
        };
        Value {
            kind,
            position,
            depth,
        }
    }

    /// How many maps and arrays nest in this value (0 for a scalar, 1 for `[1]`).
    pub fn nesting_depth(&self) -> u32 {
        self.depth
    }

    /// The Go type nats-server's `%T` names for this value, for error texts it formats so.
    pub fn go_type_name(&self) -> &'static str {
        match self.kind {
            Kind::Map(_) => "map[string]interface {}",
            Kind::Array(_) => "[]interface {}",
            Kind::String(_) => "string",
            Kind::Integer(_) => "int64",
            Kind::Float(_) => "float64",
            Kind::Bool(_) => "bool",
            Kind::Datetime(_) => "time.Time",
        }
    }

    /// The type name used in error messages: map, array, string, integer, float, bool or datetime.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Map(_) => "map",
            Kind::Array(_) => "array",
            Kind::String(_) => "string",
            Kind::Integer(_) => "integer",
            Kind::Float(_) => "float",
            Kind::Bool(_) => "bool",
            Kind::Datetime(_) => "datetime",
        }
    }

    fn wrong_type(&self, expected: &'static str) -> ValueError {
        self.error(ValueErrorKind::WrongType {
            expected,
            found: self.type_name(),
        })
    }

    /// An error about this value, positioned at it; for callers' own checks.
    pub fn error(&self, kind: ValueErrorKind) -> ValueError {
        ValueError {
            position: self.position.clone(),
            kind,
        }
    }

    /// The map, or a WrongType error.
    pub fn as_map(&self) -> Result<&Map, ValueError> {
        match &self.kind {
            Kind::Map(map) => Ok(map),
            _ => Err(self.wrong_type("map")),
        }
    }

    /// The array items, or a WrongType error.
    pub fn as_array(&self) -> Result<&[Value], ValueError> {
        match &self.kind {
            Kind::Array(items) => Ok(items),
            _ => Err(self.wrong_type("array")),
        }
    }

    /// The string, or a WrongType error.
    pub fn as_str(&self) -> Result<&str, ValueError> {
        match &self.kind {
            Kind::String(text) => Ok(text),
            _ => Err(self.wrong_type("string")),
        }
    }

    /// The integer, or a WrongType error.
    pub fn as_i64(&self) -> Result<i64, ValueError> {
        match self.kind {
            Kind::Integer(number) => Ok(number),
            _ => Err(self.wrong_type("integer")),
        }
    }

    /// The float, or a WrongType error (an integer is not silently widened, as in nats-server).
    pub fn as_f64(&self) -> Result<f64, ValueError> {
        match self.kind {
            Kind::Float(number) => Ok(number),
            _ => Err(self.wrong_type("float")),
        }
    }

    /// The boolean, or a WrongType error.
    pub fn as_bool(&self) -> Result<bool, ValueError> {
        match self.kind {
            Kind::Bool(flag) => Ok(flag),
            _ => Err(self.wrong_type("bool")),
        }
    }

    /// The datetime, or a WrongType error.
    pub fn as_datetime(&self) -> Result<Datetime, ValueError> {
        match self.kind {
            Kind::Datetime(datetime) => Ok(datetime),
            _ => Err(self.wrong_type("datetime")),
        }
    }

    /// A duration as nats-server's option layer reads one: a Go duration string, or (legacy) an
    /// integer number of seconds, for which nats-server warns "should be converted to a duration".
    pub fn as_duration(&self) -> Result<Duration, ValueError> {
        match &self.kind {
            Kind::String(text) => {
                let nanos = parse_duration(text).map_err(|e| self.error(e.into()))?;
                u64::try_from(nanos)
                    .map(Duration::from_nanos)
                    .map_err(|_| self.error(ValueErrorKind::NegativeDuration(text.clone())))
            }
            Kind::Integer(seconds) => u64::try_from(*seconds)
                .ok()
                .filter(|s| {
                    s.checked_mul(1_000_000_000)
                        .is_some_and(|n| n <= i64::MAX as u64)
                })
                .map(Duration::from_secs)
                .ok_or_else(|| self.error(ValueErrorKind::DurationOutOfRange(*seconds))),
            _ => Err(self.wrong_type("duration")),
        }
    }

    /// A storage size as nats-server's getStorageSize reads one: an integer, or a string of digits
    /// ending in K, M, G or T (powers of 1024); the empty string is 0.
    pub fn as_storage_size(&self) -> Result<i64, ValueError> {
        match &self.kind {
            Kind::Integer(number) => Ok(*number),
            Kind::String(text) => storage_size(text).map_err(|e| self.error(e)),
            _ => Err(self.error(ValueErrorKind::StorageSize(
                "must be int64 or string".to_string(),
            ))),
        }
    }
}

fn storage_size(text: &str) -> Result<i64, ValueErrorKind> {
    let Some(suffix) = text.chars().last() else {
        return Ok(0);
    };
    let digits = &text[..text.len() - suffix.len_utf8()];
    let number: i64 = digits.parse().map_err(|_| {
        ValueErrorKind::StorageSize(format!(
            "strconv.ParseInt: parsing {digits:?}: invalid syntax"
        ))
    })?;
    let shift = match suffix {
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => {
            return Err(ValueErrorKind::StorageSize(
                "sizes defined as strings must end in K, M, G, T".to_string(),
            ))
        }
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| ValueErrorKind::StorageSize(format!("size {text:?} is out of the range")))
}
