//! What monitoring's `/jsz` details of one account: each stream's state, and optionally its
//! configuration and consumers (nats-server's `StreamDetail`). Building it is not an API
//! request: nothing is counted or audited.

use super::JetStreamApi;
use crate::provider::StoreProvider;
use natrium_gofmt::rfc3339_or_zero as rfc3339_nanos;
use serde_json::Value;

impl<P: StoreProvider> JetStreamApi<P> {
    /// Every stream of the account as `/jsz?streams=1` lists it, with its configuration
    /// when `config`, and its consumers' infos when `consumers` (their configurations too only
    /// with `config`, as nats-server does).
    pub fn stream_details(&mut self, config: bool, consumers: bool) -> Vec<Value> {
        let names: Vec<String> = self.streams.keys().cloned().collect();
        let mut details = Vec::with_capacity(names.len());
        for name in names {
            let Some(entry) = self.streams.get(&name) else {
                continue;
            };
            let info = self.info(entry);
            let mut detail = serde_json::json!({
                "name": name,
                "created": rfc3339_nanos(entry.created),
                "state": info.state,
            });
            if config {
                detail["config"] = serde_json::to_value(&info.config).unwrap_or(Value::Null);
            }
            if let Some(mirror) = &info.mirror {
                detail["mirror"] = serde_json::to_value(mirror).unwrap_or(Value::Null);
            }
            if !info.sources.is_empty() {
                detail["sources"] = serde_json::to_value(&info.sources).unwrap_or(Value::Null);
            }
            if consumers {
                let Some(entry) = self.streams.get_mut(&name) else {
                    continue;
                };
                let store = entry.stream.store();
                let infos: Vec<Value> = entry
                    .consumers
                    .iter_mut()
                    .map(|consumer| {
                        let mut info =
                            serde_json::to_value(consumer.info(store)).unwrap_or(Value::Null);
                        if !config {
                            if let Some(object) = info.as_object_mut() {
                                object.remove("config");
                            }
                        }
                        info
                    })
                    .collect();
                if !infos.is_empty() {
                    detail["consumer_detail"] = Value::Array(infos);
                }
            }
            details.push(detail);
        }
        details
    }
}
