//! Consumers end to end through the engine: requests, publishes, acks and ticks in; the
//! exact messages out. One harness; each test names the nats-server behaviour it pins.

use crate::api::MemoryStores;
use crate::engine::{EngineConfig, Inbound, JetStream, Outbound};
use serde_json::{json, Value};
use std::collections::BTreeSet;

mod acks;
mod lifecycle;
mod pull;
mod push;
mod restart;
mod retention;
mod unit;

pub(super) const NOW: i64 = 1_764_165_000_000_000_000;
pub(super) const SECOND: i64 = 1_000_000_000;

pub(super) struct Harness<P: crate::api::StoreProvider = MemoryStores> {
    pub(super) engine: JetStream<P>,
    pub(super) now: i64,
    /// Subjects with subscribers; `_INBOX.` replies always have one.
    pub(super) listening: BTreeSet<String>,
}

pub(super) fn harness() -> Harness {
    let mut engine = JetStream::new(EngineConfig::default(), Box::new(|_| Ok(MemoryStores)));
    engine.enable_account("$G").unwrap();
    Harness {
        engine,
        now: NOW,
        listening: BTreeSet::new(),
    }
}

impl<P: crate::api::StoreProvider> Harness<P> {
    pub(super) fn send(
        &mut self,
        subject: &str,
        reply: Option<&str>,
        payload: &[u8],
    ) -> Vec<Outbound> {
        let mut out = Vec::new();
        let message = Inbound {
            account: crate::engine::account_name("$G"),
            subject,
            reply,
            headers: b"",
            payload,
        };
        self.engine.handle(message, self.now, &mut out);
        out.extend(self.tick());
        out
    }

    pub(super) fn tick(&mut self) -> Vec<Outbound> {
        let mut out = Vec::new();
        let listening = self.listening.clone();
        let interest = move |_: &str, subject: &str| {
            subject.starts_with("_INBOX.") || listening.contains(subject)
        };
        self.engine.tick(self.now, &interest, &mut out);
        for ticket in self.engine.sync() {
            ticket.wait().expect("writes are durable");
        }
        out
    }

    /// Moves time on and ticks.
    pub(super) fn advance(&mut self, nanos: i64) -> Vec<Outbound> {
        self.now += nanos;
        self.tick()
    }

    /// An API request; returns the response body and anything else sent.
    pub(super) fn api(&mut self, subject: &str, body: Value) -> (Value, Vec<Outbound>) {
        let body = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).unwrap()
        };
        let mut out = self.send(subject, Some("_INBOX.api"), &body);
        let index = out
            .iter()
            .position(|m| &*m.deliver == "_INBOX.api")
            .unwrap_or_else(|| panic!("{subject}: no response"));
        let response = out.remove(index);
        (serde_json::from_slice(&response.payload).unwrap(), out)
    }

    pub(super) fn stream(&mut self, config: Value) {
        let name = config["name"].as_str().unwrap().to_string();
        let (response, _) = self.api(&format!("$JS.API.STREAM.CREATE.{name}"), config);
        assert!(response.get("error").is_none(), "{response}");
    }

    pub(super) fn publish(&mut self, subject: &str, payload: &str) -> Vec<Outbound> {
        self.send(subject, None, payload.as_bytes())
    }

    /// Creates a consumer with the 2.9 named form; returns the response and other output.
    pub(super) fn create(
        &mut self,
        stream: &str,
        name: &str,
        config: Value,
    ) -> (Value, Vec<Outbound>) {
        self.api(
            &format!("$JS.API.CONSUMER.CREATE.{stream}.{name}"),
            json!({"stream_name": stream, "config": config}),
        )
    }

    pub(super) fn info(&mut self, stream: &str, name: &str) -> Value {
        self.api(
            &format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
            Value::Null,
        )
        .0
    }

    pub(super) fn pull(
        &mut self,
        stream: &str,
        name: &str,
        reply: &str,
        request: Value,
    ) -> Vec<Outbound> {
        let body = if request.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&request).unwrap()
        };
        self.send(
            &format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}"),
            Some(reply),
            &body,
        )
    }

    pub(super) fn ack(
        &mut self,
        delivery: &Outbound,
        body: &str,
        reply: Option<&str>,
    ) -> Vec<Outbound> {
        let subject = delivery
            .reply
            .clone()
            .expect("a delivery has an ack subject");
        self.send(&subject, reply, body.as_bytes())
    }
}

/// Deliveries (messages with an ack subject) among `out`.
pub(super) fn deliveries(out: &[Outbound]) -> Vec<&Outbound> {
    out.iter()
        .filter(|m| {
            m.reply
                .as_deref()
                .is_some_and(|r| r.starts_with("$JS.ACK."))
        })
        .collect()
}

pub(super) fn payloads(out: &[Outbound]) -> Vec<String> {
    deliveries(out)
        .iter()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect()
}

pub(super) fn statuses(out: &[Outbound]) -> Vec<String> {
    out.iter()
        .filter(|m| {
            m.headers.starts_with(b"NATS/1.0 ") && m.payload.is_empty() && m.reply.is_none()
        })
        .map(|m| String::from_utf8_lossy(&m.headers).into_owned())
        .collect()
}

pub(super) fn orders(h: &mut Harness) {
    h.stream(json!({"name": "ORDERS", "subjects": ["orders.>"], "storage": "memory"}));
}
