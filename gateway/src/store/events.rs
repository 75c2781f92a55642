//! The bounded event log behind the diagnostics log download: ingest batches
//! (written by the writers), extraction runs and errors. Details are small
//! JSON objects built from structured fields, never raw message text.

use serde::Serialize;

use super::{Database, StoreError, queries::on_pool, tx::{Tx, on_tx}};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub at_ms: i64,
    pub kind: String,
    pub chat_id: Option<String>,
    pub request_id: Option<String>,
    pub detail: String,
}

pub async fn append(tx: &mut Tx, at_ms: i64, kind: &str, chat_id: Option<&str>, detail: &serde_json::Value) -> Result<(), StoreError> {
    let sql = "INSERT INTO event_log (at_ms, kind, chat_id, request_id, detail) VALUES ($1, $2, $3, NULL, $4)";
    let detail = detail.to_string();
    on_tx!(tx, |conn| sqlx::query(sql).bind(at_ms).bind(kind).bind(chat_id).bind(&detail).execute(conn).await?.rows_affected());
    Ok(())
}

/// Appends outside any other transaction.
pub async fn append_now(db: &Database, kind: &str, chat_id: Option<&str>, detail: &serde_json::Value) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    append(&mut tx, crate::time::now_ms(), kind, chat_id, detail).await?;
    tx.commit().await
}

/// The newest events first.
pub async fn recent(db: &Database, limit: i64) -> Result<Vec<Event>, StoreError> {
    let sql = "SELECT id, at_ms, kind, chat_id, request_id, detail FROM event_log ORDER BY id DESC LIMIT $1";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}

pub async fn latest_of_kind(db: &Database, kind: &str) -> Result<Option<Event>, StoreError> {
    let sql = "SELECT id, at_ms, kind, chat_id, request_id, detail FROM event_log WHERE kind = $1 ORDER BY id DESC LIMIT 1";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(kind).fetch_optional(pool).await?))
}

/// Keeps the newest `keep` rows.
pub async fn prune(db: &Database, keep: i64) -> Result<u64, StoreError> {
    let sql = "DELETE FROM event_log WHERE id <= (SELECT MAX(id) FROM event_log) - $1";
    Ok(on_pool!(db, |pool| sqlx::query(sql).bind(keep).execute(pool).await?.rows_affected()))
}
