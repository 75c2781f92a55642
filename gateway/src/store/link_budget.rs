//! The per-chat hourly budget of product-chain jobs made from message links
//! (`link_jobs_hourly`), and the failure-log record of a message whose links
//! were dropped. Both are written inside the extraction transaction that
//! makes the jobs, so the count and the jobs commit (or roll back) together.
//!
//! Reading the count is an upsert that rewrites the row unchanged: PostgreSQL
//! then holds the row lock until the transaction ends, so a second process
//! extracting the same chat waits and reads the count this one commits;
//! SQLite's write transactions are serialised already.

use super::{StoreError, tx::{Tx, on_tx}};
use crate::domain::{LinkDrops, fan_out::LINKS_DROPPED_CODE};

const HOUR_MS: i64 = 3_600_000;
/// Buckets kept per chat: older ones are deleted when the chat's budget is read.
const KEEP_HOURS: i64 = 24;

/// The clock hour `at_ms` falls in.
pub fn hour_bucket(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS)
}

/// Jobs the chat has made in `bucket` so far; locks the row for this transaction.
pub async fn jobs_this_hour(tx: &mut Tx, chat_id: &str, bucket: i64) -> Result<i64, StoreError> {
    let prune = "DELETE FROM link_jobs_hourly WHERE chat_id = $1 AND hour_bucket < $2";
    on_tx!(&mut *tx, |conn| sqlx::query(prune).bind(chat_id).bind(bucket - KEEP_HOURS).execute(conn).await?.rows_affected());
    let sql = "INSERT INTO link_jobs_hourly (chat_id, hour_bucket, jobs) VALUES ($1, $2, 0)
               ON CONFLICT (chat_id, hour_bucket) DO UPDATE SET jobs = link_jobs_hourly.jobs
               RETURNING jobs";
    let jobs: i64 = on_tx!(&mut *tx, |conn| sqlx::query_scalar(sql).bind(chat_id).bind(bucket).fetch_one(conn).await?);
    Ok(jobs)
}

/// Adds `made` jobs to the chat's count for `bucket` (read first with [`jobs_this_hour`]).
pub async fn add_jobs(tx: &mut Tx, chat_id: &str, bucket: i64, made: i64) -> Result<(), StoreError> {
    if made == 0 {
        return Ok(());
    }
    let sql = "UPDATE link_jobs_hourly SET jobs = jobs + $3 WHERE chat_id = $1 AND hour_bucket = $2";
    on_tx!(tx, |conn| sqlx::query(sql).bind(chat_id).bind(bucket).bind(made).execute(conn).await?.rows_affected());
    Ok(())
}

/// Whether a product page is known already (its link would make no new job).
pub async fn product_known(tx: &mut Tx, product_id: &str) -> Result<bool, StoreError> {
    let sql = "SELECT COUNT(*) FROM products WHERE product_id = $1";
    let count: i64 = on_tx!(tx, |conn| sqlx::query_scalar(sql).bind(product_id).fetch_one(conn).await?);
    Ok(count > 0)
}

/// Whether a seller's catalog is known already.
pub async fn catalog_known(tx: &mut Tx, seller_phone: &str) -> Result<bool, StoreError> {
    let sql = "SELECT COUNT(*) FROM catalogs WHERE seller_phone = $1";
    let count: i64 = on_tx!(tx, |conn| sqlx::query_scalar(sql).bind(seller_phone).fetch_one(conn).await?);
    Ok(count > 0)
}

/// One `links_dropped` record for a message, in the failure log behind
/// `recent_failures`: counts per reason, and `message:<stored id>` as its
/// reference. No client id, chat title, text or phone number. Status 0: the
/// request was accepted; extraction found the links later.
pub async fn record_dropped(tx: &mut Tx, at_ms: i64, message_pk: i64, drops: &LinkDrops) -> Result<(), StoreError> {
    let sql = "INSERT INTO ingest_failures (at_ms, client_id, chat_title, status, code, reason, request_id)
               VALUES ($1, NULL, NULL, 0, $2, $3, $4)";
    let reason = drops.reason_text();
    let reference = format!("message:{message_pk}");
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(at_ms)
        .bind(LINKS_DROPPED_CODE)
        .bind(&reason)
        .bind(&reference)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Keeps the newest `keep_rows` failure records, as the ingest flush does.
pub async fn prune_failures(tx: &mut Tx, keep_rows: u32) -> Result<(), StoreError> {
    let prune = "DELETE FROM ingest_failures WHERE id <= (SELECT MAX(id) FROM ingest_failures) - $1";
    on_tx!(tx, |conn| sqlx::query(prune).bind(i64::from(keep_rows)).execute(conn).await?.rows_affected());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_clock_hours() {
        assert_eq!(hour_bucket(0), 0);
        assert_eq!(hour_bucket(HOUR_MS - 1), 0);
        assert_eq!(hour_bucket(HOUR_MS), 1);
        assert_eq!(hour_bucket(-1), -1);
        assert_eq!(hour_bucket(1_764_000_000_000), 490_000);
    }
}
