//! Server options with nats-server's defaults; the CLI and (later) the config file fill them.

use crate::account::AccountConfig;
use crate::tls::TlsOptions;
use natrium_auth::AuthConfig;
use natrium_jetstream::api::types::AccountLimits as JetStreamAccountLimits;
use natrium_subject::mapping::Mappings;
use std::path::PathBuf;
use std::time::Duration;

/// The default client port.
pub const DEFAULT_PORT: u16 = 4222;
/// The default largest message a client may publish (1 MiB).
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
/// The default longest control line (4 KiB).
pub const DEFAULT_MAX_CONTROL_LINE: usize = 4096;
/// The default most bytes queued for one client before it is a slow consumer (64 MiB).
pub const DEFAULT_MAX_PENDING: usize = 64 * 1024 * 1024;
/// The default most connections (64 K).
pub const DEFAULT_MAX_CONNECTIONS: usize = 64 * 1024;

/// nats-server's `DEFAULT_SYSTEM_ACCOUNT`.
pub const SYSTEM_ACCOUNT: &str = "$SYS";

/// Where the client listener binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenPort {
    /// A fixed port.
    Fixed(u16),
    /// Any free port (nats-server's `-p -1`).
    Random,
}

/// Everything a server is started with.
#[derive(Debug, Clone)]
pub struct Options {
    /// The interface clients connect to.
    pub host: String,
    /// The client port.
    pub port: ListenPort,
    /// The server's name; its id when empty.
    pub server_name: String,
    /// The address advertised to clients in place of `host:port`.
    pub client_advertise: String,
    /// Largest message accepted from a client, in bytes.
    pub max_payload: usize,
    /// Longest control line accepted from a client, in bytes.
    pub max_control_line: usize,
    /// Most bytes queued to one client before it is cut off as a slow consumer.
    pub max_pending: usize,
    /// Most client connections at once.
    pub max_connections: usize,
    /// Most subscriptions per connection; 0 means no limit.
    pub max_subscriptions: usize,
    /// How often the server PINGs an idle client.
    pub ping_interval: Duration,
    /// How many PINGs may go unanswered before the connection is stale.
    pub ping_max: u32,
    /// How long one write to a client may take before it is a slow consumer.
    pub write_deadline: Duration,
    /// How long a client has to authenticate when authentication is configured; the
    /// `authorization { timeout }` (nats-server's default: 2 s, or the TLS timeout plus 1 s).
    pub auth_timeout: Duration,
    /// Whether message headers are supported.
    pub headers: bool,
    /// Log at debug level.
    pub debug: bool,
    /// Log every protocol line.
    pub trace: bool,
    /// Prefix log lines with a timestamp.
    pub logtime: bool,
    /// Log to this file instead of standard error.
    pub log_file: Option<PathBuf>,
    /// Write the process id here at start.
    pub pid_file: Option<PathBuf>,
    /// Rotate the log file when it grows past this many bytes; 0 means never.
    pub log_size_limit: u64,
    /// The interface the HTTP monitoring listener binds (nats-server: same as `host`).
    pub http_host: String,
    /// The HTTP monitoring port; `None` means no HTTP monitoring.
    pub http_port: Option<ListenPort>,
    /// The HTTPS monitoring port; `None` means no HTTPS monitoring.
    pub https_port: Option<ListenPort>,
    /// A path prefix for every monitoring endpoint.
    pub http_base_path: String,
    /// Over how long lame duck mode closes the remaining clients.
    pub lame_duck_duration: Duration,
    /// How long lame duck mode waits before it starts closing clients.
    pub lame_duck_grace_period: Duration,
    /// Client authentication and permissions (`authorization {}`, `no_auth_user`, and the
    /// `--user`/`--pass`/`--auth` flags).
    pub auth: AuthConfig,
    /// TLS for client connections (and HTTPS monitoring); `None` means plain TCP.
    pub tls: Option<TlsOptions>,
    /// The configuration file the options came from, if any.
    pub config_file: Option<PathBuf>,
    /// JetStream: off unless `-js` or a `jetstream` block turns it on.
    pub jetstream: JetStreamOptions,
    /// The `websocket {}` block; `None` (or no port) means no websocket listener.
    pub websocket: Option<WebsocketOptions>,
    /// The top-level `mappings {}` block: the global account's subject mappings.
    pub mappings: Mappings,
    /// The `accounts {}` block (their users are in `auth`, each with its account's name).
    pub accounts: Vec<AccountConfig>,
    /// `system_account`: the account named for the server's own traffic; `None` means the
    /// default (`$SYS`, unless `no_system_account`).
    pub system_account: Option<String>,
    /// `no_system_account`: run without a system account.
    pub no_system_account: bool,
}

/// nats-server's handshake timeout is none by default; Natrium bounds a silent upgrade by
/// this instead, as TLS bounds its handshake.
pub const DEFAULT_WEBSOCKET_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// The `websocket {}` block (nats-server's `WebsocketOpts`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebsocketOptions {
    /// The interface the listener binds; 0.0.0.0 when empty (nats-server's `DEFAULT_HOST`).
    pub host: String,
    /// The listener's port.
    pub port: ListenPort,
    /// `host:port` advertised in INFO `ws_connect_urls` instead of the listener's.
    pub advertise: String,
    /// Serve plain `ws://` without a `tls {}` block (nats-server refuses otherwise).
    pub no_tls: bool,
    /// TLS for `wss://`.
    pub tls: Option<TlsOptions>,
    /// Refuse an `Origin` other than the request's `Host`.
    pub same_origin: bool,
    /// Origins (`scheme://host[:port]`) allowed in; empty allows any.
    pub allowed_origins: Vec<String>,
    /// How long a client has to send its upgrade request; zero is Natrium's default bound.
    pub handshake_timeout: Duration,
    /// Extra headers for the 101 response, in configuration order.
    pub headers: Vec<(String, String)>,
    /// Accept permessage-deflate from clients that offer it (`compression`).
    pub compression: bool,
    /// The block's `authorization {}` and `no_auth_user`, overriding the main ones for
    /// websocket clients when they name a user, a token or a `no_auth_user`.
    pub auth: natrium_auth::ListenerAuth,
    /// Cookies of the upgrade request whose values stand in for CONNECT's missing `user`,
    /// `pass` and `auth_token` (`user_cookie`, `pass_cookie`, `token_cookie`; "" for none).
    pub user_cookie: String,
    /// See `user_cookie`.
    pub pass_cookie: String,
    /// See `user_cookie`.
    pub token_cookie: String,
}

impl WebsocketOptions {
    /// The handshake timeout in force.
    pub fn handshake_timeout(&self) -> Duration {
        if self.handshake_timeout.is_zero() {
            DEFAULT_WEBSOCKET_HANDSHAKE_TIMEOUT
        } else {
            self.handshake_timeout
        }
    }
}

/// The `jetstream {}` block and the `-js`/`-sd` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JetStreamOptions {
    /// Whether JetStream runs.
    pub enabled: bool,
    /// The directory holding `jetstream/`; the system's temporary directory when empty.
    pub store_dir: String,
    /// Most memory-stream bytes; `None` sizes it from the machine (75% of RAM).
    pub max_memory: Option<i64>,
    /// Most file-stream bytes; `None` sizes it from the disk (75% of what is free).
    pub max_store: Option<i64>,
    /// The JetStream domain, if any.
    pub domain: String,
    /// How often file stores are forced to disk; `None` means before every acknowledgement
    /// (Natrium's default, see `natrium_store::SyncPolicy`).
    pub sync_interval: Option<Duration>,
    /// The key that encrypts stores at rest, if any.
    pub key: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: "0.0.0.0".to_string(),
            port: ListenPort::Fixed(DEFAULT_PORT),
            server_name: String::new(),
            client_advertise: String::new(),
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_control_line: DEFAULT_MAX_CONTROL_LINE,
            max_pending: DEFAULT_MAX_PENDING,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_subscriptions: 0,
            ping_interval: Duration::from_secs(120),
            ping_max: 2,
            write_deadline: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(2),
            headers: true,
            debug: false,
            trace: false,
            logtime: true,
            log_file: None,
            pid_file: None,
            log_size_limit: 0,
            http_host: String::new(),
            http_port: None,
            https_port: None,
            http_base_path: String::new(),
            lame_duck_duration: Duration::from_secs(120),
            lame_duck_grace_period: Duration::from_secs(10),
            auth: AuthConfig::default(),
            tls: None,
            config_file: None,
            jetstream: JetStreamOptions::default(),
            websocket: None,
            mappings: Mappings::new(),
            accounts: Vec::new(),
            system_account: None,
            no_system_account: false,
        }
    }
}

impl Options {
    /// The JetStream limits of the account called `name`, if JetStream is on for it: with no
    /// configured accounts `$G` has it (with no limits), else the accounts whose `jetstream`
    /// says so, as nats-server's `enableJetStreamAccounts` decides.
    pub fn jetstream_account_limits(&self, name: &str) -> Option<JetStreamAccountLimits> {
        if !self.jetstream.enabled {
            return None;
        }
        let others = self
            .accounts
            .iter()
            .any(|a| Some(a.name.as_str()) != self.system_account_name());
        if !others {
            return (name == crate::account::GLOBAL_ACCOUNT).then(JetStreamAccountLimits::default);
        }
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.jetstream)
    }

    /// The system account's name: `system_account`, else an account named `$SYS` if one is
    /// configured or none is to be created (`no_system_account`), as nats-server decides.
    pub fn system_account_name(&self) -> Option<&str> {
        if let Some(name) = self.system_account.as_deref() {
            return Some(name);
        }
        let configured = self.accounts.iter().any(|a| a.name == SYSTEM_ACCOUNT);
        (configured || !self.no_system_account).then_some(SYSTEM_ACCOUNT)
    }

    /// The auth timeout in force: the configured one, else nats-server's
    /// `getDefaultAuthTimeout` (the TLS timeout plus 1 s with TLS, else 2 s).
    pub fn effective_auth_timeout(&self) -> Duration {
        match (self.auth.auth_timeout, &self.tls) {
            (Some(timeout), _) => timeout,
            (None, Some(tls)) => tls.timeout + Duration::from_secs(1),
            (None, None) => self.auth_timeout,
        }
    }
}
