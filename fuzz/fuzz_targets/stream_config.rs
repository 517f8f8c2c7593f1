//! A stream create request body on arbitrary bytes: parsing and checking never panic, and a
//! checked configuration survives a JSON round trip and a second check unchanged. The same
//! bytes as a header block: JetStream's header reader never panics and values it returns
//! are slices of the block.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_jetstream::{check_stream_config, headers, ServerLimits, StreamConfig};

fuzz_target!(|data: &[u8]| {
    for key in [headers::MSG_ID, headers::EXPECTED_LAST_SEQUENCE, headers::EXPECTED_STREAM] {
        if let Some(value) = headers::get(data, key) {
            let range = data.as_ptr_range();
            assert!(range.contains(&value.as_ptr()) || value.is_empty());
        }
        let _ = headers::get_u64(data, key);
    }
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
