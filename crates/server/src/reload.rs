//! Config reload: which options may change on a running server, as nats-server decides.
//! Subject mappings may (nats-server replaces an account's mappings wholesale).

use crate::options::Options;

/// Checks that `new` differs from `old` only in options nats-server can change live; the
/// error names the first one that cannot, in nats-server's words and field names.
pub fn check_reloadable(old: &Options, new: &Options) -> Result<(), String> {
    let fixed: [(&str, String, String); 12] = [
        ("Host", old.host.clone(), new.host.clone()),
        ("Port", format!("{:?}", old.port), format!("{:?}", new.port)),
        (
            "ServerName",
            old.server_name.clone(),
            new.server_name.clone(),
        ),
        (
            "MaxPending",
            old.max_pending.to_string(),
            new.max_pending.to_string(),
        ),
        (
            "MaxSubs",
            old.max_subscriptions.to_string(),
            new.max_subscriptions.to_string(),
        ),
        (
            "NoHeaderSupport",
            (!old.headers).to_string(),
            (!new.headers).to_string(),
        ),
        ("HTTPHost", old.http_host.clone(), new.http_host.clone()),
        (
            "HTTPPort",
            format!("{:?}", old.http_port),
            format!("{:?}", new.http_port),
        ),
        (
            "HTTPSPort",
            format!("{:?}", old.https_port),
            format!("{:?}", new.https_port),
        ),
        (
            "HTTPBasePath",
            old.http_base_path.clone(),
            new.http_base_path.clone(),
        ),
        (
            "SystemAccount",
            old.system_account.clone().unwrap_or_default(),
            new.system_account.clone().unwrap_or_default(),
        ),
        (
            "NoSystemAccount",
            old.no_system_account.to_string(),
            new.no_system_account.to_string(),
        ),
    ];
    for (field, before, after) in fixed {
        if before != after {
            return Err(format!(
                "config reload not supported for {field}: old={before}, new={after}"
            ));
        }
    }
    // Natrium starts and stops JetStream only with the process. The values are not shown:
    // they include the encryption key.
    if old.jetstream != new.jetstream {
        return Err("config reload not supported for JetStream".to_string());
    }
    // The websocket listener keeps the options it started with.
    if old.websocket != new.websocket {
        return Err("config reload not supported for Websocket".to_string());
    }
    if new.max_payload > new.max_pending {
        return Err(format!(
            "max_payload ({}) cannot be higher than max_pending ({})",
            new.max_payload, new.max_pending
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ListenPort;
    use std::time::Duration;

    #[test]
    fn live_options_reload_and_fixed_ones_refuse() {
        let old = Options::default();
        // nats-server replaces an account's mappings on reload.
        let mut mappings = natrium_subject::mapping::Mappings::new();
        let to_bar = natrium_subject::mapping::MapDestination::always("bar");
        mappings.add(natrium_subject::mapping::Mapping::new("foo", &[to_bar]).unwrap());
        let live = Options {
            mappings,
            debug: true,
            trace: true,
            max_payload: 2048,
            max_connections: 10,
            ping_interval: Duration::from_secs(5),
            write_deadline: Duration::from_secs(1),
            ..Options::default()
        };
        assert_eq!(check_reloadable(&old, &live), Ok(()));
        let moved = Options {
            port: ListenPort::Fixed(4333),
            ..Options::default()
        };
        assert_eq!(
            check_reloadable(&old, &moved),
            Err("config reload not supported for Port: old=Fixed(4222), new=Fixed(4333)".into())
        );
    }
}
