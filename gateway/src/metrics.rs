//! Prometheus metrics for `/metrics`. One registry per application, so tests
//! running several apps in one process do not share counters. Labels are
//! bounded: route templates, outcomes and status codes, never a phone number,
//! a message id or a raw path.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder, exponential_buckets,
};

use crate::domain::{LinkDropReason, LinkDrops};

pub struct Metrics {
    registry: Registry,
    /// `soko_build_info{version,commit}`: always 1.
    pub build_info: IntGaugeVec,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub ingest_requests: IntCounterVec,
    pub ingest_messages: IntCounterVec,
    pub auth_failures: IntCounter,
    pub forbidden: IntCounter,
    pub rate_limited: IntCounter,
    pub signature_failures: IntCounter,
    pub batch_size: Histogram,
    pub commit_duration: Histogram,
    pub commit_group_messages: Histogram,
    pub dedupe_index_entries: IntGaugeVec,
    pub failures_dropped: IntCounter,
    pub extraction_runs: IntCounterVec,
    pub extraction_duration: Histogram,
    pub extraction_lag: Histogram,
    pub extraction_messages: IntCounter,
    pub offers_written: IntCounter,
    /// Links extraction made no job for, by `LinkDropReason`.
    pub links_dropped: IntCounterVec,
    pub jobs_queue_depth: IntGaugeVec,
    pub job_duration: HistogramVec,
    pub job_retries: IntCounterVec,
    pub jobs_dead: IntCounterVec,
    pub media: IntCounterVec,
    pub fetch_blocked: IntCounterVec,
}

/// The crate version and the git commit `build.rs` stamped.
pub const BUILD_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const BUILD_COMMIT: &str = env!("SOKO_BUILD_COMMIT");

/// The product chain's stages, in order; every stage's series exist from start-up,
/// so dashboards and alerts see zeros rather than gaps on an idle gateway.
pub const JOB_STAGES: [&str; crate::domain::job::stage::ALL.len()] = crate::domain::job::stage::ALL;
/// States the queue-depth gauge reports.
pub const JOB_DEPTH_STATES: [&str; 3] = ["ready", "running", "dead"];
/// Outcomes of one job attempt, as the duration histogram labels them.
pub const JOB_OUTCOMES: [&str; 4] = ["done", "retry", "terminal", "dead"];
/// How messages are counted: every accepted one, then created or deduped;
/// and those refused one by one (empty messages).
pub const INGEST_MESSAGE_RESULTS: [&str; 4] = ["accepted", "created", "deduped", "refused"];
/// Outcomes of one chat extraction run.
pub const EXTRACTION_OUTCOMES: [&str; 2] = ["ok", "error"];
/// Outcomes of persisting one product image.
pub const MEDIA_OUTCOMES: [&str; 2] = ["persisted", "failed"];

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let latency_buckets = vec![
            0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let metrics = Self {
            http_requests: IntCounterVec::new(
                Opts::new("soko_http_requests_total", "HTTP requests by route template, method and status"),
                &["route", "method", "status"],
            )?,
            http_duration: HistogramVec::new(
                HistogramOpts::new("soko_http_request_duration_seconds", "HTTP request duration by route template")
                    .buckets(latency_buckets.clone()),
                &["route", "method"],
            )?,
            ingest_requests: IntCounterVec::new(
                Opts::new("soko_ingest_requests_total", "Ingest requests by outcome"),
                &["outcome"],
            )?,
            ingest_messages: IntCounterVec::new(
                Opts::new("soko_ingest_messages_total", "Ingested messages: accepted, created, deduped; refused (empty)"),
                &["result"],
            )?,
            auth_failures: IntCounter::new("soko_ingest_auth_failures_total", "Requests refused for a missing or wrong ingest token (401)")?,
            forbidden: IntCounter::new("soko_ingest_forbidden_total", "Requests refused with 403 (signature, timestamp or IP allowlist)")?,
            rate_limited: IntCounter::new("soko_ingest_rate_limited_total", "Requests refused by the per-client rate limit or the per-token ceiling (429)")?,
            signature_failures: IntCounter::new("soko_ingest_signature_failures_total", "Requests with a missing, wrong, stale or future signature")?,
            batch_size: Histogram::with_opts(
                HistogramOpts::new("soko_ingest_batch_size_messages", "Messages per accepted ingest request")
                    .buckets(vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0]),
            )?,
            commit_duration: Histogram::with_opts(
                HistogramOpts::new("soko_ingest_commit_duration_seconds", "Duration of one group commit, fsync included")
                    .buckets(latency_buckets),
            )?,
            commit_group_messages: Histogram::with_opts(
                HistogramOpts::new("soko_ingest_commit_group_messages", "Messages written by one group commit")
                    .buckets(exponential_buckets(1.0, 2.0, 14)?),
            )?,
            dedupe_index_entries: IntGaugeVec::new(
                Opts::new("soko_dedupe_index_entries", "Entries in the embedded writer's in-memory dedupe index (both kinds keep the content-hash window)"),
                &["kind"],
            )?,
            failures_dropped: IntCounter::new(
                "soko_failures_log_dropped_total",
                "Rejected-request records dropped because the failures buffer was full",
            )?,
            extraction_runs: IntCounterVec::new(
                Opts::new("soko_extraction_runs_total", "Chat extraction runs by outcome"),
                &["outcome"],
            )?,
            extraction_duration: Histogram::with_opts(
                HistogramOpts::new("soko_extraction_run_duration_seconds", "Duration of one chat extraction run")
                    .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            )?,
            extraction_lag: Histogram::with_opts(
                HistogramOpts::new("soko_extraction_lag_seconds", "Time from a message being stored to its offer being written")
                    .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 11.0, 12.5, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0]),
            )?,
            extraction_messages: IntCounter::new("soko_extraction_messages_total", "Messages read by extraction runs")?,
            offers_written: IntCounter::new("soko_offers_total", "New offers written by extraction")?,
            links_dropped: IntCounterVec::new(
                Opts::new("soko_links_dropped_total", "Product and catalog links extraction made no job for, by reason"),
                &["reason"],
            )?,
            jobs_queue_depth: IntGaugeVec::new(
                Opts::new("soko_jobs_queue_depth", "Product-chain jobs by stage and state"),
                &["stage", "state"],
            )?,
            job_duration: HistogramVec::new(
                HistogramOpts::new("soko_job_duration_seconds", "Duration of one job attempt by stage and outcome")
                    .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
                &["stage", "outcome"],
            )?,
            job_retries: IntCounterVec::new(
                Opts::new("soko_job_retries_total", "Job attempts that failed and were scheduled again"),
                &["stage"],
            )?,
            jobs_dead: IntCounterVec::new(
                Opts::new("soko_jobs_dead_total", "Jobs moved to the dead-letter state"),
                &["stage"],
            )?,
            media: IntCounterVec::new(
                Opts::new("soko_media_total", "Product images persisted to the image store, by outcome"),
                &["outcome"],
            )?,
            fetch_blocked: IntCounterVec::new(
                Opts::new("soko_fetch_blocked_total", "Product-chain fetches the fence refused, by job stage"),
                &["stage"],
            )?,
            build_info: IntGaugeVec::new(
                Opts::new("soko_build_info", "The running build: its version and git commit (\"unknown\" outside a checkout); always 1"),
                &["version", "commit"],
            )?,
            registry,
        };
        metrics.register_all()?;
        metrics.build_info.with_label_values(&[BUILD_VERSION, BUILD_COMMIT]).set(1);
        // process_cpu_seconds_total, process_resident_memory_bytes,
        // process_open_fds, process_start_time_seconds, … (Linux /proc).
        #[cfg(target_os = "linux")]
        metrics.registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        metrics.touch_product_chain_series();
        metrics.touch_ingest_series();
        Ok(metrics)
    }

    fn register_all(&self) -> Result<(), prometheus::Error> {
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.http_requests.clone()),
            Box::new(self.http_duration.clone()),
            Box::new(self.ingest_requests.clone()),
            Box::new(self.ingest_messages.clone()),
            Box::new(self.auth_failures.clone()),
            Box::new(self.forbidden.clone()),
            Box::new(self.rate_limited.clone()),
            Box::new(self.signature_failures.clone()),
            Box::new(self.batch_size.clone()),
            Box::new(self.commit_duration.clone()),
            Box::new(self.commit_group_messages.clone()),
            Box::new(self.dedupe_index_entries.clone()),
            Box::new(self.failures_dropped.clone()),
            Box::new(self.extraction_runs.clone()),
            Box::new(self.extraction_duration.clone()),
            Box::new(self.extraction_lag.clone()),
            Box::new(self.extraction_messages.clone()),
            Box::new(self.offers_written.clone()),
            Box::new(self.links_dropped.clone()),
            Box::new(self.jobs_queue_depth.clone()),
            Box::new(self.job_duration.clone()),
            Box::new(self.job_retries.clone()),
            Box::new(self.jobs_dead.clone()),
            Box::new(self.media.clone()),
            Box::new(self.fetch_blocked.clone()),
            Box::new(self.build_info.clone()),
        ];
        for collector in collectors {
            self.registry.register(collector)?;
        }
        Ok(())
    }

    fn touch_product_chain_series(&self) {
        for stage in JOB_STAGES {
            for state in JOB_DEPTH_STATES {
                self.jobs_queue_depth.with_label_values(&[stage, state]).set(0);
            }
            for outcome in JOB_OUTCOMES {
                let _ = self.job_duration.with_label_values(&[stage, outcome]);
            }
            self.job_retries.with_label_values(&[stage]).inc_by(0);
            self.jobs_dead.with_label_values(&[stage]).inc_by(0);
            self.fetch_blocked.with_label_values(&[stage]).inc_by(0);
        }
        for outcome in MEDIA_OUTCOMES {
            self.media.with_label_values(&[outcome]).inc_by(0);
        }
    }

    /// Ingest and extraction series the dashboards divide by or alert on,
    /// at zero from start-up: a series born at its first increment hides
    /// that increment from `rate()`, so a fresh gateway's first batch and
    /// first failed extraction would never show.
    fn touch_ingest_series(&self) {
        for result in INGEST_MESSAGE_RESULTS {
            self.ingest_messages.with_label_values(&[result]).inc_by(0);
        }
        self.ingest_requests.with_label_values(&["accepted"]).inc_by(0);
        for outcome in EXTRACTION_OUTCOMES {
            self.extraction_runs.with_label_values(&[outcome]).inc_by(0);
        }
        for reason in LinkDropReason::ALL {
            self.links_dropped.with_label_values(&[reason.as_str()]).inc_by(0);
        }
    }

    /// Counts one written page's dropped links.
    pub fn count_links_dropped(&self, drops: &LinkDrops) {
        for (reason, count) in drops.by_reason().filter(|(_, n)| *n > 0) {
            self.links_dropped.with_label_values(&[reason.as_str()]).inc_by(count);
        }
    }

    /// Registers a collector owned by another part of the gateway.
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::with_capacity(16 * 1024);
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_the_dashboards_rate_exist_at_zero_on_a_fresh_gateway() {
        let text = Metrics::new().and_then(|metrics| metrics.render()).expect("metrics render");
        for series in [
            r#"soko_ingest_messages_total{result="accepted"} 0"#,
            r#"soko_ingest_messages_total{result="deduped"} 0"#,
            r#"soko_ingest_messages_total{result="refused"} 0"#,
            r#"soko_ingest_requests_total{outcome="accepted"} 0"#,
            r#"soko_extraction_runs_total{outcome="error"} 0"#,
            r#"soko_jobs_dead_total{stage="hydrate"} 0"#,
            r#"soko_media_total{outcome="failed"} 0"#,
            r#"soko_links_dropped_total{reason="per_message_cap"} 0"#,
            r#"soko_links_dropped_total{reason="per_chat_hourly_cap"} 0"#,
            r#"soko_links_dropped_total{reason="invalid_product_id"} 0"#,
            "process_resident_memory_bytes ",
            "process_cpu_seconds_total ",
            "process_open_fds ",
            "process_start_time_seconds ",
        ] {
            assert!(text.contains(series), "missing `{series}` in:\n{text}");
        }
    }
}
