//! `GET /images/{key}`: the local image store (`IMAGE_STORE=local`), read-only. Keys go through
//! [`crate::pipeline::persist::local::resolve_in`], so a request can only reach files under
//! `IMAGE_DIR`; anything else, and every request when images live in S3, is a 404.

use actix_web::{HttpResponse, http::header, web};

use super::errors::ApiError;
use crate::pipeline::media::ImageStoreSettings;
use crate::pipeline::persist::{content_type_for, local::resolve_in};
use crate::startup::AppState;

pub async fn serve(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let ImageStoreSettings::Local { dir } = &state.config.media.image_store else {
        return Err(ApiError::NotFound);
    };
    let path = resolve_in(dir, &key).ok_or(ApiError::NotFound)?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(error) if matches!(error.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) => {
            return Err(ApiError::NotFound);
        }
        Err(error) => return Err(ApiError::Internal(anyhow::Error::new(error).context("reading a stored image"))),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type_for(&key)))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(bytes))
}
