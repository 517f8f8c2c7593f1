//! File-store recovery: replay every block's records into the index, truncate torn tails,
//! quarantine damaged bytes, and log each repair.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::block::{self, Damage, FILE_HEADER_BYTES};
use crate::file::{Block, FileStore, Location};
use crate::record::{Kind, FLAG_ENCRYPTED, FLAG_ERASED, HEADER_BYTES};
use crate::{compress, encrypt, msg_size, StoreError};

/// What recovery found and repaired. Every item here was also logged with `tracing`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Block files read.
    pub blocks: usize,
    /// Verified records replayed.
    pub records: usize,
    /// Bytes cut off torn tails.
    pub truncated_bytes: u64,
    /// Damaged byte ranges copied to `quarantine/` and skipped.
    pub quarantined_regions: usize,
    /// Sequences whose record was damaged; they read as deleted.
    pub lost_seqs: Vec<u64>,
    /// Compressed blocks whose data failed its checksum; all their messages are lost.
    pub damaged_compressed_blocks: usize,
    /// Block files with a damaged file header (rewritten).
    pub bad_file_headers: usize,
    /// Block files that held no valid record (zero-length or all damage), reset to empty.
    pub reset_blocks: usize,
    /// Block ids missing from the middle of the sequence of block files (deleted by hand?).
    pub missing_blocks: Vec<u32>,
    /// Records ignored because their sequence did not follow the ones before.
    pub out_of_order_records: usize,
}

impl RecoveryReport {
    /// A report of a recovery that found nothing wrong in `blocks` blocks and `records` records.
    pub(crate) fn default_for(blocks: usize, records: usize) -> RecoveryReport {
        RecoveryReport {
            blocks,
            records,
            ..RecoveryReport::default()
        }
    }
}

/// Rebuilds `store.index` and `store.blocks` from the block files.
pub(crate) fn recover(store: &mut FileStore) -> Result<RecoveryReport, StoreError> {
    let mut report = RecoveryReport::default();
    let mut ids = Vec::new();
    let entries =
        fs::read_dir(store.dir.join("msgs")).map_err(StoreError::io("listing block files"))?;
    for entry in entries {
        let entry = entry.map_err(StoreError::io("listing block files"))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".blk.tmp") {
            // A block compression interrupted before its rename: the plain block is intact.
            tracing::debug!(file = %name, "removing an unfinished compressed block");
            fs::remove_file(entry.path())
                .map_err(StoreError::io("removing an unfinished block"))?;
            continue;
        }
        match name
            .strip_suffix(".blk")
            .and_then(|id| id.parse::<u32>().ok())
        {
            Some(id) if id > 0 => ids.push(id),
            _ => tracing::warn!(file = %name, "ignoring unexpected file in the block directory"),
        }
    }
    ids.sort_unstable();
    for pair in ids.windows(2) {
        for missing in pair[0] + 1..pair[1] {
            tracing::warn!(block = missing, "block file missing; its messages are lost");
            report.missing_blocks.push(missing);
        }
    }
    let last = ids.last().copied();
    for id in ids {
        recover_block(store, id, Some(id) == last, &mut report)?;
    }
    // Live messages per block, once the whole log has been replayed.
    for (_, slot) in store.index.live() {
        let id = slot.value.block;
        if let Ok(pos) = store.blocks.binary_search_by_key(&id, |block| block.id) {
            store.blocks[pos].live_msgs += 1;
        }
    }
    Ok(report)
}

fn recover_block(
    store: &mut FileStore,
    id: u32,
    is_last: bool,
    report: &mut RecoveryReport,
) -> Result<(), StoreError> {
    let path = FileStore::block_path(&store.dir, id);
    let raw = fs::read(&path).map_err(StoreError::io("reading a block file"))?;
    report.blocks += 1;
    let first_seq = store.index.last_seq() + 1;
    let (bytes, compressed) = match compress::decode(&raw, store.decompressed_len_max()) {
        Ok(Some(plain)) => (plain, true),
        Ok(None) => (raw, false),
        Err(compress::Damaged) => {
            // One bad bit in compressed data loses the block: records cannot be resynchronised.
            tracing::warn!(
                block = id,
                len = raw.len(),
                "compressed block failed its checksum; quarantined, its messages are lost"
            );
            quarantine(store, id, 0, &raw, report);
            report.damaged_compressed_blocks += 1;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(StoreError::io("opening a block file"))?;
            file.set_len(0)
                .map_err(StoreError::io("resetting a block file"))?;
            file.write_all_at(&block::file_header(), 0)
                .map_err(StoreError::io("resetting a block file"))?;
            let len = FILE_HEADER_BYTES as u64;
            let file = Arc::new(file);
            store.blocks.push_back(Block {
                id,
                file,
                len,
                max_seq: 0,
                first_seq,
                live_msgs: 0,
                compressed: false,
                salt: 0,
                data_start: len,
            });
            return Ok(());
        }
    };
    let scan = block::scan(&bytes);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(StoreError::io("opening a block file"))?;
    // A block holding only its file header is simply empty (a crash right after rotation).
    let only_header = scan.damage.is_empty() && !bytes.is_empty();
    if scan.records.is_empty() && !only_header {
        if !bytes.is_empty() {
            quarantine(store, id, 0, &bytes, report);
        }
        // Reset rather than delete, so block ids stay contiguous and a gap always means a block
        // file went missing.
        tracing::warn!(
            block = id,
            len = bytes.len(),
            "block holds no valid record; reset to empty"
        );
        file.set_len(0)
            .map_err(StoreError::io("resetting a block file"))?;
        file.write_all_at(&block::file_header(), 0)
            .map_err(StoreError::io("resetting a block file"))?;
        report.reset_blocks += 1;
        let mut max_seq = 0;
        for damage in &scan.damage {
            if let Damage::Record { seq, .. } = damage {
                report.lost_seqs.push(*seq);
                store.index.mark_assigned(*seq);
                max_seq = max_seq.max(*seq);
            }
        }
        let len = FILE_HEADER_BYTES as u64;
        store.blocks.push_back(Block {
            id,
            file: Arc::new(file),
            len,
            max_seq,
            first_seq,
            live_msgs: 0,
            compressed: false,
            salt: 0,
            data_start: FILE_HEADER_BYTES as u64,
        });
        return Ok(());
    }
    let mut max_seq = 0;
    let mut lost = Vec::new();
    for damage in &scan.damage {
        match *damage {
            Damage::FileHeader => {
                tracing::warn!(block = id, "block file header damaged; rewritten");
                report.bad_file_headers += 1;
                if !compressed {
                    file.write_all_at(&block::file_header(), 0)
                        .map_err(StoreError::io("repairing a block header"))?;
                }
            }
            Damage::Region { offset, len } => {
                tracing::warn!(
                    block = id,
                    offset,
                    len,
                    "damaged bytes in block; quarantined"
                );
                quarantine(store, id, offset, &bytes[offset..offset + len], report);
            }
            Damage::Record { offset, len, seq } => {
                tracing::warn!(
                    block = id,
                    offset,
                    len,
                    seq,
                    "record failed its checksum; quarantined, message lost"
                );
                quarantine(store, id, offset, &bytes[offset..offset + len], report);
                lost.push(seq);
                max_seq = max_seq.max(seq);
            }
            Damage::TornTail { offset, len } => {
                if is_last {
                    tracing::warn!(block = id, offset, len, "torn tail truncated");
                } else {
                    // A sealed block was complete once; a bad tail there is damage, not a crash.
                    tracing::warn!(
                        block = id,
                        offset,
                        len,
                        "damaged tail of a sealed block; quarantined and truncated"
                    );
                    quarantine(store, id, offset, &bytes[offset..], report);
                }
                if offset > FILE_HEADER_BYTES {
                    report.truncated_bytes += len as u64;
                }
                if !compressed {
                    file.set_len(offset as u64)
                        .map_err(StoreError::io("truncating a torn tail"))?;
                }
            }
        }
    }
    let mut salt = 0;
    let data_start = match scan.records.first() {
        Some(first) if first.header.kind == Kind::Salt => (first.offset + first.len) as u64,
        _ => FILE_HEADER_BYTES as u64,
    };
    for found in &scan.records {
        report.records += 1;
        let header = found.header;
        if header.kind != Kind::Salt {
            max_seq = max_seq.max(header.seq);
        }
        match header.kind {
            Kind::Msg if header.flags & FLAG_ERASED == 0 => {
                if header.seq <= store.index.last_seq() {
                    tracing::warn!(
                        block = id,
                        seq = header.seq,
                        "record out of sequence order; ignored"
                    );
                    report.out_of_order_records += 1;
                    continue;
                }
                let body = &bytes[found.offset + HEADER_BYTES..found.offset + found.len];
                let (subject, rest) = body.split_at(usize::from(header.subject_len));
                let (headers, payload) = rest.split_at(header.headers_len as usize);
                let opened;
                let (subject, size) = if header.flags & FLAG_ENCRYPTED != 0 {
                    let key = store
                        .config
                        .encryption_key
                        .as_ref()
                        .ok_or(StoreError::EncryptionKeyMissing)?;
                    // The checksum passed, so a failure here is a wrong key or tampering: refuse
                    // to open instead of treating the stream as lost.
                    opened = encrypt::open(key, salt, header.seq, payload)
                        .ok_or(StoreError::DecryptionFailed { seq: header.seq })?;
                    let subject = opened.subject().unwrap_or_default();
                    (
                        subject,
                        msg_size(subject, opened.headers(), opened.payload()),
                    )
                } else {
                    // `scan` only reports plain message records whose subject is a valid literal.
                    let subject = std::str::from_utf8(subject).unwrap_or_default();
                    (subject, msg_size(subject, headers, payload))
                };
                let location = Location {
                    block: id,
                    offset: found.offset as u32,
                    len: found.len as u32,
                };
                store
                    .index
                    .insert(header.seq, subject, size, header.timestamp, location);
            }
            Kind::Msg | Kind::Tombstone => {
                store.index.mark_assigned(header.seq);
                store.index.remove(header.seq);
            }
            Kind::Salt => salt = header.seq,
            Kind::Floor => {
                store.index.remove_below(header.seq, drop);
                store.index.skip_to(header.seq);
            }
        }
    }
    for seq in lost {
        report.lost_seqs.push(seq);
        store.index.mark_assigned(seq);
    }
    store.blocks.push_back(Block {
        id,
        file: Arc::new(file),
        len: scan.valid_len as u64,
        max_seq,
        first_seq,
        live_msgs: 0,
        compressed,
        salt,
        data_start,
    });
    Ok(())
}

/// Copies damaged bytes aside so an operator can inspect them; best effort, never fatal.
fn quarantine(
    store: &FileStore,
    block: u32,
    offset: usize,
    bytes: &[u8],
    report: &mut RecoveryReport,
) {
    report.quarantined_regions += 1;
    let dir = store.dir.join("quarantine");
    let path = dir.join(format!("{block:010}-{offset}.bad"));
    if path.exists() {
        return;
    }
    if let Err(error) = fs::create_dir_all(&dir).and_then(|()| fs::write(&path, bytes)) {
        tracing::error!(%error, path = %path.display(), "could not write quarantine file");
    }
}
