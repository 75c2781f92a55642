//! One FIFO gate in front of SQLite's single write lock, shared by everything
//! in this process that writes one database file: the ingest writer thread and
//! sqlx write transactions (extraction, admin, jobs).
//!
//! Why: without it each side meets the other's lock through SQLite's busy
//! handler, which sleeps in growing steps (up to 100 ms) and polls. Under
//! steady ingest the group-commit writer holds the lock most of the time, so
//! a polling extraction transaction starved for seconds and ingest-to-offer
//! latency grew without bound. Queued on this gate, writers hand over at once
//! and in order. Readers never take it (WAL).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Weak},
};

use tokio::sync::{Mutex, OwnedMutexGuard};

pub type WriteGate = Arc<Mutex<()>>;
pub type WriteTurn = OwnedMutexGuard<()>;

/// Gates by database file; tests run many databases in one process.
static GATES: LazyLock<parking_lot::Mutex<HashMap<PathBuf, Weak<Mutex<()>>>>> = LazyLock::new(Default::default);

/// The gate of the database file at `path` (the same `Arc` for the same path).
pub fn for_path(path: &Path) -> WriteGate {
    let mut gates = GATES.lock();
    if let Some(gate) = gates.get(path).and_then(Weak::upgrade) {
        return gate;
    }
    gates.retain(|_, gate| gate.strong_count() > 0);
    let gate = Arc::new(Mutex::new(()));
    gates.insert(path.to_path_buf(), Arc::downgrade(&gate));
    gate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_gate_per_file_while_anyone_holds_it() {
        let a = for_path(Path::new("/tmp/gate-test-a.db"));
        let again = for_path(Path::new("/tmp/gate-test-a.db"));
        let b = for_path(Path::new("/tmp/gate-test-b.db"));
        assert!(Arc::ptr_eq(&a, &again));
        assert!(!Arc::ptr_eq(&a, &b));
        let turn = a.clone().try_lock_owned().expect("free");
        assert!(again.try_lock().is_err(), "the same file's gate is taken");
        assert!(b.try_lock().is_ok(), "another file's gate is independent");
        drop(turn);
        drop((a, again));
        let fresh = for_path(Path::new("/tmp/gate-test-a.db"));
        assert!(fresh.try_lock().is_ok());
    }
}
