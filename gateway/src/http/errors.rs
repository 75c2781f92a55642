//! The one error registry of the HTTP surface. Every error has a stable
//! machine-readable code, a status and a message, and every error response
//! has one JSON shape: `{"error": {"code", "message", "request_id"}}`.
//! Unexpected errors are logged here, once, with their cause chain; the client
//! only sees an opaque 500.

use std::time::Duration;

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::Serialize;

use super::request_context;
use crate::{
    documents::{FormatError, PickError, ProbeError, ProcessError},
    extraction::ExtractionError,
    ingest::{IngestError, meta::MetaError, rate_limit::RateDecision},
    search::SearchError,
    semantic::SemanticError,
    store::StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A refusal of the ingest path: its code and message come from
    /// [`IngestError`], its status from [`ingest_status`]. Storage errors
    /// become [`Unavailable`](Self::Unavailable) or [`Internal`](Self::Internal).
    #[error(transparent)]
    Ingest(IngestError),
    #[error("request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("invalid payload at {path}: {detail}")]
    InvalidPayload { path: String, detail: String },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("not found")]
    NotFound,
    #[error("admin token required")]
    AdminUnauthorized,
    /// A read route asked anonymously or with a token it does not take.
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("cross-site form posts are refused")]
    CrossSiteRequest,
    /// Credentials that were presented and are wrong, where the route is not
    /// the ingest path (the Meta webhook's verify token).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("storage is unavailable; retry later")]
    Unavailable { retry_after: Duration },
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
    /// Semantic and visual search's refusals; storage errors become
    /// [`Unavailable`](Self::Unavailable) or [`Internal`](Self::Internal).
    #[error(transparent)]
    Semantic(SemanticError),
    /// An upload route's body is not `multipart/form-data`.
    #[error("content type must be multipart/form-data")]
    NotMultipart,
    /// A vendor document no processor reads (415), or one that does not open (422).
    #[error(transparent)]
    Document(ProbeError),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Ingest(error) => error.code(),
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::MalformedJson(_) => "malformed_json",
            Self::InvalidPayload { .. } => "invalid_payload",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound => "not_found",
            Self::AdminUnauthorized => "admin_unauthorized",
            Self::Unauthorized(_) => "unauthorized",
            Self::CrossSiteRequest => "cross_site_request",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::BadRequest(_) => "bad_request",
            Self::Unavailable { .. } => "storage_unavailable",
            Self::Internal(_) => "internal_error",
            Self::Semantic(error) => error.code(),
            Self::NotMultipart => "unsupported_media_type",
            Self::Document(error) => document_code(error),
        }
    }
}

/// The code of each document refusal.
fn document_code(error: &ProbeError) -> &'static str {
    match error {
        ProbeError::Pick(PickError::Format(FormatError::Unsupported(_) | FormatError::Mismatch { .. })) => "unsupported_document",
        ProbeError::Unreadable(ProcessError::TooLarge(_)) => "document_too_large",
        ProbeError::Pick(PickError::Format(FormatError::Encrypted)) | ProbeError::Unreadable(_) => "unreadable_document",
        ProbeError::Pick(PickError::UnknownProcessor(_)) => "unknown_processor",
        ProbeError::Pick(PickError::Unsuited { .. }) => "unsuited_processor",
    }
}

/// The status of each document refusal.
pub fn document_status(error: &ProbeError) -> StatusCode {
    match error {
        ProbeError::Pick(PickError::Format(FormatError::Unsupported(_) | FormatError::Mismatch { .. })) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ProbeError::Unreadable(ProcessError::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
        ProbeError::Pick(PickError::Format(FormatError::Encrypted)) | ProbeError::Unreadable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ProbeError::Pick(PickError::UnknownProcessor(_) | PickError::Unsuited { .. }) => StatusCode::BAD_REQUEST,
    }
}

/// The status of each ingest refusal: the one place the ingest contract's
/// statuses are written down.
pub fn ingest_status(error: &IngestError) -> StatusCode {
    match error {
        IngestError::InvalidToken => StatusCode::UNAUTHORIZED,
        IngestError::InvalidSignature
        | IngestError::Stale(_)
        | IngestError::Future(_)
        | IngestError::MalformedTimestamp
        | IngestError::InvalidWebhookSignature
        | IngestError::WebhookStale(_)
        | IngestError::WebhookFuture(_)
        | IngestError::WebhookMalformedTimestamp
        | IngestError::IpNotAllowed => StatusCode::FORBIDDEN,
        IngestError::RateLimited(_) | IngestError::TokenRateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        IngestError::TooLarge(_) | IngestError::TooManyMessages { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::MalformedJson(_) | IngestError::BodyRead(_) => StatusCode::BAD_REQUEST,
        IngestError::Schema { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        IngestError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        IngestError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
        IngestError::Storage(error) if error.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
        IngestError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of each semantic search refusal.
pub fn semantic_status(error: &SemanticError) -> StatusCode {
    match error {
        SemanticError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
        SemanticError::Model(_) | SemanticError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        SemanticError::UndecodableImage(_) => StatusCode::UNPROCESSABLE_ENTITY,
        SemanticError::ImageTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        SemanticError::ImageUrlRefused(_) => StatusCode::BAD_REQUEST,
        SemanticError::ImageFetch(_) => StatusCode::BAD_GATEWAY,
        SemanticError::UnknownProduct => StatusCode::NOT_FOUND,
        SemanticError::NotIndexed => StatusCode::CONFLICT,
    }
}

/// `X-RateLimit-*` of a rate-limit decision; `X-RateLimit-Reset` is the
/// number of seconds until the bucket is full.
pub fn rate_limit_headers(decision: &RateDecision) -> [(header::HeaderName, header::HeaderValue); 3] {
    [
        (header::HeaderName::from_static("x-ratelimit-limit"), header::HeaderValue::from(decision.limit)),
        (header::HeaderName::from_static("x-ratelimit-remaining"), header::HeaderValue::from(decision.remaining)),
        (header::HeaderName::from_static("x-ratelimit-reset"), header::HeaderValue::from(whole_seconds(decision.reset_after))),
    ]
}

/// The one error shape: `{"error": {"code", "message", "request_id"}}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `invalid_signature`, `not_found`.
    pub code: &'static str,
    pub message: String,
    /// Also in the `X-Request-Id` header and the gateway's log.
    pub request_id: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Ingest(error) => ingest_status(error),
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::InvalidPayload { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::AdminUnauthorized | Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::CrossSiteRequest | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Semantic(error) => semantic_status(error),
            Self::NotMultipart => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Document(error) => document_status(error),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = request_context::current_request_id().unwrap_or_default();
        if let Self::Internal(cause) = self {
            tracing::error!(request_id = %request_id, error = ?cause, "unexpected error");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Ingest(IngestError::RateLimited(decision) | IngestError::TokenRateLimited(decision)) => {
                response.insert_header((header::RETRY_AFTER, whole_seconds(decision.retry_after).to_string()));
                for (name, value) in rate_limit_headers(decision) {
                    response.insert_header((name, value));
                }
            }
            Self::Unavailable { retry_after } => {
                response.insert_header((header::RETRY_AFTER, whole_seconds(*retry_after).to_string()));
            }
            Self::AdminUnauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="Soko admin", charset="UTF-8""#));
            }
            Self::Unauthorized(_) => {
                // Scripts use the bearer scheme; basic makes a browser prompt for the token.
                response.append_header((header::WWW_AUTHENTICATE, r#"Bearer realm="Soko Ingest""#));
                response.append_header((header::WWW_AUTHENTICATE, r#"Basic realm="Soko Ingest", charset="UTF-8""#));
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

/// How long a client is asked to wait when the database is unavailable.
const STORAGE_RETRY_AFTER: Duration = Duration::from_secs(2);

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            // Storage trouble answers like any other route's: 503 or an opaque 500.
            IngestError::Storage(store) => store.into(),
            refusal => Self::Ingest(refusal),
        }
    }
}

impl From<MetaError> for ApiError {
    fn from(error: MetaError) -> Self {
        match error {
            MetaError::VerificationRefused => Self::Forbidden("the webhook verification request does not match"),
            // The same code and text as the seed ingest's signature refusal.
            MetaError::InvalidSignature => Self::Ingest(IngestError::InvalidSignature),
            MetaError::Ingest(error) => error.into(),
        }
    }
}

impl From<crate::store::purge::PrefixError> for ApiError {
    fn from(error: crate::store::purge::PrefixError) -> Self {
        Self::BadRequest(error.to_string())
    }
}

impl From<ProbeError> for ApiError {
    fn from(error: ProbeError) -> Self {
        Self::Document(error)
    }
}

impl From<crate::documents::intake::IntakeError> for ApiError {
    fn from(error: crate::documents::intake::IntakeError) -> Self {
        use crate::documents::intake::IntakeError;
        match error {
            IntakeError::UnknownVendorId(_) => Self::NotFound,
            IntakeError::Refused(refusal) => refusal.into(),
            IntakeError::Artefact(artefact) => artefact.into(),
            IntakeError::Store(store) => store.into(),
            IntakeError::Probe(reason) => Self::Internal(anyhow::anyhow!(reason)),
            client @ (IntakeError::Empty
            | IntakeError::NoVendor
            | IntakeError::VendorNameTooLong
            | IntakeError::LlmUnavailable
            | IntakeError::LlmNotForProcessor(_)) => {
                Self::BadRequest(client.to_string())
            }
        }
    }
}

impl From<crate::documents::ArtefactError> for ApiError {
    fn from(error: crate::documents::ArtefactError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            tracing::warn!(error = %error, "database unavailable");
            Self::Unavailable { retry_after: STORAGE_RETRY_AFTER }
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<SemanticError> for ApiError {
    fn from(error: SemanticError) -> Self {
        match error {
            SemanticError::Store(store) => store.into(),
            SemanticError::Model(reason) => Self::Internal(anyhow::anyhow!(reason)),
            refusal => Self::Semantic(refusal),
        }
    }
}

impl From<ExtractionError> for ApiError {
    fn from(error: ExtractionError) -> Self {
        match error {
            ExtractionError::UnknownChat => Self::NotFound,
            ExtractionError::Busy => Self::Conflict("another extraction of this chat is running; retry shortly".into()),
            ExtractionError::Store(store) => store.into(),
            ExtractionError::Worker(reason) => Self::Internal(anyhow::anyhow!(reason)),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::BadRequest(message) => Self::BadRequest(message),
            SearchError::Store(store) => store.into(),
            SearchError::Retriever(reason) => Self::Internal(anyhow::anyhow!(reason)),
            SearchError::NotConfigured => Self::Semantic(SemanticError::NotConfigured),
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
        assert_eq!(ApiError::from(IngestError::InvalidToken).to_string(), "invalid ingest token");
        assert_eq!(ApiError::from(IngestError::InvalidSignature).to_string(), "invalid signature");
        assert_eq!(ApiError::from(IngestError::IpNotAllowed).to_string(), "ip not allowed");
        let limited = ApiError::from(IngestError::RateLimited(RateDecision::denied_for_tests()));
        assert_eq!((limited.to_string().as_str(), limited.code()), ("ingest rate limit exceeded", "rate_limited"));
    }

    #[test]
    fn statuses_match_the_contract() {
        let cases = [
            (ApiError::from(IngestError::InvalidToken), 401),
            (IngestError::InvalidSignature.into(), 403),
            (IngestError::Stale(300).into(), 403),
            (IngestError::Future(300).into(), 403),
            (IngestError::MalformedTimestamp.into(), 403),
            (IngestError::InvalidWebhookSignature.into(), 403),
            (IngestError::WebhookStale(300).into(), 403),
            (IngestError::WebhookFuture(300).into(), 403),
            (IngestError::WebhookMalformedTimestamp.into(), 403),
            (IngestError::IpNotAllowed.into(), 403),
            (IngestError::RateLimited(RateDecision::denied_for_tests()).into(), 429),
            (IngestError::TokenRateLimited(RateDecision::denied_for_tests()).into(), 429),
            (IngestError::TooLarge(1).into(), 413),
            (IngestError::TooManyMessages { count: 2, max: 1 }.into(), 413),
            (IngestError::MalformedJson("x".into()).into(), 400),
            (IngestError::BodyRead("x".into()).into(), 400),
            (IngestError::Schema { path: "a".into(), detail: "b".into() }.into(), 422),
            (IngestError::UnsupportedMediaType.into(), 415),
            (IngestError::BodyTimeout.into(), 408),
            (IngestError::Storage(StoreError::WriterStopped).into(), 503),
            (IngestError::Storage(StoreError::Failed("x".into())).into(), 500),
            (ApiError::PayloadTooLarge(1), 413),
            (ApiError::MalformedJson("x".into()), 400),
            (ApiError::InvalidPayload { path: "a".into(), detail: "b".into() }, 422),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::Unavailable { retry_after: Duration::from_secs(1) }, 503),
            (MetaError::VerificationRefused.into(), 403),
            (MetaError::InvalidSignature.into(), 403),
            (MetaError::Ingest(IngestError::MalformedJson("x".into())).into(), 400),
            (MetaError::Ingest(IngestError::TooLarge(1)).into(), 413),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn generic_and_ingest_errors_share_codes() {
        let pairs = [
            (ApiError::from(IngestError::TooLarge(1)), ApiError::PayloadTooLarge(1)),
            (IngestError::MalformedJson("x".into()).into(), ApiError::MalformedJson("x".into())),
            (IngestError::Schema { path: "a".into(), detail: "b".into() }.into(), ApiError::InvalidPayload { path: "a".into(), detail: "b".into() }),
            (IngestError::UnsupportedMediaType.into(), ApiError::UnsupportedMediaType),
        ];
        for (ingest, generic) in pairs {
            assert_eq!((ingest.code(), ingest.to_string()), (generic.code(), generic.to_string()));
            assert_eq!(ingest.status_code(), generic.status_code());
        }
    }
}
