//! The WhatsApp Cloud API (Meta) as a sender: the subscription handshake of
//! `GET /integrations/whatsapp/meta` and the notifications of
//! `POST /integrations/whatsapp/meta`. A notification is checked against
//! `X-Hub-Signature-256` over the raw bytes, parsed ([`payload`]), mapped to
//! the seed's batch ([`mapping`]) and committed through the seed ingest's own
//! store path ([`IngestService::commit`]), so dedupe, debounce, extraction
//! and the product chain treat it exactly like a collector's batch. Delivery
//! receipts and messages with nothing to extract are counted, not stored.

pub mod error;
pub mod mapping;
pub mod payload;
pub mod settings;
pub mod signature;

use std::future::Future;

use bytes::Bytes;
use prometheus::{IntCounterVec, Opts};
use serde::Serialize;

use super::{IngestError, IngestResponse, IngestService, auth::TokenVerifier, schema};
use crate::{metrics::Metrics, store::Store};
pub use error::MetaError;
pub use settings::MetaSettings;
use signature::AppSecretVerifier;

/// Longest `hub.challenge` echoed back (Meta sends a short number).
const MAX_CHALLENGE_BYTES: usize = 256;

pub struct MetaReceiver {
    verify_token: Option<TokenVerifier>,
    signatures: AppSecretVerifier,
    counters: Counters,
}

/// The answer to a notification: the seed ingest's counters, plus what was
/// counted and not stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetaResponse {
    #[serde(flatten)]
    pub ingest: IngestResponse,
    /// Delivery receipts (`statuses[]`) in the notification.
    pub statuses: usize,
    /// Messages with no text, caption, reply or media (reactions, locations, …).
    pub skipped: usize,
}

struct Counters {
    requests: IntCounterVec,
    statuses: IntCounterVec,
    skipped: IntCounterVec,
}

impl MetaReceiver {
    /// `None` without an app secret: the routes stay off.
    pub fn new(settings: &MetaSettings, metrics: &Metrics) -> Result<Option<Self>, prometheus::Error> {
        if !settings.is_enabled() {
            return Ok(None);
        }
        Ok(Some(Self {
            verify_token: settings.verify_token.as_ref().map(|token| TokenVerifier::new(std::slice::from_ref(token))),
            signatures: AppSecretVerifier::new(settings.app_secrets.clone()),
            counters: Counters::register(metrics)?,
        }))
    }

    /// The handshake Meta runs when the webhook is saved: the challenge to
    /// echo when the mode is `subscribe` and the token matches.
    pub fn confirm_subscription<'a>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'a str>,
    ) -> Result<&'a str, MetaError> {
        let token_matches = self.verify_token.as_ref().is_some_and(|v| v.accepts(token.map(str::as_bytes)));
        match challenge {
            Some(challenge) if token_matches && mode == Some("subscribe") && challenge.len() <= MAX_CHALLENGE_BYTES => {
                Ok(challenge)
            }
            _ => Err(MetaError::VerificationRefused),
        }
    }

    /// One notification. `body` is awaited only when a signature header is
    /// present, and yields the bytes read under the ingest body cap.
    pub async fn receive(
        &self,
        signature: Option<&str>,
        body: impl Future<Output = Result<Bytes, IngestError>>,
        ingest: &IngestService,
        store: &Store,
        request_id: &str,
    ) -> Result<MetaResponse, MetaError> {
        let outcome = self.run(signature, body, ingest, store, request_id).await;
        let label = match &outcome {
            Ok(_) => "accepted",
            Err(error) => error.code(),
        };
        self.counters.requests.with_label_values(&[label]).inc();
        if let Err(error) = &outcome {
            tracing::warn!(code = error.code(), "Meta notification refused");
        }
        outcome
    }

    async fn run(
        &self,
        signature: Option<&str>,
        body: impl Future<Output = Result<Bytes, IngestError>>,
        ingest: &IngestService,
        store: &Store,
        request_id: &str,
    ) -> Result<MetaResponse, MetaError> {
        if signature.is_none() {
            return Err(MetaError::InvalidSignature);
        }
        let signed = self.signatures.verify(body.await?, signature)?;
        let notification: payload::Notification = schema::parse_json(signed.bytes())?;
        let mapped = mapping::map_notification(notification)?;
        schema::check_batch(&mapped.batch, ingest.max_messages())?;
        let response = match mapped.batch.messages.is_empty() {
            true => super::response::build(request_id, &[], &[]),
            false => ingest.commit(mapped.batch, None, store, request_id).await?,
        };
        // Counted once committed: a retry after a failed commit is not counted twice.
        ingest.count_messages(&response);
        for label in &mapped.statuses {
            self.counters.statuses.with_label_values(&[label]).inc();
        }
        for label in &mapped.skipped {
            self.counters.skipped.with_label_values(&[label]).inc();
        }
        Ok(MetaResponse { ingest: response, statuses: mapped.statuses.len(), skipped: mapped.skipped.len() })
    }
}

impl Counters {
    fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let counters = Self {
            requests: IntCounterVec::new(
                Opts::new("soko_meta_requests_total", "Meta Cloud API notifications by outcome (accepted or the error code)"),
                &["outcome"],
            )?,
            statuses: IntCounterVec::new(
                Opts::new("soko_meta_statuses_total", "Delivery receipts in Meta notifications, by status; never stored"),
                &["status"],
            )?,
            skipped: IntCounterVec::new(
                Opts::new(
                    "soko_meta_messages_skipped_total",
                    "Meta messages with no text, caption, reply or media, by message type; never stored",
                ),
                &["type"],
            )?,
        };
        for collector in [&counters.requests, &counters.statuses, &counters.skipped] {
            metrics.register(Box::new(collector.clone()))?;
        }
        counters.requests.with_label_values(&["accepted"]).inc_by(0);
        for label in mapping::STATUS_LABELS {
            counters.statuses.with_label_values(&[label]).inc_by(0);
        }
        for label in mapping::MESSAGE_TYPES {
            counters.skipped.with_label_values(&[label]).inc_by(0);
        }
        Ok(counters)
    }
}
