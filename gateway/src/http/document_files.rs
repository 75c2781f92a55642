//! The files around vendor documents: `GET /documents/{id}/file` gives an upload's bytes back
//! from the document store, and `GET /documents/templates/vendor-price` is the `.xlsx` template
//! with the standard headers (seed 002) and two example rows.

use actix_web::{HttpResponse, http::header, web};

use super::errors::{ApiError, ErrorBody};
use super::openapi::ReadErrors;
use crate::{app::AppState, documents::template, store::documents as stored};

#[utoipa::path(
    get, path = "/documents/{id}/file", tag = "read", summary = "The uploaded file of a vendor document",
    params(("id" = i64, Path, description = "The document id")),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The bytes as uploaded, with the media type stored with the document", content(
            (Vec<u8> = "text/csv"), (Vec<u8> = "text/tab-separated-values"), (Vec<u8> = "text/plain"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.ms-excel"), (Vec<u8> = "application/vnd.oasis.opendocument.spreadsheet"),
            (Vec<u8> = "application/zip"), (Vec<u8> = "application/pdf"),
            (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/tiff"),
        )),
        (status = 404, description = "No such document, or its file is not kept (an upload from before the document store)", body = ErrorBody),
        ReadErrors,
    ),
)]
pub async fn file(path: web::Path<i64>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let record = stored::get(&state.store.db, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    let key = record.storage_key.as_deref().ok_or(ApiError::NotFound)?;
    let bytes = state.artefacts.get(key).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(record.media_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, attachment(&record.file_name)))
        .insert_header(header::CacheControl(vec![header::CacheDirective::Private]))
        .body(bytes))
}

/// `attachment; filename="…"` with only safe characters (the name is the client's).
fn attachment(file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(120)
        .collect();
    let safe = if safe.trim().is_empty() { "document".to_owned() } else { safe };
    format!("attachment; filename=\"{safe}\"")
}

#[utoipa::path(
    get, path = "/documents/templates/vendor-price", tag = "read", summary = "The price-list template (.xlsx)",
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "A workbook with the standard headers and two example rows",
         content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        ReadErrors,
    ),
)]
pub async fn vendor_price_template(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let bytes = template::vendor_price(&state.documents.default_currency)
        .map_err(|error| ApiError::Internal(error.into()))?;
    Ok(HttpResponse::Ok()
        .content_type(template::MEDIA_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, attachment(template::FILE_NAME)))
        .body(bytes))
}
