//! The embedded default's write path: one thread owns the only writing
//! rusqlite connection and commits whatever requests are waiting as one
//! transaction (group commit), with WAL and `synchronous=FULL`. A request is
//! answered only after its transaction is durable. A group of several
//! requests leaves its chat, client and total updates to a later fold
//! (`summary_fold.rs`); a lone request, or the first group after the fold
//! interval, writes them with everything pending.
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

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::{
    StoreError,
    chat_index::ChatIndexTail,
    checkpoint::Checkpointer,
    deliveries,
    dedupe_index::{DedupeIndex, Duplicate, content_key},
    group::{GroupSummary, MessageOutcome, summarize},
    purge::{self, ClientPrefix, Dialect, PurgeCounts},
    summary_fold::{self, FoldStep, PendingFold},
};
use crate::{
    domain::{FailureFlush, PreparedBatch},
    metrics::Metrics,
    time::now_ms,
};

/// Requests waiting for the writer before senders are made to wait.
const QUEUE_DEPTH: usize = 4_096;
/// Upper bound on one group, to keep commit latency bounded under load.
const MAX_GROUP_MESSAGES: usize = 5_000;

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

struct WriterLoop {
    connection: Connection,
    /// Shared with sqlx write transactions on the same file (write_gate.rs).
    gate: super::write_gate::WriteGate,
    index: DedupeIndex,
    /// Pairs for `chat_messages` not yet written there (chat_index.rs).
    chat_tail: ChatIndexTail,
    /// Ingest deltas committed but not folded yet (summary_fold.rs).
    pending: PendingFold,
    settings: WriterSettings,
    metrics: Arc<Metrics>,
}

impl WriterLoop {
    fn run(mut self, mut receiver: mpsc::Receiver<WriterCommand>) {
        self.fold_logged();
        while let Some(first) = receiver.blocking_recv() {
            let mut stores = Vec::new();
            let mut flushes = Vec::new();
            let mut purges = Vec::new();
            let mut settles = Vec::new();
            let mut messages = 0;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    WriterCommand::Store { batch, reply } => {
                        messages += batch.messages.len();
                        stores.push((batch, reply));
                    }
                    WriterCommand::RecordFailures { flush, reply } => flushes.push((flush, reply)),
                    WriterCommand::Purge { prefix, dry_run, reply } => purges.push((prefix, dry_run, reply)),
                    WriterCommand::Settle { reply } => settles.push(reply),
                    WriterCommand::Tick => {}
                }
                if messages < MAX_GROUP_MESSAGES {
                    next = receiver.try_recv().ok();
                }
            }
            if !stores.is_empty() {
                self.commit_group(stores);
            }
            for (flush, reply) in flushes {
                let _ = reply.send(self.record_failures(&flush).map_err(StoreError::from));
            }
            for (prefix, dry_run, reply) in purges {
                let _ = reply.send(self.purge(&prefix, dry_run).map_err(StoreError::from));
            }
            if !settles.is_empty() {
                let result = self.fold().map_err(StoreError::from);
                for reply in settles {
                    let _ = reply.send(result.as_ref().map(|_| ()).map_err(|e| StoreError::Unavailable(e.to_string())));
                }
            } else if self.pending.is_due(Instant::now()) {
                self.fold_logged();
            }
        }
        self.fold_logged();
        tracing::info!("sqlite writer stopped after draining its queue");
    }

    /// Writes every pending delta into the chat, client and total rows and
    /// deletes them, in one transaction.
    fn fold(&mut self) -> rusqlite::Result<()> {
        let Some(through) = self.pending.through_id() else { return Ok(()) };
        let _turn = self.gate.blocking_lock();
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_summary(&transaction, &self.pending.merged_with(Default::default()), self.settings.max_wait_ms)?;
        transaction.execute("DELETE FROM ingest_deltas WHERE id <= ?1", [through])?;
        transaction.commit()?;
        self.pending.apply(FoldStep::Folded, Instant::now());
        summary_fold::after_fold();
        Ok(())
    }

    fn fold_logged(&mut self) {
        if let Err(error) = self.fold() {
            tracing::error!(error = %error, "folding ingest deltas failed; they stay pending and are retried");
        }
    }

    fn commit_group(&mut self, stores: Vec<(PreparedBatch, StoreReply)>) {
        let started = Instant::now();
        // Every lookup of this group is made at its batch's receive time.
        let oldest = stores.iter().map(|(batch, _)| batch.received_at_ms).fold(now_ms(), i64::min);
        self.index.prune(oldest);
        // Several requests at once mean load: their summary waits for a fold.
        let defer = stores.len() > 1 && !self.pending.is_due(started);
        let (batches, replies): (Vec<PreparedBatch>, Vec<_>) = stores.into_iter().unzip();
        let result = self.write_group(&batches, defer);
        let message_count: usize = batches.iter().map(|b| b.messages.len()).sum();
        match result {
            Ok((outcomes, step)) => {
                self.index.commit();
                self.chat_tail.commit();
                if matches!(step, FoldStep::Folded) && !self.pending.is_empty() {
                    summary_fold::after_fold();
                }
                self.pending.apply(step, started);
                self.metrics.commit_duration.observe(started.elapsed().as_secs_f64());
                self.metrics.commit_group_messages.observe(message_count as f64);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                self.index.rollback();
                self.chat_tail.rollback();
                tracing::error!(error = %error, batches = batches.len(), "group commit failed; nothing of it was stored");
                let message = error.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                }
            }
        }
        report_index_size(&self.metrics, &self.index);
    }

    fn write_group(&mut self, batches: &[PreparedBatch], defer: bool) -> rusqlite::Result<(Vec<Vec<MessageOutcome>>, FoldStep)> {
        let _turn = self.gate.blocking_lock();
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut replays = Vec::with_capacity(batches.len());
        let horizon = now_ms() - self.settings.content_window_ms;
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO messages (chat_id, client_id, request_id, message_id, message_key, sender, sender_name,
                                       text, media_json, content_hash, dedupe_by_content, upstream_ts_ms, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for batch in batches {
                if let Some(id) = &batch.delivery_id
                    && let Some(first) = deliveries::find_sqlite(&transaction, id, horizon)?
                {
                    // A redelivery: answered from the first, nothing stored.
                    outcomes.push(first);
                    replays.push(true);
                    continue;
                }
                let mut batch_outcomes = Vec::with_capacity(batch.messages.len());
                for message in &batch.messages {
                    let content = message.dedupe_by_content.then(|| content_key(&message.content_hash));
                    match self.index.find(message.message_key.as_ref(), content.as_ref(), batch.received_at_ms) {
                        Some(Duplicate::MessageId(pk) | Duplicate::Content(pk)) => {
                            batch_outcomes.push(MessageOutcome { created: false, message_pk: Some(pk) });
                        }
                        None => {
                            insert.execute(params![
                                message.chat_id,
                                batch.client_id,
                                batch.request_id,
                                message.message_id,
                                message.message_key.as_ref().map(|k| &k[..]),
                                message.sender,
                                message.sender_name,
                                message.text,
                                message.media_json,
                                &message.content_hash[..],
                                message.dedupe_by_content,
                                message.upstream_ts_ms,
                                batch.received_at_ms,
                            ])?;
                            let pk = transaction.last_insert_rowid();
                            self.index.insert(message.message_key, content, pk, batch.received_at_ms);
                            self.chat_tail.push(&message.chat_id, pk);
                            batch_outcomes.push(MessageOutcome { created: true, message_pk: Some(pk) });
                        }
                    }
                }
                if let Some(id) = &batch.delivery_id {
                    deliveries::record_sqlite(&transaction, id, batch.received_at_ms, &batch_outcomes)?;
                }
                outcomes.push(batch_outcomes);
                replays.push(false);
            }
        }
        if batches.iter().any(|b| b.delivery_id.is_some()) {
            deliveries::prune_sqlite(&transaction, horizon)?;
        }
        self.chat_tail.flush_if_due(&transaction)?;
        // Replayed deliveries stored nothing: they count nowhere.
        let stored = || batches.iter().zip(&outcomes).zip(&replays).filter(|(_, replay)| !**replay).map(|(pair, _)| pair);
        let refs: Vec<&PreparedBatch> = stored().map(|(batch, _)| batch).collect();
        let stored_outcomes: Vec<Vec<MessageOutcome>> = stored().map(|(_, outcome)| outcome.clone()).collect();
        let summary = summarize(&refs, &stored_outcomes, self.settings.debounce_ms);
        let step = if defer {
            let body = summary_fold::encode(&summary).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            let totals = summary.totals;
            transaction
                .prepare_cached("INSERT INTO ingest_deltas (accepted, created, deduped, body) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![totals.accepted, totals.created, totals.deduped, body])?;
            FoldStep::Appended { id: transaction.last_insert_rowid(), summary }
        } else {
            write_summary(&transaction, &self.pending.merged_with(summary), self.settings.max_wait_ms)?;
            if let Some(through) = self.pending.through_id() {
                transaction.execute("DELETE FROM ingest_deltas WHERE id <= ?1", [through])?;
            }
            FoldStep::Folded
        };
        transaction.commit()?;
        Ok((outcomes, step))
    }

    fn record_failures(&mut self, flush: &FailureFlush) -> rusqlite::Result<()> {
        let _turn = self.gate.blocking_lock();
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO ingest_failures (at_ms, client_id, chat_title, status, code, reason, request_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for record in &flush.records {
                insert.execute(params![
                    record.at_ms, record.client_id, record.chat_title, record.status, record.code, record.reason, record.request_id
                ])?;
            }
            let mut bump = transaction.prepare_cached("UPDATE counters SET value = value + ?2 WHERE name = ?1")?;
            for (name, delta) in &flush.counter_deltas {
                bump.execute(params![name, delta])?;
            }
            transaction.execute(
                "DELETE FROM ingest_failures WHERE id <= (SELECT MAX(id) FROM ingest_failures) - ?1",
                [flush.keep_rows],
            )?;
        }
        transaction.commit()
    }
}

impl WriterLoop {
    /// The purge's statements (`store::purge`) in one transaction; on commit
    /// the dedupe index and the chat-index tail forget the removed messages.
    fn purge(&mut self, prefix: &ClientPrefix, dry_run: bool) -> rusqlite::Result<PurgeCounts> {
        // The purge adjusts chat, client and total rows: they must hold every delta first.
        self.fold()?;
        let _turn = self.gate.blocking_lock();
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut counts = PurgeCounts::default();
        let mut doomed = std::collections::HashSet::new();
        for (position, (tally, sql)) in purge::statements(Dialect::Sqlite).iter().enumerate() {
            if position == purge::SETUP_STATEMENTS {
                let mut ids = transaction.prepare(purge::DOOMED_MESSAGE_IDS)?;
                doomed = ids.query_map([], |row| row.get::<_, i64>(0))?.collect::<Result<_, _>>()?;
            }
            let rows = if sql.contains("$1") { transaction.execute(sql, [prefix.as_str()])? } else { transaction.execute(sql, [])? };
            counts.add(*tally, rows as u64);
        }
        if dry_run {
            transaction.rollback()?;
            return Ok(counts);
        }
        transaction.commit()?;
        self.index.forget(&doomed);
        self.chat_tail.forget(&doomed);
        report_index_size(&self.metrics, &self.index);
        Ok(counts)
    }
}

fn report_index_size(metrics: &Metrics, index: &DedupeIndex) {
    metrics.dedupe_index_entries.with_label_values(&["message_id"]).set(index.message_key_entries() as i64);
    metrics.dedupe_index_entries.with_label_values(&["content"]).set(index.content_entries() as i64);
}

fn write_summary(transaction: &rusqlite::Transaction<'_>, summary: &GroupSummary, max_wait_ms: i64) -> rusqlite::Result<()> {
    // Debounce with a ceiling: each new message pushes the due time out, but
    // never past the first pending message + max wait, so a chat that never
    // goes quiet is still extracted.
    let mut chat = transaction.prepare_cached(
        "INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms, extract_due_at_ms,
                            extract_pending_since_ms, accepted_count, created_count, deduped_count)
         VALUES (?1, ?2, ?3, ?4, MIN(?5, ?6 + ?10), ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET
             title = excluded.title,
             last_message_at_ms = MAX(chats.last_message_at_ms, excluded.last_message_at_ms),
             extract_pending_since_ms = COALESCE(chats.extract_pending_since_ms, excluded.extract_pending_since_ms),
             extract_due_at_ms = CASE
                 WHEN ?5 IS NULL THEN chats.extract_due_at_ms
                 ELSE MIN(?5, COALESCE(chats.extract_pending_since_ms, ?6) + ?10) END,
             extract_seq = chats.extract_seq + (excluded.created_count > 0),
             accepted_count = chats.accepted_count + excluded.accepted_count,
             created_count = chats.created_count + excluded.created_count,
             deduped_count = chats.deduped_count + excluded.deduped_count",
    )?;
    for delta in &summary.chats {
        chat.execute(params![
            delta.chat_id, delta.title, delta.first_at_ms, delta.last_at_ms, delta.extract_due_at_ms,
            delta.first_created_at_ms, delta.accepted, delta.created, delta.deduped, max_wait_ms
        ])?;
    }
    let mut event = transaction.prepare_cached(
        "INSERT INTO event_log (at_ms, kind, chat_id, request_id, detail) VALUES (?1, 'ingest', ?2, ?3, ?4)",
    )?;
    for batch in &summary.events {
        event.execute(params![batch.at_ms, batch.chat_id, batch.request_id, batch.detail])?;
    }
    let mut client = transaction.prepare_cached(
        "INSERT INTO clients (id, first_seen_at_ms, last_seen_at_ms, request_count, message_count)
         VALUES (?1, ?2, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET
             last_seen_at_ms = MAX(clients.last_seen_at_ms, excluded.last_seen_at_ms),
             request_count = clients.request_count + excluded.request_count,
             message_count = clients.message_count + excluded.message_count",
    )?;
    for delta in &summary.clients {
        client.execute(params![delta.client_id, delta.at_ms, delta.requests, delta.messages])?;
    }
    let mut bump = transaction.prepare_cached("UPDATE counters SET value = value + ?2 WHERE name = ?1")?;
    let totals = summary.totals;
    for (name, delta) in [("accepted", totals.accepted), ("created", totals.created), ("deduped", totals.deduped)] {
        if delta != 0 {
            bump.execute(params![name, delta])?;
        }
    }
    Ok(())
}
