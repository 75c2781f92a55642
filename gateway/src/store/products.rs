//! Product rows of the product chain: found by extraction or scout (`catalog_writes`), filled in
//! by hydrate (name, description, Meta CDN image, semantic hash), then by embed, QC and persist. Every write
//! here takes the stage's transaction, so a product's row and the next job commit together.

use super::{Database, StoreError, queries::on_pool, tx::{Tx, on_tx}};
use crate::{domain::Product, parse::search_text::index_text};

const COLUMNS: &str = "product_id, seller_phone, name, description, image_url, persisted_image_url, last_hydrated_at_ms,
    active, qc_decision, qc_confidence, qc_reason, semantic_hash, last_embedding_hash, hydrate_status, delisted_at_ms, created_at_ms, updated_at_ms";

pub async fn get(db: &Database, product_id: &str) -> Result<Option<Product>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE product_id = $1");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(product_id).fetch_optional(pool).await?))
}

/// Reads a product inside a write transaction (the row a commit is about to change).
pub async fn get_in(tx: &mut Tx, product_id: &str) -> Result<Option<Product>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE product_id = $1");
    Ok(on_tx!(tx, |conn| sqlx::query_as(&sql).bind(product_id).fetch_optional(conn).await?))
}

/// Filters of `GET /products`; `cursor` is the last product id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub seller_phone: Option<String>,
    pub active: Option<bool>,
    pub qc_decision: Option<String>,
    /// A case-insensitive `LIKE` pattern over name and description (`admin_lists::like_pattern`).
    pub text_pattern: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// One page ordered by product id.
pub async fn list(db: &Database, filter: &ProductFilter) -> Result<Vec<Product>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM products
         WHERE ($1 IS NULL OR seller_phone = $1)
           AND ($2 IS NULL OR active = $2)
           AND ($3 IS NULL OR qc_decision = $3)
           AND ($4 IS NULL OR product_id > $4)
           AND ($5 IS NULL OR LOWER(COALESCE(name, '')) LIKE $5 ESCAPE '\\' OR LOWER(COALESCE(description, '')) LIKE $5 ESCAPE '\\')
         ORDER BY product_id LIMIT $6"
    );
    let active = filter.active.map(i32::from);
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(filter.seller_phone.as_deref())
        .bind(active)
        .bind(filter.qc_decision.as_deref())
        .bind(filter.cursor.as_deref())
        .bind(filter.text_pattern.as_deref())
        .bind(filter.limit)
        .fetch_all(pool)
        .await?))
}

/// What a product page said.
#[derive(Debug, Clone)]
pub struct Hydrated<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub image_url: Option<&'a str>,
    pub semantic_hash: &'a str,
}

/// Writes a hydration (creating the row if extraction never did) and marks the product active,
/// unless its catalog delisted it (`delisted_at_ms`): only the catalog listing it again does that.
pub async fn record_hydrated(tx: &mut Tx, product_id: &str, seller_phone: Option<&str>, page: &Hydrated<'_>, now_ms: i64) -> Result<(), StoreError> {
    let sql = "INSERT INTO products (product_id, seller_phone, name, description, image_url, semantic_hash, last_hydrated_at_ms,
                                     active, hydrate_status, created_at_ms, updated_at_ms, search_text)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'ok', $7, $7, $8)
               ON CONFLICT (product_id) DO UPDATE SET
                   seller_phone = COALESCE(products.seller_phone, excluded.seller_phone),
                   name = excluded.name, description = excluded.description, image_url = excluded.image_url,
                   semantic_hash = excluded.semantic_hash, last_hydrated_at_ms = excluded.last_hydrated_at_ms,
                   active = CASE WHEN products.delisted_at_ms IS NULL THEN 1 ELSE 0 END,
                   hydrate_status = 'ok', updated_at_ms = excluded.updated_at_ms,
                   search_text = excluded.search_text";
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(product_id)
        .bind(seller_phone)
        .bind(page.name)
        .bind(page.description)
        .bind(page.image_url)
        .bind(page.semantic_hash)
        .bind(now_ms)
        .bind(index_text(&[page.name, page.description]))
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// A hydration that found no product: `gone` (404/410) makes it inactive; others keep `active`.
/// `last_hydrated_at_ms` moves on so the heartbeat does not retry it before its time.
pub async fn record_hydrate_failure(tx: &mut Tx, product_id: &str, status: &str, now_ms: i64) -> Result<(), StoreError> {
    let sql = "UPDATE products SET hydrate_status = $2, last_hydrated_at_ms = $3, updated_at_ms = $3,
                   active = CASE WHEN $2 = 'gone' THEN 0 ELSE active END
               WHERE product_id = $1";
    on_tx!(tx, |conn| sqlx::query(sql).bind(product_id).bind(status).bind(now_ms).execute(conn).await?.rows_affected());
    Ok(())
}

/// Active products hydrated before `cutoff_ms`, oldest first.
pub async fn due_for_heartbeat(db: &Database, cutoff_ms: i64, limit: i64) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let sql = "SELECT product_id, seller_phone FROM products
               WHERE active = 1 AND last_hydrated_at_ms IS NOT NULL AND last_hydrated_at_ms < $1
               ORDER BY last_hydrated_at_ms LIMIT $2";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(cutoff_ms).bind(limit).fetch_all(pool).await?))
}

/// Embed's result: the semantic hash the stored embedding was made from.
pub async fn mark_embedded(tx: &mut Tx, product_id: &str, semantic_hash: &str, now_ms: i64) -> Result<(), StoreError> {
    let sql = "UPDATE products SET last_embedding_hash = $2, updated_at_ms = $3 WHERE product_id = $1";
    on_tx!(tx, |conn| sqlx::query(sql).bind(product_id).bind(semantic_hash).bind(now_ms).execute(conn).await?.rows_affected());
    Ok(())
}

/// QC's result.
pub async fn set_qc(tx: &mut Tx, product_id: &str, decision: &str, confidence: f64, reason: &str, now_ms: i64) -> Result<(), StoreError> {
    let sql = "UPDATE products SET qc_decision = $2, qc_confidence = $3, qc_reason = $4, updated_at_ms = $5 WHERE product_id = $1";
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(product_id)
        .bind(decision)
        .bind(confidence)
        .bind(reason)
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Persist's result: our own copy of the image.
pub async fn set_persisted_url(tx: &mut Tx, product_id: &str, url: &str, now_ms: i64) -> Result<(), StoreError> {
    let sql = "UPDATE products SET persisted_image_url = $2, updated_at_ms = $3 WHERE product_id = $1";
    on_tx!(tx, |conn| sqlx::query(sql).bind(product_id).bind(url).bind(now_ms).execute(conn).await?.rows_affected());
    Ok(())
}
