//! The gateway's one link to Redis (`REDIS_URL`), shared by the rate limiter
//! and the dedupe fast path. Redis is an accelerator and a coordinator, never
//! the place where anything acknowledged lives, so the link is built to fail
//! fast and quietly:
//!
//! - every call runs under a short deadline (`REDIS_TIMEOUT_MS`, 100 ms); a
//!   timeout or error flips the link to *fallback* and callers use their
//!   in-process or database path from then on without touching Redis, so an
//!   outage costs one slow request per gateway, not one per request;
//! - a probe task pings every [`PROBE_INTERVAL`] and flips the link back when
//!   Redis answers (the `ConnectionManager` reconnects underneath);
//! - each transition logs one line and sets `soko_redis_fallback` (1 while in
//!   fallback); `soko_redis_fallback_total{use}` counts the calls that fell
//!   back, by user (`rate_limit`, `dedupe`, `qc_cache`).
//!
//! Every key is namespaced by `REDIS_KEY_PREFIX` ([`RedisLink::key`]), so
//! tenants and tests sharing one Redis never collide.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use prometheus::{IntCounterVec, IntGauge, Opts};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio_util::sync::CancellationToken;

use secrecy::{ExposeSecret, SecretString};

use crate::metrics::Metrics;

/// Scale-out: shared rate limit and dedupe fast path (`REDIS_URL`,
/// `REDIS_KEY_PREFIX`, `REDIS_TIMEOUT_MS`, read by `config`).
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: SecretString,
    /// Every key starts with `prefix:`, so tenants and tests do not collide.
    pub key_prefix: String,
    /// A Redis call slower than this falls back (and switches the gateway to
    /// fallback until the probe sees Redis again).
    pub call_timeout: Duration,
}

/// How often a link in fallback checks whether Redis is back (and a healthy
/// link checks it is still there).
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// Who fell back, for the bounded `use` label.
#[derive(Debug, Clone, Copy)]
pub enum RedisUse {
    RateLimit,
    Dedupe,
    /// The QC stage's LLM answer cache (its fallback is the `qc_answer_cache` table).
    QcCache,
    /// Search answers (`search/cache.rs`; its fallback is the in-process cache).
    SearchCache,
}

impl RedisUse {
    fn label(self) -> &'static str {
        match self {
            Self::RateLimit => "rate_limit",
            Self::Dedupe => "dedupe",
            Self::QcCache => "qc_cache",
            Self::SearchCache => "search_cache",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedisLinkError {
    #[error("REDIS_URL is not a valid Redis URL: {0}")]
    InvalidUrl(String),
    #[error("registering the Redis metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

pub struct RedisLink {
    manager: ConnectionManager,
    prefix: String,
    call_timeout: Duration,
    healthy: AtomicBool,
    fallback_gauge: IntGauge,
    fallback_calls: IntCounterVec,
}

impl RedisLink {
    /// Builds the link without connecting: a gateway starts (in fallback)
    /// even when Redis is down, and the probe brings Redis in when it answers.
    pub fn new(config: &RedisSettings, metrics: &Metrics) -> Result<Arc<Self>, RedisLinkError> {
        let (url, prefix, call_timeout) = (config.url.expose_secret(), config.key_prefix.as_str(), config.call_timeout);
        let client = redis::Client::open(url).map_err(|e| RedisLinkError::InvalidUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(call_timeout))
            .set_response_timeout(Some(call_timeout))
            .set_number_of_retries(1)
            .set_max_delay(PROBE_INTERVAL);
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| RedisLinkError::InvalidUrl(e.to_string()))?;
        let fallback_gauge = IntGauge::new(
            "soko_redis_fallback",
            "1 while Redis is unreachable and the gateway uses its in-process limiter and database-only dedupe",
        )?;
        let fallback_calls = IntCounterVec::new(
            Opts::new("soko_redis_fallback_total", "Calls that skipped Redis because it was unreachable, by user"),
            &["use"],
        )?;
        for user in [RedisUse::RateLimit, RedisUse::Dedupe, RedisUse::QcCache, RedisUse::SearchCache] {
            fallback_calls.with_label_values(&[user.label()]).inc_by(0);
        }
        metrics.register(Box::new(fallback_gauge.clone()))?;
        metrics.register(Box::new(fallback_calls.clone()))?;
        // Start in fallback until the first probe answers; no log line for it.
        fallback_gauge.set(1);
        Ok(Arc::new(Self {
            manager,
            prefix: prefix.to_owned(),
            call_timeout,
            healthy: AtomicBool::new(false),
            fallback_gauge,
            fallback_calls,
        }))
    }

    /// `prefix:kind:id`.
    pub fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Runs `call` against Redis under the deadline. `None` means "use your
    /// fallback": Redis is known to be down, or this call failed (which also
    /// switches the link to fallback).
    pub async fn call<T, F, Fut>(&self, user: RedisUse, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.is_healthy() {
            self.fallback_calls.with_label_values(&[user.label()]).inc();
            return None;
        }
        let outcome = tokio::time::timeout(self.call_timeout, call(self.manager.clone())).await;
        match outcome {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.mark_down(&error.to_string());
                self.fallback_calls.with_label_values(&[user.label()]).inc();
                None
            }
            Err(_) => {
                self.mark_down("no answer within the call deadline");
                self.fallback_calls.with_label_values(&[user.label()]).inc();
                None
            }
        }
    }

    fn mark_down(&self, reason: &str) {
        if self.healthy.swap(false, Ordering::Relaxed) {
            self.fallback_gauge.set(1);
            tracing::warn!(
                reason,
                "Redis unreachable: rate limit falls back to the per-process limiter, dedupe and the QC answer cache to the database"
            );
        }
    }

    fn mark_up(&self) {
        if !self.healthy.swap(true, Ordering::Relaxed) {
            self.fallback_gauge.set(0);
            tracing::info!("Redis reachable: shared rate limit and dedupe fast path in use");
        }
    }

    async fn ping(&self) -> bool {
        let mut connection = self.manager.clone();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut connection);
        matches!(tokio::time::timeout(self.call_timeout, ping).await, Ok(Ok(_)))
    }

    /// Probes until shutdown: the only way a link leaves fallback.
    pub async fn run_probe(self: Arc<Self>, shutdown: CancellationToken) {
        let mut first = true;
        loop {
            match self.ping().await {
                true => self.mark_up(),
                false if first => tracing::warn!(
                    "Redis unreachable at start-up: per-process rate limit and database-only dedupe until it answers"
                ),
                false => self.mark_down("PING failed"),
            }
            first = false;
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(PROBE_INTERVAL) => {},
            }
        }
    }
}
