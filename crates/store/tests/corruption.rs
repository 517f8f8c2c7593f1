//! Corruption tests: damage block files in every region, reopen, and check that recovery reports
//! and logs it, loses exactly the damaged messages, and never returns wrong bytes.

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use natrium_store::block::{self, ScannedRecord};
use natrium_store::{
    FileStore, FileStoreConfig, MessageStore, RecoveryReport, StoreError, StoredMsg,
};

const MSGS: u64 = 40;
/// Offsets inside a record (see `record.rs`): header fields, then subject, headers, payload.
const SEQ_FIELD: usize = 17;
const LENGTH_FIELD: usize = 13;
const BODY_CRC_FIELD: usize = 33;
const HEADER_CRC_FIELD: usize = 38;
const SUBJECT: usize = 41;

fn config() -> FileStoreConfig {
    FileStoreConfig {
        block_size_bytes: 1024,
        ..FileStoreConfig::default()
    }
}

/// Stores `MSGS` messages over several blocks and returns them.
fn populate(dir: &Path) -> Vec<StoredMsg> {
    let mut store = FileStore::open(dir, config()).unwrap();
    for i in 0..MSGS {
        let payload = vec![b'a' + (i % 26) as u8; 20 + (i as usize * 7) % 50];
        let headers: &[u8] = if i % 3 == 0 {
            b"NATS/1.0\r\nX: y\r\n\r\n"
        } else {
            b"NATS/1.0\r\n\r\n"
        };
        store
            .store(
                &format!("orders.{}", i % 4),
                headers,
                &payload,
                1_000 + i as i64,
            )
            .unwrap();
    }
    store.sync().unwrap().wait().unwrap();
    assert!(
        store.block_count() >= 4,
        "the fixture must span several blocks"
    );
    (1..=MSGS).map(|seq| store.load(seq).unwrap()).collect()
}

fn blocks(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir.join("msgs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

/// The block file and record holding `seq`.
fn locate(dir: &Path, seq: u64) -> (PathBuf, ScannedRecord) {
    for path in blocks(dir) {
        let scan = block::scan(&fs::read(&path).unwrap());
        if let Some(record) = scan.records.into_iter().find(|r| r.seq() == seq) {
            return (path, record);
        }
    }
    panic!("seq {seq} not on disk");
}

fn flip(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset] ^= 0x10;
    fs::write(path, bytes).unwrap();
}

fn seqs_in_block(path: &Path) -> Vec<u64> {
    block::scan(&fs::read(path).unwrap())
        .records
        .iter()
        .map(ScannedRecord::seq)
        .collect()
}

/// Collects log lines written while recovering.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn open_logged(dir: &Path) -> (FileStore, RecoveryReport, String) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let (store, report) = tracing::subscriber::with_default(subscriber, || {
        FileStore::open_with_report(dir, config())
    })
    .unwrap();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    (store, report, text)
}

/// One corruption case: damage the files, say which sequences it destroys, what the report must
/// show and what the log must say.
struct Case {
    name: &'static str,
    damage: fn(&Path) -> Vec<u64>,
    report: fn(&RecoveryReport) -> bool,
    log: &'static str,
}

fn check(case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    let original = populate(dir.path());
    let lost = (case.damage)(dir.path());
    let (mut store, report, logs) = open_logged(dir.path());
    assert!(
        (case.report)(&report),
        "{}: unexpected report {report:?}",
        case.name
    );
    assert!(
        logs.contains(case.log),
        "{}: log lacks {:?}:\n{logs}",
        case.name,
        case.log
    );
    for msg in &original {
        match store.load(msg.seq) {
            Ok(loaded) => {
                assert!(
                    !lost.contains(&msg.seq),
                    "{}: seq {} should be lost",
                    case.name,
                    msg.seq
                );
                assert_eq!(&loaded, msg, "{}: wrong bytes served", case.name);
            }
            Err(StoreError::NotFound) => {
                assert!(
                    lost.contains(&msg.seq),
                    "{}: seq {} lost ({lost:?}, {report:?})",
                    case.name,
                    msg.seq
                )
            }
            Err(other) => panic!("{}: seq {}: {other}", case.name, msg.seq),
        }
    }
    // Sequences never go backwards past a damaged record whose sequence is still known.
    let known_lost_max = report.lost_seqs.iter().max().copied().unwrap_or(0);
    let next = store.store("orders.new", b"", b"after", 9_999).unwrap();
    assert!(next > known_lost_max, "{}: seq {next} reused", case.name);
    let kept = original
        .iter()
        .filter(|m| !lost.contains(&m.seq))
        .map(|m| m.seq)
        .max()
        .unwrap_or(0);
    assert!(next > kept, "{}: seq {next} not after {kept}", case.name);
    store.sync().unwrap().wait().unwrap();
    drop(store);
    // The repair is stable: a second recovery finds no new torn tail and serves the same data.
    let (store, second, _) = open_logged(dir.path());
    assert_eq!(second.truncated_bytes, 0, "{}: {second:?}", case.name);
    assert_eq!(store.load(next).unwrap().payload.as_ref(), b"after");
}

/// A sequence in the middle of the `block`-th block file, so damage to it is not a tail.
fn middle_seq(dir: &Path, block: usize) -> u64 {
    seqs_in_block(&blocks(dir)[block])[1]
}

fn record_field(block: usize, field: usize) -> impl Fn(&Path) -> Vec<u64> {
    move |dir| {
        let seq = middle_seq(dir, block);
        let (path, record) = locate(dir, seq);
        flip(&path, record.offset + field);
        vec![seq]
    }
}

#[test]
fn corruption_is_detected_and_recovered() {
    let cases = [
        Case {
            name: "bit flip in the sequence field",
            damage: |dir| record_field(0, SEQ_FIELD)(dir),
            report: |r| r.quarantined_regions == 1,
            log: "damaged bytes in block; quarantined",
        },
        Case {
            name: "bit flip in a length field",
            damage: |dir| record_field(1, LENGTH_FIELD)(dir),
            report: |r| r.quarantined_regions == 1,
            log: "damaged bytes in block; quarantined",
        },
        Case {
            name: "bit flip in the header checksum",
            damage: |dir| record_field(2, HEADER_CRC_FIELD)(dir),
            report: |r| r.quarantined_regions == 1,
            log: "quarantined",
        },
        Case {
            name: "bit flip in the body checksum",
            damage: |dir| record_field(0, BODY_CRC_FIELD)(dir),
            report: |r| r.quarantined_regions == 1,
            log: "damaged bytes in block; quarantined",
        },
        Case {
            name: "bit flip in the subject",
            damage: |dir| record_field(1, SUBJECT)(dir),
            report: |r| r.lost_seqs.len() == 1,
            log: "record failed its checksum; quarantined, message lost",
        },
        Case {
            name: "bit flip in the headers",
            damage: |dir| {
                let seq = middle_seq(dir, 2);
                let (path, record) = locate(dir, seq);
                flip(&path, record.offset + 40 + "orders.x".len() + 3);
                vec![seq]
            },
            report: |r| r.lost_seqs.len() == 1,
            log: "record failed its checksum",
        },
        Case {
            name: "bit flip in the payload",
            damage: |dir| {
                let seq = middle_seq(dir, 1);
                let (path, record) = locate(dir, seq);
                flip(&path, record.offset + record.len - 1);
                vec![seq]
            },
            report: |r| r.lost_seqs.len() == 1,
            log: "record failed its checksum",
        },
        Case {
            name: "bit flip in the last record of the last block",
            damage: |dir| {
                let (path, record) = locate(dir, MSGS);
                flip(&path, record.offset + record.len - 1);
                vec![MSGS]
            },
            report: |r| r.lost_seqs == [MSGS],
            log: "record failed its checksum",
        },
        Case {
            name: "bit flip in a block file header",
            damage: |dir| {
                flip(&blocks(dir)[1], 3);
                vec![]
            },
            report: |r| r.bad_file_headers == 1,
            log: "block file header damaged; rewritten",
        },
        Case {
            name: "torn tail inside the last record's body",
            damage: |dir| {
                let (path, record) = locate(dir, MSGS);
                fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len((record.offset + 50) as u64)
                    .unwrap();
                vec![MSGS]
            },
            report: |r| r.truncated_bytes == 50,
            log: "torn tail truncated",
        },
        Case {
            name: "torn tail inside the last record's header",
            damage: |dir| {
                let (path, record) = locate(dir, MSGS);
                fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len((record.offset + 7) as u64)
                    .unwrap();
                vec![MSGS]
            },
            report: |r| r.truncated_bytes == 7,
            log: "torn tail truncated",
        },
        Case {
            name: "sealed block truncated mid-record",
            damage: |dir| {
                let path = blocks(dir)[1].clone();
                let seqs = seqs_in_block(&path);
                let (_, last) = locate(dir, *seqs.last().unwrap());
                fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len((last.offset + 45) as u64)
                    .unwrap();
                vec![*seqs.last().unwrap()]
            },
            report: |r| r.truncated_bytes == 45 && r.quarantined_regions == 1,
            log: "damaged tail of a sealed block; quarantined and truncated",
        },
        Case {
            name: "zero-length block in the middle",
            damage: |dir| {
                let path = blocks(dir)[2].clone();
                let seqs = seqs_in_block(&path);
                fs::write(&path, b"").unwrap();
                seqs
            },
            report: |r| r.reset_blocks == 1,
            log: "block holds no valid record; reset to empty",
        },
        Case {
            name: "zero-length new block at the end (crash right after creating it)",
            damage: |dir| {
                let last = blocks(dir).len();
                fs::write(dir.join("msgs").join(format!("{:010}.blk", last + 1)), b"").unwrap();
                vec![]
            },
            report: |r| r.reset_blocks == 1,
            log: "reset to empty",
        },
        Case {
            name:
                "block file deleted (the store keeps no separate index file; blocks are the index)",
            damage: |dir| {
                let path = blocks(dir)[1].clone();
                let seqs = seqs_in_block(&path);
                fs::remove_file(&path).unwrap();
                seqs
            },
            report: |r| r.missing_blocks.len() == 1,
            log: "block file missing; its messages are lost",
        },
        Case {
            name: "garbage appended after the last record",
            damage: |dir| {
                let path = blocks(dir).last().unwrap().clone();
                let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
                file.write_all(&[0xA7, 0x4E, 0x52, 0x43, 1, 2, 3]).unwrap();
                vec![]
            },
            report: |r| r.truncated_bytes == 7,
            log: "torn tail truncated",
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn corruption_after_open_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let original = populate(dir.path());
    let store = FileStore::open(dir.path(), config()).unwrap();
    for seq in [3, 20, MSGS] {
        let (path, record) = locate(dir.path(), seq);
        let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(b"X", (record.offset + record.len - 2) as u64)
            .unwrap();
        assert!(matches!(store.load(seq), Err(StoreError::Corrupt { seq: s }) if s == seq));
        // Whatever path reaches the record, its bytes are never returned.
        let subject = &original[seq as usize - 1].subject;
        if let Ok(last) = store.load_last(subject) {
            assert_eq!(last, original[last.seq as usize - 1]);
        }
        assert!(store.load_next(subject, seq).map_or(true, |m| m.seq != seq));
    }
    assert_eq!(store.load(4).unwrap(), original[3]);
}

#[test]
fn erased_bytes_are_gone_from_disk_and_stay_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = FileStore::open(dir.path(), config()).unwrap();
    store
        .store("secrets.a", b"", b"TOP-SECRET-PAYLOAD", 1)
        .unwrap();
    store.store("secrets.b", b"", b"kept", 2).unwrap();
    store.sync().unwrap().wait().unwrap();
    assert!(store.remove(1, true).unwrap());
    store.sync().unwrap().wait().unwrap();
    drop(store);
    let on_disk: Vec<u8> = blocks(dir.path())
        .iter()
        .flat_map(|path| fs::read(path).unwrap())
        .collect();
    assert!(
        !on_disk.windows(18).any(|w| w == b"TOP-SECRET-PAYLOAD"),
        "erased payload still on disk"
    );
    let (store, report, _) = open_logged(dir.path());
    assert_eq!(report.quarantined_regions, 0, "{report:?}");
    assert!(matches!(store.load(1), Err(StoreError::NotFound)));
    assert_eq!(store.load(2).unwrap().payload.as_ref(), b"kept");
}
