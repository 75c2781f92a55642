//! Per-request context: the request id (taken from `X-Request-Id` when it is
//! sane, generated otherwise), the tracing span every log line of the request
//! is written in, the `X-Request-Id` response header, and the HTTP metrics
//! labelled by route template and method (a method outside the standard set
//! is labelled `other`, so clients cannot mint series).

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use tracing::Instrument;

use crate::app::AppState;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request id as a typed request extension, for handlers.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn request_context(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_acceptable_request_id(value))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    request.extensions_mut().insert(RequestId(request_id.clone()));
    let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(request.method());
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);

    let outcome = REQUEST_ID.scope(request_id.clone(), next.call(request)).instrument(span.clone()).await;
    let mut response = outcome?;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    security_headers(response.headers_mut());
    let status = response.status();
    if let Some(state) = state {
        let elapsed = started.elapsed().as_secs_f64();
        state.metrics.http_requests.with_label_values(&[&route, method, status.as_str()]).inc();
        state.metrics.http_duration.with_label_values(&[&route, method]).observe(elapsed);
    }
    span.in_scope(|| {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0;
        if status.is_server_error() || status.is_client_error() {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request refused");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, "request served");
        }
    });
    Ok(response)
}

/// The `method` label: one of the standard methods, or `other` for any
/// extension method a client makes up.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "CONNECT" => "CONNECT",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "PATCH" => "PATCH",
        _ => "other",
    }
}

/// Every answer says `nosniff`; HTML pages also forbid framing and foreign
/// content, and send no referrer to other sites.
fn security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    use actix_web::http::header;
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if html {
        // A page may bring its own (stricter or as strict) policy; the default forbids everything foreign.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
}

/// Client-supplied ids are echoed in logs and headers, so only short,
/// printable, token-like values are kept.
fn is_acceptable_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::{is_acceptable_request_id, method_label};
    use actix_web::http::Method;

    #[test]
    fn only_standard_methods_are_labels() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for odd in ["FOO1", "get", "PROPFIND", "X"] {
            let method = Method::from_bytes(odd.as_bytes()).unwrap_or_else(|e| panic!("{odd}: {e}"));
            assert_eq!(method_label(&method), "other", "{odd}");
        }
    }

    #[test]
    fn only_token_like_request_ids_are_echoed() {
        assert!(is_acceptable_request_id("0192f3c4-7a1b-7cde-8f00-123456789abc"));
        assert!(is_acceptable_request_id("req_123.abc:1"));
        assert!(!is_acceptable_request_id(""));
        assert!(!is_acceptable_request_id("has space"));
        assert!(!is_acceptable_request_id("line\nbreak"));
        assert!(!is_acceptable_request_id(&"a".repeat(65)));
    }
}
