//! Visual search (issue 15): `POST /search/image` (a multipart `file`, or JSON `{"image_url"}`
//! fetched through the chain's fetch fence) finds the products whose image looks most like the
//! query image, comparing image vectors with image vectors; `GET /products/{product_id}/similar`
//! gives a product's neighbours (the 0.6/0.4 image+text hybrid by default, or `space=image|text`).
//! Both need the read or admin token and answer 503 `no embedding model configured` without one.
//! Asked for as HTML (the search page's upload form and "more like this" links), both answer
//! with the search page (`search_page::visual`), refusals included.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::{Deserialize, Serialize};

use super::body::read_capped;
use super::errors::{ApiError, ErrorBody};
use super::openapi::ReadErrors;
use super::{auth, search_page, views::layout};
use crate::app::AppState;
use crate::ingest::IngestError;
use crate::parse::{multipart, product_id::is_product_id};
use crate::semantic::{ListingRef, SemanticError, SpaceKind, rows};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
/// Room for the multipart framing around the image.
const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// A JSON `{"image_url"}` body is small.
const JSON_CAP: usize = 16 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimilarHit {
    /// Always `product` here.
    pub kind: &'static str,
    pub id: String,
    pub title: Option<String>,
    /// Our persisted copy when there is one, else the source image.
    pub image_url: Option<String>,
    /// Cosine similarity of the vectors compared (1 is identical).
    pub score: f32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimilarResults {
    pub results: Vec<SimilarHit>,
    /// `visual` (image vectors), `hybrid` (image+text) or `semantic` (text).
    pub mode: &'static str,
    pub took_ms: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ImageUrlQuery {
    /// An http(s) URL, fetched under `MEDIA_MAX_IMAGE_BYTES` through the fetch fence.
    pub image_url: String,
}

/// The multipart form of `POST /search/image`.
#[derive(Debug, utoipa::ToSchema)]
pub struct ImageUpload {
    /// The image (JPEG, PNG, WebP or GIF), at most `MEDIA_MAX_IMAGE_BYTES`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// At most 100 (default 20); larger values are capped.
    pub limit: Option<usize>,
    /// `hybrid` (default), `image` or `text`.
    pub space: Option<String>,
}

/// Products for the hits, in rank order, inactive ones dropped, at most `limit`.
async fn cards(state: &AppState, hits: Vec<(ListingRef, f32)>, limit: usize) -> Result<Vec<SimilarHit>, ApiError> {
    let ids: Vec<String> = hits.iter().map(|(l, _)| l.id.clone()).collect();
    let found = rows::product_cards(&state.store.db, &ids).await?;
    Ok(hits
        .into_iter()
        .filter_map(|(listing, score)| {
            let card = found.iter().find(|c| c.product_id == listing.id && c.active)?;
            Some(SimilarHit { kind: "product", id: listing.id, title: card.title.clone(), image_url: card.image_url.clone(), score })
        })
        .take(limit)
        .collect())
}

fn capped(limit: Option<usize>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Over-fetch, so that dropping inactive products still fills the page.
fn fetch_k(limit: usize) -> usize {
    limit * 2 + 10
}

#[utoipa::path(
    post, path = "/search/image", tag = "read", summary = "Products that look like an image",
    request_body(content(
        (ImageUpload = "multipart/form-data"), (ImageUrlQuery = "application/json"),
    ), description = "A multipart form with the image in `file`, or JSON `{\"image_url\"}`"),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Products, most similar first (the search page with `Accept: text/html`)", content((SimilarResults = "application/json"), (String = "text/html"))),
        (status = 403, description = "Basic credentials from another origin (a browser posts from the gateway's own pages only)", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 413, description = "The image is over MEDIA_MAX_IMAGE_BYTES", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 415, description = "Neither multipart/form-data nor JSON", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 502, description = "The image_url could not be fetched", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 503, description = "No embedding model configured", content((ErrorBody = "application/json"), (String = "text/html"))),
        ReadErrors,
    ),
)]
pub async fn search_image(request: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let html = layout::wants_html(&request);
    let answer = image_results(&request, payload, &state).await;
    if html {
        return Ok(search_page::visual(&state, "Products that look like your image", answer));
    }
    Ok(HttpResponse::Ok().json(answer?))
}

async fn image_results(request: &HttpRequest, payload: web::Payload, state: &AppState) -> Result<SimilarResults, ApiError> {
    // A browser signed in with basic credentials would send them along with a cross-site
    // page's form too, and `image_url` makes the gateway fetch: only its own pages may post.
    auth::require_same_origin(request, state)?;
    let started = Instant::now();
    let index = &state.semantic;
    let max_bytes = index.max_image_bytes().ok_or(SemanticError::NotConfigured)?;
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = if let Some(boundary) = multipart::boundary(&content_type) {
        let body = read_capped(request, payload, max_bytes + MULTIPART_OVERHEAD).await.map_err(|error| match error {
            IngestError::TooLarge(_) => ApiError::from(SemanticError::ImageTooLarge { limit: max_bytes }),
            other => ApiError::BadRequest(other.to_string()),
        })?;
        let parts = multipart::parts(&body, &boundary).ok_or_else(|| ApiError::BadRequest("the multipart body is malformed".into()))?;
        let file = parts
            .iter()
            .find(|p| p.name.as_deref() == Some("file"))
            .ok_or_else(|| ApiError::BadRequest("the multipart form has no `file` part".into()))?;
        if file.body.len() > max_bytes {
            return Err(SemanticError::ImageTooLarge { limit: max_bytes }.into());
        }
        body.slice_ref(file.body)
    } else if content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")) {
        let body = read_capped(request, payload, JSON_CAP).await.map_err(|error| match error {
            IngestError::TooLarge(_) => ApiError::PayloadTooLarge(JSON_CAP),
            other => ApiError::BadRequest(other.to_string()),
        })?;
        let query: ImageUrlQuery = serde_json::from_slice(&body).map_err(|e| ApiError::InvalidPayload { path: "$.image_url".into(), detail: e.to_string() })?;
        index.fetch_image(query.image_url.trim()).await?
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    if bytes.is_empty() {
        return Err(SemanticError::UndecodableImage("the file is empty".into()).into());
    }
    let limit = DEFAULT_LIMIT;
    let keep = |l: &ListingRef| l.kind == crate::semantic::ListingKind::Product;
    let hits = index.query_image(bytes, fetch_k(limit), &keep).await?;
    let results = cards(state, hits, limit).await?;
    Ok(SimilarResults { results, mode: "visual", took_ms: started.elapsed().as_millis() as u64 })
}

#[utoipa::path(
    get, path = "/products/{product_id}/similar", tag = "read", summary = "Products most like this one",
    params(("product_id" = String, Path, description = "The 16-digit WhatsApp product id", example = "1234567890123456"), SimilarQuery),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Neighbours, most similar first (the search page with `Accept: text/html`)", content((SimilarResults = "application/json"), (String = "text/html"))),
        (status = 404, description = "No such product", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 409, description = "The product has no embedding yet", content((ErrorBody = "application/json"), (String = "text/html"))),
        (status = 503, description = "No embedding model configured", content((ErrorBody = "application/json"), (String = "text/html"))),
        ReadErrors,
    ),
)]
pub async fn similar(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<SimilarQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let product_id = path.into_inner();
    let answer = similar_results(&product_id, &query, &state).await;
    if layout::wants_html(&request) {
        let heading = match crate::store::products::get(&state.store.db, &product_id).await.ok().flatten().and_then(|p| p.name) {
            Some(name) => format!("More like {name}"),
            None => format!("More like product {product_id}"),
        };
        return Ok(search_page::visual(&state, &heading, answer));
    }
    Ok(HttpResponse::Ok().json(answer?))
}

async fn similar_results(product_id: &str, query: &SimilarQuery, state: &AppState) -> Result<SimilarResults, ApiError> {
    let started = Instant::now();
    let (space, mode) = match query.space.as_deref().map(str::trim).unwrap_or("hybrid") {
        "" | "hybrid" => (SpaceKind::Hybrid, "hybrid"),
        "image" => (SpaceKind::Image, "visual"),
        "text" => (SpaceKind::Text, "semantic"),
        _ => return Err(ApiError::BadRequest("space must be hybrid, image or text".into())),
    };
    let index = &state.semantic;
    if space == SpaceKind::Text && !index.text_enabled() || space != SpaceKind::Text && !index.image_enabled() {
        return Err(SemanticError::NotConfigured.into());
    }
    if !is_product_id(product_id) {
        return Err(ApiError::NotFound);
    }
    let limit = capped(query.limit);
    let keep = |l: &ListingRef| l.kind == crate::semantic::ListingKind::Product;
    let hits = index.similar_to(product_id, space, fetch_k(limit), &keep).await?;
    let results = cards(state, hits, limit).await?;
    Ok(SimilarResults { results, mode, took_ms: started.elapsed().as_millis() as u64 })
}
