//! Plain-HTTP page fetches for scout and hydrate: one shared reqwest client with a whole-request
//! timeout, a response size cap enforced while streaming (a huge page is cut off, never buffered),
//! a per-host concurrency cap (so raising `HYDRATOR_CONCURRENCY` cannot hammer one host), and a
//! rotating User-Agent. The client is fenced ([`super::fence`]): the first URL and every redirect
//! hop are checked, and DNS answers are filtered before the socket connects.

use std::{collections::HashMap, sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::sync::Semaphore;
use url::Url;

use super::fence::{Fence, FenceRefusal};
use super::hydrate::UserAgentPool;

/// Redirects followed for one page.
const MAX_REDIRECTS: usize = 10;

#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub max_bytes: usize,
    pub per_host: usize,
}

/// A response: the body is read only for 2xx answers.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: Bytes,
    /// After redirects; relative links resolve against it.
    pub url: Url,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request failed: {0}")]
    Network(String),
    #[error(transparent)]
    Blocked(FenceRefusal),
}

impl FetchError {
    /// Timeouts and network trouble pass; a page over the cap stays over it, a refused address refused.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::TooLarge { .. } | Self::Blocked(_))
    }
}

pub struct Fetcher {
    client: reqwest::Client,
    fence: Arc<Fence>,
    agents: UserAgentPool,
    settings: FetchSettings,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings, agents: UserAgentPool, fence: Arc<Fence>) -> Result<Self, reqwest::Error> {
        let client = fence
            .client_builder(MAX_REDIRECTS)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(settings.per_host.max(1))
            .build()?;
        Ok(Self { client, fence, agents, settings, hosts: Mutex::new(HashMap::new()) })
    }

    /// The fence this fetcher's client is built with (stages count its refusals).
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    fn host_slots(&self, url: &Url) -> Arc<Semaphore> {
        let key = format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0));
        self.hosts.lock().entry(key).or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_host.max(1)))).clone()
    }

    /// GETs `url`, holding one of its host's slots for the whole exchange.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        self.fence.check_url(url).map_err(FetchError::Blocked)?;
        let slots = self.host_slots(url);
        let _slot = slots.acquire_owned().await.map_err(|_| FetchError::Network("host limiter closed".into()))?;
        let response = self
            .client
            .get(url.clone())
            .header(reqwest::header::USER_AGENT, self.agents.next())
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let final_url = response.url().clone();
        let body = if (200..300).contains(&status) { self.read_capped(response).await? } else { Bytes::new() };
        Ok(Fetched { status, content_type, retry_after, body, url: final_url })
    }

    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Bytes, FetchError> {
        let limit = self.settings.max_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn classify(&self, error: reqwest::Error) -> FetchError {
        if let Some(refusal) = FenceRefusal::find_in(&error) {
            FetchError::Blocked(refusal)
        } else if error.is_timeout() {
            FetchError::Timeout(self.settings.timeout)
        } else {
            // Without the URL: it holds the seller's phone.
            FetchError::Network(crate::telemetry::http_error_text(error))
        }
    }
}
