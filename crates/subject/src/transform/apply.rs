//! Writing a transformed subject, token function by token function, as nats-server's
//! `TransformTokenizedSubject` does, into a caller-owned buffer.

use super::{Part, SizedFunction, SubjectTransform};
use crate::TOKEN_SEPARATOR;

impl SubjectTransform {
    /// Appends the transform of `subject` to `out` without checking that it matches the
    /// source (callers that already matched it skip the second walk). Positions the subject
    /// lacks contribute nothing.
    pub fn transform(&self, subject: &[u8], random: u32, out: &mut Vec<u8>) {
        let last = self.parts.len() - 1;
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(text) => out.extend_from_slice(text.as_bytes()),
                // Always the last part: what follows is the remainder below.
                Part::Rest => break,
                Part::Token(at) => out.extend_from_slice(token_at(subject, *at)),
                Part::Partition { buckets, tokens } => {
                    let bucket = if *buckets == 0 {
                        0
                    } else if tokens.is_empty() {
                        fnv1a(subject) % buckets
                    } else {
                        let hash = tokens.iter().fold(FNV_OFFSET_BASIS, |hash, &at| {
                            fnv1a_continue(hash, token_at(subject, at))
                        });
                        hash % buckets
                    };
                    write_decimal(out, bucket);
                }
                Part::Sized {
                    function,
                    token,
                    number,
                } => sized(*function, token_at(subject, *token), *number, out),
                Part::Split { token, delimiter } => {
                    split(token_at(subject, *token), delimiter.as_bytes(), out)
                }
                Part::Random { buckets } => {
                    let bucket = if *buckets == 0 {
                        0
                    } else {
                        // As Go's `rand.Int31() % n`: non-negative, below |n|.
                        (random & i32::MAX as u32) as i32 % *buckets
                    };
                    write_decimal(out, bucket);
                }
            }
            if index < last {
                out.push(TOKEN_SEPARATOR);
            }
        }
        if matches!(self.parts.last(), Some(Part::Rest)) {
            out.extend_from_slice(tokens_from(subject, self.source_tokens - 1));
        }
    }
}

const FNV_OFFSET_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// 32-bit FNV-1a, Go's `hash/fnv` `New32a`, which nats-server's `partition` uses.
fn fnv1a(bytes: &[u8]) -> u32 {
    fnv1a_continue(FNV_OFFSET_BASIS, bytes)
}

fn fnv1a_continue(hash: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(hash, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// The subject's token at `index`; empty past its end.
fn token_at(subject: &[u8], index: usize) -> &[u8] {
    crate::tokens(subject).nth(index).unwrap_or_default()
}

/// The subject from its token at `index` to its end; empty past its end.
fn tokens_from(subject: &[u8], index: usize) -> &[u8] {
    let mut start = 0;
    for _ in 0..index {
        match subject[start..].iter().position(|&b| b == TOKEN_SEPARATOR) {
            Some(at) => start += at + 1,
            None => return &[],
        }
    }
    &subject[start..]
}

/// The functions of one token and a number. A number that does not cut the token (zero,
/// negative, or not shorter than it) leaves the token whole.
fn sized(function: SizedFunction, token: &[u8], number: i32, out: &mut Vec<u8>) {
    let size = match usize::try_from(number) {
        Ok(size) if size > 0 && size < token.len() => size,
        _ => {
            out.extend_from_slice(token);
            return;
        }
    };
    let len = token.len();
    match function {
        SizedFunction::SplitFromLeft => join(out, &[&token[..size], &token[size..]]),
        SizedFunction::SplitFromRight => join(out, &[&token[..len - size], &token[len - size..]]),
        SizedFunction::SliceFromLeft => {
            for (i, chunk) in token.chunks(size).enumerate() {
                if i > 0 {
                    out.push(TOKEN_SEPARATOR);
                }
                out.extend_from_slice(chunk);
            }
        }
        SizedFunction::SliceFromRight => {
            let remainder = len % size;
            if remainder > 0 {
                out.extend_from_slice(&token[..remainder]);
                out.push(TOKEN_SEPARATOR);
            }
            for (i, chunk) in token[remainder..].chunks(size).enumerate() {
                if i > 0 {
                    out.push(TOKEN_SEPARATOR);
                }
                out.extend_from_slice(chunk);
            }
        }
        SizedFunction::Left => out.extend_from_slice(&token[..size]),
        SizedFunction::Right => out.extend_from_slice(&token[len - size..]),
    }
}

fn join(out: &mut Vec<u8>, pieces: &[&[u8]]) {
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push(TOKEN_SEPARATOR);
        }
        out.extend_from_slice(piece);
    }
}

/// `split`: the token cut at each delimiter and dot-joined, empty pieces dropped, with
/// nats-server's separator rule kept exactly (a dot goes before a non-empty piece unless
/// only the first, empty, piece precedes it; so `--a` with `-` gives `.a`, as there). An
/// empty delimiter cuts between characters, as Go's `strings.Split` does.
fn split(token: &[u8], delimiter: &[u8], out: &mut Vec<u8>) {
    let mut pieces = Pieces {
        rest: Some(token),
        delimiter,
    }
    .peekable();
    let mut index = 0;
    while let Some(piece) = pieces.next() {
        out.extend_from_slice(piece);
        let next_is_text = pieces.peek().is_some_and(|next| !next.is_empty());
        if next_is_text && !(index == 0 && piece.is_empty()) {
            out.push(TOKEN_SEPARATOR);
        }
        index += 1;
    }
}

/// The pieces of Go's `strings.Split(token, delimiter)`, without collecting them.
struct Pieces<'a> {
    rest: Option<&'a [u8]>,
    delimiter: &'a [u8],
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        if self.delimiter.is_empty() {
            if rest.is_empty() {
                self.rest = None;
                return None;
            }
            let width = utf8_width(rest);
            self.rest = Some(&rest[width..]).filter(|tail| !tail.is_empty());
            return Some(&rest[..width]);
        }
        match find(rest, self.delimiter) {
            Some(at) => {
                self.rest = Some(&rest[at + self.delimiter.len()..]);
                Some(&rest[..at])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// The byte length of the first character of `bytes` (1 for a byte that starts none).
fn utf8_width(bytes: &[u8]) -> usize {
    let width = match bytes[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    };
    if width > 1 && bytes.len() >= width && std::str::from_utf8(&bytes[..width]).is_ok() {
        width
    } else {
        1
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Appends `n` in decimal; writing into a `Vec` formats in place, with no `String`.
fn write_decimal(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}
