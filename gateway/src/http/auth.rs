//! Who may call the non-ingest routes. Admin routes need `ADMIN_TOKEN`, as a
//! bearer token or as the password of HTTP basic auth (any user name, so a
//! browser's login prompt works); without it set they answer 404.
//! Diagnostics accept the admin token or an ingest token, so the harness can
//! read them with the credentials it already has. Form posts must come from
//! the gateway's own pages (same origin), which stops cross-site requests
//! riding on a browser's remembered basic-auth credentials.

use actix_web::{HttpRequest, http::header};
use base64::Engine;

use super::errors::ApiError;
use crate::{app::AppState, ingest::IngestError};

fn presented_admin_secret(request: &HttpRequest) -> Option<Vec<u8>> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(credentials.trim().as_bytes().to_vec()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD.decode(credentials.trim()).ok()?;
            let colon = decoded.iter().position(|b| *b == b':')?;
            Some(decoded[colon + 1..].to_vec())
        }
        _ => None,
    }
}

pub fn require_admin(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let Some(admin) = &state.admin_tokens else { return Err(ApiError::NotFound) };
    if admin.accepts(presented_admin_secret(request).as_deref()) { Ok(()) } else { Err(ApiError::AdminUnauthorized) }
}

pub fn require_operator(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let ingest_token = request.headers().get("x-ingest-token").map(|v| v.as_bytes());
    if ingest_token.is_some() && state.ingest.token_accepted(ingest_token) {
        return Ok(());
    }
    let bearer = presented_admin_secret(request);
    if let Some(admin) = &state.admin_tokens
        && admin.accepts(bearer.as_deref())
    {
        return Ok(());
    }
    if state.ingest.token_accepted(bearer.as_deref()) {
        return Ok(());
    }
    Err(ApiError::Ingest(IngestError::InvalidToken))
}

/// A state-changing form post must not come from another site.
pub fn require_same_origin(request: &HttpRequest) -> Result<(), ApiError> {
    let host = request.connection_info().host().to_owned();
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .or_else(|| request.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match origin {
        None => Ok(()),
        Some(origin) => {
            let authority = origin.split("://").nth(1).unwrap_or(origin).split('/').next().unwrap_or_default();
            if authority.eq_ignore_ascii_case(&host) { Ok(()) } else { Err(ApiError::CrossSiteRequest) }
        }
    }
}
