//! The two hooks that keep a reqwest client inside the fence: a DNS resolver that drops refused
//! addresses from every answer (the connection then goes to an address that was checked, so a
//! name that resolves differently the second time cannot slip past), and a redirect policy that
//! runs the URL checks of [`super::Rules::check_url`] on every hop. Host names that are IP
//! literals never reach the resolver; the URL check covers them, on the first URL and each hop.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{FenceRefusal, Rules, address::blocked_range};

pub(super) struct FencedResolver {
    pub(super) rules: Arc<Rules>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for FencedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_checked(self.rules.clone(), name.as_str().to_owned()))
    }
}

/// Every address of `host` that the fence accepts (all of them for a trusted name); a refusal
/// when it accepts none of them.
async fn resolve_checked(rules: Arc<Rules>, host: String) -> Result<Addrs, BoxError> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
    if rules.trusts_name(&host) {
        return Ok(Box::new(resolved.into_iter()));
    }
    let mut refused = None;
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|addr| match blocked_range(addr.ip()) {
            None => true,
            Some(range) => {
                refused.get_or_insert(range);
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refused) {
        (true, Some(range)) => Err(Box::new(FenceRefusal::Address(range))),
        _ => Ok(Box::new(allowed.into_iter())),
    }
}

/// Follows at most `limit` redirects, each one checked like the first URL.
pub(super) fn redirect_policy(rules: Arc<Rules>, limit: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > limit {
            return attempt.error(TooManyRedirects(limit));
        }
        match rules.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refusal) => attempt.error(refusal),
        }
    })
}

#[derive(Debug, thiserror::Error)]
#[error("more than {0} redirects")]
struct TooManyRedirects(usize);
