//! What the embed, quality-control and persist stages share: their settings ([`settings`]), fetching a product image into memory under a size cap ([`fetch`]) through one cache ([`image_cache`]),
//! loading the product a job is about, and their event-trail entries ([`events`]).

pub mod events;
pub mod fetch;
pub mod image_cache;
pub mod settings;
pub mod stages;
#[cfg(test)]
pub mod test_support;
#[cfg(test)]
mod qc_cache_tests;
#[cfg(test)]
mod stage_tests;

pub use settings::{DEFAULT_GEMINI_MODEL, DEFAULT_IMAGE_DIR, EmbedSettings, ImageStoreSettings, LlmEndpoint, MediaSettings, QcSettings, S3Settings};
pub use fetch::{FetchError, FetchedImage, ImageFetcher};
pub use image_cache::ImageCache;

use crate::store::jobs::{NewJob, enqueue};
use crate::domain::Product;
use crate::store::products;
use crate::store::{StoreError, tx::Tx};

/// Enqueues `stage` for a product (payload `{"product_id"}`, dedupe key the product id).
pub async fn enqueue_for_product(tx: &mut Tx, stage: &'static str, product_id: &str, now_ms: i64) -> Result<(), StoreError> {
    let payload = serde_json::json!({ "product_id": product_id });
    enqueue(tx, NewJob { stage, dedupe_key: product_id, payload: &payload, run_at_ms: now_ms }).await?;
    Ok(())
}

/// A job's `product_id`, or the terminal outcome for a payload without one.
pub fn product_id_of(job: &crate::jobs::ClaimedJob) -> Result<String, crate::jobs::StageOutcome> {
    match job.payload_str("product_id") {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(crate::jobs::StageOutcome::Terminal {
            error: format!("{} job {} has no product_id in its payload", job.stage, job.id),
            status: None,
            commit: None,
            dead: true,
        }),
    }
}

/// Loads the product a job is about, mapping a store error to a retry and a missing row to a
/// dead job. `Ok(None)` means the product is inactive: there is nothing to do.
pub async fn load_active_product(
    db: &crate::store::Database,
    job: &crate::jobs::ClaimedJob,
) -> Result<Option<Product>, crate::jobs::StageOutcome> {
    let product_id = product_id_of(job)?;
    match products::get(db, &product_id).await {
        Ok(Some(product)) if product.active != 0 => Ok(Some(product)),
        Ok(Some(_)) => Ok(None),
        Ok(None) => Err(crate::jobs::StageOutcome::Terminal {
            error: format!("product {product_id} does not exist"),
            status: None,
            commit: None,
            dead: true,
        }),
        Err(error) => Err(crate::jobs::StageOutcome::Retry { error: format!("loading the product: {error}"), status: None, retry_after: None }),
    }
}
