//! The catalog diff's batch writes, inside the scout's completion transaction: products the
//! catalog lists for the first time, products it lists again, products it no longer lists
//! (inactive, `delisted_at_ms` set, never deleted), their hydrate jobs and their events. Every
//! statement takes the product ids as one JSON array parameter read as a set (`json_each` on
//! SQLite, `json_array_elements_text` on PostgreSQL): one statement per kind, whatever the size
//! of the catalog, never a statement per product.

use super::{
    StoreError,
    jobs::{REARM_FINISHED, wake},
    tx::{Tx, on_tx},
};
use crate::domain::job::stage;

/// The ids of JSON array parameter `$param` as a one-column set named `value`.
pub(super) fn id_set(tx: &Tx, param: usize) -> String {
    match tx {
        Tx::Sqlite(..) => format!("SELECT value FROM json_each(${param})"),
        Tx::Postgres(..) => format!("SELECT value FROM json_array_elements_text(${param}::json)"),
    }
}

pub(super) fn id_array(ids: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(ids).map_err(|e| StoreError::Failed(format!("product id list: {e}")))
}

/// Inserts the listed products no row holds yet (seller and `in_catalog` set); returns those ids.
pub async fn insert_listed(
    tx: &mut Tx,
    seller_phone: &str,
    ids: &[String],
    now_ms: i64,
) -> Result<Vec<String>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // SQLite needs the WHERE clause to read `ON CONFLICT` as the upsert.
    let sql = format!(
        "INSERT INTO products (product_id, seller_phone, in_catalog, created_at_ms, updated_at_ms)
         SELECT value, $2, 1, $3, $3 FROM ({}) AS ids WHERE true
         ON CONFLICT (product_id) DO NOTHING RETURNING product_id",
        id_set(tx, 1)
    );
    let list = id_array(ids)?;
    Ok(on_tx!(tx, |conn| sqlx::query_scalar(&sql)
        .bind(&list)
        .bind(seller_phone)
        .bind(now_ms)
        .fetch_all(conn)
        .await?))
}

/// Known products (found in a message first) that the catalog now lists too.
pub async fn adopt(
    tx: &mut Tx,
    seller_phone: &str,
    ids: &[String],
    now_ms: i64,
) -> Result<u64, StoreError> {
    let set = "in_catalog = 1, seller_phone = COALESCE(seller_phone, $3), updated_at_ms = $2";
    update(tx, set, "in_catalog = 0", ids, now_ms, Some(seller_phone)).await
}

/// Products the catalog no longer lists: inactive, with the time they left.
pub async fn delist(tx: &mut Tx, ids: &[String], now_ms: i64) -> Result<u64, StoreError> {
    let set = "in_catalog = 0, active = 0, delisted_at_ms = $2, updated_at_ms = $2";
    update(tx, set, "in_catalog = 1", ids, now_ms, None).await
}

/// Delisted products the catalog lists again: active and listed once more.
pub async fn relist(tx: &mut Tx, ids: &[String], now_ms: i64) -> Result<u64, StoreError> {
    let set = "in_catalog = 1, active = 1, delisted_at_ms = NULL, updated_at_ms = $2";
    update(tx, set, "delisted_at_ms IS NOT NULL", ids, now_ms, None).await
}

/// `UPDATE products SET {set} WHERE product_id IN ids AND {only}`: `$1` the ids, `$2` now, `$3`
/// the seller when one is given (a statement is bound exactly the parameters it names).
async fn update(
    tx: &mut Tx,
    set: &str,
    only: &str,
    ids: &[String],
    now_ms: i64,
    seller: Option<&str>,
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE products SET {set} WHERE product_id IN ({}) AND {only}",
        id_set(tx, 1)
    );
    let list = id_array(ids)?;
    Ok(on_tx!(tx, |conn| {
        let query = sqlx::query(&sql).bind(&list).bind(now_ms);
        let query = match seller {
            Some(seller) => query.bind(seller),
            None => query,
        };
        query.execute(conn).await?.rows_affected()
    }))
}

/// A hydrate job for each id (payload `{product_id, phone}`, as extraction writes it), re-armed
/// where a finished one exists; returns how many were created or re-armed.
pub async fn enqueue_hydrates(
    tx: &mut Tx,
    seller_phone: &str,
    ids: &[String],
    now_ms: i64,
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let payload = match tx {
        Tx::Sqlite(..) => "json_object('product_id', value, 'phone', $3)",
        Tx::Postgres(..) => {
            "json_build_object('product_id', value, 'phone', CAST($3 AS TEXT))::text"
        }
    };
    let sql = format!(
        "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
         SELECT $2, value, {payload}, 'ready', 0, $4, $4, $4 FROM ({}) AS ids WHERE true
         {REARM_FINISHED}",
        id_set(tx, 1)
    );
    let list = id_array(ids)?;
    let armed = on_tx!(&mut *tx, |conn| sqlx::query(&sql)
        .bind(&list)
        .bind(stage::HYDRATE)
        .bind(seller_phone)
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    if armed > 0 {
        tx.wake_after_commit(wake::index(stage::HYDRATE));
    }
    Ok(armed)
}
