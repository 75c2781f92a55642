//! The `catalogs` table: the sellers' catalogs (`wa.me/c/<phone>`) extraction found, and when each
//! was last scouted. The re-sync sweep re-arms, in one statement, the scout job of every catalog
//! whose last scout finished longer ago than the re-sync age; the scout's commit stamps the time
//! and reads what the catalog listed before (`products.in_catalog`, `products.delisted_at_ms`).
//!
//! The sweep is safe with any number of replicas running it at once: the statement re-arms a scout
//! job only when that job is finished (`done` or `dead`) and finished before the cutoff, checked
//! on the job row itself under its lock (`ON CONFLICT … WHERE`), so a job another replica has just
//! re-armed, or that has just run, is left alone.

use super::{
    Database, StoreError,
    jobs::{REARM_FINISHED, wake},
    tx::{Tx, on_tx},
};
use crate::domain::job::stage;

/// The order, and the time, the sweep compares: a catalog never scouted counts from its creation.
/// The same expression as the `catalogs_resync` index (migration 0019).
const SCOUTED_AT: &str = "COALESCE(c.last_scouted_at_ms, c.created_at_ms)";

/// Re-arms (or creates) the scout job of up to `limit` catalogs whose last scout is older than
/// `cutoff_ms` and whose scout job, if any, finished before it; returns how many were armed.
/// One `INSERT … SELECT … ON CONFLICT` statement over the `catalogs_resync` index and the jobs'
/// `(stage, dedupe_key)` key.
pub async fn enqueue_due_scouts(
    db: &Database,
    cutoff_ms: i64,
    now_ms: i64,
    limit: i64,
) -> Result<u64, StoreError> {
    let payload = if db.is_postgres() {
        "json_build_object('phone', c.seller_phone)::text"
    } else {
        "json_object('phone', c.seller_phone)"
    };
    // SQLite needs the WHERE clause to read `ON CONFLICT` as the upsert, not a join constraint.
    let sql = format!(
        "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
         SELECT $3, c.seller_phone, {payload}, 'ready', 0, $2, $2, $2
         FROM catalogs c LEFT JOIN jobs j ON j.stage = $3 AND j.dedupe_key = c.seller_phone
         WHERE {SCOUTED_AT} < $1
           AND (j.id IS NULL OR (j.state IN ('done', 'dead') AND j.updated_at_ms < $1))
         ORDER BY {SCOUTED_AT} LIMIT $4
         {REARM_FINISHED} AND jobs.updated_at_ms < $1"
    );
    let mut tx = db.begin_write().await?;
    let armed = on_tx!(&mut tx, |conn| sqlx::query(&sql)
        .bind(cutoff_ms)
        .bind(now_ms)
        .bind(stage::SCOUT)
        .bind(limit)
        .execute(conn)
        .await?
        .rows_affected());
    if armed > 0 {
        tx.wake_after_commit(wake::index(stage::SCOUT));
    }
    tx.commit().await?;
    Ok(armed)
}

/// Stamps the end of a scout (products listed, or nothing to list): the sweep's clock restarts.
pub async fn mark_scouted(tx: &mut Tx, seller_phone: &str, now_ms: i64) -> Result<(), StoreError> {
    let sql =
        "UPDATE catalogs SET last_scouted_at_ms = $2, updated_at_ms = $2 WHERE seller_phone = $1";
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(seller_phone)
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// What the seller's catalog listed before: `(product id, delisted)` for every product it lists
/// (`in_catalog`) or once listed and no longer does (`delisted_at_ms`), by product id.
pub async fn listed_before(
    tx: &mut Tx,
    seller_phone: &str,
) -> Result<Vec<(String, bool)>, StoreError> {
    let sql = "SELECT product_id, CASE WHEN delisted_at_ms IS NULL THEN 0 ELSE 1 END FROM products
               WHERE seller_phone = $1 AND (in_catalog = 1 OR delisted_at_ms IS NOT NULL)
               ORDER BY product_id";
    let rows: Vec<(String, i32)> = on_tx!(tx, |conn| sqlx::query_as(sql)
        .bind(seller_phone)
        .fetch_all(conn)
        .await?);
    Ok(rows
        .into_iter()
        .map(|(id, delisted)| (id, delisted != 0))
        .collect())
}
