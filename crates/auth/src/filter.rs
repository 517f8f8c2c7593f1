//! An immutable trie of permission subjects (with optional queue names) and its walks.
//!
//! Permissions are compiled once per user and never change, so unlike the Sublist this needs
//! no lock, no generation and no per-match allocation.

use natrium_subject::hash::FastBuildHasher;
use natrium_subject::{is_valid_subject, tokens, Tokens};
use std::collections::HashMap;

/// How a subscription subject containing wildcards is compared with the entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// nats-server's `Sublist.Match`: the subject's tokens are taken literally, so an entry
    /// `foo.*` also matches the subject `foo.>`. Used for deny lists (denying more is safe).
    Literal,
    /// Only entries that cover every subject the filter can match: an entry `*` does not
    /// match a `>` token. Used for allow lists (see README: a deliberate fix).
    Covering,
}

/// What ends at a trie position: plain entries and/or queue-qualified entries.
#[derive(Debug, Default)]
pub(crate) struct Terminal {
    /// An entry without a queue ends here.
    pub plain: bool,
    /// Queue names of `"subject queue"` entries ending here.
    pub queues: Vec<Box<[u8]>>,
}

#[derive(Debug, Default)]
struct Node {
    /// Keyed with the fixed fast hash: keys come from the config, not from clients.
    literal: HashMap<Box<[u8]>, Node, FastBuildHasher>,
    partial_wildcard: Option<Box<Node>>,
    /// Entries ending in `>` at this level (they match one or more further tokens).
    full_wildcard: Option<Terminal>,
    /// Entries ending exactly here.
    end: Option<Terminal>,
}

/// A set of subject filters, each optionally qualified by a queue name.
#[derive(Debug, Default)]
pub(crate) struct FilterSet {
    root: Node,
}

impl FilterSet {
    /// Adds `subject` (with `queue`, if any); false if the subject is not a valid filter.
    pub fn insert(&mut self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        if !is_valid_subject(subject) {
            return false;
        }
        let mut node = &mut self.root;
        let mut parts = tokens(subject).peekable();
        let terminal = loop {
            let Some(token) = parts.next() else {
                break node.end.get_or_insert_with(Terminal::default);
            };
            if token == b">" && parts.peek().is_none() {
                break node.full_wildcard.get_or_insert_with(Terminal::default);
            }
            node = if token == b"*" {
                node.partial_wildcard.get_or_insert_with(Box::default)
            } else {
                node.literal.entry(token.into()).or_default()
            };
        };
        match queue {
            Some(queue) if !terminal.queues.iter().any(|q| **q == *queue) => {
                terminal.queues.push(queue.into())
            }
            Some(_) => {}
            None => terminal.plain = true,
        }
        true
    }

    /// Calls `visit` on every terminal matching `subject` until it returns true; returns
    /// whether it did. A subject with an empty token matches nothing, as in nats-server.
    pub fn visit<'a>(
        &'a self,
        subject: &[u8],
        walk: Walk,
        visit: &mut dyn FnMut(&'a Terminal) -> bool,
    ) -> bool {
        if has_empty_token(subject) {
            return false;
        }
        visit_node(&self.root, tokens(subject), walk, visit)
    }

    /// Whether a plain (queue-less) entry matches `subject`.
    pub fn matches_plain(&self, subject: &[u8], walk: Walk) -> bool {
        self.visit(subject, walk, &mut |terminal| terminal.plain)
    }
}

fn visit_node<'a>(
    node: &'a Node,
    mut rest: Tokens<'_>,
    walk: Walk,
    visit: &mut dyn FnMut(&'a Terminal) -> bool,
) -> bool {
    let Some(token) = rest.next() else {
        return node.end.as_ref().is_some_and(&mut *visit);
    };
    if node.full_wildcard.as_ref().is_some_and(&mut *visit) {
        return true;
    }
    if let Some(next) = &node.partial_wildcard {
        let covers = walk == Walk::Literal || token != b">";
        if covers && visit_node(next, rest.clone(), walk, visit) {
            return true;
        }
    }
    match node.literal.get(token) {
        Some(next) => visit_node(next, rest, walk, visit),
        None => false,
    }
}

fn has_empty_token(subject: &[u8]) -> bool {
    subject.is_empty()
        || subject[0] == b'.'
        || subject[subject.len() - 1] == b'.'
        || subject.windows(2).any(|pair| pair == b"..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(entries: &[&str]) -> FilterSet {
        let mut set = FilterSet::default();
        for entry in entries {
            let mut parts = entry.split(' ');
            let subject = parts.next().unwrap().as_bytes();
            assert!(
                set.insert(subject, parts.next().map(str::as_bytes)),
                "{entry}"
            );
        }
        set
    }

    /// (entries, subject, matches literally, matches covering)
    fn check(cases: &[(&[&str], &str, bool, bool)]) {
        for &(entries, subject, literal, covering) in cases {
            let set = set(entries);
            let s = subject.as_bytes();
            assert_eq!(
                set.matches_plain(s, Walk::Literal),
                literal,
                "{entries:?} {subject}"
            );
            assert_eq!(
                set.matches_plain(s, Walk::Covering),
                covering,
                "{entries:?} {subject}"
            );
        }
    }

    #[test]
    fn walks() {
        check(&[
            (&["foo"], "foo", true, true),
            (&["foo"], "foo.bar", false, false),
            (&["foo.*"], "foo.bar", true, true),
            (&["foo.*"], "foo", false, false),
            (&["foo.*"], "foo.bar.baz", false, false),
            (&["foo.>"], "foo.bar.baz", true, true),
            (&["foo.>"], "foo", false, false),
            (&[">"], "a.b.c", true, true),
            (&["*.bar"], "foo.bar", true, true),
            (&["foo.*"], "foo.*", true, true),
            (&["foo.*"], "foo.>", true, false),
            (&["foo.>"], "foo.*", true, true),
            (&["foo.>"], "foo.>", true, true),
            (&["foo.bar"], "foo.*", false, false),
            (&["foo.*.>"], "foo.>", false, false),
            (&["foo.*"], "foo.", false, false),
            (&[">"], "foo..bar", false, false),
            (&[">"], "", false, false),
            (&["foo q"], "foo", false, false),
            (&["foo q", "foo"], "foo", true, true),
        ]);
    }

    /// The trie agrees with the subject crate's one-filter matching on seeded random
    /// filters and subjects: Literal walks with `matches`, Covering walks with `is_subset_of`.
    #[test]
    fn agrees_with_single_filter_matching() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut random_subject = |wildcards: bool| {
            let length = 1 + next(4);
            let mut tokens: Vec<&str> = Vec::new();
            for i in 0..length {
                let last = i == length - 1;
                let token = match next(if wildcards { 6 } else { 3 }) {
                    0 => "a",
                    1 => "b",
                    2 => "c",
                    3 | 4 => "*",
                    _ if last => ">",
                    _ => "*",
                };
                tokens.push(token);
            }
            tokens.join(".")
        };
        for _ in 0..2000 {
            let entries: Vec<String> = (0..3).map(|_| random_subject(true)).collect();
            let subject = random_subject(true);
            let set = set(&entries.iter().map(String::as_str).collect::<Vec<_>>());
            let s = subject.as_bytes();
            let literal = entries
                .iter()
                .any(|e| natrium_subject::matches(e.as_bytes(), s));
            let covering = entries
                .iter()
                .any(|e| natrium_subject::is_subset_of(s, e.as_bytes()));
            assert_eq!(
                set.matches_plain(s, Walk::Literal),
                literal,
                "{entries:?} {subject}"
            );
            assert_eq!(
                set.matches_plain(s, Walk::Covering),
                covering,
                "{entries:?} {subject}"
            );
        }
    }

    #[test]
    fn invalid_entries_are_refused() {
        let mut set = FilterSet::default();
        for bad in ["", "foo..bar", "foo.>.bar", "foo bar"] {
            assert!(!set.insert(bad.as_bytes(), None), "{bad:?}");
        }
    }
}
