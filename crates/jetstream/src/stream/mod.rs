//! Streams: their configuration, and the state machine that turns publishes into stored
//! messages and acknowledgements.

pub mod check;
pub mod config;
mod dedup;
mod publish;
pub mod republish;
pub mod sourcing;
pub mod transform;
pub mod update;

pub use dedup::DedupWindow;
pub use publish::{pub_ack, pub_ack_error, store_config, BoxedStore, Published, Stream};
