//! `POST /integrations/whatsapp/ingest`: adapts the actix request to the
//! ingest service (headers, peer, the capped body) and its answer back to
//! HTTP, including the status of every refusal.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, http::header::HeaderMap, web};

use super::{
    body,
    errors::{ApiError, ingest_status, rate_limit_headers},
    openapi::IngestErrors,
    request_context::RequestId,
};
use crate::{
    app::AppState,
    ingest::{IngestRequest, IngestResponse, RequestHeaders, schema::BatchPayload},
};

/// Header access for the ingest checks.
struct Headers<'a>(&'a HeaderMap);

impl RequestHeaders for Headers<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(|value| value.as_bytes())
    }
}

#[utoipa::path(
    post, path = "/integrations/whatsapp/ingest", tag = "ingest",
    summary = "Store a signed batch of WhatsApp messages",
    description = "Authenticated by an ingest token plus the HMAC signature (`X-Ingest-Token`, `X-Signature`, \
        `X-Signature-Timestamp`), or by a Standard Webhooks signature alone. Messages are deduplicated by \
        message id and content; each one answers `created` or `duplicate`.",
    params(
        ("X-Signature-Timestamp" = Option<String>, Header, description = "RFC 3339 or unix seconds; signed together with the body"),
        ("webhook-id" = Option<String>, Header, description = "Standard Webhooks: the delivery id (idempotency key)"),
        ("webhook-timestamp" = Option<String>, Header, description = "Standard Webhooks: unix seconds"),
    ),
    request_body(content = BatchPayload, content_type = "application/json"),
    security(("ingest_token" = [], "ingest_signature" = []), ("standard_webhooks" = [])),
    responses(
        (status = 200, description = "Stored; one status per message", body = IngestResponse, headers(
            ("X-RateLimit-Limit" = u32, description = "Burst size of the client's bucket"),
            ("X-RateLimit-Remaining" = u32, description = "Requests left in the bucket"),
            ("X-RateLimit-Reset" = u64, description = "Seconds until the bucket is full"),
        )),
        IngestErrors,
    ),
)]
pub async fn ingest(request: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let headers = Headers(request.headers());
    let meta = IngestRequest { headers: &headers, peer: request.peer_addr().map(|address| address.ip()) };
    let body = body::read_capped(&request, payload, state.ingest.max_body_bytes());
    let (body, limit) = match state.ingest.handle(meta, body, &state.store, &request_id).await {
        Ok(accepted) => accepted,
        Err(refusal) => {
            let status = ingest_status(&refusal.error).as_u16();
            return Err(state.ingest.record_refusal(refusal, status).into());
        }
    };
    tracing::debug!(accepted = body.accepted, created = body.created, deduped = body.deduped, "batch stored");
    if body.created > 0 {
        // New due times: let the scheduler look again.
        state.extraction.wake.notify_one();
    }
    let mut response = HttpResponse::Ok();
    for header in rate_limit_headers(&limit) {
        response.insert_header(header);
    }
    Ok(response.json(body))
}
