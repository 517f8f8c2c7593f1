//! Client connections: one reader task and one writer task per socket.
//!
//! The reader parses ops straight out of its read buffer and routes each publish to
//! the subscribers' outbound buffers; the writer drains its own outbound buffer.

mod account;
mod auth;
mod close;
mod connection;
mod deliver;
mod handshake;
mod shared;
mod transport;
mod websocket;
mod writer;

pub(crate) use auth::recheck_authorization;
pub use close::CloseReason;
pub(crate) use connection::{run_client, run_websocket_client};
pub(crate) use deliver::CLUSTER_NAME;
pub(crate) use shared::Internal;
pub use shared::{ClientIdentity, ClientShared, Queued};
pub(crate) use websocket::WebsocketListener;
