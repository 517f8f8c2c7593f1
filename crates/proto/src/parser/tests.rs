//! Parser tests as transcripts: input bytes and the ops (or error) they must produce,
//! whole and split at every byte.

use super::*;
use proptest::prelude::*;

/// Parses everything in `input`, feeding it in chunks of `chunk` bytes as a socket would.
fn parse_chunked(
    input: &[u8],
    chunk: usize,
    limits: &ParserLimits,
) -> Result<Vec<String>, ProtocolError> {
    let mut buffer = Vec::new();
    let mut ops = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buffer.extend_from_slice(piece);
        let mut consumed = 0;
        while let Some((op, len)) = parse_op(&buffer[consumed..], limits)? {
            ops.push(format!("{op:?}"));
            consumed += len;
        }
        buffer.drain(..consumed);
    }
    Ok(ops)
}

/// Asserts `input` parses to `expected` whole and when fed one byte at a time.
fn check(input: &[u8], expected: &[ClientOp<'_>]) {
    let limits = ParserLimits::default();
    let expected: Vec<String> = expected.iter().map(|op| format!("{op:?}")).collect();
    for chunk in [input.len(), 1, 2, 7] {
        assert_eq!(
            parse_chunked(input, chunk, &limits).as_ref(),
            Ok(&expected),
            "chunk {chunk}: {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

fn check_error(input: &[u8], limits: ParserLimits, expected: ProtocolError) {
    for chunk in [input.len(), 1] {
        assert_eq!(
            parse_chunked(input, chunk, &limits),
            Err(expected.clone()),
            "chunk {chunk}: {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// A publish op; `tokens` are the header and total size arguments as sent ("" for PUB's header).
fn publish<'a>(
    subject: &'a [u8],
    reply: Option<&'a [u8]>,
    tokens: (&'a [u8], &'a [u8]),
    message: &'a [u8],
) -> ClientOp<'a> {
    let (header_token, size_token) = tokens;
    ClientOp::Publish(Publish {
        subject,
        reply,
        header_len: (!header_token.is_empty()).then(|| parse_size(header_token).unwrap()),
        message,
        size_token,
        header_token,
    })
}

fn bad(context: &'static str, arg: &str) -> ProtocolError {
    bad_arguments(context, arg.as_bytes())
}

#[test]
fn every_op_parses_whole_and_split() {
    check(
        b"CONNECT {\"verbose\":false}\r\n",
        &[ClientOp::Connect(b"{\"verbose\":false}")],
    );
    check(b"PING\r\nPONG\r\n", &[ClientOp::Ping, ClientOp::Pong]);
    check(
        b"PUB foo 5\r\nhello\r\n",
        &[publish(b"foo", None, (b"", b"5"), b"hello")],
    );
    check(
        b"PUB foo bar 0\r\n\r\n",
        &[publish(b"foo", Some(b"bar"), (b"", b"0"), b"")],
    );
    check(
        b"HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
        &[publish(b"foo", None, (b"12", b"14"), b"NATS/1.0\r\n\r\nhi")],
    );
    check(
        b"HPUB foo r 12 12\r\nNATS/1.0\r\n\r\n\r\n",
        &[publish(
            b"foo",
            Some(b"r"),
            (b"12", b"12"),
            b"NATS/1.0\r\n\r\n",
        )],
    );
    check(
        b"SUB foo 1\r\nSUB foo.* q 2\r\n",
        &[
            ClientOp::Subscribe {
                subject: b"foo",
                queue: None,
                sid: b"1",
            },
            ClientOp::Subscribe {
                subject: b"foo.*",
                queue: Some(b"q"),
                sid: b"2",
            },
        ],
    );
    check(
        b"UNSUB 1\r\nUNSUB 2 10\r\nUNSUB 3 x\r\n",
        &[
            ClientOp::Unsubscribe {
                sid: b"1",
                max: None,
            },
            ClientOp::Unsubscribe {
                sid: b"2",
                max: Some(10),
            },
            ClientOp::Unsubscribe {
                sid: b"3",
                max: None,
            },
        ],
    );
    check(
        b"INFO {}\r\n+OK\r\n-ERR 'x'\r\n",
        &[ClientOp::Info(b"{}"), ClientOp::Ok, ClientOp::Err(b"'x'")],
    );
}

#[test]
fn verbs_are_case_insensitive_and_blanks_are_flexible() {
    check(
        b"pub foo 2\r\nhi\r\n",
        &[publish(b"foo", None, (b"", b"2"), b"hi")],
    );
    check(
        b"PuB\tfoo  \t 2\r\nhi\r\n",
        &[publish(b"foo", None, (b"", b"2"), b"hi")],
    );
    check(
        b"sub foo 1\n",
        &[ClientOp::Subscribe {
            subject: b"foo",
            queue: None,
            sid: b"1",
        }],
    );
    check(b"ping\npong\r\n", &[ClientOp::Ping, ClientOp::Pong]);
}

#[test]
fn payloads_may_contain_protocol_bytes() {
    check(
        b"PUB foo 6\r\nPING\r\n\r\n",
        &[publish(b"foo", None, (b"", b"6"), b"PING\r\n")],
    );
}

#[test]
fn malformed_input_is_refused() {
    let limits = ParserLimits::default();
    check_error(b"FOO bar\r\n", limits, ProtocolError::UnknownOperation);
    check_error(
        b"MSG foo 1 1\r\nx\r\n",
        limits,
        ProtocolError::UnknownOperation,
    );
    check_error(b"PUBX foo 1\r\n", limits, ProtocolError::UnknownOperation);
    check_error(
        b"PUB foo 1\r\nxyz\r\n",
        limits,
        ProtocolError::UnknownOperation,
    );
    check_error(b"PUB foo\r\n", limits, bad("processPub Parse Error", "foo"));
    check_error(
        b"PUB foo bar baz 1\r\n",
        limits,
        bad("processPub Parse Error", "foo bar baz 1"),
    );
    check_error(
        b"PUB foo -1\r\n",
        limits,
        bad("processPub Bad or Missing Size", "foo -1"),
    );
    check_error(
        b"HPUB foo 10 5\r\n",
        limits,
        bad(
            "processHeaderPub Header Size larger then TotalSize",
            "foo 10 5",
        ),
    );
    check_error(b"SUB foo\r\n", limits, bad("processSub Parse Error", "foo"));
    check_error(b"UNSUB\t\r\n", limits, bad("processUnsub Parse Error", ""));
    check_error(
        b"PUB foo 1234567890\r\n",
        limits,
        bad("processPub Bad or Missing Size", "foo 1234567890"),
    );
    check_error(
        b"PUB foo 1048577\r\n",
        limits,
        ProtocolError::MaxPayloadExceeded {
            size: 1_048_577,
            max: 1_048_576,
        },
    );
    let small = ParserLimits {
        max_control_line: 16,
        ..limits
    };
    for chunk in [1, 40] {
        // The length reported is how much had arrived when the limit was crossed.
        assert!(matches!(
            parse_chunked(b"SUB a.very.long.subject.name 1\r\n", chunk, &small),
            Err(ProtocolError::MaxControlLineExceeded { max: 16, .. })
        ));
    }
    let no_headers = ParserLimits {
        headers: false,
        ..limits
    };
    check_error(
        b"HPUB foo 2 2\r\n\r\n\r\n",
        no_headers,
        ProtocolError::HeadersNotSupported,
    );
}

#[test]
fn an_argument_of_exactly_the_limit_passes_however_its_line_end_arrives() {
    // Found by the fuzzer: the CR arriving before the LF must not count as argument.
    let limits = ParserLimits {
        max_control_line: 8,
        ..Default::default()
    };
    for chunk in [1, 12, 13, 14] {
        assert_eq!(
            parse_chunked(b"SUB 123456 8\r\nPING\r\n", chunk, &limits).map(|ops| ops.len()),
            Ok(2),
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_control_line_without_end_is_cut_off_at_the_limit() {
    let limits = ParserLimits {
        max_control_line: 8,
        ..Default::default()
    };
    assert_eq!(parse_op(b"SUB 12345678", &limits), Ok(None));
    assert!(matches!(
        parse_op(b"SUB 123456789", &limits),
        Err(ProtocolError::MaxControlLineExceeded { .. })
    ));
}

fn op_strategy() -> impl Strategy<Value = Vec<u8>> {
    let subject = "[a-z]{1,5}(\\.[a-z*]{1,3}){0,2}";
    prop_oneof![
        (subject, prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(s, payload)| {
            let mut op = format!("PUB {s} {}\r\n", payload.len()).into_bytes();
            op.extend_from_slice(&payload);
            op.extend_from_slice(b"\r\n");
            op
        }),
        (subject, "[a-z]{1,4}", 0u32..1000)
            .prop_map(|(s, q, sid)| format!("SUB {s} {q} {sid}\r\n").into_bytes()),
        (0u32..1000, 0u32..5).prop_map(|(sid, max)| format!("UNSUB {sid} {max}\r\n").into_bytes()),
        Just(b"PING\r\n".to_vec()),
        Just(b"CONNECT {\"echo\":true}\r\n".to_vec()),
    ]
}

proptest! {
    #[test]
    fn splitting_never_changes_the_ops(
        ops in prop::collection::vec(op_strategy(), 1..20),
        chunk in 1usize..64,
    ) {
        let input: Vec<u8> = ops.concat();
        let limits = ParserLimits::default();
        let whole = parse_chunked(&input, input.len(), &limits);
        prop_assert_eq!(whole.as_ref().map(Vec::len), Ok(ops.len()));
        prop_assert_eq!(parse_chunked(&input, chunk, &limits), whole);
    }
}
