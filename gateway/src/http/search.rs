//! `GET /search`: full-text and semantic search over offers and products, with filters and cursor pages
//! (the `search` layer does the work; this adapts the query string and maps its errors).
//! Asked for as HTML it is the search page (`search_page`), where an empty query shows the form.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{errors::ApiError, openapi::ReadPageErrors, search_page, views::{layout, search::SearchForm}};
use crate::{app::AppState, search::SearchAnswer};

/// The query string, taken as text: the search layer checks each value and says what is wrong.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for; typos and partial words match (`iphon 13`, `samsng a14`).
    #[param(example = "iphone 13 256gb")]
    q: Option<String>,
    /// `offer`, `product` or `all` (default).
    #[param(value_type = Option<String>, example = "all")]
    kind: Option<String>,
    /// A vendor id, or a vendor name (any case).
    vendor: Option<String>,
    /// ISO 4217, such as `KES`, `NGN`, `USD`.
    currency: Option<String>,
    /// Lowest price, an exact decimal (a product's price is its newest linking offer's).
    #[param(value_type = Option<String>, example = "10000")]
    price_min: Option<String>,
    /// Highest price; must not be below `price_min`.
    #[param(value_type = Option<String>, example = "50000")]
    price_max: Option<String>,
    /// `new`, `ex_uk`, `refurbished` or `used`.
    condition: Option<String>,
    /// `true` (default): active products only; `false`: inactive ones too.
    #[param(value_type = Option<bool>)]
    active: Option<String>,
    /// Page size, default 20; above 100 is capped to 100.
    #[param(value_type = Option<i64>, minimum = 1)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Which retrievers to ask: `text`, `semantic` (MiniLM vectors) or `hybrid` (both, fused by
    /// reciprocal rank fusion). Default: every one configured, so `hybrid` when
    /// `SEARCH_TEXT_MODEL_DIR` is set. `semantic` and `hybrid` answer 503 without the model.
    #[param(value_type = Option<String>, example = "hybrid")]
    mode: Option<String>,
}

impl From<SearchParams> for SearchForm {
    fn from(p: SearchParams) -> Self {
        Self {
            q: p.q,
            kind: p.kind,
            vendor: p.vendor,
            currency: p.currency,
            price_min: p.price_min,
            price_max: p.price_max,
            condition: p.condition,
            active: p.active,
            limit: p.limit,
            cursor: p.cursor,
            mode: p.mode,
        }
    }
}

#[utoipa::path(
    get, path = "/search", tag = "read", summary = "Full-text and semantic search over offers and products (the search page with `Accept: text/html`)",
    params(SearchParams),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "One page of results, best first (a page: also the form alone for an empty query)", content((SearchAnswer = "application/json"), (String = "text/html"))),
        ReadPageErrors,
    ),
)]
pub async fn search(
    request: HttpRequest,
    query: web::Query<SearchParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = SearchForm::from(query.into_inner());
    if layout::wants_html(&request) {
        return Ok(search_page::search(&state, form).await);
    }
    let answer = state.search.search(search_page::raw(&form)).await?;
    Ok(HttpResponse::Ok().json(answer))
}
