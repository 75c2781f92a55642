//! A small in-memory ingest server speaking the gateway's contract, for the
//! harness's own tests and for measuring the generator's ceiling
//! (`harness mock-gateway --trivial`). It is not the gateway: no database,
//! no rate limiter, nothing durable.
//!
//! Normal mode checks the token and the signature over the raw bytes,
//! dedupes by (chat, message id) or by (chat, sender, text), counts, and
//! serves `/chat/tools/diagnostics` to the same credentials as the gateway
//! (the ingest token as `X-Ingest-Token` or as a bearer token, or
//! `--diagnostics-token` as a bearer token). "Extraction" is simulated: every
//! created message counts as extracted `extract_delay_ms` later. Knobs make
//! it misbehave on purpose: every Nth request 429, an added delay, frozen
//! counters. Trivial mode skips verification and parsing, so the server
//! spends as little CPU as possible per request.

use bytes::Bytes;
use collector_client::message::IngestBatch;
use collector_client::signing::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER, TOKEN_HEADER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use serde_json::json;
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug, Clone, clap::Args)]
pub struct MockArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    #[arg(long, default_value = "test-token")]
    pub token: String,
    /// Verify X-Signature with this secret; unset means token only.
    #[arg(long)]
    pub secret: Option<String>,
    /// A bearer token diagnostics accept besides the ingest token (as the
    /// gateway accepts its admin and read tokens).
    #[arg(long)]
    pub diagnostics_token: Option<String>,
    /// Fixed answers, no verification or parsing: for the generator's ceiling.
    #[arg(long)]
    pub trivial: bool,
    /// Count each created message as extracted this long after it was stored.
    #[arg(long)]
    pub extract_delay_ms: Option<u64>,
    /// Answer 429 to every Nth ingest request.
    #[arg(long)]
    pub reject_every: Option<u64>,
    /// Added latency per ingest request.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Never move the diagnostics counters (a broken pipeline).
    #[arg(long)]
    pub freeze_counters: bool,
    /// Serve the counters under `totals`, like `/metrics/whatsapp`.
    #[arg(long)]
    pub nest_totals: bool,
    /// Runtime threads (binary only).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

impl Default for MockArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: "test-token".into(),
            secret: None,
            diagnostics_token: None,
            trivial: false,
            extract_delay_ms: None,
            reject_every: None,
            delay_ms: 0,
            freeze_counters: false,
            nest_totals: false,
            threads: 1,
        }
    }
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    accepted: AtomicU64,
    created: AtomicU64,
    deduped: AtomicU64,
    extracted: AtomicU64,
}

struct State {
    args: MockArgs,
    counts: Counts,
    seen: Mutex<HashSet<u64>>,
    pending_extraction: Mutex<VecDeque<(Instant, u64)>>,
    next_id: AtomicU64,
}

/// A running mock; dropping it stops accepting connections.
pub struct MockGateway {
    pub addr: SocketAddr,
    state: Arc<State>,
    _stop: watch::Sender<bool>,
}

impl MockGateway {
    pub fn ingest_url(&self) -> String {
        format!("http://{}{}", self.addr, signing::INGEST_PATH)
    }

    pub fn diagnostics_url(&self) -> String {
        format!("http://{}/chat/tools/diagnostics", self.addr)
    }

    /// Ingest requests received so far, whatever their answer.
    pub fn requests(&self) -> u64 {
        self.state.counts.requests.load(Ordering::Relaxed)
    }
}

pub async fn spawn_mock(args: MockArgs) -> std::io::Result<MockGateway> {
    let listener = TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        args,
        counts: Counts::default(),
        seen: Mutex::new(HashSet::new()),
        pending_extraction: Mutex::new(VecDeque::new()),
        next_id: AtomicU64::new(1),
    });
    let (stop, mut stopped) = watch::channel(false);
    let serving = Arc::clone(&state);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&serving);
                    tokio::spawn(async move {
                        let service = service_fn(move |request| handle(Arc::clone(&state), request));
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                _ = stopped.changed() => break,
            }
        }
    });
    Ok(MockGateway { addr, state, _stop: stop })
}

type Answer = Response<Full<Bytes>>;

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Answer {
    json_answer(status, &json!({"error": {"code": code, "message": message, "request_id": "mock"}}))
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Answer, Infallible> {
    let path = request.uri().path().to_owned();
    Ok(match (request.method(), path.as_str()) {
        (&Method::POST, signing::INGEST_PATH) => ingest(&state, request).await,
        (&Method::GET, "/chat/tools/diagnostics" | "/metrics/whatsapp") => {
            if diagnostics_allowed(&state.args, request.headers()) {
                diagnostics(&state)
            } else {
                error(StatusCode::UNAUTHORIZED, "invalid_ingest_token", "invalid ingest token")
            }
        }
        (&Method::GET, "/healthz") => json_answer(StatusCode::OK, &json!({"status": "ok"})),
        _ => error(StatusCode::NOT_FOUND, "not_found", "not found"),
    })
}

async fn ingest(state: &State, request: Request<Incoming>) -> Answer {
    let number = state.counts.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (token, timestamp, signature) = (header(TOKEN_HEADER), header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER));
    let Ok(body) = Limited::new(request.into_body(), 8 << 20).collect().await.map(|c| c.to_bytes()) else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "body too large");
    };
    if state.args.trivial {
        let messages = count_occurrences(&body, b"\"chat_title\"");
        return json_answer(StatusCode::OK, &json!({"request_id": "trivial", "accepted": messages, "created": messages, "deduped": 0}));
    }
    if state.args.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(state.args.delay_ms)).await;
    }
    if token.as_deref() != Some(state.args.token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "invalid_token", "invalid ingest token");
    }
    if let Some(secret) = &state.args.secret {
        let expected = signing::sign(secret.as_bytes(), timestamp.as_deref().unwrap_or(""), &body);
        if signature.as_deref().map(|s| s.trim_start_matches("sha256=")) != Some(expected.as_str()) {
            return error(StatusCode::FORBIDDEN, "invalid_signature", "invalid signature");
        }
    }
    if state.args.reject_every.is_some_and(|n| n > 0 && number.is_multiple_of(n)) {
        let mut answer = error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "ingest rate limit exceeded");
        answer.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        return answer;
    }
    let batch: IngestBatch = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", &e.to_string()),
    };
    let mut statuses = Vec::with_capacity(batch.messages.len());
    {
        let mut seen = state.seen.lock();
        for message in &batch.messages {
            let mut hasher = DefaultHasher::new();
            message.chat_id.as_ref().unwrap_or(&message.chat_title).hash(&mut hasher);
            match &message.message_id {
                Some(id) => ("id", id).hash(&mut hasher),
                None => ("content", &message.sender, &message.text).hash(&mut hasher),
            }
            statuses.push(seen.insert(hasher.finish()));
        }
    }
    let created = statuses.iter().filter(|c| **c).count() as u64;
    let deduped = statuses.len() as u64 - created;
    if !state.args.freeze_counters {
        state.counts.accepted.fetch_add(statuses.len() as u64, Ordering::Relaxed);
        state.counts.created.fetch_add(created, Ordering::Relaxed);
        state.counts.deduped.fetch_add(deduped, Ordering::Relaxed);
        if let Some(delay) = state.args.extract_delay_ms {
            state.pending_extraction.lock().push_back((Instant::now() + Duration::from_millis(delay), created));
        }
    }
    let messages: Vec<_> = statuses
        .iter()
        .enumerate()
        .map(|(index, created)| {
            let id = state.next_id.fetch_add(1, Ordering::Relaxed);
            json!({"index": index, "status": if *created { "created" } else { "duplicate" }, "id": id.to_string()})
        })
        .collect();
    json_answer(
        StatusCode::OK,
        &json!({"request_id": format!("mock-{number}"), "accepted": statuses.len(), "created": created, "deduped": deduped, "messages": messages}),
    )
}

/// The gateway's rule for diagnostics: the ingest token as `X-Ingest-Token`,
/// or the ingest token or the diagnostics token as `Authorization: Bearer`.
fn diagnostics_allowed(args: &MockArgs, headers: &http::HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header(TOKEN_HEADER) == Some(args.token.as_str()) {
        return true;
    }
    let bearer = header(http::header::AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    bearer.is_some_and(|b| b == args.token || args.diagnostics_token.as_deref() == Some(b))
}

fn diagnostics(state: &State) -> Answer {
    {
        let now = Instant::now();
        let mut pending = state.pending_extraction.lock();
        while pending.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, n)) = pending.pop_front() {
                state.counts.extracted.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
    let c = &state.counts;
    let counters = json!({
        "accepted": c.accepted.load(Ordering::Relaxed),
        "created": c.created.load(Ordering::Relaxed),
        "deduped": c.deduped.load(Ordering::Relaxed),
        "extracted": c.extracted.load(Ordering::Relaxed),
        "errors": 0,
    });
    let body = if state.args.nest_totals { json!({"generated_at": crate::load::now_text(), "totals": counters}) } else { counters };
    json_answer(StatusCode::OK, &body)
}

fn count_occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_take_the_gateway_s_credentials() {
        let args = MockArgs { diagnostics_token: Some("read".into()), ..MockArgs::default() };
        let allowed = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = http::HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, http::HeaderValue::from_static(value));
            }
            diagnostics_allowed(&args, &headers)
        };
        assert!(allowed(&[("x-ingest-token", "test-token")]));
        assert!(allowed(&[("authorization", "Bearer test-token")]));
        assert!(allowed(&[("authorization", "Bearer read")]));
        assert!(!allowed(&[]));
        assert!(!allowed(&[("x-ingest-token", "read")]));
        assert!(!allowed(&[("authorization", "Bearer wrong")]));
        assert!(!allowed(&[("authorization", "Basic test-token")]));
    }

    #[test]
    fn counts_needles() {
        assert_eq!(count_occurrences(br#"[{"chat_title":1},{"chat_title":2}]"#, b"\"chat_title\""), 2);
        assert_eq!(count_occurrences(b"", b"x"), 0);
        assert_eq!(count_occurrences(b"abc", b""), 0);
    }
}
