//! `/admin/documents` (issue 16, seed 002's operator page): the upload form and the list of
//! imports, and `/admin/documents/{id}` with a document's counts, file, offers and per-row
//! errors. Behind the admin token; `Accept: application/json` gets what `GET /documents` and
//! `GET /documents/{id}` answer.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::Deserialize;

use super::{
    admin::wants_json,
    documents::{self as json, DocumentView as JsonDocument},
    errors::ApiError,
    list_cursor,
    openapi::AdminErrors,
    views::{
        documents::{DocumentFilters, DocumentView, DocumentsView, Refused, document_page, documents_page},
        layout,
    },
};
use crate::{
    app::AppState,
    domain::{DocumentStatus, RowError},
    store::{
        documents::{self as stored, DocumentFilter, DocumentRecord},
        market,
    },
    time::now_ms,
};

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminDocumentsQuery {
    /// Only this vendor's documents.
    #[serde(default, deserialize_with = "list_cursor::empty_as_none")]
    #[param(value_type = Option<i64>)]
    vendor: Option<i64>,
    /// `queued`, `processing`, `done`, `failed` or `skipped` (empty: any).
    status: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

async fn vendor_names(state: &AppState) -> Result<HashMap<i64, String>, ApiError> {
    Ok(market::vendors(&state.store.db).await?.into_iter().map(|v| (v.id, v.name)).collect())
}

#[utoipa::path(
    get, path = "/admin/documents", tag = "admin", summary = "Vendor documents: upload form and list (HTML)",
    params(AdminDocumentsQuery),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "The page (or, with Accept: application/json, a page of documents)", content((json::DocumentPage = "application/json"), (String = "text/html"))), AdminErrors),
)]
pub async fn list(request: HttpRequest, query: web::Query<AdminDocumentsQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    if wants_json(&request) {
        let (documents, next_cursor) = page_of(&state, &query).await?;
        let documents = documents.into_iter().map(JsonDocument::from).collect();
        return Ok(HttpResponse::Ok().json(json::DocumentPage { documents, next_cursor }));
    }
    list_page(&state, &query, StatusCode::OK, None).await
}

/// The form's upload was refused (`POST /documents` from a browser): the page again, with `status`,
/// the reason above the form and the vendor as typed.
pub async fn refused_upload(state: &AppState, status: StatusCode, refused: Refused<'_>) -> Result<HttpResponse, ApiError> {
    list_page(state, &AdminDocumentsQuery::default(), status, Some(refused)).await
}

async fn page_of(state: &AppState, query: &AdminDocumentsQuery) -> Result<(Vec<DocumentRecord>, Option<String>), ApiError> {
    let status = match query.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(DocumentStatus::parse(raw).ok_or_else(|| {
            ApiError::BadRequest("status must be one of queued, processing, done, failed, skipped".into())
        })?),
    };
    let before_id = query.cursor.as_deref().filter(|c| !c.is_empty()).map(list_cursor::parse_document).transpose()?;
    let filter = DocumentFilter { vendor_id: query.vendor, status, before_id, limit: PAGE };
    let documents = stored::list(&state.store.db, &filter).await?;
    let next_cursor = (documents.len() as i64 == PAGE).then(|| documents.last().map(|d| list_cursor::document(d.id))).flatten();
    Ok((documents, next_cursor))
}

async fn list_page(
    state: &AppState,
    query: &AdminDocumentsQuery,
    code: StatusCode,
    refused: Option<Refused<'_>>,
) -> Result<HttpResponse, ApiError> {
    let (documents, next_cursor) = page_of(state, query).await?;
    let vendors = vendor_names(state).await?;
    let filters = DocumentFilters {
        vendor: query.vendor,
        status: query.status.as_deref().and_then(DocumentStatus::parse).map(|s| s.as_str().to_owned()),
        paged: query.cursor.as_deref().is_some_and(|c| !c.is_empty()),
    };
    Ok(layout::respond(
        code,
        documents_page(&DocumentsView {
            documents: &documents,
            vendors: &vendors,
            filters: &filters,
            next_cursor: next_cursor.as_deref(),
            zone: state.console.time_zone,
            now_ms: now_ms(),
            refused,
            llm: state.documents.llm.is_some(),
        }),
    ))
}

#[utoipa::path(
    get, path = "/admin/documents/{id}", tag = "admin", summary = "One vendor document with its per-row errors (HTML)",
    params(("id" = i64, Path, description = "The document id")),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The page (or, with Accept: application/json, the document)", content((JsonDocument = "application/json"), (String = "text/html"))),
        (status = 404, description = "No such document", body = super::errors::ErrorBody),
        AdminErrors,
    ),
)]
pub async fn detail(request: HttpRequest, path: web::Path<i64>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let document = stored::get(&state.store.db, path.into_inner()).await?.ok_or(ApiError::NotFound)?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(JsonDocument::from(document)));
    }
    let errors: Vec<RowError> = serde_json::from_str(&document.errors).unwrap_or_default();
    let vendors = vendor_names(&state).await?;
    let vendor = vendors.get(&document.vendor_id).map_or("(unknown vendor)", String::as_str);
    Ok(layout::ok(document_page(&DocumentView {
        document: &document,
        vendor,
        errors: &errors,
        zone: state.console.time_zone,
        now_ms: now_ms(),
    })))
}
