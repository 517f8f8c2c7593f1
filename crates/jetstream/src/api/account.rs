//! `$JS.API.INFO`: the account's usage, limits and API counters.

use super::types::AccountInfo;
use super::{to_value, JetStreamApi, StoreProvider};
use crate::errors::JsError;
use crate::stream::config::StorageType;

impl<P: StoreProvider> JetStreamApi<P> {
    pub(super) fn account_info(&self) -> Result<serde_json::Value, JsError> {
        let (mut memory, mut storage) = (0, 0);
        let (mut reserved_memory, mut reserved_storage) = (0, 0);
        for entry in self.streams.values() {
            let bytes = entry.stream.store().state().bytes;
            let reserved = u64::try_from(entry.stream.config().max_bytes).unwrap_or(0);
            match entry.stream.config().storage {
                StorageType::Memory => {
                    memory += bytes;
                    reserved_memory += reserved;
                }
                StorageType::File => {
                    storage += bytes;
                    reserved_storage += reserved;
                }
            }
        }
        to_value(AccountInfo {
            memory,
            storage,
            reserved_memory,
            reserved_storage,
            streams: self.streams.len(),
            consumers: 0,
            limits: self.limits,
            domain: self.domain.clone(),
            api: self.stats,
        })
    }
}
