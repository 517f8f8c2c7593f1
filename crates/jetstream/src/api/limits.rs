//! Account limits on stream create and update, as nats-server's `checkLimits` and
//! `maxBytesLimits` apply them on a single server: the bytes reserved by streams' `max_bytes`
//! against the account's (and the server's) memory and file storage, the largest stream, and
//! streams that must set `max_bytes`.
//!
//! The server-wide check sees this account's reservations only; with several accounts the
//! server's storage can be promised more than once (a single-account server is exact).

use super::{JetStreamApi, StoreProvider};
use crate::errors::JsError;
use crate::stream::config::{StorageType, StreamConfig};

impl<P: StoreProvider> JetStreamApi<P> {
    /// Bytes reserved (`max_bytes` times replicas) by the streams of `storage`, except `skip`.
    pub(super) fn reserved_bytes(&self, storage: StorageType, skip: &str) -> i64 {
        self.streams
            .values()
            .map(|entry| entry.stream.config())
            .filter(|config| config.storage == storage && config.max_bytes > 0)
            .filter(|config| config.name != skip)
            .map(|config| config.num_replicas.max(1) * config.max_bytes)
            .sum()
    }

    /// nats-server's `checkLimits`: consumers, then `add_bytes` more of the stream's storage
    /// on top of `reserved`, for the account and the server.
    pub(super) fn check_limits(
        &self,
        config: &StreamConfig,
        add_bytes: i64,
        reserved: i64,
    ) -> Result<(), JsError> {
        let max_consumers = self.limits.max_consumers;
        if config.max_consumers > 0 && max_consumers > 0 && config.max_consumers > max_consumers {
            return Err(JsError::MaximumConsumersLimit);
        }
        // Streams without max_bytes still count one byte, so an account with no storage of a
        // kind can create no stream of it.
        let add_bytes = if add_bytes < 0 { 1 } else { add_bytes };
        let total = add_bytes.saturating_mul(config.num_replicas.max(1));
        let (account_max, server_max, error) = match config.storage {
            StorageType::Memory => (
                self.limits.max_memory,
                self.server_limits.max_memory_bytes,
                JsError::MemoryResourcesExceeded,
            ),
            StorageType::File => (
                self.limits.max_storage,
                self.server_limits.max_storage_bytes,
                JsError::StorageResourcesExceeded,
            ),
        };
        if account_max >= 0 && reserved.saturating_add(total) > account_max {
            return Err(error);
        }
        if let Some(server_max) = server_max {
            let server_reserved = self.reserved_bytes(config.storage, "");
            if server_reserved.saturating_add(add_bytes) > server_max {
                return Err(error);
            }
        }
        Ok(())
    }

    /// nats-server's `maxBytesLimits`: `max_bytes` required, and the largest stream allowed.
    pub(super) fn check_max_bytes(&self, config: &StreamConfig) -> Result<(), JsError> {
        let stream_max = match config.storage {
            StorageType::Memory => self.limits.memory_max_stream_bytes,
            StorageType::File => self.limits.storage_max_stream_bytes,
        };
        if self.limits.max_bytes_required && config.max_bytes <= 0 {
            return Err(JsError::StreamMaxBytesRequired);
        }
        if stream_max > 0 && config.max_bytes > stream_max {
            return Err(JsError::StreamMaxStreamBytesExceeded);
        }
        Ok(())
    }

    /// The limits part of nats-server's `configUpdateCheck`: only growth of `max_bytes` needs
    /// room, on top of what the other streams and the old size already reserve.
    pub(super) fn check_update_limits(
        &self,
        old: &StreamConfig,
        new: &StreamConfig,
    ) -> Result<(), JsError> {
        let growth = (new.max_bytes - old.max_bytes).max(0);
        let reserved =
            self.reserved_bytes(new.storage, &new.name) + old.num_replicas * old.max_bytes;
        self.check_limits(new, growth, reserved)
    }
}
