//! Fan-out caps: how many product-chain jobs the links of a page may make.
//! In each message, links past `max_links_per_message` are dropped; in each
//! chat, links that would make a job once the chat has made
//! `max_jobs_per_chat_per_hour` jobs in the current clock hour are dropped
//! too (a link to a known product or catalog makes no job, so it is not a
//! drop). Product ids hydrate cannot fetch never became links (`parse::links`)
//! and are counted here as `invalid_product_id`.
//!
//! The hourly count lives in the database (`store::link_budget`) and is
//! updated in the page's transaction, with the jobs; dropped links make no
//! product, catalog or job row. A new message with drops gets one
//! `links_dropped` record in the failure log, with counts only, and the page's
//! drops are counted in `soko_links_dropped_total{reason}` once it commits.

use super::{ExtractionError, persist::{PageInput, PageOutcome, record_link}};
use crate::{
    domain::{LinkDropReason, LinkDrops},
    parse::WaLink,
    store::{link_budget, tx::Tx},
};

/// The caps, from `WHATSAPP_MAX_LINKS_PER_MESSAGE` and
/// `WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOutCaps {
    pub max_links_per_message: usize,
    pub max_jobs_per_chat_per_hour: u32,
    /// Failure-log rows kept (`WHATSAPP_FAILURES_LOG_MAX_ROWS`), as ingest keeps them.
    pub failures_log_max_rows: u32,
}

impl Default for FanOutCaps {
    fn default() -> Self {
        Self { max_links_per_message: 20, max_jobs_per_chat_per_hour: 500, failures_log_max_rows: 1_000 }
    }
}

/// Writes the page's links that fit the caps (products, catalogs and their
/// jobs) and reports the rest.
pub(super) async fn record_links(tx: &mut Tx, page: &PageInput<'_>, outcome: &mut PageOutcome) -> Result<(), ExtractionError> {
    if page.messages.iter().all(|m| m.links.is_empty() && m.invalid_product_ids == 0) {
        return Ok(());
    }
    let caps = page.caps;
    let bucket = link_budget::hour_bucket(page.now_ms);
    let has_links = page.messages.iter().any(|m| !m.links.is_empty());
    let made_before = if has_links { link_budget::jobs_this_hour(tx, page.chat_id, bucket).await? } else { 0 };
    let mut budget = HourBudget { cap: i64::from(caps.max_jobs_per_chat_per_hour), made: made_before };
    let mut reported = false;
    for message in page.messages {
        let mut drops = LinkDrops::default();
        drops.add(LinkDropReason::InvalidProductId, message.invalid_product_ids as u64);
        for (position, link) in message.links.iter().enumerate() {
            if position >= caps.max_links_per_message {
                drops.add(LinkDropReason::PerMessageCap, 1);
            } else if budget.spent() {
                if !link_known(tx, link).await? {
                    drops.add(LinkDropReason::PerChatHourlyCap, 1);
                }
            } else {
                budget.made += record_link(tx, page.chat_id, message.pk, link, page.now_ms, outcome).await? as i64;
            }
        }
        if message.pk > page.previous_watermark && drops.total() > 0 {
            link_budget::record_dropped(tx, page.now_ms, message.pk, &drops).await?;
            outcome.links_dropped.merge(&drops);
            reported = true;
        }
    }
    link_budget::add_jobs(tx, page.chat_id, bucket, budget.made - made_before).await?;
    if reported {
        link_budget::prune_failures(tx, caps.failures_log_max_rows).await?;
    }
    Ok(())
}

/// Jobs the chat made this hour, against its cap.
struct HourBudget {
    cap: i64,
    made: i64,
}

impl HourBudget {
    fn spent(&self) -> bool {
        self.made >= self.cap
    }
}

/// A link to a product or catalog already recorded would make no job.
async fn link_known(tx: &mut Tx, link: &WaLink) -> Result<bool, ExtractionError> {
    Ok(match link {
        WaLink::Product { product_id, .. } => link_budget::product_known(tx, product_id).await?,
        WaLink::Catalog { phone } => link_budget::catalog_known(tx, phone).await?,
    })
}
