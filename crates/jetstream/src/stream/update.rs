//! Which changes a stream update may make, as nats-server 2.9's `configUpdateCheck` decides,
//! for the parts that need no account state (limits and subject overlap are the API's).

use super::config::{DiscardPolicy, StreamConfig};
use crate::errors::JsError;

fn invalid(message: &str) -> JsError {
    JsError::StreamInvalidConfig(message.to_string())
}

/// The error of the first rule that refuses, if any.
fn first_refusal(rules: &[(bool, &str)]) -> Result<(), JsError> {
    match rules.iter().find(|(refused, _)| *refused) {
        Some((_, message)) => Err(invalid(message)),
        None => Ok(()),
    }
}

/// Checks `new` (already through [`check_stream_config`](super::check::check_stream_config))
/// against the stream's current configuration `old`, and returns it with the adjustments a
/// seal implies, or the error nats-server gives.
pub fn check_update(old: &StreamConfig, new: StreamConfig) -> Result<StreamConfig, JsError> {
    let mut cfg = new;
    // In nats-server's order: the first change that is refused names the error.
    let refused_before_mirror = [
        (
            cfg.name != old.name,
            "stream configuration name must match original",
        ),
        (
            cfg.max_consumers != old.max_consumers,
            "stream configuration update can not change MaxConsumers",
        ),
        (
            cfg.storage != old.storage,
            "stream configuration update can not change storage type",
        ),
        (
            cfg.retention != old.retention,
            "stream configuration update can not change retention policy",
        ),
        (
            !cfg.sealed && old.sealed,
            "stream configuration update can not unseal a sealed stream",
        ),
        (
            !cfg.deny_delete && old.deny_delete,
            "stream configuration update can not cancel deny message deletes",
        ),
        (
            !cfg.deny_purge && old.deny_purge,
            "stream configuration update can not cancel deny purge",
        ),
    ];
    first_refusal(&refused_before_mirror)?;
    if cfg.mirror != old.mirror {
        return Err(JsError::StreamMirrorNotUpdatable);
    }
    // nats-server 2.10 keeps the starting sequence and the compression of blocks already
    // written; Natrium's store cannot recompress in place, so it refuses the change instead.
    let refused_after_mirror = [
        (
            cfg.republish != old.republish,
            "stream configuration update can not change RePublish",
        ),
        (
            cfg.first_seq != old.first_seq,
            "stream configuration update can not change first sequence",
        ),
        (
            cfg.compression != old.compression,
            "stream configuration update can not change compression",
        ),
    ];
    first_refusal(&refused_after_mirror)?;
    if cfg.sealed {
        // A sealed stream keeps everything it holds, forever.
        cfg.max_age = 0;
        cfg.discard = DiscardPolicy::New;
        cfg.deny_delete = true;
        cfg.deny_purge = true;
        cfg.allow_rollup_hdrs = false;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::check::{check_stream_config, ServerLimits};

    fn config(json: &str) -> StreamConfig {
        let parsed: StreamConfig = serde_json::from_str(json).unwrap();
        check_stream_config(&parsed, &ServerLimits::default()).unwrap()
    }

    #[test]
    fn only_the_changes_nats_server_allows() {
        let old = config(
            r#"{"name":"S","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"}}"#,
        );
        let allowed = [
            r#"{"name":"S","subjects":["s.>","t"],"deny_delete":true,"republish":{"dest":"r.>"},"max_msgs":5,"description":"d"}"#,
            r#"{"name":"S","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"},"sources":[{"name":"O"}]}"#,
        ];
        for json in allowed {
            assert!(check_update(&old, config(json)).is_ok(), "{json}");
        }
        let refused: &[(&str, JsError)] = &[
            (
                r#"{"name":"T","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"}}"#,
                invalid("stream configuration name must match original"),
            ),
            (
                r#"{"name":"S","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"},"max_consumers":3}"#,
                invalid("stream configuration update can not change MaxConsumers"),
            ),
            (
                r#"{"name":"S","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"},"storage":"memory"}"#,
                invalid("stream configuration update can not change storage type"),
            ),
            (
                r#"{"name":"S","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"},"retention":"interest"}"#,
                invalid("stream configuration update can not change retention policy"),
            ),
            (
                r#"{"name":"S","subjects":["s.>"],"republish":{"dest":"r.>"}}"#,
                invalid("stream configuration update can not cancel deny message deletes"),
            ),
            (
                r#"{"name":"S","subjects":["s.>"],"deny_delete":true}"#,
                invalid("stream configuration update can not change RePublish"),
            ),
            (
                r#"{"name":"S","subjects":["s.>"],"deny_delete":true,"republish":{"dest":"r.>"},"compression":"s2"}"#,
                invalid("stream configuration update can not change compression"),
            ),
        ];
        for (json, expected) in refused {
            assert_eq!(
                check_update(&old, config(json)).as_ref(),
                Err(expected),
                "{json}"
            );
        }
        let mirror = config(r#"{"name":"M","mirror":{"name":"O"}}"#);
        let moved = config(r#"{"name":"M","mirror":{"name":"P"}}"#);
        assert_eq!(
            check_update(&mirror, moved),
            Err(JsError::StreamMirrorNotUpdatable)
        );
    }

    #[test]
    fn sealing_is_one_way_and_locks_the_stream() {
        let old = config(r#"{"name":"S","max_age":60000000000,"allow_rollup_hdrs":true}"#);
        let sealed = check_update(
            &old,
            config(r#"{"name":"S","max_age":60000000000,"allow_rollup_hdrs":true,"sealed":true}"#),
        )
        .unwrap();
        assert!(sealed.sealed && sealed.deny_delete && sealed.deny_purge);
        assert!(!sealed.allow_rollup_hdrs);
        assert_eq!((sealed.max_age, sealed.discard), (0, DiscardPolicy::New));
        assert_eq!(
            check_update(
                &sealed,
                config(r#"{"name":"S","deny_delete":true,"deny_purge":true}"#)
            ),
            Err(invalid(
                "stream configuration update can not unseal a sealed stream"
            ))
        );
    }
}
