//! Writing jobs for the product chain (DESIGN.md §1). A job is written in the
//! same transaction as the data that caused it, and `(stage, dedupe_key)` is
//! unique, so a link seen twice is enqueued once.

use serde::Serialize;

use super::{StoreError, tx::{Tx, on_tx}};

/// Stage names, as the queue and its metrics know them.
pub mod stage {
    pub const SCOUT: &str = "scout";
    pub const HYDRATE: &str = "hydrate";
    pub const EMBED: &str = "embed";
    pub const QC: &str = "qc";
    pub const PERSIST: &str = "persist";
}

pub struct NewJob<'a, P: Serialize> {
    pub stage: &'static str,
    pub dedupe_key: &'a str,
    pub payload: &'a P,
    pub run_at_ms: i64,
}

/// Returns true when the job was new.
pub async fn enqueue<P: Serialize>(tx: &mut Tx, job: NewJob<'_, P>) -> Result<bool, StoreError> {
    let payload = serde_json::to_string(job.payload).map_err(|e| StoreError::Failed(format!("job payload: {e}")))?;
    let sql = "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
               VALUES ($1, $2, $3, 'ready', 0, $4, $4, $4)
               ON CONFLICT (stage, dedupe_key) DO NOTHING";
    let result = on_tx!(tx, |conn| sqlx::query(sql)
        .bind(job.stage)
        .bind(job.dedupe_key)
        .bind(&payload)
        .bind(job.run_at_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(result == 1)
}
