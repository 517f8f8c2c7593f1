//! Config parsing as data: `authorization` blocks into `AuthConfig`, and the errors (with
//! positions) nats-server's `parseAuthorization`/`parseUsers`/`parseUserPermissions` give.

use natrium_auth::{
    parse_auth_config, AuthConfig, ConnectionType, Permissions, ResponsePermission, Secret,
    SubjectPermission,
};
use std::path::Path;
use std::time::Duration;

fn parse(text: &str) -> Result<AuthConfig, Vec<String>> {
    let root = natrium_config::parse_str(text, Path::new("a.conf")).unwrap();
    parse_auth_config(&root).map_err(|errors| errors.iter().map(|e| e.to_string()).collect())
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A config text and a check on what it parses into.
type OkCase<'a> = (&'a str, &'a dyn Fn(&AuthConfig));

fn check_ok(cases: &[OkCase<'_>]) {
    for (text, verify) in cases {
        let config = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        verify(&config);
    }
}

/// (config, expected error lines)
fn check_err(cases: &[(&str, &[&str])]) {
    let mut failures = Vec::new();
    for (text, expected) in cases {
        match parse(text) {
            Ok(config) => failures.push(format!("{text}: parsed as {config:?}")),
            Err(errors) if errors != strings(expected) => failures.push(format!(
                "{text}\n  got:      {errors:?}\n  expected: {expected:?}"
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sample_blocks() {
    check_ok(&[
        ("", &|c| assert_eq!(*c, AuthConfig::default())),
        (
            "authorization { user: derek, password: T0pS3cr3t, timeout: 1.5 }",
            &|c| {
                assert_eq!(c.username.as_deref(), Some("derek"));
                assert_eq!(c.password, Some(Secret::Plain("T0pS3cr3t".into())));
                assert_eq!(c.auth_timeout, Some(Duration::from_millis(1500)));
                assert!(c.auth_required() && c.has_plaintext_passwords());
            },
        ),
        (
            "AUTHORIZATION { Token: '$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS', timeout: 3 }",
            &|c| {
                assert!(c.token.as_ref().is_some_and(Secret::is_bcrypt));
                assert_eq!(c.auth_timeout, Some(Duration::from_secs(3)));
            },
        ),
        // Any other type for timeout is 1 second in nats-server.
        ("authorization { token: t, timeout: \"x\" }", &|c| {
            assert_eq!(c.auth_timeout, Some(Duration::from_secs(1)))
        }),
        // A password alone requires no authentication in nats-server.
        ("authorization { password: lonely }", &|c| assert!(!c.auth_required())),
        (
            "authorization {
                default_permissions = { publish = \"SANDBOX.*\", subscribe = [\"PUBLIC.>\", \"_INBOX.>\"] }
                users = [
                    {user: alice, password: foo, permissions: {
                        publish: {allow: [\"req.>\"], deny: \"req.admin\"}
                        subscribe: {deny: [\"secret.*\", \"work.> workers\"]}
                        allow_responses: {max: 5, expires: \"1m\"}
                    }}
                    {user: bob, pass: bar, clients: [\"STANDARD\", mqtt]}
                ]
            }
            no_auth_user: bob",
            &|c| {
                let alice = &c.users[0];
                assert_eq!(
                    alice.permissions,
                    Some(Permissions {
                        publish: SubjectPermission {
                            allow: Some(strings(&["req.>"])),
                            deny: strings(&["req.admin"]),
                        },
                        subscribe: SubjectPermission {
                            allow: None,
                            deny: strings(&["secret.*", "work.> workers"]),
                        },
                        response: Some(ResponsePermission {
                            max_msgs: Some(5),
                            expires: Some(Duration::from_secs(60)),
                        }),
                    })
                );
                let bob = &c.users[1];
                let defaults = c.default_permissions.clone().unwrap();
                assert_eq!(bob.permissions.as_ref(), Some(&defaults));
                assert_eq!(defaults.publish.allow, Some(strings(&["SANDBOX.*"])));
                assert_eq!(
                    bob.restrictions.allowed_connection_types,
                    [ConnectionType::Standard, ConnectionType::Mqtt]
                );
                assert_eq!(c.no_auth_user.as_deref(), Some("bob"));
            },
        ),
        (
            "authorization { users: [ {user: a, password: b, permissions: {allow_responses: true}} ] }",
            &|c| {
                let p = c.users[0].permissions.as_ref().unwrap();
                assert_eq!(p.response, Some(ResponsePermission::default()));
                assert_eq!(p.publish.allow, Some(Vec::new()));
            },
        ),
        (
            "authorization { users: [ {user: a, password: b, permissions: {allow_responses: {max: -1, ttl: \"-1s\"}}} ] }",
            &|c| {
                let p = c.users[0].permissions.as_ref().unwrap();
                assert_eq!(
                    p.response,
                    Some(ResponsePermission {
                        max_msgs: None,
                        expires: None
                    })
                );
            },
        ),
        (
            "authorization { users: [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4} ] }",
            &|c| {
                assert_eq!(c.nkeys.len(), 1);
                assert!(c.users.is_empty() && c.nonce_required());
            },
        ),
        (
            "authorization { users: [ {user: a, password: b, src: [\"10.0.0.0/8\", \"::1\"],
                 times: {start: \"22:00:00\", end: \"06:00:00\"}, time_zone: \"+02:00\"} ] }",
            &|c| {
                let r = &c.users[0].restrictions;
                assert_eq!(r.source_networks.allow.len(), 2);
                let times = r.connect_times.as_ref().unwrap();
                assert_eq!(times.windows.len(), 1);
                assert_eq!(times.zone.name(), "+02:00");
            },
        ),
    ]);
}

#[test]
fn errors_with_positions() {
    // A quoted string's position is just after its opening quote, as in nats-server's lexer.
    check_err(&[
        (
            "authorization { user: a, token: t }",
            &["a.conf:1:15: Cannot have a user/pass and token"],
        ),
        (
            "authorization {\n  user: a\n  users: [{user: b}]\n}",
            &["a.conf:1:15: Can not have a single user/pass and a users array"],
        ),
        (
            "authorization { token: t, users: [{user: b}] }",
            &["a.conf:1:15: Can not have a token and a users array"],
        ),
        (
            "authorization { users: [{user: b}, {user: b}] }",
            &["a.conf:1:15: Duplicate user \"b\" detected"],
        ),
        ("authorization { users: 5 }", &["a.conf:1:24: Expected users field to be an array, got 5"]),
        (
            "authorization { users: [ x ] }",
            &["a.conf:1:26: Expected user entry to be a map/struct, got x"],
        ),
        (
            "authorization { users: [ {password: p} ] }",
            &["a.conf:1:26: User entry requires a user"],
        ),
        (
            "authorization { users: [ {nkey: UBAD} ] }",
            &["a.conf:1:26: Not a valid public nkey for a user"],
        ),
        (
            "authorization { users: [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, password: x} ] }",
            &["a.conf:1:26: Nkey users do not take usernames or passwords"],
        ),
        (
            "authorization {\n  users: [ {user: a, color: red} ]\n  colour: blue\n}",
            &["a.conf:2:22: unknown field \"color\"", "a.conf:3:3: unknown field \"colour\""],
        ),
        (
            "authorization { permissions: { publish: 5 } }",
            &["a.conf:1:41: Expected subject permissions to be a subject, or array of subjects, got int64"],
        ),
        (
            "authorization { permissions: { publish: [\"a\", 5 ] } }",
            &["a.conf:1:47: Subject in permissions array cannot be cast to string"],
        ),
        (
            "authorization { permissions: { publish: \"a..b\" } }",
            &["a.conf:1:42: subject \"a..b\" is not a valid subject"],
        ),
        (
            "authorization { permissions: { subscribe: \"a..b q\" } }",
            &["a.conf:1:44: subject \"a..b\" is not a valid subject"],
        ),
        (
            "authorization { permissions: { subscribe: \"a q r\" } }",
            &["a.conf:1:44: subject \"a q r\" is not a valid subject"],
        ),
        (
            "authorization { permissions: { publish: { allow: a, except: b } } }",
            &["a.conf:1:61: Unknown field name \"except\" parsing subject permissions, only 'allow' or 'deny' are permitted"],
        ),
        (
            "authorization { permissions: { publish: a, listen: b } }",
            &["a.conf:1:52: Unknown field \"listen\" parsing permissions"],
        ),
        (
            "authorization { permissions: 5 }",
            &["a.conf:1:30: Expected permissions to be a map/struct, got 5"],
        ),
        (
            "authorization { permissions: { allow_responses: \"yes\" } }",
            &["a.conf:1:50: error parsing response permissions, expected a boolean or a map"],
        ),
        (
            "authorization { permissions: { allow_responses: { expires: 5 } } }",
            &["a.conf:1:60: error parsing expires, not a duration string"],
        ),
        (
            "authorization { permissions: { allow_responses: { expires: \"5x\" } } }",
            &["a.conf:1:61: error parsing expires: time: unknown unit \"x\" in duration \"5x\""],
        ),
        (
            "authorization { users: [ {user: a, clients: [\"STANDARD\", \"carrier_pigeon\"]} ] }",
            &["a.conf:1:45: invalid connection types [\"CARRIER_PIGEON\"]"],
        ),
        (
            "no_auth_user: ghost\nauthorization { users: [ {user: a} ] }",
            &["a.conf:1:15: no_auth_user: \"ghost\" not present as user in authorization block or account configuration"],
        ),
        (
            "no_auth_user: ghost",
            &["a.conf:1:15: no_auth_user: \"ghost\" present, but users are not defined"],
        ),
        (
            "authorization { users: [ {user: a, src: [\"10.0.0.0/33\"]} ] }",
            &["a.conf:1:43: error parsing src: invalid CIDR address: 10.0.0.0/33"],
        ),
        (
            "authorization { users: [ {user: a, times: [{start: \"8:00\", end: \"17:00:00\"}]} ] }",
            &["a.conf:1:44: error parsing times: invalid time \"8:00\", expected HH:MM:SS"],
        ),
        (
            "authorization { users: [ {user: a, time_zone: \"Mars/Olympus\"} ] }",
            &["a.conf:1:48: error parsing times: unknown time zone \"Mars/Olympus\""],
        ),
        (
            "authorization { user: 5 }",
            &["a.conf:1:23: expected string, got integer"],
        ),
    ]);
}

/// A listener's `authorization` (the websocket block's): `parseSimpleAuth`'s keys only, and
/// the override it makes of the main settings.
#[test]
fn listener_authorization_overrides_single_user_token_and_no_auth_user() {
    let block = |text: &str| {
        let root = natrium_config::parse_str(text, Path::new("a.conf")).unwrap();
        let value = &root.as_map().unwrap().iter().next().unwrap().value;
        natrium_auth::parse_listener_authorization(value)
            .map_err(|errors| errors.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    };
    let auth = block("a { user: web, password: pw, timeout: 3 }").unwrap();
    assert_eq!(auth.username.as_deref(), Some("web"));
    assert_eq!(auth.auth_timeout, Some(Duration::from_secs(3)));
    assert!(auth.overrides());
    let password_only = block("a { password: pw }").unwrap();
    assert!(
        !password_only.overrides(),
        "a password alone overrides nothing"
    );
    assert_eq!(
        block("a { users: [] }").unwrap_err(),
        ["a.conf:1:5: unknown field \"users\""]
    );

    let main = parse("authorization { token: main, users: [{user: a, password: b}] }");
    // The combination is refused for the main block; build one by hand instead.
    assert!(main.is_err());
    let main = parse("authorization { users: [{user: a, password: b}] }").unwrap();
    let listener = natrium_auth::ListenerAuth {
        no_auth_user: Some("a".into()),
        ..block("a { token: t }").unwrap()
    };
    let applied = listener.apply_to(&main);
    assert_eq!(applied.users, main.users);
    assert_eq!(applied.token, Some(Secret::Plain("t".into())));
    assert_eq!(applied.no_auth_user.as_deref(), Some("a"));
    assert!(applied.auth_required());
}
