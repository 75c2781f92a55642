//! The hydrate stage: fetch `<base>/p/<id>/<phone>`, read its Open Graph tags, and write the
//! product with its semantic hash. A changed hash (or no embedding yet) enqueues embed; an
//! unchanged one stops here, unless an approved image still waits to be persisted. 404/410 mark
//! the product inactive (`hydrate_404`); 429 and 5xx go back to the queue with `Retry-After`. A
//! page the fence refuses (a redirect to a private address) kills the job: `blocked_address`.

use std::{sync::Arc, time::SystemTime};

use serde_json::json;
use url::Url;

use super::{HydrateStatusClass, ProductMeta, classify_status, decode_html, parse_product_page, parse_retry_after};
use crate::parse::product_id::is_product_id;
use crate::domain::product::{hydrate_status, semantic_hash};
use crate::domain::job::stage;
use crate::{
    jobs::{ClaimedJob, Stage, StageCommit, StageOutcome},
    pipeline::{
        fence::{BLOCKED_ADDRESS, blocked_outcome_with},
        fetch::{FetchError, Fetcher},
        scout::product_url,
    },
    store::{
        Database, StoreError,
        jobs::{self, NewJob},
        products::{self, Hydrated},
        sync_log::{self, SyncEvent, event},
        tx::Tx,
    },
};

pub struct HydrateStage {
    pub db: Database,
    pub fetcher: Arc<Fetcher>,
    pub base_url: Url,
    pub concurrency: usize,
}

/// The product a job is about.
struct Target {
    product_id: String,
    phone: Option<String>,
    started_ms: i64,
}

#[async_trait::async_trait]
impl Stage for HydrateStage {
    fn name(&self) -> &'static str {
        stage::HYDRATE
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let started_ms = crate::time::now_ms();
        let Some(product_id) = job.payload_str("product_id").filter(|id| is_product_id(id)) else {
            return dead("payload has no 16-digit product_id", None, None);
        };
        let phone = job.payload_str("phone").or_else(|| job.payload_str("seller_phone")).map(str::to_owned);
        let target = Target { product_id: product_id.to_owned(), phone, started_ms };
        let Some(url) = target.phone.as_deref().and_then(|p| product_url(&self.base_url, product_id, p).ok()) else {
            let error = "no valid seller phone: the product URL needs one";
            return dead(error, None, Some(failure(target, hydrate_status::FAILED, event::HYDRATE_ERROR, error, None)));
        };
        let fetched = match self.fetcher.get(&url).await {
            Ok(fetched) => fetched,
            Err(FetchError::Blocked(refusal)) => {
                let (phone, id) = (target.phone.clone(), target.product_id.clone());
                let record = failure(target, hydrate_status::FAILED, event::HYDRATE_ERROR, BLOCKED_ADDRESS, None);
                return blocked_outcome_with(self.fetcher.fence(), stage::HYDRATE, refusal, phone.as_deref(), Some(id.as_str()), Some(record));
            }
            Err(error) if error.is_transient() => return self.retry(&target, error.to_string(), None, None).await,
            Err(error) => {
                let message = error.to_string();
                return dead(&message, None, Some(failure(target, hydrate_status::FAILED, event::HYDRATE_ERROR, &message, None)));
            }
        };
        let status = fetched.status;
        match classify_status(status) {
            HydrateStatusClass::Ok => {
                let (html, encoding) = decode_html(&fetched.body, fetched.content_type.as_deref());
                match parse_product_page(&html, &fetched.url) {
                    Ok(meta) => StageOutcome::Done(Box::new(HydrateCommit { target, meta, charset: encoding.name(), status })),
                    Err(error) => {
                        let message = error.to_string();
                        let commit = failure(target, hydrate_status::NOT_A_PRODUCT, event::HYDRATE_ERROR, &message, Some(status));
                        StageOutcome::Terminal { error: message, status: Some(status), commit: Some(commit), dead: false }
                    }
                }
            }
            HydrateStatusClass::Gone => {
                let message = format!("product page answered {status}: product inactive");
                let commit = failure(target, hydrate_status::GONE, event::HYDRATE_404, &message, Some(status));
                StageOutcome::Terminal { error: message, status: Some(status), commit: Some(commit), dead: false }
            }
            class @ (HydrateStatusClass::RateLimited | HydrateStatusClass::Retryable) => {
                let wait = fetched.retry_after.as_deref().and_then(|v| parse_retry_after(v, SystemTime::now()).ok());
                let kind = if class == HydrateStatusClass::RateLimited { event::HYDRATE_429 } else { event::HYDRATE_ERROR };
                self.retry_logged(&target, kind, format!("product page answered {status}"), Some(status), wait).await
            }
            HydrateStatusClass::Terminal => {
                let message = format!("product page answered {status}");
                dead(&message, Some(status), Some(failure(target, hydrate_status::FAILED, event::HYDRATE_ERROR, &message, Some(status))))
            }
        }
    }
}

impl HydrateStage {
    async fn retry(&self, target: &Target, error: String, status: Option<u16>, wait: Option<std::time::Duration>) -> StageOutcome {
        self.retry_logged(target, event::HYDRATE_ERROR, error, status, wait).await
    }

    /// A retry has no commit, so its events are written on their own.
    async fn retry_logged(
        &self,
        target: &Target,
        kind: &'static str,
        error: String,
        status: Option<u16>,
        wait: Option<std::time::Duration>,
    ) -> StageOutcome {
        let details = json!({"retry_after_s": wait.map(|w| w.as_secs_f64())});
        let events = [
            event_for(target, event::HYDRATE_START, None, None, json!({})),
            event_for(target, kind, status, Some(&error), details),
        ];
        if let Err(e) = append_events(&self.db, target.started_ms, &events).await {
            tracing::warn!(error = %e, "could not log a hydrate retry");
        }
        StageOutcome::Retry { error, status, retry_after: wait }
    }
}

fn dead(error: &str, status: Option<u16>, commit: Option<Box<dyn StageCommit>>) -> StageOutcome {
    StageOutcome::Terminal { error: error.to_owned(), status, commit, dead: true }
}

fn event_for<'a>(target: &'a Target, kind: &'static str, status: Option<u16>, error: Option<&'a str>, details: serde_json::Value) -> SyncEvent<'a> {
    SyncEvent {
        event_type: kind,
        seller_phone: target.phone.as_deref(),
        product_id: Some(&target.product_id),
        status_code: status,
        error_message: error,
        details,
    }
}

async fn append_events(db: &Database, started_ms: i64, events: &[SyncEvent<'_>]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    let now = crate::time::now_ms();
    for (i, e) in events.iter().enumerate() {
        sync_log::append(&mut tx, if i == 0 { started_ms } else { now }, e).await?;
    }
    tx.commit().await
}

fn failure(target: Target, status_value: &'static str, kind: &'static str, error: &str, status: Option<u16>) -> Box<dyn StageCommit> {
    Box::new(FailureCommit { target, status_value, kind, error: error.to_owned(), status })
}

/// A page that yields no product: the row's status (inactive for `gone`) and the events.
struct FailureCommit {
    target: Target,
    status_value: &'static str,
    kind: &'static str,
    error: String,
    status: Option<u16>,
}

#[async_trait::async_trait]
impl StageCommit for FailureCommit {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        products::record_hydrate_failure(tx, &self.target.product_id, self.status_value, now).await?;
        sync_log::append(tx, self.target.started_ms, &event_for(&self.target, event::HYDRATE_START, None, None, json!({}))).await?;
        let e = event_for(&self.target, self.kind, self.status, Some(&self.error), json!({"hydrate_status": self.status_value}));
        sync_log::append(tx, now, &e).await
    }
}

struct HydrateCommit {
    target: Target,
    meta: ProductMeta,
    charset: &'static str,
    status: u16,
}

#[async_trait::async_trait]
impl StageCommit for HydrateCommit {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        let id = self.target.product_id.as_str();
        let (name, description) = (self.meta.title.as_deref(), self.meta.description.as_deref());
        let image_url = self.meta.image_url.as_ref().map(Url::as_str);
        let hash = semantic_hash(name, description, image_url);
        let before = products::get_in(tx, id).await?;
        let page = Hydrated { name, description, image_url, semantic_hash: &hash };
        products::record_hydrated(tx, id, self.target.phone.as_deref(), &page, now).await?;
        let embedded_now = before.as_ref().and_then(|p| p.last_embedding_hash.as_deref()) == Some(hash.as_str());
        let next = if !embedded_now {
            Some(stage::EMBED)
        } else if before.as_ref().is_some_and(|p| p.qc_decision.as_deref() == Some("approved") && p.persisted_image_url.is_none()) {
            // Same content, but the approved image never reached the store: try again (seed 001).
            Some(stage::PERSIST)
        } else {
            None
        };
        if let Some(next) = next {
            let payload = json!({"product_id": id});
            jobs::enqueue(tx, NewJob { stage: next, dedupe_key: id, payload: &payload, run_at_ms: now }).await?;
        }
        sync_log::append(tx, self.target.started_ms, &event_for(&self.target, event::HYDRATE_START, None, None, json!({}))).await?;
        let details = json!({
            "semantic_hash": hash,
            "changed": before.as_ref().and_then(|p| p.semantic_hash.as_deref()) != Some(hash.as_str()),
            "next": next,
            "charset": self.charset,
            "title_source": self.meta.title_source.map(|s| format!("{s:?}")),
            "image_source": self.meta.image_source.map(|s| s.as_str()),
        });
        sync_log::append(tx, now, &event_for(&self.target, event::HYDRATE_SUCCESS, Some(self.status), None, details)).await
    }
}
