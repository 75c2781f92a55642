//! Fetching a product image into memory: never to disk, never past a byte cap (checked against
//! `Content-Length` first, then while streaming), with a whole-request timeout. Failures are typed
//! so each stage maps them the same way: 429, 5xx and network trouble are retried through the
//! queue, anything else (404, an oversized or non-image body) is terminal. The client is fenced
//! ([`crate::pipeline::fence`]): a refused address is [`FetchError::Blocked`], which each stage
//! turns into a dead job with reason `blocked_address`. With an [`ImageCache`], the stages' clones
//! of one fetcher download each image once.

use std::{sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};

use super::image_cache::ImageCache;
use crate::jobs::StageOutcome;
use crate::pipeline::fence::{Fence, FenceRefusal};

/// Redirects followed for one image.
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct FetchedImage {
    pub bytes: Bytes,
    /// The `Content-Type` the server sent, lower-cased without parameters, when it sent one.
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("image URL is not http(s): {0}")]
    InvalidUrl(String),
    #[error("image fetch answered HTTP {status}")]
    Status { status: u16, retry_after: Option<Duration> },
    #[error("image is larger than the {limit}-byte cap")]
    TooLarge { limit: usize },
    #[error("image fetch failed: {0}")]
    Network(String),
    #[error(transparent)]
    Blocked(FenceRefusal),
}

impl FetchError {
    /// Whether another attempt could succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            Self::Network(_) => true,
            Self::InvalidUrl(_) | Self::TooLarge { .. } | Self::Blocked(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The queue outcome for a stage that cannot go on without the image: retry when transient,
    /// otherwise dead (a broken image is a terminal error, not worth three more downloads).
    pub fn into_outcome(self, what: &str) -> StageOutcome {
        let status = self.status();
        let error = format!("{what}: {self}");
        match self {
            Self::Status { retry_after, .. } if self.is_transient() => StageOutcome::Retry { error, status, retry_after },
            _ if self.is_transient() => StageOutcome::Retry { error, status, retry_after: None },
            _ => StageOutcome::Terminal { error, status, commit: None, dead: true },
        }
    }
}

/// Cheap to clone: clones share the connection pool and the cache.
#[derive(Debug, Clone)]
pub struct ImageFetcher {
    client: reqwest::Client,
    fence: Arc<Fence>,
    max_bytes: usize,
    cache: Option<ImageCache>,
}

impl ImageFetcher {
    pub fn new(max_bytes: usize, timeout: Duration, fence: Arc<Fence>) -> Result<Self, reqwest::Error> {
        let client = fence
            .client_builder(MAX_REDIRECTS)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("soko-ingest/", env!("CARGO_PKG_VERSION"), " (+image fetch)"))
            .build()?;
        Ok(Self { client, fence, max_bytes, cache: None })
    }

    /// Keeps fetched images in `cache` (shared by this fetcher's clones); `None` fetches every time.
    pub fn with_cache(mut self, cache: Option<ImageCache>) -> Self {
        self.cache = cache;
        self
    }

    /// The fence this fetcher's client is built with (stages count its refusals).
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The image at `url`: from the cache when this process fetched it lately, else downloaded.
    pub async fn fetch(&self, url: &str) -> Result<FetchedImage, FetchError> {
        match &self.cache {
            Some(cache) => cache.get_or_fetch(url, self.download(url)).await,
            None => self.download(url).await,
        }
    }

    async fn download(&self, url: &str) -> Result<FetchedImage, FetchError> {
        let parsed = url::Url::parse(url).map_err(|_| FetchError::InvalidUrl(short(url)))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(FetchError::InvalidUrl(short(url)));
        }
        self.fence.check_url(&parsed).map_err(FetchError::Blocked)?;
        let mut response = self.client.get(parsed).send().await.map_err(network)?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let retry_after = crate::pipeline::hydrate::status::retry_after_of(response.headers());
            return Err(FetchError::Status { status, retry_after });
        }
        if response.content_length().is_some_and(|len| len > self.max_bytes as u64) {
            return Err(FetchError::TooLarge { limit: self.max_bytes });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty());
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge { limit: self.max_bytes });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchedImage { bytes: body.freeze(), content_type })
    }
}

/// URLs may carry signed query strings; errors keep only the start.
fn short(url: &str) -> String {
    url.chars().take(120).collect()
}

/// A refusal of the fence (on a redirect hop or in DNS), or network trouble.
fn network(error: reqwest::Error) -> FetchError {
    match FenceRefusal::find_in(&error) {
        Some(refusal) => FetchError::Blocked(refusal),
        None => FetchError::Network(crate::telemetry::http_error_text(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A one-shot HTTP server on a real socket answering every connection with `response`.
    fn serve(response: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(&response);
            }
        });
        format!("http://{address}/img.png")
    }

    fn http(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n{headers}\r\n").into_bytes();
        out.extend_from_slice(body);
        out
    }

    /// These fixtures listen on loopback: the fence trusts them by `host:port`.
    fn fetcher_for(cap: usize, url: &str) -> ImageFetcher {
        let trusted = url::Url::parse(url).ok().and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port()?))).unwrap_or_default();
        ImageFetcher::new(cap, Duration::from_secs(5), Arc::new(Fence::trusting(&[trusted.as_str()]))).expect("client")
    }

    fn fetcher(cap: usize) -> ImageFetcher {
        ImageFetcher::new(cap, Duration::from_secs(5), Arc::new(Fence::trusting(&[]))).expect("client")
    }

    #[tokio::test]
    async fn fetches_body_and_content_type() {
        let url = serve(http("200 OK", "content-type: image/PNG; q=1\r\ncontent-length: 4\r\n", b"abcd"));
        let image = fetcher_for(10, &url).fetch(&url).await.expect("fetched");
        assert_eq!(image.bytes.as_ref(), b"abcd");
        assert_eq!(image.content_type.as_deref(), Some("image/png"));
    }

    #[tokio::test]
    async fn caps_by_header_and_by_stream() {
        let declared = serve(http("200 OK", "content-length: 11\r\n", b"01234567890"));
        assert!(matches!(fetcher_for(10, &declared).fetch(&declared).await, Err(FetchError::TooLarge { limit: 10 })));
        // No Content-Length: the body runs until the connection closes.
        let undeclared = serve(http("200 OK", "", &[7u8; 5000]));
        assert!(matches!(fetcher_for(4096, &undeclared).fetch(&undeclared).await, Err(FetchError::TooLarge { limit: 4096 })));
    }

    #[tokio::test]
    async fn statuses_map_to_retry_or_terminal() {
        let limited = serve(http("429 Too Many Requests", "retry-after: 30\r\ncontent-length: 0\r\n", b""));
        let error = fetcher_for(10, &limited).fetch(&limited).await.expect_err("429");
        assert!(error.is_transient());
        match error.into_outcome("image") {
            StageOutcome::Retry { status, retry_after, .. } => assert_eq!((status, retry_after), (Some(429), Some(Duration::from_secs(30)))),
            other => panic!("429 must retry: {other:?}"),
        }
        let missing = serve(http("404 Not Found", "content-length: 0\r\n", b""));
        let error = fetcher_for(10, &missing).fetch(&missing).await.expect_err("404");
        assert!(matches!(error.into_outcome("image"), StageOutcome::Terminal { status: Some(404), dead: true, .. }));
        let broken = serve(http("503 Service Unavailable", "content-length: 0\r\n", b""));
        assert!(fetcher_for(10, &broken).fetch(&broken).await.expect_err("503").is_transient());
    }

    #[tokio::test]
    async fn refuses_non_http_urls_and_reports_refused_connections() {
        for url in ["file:///etc/passwd", "not a url", "ftp://example.com/a.png"] {
            assert!(matches!(fetcher(10).fetch(url).await, Err(FetchError::InvalidUrl(_))), "{url}");
        }
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address");
        let url = format!("http://{closed}/x.png");
        let error = fetcher_for(10, &url).fetch(&url).await.expect_err("refused");
        assert!(matches!(error, FetchError::Network(_)) && error.is_transient());
        // Untrusted, the same loopback address is refused before any connection.
        let blocked = fetcher(10).fetch(&url).await.expect_err("blocked");
        assert!(matches!(blocked, FetchError::Blocked(FenceRefusal::Address(crate::pipeline::fence::BlockedRange::Loopback))), "{blocked:?}");
        assert!(!blocked.is_transient());
    }
}
