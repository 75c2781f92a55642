//! The `jobs` table: the product chain's durable queue (DESIGN.md §1). A job is written in the
//! same transaction as the data that caused it, and `(stage, dedupe_key)` is unique, so a link
//! seen twice is enqueued once; enqueuing a key whose job already finished re-arms that row
//! (a heartbeat re-hydration runs the chain again without growing the table).
//!
//! Claiming takes a lease: PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP LOCKED`);
//! SQLite serialises claimers with an IMMEDIATE transaction. A running job whose lease expired is
//! claimable again. Every finishing write checks the lease token, so a worker that lost its
//! lease cannot finish a job twice.

use serde::Serialize;

use super::{Database, StoreError, queries::on_pool, tx::{Tx, on_tx}};

/// In-process wake-ups: a commit that enqueued jobs pokes that stage's workers at once; jobs
/// enqueued by other processes are found by the workers' short poll.
pub mod wake {
    use std::sync::LazyLock;

    use tokio::sync::Notify;

    use crate::domain::job::stage;

    const STAGES: [&str; stage::ALL.len()] = stage::ALL;
    static SIGNALS: LazyLock<[Notify; stage::ALL.len()]> = LazyLock::new(|| std::array::from_fn(|_| Notify::new()));

    pub(crate) fn index(stage: &str) -> u8 {
        STAGES.iter().position(|s| *s == stage).map_or(7, |i| i as u8)
    }

    pub(crate) fn after_commit(index: u8) {
        if let Some(signal) = SIGNALS.get(usize::from(index)) {
            signal.notify_waiters();
        }
    }

    /// The signal a stage's workers wait on.
    pub fn signal(stage: &str) -> Option<&'static Notify> {
        SIGNALS.get(usize::from(index(stage)))
    }
}

pub struct NewJob<'a, P: Serialize> {
    pub stage: &'static str,
    pub dedupe_key: &'a str,
    pub payload: &'a P,
    pub run_at_ms: i64,
}

/// The upsert tail of every enqueue (one job here, or a batch in `catalogs`/`catalog_writes`):
/// a `(stage, dedupe_key)` seen before is re-armed only when its previous run had finished.
pub(super) const REARM_FINISHED: &str = "ON CONFLICT (stage, dedupe_key) DO UPDATE SET
                   payload = excluded.payload, state = 'ready', attempts = 0, run_at_ms = excluded.run_at_ms,
                   lease_expires_at_ms = NULL, leased_by = NULL, last_error = NULL, last_status = NULL,
                   updated_at_ms = excluded.updated_at_ms
               WHERE jobs.state IN ('done', 'dead')";

/// Returns true when the job was new, or re-armed because its previous run had finished
/// (`done` or `dead`). A job still ready or running is left alone.
pub async fn enqueue<P: Serialize>(tx: &mut Tx, job: NewJob<'_, P>) -> Result<bool, StoreError> {
    let payload = serde_json::to_string(job.payload).map_err(|e| StoreError::Failed(format!("job payload: {e}")))?;
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, 'ready', 0, $4, $4, $4) {REARM_FINISHED}"
        )
    });
    let result = on_tx!(tx, |conn| sqlx::query(SQL.as_str())
        .bind(job.stage)
        .bind(job.dedupe_key)
        .bind(&payload)
        .bind(job.run_at_ms)
        .execute(conn)
        .await?
        .rows_affected());
    if result == 1 {
        tx.wake_after_commit(wake::index(job.stage));
    }
    Ok(result == 1)
}

/// A row the claim query hands back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedRow {
    pub id: i64,
    pub dedupe_key: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Leases up to `limit` due jobs of `stage` (ready and due, or running with an expired lease).
pub async fn claim(db: &Database, stage: &str, token: &str, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedRow>, StoreError> {
    let lock = if db.is_postgres() { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_by = $1, lease_expires_at_ms = $2, updated_at_ms = $3
         WHERE id IN (
             SELECT id FROM jobs
             WHERE stage = $4 AND ((state = 'ready' AND run_at_ms <= $3) OR (state = 'running' AND lease_expires_at_ms < $3))
             ORDER BY run_at_ms, id LIMIT $5 {lock})
         RETURNING id, dedupe_key, payload, attempts, max_attempts"
    );
    let mut tx = db.begin_write().await?;
    let mut rows: Vec<ClaimedRow> = on_tx!(&mut tx, |conn| sqlx::query_as(&sql)
        .bind(token)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(stage)
        .bind(limit)
        .fetch_all(conn)
        .await?);
    tx.commit().await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// How a leased job ends. Each returns false when the lease was lost (nothing written).
pub async fn mark_done(tx: &mut Tx, id: i64, token: &str, note: Option<(&str, Option<u16>)>, now_ms: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET state = 'done', lease_expires_at_ms = NULL, last_error = $3, last_status = $4, updated_at_ms = $5
               WHERE id = $1 AND leased_by = $2 AND state = 'running'";
    let (error, status) = note.map_or((None, None), |(e, s)| (Some(e), s.map(i32::from)));
    let rows = on_tx!(tx, |conn| sqlx::query(sql).bind(id).bind(token).bind(error).bind(status).bind(now_ms).execute(conn).await?.rows_affected());
    Ok(rows == 1)
}

pub async fn mark_retry(tx: &mut Tx, id: i64, token: &str, run_at_ms: i64, error: &str, status: Option<u16>, now_ms: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET state = 'ready', run_at_ms = $3, lease_expires_at_ms = NULL, leased_by = NULL,
                   last_error = $4, last_status = $5, updated_at_ms = $6
               WHERE id = $1 AND leased_by = $2 AND state = 'running'";
    let rows = on_tx!(tx, |conn| sqlx::query(sql)
        .bind(id)
        .bind(token)
        .bind(run_at_ms)
        .bind(error)
        .bind(status.map(i32::from))
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(rows == 1)
}

pub async fn mark_dead(tx: &mut Tx, id: i64, token: &str, error: &str, status: Option<u16>, now_ms: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET state = 'dead', lease_expires_at_ms = NULL, last_error = $3, last_status = $4, updated_at_ms = $5
               WHERE id = $1 AND leased_by = $2 AND state = 'running'";
    let rows = on_tx!(tx, |conn| sqlx::query(sql)
        .bind(id)
        .bind(token)
        .bind(error)
        .bind(status.map(i32::from))
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(rows == 1)
}

/// Pushes a running job's lease on to `until_ms` while its attempt is still working (a long import
/// or OCR run must not be claimed a second time); false when the lease was lost.
pub async fn extend_lease(db: &Database, id: i64, token: &str, until_ms: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET lease_expires_at_ms = $3 WHERE id = $1 AND leased_by = $2 AND state = 'running'";
    let mut tx = db.begin_write().await?;
    let rows = on_tx!(&mut tx, |conn| sqlx::query(sql).bind(id).bind(token).bind(until_ms).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(rows == 1)
}

/// Gives a leased job back unrun (shutdown): ready now, and the attempt does not count.
pub async fn release(db: &Database, id: i64, token: &str, now_ms: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET state = 'ready', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                   run_at_ms = $3, lease_expires_at_ms = NULL, leased_by = NULL, updated_at_ms = $3
               WHERE id = $1 AND leased_by = $2 AND state = 'running'";
    let mut tx = db.begin_write().await?;
    let rows = on_tx!(&mut tx, |conn| sqlx::query(sql).bind(id).bind(token).bind(now_ms).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(rows == 1)
}

/// The earliest time a job of `stage` becomes claimable (ready run time or lease expiry).
pub async fn next_due_ms(db: &Database, stage: &str) -> Result<Option<i64>, StoreError> {
    let sql = "SELECT MIN(CASE WHEN state = 'ready' THEN run_at_ms ELSE lease_expires_at_ms END) FROM jobs
               WHERE stage = $1 AND state IN ('ready', 'running')";
    Ok(on_pool!(db, |pool| sqlx::query_scalar::<_, Option<i64>>(sql).bind(stage).fetch_one(pool).await?))
}
