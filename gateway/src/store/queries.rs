//! Shared SQL over either backend: the statements are the same text for
//! SQLite and PostgreSQL (`$1` parameters, `ON CONFLICT`, epoch-ms integers),
//! and [`on_pool!`] runs them on whichever pool is configured.

use serde::Serialize;
use sqlx::{Postgres, Transaction};

use super::{Database, StoreError};
use crate::domain::FailureFlush;

/// Runs the same sqlx expression on the SQLite or the PostgreSQL pool.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Database::Sqlite($pool) => $body,
            $crate::store::Database::Postgres($pool) => $body,
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_pool;

pub async fn applied_migrations(db: &Database) -> Result<usize, StoreError> {
    let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
    let count: i64 = on_pool!(db, |pool| sqlx::query_scalar(sql).fetch_one(pool).await?);
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Persistent totals by name (`accepted`, `created`, …), exact at any moment:
/// ingest deltas not yet folded are added (`summary_fold.rs`).
pub async fn totals(db: &Database) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = super::summary_fold::TOTALS_SQL;
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
}

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChatCounters {
    pub chat_id: String,
    pub title: String,
    pub vendor_id: Option<i64>,
    pub accepted: i64,
    pub created: i64,
    pub deduped: i64,
    pub extracted: i64,
    pub last_message_at_ms: i64,
    pub extract_due_at_ms: Option<i64>,
}

/// Per-chat counters, most recently active first.
pub async fn chat_counters(db: &Database, limit: i64) -> Result<Vec<ChatCounters>, StoreError> {
    let sql = "SELECT id AS chat_id, title, vendor_id, accepted_count AS accepted, created_count AS created,
                      deduped_count AS deduped, extracted_count AS extracted, last_message_at_ms, extract_due_at_ms
               FROM chats ORDER BY last_message_at_ms DESC, id LIMIT $1";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}

pub async fn chat_count(db: &Database) -> Result<i64, StoreError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM chats").fetch_one(pool).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredFailure {
    pub at_ms: i64,
    pub client_id: Option<String>,
    pub chat_title: Option<String>,
    pub status: i32,
    pub code: String,
    pub reason: String,
    pub request_id: String,
}

pub async fn recent_failures(db: &Database, limit: i64) -> Result<Vec<StoredFailure>, StoreError> {
    let sql = "SELECT at_ms, client_id, chat_title, status, code, reason, request_id
               FROM ingest_failures ORDER BY id DESC LIMIT $1";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}

/// Message ids present in the database, for tests and diagnostics.
pub async fn message_exists(db: &Database, message_pk: i64) -> Result<bool, StoreError> {
    let sql = "SELECT COUNT(*) FROM messages WHERE id = $1";
    let count: i64 = on_pool!(db, |pool| sqlx::query_scalar(sql).bind(message_pk).fetch_one(pool).await?);
    Ok(count > 0)
}

pub async fn bump_counters_pg(
    transaction: &mut Transaction<'_, Postgres>,
    deltas: &[(&'static str, i64)],
) -> Result<(), StoreError> {
    let (names, values): (Vec<&str>, Vec<i64>) = deltas.iter().filter(|(_, d)| *d != 0).copied().unzip();
    if names.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE counters c SET value = c.value + d.delta
         FROM UNNEST($1::text[], $2::bigint[]) AS d(name, delta) WHERE c.name = d.name",
    )
    .bind(names)
    .bind(values)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// PostgreSQL side of failure logging (SQLite goes through its writer).
pub async fn record_failures_pg(db: &Database, flush: &FailureFlush) -> Result<(), StoreError> {
    let Database::Postgres(pool) = db else {
        return Err(StoreError::Failed("record_failures_pg on a non-PostgreSQL store".into()));
    };
    let mut transaction = pool.begin().await?;
    let records = &flush.records;
    sqlx::query(
        "INSERT INTO ingest_failures (at_ms, client_id, chat_title, status, code, reason, request_id)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])",
    )
    .bind(records.iter().map(|r| r.at_ms).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.client_id.clone()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.chat_title.clone()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| i32::from(r.status)).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.code.to_owned()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>())
    .execute(&mut *transaction)
    .await?;
    bump_counters_pg(&mut transaction, &flush.counter_deltas).await?;
    sqlx::query("DELETE FROM ingest_failures WHERE id <= (SELECT MAX(id) FROM ingest_failures) - $1")
        .bind(i64::from(flush.keep_rows))
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(())
}
