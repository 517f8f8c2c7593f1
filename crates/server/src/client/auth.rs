//! Authentication and authorization on a client connection, with `natrium-auth` deciding:
//! the INFO nonce, the auth and expiry timers, CONNECT credentials, publish and subscribe
//! checks, deny-at-delivery and reply permissions, and re-checking connected clients after a
//! reload (nats-server's `reloadAuthorization`).
//!
//! Users without publish rules cost nothing on the publish path (no `PublishCheck`), and
//! deliveries to users without deny clauses or reply permissions cost one relaxed load.

use super::connection::Connection;
use super::{ClientShared, CloseReason};
use crate::info::ConnectOptions;
use crate::server::ServerState;
use crate::tls::{dn_equal, dn_rdns_match, parse_dn, CertIdentity};
use natrium_auth::{
    publish_violation, publish_violation_log, queue_allowed, subscribe_violation,
    subscribe_violation_log, subscription_removed, subscription_removed_log, AuthedUser,
    Authenticator, ClientFacts, CompiledPermissions, ConnectCredentials, ConnectionType,
    DeliveryFilter, Identity, PublishCheck, PublishVerdict, ResponseTracker,
    AUTHENTICATION_EXPIRED, AUTHENTICATION_TIMEOUT, AUTHORIZATION_VIOLATION, NONCE_RANDOM_BYTES,
};
use natrium_proto::encode;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::task::JoinHandle;
use tracing::{debug, error, info};

/// CONNECT's credential fields, kept so a reload can re-check the client.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredCredentials {
    user: Option<String>,
    pass: Option<String>,
    auth_token: Option<String>,
    nkey: Option<String>,
    sig: Option<String>,
}

/// Credentials a websocket upgrade carried in the cookies `user_cookie`, `pass_cookie` and
/// `token_cookie` name; each stands in for the CONNECT field it matches when that is missing
/// or empty, as nats-server's `processConnect` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CookieCredentials {
    pub user: Option<String>,
    pub pass: Option<String>,
    pub auth_token: Option<String>,
}

impl StoredCredentials {
    fn from_connect(connect: &ConnectOptions, cookies: &CookieCredentials) -> Self {
        let or_cookie = |field: &Option<String>, cookie: &Option<String>| {
            field
                .clone()
                .filter(|value| !value.is_empty())
                .or_else(|| cookie.clone())
        };
        StoredCredentials {
            user: or_cookie(&connect.user, &cookies.user),
            pass: or_cookie(&connect.pass, &cookies.pass),
            auth_token: or_cookie(&connect.auth_token, &cookies.auth_token),
            nkey: connect.nkey.clone(),
            sig: connect.sig.clone(),
        }
    }

    fn borrow(&self) -> ConnectCredentials<'_> {
        ConnectCredentials {
            user: self.user.as_deref(),
            pass: self.pass.as_deref(),
            auth_token: self.auth_token.as_deref(),
            nkey: self.nkey.as_deref(),
            sig: self.sig.as_deref(),
        }
    }
}

/// The authorization state other tasks touch (publishers delivering, reloads), kept in
/// [`ClientShared`] behind its own lock.
#[derive(Debug, Default)]
pub(crate) struct SharedAuthz {
    /// The nonce sent in INFO (nkey servers only).
    pub nonce: Option<String>,
    credentials: StoredCredentials,
    /// The verified client certificate's identity, kept when `verify_and_map` is on.
    pub certificate: Option<CertIdentity>,
    /// What the websocket upgrade's cookies said, for the CONNECT.
    pub cookies: CookieCredentials,
    /// The user's permissions; `None` allows everything.
    pub permissions: Option<Arc<CompiledPermissions>>,
    delivery_filter: Option<DeliveryFilter>,
    responses: Option<ResponseTracker>,
}

impl ClientShared {
    /// Whether a message on `subject` may go to this client's subscription in `queue`; a
    /// delivered `reply` becomes a subject the client may answer (`allow_responses`).
    #[inline]
    pub(crate) fn admit_delivery(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        reply: Option<&[u8]>,
    ) -> bool {
        if !self.authz_at_delivery.load(Ordering::Relaxed) {
            return true;
        }
        self.admit_delivery_checked(subject, queue, reply)
    }

    #[cold]
    fn admit_delivery_checked(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        reply: Option<&[u8]>,
    ) -> bool {
        let mut authz = self.authz.lock();
        if let Some(filter) = authz.delivery_filter.as_mut() {
            if filter.denies(subject, queue) {
                return false;
            }
        }
        if let (Some(reply), Some(responses)) = (reply, authz.responses.as_mut()) {
            responses.record(reply, Instant::now());
        }
        true
    }

    /// Installs `permissions` for deliveries and replies; the reader picks them up for its
    /// publish checks at its next read batch.
    fn install_permissions(&self, permissions: Option<Arc<CompiledPermissions>>) {
        let mut authz = self.authz.lock();
        authz.delivery_filter = permissions
            .as_ref()
            .map(|p| DeliveryFilter::new(Arc::clone(p)));
        authz.responses = permissions
            .as_ref()
            .and_then(|p| p.response())
            .map(ResponseTracker::new);
        let replies_tracked = authz.responses.is_some();
        authz.permissions = permissions;
        drop(authz);
        self.authz_at_delivery
            .store(replies_tracked, Ordering::Relaxed);
        self.authz_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Switches deny-at-delivery on (a subscription is broader than a deny clause).
    fn activate_delivery_filter(&self) {
        if let Some(filter) = self.authz.lock().delivery_filter.as_mut() {
            filter.activate();
        }
        self.authz_at_delivery.store(true, Ordering::Relaxed);
    }

    /// May this client answer on `subject`, which its lists deny? (`allow_responses`)
    fn try_respond(&self, subject: &[u8]) -> bool {
        let mut authz = self.authz.lock();
        authz
            .responses
            .as_mut()
            .is_some_and(|responses| responses.try_respond(subject, Instant::now()))
    }
}

/// A nonce for INFO when nkey users are configured: 11 bytes from the OS RNG.
pub(crate) fn new_nonce(authenticator: &Authenticator) -> Option<String> {
    if !authenticator.config().nonce_required() {
        return None;
    }
    let mut random = [0u8; NONCE_RANDOM_BYTES];
    // The OS RNG does not fail on Linux once booted; a zero nonce would still be unique
    // per signature check, never reused across servers.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    Some(natrium_auth::nonce_from_random(&random))
}

/// Closes the client with `message` when `delay` passes, unless it ends first; the task
/// returned is aborted when the connection ends.
fn close_after(
    shared: &Arc<ClientShared>,
    delay: Duration,
    message: &'static str,
    reason: CloseReason,
    race: Option<Arc<AuthRace>>,
) -> JoinHandle<()> {
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if race.is_some_and(|race| !race.time_out()) {
            return;
        }
        debug!("{} - {message}", shared.label());
        shared.send_now(|out| encode::write_err(out, message));
        shared.close(reason, true);
    })
}

/// Who settled a connection first: its CONNECT authenticating, or its auth timeout. One
/// compare-and-swap each side, so a client that authenticates as the timer fires is either
/// in (and the timer does nothing) or timed out (and its CONNECT is refused), never closed
/// after being told it was in, as nats-server's `clearAuthTimer` ensures.
#[derive(Debug, Default)]
pub(crate) struct AuthRace(AtomicU8);

impl AuthRace {
    const PENDING: u8 = 0;
    const AUTHENTICATED: u8 = 1;
    const TIMED_OUT: u8 = 2;

    /// The CONNECT side: true if it won (or the race was already won by it).
    fn authenticate(&self) -> bool {
        match self.0.compare_exchange(
            Self::PENDING,
            Self::AUTHENTICATED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(state) => state == Self::AUTHENTICATED,
        }
    }

    /// The timer side: true if the connection must be closed.
    fn time_out(&self) -> bool {
        self.0
            .compare_exchange(
                Self::PENDING,
                Self::TIMED_OUT,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }
}

/// The reader's side of authorization.
#[derive(Debug)]
pub(crate) struct ReaderAuth {
    /// CONNECT must come first and authenticate (auth is configured, not yet passed).
    awaiting_connect: bool,
    /// The publish gate, only for users with publish rules.
    publish_check: Option<PublishCheck>,
    /// `User "a"` / `Nkey "U..."` for violation logs.
    log_name: String,
    /// The `authz_generation` the publish gate was built for.
    generation: u64,
    /// The auth timeout and the connect window's end.
    timers: Vec<JoinHandle<()>>,
    /// Settles CONNECT against the auth timeout.
    race: Arc<AuthRace>,
}

impl Drop for ReaderAuth {
    fn drop(&mut self) {
        for timer in &self.timers {
            timer.abort();
        }
    }
}

impl ReaderAuth {
    /// The state of a new connection; arms the auth timeout when authentication is required.
    pub(crate) fn start(server: &ServerState, shared: &Arc<ClientShared>) -> ReaderAuth {
        let options = server.options();
        let required = server.authenticator_for(shared).config().auth_required();
        // The websocket block's `timeout` applies to its clients, override or not.
        let timeout = options
            .websocket
            .as_ref()
            .and_then(|ws| ws.auth.auth_timeout)
            .filter(|_| shared.websocket.load(Ordering::Relaxed))
            .unwrap_or_else(|| options.effective_auth_timeout());
        let mut auth = ReaderAuth {
            awaiting_connect: required,
            publish_check: None,
            log_name: "User \"N/A\"".to_string(),
            generation: 0,
            timers: Vec::new(),
            race: Arc::default(),
        };
        if required {
            auth.timers.push(close_after(
                shared,
                timeout,
                AUTHENTICATION_TIMEOUT,
                CloseReason::AuthenticationTimeout,
                Some(Arc::clone(&auth.race)),
            ));
        }
        auth
    }
}

fn client_facts(shared: &ClientShared) -> ClientFacts {
    ClientFacts {
        ip: Some(shared.peer.ip()),
        connection_type: if shared.websocket.load(Ordering::Relaxed) {
            ConnectionType::Websocket
        } else {
            ConnectionType::Standard
        },
        now: SystemTime::now(),
    }
}

/// Runs `authenticate` where bcrypt's milliseconds do not stall other connections.
fn authenticate_off_the_reactor(
    authenticator: &Authenticator,
    credentials: &ConnectCredentials<'_>,
    nonce: &[u8],
    facts: &ClientFacts,
) -> Result<AuthedUser, natrium_auth::AuthError> {
    let run = || authenticator.authenticate(credentials, nonce, facts);
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(run)
    } else {
        run()
    }
}

/// nats-server's `checkClientTLSCertSubject` for `verify_and_map`: the certificate's SAN
/// emails (else DNS names, else URIs) as user names, then a user whose name is a DN equal
/// to the subject (then one with the same relative names reordered), then the subject as
/// Go prints it.
fn map_certificate_user(
    authenticator: &Authenticator,
    certificate: Option<&CertIdentity>,
    facts: &ClientFacts,
) -> Result<AuthedUser, natrium_auth::AuthError> {
    let Some(certificate) = certificate else {
        return Err(natrium_auth::AuthError::NoCredentials);
    };
    let sans = [
        &certificate.emails,
        &certificate.dns_names,
        &certificate.uris,
    ];
    let names = sans.into_iter().find(|list| !list.is_empty());
    let mut refusal = natrium_auth::AuthError::NoCredentials;
    for name in names.into_iter().flatten() {
        match authenticator.authenticate_mapped(name, facts) {
            Ok(authed) => return Ok(authed),
            Err(natrium_auth::AuthError::NoCredentials) => {}
            Err(other) => refusal = other,
        }
    }
    let dn_users: Vec<(&str, _)> = authenticator
        .user_names()
        .filter_map(|name| parse_dn(name).map(|dn| (name, dn)))
        .collect();
    let matching = dn_users
        .iter()
        .find(|(_, dn)| dn_equal(dn, &certificate.subject))
        .or_else(|| {
            dn_users
                .iter()
                .find(|(_, dn)| dn_rdns_match(dn, &certificate.subject))
        });
    if let Some((name, _)) = matching {
        return authenticator.authenticate_mapped(name, facts);
    }
    match authenticator.authenticate_mapped(&certificate.subject_text(), facts) {
        Err(natrium_auth::AuthError::NoCredentials) => Err(refusal),
        outcome => outcome,
    }
}

fn log_auth_error(label: &str, violation: &str, error: &natrium_auth::AuthError) {
    error!("{label} - {violation}");
    match error {
        // nats-server logs restrictions at error level (they come from JWT users there).
        natrium_auth::AuthError::SourceNotAllowed(_)
        | natrium_auth::AuthError::OutsideConnectTimes => error!("{label} - {error}"),
        other => debug!("{label} - {other}"),
    }
}

impl Connection {
    /// Authenticates the credentials of `connect` (every CONNECT, as nats-server), a
    /// websocket's cookies filling its gaps; on failure the client gets
    /// `-ERR 'Authorization Violation'` and is closed.
    pub(super) fn authenticate_connect(
        &mut self,
        connect: &ConnectOptions,
    ) -> Result<(), CloseReason> {
        let cookies = self.shared.authz.lock().cookies.clone();
        let credentials = StoredCredentials::from_connect(connect, &cookies);
        self.authenticate_credentials(credentials)
    }

    fn authenticate_credentials(
        &mut self,
        credentials: StoredCredentials,
    ) -> Result<(), CloseReason> {
        let authenticator = self.server.authenticator_for(&self.shared);
        if !authenticator.config().auth_required() {
            // Kept for a reload that turns authentication on, as nats-server keeps c.opts.
            self.shared.authz.lock().credentials = credentials;
            return Ok(());
        }
        let (nonce, certificate) = {
            let authz = self.shared.authz.lock();
            (
                authz.nonce.clone().unwrap_or_default(),
                authz.certificate.clone(),
            )
        };
        let facts = client_facts(&self.shared);
        let map_certificate = self.options.tls.as_ref().is_some_and(|t| t.verify_and_map);
        let result = if map_certificate && !authenticator.config().users.is_empty() {
            if let Some(user) = credentials.user.as_deref().filter(|u| !u.is_empty()) {
                tracing::warn!(
                    "{} - User {user:?} found in connect proto, but user required from cert",
                    self.label
                );
            }
            map_certificate_user(&authenticator, certificate.as_ref(), &facts)
        } else {
            authenticate_off_the_reactor(
                &authenticator,
                &credentials.borrow(),
                nonce.as_bytes(),
                &facts,
            )
        };
        match result {
            Ok(_) if !self.auth.race.authenticate() => {
                // The auth timeout fired first; its -ERR is already on the way out.
                Err(CloseReason::AuthenticationTimeout)
            }
            Ok(authed) => {
                self.shared.authz.lock().credentials = credentials;
                self.bind_user(authed)
            }
            Err(e) => {
                log_auth_error(
                    &self.label,
                    &authenticator.violation_log(&credentials.borrow()),
                    &e,
                );
                self.send_err(AUTHORIZATION_VIOLATION);
                Err(CloseReason::AuthenticationViolation)
            }
        }
    }

    /// An op before CONNECT on a server that requires auth: with `no_auth_user` the client
    /// is that user (nats-server lets such "telnet" clients in), otherwise a violation.
    #[inline]
    pub(super) fn require_connect_first(&mut self) -> Result<(), CloseReason> {
        if !self.auth.awaiting_connect {
            return Ok(());
        }
        self.op_before_connect()
    }

    #[cold]
    fn op_before_connect(&mut self) -> Result<(), CloseReason> {
        let authenticator = self.server.authenticator_for(&self.shared);
        let no_auth_user = authenticator.config().no_auth_user.as_deref();
        if no_auth_user.unwrap_or_default().is_empty() {
            let empty = ConnectCredentials::default();
            error!("{} - {}", self.label, authenticator.violation_log(&empty));
            self.send_err(AUTHORIZATION_VIOLATION);
            return Err(CloseReason::AuthenticationViolation);
        }
        // No CONNECT, so no cookies either: the client is `no_auth_user`.
        self.authenticate_credentials(StoredCredentials::default())?;
        self.shared.connect_received.store(true, Ordering::Release);
        self.announce_connect();
        Ok(())
    }

    /// Sets the connection up for `authed`: its account, permissions, log name, `/connz`
    /// user, and the connect window's end.
    fn bind_user(&mut self, authed: AuthedUser) -> Result<(), CloseReason> {
        self.bind_account(authed.account.as_deref())?;
        self.auth.awaiting_connect = false;
        self.auth.log_name = authed.log_name();
        let user = match &authed.identity {
            Identity::User(name) | Identity::Nkey(name) => name.clone(),
            Identity::Anonymous | Identity::Token => String::new(),
        };
        self.authed_user = user;
        self.shared.install_permissions(authed.permissions);
        self.refresh_publish_check();
        if let Some(valid_for) = authed.valid_for {
            self.auth.timers.push(close_after(
                &self.shared,
                valid_for,
                AUTHENTICATION_EXPIRED,
                CloseReason::AuthenticationExpired,
                None,
            ));
        }
        Ok(())
    }

    /// Rebuilds the publish gate if the permissions changed (CONNECT or reload); one atomic
    /// load per read batch otherwise.
    pub(super) fn refresh_publish_check(&mut self) {
        let generation = self.shared.authz_generation.load(Ordering::Acquire);
        if generation == self.auth.generation {
            return;
        }
        self.auth.generation = generation;
        let permissions = self.shared.authz.lock().permissions.clone();
        self.auth.publish_check = permissions
            .filter(|p| p.restricts_publish())
            .map(PublishCheck::new);
    }

    /// Whether this connection has a publish gate at all (false for most users).
    #[inline]
    pub(super) fn checks_publish(&self) -> bool {
        self.auth.publish_check.is_some()
    }

    /// nats-server's `pubAllowed`, with the violation answered and logged.
    pub(super) fn publish_permitted(&mut self, subject: &[u8]) -> bool {
        let Some(check) = self.auth.publish_check.as_mut() else {
            return true;
        };
        let allowed = match check.check(subject) {
            PublishVerdict::Allowed => true,
            PublishVerdict::Denied => false,
            PublishVerdict::CheckResponses => self.shared.try_respond(subject),
        };
        if !allowed {
            error!(
                "{} - {}",
                self.label,
                publish_violation_log(&self.auth.log_name, subject)
            );
            self.send_err(&publish_violation(subject));
        }
        allowed
    }

    /// nats-server's `canSubscribe` (and the `_sys_` queue rule), with the violation answered
    /// and logged; arms deny-at-delivery when the subscription is broader than a deny clause.
    pub(super) fn subscribe_permitted(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
    ) -> bool {
        let permissions = self.shared.authz.lock().permissions.clone();
        let allowed = queue_allowed(queue)
            && permissions
                .as_ref()
                .is_none_or(|p| p.subscribe_allowed(subject, queue));
        if !allowed {
            error!(
                "{} - {}",
                self.label,
                subscribe_violation_log(&self.auth.log_name, subject, queue, sid)
            );
            self.send_err(&subscribe_violation(subject, queue));
            return false;
        }
        if permissions.is_some_and(|p| p.needs_delivery_filter(subject, queue)) {
            self.shared.activate_delivery_filter();
        }
        true
    }
}

/// After a reload changed authorization: every connected client is authenticated again with
/// the credentials of its CONNECT; those refused are closed, the others get the new
/// permissions and lose the subscriptions those no longer allow.
pub(crate) fn recheck_authorization(server: &ServerState) {
    for client in server.clients_snapshot() {
        let authenticator = server.authenticator_for(&client);
        if !client.connect_received.load(Ordering::Acquire) {
            // Not authenticated yet: its CONNECT will meet the new configuration.
            continue;
        }
        let (credentials, nonce, certificate) = {
            let authz = client.authz.lock();
            (
                authz.credentials.clone(),
                authz.nonce.clone().unwrap_or_default(),
                authz.certificate.clone(),
            )
        };
        let facts = client_facts(&client);
        let outcome = if certificate.is_some() && !authenticator.config().users.is_empty() {
            map_certificate_user(&authenticator, certificate.as_ref(), &facts)
        } else {
            authenticator.authenticate(&credentials.borrow(), nonce.as_bytes(), &facts)
        };
        match outcome {
            Ok(authed) if moved_account(server, &client, &authed) => {
                // As nats-server: the client reconnects and binds to its new account.
                debug!("{} - user moved to another account", client.label());
                client.close(CloseReason::ClientClosed, true);
            }
            Ok(authed) => {
                client.install_permissions(authed.permissions.clone());
                if let Some(permissions) = &authed.permissions {
                    remove_refused_subscriptions(&client, permissions, &authed);
                }
            }
            Err(e) => {
                let label = client.label();
                log_auth_error(
                    &label,
                    &authenticator.violation_log(&credentials.borrow()),
                    &e,
                );
                client.send_now(|out| encode::write_err(out, AUTHORIZATION_VIOLATION));
                client.close(CloseReason::AuthenticationViolation, true);
            }
        }
    }
}

/// Whether a reload put the client's user in an account other than the one it is bound to
/// (nats-server's `clientHasMovedToDifferentAccount`).
fn moved_account(server: &ServerState, client: &ClientShared, authed: &AuthedUser) -> bool {
    let now = authed
        .account
        .as_deref()
        .unwrap_or(&server.global_account().name);
    *client.account_name() != *now
}

fn remove_refused_subscriptions(
    client: &Arc<ClientShared>,
    permissions: &CompiledPermissions,
    authed: &AuthedUser,
) {
    let subscriptions = client.subscriptions();
    for sub in subscriptions {
        let queue = sub.queue.as_deref();
        if permissions.subscribe_allowed(&sub.subject, queue) {
            if permissions.needs_delivery_filter(&sub.subject, queue) {
                client.activate_delivery_filter();
            }
            continue;
        }
        client.subscriptions.lock().remove(&sub.sid);
        if !sub.removed.swap(true, Ordering::AcqRel) {
            client.account().sublist.remove(&sub.subject, queue, &sub);
        }
        info!(
            "{} - {}",
            client.label(),
            subscription_removed_log(&authed.log_name(), &sub.subject, queue, &sub.sid)
        );
        let message = subscription_removed(&sub.subject, queue, &sub.sid);
        client.send_now(|out| encode::write_err(out, &message));
    }
}

#[cfg(test)]
mod tests {
    use super::AuthRace;

    #[test]
    fn connect_and_auth_timeout_settle_once() {
        let race = AuthRace::default();
        assert!(race.authenticate());
        assert!(
            !race.time_out(),
            "the timer must not close an authenticated client"
        );
        assert!(
            race.authenticate(),
            "re-authentication after a reload still passes"
        );

        let race = AuthRace::default();
        assert!(race.time_out());
        assert!(
            !race.authenticate(),
            "a CONNECT after the timeout is refused"
        );
        assert!(!race.time_out(), "the timer closes once");
    }
}
