//! Opening the engine: the store directory, the limits sized from the machine as nats-server
//! sizes them, and the sync policy and encryption key of the file stores.

use crate::account::config::ImportKind;
use crate::account::{AccountConfig, GLOBAL_ACCOUNT};
use crate::options::Options;
use natrium_jetstream::{EngineConfig, FileStores, JetStream, ServerLimits, StoreProvider};
use natrium_store::{EncryptionKey, SyncPolicy};
use std::path::{Path, PathBuf};
use tracing::{error, info};

/// nats-server's memory limit when the machine's memory cannot be read (256 MiB).
const MAX_MEMORY_FALLBACK: i64 = 256 * 1024 * 1024;
/// nats-server's storage limit when the disk cannot be measured (1 TiB).
const MAX_STORE_FALLBACK: i64 = 1024 * 1024 * 1024 * 1024;

/// The engine type the server runs: file streams under the store directory, memory streams
/// in memory.
pub(super) type Engine = JetStream<FileStores>;

/// The settings in force once defaults are sized from the machine.
#[derive(Debug, Clone)]
pub(super) struct Resolved {
    pub max_memory: i64,
    pub max_store: i64,
    pub store_dir: PathBuf,
    pub domain: String,
}

/// Resolves the options, logs them as nats-server does, and opens every account's streams.
pub(super) fn open_engine(
    options: &Options,
    server_name: &str,
) -> Result<(Engine, Resolved), String> {
    let js = &options.jetstream;
    let base_dir = base_dir(&js.store_dir);
    let store_dir = base_dir.join("jetstream");
    std::fs::create_dir_all(&store_dir)
        .map_err(|e| format!("could not create storage directory {store_dir:?}: {e}"))?;
    let max_memory = js
        .max_memory
        .filter(|&limit| limit >= 0)
        .unwrap_or_else(|| total_memory().map_or(MAX_MEMORY_FALLBACK, |total| total / 4 * 3));
    let max_store = js
        .max_store
        .filter(|&limit| limit >= 0)
        .unwrap_or_else(|| disk_available(&store_dir).unwrap_or(MAX_STORE_FALLBACK));
    info!("Starting JetStream");
    info!("---------------- JETSTREAM ----------------");
    info!("  Max Memory:      {}", friendly_bytes(max_memory));
    info!("  Max Storage:     {}", friendly_bytes(max_store));
    info!("  Store Directory: {:?}", store_dir.display().to_string());
    if !js.domain.is_empty() {
        info!("  Domain:          {}", js.domain);
    }
    match js.sync_interval {
        None => info!("  Sync:            always (before every acknowledgement)"),
        Some(interval) => info!("  Sync:            every {interval:?}"),
    }
    info!("-------------------------------------------");
    let config = EngineConfig {
        domain: (!js.domain.is_empty()).then(|| js.domain.clone()),
        server_limits: ServerLimits {
            max_memory_bytes: Some(max_memory),
            max_storage_bytes: Some(max_store),
            ..ServerLimits::default()
        },
        server_name: server_name.to_string(),
        ..EngineConfig::default()
    };
    let sync = match js.sync_interval {
        None => SyncPolicy::Always,
        Some(interval) => SyncPolicy::Interval(interval),
    };
    let key = (!js.key.is_empty()).then(|| EncryptionKey::from_passphrase(&js.key));
    let factory = FileStores::factory(base_dir, sync, key);
    let mut engine = JetStream::new(config, factory);
    for name in jetstream_accounts(options) {
        let Some(limits) = options.jetstream_account_limits(&name) else {
            engine.refuse_account(&name);
            continue;
        };
        engine
            .enable_account_with_limits(&name, limits)
            .map_err(|e| format!("could not recover JetStream: {e}"))?;
        if let Some(account) = engine.account(&name) {
            for skipped in account.provider().skipped() {
                error!(
                    "JetStream could not recover stream in {:?}: {}",
                    skipped.dir.display().to_string(),
                    skipped.reason
                );
            }
        }
    }
    learn_external_apis(&mut engine, options);
    let (usage, _) = engine.usage();
    info!(
        "  Recovered {} streams, {} messages",
        usage.streams, usage.messages
    );
    let resolved = Resolved {
        max_memory,
        max_store,
        store_dir,
        domain: js.domain.clone(),
    };
    Ok((engine, resolved))
}

/// Tells the engine under which prefixes each account imports another's JetStream API, as
/// `options` configure it (at start and after every reload).
pub(super) fn learn_external_apis<P: StoreProvider>(engine: &mut JetStream<P>, options: &Options) {
    engine.clear_external_apis();
    for account in &options.accounts {
        for (prefix, origin) in external_apis(account) {
            engine.add_external_api(&account.name, &prefix, origin);
        }
    }
}

/// Every account that may have JetStream: `$G` and the configured ones.
fn jetstream_accounts(options: &Options) -> Vec<String> {
    let configured = options.accounts.iter().map(|a| a.name.clone());
    std::iter::once(GLOBAL_ACCOUNT.to_string())
        .chain(configured)
        .collect()
}

/// The API prefixes under which `account` imports another account's JetStream API (a
/// service import of `$JS.API.>` to `<prefix>.>`), with that account: what a mirror's or
/// source's `external.api` names.
fn external_apis(account: &AccountConfig) -> impl Iterator<Item = (String, &str)> {
    account.imports.iter().filter_map(|import| {
        if !matches!(import.kind, ImportKind::Service { .. }) || import.subject != "$JS.API.>" {
            return None;
        }
        let local = import.local_subject();
        let prefix = local.strip_suffix(".>")?;
        Some((prefix.to_string(), import.account.as_str()))
    })
}

/// The directory that holds `jetstream/`: the configured one, or `<tmp>/nats` without one,
/// as nats-server.
fn base_dir(configured: &str) -> PathBuf {
    if configured.is_empty() {
        std::env::temp_dir().join("nats")
    } else {
        PathBuf::from(configured)
    }
}

/// The machine's memory in bytes, from `/proc/meminfo`.
fn total_memory() -> Option<i64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// 75% of the space available to unprivileged users under `dir`, as nats-server estimates.
fn disk_available(dir: &Path) -> Option<i64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid C string and `stat` a properly sized out-parameter.
    let result = unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) };
    if result != 0 {
        return None;
    }
    // SAFETY: statvfs succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    let available = (stat.f_bavail as u128) * (stat.f_frsize as u128);
    i64::try_from(available / 4 * 3).ok()
}

/// Bytes as nats-server's `friendlyBytes` prints them: `1.50 GB`, `512 B`.
fn friendly_bytes(bytes: i64) -> String {
    const UNIT: f64 = 1024.0;
    let value = bytes as f64;
    if value < UNIT {
        return format!("{bytes} B");
    }
    let exponent = (value.ln() / UNIT.ln()).floor() as i32;
    let prefix = ["K", "M", "G", "T", "P", "E"][(exponent - 1).clamp(0, 5) as usize];
    format!("{:.2} {prefix}B", value / UNIT.powi(exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_nats_server_prints_them() {
        assert_eq!(friendly_bytes(512), "512 B");
        assert_eq!(friendly_bytes(1536), "1.50 KB");
        assert_eq!(friendly_bytes(3 * 1024 * 1024 * 1024), "3.00 GB");
    }

    #[test]
    fn without_a_store_directory_the_temporary_one_is_used() {
        assert_eq!(base_dir("/data"), PathBuf::from("/data"));
        assert!(base_dir("").ends_with("nats"));
    }

    #[test]
    fn the_machine_is_measured() {
        assert!(total_memory().unwrap_or(0) > 0);
        assert!(disk_available(Path::new("/")).is_some());
    }
}
