//! The quality-control stage ([`crate::jobs::Stage`]): fetches the product image into memory,
//! measures it on a blocking thread, and decides with the rules or the configured LLM (answers
//! cached 24 h by content hash, in Redis when configured, else in the database). In the job's transaction it writes `qc_decision`,
//! `qc_confidence` and `qc_reason`, logs `qc_approved` / `qc_rejected` / `qc_flagged`, and enqueues
//! persist when approved.
//!
//! A product without an image, or whose image is gone (404) or does not decode, is rejected
//! without asking an LLM. A transient image or provider failure (429, 5xx, network) is retried
//! through the queue, honouring `Retry-After`. An image the fence refuses kills the job
//! (`blocked_address`) without a decision.

use std::{sync::Arc, time::Duration};

use serde_json::json;

use super::cache;
use super::llm::{self, PROMPT_VERSION, QcImage};
use super::provider::{self, LlmCallError, QcEngine, RulesProvider};
use super::{Decision, QcDecision};
use crate::jobs::{ClaimedJob, Stage, StageCommit, StageOutcome};
use crate::pipeline::media::events;
use crate::pipeline::fence::blocked_outcome;
use crate::pipeline::media::{FetchError, ImageFetcher, enqueue_for_product, load_active_product};
use crate::redis_link::RedisLink;
use crate::domain::job::stage;
use crate::domain::Product;
use crate::store::products;
use crate::store::{Database, StoreError, tx::Tx};

pub struct QcStage {
    db: Database,
    fetcher: ImageFetcher,
    rules: RulesProvider,
    engine: QcEngine,
    cache_ttl: Duration,
    concurrency: usize,
    /// With `REDIS_URL`: where LLM answers are cached (the table is the fallback).
    redis: Option<Arc<RedisLink>>,
}

/// A decision and where it came from.
struct Verdict {
    decision: QcDecision,
    provider: &'static str,
    /// Set when a fresh LLM answer is to be cached: (content hash, provider).
    cache: Option<(String, &'static str)>,
    cached: bool,
}

impl Verdict {
    fn rules(decision: QcDecision) -> Self {
        Self { decision, provider: "rules", cache: None, cached: false }
    }
}

impl QcStage {
    pub fn new(db: Database, fetcher: ImageFetcher, rules: RulesProvider, engine: QcEngine, cache_ttl: Duration, concurrency: usize) -> Self {
        Self { db, fetcher, rules, engine, cache_ttl, concurrency: concurrency.max(1), redis: None }
    }

    /// Caches LLM answers in Redis (shared by every worker) while it answers.
    pub fn with_redis(mut self, redis: Option<Arc<RedisLink>>) -> Self {
        self.redis = redis;
        self
    }

    /// A cached answer: from Redis when it answers, else from the database table.
    async fn cached_answer(&self, hash: &str) -> Option<QcDecision> {
        if let Some(link) = &self.redis
            && let Some(answer) = cache::redis_get(link, hash).await
        {
            return answer;
        }
        match cache::get(&self.db, hash, crate::time::now_ms()).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(error = %error, "QC answer cache unreadable; asking the provider");
                None
            }
        }
    }

    /// Caches a fresh answer in Redis; `false` leaves it to the job's transaction (database table).
    async fn cached_in_redis(&self, hash: &str, provider: &str, decision: &QcDecision) -> bool {
        match &self.redis {
            Some(link) => cache::redis_put(link, hash, provider, decision, self.cache_ttl).await,
            None => false,
        }
    }

    async fn judge(&self, product: &Product) -> Result<Verdict, StageOutcome> {
        use Decision::Rejected;
        let Some(url) = product.image_url.as_deref() else {
            return Ok(Verdict::rules(QcDecision::new(Rejected, 0.95, "product has no image")));
        };
        let image = match self.fetcher.fetch(url).await {
            Ok(image) => image,
            Err(FetchError::Blocked(refusal)) => {
                let (phone, id) = (product.seller_phone.as_deref(), Some(product.product_id.as_str()));
                return Err(blocked_outcome(self.fetcher.fence(), stage::QC, refusal, phone, id));
            }
            Err(error) if error.is_transient() => return Err(error.into_outcome("fetching the product image")),
            Err(error) => return Ok(Verdict::rules(QcDecision::new(Rejected, 0.95, format!("image unavailable: {error}")))),
        };
        let bytes = image.bytes.clone();
        let assessment = tokio::task::spawn_blocking(move || provider::assess(&bytes))
            .await
            .map_err(|e| StageOutcome::Retry { error: format!("image check worker: {e}"), status: None, retry_after: None })?;
        let (title, description) = product.title_and_description();
        let by_rules = self.rules.decide(&assessment, title, description);
        let QcEngine::Llm(llm_provider) = &self.engine else {
            return Ok(Verdict::rules(by_rules));
        };
        // An image that cannot be shown is rejected whatever a model would say; no call is spent on it.
        if !assessment.decodes {
            return Ok(Verdict::rules(by_rules));
        }
        let mime = image::guess_format(&image.bytes).map(|f| f.to_mime_type()).unwrap_or("image/jpeg");
        let hash = llm::content_hash(llm_provider.model(), PROMPT_VERSION, title, description, &llm::image_sha256(&image.bytes));
        if let Some(decision) = self.cached_answer(&hash).await {
            return Ok(Verdict { decision, provider: llm_provider.name(), cache: None, cached: true });
        }
        let qc_image = QcImage { mime_type: mime, bytes: &image.bytes };
        match llm_provider.review(title, description, qc_image).await {
            Ok(answer) => {
                let provider = llm_provider.name();
                let in_redis = answer.is_cacheable() && self.cached_in_redis(&hash, provider, &answer.decision).await;
                let cache = (answer.is_cacheable() && !in_redis).then_some((hash, provider));
                Ok(Verdict { decision: answer.decision, provider: llm_provider.name(), cache, cached: false })
            }
            Err(LlmCallError::Retry { status, retry_after, error }) => Err(StageOutcome::Retry { error, status, retry_after }),
        }
    }
}

#[async_trait::async_trait]
impl Stage for QcStage {
    fn name(&self) -> &'static str {
        stage::QC
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let product = match load_active_product(&self.db, job).await {
            Ok(Some(product)) => product,
            Ok(None) => return StageOutcome::done_empty(),
            Err(outcome) => return outcome,
        };
        match self.judge(&product).await {
            Ok(verdict) => StageOutcome::Done(Box::new(QcCommit { product, verdict, cache_ttl: self.cache_ttl })),
            Err(outcome) => outcome,
        }
    }
}

struct QcCommit {
    product: Product,
    verdict: Verdict,
    cache_ttl: Duration,
}

#[async_trait::async_trait]
impl StageCommit for QcCommit {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        let id = self.product.product_id.as_str();
        let decision = &self.verdict.decision;
        products::set_qc(tx, id, decision.decision.as_str(), f64::from(decision.confidence), &decision.reason, now).await?;
        if let Some((hash, provider)) = &self.verdict.cache {
            let expires = now.saturating_add(i64::try_from(self.cache_ttl.as_millis()).unwrap_or(i64::MAX));
            cache::put(tx, hash, provider, decision, now, expires).await?;
        }
        let details = json!({
            "decision": decision.decision.as_str(),
            "confidence": decision.confidence,
            "reason": decision.reason,
            "provider": self.verdict.provider,
            "cached": self.verdict.cached,
        });
        events::record(tx, now, decision.decision.event_type(), &self.product, None, details).await?;
        if decision.decision == Decision::Approved {
            enqueue_for_product(tx, stage::PERSIST, id, now).await?;
        }
        Ok(())
    }
}
