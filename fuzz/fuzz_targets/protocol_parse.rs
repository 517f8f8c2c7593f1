//! The client protocol parser on arbitrary bytes: it never panics, and feeding the input
//! in chunks (as reads split it) yields exactly the ops and error of parsing it whole.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_proto::{parse_op, ParserLimits, ProtocolError};

/// Parses `input` arriving in pieces of `chunk` bytes; returns the ops (as text) and the
/// kind of error that stopped parsing, if any.
fn parse_in_chunks(input: &[u8], chunk: usize, limits: &ParserLimits) -> (Vec<String>, Option<String>) {
    let mut buffer = Vec::new();
    let mut ops = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buffer.extend_from_slice(piece);
        let mut consumed = 0;
        loop {
            match parse_op(&buffer[consumed..], limits) {
                Ok(Some((op, len))) => {
                    assert!(len > 0 && consumed + len <= buffer.len());
                    ops.push(format!("{op:?}"));
                    consumed += len;
                }
                Ok(None) => break,
                Err(error) => return (ops, Some(error_kind(&error))),
            }
        }
        buffer.drain(..consumed);
    }
    (ops, None)
}

/// The error without the byte count, which depends on how much had arrived.
fn error_kind(error: &ProtocolError) -> String {
    match error {
        ProtocolError::MaxControlLineExceeded { .. } => "max control line".to_string(),
        other => format!("{other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let limits = ParserLimits {
        max_control_line: 64 + usize::from(selector & 0x3f),
        max_payload: 256,
        headers: selector & 0x40 != 0,
    };
    let whole = parse_in_chunks(input, input.len(), &limits);
    let chunk = usize::from(selector >> 4) + 1;
    assert_eq!(parse_in_chunks(input, chunk, &limits), whole);
});
