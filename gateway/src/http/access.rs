//! Route guards: each resource of the route table is wrapped with the
//! credential it takes ([`auth`](super::auth) has the rules), so a refused
//! request is answered before any extractor or handler runs, and the route
//! table in `http/mod.rs` reads as the README's access table.

use actix_web::{
    Error, HttpRequest, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use actix_web::http::{StatusCode, header, header::HeaderValue};

use super::{auth, errors::ApiError, views::layout};

/// The challenge HTML clients get with a 401.
pub const BASIC_CHALLENGE: &str = r#"Basic realm="soko", charset="UTF-8""#;
use crate::app::AppState;

/// Runs `check`; a refusal is answered here (inside the request's context, so it carries the
/// request id and the usual headers), and the route's handler never runs.
async fn guarded<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
    check: fn(&HttpRequest, &AppState) -> Result<(), ApiError>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let verdict = match request.app_data::<web::Data<AppState>>() {
        Some(state) => check(request.request(), state),
        None => Err(ApiError::Internal(anyhow::anyhow!("the application state is not registered"))),
    };
    match verdict {
        Ok(()) => Ok(next.call(request).await?.map_into_left_body()),
        Err(refusal) => {
            let mut response = refusal.error_response();
            if response.status() == StatusCode::UNAUTHORIZED
                && layout::wants_html(request.request())
            {
                // A browser gets a page and one Basic challenge, so it shows its login prompt
                // (the token as the password); bearer clients keep the JSON answer.
                response = layout::respond(StatusCode::UNAUTHORIZED, layout::sign_in_page());
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(BASIC_CHALLENGE),
                );
            }
            Ok(request.into_response(response).map_into_right_body())
        }
    }
}

/// Personal or vendor data: a read or admin token.
pub async fn readers<B: MessageBody + 'static>(request: ServiceRequest, next: Next<B>) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    guarded(request, next, auth::require_reader).await
}

/// Diagnostics: an ingest, read or admin token.
pub async fn operators<B: MessageBody + 'static>(request: ServiceRequest, next: Next<B>) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    guarded(request, next, auth::require_operator).await
}

/// Admin pages: the admin token (404 when none is configured).
pub async fn admins<B: MessageBody + 'static>(request: ServiceRequest, next: Next<B>) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    guarded(request, next, auth::require_admin).await
}

/// `/metrics`: the metrics token when one is configured.
pub async fn metrics_readers<B: MessageBody + 'static>(request: ServiceRequest, next: Next<B>) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    guarded(request, next, auth::require_metrics_reader).await
}
