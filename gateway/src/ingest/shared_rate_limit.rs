//! The rate limiter handlers see: in-process GCRA ([`LocalRateLimiter`]) on
//! a single gateway, or the same GCRA run inside Redis when `REDIS_URL` is
//! set, so N gateways together allow one client no more than the configured
//! rate plus burst.
//!
//! The Redis variant is one round trip per request: `EVALSHA` of a cached Lua
//! script (the `redis` crate's `Script` loads it once and re-sends it only on
//! `NOSCRIPT`, e.g. after a Redis restart). The script reads Redis's own
//! clock (`TIME`), so gateways with skewed clocks still share one timeline,
//! and stores the client's theoretical arrival time under
//! `prefix:rl:<client_id>` (the per-token ceiling: `prefix:rlt:<token key>`) with an expiry of exactly the time until its bucket
//! is full again (a key that expires carries no information).
//!
//! When Redis is unreachable the check falls back to the per-process limiter
//! (see `redis_link`): each gateway then allows up to rate + burst on its own,
//! which is the documented price of staying up.

use std::{sync::Arc, time::Duration};

use redis::Script;

use super::rate_limit::{LocalRateLimiter, Quota, RateDecision};
use crate::redis_link::{RedisLink, RedisUse};

/// KEYS[1]: the client's key. ARGV[1]: emission interval (µs). ARGV[2]: burst.
/// Returns {allowed, remaining, reset_after_us, retry_after_us}, the same
/// arithmetic as `Quota::step`.
const GCRA_SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local backlog = new_tat - now
if backlog <= tolerance then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(backlog / 1000) + 1)
  local remaining = math.floor((tolerance - backlog) / interval)
  if remaining > burst then remaining = burst end
  return {1, remaining, backlog, 0}
end
return {0, 0, tat - now, backlog - tolerance}
";

pub enum RateLimiter {
    Local(LocalRateLimiter),
    Shared(SharedRateLimiter),
}

pub struct SharedRateLimiter {
    link: Arc<RedisLink>,
    /// The key segment after the prefix: `rl` per client, `rlt` per token.
    namespace: &'static str,
    script: Script,
    quota: Quota,
    /// Used while Redis is unreachable.
    fallback: LocalRateLimiter,
}

impl RateLimiter {
    pub fn shared(link: Arc<RedisLink>, namespace: &'static str, quota: Quota, fallback: LocalRateLimiter) -> Self {
        Self::Shared(SharedRateLimiter { link, namespace, script: Script::new(GCRA_SCRIPT), quota, fallback })
    }

    /// One request of `key` (a client id, or a token's rate key).
    pub async fn check(&self, key: &str) -> RateDecision {
        match self {
            Self::Local(local) => local.check(key),
            Self::Shared(shared) => shared.check(key).await,
        }
    }

    /// Drops in-process entries whose bucket is full again; run on a timer.
    pub fn sweep(&self) {
        match self {
            Self::Local(local) => local.sweep(),
            Self::Shared(shared) => shared.fallback.sweep(),
        }
    }
}

impl SharedRateLimiter {
    async fn check(&self, client_id: &str) -> RateDecision {
        let key = self.link.key(self.namespace, client_id);
        let interval_us = (self.quota.emission_interval.as_micros() as u64).max(1);
        let burst = self.quota.burst;
        let script = &self.script;
        let answer = self
            .link
            .call(RedisUse::RateLimit, |mut connection| async move {
                script.key(&key).arg(interval_us).arg(burst).invoke_async::<(i64, i64, i64, i64)>(&mut connection).await
            })
            .await;
        match answer {
            Some((allowed, remaining, reset_us, retry_us)) => RateDecision {
                allowed: allowed == 1,
                limit: burst,
                remaining: u32::try_from(remaining).unwrap_or(0),
                reset_after: micros(reset_us),
                retry_after: micros(retry_us),
            },
            None => self.fallback.check(client_id),
        }
    }
}

fn micros(value: i64) -> Duration {
    Duration::from_micros(u64::try_from(value).unwrap_or(0))
}
