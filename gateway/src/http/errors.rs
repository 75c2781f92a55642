//! The one error registry of the HTTP surface. Every error has a stable
//! machine-readable code, a status and a message, and every error response
//! has one JSON shape: `{"error": {"code", "message", "request_id"}}`.
//! Unexpected errors are logged here, once, with their cause chain; the client
//! only sees an opaque 500.

use std::time::Duration;

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::Serialize;

use super::request_context;
use crate::ingest::rate_limit::RateDecision;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid ingest token")]
    InvalidToken,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("invalid signature: timestamp is older than the allowed {0} s")]
    StaleTimestamp(u64),
    #[error("invalid signature: timestamp is more than {0} s in the future")]
    FutureTimestamp(u64),
    #[error("invalid signature: X-Signature-Timestamp must be RFC 3339 UTC or unix seconds")]
    MalformedTimestamp,
    #[error("ip not allowed")]
    IpNotAllowed,
    #[error("ingest rate limit exceeded")]
    RateLimited(RateDecision),
    #[error("request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    #[error("batch has {count} messages; at most {max} are accepted per request")]
    TooManyMessages { count: usize, max: usize },
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("invalid payload at {path}: {detail}")]
    InvalidPayload { path: String, detail: String },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("request body could not be read: {0}")]
    BodyRead(String),
    #[error("request body was not received in time")]
    BodyTimeout,
    #[error("not found")]
    NotFound,
    #[error("admin token required")]
    AdminUnauthorized,
    #[error("cross-site form posts are refused")]
    CrossSiteRequest,
    #[error("{0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("storage is unavailable; retry later")]
    Unavailable { retry_after: Duration },
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_ingest_token",
            Self::InvalidSignature => "invalid_signature",
            Self::StaleTimestamp(_) => "signature_timestamp_stale",
            Self::FutureTimestamp(_) => "signature_timestamp_future",
            Self::MalformedTimestamp => "signature_timestamp_invalid",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::RateLimited(_) => "rate_limited",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::TooManyMessages { .. } => "too_many_messages",
            Self::MalformedJson(_) => "malformed_json",
            Self::InvalidPayload { .. } => "invalid_payload",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyRead(_) => "body_read_failed",
            Self::BodyTimeout => "body_timeout",
            Self::NotFound => "not_found",
            Self::AdminUnauthorized => "admin_unauthorized",
            Self::CrossSiteRequest => "cross_site_request",
            Self::Conflict(_) => "conflict",
            Self::BadRequest(_) => "bad_request",
            Self::Unavailable { .. } => "storage_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// True for the failures that count as signature failures in the totals.
    pub fn is_signature_failure(&self) -> bool {
        matches!(
            self,
            Self::InvalidSignature | Self::StaleTimestamp(_) | Self::FutureTimestamp(_) | Self::MalformedTimestamp
        )
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    request_id: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::InvalidSignature
            | Self::StaleTimestamp(_)
            | Self::FutureTimestamp(_)
            | Self::MalformedTimestamp
            | Self::IpNotAllowed => StatusCode::FORBIDDEN,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) | Self::TooManyMessages { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MalformedJson(_) | Self::BodyRead(_) => StatusCode::BAD_REQUEST,
            Self::InvalidPayload { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            Self::CrossSiteRequest => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = request_context::current_request_id().unwrap_or_default();
        if let Self::Internal(cause) = self {
            tracing::error!(request_id = %request_id, error = ?cause, "unexpected error");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::RateLimited(decision) => {
                response.insert_header((header::RETRY_AFTER, whole_seconds(decision.retry_after).to_string()));
                for (name, value) in decision.headers() {
                    response.insert_header((name, value));
                }
            }
            Self::Unavailable { retry_after } => {
                response.insert_header((header::RETRY_AFTER, whole_seconds(*retry_after).to_string()));
            }
            Self::AdminUnauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="Soko admin", charset="UTF-8""#));
            }
            _ => {}
        }
        response.json(ErrorBody { error: ErrorDetail { code: self.code(), message: self.to_string(), request_id } })
    }
}

/// `Retry-After` is whole seconds, rounded up so a client never retries early.
pub fn whole_seconds(duration: Duration) -> u64 {
    let secs = duration.as_secs();
    if duration.subsec_nanos() > 0 { secs + 1 } else { secs.max(1) }
}

/// Routes actix's own JSON, query and path extractor errors through the
/// registry, so they share the one error shape.
pub fn json_extractor_error(error: actix_web::error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match error {
        E::ContentType => ApiError::UnsupportedMediaType,
        E::Overflow { limit } | E::OverflowKnownLength { limit, .. } => ApiError::PayloadTooLarge(limit),
        E::Deserialize(inner) if inner.is_data() => {
            ApiError::InvalidPayload { path: "$".into(), detail: inner.to_string() }
        }
        other => ApiError::MalformedJson(other.to_string()),
    };
    api.into()
}

pub fn query_extractor_error(error: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::InvalidPayload { path: "query".into(), detail: error.to_string() }.into()
}

pub fn path_extractor_error(error: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::InvalidPayload { path: "path".into(), detail: error.to_string() }.into()
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        if error.is_transient() {
            tracing::warn!(error = %error, "database unavailable");
            Self::Unavailable { retry_after: Duration::from_secs(2) }
        } else {
            Self::Internal(error.into())
        }
    }
}

/// The fallback for unknown routes, in the same shape.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> HttpResponse<Self::Body> {
        self.error_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1_001)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn seed_texts_are_kept() {
        assert_eq!(ApiError::InvalidToken.to_string(), "invalid ingest token");
        assert_eq!(ApiError::InvalidSignature.to_string(), "invalid signature");
        assert_eq!(ApiError::IpNotAllowed.to_string(), "ip not allowed");
        assert_eq!(ApiError::RateLimited(RateDecision::denied_for_tests()).to_string(), "ingest rate limit exceeded");
    }

    #[test]
    fn statuses_match_the_contract() {
        let cases = [
            (ApiError::InvalidToken, 401),
            (ApiError::InvalidSignature, 403),
            (ApiError::StaleTimestamp(300), 403),
            (ApiError::FutureTimestamp(300), 403),
            (ApiError::IpNotAllowed, 403),
            (ApiError::PayloadTooLarge(1), 413),
            (ApiError::TooManyMessages { count: 2, max: 1 }, 413),
            (ApiError::MalformedJson("x".into()), 400),
            (ApiError::InvalidPayload { path: "a".into(), detail: "b".into() }, 422),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::Unavailable { retry_after: Duration::from_secs(1) }, 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code().as_u16(), status, "{error:?}");
        }
    }
}
