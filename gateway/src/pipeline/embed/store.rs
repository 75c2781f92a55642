//! The `product_embeddings` rows (migration 0004): one per product, its image, text and hybrid
//! vectors as little-endian f32 bytes, with the weights, model and width they were made with.

use super::{Embedding, ImageStatus, vector_from_le_bytes, vector_to_le_bytes};
use crate::store::queries::on_pool;
use crate::store::tx::{Tx, on_tx};
use crate::store::{Database, StoreError};

/// How `image_status` is stored.
pub fn image_status_label(status: &ImageStatus) -> &'static str {
    match status {
        ImageStatus::Embedded => "embedded",
        ImageStatus::Missing => "missing",
        ImageStatus::Rejected(_) => "rejected",
    }
}

/// Inserts or replaces the product's vectors.
pub async fn upsert(
    tx: &mut Tx,
    product_id: &str,
    model_id: &str,
    embedding: &Embedding,
    semantic_hash: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO product_embeddings (product_id, model_id, dims, image_vector, text_vector, hybrid_vector,
                   image_weight, text_weight, image_status, semantic_hash, created_at_ms, updated_at_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
               ON CONFLICT (product_id) DO UPDATE SET model_id = excluded.model_id, dims = excluded.dims,
                   image_vector = excluded.image_vector, text_vector = excluded.text_vector,
                   hybrid_vector = excluded.hybrid_vector, image_weight = excluded.image_weight,
                   text_weight = excluded.text_weight, image_status = excluded.image_status,
                   semantic_hash = excluded.semantic_hash, updated_at_ms = excluded.updated_at_ms";
    let image = embedding.image.as_deref().map(vector_to_le_bytes);
    let text = vector_to_le_bytes(&embedding.text);
    let hybrid = vector_to_le_bytes(&embedding.hybrid);
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(product_id)
        .bind(model_id)
        .bind(embedding.dim as i64)
        .bind(image.as_deref())
        .bind(text.as_slice())
        .bind(hybrid.as_slice())
        .bind(f64::from(embedding.image_weight))
        .bind(f64::from(embedding.text_weight))
        .bind(image_status_label(&embedding.image_status))
        .bind(semantic_hash)
        .bind(now_ms)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// A product's stored vectors, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    pub model_id: String,
    pub dims: usize,
    pub image: Option<Vec<f32>>,
    pub text: Vec<f32>,
    pub hybrid: Vec<f32>,
    pub image_weight: f64,
    pub text_weight: f64,
    pub image_status: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    model_id: String,
    dims: i64,
    image_vector: Option<Vec<u8>>,
    text_vector: Vec<u8>,
    hybrid_vector: Vec<u8>,
    image_weight: f64,
    text_weight: f64,
    image_status: String,
}

pub async fn load(db: &Database, product_id: &str) -> Result<Option<StoredEmbedding>, StoreError> {
    let sql = "SELECT model_id, dims, image_vector, text_vector, hybrid_vector, image_weight, text_weight, image_status
               FROM product_embeddings WHERE product_id = $1";
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(sql).bind(product_id).fetch_optional(pool).await?);
    let Some(row) = row else { return Ok(None) };
    let decode = |bytes: &[u8]| vector_from_le_bytes(bytes).map_err(|e| StoreError::Failed(e.to_string()));
    Ok(Some(StoredEmbedding {
        model_id: row.model_id,
        dims: usize::try_from(row.dims).unwrap_or(0),
        image: row.image_vector.as_deref().map(decode).transpose()?,
        text: decode(&row.text_vector)?,
        hybrid: decode(&row.hybrid_vector)?,
        image_weight: row.image_weight,
        text_weight: row.text_weight,
        image_status: row.image_status,
    }))
}
