//! `GET` and `POST /integrations/whatsapp/meta`: the WhatsApp Cloud API's
//! webhook. Adapts the actix request (query, `X-Hub-Signature-256`, the body
//! read under the ingest cap) to [`crate::ingest::meta::MetaReceiver`], and
//! answers 404 when `META_APP_SECRET` is unset.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{body, errors::ApiError, openapi::MetaErrors, request_context::RequestId};
use crate::{
    app::AppState,
    ingest::meta::{MetaReceiver, MetaResponse},
};

/// The handshake's query, as Meta sends it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Subscription {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

fn receiver(state: &AppState) -> Result<&MetaReceiver, ApiError> {
    state.meta.as_ref().ok_or(ApiError::NotFound)
}

/// The subscription handshake: the challenge as plain text, or 403.
#[utoipa::path(
    get, path = "/integrations/whatsapp/meta", tag = "ingest",
    summary = "WhatsApp Cloud API: the webhook subscription handshake",
    description = "Answers `hub.challenge` as plain text when `hub.mode` is `subscribe` and `hub.verify_token` \
        matches `META_VERIFY_TOKEN`. 404 when `META_APP_SECRET` is not set.",
    params(Subscription),
    responses(
        (status = 200, description = "The challenge, echoed", content_type = "text/plain", body = String),
        MetaErrors,
    ),
)]
pub async fn verify(query: web::Query<Subscription>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let challenge = receiver(&state)?.confirm_subscription(
        query.mode.as_deref(),
        query.verify_token.as_deref(),
        query.challenge.as_deref(),
    )?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(challenge.to_owned()))
}

/// One notification: the seed ingest's counters, plus `statuses` and `skipped`.
#[utoipa::path(
    post, path = "/integrations/whatsapp/meta", tag = "ingest",
    summary = "WhatsApp Cloud API: one webhook notification",
    description = "Verified by `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with an app secret). Each \
        `messages[]` item is stored like a collector's message; `statuses[]` and messages with nothing to \
        extract are counted, not stored. A redelivery stores nothing. 404 when `META_APP_SECRET` is not set.",
    request_body(content = Object, content_type = "application/json", description = "Meta's webhook notification (`object`, `entry[].changes[].value`)"),
    security(("meta_signature" = [])),
    responses(
        (status = 200, description = "Stored; one status per message", body = MetaResponse),
        MetaErrors,
    ),
)]
pub async fn receive(request: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let meta = receiver(&state)?;
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let signature = request.headers().get("x-hub-signature-256").and_then(|value| value.to_str().ok());
    let body = body::read_capped(&request, payload, state.ingest.max_body_bytes());
    let answer = meta.receive(signature, body, &state.ingest, &state.store, &request_id).await?;
    tracing::debug!(created = answer.ingest.created, deduped = answer.ingest.deduped, statuses = answer.statuses, "Meta notification stored");
    if answer.ingest.created > 0 {
        // New due times: let the scheduler look again.
        state.extraction.wake.notify_one();
    }
    Ok(HttpResponse::Ok().json(answer))
}
