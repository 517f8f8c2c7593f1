//! Space reclamation in the file store: deleting blocks below the first sequence and
//! compacting sealed blocks whose messages were all removed.

use std::fs;
use std::os::unix::fs::FileExt;

use crate::block::{self, FILE_HEADER_BYTES};
use crate::file::{Block, FileStore};
use crate::record::{Kind, NewRecord};
use crate::StoreError;

impl FileStore {
    /// Position of the block that holds (or held) message `seq`.
    pub(crate) fn block_position(&self, seq: u64) -> Option<usize> {
        self.blocks
            .partition_point(|block| block.first_seq <= seq)
            .checked_sub(1)
    }

    /// The block that holds (or held) message `seq`.
    pub(crate) fn block_of(&self, seq: u64) -> Option<&Block> {
        self.block_position(seq)
            .and_then(|pos| self.blocks.get(pos))
    }

    /// Counts a removed message against its block.
    pub(crate) fn released(&mut self, seq: u64) {
        if let Some(block) = self
            .block_position(seq)
            .and_then(|pos| self.blocks.get_mut(pos))
        {
            block.live_msgs = block.live_msgs.saturating_sub(1);
        }
    }

    /// Empties sealed blocks in the middle of the stream whose messages are all removed (KV
    /// overwrites, per-subject limits), so their space is reclaimed before the first sequence
    /// reaches them. Their tombstones for earlier blocks, and their floor, are first appended to
    /// the last block and fsynced, so no removed message can come back. The emptied file stays
    /// (header only) so block ids remain contiguous and a gap always means a lost file.
    pub(crate) fn compact_dead_blocks(&mut self) -> Result<(), StoreError> {
        let header = FILE_HEADER_BYTES as u64;
        let dead: Vec<usize> = (0..self.blocks.len().saturating_sub(1))
            .filter(|&pos| self.blocks[pos].live_msgs == 0 && self.blocks[pos].len > header)
            .collect();
        if dead.is_empty() {
            return Ok(());
        }
        let base = self.index.base_seq();
        let timestamp = self.last_timestamp();
        for &pos in &dead {
            let block = &self.blocks[pos];
            let bytes = if block.compressed {
                self.decompressed(block.id, &block.file)?.as_ref().clone()
            } else {
                let mut bytes = vec![0u8; block.len as usize];
                block
                    .file
                    .read_exact_at(&mut bytes, 0)
                    .map_err(StoreError::io("reading a block to compact"))?;
                bytes
            };
            let first_seq = block.first_seq;
            let scan = block::scan(&bytes);
            let mut has_floor = false;
            for found in &scan.records {
                match found.header.kind {
                    Kind::Tombstone
                        if found.seq() >= base
                            && found.seq() < first_seq
                            && self
                                .block_of(found.seq())
                                .is_some_and(|target| target.len > header) =>
                    {
                        self.append(NewRecord::marker(Kind::Tombstone, found.seq(), timestamp))?;
                    }
                    Kind::Floor => has_floor = true,
                    _ => {}
                }
            }
            if has_floor && base > 1 {
                self.append(NewRecord::marker(Kind::Floor, base, timestamp))?;
            }
        }
        // The dead block may have held the highest sequence ever assigned; if that message is
        // gone, a tombstone for it keeps `last_seq` from going backwards at the next recovery.
        let last_seq = self.index.last_seq();
        if last_seq > 0 && self.index.get(last_seq).is_none() {
            self.append(NewRecord::marker(Kind::Tombstone, last_seq, timestamp))?;
        }
        self.sync_all()?;
        for pos in dead {
            let block = &mut self.blocks[pos];
            // Rewrite the header too: a compressed block becomes a plain, empty one.
            block
                .file
                .set_len(0)
                .and_then(|()| block.file.write_all_at(&block::file_header(), 0))
                .map_err(StoreError::io("compacting a block"))?;
            block.len = header;
            block.max_seq = 0;
            block.compressed = false;
            let id = block.id;
            self.forget_decompressed(id);
            let block = &self.blocks[pos];
            tracing::debug!(
                block = block.id,
                "compacted a block whose messages were all removed"
            );
            let file = block.file.clone();
            self.flusher.mark_dirty(&file);
        }
        // Later passes drop tombstones aimed at these blocks, so the truncation must be durable
        // before any such pass runs.
        self.sync_all()
    }

    pub(crate) fn delete_dead_blocks(&mut self) -> Result<(), StoreError> {
        let base = self.index.base_seq();
        while self.blocks.len() > 1
            && self
                .blocks
                .front()
                .is_some_and(|block| block.max_seq < base)
        {
            if let Some(block) = self.blocks.pop_front() {
                let path = Self::block_path(&self.dir, block.id);
                fs::remove_file(&path).map_err(StoreError::io("deleting a block file"))?;
                self.flusher.mark_dirty(&self.dir_handle.clone());
            }
        }
        Ok(())
    }
}
