//! The product chain's event trail, the seed's `catalog_sync_logs`: one row per stage event
//! (`scout_start` … `lazy_persist_failed`) with the HTTP status, the error message and a small
//! details JSON. Written inside the stage's commit transaction, so the trail matches the data.
//! A catalog diff writes one event per product it delists or relists, in one statement.

use serde::Serialize;

use super::{Database, StoreError, catalog_writes::{id_array, id_set}, queries::on_pool, tx::{Tx, on_tx}};

/// Event type names, as the seed's enum spells them.
pub mod event {
    pub const SCOUT_START: &str = "scout_start";
    pub const SCOUT_SUCCESS: &str = "scout_success";
    pub const SCOUT_ERROR: &str = "scout_error";
    pub const HYDRATE_START: &str = "hydrate_start";
    pub const HYDRATE_SUCCESS: &str = "hydrate_success";
    pub const HYDRATE_404: &str = "hydrate_404";
    pub const HYDRATE_429: &str = "hydrate_429";
    pub const HYDRATE_ERROR: &str = "hydrate_error";
    pub const QC_APPROVED: &str = "qc_approved";
    pub const QC_REJECTED: &str = "qc_rejected";
    pub const QC_FLAGGED: &str = "qc_flagged";
    pub const LAZY_PERSIST_START: &str = "lazy_persist_start";
    pub const LAZY_PERSIST_SUCCESS: &str = "lazy_persist_success";
    pub const LAZY_PERSIST_FAILED: &str = "lazy_persist_failed";
    /// A fetch the fence refused (reason `blocked_address`); not in the seed's list.
    pub const FETCH_BLOCKED: &str = "fetch_blocked";
    /// A re-scout no longer found the product in its seller's catalog: it is inactive (issue 16).
    pub const PRODUCT_DELISTED: &str = "product_delisted";
    /// A delisted product is in its seller's catalog again: active once more (issue 16).
    pub const PRODUCT_RELISTED: &str = "product_relisted";
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct SyncEvent<'a> {
    pub event_type: &'static str,
    pub seller_phone: Option<&'a str>,
    pub product_id: Option<&'a str>,
    pub status_code: Option<u16>,
    pub error_message: Option<&'a str>,
    pub details: serde_json::Value,
}

impl<'a> SyncEvent<'a> {
    pub fn new(event_type: &'static str) -> Self {
        Self { event_type, seller_phone: None, product_id: None, status_code: None, error_message: None, details: serde_json::json!({}) }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SyncLogRow {
    pub id: i64,
    pub seller_phone: Option<String>,
    pub product_id: Option<String>,
    pub event_type: String,
    pub status_code: Option<i32>,
    pub error_message: Option<String>,
    pub details: String,
    pub created_at_ms: i64,
}

pub async fn append(tx: &mut Tx, at_ms: i64, event: &SyncEvent<'_>) -> Result<(), StoreError> {
    let sql = "INSERT INTO catalog_sync_logs (seller_phone, product_id, event_type, status_code, error_message, details, created_at_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let details = event.details.to_string();
    let status = event.status_code.map(i32::from);
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(event.seller_phone)
        .bind(event.product_id)
        .bind(event.event_type)
        .bind(status)
        .bind(event.error_message)
        .bind(&details)
        .bind(at_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// One `event_type` event per product of `product_ids`, all with the same seller and details.
pub async fn append_for_products(
    tx: &mut Tx,
    at_ms: i64,
    event_type: &'static str,
    seller_phone: &str,
    product_ids: &[String],
    details: &serde_json::Value,
) -> Result<u64, StoreError> {
    if product_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO catalog_sync_logs (seller_phone, product_id, event_type, details, created_at_ms)
         SELECT $2, value, $3, $4, $5 FROM ({}) AS ids",
        id_set(tx, 1)
    );
    let (list, details) = (id_array(product_ids)?, details.to_string());
    Ok(on_tx!(tx, |conn| sqlx::query(&sql)
        .bind(&list)
        .bind(seller_phone)
        .bind(event_type)
        .bind(&details)
        .bind(at_ms)
        .execute(conn)
        .await?
        .rows_affected()))
}

/// Appends in a transaction of its own (events that precede any result, e.g. `hydrate_start`).
pub async fn append_now(db: &Database, event: &SyncEvent<'_>) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    append(&mut tx, crate::time::now_ms(), event).await?;
    tx.commit().await
}

const COLUMNS: &str = "id, seller_phone, product_id, event_type, status_code, error_message, details, created_at_ms";

/// A product's events, newest first.
pub async fn for_product(db: &Database, product_id: &str, limit: i64) -> Result<Vec<SyncLogRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM catalog_sync_logs WHERE product_id = $1 ORDER BY id DESC LIMIT $2");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(product_id).bind(limit).fetch_all(pool).await?))
}

/// A seller's events, newest first.
pub async fn for_seller(db: &Database, seller_phone: &str, limit: i64) -> Result<Vec<SyncLogRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM catalog_sync_logs WHERE seller_phone = $1 ORDER BY id DESC LIMIT $2");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(seller_phone).bind(limit).fetch_all(pool).await?))
}

/// How many events of a type were logged, for tests and the admin page.
pub async fn count_of_type(db: &Database, event_type: &str) -> Result<i64, StoreError> {
    let sql = "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = $1";
    Ok(on_pool!(db, |pool| sqlx::query_scalar(sql).bind(event_type).fetch_one(pool).await?))
}
