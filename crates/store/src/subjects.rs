//! Interned subjects with their live sequences, and a token trie that finds the subjects
//! matching a wildcard filter without testing every subject.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A subject with live messages and their sequences in ascending order.
#[derive(Debug)]
pub(crate) struct SubjectEntry {
    pub name: Arc<str>,
    pub seqs: VecDeque<u64>,
}

/// One trie level: children by token, and the subject ending here, if any.
#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    subject: Option<u32>,
}

impl Node {
    fn insert(&mut self, subject: &str, id: u32) {
        let mut node = self;
        for token in subject.split('.') {
            node = node.children.entry(token.into()).or_default();
        }
        node.subject = Some(id);
    }

    /// Removes `tokens`' subject; returns true if this node is now empty and can be dropped.
    fn remove(&mut self, tokens: &[&str]) -> bool {
        match tokens.split_first() {
            None => self.subject = None,
            Some((token, rest)) => {
                if self
                    .children
                    .get_mut(*token)
                    .is_some_and(|child| child.remove(rest))
                {
                    self.children.remove(*token);
                }
            }
        }
        self.subject.is_none() && self.children.is_empty()
    }

    fn collect(&self, filter: &[&str], out: &mut Vec<u32>) {
        let Some((token, rest)) = filter.split_first() else {
            out.extend(self.subject);
            return;
        };
        match *token {
            ">" => self
                .children
                .values()
                .for_each(|child| child.collect_all(out)),
            "*" => self
                .children
                .values()
                .for_each(|child| child.collect(rest, out)),
            literal => {
                if let Some(child) = self.children.get(literal) {
                    child.collect(rest, out);
                }
            }
        }
    }

    fn collect_all(&self, out: &mut Vec<u32>) {
        out.extend(self.subject);
        self.children
            .values()
            .for_each(|child| child.collect_all(out));
    }
}

/// Interned subjects: a subject id is stable while the subject has live messages.
#[derive(Debug, Default)]
pub(crate) struct Subjects {
    pub ids: HashMap<Arc<str>, u32>,
    pub entries: Vec<SubjectEntry>,
    free_ids: Vec<u32>,
    trie: Node,
}

impl Subjects {
    /// The id of `subject`, adding it if new.
    pub fn intern(&mut self, subject: &str) -> u32 {
        if let Some(&id) = self.ids.get(subject) {
            return id;
        }
        let name: Arc<str> = Arc::from(subject);
        let entry = SubjectEntry {
            name: name.clone(),
            seqs: VecDeque::new(),
        };
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.entries[id as usize] = entry;
                id
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.ids.insert(name, id);
        self.trie.insert(subject, id);
        id
    }

    /// Drops `seq` from the subject's list, forgetting the subject when it has none left.
    pub fn remove_seq(&mut self, id: u32, seq: u64) {
        let entry = &mut self.entries[id as usize];
        // Removal is usually the subject's oldest message (limits, expiry, purge).
        if entry.seqs.front() == Some(&seq) {
            entry.seqs.pop_front();
        } else if let Ok(pos) = entry.seqs.binary_search(&seq) {
            entry.seqs.remove(pos);
        }
        if entry.seqs.is_empty() {
            let name = std::mem::replace(&mut entry.name, Arc::from(""));
            self.ids.remove(&name);
            let tokens: Vec<&str> = name.split('.').collect();
            self.trie.remove(&tokens);
            self.free_ids.push(id);
        }
    }

    /// Ids of live subjects matching `filter`.
    pub fn matching_ids(&self, filter: &str) -> Vec<u32> {
        let tokens: Vec<&str> = filter.split('.').collect();
        let mut out = Vec::new();
        self.trie.collect(&tokens, &mut out);
        out
    }

    /// Live subjects matching `filter`.
    pub fn matching(&self, filter: &str) -> impl Iterator<Item = &SubjectEntry> {
        self.matching_ids(filter)
            .into_iter()
            .map(|id| &self.entries[id as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subjects present, a filter, and the subjects it must find (NATS wildcard rules).
    fn check(subjects: &[&str], filter: &str, expected: &[&str]) {
        let mut table = Subjects::default();
        for (seq, subject) in subjects.iter().enumerate() {
            let id = table.intern(subject);
            table.entries[id as usize].seqs.push_back(seq as u64);
        }
        let mut found: Vec<&str> = table.matching(filter).map(|entry| &*entry.name).collect();
        found.sort_unstable();
        assert_eq!(found, expected, "{filter}");
        for subject in subjects {
            assert_eq!(
                crate::subject::matches(filter, subject),
                expected.contains(subject),
                "{filter} {subject}"
            );
        }
    }

    #[test]
    fn trie_matches_like_the_matcher() {
        let all = ["a", "a.b", "a.b.c", "a.c", "b.b", "x.y.z"];
        check(&all, ">", &["a", "a.b", "a.b.c", "a.c", "b.b", "x.y.z"]);
        check(&all, "a.>", &["a.b", "a.b.c", "a.c"]);
        check(&all, "*.b", &["a.b", "b.b"]);
        check(&all, "*", &["a"]);
        check(&all, "a.*.c", &["a.b.c"]);
        check(&all, "a.b", &["a.b"]);
        check(&all, "q", &[]);
    }

    #[test]
    fn removed_subjects_leave_the_trie() {
        let mut table = Subjects::default();
        let id = table.intern("a.b");
        table.entries[id as usize].seqs.push_back(1);
        table.remove_seq(id, 1);
        assert!(table.matching_ids(">").is_empty());
        assert!(table.trie.children.is_empty());
    }
}
