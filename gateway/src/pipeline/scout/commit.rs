//! What a scout writes, in the transaction that finishes its job: the catalog diff
//! ([`super::diff`]) applied with batch statements (`store::catalog_writes`), the hydrate jobs of
//! new and returning products, one event per delisted or relisted product, the scout's own
//! `scout_start` / `scout_success` / `scout_error` events, and the catalog's last-scouted time,
//! which restarts the re-sync clock (`CATALOG_RESYNC_HOURS`). A failed or empty scout writes its
//! events and the time only: it is no evidence that anything left the catalog.

use std::collections::HashSet;

use serde_json::json;

use super::diff::diff_catalog;
use crate::{
    jobs::StageCommit,
    store::{
        StoreError, catalog_writes, catalogs,
        sync_log::{self, SyncEvent, event},
        tx::Tx,
    },
};

pub(super) fn scout_event<'a>(
    phone: &'a str,
    kind: &'static str,
    status: Option<u16>,
    error: Option<&'a str>,
    details: serde_json::Value,
) -> SyncEvent<'a> {
    SyncEvent {
        event_type: kind,
        seller_phone: Some(phone),
        product_id: None,
        status_code: status,
        error_message: error,
        details,
    }
}

/// A scout that read a non-empty listing.
pub(super) struct ScoutCommit {
    pub phone: String,
    pub started_ms: i64,
    /// Product ids in page order, without repeats.
    pub ids: Vec<String>,
    pub pages: usize,
    /// Every page was read; false when the page limit cut the listing short (nothing vanishes).
    pub whole: bool,
}

#[async_trait::async_trait]
impl StageCommit for ScoutCommit {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        let phone = self.phone.as_str();
        let before = catalogs::listed_before(tx, phone).await?;
        let diff = diff_catalog(&before, &self.ids, self.whole);
        let new = catalog_writes::insert_listed(tx, phone, &diff.unseen, now).await?;
        // Unseen ids a row held already (a message linked them first) are now listed too.
        let inserted: HashSet<&String> = new.iter().collect();
        let adopted: Vec<String> = diff
            .unseen
            .iter()
            .filter(|id| !inserted.contains(id))
            .cloned()
            .collect();
        catalog_writes::adopt(tx, phone, &adopted, now).await?;
        catalog_writes::delist(tx, &diff.vanished, now).await?;
        catalog_writes::relist(tx, &diff.returned, now).await?;
        let hydrate: Vec<String> = new.iter().chain(&diff.returned).cloned().collect();
        catalog_writes::enqueue_hydrates(tx, phone, &hydrate, now).await?;
        let why = json!({"reason": "not_in_catalog"});
        sync_log::append_for_products(
            tx,
            now,
            event::PRODUCT_DELISTED,
            phone,
            &diff.vanished,
            &why,
        )
        .await?;
        let why = json!({"reason": "back_in_catalog"});
        sync_log::append_for_products(
            tx,
            now,
            event::PRODUCT_RELISTED,
            phone,
            &diff.returned,
            &why,
        )
        .await?;
        catalogs::mark_scouted(tx, phone, now).await?;
        sync_log::append(
            tx,
            self.started_ms,
            &scout_event(phone, event::SCOUT_START, None, None, json!({})),
        )
        .await?;
        let details = json!({
            "products": self.ids.len(),
            "new_products": new.len(),
            "listed_again": adopted.len(),
            "kept": diff.kept,
            "delisted": diff.vanished.len(),
            "relisted": diff.returned.len(),
            "pages": self.pages,
            "whole": self.whole,
        });
        sync_log::append(
            tx,
            now,
            &scout_event(phone, event::SCOUT_SUCCESS, Some(200), None, details),
        )
        .await
    }
}

/// A scout that ended without a listing to compare: the catalog answered an error, or listed no
/// products (`reason` then says so). Nothing is delisted.
pub(super) struct ScoutFailure {
    pub phone: String,
    pub started_ms: i64,
    pub error: String,
    pub status: Option<u16>,
    /// A bounded label for the details (`no_products`), or none.
    pub reason: Option<&'static str>,
}

#[async_trait::async_trait]
impl StageCommit for ScoutFailure {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        catalogs::mark_scouted(tx, &self.phone, now).await?;
        sync_log::append(
            tx,
            self.started_ms,
            &scout_event(&self.phone, event::SCOUT_START, None, None, json!({})),
        )
        .await?;
        let details = self
            .reason
            .map_or_else(|| json!({}), |reason| json!({"reason": reason}));
        let e = scout_event(
            &self.phone,
            event::SCOUT_ERROR,
            self.status,
            Some(&self.error),
            details,
        );
        sync_log::append(tx, now, &e).await
    }
}
