//! The decoder fed every split of its input, nats-server's close and protocol-error texts,
//! compressed messages between plain ones, and the bounds.

use super::*;

fn masked_frame(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut frame = vec![first];
    if payload.len() <= 125 {
        frame.push(MASK_BIT | payload.len() as u8);
    } else {
        frame.push(MASK_BIT | 126);
        frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// Decodes `input` fed in pieces of every size from 1 up, and checks each gives `expected`.
fn check(input: &[u8], expected: Result<(&[u8], Vec<Event>), FrameError>) {
    check_with(|| Decoder::new(true, 1 << 20), input, expected)
}

/// As `check`, with decoders from `decoder`.
fn check_with(
    decoder: impl Fn() -> Decoder,
    input: &[u8],
    expected: Result<(&[u8], Vec<Event>), FrameError>,
) {
    for piece in 1..=input.len().max(1) {
        let mut decoder = decoder();
        let mut payload = Vec::new();
        let mut events = Vec::new();
        let mut result = Ok(());
        for chunk in input.chunks(piece) {
            result = decoder.decode(chunk, &mut payload, &mut events);
            if result.is_err() || matches!(events.last(), Some(Event::Close { .. })) {
                break;
            }
        }
        match &expected {
            Ok((data, want)) => {
                assert_eq!(result, Ok(()), "piece {piece}");
                assert_eq!(&payload[..], *data, "piece {piece}");
                assert_eq!(&events, want, "piece {piece}");
            }
            Err(error) => assert_eq!(result.as_ref(), Err(error), "piece {piece}"),
        }
    }
}

#[test]
fn fragmented_messages_and_control_frames_between_fragments() {
    let mut input = masked_frame(0x02, b"PUB a 2\r\n", [1, 2, 3, 4]);
    input.extend(masked_frame(0x89, b"hi", [5, 6, 7, 8]));
    input.extend(masked_frame(0x80, b"ok\r\n", [9, 9, 9, 9]));
    input.extend(masked_frame(0x81, &[b'x'; 300], [1, 0, 0, 1]));
    let mut data = b"PUB a 2\r\nok\r\n".to_vec();
    data.extend([b'x'; 300]);
    check(&input, Ok((&data, vec![Event::Ping(b"hi".to_vec())])));
}

#[test]
fn close_frames_are_answered_as_nats_server_answers_them() {
    let with_reason = |status: u16, reason: &[u8]| [&status.to_be_bytes()[..], reason].concat();
    let cases: [(Vec<u8>, u16, &str, &[u8]); 7] = [
        (with_reason(1001, b"bye"), 1001, "bye", b"\x03\xe9bye"),
        // No status: an empty close frame answers, as 1005 may not be sent.
        (Vec::new(), 1005, "", b""),
        (
            with_reason(1000, &[0xFF, 0xFE]),
            1007,
            "invalid utf8 body in close frame",
            b"\x03\xefinvalid utf8 body in close frame",
        ),
        (
            with_reason(1005, b""),
            1002,
            "invalid close status code 1005",
            b"\x03\xeainvalid close status code 1005",
        ),
        (
            with_reason(2999, b""),
            1002,
            "invalid close status code 2999",
            b"\x03\xeainvalid close status code 2999",
        ),
        (with_reason(1014, b""), 1014, "", b"\x03\xf6"),
        (
            vec![0x03],
            1002,
            "close frame payload cannot be 1 byte",
            b"\x03\xeaclose frame payload cannot be 1 byte",
        ),
    ];
    for (payload, status, reason, answer) in cases {
        let event = Event::Close {
            status,
            reason: reason.into(),
        };
        assert_eq!(
            event.close_payload().as_deref(),
            Some(answer),
            "{payload:?}"
        );
        check(
            &masked_frame(0x88, &payload, [1, 2, 3, 4]),
            Ok((b"", vec![event])),
        );
    }
}

#[test]
fn protocol_errors_as_nats_server_words_them() {
    let mut two_starts = masked_frame(0x02, b"a", [1; 4]);
    two_starts.extend(masked_frame(0x02, b"b", [1; 4]));
    let mut huge = vec![0x82, 0x80 | 127];
    huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
    huge.extend_from_slice(&[1; 4]);
    let cases = [
        (vec![0x82, 0x01, b'x'], "mask bit missing"),
        (masked_frame(0x83, b"", [1; 4]), "unknown opcode 3"),
        (
            masked_frame(0x09, b"", [1; 4]),
            "control frame does not have final bit set",
        ),
        (
            masked_frame(0x80, b"x", [1; 4]),
            "invalid continuation frame",
        ),
        (
            two_starts,
            "new message started before final frame for previous message was received",
        ),
        (
            masked_frame(0xC2, b"x", [1; 4]),
            "compressed frame received without negotiated permessage-deflate",
        ),
        (
            masked_frame(0xA2, b"x", [1; 4]),
            "RSV2 and RSV3 must be clear",
        ),
        (huge, "invalid 64-bit payload length"),
    ];
    for (input, text) in cases {
        check(&input, Err(FrameError::protocol(text)));
    }
}

/// `data` deflated as a permessage-deflate client sends it: raw, sync-flushed, without
/// the flush's last four bytes.
fn deflated(data: &[u8]) -> Vec<u8> {
    let mut deflate = flate2::Compress::new(flate2::Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    deflate
        .compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

#[test]
fn compressed_messages_fragmented_between_plain_ones() {
    let compressing = || Decoder::new(true, 1 << 20).with_compression(1 << 16);
    let message = b"PUB a 600
"
    .iter()
    .chain(&[b'z'; 600])
    .copied();
    let message: Vec<u8> = message
        .chain(
            *b"
",
        )
        .collect();
    let compressed = deflated(&message);
    let (head, tail) = compressed.split_at(compressed.len() / 2);
    let mut input = masked_frame(
        0x82,
        b"PING
",
        [1, 2, 3, 4],
    );
    input.extend(masked_frame(0x42, head, [5, 6, 7, 8]));
    input.extend(masked_frame(0x89, b"hi", [5, 6, 7, 8]));
    input.extend(masked_frame(0x80, tail, [9, 8, 7, 6]));
    input.extend(masked_frame(
        0x82,
        b"PONG
",
        [4, 3, 2, 1],
    ));
    // An empty compressed message inflates to nothing.
    input.extend(masked_frame(0xC2, &deflated(b""), [1, 1, 1, 1]));
    let expected = [
        &b"PING
"[..],
        &message,
        b"PONG
",
    ]
    .concat();
    check_with(
        compressing,
        &input,
        Ok((&expected, vec![Event::Ping(b"hi".to_vec())])),
    );
    let protocol = |text: &str| Err(FrameError::protocol(text));
    check_with(
        compressing,
        &masked_frame(0xC9, b"", [1; 4]),
        protocol("control frame must not be compressed"),
    );
    let mut recompressed = masked_frame(0x42, head, [1; 4]);
    recompressed.extend(masked_frame(0xC0, tail, [1; 4]));
    check_with(
        compressing,
        &recompressed,
        protocol("invalid continuation frame"),
    );
    check_with(
        compressing,
        &masked_frame(0xC2, &[0xFF; 8], [1; 4]),
        Err(FrameError {
            status: CloseStatus::ProtocolError,
            message: "invalid compressed data: deflate decompression error".to_string(),
        }),
    );
}

#[test]
fn compressed_messages_are_bounded_before_and_after_inflating() {
    let too_big = Err(FrameError {
        status: CloseStatus::MessageTooBig,
        message: "maximum payload exceeded".to_string(),
    });
    // 100 KiB of zeros deflate to a few hundred bytes: the inflated bound catches it.
    let bomb = deflated(&[0u8; 100 * 1024]);
    assert!(bomb.len() < 1024);
    check_with(
        || Decoder::new(true, 1 << 20).with_compression(64 * 1024),
        &masked_frame(0xC2, &bomb, [1; 4]),
        too_big.clone(),
    );
    // Fragments that add up past the frame bound are refused as they arrive.
    let mut fragments = masked_frame(0x42, &[0; 60], [1; 4]);
    fragments.extend(masked_frame(0x80, &[0; 60], [1; 4]));
    check_with(
        || Decoder::new(true, 100).with_compression(1 << 20),
        &fragments,
        too_big,
    );
}

#[test]
fn a_data_frame_over_the_bound_is_message_too_big() {
    let mut decoder = Decoder::new(true, 100);
    let frame = masked_frame(0x82, &[0; 101], [1; 4]);
    let error = decoder
        .decode(&frame, &mut Vec::new(), &mut Vec::new())
        .unwrap_err();
    assert_eq!(error.status, CloseStatus::MessageTooBig);
}

#[test]
fn unmasked_frames_from_a_no_masking_peer() {
    let mut decoder = Decoder::new(false, 100);
    let mut payload = Vec::new();
    decoder
        .decode(
            &[0x82, 0x03, b'a', b'b', b'c'],
            &mut payload,
            &mut Vec::new(),
        )
        .unwrap();
    assert_eq!(payload, b"abc");
}

#[test]
fn headers_and_close_payloads() {
    let mut out = Vec::new();
    write_frame_header(&mut out, OpCode::Binary, 5);
    write_frame_header(&mut out, OpCode::Binary, 300);
    write_frame_header(&mut out, OpCode::Binary, 70_000);
    assert_eq!(
        out,
        [
            &[0x82, 5][..],
            &[0x82, 126, 1, 44],
            &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
        ]
        .concat()
    );
    let long = close_payload(1008, &"é".repeat(100));
    assert!(long.len() <= MAX_CONTROL_PAYLOAD_BYTES && long.ends_with(b"..."));
    assert_eq!(
        close_payload(1000, "Client Closed"),
        b"\x03\xe8Client Closed"
    );
}
