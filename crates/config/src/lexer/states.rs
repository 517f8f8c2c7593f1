//! The lexer's structural states (top level, blocks, keys, includes, maps, arrays, comments),
//! one per lex.go state, each consuming input and naming the next state.

use super::{
    is_digit, is_key_separator, is_nl, is_space, is_whitespace, shown, Lexer, State, TokenKind, EOF,
};

impl Lexer<'_> {
    pub(super) fn top(&mut self) -> State {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return State::Top;
        }
        match r {
            // A top-level `{ ... }` wraps the whole configuration, JSON style.
            '{' => {
                self.stack.push(State::Top);
                self.ignore();
                return State::BlockStart;
            }
            '#' => return self.comment(State::Top),
            '/' => {
                return match self.slash_comment(State::Top) {
                    Some(next) => next,
                    None => self.end_or_unexpected(),
                }
            }
            EOF => return self.end_or_unexpected(),
            _ => {}
        }
        self.backup();
        self.stack.push(State::TopValueEnd);
        State::KeyStart
    }

    pub(super) fn top_value_end(&mut self) -> State {
        let r = self.next();
        match r {
            '#' => self.comment(State::Top),
            '/' => self
                .slash_comment(State::Top)
                .unwrap_or(State::TopValueEnd),
            _ if is_whitespace(r) => State::TopValueEnd,
            _ if is_nl(r) || r == EOF || r == ';' || r == ',' || r == '}' => {
                self.ignore();
                State::Top
            }
            _ => self.error(format!(
                "Expected a top-level value to end with a new line, comment or EOF, but got '{}' instead.",
                shown(r)
            )),
        }
    }

    pub(super) fn block_start(&mut self) -> State {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return State::BlockStart;
        }
        match r {
            '{' => {
                self.stack.push(State::BlockEnd);
                self.ignore();
                return State::BlockStart;
            }
            '}' => {
                self.ignore();
                return self.pop();
            }
            '#' => return self.comment(State::BlockStart),
            '/' => {
                return match self.slash_comment(State::BlockStart) {
                    Some(next) => next,
                    None => self.end_or_unexpected(),
                }
            }
            EOF => return self.end_or_unexpected(),
            _ => {}
        }
        self.backup();
        self.stack.push(State::BlockValueEnd);
        State::KeyStart
    }

    pub(super) fn block_value_end(&mut self) -> State {
        let r = self.next();
        match r {
            '#' => self.comment(State::BlockValueEnd),
            '/' => self
                .slash_comment(State::BlockValueEnd)
                .unwrap_or(State::BlockValueEnd),
            _ if is_whitespace(r) => State::BlockValueEnd,
            _ if is_nl(r) || r == ';' || r == ',' => {
                self.ignore();
                State::BlockStart
            }
            '}' => {
                self.backup();
                State::BlockEnd
            }
            _ => self.error(format!(
                "Expected a block-level value to end with a new line, comment or EOF, but got '{}' instead.",
                shown(r)
            )),
        }
    }

    pub(super) fn block_end(&mut self) -> State {
        let r = self.next();
        match r {
            '#' => self.comment(State::BlockStart),
            '/' => self
                .slash_comment(State::BlockStart)
                .unwrap_or(State::BlockEnd),
            _ if is_nl(r) || is_whitespace(r) => State::BlockEnd,
            ';' | ',' => {
                self.ignore();
                State::BlockStart
            }
            '}' => {
                self.ignore();
                self.pop()
            }
            _ => self.error(format!(
                "Expected a block-level to end with a '}}', but got '{}' instead.",
                shown(r)
            )),
        }
    }

    pub(super) fn key_start(&mut self) -> State {
        let r = self.peek();
        if is_key_separator(r) {
            return self.error(format!("Unexpected key separator '{}'", shown(r)));
        }
        if is_space(r) {
            self.next();
            self.ignore();
            return State::KeyStart;
        }
        if r == '"' || r == '\'' {
            self.next();
            self.ignore();
            return if r == '"' {
                State::DubQuotedKey
            } else {
                State::QuotedKey
            };
        }
        self.ignore();
        self.next();
        State::Key
    }

    /// A quoted top-level key; unlike values, keys take no escapes.
    pub(super) fn quoted_key(&mut self, quote: char, after: State) -> State {
        let r = self.peek();
        if r == quote {
            self.emit(TokenKind::Key);
            self.next();
            self.ignore();
            return after;
        }
        if r == EOF {
            return self.end_or_unexpected();
        }
        self.next();
        if quote == '"' {
            State::DubQuotedKey
        } else {
            State::QuotedKey
        }
    }

    pub(super) fn key(&mut self) -> State {
        let r = self.peek();
        if is_space(r) {
            return self.key_or_include(State::KeyEnd, None);
        }
        if is_key_separator(r) || r == EOF {
            self.emit(TokenKind::Key);
            return State::KeyEnd;
        }
        self.next();
        State::Key
    }

    pub(super) fn key_end(&mut self) -> State {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return State::KeyEnd;
        }
        if is_key_separator(r) {
            self.ignore();
            return State::Value;
        }
        if r == EOF {
            self.emit(TokenKind::Eof);
            return State::Done;
        }
        self.backup();
        State::Value
    }

    pub(super) fn include(&mut self) -> State {
        let r = self.next();
        let found = match r {
            '\'' => {
                self.ignore();
                return State::IncludeQuotedString;
            }
            '"' => {
                self.ignore();
                return State::IncludeDubQuotedString;
            }
            '[' => "start of an array",
            '{' => "start of a map",
            '(' => "start of a block",
            '\\' => "escape sequence",
            _ if is_digit(r) || r == '-' => "start of a number",
            _ if is_nl(r) => "new line",
            _ => {
                self.backup();
                return State::IncludeString;
            }
        };
        self.error(format!("Expected include value but found {found}"))
    }

    pub(super) fn include_quoted(&mut self, quote: char, description: &str) -> State {
        let r = self.next();
        if r == quote {
            self.backup();
            self.emit(TokenKind::Include);
            self.next();
            self.ignore();
            return self.pop();
        }
        if r == EOF {
            return self.error(format!("Unexpected EOF in {description} include"));
        }
        if quote == '"' {
            State::IncludeDubQuotedString
        } else {
            State::IncludeQuotedString
        }
    }

    pub(super) fn include_string(&mut self) -> State {
        let r = self.next();
        if is_nl(r) || r == EOF || r == ';' || r == '}' || is_whitespace(r) {
            self.backup();
            self.emit(TokenKind::Include);
            return self.pop();
        }
        if r == '\'' {
            self.backup();
            self.emit(TokenKind::Include);
            self.next();
            self.ignore();
            return self.pop();
        }
        State::IncludeString
    }

    pub(super) fn value(&mut self) -> State {
        let r = self.next();
        if is_whitespace(r) {
            self.ignore();
            return State::Value;
        }
        match r {
            '[' => {
                let bracket = self.before_last;
                self.ignore();
                self.emit_at(TokenKind::ArrayStart, bracket);
                State::ArrayValue
            }
            '{' => {
                let brace = self.before_last;
                self.ignore();
                self.emit_at(TokenKind::MapStart, brace);
                State::MapKeyStart
            }
            '\'' => {
                self.ignore();
                State::QuotedString
            }
            '"' => {
                self.ignore();
                self.string_state = State::DubQuotedString;
                State::DubQuotedString
            }
            '-' => State::NegNumberStart,
            '(' => {
                self.ignore();
                State::Block
            }
            _ if is_digit(r) => {
                self.backup();
                State::NumberStart
            }
            '.' => self.error("Floats must start with a digit".to_string()),
            _ if is_nl(r) => self.error("Expected value but found new line".to_string()),
            _ => {
                self.backup();
                self.string_state = State::String;
                State::String
            }
        }
    }

    pub(super) fn array_value(&mut self) -> State {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return State::ArrayValue;
        }
        match r {
            '#' => return self.comment(State::ArrayValue),
            '/' => {
                return match self.slash_comment(State::ArrayValue) {
                    Some(next) => next,
                    None => self.error("Unexpected array value terminator ','.".to_string()),
                }
            }
            ',' => return self.error("Unexpected array value terminator ','.".to_string()),
            ']' => return State::ArrayEnd,
            _ => {}
        }
        self.backup();
        self.stack.push(State::ArrayValueEnd);
        State::Value
    }

    pub(super) fn array_value_end(&mut self) -> State {
        let r = self.next();
        match r {
            _ if is_whitespace(r) => {
                self.ignore();
                State::ArrayValueEnd
            }
            '#' => self.comment(State::ArrayValueEnd),
            '/' => match self.slash_comment(State::ArrayValueEnd) {
                Some(next) => next,
                None => {
                    self.ignore();
                    State::ArrayValue
                }
            },
            _ if r == ',' || is_nl(r) => {
                self.ignore();
                State::ArrayValue
            }
            ']' => State::ArrayEnd,
            _ => self.error(format!(
                "Expected an array value terminator \",\" or an array terminator \"]\", but got '{}' instead.",
                shown(r)
            )),
        }
    }

    pub(super) fn map_key_start(&mut self) -> State {
        let r = self.peek();
        match r {
            _ if is_key_separator(r) => {
                return self.error(format!("Unexpected key separator '{}'.", shown(r)))
            }
            ']' => {
                return self.error(format!(
                    "Unexpected array end '{}' processing map.",
                    shown(r)
                ))
            }
            _ if is_space(r) => {
                self.next();
                self.ignore();
                return State::MapKeyStart;
            }
            '}' => {
                self.next();
                self.ignore();
                return State::MapEnd;
            }
            '#' => {
                self.next();
                return self.comment(State::MapKeyStart);
            }
            '/' => {
                self.next();
                if let Some(next) = self.slash_comment(State::MapKeyStart) {
                    return next;
                }
                // As in Go, a lone slash is dropped and the key starts after it.
            }
            '\'' => {
                self.next();
                self.ignore();
                return State::MapQuotedKey;
            }
            '"' => {
                self.next();
                self.ignore();
                return State::MapDubQuotedKey;
            }
            EOF => return self.error("Unexpected EOF processing map.".to_string()),
            _ => {}
        }
        self.ignore();
        self.next();
        State::MapKey
    }

    pub(super) fn map_quoted_key(&mut self, quote: char, description: &str) -> State {
        let r = self.peek();
        if r == EOF {
            return self.error(format!("Unexpected EOF processing {description} map key."));
        }
        if r == quote {
            self.emit(TokenKind::Key);
            self.next();
            self.ignore();
            return State::MapKeyEnd;
        }
        self.next();
        if quote == '"' {
            State::MapDubQuotedKey
        } else {
            State::MapQuotedKey
        }
    }

    pub(super) fn map_key(&mut self) -> State {
        let r = self.peek();
        if r == EOF {
            return self.error("Unexpected EOF processing map key.".to_string());
        }
        if is_space(r) {
            return self.key_or_include(State::MapKeyEnd, Some(State::MapValueEnd));
        }
        if is_key_separator(r) {
            self.emit(TokenKind::Key);
            return State::MapKeyEnd;
        }
        self.next();
        State::MapKey
    }

    pub(super) fn map_key_end(&mut self) -> State {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return State::MapKeyEnd;
        }
        if is_key_separator(r) {
            self.ignore();
            return State::MapValue;
        }
        self.backup();
        State::MapValue
    }

    pub(super) fn map_value(&mut self) -> State {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return State::MapValue;
        }
        match r {
            ',' => self.error("Unexpected map value terminator \",\".".to_string()),
            '}' => {
                self.ignore();
                State::MapEnd
            }
            _ => {
                self.backup();
                self.stack.push(State::MapValueEnd);
                State::Value
            }
        }
    }

    pub(super) fn map_value_end(&mut self) -> State {
        let r = self.next();
        match r {
            _ if is_whitespace(r) => {
                self.ignore();
                State::MapValueEnd
            }
            '#' => self.comment(State::MapValueEnd),
            '/' => match self.slash_comment(State::MapValueEnd) {
                Some(next) => next,
                None => {
                    self.ignore();
                    State::MapKeyStart
                }
            },
            _ if r == ';' || r == ',' || is_nl(r) => {
                self.ignore();
                State::MapKeyStart
            }
            '}' => {
                self.ignore();
                State::MapEnd
            }
            _ => self.error(format!(
                "Expected a map value terminator \",\" or a map terminator \"}}\", but got '{}' instead.",
                shown(r)
            )),
        }
    }

    /// Skips a comment up to (not including) the end of its line.
    pub(super) fn comment_body(&mut self) -> State {
        let r = self.peek();
        if is_nl(r) || r == EOF {
            self.ignore();
            return self.pop();
        }
        self.next();
        State::Comment
    }
}
