//! `POST /integrations/whatsapp/chats/{chat_id}/extract-latest[?full=true]`:
//! runs extraction for a chat now, authenticated with the ingest token, and
//! returns what it made.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{auth, errors::ApiError};
use crate::{
    extraction::Mode,
    app::AppState,
    store::market,
    time::now_ms,
};

#[derive(Deserialize)]
pub struct ExtractQuery {
    #[serde(default)]
    full: bool,
}

/// Most offers listed in the answer; the counts cover all of them.
const OFFERS_LISTED: i64 = 500;

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
    let offers = market::offers_written_since(&state.store.db, &chat_id, started, OFFERS_LISTED).await?;
    Ok(HttpResponse::Ok().json(json!({ "report": report, "offers": offers })))
}
