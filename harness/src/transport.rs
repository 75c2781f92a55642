//! Signed ingest POSTs, as cheaply as possible per request.
//!
//! `http://` targets use one raw hyper HTTP/1.1 connection per worker: no
//! pool, no locks, keep-alive, Nagle off; the request is a refcounted body,
//! four headers and an HMAC computed at send time. `https://` targets go
//! through reqwest (rustls), which costs more CPU but works anywhere.
//!
//! Signing is the largest single cost of a request (a 2 KB body is 35
//! SHA-256 blocks), so it uses aws-lc's assembly HMAC with the key schedule
//! computed once; a property test pins it to `collector_client::signing`.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use collector_client::signing::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER, TOKEN_HEADER};
use http::header::{CONTENT_TYPE, HOST, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid ingest url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid header value for {0}")]
    InvalidHeader(&'static str),
    #[error("connect failed: {0}")]
    Connect(std::io::Error),
    #[error("http error: {0}")]
    Http(#[from] hyper::Error),
    #[error("request timed out")]
    Timeout,
    #[error("request failed: {0}")]
    Client(#[from] reqwest::Error),
    #[error("could not build request: {0}")]
    Request(#[from] http::Error),
}

impl TransportError {
    /// A bounded label for the report's error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } | Self::InvalidHeader(_) | Self::Request(_) => "invalid_request",
            Self::Connect(_) => "connect",
            Self::Http(_) => "http",
            Self::Timeout => "timeout",
            Self::Client(e) if e.is_timeout() => "timeout",
            Self::Client(e) if e.is_connect() => "connect",
            Self::Client(_) => "http",
        }
    }
}

/// An answer from the gateway, whatever its status.
#[derive(Debug, Clone)]
pub struct IngestResponse {
    pub status: u16,
    pub body: Bytes,
    pub retry_after: Option<String>,
}

// Lowercase names built once: a mixed-case `&str` name is re-parsed and
// lowercased on every request.
const TOKEN_NAME: HeaderName = HeaderName::from_static("x-ingest-token");
const TIMESTAMP_NAME: HeaderName = HeaderName::from_static("x-signature-timestamp");
const SIGNATURE_NAME: HeaderName = HeaderName::from_static("x-signature");

enum Route {
    Plain { address: String, authority: HeaderValue, path: Uri },
    Tls { client: reqwest::Client, url: reqwest::Url },
}

/// Where and how to post: shared by every connection of a run.
pub struct IngestTarget {
    route: Route,
    token: HeaderValue,
    signer: Option<Signer>,
    timeout: Duration,
}

/// HMAC-SHA256 over `timestamp + "." + body`, as `collector_client::signing::sign`.
pub struct Signer {
    key: aws_lc_rs::hmac::Key,
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret) }
    }

    /// The lowercase hex signature, as a header value.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> HeaderValue {
        let mut context = aws_lc_rs::hmac::Context::with_key(&self.key);
        context.update(timestamp.as_bytes());
        context.update(b".");
        context.update(body);
        let mut text = [0u8; 64];
        // 32 bytes always encode into exactly 64 hex digits, all valid header bytes.
        let _ = hex::encode_to_slice(context.sign().as_ref(), &mut text);
        HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

impl IngestTarget {
    pub fn new(url: &str, token: &str, secret: Option<&str>, timeout: Duration) -> Result<Self, TransportError> {
        let invalid = |reason: &str| TransportError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let token = HeaderValue::from_str(token).map_err(|_| TransportError::InvalidHeader(TOKEN_HEADER))?;
        let route = match uri.scheme_str() {
            Some("http") => {
                let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
                let port = authority.port_u16().unwrap_or(80);
                let path = uri.path_and_query().map_or("/", |p| p.as_str()).parse().map_err(|_| invalid("bad path"))?;
                Route::Plain {
                    address: format!("{}:{port}", authority.host().trim_start_matches('[').trim_end_matches(']')),
                    authority: HeaderValue::from_str(authority.as_str()).map_err(|_| invalid("bad host"))?,
                    path,
                }
            }
            Some("https") => Route::Tls {
                client: reqwest::Client::builder().timeout(timeout).build()?,
                url: reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?,
            },
            _ => return Err(invalid("scheme must be http or https")),
        };
        let signer = secret.filter(|s| !s.is_empty()).map(|s| Signer::new(s.as_bytes()));
        Ok(Self { route, token, signer, timeout })
    }

    pub fn is_signed(&self) -> bool {
        self.signer.is_some()
    }
}

/// One worker's connection; reconnects on its own after a failure.
pub struct IngestConnection {
    target: Arc<IngestTarget>,
    sender: Option<SendRequest<Full<Bytes>>>,
    clock: SigningClock,
}

impl IngestConnection {
    pub fn new(target: Arc<IngestTarget>) -> Self {
        Self { target, sender: None, clock: SigningClock::default() }
    }

    pub async fn post(&mut self, body: Bytes) -> Result<IngestResponse, TransportError> {
        let (text, timestamp) = self.clock.now();
        let signature = self.target.signer.as_ref().map(|signer| signer.sign(text, &body));
        let target = Arc::clone(&self.target);
        match &target.route {
            Route::Plain { address, authority, path } => {
                let request = Request::builder()
                    .method(Method::POST)
                    .uri(path.clone())
                    .header(HOST, authority.clone())
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .header(TOKEN_NAME, target.token.clone())
                    .header(TIMESTAMP_NAME, timestamp);
                let request = match signature {
                    Some(signature) => request.header(SIGNATURE_NAME, signature),
                    None => request,
                };
                let request = request.body(Full::new(body))?;
                let exchange = self.exchange_plain(address, request);
                match tokio::time::timeout(target.timeout, exchange).await {
                    Ok(result) => result,
                    Err(_) => {
                        self.sender = None;
                        Err(TransportError::Timeout)
                    }
                }
            }
            Route::Tls { client, url } => {
                let mut request = client
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .header(TOKEN_HEADER, target.token.clone())
                    .header(TIMESTAMP_HEADER, timestamp);
                if let Some(signature) = signature {
                    request = request.header(SIGNATURE_HEADER, signature);
                }
                let response = request.body(body).send().await?;
                let status = response.status().as_u16();
                let retry_after = header_text(response.headers().get(RETRY_AFTER));
                Ok(IngestResponse { status, retry_after, body: response.bytes().await? })
            }
        }
    }

    async fn exchange_plain(&mut self, address: &str, request: Request<Full<Bytes>>) -> Result<IngestResponse, TransportError> {
        let reusable = match self.sender.take() {
            Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
            None => None,
        };
        let mut sender = match reusable {
            Some(sender) => sender,
            None => connect(address).await?,
        };
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let retry_after = header_text(response.headers().get(RETRY_AFTER));
        let body = response.into_body().collect().await?.to_bytes();
        self.sender = Some(sender);
        Ok(IngestResponse { status, body, retry_after })
    }
}

async fn connect(address: &str) -> Result<SendRequest<Full<Bytes>>, TransportError> {
    let stream = TcpStream::connect(address).await.map_err(TransportError::Connect)?;
    stream.set_nodelay(true).map_err(TransportError::Connect)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // A connection error surfaces on the next request; nothing to do here.
        let _ = connection.await;
    });
    Ok(sender)
}

fn header_text(value: Option<&HeaderValue>) -> Option<String> {
    value.and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The signing timestamp, formatted once per second instead of per request.
#[derive(Default)]
struct SigningClock {
    second: u64,
    text: String,
    header: Option<HeaderValue>,
}

impl SigningClock {
    fn now(&mut self) -> (&str, HeaderValue) {
        let second = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second != self.second || self.header.is_none() {
            self.second = second;
            let at = i64::try_from(second).ok().and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)).unwrap_or_else(Utc::now);
            self.text = signing::format_timestamp(at);
            // An RFC 3339 timestamp is plain ASCII, always a valid header value.
            self.header = HeaderValue::from_str(&self.text).ok();
        }
        let header = self.header.clone().unwrap_or_else(|| HeaderValue::from_static(""));
        (&self.text, header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_accept_http_and_https_only() {
        let timeout = Duration::from_secs(1);
        assert!(IngestTarget::new("http://127.0.0.1:8000/integrations/whatsapp/ingest", "t", Some("s"), timeout).is_ok());
        assert!(IngestTarget::new("https://example.com/integrations/whatsapp/ingest", "t", None, timeout).is_ok());
        for bad in ["ftp://x/y", "not a url", "/relative/path"] {
            assert!(matches!(IngestTarget::new(bad, "t", None, timeout), Err(TransportError::InvalidUrl { .. })), "{bad}");
        }
        assert!(matches!(IngestTarget::new("http://h/p", "bad\ntoken", None, timeout), Err(TransportError::InvalidHeader(_))));
    }

    #[test]
    fn an_empty_secret_means_token_only() {
        let target = IngestTarget::new("http://h:1/p", "t", Some(""), Duration::from_secs(1)).expect("valid");
        assert!(!target.is_signed());
    }

    proptest::proptest! {
        #[test]
        fn the_fast_signer_equals_the_contract(secret in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100), timestamp in "\\PC{0,30}", body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..5000)) {
            let fast = Signer::new(&secret).sign(&timestamp, &body);
            let contract = signing::sign(&secret, &timestamp, &body);
            proptest::prop_assert_eq!(fast.to_str().ok(), Some(contract.as_str()));
        }
    }

    #[test]
    fn the_seed_example_signs_the_same() {
        let fast = Signer::new(b"super-secret").sign("2026-11-22T10:00:00Z", b"{}");
        assert_eq!(fast.to_str().ok(), Some("f2cea23daba8ebb3eb66b4408e71cbcc57acfca7186d21ac4df1d1f2db3aea7d"));
    }

    #[test]
    fn header_names_match_the_contract() {
        for (name, contract) in [(TOKEN_NAME, TOKEN_HEADER), (TIMESTAMP_NAME, TIMESTAMP_HEADER), (SIGNATURE_NAME, SIGNATURE_HEADER)] {
            assert_eq!(name.as_str(), contract.to_ascii_lowercase());
        }
    }

    #[test]
    fn the_signing_clock_uses_the_seed_format() {
        let mut clock = SigningClock::default();
        let (text, header) = clock.now();
        assert_eq!(header.to_str().ok(), Some(text));
        assert_eq!(text.len(), "2026-11-22T10:00:00Z".len());
        assert!(text.ends_with('Z') && text.as_bytes()[10] == b'T');
    }
}
