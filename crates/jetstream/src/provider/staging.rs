//! Where a snapshot or restore keeps its archive while the chunks go out or come in: a file
//! beside the account's streams for a file provider, so a large stream's archive does not
//! sit in memory for the whole transfer, or memory (tests, servers without a store).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An append-only archive being sent or received.
#[derive(Debug)]
pub struct Staging {
    place: Place,
    len: u64,
}

#[derive(Debug)]
enum Place {
    Memory(Vec<u8>),
    /// Removed when the staging is dropped.
    File {
        file: File,
        path: PathBuf,
    },
}

impl Staging {
    /// Staging in memory.
    pub fn in_memory() -> Staging {
        Staging {
            place: Place::Memory(Vec::new()),
            len: 0,
        }
    }

    /// Staging in a new file under `dir` (created if missing).
    pub fn in_file(dir: &Path) -> io::Result<Staging> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(dir)?;
        let name = format!(
            "{}-{}.archive",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Staging {
            place: Place::File { file, path },
            len: 0,
        })
    }

    /// Bytes staged so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Nothing staged yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `bytes` at the end.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.place {
            Place::Memory(buffer) => buffer.extend_from_slice(bytes),
            Place::File { file, .. } => file.write_all_at(bytes, self.len)?,
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Up to `max` bytes from `offset` (fewer at the end, none past it).
    pub fn read_at(&self, offset: u64, max: usize) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0; self.available(offset, max)];
        self.copy_at(offset, &mut bytes)?;
        Ok(bytes)
    }

    /// How many of `max` bytes from `offset` are staged.
    fn available(&self, offset: u64, max: usize) -> usize {
        (self.len.saturating_sub(offset)).min(max as u64) as usize
    }

    /// Fills `out` from `offset`; the caller keeps it within [`available`](Self::available).
    fn copy_at(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        if out.is_empty() {
            return Ok(());
        }
        match &self.place {
            Place::Memory(buffer) => out.copy_from_slice(&buffer[offset as usize..][..out.len()]),
            Place::File { file, .. } => file.read_exact_at(out, offset)?,
        }
        Ok(())
    }

    /// Reads everything staged from the start.
    pub fn reader(&self) -> StagingReader<'_> {
        StagingReader {
            staging: self,
            offset: 0,
        }
    }
}

impl Write for Staging {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.append(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Place::File { path, .. } = &self.place {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A [`Read`] over a [`Staging`], from its start.
pub struct StagingReader<'a> {
    staging: &'a Staging,
    offset: u64,
}

impl Read for StagingReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let count = self.staging.available(self.offset, out.len());
        self.staging.copy_at(self.offset, &mut out[..count])?;
        self.offset += count as u64;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(mut staging: Staging) {
        assert!(staging.is_empty());
        staging.append(b"hello ").unwrap();
        staging.write_all(b"world").unwrap();
        assert_eq!(staging.len(), 11);
        assert_eq!(staging.read_at(0, 5).unwrap(), b"hello");
        assert_eq!(staging.read_at(6, 100).unwrap(), b"world");
        assert_eq!(staging.read_at(11, 4).unwrap(), b"");
        assert_eq!(staging.read_at(20, 4).unwrap(), b"");
        let mut all = Vec::new();
        staging.reader().read_to_end(&mut all).unwrap();
        assert_eq!(all, b"hello world");
    }

    #[test]
    fn memory_and_file_staging_read_back_what_was_appended() {
        exercise(Staging::in_memory());
        let dir = tempfile::tempdir().unwrap();
        exercise(Staging::in_file(dir.path()).unwrap());
    }

    #[test]
    fn a_staging_file_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::in_file(&dir.path().join("staging")).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("staging"))
                .unwrap()
                .count(),
            1
        );
        drop(staging);
        assert_eq!(
            std::fs::read_dir(dir.path().join("staging"))
                .unwrap()
                .count(),
            0
        );
    }
}
