//! JetStream as pure logic: stream and consumer state machines and the `$JS.API` request
//! handling, over the `natrium-store` message store. No sockets, no tokio: the server crate
//! delivers API requests and published messages in, and sends what comes out.
//!
//! So far: the API error catalogue, the stream configuration with nats-server's defaults and
//! validation, and a stream's publish path (dedup, expected-sequence headers, PubAck bytes).
//!
//! Consumers ([`consumer`]) live beside their stream in [`JetStreamApi`]. They are driven by
//! three kinds of input and one clock: `$JS.API.CONSUMER.*` requests, pull requests, acks and
//! flow control replies arrive through [`JetStream::handle`]; new messages through the
//! publish path; and [`JetStream::tick`] at `now` runs deliveries and timers (redelivery,
//! heartbeats, pull request expiry, inactivity). [`JetStream::next_deadline`] says when the
//! next timer is due. Whether a subject has subscribers is asked of a function the server
//! passes in, so push consumers deliver only to listeners, as nats-server's do.

pub mod api;
pub mod consumer;
pub mod engine;
pub mod errors;
pub mod headers;
pub mod stream;

pub use api::{JetStreamApi, MemoryStores, RecoveredStream, StoreProvider, Usage, API_PREFIX};
pub use engine::{EngineConfig, Inbound, Interest, JetStream, Outbound, ProviderFactory};
pub use errors::{ApiError, JsError};
pub use stream::check::{check_stream_config, ServerLimits};
pub use stream::config::{
    DiscardPolicy, ExternalStream, Placement, RePublish, RetentionPolicy, StorageType,
    StreamConfig, StreamSource,
};
pub use stream::{pub_ack, pub_ack_error, Published, Stream};
