//! The embedded writer's exact dedupe index, held in memory.
//!
//! On SQLite one writer thread owns all message inserts (a lock file keeps a
//! second process away), so an in-memory index is exact. It replaces two
//! random-key B-tree indexes that cost more than the rest of the write path
//! together. It is rebuilt from the `messages` table at start: every
//! message-id fingerprint, and the content hashes stored inside the window.
//!
//! Changes made while a transaction is open are journalled, so a failed
//! commit rolls the index back with the database.

use std::collections::{HashMap, VecDeque};

pub type Key = [u8; 16];

#[derive(Default)]
pub struct DedupeIndex {
    by_message_key: HashMap<Key, i64>,
    by_content: HashMap<Key, (i64, i64)>,
    content_expiry: VecDeque<(i64, Key)>,
    window_ms: i64,
    journal: Vec<Undo>,
}

enum Undo {
    MessageKey(Key),
    Content(Key, Option<(i64, i64)>),
}

/// Why a message is a duplicate, with the id of the message already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    MessageId(i64),
    Content(i64),
}

pub fn content_key(content_hash: &[u8; 32]) -> Key {
    let mut key = [0u8; 16];
    key.copy_from_slice(&content_hash[..16]);
    key
}

impl DedupeIndex {
    pub fn new(window_ms: i64) -> Self {
        Self { window_ms, ..Self::default() }
    }

    pub fn load_message_key(&mut self, key: Key, message_pk: i64) {
        self.by_message_key.insert(key, message_pk);
    }

    pub fn load_content(&mut self, key: Key, message_pk: i64, stored_at_ms: i64) {
        self.by_content.insert(key, (message_pk, stored_at_ms));
        self.content_expiry.push_back((stored_at_ms, key));
    }

    /// The message-id check first, then the content window, as the spec
    /// orders them. `content` is `None` for messages without comparable content.
    pub fn find(&self, message_key: Option<&Key>, content: Option<&Key>, now_ms: i64) -> Option<Duplicate> {
        if let Some(pk) = message_key.and_then(|key| self.by_message_key.get(key)) {
            return Some(Duplicate::MessageId(*pk));
        }
        match content.and_then(|key| self.by_content.get(key)) {
            Some((pk, stored_at)) if *stored_at >= now_ms - self.window_ms => Some(Duplicate::Content(*pk)),
            _ => None,
        }
    }

    /// Records a stored message inside the open transaction.
    pub fn insert(&mut self, message_key: Option<Key>, content: Option<Key>, message_pk: i64, stored_at_ms: i64) {
        if let Some(key) = message_key
            && self.by_message_key.insert(key, message_pk).is_none()
        {
            self.journal.push(Undo::MessageKey(key));
        }
        let Some(content) = content else { return };
        let previous = self.by_content.insert(content, (message_pk, stored_at_ms));
        self.journal.push(Undo::Content(content, previous));
        self.content_expiry.push_back((stored_at_ms, content));
    }

    pub fn commit(&mut self) {
        self.journal.clear();
    }

    pub fn rollback(&mut self) {
        while let Some(undo) = self.journal.pop() {
            match undo {
                Undo::MessageKey(key) => {
                    self.by_message_key.remove(&key);
                }
                Undo::Content(key, Some(previous)) => {
                    self.by_content.insert(key, previous);
                }
                Undo::Content(key, None) => {
                    self.by_content.remove(&key);
                }
            }
        }
    }

    /// Forgets content hashes that left the window. Expiry entries whose map
    /// value was replaced since are skipped, so a re-stored hash survives.
    pub fn prune(&mut self, now_ms: i64) {
        let horizon = now_ms - self.window_ms;
        while let Some(&(stored_at, key)) = self.content_expiry.front() {
            if stored_at >= horizon {
                break;
            }
            self.content_expiry.pop_front();
            if self.by_content.get(&key).is_some_and(|(_, at)| *at == stored_at) {
                self.by_content.remove(&key);
            }
        }
    }

    pub fn message_key_entries(&self) -> usize {
        self.by_message_key.len()
    }

    pub fn content_entries(&self) -> usize {
        self.by_content.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn key(n: u8) -> Key {
        [n; 16]
    }

    #[test]
    fn message_id_wins_over_content_and_never_expires() {
        let mut index = DedupeIndex::new(24 * HOUR);
        index.insert(Some(key(1)), Some(key(2)), 10, 0);
        index.commit();
        assert_eq!(index.find(Some(&key(1)), Some(&key(9)), 100 * HOUR), Some(Duplicate::MessageId(10)));
        assert_eq!(index.find(None, Some(&key(2)), HOUR), Some(Duplicate::Content(10)));
        assert_eq!(index.find(None, Some(&key(2)), 25 * HOUR), None, "outside the window");
    }

    #[test]
    fn rollback_restores_the_previous_state() {
        let mut index = DedupeIndex::new(24 * HOUR);
        index.insert(None, Some(key(2)), 10, 0);
        index.commit();
        index.insert(Some(key(1)), Some(key(2)), 11, 30 * HOUR);
        index.insert(Some(key(3)), Some(key(4)), 12, 30 * HOUR);
        index.rollback();
        assert_eq!(index.find(Some(&key(1)), Some(&key(0)), 30 * HOUR), None);
        assert_eq!(index.find(Some(&key(3)), Some(&key(4)), 30 * HOUR), None);
        assert_eq!(index.find(None, Some(&key(2)), HOUR), Some(Duplicate::Content(10)));
        assert_eq!(index.message_key_entries(), 0);
    }

    #[test]
    fn prune_keeps_hashes_stored_again() {
        let mut index = DedupeIndex::new(24 * HOUR);
        index.insert(None, Some(key(2)), 10, 0);
        index.insert(None, Some(key(5)), 11, 0);
        index.insert(None, Some(key(2)), 12, 25 * HOUR);
        index.commit();
        index.prune(26 * HOUR);
        assert_eq!(index.content_entries(), 1);
        assert_eq!(index.find(None, Some(&key(2)), 26 * HOUR), Some(Duplicate::Content(12)));
    }
}
