//! A hash map whose growth never stalls one insert (issue 17, the batch-50
//! p99). A `std` map that fills up rehashes every entry inside the insert
//! that crossed the line: at a million dedupe keys that is one group commit
//! held for 50–200 ms of cache misses, and every request waiting on it shows
//! in the p99. [`SpreadMap`] instead starts a map of twice the capacity
//! beside the full one and moves [`MOVES_PER_INSERT`] entries across on each
//! later insert, so the rehash is spread over the inserts that follow;
//! lookups look in both while the move lasts. Only the list of keys to move
//! is taken at once (a sequential scan, a few ms per million).

use std::{collections::HashMap, hash::Hash};

/// Entries moved from the old map per insert: with 2, the move ends well
/// before the new map (twice the old capacity) fills up in its turn.
const MOVES_PER_INSERT: usize = 2;

pub struct SpreadMap<K, V> {
    current: HashMap<K, V>,
    /// The full map being emptied into `current`, and its keys still to move.
    old: Option<(HashMap<K, V>, Vec<K>)>,
}

impl<K, V> Default for SpreadMap<K, V> {
    fn default() -> Self {
        Self { current: HashMap::new(), old: None }
    }
}

impl<K: Hash + Eq + Copy, V> SpreadMap<K, V> {
    pub fn get(&self, key: &K) -> Option<&V> {
        self.current.get(key).or_else(|| self.old.as_ref().and_then(|(old, _)| old.get(key)))
    }

    /// Inserts and returns the previous value, as `HashMap::insert` does.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.move_some();
        let previous = self.old.as_mut().and_then(|(old, _)| old.remove(&key));
        if self.current.len() == self.current.capacity() && !self.current.contains_key(&key) {
            self.start_move();
        }
        self.current.insert(key, value).or(previous)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let from_current = self.current.remove(key);
        let from_old = self.old.as_mut().and_then(|(old, _)| old.remove(key));
        from_current.or(from_old)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.current.retain(|k, v| keep(k, v));
        if let Some((old, _)) = self.old.as_mut() {
            old.retain(|k, v| keep(k, v));
        }
    }

    pub fn len(&self) -> usize {
        self.current.len() + self.old.as_ref().map_or(0, |(old, _)| old.len())
    }

    /// The full map becomes the old one; the new one has room for twice as many.
    fn start_move(&mut self) {
        self.finish_move();
        let capacity = (self.current.capacity() * 2).max(16);
        let full = std::mem::replace(&mut self.current, HashMap::with_capacity(capacity));
        let keys: Vec<K> = full.keys().copied().collect();
        self.old = Some((full, keys));
    }

    fn move_some(&mut self) {
        let Some((old, keys)) = self.old.as_mut() else { return };
        for _ in 0..MOVES_PER_INSERT {
            match keys.pop() {
                // A key removed (or overwritten) since the move began is simply gone from `old`.
                Some(key) => {
                    if let Some(value) = old.remove(&key) {
                        self.current.insert(key, value);
                    }
                }
                None => {
                    self.old = None;
                    return;
                }
            }
        }
    }

    /// Moves whatever is left at once (only if the new map filled before the
    /// move ended, which two moves per insert rule out).
    fn finish_move(&mut self) {
        if let Some((old, _)) = self.old.take() {
            self.current.extend(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::SpreadMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        RetainEven,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0..2_000u16, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (0..2_000u16).prop_map(Op::Remove),
            1 => Just(Op::RetainEven),
        ]
    }

    proptest! {
        /// Whatever the operations and wherever a move stands, the map answers
        /// what a plain `HashMap` given the same operations answers.
        #[test]
        fn behaves_as_a_hash_map(ops in proptest::collection::vec(op(), 0..3_000)) {
            let mut spread = SpreadMap::default();
            let mut model = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(spread.insert(k, v), model.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(spread.remove(&k), model.remove(&k)),
                    Op::RetainEven => {
                        spread.retain(|_, v| *v % 2 == 0);
                        model.retain(|_, v| *v % 2 == 0);
                    }
                }
                prop_assert_eq!(spread.len(), model.len());
            }
            for k in 0..2_000u16 {
                prop_assert_eq!(spread.get(&k), model.get(&k));
            }
        }
    }

    #[test]
    fn growth_is_spread_over_later_inserts() {
        let mut spread = SpreadMap::default();
        let mut saw_a_move = false;
        for k in 0..100_000u32 {
            spread.insert(k, k);
            if let Some((old, keys)) = &spread.old {
                saw_a_move = true;
                assert!(old.len() <= keys.len(), "every entry left in the old map still has its key queued");
                assert!(spread.current.len() < spread.current.capacity(), "the new map never rehashes during a move");
            }
        }
        assert!(saw_a_move);
        assert_eq!(spread.len(), 100_000);
        assert!((0..100_000u32).all(|k| spread.get(&k) == Some(&k)));
    }
}
