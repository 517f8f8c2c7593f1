//! CONNECT authentication as data: a config, then (credentials, client facts, outcome) rows.
//! Pins nats-server's `processClientOrLeafAuthentication` (auth.go) and Natrium's `src`/`times`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use natrium_auth::{
    nonce_from_random, parse_auth_config, AuthError, Authenticator, ClientFacts,
    ConnectCredentials, ConnectionType, Identity,
};
use nkeys::{KeyPair, KeyPairType};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// 2024-01-15T12:00:00Z.
const NOON_UTC: u64 = 1_705_320_000;
const NONCE: &[u8] = b"PXoWU7zWAMt75FY";

/// A deterministic user key (seeded, so a failure replays exactly).
fn user_key(seed: u8) -> KeyPair {
    KeyPair::new_from_raw(KeyPairType::User, [seed; 32]).unwrap()
}

fn sign(key: &KeyPair, nonce: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(key.sign(nonce).unwrap())
}

/// A bcrypt hash with a fixed salt and the lowest cost, so tests are fast and reproducible.
fn bcrypt_of(password: &str) -> String {
    bcrypt::hash_with_salt(password, 4, [7; 16])
        .unwrap()
        .to_string()
}

#[derive(Default)]
struct Connect {
    user: Option<String>,
    pass: Option<String>,
    token: Option<String>,
    nkey: Option<String>,
    sig: Option<String>,
    ip: Option<&'static str>,
    kind: Option<ConnectionType>,
    at: Option<u64>,
}

fn user(name: &str, pass: &str) -> Connect {
    Connect {
        user: Some(name.into()),
        pass: Some(pass.into()),
        ..Connect::default()
    }
}

fn token(token: &str) -> Connect {
    Connect {
        token: Some(token.into()),
        ..Connect::default()
    }
}

fn nkey(key: &KeyPair, sig: Option<String>) -> Connect {
    Connect {
        nkey: Some(key.public_key()),
        sig,
        ..Connect::default()
    }
}

fn check(config: &str, rows: Vec<(&str, Connect, Result<Identity, AuthError>)>) {
    let root = natrium_config::parse_str(config, Path::new("test.conf")).unwrap();
    let parsed = parse_auth_config(&root).unwrap_or_else(|e| panic!("{config}: {e:?}"));
    let authenticator = Authenticator::new(parsed).unwrap();
    for (name, connect, expected) in rows {
        let credentials = ConnectCredentials {
            user: connect.user.as_deref(),
            pass: connect.pass.as_deref(),
            auth_token: connect.token.as_deref(),
            nkey: connect.nkey.as_deref(),
            sig: connect.sig.as_deref(),
        };
        let facts = ClientFacts {
            ip: Some(connect.ip.unwrap_or("127.0.0.1").parse().unwrap()),
            connection_type: connect.kind.unwrap_or(ConnectionType::Standard),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(connect.at.unwrap_or(NOON_UTC)),
        };
        let got = authenticator
            .authenticate(&credentials, NONCE, &facts)
            .map(|authed| authed.identity);
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn no_authorization_admits_anyone() {
    check(
        "port: 4222",
        vec![
            ("nothing", Connect::default(), Ok(Identity::Anonymous)),
            (
                "credentials ignored",
                user("x", "y"),
                Ok(Identity::Anonymous),
            ),
        ],
    );
}

#[test]
fn token_plain_and_bcrypt() {
    check(
        "authorization { token: s3cr3t }",
        vec![
            ("right", token("s3cr3t"), Ok(Identity::Token)),
            ("wrong", token("s3cr3T"), Err(AuthError::BadToken)),
            ("prefix", token("s3cr3"), Err(AuthError::BadToken)),
            ("none", Connect::default(), Err(AuthError::BadToken)),
        ],
    );
    check(
        &format!("authorization {{ token: '{}' }}", bcrypt_of("s3cr3t")),
        vec![
            ("right", token("s3cr3t"), Ok(Identity::Token)),
            ("wrong", token("nope"), Err(AuthError::BadToken)),
        ],
    );
}

#[test]
fn single_user_plain_and_bcrypt() {
    let alice = || Ok(Identity::User("alice".into()));
    check(
        "authorization { user: alice, password: pw }",
        vec![
            ("right", user("alice", "pw"), alice()),
            (
                "wrong password",
                user("alice", "pW"),
                Err(AuthError::BadPassword),
            ),
            (
                "wrong user",
                user("bob", "pw"),
                Err(AuthError::NoCredentials),
            ),
            ("nothing", Connect::default(), Err(AuthError::NoCredentials)),
        ],
    );
    check(
        &format!(
            "authorization {{ user: alice, password: '{}' }}",
            bcrypt_of("pw")
        ),
        vec![
            ("right", user("alice", "pw"), alice()),
            ("wrong", user("alice", "px"), Err(AuthError::BadPassword)),
        ],
    );
}

#[test]
fn users_list_and_no_auth_user() {
    let config = format!(
        "no_auth_user: bob
         authorization {{ users: [
             {{user: bob, password: plain}}
             {{user: carol, password: '{}'}}
         ] }}",
        bcrypt_of("hashed")
    );
    check(
        &config,
        vec![
            (
                "bob",
                user("bob", "plain"),
                Ok(Identity::User("bob".into())),
            ),
            (
                "bob wrong",
                user("bob", "hashed"),
                Err(AuthError::BadPassword),
            ),
            (
                "carol",
                user("carol", "hashed"),
                Ok(Identity::User("carol".into())),
            ),
            (
                "carol wrong",
                user("carol", "plain"),
                Err(AuthError::BadPassword),
            ),
            (
                "unknown",
                user("dave", "plain"),
                Err(AuthError::NoCredentials),
            ),
            (
                "no credentials: no_auth_user",
                Connect::default(),
                Ok(Identity::User("bob".into())),
            ),
            // A token counts as credentials, so no_auth_user does not apply.
            ("token only", token("x"), Err(AuthError::NoCredentials)),
        ],
    );
    check(
        "authorization { users: [ {user: bob, password: plain} ] }",
        vec![(
            "no credentials",
            Connect::default(),
            Err(AuthError::NoCredentials),
        )],
    );
}

#[test]
fn nkey_signatures() {
    let key = user_key(1);
    let stranger = user_key(2);
    let config = format!(
        "authorization {{ users: [ {{nkey: {}}}, {{user: bob, password: pw}} ] }}",
        key.public_key()
    );
    let std_sig = STANDARD.encode(key.sign(NONCE).unwrap());
    check(
        &config,
        vec![
            (
                "signed",
                nkey(&key, Some(sign(&key, NONCE))),
                Ok(Identity::Nkey(key.public_key())),
            ),
            (
                "standard base64",
                nkey(&key, Some(std_sig)),
                Ok(Identity::Nkey(key.public_key())),
            ),
            (
                "other nonce",
                nkey(&key, Some(sign(&key, b"other"))),
                Err(AuthError::SignatureNotVerified),
            ),
            (
                "other key",
                nkey(&key, Some(sign(&stranger, NONCE))),
                Err(AuthError::SignatureNotVerified),
            ),
            (
                "short",
                nkey(&key, Some("AAAA".into())),
                Err(AuthError::SignatureNotVerified),
            ),
            (
                "missing",
                nkey(&key, None),
                Err(AuthError::SignatureMissing),
            ),
            (
                "not base64",
                nkey(&key, Some("!!!".into())),
                Err(AuthError::SignatureNotBase64),
            ),
            (
                "unknown key",
                nkey(&stranger, Some(sign(&stranger, NONCE))),
                Err(AuthError::UnknownNkey),
            ),
            (
                "password user still works",
                user("bob", "pw"),
                Ok(Identity::User("bob".into())),
            ),
        ],
    );
}

#[test]
fn connection_types() {
    let websocket = |mut connect: Connect| {
        connect.kind = Some(ConnectionType::Websocket);
        connect
    };
    check(
        "authorization { users: [ {user: ws, password: pw, allowed_connection_types: [websocket]} ] }",
        vec![
            ("standard refused", user("ws", "pw"), Err(AuthError::ConnectionTypeNotAllowed)),
            ("websocket", websocket(user("ws", "pw")), Ok(Identity::User("ws".into()))),
        ],
    );
}

#[test]
fn source_networks() {
    let from = |ip: &'static str| Connect {
        ip: Some(ip),
        ..user("local", "pw")
    };
    let denied = |ip: &str| Err(AuthError::SourceNotAllowed(Some(ip.parse().unwrap())));
    check(
        "authorization { users: [ {user: local, password: pw, src: \"127.0.0.1/32\"} ] }",
        vec![
            (
                "127.0.0.1",
                from("127.0.0.1"),
                Ok(Identity::User("local".into())),
            ),
            ("127.0.0.2", from("127.0.0.2"), denied("127.0.0.2")),
            (
                "mapped v4",
                from("::ffff:127.0.0.1"),
                Ok(Identity::User("local".into())),
            ),
        ],
    );
    check(
        "authorization { users: [
            {user: local, password: pw, src: {allow: [\"127.0.0.0/8\"], deny: \"127.0.0.2\"}}
        ] }",
        vec![
            (
                "127.0.0.1",
                from("127.0.0.1"),
                Ok(Identity::User("local".into())),
            ),
            ("127.0.0.2 denied", from("127.0.0.2"), denied("127.0.0.2")),
            ("10.0.0.1 not allowed", from("10.0.0.1"), denied("10.0.0.1")),
        ],
    );
}

#[test]
fn connect_times() {
    let at = |hour_utc: u64| Connect {
        at: Some(NOON_UTC - 12 * 3600 + hour_utc * 3600),
        ..user("office", "pw")
    };
    check(
        "authorization { users: [ {user: office, password: pw,
            times: [{start: \"08:00:00\", end: \"17:00:00\"}], times_location: \"Europe/Berlin\"} ] }",
        vec![
            ("12:00Z is 13:00 in Berlin", at(12), Ok(Identity::User("office".into()))),
            ("07:00Z is 08:00 in Berlin", at(7), Ok(Identity::User("office".into()))),
            ("06:00Z is 07:00 in Berlin", at(6), Err(AuthError::OutsideConnectTimes)),
            ("16:00Z is 17:00 in Berlin", at(16), Err(AuthError::OutsideConnectTimes)),
        ],
    );
}

#[test]
fn authed_user_carries_permissions_account_and_window() {
    let root = natrium_config::parse_str(
        "authorization {
            default_permissions: { publish: \"public.>\" }
            users: [
                {user: a, password: pw}
                {user: b, password: pw, permissions: {publish: \"b.>\"}}
                {user: c, password: pw, times: [{start: \"11:00:00\", end: \"13:30:00\"}]}
            ]
        }",
        Path::new("t.conf"),
    )
    .unwrap();
    let authenticator = Authenticator::new(parse_auth_config(&root).unwrap()).unwrap();
    let facts = ClientFacts {
        ip: None,
        connection_type: ConnectionType::Standard,
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(NOON_UTC),
    };
    let login = |name: &str| {
        let credentials = ConnectCredentials {
            user: Some(name),
            pass: Some("pw"),
            ..ConnectCredentials::default()
        };
        authenticator
            .authenticate(&credentials, b"", &facts)
            .unwrap()
    };
    let a = login("a");
    let perms = a.permissions.as_ref().unwrap();
    assert!(perms.publish_allowed(b"public.x") && !perms.publish_allowed(b"b.x"));
    let b = login("b");
    let perms = b.permissions.as_ref().unwrap();
    assert!(perms.publish_allowed(b"b.x") && !perms.publish_allowed(b"public.x"));
    assert_eq!(a.account, None);
    assert_eq!(a.valid_for, None);
    assert_eq!(login("c").valid_for, Some(Duration::from_secs(5400)));
    assert_eq!(a.log_name(), "User \"a\"");
}

#[test]
fn violation_log_lines() {
    let key = user_key(3);
    let cases = [
        (
            "authorization { token: t }".to_string(),
            "authentication error",
        ),
        (
            "authorization { users: [{user: a, password: b}] }".to_string(),
            "authentication error - User \"eve\"",
        ),
        (
            format!(
                "authorization {{ users: [{{nkey: {}}}] }}",
                key.public_key()
            ),
            "authentication error - Nkey \"\"",
        ),
    ];
    for (config, expected) in cases {
        let root = natrium_config::parse_str(&config, Path::new("t.conf")).unwrap();
        let authenticator = Authenticator::new(parse_auth_config(&root).unwrap()).unwrap();
        let credentials = ConnectCredentials {
            user: Some("eve"),
            ..ConnectCredentials::default()
        };
        assert_eq!(
            authenticator.violation_log(&credentials),
            expected,
            "{config}"
        );
    }
}

#[test]
fn nonce_is_base64url_of_the_random_bytes() {
    let nonce = nonce_from_random(&[0xfb; 11]);
    assert_eq!(nonce.len(), natrium_auth::NONCE_LEN);
    assert_eq!(nonce, "-_v7-_v7-_v7-_s");
}

/// `verify_and_map`: a name from the certificate admits its user without a password, still
/// under the user's connection type and source restrictions.
#[test]
fn certificate_mapped_users() {
    let root = natrium_config::parse_str(
        "authorization { users: [ {user: \"CN=alice,O=Acme\"}, {user: ws, allowed_connection_types: [websocket]}, {user: far, src: \"10.0.0.0/8\"} ] }",
        Path::new("test.conf"),
    )
    .unwrap();
    let authenticator = Authenticator::new(parse_auth_config(&root).unwrap()).unwrap();
    let facts = ClientFacts {
        ip: Some("127.0.0.1".parse().unwrap()),
        connection_type: ConnectionType::Standard,
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(NOON_UTC),
    };
    let mapped = |name: &str| {
        authenticator
            .authenticate_mapped(name, &facts)
            .map(|authed| authed.identity)
    };
    assert_eq!(
        mapped("CN=alice,O=Acme"),
        Ok(Identity::User("CN=alice,O=Acme".into()))
    );
    assert_eq!(mapped("bob"), Err(AuthError::NoCredentials));
    assert_eq!(mapped("ws"), Err(AuthError::ConnectionTypeNotAllowed));
    assert!(matches!(mapped("far"), Err(AuthError::SourceNotAllowed(_))));
    let mut names: Vec<&str> = authenticator.user_names().collect();
    names.sort_unstable();
    assert_eq!(names, ["CN=alice,O=Acme", "far", "ws"]);
}
