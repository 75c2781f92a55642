//! Synthetic harness for the Soko ingest gateway (seed 002 §8): a signed
//! smoke run and a fast load generator, each producing a JSON report and an
//! exit code (0 success, 2 diagnostics expectation failed, 3 SLO breach,
//! including more than `--max-error-ratio` of requests refused, 1 the
//! harness could not run).
//!
//! Tests drive it as a library: build [`cli::SmokeArgs`] or
//! [`cli::LoadArgs`] (e.g. with [`parse_smoke`] / [`parse_load`]), call
//! [`run_smoke`] or [`run_load`] for the typed report and exit status, or
//! [`execute`] for exactly what the binary does (report file, summary,
//! `ALERT:` line, exit code). `harness report <file> [--plot out.svg]`
//! renders a load report ([`render`], [`plot`]). All harness traffic is
//! marked with the `soko-load-` client id prefix ([`marking`]).

pub mod cli;
pub mod cpu;
pub mod diagnostics;
pub mod live;
pub mod load;
pub mod marking;
pub mod mock;
pub mod offer_latency;
pub mod outcome;
pub mod plot;
pub mod progress;
pub mod render;
pub mod report;
pub mod sender;
pub mod series;
pub mod smoke;
pub mod stats;
pub mod transport;
pub mod workload;

pub use load::run_load;
pub use mock::{MockArgs, MockGateway, spawn_mock};
pub use outcome::{ExitStatus, Failure, FailureKind};
pub use report::{LoadReport, SmokeReport};
pub use smoke::run_smoke;

use clap::Parser;
use cli::{Cli, Command, LoadArgs, SmokeArgs};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(transparent)]
    Args(#[from] cli::ArgsError),
    #[error(transparent)]
    Transport(#[from] transport::TransportError),
    #[error("could not build an HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error(transparent)]
    Diagnostics(#[from] diagnostics::DiagnosticsError),
    #[error("could not serialise: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a worker task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Report(#[from] report::ReportError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error("mock gateway: {0}")]
    Io(#[from] std::io::Error),
}

/// A finished run: its report and how it ended.
#[derive(Debug, Clone)]
pub struct RunOutcome<R> {
    pub report: R,
    pub status: ExitStatus,
    pub failures: Vec<Failure>,
}

/// `harness smoke` flags (without the program and subcommand names).
pub fn parse_smoke<I, S>(flags: I) -> Result<SmokeArgs, clap::Error>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv = ["harness".into(), "smoke".into()].into_iter().chain(flags.into_iter().map(Into::into));
    match Cli::try_parse_from(argv)?.command {
        Command::Smoke(args) => Ok(args),
        _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
    }
}

/// `harness load` flags (without the program and subcommand names).
pub fn parse_load<I, S>(flags: I) -> Result<LoadArgs, clap::Error>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv = ["harness".into(), "load".into()].into_iter().chain(flags.into_iter().map(Into::into));
    match Cli::try_parse_from(argv)?.command {
        Command::Load(args) => Ok(args),
        _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
    }
}

/// Runs one command the way the binary does: writes the report, prints a
/// one-line summary on stdout and, on failure, one `ALERT:` line on stderr.
/// Returns the process exit code.
pub async fn execute(command: Command) -> i32 {
    match command {
        Command::Smoke(args) => {
            let report_file = args.target.report_file.clone();
            finish("smoke", report_file.as_deref(), run_smoke(&args).await, |r: &SmokeReport| {
                format!(
                    "smoke: HTTP {} in {} ms, created +{}, extracted +{}, time to extracted {} ms",
                    r.request.status.map_or("none".into(), |s| s.to_string()),
                    r.request.latency_ms,
                    shown(r.diagnostics.as_ref().and_then(|d| d.delta).and_then(|d| d.created)),
                    shown(r.diagnostics.as_ref().and_then(|d| d.delta).and_then(|d| d.extracted)),
                    shown(r.time_to_extracted_ms),
                )
            })
        }
        Command::Load(args) => {
            let report_file = args.target.report_file.clone();
            finish("load", report_file.as_deref(), run_load(&args).await, |r: &LoadReport| {
                let ingest = r.latency_ms.ingest.as_ref();
                format!(
                    "load: {} accepted msgs/s ({} req/s) over {} s; p50/p95/p99 {}/{}/{} ms; {} created, {} deduped, {} skipped; {} of {} requests failed ({}); generator CPU {} cores",
                    shown(r.throughput.messages_per_second),
                    shown(r.throughput.requests_per_second),
                    r.throughput.elapsed_seconds,
                    shown(ingest.map(|l| l.p50_ms)),
                    shown(ingest.map(|l| l.p95_ms)),
                    shown(ingest.map(|l| l.p99_ms)),
                    r.messages.created,
                    r.messages.deduped,
                    r.messages.skipped,
                    r.requests.sent - r.requests.ok,
                    r.requests.sent,
                    render::failed_breakdown(&r.requests),
                    shown(r.generator.cpu.as_ref().map(|c| c.cores_busy)),
                )
            })
        }
        Command::MockGateway(args) => match spawn_mock(args).await {
            Ok(mock) => {
                println!("mock gateway listening on http://{}", mock.addr);
                let _ = tokio::signal::ctrl_c().await;
                0
            }
            Err(error) => alert("mock-gateway", &HarnessError::Io(error)),
        },
        Command::Report(args) => match render::run_report(&args) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(error) => alert("report", &HarnessError::Render(error)),
        },
    }
}

fn finish<R: Serialize>(
    mode: &str,
    report_file: Option<&std::path::Path>,
    result: Result<RunOutcome<R>, HarnessError>,
    summary: impl Fn(&R) -> String,
) -> i32 {
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => return alert(mode, &error),
    };
    let location = match report::write_report(report_file, &outcome.report) {
        Ok(location) => location,
        Err(error) => return alert(mode, &HarnessError::Report(error)),
    };
    if location != "stdout" {
        println!("{}", summary(&outcome.report));
    }
    if let Some(line) = outcome::alert_line(mode, outcome.status, &outcome.failures, &location) {
        eprintln!("{line}");
    }
    outcome.status.code()
}

fn alert(mode: &str, error: &HarnessError) -> i32 {
    let failure = Failure { kind: FailureKind::Expectation, check: "harness".into(), detail: error.to_string() };
    if let Some(line) = outcome::alert_line(mode, ExitStatus::HarnessError, &[failure], "none written") {
        eprintln!("{line}");
    }
    ExitStatus::HarnessError.code()
}

fn shown<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| v.to_string())
}
