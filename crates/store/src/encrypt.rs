//! Encryption at rest: message bodies sealed with XChaCha20-Poly1305 under a key from the config.
//!
//! Each block starts with a *salt* record holding a random 64-bit salt; a message record in that
//! block carries `[subject_len u16][headers_len u32][subject][headers][payload]` sealed with the
//! nonce `salt ‖ seq ‖ 0…` and the sequence as associated data, as its payload. A (salt, seq)
//! pair is never sealed twice: every block gets a fresh salt, and an encrypted store starts a
//! new block at every open, so a sequence reused after a torn tail is sealed under a new salt.
//! Record headers (sequence, timestamp, lengths) stay in the clear; the record checksums still
//! detect damage before authentication is even tried. An erased record is zeros, not sealed.

use std::fmt;
use std::io::Read;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::StoreError;

/// A 256-bit key for encryption at rest. Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    /// Wraps raw key bytes (e.g. decoded from the server configuration).
    pub fn new(bytes: [u8; 32]) -> EncryptionKey {
        EncryptionKey(bytes)
    }

    /// The key for a configured passphrase (`jetstream { key: "..." }`): SHA-256 of the text
    /// under a fixed domain label, so the same passphrase always opens the same stores.
    pub fn from_passphrase(passphrase: &str) -> EncryptionKey {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"natrium jetstream store key v1\0");
        hasher.update(passphrase.as_bytes());
        EncryptionKey(hasher.finalize().into())
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

/// A fresh non-zero salt from the operating system's random source.
pub(crate) fn random_salt() -> Result<u64, StoreError> {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(StoreError::io("reading /dev/urandom for a block salt"))?;
    Ok(u64::from_le_bytes(bytes).max(1))
}

fn nonce(salt: u64, seq: u64) -> XNonce {
    let mut nonce = [0u8; 24];
    nonce[..8].copy_from_slice(&salt.to_le_bytes());
    nonce[8..16].copy_from_slice(&seq.to_le_bytes());
    XNonce::from(nonce)
}

/// Seals a message body.
pub(crate) fn seal(
    key: &EncryptionKey,
    salt: u64,
    seq: u64,
    subject: &str,
    headers: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut plain = Vec::with_capacity(6 + subject.len() + headers.len() + payload.len());
    plain.extend_from_slice(&(subject.len() as u16).to_le_bytes());
    plain.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    plain.extend_from_slice(subject.as_bytes());
    plain.extend_from_slice(headers);
    plain.extend_from_slice(payload);
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let aad = seq.to_le_bytes();
    // Encryption with a valid key and nonce cannot fail; an empty result would fail to open.
    cipher
        .encrypt(
            &nonce(salt, seq),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .unwrap_or_default()
}

/// An opened message body: the plaintext and where its parts are.
#[derive(Debug)]
pub(crate) struct Opened {
    pub plain: Vec<u8>,
    pub subject_len: usize,
    pub headers_len: usize,
}

impl Opened {
    /// The subject, if valid UTF-8.
    pub fn subject(&self) -> Option<&str> {
        std::str::from_utf8(&self.plain[6..6 + self.subject_len]).ok()
    }

    /// The headers.
    pub fn headers(&self) -> &[u8] {
        &self.plain[6 + self.subject_len..6 + self.subject_len + self.headers_len]
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.plain[6 + self.subject_len + self.headers_len..]
    }
}

/// Opens a sealed body; `None` if authentication fails (wrong key, wrong salt, tampering) or
/// the plaintext is malformed.
pub(crate) fn open(key: &EncryptionKey, salt: u64, seq: u64, sealed: &[u8]) -> Option<Opened> {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let aad = seq.to_le_bytes();
    let plain = cipher
        .decrypt(
            &nonce(salt, seq),
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .ok()?;
    let lengths = plain.get(..6)?;
    let subject_len = usize::from(u16::from_le_bytes([lengths[0], lengths[1]]));
    let headers_len = u32::from_le_bytes([lengths[2], lengths[3], lengths[4], lengths[5]]) as usize;
    if 6 + subject_len + headers_len > plain.len() {
        return None;
    }
    let opened = Opened {
        plain,
        subject_len,
        headers_len,
    };
    opened
        .subject()
        .filter(|subject| crate::subject::is_valid_literal(subject))?;
    Some(opened)
}

#[cfg(test)]
mod passphrase_tests {
    use super::EncryptionKey;

    #[test]
    fn a_passphrase_always_gives_the_same_key() {
        let a = EncryptionKey::from_passphrase("s3cret");
        assert_eq!(a.0, EncryptionKey::from_passphrase("s3cret").0);
        assert_ne!(a.0, EncryptionKey::from_passphrase("s3cret ").0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bodies_open_only_with_the_same_key_salt_and_seq() {
        let key = EncryptionKey::new([7; 32]);
        let sealed = seal(&key, 11, 5, "orders.new", b"NATS/1.0\r\n\r\n", b"secret");
        let opened = open(&key, 11, 5, &sealed).expect("opens");
        assert_eq!(
            (opened.subject(), opened.headers(), opened.payload()),
            (Some("orders.new"), &b"NATS/1.0\r\n\r\n"[..], &b"secret"[..])
        );
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        for (key, salt, seq) in [
            (EncryptionKey::new([8; 32]), 11, 5),
            (key.clone(), 12, 5),
            (key.clone(), 11, 6),
        ] {
            assert!(open(&key, salt, seq, &sealed).is_none());
        }
        let mut tampered = sealed.clone();
        tampered[3] ^= 1;
        assert!(open(&key, 11, 5, &tampered).is_none());
        assert_eq!(format!("{key:?}"), "EncryptionKey(<redacted>)");
    }
}
