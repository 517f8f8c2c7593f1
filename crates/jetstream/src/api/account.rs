//! `$JS.API.INFO`: the account's usage, limits and API counters.

use super::types::AccountInfo;
use super::{to_value, JetStreamApi, StoreProvider};
use crate::errors::JsError;
use crate::stream::config::StorageType;

impl<P: StoreProvider> JetStreamApi<P> {
    pub(super) fn account_info(&self) -> Result<serde_json::Value, JsError> {
        let usage = self.usage();
        to_value(AccountInfo {
            memory: usage.memory,
            storage: usage.storage,
            reserved_memory: usage.reserved_memory,
            reserved_storage: usage.reserved_storage,
            streams: self.streams.len(),
            consumers: self.consumer_count(),
            limits: self.limits,
            domain: self.domain.clone(),
            api: self.stats,
        })
    }
}

/// What one account's JetStream holds and has served, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes in memory streams.
    pub memory: u64,
    /// Bytes in file streams.
    pub storage: u64,
    /// Bytes reserved by memory streams' `max_bytes`.
    pub reserved_memory: u64,
    /// Bytes reserved by file streams' `max_bytes`.
    pub reserved_storage: u64,
    /// Streams.
    pub streams: u64,
    /// Consumers.
    pub consumers: u64,
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// API requests served.
    pub api_total: u64,
    /// API requests answered with an error.
    pub api_errors: u64,
}

impl Usage {
    /// Adds another account's figures.
    pub fn add(&mut self, other: &Usage) {
        self.memory += other.memory;
        self.storage += other.storage;
        self.reserved_memory += other.reserved_memory;
        self.reserved_storage += other.reserved_storage;
        self.streams += other.streams;
        self.consumers += other.consumers;
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.api_total += other.api_total;
        self.api_errors += other.api_errors;
    }
}

impl<P: StoreProvider> JetStreamApi<P> {
    /// The account's storage use and API counters.
    pub fn usage(&self) -> Usage {
        let mut usage = Usage {
            streams: self.streams.len() as u64,
            consumers: self.consumer_count() as u64,
            api_total: self.stats.total,
            api_errors: self.stats.errors,
            ..Usage::default()
        };
        for entry in self.streams.values() {
            let state = entry.stream.store().state();
            let reserved = u64::try_from(entry.stream.config().max_bytes).unwrap_or(0);
            usage.messages += state.msgs;
            usage.bytes += state.bytes;
            match entry.stream.config().storage {
                StorageType::Memory => {
                    usage.memory += state.bytes;
                    usage.reserved_memory += reserved;
                }
                StorageType::File => {
                    usage.storage += state.bytes;
                    usage.reserved_storage += reserved;
                }
            }
        }
        usage
    }
}
