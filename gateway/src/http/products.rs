//! Read APIs over the product chain's results: `GET /products?seller=&active=&qc=&limit=&cursor=`
//! and `GET /products/{product_id}`, which shows both image URLs, the one to display (our
//! persisted copy when there is one), the QC decision, whether an embedding exists, and the
//! product's recent catalog-sync events.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{
    errors::{ApiError, ErrorBody},
    openapi::ReadErrors,
    ops::rfc3339,
    views::{layout, products as pages},
};
use crate::{
    parse::product_id::is_product_id,
    app::AppState,
    domain::Product,
    store::{admin_lists, products::{self, ProductFilter}, sync_log},
    time::now_ms,
};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;
const EVENTS_SHOWN: i64 = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub product_id: String,
    pub seller_phone: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The Meta CDN URL the product page gave.
    pub image_url: Option<String>,
    /// Our own copy, once an approved image was persisted.
    pub persisted_image_url: Option<String>,
    /// The persisted copy when present, else the CDN URL.
    pub display_image_url: Option<String>,
    /// False when hydrate found the page gone, or the seller's catalog no longer lists it.
    pub active: bool,
    /// When a catalog re-scout found the product no longer listed; null while it is listed.
    pub delisted_at: Option<String>,
    pub hydrate_status: Option<String>,
    pub last_hydrated_at: Option<String>,
    pub qc: QcView,
    pub has_embedding: bool,
    pub semantic_hash: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QcView {
    pub decision: Option<String>,
    pub confidence: Option<f64>,
    pub reason: Option<String>,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        Self {
            display_image_url: p.persisted_image_url.clone().or_else(|| p.image_url.clone()),
            has_embedding: p.last_embedding_hash.is_some(),
            product_id: p.product_id,
            seller_phone: p.seller_phone,
            name: p.name,
            description: p.description,
            image_url: p.image_url,
            persisted_image_url: p.persisted_image_url,
            active: p.active != 0,
            delisted_at: p.delisted_at_ms.map(rfc3339),
            hydrate_status: p.hydrate_status,
            last_hydrated_at: p.last_hydrated_at_ms.map(rfc3339),
            qc: QcView { decision: p.qc_decision, confidence: p.qc_confidence, reason: p.qc_reason },
            semantic_hash: p.semantic_hash,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductsQuery {
    /// The seller's phone number, with or without `+`.
    seller: Option<String>,
    /// `true` or `false` (also `1`/`0`, `yes`/`no`).
    active: Option<String>,
    /// `approved`, `rejected` or `flagged`.
    qc: Option<String>,
    /// Text in the product's name or description (case-insensitive).
    q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (a product id).
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductsPage {
    pub products: Vec<ProductView>,
    /// Present when the page is full: pass it as `cursor` for the next one.
    pub next_cursor: Option<String>,
}

/// One catalog-sync event of a product.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SyncEventView {
    pub event_type: String,
    pub status_code: Option<i32>,
    pub error_message: Option<String>,
    /// The event's details as recorded (any JSON), or null.
    pub details: serde_json::Value,
    pub at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductDetail {
    pub product: ProductView,
    /// The most recent events, newest first.
    pub events: Vec<SyncEventView>,
}

fn parse_active(raw: &str) -> Result<bool, ApiError> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ApiError::BadRequest("active must be true or false".into())),
    }
}

/// Sellers are stored in E.164; `254712345678` and `+254712345678` both match.
fn normalise_seller(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with('+') { raw.to_owned() } else { format!("+{raw}") }
}

#[utoipa::path(
    get, path = "/products", tag = "read", summary = "Hydrated products, filtered and paged (HTML with `Accept: text/html`)",
    params(ProductsQuery),
    security(("read_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "A page of products", content((ProductsPage = "application/json"), (String = "text/html"))), ReadErrors),
)]
pub async fn list(
    request: HttpRequest,
    query: web::Query<ProductsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = query.into_inner();
    let html = layout::wants_html(&request);
    if html {
        // A filter form sends its empty fields; for a page they mean "any".
        query.active = query.active.filter(|a| !a.trim().is_empty());
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let qc = query.qc.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_ascii_lowercase);
    if let Some(q) = &qc
        && !matches!(q.as_str(), "approved" | "rejected" | "flagged")
    {
        return Err(ApiError::BadRequest("qc must be approved, rejected or flagged".into()));
    }
    let cursor = query.cursor.filter(|c| !c.is_empty());
    if cursor.as_deref().is_some_and(|c| !is_product_id(c)) {
        return Err(ApiError::BadRequest("cursor is not one this API handed out".into()));
    }
    let paged = cursor.is_some();
    let filter = ProductFilter {
        seller_phone: query.seller.as_deref().filter(|s| !s.trim().is_empty()).map(normalise_seller),
        active: query.active.as_deref().map(parse_active).transpose()?,
        qc_decision: qc.clone(),
        text_pattern: query.q.as_deref().and_then(admin_lists::like_pattern),
        cursor,
        limit,
    };
    let rows = products::list(&state.store.db, &filter).await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|p| p.product_id.clone()))
        .flatten();
    let hydrated_ms: Vec<Option<i64>> = rows.iter().map(|p| p.last_hydrated_at_ms).collect();
    let products: Vec<ProductView> = rows.into_iter().map(ProductView::from).collect();
    if !html {
        return Ok(HttpResponse::Ok().json(ProductsPage {
            products,
            next_cursor,
        }));
    }
    let filters = pages::ProductFilters {
        q: query.q.filter(|q| !q.trim().is_empty()),
        seller: query.seller.filter(|s| !s.trim().is_empty()),
        active: query.active,
        qc,
        paged,
    };
    Ok(layout::ok_with_images(pages::products_page(&pages::ProductsView {
        products: &products,
        hydrated_ms: &hydrated_ms,
        filters: &filters,
        next_cursor: next_cursor.as_deref(),
        zone: state.console.time_zone,
        now_ms: now_ms(),
    })))
}

#[utoipa::path(
    get, path = "/products/{product_id}", tag = "read", summary = "One product with its QC decision and sync events",
    params(("product_id" = String, Path, description = "The 16-digit WhatsApp product id", example = "1234567890123456")),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The product", body = ProductDetail),
        (status = 404, description = "No such product", body = ErrorBody),
        ReadErrors,
    ),
)]
pub async fn detail(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let product_id = path.into_inner();
    if !is_product_id(&product_id) {
        return Err(ApiError::NotFound);
    }
    let db = &state.store.db;
    let product = products::get(db, &product_id).await?.ok_or(ApiError::NotFound)?;
    let events = sync_log::for_product(db, &product_id, EVENTS_SHOWN).await?;
    let events: Vec<SyncEventView> = events
        .into_iter()
        .map(|e| SyncEventView {
            event_type: e.event_type,
            status_code: e.status_code,
            error_message: e.error_message,
            details: serde_json::from_str::<serde_json::Value>(&e.details).unwrap_or(serde_json::Value::Null),
            at: rfc3339(e.created_at_ms),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ProductDetail { product: ProductView::from(product), events }))
}
