//! How a run ends: the failures found, the exit code they map to, and the
//! single `ALERT:` line an operator pipes into chat or paging.
//!
//! Exit codes (seed 002 §8): 0 success, 2 a diagnostics expectation failed,
//! 3 an SLO breach. When both kinds fail, 2 wins: counters that disagree
//! with what the gateway acknowledged mean data may be lost, which matters
//! more than speed. 1 means the harness itself could not run (bad
//! arguments, report not writable).
//!
//! A load run whose requests mostly failed (more than `--max-error-ratio`,
//! 0.01 by default, enforced with or without SLO flags) is an SLO breach:
//! a gateway that refuses the traffic never passes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    Success,
    HarnessError,
    ExpectationFailed,
    SloBreach,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            Self::Success => 0,
            Self::HarnessError => 1,
            Self::ExpectationFailed => 2,
            Self::SloBreach => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A diagnostics or response expectation: exit 2.
    Expectation,
    /// A service-level objective: exit 3.
    Slo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// Short stable name, e.g. `p95_ms` or `created`.
    pub check: String,
    pub detail: String,
}

impl Failure {
    pub fn expectation(check: &str, detail: impl Into<String>) -> Self {
        Self { kind: FailureKind::Expectation, check: check.to_owned(), detail: detail.into() }
    }

    pub fn slo(check: &str, detail: impl Into<String>) -> Self {
        Self { kind: FailureKind::Slo, check: check.to_owned(), detail: detail.into() }
    }
}

pub fn exit_status(failures: &[Failure]) -> ExitStatus {
    if failures.iter().any(|f| f.kind == FailureKind::Expectation) {
        ExitStatus::ExpectationFailed
    } else if failures.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::SloBreach
    }
}

/// The SLO limits a load run enforces; `None` is not enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SloLimits {
    pub p95_ms: Option<f64>,
    pub max_skipped_ratio: Option<f64>,
    pub min_extracted_ratio: Option<f64>,
    /// Largest share of requests without a 2xx answer.
    #[serde(default)]
    pub max_error_ratio: Option<f64>,
}

/// What the run measured against those limits; `None` is "not measured".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SloObservation {
    pub p95_ms: Option<f64>,
    pub skipped_ratio: Option<f64>,
    pub extracted_ratio: Option<f64>,
    #[serde(default)]
    pub error_ratio: Option<f64>,
}

/// An enforced SLO that could not be measured is a breach: a nightly run
/// must not pass because nothing was observed.
pub fn evaluate_slos(limits: &SloLimits, observed: &SloObservation) -> Vec<Failure> {
    let mut failures = Vec::new();
    if let Some(limit) = limits.p95_ms {
        match observed.p95_ms {
            Some(p95) if p95 <= limit => {}
            Some(p95) => failures.push(Failure::slo("p95_ms", format!("ingest p95 {p95:.1} ms > {limit} ms"))),
            None => failures.push(Failure::slo("p95_ms", "no 2xx answer to measure p95 on")),
        }
    }
    if let Some(limit) = limits.max_skipped_ratio {
        match observed.skipped_ratio {
            Some(ratio) if ratio <= limit => {}
            Some(ratio) => failures.push(Failure::slo("skipped_ratio", format!("skipped ratio {ratio:.4} > {limit}"))),
            None => failures.push(Failure::slo("skipped_ratio", "no message was sent")),
        }
    }
    if let Some(limit) = limits.min_extracted_ratio {
        match observed.extracted_ratio {
            Some(ratio) if ratio >= limit => {}
            Some(ratio) => failures.push(Failure::slo("extracted_ratio", format!("extracted ratio {ratio:.4} < {limit}"))),
            None => failures.push(Failure::slo("extracted_ratio", "diagnostics gave no extracted/created counts")),
        }
    }
    if let Some(limit) = limits.max_error_ratio {
        match observed.error_ratio {
            Some(ratio) if ratio <= limit => {}
            Some(ratio) => failures.push(Failure::slo("error_ratio", format!("error ratio {ratio:.4} > {limit}"))),
            None => failures.push(Failure::slo("error_ratio", "no request was sent")),
        }
    }
    failures
}

/// The one stderr line for a non-zero exit; `None` on success.
pub fn alert_line(mode: &str, status: ExitStatus, failures: &[Failure], report: &str) -> Option<String> {
    let what = match status {
        ExitStatus::Success => return None,
        ExitStatus::HarnessError => "harness error",
        ExitStatus::ExpectationFailed => "diagnostics expectation failed",
        ExitStatus::SloBreach => "SLO breach",
    };
    let details: Vec<String> = failures.iter().map(|f| format!("{}: {}", f.check, f.detail)).collect();
    let details = details.join("; ").replace(['\n', '\r'], " ");
    Some(format!("ALERT: harness {mode} {what} (exit {}): {details} (report: {report})", status.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_seed() {
        assert_eq!(exit_status(&[]).code(), 0);
        assert_eq!(exit_status(&[Failure::slo("p95_ms", "x")]).code(), 3);
        assert_eq!(exit_status(&[Failure::expectation("created", "x")]).code(), 2);
        assert_eq!(exit_status(&[Failure::slo("p95_ms", "x"), Failure::expectation("created", "y")]).code(), 2);
        assert_eq!(ExitStatus::HarnessError.code(), 1);
    }

    #[test]
    fn slo_table() {
        let limits = SloLimits {
            p95_ms: Some(100.0),
            max_skipped_ratio: Some(0.01),
            min_extracted_ratio: Some(0.9),
            max_error_ratio: Some(0.01),
        };
        let good = SloObservation { p95_ms: Some(100.0), skipped_ratio: Some(0.01), extracted_ratio: Some(0.9), error_ratio: Some(0.01) };
        assert!(evaluate_slos(&limits, &good).is_empty());
        let cases: &[(SloObservation, &[&str])] = &[
            (SloObservation { p95_ms: Some(100.5), ..good }, &["p95_ms"]),
            (SloObservation { skipped_ratio: Some(0.02), ..good }, &["skipped_ratio"]),
            (SloObservation { extracted_ratio: Some(0.5), ..good }, &["extracted_ratio"]),
            (SloObservation { p95_ms: None, extracted_ratio: None, ..good }, &["p95_ms", "extracted_ratio"]),
            (SloObservation { error_ratio: Some(0.0101), ..good }, &["error_ratio"]),
            (SloObservation { error_ratio: None, ..good }, &["error_ratio"]),
            (
                SloObservation { p95_ms: Some(900.0), skipped_ratio: Some(1.0), extracted_ratio: Some(0.0), error_ratio: Some(1.0) },
                &["p95_ms", "skipped_ratio", "extracted_ratio", "error_ratio"],
            ),
        ];
        for (observed, breached) in cases {
            let failures = evaluate_slos(&limits, observed);
            let names: Vec<_> = failures.iter().map(|f| f.check.as_str()).collect();
            assert_eq!(&names, breached, "{observed:?}");
            assert_eq!(exit_status(&failures), ExitStatus::SloBreach);
        }
    }

    #[test]
    fn unenforced_slos_never_fail() {
        let observed = SloObservation { p95_ms: None, skipped_ratio: Some(1.0), extracted_ratio: None, error_ratio: Some(1.0) };
        assert!(evaluate_slos(&SloLimits::default(), &observed).is_empty());
    }

    #[test]
    fn alert_is_one_line_naming_failures_and_report() {
        let failures = [Failure::slo("p95_ms", "ingest p95 420.0 ms > 250 ms\nsecond line"), Failure::slo("skipped_ratio", "0.2 > 0.01")];
        let line = alert_line("load", ExitStatus::SloBreach, &failures, "tmp/load.json").expect("alert");
        assert!(line.starts_with("ALERT: harness load SLO breach (exit 3): p95_ms: ingest p95 420.0 ms"));
        assert!(line.contains("skipped_ratio") && line.ends_with("(report: tmp/load.json)"));
        assert!(!line.contains('\n'));
        assert_eq!(alert_line("load", ExitStatus::Success, &[], "x"), None);
    }
}
