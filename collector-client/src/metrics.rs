//! The collector's counters, exposed as Prometheus text and as the seed's
//! JSON (`batches_success`, `batches_failed`, `messages_sent`,
//! `spool_depth`, `last_success_at`, `connection_status`).
//!
//! `connection_status` is one of three values:
//! - `open`: the last delivery attempt got a 2xx, or nothing has needed
//!   sending since start and the source is healthy;
//! - `connecting`: at start-up while spooled batches wait for their first
//!   answer, and while a failed attempt waits for its retry;
//! - `closed`: the last delivery round ended without a 2xx (attempts
//!   exhausted, or the gateway refused our credentials with 401/403), or the
//!   source is down (watch directory unreadable).
//!
//! `collector_auth_failing` is 1 while the gateway refuses our credentials
//! (401/403); its reason, which names a status and a gateway error code and
//! never a secret, is what `/healthz` reports. The next 2xx clears both.
//!
//! Labels are bounded: `status` has those three values, `source` the five
//! source kinds, `outcome` and `reason` small fixed sets.

use chrono::{DateTime, SecondsFormat, Utc};
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Open,
    Connecting,
    Closed,
}

impl ConnectionStatus {
    pub const ALL: [ConnectionStatus; 3] = [ConnectionStatus::Open, ConnectionStatus::Connecting, ConnectionStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Open => "open",
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Closed => "closed",
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            0 => ConnectionStatus::Open,
            1 => ConnectionStatus::Connecting,
            _ => ConnectionStatus::Closed,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            ConnectionStatus::Open => 0,
            ConnectionStatus::Connecting => 1,
            ConnectionStatus::Closed => 2,
        }
    }
}

/// Where messages come from: the `source` label's only values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdin,
    Export,
    Watch,
    Waha,
    Evolution,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Stdin => "stdin",
            Source::Export => "export",
            Source::Watch => "watch",
            Source::Waha => "waha",
            Source::Evolution => "evolution",
        }
    }
}

/// Outcome of one HTTP delivery attempt: the `outcome` label's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptLabel {
    Success,
    RateLimited,
    ServerError,
    NetworkError,
    /// A 4xx that is neither a refusal of the batch nor of our credentials (404, 405, 415 …).
    ClientError,
    AuthRefused,
    Rejected,
}

impl AttemptLabel {
    fn as_str(self) -> &'static str {
        match self {
            AttemptLabel::Success => "success",
            AttemptLabel::RateLimited => "rate_limited",
            AttemptLabel::ServerError => "server_error",
            AttemptLabel::NetworkError => "network_error",
            AttemptLabel::ClientError => "client_error",
            AttemptLabel::AuthRefused => "auth_refused",
            AttemptLabel::Rejected => "rejected",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    pub batches_success: IntCounter,
    pub batches_failed: IntCounter,
    pub batches_rejected: IntCounter,
    delivery_attempts: IntCounterVec,
    pub messages_sent: IntCounter,
    /// Messages by what became of them: `created`, `duplicate`, `rejected`.
    messages_outcome: IntCounterVec,
    /// Messages in the batches that wait in the spool.
    pub spool_messages: IntGauge,
    messages_received: IntCounterVec,
    messages_ignored: IntCounterVec,
    pub spool_depth: IntGauge,
    last_success: IntGauge,
    connection_status: IntGaugeVec,
    auth_failing: IntGauge,
    /// Why `auth_failing` is 1; `None` while it is 0.
    auth_failure: Mutex<Option<String>>,
    delivery_state: AtomicU8,
    source_healthy: AtomicBool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("snapshot", &self.snapshot()).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusSnapshot {
    pub batches_success: u64,
    pub batches_failed: u64,
    pub batches_rejected: u64,
    pub messages_sent: u64,
    /// Messages the gateway stored as new.
    pub messages_created: u64,
    /// Messages the gateway already had.
    pub messages_duplicate: u64,
    /// Messages the gateway refused for good: in batches moved to
    /// `rejected/`, or refused one by one in a 2xx answer.
    pub messages_rejected: u64,
    /// Messages waiting in the spool (in `spool_depth` batches).
    pub messages_waiting: i64,
    pub spool_depth: i64,
    pub last_success_at: Option<String>,
    pub connection_status: ConnectionStatus,
    pub auth_failing: bool,
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let metric = IntCounter::new(name, help).unwrap_or_else(|error| unreachable!("static metric {name}: {error}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|error| unreachable!("register {name}: {error}"));
    metric
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|error| unreachable!("static metric {name}: {error}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|error| unreachable!("register {name}: {error}"));
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help).unwrap_or_else(|error| unreachable!("static metric {name}: {error}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|error| unreachable!("register {name}: {error}"));
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let connection_status = IntGaugeVec::new(Opts::new("collector_connection_status", "1 for the collector's current connection status (open, connecting, closed), 0 for the others"), &["status"])
            .unwrap_or_else(|error| unreachable!("static metric: {error}"));
        registry.register(Box::new(connection_status.clone())).unwrap_or_else(|error| unreachable!("register: {error}"));
        let metrics = Self {
            batches_success: counter(&registry, "collector_batches_success_total", "Batches the gateway accepted with a 2xx"),
            batches_failed: counter(&registry, "collector_batches_failed_total", "Delivery rounds that ended without a 2xx (attempts exhausted, or refused)"),
            batches_rejected: counter(&registry, "collector_batches_rejected_total", "Batches the gateway refused as malformed (400, 413, 422), moved to the spool's rejected/ folder"),
            delivery_attempts: counter_vec(&registry, "collector_delivery_attempts_total", "HTTP delivery attempts by outcome", &["outcome"]),
            messages_sent: counter(&registry, "collector_messages_sent_total", "Messages in batches the gateway accepted"),
            messages_outcome: counter_vec(
                &registry,
                "collector_messages_total",
                "Messages by what the gateway did with them: created, duplicate, or rejected (refused for good; kept in the spool's rejected/ folder)",
                &["outcome"],
            ),
            spool_messages: gauge(&registry, "collector_spool_messages", "Messages waiting in the spool (not yet accepted or refused by the gateway)"),
            messages_received: counter_vec(&registry, "collector_messages_received_total", "Messages read from a source and queued for sending", &["source"]),
            messages_ignored: counter_vec(&registry, "collector_messages_ignored_total", "Source items not forwarded, by reason", &["source", "reason"]),
            spool_depth: gauge(&registry, "collector_spool_depth", "Batches waiting in the spool directory"),
            last_success: gauge(&registry, "collector_last_success_timestamp_seconds", "Unix time of the last 2xx from the gateway (0 = never)"),
            auth_failing: gauge(
                &registry,
                "collector_auth_failing",
                "1 while the gateway refuses the collector's credentials (401, or 403: signature, timestamp or source address); batches wait in the spool. 0 after the next 2xx",
            ),
            auth_failure: Mutex::new(None),
            connection_status,
            registry,
            delivery_state: AtomicU8::new(ConnectionStatus::Connecting.to_u8()),
            source_healthy: AtomicBool::new(true),
        };
        metrics.publish_connection_status();
        for outcome in ["created", "duplicate", "rejected"] {
            metrics.messages_outcome.with_label_values(&[outcome]);
        }
        metrics
    }

    pub fn record_attempt(&self, outcome: AttemptLabel) {
        self.delivery_attempts.with_label_values(&[outcome.as_str()]).inc();
    }

    pub fn record_received(&self, source: Source, count: usize) {
        self.messages_received.with_label_values(&[source.as_str()]).inc_by(count as u64);
    }

    /// `reason` must come from a fixed set (e.g. `non_text`, `not_a_message`).
    pub fn record_ignored(&self, source: Source, reason: &'static str, count: usize) {
        self.messages_ignored.with_label_values(&[source.as_str(), reason]).inc_by(count as u64);
    }

    pub fn ignored(&self, source: Source, reason: &'static str) -> u64 {
        self.messages_ignored.with_label_values(&[source.as_str(), reason]).get()
    }

    pub fn received(&self, source: Source) -> u64 {
        self.messages_received.with_label_values(&[source.as_str()]).get()
    }

    /// `outcome` is `created`, `duplicate` or `rejected`.
    pub fn record_outcome(&self, outcome: &'static str, count: usize) {
        self.messages_outcome.with_label_values(&[outcome]).inc_by(count as u64);
    }

    pub fn outcome(&self, outcome: &'static str) -> u64 {
        self.messages_outcome.with_label_values(&[outcome]).get()
    }

    pub fn record_success(&self, messages: usize, at: DateTime<Utc>) {
        self.batches_success.inc();
        self.messages_sent.inc_by(messages as u64);
        self.last_success.set(at.timestamp());
        self.clear_auth_failure();
        self.set_delivery_status(ConnectionStatus::Open);
    }

    /// The gateway refused our credentials; `reason` must hold no secret.
    pub fn set_auth_failure(&self, reason: String) {
        *self.auth_reason() = Some(reason);
        self.auth_failing.set(1);
    }

    pub fn clear_auth_failure(&self) {
        *self.auth_reason() = None;
        self.auth_failing.set(0);
    }

    /// Why the gateway refuses our credentials, while it does.
    pub fn auth_failure(&self) -> Option<String> {
        self.auth_reason().clone()
    }

    fn auth_reason(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.auth_failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set_delivery_status(&self, status: ConnectionStatus) {
        self.delivery_state.store(status.to_u8(), Ordering::Relaxed);
        self.publish_connection_status();
    }

    pub fn delivery_status(&self) -> ConnectionStatus {
        ConnectionStatus::from_u8(self.delivery_state.load(Ordering::Relaxed))
    }

    /// Watch and relay sources report whether they can receive input.
    pub fn set_source_healthy(&self, healthy: bool) {
        self.source_healthy.store(healthy, Ordering::Relaxed);
        self.publish_connection_status();
    }

    pub fn connection_status(&self) -> ConnectionStatus {
        if self.source_healthy.load(Ordering::Relaxed) { self.delivery_status() } else { ConnectionStatus::Closed }
    }

    fn publish_connection_status(&self) {
        let current = self.connection_status();
        for status in ConnectionStatus::ALL {
            self.connection_status.with_label_values(&[status.as_str()]).set(i64::from(status == current));
        }
    }

    pub fn snapshot(&self) -> StatusSnapshot {
        let last = self.last_success.get();
        StatusSnapshot {
            batches_success: self.batches_success.get(),
            batches_failed: self.batches_failed.get(),
            batches_rejected: self.batches_rejected.get(),
            messages_sent: self.messages_sent.get(),
            messages_created: self.outcome("created"),
            messages_duplicate: self.outcome("duplicate"),
            messages_rejected: self.outcome("rejected"),
            messages_waiting: self.spool_messages.get(),
            spool_depth: self.spool_depth.get(),
            last_success_at: (last > 0).then(|| DateTime::from_timestamp(last, 0).map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))).flatten(),
            connection_status: self.connection_status(),
            auth_failing: self.auth_failing.get() != 0,
        }
    }

    pub fn prometheus_text(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "encoding metrics failed");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_status_is_one_hot_and_follows_the_source() {
        let metrics = Metrics::new();
        assert_eq!(metrics.connection_status(), ConnectionStatus::Connecting);
        metrics.record_success(3, Utc::now());
        assert_eq!(metrics.snapshot().connection_status, ConnectionStatus::Open);
        metrics.set_source_healthy(false);
        assert_eq!(metrics.connection_status(), ConnectionStatus::Closed);
        let text = metrics.prometheus_text();
        assert!(text.contains("collector_connection_status{status=\"closed\"} 1"), "{text}");
        assert!(text.contains("collector_connection_status{status=\"open\"} 0"), "{text}");
        assert!(text.contains("collector_messages_sent_total 3"), "{text}");
    }

    #[test]
    fn auth_failing_is_exported_with_help_and_cleared_by_a_success() {
        let metrics = Metrics::new();
        let text = metrics.prometheus_text();
        assert!(text.contains("# HELP collector_auth_failing 1 while the gateway refuses"), "{text}");
        assert!(text.contains("# TYPE collector_auth_failing gauge"), "{text}");
        assert!(text.lines().any(|line| line == "collector_auth_failing 0"), "{text}");
        metrics.set_auth_failure("gateway refused the credentials: invalid_signature (HTTP 403)".into());
        assert!(metrics.prometheus_text().lines().any(|line| line == "collector_auth_failing 1"));
        assert!(metrics.snapshot().auth_failing);
        assert_eq!(metrics.auth_failure().as_deref(), Some("gateway refused the credentials: invalid_signature (HTTP 403)"));
        metrics.record_success(1, Utc::now());
        assert!(metrics.prometheus_text().lines().any(|line| line == "collector_auth_failing 0"));
        assert_eq!((metrics.auth_failure(), metrics.snapshot().auth_failing), (None, false));
    }

    #[test]
    fn the_json_snapshot_has_the_seed_fields() {
        let metrics = Metrics::new();
        let json = serde_json::to_value(metrics.snapshot()).unwrap_or_default();
        for field in [
            "batches_success",
            "batches_failed",
            "messages_sent",
            "spool_depth",
            "last_success_at",
            "connection_status",
            "messages_created",
            "messages_duplicate",
            "messages_rejected",
            "messages_waiting",
        ] {
            assert!(json.get(field).is_some(), "missing {field}: {json}");
        }
        assert_eq!(json["last_success_at"], serde_json::Value::Null);
        assert_eq!(json["connection_status"], "connecting");
    }
}
