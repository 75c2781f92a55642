//! The scale-out write path: PostgreSQL, possibly shared by several gateways.
//! Requests waiting at the same moment are grouped; each group is one
//! transaction of five round trips whatever its size (chats, the
//! `soko_store_messages` function, chat counters, clients, totals). Several
//! groups commit at once, so the connection pool is kept busy. Exactness
//! under concurrency comes from the database's unique constraints, which the
//! function relies on; deadlocks and serialisation failures are retried.
//!
//! A group that has company (several requests, or other groups in flight)
//! appends its summary to `ingest_deltas` instead of updating the shared
//! chat, client and counter rows, so concurrent commits, of this replica and
//! of others, do not queue on those rows' locks. A fold applies the deltas
//! (`summary_fold.rs`): when this replica's commits go idle, every
//! [`FOLD_INTERVAL`] while it has some pending, and every [`SWEEP_INTERVAL`]
//! for whatever another replica (or a crash) left.
//!
//! The group's statements are [`super::postgres_group_sql`].

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::postgres_group_sql::{Answer, answers_by_claim, append_delta, ensure_chats, store_messages, write_summary};
use super::{
    StoreError,
    deliveries::{self, Claim},
    group::{MessageOutcome, summarize},
    summary_fold::{self, FOLD_BATCH, FOLD_INTERVAL},
};
use super::StoreSettings;
use crate::{domain::PreparedBatch, metrics::Metrics, time::now_ms};

const QUEUE_DEPTH: usize = 4_096;
const MAX_GROUP_MESSAGES: usize = 5_000;
const ATTEMPTS: usize = 3;
/// How often a replica with nothing of its own pending looks for deltas left by others.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

type Reply = oneshot::Sender<Result<Vec<MessageOutcome>, StoreError>>;

pub struct PostgresWriter {
    sender: parking_lot::RwLock<Option<mpsc::Sender<(PreparedBatch, Reply)>>>,
    task: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
    context: Arc<GroupContext>,
}

struct GroupContext {
    pool: PgPool,
    metrics: Arc<Metrics>,
    window_ms: i64,
    debounce_ms: i64,
    max_wait_ms: i64,
    /// False after a transient failure until a commit succeeds again: the
    /// outage is logged once when it starts and once when it ends.
    reachable: std::sync::atomic::AtomicBool,
    /// Groups being committed now.
    in_flight: AtomicUsize,
    /// Set when this replica commits a delta; cleared by the fold that takes it.
    pending: AtomicBool,
    /// One background fold at a time per replica.
    folding: AtomicBool,
}

impl PostgresWriter {
    pub fn start(pool: PgPool, config: &StoreSettings, metrics: Arc<Metrics>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        // Leave some connections for reads, workers and health checks; past the primary's cores,
        // more groups at once only make each smaller and every commit slower.
        let concurrent_groups = config.write_groups.clamp(1, (config.max_connections as usize / 2).max(1));
        let context = Arc::new(GroupContext {
            pool,
            metrics,
            window_ms: config.content_hash_window.as_millis() as i64,
            debounce_ms: config.extract_debounce.as_millis() as i64,
            max_wait_ms: config.extract_max_wait.as_millis() as i64,
            reachable: std::sync::atomic::AtomicBool::new(true),
            in_flight: AtomicUsize::new(0),
            pending: AtomicBool::new(false),
            folding: AtomicBool::new(false),
        });
        let task = tokio::spawn(collect_groups(receiver, context.clone(), concurrent_groups));
        Self { sender: parking_lot::RwLock::new(Some(sender)), task: parking_lot::Mutex::new(Some(task)), context }
    }

    /// Folds every delta committed so far, waiting for a fold another
    /// connection is running to commit first.
    pub async fn settle(&self) -> Result<(), StoreError> {
        while fold_once(&self.context, false).await? > 0 {}
        Ok(())
    }

    pub async fn store(&self, batch: PreparedBatch) -> Result<Vec<MessageOutcome>, StoreError> {
        let sender = self.sender.read().clone().ok_or(StoreError::WriterStopped)?;
        let (reply, answer) = oneshot::channel();
        sender.send((batch, reply)).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub fn is_running(&self) -> bool {
        self.sender.read().as_ref().is_some_and(|s| !s.is_closed())
    }

    pub async fn close(&self) {
        drop(self.sender.write().take());
        let task = self.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn collect_groups(
    mut receiver: mpsc::Receiver<(PreparedBatch, Reply)>,
    context: Arc<GroupContext>,
    concurrent_groups: usize,
) {
    let permits = Arc::new(Semaphore::new(concurrent_groups));
    let mut running = tokio::task::JoinSet::new();
    // A steady tick, not a sleep restarted per request: under continuous load
    // the receiver is always ready, and the deltas must still fold.
    let mut tick = tokio::time::interval(FOLD_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let sweep_every = (SWEEP_INTERVAL.as_millis() / FOLD_INTERVAL.as_millis()).max(1) as u32;
    let mut ticks = 0u32;
    loop {
        let first = tokio::select! {
            item = receiver.recv() => match item {
                Some(item) => item,
                None => break,
            },
            _ = tick.tick() => {
                ticks = ticks.wrapping_add(1);
                if context.pending.load(Ordering::Relaxed) || ticks % sweep_every == 0 {
                    spawn_fold(&context);
                }
                continue;
            }
        };
        let Ok(permit) = permits.clone().acquire_owned().await else { break };
        let mut group = vec![first];
        let mut messages = group[0].0.messages.len();
        while messages < MAX_GROUP_MESSAGES {
            match receiver.try_recv() {
                Ok(item) => {
                    messages += item.0.messages.len();
                    group.push(item);
                }
                Err(_) => break,
            }
        }
        // Company means concurrency: the summary goes to a delta, not the hot rows.
        let others_in_flight = context.in_flight.fetch_add(1, Ordering::AcqRel);
        let defer = group.len() > 1 || others_in_flight > 0;
        let context = context.clone();
        running.spawn(async move {
            commit_group(&context, group, defer).await;
            drop(permit);
            if context.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 && context.pending.load(Ordering::Relaxed) {
                spawn_fold(&context);
            }
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
    if let Err(error) = fold_once(&context, false).await {
        tracing::warn!(error = %error, "the last fold failed; the deltas are folded by the next process");
    }
    tracing::info!("postgres writer stopped after draining its queue");
}

/// Starts a background fold unless one is running.
fn spawn_fold(context: &Arc<GroupContext>) {
    if context.folding.swap(true, Ordering::AcqRel) {
        return;
    }
    let context = context.clone();
    tokio::spawn(async move {
        context.pending.store(false, Ordering::Relaxed);
        loop {
            match fold_once(&context, true).await {
                Ok(n) if n as i64 == FOLD_BATCH => continue,
                Ok(_) => break,
                Err(error) => {
                    // Retried on the next tick; the deltas stay durable meanwhile.
                    context.pending.store(true, Ordering::Relaxed);
                    tracing::debug!(error = %error, "folding ingest deltas failed; retrying");
                    break;
                }
            }
        }
        context.folding.store(false, Ordering::Release);
    });
}

/// Takes up to [`FOLD_BATCH`] deltas, oldest first, writes their merged
/// summary and deletes them, in one transaction; returns how many it took.
/// `skip_locked`: leave deltas another fold holds (else wait for it).
async fn fold_once(context: &GroupContext, skip_locked: bool) -> Result<usize, StoreError> {
    let mut transaction = context.pool.begin().await?;
    let sql = if skip_locked {
        "DELETE FROM ingest_deltas WHERE id IN
             (SELECT id FROM ingest_deltas ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, body"
    } else {
        "DELETE FROM ingest_deltas WHERE id IN
             (SELECT id FROM ingest_deltas ORDER BY id LIMIT $1 FOR UPDATE) RETURNING id, body"
    };
    let mut rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(sql).bind(FOLD_BATCH).fetch_all(&mut *transaction).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    rows.sort_by_key(|(id, _)| *id);
    let taken = rows.len();
    let summary = summary_fold::merge_all(rows.into_iter().map(|(_, body)| body))?;
    write_summary(&mut transaction, &summary, context.max_wait_ms).await?;
    transaction.commit().await?;
    summary_fold::after_fold();
    Ok(taken)
}

async fn commit_group(context: &GroupContext, group: Vec<(PreparedBatch, Reply)>, defer: bool) {
    let started = Instant::now();
    let (batches, replies): (Vec<PreparedBatch>, Vec<Reply>) = group.into_iter().unzip();
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        match write_group(context, &batches, defer).await {
            Err(error) if attempt < ATTEMPTS && is_retryable_conflict(&error) => {
                tracing::debug!(attempt, error = %error, "group commit conflicted; retrying");
            }
            other => break other,
        }
    };
    match result {
        Ok(outcomes) => {
            if !context.reachable.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::info!("PostgreSQL reachable again: ingest commits resumed");
            }
            context.metrics.commit_duration.observe(started.elapsed().as_secs_f64());
            let count: usize = batches.iter().map(|b| b.messages.len()).sum();
            context.metrics.commit_group_messages.observe(count as f64);
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) => {
            let message = error.to_string();
            let transient = error.is_transient();
            match transient {
                true if context.reachable.swap(false, std::sync::atomic::Ordering::Relaxed) => tracing::warn!(
                    error = %error,
                    "PostgreSQL unreachable: ingest answers 503 with Retry-After until a commit succeeds"
                ),
                true => tracing::debug!(error = %error, batches = batches.len(), "group commit failed; nothing of it was stored"),
                false => tracing::error!(error = %error, batches = batches.len(), "group commit failed; nothing of it was stored"),
            }
            for reply in replies {
                let answer = match transient {
                    true => StoreError::Unavailable(message.clone()),
                    false => StoreError::Failed(message.clone()),
                };
                let _ = reply.send(Err(answer));
            }
        }
    }
}

fn is_retryable_conflict(error: &StoreError) -> bool {
    matches!(error, StoreError::Sqlx(e) if e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "40P01" || c == "40001"))
}

async fn write_group(context: &GroupContext, batches: &[PreparedBatch], defer: bool) -> Result<Vec<Vec<MessageOutcome>>, StoreError> {
    let mut transaction = context.pool.begin().await?;
    let at_ms = batches.iter().map(|b| b.received_at_ms).max().unwrap_or_else(now_ms);
    let horizon = at_ms - context.window_ms;
    let ids: Vec<Option<&str>> = batches.iter().map(|b| b.delivery_id.as_deref()).collect();
    let claims = match ids.iter().any(Option::is_some) {
        true => deliveries::claim_pg(&mut transaction, &ids, at_ms, horizon).await?,
        false => vec![Claim::Store; batches.len()],
    };
    let stored: Vec<&PreparedBatch> =
        batches.iter().zip(&claims).filter(|(_, claim)| **claim == Claim::Store).map(|(batch, _)| batch).collect();
    let mut outcomes = Vec::new();
    if !stored.is_empty() {
        ensure_chats(&mut transaction, &stored).await?;
        outcomes = store_messages(&mut transaction, &stored, context.window_ms).await?;
        let summary = summarize(&stored, &outcomes, context.debounce_ms);
        match defer {
            true => append_delta(&mut transaction, &summary).await?,
            false => write_summary(&mut transaction, &summary, context.max_wait_ms).await?,
        }
    }
    let answers = answers_by_claim(claims, outcomes)?;
    for (batch, answer) in batches.iter().zip(&answers) {
        if let (Some(id), Some(answer)) = (&batch.delivery_id, answer.stored()) {
            deliveries::record_pg(&mut transaction, id, answer).await?;
        }
    }
    if ids.iter().any(Option::is_some) {
        deliveries::prune_pg(&mut transaction, horizon).await?;
    }
    transaction.commit().await?;
    if defer && !stored.is_empty() {
        context.pending.store(true, Ordering::Relaxed);
    }
    Ok(answers.into_iter().map(Answer::into_outcomes).collect())
}
