//! The fence around every outbound fetch of the product chain (scout, hydrate, embed, QC and
//! persist): pages and images are fetched only from public addresses, or from a trusted
//! `host:port`. It owns:
//! - the address classifier ([`address`]): loopback, RFC 1918, CGNAT, link-local (cloud
//!   metadata), unique-local, multicast, unspecified, broadcast, documentation and reserved
//!   ranges, and IPv6 forms that carry such an IPv4 address;
//! - the URL check ([`Fence::check_url`]): http or https only, no user-info, an IP-literal host
//!   classified directly, a trusted host name only on its trusted port;
//! - the reqwest hooks ([`resolver`]): a resolver that filters every DNS answer (the socket goes
//!   to an address that was checked: no DNS rebinding) and a redirect policy that checks each hop;
//! - the refusal's job outcome ([`outcome`]): dead at once, `fetch_blocked` in the event trail
//!   with reason `blocked_address`, and `soko_fetch_blocked_total{stage}`.
//!
//! Trusted: the origins of `WHATSAPP_WEB_BASE_URL` and of the image store (`S3_ENDPOINT`,
//! `S3_PUBLIC_BASE_URL`), and `FETCH_ALLOW_PRIVATE_HOSTS` ([`FenceSettings`]). The QC provider's
//! endpoint is operator configuration, not page content, and is not fenced.

pub mod address;
mod outcome;
mod resolver;
mod settings;

pub use address::BlockedRange;
pub use outcome::{BLOCKED_ADDRESS, blocked_outcome, blocked_outcome_with};
pub use settings::{FenceSettings, TrustedHost};

use std::{collections::HashSet, sync::Arc};

use url::{Host, Url};

use crate::metrics::Metrics;

/// Why the fence refused a URL. Its text never holds the URL (it may carry a phone or a signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FenceRefusal {
    #[error("blocked_address: the host resolves to a refused {} address", .0.as_str())]
    Address(BlockedRange),
    #[error("blocked_address: only http and https are fetched")]
    Scheme,
    #[error("blocked_address: URLs with user-info are not fetched")]
    UserInfo,
    #[error("blocked_address: a trusted host is fetched only on its trusted port")]
    UntrustedPort,
}

impl FenceRefusal {
    /// A bounded label for the event trail.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Address(range) => range.as_str(),
            Self::Scheme => "scheme",
            Self::UserInfo => "user_info",
            Self::UntrustedPort => "untrusted_port",
        }
    }

    /// The refusal somewhere in an error's source chain (reqwest wraps the resolver's and the
    /// redirect policy's errors).
    pub fn find_in(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(refusal) = e.downcast_ref::<FenceRefusal>() {
                return Some(*refusal);
            }
            current = e.source();
        }
        None
    }
}

/// What is trusted: exact `host:port` pairs, and the names among them (whose DNS answers the
/// resolver leaves unfiltered).
#[derive(Debug)]
struct Rules {
    trusted: HashSet<TrustedHost>,
    trusted_names: HashSet<String>,
}

impl Rules {
    fn trusts_name(&self, name: &str) -> bool {
        self.trusted_names.contains(&name.to_ascii_lowercase())
    }

    fn check_url(&self, url: &Url) -> Result<(), FenceRefusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FenceRefusal::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FenceRefusal::UserInfo);
        }
        if TrustedHost::of_origin(url).is_some_and(|origin| self.trusted.contains(&origin)) {
            return Ok(());
        }
        let blocked = match url.host() {
            Some(Host::Ipv4(ip)) => address::blocked_v4(ip),
            Some(Host::Ipv6(ip)) => address::blocked_v6(ip),
            // The resolver would pass any address of a trusted name, whatever the port.
            Some(Host::Domain(name)) if self.trusts_name(name) => return Err(FenceRefusal::UntrustedPort),
            Some(Host::Domain(_)) => None,
            None => return Err(FenceRefusal::Scheme),
        };
        blocked.map_or(Ok(()), |range| Err(FenceRefusal::Address(range)))
    }
}

/// Shared by every fetcher of the chain.
pub struct Fence {
    rules: Arc<Rules>,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence").field("trusted", &self.rules.trusted).finish_non_exhaustive()
    }
}

impl Fence {
    /// `origins`: URLs whose origin is trusted too (`WHATSAPP_WEB_BASE_URL`, the image store).
    /// `metrics`: where refusals are counted (`None` in unit tests).
    pub fn new<'a>(settings: &FenceSettings, origins: impl IntoIterator<Item = &'a Url>, metrics: Option<Arc<Metrics>>) -> Self {
        let mut trusted: HashSet<TrustedHost> = settings.allow_private_hosts.iter().cloned().collect();
        trusted.extend(origins.into_iter().filter_map(TrustedHost::of_origin));
        let trusted_names = trusted
            .iter()
            .filter(|t| matches!(Host::parse(&t.host), Ok(Host::Domain(_))))
            .map(|t| t.host.clone())
            .collect();
        Self { rules: Arc::new(Rules { trusted, trusted_names }), metrics }
    }

    /// A fence that trusts exactly these `host:port` entries (unit tests).
    pub fn trusting(entries: &[&str]) -> Self {
        let allow_private_hosts = entries.iter().filter_map(|e| TrustedHost::parse(e).ok()).collect();
        Self::new(&FenceSettings { allow_private_hosts }, [], None)
    }

    /// Checks a URL before it is fetched (each redirect hop is checked by the client itself).
    pub fn check_url(&self, url: &Url) -> Result<(), FenceRefusal> {
        self.rules.check_url(url)
    }

    /// A client builder with the fenced resolver, the checked redirects (at most
    /// `max_redirects`) and no proxy (a proxy would resolve the host where the fence cannot see).
    pub fn client_builder(&self, max_redirects: usize) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(resolver::FencedResolver { rules: self.rules.clone() }))
            .redirect(resolver::redirect_policy(self.rules.clone(), max_redirects))
    }

    /// Counts a refusal of `stage` in `soko_fetch_blocked_total`.
    pub fn count(&self, stage: &'static str) {
        if let Some(metrics) = &self.metrics {
            metrics.fetch_blocked.with_label_values(&[stage]).inc();
        }
    }
}

#[cfg(test)]
#[path = "fence_tests.rs"]
mod tests;
