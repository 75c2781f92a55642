//! The ingest path of `POST /integrations/whatsapp/ingest`, in the order the
//! checks run: IP allowlist, token, content type, capped body, signature and
//! timestamp over the raw bytes, JSON schema and batch size, per-client rate
//! limit, then normalisation and the durable group commit.

pub mod auth;
pub mod body;
pub mod client_ip;
pub mod dedupe_fast_path;
pub mod failures;
pub mod prepare;
pub mod rate_limit;
pub mod schema;
pub mod shared_rate_limit;
pub mod signature;

use std::sync::Arc;

use actix_web::{HttpRequest, web};
use serde::Serialize;

use crate::{
    config::IngestConfig,
    http::errors::ApiError,
    metrics::Metrics,
    redis_link::RedisLink,
    store::{Store, group::MessageOutcome},
    time::now_ms,
};
use auth::TokenVerifier;
use client_ip::IpPolicy;
use failures::{FailureRecord, FailureRecorder, counters_for};
use prepare::Preparer;
use dedupe_fast_path::{DedupeFastPath, MarkerPlan};
use rate_limit::{LocalRateLimiter, Quota, RateDecision};
use shared_rate_limit::RateLimiter;
use signature::{SignatureVerifier, UnverifiedBody};

/// What the gateway needs to take one batch in.
pub struct IngestService {
    config: IngestConfig,
    tokens: TokenVerifier,
    signatures: SignatureVerifier,
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
#[derive(Default)]
struct RequestFacts {
    client_id: Option<String>,
    chat_title: Option<String>,
}

impl IngestService {
    pub fn new(config: IngestConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            tokens: TokenVerifier::new(&config.tokens),
            signatures: SignatureVerifier::new(config.hmac_secrets.clone(), config.signature_ttl),
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

    /// Runs the whole ingest path; refusals are counted and logged here.
    pub async fn handle(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
        store: &Store,
        request_id: &str,
    ) -> Result<(IngestResponse, RateDecision), ApiError> {
        let mut facts = RequestFacts::default();
        let result = self.run(request, payload, store, request_id, &mut facts).await;
        match &result {
            Ok((response, _)) => {
                self.metrics.ingest_requests.with_label_values(&["accepted"]).inc();
                let messages = &self.metrics.ingest_messages;
                messages.with_label_values(&["accepted"]).inc_by(response.accepted as u64);
                messages.with_label_values(&["created"]).inc_by(response.created as u64);
                messages.with_label_values(&["deduped"]).inc_by(response.deduped as u64);
                self.metrics.batch_size.observe(response.accepted as f64);
            }
            Err(error) => self.count_refusal(error, facts, request_id),
        }
        result
    }

    async fn run(
        &self,
        request: &HttpRequest,
        payload: web::Payload,
        store: &Store,
        request_id: &str,
        facts: &mut RequestFacts,
    ) -> Result<(IngestResponse, RateDecision), ApiError> {
        if self.ip_policy.is_enabled() {
            let peer = request.peer_addr().map(|a| a.ip()).ok_or(ApiError::IpNotAllowed)?;
            let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
            if !self.ip_policy.allows(peer, forwarded) {
                return Err(ApiError::IpNotAllowed);
            }
        }
        let headers = request.headers();
        if !self.tokens.accepts(headers.get("x-ingest-token").map(|v| v.as_bytes())) {
            return Err(ApiError::InvalidToken);
        }
        body::require_json(request)?;
        let raw = body::read_capped(request, payload, self.config.max_body_bytes).await?;
        let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let verified = self.signatures.verify(
            UnverifiedBody(raw),
            header_text("x-signature-timestamp"),
            header_text("x-signature"),
            chrono::Utc::now(),
        )?;
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
            return Err(ApiError::RateLimited(decision));
        }
        let mut prepared = self.preparer.prepare(batch, request_id.to_owned(), now_ms());
        let markers = match &self.dedupe_fast_path {
            Some(fast_path) => {
                fast_path.mark_known_duplicates(&mut prepared).await;
                Some((fast_path.clone(), MarkerPlan::of(&prepared)))
            }
            None => None,
        };
        let outcomes = store.store_batch(prepared).await.map_err(|error| match error.is_transient() {
            true => ApiError::Unavailable { retry_after: std::time::Duration::from_secs(2) },
            false => ApiError::Internal(error.into()),
        })?;
        if let Some((fast_path, plan)) = markers {
            // Committed: markers may now vouch for these messages.
            let outcomes = outcomes.clone();
            tokio::spawn(async move { fast_path.remember(plan, &outcomes).await });
        }
        Ok((response(request_id, &outcomes), decision))
    }

    fn count_refusal(&self, error: &ApiError, facts: RequestFacts, request_id: &str) {
        let metrics = &self.metrics;
        metrics.ingest_requests.with_label_values(&[error.code()]).inc();
        match error {
            ApiError::InvalidToken => metrics.auth_failures.inc(),
            ApiError::IpNotAllowed => metrics.forbidden.inc(),
            ApiError::RateLimited(_) => metrics.rate_limited.inc(),
            e if e.is_signature_failure() => {
                metrics.forbidden.inc();
                metrics.signature_failures.inc();
            }
            _ => {}
        }
        let counters = counters_for(error);
        if counters.is_empty() {
            return;
        }
        let status = actix_web::ResponseError::status_code(error).as_u16();
        let record = FailureRecord {
            at_ms: now_ms(),
            client_id: facts.client_id,
            chat_title: facts.chat_title,
            status,
            code: error.code(),
            reason: error.to_string(),
            request_id: request_id.to_owned(),
        };
        let dropped = self.failures.record(record, counters);
        metrics.failures_dropped.inc_by(dropped);
    }
}

fn local_limiter(config: &IngestConfig) -> LocalRateLimiter {
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
