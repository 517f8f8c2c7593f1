//! Per-block LZ4 compression when a block is sealed, and reading compressed blocks back.
//!
//! A sealed block is rewritten as: the block file header with [`FLAG_LZ4`], the uncompressed
//! length of the records (u32 LE), a CRC-32C of the compressed bytes (u32 LE), then the LZ4
//! block. The rewrite goes to a temporary file that is fsynced and renamed over the block, so a
//! crash leaves either the plain block or the compressed one. Offsets in the index stay in
//! uncompressed coordinates; reads decompress the block once into a one-block cache. The
//! records keep their own checksums, which are still verified on every read. The trade-off: a
//! bit flip in a compressed block loses the whole block instead of one record.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::block::{file_header, file_header_with, header_flags, FILE_HEADER_BYTES, FLAG_LZ4};
use crate::file::FileStore;
use crate::StoreError;

/// Bytes between the file header and the compressed data.
const PREFIX_BYTES: usize = 8;

/// Which compression sealed blocks get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Blocks stay as written.
    #[default]
    None,
    /// LZ4 (block format), applied when a block is sealed.
    Lz4,
}

/// Encodes a whole plain block (header and records) as a compressed block file.
pub(crate) fn encode(block: &[u8]) -> Vec<u8> {
    let records = block.get(FILE_HEADER_BYTES..).unwrap_or_default();
    let compressed = lz4_flex::block::compress(records);
    let mut out = Vec::with_capacity(FILE_HEADER_BYTES + PREFIX_BYTES + compressed.len());
    out.extend_from_slice(&file_header_with(FLAG_LZ4));
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&compressed).to_le_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// Why a compressed block could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Damaged;

/// If `bytes` is a compressed block file, the plain block it holds (plain header and records);
/// `Ok(None)` for a plain block; `Err` if it is compressed but damaged.
pub(crate) fn decode(bytes: &[u8], max_len: usize) -> Result<Option<Vec<u8>>, Damaged> {
    match header_flags(bytes) {
        Some(flags) if flags & FLAG_LZ4 != 0 => {}
        _ => return Ok(None),
    }
    let prefix = bytes
        .get(FILE_HEADER_BYTES..FILE_HEADER_BYTES + PREFIX_BYTES)
        .ok_or(Damaged)?;
    let records_len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    let crc = u32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
    let compressed = &bytes[FILE_HEADER_BYTES + PREFIX_BYTES..];
    if records_len > max_len || crc32c::crc32c(compressed) != crc {
        return Err(Damaged);
    }
    let records = lz4_flex::block::decompress(compressed, records_len).map_err(|_| Damaged)?;
    if records.len() != records_len {
        return Err(Damaged);
    }
    let mut block = file_header().to_vec();
    block.extend_from_slice(&records);
    Ok(Some(block))
}

impl FileStore {
    /// Largest plain block a compressed file may claim to hold; bounds decompression of a
    /// damaged length.
    pub(crate) fn decompressed_len_max(&self) -> usize {
        (self.config.block_size_bytes as usize)
            .saturating_mul(2)
            .max(1 << 20)
            + crate::limits::MAX_BODY_BYTES as usize
    }

    /// Compresses the sealed block at `pos` if that makes it smaller.
    pub(crate) fn seal_block(&mut self, pos: usize) -> Result<(), StoreError> {
        let Some(block) = self.blocks.get(pos) else {
            return Ok(());
        };
        if block.compressed || block.len <= FILE_HEADER_BYTES as u64 {
            return Ok(());
        }
        let mut plain = vec![0u8; block.len as usize];
        block
            .file
            .read_exact_at(&mut plain, 0)
            .map_err(StoreError::io("reading a block to seal"))?;
        self.replace_compressed(pos, &plain)
    }

    /// Writes `plain` (a whole plain block) compressed over the block at `pos`: temporary file,
    /// fsync, rename, fsync the directory.
    pub(crate) fn replace_compressed(
        &mut self,
        pos: usize,
        plain: &[u8],
    ) -> Result<(), StoreError> {
        let encoded = encode(plain);
        if encoded.len() >= plain.len() && !self.blocks[pos].compressed {
            return Ok(());
        }
        let id = self.blocks[pos].id;
        let path = FileStore::block_path(&self.dir, id);
        let temporary = path.with_extension("blk.tmp");
        let file = crate::file::replace_file(
            &temporary,
            &path,
            &encoded,
            "replacing a block with its compressed form",
        )?;
        self.dir_handle
            .sync_all()
            .map_err(StoreError::io("syncing the block directory"))?;
        let block = &mut self.blocks[pos];
        block.file = Arc::new(file);
        block.compressed = true;
        self.forget_decompressed(id);
        Ok(())
    }

    /// The plain bytes (header and records) of a compressed block, through a one-block cache.
    pub(crate) fn decompressed(&self, id: u32, file: &File) -> Result<Arc<Vec<u8>>, StoreError> {
        let mut cache = self
            .decompressed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached_id, bytes)) = cache.as_ref() {
            if *cached_id == id {
                return Ok(bytes.clone());
            }
        }
        let len = file
            .metadata()
            .map_err(StoreError::io("reading a compressed block"))?
            .len();
        let mut raw = vec![0u8; len as usize];
        file.read_exact_at(&mut raw, 0)
            .map_err(StoreError::io("reading a compressed block"))?;
        match decode(&raw, self.decompressed_len_max()) {
            Ok(Some(plain)) => {
                let plain = Arc::new(plain);
                *cache = Some((id, plain.clone()));
                Ok(plain)
            }
            _ => {
                tracing::error!(
                    block = id,
                    "compressed block failed its checksum on read; not served"
                );
                Err(StoreError::Io {
                    context: "reading a compressed block",
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "damaged compressed block",
                    ),
                })
            }
        }
    }

    /// Drops the cached plain bytes of block `id`, after it was rewritten or emptied.
    pub(crate) fn forget_decompressed(&self, id: u32) {
        let mut cache = self
            .decompressed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache
            .as_ref()
            .is_some_and(|(cached_id, _)| *cached_id == id)
        {
            *cache = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block;

    fn check(records: &[(u64, &str, &[u8])]) {
        let plain = block::build(
            records
                .iter()
                .map(|&(seq, subject, payload)| (seq, 0, subject, payload)),
        );
        let encoded = encode(&plain);
        assert_eq!(decode(&encoded, 1 << 20).unwrap().unwrap(), plain);
        assert_eq!(
            decode(&plain, 1 << 20).unwrap(),
            None,
            "plain blocks pass through"
        );
        for at in FILE_HEADER_BYTES..encoded.len() {
            let mut damaged = encoded.clone();
            damaged[at] ^= 0x40;
            assert_eq!(
                decode(&damaged, 1 << 20),
                Err(Damaged),
                "flip at {at} unnoticed"
            );
        }
    }

    #[test]
    fn compressed_blocks_round_trip_and_damage_is_caught() {
        check(&[
            (1, "a", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            (2, "b.c", b"hello hello hello hello"),
        ]);
        check(&[]);
    }
}
