//! The persist stage ([`crate::jobs::Stage`]): for an approved product, downloads the image under
//! the cap, stores it as `products/<product_id>.<ext>` with its content type, and in the job's
//! transaction points `persisted_image_url` at the copy and logs `lazy_persist_start` and
//! `lazy_persist_success`. Products that are not approved are left alone.
//!
//! A failure is retried through the queue; on the last attempt (or a terminal failure such as a
//! 404 or a body that is not an image) the job is dead-lettered with `lazy_persist_failed`, and the
//! product keeps its Meta CDN URL until the next heartbeat (seed 001). `soko_media_total{outcome}`
//! counts `persisted` and `failed`. An image the fence refuses kills the job at once
//! (`blocked_address`).

use std::sync::Arc;

use serde_json::json;

use super::{ImageStore, image_kind, product_key};
use crate::jobs::{ClaimedJob, Stage, StageCommit, StageOutcome};
use crate::metrics::Metrics;
use crate::pipeline::media::events;
use crate::pipeline::fence::blocked_outcome;
use crate::pipeline::media::{FetchError, ImageFetcher, load_active_product};
use crate::pipeline::qc::Decision;
use crate::domain::job::stage;
use crate::domain::Product;
use crate::store::products;
use crate::store::{Database, StoreError, tx::Tx};

/// The first attempt and three retries (the queue's schedule).
pub const LAST_ATTEMPT: u32 = 4;

pub struct PersistStage {
    db: Database,
    fetcher: ImageFetcher,
    store: Arc<ImageStore>,
    metrics: Arc<Metrics>,
    concurrency: usize,
}

impl PersistStage {
    pub fn new(db: Database, fetcher: ImageFetcher, store: Arc<ImageStore>, metrics: Arc<Metrics>, concurrency: usize) -> Self {
        Self { db, fetcher, store, metrics, concurrency: concurrency.max(1) }
    }

    /// Turns a failure into its queue outcome: a retry while attempts remain, otherwise a dead
    /// job that records `lazy_persist_failed`.
    fn failure(&self, job: &ClaimedJob, product: &Product, started_ms: i64, outcome: StageOutcome) -> StageOutcome {
        let (error, status) = match outcome {
            StageOutcome::Retry { error, status, retry_after } if job.attempt < LAST_ATTEMPT => {
                return StageOutcome::Retry { error, status, retry_after };
            }
            StageOutcome::Retry { error, status, .. } | StageOutcome::Terminal { error, status, .. } => (error, status),
            done @ StageOutcome::Done(_) => return done,
        };
        let commit = PersistFailed { product: product.clone(), started_ms, status, error: error.clone(), metrics: self.metrics.clone() };
        StageOutcome::Terminal { error, status, commit: Some(Box::new(commit)), dead: true }
    }
}

#[async_trait::async_trait]
impl Stage for PersistStage {
    fn name(&self) -> &'static str {
        stage::PERSIST
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let started_ms = crate::time::now_ms();
        let product = match load_active_product(&self.db, job).await {
            Ok(Some(product)) if product.qc_decision.as_deref().and_then(Decision::parse) == Some(Decision::Approved) => product,
            Ok(_) => return StageOutcome::done_empty(),
            Err(outcome) => return outcome,
        };
        let id = product.product_id.as_str();
        let terminal = |error: String| StageOutcome::Terminal { error, status: None, commit: None, dead: true };
        let Some(url) = product.image_url.as_deref() else {
            return self.failure(job, &product, started_ms, terminal("approved product has no image URL".to_owned()));
        };
        let image = match self.fetcher.fetch(url).await {
            Ok(image) => image,
            Err(FetchError::Blocked(refusal)) => {
                return blocked_outcome(self.fetcher.fence(), stage::PERSIST, refusal, product.seller_phone.as_deref(), Some(id));
            }
            Err(error) => return self.failure(job, &product, started_ms, error.into_outcome("downloading the image")),
        };
        let Some((ext, content_type)) = image_kind(&image.bytes, image.content_type.as_deref()) else {
            return self.failure(job, &product, started_ms, terminal("downloaded body is not a JPEG, PNG, WebP or GIF image".to_owned()));
        };
        let Some(key) = product_key(id, ext) else {
            return self.failure(job, &product, started_ms, terminal(format!("product id {id:?} is not digits")));
        };
        let bytes = image.bytes.len();
        match self.store.put(&key, image.bytes, content_type).await {
            Ok(stored_url) => StageOutcome::Done(Box::new(Persisted {
                product: product.clone(),
                started_ms,
                stored_url,
                key,
                bytes,
                store: self.store.kind(),
                metrics: self.metrics.clone(),
            })),
            Err(error) => {
                let retry = StageOutcome::Retry { error: format!("storing the image: {error}"), status: None, retry_after: None };
                self.failure(job, &product, started_ms, retry)
            }
        }
    }
}

struct Persisted {
    product: Product,
    started_ms: i64,
    stored_url: String,
    key: String,
    bytes: usize,
    store: &'static str,
    metrics: Arc<Metrics>,
}

#[async_trait::async_trait]
impl StageCommit for Persisted {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        let product = &self.product;
        products::set_persisted_url(tx, &product.product_id, &self.stored_url, now).await?;
        events::record(tx, self.started_ms, events::LAZY_PERSIST_START, product, None, json!({"store": self.store})).await?;
        let details = json!({"store": self.store, "key": self.key, "bytes": self.bytes, "url": self.stored_url});
        events::record(tx, now, events::LAZY_PERSIST_SUCCESS, product, None, details).await?;
        self.metrics.media.with_label_values(&["persisted"]).inc();
        Ok(())
    }
}

struct PersistFailed {
    product: Product,
    started_ms: i64,
    status: Option<u16>,
    error: String,
    metrics: Arc<Metrics>,
}

#[async_trait::async_trait]
impl StageCommit for PersistFailed {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let product = &self.product;
        events::record(tx, self.started_ms, events::LAZY_PERSIST_START, product, None, json!({})).await?;
        let failure = Some((self.status, self.error.as_str()));
        events::record(tx, crate::time::now_ms(), events::LAZY_PERSIST_FAILED, product, failure, json!({})).await?;
        self.metrics.media.with_label_values(&["failed"]).inc();
        Ok(())
    }
}
