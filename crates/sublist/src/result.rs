//! The answer to "who is interested in this subject": plain subscribers and queue groups.

/// One queue group's members that matched a subject; a message goes to exactly one of them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueGroup<T> {
    /// The queue group name.
    pub name: Box<[u8]>,
    /// The members, possibly from several matching filters.
    pub members: Vec<T>,
}

/// All subscriptions interested in one literal subject.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchResult<T> {
    /// Subscriptions outside any queue group; each gets the message.
    pub plain: Vec<T>,
    /// Queue groups, merged by name across matching filters.
    pub queues: Vec<QueueGroup<T>>,
}

impl<T> Default for MatchResult<T> {
    fn default() -> Self {
        MatchResult {
            plain: Vec::new(),
            queues: Vec::new(),
        }
    }
}

impl<T: Clone> MatchResult<T> {
    /// True if nothing matched.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.queues.is_empty()
    }

    /// The number of matching subscriptions, queue members included.
    pub fn len(&self) -> usize {
        self.plain.len() + self.queues.iter().map(|q| q.members.len()).sum::<usize>()
    }

    pub(crate) fn add_queue_members(&mut self, name: &[u8], members: &[T]) {
        if members.is_empty() {
            return;
        }
        match self.queues.iter_mut().find(|q| &*q.name == name) {
            Some(group) => group.members.extend_from_slice(members),
            None => self.queues.push(QueueGroup {
                name: name.into(),
                members: members.to_vec(),
            }),
        }
    }
}
