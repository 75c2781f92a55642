//! `collector relay`: an HTTP endpoint for the WhatsApp bridges people run.
//! WAHA posts to `/waha`, Evolution API to `/evolution` (or
//! `/evolution/messages-upsert` with "webhook by events"). Text messages,
//! and image, video and document messages with a caption (the caption as
//! text, the media described: kind, MIME type, SHA-256), are forwarded as
//! signed batches through the sender; everything else (media without any
//! text, reactions, other events) is answered 200 and counted as ignored,
//! so bridges do not retry it.
//!
//! A webhook is answered 200 only once its messages are durably spooled;
//! if the spool cannot take them the answer is 503 and the bridge retries.
//! The relay also serves `/healthz` and `/metrics`.
//!
//! Each endpoint runs only with its secret, or with `--insecure-no-auth`
//! (see `auth`).

mod app;
pub mod auth;
pub mod evolution;
pub mod evolution_jwt;
pub mod jid;
pub mod media;
pub mod waha;

pub use app::{RelayStartError, RunningRelay};
pub use auth::{EndpointAuth, NoWebhookAuth, RelayAuth};
pub use jid::ChatTitles;

use crate::message::IngestMessage;
use crate::metrics::{Metrics, Source};
use crate::sender::SenderHandle;
use crate::status::{RunningServer, configure};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use secrecy::{ExposeSecret, SecretString};
use std::net::TcpListener;
use std::sync::Arc;

/// Why a webhook item was not forwarded (the metrics' `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    NotAMessageEvent,
    NonText,
    EmptyText,
    StatusBroadcast,
    Malformed,
}

impl Ignored {
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::NotAMessageEvent => "not_a_message_event",
            Ignored::NonText => "non_text",
            Ignored::EmptyText => "empty_text",
            Ignored::StatusBroadcast => "status_broadcast",
            Ignored::Malformed => "malformed",
        }
    }
}

/// What one webhook yields.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Relayed {
    pub messages: Vec<IngestMessage>,
    pub ignored: Vec<Ignored>,
}

#[derive(Clone, Default)]
pub struct RelayConfig {
    /// WAHA's `config.webhooks[].hmac.key`; when set, unsigned or wrongly
    /// signed WAHA webhooks are refused with 401.
    pub waha_hmac_key: Option<SecretString>,
    /// When set, Evolution webhooks must carry this `apikey` in their body.
    pub evolution_apikey: Option<SecretString>,
    /// Evolution's webhook `headers.jwt_key`: when set, Evolution webhooks
    /// must carry `Authorization: Bearer <JWT>` signed HS256 with it.
    pub evolution_jwt_key: Option<SecretString>,
    pub chat_titles: ChatTitles,
    /// Run the endpoints whose secret is unset anyway, open to anyone.
    pub insecure_no_auth: bool,
}

/// Evolution can inline media as base64, so bodies get a generous cap.
const MAX_WEBHOOK_BYTES: usize = 16 * 1024 * 1024;

struct RelayState {
    config: RelayConfig,
    auth: RelayAuth,
    sender: SenderHandle,
    metrics: Arc<Metrics>,
}

/// Starts the relay on an already bound listener (port 0 in tests); refuses
/// when no endpoint has its secret and `insecure_no_auth` is off.
pub fn start_relay(listener: TcpListener, mut config: RelayConfig, sender: SenderHandle, metrics: Arc<Metrics>) -> Result<RunningServer, RelayStartError> {
    let auth = RelayAuth::decide(&config)?;
    // From here on a secret that is present is one to check.
    config.waha_hmac_key = config.waha_hmac_key.filter(|key| auth::is_set(Some(key)));
    config.evolution_apikey = config.evolution_apikey.filter(|key| auth::is_set(Some(key)));
    config.evolution_jwt_key = config.evolution_jwt_key.filter(|key| auth::is_set(Some(key)));
    let addr = listener.local_addr().map_err(|source| RelayStartError::Bind { addr: "the relay listener".to_owned(), source })?;
    auth.log_endpoints();
    let warnings = auth.spawn_insecure_warnings(auth::INSECURE_WARNING_EVERY);
    let state = web::Data::new(RelayState { config, auth, sender, metrics: metrics.clone() });
    let routes = configure(metrics);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_WEBHOOK_BYTES))
            .configure(routes.clone())
            .route("/waha", web::post().to(waha_webhook))
            .route("/evolution", web::post().to(evolution_webhook))
            .route("/evolution/{event}", web::post().to(evolution_webhook))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(10)
    .listen(listener)
    .map_err(|source| RelayStartError::Bind { addr: addr.to_string(), source })?
    .run();
    Ok(RunningServer::spawn(addr, server).with_companion(warnings))
}

fn error(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": { "code": code, "message": message } }))
}

/// The answer of an endpoint whose secret is unset.
fn disabled(bridge: &str, secret: &str) -> HttpResponse {
    error(actix_web::http::StatusCode::NOT_FOUND, "relay_disabled", &format!("the {bridge} relay is off: {secret} is not set on the collector"))
}

async fn waha_webhook(request: HttpRequest, body: web::Bytes, state: web::Data<RelayState>) -> HttpResponse {
    if state.auth.waha == EndpointAuth::Off {
        return disabled("WAHA", "WAHA_WEBHOOK_HMAC_KEY");
    }
    if let Some(key) = &state.config.waha_hmac_key {
        let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
        let algorithm_ok = header(waha::HMAC_ALGORITHM_HEADER).is_none_or(|algorithm| algorithm.eq_ignore_ascii_case("sha512"));
        let signed = header(waha::HMAC_HEADER).is_some_and(|signature| waha::verify_hmac(key.expose_secret().as_bytes(), &body, signature));
        if !(algorithm_ok && signed) {
            tracing::warn!("WAHA webhook refused: missing or invalid X-Webhook-Hmac");
            state.metrics.record_ignored(Source::Waha, "unauthenticated", 1);
            return error(actix_web::http::StatusCode::UNAUTHORIZED, "invalid_webhook_signature", "invalid webhook signature");
        }
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(actix_web::http::StatusCode::BAD_REQUEST, "invalid_json", "body is not JSON");
    };
    forward(&state, Source::Waha, waha::parse_event(&event, &state.config.chat_titles)).await
}

async fn evolution_webhook(request: HttpRequest, body: web::Bytes, state: web::Data<RelayState>) -> HttpResponse {
    if state.auth.evolution == EndpointAuth::Off {
        return disabled("Evolution API", "EVOLUTION_WEBHOOK_JWT_KEY or EVOLUTION_WEBHOOK_APIKEY");
    }
    // Evolution does not retry a 401: every refusal is an error in the log
    // and a count in collector_messages_ignored_total{reason="unauthenticated"}.
    if let Some(key) = &state.config.evolution_jwt_key {
        let authorization = request.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        if let Err(refusal) = evolution_jwt::verify(authorization, key.expose_secret().as_bytes()) {
            tracing::error!(
                reason = refusal.as_str(),
                "Evolution webhook refused (Evolution does not retry it): check that the instance's webhook headers.jwt_key equals EVOLUTION_WEBHOOK_JWT_KEY and that both clocks are right"
            );
            state.metrics.record_ignored(Source::Evolution, "unauthenticated", 1);
            return error(actix_web::http::StatusCode::UNAUTHORIZED, refusal.as_str(), "invalid webhook token");
        }
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(actix_web::http::StatusCode::BAD_REQUEST, "invalid_json", "body is not JSON");
    };
    if let Some(expected) = &state.config.evolution_apikey {
        let given = event.get("apikey").and_then(serde_json::Value::as_str).unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.expose_secret().as_bytes()) {
            tracing::error!("Evolution webhook refused (Evolution does not retry it): missing or wrong apikey; Evolution puts it in the body only with AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES=true");
            state.metrics.record_ignored(Source::Evolution, "unauthenticated", 1);
            return error(actix_web::http::StatusCode::UNAUTHORIZED, "invalid_apikey", "invalid apikey");
        }
    }
    forward(&state, Source::Evolution, evolution::parse_event(&event, &state.config.chat_titles)).await
}

async fn forward(state: &RelayState, source: Source, relayed: Relayed) -> HttpResponse {
    for reason in &relayed.ignored {
        state.metrics.record_ignored(source, reason.as_str(), 1);
    }
    let accepted = relayed.messages.len();
    if accepted > 0 {
        state.metrics.record_received(source, accepted);
        if let Err(failure) = state.sender.submit_durable(relayed.messages).await {
            tracing::error!(error = %failure, source = source.as_str(), "webhook messages could not be spooled");
            return error(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "not_spooled", "messages could not be stored; retry later");
        }
    }
    HttpResponse::Ok().json(serde_json::json!({ "accepted": accepted, "ignored": relayed.ignored.len() }))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}
