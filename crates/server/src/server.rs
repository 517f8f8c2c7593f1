//! The server: shared state, the client listener and shutdown.

use crate::account::{Account, Accounts, GLOBAL_ACCOUNT};
use crate::client::{
    run_client, run_websocket_client, ClientShared, CloseReason, WebsocketListener,
};
use crate::info::{ServerInfo, NATS_COMPATIBLE_VERSION, PROTOCOL_VERSION};
use crate::jetstream::JetStreamService;
use crate::monitor::jetstream::JetStreamSnapshot;
use crate::monitor::{self, MonitorState};
use crate::options::{ListenPort, Options};
use crate::system::{SystemEvents, SystemService};
use crate::{lame_duck, log, reload};
use natrium_auth::{Authenticator, PLAINTEXT_PASSWORDS_WARNING};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{debug, error, info};

/// How long shutdown waits for connections to finish their last writes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Errors starting a server.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The client listener could not be bound.
    #[error("listen on {address}: {source}")]
    Listen {
        /// The address tried.
        address: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The options contradict each other.
    #[error("{0}")]
    InvalidOptions(String),
    /// JetStream could not start (its store directory, or recovering its streams).
    #[error("{0}")]
    JetStream(String),
}

/// Server-wide counters, as `/varz` reports them.
#[derive(Default)]
pub struct ServerStats {
    /// Messages received from clients.
    pub in_msgs: AtomicU64,
    /// Payload bytes received from clients.
    pub in_bytes: AtomicU64,
    /// Messages sent to clients.
    pub out_msgs: AtomicU64,
    /// Payload bytes sent to clients.
    pub out_bytes: AtomicU64,
    /// Connections cut off as slow consumers.
    pub slow_consumers: AtomicU64,
    /// Connections accepted since start.
    pub total_connections: AtomicU64,
}

/// State every connection shares.
pub(crate) struct ServerState {
    /// The options in force; replaced whole on reload.
    options: RwLock<Arc<Options>>,
    /// Bumped on every reload, so connections refresh their copy once per read batch.
    options_generation: AtomicU64,
    /// `options.auth` prepared for CONNECTs (and the websocket block's override); replaced
    /// together with the options.
    authenticator: RwLock<PreparedAuth>,
    pub server_id: String,
    pub server_name: String,
    pub port: u16,
    /// Every account by name; connections hold their own's `Arc`.
    pub accounts: Accounts,
    pub stats: ServerStats,
    pub next_client_id: AtomicU64,
    clients: Mutex<HashMap<u64, Arc<ClientShared>>>,
    started: Instant,
    seed: u64,
    /// Monitoring's state: closed connections, request counts, start times.
    pub monitor: MonitorState,
    /// JetStream's latest figures, published by its thread; `None` without JetStream.
    pub jetstream_snapshot: Mutex<Option<JetStreamSnapshot>>,
    /// Where connections report to the system account's thread; unset without one.
    pub system: std::sync::OnceLock<Arc<SystemEvents>>,
    /// Where monitoring asks the JetStream thread for stream details; unset without it.
    pub jetstream_details: std::sync::OnceLock<Arc<crate::jetstream::DetailExchange>>,
    /// Set once lame duck mode starts; it never ends but in shutdown.
    lame_duck: AtomicBool,
    lame_duck_requested: Notify,
    shutdown_requested: Notify,
}

impl ServerState {
    /// The options in force.
    pub fn options(&self) -> Arc<Options> {
        Arc::clone(&self.options.read())
    }

    /// Changes whenever the options are replaced.
    pub fn options_generation(&self) -> u64 {
        self.options_generation.load(Ordering::Acquire)
    }

    /// Puts new options (and their prepared authenticators) in force for every connection.
    pub fn replace_options(&self, options: Options, authenticator: PreparedAuth) {
        *self.authenticator.write() = authenticator;
        *self.options.write() = Arc::new(options);
        self.options_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The authenticator in force for `client`: the websocket block's for a websocket
    /// client when the block overrides the main settings, else the main one.
    pub fn authenticator_for(&self, client: &ClientShared) -> Arc<Authenticator> {
        let prepared = self.authenticator.read();
        match &prepared.websocket {
            Some(websocket) if client.websocket.load(Ordering::Relaxed) => Arc::clone(websocket),
            _ => Arc::clone(&prepared.clients),
        }
    }

    /// Milliseconds since the server started: a cheap clock for activity stamps.
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// A per-connection seed for queue member selection.
    pub fn seed_for(&self, client_id: u64) -> u64 {
        // splitmix64 of the pair, never zero (xorshift's fixed point).
        let mut z = self.seed ^ client_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) | 1
    }

    /// The INFO JSON for one connection; `nonce` only in the first INFO of an nkey server.
    pub fn client_info_json(
        &self,
        client: &ClientShared,
        ldm: bool,
        nonce: Option<&str>,
    ) -> Vec<u8> {
        let info = self.client_info(client, ldm, nonce);
        serde_json::to_vec(&info).unwrap_or_default()
    }

    /// The INFO for one connection, for callers that adjust a field before sending it.
    pub fn client_info(&self, client: &ClientShared, ldm: bool, nonce: Option<&str>) -> ServerInfo {
        let options = self.options();
        // The websocket block's override makes its clients authenticate (`createWSClient`).
        let websocket_override = client.websocket.load(Ordering::Relaxed)
            && options
                .websocket
                .as_ref()
                .is_some_and(|ws| ws.auth.overrides());
        ServerInfo {
            server_id: self.server_id.clone(),
            server_name: self.server_name.clone(),
            version: NATS_COMPATIBLE_VERSION.to_string(),
            proto: PROTOCOL_VERSION,
            go: format!("natrium {}", env!("CARGO_PKG_VERSION")),
            host: options.host.clone(),
            port: self.port,
            headers: options.headers,
            // nats-server tells clients no auth is needed when no_auth_user admits them.
            auth_required: websocket_override
                || options.auth.auth_required()
                    && options
                        .auth
                        .no_auth_user
                        .as_deref()
                        .unwrap_or_default()
                        .is_empty(),
            tls_required: options.tls.is_some(),
            tls_verify: options.tls.as_ref().is_some_and(|tls| tls.spec.verify),
            tls_available: false,
            max_payload: options.max_payload,
            jetstream: options.jetstream.enabled,
            client_id: client.id,
            client_ip: client.peer.ip().to_string(),
            nonce: nonce.map(str::to_string),
            connect_urls: Vec::new(),
            ldm,
        }
    }

    /// Sends a fresh INFO to every client that accepts updates (protocol 1).
    pub fn send_info_update(&self, ldm: bool) {
        for client in self.clients_snapshot() {
            if client.info_updates.load(Ordering::Acquire) {
                let info = self.client_info_json(&client, ldm, None);
                client.send_now(|out| natrium_proto::encode::write_info(out, &info));
            }
        }
    }

    /// Tells clients this server is going away (INFO with `"ldm":true`).
    pub fn send_lame_duck_info(&self) {
        self.send_info_update(true);
    }

    /// Every registered connection, at this moment.
    pub fn clients_snapshot(&self) -> Vec<Arc<ClientShared>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Adds a connection unless the server is at `max_connections`.
    pub fn register_client(&self, client: &Arc<ClientShared>) -> bool {
        let mut clients = self.clients.lock();
        if clients.len() >= self.options().max_connections {
            return false;
        }
        clients.insert(client.id, Arc::clone(client));
        self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        true
    }

    pub fn unregister_client(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub(crate) fn client_count(&self) -> usize {
        self.clients.lock().len()
    }

    /// The account called `name`, if it exists.
    pub fn lookup_account(&self, name: &str) -> Option<Arc<Account>> {
        self.accounts.lookup(name)
    }

    /// `$G`, the account of clients whose user names no other.
    pub fn global_account(&self) -> &Arc<Account> {
        self.accounts.global()
    }
}

/// A NATS server bound to its client port.
pub struct Server {
    state: Arc<ServerState>,
    listener: TcpListener,
    /// The HTTP monitoring listener, if monitoring is on.
    monitor_listener: Option<TcpListener>,
    /// The websocket listener and its settings, if a `websocket {}` block asks for one.
    websocket: Option<(TcpListener, Arc<WebsocketListener>)>,
    /// The JetStream thread, when JetStream is enabled.
    jetstream: Option<JetStreamService>,
    /// The system account's thread, unless `no_system_account`.
    system: Option<SystemService>,
}

impl Server {
    /// Validates `options`, binds the client listener and logs the startup banner.
    pub async fn bind(options: Options) -> Result<Server, ServerError> {
        if options.max_payload > options.max_pending {
            return Err(ServerError::InvalidOptions(format!(
                "max_payload ({}) cannot be higher than max_pending ({})",
                options.max_payload, options.max_pending
            )));
        }
        let server_id = nkeys::KeyPair::new_server().public_key();
        let server_name = if options.server_name.is_empty() {
            server_id.clone()
        } else {
            options.server_name.clone()
        };
        info!("Starting natrium");
        info!(
            "  Version:  {} (nats-server {NATS_COMPATIBLE_VERSION} compatible)",
            env!("CARGO_PKG_VERSION")
        );
        info!("  Name:     {server_name}");
        info!("  ID:       {server_id}");
        if let (Some(http), Some(https)) = (&options.http_port, &options.https_port) {
            return Err(ServerError::InvalidOptions(format!(
                "can't specify both HTTP ({}) and HTTPs ({}) ports",
                monitor_port_text(http),
                monitor_port_text(https)
            )));
        }
        if options.https_port.is_some() && options.tls.is_none() {
            return Err(ServerError::InvalidOptions(
                "TLS cert and key required for HTTPS".to_string(),
            ));
        }
        let monitor_listener = match (&options.http_port, &options.https_port) {
            (Some(port), _) => Some(("http", port)),
            (None, Some(port)) => Some(("https", port)),
            (None, None) => None,
        };
        let monitor_listener = match monitor_listener {
            Some((scheme, port)) => {
                let host = monitor::http::listen_host(&options);
                let listener = monitor::bind_listener(&host, port)
                    .await
                    .map_err(|source| ServerError::Listen {
                        address: format!("{host}:{}", monitor_port_text(port)),
                        source,
                    })?;
                let bound = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                info!("Starting {scheme} monitor on {host}:{bound}");
                Some(listener)
            }
            None => None,
        };
        let port = match options.port {
            ListenPort::Fixed(port) => port,
            ListenPort::Random => 0,
        };
        let address = format!("{}:{port}", options.host);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| ServerError::Listen { address, source })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
        info!(
            "Listening for client connections on {}:{port}",
            options.host
        );
        let websocket = match &options.websocket {
            Some(ws) => Some(bind_websocket(ws).await?),
            None => None,
        };
        let authenticator = prepare_authenticator(&options)?;
        check_system_account(&options)?;
        let accounts = Accounts::new();
        accounts.configure(
            &options.accounts,
            &options.mappings,
            options.system_account_name(),
        );
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5EED);
        let started = Instant::now();
        let jetstream_options = options.clone();
        let state = Arc::new(ServerState {
            options: RwLock::new(Arc::new(options)),
            options_generation: AtomicU64::new(0),
            authenticator: RwLock::new(authenticator),
            server_id,
            server_name,
            port,
            accounts,
            stats: ServerStats::default(),
            next_client_id: AtomicU64::new(1),
            clients: Mutex::new(HashMap::new()),
            started,
            seed,
            monitor: MonitorState::new(started),
            jetstream_snapshot: Mutex::new(None),
            jetstream_details: std::sync::OnceLock::new(),
            system: std::sync::OnceLock::new(),
            lame_duck: AtomicBool::new(false),
            lame_duck_requested: Notify::new(),
            shutdown_requested: Notify::new(),
        });
        let system = match jetstream_options.system_account_name() {
            Some(name) => {
                let account = state.accounts.get_or_create(name);
                let service = SystemService::start(Arc::clone(&state), account)
                    .map_err(ServerError::InvalidOptions)?;
                let _ = state.system.set(service.events());
                Some(service)
            }
            None => None,
        };
        let jetstream = if jetstream_options.jetstream.enabled {
            let service = JetStreamService::start(Arc::clone(&state), &jetstream_options)
                .map_err(ServerError::JetStream)?;
            Some(service)
        } else {
            None
        };
        Ok(Server {
            state,
            listener,
            monitor_listener,
            websocket,
            jetstream,
            system,
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the HTTP monitoring listener, if monitoring is on.
    pub fn monitor_addr(&self) -> Option<SocketAddr> {
        self.monitor_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The address websocket clients connect to, if the listener is on.
    pub fn websocket_addr(&self) -> Option<SocketAddr> {
        self.websocket
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// The server's public id.
    pub fn id(&self) -> &str {
        &self.state.server_id
    }

    /// The server's counters.
    pub fn stats(&self) -> &ServerStats {
        &self.state.stats
    }

    /// A handle to reload, drain or stop the server while it runs.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            state: Arc::clone(&self.state),
        }
    }

    /// Serves clients until a [`ServerHandle`] asks for shutdown (directly or at the end of
    /// lame duck mode), then closes every connection.
    pub async fn run(self) {
        let monitoring = self.monitor_listener.map(|listener| {
            let options = self.state.options();
            // The https listener keeps the TLS it started with; a reload cannot move it.
            let tls = options.https_port.as_ref().and(options.tls.clone());
            tokio::spawn(monitor::serve(Arc::clone(&self.state), listener, tls))
        });
        let mut jetstream = self.jetstream;
        let mut system = self.system;
        info!("Server is ready");
        let state = Arc::clone(&self.state);
        let mut listener = Some(self.listener);
        let (mut websocket_listener, websocket) = match self.websocket {
            Some((listener, settings)) => (Some(listener), Some(settings)),
            None => (None, None),
        };
        loop {
            tokio::select! {
                accepted = accept(listener.as_ref()) => match accepted {
                    Ok((stream, peer)) => {
                        tokio::spawn(run_client(Arc::clone(&state), stream, peer));
                    }
                    Err(e) => {
                        // Out of descriptors and the like: back off rather than spin.
                        error!("Error accepting client connection: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                accepted = accept(websocket_listener.as_ref()) => match (accepted, &websocket) {
                    (Ok((stream, peer)), Some(settings)) => {
                        tokio::spawn(run_websocket_client(
                            Arc::clone(&state),
                            Arc::clone(settings),
                            stream,
                            peer,
                        ));
                    }
                    (Ok(_), None) => {}
                    (Err(e), _) => {
                        error!("Error accepting websocket connection: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                _ = state.lame_duck_requested.notified(), if listener.is_some() => {
                    info!("Entering lame duck mode, stop accepting new clients");
                    state.lame_duck.store(true, Ordering::Release);
                    listener = None;
                    websocket_listener = None;
                    let draining = Arc::clone(&state);
                    tokio::spawn(async move {
                        lame_duck::run(Arc::clone(&draining)).await;
                        draining.shutdown_requested.notify_one();
                    });
                }
                _ = state.shutdown_requested.notified() => break,
            }
        }
        info!("Initiating Shutdown...");
        if let Some(monitoring) = monitoring {
            monitoring.abort();
        }
        if let Some(mut system) = system.take() {
            // The shutdown event goes out while connections are still open to carry it.
            let _ = tokio::task::spawn_blocking(move || system.shut_down()).await;
        }
        drop(listener);
        drop(websocket_listener);
        debug!("Client accept loop exiting..");
        for client in state.clients_snapshot() {
            client.close(CloseReason::ServerShutdown, true);
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while state.client_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(mut service) = jetstream.take() {
            // Joining waits for the current batch's fsync: off the async workers.
            let _ = tokio::task::spawn_blocking(move || service.shut_down()).await;
        }
        info!("Server Exiting..");
    }
}

/// Accepts from the listener, or waits forever once it is gone (lame duck mode).
async fn accept(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Controls a running server from outside its tasks (signals, tests).
#[derive(Clone)]
pub struct ServerHandle {
    state: Arc<ServerState>,
}

impl ServerHandle {
    /// Puts `new` options in force if only live-changeable options differ; on error the
    /// running options stay as they were.
    pub fn reload(&self, new: Options) -> Result<(), String> {
        let old = self.state.options();
        reload::check_reloadable(&old, &new)?;
        log::reconfigure(&log::LogSettings::from_options(&new))
            .map_err(|e| format!("log file: {e}"))?;
        if new.pid_file != old.pid_file {
            if let Some(path) = &new.pid_file {
                std::fs::write(path, std::process::id().to_string())
                    .map_err(|e| format!("could not write pidfile: {e}"))?;
            }
        }
        let payload_changed = new.max_payload != old.max_payload;
        let auth_changed = new.auth != old.auth || new.accounts != old.accounts;
        let authenticator = prepare_authenticator(&new).map_err(|e| e.to_string())?;
        check_system_account(&new).map_err(|e| e.to_string())?;
        // nats-server replaces an account's mappings wholesale on reload; connected clients
        // map with the new ones from their next read.
        self.state
            .accounts
            .configure(&new.accounts, &new.mappings, new.system_account_name());
        self.state.replace_options(new, authenticator);
        if auth_changed {
            crate::client::recheck_authorization(&self.state);
        }
        self.state.monitor.note_config_loaded();
        if payload_changed {
            self.state.send_info_update(false);
        }
        info!("Reloaded server configuration");
        Ok(())
    }

    /// Starts lame duck mode (a second call does nothing).
    pub fn enter_lame_duck_mode(&self) {
        if !self.state.lame_duck.load(Ordering::Acquire) {
            self.state.lame_duck_requested.notify_one();
        }
    }

    /// True once lame duck mode has started.
    pub fn in_lame_duck_mode(&self) -> bool {
        self.state.lame_duck.load(Ordering::Acquire)
    }

    /// Asks the server to shut down.
    pub fn shutdown(&self) {
        self.state.shutdown_requested.notify_one();
    }

    /// The options in force.
    pub fn options(&self) -> Arc<Options> {
        self.state.options()
    }
}

/// Binds the websocket listener and logs it as nats-server does.
async fn bind_websocket(
    ws: &crate::options::WebsocketOptions,
) -> Result<(TcpListener, Arc<WebsocketListener>), ServerError> {
    // nats-server's baseline: an unset websocket host is 0.0.0.0, not the client host.
    let host = if ws.host.is_empty() {
        "0.0.0.0".to_string()
    } else {
        ws.host.clone()
    };
    let port = match ws.port {
        ListenPort::Fixed(port) => port,
        ListenPort::Random => 0,
    };
    let address = format!("{host}:{port}");
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|source| ServerError::Listen { address, source })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let scheme = if ws.tls.is_some() { "wss" } else { "ws" };
    info!("Listening for websocket clients on {scheme}://{host}:{port}");
    if ws.tls.is_none() {
        tracing::warn!("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
    }
    let settings = WebsocketListener::new(ws.clone()).map_err(ServerError::InvalidOptions)?;
    Ok((listener, Arc::new(settings)))
}

/// The authentication settings in force, prepared for CONNECTs.
pub(crate) struct PreparedAuth {
    /// `options.auth`.
    clients: Arc<Authenticator>,
    /// The main users with the websocket block's single user, token and `no_auth_user`,
    /// when the block overrides (nats-server's `authOverride`).
    websocket: Option<Arc<Authenticator>>,
}

/// Prepares `options.auth` for CONNECTs, warning about plaintext passwords as nats-server,
/// and the websocket block's override with `validateWebsocketOptions`'s checks.
fn prepare_authenticator(options: &Options) -> Result<PreparedAuth, ServerError> {
    if options.auth.has_plaintext_passwords() {
        tracing::warn!("{PLAINTEXT_PASSWORDS_WARNING}");
    }
    let invalid = |e: natrium_auth::SetupError| ServerError::InvalidOptions(e.to_string());
    let clients = Arc::new(Authenticator::new(options.auth.clone()).map_err(invalid)?);
    let websocket = match options.websocket.as_ref().map(|ws| &ws.auth) {
        Some(ws) if ws.overrides() => {
            // Checks `no_auth_user` against the main users first, as nats-server.
            let prepared = Authenticator::new(ws.apply_to(&options.auth)).map_err(invalid)?;
            let main = &options.auth;
            if !main.users.is_empty() || !main.nkeys.is_empty() {
                let filled = |text: Option<&str>| text.is_some_and(|t| !t.is_empty());
                let conflict = if filled(ws.username.as_deref()) {
                    Some("username")
                } else if filled(ws.token.as_ref().map(natrium_auth::Secret::as_str)) {
                    Some("token")
                } else {
                    None
                };
                if let Some(what) = conflict {
                    return Err(ServerError::InvalidOptions(format!(
                        "websocket authentication {what} not compatible with presence of users/nkeys"
                    )));
                }
            }
            Some(Arc::new(prepared))
        }
        _ => None,
    };
    Ok(PreparedAuth { clients, websocket })
}

/// nats-server's `configureAccounts`: a configured `system_account` must name an account.
fn check_system_account(options: &Options) -> Result<(), ServerError> {
    let Some(name) = options.system_account.as_deref() else {
        return Ok(());
    };
    let known = name == GLOBAL_ACCOUNT || options.accounts.iter().any(|a| a.name == name);
    if known {
        Ok(())
    } else {
        Err(ServerError::InvalidOptions(
            "error resolving system account: account missing".to_string(),
        ))
    }
}

/// A monitoring port as nats-server prints it (`-1` for a random one).
fn monitor_port_text(port: &ListenPort) -> String {
    match port {
        ListenPort::Fixed(port) => port.to_string(),
        ListenPort::Random => "-1".to_string(),
    }
}
