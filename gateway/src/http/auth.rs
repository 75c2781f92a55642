//! Who may call which route (the README's access table):
//! - reads of personal or vendor data (`/offers`, `/vendors`,
//!   `/price-history`, `/products`, the per-chat part of `/metrics/whatsapp`)
//!   need a read token (`API_READ_TOKEN`) or the admin token;
//! - diagnostics also take an ingest token, so the harness reads them with
//!   the credentials it already has;
//! - admin pages need `ADMIN_TOKEN` (without it they answer 404);
//! - `/metrics` needs `METRICS_TOKEN` when one is set.
//!
//! Tokens come as `Authorization: Bearer …` or as the password of HTTP basic
//! auth (any user name, so a browser's login prompt works). A state-changing
//! request that rides on basic credentials must carry an `Origin` or
//! `Referer` of this gateway's own origin: a browser remembers basic
//! credentials and would otherwise send them along with a cross-site form.
//! The origin is judged from `Host`, and from `X-Forwarded-Host` /
//! `X-Forwarded-Proto` only when the peer is a trusted proxy.

use actix_web::{HttpRequest, http::header};
use base64::Engine;

use super::errors::ApiError;
use crate::{app::AppState, ingest::auth::TokenVerifier};

/// A credential as presented.
enum Presented {
    Bearer(Vec<u8>),
    Basic(Vec<u8>),
}

impl Presented {
    fn secret(&self) -> &[u8] {
        match self {
            Self::Bearer(secret) | Self::Basic(secret) => secret,
        }
    }
}

fn presented(request: &HttpRequest) -> Option<Presented> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(Presented::Bearer(credentials.trim().as_bytes().to_vec())),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD.decode(credentials.trim()).ok()?;
            let colon = decoded.iter().position(|b| *b == b':')?;
            Some(Presented::Basic(decoded[colon + 1..].to_vec()))
        }
        _ => None,
    }
}

fn accepted_by(verifier: Option<&TokenVerifier>, presented: Option<&Presented>) -> bool {
    verifier.is_some_and(|v| v.accepts(presented.map(Presented::secret)))
}

/// Admin routes: the admin token, else 401 (404 when no admin token is configured).
pub fn require_admin(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let Some(admin) = &state.access.admin else { return Err(ApiError::NotFound) };
    if admin.accepts(presented(request).as_ref().map(Presented::secret)) { Ok(()) } else { Err(ApiError::AdminUnauthorized) }
}

/// Whether the request carries the admin token (admins see senders in full).
pub fn is_admin(request: &HttpRequest, state: &AppState) -> bool {
    accepted_by(state.access.admin.as_ref(), presented(request).as_ref())
}

/// Whether the request carries a read or admin token.
pub fn is_reader(request: &HttpRequest, state: &AppState) -> bool {
    let presented = presented(request);
    accepted_by(state.access.read.as_ref(), presented.as_ref()) || accepted_by(state.access.admin.as_ref(), presented.as_ref())
}

/// Routes that return personal or vendor data: a read or admin token.
pub fn require_reader(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if is_reader(request, state) { Ok(()) } else { Err(ApiError::Unauthorized("a read token (API_READ_TOKEN) or the admin token is required")) }
}

/// Diagnostics: an ingest token (`X-Ingest-Token` or bearer), a read token or the admin token.
pub fn require_operator(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if is_ingest_client(request, state) || is_reader(request, state) {
        return Ok(());
    }
    Err(ApiError::Unauthorized("an ingest token, a read token (API_READ_TOKEN) or the admin token is required"))
}

/// Extraction on demand: an ingest token or the admin token (read tokens only read).
pub fn require_ingest_client_or_admin(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if is_ingest_client(request, state) || accepted_by(state.access.admin.as_ref(), presented(request).as_ref()) {
        return Ok(());
    }
    Err(ApiError::Unauthorized("an ingest token or the admin token is required"))
}

/// An ingest token in `X-Ingest-Token` or as a bearer token.
pub fn is_ingest_client(request: &HttpRequest, state: &AppState) -> bool {
    let header_token = request.headers().get("x-ingest-token").map(|v| v.as_bytes());
    if header_token.is_some() && state.ingest.token_accepted(header_token) {
        return true;
    }
    matches!(presented(request), Some(Presented::Bearer(token)) if state.ingest.token_accepted(Some(&token)))
}

/// `/metrics`: anonymous unless `METRICS_TOKEN` is set; then that token (or the admin token) as bearer.
pub fn require_metrics_reader(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let Some(metrics) = &state.access.metrics else { return Ok(()) };
    let presented = presented(request);
    if accepted_by(Some(metrics), presented.as_ref()) || accepted_by(state.access.admin.as_ref(), presented.as_ref()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("the metrics token (METRICS_TOKEN) is required"))
    }
}

/// A state-changing request authenticated with basic credentials must come
/// from this gateway's own pages: its `Origin` (or `Referer`) must name this
/// origin, and one of them must be present. Bearer clients need neither.
pub fn require_same_origin(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    let Some(origin) = origin else {
        return match presented(request) {
            Some(Presented::Basic(_)) => Err(ApiError::CrossSiteRequest),
            _ => Ok(()),
        };
    };
    let (scheme, host) = own_origin(request, state);
    let Some((their_scheme, rest)) = origin.split_once("://") else { return Err(ApiError::CrossSiteRequest) };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if their_scheme.eq_ignore_ascii_case(&scheme) && authority.eq_ignore_ascii_case(&host) {
        Ok(())
    } else {
        Err(ApiError::CrossSiteRequest)
    }
}

/// This gateway's scheme and host as the client sees them. `X-Forwarded-*`
/// count only from a trusted proxy; anyone else could make them up.
fn own_origin(request: &HttpRequest, state: &AppState) -> (String, String) {
    let headers = request.headers();
    let first = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let trusted = request.peer_addr().is_some_and(|peer| state.access.is_trusted_proxy(peer.ip()));
    if trusted {
        let scheme = first("x-forwarded-proto").unwrap_or_else(|| "http".to_owned());
        (scheme, first("x-forwarded-host").unwrap_or(host))
    } else {
        ("http".to_owned(), host)
    }
}
