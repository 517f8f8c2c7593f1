//! JetStream as pure logic: stream and consumer state machines and the `$JS.API` request
//! handling, over the `natrium-store` message store. No sockets, no tokio: the server crate
//! delivers API requests and published messages in, and sends what comes out.
//!
//! - [`engine`]: the server-wide entry point ([`JetStream`]: accounts, interest, handle, tick,
//!   sync).
//! - [`api`]: one account's streams and its `$JS.API` endpoints, one concern per file.
//! - [`stream`]: configuration, `checkStreamCfg`, update rules, the publish path.
//! - [`consumer`]: consumers as state machines beside their stream (see below).
//! - [`provider`]: where streams keep messages ([`FileStores`], [`MemoryStores`]).
//! - [`errors`]: the API error catalogue; [`headers`]: NATS header blocks; [`time`]: RFC 3339.
//!
//! Consumers live beside their stream in [`JetStreamApi`]. They are driven by three kinds of
//! input and one clock: `$JS.API.CONSUMER.*` requests, pull requests, acks and flow control
//! replies arrive through [`JetStream::handle`]; new messages through the publish path; and
//! [`JetStream::tick`] at `now` runs deliveries and timers (redelivery, heartbeats, pull
//! request expiry, inactivity). [`JetStream::next_deadline`] says when the next timer is due.
//! Whether a subject has subscribers is asked of a function the server passes in, so push
//! consumers deliver only to listeners, as nats-server's do.
//!
//! See the crate README for what the server must do with it and the compatibility choices.

pub mod api;
pub mod consumer;
pub mod engine;
pub mod errors;
pub mod headers;
pub mod provider;
pub mod stream;
pub mod time;

pub use api::{JetStreamApi, Usage, API_PREFIX};
pub use engine::{EngineConfig, Inbound, Interest, JetStream, Outbound, ProviderFactory};
pub use errors::{ApiError, JsError};
pub use provider::{FileStores, MemoryStores, RecoveredStream, SkippedStream, StoreProvider};
pub use stream::check::{check_stream_config, ServerLimits};
pub use stream::config::{
    Compression, DiscardPolicy, ExternalStream, Placement, RePublish, RetentionPolicy, StorageType,
    StreamConfig, StreamSource, SubjectTransform,
};
pub use stream::{pub_ack, pub_ack_error, Published, Stream};
