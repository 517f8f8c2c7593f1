//! The header-only status messages consumers send, byte for byte as nats-server writes
//! them: pull request outcomes (404, 408, 409), idle heartbeats and flow control (100).
//! Clients match these texts, so they live here once.

/// `Nats-Pending-Messages`: what a closed pull request still wanted, in messages.
pub const PENDING_MESSAGES: &str = "Nats-Pending-Messages";
/// `Nats-Pending-Bytes`: what a closed pull request still wanted, in bytes.
pub const PENDING_BYTES: &str = "Nats-Pending-Bytes";
/// `Nats-Last-Consumer`: the last consumer sequence delivered, on heartbeats.
pub const LAST_CONSUMER: &str = "Nats-Last-Consumer";
/// `Nats-Last-Stream`: the last stream sequence delivered, on heartbeats.
pub const LAST_STREAM: &str = "Nats-Last-Stream";
/// `Nats-Consumer-Stalled`: the unanswered flow control subject, on heartbeats.
pub const CONSUMER_STALLED: &str = "Nats-Consumer-Stalled";
/// `Nats-Msg-Size`: the payload size of a headers-only delivery.
pub const MSG_SIZE: &str = "Nats-Msg-Size";

/// `NATS/1.0 <code> <text>` with no headers.
pub fn plain(code: u16, text: &str) -> Vec<u8> {
    format!("NATS/1.0 {code} {text}\r\n\r\n").into_bytes()
}

/// A pull request closed with what it still wanted (`408 Request Timeout`, `409 Message
/// Size Exceeds MaxBytes`).
pub fn with_pending(code: u16, text: &str, messages: i64, bytes: i64) -> Vec<u8> {
    format!(
        "NATS/1.0 {code} {text}\r\n{PENDING_MESSAGES}: {messages}\r\n{PENDING_BYTES}: {bytes}\r\n\r\n"
    )
    .into_bytes()
}

/// `408 Request Timeout`: a pull request expired.
pub fn request_timeout(messages: i64, bytes: i64) -> Vec<u8> {
    with_pending(408, "Request Timeout", messages, bytes)
}

/// `409 Message Size Exceeds MaxBytes`: the next message does not fit the request.
pub fn message_size_exceeds_max_bytes(messages: i64, bytes: i64) -> Vec<u8> {
    with_pending(409, "Message Size Exceeds MaxBytes", messages, bytes)
}

/// `100 Idle Heartbeat` with the last sequences, and the stalled flow control subject.
pub fn idle_heartbeat(last_consumer: u64, last_stream: u64, stalled: Option<&str>) -> Vec<u8> {
    let mut text = format!(
        "NATS/1.0 100 Idle Heartbeat\r\n{LAST_CONSUMER}: {last_consumer}\r\n{LAST_STREAM}: {last_stream}\r\n"
    );
    if let Some(subject) = stalled {
        text.push_str(&format!("{CONSUMER_STALLED}: {subject}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// `100 FlowControl Request`, sent with the flow control subject as its reply.
pub fn flow_control_request() -> Vec<u8> {
    plain(100, "FlowControl Request")
}

/// The header block of a headers-only delivery: the stored headers (or a bare version line)
/// with `Nats-Msg-Size` added.
pub fn headers_only(stored: &[u8], payload_len: usize) -> Vec<u8> {
    let mut block = if stored.is_empty() {
        b"NATS/1.0\r\n".to_vec()
    } else {
        let mut block = stored.to_vec();
        // Drop the blank line that ends the block, to append one more header.
        if block.ends_with(b"\r\n\r\n") {
            block.truncate(block.len() - 2);
        }
        block
    };
    block.extend_from_slice(format!("{MSG_SIZE}: {payload_len}\r\n\r\n").as_bytes());
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_nats_server_bytes() {
        assert_eq!(
            plain(404, "No Messages"),
            b"NATS/1.0 404 No Messages\r\n\r\n"
        );
        assert_eq!(
            request_timeout(3, 0),
            b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 0\r\n\r\n"
        );
        assert_eq!(
            message_size_exceeds_max_bytes(1, 10),
            b"NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 10\r\n\r\n"
        );
        assert_eq!(
            idle_heartbeat(4, 9, None),
            b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 4\r\nNats-Last-Stream: 9\r\n\r\n"
        );
        assert_eq!(
            idle_heartbeat(4, 9, Some("$JS.FC.S.C.ab12")),
            b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 4\r\nNats-Last-Stream: 9\r\nNats-Consumer-Stalled: $JS.FC.S.C.ab12\r\n\r\n"
        );
        assert_eq!(
            flow_control_request(),
            b"NATS/1.0 100 FlowControl Request\r\n\r\n"
        );
    }

    #[test]
    fn headers_only_adds_the_payload_size() {
        assert_eq!(
            headers_only(b"", 5),
            b"NATS/1.0\r\nNats-Msg-Size: 5\r\n\r\n"
        );
        assert_eq!(
            headers_only(b"NATS/1.0\r\nA: b\r\n\r\n", 0),
            b"NATS/1.0\r\nA: b\r\nNats-Msg-Size: 0\r\n\r\n"
        );
    }
}
