//! JetStream through a real client (async-nats's `jetstream` module): enablement, the stream
//! API, publishing with acknowledgements, and restarts.

#[path = "../common/mod.rs"]
mod common;

mod enable;

mod acks;
mod consumer_bad_input;
mod consumer_support;
mod crash;
mod limits;
mod ordered;
mod pull;
mod push;
mod retention;

use common::TestServer;
use tempfile::TempDir;

/// A JetStream server over a fresh store directory, removed when dropped.
pub struct JsServer {
    pub server: TestServer,
    pub store: TempDir,
}

impl JsServer {
    /// Starts a server with `-js -sd <tmp>` and `extra_args`.
    pub async fn start(extra_args: &[&str]) -> JsServer {
        let store = tempfile::tempdir().expect("temporary store directory");
        let dir = store.path().to_str().expect("utf-8 path").to_string();
        let mut args = vec!["-js", "-sd", &dir];
        args.extend_from_slice(extra_args);
        let server = TestServer::start_with(&args).await;
        JsServer { server, store }
    }

    /// A client and its JetStream context.
    pub async fn context(&self) -> (async_nats::Client, async_nats::jetstream::Context) {
        let client = self.server.connect().await;
        let context = async_nats::jetstream::new(client.clone());
        (client, context)
    }
}
mod advisories;
mod bad_input;
mod encryption;
mod kv;
mod mirrors;
mod object;
mod publish;
mod requests;
mod restart;
mod snapshot;
mod streams;
