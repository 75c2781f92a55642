//! The embedded writer's exact dedupe index, held in memory.
//!
//! On SQLite one writer thread owns all message inserts (a lock file keeps a
//! second process away), so an in-memory index is exact. It replaces two
//! random-key B-tree indexes that cost more than the rest of the write path
//! together. It is rebuilt from the `messages` table at start: the
//! message-id fingerprints and the content hashes stored inside the window.
//!
//! **Bounded.** Both maps forget entries stored before the content-hash
//! window (`WHATSAPP_CONTENT_HASH_WINDOW_HOURS`), so memory follows the
//! traffic of one window, not the life of the database. Each entry is also
//! queued in insertion order with its time; pruning pops the expired front
//! of the queues once per group commit, so it costs O(1) amortised per
//! stored message and lookups stay one hash probe. Pruning is measured
//! against the oldest batch of the group, so a message inside the window of
//! its batch always finds its twin. `soko_dedupe_index_entries{kind}` is the size.
//!
//! Changes made while a transaction is open are journalled, so a failed
//! commit rolls the index back with the database. The maps grow without a
//! stop-the-world rehash (`spread_map.rs`): at a million keys that rehash held
//! one group commit for up to 200 ms, the batch-50 p99.

use std::collections::VecDeque;

use super::spread_map::SpreadMap;

pub type Key = [u8; 16];

#[derive(Default)]
pub struct DedupeIndex {
    /// Message key → (stored id, stored at ms).
    by_message_key: SpreadMap<Key, (i64, i64)>,
    key_expiry: VecDeque<(i64, Key)>,
    /// Content key → (stored id, stored at ms).
    by_content: SpreadMap<Key, (i64, i64)>,
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

    pub fn load_message_key(&mut self, key: Key, message_pk: i64, stored_at_ms: i64) {
        self.by_message_key.insert(key, (message_pk, stored_at_ms));
        self.key_expiry.push_back((stored_at_ms, key));
    }

    pub fn load_content(&mut self, key: Key, message_pk: i64, stored_at_ms: i64) {
        self.by_content.insert(key, (message_pk, stored_at_ms));
        self.content_expiry.push_back((stored_at_ms, key));
    }

    /// The message-id check first, then the content window, as the spec
    /// orders them. `content` is `None` for messages without comparable content.
    /// A message key still held is a duplicate whatever its age.
    pub fn find(&self, message_key: Option<&Key>, content: Option<&Key>, now_ms: i64) -> Option<Duplicate> {
        if let Some((pk, _)) = message_key.and_then(|key| self.by_message_key.get(key)) {
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
            && self.by_message_key.insert(key, (message_pk, stored_at_ms)).is_none()
        {
            self.journal.push(Undo::MessageKey(key));
            self.key_expiry.push_back((stored_at_ms, key));
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

    /// Forgets message keys and content hashes stored before the window of
    /// `oldest_ms` (the oldest time a lookup will be made at). Queue entries
    /// whose map value was replaced or rolled back since are skipped, so a
    /// re-stored entry survives.
    pub fn prune(&mut self, oldest_ms: i64) {
        let horizon = oldest_ms - self.window_ms;
        expire(&mut self.by_message_key, &mut self.key_expiry, horizon);
        expire(&mut self.by_content, &mut self.content_expiry, horizon);
    }

    /// Forgets the entries that name these (purged) messages. Their expiry
    /// queue entries stay and are skipped when they come up.
    pub fn forget(&mut self, message_pks: &std::collections::HashSet<i64>) {
        if message_pks.is_empty() {
            return;
        }
        self.by_message_key.retain(|_, (pk, _)| !message_pks.contains(pk));
        self.by_content.retain(|_, (pk, _)| !message_pks.contains(pk));
    }

    pub fn message_key_entries(&self) -> usize {
        self.by_message_key.len()
    }

    pub fn content_entries(&self) -> usize {
        self.by_content.len()
    }
}

/// Pops the queue's front while it is older than `horizon`; a queue out of
/// time order (a clock step back) only keeps some entries longer.
fn expire(map: &mut SpreadMap<Key, (i64, i64)>, queue: &mut VecDeque<(i64, Key)>, horizon: i64) {
    while let Some(&(stored_at, key)) = queue.front() {
        if stored_at >= horizon {
            break;
        }
        queue.pop_front();
        if map.get(&key).is_some_and(|(_, at)| *at == stored_at) {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const HOUR: i64 = 3_600_000;

    fn key(n: u8) -> Key {
        [n; 16]
    }

    #[test]
    fn message_id_wins_over_content() {
        let mut index = DedupeIndex::new(24 * HOUR);
        index.insert(Some(key(1)), Some(key(2)), 10, 0);
        index.commit();
        assert_eq!(index.find(Some(&key(1)), Some(&key(9)), 23 * HOUR), Some(Duplicate::MessageId(10)));
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

    #[test]
    fn message_keys_are_forgotten_after_the_window() {
        let mut index = DedupeIndex::new(24 * HOUR);
        index.insert(Some(key(1)), None, 10, 0);
        index.insert(Some(key(2)), None, 11, 10 * HOUR);
        index.commit();
        index.prune(24 * HOUR);
        assert_eq!(index.message_key_entries(), 2, "exactly at the edge both are inside");
        index.prune(25 * HOUR);
        assert_eq!(index.message_key_entries(), 1);
        assert_eq!(index.find(Some(&key(1)), None, 25 * HOUR), None);
        assert_eq!(index.find(Some(&key(2)), None, 25 * HOUR), Some(Duplicate::MessageId(11)));
        index.insert(Some(key(1)), None, 12, 25 * HOUR);
        index.commit();
        index.prune(35 * HOUR);
        assert_eq!(index.find(Some(&key(1)), None, 35 * HOUR), Some(Duplicate::MessageId(12)), "stored again, kept again");
    }

    #[test]
    fn forgotten_messages_are_no_longer_duplicates() {
        let mut index = DedupeIndex::new(24 * HOUR);
        index.insert(Some(key(1)), Some(key(2)), 10, 0);
        index.insert(Some(key(3)), Some(key(4)), 11, 0);
        index.commit();
        index.forget(&[10].into_iter().collect());
        assert_eq!(index.find(Some(&key(1)), Some(&key(2)), HOUR), None);
        assert_eq!(index.find(Some(&key(3)), None, HOUR), Some(Duplicate::MessageId(11)));
        index.insert(Some(key(1)), None, 12, HOUR);
        index.commit();
        index.prune(25 * HOUR);
        assert_eq!(index.find(Some(&key(1)), None, 25 * HOUR), Some(Duplicate::MessageId(12)), "stored again, kept");
    }

    #[test]
    fn a_rolled_back_key_leaves_nothing_behind() {
        let mut index = DedupeIndex::new(HOUR);
        index.insert(Some(key(1)), None, 10, 0);
        index.rollback();
        index.insert(Some(key(1)), None, 11, 0);
        index.commit();
        index.prune(0);
        assert_eq!(index.find(Some(&key(1)), None, 0), Some(Duplicate::MessageId(11)));
        index.prune(2 * HOUR);
        assert_eq!((index.message_key_entries(), index.key_expiry.len()), (0, 0));
    }

    proptest::proptest! {
        /// Driven by an injected clock: whatever the order of stores, prunes
        /// and lookups, a key stored within the window of a lookup is found,
        /// and after a prune the index holds only keys of the last window.
        #[test]
        fn pruning_never_loses_a_duplicate_inside_the_window(
            steps in proptest::collection::vec((0u8..3, 0u8..20, 0i64..(3 * HOUR)), 1..300)
        ) {
            let window = 6 * HOUR;
            let mut index = DedupeIndex::new(window);
            let mut stored_at: HashMap<u8, i64> = HashMap::new();
            let mut now = 0;
            for (op, k, gap) in steps {
                now += gap / 10;
                match op {
                    0 => {
                        if index.find(Some(&key(k)), None, now).is_none() {
                            index.insert(Some(key(k)), None, i64::from(k), now);
                            index.commit();
                            stored_at.insert(k, now);
                        }
                    }
                    1 => {
                        index.prune(now);
                        let live = stored_at.values().filter(|at| **at >= now - window).count();
                        proptest::prop_assert_eq!(index.message_key_entries(), live);
                    }
                    _ => {
                        let inside = stored_at.get(&k).is_some_and(|at| *at >= now - window);
                        if inside {
                            proptest::prop_assert!(index.find(Some(&key(k)), None, now).is_some());
                        }
                    }
                }
            }
        }
    }
}
