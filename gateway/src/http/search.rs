//! `GET /search`: full-text and semantic search over offers and products, with filters and cursor pages
//! (the `search` layer does the work; this adapts the query string and maps its errors).
//! Asked for as HTML it is the search page (`search_page`), where an empty query shows the form.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{errors::ApiError, openapi::ReadPageErrors, search_page, views::layout};
use crate::{app::AppState, search::{RawSearch, SearchAnswer}};

#[utoipa::path(
    get, path = "/search", tag = "read", summary = "Full-text and semantic search over offers and products (the search page with `Accept: text/html`)",
    params(RawSearch),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "One page of results, best first (a page: also the form alone for an empty query)", content((SearchAnswer = "application/json"), (String = "text/html"))),
        ReadPageErrors,
    ),
)]
pub async fn search(
    request: HttpRequest,
    query: web::Query<RawSearch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = query.into_inner();
    if layout::wants_html(&request) {
        return Ok(search_page::search(&state, form).await);
    }
    let answer = state.search.search(form.clone()).await?;
    Ok(HttpResponse::Ok().json(answer))
}
