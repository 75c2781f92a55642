//! The per-token ceiling: one GCRA bucket per ingest token, over every
//! `client_id` the token's requests name, so a collector that varies its
//! client id cannot multiply its allowance. It runs the per-client limiter's
//! machinery (in process, or in Redis under `prefix:rlt:<token key>` when
//! `REDIS_URL` is set), keyed by the token's rate key, never the token.
//!
//! Rate: `WHATSAPP_INGEST_RATE_LIMIT_PER_TOKEN_PER_MINUTE` (20× the
//! per-client rate unless set). Burst: the per-client burst scaled by the
//! same factor, at least 1, so the ceiling has the per-client bucket's shape.

use std::sync::Arc;

use super::{
    IngestSettings,
    rate_limit::{LocalRateLimiter, Quota, RateDecision},
    shared_rate_limit::RateLimiter,
};
use crate::redis_link::RedisLink;

/// The Redis key segment of token buckets.
const NAMESPACE: &str = "rlt";
/// Buckets kept in process: tokens are few, this only bounds a rotation's leftovers.
const MAX_TOKENS: usize = 1_024;

pub struct TokenCeiling {
    limiter: RateLimiter,
}

impl TokenCeiling {
    pub fn local(settings: &IngestSettings) -> Self {
        Self { limiter: RateLimiter::Local(local_limiter(settings)) }
    }

    /// The ceiling shared by every gateway through Redis (the in-process
    /// bucket is its fallback while Redis is unreachable).
    pub fn shared(settings: &IngestSettings, link: Arc<RedisLink>) -> Self {
        Self { limiter: RateLimiter::shared(link, NAMESPACE, quota(settings), local_limiter(settings)) }
    }

    /// One request of the token with this rate key.
    pub async fn check(&self, token_key: &str) -> RateDecision {
        self.limiter.check(token_key).await
    }

    /// Drops in-process buckets that are full again; run on a timer.
    pub fn sweep(&self) {
        self.limiter.sweep();
    }
}

fn local_limiter(settings: &IngestSettings) -> LocalRateLimiter {
    LocalRateLimiter::new(quota(settings), MAX_TOKENS)
}

pub fn quota(settings: &IngestSettings) -> Quota {
    let client_rate = u64::from(settings.rate_limit_per_minute.max(1));
    let token_rate = u64::from(settings.rate_limit_per_token_per_minute.max(1));
    let burst = (u64::from(settings.rate_limit_burst) * token_rate).div_ceil(client_rate).max(1);
    Quota::per_minute(settings.rate_limit_per_token_per_minute, u32::try_from(burst).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings(client_rate: u32, client_burst: u32, token_rate: u32) -> IngestSettings {
        IngestSettings {
            tokens: Vec::new(),
            hmac_secrets: Vec::new(),
            webhook_secrets: Vec::new(),
            signature_ttl: Duration::from_secs(300),
            rate_limit_per_minute: client_rate,
            rate_limit_per_token_per_minute: token_rate,
            rate_limit_burst: client_burst,
            rate_limit_max_clients: 1_000,
            max_body_bytes: 1_024,
            max_messages: 10,
            content_hash_window: Duration::from_secs(60),
            allowed_ips: Vec::new(),
            trusted_proxies: Vec::new(),
            default_region: phonenumber::country::Id::KE,
            failures_log_max_rows: 50,
        }
    }

    #[test]
    fn the_burst_scales_with_the_rate() {
        let default = quota(&settings(120, 30, 2_400));
        assert_eq!((default.burst, default.emission_interval), (600, Duration::from_millis(25)));
        assert_eq!(quota(&settings(60_000, 1_000, 6)).burst, 1, "never below one request");
    }

    #[tokio::test]
    async fn one_bucket_per_token_whatever_the_client() {
        let ceiling = TokenCeiling::local(&settings(60, 2, 60));
        assert!(ceiling.check("token-a").await.allowed);
        assert!(ceiling.check("token-a").await.allowed);
        let refused = ceiling.check("token-a").await;
        assert!(!refused.allowed && refused.retry_after > Duration::ZERO);
        assert!(ceiling.check("token-b").await.allowed, "another token has its own bucket");
    }
}
