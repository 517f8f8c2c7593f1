//! Reading NATS message headers (`NATS/1.0\r\nKey: Value\r\n...\r\n\r\n`), as JetStream
//! reads its control headers: keys match exactly, values are trimmed of blanks.

/// `Nats-Msg-Id`: the publisher's id for deduplication.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// `Nats-Expected-Stream`: the publish must land in this stream.
pub const EXPECTED_STREAM: &str = "Nats-Expected-Stream";
/// `Nats-Expected-Last-Sequence`: the stream's last sequence must be this.
pub const EXPECTED_LAST_SEQUENCE: &str = "Nats-Expected-Last-Sequence";
/// `Nats-Expected-Last-Subject-Sequence`: the subject's last sequence must be this.
pub const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
/// `Nats-Expected-Last-Msg-Id`: the last message id must be this.
pub const EXPECTED_LAST_MSG_ID: &str = "Nats-Expected-Last-Msg-Id";

/// `Nats-Rollup`: after storing, purge the subject (`sub`) or the stream (`all`) down to it.
pub const ROLLUP: &str = "Nats-Rollup";
/// The `Nats-Rollup` value that rolls up one subject.
pub const ROLLUP_SUBJECT: &str = "sub";
/// The `Nats-Rollup` value that rolls up the whole stream.
pub const ROLLUP_ALL: &str = "all";
/// `Nats-Stream`: the stream a direct get answered from.
pub const STREAM: &str = "Nats-Stream";
/// `Nats-Subject`: the stored message's subject, on a direct get.
pub const SUBJECT: &str = "Nats-Subject";
/// `Nats-Sequence`: the stored message's sequence, on a direct get.
pub const SEQUENCE: &str = "Nats-Sequence";
/// `Nats-Time-Stamp`: when the message was stored, on a direct get.
pub const TIME_STAMP: &str = "Nats-Time-Stamp";
/// Where a sourced message came from: `<stream> <sequence>` (nats-server's `JSStreamSource`).
pub const STREAM_SOURCE: &str = "Nats-Stream-Source";
/// On a republished message: the previous sequence of the same subject, 0 when none.
pub const LAST_SEQUENCE: &str = "Nats-Last-Sequence";
/// On a headers-only republish: the size of the payload left out.
pub const MSG_SIZE: &str = "Nats-Msg-Size";

/// The header block with `key: value` added at its end (a new block when `block` is empty),
/// as nats-server's `genHeader` adds the direct-get headers.
pub fn append(block: &[u8], key: &str, value: &str) -> Vec<u8> {
    const VERSION_LINE: &[u8] = b"NATS/1.0\r\n";
    let mut out = Vec::with_capacity(block.len() + key.len() + value.len() + 16);
    match block.strip_suffix(b"\r\n") {
        Some(head) if !head.is_empty() => out.extend_from_slice(head),
        _ => out.extend_from_slice(VERSION_LINE),
    }
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// The header block without any `key` line, as nats-server's `removeHeaderIfPresent`; a block
/// left with only its version line stays a block (nats-server keeps it too).
pub fn remove(block: &[u8], key: &str) -> Vec<u8> {
    if get(block, key).is_none() {
        return block.to_vec();
    }
    let mut out = Vec::with_capacity(block.len());
    for (index, line) in block.split_inclusive(|&b| b == b'\n').enumerate() {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        if index > 0 && name == key.as_bytes() {
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}

/// The value of the first header named `key`, if any.
pub fn get<'a>(block: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let mut lines = block.split(|&b| b == b'\n');
    lines.next()?; // The version line (`NATS/1.0 ...`).
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if &line[..colon] == key.as_bytes() {
            return Some(trim_blanks(&line[colon + 1..]));
        }
    }
    None
}

/// The value of `key` as text, when it is valid UTF-8 and not empty.
pub fn get_str<'a>(block: &'a [u8], key: &str) -> Option<&'a str> {
    get(block, key)
        .and_then(|value| std::str::from_utf8(value).ok())
        .filter(|value| !value.is_empty())
}

/// The value of `key` as a sequence number; nats-server treats unparsable values as absent.
pub fn get_u64(block: &[u8], key: &str) -> Option<u64> {
    get_str(block, key)?.parse().ok()
}

fn trim_blanks(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &value[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_headers_keep_the_block_well_formed() {
        let fresh = append(b"", STREAM, "S");
        assert_eq!(fresh, b"NATS/1.0\r\nNats-Stream: S\r\n\r\n");
        let more = append(&fresh, SEQUENCE, "7");
        assert_eq!(
            more,
            b"NATS/1.0\r\nNats-Stream: S\r\nNats-Sequence: 7\r\n\r\n"
        );
        assert_eq!(get_u64(&more, SEQUENCE), Some(7));
    }

    #[test]
    fn header_values_are_found_exactly() {
        let block =
            b"NATS/1.0\r\nNats-Msg-Id:  abc \r\nNats-Expected-Last-Sequence: 42\r\nX: y\r\n\r\n";
        assert_eq!(get_str(block, MSG_ID), Some("abc"));
        assert_eq!(get_u64(block, EXPECTED_LAST_SEQUENCE), Some(42));
        assert_eq!(get(block, "nats-msg-id"), None, "keys are case-sensitive");
        assert_eq!(get(block, "Nats"), None);
        assert_eq!(get(b"", MSG_ID), None);
        assert_eq!(
            get_u64(
                b"NATS/1.0\r\nNats-Expected-Last-Sequence: x\r\n\r\n",
                EXPECTED_LAST_SEQUENCE
            ),
            None
        );
    }
}
