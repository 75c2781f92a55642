//! The ingest path of `POST /integrations/whatsapp/ingest`, in the order the
//! checks run: IP allowlist, the credential scheme (token, or a Standard
//! Webhooks signature that stands on its own), content type, capped body
//! (read by the HTTP layer), signature and timestamp over the raw bytes,
//! JSON schema and batch size, per-client rate limit and the per-token
//! ceiling, then normalisation (empty messages are refused one by one) and
//! the durable group commit (which answers a repeated `webhook-id` from its
//! first delivery). Other senders ([`meta`], the WhatsApp Cloud API) join at
//! the commit ([`IngestService::commit`]). Nothing here knows the web
//! framework: a request arrives as [`IngestRequest`] plus a body future, and
//! a refusal leaves as [`IngestError`].

pub mod auth;
pub mod client_ip;
pub mod dedupe_fast_path;
pub mod error;
pub mod failures;
pub mod meta;
pub mod prepare;
pub mod rate_limit;
pub mod request;
pub mod response;
pub mod schema;
pub mod settings;
pub mod shared_rate_limit;
pub mod signature;
pub mod standard_webhooks;
pub mod token_ceiling;

use std::{future::Future, sync::Arc};

use bytes::Bytes;

use crate::{
    domain::FailureRecord,
    metrics::Metrics,
    parse::privacy::mask_phones,
    redis_link::RedisLink,
    store::Store,
    time::now_ms,
};
pub use error::IngestError;
pub use request::{IngestRequest, RequestHeaders};
pub use response::{IngestResponse, MessageStatus};
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
use token_ceiling::TokenCeiling;
use rate_limit::RateDecision;
use schema::BatchPayload;

/// The per-token ceiling's key for Standard Webhooks deliveries, which present no token: they
/// share one allowance, whatever `client_id` they name.
const STANDARD_WEBHOOKS_CEILING_KEY: &str = "standard-webhooks";

/// What the gateway needs to take one batch in.
pub struct IngestService {
    config: IngestSettings,
    tokens: TokenVerifier,
    signatures: SignatureVerifier,
    webhooks: WebhookVerifier,
    ip_policy: IpPolicy,
    pub rate_limiter: RateLimiter,
    /// The ceiling over all client ids of one token.
    pub token_ceiling: TokenCeiling,
    /// Scale-out only: Redis markers that let proven duplicates skip the
    /// database's dedupe probes.
    dedupe_fast_path: Option<DedupeFastPath>,
    preparer: Preparer,
    pub failures: FailureRecorder,
    metrics: Arc<Metrics>,
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
            token_ceiling: TokenCeiling::local(&config),
            dedupe_fast_path: None,
            preparer: Preparer::new(config.default_region),
            failures: FailureRecorder::new(config.failures_log_max_rows),
            config,
            metrics,
        }
    }

    /// Scale-out: both rate limits move to Redis (the per-process limiters
    /// stay as their fallback), and on PostgreSQL the dedupe fast path is switched on.
    pub fn use_redis(&mut self, link: Arc<RedisLink>, postgres: bool) -> Result<(), prometheus::Error> {
        let quota = Quota::per_minute(self.config.rate_limit_per_minute, self.config.rate_limit_burst);
        self.rate_limiter = RateLimiter::shared(link.clone(), "rl", quota, local_limiter(&self.config));
        self.token_ceiling = TokenCeiling::shared(&self.config, link.clone());
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
                self.count_messages(&response);
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
        // The ceiling's key: the token presented, or one key for every Standard Webhooks sender.
        let ceiling_key = match scheme {
            Scheme::Token => {
                let token = self.tokens.identify(headers.header("x-ingest-token")).ok_or(IngestError::InvalidToken)?;
                self.tokens.rate_key(token)
            }
            Scheme::StandardWebhooks(_) => STANDARD_WEBHOOKS_CEILING_KEY,
        };
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
        // The client's own bucket first, so its refusals never spend the token's.
        let decision = self.rate_limiter.check(batch.client_id.trim()).await;
        if !decision.allowed {
            return Err(IngestError::RateLimited(decision));
        }
        let ceiling = self.token_ceiling.check(ceiling_key).await;
        if !ceiling.allowed {
            return Err(IngestError::TokenRateLimited(ceiling));
        }
        Ok((self.commit(batch, delivery_id, store, request_id).await?, decision))
    }

    /// The store path every sender shares once its batch is authenticated and
    /// valid: normalisation (empty messages refused one by one), the dedupe
    /// fast path, the group commit (dedupe, per-chat counters, the extraction
    /// due time, the `webhook-id` record when `delivery_id` is set). Message
    /// counters are not touched here; see [`count_messages`](Self::count_messages).
    pub async fn commit(
        &self,
        batch: BatchPayload,
        delivery_id: Option<String>,
        store: &Store,
        request_id: &str,
    ) -> Result<IngestResponse, IngestError> {
        let prepare::Prepared { batch: mut prepared, refused } = self.preparer.prepare(batch, request_id.to_owned(), now_ms());
        if prepared.messages.is_empty() {
            return Ok(response::build(request_id, &[], &refused));
        }
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
        Ok(response::build(request_id, &outcomes, &refused))
    }

    /// `soko_ingest_messages_total` for an accepted batch, whichever route it came by.
    pub fn count_messages(&self, response: &IngestResponse) {
        let messages = &self.metrics.ingest_messages;
        messages.with_label_values(&["accepted"]).inc_by(response.accepted as u64);
        messages.with_label_values(&["created"]).inc_by(response.created as u64);
        messages.with_label_values(&["deduped"]).inc_by(response.deduped as u64);
        messages.with_label_values(&["refused"]).inc_by(response.refused as u64);
    }

    /// The cap on messages per request (`WHATSAPP_INGEST_MAX_MESSAGES`).
    pub fn max_messages(&self) -> usize {
        self.config.max_messages
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
            IngestError::RateLimited(_) | IngestError::TokenRateLimited(_) => metrics.rate_limited.inc(),
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
