//! The embedded writer's thread ([`super::sqlite_writer`] starts it): it owns the only writing
//! rusqlite connection and, per wake-up, commits every waiting request as one transaction (group
//! commit), folds the pending ingest deltas when due, records ingest failures, and runs purges on
//! the same connection so the dedupe index forgets what they remove.

use std::{sync::Arc, time::Instant};

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::mpsc;

use super::sqlite_summary::write_summary;
use super::sqlite_writer::{StoreReply, WriterCommand, WriterSettings};
use super::{
    StoreError,
    chat_index::ChatIndexTail,
    deliveries,
    dedupe_index::{DedupeIndex, Duplicate, content_key},
    group::{MessageOutcome, summarize},
    purge::{self, ClientPrefix, Dialect, PurgeCounts},
    summary_fold::{self, FoldStep, PendingFold},
};
use crate::{
    domain::{FailureFlush, PreparedBatch},
    metrics::Metrics,
    time::now_ms,
};

/// Upper bound on one group, to keep commit latency bounded under load.
const MAX_GROUP_MESSAGES: usize = 5_000;

pub(super) struct WriterLoop {
    pub(super) connection: Connection,
    /// Shared with sqlx write transactions on the same file (write_gate.rs).
    pub(super) gate: super::write_gate::WriteGate,
    pub(super) index: DedupeIndex,
    /// Pairs for `chat_messages` not yet written there (chat_index.rs).
    pub(super) chat_tail: ChatIndexTail,
    /// Ingest deltas committed but not folded yet (summary_fold.rs).
    pub(super) pending: PendingFold,
    pub(super) settings: WriterSettings,
    pub(super) metrics: Arc<Metrics>,
}

impl WriterLoop {
    pub(super) fn run(mut self, mut receiver: mpsc::Receiver<WriterCommand>) {
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

pub(super) fn report_index_size(metrics: &Metrics, index: &DedupeIndex) {
    metrics.dedupe_index_entries.with_label_values(&["message_id"]).set(index.message_key_entries() as i64);
    metrics.dedupe_index_entries.with_label_values(&["content"]).set(index.content_entries() as i64);
}
