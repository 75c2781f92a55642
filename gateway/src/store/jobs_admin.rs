//! Read and repair queries over the `jobs` table for operators: counts per stage and state,
//! the oldest due job, the recent dead letters, and putting dead jobs back in the queue.

use serde::Serialize;

use super::{Database, StoreError, jobs::wake, queries::on_pool, tx::on_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StageStateCount {
    pub stage: String,
    pub state: String,
    pub count: i64,
    /// Earliest `run_at_ms` among ready jobs already due (the oldest waiting job).
    pub oldest_due_ms: Option<i64>,
}

pub async fn counts(db: &Database, now_ms: i64) -> Result<Vec<StageStateCount>, StoreError> {
    let sql = "SELECT stage, state, COUNT(*) AS count,
                      MIN(CASE WHEN state = 'ready' AND run_at_ms <= $1 THEN run_at_ms END) AS oldest_due_ms
               FROM jobs GROUP BY stage, state ORDER BY stage, state";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(now_ms).fetch_all(pool).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JobRow {
    pub id: i64,
    pub stage: String,
    pub dedupe_key: String,
    pub state: String,
    pub attempts: i32,
    pub run_at_ms: i64,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub updated_at_ms: i64,
}

const COLUMNS: &str = "id, stage, dedupe_key, state, attempts, run_at_ms, last_error, last_status, updated_at_ms";

/// The most recently dead jobs, newest first.
pub async fn recent_dead(db: &Database, limit: i64) -> Result<Vec<JobRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE state = 'dead' ORDER BY updated_at_ms DESC, id DESC LIMIT $1");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?))
}

pub async fn get(db: &Database, id: i64) -> Result<Option<JobRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
}

/// Puts one dead job back as a fresh job due now; false when it is not dead.
pub async fn retry_dead_job(db: &Database, id: i64, now_ms: i64) -> Result<bool, StoreError> {
    let sql = "UPDATE jobs SET state = 'ready', attempts = 0, run_at_ms = $2, leased_by = NULL, lease_expires_at_ms = NULL,
                   updated_at_ms = $2
               WHERE id = $1 AND state = 'dead' RETURNING stage";
    let mut tx = db.begin_write().await?;
    let stage: Option<String> = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(id).bind(now_ms).fetch_optional(conn).await?);
    tx.commit().await?;
    if let Some(stage) = &stage {
        wake::after_commit(wake::index(stage));
    }
    Ok(stage.is_some())
}

/// Puts every dead job (of one stage, or all) back; returns how many, by stage.
pub async fn retry_dead(db: &Database, stage: Option<&str>, now_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = "UPDATE jobs SET state = 'ready', attempts = 0, run_at_ms = $2, leased_by = NULL, lease_expires_at_ms = NULL,
                   updated_at_ms = $2
               WHERE state = 'dead' AND ($1 IS NULL OR stage = $1)
               RETURNING stage";
    let mut tx = db.begin_write().await?;
    let stages: Vec<String> = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(stage).bind(now_ms).fetch_all(conn).await?);
    tx.commit().await?;
    for stage in &stages {
        wake::after_commit(wake::index(stage));
    }
    let mut counts: Vec<(String, i64)> = Vec::new();
    for s in stages {
        match counts.iter_mut().find(|(name, _)| *name == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    counts.sort();
    Ok(counts)
}
