//! `harness report <file>`: reads a load report back and renders it as a
//! text summary (outcome, failed requests by status, latency percentiles,
//! the latency histogram as bars, the per-second series as a table), and,
//! with `--plot`, as an SVG drawing ([`crate::plot`]).

use crate::cli::ReportArgs;
use crate::report::{LoadReport, RequestCounts};
use crate::series::SecondPoint;
use crate::stats::LatencyHistogram;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("could not read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a load report: {source}")]
    NotALoadReport {
        path: String,
        source: serde_json::Error,
    },
    #[error("--plot {0}: only .svg is supported")]
    PlotFormat(String),
    #[error("could not draw the plot {path}: {reason}")]
    Plot { path: String, reason: String },
}

/// Width of the histogram's bars, in characters.
const BAR_WIDTH: usize = 40;

/// Reads `args.file`, prints the summary on stdout, writes the plot when
/// asked. Returns the text it printed.
pub fn run_report(args: &ReportArgs) -> Result<String, RenderError> {
    if let Some(plot) = &args.plot
        && plot
            .extension()
            .and_then(|e| e.to_str())
            .is_none_or(|e| !e.eq_ignore_ascii_case("svg"))
    {
        return Err(RenderError::PlotFormat(plot.display().to_string()));
    }
    let report = read_load_report(&args.file)?;
    let mut text = summary(&report);
    if let Some(plot) = &args.plot {
        crate::plot::draw(&report, plot).map_err(|reason| RenderError::Plot {
            path: plot.display().to_string(),
            reason,
        })?;
        let _ = writeln!(text, "\nplot: {}", plot.display());
    }
    Ok(text)
}

pub fn read_load_report(path: &Path) -> Result<LoadReport, RenderError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| RenderError::Read {
        path: display.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| RenderError::NotALoadReport {
        path: display,
        source,
    })
}

/// `HTTP 401 ×180, timeout ×2`, or `none`.
pub fn failed_breakdown(requests: &RequestCounts) -> String {
    let statuses = requests
        .status_counts
        .iter()
        .filter(|(status, _)| !status.starts_with('2'))
        .map(|(status, n)| format!("HTTP {status} ×{n}"));
    let errors = requests
        .transport_error_kinds
        .iter()
        .map(|(kind, n)| format!("{kind} ×{n}"));
    let parts: Vec<String> = statuses.chain(errors).collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `success`, `slo_breach`, …: the status as the JSON report spells it.
pub fn status_name(status: crate::outcome::ExitStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v}"))
}

/// The whole text summary.
pub fn summary(report: &LoadReport) -> String {
    let mut out = String::new();
    let r = &report.requests;
    let m = &report.messages;
    let _ = writeln!(
        out,
        "harness load report {} ({} → {})",
        report.run_id, report.started_at, report.finished_at
    );
    let _ = writeln!(
        out,
        "outcome: {} (exit {})",
        status_name(report.outcome.status),
        report.outcome.exit_code
    );
    for failure in &report.outcome.failures {
        let _ = writeln!(out, "  - {}: {}", failure.check, failure.detail);
    }
    let _ = writeln!(
        out,
        "requests: {} sent, {} 2xx, {} failed ({})",
        r.sent,
        r.ok,
        r.sent - r.ok,
        failed_breakdown(r)
    );
    let _ = writeln!(
        out,
        "messages: {} sent, {} accepted, {} created, {} deduped, {} skipped",
        m.sent, m.acknowledged, m.created, m.deduped, m.skipped
    );
    let t = &report.throughput;
    let _ = writeln!(
        out,
        "throughput: {} accepted msgs/s, {} req/s over {} s",
        opt(t.messages_per_second),
        opt(t.requests_per_second),
        t.elapsed_seconds
    );
    match &report.latency_ms.ingest {
        Some(l) => {
            let _ = writeln!(
                out,
                "ingest latency (2xx, ms): min {} p50 {} p95 {} p99 {} max {} (n={})",
                l.min_ms, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms, l.count
            );
        }
        None => out.push_str("ingest latency: no 2xx answer\n"),
    }
    out.push('\n');
    match &report.latency_histogram {
        Some(histogram) => out.push_str(&histogram_text(histogram)),
        None => out.push_str(
            "latency histogram: none (no 2xx answer, or a report from an older harness)\n",
        ),
    }
    out.push('\n');
    out.push_str(&series_text(&report.series));
    out
}

/// One line per bucket: upper bound, a bar scaled to the fullest bucket,
/// the count and the cumulative share.
pub fn histogram_text(histogram: &LatencyHistogram) -> String {
    let mut out = format!(
        "latency histogram ({}, ms; HDR, log buckets):\n",
        histogram.of
    );
    let fullest = histogram
        .buckets
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let total = histogram.count.max(1);
    let mut cumulative = 0u64;
    for bucket in &histogram.buckets {
        cumulative += bucket.count;
        let filled = ((bucket.count as f64 / fullest as f64) * BAR_WIDTH as f64).round() as usize;
        let filled = if bucket.count > 0 { filled.max(1) } else { 0 };
        let _ = writeln!(
            out,
            "  ≤ {:>10.3} |{:<width$}| {:>9} {:>6.2}%",
            bucket.le_ms,
            "#".repeat(filled),
            bucket.count,
            cumulative as f64 * 100.0 / total as f64,
            width = BAR_WIDTH
        );
    }
    out
}

/// The per-second table.
pub fn series_text(series: &[SecondPoint]) -> String {
    if series.is_empty() {
        return "per-second series: none\n".to_owned();
    }
    let mut out =
        String::from("per second (by when each request finished; latency of 2xx answers):\n");
    let _ = writeln!(
        out,
        "  {:>5} {:>7} {:>7} {:>12} {:>7} {:>9} {:>9} {:>9}  failed by status",
        "s", "req", "2xx", "accepted/s", "failed", "p50 ms", "p95 ms", "p99 ms"
    );
    for p in series {
        let failed: Vec<String> = p.failed.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        let _ = writeln!(
            out,
            "  {:>5} {:>7} {:>7} {:>12.0} {:>7} {:>9} {:>9} {:>9}  {}",
            p.second,
            p.requests,
            p.ok_requests,
            p.accepted_messages_per_second,
            p.failed_requests,
            opt(p.p50_ms),
            opt(p.p95_ms),
            opt(p.p99_ms),
            failed.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::HistogramBucket;

    #[test]
    fn failed_requests_are_listed_by_status_then_kind() {
        let mut counts = RequestCounts::default();
        assert_eq!(failed_breakdown(&counts), "none");
        counts.status_counts.extend([
            ("200".to_owned(), 5),
            ("401".to_owned(), 180),
            ("503".to_owned(), 2),
        ]);
        counts.transport_error_kinds.insert("timeout".into(), 1);
        assert_eq!(
            failed_breakdown(&counts),
            "HTTP 401 ×180, HTTP 503 ×2, timeout ×1"
        );
    }

    #[test]
    fn histogram_bars_scale_to_the_fullest_bucket() {
        let histogram = LatencyHistogram {
            of: "x".into(),
            significant_digits: 3,
            count: 5,
            buckets: vec![
                HistogramBucket {
                    le_ms: 1.0,
                    count: 4,
                },
                HistogramBucket {
                    le_ms: 1.414,
                    count: 0,
                },
                HistogramBucket {
                    le_ms: 2.0,
                    count: 1,
                },
            ],
        };
        let text = histogram_text(&histogram);
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].matches('#').count(), BAR_WIDTH);
        assert_eq!(lines[1].matches('#').count(), 0);
        assert_eq!(lines[2].matches('#').count(), BAR_WIDTH / 4);
        assert!(
            lines[0].ends_with("80.00%") && lines[2].ends_with("100.00%"),
            "{text}"
        );
    }
}
