//! `POST /integrations/whatsapp/ingest`.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::{errors::ApiError, request_context::RequestId};
use crate::startup::AppState;

pub async fn ingest(request: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let (body, limit) = state.ingest.handle(&request, payload, &state.store, &request_id).await?;
    tracing::debug!(accepted = body.accepted, created = body.created, deduped = body.deduped, "batch stored");
    if body.created > 0 {
        // New due times: let the scheduler look again.
        state.extraction.wake.notify_one();
    }
    let mut response = HttpResponse::Ok();
    for header in limit.headers() {
        response.insert_header(header);
    }
    Ok(response.json(body))
}
