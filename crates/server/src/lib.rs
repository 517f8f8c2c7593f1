//! The Natrium server: the tokio shell around the protocol, sublist, auth and JetStream
//! crates. It owns every socket, task, timer and signal; the crates below it do no I/O.

pub mod account;
pub mod client;
pub mod configure;
pub mod info;
mod internal;
mod jetstream;
mod lame_duck;
pub mod log;
pub mod monitor;
pub mod options;
pub mod reload;
mod router;
mod server;
pub mod subscription;
mod system;
pub mod tls;

pub use options::{JetStreamOptions, ListenPort, Options, WebsocketOptions};
pub use server::{Server, ServerError, ServerHandle, ServerStats};
