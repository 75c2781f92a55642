//! The JSON reports of `smoke` and `load`, and writing them out.
//!
//! Definitions used throughout (also written into every load report):
//! - **skipped**: a message whose request did not get a 2xx answer (429,
//!   any other 4xx, 5xx, timeout or transport error). `skipped_ratio` is
//!   skipped messages / messages sent. Skipped batches are not retried.
//! - **error ratio**: requests without a 2xx answer / requests sent.
//! - **dedupe ratio**: `deduped` / (`created` + `deduped`) summed over 2xx
//!   answers.
//! - **extraction success ratio**: diagnostics `extracted` movement /
//!   `created` movement over the run.
//! - **ingest latency**: request written to full answer read, per request.

use crate::cpu::CpuUse;
use crate::diagnostics::Counters;
use crate::offer_latency::OfferLatency;
use crate::outcome::{ExitStatus, Failure, SloLimits, SloObservation};
use crate::series::SecondPoint;
use crate::stats::{LatencyHistogram, LatencySummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFINITIONS: &[(&str, &str)] = &[
    ("skipped", "messages whose request got no 2xx answer (429, other 4xx, 5xx, timeout, transport error); not retried"),
    ("skipped_ratio", "skipped messages / messages sent"),
    ("error_ratio", "requests without a 2xx answer (any other status, timeout, transport error) / requests sent"),
    ("dedupe_ratio", "deduped / (created + deduped), summed over 2xx answers"),
    ("extraction_success_ratio", "diagnostics extracted delta / diagnostics created delta over the run"),
    ("ingest_latency", "time from writing the request to reading the whole answer, 2xx answers only"),
    ("messages_per_second", "messages acknowledged with 2xx / send phase wall time; rejected requests never count"),
    ("latency_histogram", "ingest latency of 2xx answers from the HDR recorder, in log buckets each sqrt(2) wider than the last; a bucket holds values above the previous le_ms up to its own"),
    ("series", "per second of the send phase, by when each request finished: requests, accepted messages (2xx) and their rate over span_seconds, failed requests by status or transport error kind, 2xx latency percentiles"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: ExitStatus,
    pub exit_code: i32,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub sent: u64,
    pub ok: u64,
    pub rate_limited: u64,
    pub transport_errors: u64,
    /// HTTP status → count; transport failures are absent here.
    pub status_counts: BTreeMap<String, u64>,
    /// Transport failure kind (`connect`, `timeout`, `http`) → count.
    pub transport_error_kinds: BTreeMap<String, u64>,
    /// First answer text seen per non-2xx status or error kind, shortened.
    pub error_samples: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageCounts {
    pub planned: u64,
    pub sent: u64,
    pub unique_sent: u64,
    pub duplicates_sent: u64,
    pub acknowledged: u64,
    pub created: u64,
    pub deduped: u64,
    pub skipped: u64,
    /// Messages in 2xx answers whose body had no readable `created`/`deduped`.
    pub unreadable_acks: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    pub skipped_ratio: Option<f64>,
    /// Requests without a 2xx answer / requests sent.
    #[serde(default)]
    pub error_ratio: Option<f64>,
    pub dedupe_ratio: Option<f64>,
    pub extraction_success_ratio: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latencies {
    pub ingest: Option<LatencySummary>,
    pub all_answers: Option<LatencySummary>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub elapsed_seconds: f64,
    pub requests_per_second: Option<f64>,
    pub messages_per_second: Option<f64>,
    pub sent_messages_per_second: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticsReport {
    pub url: String,
    /// Which credential was sent (its kind and header, never its value).
    #[serde(default)]
    pub credential: String,
    pub before: Option<Counters>,
    pub after: Option<Counters>,
    pub delta: Option<Counters>,
    pub samples: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorReport {
    pub concurrency: usize,
    pub transport: String,
    pub prepare_seconds: f64,
    pub body_bytes_sent: u64,
    pub cpu: Option<CpuUse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloReport {
    pub limits: SloLimits,
    pub observed: SloObservation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub mode: String,
    pub harness_version: String,
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    pub settings: serde_json::Value,
    pub requests: RequestCounts,
    pub messages: MessageCounts,
    pub ratios: Ratios,
    pub latency_ms: Latencies,
    /// The ingest latency histogram (HDR, log buckets); absent in reports
    /// of older harness versions.
    #[serde(default)]
    pub latency_histogram: Option<LatencyHistogram>,
    /// One point per second of the send phase.
    #[serde(default)]
    pub series: Vec<SecondPoint>,
    pub ingest_to_offer_ms: OfferLatency,
    pub throughput: Throughput,
    pub diagnostics: Option<DiagnosticsReport>,
    pub slo: SloReport,
    pub generator: GeneratorReport,
    pub definitions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmokeRequest {
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub request_id: Option<String>,
    pub created: Option<u64>,
    pub deduped: Option<u64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmokeReport {
    pub mode: String,
    pub harness_version: String,
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    pub settings: serde_json::Value,
    pub chat_title: String,
    pub message_ids: Vec<String>,
    pub request: SmokeRequest,
    pub diagnostics: Option<DiagnosticsReport>,
    /// Acknowledgement to `created` moving in diagnostics.
    pub time_to_created_ms: Option<f64>,
    /// Acknowledgement to `extracted` moving: the smoke's ingest-to-offer latency.
    pub time_to_extracted_ms: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not serialise the report: {0}")]
    Serialise(#[from] serde_json::Error),
    #[error("could not write the report to {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// Writes the report (pretty JSON) to `path`, creating parent folders, or
/// prints it on stdout. Returns where it went, for the ALERT line.
pub fn write_report<R: Serialize>(path: Option<&Path>, report: &R) -> Result<String, ReportError> {
    let json = serde_json::to_string_pretty(report)?;
    let Some(path) = path else {
        println!("{json}");
        return Ok("stdout".to_owned());
    };
    let write_error = |source| ReportError::Write { path: path.display().to_string(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    std::fs::write(path, json + "\n").map_err(write_error)?;
    Ok(path.display().to_string())
}

pub fn definitions() -> BTreeMap<String, String> {
    DEFINITIONS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Shortens an error answer for the report: the `error.message`/`error.code`
/// of the gateway's shape, FastAPI's `detail`, or the first 160 characters.
pub fn error_text(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let error = &value["error"];
        let parts: Vec<&str> = [error["code"].as_str(), error["message"].as_str(), value["detail"].as_str()].into_iter().flatten().collect();
        if !parts.is_empty() {
            return parts.join(": ");
        }
    }
    String::from_utf8_lossy(body).chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_reads_both_error_shapes() {
        assert_eq!(error_text(br#"{"error":{"code":"rate_limited","message":"ingest rate limit exceeded","request_id":"r"}}"#), "rate_limited: ingest rate limit exceeded");
        assert_eq!(error_text(br#"{"detail":"invalid signature"}"#), "invalid signature");
        assert_eq!(error_text(b"Bad Gateway"), "Bad Gateway");
        assert_eq!(error_text(&[b'x'; 500]).len(), 160);
    }

    #[test]
    fn reports_are_written_with_parent_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/report.json");
        let location = write_report(Some(&path), &serde_json::json!({"ok": true})).expect("written");
        assert_eq!(location, path.display().to_string());
        let back: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(back["ok"], true);
    }

    #[test]
    fn an_unwritable_report_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").expect("write");
        assert!(write_report(Some(&blocker.join("report.json")), &1).is_err());
    }
}
