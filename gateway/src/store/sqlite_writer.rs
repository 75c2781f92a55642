//! The embedded default's write path: one thread owns the only writing
//! rusqlite connection and commits whatever requests are waiting as one
//! transaction (group commit), with WAL and `synchronous=FULL`. A request is
//! answered only after its transaction is durable. A group of several
//! requests leaves its chat, client and total updates to a later fold
//! (`summary_fold.rs`); a lone request, or the first group after the fold
//! interval, writes them with everything pending.
//!
//! This module is the handle and the start (the process lock, the connection, the dedupe index
//! and pending deltas recovered from disk); the thread itself is [`super::sqlite_writer_loop`],
//! and the summary's statements are [`super::sqlite_summary`].
//!
//! rusqlite rather than sqlx here because the writer runs statements back to
//! back on its own thread: sqlx's SQLite driver sends every statement to a
//! worker thread and back, which measured 4× slower for this loop.

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::sqlite_writer_loop::{WriterLoop, report_index_size};
use super::{
    StoreError,
    chat_index::ChatIndexTail,
    checkpoint::Checkpointer,
    dedupe_index::{DedupeIndex, content_key},
    group::MessageOutcome,
    purge::{ClientPrefix, PurgeCounts},
    summary_fold::{self, PendingFold},
};
use crate::{
    domain::{FailureFlush, PreparedBatch},
    metrics::Metrics,
    time::now_ms,
};

/// Requests waiting for the writer before senders are made to wait.
const QUEUE_DEPTH: usize = 4_096;

pub type StoreReply = oneshot::Sender<Result<Vec<MessageOutcome>, StoreError>>;

pub enum WriterCommand {
    Store { batch: PreparedBatch, reply: StoreReply },
    RecordFailures { flush: FailureFlush, reply: oneshot::Sender<Result<(), StoreError>> },
    /// Runs on the writer's own connection, so the dedupe index forgets the
    /// purged messages with the commit that removes them.
    Purge { prefix: ClientPrefix, dry_run: bool, reply: oneshot::Sender<Result<PurgeCounts, StoreError>> },
    /// Folds the pending ingest deltas now, for a reader of per-chat rows.
    Settle { reply: oneshot::Sender<Result<(), StoreError>> },
    /// Sent by the fold ticker: fold the pending deltas if they are due.
    Tick,
}

pub struct WriterSettings {
    pub path: PathBuf,
    pub cache_mb: u32,
    pub content_window_ms: i64,
    pub debounce_ms: i64,
    pub max_wait_ms: i64,
}

pub struct SqliteWriter {
    // Taken out on close; requests already holding a clone still get served.
    sender: parking_lot::RwLock<Option<mpsc::Sender<WriterCommand>>>,
    thread: parking_lot::Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: parking_lot::Mutex<Option<Checkpointer>>,
    // Held for the life of the writer: one gateway process per database file.
    _lock: File,
}

impl SqliteWriter {
    /// Takes the database lock, opens the writing connection, rebuilds the
    /// dedupe index and starts the writer thread. Blocking: call it from
    /// `spawn_blocking`.
    pub fn start(settings: WriterSettings, metrics: Arc<Metrics>) -> Result<Self, StoreError> {
        let lock = take_process_lock(&settings.path)?;
        let connection = open_connection(&settings.path, settings.cache_mb)?;
        let started = Instant::now();
        let index = load_index(&connection, settings.content_window_ms)?;
        tracing::info!(
            message_ids = index.message_key_entries(),
            content_hashes = index.content_entries(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "dedupe index rebuilt from the database"
        );
        report_index_size(&metrics, &index);
        let chat_tail = ChatIndexTail::load(&connection)?;
        let pending = load_pending(&connection)?;
        let checkpointer = Checkpointer::start(settings.path.clone())
            .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}")))?;
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let gate = super::write_gate::for_path(&settings.path);
        let writer = WriterLoop { connection, gate, index, chat_tail, pending, settings, metrics };
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        start_fold_ticker(sender.downgrade())?;
        Ok(Self {
            sender: parking_lot::RwLock::new(Some(sender)),
            thread: parking_lot::Mutex::new(Some(thread)),
            checkpointer: parking_lot::Mutex::new(Some(checkpointer)),
            _lock: lock,
        })
    }

    fn sender(&self) -> Result<mpsc::Sender<WriterCommand>, StoreError> {
        self.sender.read().clone().ok_or(StoreError::WriterStopped)
    }

    pub async fn store(&self, batch: PreparedBatch) -> Result<Vec<MessageOutcome>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender()?.send(WriterCommand::Store { batch, reply }).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub async fn record_failures(&self, flush: FailureFlush) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let command = WriterCommand::RecordFailures { flush, reply };
        self.sender()?.send(command).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub async fn purge(&self, prefix: ClientPrefix, dry_run: bool) -> Result<PurgeCounts, StoreError> {
        let (reply, answer) = oneshot::channel();
        let command = WriterCommand::Purge { prefix, dry_run, reply };
        self.sender()?.send(command).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Returns once every ingest delta committed so far is folded into the
    /// chat, client and total rows.
    pub async fn settle(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender()?.send(WriterCommand::Settle { reply }).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub fn is_running(&self) -> bool {
        self.sender.read().as_ref().is_some_and(|s| !s.is_closed())
    }

    /// Stops taking requests, lets the thread finish what is queued, and
    /// waits for it. Nothing acknowledged is lost: replies follow commits.
    pub async fn close(&self) {
        drop(self.sender.write().take());
        let handle = self.thread.lock().take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        let checkpointer = self.checkpointer.lock().take();
        if let Some(checkpointer) = checkpointer {
            let _ = tokio::task::spawn_blocking(move || checkpointer.stop()).await;
        }
    }
}

fn take_process_lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = path.with_extension("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "another gateway process is using {}; the embedded SQLite default runs one process per database \
             file (use DATABASE_URL=postgres://… to run several replicas)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::Unavailable(format!("cannot lock {}: {e}", lock_path.display())))
        }
    }
}

fn open_connection(path: &Path, cache_mb: u32) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    // Foreign keys stay off on this connection only: it is the one writer of
    // messages, and it upserts their chat in the same transaction.
    connection.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = OFF;
         PRAGMA busy_timeout = 10000;
         PRAGMA temp_store = MEMORY;
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA cache_size = -{};",
        u64::from(cache_mb) * 1_024
    ))?;
    Ok(connection)
}

fn load_index(connection: &Connection, window_ms: i64) -> Result<DedupeIndex, StoreError> {
    let mut index = DedupeIndex::new(window_ms);
    let horizon = now_ms() - window_ms;
    let mut keys = connection.prepare(
        "SELECT id, message_key, received_at_ms FROM messages
         WHERE message_key IS NOT NULL AND received_at_ms >= ?1 ORDER BY id",
    )?;
    let mut rows = keys.query([horizon])?;
    while let Some(row) = rows.next()? {
        let key: Vec<u8> = row.get(1)?;
        if let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) {
            index.load_message_key(key, row.get(0)?, row.get(2)?);
        }
    }
    let mut hashes = connection.prepare(
        "SELECT id, content_hash, received_at_ms FROM messages
         WHERE received_at_ms >= ?1 AND dedupe_by_content ORDER BY id",
    )?;
    let mut rows = hashes.query([horizon])?;
    while let Some(row) = rows.next()? {
        let hash: Vec<u8> = row.get(1)?;
        if let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) {
            index.load_content(content_key(&hash), row.get(0)?, row.get(2)?);
        }
    }
    Ok(index)
}

/// Wakes the writer twice per fold interval so that deltas left by the last
/// group of a burst are folded when no further request comes. It holds only a
/// weak sender: once the writer is closed it ends by itself. A full queue
/// means load, and the load's own groups fold when due.
fn start_fold_ticker(writer: mpsc::WeakSender<WriterCommand>) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("sqlite-fold-tick".into())
        .spawn(move || {
            loop {
                std::thread::sleep(summary_fold::FOLD_INTERVAL / 2);
                let Some(sender) = writer.upgrade() else { break };
                if let Err(mpsc::error::TrySendError::Closed(_)) = sender.try_send(WriterCommand::Tick) {
                    break;
                }
            }
        })
        .map(drop)
        .map_err(|e| StoreError::Unavailable(format!("cannot start the fold ticker thread: {e}")))
}

/// Deltas a previous process committed and did not fold (a crash).
fn load_pending(connection: &Connection) -> Result<PendingFold, StoreError> {
    let mut statement = connection.prepare("SELECT id, body FROM ingest_deltas ORDER BY id")?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
    let bodies = rows.collect::<Result<Vec<_>, _>>()?;
    if !bodies.is_empty() {
        tracing::info!(deltas = bodies.len(), "folding ingest deltas left by the previous process");
    }
    PendingFold::recover(bodies, Instant::now())
}
