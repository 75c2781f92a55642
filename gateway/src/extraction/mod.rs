//! Debounced extraction: turns stored messages into offers and WhatsApp
//! product/catalog links. Each created message pushes its chat's due time
//! (see the writers); the [`scheduler`] claims due chats and runs them here,
//! and `extract-latest` runs one chat on demand. Runs read messages past the
//! chat's watermark in pages, extract them off the async runtime, and write
//! each page in one transaction, so a crash mid-run repeats at most a page
//! and re-runs never duplicate offers.

pub mod attribution;
mod batch;
pub mod claim;
pub mod fan_out;
pub mod persist;
pub mod scheduler;

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use tokio::sync::Notify;

use crate::{
    parse::{ExtractContext, OfferDraft, WaLink, extract_offers, scan_whatsapp_links},
    metrics::Metrics,
    store::{Database, StoreError, queries::on_pool},
    time::now_ms,
};
use attribution::{Attribution, Scope, phone_sender};
use claim::Claim;
pub use fan_out::FanOutCaps;
use persist::{PageInput, write_page};

#[derive(Debug, thiserror::Error)]
pub enum ExtractionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("chat not found")]
    UnknownChat,
    #[error("another extraction of this chat is running")]
    Busy,
    #[error("extraction worker failed: {0}")]
    Worker(String),
}

impl From<sqlx::Error> for ExtractionError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(StoreError::Sqlx(error))
    }
}

#[derive(Debug, Clone)]
pub struct ExtractionSettings {
    pub default_currency: String,
    pub region: phonenumber::country::Id,
    pub lease: Duration,
    pub page_size: i64,
    pub claim_batch: i64,
    pub idle_poll: Duration,
    pub error_backoff: Duration,
    /// Links per message and jobs per chat per hour (`extraction::fan_out`).
    pub fan_out: FanOutCaps,
}

impl ExtractionSettings {
    pub fn new(default_currency: String, region: phonenumber::country::Id) -> Self {
        Self {
            default_currency,
            region,
            lease: Duration::from_secs(60),
            page_size: 500,
            // One pass's chats share a transaction (see `batch`), so a larger
            // claim makes commits cheaper per chat under a burst of due chats.
            claim_batch: 128,
            idle_poll: Duration::from_secs(1),
            error_backoff: Duration::from_secs(30),
            fan_out: FanOutCaps::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Messages not extracted yet.
    Latest,
    /// Every message of the chat again (after a mapping change).
    Full,
}

/// One message and what extraction found in it.
pub struct MessageExtraction {
    pub pk: i64,
    /// The E.164 sender, when the sender is a phone.
    pub sender: Option<String>,
    /// The sender's own vendor, else the chat's.
    pub vendor_id: Option<i64>,
    pub received_at_ms: i64,
    pub text: String,
    pub offers: Vec<OfferDraft>,
    pub links: Vec<WaLink>,
    /// Distinct product links whose id hydrate cannot fetch.
    pub invalid_product_ids: usize,
}

impl MessageExtraction {
    /// The product id when the message links exactly one product.
    pub fn single_product_id(&self) -> Option<&str> {
        let mut products = self.links.iter().filter_map(|link| match link {
            WaLink::Product { product_id, .. } => Some(product_id.as_str()),
            WaLink::Catalog { .. } => None,
        });
        let first = products.next()?;
        products.next().is_none().then_some(first)
    }
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ExtractionReport {
    pub chat_id: String,
    pub mode: Option<Mode>,
    pub messages_processed: usize,
    pub messages_new: usize,
    pub offers_written: usize,
    pub offers_new: usize,
    pub products: Vec<String>,
    pub catalogs: Vec<String>,
    pub jobs_enqueued: usize,
    /// Links of new messages that made no job (fan-out caps, bad product ids).
    pub links_dropped: u64,
    pub max_lag_ms: Option<i64>,
}

pub struct ExtractionService {
    pub db: Database,
    pub config: ExtractionSettings,
    metrics: Arc<Metrics>,
    /// Woken by ingest when chats get new due times.
    pub wake: Notify,
    owner: String,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    sender: Option<String>,
    text: Option<String>,
    received_at_ms: i64,
}

impl ExtractionService {
    pub fn new(db: Database, config: ExtractionSettings, metrics: Arc<Metrics>) -> Self {
        let owner = format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple());
        Self { db, config, metrics, wake: Notify::new(), owner }
    }

    fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }

    /// Runs one chat now (`extract-latest`), waiting briefly if the scheduler
    /// holds it.
    pub async fn extract_now(&self, chat_id: &str, mode: Mode) -> Result<ExtractionReport, ExtractionError> {
        self.extract_scoped(chat_id, mode, Scope::All).await
    }

    /// Extracts the chat's new messages, and again the already-extracted
    /// messages `scope` covers when `mode` is [`Mode::Full`]: after a mapping
    /// change, only the affected senders' offers are rewritten.
    pub async fn extract_scoped(&self, chat_id: &str, mode: Mode, scope: Scope) -> Result<ExtractionReport, ExtractionError> {
        for _ in 0..50 {
            if let Some(claim) = claim::claim_chat(&self.db, chat_id, &self.owner, now_ms(), self.lease_ms()).await? {
                return self.run_claimed(claim, mode, &scope).await;
            }
            if !claim::chat_exists(&self.db, chat_id).await? {
                return Err(ExtractionError::UnknownChat);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ExtractionError::Busy)
    }

    /// Claims due chats and runs them; returns how many were claimed.
    pub async fn run_due(&self) -> Result<usize, ExtractionError> {
        let claims = claim::claim_due(&self.db, &self.owner, now_ms(), self.lease_ms(), self.config.claim_batch).await?;
        let count = claims.len();
        if count > 0 {
            self.run_group(claims).await;
        }
        Ok(count)
    }

    pub async fn next_due_at(&self) -> Result<Option<i64>, ExtractionError> {
        claim::next_due_at(&self.db, now_ms()).await
    }

    async fn run_claimed(&self, claim: Claim, mode: Mode, scope: &Scope) -> Result<ExtractionReport, ExtractionError> {
        let started = std::time::Instant::now();
        match self.run_pages(&claim, mode, scope).await {
            Ok(report) => {
                claim::finish(&self.db, &claim, &self.owner, now_ms()).await?;
                self.metrics.extraction_runs.with_label_values(&["ok"]).inc();
                self.metrics.extraction_duration.observe(started.elapsed().as_secs_f64());
                Ok(report)
            }
            Err(error) => {
                self.metrics.extraction_runs.with_label_values(&["error"]).inc();
                let retry_at = now_ms() + self.config.error_backoff.as_millis() as i64;
                let _ = claim::release(&self.db, &claim, &self.owner, Some(retry_at), now_ms()).await;
                let _ = self.count_error(&claim.chat_id, &error).await;
                Err(error)
            }
        }
    }

    async fn run_pages(&self, claim: &Claim, mode: Mode, scope: &Scope) -> Result<ExtractionReport, ExtractionError> {
        let currency = self.default_currency(claim.vendor_id).await?;
        let attribution = self.attribution(claim, currency).await?;
        let mut report = ExtractionReport { chat_id: claim.chat_id.clone(), mode: Some(mode), ..Default::default() };
        let mut cursor = if mode == Mode::Full { 0 } else { claim.extracted_through_pk };
        loop {
            let mut rows = self.page(&claim.chat_id, cursor).await?;
            let Some(last) = rows.last() else { break };
            cursor = last.id;
            // Messages extracted before are extracted again only when the scope covers them.
            rows.retain(|row| row.id > claim.extracted_through_pk || scope.covers(row.sender.as_deref(), &attribution));
            if rows.is_empty() {
                continue;
            }
            let extractions = self.extract_rows(rows, attribution.clone()).await?;
            let page = PageInput {
                chat_id: &claim.chat_id,
                messages: &extractions,
                previous_watermark: claim.extracted_through_pk,
                prune_stale: mode == Mode::Full,
                now_ms: now_ms(),
                caps: self.config.fan_out,
            };
            let outcome = write_page(&self.db, page).await?;
            self.record_page_metrics(extractions.len(), &outcome);
            report.messages_processed += extractions.len();
            report.messages_new += extractions.iter().filter(|m| m.pk > claim.extracted_through_pk).count();
            report.offers_written += outcome.offers_written;
            report.offers_new += outcome.new_offer_lags_ms.len();
            report.jobs_enqueued += outcome.jobs_enqueued;
            report.links_dropped += outcome.links_dropped.total();
            report.products.extend(outcome.products);
            report.catalogs.extend(outcome.catalogs);
            if let Some(lag) = outcome.new_offer_lags_ms.iter().max() {
                report.max_lag_ms = Some(report.max_lag_ms.unwrap_or(0).max(*lag));
            }
            claim::renew(&self.db, claim, &self.owner, now_ms() + self.lease_ms()).await?;
        }
        Ok(report)
    }

    /// Offers, lags and messages of one written page.
    fn record_page_metrics(&self, messages: usize, outcome: &persist::PageOutcome) {
        for lag in &outcome.new_offer_lags_ms {
            self.metrics.extraction_lag.observe(*lag as f64 / 1_000.0);
        }
        self.metrics.offers_written.inc_by(outcome.new_offer_lags_ms.len() as u64);
        self.metrics.extraction_messages.inc_by(messages as u64);
        self.metrics.count_links_dropped(&outcome.links_dropped);
    }

    async fn page(&self, chat_id: &str, after_pk: i64) -> Result<Vec<MessageRow>, ExtractionError> {
        let sql = match &self.db {
            Database::Sqlite(_) => crate::store::chat_index::SQLITE_PAGE_AFTER,
            Database::Postgres(_) => {
                "SELECT id, sender, text, received_at_ms FROM messages WHERE chat_id = $1 AND id > $2 ORDER BY id LIMIT $3"
            }
        };
        Ok(on_pool!(&self.db, |pool| sqlx::query_as(sql)
            .bind(chat_id)
            .bind(after_pk)
            .bind(self.config.page_size)
            .fetch_all(pool)
            .await?))
    }

    /// The parsers are CPU work: run them off the async runtime.
    async fn extract_rows(&self, rows: Vec<MessageRow>, attribution: Attribution) -> Result<Vec<MessageExtraction>, ExtractionError> {
        let region = self.config.region;
        tokio::task::spawn_blocking(move || extract_messages(rows, &attribution, region))
            .await
            .map_err(|e| ExtractionError::Worker(e.to_string()))
    }

    async fn default_currency(&self, vendor_id: Option<i64>) -> Result<String, ExtractionError> {
        let Some(vendor_id) = vendor_id else { return Ok(self.config.default_currency.clone()) };
        let sql = "SELECT default_currency FROM vendors WHERE id = $1";
        let currency: Option<Option<String>> =
            on_pool!(&self.db, |pool| sqlx::query_scalar(sql).bind(vendor_id).fetch_optional(pool).await?);
        Ok(currency.flatten().filter(|c| !c.is_empty()).unwrap_or_else(|| self.config.default_currency.clone()))
    }

    /// The chat's vendor and currency, plus its senders' own vendors when it has any.
    async fn attribution(&self, claim: &Claim, chat_currency: String) -> Result<Attribution, ExtractionError> {
        let attribution = Attribution::chat_only(claim.vendor_id, chat_currency);
        if claim.sender_vendor_count == 0 {
            return Ok(attribution);
        }
        let senders = crate::store::sender_vendors::for_chat(&self.db, &claim.chat_id).await?;
        Ok(attribution.with_senders(senders, &self.config.default_currency))
    }

    async fn count_error(&self, chat_id: &str, error: &ExtractionError) -> Result<(), StoreError> {
        let sql = "UPDATE counters SET value = value + 1 WHERE name = 'errors'";
        on_pool!(&self.db, |pool| sqlx::query(sql).execute(pool).await?.rows_affected());
        let detail = serde_json::json!({"error": error.to_string()});
        crate::store::events::append_now(&self.db, "extraction_error", Some(chat_id), &detail).await
    }
}

/// The pure part of a run: offers and links of each message.
fn extract_messages(rows: Vec<MessageRow>, attribution: &Attribution, region: phonenumber::country::Id) -> Vec<MessageExtraction> {
    rows.into_iter()
        .map(|row| {
            let text = row.text.unwrap_or_default();
            let scan = scan_whatsapp_links(&text, region);
            let sender = phone_sender(row.sender);
            let (vendor_id, currency) = attribution.resolve(sender.as_deref());
            let context = ExtractContext { default_currency: currency };
            MessageExtraction {
                pk: row.id,
                sender,
                vendor_id,
                received_at_ms: row.received_at_ms,
                offers: extract_offers(&text, &context),
                links: scan.links,
                invalid_product_ids: scan.invalid_product_ids,
                text,
            }
        })
        .collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "gateway".into())
}
