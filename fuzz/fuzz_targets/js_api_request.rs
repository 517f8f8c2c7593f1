//! Arbitrary JetStream API requests and publishes against one account's JetStream in memory:
//! the first byte picks an endpoint, the rest is its body (or a published payload). Nothing
//! panics, every request to an endpoint that answers gets exactly one reply, and every
//! JSON reply parses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_jetstream::{EngineConfig, Inbound, JetStream, MemoryStores};

const SUBJECTS: &[&str] = &[
    "$JS.API.INFO",
    "$JS.API.STREAM.CREATE.S",
    "$JS.API.STREAM.UPDATE.S",
    "$JS.API.STREAM.INFO.S",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.PURGE.S",
    "$JS.API.STREAM.MSG.GET.S",
    "$JS.API.STREAM.MSG.DELETE.S",
    "$JS.API.DIRECT.GET.S",
    "$JS.API.DIRECT.GET.S.s.a",
    "$JS.API.STREAM.DELETE.S",
    "s.a",
    "S",
];

fuzz_target!(|data: &[u8]| {
    let mut engine = JetStream::new(EngineConfig::default(), Box::new(|_| Ok(MemoryStores)));
    engine.enable_account("$G").expect("memory stores always open");
    let mut out = Vec::new();
    let account: std::sync::Arc<str> = "$G".into();
    // Requests are separated by 0xff; each starts with its subject's index.
    for (now, request) in data.split(|&b| b == 0xff).enumerate() {
        let Some((&pick, body)) = request.split_first() else {
            continue;
        };
        let subject = SUBJECTS[usize::from(pick) % SUBJECTS.len()];
        let message = Inbound {
            account: &account,
            subject,
            reply: Some("_INBOX.r"),
            headers: b"",
            payload: body,
        };
        out.clear();
        engine.handle(message, now as i64 * 1_000_000_000, &mut out);
        let replies: Vec<_> = out.iter().filter(|o| &*o.deliver == "_INBOX.r").collect();
        assert!(replies.len() <= 1, "{subject}: {} replies", replies.len());
        for reply in replies.iter().filter(|reply| reply.headers.is_empty()) {
            serde_json::from_slice::<serde_json::Value>(&reply.payload).expect("JSON reply");
        }
        for ticket in engine.sync() {
            ticket.wait().expect("memory stores sync");
        }
    }
});
