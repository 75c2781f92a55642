//! A stand-in for the gateway's ingest endpoint, on a real socket in its own
//! thread and runtime (so tests on a paused clock do not pause it). It checks
//! the token and HMAC signature like the gateway (401 `invalid_ingest_token`,
//! 403 `invalid_signature`), records every batch, and answers from a script:
//! 500, 429 + Retry-After, the gateway's JSON errors (401/403/400/413/422
//! with their codes), a body that never ends, then 200. Its 200 is the
//! gateway's answer (`created`/`duplicate` per message, by message id, and
//! `refused` ones when scripted). Token and secret can be changed while it
//! runs, as a gateway's configuration is fixed.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use collector_client::message::{IngestBatch, IngestMessage};
use collector_client::signing::{INGEST_PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, TOKEN_HEADER, sign};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the gateway's answer: `created`, or `duplicate` for a
    /// `message_id` it already took.
    Ok,
    /// 200, with the messages at these indexes refused one by one, as the
    /// gateway refuses an empty message (`empty_message`).
    Refuse(&'static [usize]),
    Status(u16, &'static str),
    RateLimited {
        retry_after: u64,
    },
    /// The gateway's error shape: `{"error":{"code","message","request_id"}}`.
    Error(u16, &'static str),
    /// This status with a body that never ends.
    Endless(u16),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub batch: IngestBatch,
    pub request_id: Option<String>,
    pub answered: u16,
}

struct State {
    token: String,
    secret: Option<String>,
    script: VecDeque<Reply>,
    default: Reply,
    received: Vec<Received>,
    refused_auth: usize,
    seen_ids: std::collections::HashSet<String>,
}

/// The gateway's 200 answer (`gateway/src/ingest/response.rs`).
fn gateway_answer(state: &mut State, batch: &IngestBatch, refuse: &[usize], request_id: Option<String>) -> HttpResponse {
    let (mut created, mut deduped) = (0, 0);
    let mut statuses = Vec::new();
    for (index, message) in batch.messages.iter().enumerate() {
        if refuse.contains(&index) {
            statuses.push(serde_json::json!({"index": index, "status": "refused", "id": null, "reason": "empty_message"}));
            continue;
        }
        let new = message.message_id.as_ref().is_none_or(|id| state.seen_ids.insert(id.clone()));
        if new {
            created += 1;
        } else {
            deduped += 1;
        }
        statuses.push(serde_json::json!({"index": index, "status": if new { "created" } else { "duplicate" }, "id": index + 1}));
    }
    HttpResponse::Ok().json(serde_json::json!({
        "request_id": request_id, "accepted": created + deduped, "created": created, "deduped": deduped,
        "refused": batch.messages.len() - created - deduped, "messages": statuses,
    }))
}

fn gateway_error(status: u16, code: &str, request_id: Option<String>) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::IM_A_TEAPOT))
        .json(serde_json::json!({"error": {"code": code, "message": format!("refused: {code}"), "request_id": request_id.unwrap_or_default()}}))
}

/// 64 KiB chunks for ever; stops only when the client goes away.
fn endless(status: u16) -> HttpResponse {
    let chunk = web::Bytes::from(vec![b'x'; 64 * 1024]);
    let body = futures_util::stream::repeat_with(move || Ok::<_, std::convert::Infallible>(chunk.clone()));
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::IM_A_TEAPOT)).streaming(body)
}

pub struct Receiver {
    pub ingest_url: String,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

fn locked(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn ingest(request: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut state = locked(&state);
    if header(TOKEN_HEADER).as_deref() != Some(state.token.as_str()) {
        state.refused_auth += 1;
        return gateway_error(401, "invalid_ingest_token", header("x-request-id"));
    }
    let signature_ok = match &state.secret {
        None => header(SIGNATURE_HEADER).is_none(),
        Some(secret) => match (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER)) {
            (Some(timestamp), Some(signature)) => sign(secret.as_bytes(), &timestamp, &body) == signature,
            _ => false,
        },
    };
    if !signature_ok {
        state.refused_auth += 1;
        return gateway_error(403, "invalid_signature", header("x-request-id"));
    }
    let Ok(batch) = serde_json::from_slice::<IngestBatch>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let reply = state.script.pop_front().unwrap_or_else(|| state.default.clone());
    let response = match reply {
        Reply::Ok => gateway_answer(&mut state, &batch, &[], header("x-request-id")),
        Reply::Refuse(indexes) => gateway_answer(&mut state, &batch, indexes, header("x-request-id")),
        Reply::Status(code, body) => HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap_or(actix_web::http::StatusCode::IM_A_TEAPOT)).body(body),
        Reply::RateLimited { retry_after } => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", retry_after.to_string()))
            .json(serde_json::json!({"error": {"code": "rate_limited", "message": "ingest rate limit exceeded"}})),
        Reply::Error(status, code) => gateway_error(status, code, header("x-request-id")),
        Reply::Endless(status) => endless(status),
    };
    state.received.push(Received { batch, request_id: header("x-request-id"), answered: response.status().as_u16() });
    response
}

impl Receiver {
    pub fn start(token: &str, secret: Option<&str>) -> Self {
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            secret: secret.map(str::to_owned),
            script: VecDeque::new(),
            default: Reply::Ok,
            received: Vec::new(),
            refused_auth: 0,
            seen_ids: std::collections::HashSet::new(),
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        let (sender, handle) = std::sync::mpsc::channel();
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("receiver runtime");
            runtime.block_on(async move {
                let data = web::Data::new(shared);
                let server = HttpServer::new(move || App::new().app_data(data.clone()).route(INGEST_PATH, web::post().to(ingest))).workers(1).disable_signals().listen(listener).expect("listen").run();
                sender.send(server.handle()).expect("send handle");
                let _ = server.await;
            });
        });
        let handle = handle.recv().expect("receiver started");
        Self { ingest_url: format!("http://{addr}{INGEST_PATH}"), state, handle }
    }

    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        locked(&self.state).script.extend(replies);
    }

    /// As if the gateway's token list or secret changed.
    pub fn set_credentials(&self, token: &str, secret: Option<&str>) {
        let mut state = locked(&self.state);
        state.token = token.to_owned();
        state.secret = secret.map(str::to_owned);
    }

    pub fn set_default(&self, reply: Reply) {
        locked(&self.state).default = reply;
    }

    pub fn received(&self) -> Vec<Received> {
        locked(&self.state).received.clone()
    }

    /// Batches answered with a 2xx, in arrival order.
    pub fn accepted_batches(&self) -> Vec<IngestBatch> {
        self.received().into_iter().filter(|r| (200..300).contains(&r.answered)).map(|r| r.batch).collect()
    }

    pub fn accepted_messages(&self) -> Vec<IngestMessage> {
        self.accepted_batches().into_iter().flat_map(|batch| batch.messages).collect()
    }

    pub fn refused_auth(&self) -> usize {
        locked(&self.state).refused_auth
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
