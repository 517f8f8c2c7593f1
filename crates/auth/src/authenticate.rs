//! Client authentication at CONNECT: token, user/password, nkey signature, `no_auth_user`,
//! and the connection type, source network and time window restrictions.

use crate::permissions::CompiledPermissions;
use crate::texts::{go_quote, AUTHENTICATION_ERROR};
use crate::types::{AuthConfig, ConnectRestrictions, ConnectionType, NkeyUser, User};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use nkeys::KeyPair;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// nats-server's `nonceRawLen`: random bytes in a nonce.
pub const NONCE_RANDOM_BYTES: usize = 11;
/// nats-server's `nonceLen`: the nonce's length as sent in INFO (base64url, no padding).
pub const NONCE_LEN: usize = 15;

/// The nonce for an INFO from `random` bytes the caller drew from a CSPRNG: base64url without
/// padding, as nats-server encodes it. Clients sign exactly these 15 ASCII bytes.
pub fn nonce_from_random(random: &[u8; NONCE_RANDOM_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// The credentials fields of a client's CONNECT. An empty string counts as absent, as in
/// nats-server.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectCredentials<'a> {
    /// `user`.
    pub user: Option<&'a str>,
    /// `pass`.
    pub pass: Option<&'a str>,
    /// `auth_token`.
    pub auth_token: Option<&'a str>,
    /// `nkey`: the user's public nkey.
    pub nkey: Option<&'a str>,
    /// `sig`: the nonce signed with the nkey, base64url without padding (nats.go, nats.rs,
    /// nats.js); standard base64 is accepted too, as nats-server does.
    pub sig: Option<&'a str>,
}

fn present(field: Option<&str>) -> Option<&str> {
    field.filter(|text| !text.is_empty())
}

/// What the server knows about the connection, with the current time passed in.
#[derive(Clone, Copy, Debug)]
pub struct ClientFacts {
    /// The peer's address, if known.
    pub ip: Option<IpAddr>,
    /// How the client connected.
    pub connection_type: ConnectionType,
    /// The wall-clock time now (connect windows are wall-clock).
    pub now: SystemTime,
}

/// Who a client authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// No authentication is configured; anyone may connect.
    Anonymous,
    /// The client presented the configured token.
    Token,
    /// The single configured user, or an entry of `users` (also via `no_auth_user`).
    User(String),
    /// An nkey user, by public key.
    Nkey(String),
}

/// A successful authentication: what the connection should be set up with.
#[derive(Clone, Debug)]
pub struct AuthedUser {
    /// Who the client is.
    pub identity: Identity,
    /// The account to bind the connection to; `None` is the global account.
    pub account: Option<String>,
    /// The permissions to enforce; `None` allows everything.
    pub permissions: Option<Arc<CompiledPermissions>>,
    /// If a connect window admitted the client, how long until it closes: the server should
    /// then close the connection with `User Authentication Expired`.
    pub valid_for: Option<Duration>,
}

impl AuthedUser {
    /// How nats-server's `getAuthUser` names the client in violation logs: `Nkey "U..."`,
    /// `User "name"` or `User "N/A"`.
    pub fn log_name(&self) -> String {
        match &self.identity {
            Identity::Nkey(key) => format!("Nkey {}", go_quote(key.as_bytes())),
            Identity::User(name) => format!("User {}", go_quote(name.as_bytes())),
            Identity::Anonymous | Identity::Token => "User \"N/A\"".to_string(),
        }
    }
}

/// Why authentication failed. The client always gets `-ERR 'Authorization Violation'` (see
/// [`crate::AUTHORIZATION_VIOLATION`]); the variant is for the server's debug log.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuthError {
    /// No credentials matched a configured method (unknown user, missing credentials).
    #[error("no matching credentials")]
    NoCredentials,
    /// The password does not match the user's.
    #[error("password mismatch")]
    BadPassword,
    /// The token does not match.
    #[error("token mismatch")]
    BadToken,
    /// The nkey is not a configured user.
    #[error("unknown nkey")]
    UnknownNkey,
    /// nats-server's debug text.
    #[error("Signature missing")]
    SignatureMissing,
    /// nats-server's debug text.
    #[error("Signature not valid base64")]
    SignatureNotBase64,
    /// nats-server's debug text.
    #[error("Signature not verified")]
    SignatureNotVerified,
    /// The user may not connect over this kind of connection.
    #[error("Connection type not allowed")]
    ConnectionTypeNotAllowed,
    /// The client's address is outside the user's source networks (nats-server's text for
    /// JWT `src`, logged as an error).
    #[error("Bad src Ip {}", .0.map(|ip| ip.to_string()).unwrap_or_default())]
    SourceNotAllowed(Option<IpAddr>),
    /// The time is outside the user's connect windows (nats-server's text for JWT `times`).
    #[error("Outside connect times")]
    OutsideConnectTimes,
}

/// A user as the authenticator holds it: permissions compiled, nkey decoded.
#[derive(Debug)]
struct Prepared {
    account: Option<String>,
    permissions: Option<Arc<CompiledPermissions>>,
    restrictions: ConnectRestrictions,
}

#[derive(Debug)]
struct PasswordUser {
    user: User,
    prepared: Prepared,
}

struct NkeyEntry {
    key: KeyPair,
    prepared: Prepared,
}

impl std::fmt::Debug for NkeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NkeyEntry")
            .field("key", &self.key.public_key())
            .field("prepared", &self.prepared)
            .finish()
    }
}

/// Why an [`AuthConfig`] cannot be used (config parsing reports these with positions first).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SetupError {
    /// nats-server's text.
    #[error("Not a valid public nkey for a user")]
    InvalidNkey(String),
    /// nats-server's `validateNoAuthUser` texts.
    #[error("no_auth_user: \"{0}\" present, but users are not defined")]
    NoAuthUserWithoutUsers(String),
    /// nats-server's `validateNoAuthUser` texts.
    #[error(
        "no_auth_user: \"{0}\" not present as user in authorization block or account configuration"
    )]
    NoAuthUserUnknown(String),
}

/// [`AuthConfig`] prepared for CONNECTs: users indexed by name and nkey, permissions compiled
/// once and shared by all of a user's connections.
#[derive(Debug)]
pub struct Authenticator {
    config: AuthConfig,
    users: HashMap<String, PasswordUser>,
    nkeys: HashMap<String, NkeyEntry>,
}

fn prepare(
    permissions: &Option<crate::types::Permissions>,
    account: &Option<String>,
    restrictions: &ConnectRestrictions,
) -> Prepared {
    Prepared {
        account: account.clone(),
        permissions: permissions
            .as_ref()
            .map(|p| Arc::new(CompiledPermissions::new(p))),
        restrictions: restrictions.clone(),
    }
}

impl Authenticator {
    /// Prepares `config`; fails on an invalid nkey or a `no_auth_user` that names no user.
    pub fn new(config: AuthConfig) -> Result<Authenticator, SetupError> {
        if let Some(name) = config.no_auth_user.as_deref().filter(|n| !n.is_empty()) {
            if config.users.is_empty() {
                return Err(SetupError::NoAuthUserWithoutUsers(name.to_string()));
            }
            if !config.users.iter().any(|u| u.username == name) {
                return Err(SetupError::NoAuthUserUnknown(name.to_string()));
            }
        }
        let mut nkeys = HashMap::with_capacity(config.nkeys.len());
        for user in &config.nkeys {
            nkeys.insert(user.public_key.clone(), nkey_entry(user)?);
        }
        let users = config
            .users
            .iter()
            .map(|user| {
                let prepared = prepare(&user.permissions, &user.account, &user.restrictions);
                let entry = PasswordUser {
                    user: user.clone(),
                    prepared,
                };
                (user.username.clone(), entry)
            })
            .collect();
        Ok(Authenticator {
            config,
            users,
            nkeys,
        })
    }

    /// The configuration this was prepared from.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// nats-server's `processClientOrLeafAuthentication` for a client (no JWTs, no TLS map):
    /// nkey users first, then users (with `no_auth_user`), then the token, then the single
    /// user. `nonce` is the nonce sent in INFO (the bytes the client signed).
    pub fn authenticate(
        &self,
        credentials: &ConnectCredentials<'_>,
        nonce: &[u8],
        client: &ClientFacts,
    ) -> Result<AuthedUser, AuthError> {
        if !self.config.auth_required() {
            return Ok(AuthedUser {
                identity: Identity::Anonymous,
                account: None,
                permissions: None,
                valid_for: None,
            });
        }
        let user_name = present(credentials.user);
        let nkey = present(credentials.nkey);
        if let (false, Some(nkey)) = (self.nkeys.is_empty(), nkey) {
            let entry = self.nkeys.get(nkey).ok_or(AuthError::UnknownNkey)?;
            check_connection_type(&entry.prepared.restrictions, client)?;
            verify_signature(&entry.key, present(credentials.sig), nonce)?;
            return admit(Identity::Nkey(nkey.to_string()), &entry.prepared, client);
        }
        if !self.users.is_empty() {
            let no_credentials = user_name.is_none()
                && present(credentials.pass).is_none()
                && present(credentials.auth_token).is_none();
            // nats-server logs a credential-less client in as `no_auth_user`, password and all.
            let (name, password) = match (no_credentials, self.no_auth_user()) {
                (true, Some(entry)) => (
                    Some(entry.user.username.as_str()),
                    Some(entry.user.password.as_str()),
                ),
                _ => (user_name, present(credentials.pass)),
            };
            let Some(name) = name else {
                return Err(AuthError::NoCredentials);
            };
            let entry = self.users.get(name).ok_or(AuthError::NoCredentials)?;
            check_connection_type(&entry.prepared.restrictions, client)?;
            if !entry.user.password.verify(password.unwrap_or_default()) {
                return Err(AuthError::BadPassword);
            }
            return admit(Identity::User(name.to_string()), &entry.prepared, client);
        }
        if let Some(token) = self
            .config
            .token
            .as_ref()
            .filter(|t| !t.as_str().is_empty())
        {
            if !token.verify(present(credentials.auth_token).unwrap_or_default()) {
                return Err(AuthError::BadToken);
            }
            return Ok(anonymous_with(Identity::Token));
        }
        if let Some(expected) = self.config.username.as_deref().filter(|n| !n.is_empty()) {
            // The name is not secret; only the password is compared in constant time.
            if user_name != Some(expected) {
                return Err(AuthError::NoCredentials);
            }
            let password = present(credentials.pass).unwrap_or_default();
            let matches = self
                .config
                .password
                .as_ref()
                .map_or(password.is_empty(), |secret| secret.verify(password));
            if !matches {
                return Err(AuthError::BadPassword);
            }
            return Ok(anonymous_with(Identity::User(expected.to_string())));
        }
        Err(AuthError::NoCredentials)
    }

    /// `verify_and_map`: admits the user named `name` (found in the client's verified
    /// certificate) without a password, after its connection type, source network and
    /// connect window checks, as nats-server's TLS map does.
    pub fn authenticate_mapped(
        &self,
        name: &str,
        client: &ClientFacts,
    ) -> Result<AuthedUser, AuthError> {
        let entry = self.users.get(name).ok_or(AuthError::NoCredentials)?;
        check_connection_type(&entry.prepared.restrictions, client)?;
        admit(Identity::User(name.to_string()), &entry.prepared, client)
    }

    /// The user names `verify_and_map` may match, in no particular order.
    pub fn user_names(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    fn no_auth_user(&self) -> Option<&PasswordUser> {
        let name = self.config.no_auth_user.as_deref()?;
        self.users.get(name)
    }

    /// The error line nats-server logs when authentication fails (`authViolation`):
    /// `authentication error - Nkey "..."` when nkey users exist, else
    /// `authentication error - User "..."` when users exist, else `authentication error`.
    pub fn violation_log(&self, credentials: &ConnectCredentials<'_>) -> String {
        if !self.nkeys.is_empty() {
            let nkey = credentials.nkey.unwrap_or_default();
            format!(
                "{AUTHENTICATION_ERROR} - Nkey {}",
                go_quote(nkey.as_bytes())
            )
        } else if !self.users.is_empty() {
            let user = credentials.user.unwrap_or_default();
            format!(
                "{AUTHENTICATION_ERROR} - User {}",
                go_quote(user.as_bytes())
            )
        } else {
            AUTHENTICATION_ERROR.to_string()
        }
    }
}

/// Convenience for [`Authenticator::authenticate`].
pub fn authenticate(
    authenticator: &Authenticator,
    credentials: &ConnectCredentials<'_>,
    nonce: &[u8],
    client: &ClientFacts,
) -> Result<AuthedUser, AuthError> {
    authenticator.authenticate(credentials, nonce, client)
}

fn nkey_entry(user: &NkeyUser) -> Result<NkeyEntry, SetupError> {
    let invalid = || SetupError::InvalidNkey(user.public_key.clone());
    let key = KeyPair::from_public_key(&user.public_key).map_err(|_| invalid())?;
    if !matches!(key.key_pair_type(), nkeys::KeyPairType::User) {
        return Err(invalid());
    }
    Ok(NkeyEntry {
        key,
        prepared: prepare(&user.permissions, &user.account, &user.restrictions),
    })
}

fn anonymous_with(identity: Identity) -> AuthedUser {
    AuthedUser {
        identity,
        account: None,
        permissions: None,
        valid_for: None,
    }
}

fn check_connection_type(
    restrictions: &ConnectRestrictions,
    client: &ClientFacts,
) -> Result<(), AuthError> {
    let allowed = &restrictions.allowed_connection_types;
    if allowed.is_empty() || allowed.contains(&client.connection_type) {
        Ok(())
    } else {
        Err(AuthError::ConnectionTypeNotAllowed)
    }
}

/// nats-server decodes `sig` as base64url without padding, falling back to standard base64.
fn verify_signature(key: &KeyPair, sig: Option<&str>, nonce: &[u8]) -> Result<(), AuthError> {
    let sig = sig.ok_or(AuthError::SignatureMissing)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(sig)
        .or_else(|_| STANDARD.decode(sig))
        .map_err(|_| AuthError::SignatureNotBase64)?;
    key.verify(nonce, &bytes)
        .map_err(|_| AuthError::SignatureNotVerified)
}

/// The checks after the credentials: source network, then connect window (JWT's order).
fn admit(
    identity: Identity,
    prepared: &Prepared,
    client: &ClientFacts,
) -> Result<AuthedUser, AuthError> {
    let restrictions = &prepared.restrictions;
    if !restrictions.source_networks.permits(client.ip) {
        return Err(AuthError::SourceNotAllowed(client.ip));
    }
    let valid_for = match &restrictions.connect_times {
        Some(times) => Some(
            times
                .check(client.now)
                .ok_or(AuthError::OutsideConnectTimes)?,
        ),
        None => None,
    };
    Ok(AuthedUser {
        identity,
        account: prepared.account.clone(),
        permissions: prepared.permissions.clone(),
        valid_for,
    })
}
