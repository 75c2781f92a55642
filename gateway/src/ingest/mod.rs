//! The ingest path of `POST /integrations/whatsapp/ingest`, in the order the
//! checks run: IP allowlist, the credential scheme (token, or a Standard
//! Webhooks signature that stands on its own), content type, capped body
//! (read by the HTTP layer), signature and timestamp over the raw bytes,
//! JSON schema and batch size, per-client rate limit, then normalisation and
//! the durable group commit (which answers a repeated `webhook-id` from its
//! first delivery). Nothing here knows the web framework: a request arrives as
//! [`IngestRequest`] plus a body future, and a refusal leaves as
//! [`IngestError`].

pub mod auth;
pub mod client_ip;
pub mod dedupe_fast_path;
pub mod error;
pub mod failures;
pub mod prepare;
pub mod rate_limit;
pub mod request;
pub mod schema;
pub mod settings;
pub mod shared_rate_limit;
pub mod signature;
pub mod standard_webhooks;

use std::{future::Future, sync::Arc};

use bytes::Bytes;
use serde::Serialize;

use crate::{
    domain::{FailureRecord, MessageOutcome},
    metrics::Metrics,
    parse::privacy::mask_phones,
    redis_link::RedisLink,
    store::Store,
    time::now_ms,
};
pub use error::IngestError;
pub use request::{IngestRequest, RequestHeaders};
pub use settings::IngestSettings;
use auth::{Scheme, TokenVerifier};
use client_ip::IpPolicy;
use failures::{FailureRecorder, counters_for};
use prepare::Preparer;
use dedupe_fast_path::{DedupeFastPath, MarkerPlan};
use rate_limit::{LocalRateLimiter, Quota};
use shared_rate_limit::RateLimiter;
use signature::{SignatureVerifier, UnverifiedBody};
use standard_webhooks::WebhookVerifier;
use rate_limit::RateDecision;

/// What the gateway needs to take one batch in.
pub struct IngestService {
    config: IngestSettings,
    tokens: TokenVerifier,
    signatures: SignatureVerifier,
    webhooks: WebhookVerifier,
    ip_policy: IpPolicy,
    pub rate_limiter: RateLimiter,
    /// Scale-out only: Redis markers that let proven duplicates skip the
    /// database's dedupe probes.
    dedupe_fast_path: Option<DedupeFastPath>,
    preparer: Preparer,
    pub failures: FailureRecorder,
    metrics: Arc<Metrics>,
}

#[derive(Debug, Serialize)]
pub struct IngestResponse {
    pub request_id: String,
    pub accepted: usize,
    pub created: usize,
    pub deduped: usize,
    pub messages: Vec<MessageStatus>,
}

#[derive(Debug, Serialize)]
pub struct MessageStatus {
    pub index: usize,
    pub status: &'static str,
    pub id: Option<i64>,
}

/// What is known about a request when it is refused, for `recent_failures`.
#[derive(Debug, Default)]
struct RequestFacts {
    client_id: Option<String>,
    chat_title: Option<String>,
}

/// A refused request: why, and what it said about itself. The HTTP layer
/// decides its status and hands it back to [`IngestService::record_refusal`].
#[derive(Debug)]
pub struct Refusal {
    pub error: IngestError,
    facts: RequestFacts,
    request_id: String,
}

impl IngestService {
    pub fn new(config: IngestSettings, metrics: Arc<Metrics>) -> Self {
        Self {
            tokens: TokenVerifier::new(&config.tokens),
            signatures: SignatureVerifier::new(config.hmac_secrets.clone(), config.signature_ttl),
            webhooks: WebhookVerifier::new(config.webhook_secrets.clone(), config.signature_ttl),
            ip_policy: IpPolicy::new(config.allowed_ips.clone(), config.trusted_proxies.clone()),
            rate_limiter: RateLimiter::Local(local_limiter(&config)),
            dedupe_fast_path: None,
            preparer: Preparer::new(config.default_region),
            failures: FailureRecorder::new(config.failures_log_max_rows),
            config,
            metrics,
        }
    }

    /// Scale-out: the rate limit moves to Redis (the per-process limiter stays
    /// as its fallback), and on PostgreSQL the dedupe fast path is switched on.
    pub fn use_redis(&mut self, link: Arc<RedisLink>, postgres: bool) -> Result<(), prometheus::Error> {
        let quota = Quota::per_minute(self.config.rate_limit_per_minute, self.config.rate_limit_burst);
        self.rate_limiter = RateLimiter::shared(link.clone(), quota, local_limiter(&self.config));
        if postgres {
            let fast_path = DedupeFastPath::new(link, self.config.content_hash_window, &self.metrics)?;
            self.dedupe_fast_path = Some(fast_path);
        }
        Ok(())
    }

    /// For routes that accept the ingest token as a credential.
    pub fn token_accepted(&self, presented: Option<&[u8]>) -> bool {
        self.tokens.accepts(presented)
    }

    pub fn hmac_enabled(&self) -> bool {
        self.signatures.is_enabled()
    }

    /// True when `WHATSAPP_INGEST_WEBHOOK_SECRETS` switched Standard Webhooks on.
    pub fn standard_webhooks_enabled(&self) -> bool {
        self.webhooks.is_enabled()
    }

    /// The body cap the HTTP layer enforces while reading.
    pub fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    /// Runs the whole ingest path. `body` is awaited only after the address,
    /// token and content type passed, and yields the raw bytes read under
    /// [`max_body_bytes`](Self::max_body_bytes). Successes are counted here;
    /// a refusal is counted and logged by [`record_refusal`](Self::record_refusal).
    pub async fn handle(
        &self,
        request: IngestRequest<'_>,
        body: impl Future<Output = Result<Bytes, IngestError>>,
        store: &Store,
        request_id: &str,
    ) -> Result<(IngestResponse, RateDecision), Refusal> {
        let mut facts = RequestFacts::default();
        match self.run(request, body, store, request_id, &mut facts).await {
            Ok((response, decision)) => {
                self.metrics.ingest_requests.with_label_values(&["accepted"]).inc();
                let messages = &self.metrics.ingest_messages;
                messages.with_label_values(&["accepted"]).inc_by(response.accepted as u64);
                messages.with_label_values(&["created"]).inc_by(response.created as u64);
                messages.with_label_values(&["deduped"]).inc_by(response.deduped as u64);
                self.metrics.batch_size.observe(response.accepted as f64);
                Ok((response, decision))
            }
            Err(error) => Err(Refusal { error, facts, request_id: request_id.to_owned() }),
        }
    }

    async fn run(
        &self,
        request: IngestRequest<'_>,
        body: impl Future<Output = Result<Bytes, IngestError>>,
        store: &Store,
        request_id: &str,
        facts: &mut RequestFacts,
    ) -> Result<(IngestResponse, RateDecision), IngestError> {
        let headers = request.headers;
        if self.ip_policy.is_enabled() {
            let peer = request.peer.ok_or(IngestError::IpNotAllowed)?;
            if !self.ip_policy.allows(peer, headers.header_text("x-forwarded-for")) {
                return Err(IngestError::IpNotAllowed);
            }
        }
        let scheme = Scheme::of(headers, self.webhooks.is_enabled());
        if matches!(scheme, Scheme::Token) && !self.tokens.accepts(headers.header("x-ingest-token")) {
            return Err(IngestError::InvalidToken);
        }
        if !request::is_json_content_type(headers.header_text("content-type")) {
            return Err(IngestError::UnsupportedMediaType);
        }
        let raw = UnverifiedBody(body.await?);
        let now = chrono::Utc::now();
        let (verified, delivery_id) = match scheme {
            Scheme::StandardWebhooks(webhook) => {
                let (verified, id) = self.webhooks.verify(raw, &webhook, now)?;
                (verified, Some(id))
            }
            Scheme::Token => {
                let timestamp = headers.header_text("x-signature-timestamp");
                (self.signatures.verify(raw, timestamp, headers.header_text("x-signature"), now)?, None)
            }
        };
        let batch = schema::parse_batch(&verified, self.config.max_messages).inspect_err(|_| {
            // Best effort: a body that failed validation may still name its client.
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(verified.bytes()) {
                facts.client_id = value.get("client_id").and_then(|v| v.as_str()).map(str::to_owned);
            }
        })?;
        facts.client_id = Some(batch.client_id.clone());
        facts.chat_title = batch.messages.first().map(|m| m.chat_title.clone());
        let decision = self.rate_limiter.check(batch.client_id.trim()).await;
        if !decision.allowed {
            return Err(IngestError::RateLimited(decision));
        }
        let mut prepared = self.preparer.prepare(batch, request_id.to_owned(), now_ms());
        prepared.delivery_id = delivery_id;
        let markers = match &self.dedupe_fast_path {
            Some(fast_path) => {
                fast_path.mark_known_duplicates(&mut prepared).await;
                Some((fast_path.clone(), MarkerPlan::of(&prepared)))
            }
            None => None,
        };
        let outcomes = store.store_batch(prepared).await.map_err(IngestError::Storage)?;
        if let Some((fast_path, plan)) = markers {
            // Committed: markers may now vouch for these messages.
            let outcomes = outcomes.clone();
            tokio::spawn(async move { fast_path.remember(plan, &outcomes).await });
        }
        Ok((response(request_id, &outcomes), decision))
    }

    /// Counts a refusal (metrics, persistent totals) and logs it for
    /// `recent_failures` with the status it is answered with; returns its error.
    pub fn record_refusal(&self, refusal: Refusal, status: u16) -> IngestError {
        let Refusal { error, facts, request_id } = refusal;
        let metrics = &self.metrics;
        metrics.ingest_requests.with_label_values(&[error.code()]).inc();
        match &error {
            IngestError::InvalidToken => metrics.auth_failures.inc(),
            IngestError::IpNotAllowed => metrics.forbidden.inc(),
            IngestError::RateLimited(_) => metrics.rate_limited.inc(),
            e if e.is_signature_failure() => {
                metrics.forbidden.inc();
                metrics.signature_failures.inc();
            }
            _ => {}
        }
        let counters = counters_for(&error);
        if !counters.is_empty() {
            let record = FailureRecord {
                at_ms: now_ms(),
                // Client ids and chat titles can be phone numbers: only the last 3 digits are kept.
                client_id: facts.client_id.as_deref().map(mask_phones),
                chat_title: facts.chat_title.as_deref().map(mask_phones),
                status,
                code: error.code(),
                reason: error.log_reason(),
                request_id,
            };
            let dropped = self.failures.record(record, counters);
            metrics.failures_dropped.inc_by(dropped);
        }
        error
    }
}

fn local_limiter(config: &IngestSettings) -> LocalRateLimiter {
    LocalRateLimiter::new(
        Quota::per_minute(config.rate_limit_per_minute, config.rate_limit_burst),
        config.rate_limit_max_clients,
    )
}

fn response(request_id: &str, outcomes: &[MessageOutcome]) -> IngestResponse {
    let created = outcomes.iter().filter(|o| o.created).count();
    IngestResponse {
        request_id: request_id.to_owned(),
        accepted: outcomes.len(),
        created,
        deduped: outcomes.len() - created,
        messages: outcomes
            .iter()
            .enumerate()
            .map(|(index, outcome)| MessageStatus {
                index,
                status: if outcome.created { "created" } else { "duplicate" },
                id: outcome.message_pk,
            })
            .collect(),
    }
}
