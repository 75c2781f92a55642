//! Per-client rate limit: GCRA (the token bucket expressed as one
//! "theoretical arrival time" per client), one token per request.
//!
//! Memory stays bounded however many client ids appear: the table is sharded,
//! each shard has a fixed capacity, entries whose bucket is full again carry
//! no information and are dropped first, and if a shard is still full the
//! entry closest to a full bucket is evicted (that client at worst gets a
//! little extra allowance, never less). This is why the limiter is ours and
//! not governor's keyed store, which only shrinks on `retain_recent`.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    time::{Duration, Instant},
};

use parking_lot::Mutex;

const SHARDS: usize = 16;

/// The outcome of one check, with what the `X-RateLimit-*` headers report.
#[derive(Debug, Clone, PartialEq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Time until the bucket is full again.
    pub reset_after: Duration,
    /// Time until one request is allowed (zero when allowed).
    pub retry_after: Duration,
}

impl RateDecision {
    #[cfg(test)]
    pub fn denied_for_tests() -> Self {
        Self { allowed: false, limit: 1, remaining: 0, reset_after: Duration::from_secs(1), retry_after: Duration::from_secs(1) }
    }
}

/// GCRA parameters shared by the in-process limiter and the Redis script.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    /// Time between requests at the sustained rate.
    pub emission_interval: Duration,
    pub burst: u32,
}

impl Quota {
    pub fn per_minute(rate_per_minute: u32, burst: u32) -> Self {
        let rate = rate_per_minute.max(1);
        Self { emission_interval: Duration::from_secs(60) / rate, burst: burst.max(1) }
    }

    fn tolerance_nanos(&self) -> u128 {
        self.emission_interval.as_nanos() * u128::from(self.burst)
    }

    /// One GCRA step. `tat` and `now` are nanoseconds on one monotonic clock;
    /// returns the decision and the new arrival time to store when allowed.
    pub fn step(&self, tat: Option<u128>, now: u128) -> (RateDecision, Option<u128>) {
        let interval = self.emission_interval.as_nanos().max(1);
        let tolerance = self.tolerance_nanos();
        let tat = tat.unwrap_or(now).max(now);
        let new_tat = tat + interval;
        let backlog = new_tat - now;
        if backlog <= tolerance {
            let remaining = ((tolerance - backlog) / interval).min(u128::from(self.burst)) as u32;
            let decision = RateDecision {
                allowed: true,
                limit: self.burst,
                remaining,
                reset_after: nanos(backlog),
                retry_after: Duration::ZERO,
            };
            (decision, Some(new_tat))
        } else {
            let decision = RateDecision {
                allowed: false,
                limit: self.burst,
                remaining: 0,
                reset_after: nanos(tat - now),
                retry_after: nanos(backlog - tolerance),
            };
            (decision, None)
        }
    }
}

fn nanos(value: u128) -> Duration {
    Duration::from_nanos(u64::try_from(value).unwrap_or(u64::MAX))
}

pub struct LocalRateLimiter {
    quota: Quota,
    epoch: Instant,
    shard_capacity: usize,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<String, u128>>>,
}

impl LocalRateLimiter {
    pub fn new(quota: Quota, max_clients: usize) -> Self {
        Self {
            quota,
            epoch: Instant::now(),
            shard_capacity: (max_clients / SHARDS).max(1),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    pub fn check(&self, client_id: &str) -> RateDecision {
        self.check_at(client_id, Instant::now())
    }

    pub fn check_at(&self, client_id: &str, at: Instant) -> RateDecision {
        let now = at.saturating_duration_since(self.epoch).as_nanos();
        let shard_index = (self.hasher.hash_one(client_id) as usize) % SHARDS;
        let mut shard = self.shards[shard_index].lock();
        let (decision, new_tat) = self.quota.step(shard.get(client_id).copied(), now);
        if let Some(new_tat) = new_tat {
            if let Some(slot) = shard.get_mut(client_id) {
                *slot = new_tat;
            } else {
                if shard.len() >= self.shard_capacity {
                    make_room(&mut shard, now, self.shard_capacity);
                }
                shard.insert(client_id.to_owned(), new_tat);
            }
        }
        decision
    }

    /// Drops entries whose bucket is full again; run on a timer.
    pub fn sweep(&self) {
        let now = self.epoch.elapsed().as_nanos();
        for shard in &self.shards {
            shard.lock().retain(|_, tat| *tat > now);
        }
    }

    pub fn tracked_clients(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

fn make_room(shard: &mut HashMap<String, u128>, now: u128, capacity: usize) {
    shard.retain(|_, tat| *tat > now);
    if shard.len() >= capacity
        && let Some(victim) = shard.iter().min_by_key(|(_, tat)| **tat).map(|(k, _)| k.clone())
    {
        shard.remove(&victim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn burst_then_sustained_rate() {
        let limiter = LocalRateLimiter::new(Quota::per_minute(60, 3), 1_000);
        let t0 = Instant::now();
        let remaining: Vec<u32> = (0..3).map(|_| limiter.check_at("c", t0)).map(|d| {
            assert!(d.allowed);
            d.remaining
        }).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let denied = limiter.check_at("c", t0);
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after, Duration::from_secs(1));
        assert_eq!(denied.reset_after, Duration::from_secs(3));
        assert!(limiter.check_at("c", t0 + Duration::from_secs(1)).allowed);
        assert!(!limiter.check_at("c", t0 + Duration::from_secs(1)).allowed);
        // Other clients have their own bucket.
        assert!(limiter.check_at("other", t0).allowed);
    }

    #[test]
    fn memory_stays_bounded_under_client_id_churn() {
        let limiter = LocalRateLimiter::new(Quota::per_minute(1, 5), 160);
        let t0 = Instant::now();
        for i in 0..50_000 {
            limiter.check_at(&format!("client-{i}"), t0);
        }
        assert!(limiter.tracked_clients() <= 160, "{}", limiter.tracked_clients());
    }

    #[test]
    fn sweep_forgets_full_buckets_only() {
        let limiter = LocalRateLimiter::new(Quota::per_minute(6_000, 2), 1_000);
        limiter.check("idle");
        std::thread::sleep(Duration::from_millis(30));
        limiter.sweep();
        assert_eq!(limiter.tracked_clients(), 0);
    }

    proptest! {
        /// Over any window, allowed requests never exceed burst + elapsed/interval.
        #[test]
        fn never_allows_more_than_rate_plus_burst(
            rate in 1u32..600, burst in 1u32..20, gaps in proptest::collection::vec(0u64..2_000, 1..300)
        ) {
            let quota = Quota::per_minute(rate, burst);
            let mut tat = None;
            let mut now = 0u128;
            let mut allowed = 0u128;
            for gap in gaps {
                now += u128::from(gap) * 1_000_000;
                let (decision, new_tat) = quota.step(tat, now);
                if decision.allowed { allowed += 1; tat = new_tat; }
                prop_assert_eq!(decision.allowed, new_tat.is_some());
            }
            let interval = quota.emission_interval.as_nanos();
            prop_assert!(allowed <= u128::from(burst) + now / interval + 1);
        }
    }
}
