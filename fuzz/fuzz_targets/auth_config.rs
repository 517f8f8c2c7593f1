//! Fuzzes the authorization config reader and the checks built from it: whatever the text,
//! parsing returns a config or errors, and authentication and permission checks on arbitrary
//! subjects and credentials answer without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_auth::{
    parse_auth_config, Authenticator, ClientFacts, CompiledPermissions, ConnectCredentials,
    ConnectionType, DeliveryFilter, PublishCheck, ResponseTracker, Secret,
};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

fuzz_target!(|input: &[u8]| {
    // The config text, then after a NUL byte the probes: subjects and credentials, by line.
    let (text, probes) = match input.iter().position(|&b| b == 0) {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(root) = natrium_config::parse_str_with(text, Path::new("fuzz.conf"), &NoHost) else {
        return;
    };
    let Ok(config) = parse_auth_config(&root) else {
        return;
    };
    let probes: Vec<&[u8]> = probes.split(|&b| b == b'\n').take(16).collect();
    let text_probe = |i: usize| probes.get(i).and_then(|p| std::str::from_utf8(p).ok());

    let mut all_permissions = Vec::new();
    for permissions in config
        .users
        .iter()
        .filter_map(|u| u.permissions.as_ref())
        .chain(config.nkeys.iter().filter_map(|u| u.permissions.as_ref()))
        .chain(config.default_permissions.as_ref())
    {
        all_permissions.push(Arc::new(CompiledPermissions::new(permissions)));
    }
    let start = Instant::now();
    for compiled in all_permissions {
        let mut publish = PublishCheck::new(compiled.clone());
        let mut delivery = DeliveryFilter::new(compiled.clone());
        let mut replies = compiled.response().map(ResponseTracker::new);
        for (i, subject) in probes.iter().enumerate() {
            let queue = probes.get(i + 1).copied();
            let _ = publish.check(subject);
            if compiled.subscribe_allowed(subject, queue)
                && compiled.needs_delivery_filter(subject, queue)
            {
                delivery.activate();
            }
            let _ = delivery.denies(subject, queue);
            if let Some(replies) = replies.as_mut() {
                let now = start + Duration::from_millis(i as u64 * 40_000);
                replies.record(subject, now);
                let _ = replies.try_respond(subject, now);
            }
        }
    }

    // bcrypt at a cost chosen by the input could take hours: authenticate only plain secrets.
    let any_bcrypt = config.token.as_ref().is_some_and(Secret::is_bcrypt)
        || config.password.as_ref().is_some_and(Secret::is_bcrypt)
        || config.users.iter().any(|u| u.password.is_bcrypt());
    if any_bcrypt {
        return;
    }
    let Ok(authenticator) = Authenticator::new(config) else {
        return;
    };
    let credentials = ConnectCredentials {
        user: text_probe(0),
        pass: text_probe(1),
        auth_token: text_probe(2),
        nkey: text_probe(3),
        sig: text_probe(4),
    };
    let facts = ClientFacts {
        ip: text_probe(5).and_then(|ip| ip.parse().ok()),
        connection_type: ConnectionType::Standard,
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(probes.len() as u64 * 7919 * 3600),
    };
    let _ = authenticator.authenticate(&credentials, b"nonce", &facts);
    let _ = authenticator.violation_log(&credentials);
});

/// No environment variables and no include files: the input is the whole config.
struct NoHost;

impl natrium_config::Host for NoHost {
    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }

    fn read_file(&self, _path: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no includes",
        ))
    }
}
