//! `$JS.API.INFO`: the account's usage, limits and API counters.

use super::types::AccountInfo;
use super::{to_value, JetStreamApi, StoreProvider};
use crate::errors::JsError;
use crate::stream::config::StorageType;

impl<P: StoreProvider> JetStreamApi<P> {
    pub(super) fn account_info(&self) -> Result<serde_json::Value, JsError> {
        let (mut memory, mut storage) = (0, 0);
        for entry in self.streams.values() {
            let bytes = entry.stream.store().state().bytes;
            match entry.stream.config().storage {
                StorageType::Memory => memory += bytes,
                StorageType::File => storage += bytes,
            }
        }
        to_value(AccountInfo {
            memory,
            storage,
            streams: self.streams.len(),
            consumers: self.consumer_count(),
            limits: self.limits,
            domain: self.domain.clone(),
            api: self.stats,
        })
    }
}
