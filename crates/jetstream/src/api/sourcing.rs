//! Mirrors and sources within one account: each tick copies what origin streams stored since
//! the last one into the streams that mirror or source them, reading the origin's store
//! directly (nats-server runs an ephemeral consumer per origin), and reports each origin's
//! `name`, `lag` and `active` in STREAM.INFO as nats-server's `StreamSourceInfo`.
//!
//! Progress is kept in memory and re-derived after a restart from what the copy holds: a
//! mirror's last sequence is its origin's, and a source's is in the newest message carrying
//! its `Nats-Stream-Source` header, as nats-server's `startingSequenceForSources` reads it.

use super::{JetStreamApi, StoreProvider, StreamEntry};
use crate::stream::config::StreamSource;
use crate::stream::republish::Republish;
use crate::stream::sourcing::{
    index_name, is_local, recover_source_seq, sourced_headers, start_after, SourceProgress,
};
use crate::stream::Published;
use natrium_store::{MessageStore, StoredMsg};
use serde::Serialize;
use std::collections::BTreeMap;

/// The most messages one tick copies from one origin, so a backlog does not hold up the batch
/// of publishes it shares a tick with; the rest follows on the next ticks.
const COPY_BATCH_MAX: usize = 4096;

/// The most messages walked back when re-deriving a source's progress after a restart.
const RECOVERY_SCAN_MAX: u64 = 1 << 20;

/// The progress of one stream's mirror or sources, tied to the stream's creation time so a
/// stream deleted and created again starts afresh.
#[derive(Debug, Default)]
pub(crate) struct StreamSourcing {
    created: i64,
    by_index_name: BTreeMap<String, SourceProgress>,
    /// The stream's last message time when this process first saw it (0 when empty): where a
    /// source with no header in the stream starts, as nats-server's `si.start` after a restart.
    recovered_last_time: i64,
    /// When the copies were last brought up to date, for `active`.
    ticked_at: i64,
}

/// nats-server's `StreamSourceInfo`: `active` is nanoseconds since the origin was last read,
/// -1 when it never was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    name: String,
    lag: u64,
    active: i64,
}

/// Finds the store of an origin that lives in another account (a source whose
/// `external.api` prefix the account imports from that account's JetStream).
pub type ForeignOrigins<'a> = &'a dyn Fn(&StreamSource) -> Option<&'a dyn MessageStore>;

impl<P: StoreProvider> JetStreamApi<P> {
    /// Copies into every mirror and source stream what its origins in this account stored
    /// since the last tick.
    pub fn copy_sources(&mut self, now: i64) {
        self.copy_sources_from(now, &|_| None);
    }

    /// Copies into every mirror and source stream what its origins stored since the last
    /// tick; `foreign` finds the origins in other accounts.
    pub fn copy_sources_from(&mut self, now: i64, foreign: ForeignOrigins<'_>) {
        let copies: Vec<(String, i64, i64)> = self
            .streams
            .iter()
            .filter(|(_, entry)| {
                let config = entry.stream.config();
                config.mirror.is_some() || !config.sources.is_empty()
            })
            .map(|(name, entry)| {
                let state = entry.stream.store().state();
                let last_time = if state.msgs > 0 { state.last_time } else { 0 };
                (name.clone(), entry.created, last_time)
            })
            .collect();
        self.sourcing.retain(|name, sourcing| {
            copies
                .iter()
                .any(|(copy, created, _)| copy == name && *created == sourcing.created)
        });
        for (name, created, recovered_last_time) in copies {
            let sourcing = self
                .sourcing
                .entry(name.clone())
                .or_insert_with(|| StreamSourcing {
                    created,
                    recovered_last_time,
                    ..StreamSourcing::default()
                });
            sourcing.ticked_at = now;
            self.copy_into(&name, now, foreign);
        }
    }

    /// Brings one mirror or source stream up to date with each of its origins.
    fn copy_into(&mut self, copy: &str, now: i64, foreign: ForeignOrigins<'_>) {
        let Some(config) = self.streams.get(copy).map(|entry| entry.stream.config()) else {
            return;
        };
        let is_mirror = config.mirror.is_some();
        let origins: Vec<StreamSource> = config
            .mirror
            .iter()
            .chain(&config.sources)
            .cloned()
            .collect();
        for source in origins {
            let elsewhere = if is_local(&source, self.domain.as_deref()) {
                None
            } else {
                match foreign(&source) {
                    Some(store) => Some(store),
                    None => continue,
                }
            };
            let index = index_name(&source);
            let Some((batch, origin_last)) =
                self.read_origin(copy, &source, &index, is_mirror, elsewhere)
            else {
                continue;
            };
            let copied = self.store_copies(copy, &index, is_mirror, &batch, now);
            let Some(progress) = self
                .sourcing
                .get_mut(copy)
                .and_then(|sourcing| sourcing.by_index_name.get_mut(&index))
            else {
                continue;
            };
            progress.heard_at = Some(now);
            if let Some(last) = copied {
                progress.last_seq = last;
            }
            if batch.len() < COPY_BATCH_MAX {
                // Everything the filter matches is copied; what is left is filtered out.
                progress.last_seq = progress.last_seq.max(origin_last);
            }
            progress.lag = origin_last.saturating_sub(progress.last_seq);
        }
    }

    /// The next messages of `source` after the progress of `index` (derived first if there is
    /// none), and the origin's last sequence; `None` while the origin does not exist. The
    /// origin is `elsewhere` when it lives in another account, else this account's stream.
    fn read_origin(
        &mut self,
        copy: &str,
        source: &StreamSource,
        index: &str,
        is_mirror: bool,
        elsewhere: Option<&dyn MessageStore>,
    ) -> Option<(Vec<StoredMsg>, u64)> {
        let origin = match elsewhere {
            Some(store) => store,
            None => self.streams.get(&source.name)?.stream.store(),
        };
        let copy_store = self.streams.get(copy)?.stream.store();
        let sourcing = self.sourcing.get_mut(copy)?;
        let fallback = sourcing.recovered_last_time;
        let progress = sourcing
            .by_index_name
            .entry(index.to_string())
            .or_insert_with(|| {
                let state = copy_store.state();
                let recovered = if is_mirror {
                    state.last_seq
                } else {
                    recover_source_seq(copy_store, index, RECOVERY_SCAN_MAX)
                };
                let last_seq = if recovered > 0 {
                    recovered
                } else {
                    start_after(origin, source, fallback)
                };
                SourceProgress {
                    origin: source.name.clone(),
                    last_seq,
                    lag: 0,
                    heard_at: None,
                }
            });
        let filter = match source.filter_subject.as_str() {
            "" => ">",
            filter => filter,
        };
        let mut batch = Vec::new();
        let mut next = progress.last_seq + 1;
        while batch.len() < COPY_BATCH_MAX {
            let Ok(message) = origin.load_next(filter, next) else {
                break;
            };
            next = message.seq + 1;
            batch.push(message);
        }
        Some((batch, origin.state().last_seq))
    }

    /// Stores copies of origin messages: a mirror at their own sequences, a source as new
    /// messages with its header. Returns the last origin sequence handled.
    fn store_copies(
        &mut self,
        copy: &str,
        index: &str,
        is_mirror: bool,
        batch: &[StoredMsg],
        now: i64,
    ) -> Option<u64> {
        let entry = self.streams.get_mut(copy)?;
        let mut last = None;
        for message in batch {
            last = Some(message.seq);
            let republish = Republish::prepare(
                entry.stream.config(),
                entry.stream.store(),
                &message.subject,
                crate::stream::transform::random_from(now ^ message.seq as i64),
            );
            let (block, stored) = if is_mirror {
                let stored = entry.stream.store_mirrored(
                    message.seq,
                    &message.subject,
                    &message.headers,
                    &message.payload,
                    message.timestamp,
                );
                let stored = match stored {
                    Ok(true) => Ok(Some(message.seq)),
                    Ok(false) => Ok(None),
                    Err(e) => Err(e.to_string()),
                };
                (message.headers.to_vec(), stored)
            } else {
                let block = sourced_headers(&message.headers, index, message.seq);
                let stored =
                    match entry
                        .stream
                        .publish(&message.subject, &block, &message.payload, now)
                    {
                        Ok(Published::Stored(seq)) => Ok(Some(seq)),
                        Ok(Published::Duplicate(_)) => Ok(None),
                        Err(e) => Err(e.to_string()),
                    };
                (block, stored)
            };
            match stored {
                Ok(Some(seq)) => {
                    Self::stored(entry, seq, &message.subject);
                    if let Some(republish) = republish {
                        let name = &entry.stream.config().name;
                        self.outbox.push(republish.message(
                            name,
                            &message.subject,
                            seq,
                            &block,
                            &message.payload,
                        ));
                    }
                }
                Ok(None) => {}
                // As nats-server, the copy goes on; the message is not retried.
                Err(e) => tracing::warn!(
                    "JetStream: copying {} sequence {} into {copy:?}: {e}",
                    message.subject,
                    message.seq
                ),
            }
        }
        last
    }

    /// `mirror` and `sources` of a stream's info, as nats-server reports them.
    pub(crate) fn source_info(&self, entry: &StreamEntry) -> (Option<SourceInfo>, Vec<SourceInfo>) {
        let config = entry.stream.config();
        let sourcing = self.sourcing.get(&config.name);
        let info = |source: &StreamSource| {
            let progress = sourcing.and_then(|s| s.by_index_name.get(&index_name(source)));
            SourceInfo {
                name: source.name.clone(),
                lag: progress.map_or(0, |p| p.lag),
                active: match (progress.and_then(|p| p.heard_at), sourcing) {
                    (Some(heard_at), Some(s)) => s.ticked_at.saturating_sub(heard_at),
                    _ => -1,
                },
            }
        };
        (
            config.mirror.as_ref().map(info),
            config.sources.iter().map(info).collect(),
        )
    }
}
