//! The pure parts of mirrors and sources: where an origin is, where copying starts, the
//! `Nats-Stream-Source` header nats-server writes on sourced messages, and storing a mirrored
//! message at its origin's sequence.
//!
//! nats-server copies through an ephemeral consumer on the origin and a network hop; within
//! one server and one account Natrium reads the origin's store directly (see
//! `api/sourcing.rs`), which gives the same messages without flow control or heartbeats.

use super::config::StreamSource;
use super::Stream;
use crate::headers;
use natrium_store::{MessageStore, StoreError};

/// How far one mirror or source has copied its origin, and what INFO reports about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProgress {
    /// The origin stream's name.
    pub origin: String,
    /// The last origin sequence copied or passed over; 0 before the first.
    pub last_seq: u64,
    /// Origin messages past `last_seq` not yet copied.
    pub lag: u64,
    /// When the origin was last read (nanoseconds), `None` while it has not been found.
    pub heard_at: Option<i64>,
}

/// The name a source is tracked under: the stream's name, with a digest of the external API
/// prefix when it has one (nats-server's `iname` uses an 8-character SHA-256; Natrium writes
/// CRC-32C in hex, as it has no SHA-256).
pub fn index_name(source: &StreamSource) -> String {
    match &source.external {
        Some(external) if !external.api.is_empty() => {
            format!(
                "{}:{:08x}",
                source.name,
                crc32c::crc32c(external.api.as_bytes())
            )
        }
        _ => source.name.clone(),
    }
}

/// Whether the origin lives in this account's JetStream: no `external`, or an API prefix
/// naming `$JS.API` or this server's domain. Other prefixes are other accounts' JetStream
/// (found through the engine's imported API prefixes) or other domains (which need leaf
/// nodes, and are never found).
pub fn is_local(source: &StreamSource, domain: Option<&str>) -> bool {
    let Some(external) = &source.external else {
        return true;
    };
    let prefix = external.api.trim_end_matches('.');
    prefix.is_empty()
        || prefix == "$JS.API"
        || domain.is_some_and(|domain| prefix == format!("$JS.{domain}.API"))
}

/// The `Nats-Stream-Source` value nats-server 2.9 writes: `<index name> <origin sequence>`.
pub fn source_header_value(index_name: &str, origin_seq: u64) -> String {
    format!("{index_name} {origin_seq}")
}

/// The headers of a sourced message: any earlier `Nats-Stream-Source` (a daisy chain) replaced
/// by this hop's.
pub fn sourced_headers(block: &[u8], index_name: &str, origin_seq: u64) -> Vec<u8> {
    let without = headers::remove(block, headers::STREAM_SOURCE);
    headers::append(
        &without,
        headers::STREAM_SOURCE,
        &source_header_value(index_name, origin_seq),
    )
}

/// The index name and origin sequence of a `Nats-Stream-Source` value.
pub fn parse_source_header(value: &str) -> Option<(&str, u64)> {
    let mut fields = value.split_whitespace();
    let name = fields.next()?;
    let seq = fields.next()?.parse().ok()?;
    Some((name, seq))
}

/// The last origin sequence a source stream already holds from `index_name`, read back from the
/// newest message carrying its header, as nats-server's `startingSequenceForSources` does after
/// a restart. Walks back at most `scan_max` messages.
pub fn recover_source_seq(store: &dyn MessageStore, index_name: &str, scan_max: u64) -> u64 {
    let state = store.state();
    if state.msgs == 0 {
        return 0;
    }
    let floor = state.first_seq.max(state.last_seq.saturating_sub(scan_max));
    for seq in (floor..=state.last_seq).rev() {
        let Ok(message) = store.load(seq) else {
            continue;
        };
        let Some(value) = headers::get_str(&message.headers, headers::STREAM_SOURCE) else {
            continue;
        };
        if let Some((name, origin_seq)) = parse_source_header(value) {
            if name == index_name {
                return origin_seq;
            }
        }
    }
    0
}

/// The origin sequence before the first one to copy, for a mirror or source that has copied
/// nothing: `opt_start_seq`, else the first message at or after `opt_start_time` (or the
/// copying stream's own last time, for a source recovered without a header, as nats-server
/// falls back), else the beginning.
pub fn start_after(origin: &dyn MessageStore, source: &StreamSource, fallback_time: i64) -> u64 {
    if source.opt_start_seq > 0 {
        return source.opt_start_seq - 1;
    }
    let start_time = source
        .opt_start_time
        .as_deref()
        .and_then(crate::time::parse_rfc3339)
        .unwrap_or(fallback_time);
    if start_time <= 0 {
        return 0;
    }
    crate::consumer::seq_from_time(origin, start_time).saturating_sub(1)
}

impl Stream {
    /// Stores a mirrored message at its origin sequence `seq` with the origin's timestamp, as
    /// nats-server's `processInboundMirrorMsg`: sequences the origin no longer has are
    /// skipped (an empty mirror moves its first sequence; a non-empty one marks each skipped
    /// sequence deleted). `Ok(false)` when the mirror already has `seq`.
    pub fn store_mirrored(
        &mut self,
        seq: u64,
        subject: &str,
        header_block: &[u8],
        payload: &[u8],
        timestamp: i64,
    ) -> Result<bool, StoreError> {
        let state = self.store().state();
        if seq <= state.last_seq {
            return Ok(false);
        }
        self.mark_dirty();
        let store = self.store_mut();
        if seq > state.last_seq + 1 {
            if state.msgs == 0 {
                store.compact(seq)?;
            } else {
                for _ in state.last_seq + 1..seq {
                    let skipped = store.store(subject, b"", b"", timestamp)?;
                    store.remove(skipped, false)?;
                }
            }
        }
        let stored = store.store(subject, header_block, payload, timestamp)?;
        if stored != seq {
            tracing::warn!("JetStream: mirror stored origin sequence {seq} at {stored}");
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::config::ExternalStream;

    #[test]
    fn the_source_header_replaces_an_earlier_hop() {
        let first = sourced_headers(b"", "A", 7);
        assert_eq!(first, b"NATS/1.0\r\nNats-Stream-Source: A 7\r\n\r\n");
        let second = sourced_headers(&first, "B", 2);
        assert_eq!(second, b"NATS/1.0\r\nNats-Stream-Source: B 2\r\n\r\n");
        assert_eq!(parse_source_header("B 2"), Some(("B", 2)));
        assert_eq!(parse_source_header("B"), None);
    }

    #[test]
    fn only_our_own_api_prefixes_are_local() {
        let with_prefix = |api: &str| StreamSource {
            name: "O".into(),
            external: Some(ExternalStream {
                api: api.into(),
                ..ExternalStream::default()
            }),
            ..StreamSource::default()
        };
        assert!(is_local(&StreamSource::default(), None));
        assert!(is_local(&with_prefix("$JS.API"), None));
        assert!(is_local(&with_prefix("$JS.hub.API"), Some("hub")));
        assert!(!is_local(&with_prefix("$JS.leaf.API"), Some("hub")));
        assert!(!is_local(&with_prefix("JS.acc.API"), None));
        assert_ne!(index_name(&with_prefix("$JS.API")), "O");
    }
}
