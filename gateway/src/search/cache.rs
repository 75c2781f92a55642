//! The search answer cache: in process (moka), or in Redis when the gateway has a Redis
//! link (shared by every replica; the in-process cache stands in while Redis is down).
//! Keys carry the index generation read before the query ran, and every commit that writes
//! offers, products or vendors moves it, so an answer is never served after a newer commit
//! changed what it would say; the vector retrievers' watermarks are in the key too. Entries expire after `SEARCH_CACHE_TTL_SECONDS`.

use std::{sync::Arc, time::Duration};

use prometheus::IntCounterVec;
use sha2::{Digest, Sha256};

use super::{CachedAnswer, request::SearchRequest};
use crate::redis_link::{RedisLink, RedisUse};

/// Entries the in-process cache keeps at most.
const CAPACITY: u64 = 10_000;

pub struct SearchCache {
    local: moka::sync::Cache<String, Arc<CachedAnswer>>,
    redis: Option<Arc<RedisLink>>,
    ttl: Duration,
    counter: IntCounterVec,
}

/// The cache key: a digest of the generation, the vector retrievers' watermarks and the
/// checked request (its canonical form).
pub fn key(generation: i64, followed: &[i64], request: &SearchRequest) -> String {
    let mut digest = Sha256::new();
    digest.update(format!("{generation}\n{followed:?}\n{request:?}"));
    hex::encode(digest.finalize())
}

impl SearchCache {
    pub fn new(ttl: Duration, redis: Option<Arc<RedisLink>>, counter: IntCounterVec) -> Self {
        let local = moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(ttl)
            .build();
        Self {
            local,
            redis,
            ttl,
            counter,
        }
    }

    /// The cached answer under `key`, counting a hit or a miss.
    pub async fn get(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        let found = match self.shared(key).await {
            Some(found) => found,
            None => self.local.get(key),
        };
        self.counter
            .with_label_values(&[if found.is_some() { "hit" } else { "miss" }])
            .inc();
        found
    }

    /// `Some(answer or None)` when Redis answered; `None` to use the in-process cache.
    async fn shared(&self, key: &str) -> Option<Option<Arc<CachedAnswer>>> {
        let redis = self.redis.as_ref()?;
        let redis_key = redis.key("search", key);
        let raw: Option<String> = redis
            .call(RedisUse::SearchCache, |mut connection| async move {
                redis::cmd("GET")
                    .arg(redis_key)
                    .query_async::<Option<String>>(&mut connection)
                    .await
            })
            .await?;
        Some(
            raw.and_then(|json| serde_json::from_str(&json).ok())
                .map(Arc::new),
        )
    }

    pub async fn put(&self, key: String, answer: Arc<CachedAnswer>) {
        if let Some(redis) = &self.redis
            && let Ok(json) = serde_json::to_string(answer.as_ref())
        {
            let redis_key = redis.key("search", &key);
            let seconds = self.ttl.as_secs().max(1);
            let stored = redis
                .call(RedisUse::SearchCache, |mut connection| async move {
                    redis::cmd("SET")
                        .arg(redis_key)
                        .arg(json)
                        .arg("EX")
                        .arg(seconds)
                        .query_async::<()>(&mut connection)
                        .await
                })
                .await;
            if stored.is_some() {
                return;
            }
        }
        self.local.insert(key, answer);
    }
}
