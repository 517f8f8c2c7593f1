//! The file store: the shared index over append-only, checksummed block files.
//!
//! Layout under the store directory: `msgs/<id>.blk` block files (see [`crate::block`]),
//! `quarantine/` for damaged bytes found at recovery, `consumers/` for consumer state files.
//! Mutations are appended as records in order: a message, a tombstone (one message removed) or a
//! floor (everything below a sequence removed). Replaying the records rebuilds the store, which is
//! what recovery does and what a replicated log will do. A block is deleted once everything it
//! refers to is below the first live sequence; deleting only from the front keeps that safe
//! without carrying tombstones forward, because later blocks only hold later sequences.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Buf, Bytes};

use crate::block;
use crate::compress::Compression;
use crate::encrypt;
use crate::index::{Index, PurgePlan};
use crate::record::{self, Kind, NewRecord, FLAG_ENCRYPTED, FLAG_ERASED};
use crate::sync::Flusher;
use crate::{limits, snapshot, FileStoreConfig, MessageStore, PurgeRequest, StoreError, StoredMsg};
use crate::{StreamState, SyncTicket};

use crate::recovery::RecoveryReport;

/// File written by a clean close: every block was fsynced.
const CLEAN_SHUTDOWN_MARKER: &str = "clean-shutdown";

/// Where a message's record lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Location {
    pub block: u32,
    pub offset: u32,
    pub len: u32,
}

/// One block file.
#[derive(Debug)]
pub(crate) struct Block {
    pub id: u32,
    pub file: Arc<File>,
    /// Bytes in the block, including records still in the write buffer.
    pub len: u64,
    /// Highest sequence any record in the block refers to.
    pub max_seq: u64,
    /// No message in this block has a lower sequence, and every message in a later block has
    /// at least this one: how a removed sequence finds its block.
    pub first_seq: u64,
    /// Live messages in the block; a sealed block at zero is compacted.
    pub live_msgs: u64,
    /// The file holds the block LZ4-compressed (sealed blocks only).
    pub compressed: bool,
    /// Encryption salt of the block's messages (0 for a plain block).
    pub salt: u64,
    /// Where the first message goes: after the file header and the salt record, if any.
    pub data_start: u64,
}

/// A JetStream file store (`storage: file`).
#[derive(Debug)]
pub struct FileStore {
    pub(crate) dir: PathBuf,
    pub(crate) config: FileStoreConfig,
    pub(crate) index: Index<Location>,
    pub(crate) blocks: VecDeque<Block>,
    /// Records of the last block not yet handed to the OS; they start at `pending_offset`.
    pub(crate) pending: Vec<u8>,
    pub(crate) pending_offset: u64,
    pub(crate) dir_handle: Arc<File>,
    pub(crate) flusher: Flusher,
    pub(crate) consumers: std::collections::HashMap<String, crate::consumer::ConsumerFile>,
    /// The last compressed block read, decompressed.
    pub(crate) decompressed: std::sync::Mutex<Option<(u32, Arc<Vec<u8>>)>>,
    /// Bytes read ahead of the last uncompressed record read: consumers read in sequence
    /// order, so one `pread` serves many records.
    read_ahead: std::sync::Mutex<Option<ReadAhead>>,
    removed: Vec<u64>,
}

/// How much one read of an uncompressed block fetches.
const READ_AHEAD_BYTES: usize = 64 * 1024;

/// A window of one block file's bytes, as read from disk; records read from it share it.
#[derive(Debug, Default)]
struct ReadAhead {
    block: u32,
    offset: u64,
    bytes: Bytes,
}

impl ReadAhead {
    /// The `len` bytes at `offset` of `block`, if the window holds them.
    fn get(&self, block: u32, offset: u64, len: usize) -> Option<Bytes> {
        if block != self.block || offset < self.offset {
            return None;
        }
        let start = usize::try_from(offset - self.offset).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.bytes.len()).then(|| self.bytes.slice(start..end))
    }
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir`, recovering from its block files.
    pub fn open(dir: impl AsRef<Path>, config: FileStoreConfig) -> Result<FileStore, StoreError> {
        Self::open_with_report(dir, config).map(|(store, _)| store)
    }

    /// Like [`open`](Self::open), also returning what recovery found and repaired.
    pub fn open_with_report(
        dir: impl AsRef<Path>,
        config: FileStoreConfig,
    ) -> Result<(FileStore, RecoveryReport), StoreError> {
        config.limits.validate()?;
        if config.block_size_bytes < 1024 {
            return Err(StoreError::InvalidConfig(
                "block_size_bytes must be at least 1024",
            ));
        }
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(dir.join("msgs"))
            .map_err(StoreError::io("creating the store directory"))?;
        let dir_handle = Arc::new(
            File::open(dir.join("msgs")).map_err(StoreError::io("opening the store directory"))?,
        );
        let flusher = Flusher::start(config.sync)?;
        let mut store = FileStore {
            dir,
            config,
            index: Index::default(),
            blocks: VecDeque::new(),
            pending: Vec::new(),
            pending_offset: 0,
            dir_handle,
            flusher,
            consumers: Default::default(),
            decompressed: Default::default(),
            read_ahead: Default::default(),
            removed: Vec::new(),
        };
        let report = crate::recovery::recover(&mut store)?;
        // Appends go to a fresh block if the last one was sealed and compressed just before a
        // crash (compressed files are never appended to), and always when encrypting, so a
        // sequence reused after a torn tail is sealed under a fresh salt.
        let encrypting = store.config.encryption_key.is_some();
        if encrypting || store.blocks.back().is_none_or(|block| block.compressed) {
            let next_id = store.blocks.back().map_or(1, |block| block.id + 1);
            store.new_block(next_id)?;
        }
        store.pending_offset =
            store.blocks.back().map_or(0, |block| block.len) - store.pending.len() as u64;
        // After a process crash the bytes recovery replayed may still be only in the page cache;
        // make them durable before serving them. A clean close leaves a marker that skips this.
        // Removing the marker need not be durable: only a power loss could bring it back, and
        // that also empties the page cache.
        let marker = store.dir.join(CLEAN_SHUTDOWN_MARKER);
        let clean =
            marker.exists() && report == RecoveryReport::default_for(report.blocks, report.records);
        if marker.exists() {
            fs::remove_file(&marker)
                .map_err(StoreError::io("removing the clean-shutdown marker"))?;
        }
        store.write_pending()?;
        store.flusher.mark_dirty(&store.dir_handle.clone());
        if !clean {
            for block in &store.blocks {
                store.flusher.mark_dirty(&block.file);
            }
        }
        store.flusher.durable_ticket()?.wait()?;
        store.delete_dead_blocks()?;
        store.compact_dead_blocks()?;
        Ok((store, report))
    }

    /// Creates a store in `dir`, which must hold no store yet, from a snapshot stream.
    pub fn restore(
        dir: impl AsRef<Path>,
        config: FileStoreConfig,
        input: &mut dyn std::io::Read,
    ) -> Result<FileStore, StoreError> {
        let mut store = FileStore::open(dir, config)?;
        if store.index.last_seq() != 0 {
            return Err(StoreError::NotEmpty);
        }
        snapshot::read(input, |event| match event {
            snapshot::Event::Msg(msg) => {
                let location = store.append_msg(
                    msg.seq,
                    &msg.subject,
                    &msg.headers,
                    &msg.payload,
                    msg.timestamp,
                )?;
                let size = crate::msg_size(&msg.subject, &msg.headers, &msg.payload);
                store
                    .index
                    .insert(msg.seq, &msg.subject, size, msg.timestamp, location);
                Ok(())
            }
            snapshot::Event::End { last_seq } if last_seq > store.index.last_seq() => {
                if store.index.msgs() == 0 {
                    store.compact(last_seq + 1).map(drop)
                } else {
                    // A tombstone for the last sequence carries `last_seq` through recovery.
                    store.index.mark_assigned(last_seq);
                    store
                        .append(NewRecord::marker(Kind::Tombstone, last_seq, 0))
                        .map(drop)
                }
            }
            snapshot::Event::End { .. } => Ok(()),
        })?;
        store.sync_all()?;
        Ok(store)
    }

    /// The directory holding the store.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of block files.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// fsync rounds the flusher has completed (observes group commit batching).
    pub fn sync_rounds(&self) -> u64 {
        self.flusher.rounds()
    }

    /// Writes buffered records and blocks until everything is durable, whatever the policy.
    pub fn sync_all(&mut self) -> Result<(), StoreError> {
        self.write_pending()?;
        self.flusher.durable_ticket()?.wait()
    }

    pub(crate) fn block_path(dir: &Path, id: u32) -> PathBuf {
        dir.join("msgs").join(format!("{id:010}.blk"))
    }

    fn new_block(&mut self, id: u32) -> Result<(), StoreError> {
        // Ids restart at 1 once every block is gone: a window of an old block must not be
        // mistaken for the new one's bytes.
        self.forget_read_ahead();
        let path = Self::block_path(&self.dir, id);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(StoreError::io("creating a block file"))?;
        self.blocks.push_back(Block {
            id,
            file: Arc::new(file),
            len: 0,
            max_seq: 0,
            first_seq: self.index.last_seq() + 1,
            live_msgs: 0,
            compressed: false,
            salt: 0,
            data_start: 0,
        });
        self.pending.clear();
        self.pending_offset = 0;
        self.pending.extend_from_slice(&block::file_header());
        let salt = match self.config.encryption_key {
            Some(_) => {
                let salt = encrypt::random_salt()?;
                NewRecord::marker(Kind::Salt, salt, 0).encode_into(&mut self.pending);
                salt
            }
            None => 0,
        };
        let len = self.pending.len() as u64;
        if let Some(block) = self.blocks.back_mut() {
            block.len = len;
            block.data_start = len;
            block.salt = salt;
        }
        self.flusher.mark_dirty(&self.dir_handle.clone());
        Ok(())
    }

    /// Hands the write buffer to the OS.
    pub(crate) fn write_pending(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some(failure) = self.flusher.failure() {
            return Err(failure);
        }
        let Some(block) = self.blocks.back() else {
            return Ok(());
        };
        block
            .file
            .write_all_at(&self.pending, self.pending_offset)
            .map_err(StoreError::io("writing a block file"))?;
        self.pending_offset += self.pending.len() as u64;
        self.pending.clear();
        let file = block.file.clone();
        self.flusher.mark_dirty(&file);
        Ok(())
    }

    /// Appends one record to the last block, starting a new block first if a message would not
    /// fit. Returns where it went.
    pub(crate) fn append(&mut self, record: NewRecord<'_>) -> Result<Location, StoreError> {
        let len = record.len() as u64;
        self.make_room(record.kind, len)?;
        let Some(block) = self.blocks.back_mut() else {
            return Err(StoreError::InvalidConfig("no block"));
        };
        let offset = block.len;
        record.encode_into(&mut self.pending);
        block.len += len;
        block.max_seq = block.max_seq.max(record.seq);
        if record.kind == Kind::Msg {
            block.live_msgs += 1;
        }
        let location = Location {
            block: block.id,
            offset: offset as u32,
            len: len as u32,
        };
        if self.pending.len() > self.config.write_buffer_bytes_max {
            self.write_pending()?;
        }
        Ok(location)
    }

    /// Appends a message record, sealing its body first when encryption is on.
    fn append_msg(
        &mut self,
        seq: u64,
        subject: &str,
        headers: &[u8],
        payload: &[u8],
        timestamp: i64,
    ) -> Result<Location, StoreError> {
        let Some(key) = self.config.encryption_key.clone() else {
            let record = NewRecord {
                kind: Kind::Msg,
                flags: 0,
                seq,
                timestamp,
                subject: subject.as_bytes(),
                headers,
                payload,
            };
            return self.append(record);
        };
        // The salt is the destination block's, so start that block before sealing.
        let sealed_len = 6 + subject.len() + headers.len() + payload.len() + 16;
        self.make_room(Kind::Msg, (record::HEADER_BYTES + sealed_len) as u64)?;
        let salt = self.blocks.back().map_or(0, |block| block.salt);
        let sealed = encrypt::seal(&key, salt, seq, subject, headers, payload);
        let record = NewRecord {
            kind: Kind::Msg,
            flags: FLAG_ENCRYPTED,
            seq,
            timestamp,
            subject: b"",
            headers: b"",
            payload: &sealed,
        };
        self.append(record)
    }

    /// Starts a new block if a message of `len` bytes would not fit in the last one.
    fn make_room(&mut self, kind: Kind, len: u64) -> Result<(), StoreError> {
        let needs_new_block = self.blocks.back().is_none_or(|block| {
            kind == Kind::Msg
                && block.len > block.data_start
                && block.len + len > self.config.block_size_bytes
        });
        if needs_new_block {
            self.write_pending()?;
            if self.config.compression != Compression::None && !self.blocks.is_empty() {
                self.seal_block(self.blocks.len() - 1)?;
            }
            let next_id = self.blocks.back().map_or(1, |block| block.id + 1);
            self.new_block(next_id)?;
        }
        Ok(())
    }

    /// Records the removals of the last mutation: a floor if the first sequence moved, a tombstone
    /// for each sequence removed above it, then deletes blocks that fell below the floor.
    fn record_removals(&mut self, old_base: u64, timestamp: i64) -> Result<(), StoreError> {
        let base = self.index.base_seq();
        if base > old_base {
            self.append(NewRecord::marker(Kind::Floor, base, timestamp))?;
        }
        let removed = std::mem::take(&mut self.removed);
        for &seq in &removed {
            self.released(seq);
        }
        for &seq in removed.iter().filter(|&&seq| seq >= base) {
            self.append(NewRecord::marker(Kind::Tombstone, seq, timestamp))?;
        }
        self.removed = removed;
        self.removed.clear();
        self.delete_dead_blocks()?;
        self.compact_dead_blocks()
    }

    fn block(&self, id: u32) -> Option<&Block> {
        // Ids are contiguous unless a block file went missing, so try the direct slot first.
        let first = self.blocks.front()?.id;
        let direct = id
            .checked_sub(first)
            .and_then(|pos| self.blocks.get(pos as usize));
        match direct {
            Some(block) if block.id == id => Some(block),
            _ => self
                .blocks
                .binary_search_by_key(&id, |block| block.id)
                .ok()
                .map(|pos| &self.blocks[pos]),
        }
    }

    /// Reads a record's bytes, from the write buffer or the file.
    fn read_record(&self, location: Location) -> Result<Bytes, StoreError> {
        let block = self.block(location.block).ok_or(StoreError::NotFound)?;
        let is_last = self.blocks.back().is_some_and(|last| last.id == block.id);
        let offset = u64::from(location.offset);
        let len = location.len as usize;
        if is_last && offset >= self.pending_offset {
            let start = (offset - self.pending_offset) as usize;
            let source = self
                .pending
                .get(start..start + len)
                .ok_or(StoreError::NotFound)?;
            return Ok(Bytes::copy_from_slice(source));
        }
        if block.compressed {
            let plain = self.decompressed(block.id, &block.file)?;
            let start = offset as usize;
            let source = plain
                .get(start..start + len)
                .ok_or(StoreError::Corrupt { seq: 0 })?;
            return Ok(Bytes::copy_from_slice(source));
        }
        // Records below `pending_offset` (or in any earlier block) are on disk for good; only
        // an erase rewrites them, and it drops the read-ahead. A hit shares the window's
        // buffer: sequential readers neither copy nor allocate per record.
        let on_disk = if is_last {
            self.pending_offset
        } else {
            block.len
        };
        let mut cache = self
            .read_ahead
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(hit) = cache
            .as_ref()
            .and_then(|ahead| ahead.get(block.id, offset, len))
        {
            return Ok(hit);
        }
        let window = (on_disk.saturating_sub(offset) as usize).min(READ_AHEAD_BYTES);
        let mut bytes = vec![0; window.max(len)];
        block
            .file
            .read_exact_at(&mut bytes, offset)
            .map_err(StoreError::io("reading a block file"))?;
        let bytes = Bytes::from(bytes);
        if window <= len {
            return Ok(bytes);
        }
        let record = bytes.slice(..len);
        *cache = Some(ReadAhead {
            block: block.id,
            offset,
            bytes,
        });
        Ok(record)
    }

    /// Loads and verifies the message at `seq`. A record that fails any check is reported and
    /// never returned.
    fn msg_at(&self, seq: u64) -> Result<StoredMsg, StoreError> {
        let slot = self.index.get(seq).ok_or(StoreError::NotFound)?;
        let subject = self.index.subject_of(slot);
        let bytes = self.read_record(slot.value)?;
        let corrupt = || {
            tracing::error!(
                seq,
                block = slot.value.block,
                offset = slot.value.offset,
                "corrupt record on read; not served"
            );
            StoreError::Corrupt { seq }
        };
        let found = record::decode(&bytes).map_err(|_| corrupt())?;
        let header = found.header;
        let expected = header.kind == Kind::Msg
            && header.flags & FLAG_ERASED == 0
            && header.seq == seq
            && header.timestamp == slot.time;
        if !expected {
            return Err(corrupt());
        }
        if header.flags & FLAG_ENCRYPTED != 0 {
            let key = self
                .config
                .encryption_key
                .as_ref()
                .ok_or(StoreError::EncryptionKeyMissing)?;
            let salt = self.block(slot.value.block).map_or(0, |block| block.salt);
            let opened = encrypt::open(key, salt, seq, found.payload).ok_or_else(corrupt)?;
            if opened.subject() != Some(&**subject) {
                return Err(corrupt());
            }
            let headers_start = 6 + opened.subject_len;
            let payload_start = headers_start + opened.headers_len;
            let plain = Bytes::from(opened.plain);
            return Ok(StoredMsg {
                seq,
                subject: Arc::clone(subject),
                headers: plain.slice(headers_start..payload_start),
                payload: plain.slice(payload_start..),
                timestamp: slot.time,
            });
        }
        if found.subject != subject.as_bytes() {
            return Err(corrupt());
        }
        let headers_len = found.headers.len();
        // The record's own handle becomes the payload's, and a message without headers
        // shares nothing for them: one reference count per load, not three.
        let mut payload = bytes;
        payload.advance(record::HEADER_BYTES + subject.len());
        let headers = payload.split_to(headers_len);
        Ok(StoredMsg {
            seq,
            subject: Arc::clone(subject),
            headers,
            payload,
            timestamp: slot.time,
        })
    }

    /// Overwrites a record's body with zeros, keeping its length so offsets stay valid.
    fn forget_read_ahead(&self) {
        self.read_ahead
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
    }

    fn erase(&mut self, location: Location, seq: u64, timestamp: i64) -> Result<(), StoreError> {
        let original = self.read_record(location)?;
        // The record's bytes change on disk: no copy of them may be served afterwards.
        self.forget_read_ahead();
        let Some(header) = record::Header::decode(&original) else {
            return Ok(());
        };
        let zeros = vec![0u8; header.body_len()];
        let (subject, rest) = zeros.split_at(usize::from(header.subject_len));
        let (headers, payload) = rest.split_at(header.headers_len as usize);
        let erased = NewRecord {
            kind: Kind::Msg,
            flags: FLAG_ERASED,
            seq,
            timestamp,
            subject,
            headers,
            payload,
        };
        let mut bytes = Vec::with_capacity(erased.len());
        erased.encode_into(&mut bytes);
        let offset = u64::from(location.offset);
        let is_last = self
            .blocks
            .back()
            .is_some_and(|last| last.id == location.block);
        if is_last && offset >= self.pending_offset {
            let start = (offset - self.pending_offset) as usize;
            if let Some(target) = self.pending.get_mut(start..start + bytes.len()) {
                target.copy_from_slice(&bytes);
            }
            return Ok(());
        }
        let block = self.block(location.block).ok_or(StoreError::NotFound)?;
        if block.compressed {
            let mut plain = self.decompressed(block.id, &block.file)?.as_ref().clone();
            if let Some(target) = plain.get_mut(offset as usize..offset as usize + bytes.len()) {
                target.copy_from_slice(&bytes);
            }
            let pos = self
                .blocks
                .binary_search_by_key(&location.block, |block| block.id)
                .unwrap_or(0);
            return self.replace_compressed(pos, &plain);
        }
        block
            .file
            .write_all_at(&bytes, offset)
            .map_err(StoreError::io("erasing a record"))?;
        let file = block.file.clone();
        self.flusher.mark_dirty(&file);
        Ok(())
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        self.flusher.failure().map_or(Ok(()), Err)
    }

    pub(crate) fn last_timestamp(&self) -> i64 {
        self.index.state().last_time
    }
}

impl MessageStore for FileStore {
    fn store(
        &mut self,
        subject: &str,
        headers: &[u8],
        payload: &[u8],
        timestamp: i64,
    ) -> Result<u64, StoreError> {
        self.check_writable()?;
        let old_base = self.index.base_seq();
        self.removed.clear();
        limits::expire(
            &self.config.limits,
            &mut self.index,
            timestamp,
            &mut self.removed,
        );
        let size = match limits::admit(&self.config.limits, &self.index, subject, headers, payload)
        {
            Ok(size) => size,
            Err(error) => {
                self.record_removals(old_base, timestamp)?;
                return Err(error);
            }
        };
        let seq = self.index.last_seq() + 1;
        let location = self.append_msg(seq, subject, headers, payload, timestamp)?;
        self.index.append(subject, size, timestamp, location);
        let subject_id = self.index.get(seq).map_or(0, |slot| slot.subject);
        limits::enforce(
            &self.config.limits,
            &mut self.index,
            subject_id,
            &mut self.removed,
        );
        self.record_removals(old_base, timestamp)?;
        Ok(seq)
    }

    fn load(&self, seq: u64) -> Result<StoredMsg, StoreError> {
        self.msg_at(seq)
    }

    fn load_next(&self, filter: &str, start_seq: u64) -> Result<StoredMsg, StoreError> {
        self.msg_at(self.index.find_next(filter, start_seq)?)
    }

    fn load_last(&self, filter: &str) -> Result<StoredMsg, StoreError> {
        self.msg_at(self.index.find_last(filter)?)
    }

    fn remove(&mut self, seq: u64, erase: bool) -> Result<bool, StoreError> {
        self.check_writable()?;
        let old_base = self.index.base_seq();
        let timestamp = self.last_timestamp();
        let Some(slot) = self.index.remove(seq) else {
            return Ok(false);
        };
        // Erase before recording the removal: recording may compact the block away.
        if erase && self.block(slot.value.block).is_some() {
            self.erase(slot.value, seq, slot.time)?;
        }
        self.removed.push(seq);
        self.record_removals(old_base, timestamp)?;
        Ok(true)
    }

    fn purge(&mut self, request: &PurgeRequest) -> Result<u64, StoreError> {
        if request.keep.is_some() && request.up_to_seq.is_some() {
            return Err(StoreError::InvalidPurge);
        }
        if let Some(filter) = &request.filter {
            crate::subject::check_filter(filter)?;
        }
        self.check_writable()?;
        let old_base = self.index.base_seq();
        let timestamp = self.last_timestamp();
        self.removed.clear();
        let purged = match self.index.plan_purge(request) {
            PurgePlan::Below(seq) => {
                let removed = &mut self.removed;
                self.index.remove_below(seq, |seq| removed.push(seq))
            }
            PurgePlan::Seqs(seqs) => {
                for seq in seqs {
                    if self.index.remove(seq).is_some() {
                        self.removed.push(seq);
                    }
                }
                self.removed.len() as u64
            }
        };
        self.record_removals(old_base, timestamp)?;
        Ok(purged)
    }

    fn compact(&mut self, seq: u64) -> Result<u64, StoreError> {
        self.check_writable()?;
        let old_base = self.index.base_seq();
        let timestamp = self.last_timestamp();
        self.removed.clear();
        let removed = &mut self.removed;
        let purged = self.index.remove_below(seq, |seq| removed.push(seq));
        self.index.skip_to(seq);
        self.record_removals(old_base, timestamp)?;
        Ok(purged)
    }

    fn expire(&mut self, now: i64) -> Result<u64, StoreError> {
        self.check_writable()?;
        let old_base = self.index.base_seq();
        self.removed.clear();
        let expired = limits::expire(&self.config.limits, &mut self.index, now, &mut self.removed);
        let timestamp = self.last_timestamp();
        self.record_removals(old_base, timestamp)?;
        Ok(expired)
    }

    fn next_expiry(&self) -> Option<i64> {
        limits::next_expiry(&self.config.limits, &self.index)
    }

    fn state(&self) -> StreamState {
        self.index.state()
    }

    fn deleted(&self) -> Vec<u64> {
        self.index.deleted()
    }

    fn subject_counts(&self, filter: &str) -> BTreeMap<String, u64> {
        self.index.subject_counts(filter)
    }

    fn sync(&mut self) -> Result<SyncTicket, StoreError> {
        self.write_pending()?;
        self.flusher.ticket()
    }

    fn snapshot(&self, out: &mut dyn Write) -> Result<(), StoreError> {
        let msgs = self.index.live().map(|(seq, _)| self.msg_at(seq));
        snapshot::write(out, msgs, self.index.last_seq())
    }

    fn update_limits(&mut self, limits: crate::StoreConfig) -> Result<u64, StoreError> {
        limits.validate()?;
        self.check_writable()?;
        let old_base = self.index.base_seq();
        let timestamp = self.last_timestamp();
        self.config.limits = limits;
        self.removed.clear();
        limits::enforce_all(&self.config.limits, &mut self.index, &mut self.removed);
        let removed = self.removed.len() as u64;
        self.record_removals(old_base, timestamp)?;
        Ok(removed)
    }
}

impl Drop for FileStore {
    fn drop(&mut self) {
        // A clean close leaves nothing buffered or unsynced, then says so with the marker.
        match self.sync_all() {
            Ok(()) => {
                if let Err(error) = fs::write(self.dir.join(CLEAN_SHUTDOWN_MARKER), b"") {
                    tracing::warn!(%error, "could not write the clean-shutdown marker");
                }
            }
            Err(error) => {
                tracing::error!(%error, dir = %self.dir.display(), "closing the file store")
            }
        }
    }
}

/// Writes `bytes` to `temporary`, fsyncs it and renames it over `path`, so a reader sees the
/// old file or the whole new one. Returns the new file, still open; the caller fsyncs the
/// directory to make the rename itself durable.
pub(crate) fn replace_file(
    temporary: &Path,
    path: &Path,
    bytes: &[u8],
    context: &'static str,
) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(temporary)
        .map_err(StoreError::io(context))?;
    file.write_all_at(bytes, 0)
        .map_err(StoreError::io(context))?;
    file.sync_all().map_err(StoreError::io(context))?;
    fs::rename(temporary, path).map_err(StoreError::io(context))?;
    Ok(file)
}
