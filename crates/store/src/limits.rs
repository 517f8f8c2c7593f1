//! Limit enforcement shared by both stores: admission before a store, trimming after it, expiry.
//!
//! Pure functions over the [`Index`]: the removed sequences are appended to `removed` so the file
//! store can record them, and the memory store simply drops them.

use crate::index::Index;
use crate::{msg_size, subject, DiscardPolicy, StoreConfig, StoreError};

/// Checks a message against the limits before it is stored; returns its counted size.
pub(crate) fn admit<T: Default>(
    config: &StoreConfig,
    index: &Index<T>,
    subject: &str,
    headers: &[u8],
    payload: &[u8],
) -> Result<u64, StoreError> {
    if !subject::is_valid_literal(subject) || subject.len() > usize::from(u16::MAX) {
        return Err(StoreError::InvalidSubject);
    }
    let body_bytes = (headers.len() + payload.len()) as u64;
    if config
        .max_msg_size_bytes
        .is_some_and(|max| body_bytes > max)
        || body_bytes > MAX_BODY_BYTES
    {
        return Err(StoreError::MsgTooLarge);
    }
    let size = msg_size(subject, headers, payload);
    if config.discard == DiscardPolicy::NewPerSubject
        && config
            .max_msgs_per_subject
            .is_some_and(|max| index.subject_msgs_by_name(subject) as u64 >= max)
    {
        return Err(StoreError::MaxMsgsPerSubject);
    }
    if config.discard != DiscardPolicy::Old {
        if config.max_msgs.is_some_and(|max| index.msgs() >= max) {
            return Err(StoreError::MaxMsgs);
        }
        if config
            .max_bytes
            .is_some_and(|max| index.bytes() + size > max)
        {
            return Err(StoreError::MaxBytes);
        }
    }
    Ok(size)
}

/// Hard cap on `headers + payload` whatever the config says, so a record length always fits the
/// on-disk format and a corrupt length can be rejected before allocating.
pub(crate) const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Trims the store back within its limits after storing a message on subject id `subject`.
pub(crate) fn enforce<T: Default>(
    config: &StoreConfig,
    index: &mut Index<T>,
    subject: u32,
    removed: &mut Vec<u64>,
) {
    if let Some(max) = config.max_msgs_per_subject {
        while index.subject_msgs(subject) as u64 > max {
            let Some(oldest) = index.subject_first(subject) else {
                break;
            };
            index.remove(oldest);
            removed.push(oldest);
        }
    }
    if config.discard == DiscardPolicy::Old {
        while config.max_msgs.is_some_and(|max| index.msgs() > max)
            || config.max_bytes.is_some_and(|max| index.bytes() > max)
        {
            let first = index.base_seq();
            index.remove(first);
            removed.push(first);
        }
    }
}

/// Trims the whole store within new limits: every subject to its per-subject limit, then the
/// oldest messages past the count and byte limits, whatever the discard policy.
pub(crate) fn enforce_all<T: Default>(
    config: &StoreConfig,
    index: &mut Index<T>,
    removed: &mut Vec<u64>,
) {
    if let Some(max) = config.max_msgs_per_subject {
        for subject in index.subject_ids() {
            while index.subject_msgs(subject) as u64 > max {
                let Some(oldest) = index.subject_first(subject) else {
                    break;
                };
                index.remove(oldest);
                removed.push(oldest);
            }
        }
    }
    while config.max_msgs.is_some_and(|max| index.msgs() > max)
        || config.max_bytes.is_some_and(|max| index.bytes() > max)
    {
        let first = index.base_seq();
        index.remove(first);
        removed.push(first);
    }
}

/// Removes messages whose age at `now` reached `max_age_nanos`, oldest first. Stops at the first
/// message still young enough, so it never scans: timestamps are assumed to rise with sequence.
pub(crate) fn expire<T: Default>(
    config: &StoreConfig,
    index: &mut Index<T>,
    now: i64,
    removed: &mut Vec<u64>,
) -> u64 {
    let Some(max_age) = config.max_age_nanos else {
        return 0;
    };
    let mut count = 0;
    while let Some(time) = index.first_time() {
        if i128::from(now) - i128::from(time) < i128::from(max_age) {
            break;
        }
        let first = index.base_seq();
        index.remove(first);
        removed.push(first);
        count += 1;
    }
    count
}

/// When the first message expires, if an age limit is set.
pub(crate) fn next_expiry<T: Default>(config: &StoreConfig, index: &Index<T>) -> Option<i64> {
    let max_age = config.max_age_nanos?;
    index.first_time().map(|time| time.saturating_add(max_age))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discard_new_per_subject_refuses_a_full_subject_and_discard_new_does_not() {
        let mut index: Index<()> = Index::default();
        index.append("a", 10, 0, ());
        let mut config = StoreConfig {
            max_msgs_per_subject: Some(1),
            discard: DiscardPolicy::NewPerSubject,
            ..StoreConfig::default()
        };
        let refused = admit(&config, &index, "a", b"", b"x");
        assert!(matches!(refused, Err(StoreError::MaxMsgsPerSubject)));
        assert!(admit(&config, &index, "b", b"", b"x").is_ok());
        config.discard = DiscardPolicy::New;
        assert!(admit(&config, &index, "a", b"", b"x").is_ok());
    }
}
