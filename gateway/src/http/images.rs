//! `GET /images/{key}`: the local image store (`IMAGE_STORE=local`), read-only, through
//! [`ServedImages`](crate::pipeline::ServedImages), so a request can only reach files under
//! `IMAGE_DIR`; anything else, and every request when images live in S3, is a 404.

use actix_web::{HttpResponse, http::header, web};

use super::errors::{ApiError, ErrorBody};
use crate::app::AppState;

#[utoipa::path(
    get, path = "/images/{key}", tag = "read", summary = "A persisted product image (IMAGE_STORE=local)",
    params(("key" = String, Path, description = "The image's key under IMAGE_DIR")),
    responses(
        (status = 200, description = "The image", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif"),
        )),
        (status = 404, description = "No such image, or images live in S3", body = ErrorBody),
        (status = 500, description = "The image could not be read", body = ErrorBody),
    ),
)]
pub async fn serve(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let image = state
        .images
        .read(&key)
        .await
        .map_err(|error| ApiError::Internal(anyhow::Error::new(error).context("reading a stored image")))?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, image.content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(image.bytes))
}
