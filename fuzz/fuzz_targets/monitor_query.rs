//! Monitoring query strings on arbitrary bytes: decoding and every endpoint's option
//! parsing return options or a 400 text, never panic, and a `cid` always limits the page
//! to one connection.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_server::monitor::connz::ConnzOptions;
use natrium_server::monitor::query::Query;
use natrium_server::monitor::subsz::SubszOptions;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let query = Query::parse(Some(&raw));
    if let Ok(options) = ConnzOptions::from_query(&query) {
        assert!(options.limit > 0);
        if options.cid > 0 {
            assert_eq!(options.limit, 1);
        }
    }
    if let Ok(options) = SubszOptions::from_query(&query) {
        assert!(options.limit > 0);
    }
    for name in ["auth", "subs", "unused", "js-enabled-only"] {
        let _ = query.bool(name);
    }
});
