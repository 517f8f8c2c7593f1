//! Options from a configuration file: nats-server's keys, read from the config crate's tree.
//!
//! To add an option: give it a field in [`Options`] (with nats-server's default), a key (and
//! its aliases) in [`apply_entry`], a flag in the binary's `cli.rs` if nats-server has one,
//! and a line in `reload.rs` saying whether it may change on reload.

mod accounts;
mod jetstream;
pub mod mappings;
mod tls;
mod websocket;

use crate::options::{ListenPort, Options};
use natrium_config::{Entry, Kind, Value, ValueError};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// The shortest `lame_duck_duration` nats-server accepts.
const LAME_DUCK_DURATION_MIN: Duration = Duration::from_secs(30);

/// Why a configuration file could not be turned into options.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file does not parse.
    #[error("{0}")]
    Parse(#[from] natrium_config::ConfigError),
    /// The file parses but some options are wrong; one line each, with positions.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Options read from `path` on top of nats-server's defaults, and the warnings to log.
pub fn load_file(path: &Path) -> Result<(Options, Vec<String>), LoadError> {
    let root = natrium_config::parse_file(path)?;
    let mut options = Options {
        config_file: Some(path.to_path_buf()),
        ..Options::default()
    };
    let warnings = apply(&mut options, &root)?;
    Ok((options, warnings))
}

/// Applies every top-level key of `root` to `options`; returns the warnings.
pub fn apply(options: &mut Options, root: &Value) -> Result<Vec<String>, LoadError> {
    let map = root
        .as_map()
        .map_err(|e| LoadError::Invalid(vec![e.to_string()]))?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for entry in map.iter() {
        if let Err(message) = apply_entry(options, entry, &mut warnings) {
            errors.push(message);
        }
    }
    // After every other key: imports check `no_system_account`, wherever it is written.
    if let Some(entry) = map.entry_ignore_case("accounts") {
        match accounts::parse(entry, options.no_system_account) {
            Ok(parsed) => options.accounts = parsed,
            Err(list) => errors.extend(list),
        }
    }
    // The auth crate reads `authorization` and `no_auth_user` together: one may name a user
    // the other defines.
    match natrium_auth::parse_auth_config(root) {
        Ok(auth) => {
            if let Some(timeout) = auth.auth_timeout {
                options.auth_timeout = timeout;
            }
            options.auth = auth;
        }
        Err(list) => errors.extend(list.iter().map(ToString::to_string)),
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(LoadError::Invalid(errors))
    }
}

/// Keys nats-server knows that Natrium does not implement yet; refused rather than ignored,
/// so nobody runs believing a feature is on.
const NOT_YET_SUPPORTED: &[&str] = &[
    "cluster",
    "gateway",
    "leaf",
    "leafnodes",
    "mqtt",
    "operator",
    "resolver",
];

fn apply_entry(
    options: &mut Options,
    entry: &Entry,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let value = &entry.value;
    let key = entry.key.to_lowercase();
    let at = &entry.key_position;
    let text = |e: ValueError| e.to_string();
    match key.as_str() {
        "listen" => {
            let (host, port) = host_port(value)?;
            if let Some(host) = host {
                options.host = host;
            }
            options.port = port;
        }
        "host" | "net" => options.host = value.as_str().map_err(text)?.to_string(),
        "port" => options.port = port(value)?,
        "server_name" => {
            let name = value.as_str().map_err(text)?;
            if name.contains(' ') {
                return Err(format!(
                    "{at}: server name \"{name}\" cannot contain spaces"
                ));
            }
            options.server_name = name.to_string();
        }
        "client_advertise" => options.client_advertise = value.as_str().map_err(text)?.to_string(),
        "max_payload" => options.max_payload = size(value, &key)?,
        "max_pending" => options.max_pending = size(value, &key)?,
        "max_control_line" => options.max_control_line = size(value, &key)?,
        "max_connections" | "max_conn" => options.max_connections = count(value, &key)?,
        "max_subscriptions" | "max_subs" => options.max_subscriptions = count(value, &key)?,
        "ping_interval" => options.ping_interval = duration(value, &key, warnings)?,
        "ping_max" => {
            options.ping_max = u32::try_from(value.as_i64().map_err(text)?)
                .map_err(|_| format!("{at}: ping_max value is out of range"))?
        }
        "write_deadline" => options.write_deadline = duration(value, &key, warnings)?,
        "debug" => options.debug = value.as_bool().map_err(text)?,
        "trace" => options.trace = value.as_bool().map_err(text)?,
        "trace_verbose" => options.trace = value.as_bool().map_err(text)?,
        "logtime" => options.logtime = value.as_bool().map_err(text)?,
        "logfile" | "log_file" => {
            options.log_file = Some(PathBuf::from(value.as_str().map_err(text)?))
        }
        "logfile_size_limit" | "log_size_limit" => {
            options.log_size_limit = u64::try_from(value.as_storage_size().map_err(text)?)
                .map_err(|_| format!("{at}: {key} value is out of range"))?
        }
        "pidfile" | "pid_file" => {
            options.pid_file = Some(PathBuf::from(value.as_str().map_err(text)?))
        }
        "no_header_support" => options.headers = !value.as_bool().map_err(text)?,
        "lame_duck_duration" => {
            let duration = go_duration(value, &key)?;
            if duration < LAME_DUCK_DURATION_MIN {
                return Err(format!(
                    "{}: invalid lame_duck_duration of {duration:?}, minimum is 30 seconds",
                    value.position
                ));
            }
            options.lame_duck_duration = duration;
        }
        "lame_duck_grace_period" => options.lame_duck_grace_period = go_duration(value, &key)?,
        "http" => {
            let (host, port) = host_port(value)?;
            options.http_host = host.unwrap_or_default();
            options.http_port = Some(port);
        }
        "https" => {
            let (host, port) = host_port(value)?;
            options.http_host = host.unwrap_or_default();
            options.https_port = Some(port);
        }
        "http_port" | "monitor_port" => options.http_port = Some(port(value)?),
        "https_port" => options.https_port = Some(port(value)?),
        "http_base_path" => options.http_base_path = value.as_str().map_err(text)?.to_string(),
        "jetstream" => jetstream::apply(&mut options.jetstream, entry)?,
        "store_dir" | "storedir" => jetstream::set_store_dir(&mut options.jetstream, value)?,
        // Read as a whole by `natrium_auth::parse_auth_config` in `apply`.
        "authorization" | "no_auth_user" => {}
        // Read in `apply` once the other keys are known.
        "accounts" => {}
        "system_account" | "system" => {
            let name = value
                .as_str()
                .map_err(|_| format!("{}: system account name must be a string", value.position))?;
            options.system_account = Some(name.to_string());
        }
        "no_system_account" | "no_system" | "no_sys_acc" => {
            options.no_system_account = value.as_bool().map_err(text)?
        }
        "tls" => options.tls = Some(tls::parse_tls(entry, warnings)?),
        "websocket" | "ws" => options.websocket = websocket::parse(entry, warnings)?,
        "mappings" | "maps" => {
            options.mappings = mappings::parse(value).map_err(|errors| errors.join("\n"))?
        }
        other if NOT_YET_SUPPORTED.contains(&other) => {
            return Err(format!(
                "{at}: {:?} is not supported by natrium yet",
                entry.key
            ));
        }
        _ if entry.used_as_variable => {}
        _ => return Err(format!("{at}: unknown field {:?}", entry.key)),
    }
    Ok(())
}

/// A port: -1 means random and 0 the default, as in nats-server.
fn port(value: &Value) -> Result<ListenPort, String> {
    let number = value.as_i64().map_err(|e| e.to_string())?;
    match number {
        -1 => Ok(ListenPort::Random),
        0 => Ok(ListenPort::Fixed(crate::options::DEFAULT_PORT)),
        1..=65535 => Ok(ListenPort::Fixed(number as u16)),
        _ => Err(format!("{}: invalid port {number}", value.position)),
    }
}

/// `listen`/`http`: a port alone, or `host:port`.
fn host_port(value: &Value) -> Result<(Option<String>, ListenPort), String> {
    if let Kind::Integer(_) = value.kind {
        return Ok((None, port(value)?));
    }
    let text = value.as_str().map_err(|e| e.to_string())?;
    let invalid = || {
        format!(
            "{}: could not parse address string {text:?}",
            value.position
        )
    };
    let (host, digits) = text.rsplit_once(':').ok_or_else(invalid)?;
    let number: i64 = digits.parse().map_err(|_| invalid())?;
    let port = match number {
        -1 => ListenPort::Random,
        0 => ListenPort::Fixed(crate::options::DEFAULT_PORT),
        1..=65535 => ListenPort::Fixed(number as u16),
        _ => return Err(invalid()),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(((!host.is_empty()).then(|| host.to_string()), port))
}

/// A byte size (integers may carry nats-server's size suffixes).
fn size(value: &Value, key: &str) -> Result<usize, String> {
    let number = value.as_i64().map_err(|e| e.to_string())?;
    usize::try_from(number)
        .ok()
        .filter(|&n| n <= i32::MAX as usize || key == "max_pending")
        .ok_or_else(|| format!("{}: {key} value is out of range", value.position))
}

/// A count where 0 means nats-server's default or "no limit".
fn count(value: &Value, key: &str) -> Result<usize, String> {
    let number = value.as_i64().map_err(|e| e.to_string())?;
    let count = usize::try_from(number)
        .map_err(|_| format!("{}: {key} value is out of range", value.position))?;
    Ok(if key.starts_with("max_conn") && count == 0 {
        crate::options::DEFAULT_MAX_CONNECTIONS
    } else {
        count
    })
}

/// A duration: a Go duration string, or (with a warning, as nats-server) integer seconds.
fn duration(value: &Value, key: &str, warnings: &mut Vec<String>) -> Result<Duration, String> {
    if let Kind::Integer(_) = value.kind {
        warnings.push(format!(
            "{}: {key} should be converted to a duration",
            value.position
        ));
    }
    value
        .as_duration()
        .map_err(|e| format!("{}: error parsing {key}: {}", value.position, e.kind))
}

/// A duration that must be a Go duration string.
fn go_duration(value: &Value, key: &str) -> Result<Duration, String> {
    match value.kind {
        Kind::String(_) => duration(value, key, &mut Vec::new()),
        _ => Err(format!(
            "{}: error parsing {key}: expected a duration string",
            value.position
        )),
    }
}
