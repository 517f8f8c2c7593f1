//! A file stream's saved configuration: `meta.inf` (nats-server's `FileStreamInfo` JSON: a
//! `Created` time beside the configuration's own fields) and `meta.sum` (its checksum).
//!
//! Both are replaced atomically (temporary file, fsync, rename, fsync of the directory). The
//! two renames are not one step, so a crash between them leaves a new `meta.inf` beside the
//! old `meta.sum`; the new checksum is then still in `meta.sum.tmp`, and reading rolls it
//! forward. nats-server hashes with HighwayHash; Natrium's sum is CRC-32C, since its message
//! blocks are its own format anyway and no tool reads one store's files with the other.

use crate::stream::config::StreamConfig;
use crate::time::parse_rfc3339;
use natrium_store::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// The configuration file's name, as nats-server names it.
pub const META_FILE: &str = "meta.inf";
/// The checksum file's name, as nats-server names it.
pub const META_SUM_FILE: &str = "meta.sum";
/// The field of `meta.inf` holding the creation time (Go's embedded-struct JSON has no tag).
const CREATED_FIELD: &str = "Created";

/// Why a saved configuration could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// `meta.inf` or `meta.sum` is missing or unreadable.
    #[error("reading {file}: {source}")]
    Read {
        /// Which file.
        file: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `meta.sum` does not match `meta.inf`.
    #[error("meta.inf does not match its checksum")]
    Checksum,
    /// `meta.inf` is not a stream configuration.
    #[error("meta.inf is not a stream configuration: {0}")]
    Malformed(String),
}

/// Writes `meta.inf` and `meta.sum` for `config` into `dir`, durably.
pub fn write(dir: &Path, config: &StreamConfig, created: i64) -> Result<(), StoreError> {
    let mut json = serde_json::to_value(config)
        .map_err(|_| StoreError::InvalidConfig("stream configuration does not serialize"))?;
    if let Some(object) = json.as_object_mut() {
        let created = natrium_gofmt::rfc3339_or_zero(created);
        object.insert(CREATED_FIELD.to_string(), created.into());
    }
    let bytes = serde_json::to_vec(&json)
        .map_err(|_| StoreError::InvalidConfig("stream configuration does not serialize"))?;
    let sum = checksum(&bytes);
    let context = "saving the stream configuration";
    write_synced(&temporary(dir, META_FILE), &bytes, context)?;
    write_synced(&temporary(dir, META_SUM_FILE), sum.as_bytes(), context)?;
    let rename = |name: &str| fs::rename(temporary(dir, name), dir.join(name));
    rename(META_FILE).map_err(io(context))?;
    rename(META_SUM_FILE).map_err(io(context))?;
    sync_dir(dir, context)
}

/// Reads the configuration and creation time saved in `dir`.
pub fn read(dir: &Path) -> Result<(StreamConfig, i64), MetaError> {
    let read = |name: &'static str| {
        fs::read(dir.join(name)).map_err(|source| MetaError::Read { file: name, source })
    };
    let bytes = read(META_FILE)?;
    let expected = checksum(&bytes);
    if read(META_SUM_FILE)? != expected.as_bytes() {
        // The crash window between the two renames: the matching sum is still waiting.
        let pending = temporary(dir, META_SUM_FILE);
        match fs::read(&pending) {
            Ok(sum) if sum == expected.as_bytes() => {
                fs::rename(&pending, dir.join(META_SUM_FILE)).map_err(|source| {
                    MetaError::Read {
                        file: META_SUM_FILE,
                        source,
                    }
                })?;
            }
            _ => return Err(MetaError::Checksum),
        }
    }
    let mut json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| MetaError::Malformed(e.to_string()))?;
    let created = json
        .as_object_mut()
        .and_then(|object| object.remove(CREATED_FIELD))
        .and_then(|value| value.as_str().and_then(parse_rfc3339))
        .ok_or_else(|| MetaError::Malformed(format!("no valid {CREATED_FIELD} time")))?;
    let config = serde_json::from_value(json).map_err(|e| MetaError::Malformed(e.to_string()))?;
    Ok((config, created))
}

/// Removes `meta.inf` first and durably, so a crash while the rest of the directory is being
/// removed leaves no half-deleted stream that a restart would bring back.
pub fn forget(dir: &Path) -> Result<(), StoreError> {
    let context = "removing the stream configuration";
    match fs::remove_file(dir.join(META_FILE)) {
        Ok(()) => sync_dir(dir, context),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io(context)(error)),
    }
}

fn checksum(bytes: &[u8]) -> String {
    format!("{:08x}", crc32c::crc32c(bytes))
}

fn temporary(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(format!("{name}.tmp"))
}

fn write_synced(path: &Path, bytes: &[u8], context: &'static str) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io(context))?;
    file.write_all(bytes).map_err(io(context))?;
    file.sync_all().map_err(io(context))
}

/// fsyncs a directory, making the renames and removals in it durable.
pub fn sync_dir(dir: &Path, context: &'static str) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io(context))
}

/// Wraps an I/O error with what was being done.
pub fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}
