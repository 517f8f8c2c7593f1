//! The lexer's value states: quoted, bare and block strings with their escapes, numbers with
//! size suffixes, floats, IP addresses and datetimes.

use super::{
    is_digit, is_nl, is_number_suffix, is_whitespace, shown, Lexer, State, TokenKind,
    DATE_AFTER_YEAR, EOF,
};

impl Lexer<'_> {
    /// A single-quoted string: no escapes at all.
    pub(super) fn quoted_string(&mut self) -> State {
        let r = self.next();
        if r == '\'' {
            self.backup();
            self.emit(TokenKind::String);
            self.next();
            self.ignore();
            return self.pop();
        }
        if r == EOF {
            return self.end_or_unexpected();
        }
        State::QuotedString
    }

    pub(super) fn dub_quoted_string(&mut self) -> State {
        let r = self.next();
        if r == '\\' {
            self.add_current_part(1);
            return State::StringEscape;
        }
        if r == '"' {
            self.backup();
            self.emit(TokenKind::String);
            self.next();
            self.ignore();
            return self.pop();
        }
        if r == EOF {
            return self.end_or_unexpected();
        }
        State::DubQuotedString
    }

    /// An unquoted string, which may turn out to be a boolean or a `$variable`.
    pub(super) fn bare_string(&mut self) -> State {
        let r = self.next();
        if r == '\\' {
            self.add_current_part(1);
            return State::StringEscape;
        }
        let ends = is_nl(r)
            || r == EOF
            || r == ';'
            || r == ','
            || r == ']'
            || r == '}'
            || is_whitespace(r);
        if ends {
            self.backup();
            if self.has_parts {
                self.emit(TokenKind::String);
            } else if self.is_bool() {
                self.emit(TokenKind::Bool);
            } else if self.input.as_bytes().get(self.start) == Some(&b'$') {
                // The token keeps its position at the `$`; its text drops it.
                self.start += 1;
                self.emit(TokenKind::Variable);
            } else {
                self.emit(TokenKind::String);
            }
            return self.pop();
        }
        if r == '\'' {
            self.backup();
            self.emit(TokenKind::String);
            self.next();
            self.ignore();
            return self.pop();
        }
        State::String
    }

    /// A `(` block string, which ends at a `)` alone on its line.
    pub(super) fn block(&mut self) -> State {
        let r = self.next();
        if r == EOF {
            return self.error("Unexpected EOF processing block.".to_string());
        }
        if r != ')' {
            return State::Block;
        }
        let paren = self.pos - 1;
        let paren_at = self.before_last;
        // Go looks at the byte before the `)`, so "\r\n)" also closes the block.
        if paren == 0 || self.input.as_bytes()[paren - 1] != b'\n' {
            return State::Block;
        }
        let after = self.next();
        if after == '\n' || (after == EOF && self.width > 0) {
            self.pos = paren;
            self.at = paren_at;
            self.emit(TokenKind::String);
            self.next();
            self.ignore();
            return self.pop();
        }
        if after == EOF {
            // At the very end of input Go's double backup cannot move, so the `)` stays in
            // the string; we keep that quirk for identical results.
            self.emit(TokenKind::String);
            self.ignore();
            return self.pop();
        }
        self.backup();
        State::Block
    }

    pub(super) fn string_escape(&mut self) -> State {
        let r = self.next();
        let decoded: &[u8] = match r {
            'x' => return State::StringBinary,
            't' => b"\t",
            'n' => b"\n",
            'r' => b"\r",
            '"' => b"\"",
            '\\' => b"\\",
            _ => {
                return self.error(format!(
                    "Invalid escape character '{}'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
                    shown(r)
                ))
            }
        };
        self.add_part(decoded)
    }

    pub(super) fn string_binary(&mut self) -> State {
        for _ in 0..2 {
            if is_nl(self.next()) {
                return self.error(
                    "Expected two hexadecimal digits after '\\x', but hit end of line".to_string(),
                );
            }
        }
        // Go slices the last two bytes, whatever the characters were.
        let digits = &self.input.as_bytes()[self.pos - 2..self.pos];
        let value = std::str::from_utf8(digits)
            .ok()
            .and_then(|text| u8::from_str_radix(text, 16).ok())
            .filter(|_| digits.iter().all(u8::is_ascii_hexdigit));
        match value {
            Some(byte) => self.add_part(&[byte]),
            None => {
                let got = String::from_utf8_lossy(digits).into_owned();
                self.error(format!(
                    "Expected two hexadecimal digits after '\\x', but got '{got}'"
                ))
            }
        }
    }

    /// The first digit of a number (after an optional `-`, which is already consumed).
    pub(super) fn number_start(&mut self, after: State) -> State {
        let r = self.next();
        if !is_digit(r) {
            if r == '.' {
                return self.error("Floats must start with a digit, not '.'.".to_string());
            }
            return self.error(format!("Expected a digit but got '{}'.", shown(r)));
        }
        after
    }

    /// A positive integer, float, datetime, IP address, or a bare string starting with a digit.
    pub(super) fn number(&mut self) -> State {
        let r = self.next();
        match r {
            '-' => {
                if self.pos - self.start != 5 {
                    return self.error("All ISO8601 dates must be in full Zulu form.".to_string());
                }
                State::DateAfterYear
            }
            _ if is_digit(r) => State::Number,
            '.' => State::FloatStart,
            _ if is_number_suffix(r) => State::ConvenientNumber,
            _ if !(is_nl(r)
                || r == EOF
                || r == '}'
                || r == ';'
                || r == ','
                || is_whitespace(r)) =>
            {
                self.string_state = State::String;
                State::String
            }
            _ => {
                self.backup();
                self.emit(TokenKind::Integer);
                self.pop()
            }
        }
    }

    /// The unit letters after a size suffix, e.g. the `b` of `1kb` or the `ib` of `1KiB`.
    pub(super) fn convenient_number(&mut self) -> State {
        let r = self.next();
        if matches!(r, 'b' | 'B' | 'i' | 'I') {
            return State::ConvenientNumber;
        }
        self.backup();
        let ends = is_nl(r)
            || r == EOF
            || r == '}'
            || r == ';'
            || r == ','
            || is_whitespace(r)
            || is_digit(r);
        if ends {
            self.emit(TokenKind::Integer);
            return self.pop();
        }
        self.string_state = State::String;
        State::String
    }

    pub(super) fn date_after_year(&mut self) -> State {
        for &expected in DATE_AFTER_YEAR {
            let r = self.next();
            if expected == b'0' {
                if !is_digit(r) {
                    return self.error(format!(
                        "Expected digit in ISO8601 datetime, but found '{}' instead.",
                        shown(r)
                    ));
                }
            } else if r != char::from(expected) {
                return self.error(format!(
                    "Expected '{}' in ISO8601 datetime, but found '{}' instead.",
                    char::from(expected),
                    shown(r)
                ));
            }
        }
        self.emit(TokenKind::Datetime);
        self.pop()
    }

    pub(super) fn neg_number(&mut self) -> State {
        let r = self.next();
        match r {
            _ if is_digit(r) => State::NegNumber,
            '.' => State::FloatStart,
            _ if is_number_suffix(r) => State::ConvenientNumber,
            _ => {
                self.backup();
                self.emit(TokenKind::Integer);
                self.pop()
            }
        }
    }

    pub(super) fn float_start(&mut self) -> State {
        let r = self.next();
        if !is_digit(r) {
            return self.error(format!(
                "Floats must have a digit after the '.', but got '{}' instead.",
                shown(r)
            ));
        }
        State::Float
    }

    pub(super) fn float(&mut self) -> State {
        let r = self.next();
        if is_digit(r) {
            return State::Float;
        }
        // A second dot means this was an IP address all along.
        if r == '.' {
            return State::IpAddr;
        }
        self.backup();
        self.emit(TokenKind::Float);
        self.pop()
    }

    pub(super) fn ip_addr(&mut self) -> State {
        let r = self.next();
        if is_digit(r) || r == '.' || r == ':' || r == '-' {
            return State::IpAddr;
        }
        self.backup();
        self.emit(TokenKind::String);
        self.pop()
    }
}
