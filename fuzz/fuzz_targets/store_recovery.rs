//! Fuzzes file-store recovery over arbitrary bytes: the block scan must classify every byte as a
//! verified record or damage without panicking, and the snapshot reader must accept or refuse
//! any stream cleanly. Inputs starting with an odd byte instead build a valid block from the
//! rest and then damage it where the input says, which reaches the resynchronisation paths that
//! random bytes (which never carry valid checksums) cannot. A first byte of 2 reads the rest as
//! a block file that may be compressed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natrium_store::block::{self, Damage};
use natrium_store::{MemoryStore, MessageStore, StoreConfig};

/// Builds a block of records whose payload lengths come from the input, then applies each
/// remaining 3-byte group as (offset high, offset low, xor mask); a zero mask truncates there.
fn damaged_block(input: &[u8]) -> Vec<u8> {
    let (layout, edits) = input.split_at(input.len().min(16));
    let payloads: Vec<Vec<u8>> = layout.iter().map(|&len| vec![len; usize::from(len % 64)]).collect();
    let subjects = ["a", "b.c", "d.e.f"];
    let mut bytes = block::build(
        payloads.iter().enumerate().map(|(i, p)| (i as u64 + 1, i as i64, subjects[i % 3], p.as_slice())),
    );
    for edit in edits.chunks_exact(3) {
        if bytes.is_empty() {
            break;
        }
        let at = usize::from(u16::from_be_bytes([edit[0], edit[1]])) % bytes.len();
        if edit[2] == 0 {
            bytes.truncate(at);
        } else {
            bytes[at] ^= edit[2];
        }
    }
    bytes
}

fn check_scan(data: &[u8]) {
    let scan = block::scan(data);
    assert!(scan.valid_len <= data.len());
    let mut end = 0;
    for record in &scan.records {
        // Records are in order, do not overlap and lie inside the kept part of the block.
        assert!(record.offset >= end);
        end = record.offset + record.len;
        assert!(end <= scan.valid_len);
    }
    for damage in &scan.damage {
        match *damage {
            Damage::Region { offset, len } | Damage::Record { offset, len, .. } => {
                assert!(offset + len <= data.len())
            }
            Damage::TornTail { offset, len } => assert_eq!(offset + len, data.len()),
            Damage::FileHeader => {}
        }
    }
    // Scanning the repaired block finds the same records and no torn tail.
    let again = block::scan(&data[..scan.valid_len]);
    assert_eq!(again.records, scan.records);
    assert!(!again.damage.iter().any(|d| matches!(d, Damage::TornTail { .. })));
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => check_scan(&damaged_block(rest)),
        // A compressed block file: the frame must be refused or decode to a scannable block.
        Some((2, rest)) => drop(block::scan_file(rest)),
        _ => {
            check_scan(data);
            if let Ok(store) = MemoryStore::restore(StoreConfig::default(), &mut &data[..]) {
                let state = store.state();
                assert!(state.msgs <= state.last_seq);
            }
        }
    }
});
