//! Event-trail entries of the embed, quality-control and persist stages, written to the seed's
//! `catalog_sync_logs` ([`crate::store::sync_log`]) in the job's transaction: `embed_success`,
//! `embed_skipped`, `qc_approved` / `qc_rejected` / `qc_flagged`, `lazy_persist_start`,
//! `lazy_persist_success`, `lazy_persist_failed`. Details never carry a phone or a URL's query.

use serde_json::Value;

use crate::store::sync_log::{self, SyncEvent};
use crate::domain::Product;
use crate::store::{StoreError, tx::Tx};

pub use crate::store::sync_log::event::{LAZY_PERSIST_FAILED, LAZY_PERSIST_START, LAZY_PERSIST_SUCCESS};

/// Not in the seed's list (its pipeline had no embed step); named in the same style.
pub const EMBED_SUCCESS: &str = "embed_success";
pub const EMBED_SKIPPED: &str = "embed_skipped";

/// Appends one event about `product`.
pub async fn record(
    tx: &mut Tx,
    at_ms: i64,
    event_type: &'static str,
    product: &Product,
    failure: Option<(Option<u16>, &str)>,
    details: Value,
) -> Result<(), StoreError> {
    let event = SyncEvent {
        event_type,
        seller_phone: product.seller_phone.as_deref(),
        product_id: Some(product.product_id.as_str()),
        status_code: failure.and_then(|(status, _)| status),
        error_message: failure.map(|(_, error)| error),
        details,
    };
    sync_log::append(tx, at_ms, &event).await
}
