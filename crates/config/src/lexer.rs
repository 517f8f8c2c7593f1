//! The lexer: a state machine over characters that yields keys, values and structure tokens
//! with the same acceptance, quirks and messages as nats-server's `conf/lex.go`.
//!
//! nats-server's lexer is the specification of the format, so this one keeps its states one for
//! one (named after them) even where the behaviour is surprising; the surprises are listed in the
//! crate README. A NUL character compares equal to the end-of-input marker, as rune 0 does in
//! Go's lexer, so it ends keys and values (and is an error wherever end of input would be).

use std::collections::VecDeque;

/// Go's lexer compares against rune 0 for end of input.
const EOF: char = '\0';

/// The fields of a datetime after `YYYY-`: `0` is any digit, anything else itself.
const DATE_AFTER_YEAR: &[u8] = b"00-00T00:00:00Z";

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Error,
    /// A string whose `\x` escapes do not form UTF-8 (Go keeps such bytes; Rust strings cannot).
    EscapeNotUtf8,
    Eof,
    Key,
    String,
    Bool,
    Integer,
    Float,
    Datetime,
    ArrayStart,
    ArrayEnd,
    MapStart,
    MapEnd,
    Variable,
    Include,
}

/// One lexed item; `text` is the decoded text, or the message for an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub text: String,
    pub line: u32,
    pub column: u32,
}

/// The states of the machine, named after the lex.go functions they mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Top,
    TopValueEnd,
    BlockStart,
    BlockValueEnd,
    BlockEnd,
    KeyStart,
    DubQuotedKey,
    QuotedKey,
    Key,
    KeyEnd,
    IncludeStart,
    Include,
    IncludeQuotedString,
    IncludeDubQuotedString,
    IncludeString,
    Value,
    ArrayValue,
    ArrayValueEnd,
    ArrayEnd,
    MapKeyStart,
    MapQuotedKey,
    MapDubQuotedKey,
    MapKey,
    MapKeyEnd,
    MapValue,
    MapValueEnd,
    MapEnd,
    QuotedString,
    DubQuotedString,
    String,
    Block,
    StringEscape,
    StringBinary,
    NumberStart,
    Number,
    ConvenientNumber,
    DateAfterYear,
    NegNumberStart,
    NegNumber,
    FloatStart,
    Float,
    IpAddr,
    Comment,
    Done,
}

/// A (line, column) pair; both 1-based.
type LineColumn = (u32, u32);

/// The lexer over one text. Tokens are produced on demand by `next_token`.
pub(crate) struct Lexer<'a> {
    input: &'a str,
    /// Byte offset where the pending text starts.
    start: usize,
    /// Byte offset of the next character.
    pos: usize,
    /// Byte width of the last character read (0 at end of input), for `backup`.
    width: usize,
    /// Position of the character at `pos`.
    at: LineColumn,
    /// Position before the last `next`, restored by `backup`.
    before_last: LineColumn,
    /// Where the token being built starts; unaffected by escapes moving `start`.
    token_at: LineColumn,
    state: State,
    stack: Vec<State>,
    /// Text already decoded from escapes in the current string.
    parts: Vec<u8>,
    /// Whether the current string had an escape (Go's hasEscapedParts).
    has_parts: bool,
    /// The string state escapes return to (double-quoted or bare).
    string_state: State,
    queue: VecDeque<Token>,
    /// Set when `emit` hit an error; the machine stops after the current step.
    failed: bool,
}

fn is_whitespace(c: char) -> bool {
    c == '\t' || c == ' '
}

fn is_nl(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// Go's unicode.IsSpace and Rust's char::is_whitespace agree on every code point.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

fn is_key_separator(c: char) -> bool {
    c == '=' || c == ':'
}

/// ASCII digits only: Go's unicode.IsDigit also takes other scripts' digits, which its parser
/// then rejects; we read those as bare strings instead (see README).
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_number_suffix(c: char) -> bool {
    matches!(
        c,
        'k' | 'K' | 'm' | 'M' | 'g' | 'G' | 't' | 'T' | 'p' | 'P' | 'e' | 'E'
    )
}

/// A character as Go's errorf prints a rune argument: newline escaped, anything else as is.
fn shown(c: char) -> String {
    if c == '\n' {
        "\\n".to_string()
    } else {
        c.to_string()
    }
}

impl<'a> Lexer<'a> {
    /// A lexer positioned at the start of `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        Lexer {
            input,
            start: 0,
            pos: 0,
            width: 0,
            at: (1, 1),
            before_last: (1, 1),
            token_at: (1, 1),
            state: State::Top,
            stack: Vec::new(),
            parts: Vec::new(),
            has_parts: false,
            string_state: State::String,
            queue: VecDeque::new(),
            failed: false,
        }
    }

    /// The next token; after an `Error` or `Eof` token it keeps returning `Eof`.
    pub(crate) fn next_token(&mut self) -> Token {
        loop {
            if let Some(token) = self.queue.pop_front() {
                return token;
            }
            if self.state == State::Done {
                return Token {
                    kind: TokenKind::Eof,
                    text: String::new(),
                    line: self.at.0,
                    column: self.at.1,
                };
            }
            self.state = self.step(self.state);
            if self.failed {
                self.state = State::Done;
            }
        }
    }

    fn next(&mut self) -> char {
        let Some(c) = self.input[self.pos..].chars().next() else {
            self.width = 0;
            self.before_last = self.at;
            return EOF;
        };
        self.before_last = self.at;
        self.width = c.len_utf8();
        self.pos += self.width;
        self.at = if c == '\n' {
            (self.at.0 + 1, 1)
        } else {
            (self.at.0, self.at.1 + 1)
        };
        c
    }

    /// Steps back over the last character read; only once per `next`, as in Go.
    fn backup(&mut self) {
        if self.width > 0 {
            self.pos -= self.width;
            self.at = self.before_last;
        }
    }

    fn peek(&mut self) -> char {
        let c = self.next();
        self.backup();
        c
    }

    fn ignore(&mut self) {
        self.start = self.pos;
        self.token_at = self.at;
    }

    fn pop(&mut self) -> State {
        match self.stack.pop() {
            Some(state) => state,
            None => self.error("BUG in lexer: no states to pop.".to_string()),
        }
    }

    /// Queues a token of the pending text (plus escaped parts) and starts a new one.
    fn emit(&mut self, kind: TokenKind) {
        let raw = &self.input.as_bytes()[self.start..self.pos];
        let text = if self.has_parts {
            let mut bytes = std::mem::take(&mut self.parts);
            bytes.extend_from_slice(raw);
            self.has_parts = false;
            match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    self.queue.push_back(Token {
                        kind: TokenKind::EscapeNotUtf8,
                        text: String::new(),
                        line: self.token_at.0,
                        column: self.token_at.1,
                    });
                    self.failed = true;
                    return;
                }
            }
        } else {
            self.input[self.start..self.pos].to_string()
        };
        self.queue.push_back(Token {
            kind,
            text,
            line: self.token_at.0,
            column: self.token_at.1,
        });
        self.start = self.pos;
        self.token_at = self.at;
    }

    /// Emits a token positioned at `at` rather than where its (empty) text starts.
    fn emit_at(&mut self, kind: TokenKind, at: LineColumn) {
        self.token_at = at;
        self.emit(kind);
    }

    /// Queues an error positioned at the last character read and stops the machine.
    fn error(&mut self, message: String) -> State {
        self.queue.push_back(Token {
            kind: TokenKind::Error,
            text: message,
            line: self.before_last.0,
            column: self.before_last.1,
        });
        State::Done
    }

    /// End of input where a key could start: fine if nothing is pending.
    fn end_or_unexpected(&mut self) -> State {
        if self.pos > self.start {
            return self.error("Unexpected EOF.".to_string());
        }
        self.emit(TokenKind::Eof);
        State::Done
    }

    /// Saves the text before an escape (minus the backslash) and moves past it.
    fn add_current_part(&mut self, offset: usize) {
        let end = self.pos - offset;
        self.parts
            .extend_from_slice(&self.input.as_bytes()[self.start..end]);
        self.has_parts = true;
        self.start = self.pos;
    }

    fn add_part(&mut self, decoded: &[u8]) -> State {
        self.parts.extend_from_slice(decoded);
        self.has_parts = true;
        self.start = self.pos;
        self.string_state
    }

    /// A `//` comment if the next character is a second slash; otherwise the slash is put back.
    fn slash_comment(&mut self, resume: State) -> Option<State> {
        if self.next() == '/' {
            self.stack.push(resume);
            return Some(State::Comment);
        }
        self.backup();
        None
    }

    /// Starts a comment, which runs to the end of the line and then resumes `resume`.
    fn comment(&mut self, resume: State) -> State {
        self.stack.push(resume);
        State::Comment
    }

    /// Go's keyCheckKeyword: a key followed by space might be the `include` keyword.
    fn key_or_include(&mut self, after_key: State, after_include: Option<State>) -> State {
        if self.input[self.start..self.pos].to_lowercase() == "include" {
            self.ignore();
            if let Some(state) = after_include {
                self.stack.push(state);
            }
            return State::IncludeStart;
        }
        self.emit(TokenKind::Key);
        after_key
    }

    fn is_bool(&self) -> bool {
        matches!(
            self.input[self.start..self.pos].to_lowercase().as_str(),
            "true" | "false" | "on" | "off" | "yes" | "no"
        )
    }

    fn step(&mut self, state: State) -> State {
        match state {
            State::Top => self.top(),
            State::TopValueEnd => self.top_value_end(),
            State::BlockStart => self.block_start(),
            State::BlockValueEnd => self.block_value_end(),
            State::BlockEnd => self.block_end(),
            State::KeyStart => self.key_start(),
            State::DubQuotedKey => self.quoted_key('"', State::KeyEnd),
            State::QuotedKey => self.quoted_key('\'', State::KeyEnd),
            State::Key => self.key(),
            State::KeyEnd => self.key_end(),
            State::IncludeStart => {
                if is_whitespace(self.next()) {
                    self.ignore();
                    return State::IncludeStart;
                }
                self.backup();
                State::Include
            }
            State::Include => self.include(),
            State::IncludeQuotedString => self.include_quoted('\'', "quoted"),
            State::IncludeDubQuotedString => self.include_quoted('"', "double quoted"),
            State::IncludeString => self.include_string(),
            State::Value => self.value(),
            State::ArrayValue => self.array_value(),
            State::ArrayValueEnd => self.array_value_end(),
            State::ArrayEnd => {
                self.ignore();
                self.emit(TokenKind::ArrayEnd);
                self.pop()
            }
            State::MapKeyStart => self.map_key_start(),
            State::MapQuotedKey => self.map_quoted_key('\'', "quoted"),
            State::MapDubQuotedKey => self.map_quoted_key('"', "double quoted"),
            State::MapKey => self.map_key(),
            State::MapKeyEnd => self.map_key_end(),
            State::MapValue => self.map_value(),
            State::MapValueEnd => self.map_value_end(),
            State::MapEnd => {
                self.ignore();
                self.emit(TokenKind::MapEnd);
                self.pop()
            }
            State::QuotedString => self.quoted_string(),
            State::DubQuotedString => self.dub_quoted_string(),
            State::String => self.bare_string(),
            State::Block => self.block(),
            State::StringEscape => self.string_escape(),
            State::StringBinary => self.string_binary(),
            State::NumberStart => self.number_start(State::Number),
            State::Number => self.number(),
            State::ConvenientNumber => self.convenient_number(),
            State::DateAfterYear => self.date_after_year(),
            State::NegNumberStart => self.number_start(State::NegNumber),
            State::NegNumber => self.neg_number(),
            State::FloatStart => self.float_start(),
            State::Float => self.float(),
            State::IpAddr => self.ip_addr(),
            State::Comment => self.comment_body(),
            State::Done => State::Done,
        }
    }
}

mod scalars;
mod states;
