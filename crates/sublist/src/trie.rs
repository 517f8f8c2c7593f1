//! The trie itself: one level per subject token, with literal, `*` and `>` children.

use crate::result::MatchResult;
use natrium_subject::{tokens, FULL_WILDCARD, PARTIAL_WILDCARD};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The subscriptions that end at one trie node.
pub(crate) struct Node<T> {
    next: Option<Box<Level<T>>>,
    plain: Vec<T>,
    queues: Vec<(Box<[u8]>, Vec<T>)>,
    /// The node's items as a match result, built by the first match that ends here alone
    /// and dropped when they change. Most subjects match exactly one node, so a match that
    /// misses every cache (reply inboxes, ack subjects) allocates nothing.
    result: OnceLock<Arc<MatchResult<T>>>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node {
            next: None,
            plain: Vec::new(),
            queues: Vec::new(),
            result: OnceLock::new(),
        }
    }
}

/// What a walk has matched so far.
pub(crate) enum Matched<'a, T> {
    /// Nothing.
    Nothing,
    /// One node's items.
    One(&'a Node<T>),
    /// Items of several nodes, merged.
    Many(MatchResult<T>),
}

impl<'a, T: Clone> Matched<'a, T> {
    fn add(&mut self, node: &'a Node<T>) {
        if !node.holds_items() {
            return;
        }
        match self {
            Matched::Nothing => *self = Matched::One(node),
            Matched::One(first) => {
                let mut merged = MatchResult::default();
                add_node(first, &mut merged);
                add_node(node, &mut merged);
                *self = Matched::Many(merged);
            }
            Matched::Many(merged) => add_node(node, merged),
        }
    }

    /// The result, sharing a single node's cached one; `empty` when nothing matched.
    pub(crate) fn into_result(self, empty: &Arc<MatchResult<T>>) -> Arc<MatchResult<T>> {
        match self {
            Matched::Nothing => Arc::clone(empty),
            Matched::One(node) => Arc::clone(node.result.get_or_init(|| {
                let mut result = MatchResult::default();
                add_node(node, &mut result);
                Arc::new(result)
            })),
            Matched::Many(merged) => Arc::new(merged),
        }
    }
}

impl<T> Node<T> {
    /// Whether subscriptions end here (what a match at this node would add).
    fn holds_items(&self) -> bool {
        !self.plain.is_empty() || self.queues.iter().any(|(_, members)| !members.is_empty())
    }
}

impl<T: Clone + PartialEq> Node<T> {
    fn is_empty(&self) -> bool {
        self.plain.is_empty()
            && self.queues.is_empty()
            && self.next.as_ref().is_none_or(|level| level.is_empty())
    }
}

/// One token position: children by literal token, and the two wildcard children.
pub(crate) struct Level<T> {
    literal: HashMap<Box<[u8]>, Node<T>>,
    partial_wildcard: Option<Box<Node<T>>>,
    full_wildcard: Option<Box<Node<T>>>,
}

impl<T> Default for Level<T> {
    fn default() -> Self {
        Level {
            literal: HashMap::new(),
            partial_wildcard: None,
            full_wildcard: None,
        }
    }
}

impl<T: Clone + PartialEq> Level<T> {
    fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.partial_wildcard.is_none() && self.full_wildcard.is_none()
    }

    fn child_mut(&mut self, token: &[u8]) -> &mut Node<T> {
        if token == [FULL_WILDCARD] {
            self.full_wildcard.get_or_insert_with(Default::default)
        } else if token == [PARTIAL_WILDCARD] {
            self.partial_wildcard.get_or_insert_with(Default::default)
        } else {
            self.literal.entry(token.into()).or_default()
        }
    }

    pub(crate) fn insert(&mut self, subject: &[u8], queue: Option<&[u8]>, item: T) {
        let mut level = self;
        let mut parts = tokens(subject).peekable();
        while let Some(token) = parts.next() {
            let node = level.child_mut(token);
            if parts.peek().is_none() {
                node.result = OnceLock::new();
                match queue {
                    None => node.plain.push(item),
                    Some(name) => match node.queues.iter_mut().find(|(n, _)| &**n == name) {
                        Some((_, members)) => members.push(item),
                        None => node.queues.push((name.into(), vec![item])),
                    },
                }
                return;
            }
            level = node.next.get_or_insert_with(Default::default);
        }
    }

    /// Removes the item and prunes nodes left empty.
    pub(crate) fn remove(&mut self, subject: &[u8], queue: Option<&[u8]>, item: &T) -> bool {
        let mut parts = tokens(subject);
        match parts.next() {
            Some(token) => self.remove_at(token, parts, queue, item),
            None => false,
        }
    }

    fn remove_at<'a>(
        &mut self,
        token: &[u8],
        mut rest: impl Iterator<Item = &'a [u8]>,
        queue: Option<&[u8]>,
        item: &T,
    ) -> bool {
        let node = if token == [FULL_WILDCARD] {
            self.full_wildcard.as_deref_mut()
        } else if token == [PARTIAL_WILDCARD] {
            self.partial_wildcard.as_deref_mut()
        } else {
            self.literal.get_mut(token)
        };
        let Some(node) = node else { return false };
        let removed = match rest.next() {
            Some(next_token) => match node.next.as_deref_mut() {
                Some(level) => level.remove_at(next_token, rest, queue, item),
                None => false,
            },
            None => remove_from_node(node, queue, item),
        };
        if removed && node.is_empty() {
            if token == [FULL_WILDCARD] {
                self.full_wildcard = None;
            } else if token == [PARTIAL_WILDCARD] {
                self.partial_wildcard = None;
            } else {
                self.literal.remove(token);
            }
        }
        removed
    }

    /// True if anything is interested in the literal `subject`: the walk of
    /// [`collect`](Self::collect), stopping at the first interested node, collecting nothing.
    pub(crate) fn any(&self, subject: &[u8]) -> bool {
        let mut parts = tokens(subject);
        match parts.next() {
            Some(first) => self.any_at(first, &mut parts),
            None => false,
        }
    }

    fn any_at<'a, I>(&self, token: &[u8], rest: &mut I) -> bool
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        if self.full_wildcard.as_deref().is_some_and(Node::holds_items) {
            return true;
        }
        let at_end = rest.clone().next().is_none();
        [self.partial_wildcard.as_deref(), self.literal.get(token)]
            .into_iter()
            .flatten()
            .any(|node| {
                if at_end {
                    return node.holds_items();
                }
                let Some(level) = &node.next else {
                    return false;
                };
                let mut after = rest.clone();
                after
                    .next()
                    .is_some_and(|next_token| level.any_at(next_token, &mut after))
            })
    }

    /// Everything interested in the literal `subject`.
    pub(crate) fn collect(&self, subject: &[u8]) -> Matched<'_, T> {
        let mut matched = Matched::Nothing;
        let mut parts = tokens(subject);
        if let Some(first) = parts.next() {
            self.collect_at(first, &mut parts.clone(), &mut matched);
        }
        matched
    }

    fn collect_at<'s, 'a, I>(&'s self, token: &[u8], rest: &mut I, result: &mut Matched<'s, T>)
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        // `>` matches this token and everything after it.
        if let Some(node) = &self.full_wildcard {
            result.add(node);
        }
        let at_end = rest.clone().next().is_none();
        for node in [self.partial_wildcard.as_deref(), self.literal.get(token)]
            .into_iter()
            .flatten()
        {
            if at_end {
                result.add(node);
            } else if let Some(level) = &node.next {
                let mut after = rest.clone();
                if let Some(next_token) = after.next() {
                    level.collect_at(next_token, &mut after, result);
                }
            }
        }
    }
}

fn remove_from_node<T: PartialEq>(node: &mut Node<T>, queue: Option<&[u8]>, item: &T) -> bool {
    node.result = OnceLock::new();
    match queue {
        None => match node.plain.iter().position(|x| x == item) {
            Some(index) => {
                node.plain.swap_remove(index);
                true
            }
            None => false,
        },
        Some(name) => {
            let Some(group_index) = node.queues.iter().position(|(n, _)| &**n == name) else {
                return false;
            };
            let members = &mut node.queues[group_index].1;
            let Some(index) = members.iter().position(|x| x == item) else {
                return false;
            };
            members.swap_remove(index);
            if members.is_empty() {
                node.queues.swap_remove(group_index);
            }
            true
        }
    }
}

fn add_node<T: Clone>(node: &Node<T>, result: &mut MatchResult<T>) {
    result.plain.extend_from_slice(&node.plain);
    for (name, members) in &node.queues {
        result.add_queue_members(name, members);
    }
}

#[cfg(test)]
impl<T: Clone + PartialEq> Level<T> {
    /// True if the level holds no children at all (pruning left nothing behind).
    pub(crate) fn literal_is_empty(&self) -> bool {
        self.is_empty()
    }
}
