//! Client authentication and authorization as nats-server 2.2 does them, with no I/O: users,
//! nkeys and permissions from the config tree, CONNECT checks, and publish/subscribe checks.
//!
//! Time and randomness come in as arguments (`ClientFacts::now`, `Instant`s for reply
//! permissions, the caller's random bytes for nonces), so every decision is reproducible.
//! See README.md for the config keys and how the server wires this in.

#![warn(missing_docs)]

mod authenticate;
mod filter;
mod network;
mod parse;
mod permissions;
mod responses;
mod secret;
mod texts;
mod times;
mod types;

pub use authenticate::{
    authenticate, nonce_from_random, AuthError, AuthedUser, Authenticator, ClientFacts,
    ConnectCredentials, Identity, SetupError, NONCE_LEN, NONCE_RANDOM_BYTES,
};
pub use network::{Cidr, CidrError, SourceNetworks};
pub use parse::{
    parse_auth_config, parse_authorization, parse_listener_authorization, ParseError,
    ParseErrorKind,
};
pub use permissions::{
    queue_allowed, CompiledPermissions, DeliveryFilter, PublishCheck, PublishVerdict,
    CACHE_PRUNE_ENTRIES, DELIVERY_CACHE_ENTRIES_MAX, PUBLISH_CACHE_ENTRIES_MAX, SYSTEM_QUEUE_GROUP,
};
pub use responses::{ResponseTracker, TRACKED_REPLIES_MAX};
pub use secret::{is_bcrypt, Secret};
pub use texts::{
    go_quote, publish_violation, publish_violation_log, subscribe_violation,
    subscribe_violation_log, subscription_removed, subscription_removed_log, AUTHENTICATION_ERROR,
    AUTHENTICATION_EXPIRED, AUTHENTICATION_TIMEOUT, AUTHORIZATION_VIOLATION,
};
pub use times::{ConnectTimes, TimeWindow, TimesError, Zone};
pub use types::{
    AuthConfig, ConnectRestrictions, ConnectionType, ListenerAuth, NkeyUser, Permissions,
    ResponsePermission, SubjectPermission, User, DEFAULT_ALLOW_RESPONSE_EXPIRATION,
    DEFAULT_ALLOW_RESPONSE_MAX_MSGS, DEFAULT_AUTH_TIMEOUT, PLAINTEXT_PASSWORDS_WARNING,
};
