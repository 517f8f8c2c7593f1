//! A stream create request body on arbitrary bytes: parsing and checking never panic, and a
//! checked configuration survives a JSON round trip and a second check unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_jetstream::{check_stream_config, ServerLimits, StreamConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(config) = serde_json::from_slice::<StreamConfig>(data) else {
        return;
    };
    let limits = ServerLimits::default();
    let Ok(checked) = check_stream_config(&config, &limits) else {
        return;
    };
    let json = serde_json::to_vec(&checked).expect("a checked config serializes");
    let reparsed: StreamConfig = serde_json::from_slice(&json).expect("our own JSON parses");
    assert_eq!(reparsed, checked);
    assert_eq!(check_stream_config(&reparsed, &limits), Ok(checked));
});
