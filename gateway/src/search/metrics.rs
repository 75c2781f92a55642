//! Search's Prometheus series: requests by mode and outcome, their duration by mode, and
//! cache hits and misses. Every label value is from a fixed set, and every series exists
//! from start-up.

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};

use super::Mode;
use crate::metrics::Metrics;

/// `mode` labels: the retrievers that answered, or `none` (a refused or failed request).
pub const MODES: [&str; 5] = ["text", "semantic", "visual", "hybrid", "none"];
pub const OUTCOMES: [&str; 4] = ["ok", "bad_request", "unavailable", "error"];
pub const CACHE_RESULTS: [&str; 2] = ["hit", "miss"];

pub struct SearchMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    pub cache: IntCounterVec,
}

impl SearchMetrics {
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "soko_search_requests_total",
                "Search requests, by the retrievers that answered (mode) and outcome",
            ),
            &["mode", "outcome"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "soko_search_duration_seconds",
                "Time to answer a search, cache hits included, by mode",
            )
            .buckets(vec![
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
            ]),
            &["mode"],
        )?;
        let cache = IntCounterVec::new(
            Opts::new("soko_search_cache_total", "Search cache lookups, by result"),
            &["result"],
        )?;
        for mode in MODES {
            duration.with_label_values(&[mode]);
            for outcome in OUTCOMES {
                requests.with_label_values(&[mode, outcome]).inc_by(0);
            }
        }
        for result in CACHE_RESULTS {
            cache.with_label_values(&[result]).inc_by(0);
        }
        metrics.register(Box::new(requests.clone()))?;
        metrics.register(Box::new(duration.clone()))?;
        metrics.register(Box::new(cache.clone()))?;
        Ok(Self {
            requests,
            duration,
            cache,
        })
    }

    pub fn observe(&self, mode: Option<Mode>, outcome: &str, elapsed: Duration) {
        let mode = mode.map_or("none", Mode::label);
        self.requests.with_label_values(&[mode, outcome]).inc();
        self.duration
            .with_label_values(&[mode])
            .observe(elapsed.as_secs_f64());
    }
}
