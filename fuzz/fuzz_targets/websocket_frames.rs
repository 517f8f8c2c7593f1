//! The websocket codec on arbitrary bytes: the frame decoder never panics, decoding in
//! chunks (as reads split the stream) yields exactly the payload, events and error of
//! decoding it whole, and never more payload than was sent; the upgrade request parser and
//! checks never panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_websocket::{check_upgrade, parse_request, Decoder, Event, FrameError, OriginPolicy};

/// Decodes `input` in pieces of `chunk` bytes, stopping at a close or an error.
fn decode_in_chunks(
    input: &[u8],
    chunk: usize,
    masked: bool,
) -> (Vec<u8>, Vec<Event>, Option<FrameError>) {
    let mut decoder = Decoder::new(masked, 4096);
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
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let masked = control & 1 == 1;
    let chunk = usize::from(control >> 1) + 1;
    let whole = decode_in_chunks(input, input.len(), masked);
    let split = decode_in_chunks(input, chunk, masked);
    assert_eq!(whole, split);
    assert!(whole.0.len() <= input.len());

    if let Ok(Some((request, length))) = parse_request(input) {
        assert!(length <= input.len());
        let origins = OriginPolicy::new(control & 2 == 2, &["https://a.example".to_string()])
            .expect("a valid origin");
        let _ = check_upgrade(&request, &origins, control & 4 == 4);
    }
});
