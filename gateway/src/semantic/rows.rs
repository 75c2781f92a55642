//! The SQL of semantic search (migrations: SQLite 0013, PostgreSQL 0012): reading vector rows past
//! a replica's `index_seq` watermark, finding listings whose text vector is missing or older than
//! the listing, and writing `listing_embeddings`. The same statements run on both backends.

use crate::pipeline::embed::{vector_from_le_bytes, vector_to_le_bytes};
use crate::store::queries::on_pool;
use crate::store::tx::{Tx, on_tx};
use crate::store::{Database, StoreError};

use super::{ListingKind, ListingRef};

/// A text vector row past the watermark.
#[derive(Debug, Clone)]
pub struct TextRow {
    pub listing: ListingRef,
    pub model_id: String,
    pub vector: Vec<f32>,
    pub index_seq: i64,
}

/// A product's image and hybrid vectors (from the embed stage) past the watermark.
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub product_id: String,
    pub model_id: String,
    pub image: Option<Vec<f32>>,
    pub hybrid: Vec<f32>,
    pub index_seq: i64,
}

fn decode(bytes: &[u8]) -> Result<Vec<f32>, StoreError> {
    vector_from_le_bytes(bytes).map_err(|e| StoreError::Failed(e.to_string()))
}

pub async fn text_rows_since(db: &Database, after: i64, limit: i64) -> Result<Vec<TextRow>, StoreError> {
    let sql = "SELECT kind, listing_id, model_id, vector, index_seq FROM listing_embeddings
               WHERE index_seq > $1 ORDER BY index_seq LIMIT $2";
    let rows: Vec<(String, String, String, Vec<u8>, i64)> =
        on_pool!(db, |pool| sqlx::query_as(sql).bind(after).bind(limit).fetch_all(pool).await?);
    let mut out = Vec::with_capacity(rows.len());
    for (kind, id, model_id, bytes, index_seq) in rows {
        let Some(kind) = ListingKind::parse(&kind) else { continue };
        out.push(TextRow { listing: ListingRef { kind, id }, model_id, vector: decode(&bytes)?, index_seq });
    }
    Ok(out)
}

/// product_id, model_id, image_vector, hybrid_vector, index_seq.
type ProductTuple = (String, String, Option<Vec<u8>>, Vec<u8>, i64);

pub async fn product_rows_since(db: &Database, after: i64, limit: i64) -> Result<Vec<ProductRow>, StoreError> {
    let sql = "SELECT product_id, model_id, image_vector, hybrid_vector, index_seq FROM product_embeddings
               WHERE index_seq > $1 ORDER BY index_seq LIMIT $2";
    let rows: Vec<ProductTuple> =
        on_pool!(db, |pool| sqlx::query_as(sql).bind(after).bind(limit).fetch_all(pool).await?);
    rows.into_iter()
        .map(|(product_id, model_id, image, hybrid, index_seq)| {
            Ok(ProductRow { product_id, model_id, image: image.as_deref().map(decode).transpose()?, hybrid: decode(&hybrid)?, index_seq })
        })
        .collect()
}

/// The highest `index_seq` either table holds (0 when empty): a snapshot past it is stale.
pub async fn max_index_seq(db: &Database) -> Result<i64, StoreError> {
    let sql = "SELECT COALESCE((SELECT MAX(index_seq) FROM listing_embeddings), 0),
                      COALESCE((SELECT MAX(index_seq) FROM product_embeddings), 0)";
    let (a, b): (i64, i64) = on_pool!(db, |pool| sqlx::query_as(sql).fetch_one(pool).await?);
    Ok(a.max(b))
}

/// A listing due for a text vector: its text, and its `updated_at_ms` (the sweep's cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct DueListing {
    pub listing: ListingRef,
    pub updated_at_ms: i64,
}

/// Up to `limit` listings of `kind` after the cursor `(updated_at_ms, id)` whose text vector is
/// missing or older than the listing, skipping those whose embedding job is dead.
pub async fn due_listings(db: &Database, kind: ListingKind, after_ms: i64, after_id: &str, limit: i64) -> Result<Vec<DueListing>, StoreError> {
    let (table, id_col, id_text, id_after) = match kind {
        ListingKind::Offer => ("offers", "o.id", "CAST(o.id AS TEXT)", "o.id > CAST($2 AS BIGINT)"),
        ListingKind::Product => ("products", "o.product_id", "o.product_id", "o.product_id > $2"),
    };
    let sql = format!(
        "SELECT {id_text}, o.updated_at_ms FROM {table} o
         LEFT JOIN listing_embeddings e ON e.kind = $3 AND e.listing_id = {id_text}
         WHERE (o.updated_at_ms > $1 OR (o.updated_at_ms = $1 AND {id_after}))
           AND (e.listing_id IS NULL OR e.source_updated_at_ms < o.updated_at_ms)
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.stage = $4 AND j.dedupe_key = $3 || ':' || {id_text} AND j.state = 'dead')
         ORDER BY o.updated_at_ms, {id_col} LIMIT $5"
    );
    let after_id = match kind {
        ListingKind::Offer if after_id.is_empty() => "0",
        _ => after_id,
    };
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(after_ms)
        .bind(after_id)
        .bind(kind.as_str())
        .bind(crate::domain::job::stage::EMBED_TEXT)
        .bind(limit)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(|(id, updated_at_ms)| DueListing { listing: ListingRef { kind, id }, updated_at_ms }).collect())
}

/// A listing's current text (title + description) and `updated_at_ms`; `None` when it is gone.
pub async fn listing_text(db: &Database, listing: &ListingRef) -> Result<Option<(String, i64)>, StoreError> {
    let sql = match listing.kind {
        ListingKind::Offer => "SELECT title, source_text, updated_at_ms FROM offers WHERE id = CAST($1 AS BIGINT)",
        ListingKind::Product => "SELECT COALESCE(name, ''), COALESCE(description, ''), updated_at_ms FROM products WHERE product_id = $1",
    };
    let row: Option<(String, String, i64)> = on_pool!(db, |pool| sqlx::query_as(sql).bind(&listing.id).fetch_optional(pool).await?);
    Ok(row.map(|(title, description, updated)| {
        let text = if description.trim().is_empty() || description.trim() == title.trim() { title } else { format!("{title}\n{description}") };
        (text, updated)
    }))
}

/// The stored model id and semantic hash of a listing's text vector.
pub async fn stored_hash(db: &Database, listing: &ListingRef) -> Result<Option<(String, String)>, StoreError> {
    let sql = "SELECT model_id, semantic_hash FROM listing_embeddings WHERE kind = $1 AND listing_id = $2";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(listing.kind.as_str()).bind(&listing.id).fetch_optional(pool).await?))
}

/// Writes a listing's vector (the trigger gives it the next `index_seq`).
pub async fn upsert_vector(
    tx: &mut Tx,
    listing: &ListingRef,
    model_id: &str,
    vector: &[f32],
    hash: &str,
    source_updated_at_ms: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO listing_embeddings (kind, listing_id, model_id, dims, vector, semantic_hash, source_updated_at_ms, created_at_ms, updated_at_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
               ON CONFLICT (kind, listing_id) DO UPDATE SET model_id = excluded.model_id, dims = excluded.dims,
                   vector = excluded.vector, semantic_hash = excluded.semantic_hash,
                   source_updated_at_ms = excluded.source_updated_at_ms, updated_at_ms = excluded.updated_at_ms";
    let bytes = vector_to_le_bytes(vector);
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(listing.kind.as_str())
        .bind(&listing.id)
        .bind(model_id)
        .bind(vector.len() as i64)
        .bind(bytes.as_slice())
        .bind(hash)
        .bind(source_updated_at_ms)
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// The text did not change: only the cursor moves (no new vector, no new `index_seq`).
pub async fn touch(tx: &mut Tx, listing: &ListingRef, source_updated_at_ms: i64, now_ms: i64) -> Result<(), StoreError> {
    let sql = "UPDATE listing_embeddings SET source_updated_at_ms = $3, updated_at_ms = $4 WHERE kind = $1 AND listing_id = $2";
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(listing.kind.as_str())
        .bind(&listing.id)
        .bind(source_updated_at_ms)
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Whether the product exists (a similar-products query for an unknown id is 404).
pub async fn product_exists(db: &Database, product_id: &str) -> Result<bool, StoreError> {
    let sql = "SELECT COUNT(*) FROM products WHERE product_id = $1";
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(sql).bind(product_id).fetch_one(pool).await?);
    Ok(n > 0)
}

/// Display fields of products for a result list: (product_id, title, image_url, seller_phone, active).
pub async fn product_cards(db: &Database, ids: &[String]) -> Result<Vec<ProductCard>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT product_id, name, COALESCE(persisted_image_url, image_url), CAST(active AS BIGINT) FROM products WHERE product_id IN ({})",
        placeholders.join(", ")
    );
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = on_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|(product_id, title, image_url, active)| ProductCard { product_id, title, image_url, active: active != 0 }).collect())
}

#[derive(Debug, Clone)]
pub struct ProductCard {
    pub product_id: String,
    pub title: Option<String>,
    pub image_url: Option<String>,
    pub active: bool,
}
