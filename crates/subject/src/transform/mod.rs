//! Subject transforms as nats-server's `NewSubjectTransform` builds them (used by subject
//! mappings, a stream's `subject_transform` and `republish`): a source filter and a
//! destination whose tokens are literals, references to the source's `*` wildcards (`$1`,
//! `{{wildcard(1)}}`), or functions of them (`partition`, `split`, `splitFromLeft`,
//! `splitFromRight`, `sliceFromLeft`, `sliceFromRight`, `left`, `right`, `random`). A
//! trailing `>` in the destination carries over what the source's `>` matched.
//!
//! Building validates once; applying writes into a caller-owned buffer and allocates nothing.

mod apply;
mod parse;
#[cfg(test)]
mod tests;

use crate::{FULL_WILDCARD, PARTIAL_WILDCARD};
use parse::{Placeholder, SizedFunction};
use thiserror::Error;

/// Why a transform cannot be built, in nats-server's words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransformError {
    /// The source or destination is not a valid subject, a destination has a `*`, or only
    /// one of them ends in `>` (nats-server's `ErrBadSubject`).
    #[error("invalid subject")]
    BadSubject,
    /// Something in the destination is wrong; `token` is the offending token, if known.
    #[error("{kind}{}", in_token(token))]
    Destination {
        /// What is wrong.
        kind: DestinationError,
        /// The destination token at fault (with `: [N]` for an out-of-range position).
        token: String,
    },
}

impl TransformError {
    fn destination(kind: DestinationError, token: &str) -> Self {
        TransformError::Destination {
            kind,
            token: token.to_string(),
        }
    }
}

fn in_token(token: &str) -> String {
    if token.is_empty() {
        String::new()
    } else {
        format!(" in {token}")
    }
}

/// The kinds of destination error nats-server distinguishes (`ErrInvalidMappingDestination`
/// and the errors wrapping it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DestinationError {
    /// An empty token, a token after `>`, or blanks in a literal token.
    #[error("invalid mapping destination: invalid transform")]
    InvalidSubject,
    /// A `{{...}}` token naming no known function.
    #[error("invalid mapping destination: unknown function")]
    UnknownFunction,
    /// A wildcard position the source does not have (or any position when it has none).
    #[error("invalid mapping destination: wildcard index out of range")]
    IndexOutOfRange,
    /// Too few arguments for the function.
    #[error("invalid mapping destination: not enough arguments passed to the function")]
    NotEnoughArguments,
    /// An argument that does not parse or is not allowed.
    #[error("invalid mapping destination: function argument is invalid or in the wrong format")]
    InvalidArgument,
    /// Too many arguments for the function.
    #[error("invalid mapping destination: too many arguments passed to the function")]
    TooManyArguments,
}

/// One destination token, with wildcard positions resolved to source token indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Copied as written.
    Literal(Box<str>),
    /// The trailing `>`: every subject token from the source's `>` on.
    Rest,
    /// The subject's token at this index.
    Token(usize),
    /// The FNV-1a hash of the tokens at these indexes (all of them, dot-joined, when empty)
    /// modulo the bucket count.
    Partition { buckets: u32, tokens: Box<[usize]> },
    /// A function of one token and a number.
    Sized {
        function: SizedFunction,
        token: usize,
        number: i32,
    },
    /// The token cut at every delimiter, empty pieces dropped.
    Split { token: usize, delimiter: Box<str> },
    /// A random bucket: `random(n)`, from the number the caller passes in.
    Random { buckets: i32 },
}

/// A compiled source → destination transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectTransform {
    source: Box<str>,
    destination: Box<str>,
    /// How many tokens the source has (the `>` remainder starts at the last one).
    source_tokens: usize,
    parts: Box<[Part]>,
}

impl SubjectTransform {
    /// Builds `source` → `destination` as nats-server's `NewSubjectTransform` does; an empty
    /// source means every subject (`>`). An empty destination is refused (nats-server
    /// answers "no transform" there, which callers treat the same way).
    pub fn new(source: &str, destination: &str) -> Result<Self, TransformError> {
        if destination.is_empty() {
            return Err(TransformError::destination(
                DestinationError::InvalidSubject,
                "",
            ));
        }
        let source = if source.is_empty() { ">" } else { source };
        let source_info = SubjectInfo::of(source).ok_or(TransformError::BadSubject)?;
        let destination_info = SubjectInfo::of(destination).ok_or(TransformError::BadSubject)?;
        if destination_info.partial_wildcards > 0
            || source_info.full_wildcard != destination_info.full_wildcard
        {
            return Err(TransformError::BadSubject);
        }
        // Source token index of each `*`, by its 1-based position.
        let wildcard_tokens: Vec<usize> = crate::tokens(source.as_bytes())
            .enumerate()
            .filter(|(_, token)| *token == [PARTIAL_WILDCARD])
            .map(|(index, _)| index)
            .collect();
        let has_wildcards = !wildcard_tokens.is_empty() || source_info.full_wildcard;
        let resolve = |position: i64, token: &str| -> Result<usize, TransformError> {
            if !has_wildcards {
                return Err(TransformError::destination(
                    DestinationError::IndexOutOfRange,
                    token,
                ));
            }
            if position > wildcard_tokens.len() as i64 {
                return Err(TransformError::destination(
                    DestinationError::IndexOutOfRange,
                    &format!("{token}: [{position}]"),
                ));
            }
            // nats-server looks positions up in a map from 1: `$0` (or below) finds nothing
            // and so takes the first token.
            let index = usize::try_from(position - 1).ok();
            Ok(index
                .and_then(|i| wildcard_tokens.get(i).copied())
                .unwrap_or(0))
        };
        let mut parts = Vec::with_capacity(destination_info.tokens);
        for token in destination.split('.') {
            let part = match parse::placeholder(token)? {
                Placeholder::Literal if token.as_bytes() == [FULL_WILDCARD] => Part::Rest,
                Placeholder::Literal => Part::Literal(token.into()),
                Placeholder::Wildcard(position) => Part::Token(resolve(position, token)?),
                Placeholder::Partition { buckets, wildcards } => Part::Partition {
                    // Go keeps the low 32 bits, as `uint32(int32(n))`.
                    buckets: buckets as i32 as u32,
                    // With no wildcards in the source the positions are ignored.
                    tokens: if has_wildcards {
                        wildcards
                            .iter()
                            .map(|&position| resolve(position, token))
                            .collect::<Result<_, _>>()?
                    } else {
                        Box::default()
                    },
                },
                Placeholder::Sized {
                    function,
                    wildcard,
                    number,
                } => Part::Sized {
                    function,
                    token: resolve(wildcard, token)?,
                    number,
                },
                Placeholder::Split {
                    wildcard,
                    delimiter,
                } => Part::Split {
                    token: resolve(wildcard, token)?,
                    delimiter: delimiter.into(),
                },
                Placeholder::Random { buckets } => Part::Random {
                    buckets: buckets as i32,
                },
            };
            parts.push(part);
        }
        Ok(SubjectTransform {
            source: source.into(),
            destination: destination.into(),
            source_tokens: source_info.tokens,
            parts: parts.into(),
        })
    }

    /// Builds a subject mapping's transform: nats-server's `ValidateMapping` checks of the
    /// destination first (no empty token, nothing after `>`, no blanks in a literal token,
    /// only the functions mappings know), then [`new`](Self::new).
    pub fn for_mapping(source: &str, destination: &str) -> Result<Self, TransformError> {
        let mut after_full_wildcard = false;
        for token in destination.split('.') {
            if token.is_empty() || after_full_wildcard {
                return Err(TransformError::destination(
                    DestinationError::InvalidSubject,
                    token,
                ));
            }
            if parse::function_call(token).is_some() {
                if !parse::is_mapping_function(token) {
                    return Err(TransformError::destination(
                        DestinationError::UnknownFunction,
                        token,
                    ));
                }
            } else if token.as_bytes() == [FULL_WILDCARD] {
                after_full_wildcard = true;
            } else if token.contains(['\t', '\n', '\x0c', '\r', ' ']) {
                return Err(TransformError::destination(
                    DestinationError::InvalidSubject,
                    "",
                ));
            }
        }
        Self::new(source, destination)
    }

    /// The source filter (`>` when built from an empty one).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The destination as written.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// True if the literal `subject` is one this transform applies to.
    pub fn matches(&self, subject: &[u8]) -> bool {
        crate::matches(self.source.as_bytes(), subject)
    }

    /// Appends the transform of `subject` to `out` if it matches the source; `random` feeds
    /// `{{random(n)}}`.
    pub fn apply(&self, subject: &[u8], random: u32, out: &mut Vec<u8>) -> bool {
        if !self.matches(subject) {
            return false;
        }
        self.transform(subject, random, out);
        true
    }
}

/// What nats-server's `subjectInfo` reports of a subject.
struct SubjectInfo {
    tokens: usize,
    partial_wildcards: usize,
    full_wildcard: bool,
}

impl SubjectInfo {
    /// `None` for an invalid subject: an empty token, or anything after `>`.
    fn of(subject: &str) -> Option<SubjectInfo> {
        let mut info = SubjectInfo {
            tokens: 0,
            partial_wildcards: 0,
            full_wildcard: false,
        };
        for token in crate::tokens(subject.as_bytes()) {
            if token.is_empty() || info.full_wildcard {
                return None;
            }
            info.tokens += 1;
            if token == [FULL_WILDCARD] {
                info.full_wildcard = true;
            } else if token == [PARTIAL_WILDCARD] {
                info.partial_wildcards += 1;
            }
        }
        Some(info)
    }
}
