//! The websocket codec on arbitrary bytes: the frame decoder never panics, decoding in
//! chunks (as reads split the stream) yields exactly the payload, events and error of
//! decoding it whole, with or without permessage-deflate, and (without it) never more
//! payload than was sent; compressing any bytes and decoding the result gives them back; the
//! upgrade request parser and checks never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_websocket::{
    check_upgrade, parse_request, Compressor, Decoder, Event, FrameError, OriginPolicy,
};

/// The data-frame bound and the inflated-message bound the decoders get.
const FRAME_BYTES_MAX: u64 = 4096;
const INFLATED_BYTES_MAX: usize = 8192;

fn decoder(masked: bool, compression: bool) -> Decoder {
    let decoder = Decoder::new(masked, FRAME_BYTES_MAX);
    if compression {
        decoder.with_compression(INFLATED_BYTES_MAX)
    } else {
        decoder
    }
}

/// Decodes `input` in pieces of `chunk` bytes, stopping at a close or an error.
fn decode_in_chunks(
    input: &[u8],
    chunk: usize,
    masked: bool,
    compression: bool,
) -> (Vec<u8>, Vec<Event>, Option<FrameError>) {
    let mut decoder = decoder(masked, compression);
    let mut payload = Vec::new();
    let mut events = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        if let Err(error) = decoder.decode(piece, &mut payload, &mut events) {
            return (payload, events, Some(error));
        }
        if matches!(events.last(), Some(Event::Close { .. })) {
            break;
        }
    }
    (payload, events, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&chunk, input)) = rest.split_first() else {
        return;
    };
    let masked = flags & 1 == 1;
    let compression = flags & 2 == 2;
    let chunk = usize::from(chunk) + 1;
    let whole = decode_in_chunks(input, input.len(), masked, compression);
    let split = decode_in_chunks(input, chunk, masked, compression);
    assert_eq!(whole, split);
    if !compression {
        assert!(whole.0.len() <= input.len());
    }

    // What the server compresses, a compressing peer reads back whole, in any fragments.
    let mut wire = Vec::new();
    Compressor::new()
        .write_message(&mut wire, input, chunk)
        .expect("any bytes compress");
    let mut back = Vec::new();
    let read = decoder(false, true).decode(&wire, &mut back, &mut Vec::new());
    match read {
        Ok(()) => assert_eq!(back, input),
        Err(error) => assert!(
            input.len() > INFLATED_BYTES_MAX || wire.len() as u64 > FRAME_BYTES_MAX,
            "{error}"
        ),
    }

    if let Ok(Some((request, length))) = parse_request(input) {
        assert!(length <= input.len());
        let origins = OriginPolicy::new(flags & 4 == 4, &["https://a.example".to_string()])
            .expect("a valid origin");
        let _ = check_upgrade(&request, &origins, flags & 8 == 8);
    }
});
