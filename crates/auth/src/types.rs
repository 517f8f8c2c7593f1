//! The configured users, nkey users and permissions: plain data, as parsed from a config file.

use crate::network::SourceNetworks;
use crate::secret::Secret;
use crate::times::ConnectTimes;
use std::time::Duration;

/// nats-server's `DEFAULT_ALLOW_RESPONSE_MAX_MSGS`: one response per received reply subject.
pub const DEFAULT_ALLOW_RESPONSE_MAX_MSGS: u64 = 1;
/// nats-server's `DEFAULT_ALLOW_RESPONSE_EXPIRATION`: a reply subject may be used for 2 minutes.
pub const DEFAULT_ALLOW_RESPONSE_EXPIRATION: Duration = Duration::from_secs(120);
/// nats-server's `AUTH_TIMEOUT`: how long a client has to send CONNECT (without TLS).
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Allowed and denied subjects for publishing or subscribing.
///
/// `allow: None` allows everything not denied; `allow: Some(vec![])` allows nothing (what
/// `allow_responses` turns publishing into when no allow list is given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectPermission {
    /// Subjects (wildcards allowed) permitted; for subscribe, an entry may be `"subject queue"`.
    pub allow: Option<Vec<String>>,
    /// Subjects (wildcards allowed) refused even if allowed; same forms as `allow`.
    pub deny: Vec<String>,
}

impl SubjectPermission {
    /// Whether this permits everything (no allow list, no deny list).
    pub fn is_unrestricted(&self) -> bool {
        self.allow.is_none() && self.deny.is_empty()
    }
}

/// Dynamic permission to publish to reply subjects of messages the client received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponsePermission {
    /// Responses allowed per received reply subject; `None` is unlimited (a negative `max`).
    pub max_msgs: Option<u64>,
    /// How long after delivery a reply subject may be used; `None` is forever (negative `expires`).
    pub expires: Option<Duration>,
}

impl Default for ResponsePermission {
    fn default() -> Self {
        ResponsePermission {
            max_msgs: Some(DEFAULT_ALLOW_RESPONSE_MAX_MSGS),
            expires: Some(DEFAULT_ALLOW_RESPONSE_EXPIRATION),
        }
    }
}

/// A user's publish, subscribe and response permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    /// What the user may publish to.
    pub publish: SubjectPermission,
    /// What the user may subscribe to.
    pub subscribe: SubjectPermission,
    /// Whether (and how often, how long) the user may reply to received reply subjects.
    pub response: Option<ResponsePermission>,
}

impl Permissions {
    /// nats-server's `validateResponsePermissions`: with responses allowed, publishing becomes
    /// deny-by-default unless an allow list was given.
    pub fn normalized(mut self) -> Permissions {
        if self.response.is_some() && self.publish.allow.is_none() {
            self.publish.allow = Some(Vec::new());
        }
        self
    }
}

/// The kinds of connection a user may be restricted to (`allowed_connection_types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionType {
    /// A plain NATS client over TCP (`STANDARD`).
    Standard,
    /// A NATS client over WebSocket (`WEBSOCKET`).
    Websocket,
    /// A leaf node connection (`LEAFNODE`).
    Leafnode,
    /// A leaf node over WebSocket (`LEAFNODE_WS`).
    LeafnodeWs,
    /// An MQTT client (`MQTT`).
    Mqtt,
    /// An MQTT client over WebSocket (`MQTT_WS`).
    MqttWs,
}

impl ConnectionType {
    /// Every type, in nats-server's order.
    pub const ALL: [ConnectionType; 6] = [
        ConnectionType::Standard,
        ConnectionType::Websocket,
        ConnectionType::Leafnode,
        ConnectionType::LeafnodeWs,
        ConnectionType::Mqtt,
        ConnectionType::MqttWs,
    ];

    /// The name used in configs and JWTs.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Standard => "STANDARD",
            ConnectionType::Websocket => "WEBSOCKET",
            ConnectionType::Leafnode => "LEAFNODE",
            ConnectionType::LeafnodeWs => "LEAFNODE_WS",
            ConnectionType::Mqtt => "MQTT",
            ConnectionType::MqttWs => "MQTT_WS",
        }
    }

    /// The type named `name`, any case (nats-server upper-cases before comparing).
    pub fn from_name(name: &str) -> Option<ConnectionType> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(name))
    }
}

/// Restrictions shared by password and nkey users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectRestrictions {
    /// Connection types the user may use; empty allows all, as in nats-server.
    pub allowed_connection_types: Vec<ConnectionType>,
    /// Source address blocks (Natrium extension, like JWT `src`).
    pub source_networks: SourceNetworks,
    /// Daily connect windows (Natrium extension, like JWT `times`); `None` is any time.
    pub connect_times: Option<ConnectTimes>,
}

/// A user that logs in with a name and password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The login name (`user` in CONNECT).
    pub username: String,
    /// The password, plain or bcrypt (empty if none was configured).
    pub password: Secret,
    /// The user's own permissions; `None` takes `default_permissions` (or allows everything).
    pub permissions: Option<Permissions>,
    /// The account the user belongs to; `None` is the global account. Set by account parsing.
    pub account: Option<String>,
    /// Connection types, source networks and time windows.
    pub restrictions: ConnectRestrictions,
}

/// A user that logs in by signing the server's nonce with an nkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NkeyUser {
    /// The user's public nkey (`U...`, 56 characters).
    pub public_key: String,
    /// The user's own permissions; `None` takes `default_permissions` (or allows everything).
    pub permissions: Option<Permissions>,
    /// The account the user belongs to; `None` is the global account.
    pub account: Option<String>,
    /// Connection types, source networks and time windows.
    pub restrictions: ConnectRestrictions,
}

/// Everything client authentication needs from the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// `authorization { token }`: a single token every client must present.
    pub token: Option<Secret>,
    /// `authorization { user }`: the single user's name.
    pub username: Option<String>,
    /// `authorization { password }`: the single user's password.
    pub password: Option<Secret>,
    /// `authorization { users }` entries with a user name.
    pub users: Vec<User>,
    /// `authorization { users }` entries with an `nkey`.
    pub nkeys: Vec<NkeyUser>,
    /// `no_auth_user`: the user a client that presents no credentials is logged in as.
    pub no_auth_user: Option<String>,
    /// `authorization { default_permissions }`, already applied to users without their own;
    /// kept for the record (nats-server keeps it too).
    pub default_permissions: Option<Permissions>,
    /// `authorization { timeout }`; `None` means nats-server's default (2 s, or the TLS
    /// timeout plus 1 s when TLS is on, which the server decides).
    pub auth_timeout: Option<Duration>,
}

/// A listener's own `authorization { user, password, token, timeout }` and `no_auth_user`
/// (the websocket block's). When it names a user, a token or a `no_auth_user`, they replace
/// the main single user, token and `no_auth_user` for that listener's clients, whose users
/// and nkeys stay the main ones (nats-server's `authOverride`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListenerAuth {
    /// `user`/`username`.
    pub username: Option<String>,
    /// `pass`/`password`.
    pub password: Option<Secret>,
    /// `token`.
    pub token: Option<Secret>,
    /// `timeout`, replacing the main auth timeout for the listener's clients when set (even
    /// without an override, as in nats-server).
    pub auth_timeout: Option<Duration>,
    /// `no_auth_user` inside the listener's block.
    pub no_auth_user: Option<String>,
}

impl ListenerAuth {
    /// nats-server's `wsConfigAuth`: a user name, a token or a `no_auth_user` overrides the
    /// main settings (a password alone does not).
    pub fn overrides(&self) -> bool {
        let filled = |text: Option<&str>| text.is_some_and(|t| !t.is_empty());
        filled(self.username.as_deref())
            || filled(self.token.as_ref().map(Secret::as_str))
            || filled(self.no_auth_user.as_deref())
    }

    /// The configuration the listener's clients authenticate against when it overrides:
    /// the main users and nkeys with this block's single user, token and `no_auth_user`.
    pub fn apply_to(&self, main: &AuthConfig) -> AuthConfig {
        AuthConfig {
            token: self.token.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            no_auth_user: self.no_auth_user.clone(),
            auth_timeout: self.auth_timeout,
            ..main.clone()
        }
    }
}

/// nats-server's warning when a password is not a bcrypt hash.
pub const PLAINTEXT_PASSWORDS_WARNING: &str = "Plaintext passwords detected, use nkeys or bcrypt";

impl AuthConfig {
    /// Whether clients must authenticate: nats-server requires it when users, nkeys, a user
    /// name or a token are configured (a password alone requires nothing).
    pub fn auth_required(&self) -> bool {
        !self.users.is_empty()
            || !self.nkeys.is_empty()
            || self
                .username
                .as_deref()
                .is_some_and(|name| !name.is_empty())
            || self
                .token
                .as_ref()
                .is_some_and(|token| !token.as_str().is_empty())
    }

    /// Whether the INFO sent to clients must carry a nonce (nkey users are configured).
    pub fn nonce_required(&self) -> bool {
        !self.nkeys.is_empty()
    }

    /// nats-server's `checkAuthforWarnings`: some password is not a bcrypt hash.
    pub fn has_plaintext_passwords(&self) -> bool {
        self.password
            .as_ref()
            .is_some_and(|p| !p.as_str().is_empty() && !p.is_bcrypt())
            || self.users.iter().any(|user| !user.password.is_bcrypt())
    }
}
