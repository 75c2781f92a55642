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

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{
    StoreError,
    deliveries::{self, Claim},
    group::{GroupSummary, MessageOutcome, summarize},
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

async fn append_delta(transaction: &mut Transaction<'_, Postgres>, summary: &GroupSummary) -> Result<(), StoreError> {
    let totals = summary.totals;
    sqlx::query("INSERT INTO ingest_deltas (accepted, created, deduped, body) VALUES ($1, $2, $3, $4)")
        .bind(totals.accepted)
        .bind(totals.created)
        .bind(totals.deduped)
        .bind(summary_fold::encode(summary)?)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// One batch's answer, and whether it stored anything.
enum Answer {
    Stored(Vec<MessageOutcome>),
    Replayed(Vec<MessageOutcome>),
}

impl Answer {
    fn stored(&self) -> Option<&[MessageOutcome]> {
        match self {
            Answer::Stored(outcomes) => Some(outcomes),
            Answer::Replayed(_) => None,
        }
    }

    fn into_outcomes(self) -> Vec<MessageOutcome> {
        match self {
            Answer::Stored(outcomes) | Answer::Replayed(outcomes) => outcomes,
        }
    }
}

/// Puts the stored batches' outcomes (in order) back beside the replays.
fn answers_by_claim(claims: Vec<Claim>, stored: Vec<Vec<MessageOutcome>>) -> Result<Vec<Answer>, StoreError> {
    let mut stored = stored.into_iter();
    let mut answers: Vec<Answer> = Vec::with_capacity(claims.len());
    for claim in claims {
        let answer = match claim {
            Claim::Store => Answer::Stored(
                stored.next().ok_or_else(|| StoreError::Unavailable("store function answered too few batches".into()))?,
            ),
            Claim::Replay(first) => Answer::Replayed(first),
            Claim::SameAs(index) => match answers.get(index) {
                Some(Answer::Stored(first) | Answer::Replayed(first)) => Answer::Replayed(deliveries::as_duplicates(first)),
                None => return Err(StoreError::Unavailable("a redelivery precedes its first delivery".into())),
            },
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// Messages reference their chat, so chats exist before the messages go in.
async fn ensure_chats(transaction: &mut Transaction<'_, Postgres>, batches: &[&PreparedBatch]) -> Result<(), StoreError> {
    let mut chats: Vec<(String, String, i64)> = batches
        .iter()
        .flat_map(|b| b.messages.iter().map(move |m| (m.chat_id.clone(), m.chat_title.clone(), b.received_at_ms)))
        .collect();
    chats.sort_by(|a, b| a.0.cmp(&b.0));
    chats.dedup_by(|a, b| a.0 == b.0);
    let (ids, (titles, times)): (Vec<String>, (Vec<String>, Vec<i64>)) =
        chats.into_iter().map(|(id, title, at)| (id, (title, at))).unzip();
    sqlx::query(
        "INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $3::bigint[])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&titles)
    .bind(&times)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn store_messages(
    transaction: &mut Transaction<'_, Postgres>,
    batches: &[&PreparedBatch],
    window_ms: i64,
) -> Result<Vec<Vec<MessageOutcome>>, StoreError> {
    let all = || batches.iter().flat_map(|b| b.messages.iter().map(move |m| (b, m)));
    // Messages the Redis fast path proved to be duplicates skip the function.
    let count = all().filter(|(_, m)| m.known_duplicate_of.is_none()).count();
    let mut columns = MessageColumns::with_capacity(count);
    for (batch, message) in all().filter(|(_, m)| m.known_duplicate_of.is_none()) {
        columns.push(batch, message);
    }
    let received_at = batches.iter().map(|b| b.received_at_ms).max().unwrap_or_else(now_ms);
    let mut rows: Vec<(i32, bool, Option<i64>)> = Vec::new();
    if count > 0 {
        rows = sqlx::query_as(
            "SELECT ord, created, message_pk FROM soko_store_messages($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(received_at - window_ms)
        .bind(received_at)
        .bind(&columns.chat_id)
        .bind(&columns.client_id)
        .bind(&columns.request_id)
        .bind(&columns.message_id)
        .bind(&columns.message_key)
        .bind(&columns.sender)
        .bind(&columns.sender_name)
        .bind(&columns.text)
        .bind(&columns.media_json)
        .bind(&columns.content_hash)
        .bind(&columns.dedupe_by_content)
        .bind(&columns.upstream_ts_ms)
        .fetch_all(&mut **transaction)
        .await?;
    }
    if rows.len() != count {
        return Err(StoreError::Unavailable(format!("store function answered {} of {count} rows", rows.len())));
    }
    rows.sort_by_key(|row| row.0);
    let mut stored = rows.into_iter().map(|(_, created, message_pk)| MessageOutcome { created, message_pk });
    let mut outcome = |message: &crate::domain::PreparedMessage| match message.known_duplicate_of {
        Some(pk) => Some(MessageOutcome { created: false, message_pk: Some(pk) }),
        None => stored.next(),
    };
    batches
        .iter()
        .map(|b| b.messages.iter().map(&mut outcome).collect::<Option<Vec<_>>>())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| StoreError::Unavailable("store function answered too few rows".into()))
}

#[derive(Default)]
struct MessageColumns {
    chat_id: Vec<String>,
    client_id: Vec<String>,
    request_id: Vec<String>,
    message_id: Vec<Option<String>>,
    message_key: Vec<Option<Vec<u8>>>,
    sender: Vec<Option<String>>,
    sender_name: Vec<Option<String>>,
    text: Vec<Option<String>>,
    media_json: Vec<Option<String>>,
    content_hash: Vec<Vec<u8>>,
    dedupe_by_content: Vec<bool>,
    upstream_ts_ms: Vec<Option<i64>>,
}

impl MessageColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            chat_id: Vec::with_capacity(n),
            client_id: Vec::with_capacity(n),
            request_id: Vec::with_capacity(n),
            message_id: Vec::with_capacity(n),
            message_key: Vec::with_capacity(n),
            sender: Vec::with_capacity(n),
            sender_name: Vec::with_capacity(n),
            text: Vec::with_capacity(n),
            media_json: Vec::with_capacity(n),
            content_hash: Vec::with_capacity(n),
            dedupe_by_content: Vec::with_capacity(n),
            upstream_ts_ms: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, batch: &PreparedBatch, message: &crate::domain::PreparedMessage) {
        self.chat_id.push(message.chat_id.clone());
        self.client_id.push(batch.client_id.clone());
        self.request_id.push(batch.request_id.clone());
        self.message_id.push(message.message_id.clone());
        self.message_key.push(message.message_key.map(|k| k.to_vec()));
        self.sender.push(message.sender.clone());
        self.sender_name.push(message.sender_name.clone());
        self.text.push(message.text.clone());
        self.media_json.push(message.media_json.clone());
        self.content_hash.push(message.content_hash.to_vec());
        self.dedupe_by_content.push(message.dedupe_by_content);
        self.upstream_ts_ms.push(message.upstream_ts_ms);
    }
}

async fn write_summary(
    transaction: &mut Transaction<'_, Postgres>,
    summary: &GroupSummary,
    max_wait_ms: i64,
) -> Result<(), StoreError> {
    let chats = &summary.chats;
    // Debounce with a ceiling, as on SQLite: never past first pending + max wait.
    sqlx::query(
        "INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms, extract_due_at_ms,
                            extract_pending_since_ms, accepted_count, created_count, deduped_count)
         SELECT id, title, first_at, last_at, LEAST(due, pending + $10), pending, accepted, created, deduped
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                     $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
              AS d(id, title, first_at, last_at, due, pending, accepted, created, deduped)
         ON CONFLICT (id) DO UPDATE SET
             title = excluded.title,
             last_message_at_ms = GREATEST(chats.last_message_at_ms, excluded.last_message_at_ms),
             extract_pending_since_ms = COALESCE(chats.extract_pending_since_ms, excluded.extract_pending_since_ms),
             extract_due_at_ms = CASE
                 WHEN excluded.extract_pending_since_ms IS NULL THEN chats.extract_due_at_ms
                 ELSE LEAST(excluded.extract_due_at_ms,
                            COALESCE(chats.extract_pending_since_ms, excluded.extract_pending_since_ms) + $10) END,
             extract_seq = chats.extract_seq + CASE WHEN excluded.created_count > 0 THEN 1 ELSE 0 END,
             accepted_count = chats.accepted_count + excluded.accepted_count,
             created_count = chats.created_count + excluded.created_count,
             deduped_count = chats.deduped_count + excluded.deduped_count",
    )
    .bind(chats.iter().map(|c| c.chat_id.clone()).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.title.clone()).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.first_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.last_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.extract_due_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.first_created_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.accepted).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.created).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.deduped).collect::<Vec<_>>())
    .bind(max_wait_ms)
    .execute(&mut **transaction)
    .await?;
    let events = &summary.events;
    sqlx::query(
        "INSERT INTO event_log (at_ms, kind, chat_id, request_id, detail)
         SELECT at, 'ingest', chat, request, detail FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[])
             AS e(at, chat, request, detail)",
    )
    .bind(events.iter().map(|e| e.at_ms).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.chat_id.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.request_id.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.detail.clone()).collect::<Vec<_>>())
    .execute(&mut **transaction)
    .await?;
    let clients = &summary.clients;
    sqlx::query(
        "INSERT INTO clients (id, first_seen_at_ms, last_seen_at_ms, request_count, message_count)
         SELECT id, at, at, requests, messages FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
             AS d(id, at, requests, messages)
         ON CONFLICT (id) DO UPDATE SET
             last_seen_at_ms = GREATEST(clients.last_seen_at_ms, excluded.last_seen_at_ms),
             request_count = clients.request_count + excluded.request_count,
             message_count = clients.message_count + excluded.message_count",
    )
    .bind(clients.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>())
    .bind(clients.iter().map(|c| c.at_ms).collect::<Vec<_>>())
    .bind(clients.iter().map(|c| c.requests).collect::<Vec<_>>())
    .bind(clients.iter().map(|c| c.messages).collect::<Vec<_>>())
    .execute(&mut **transaction)
    .await?;
    let totals = summary.totals;
    super::queries::bump_counters_pg(
        transaction,
        &[("accepted", totals.accepted), ("created", totals.created), ("deduped", totals.deduped)],
    )
    .await
}
