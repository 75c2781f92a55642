//! `POST /integrations/whatsapp/chats/{chat_id}/extract-latest[?full=true]`:
//! runs extraction for a chat now, authenticated with the ingest token, and
//! returns what it made.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{
    auth,
    errors::{ApiError, ErrorBody},
    openapi::StorageErrors,
};
use crate::{
    domain::Offer,
    extraction::{ExtractionReport, Mode},
    app::AppState,
    store::market,
    time::now_ms,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExtractQuery {
    /// Every message of the chat again, not only the new ones.
    #[serde(default)]
    full: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExtractAnswer {
    pub report: ExtractionReport,
    /// Offers written by this run (at most 500).
    pub offers: Vec<Offer>,
}

/// Most offers listed in the answer; the counts cover all of them.
const OFFERS_LISTED: i64 = 500;

#[utoipa::path(
    post, path = "/integrations/whatsapp/chats/{chat_id}/extract-latest", tag = "ingest",
    summary = "Extract a chat's offers now",
    params(("chat_id" = String, Path, description = "The chat id as stored", example = "120363000000000001@g.us"), ExtractQuery),
    security(("ingest_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "What extraction did and the offers it wrote", body = ExtractAnswer),
        (status = 401, description = "No ingest token and not the admin token", body = ErrorBody),
        (status = 404, description = "Unknown chat", body = ErrorBody),
        (status = 409, description = "Another extraction of this chat is running", body = ErrorBody),
        (status = 422, description = "A parameter of the wrong type", body = ErrorBody),
        StorageErrors,
    ),
)]
pub async fn extract_latest(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ExtractQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth::require_ingest_client_or_admin(&request, &state)?;
    let chat_id = path.into_inner();
    let mode = if query.full { Mode::Full } else { Mode::Latest };
    let started = now_ms();
    let report = state.extraction.extract_now(&chat_id, mode).await?;
    let mut offers = market::offers_written_since(&state.store.db, &chat_id, started, OFFERS_LISTED).await?;
    super::market::mask_senders_for(&request, &state, &mut offers);
    Ok(HttpResponse::Ok().json(ExtractAnswer { report, offers }))
}
