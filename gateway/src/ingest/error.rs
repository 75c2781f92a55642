//! Why ingest refused a request: one enum for every check of the path, with
//! the stable reason code that metrics, the failure log and the JSON error
//! body share. The HTTP status of each variant is decided in `http/` alone.

use super::rate_limit::RateDecision;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid ingest token")]
    InvalidToken,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("invalid signature: timestamp is older than the allowed {0} s")]
    Stale(u64),
    #[error("invalid signature: timestamp is more than {0} s in the future")]
    Future(u64),
    #[error("invalid signature: X-Signature-Timestamp must be RFC 3339 UTC or unix seconds")]
    MalformedTimestamp,
    /// Standard Webhooks: no configured secret signed `{id}.{timestamp}.{body}`,
    /// or the `webhook-*` headers are incomplete or malformed.
    #[error("invalid signature")]
    InvalidWebhookSignature,
    #[error("invalid signature: webhook-timestamp is older than the allowed {0} s")]
    WebhookStale(u64),
    #[error("invalid signature: webhook-timestamp is more than {0} s in the future")]
    WebhookFuture(u64),
    #[error("invalid signature: webhook-timestamp must be integer unix seconds")]
    WebhookMalformedTimestamp,
    #[error("ip not allowed")]
    IpNotAllowed,
    #[error("ingest rate limit exceeded")]
    RateLimited(RateDecision),
    /// The ceiling over every client id of one ingest token.
    #[error("ingest rate limit exceeded for this token")]
    TokenRateLimited(RateDecision),
    #[error("request body exceeds {0} bytes")]
    TooLarge(usize),
    #[error("batch has {count} messages; at most {max} are accepted per request")]
    TooManyMessages { count: usize, max: usize },
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("invalid payload at {path}: {detail}")]
    Schema { path: String, detail: String },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("request body could not be read: {0}")]
    BodyRead(String),
    #[error("request body was not received in time")]
    BodyTimeout,
    /// The batch was valid but could not be stored.
    #[error("storing the batch failed")]
    Storage(#[source] StoreError),
}

impl IngestError {
    /// The stable machine-readable reason: the error body's `code`, the
    /// `outcome` label of `soko_ingest_requests_total` and the failure log's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_ingest_token",
            Self::InvalidSignature => "invalid_signature",
            Self::Stale(_) => "signature_timestamp_stale",
            Self::Future(_) => "signature_timestamp_future",
            Self::MalformedTimestamp => "signature_timestamp_invalid",
            Self::InvalidWebhookSignature => "invalid_webhook_signature",
            Self::WebhookStale(_) => "webhook_timestamp_stale",
            Self::WebhookFuture(_) => "webhook_timestamp_future",
            Self::WebhookMalformedTimestamp => "webhook_timestamp_invalid",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::RateLimited(_) => "rate_limited",
            Self::TokenRateLimited(_) => "token_rate_limited",
            Self::TooLarge(_) => "payload_too_large",
            Self::TooManyMessages { .. } => "too_many_messages",
            Self::MalformedJson(_) => "malformed_json",
            Self::Schema { .. } => "invalid_payload",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyRead(_) => "body_read_failed",
            Self::BodyTimeout => "body_timeout",
            Self::Storage(error) if error.is_transient() => "storage_unavailable",
            Self::Storage(_) => "internal_error",
        }
    }

    /// What the failure log keeps: fixed text plus field names, never what
    /// the client sent (a parser's message can quote a field's value, and
    /// values carry phone numbers and message text).
    pub fn log_reason(&self) -> String {
        match self {
            Self::Schema { path, .. } => format!("invalid payload at {path}"),
            Self::MalformedJson(_) => "request body is not valid JSON".to_owned(),
            Self::BodyRead(_) => "request body could not be read".to_owned(),
            Self::Storage(_) => "storing the batch failed".to_owned(),
            // Every other message is fixed text with numbers of our own (caps, TTLs).
            other => other.to_string(),
        }
    }

    /// True for the failures that count as signature failures in the totals.
    pub fn is_signature_failure(&self) -> bool {
        matches!(
            self,
            Self::InvalidSignature
                | Self::Stale(_)
                | Self::Future(_)
                | Self::MalformedTimestamp
                | Self::InvalidWebhookSignature
                | Self::WebhookStale(_)
                | Self::WebhookFuture(_)
                | Self::WebhookMalformedTimestamp
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_texts_are_kept() {
        assert_eq!(IngestError::InvalidToken.to_string(), "invalid ingest token");
        assert_eq!(IngestError::InvalidSignature.to_string(), "invalid signature");
        assert_eq!(IngestError::IpNotAllowed.to_string(), "ip not allowed");
        assert_eq!(IngestError::RateLimited(RateDecision::denied_for_tests()).to_string(), "ingest rate limit exceeded");
    }

    #[test]
    fn logged_reasons_never_quote_the_request() {
        let quoted = IngestError::Schema {
            path: "messages[0].timestamp".into(),
            detail: "invalid type: string \"call 0712345678\", expected a timestamp".into(),
        };
        assert_eq!(quoted.log_reason(), "invalid payload at messages[0].timestamp");
        let json = IngestError::MalformedJson("expected `,` near \"0712345678\"".into());
        assert_eq!(json.log_reason(), "request body is not valid JSON");
        assert_eq!(IngestError::Stale(300).log_reason(), IngestError::Stale(300).to_string());
    }

    #[test]
    fn storage_codes_follow_transience() {
        assert_eq!(IngestError::Storage(StoreError::WriterStopped).code(), "storage_unavailable");
        assert_eq!(IngestError::Storage(StoreError::Failed("x".into())).code(), "internal_error");
        assert!(IngestError::Stale(1).is_signature_failure() && !IngestError::IpNotAllowed.is_signature_failure());
        assert!(IngestError::WebhookStale(1).is_signature_failure() && IngestError::InvalidWebhookSignature.is_signature_failure());
        assert_eq!(IngestError::InvalidWebhookSignature.to_string(), "invalid signature");
    }
}
