//! Command-line arguments of `harness smoke`, `harness load` and
//! `harness mock-gateway`, with their validation. The structs double as the
//! library's options: tests build them with `parse_from` like the binary.

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, Clone, Parser)]
#[command(name = "harness", version, about = "Synthetic smoke and load runs against the Soko ingest gateway")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Post one signed smoke batch and wait for diagnostics to show it created and extracted.
    Smoke(SmokeArgs),
    /// Replay many signed batches and check latency, skipped and extracted SLOs.
    Load(LoadArgs),
    /// Run a small in-memory ingest server (for tests and for measuring the generator).
    MockGateway(crate::mock::MockArgs),
    /// Render a load report: a text summary, and an SVG plot with --plot.
    Report(ReportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A JSON report written by `harness load --report-file`.
    pub file: PathBuf,
    /// Also draw the latency histogram and the per-second series as SVG here.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// A token or secret: parsed from flags or env, never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Where to post and how to sign; shared by smoke and load.
#[derive(Debug, Clone, Args, Serialize)]
pub struct TargetArgs {
    /// Full ingest URL, e.g. http://127.0.0.1:8000/integrations/whatsapp/ingest
    #[arg(long, env = "WHATSAPP_INGEST_URL")]
    pub url: String,
    /// Ingest token (X-Ingest-Token).
    #[arg(long, env = "WHATSAPP_INGEST_TOKEN", hide_env_values = true)]
    #[serde(skip)]
    pub token: Secret,
    /// HMAC secret; without it requests are token-only (no X-Signature).
    #[arg(long, env = "WHATSAPP_INGEST_HMAC_SECRET", hide_env_values = true)]
    #[serde(skip)]
    pub secret: Option<Secret>,
    /// Diagnostics JSON URL (counters at top level or under `totals`).
    #[arg(long)]
    pub diagnostics_url: Option<String>,
    /// Token for diagnostics, sent as `Authorization: Bearer` (an admin or
    /// read token of the gateway). Without it the ingest token is sent, as
    /// `X-Ingest-Token`.
    #[arg(long, env = "HARNESS_DIAGNOSTICS_TOKEN", hide_env_values = true)]
    #[serde(skip)]
    pub diagnostics_token: Option<Secret>,
    /// Where the JSON report goes; without it the report is printed on stdout.
    #[arg(long)]
    pub report_file: Option<PathBuf>,
    /// Per-request timeout.
    #[arg(long, default_value_t = 30.0)]
    pub request_timeout_seconds: f64,
}

impl TargetArgs {
    pub fn secret_str(&self) -> Option<&str> {
        self.secret.as_ref().map(|s| s.0.as_str()).filter(|s| !s.is_empty())
    }

    /// What diagnostics are read with: `--diagnostics-token` as a bearer
    /// token when given, else the ingest token as `X-Ingest-Token`.
    pub fn diagnostics_credential(&self) -> DiagnosticsCredential {
        match self.diagnostics_token.as_ref().filter(|t| !t.0.is_empty()) {
            Some(token) => DiagnosticsCredential::Bearer(token.clone()),
            None => DiagnosticsCredential::IngestToken(self.token.clone()),
        }
    }
}

/// The credential sent to diagnostics. Its `Display` names the kind and
/// the header, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagnosticsCredential {
    /// The ingest token, as `X-Ingest-Token` (what the gateway accepts by default).
    IngestToken(Secret),
    /// `--diagnostics-token`, as `Authorization: Bearer`.
    Bearer(Secret),
}

impl fmt::Display for DiagnosticsCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IngestToken(_) => "the ingest token (--token) as X-Ingest-Token",
            Self::Bearer(_) => "--diagnostics-token as Authorization: Bearer",
        })
    }
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct SmokeArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub target: TargetArgs,
    /// How much diagnostics `created` must grow (also the number of messages posted, at least 1).
    #[arg(long, default_value_t = 1)]
    pub expect_created: u64,
    /// How much diagnostics `extracted` must grow.
    #[arg(long, default_value_t = 0)]
    pub expect_extracted: u64,
    /// How long to wait for the counters to move.
    #[arg(long, default_value_t = 60.0)]
    pub timeout_seconds: f64,
    #[arg(long, default_value_t = 250)]
    pub poll_interval_ms: u64,
    /// The batch's `client_id`, always sent with the `soko-load-` prefix
    /// that marks harness traffic (default `soko-load-smoke-<run tag>`).
    #[arg(long)]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct LoadArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub target: TargetArgs,
    /// Messages to send in total, duplicates included.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    #[arg(long, default_value_t = 10)]
    pub batch_size: u64,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Share of messages that re-send an earlier message (0 ≤ r < 1).
    #[arg(long, default_value_t = 0.0)]
    pub duplicate_ratio: f64,
    /// Stop sending after this long even if `--count` is not reached.
    #[arg(long)]
    pub duration_seconds: Option<f64>,
    /// Distinct sender phones.
    #[arg(long, default_value_t = 500)]
    pub senders: u64,
    /// Distinct chats.
    #[arg(long, default_value_t = 50)]
    pub chats: u64,
    /// Consecutive messages that share a chat before the next chat starts (a
    /// vendor's burst). 1 spreads consecutive messages over the chats in turn.
    #[arg(long, default_value_t = 1)]
    pub chat_burst: u64,
    /// Pace the run at this many messages per second (batches start on a fixed
    /// schedule); without it every connection sends as fast as it is answered.
    #[arg(long)]
    pub rate: Option<f64>,
    /// The batches' `client_id`, always sent with the `soko-load-` prefix
    /// that marks harness traffic (`--client-id nightly` sends
    /// `soko-load-nightly`); default `soko-load-<run tag>`.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Seed for duplicate choice and sender assignment.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// SLO: p95 ingest latency of 2xx answers, in ms.
    #[arg(long)]
    pub slo_p95_ms: Option<f64>,
    /// SLO: largest share of messages whose request got no 2xx (429, 4xx, 5xx, transport errors).
    #[arg(long)]
    pub slo_max_skipped_ratio: Option<f64>,
    /// SLO: smallest diagnostics extracted/created ratio after the run (needs --diagnostics-url).
    #[arg(long)]
    pub slo_min_extracted_ratio: Option<f64>,
    /// Largest share of requests that may fail (any non-2xx answer, 429
    /// included, or a transport error), enforced with or without SLO flags:
    /// a run the gateway refuses is never a success. 1 turns it off.
    #[arg(long, default_value_t = 0.01)]
    pub max_error_ratio: f64,
    /// Wait for extraction to catch up even without --slo-min-extracted-ratio.
    #[arg(long)]
    pub wait_for_extraction: bool,
    /// How long to wait after the load for diagnostics counters to settle.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_seconds: f64,
    #[arg(long, default_value_t = 250)]
    pub diagnostics_interval_ms: u64,
    /// Without a terminal on stderr, print a `progress:` line there this
    /// often (0: none). With a terminal, a live bar is drawn instead.
    #[arg(long, default_value_t = 5.0)]
    pub progress_interval_seconds: f64,
    /// Runtime threads of the generator (binary only; the library uses the caller's runtime).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid arguments: {0}")]
pub struct ArgsError(pub String);

fn check(ok: bool, message: &str) -> Result<(), ArgsError> {
    if ok { Ok(()) } else { Err(ArgsError(message.to_owned())) }
}

fn positive_seconds(value: f64) -> bool {
    value.is_finite() && value > 0.0 && value < 1e7
}

fn unit_ratio(value: Option<f64>) -> bool {
    value.is_none_or(|r| (0.0..=1.0).contains(&r))
}

impl TargetArgs {
    pub fn validate(&self) -> Result<(), ArgsError> {
        check(self.url.starts_with("http://") || self.url.starts_with("https://"), "--url must start with http:// or https://")?;
        check(!self.token.0.is_empty(), "--token must not be empty")?;
        check(positive_seconds(self.request_timeout_seconds), "--request-timeout-seconds must be positive")?;
        if let Some(url) = &self.diagnostics_url {
            check(url.starts_with("http://") || url.starts_with("https://"), "--diagnostics-url must start with http:// or https://")?;
        }
        Ok(())
    }
}

impl SmokeArgs {
    pub fn validate(&self) -> Result<(), ArgsError> {
        self.target.validate()?;
        check(positive_seconds(self.timeout_seconds), "--timeout-seconds must be positive")?;
        check(self.expect_created <= 500, "--expect-created is at most 500 (one batch)")?;
        check(self.poll_interval_ms > 0, "--poll-interval-ms must be positive")?;
        check(crate::marking::client_id_fits(self.client_id.as_deref()), "--client-id is too long (128 characters with the soko-load- prefix)")?;
        check(
            self.expect_extracted == 0 || self.target.diagnostics_url.is_some(),
            "--expect-extracted needs --diagnostics-url",
        )
    }
}

impl LoadArgs {
    pub fn validate(&self) -> Result<(), ArgsError> {
        self.target.validate()?;
        check(self.count >= 1, "--count must be at least 1")?;
        check((1..=10_000).contains(&self.batch_size), "--batch-size must be between 1 and 10000")?;
        check((1..=4096).contains(&self.concurrency), "--concurrency must be between 1 and 4096")?;
        check((0.0..1.0).contains(&self.duplicate_ratio), "--duplicate-ratio must be in [0, 1)")?;
        check(self.senders >= 1 && self.chats >= 1, "--senders and --chats must be at least 1")?;
        check(self.chat_burst >= 1, "--chat-burst must be at least 1")?;
        check(self.rate.is_none_or(|r| r.is_finite() && r > 0.0), "--rate must be a positive number of messages per second")?;
        check(self.duration_seconds.is_none_or(positive_seconds), "--duration-seconds must be positive")?;
        check(positive_seconds(self.timeout_seconds), "--timeout-seconds must be positive")?;
        check(self.slo_p95_ms.is_none_or(|v| v.is_finite() && v > 0.0), "--slo-p95-ms must be positive")?;
        check(unit_ratio(self.slo_max_skipped_ratio), "--slo-max-skipped-ratio must be in [0, 1]")?;
        check(unit_ratio(self.slo_min_extracted_ratio), "--slo-min-extracted-ratio must be in [0, 1]")?;
        check(unit_ratio(Some(self.max_error_ratio)), "--max-error-ratio must be in [0, 1]")?;
        check(self.diagnostics_interval_ms > 0, "--diagnostics-interval-ms must be positive")?;
        check(
            self.progress_interval_seconds == 0.0 || positive_seconds(self.progress_interval_seconds),
            "--progress-interval-seconds must be 0 (off) or positive",
        )?;
        check(crate::marking::client_id_fits(self.client_id.as_deref()), "--client-id is too long (128 characters with the soko-load- prefix)")?;
        check((1..=64).contains(&self.threads), "--threads must be between 1 and 64")?;
        check(
            (self.slo_min_extracted_ratio.is_none() && !self.wait_for_extraction) || self.target.diagnostics_url.is_some(),
            "--slo-min-extracted-ratio and --wait-for-extraction need --diagnostics-url",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(extra: &[&str]) -> LoadArgs {
        let mut argv = vec!["harness", "load", "--url", "http://127.0.0.1:1/i", "--token", "t"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::Load(args) => args,
            other => panic!("not load: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        let args = load(&[]);
        assert_eq!((args.count, args.batch_size, args.concurrency, args.senders), (1000, 10, 32, 500));
        assert_eq!(args.max_error_ratio, 0.01);
        assert_eq!(args.validate(), Ok(()));
    }

    #[test]
    fn invalid_load_arguments_are_named() {
        let table: &[(&[&str], &str)] = &[
            (&["--count", "0"], "--count"),
            (&["--batch-size", "0"], "--batch-size"),
            (&["--concurrency", "0"], "--concurrency"),
            (&["--duplicate-ratio", "1.0"], "--duplicate-ratio"),
            (&["--duplicate-ratio=-0.1"], "--duplicate-ratio"),
            (&["--senders", "0"], "--senders"),
            (&["--duration-seconds", "0"], "--duration-seconds"),
            (&["--slo-p95-ms=-5"], "--slo-p95-ms"),
            (&["--slo-max-skipped-ratio", "1.5"], "--slo-max-skipped-ratio"),
            (&["--slo-min-extracted-ratio", "0.9"], "--diagnostics-url"),
            (&["--max-error-ratio", "1.5"], "--max-error-ratio"),
            (&["--max-error-ratio", "NaN"], "--max-error-ratio"),
            (&["--wait-for-extraction"], "--diagnostics-url"),
            (&["--threads", "0"], "--threads"),
            (&["--progress-interval-seconds=-1"], "--progress-interval-seconds"),
            (&["--client-id", &"x".repeat(200)], "--client-id"),
            (&["--diagnostics-url", "localhost/diag"], "--diagnostics-url"),
        ];
        for (flags, named) in table {
            let error = load(flags).validate().expect_err("must be rejected");
            assert!(error.0.contains(named), "{flags:?}: {error}");
        }
    }

    #[test]
    fn smoke_needs_diagnostics_to_expect_extraction() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["harness", "smoke", "--url", "http://h/i", "--token", "t"];
            argv.extend_from_slice(extra);
            match Cli::try_parse_from(argv).expect("parses").command {
                Command::Smoke(args) => args,
                other => panic!("not smoke: {other:?}"),
            }
        };
        assert!(parse(&["--expect-extracted", "1"]).validate().is_err());
        assert!(parse(&["--expect-extracted", "1", "--diagnostics-url", "http://h/d"]).validate().is_ok());
        assert!(parse(&["--timeout-seconds", "0"]).validate().is_err());
        assert!(parse(&["--expect-created", "501"]).validate().is_err());
    }

    #[test]
    fn secrets_never_print_and_never_serialise() {
        let args = load(&["--secret", "super-secret", "--diagnostics-token", "diag-secret"]);
        let credential = args.target.diagnostics_credential();
        let debug = format!("{args:?}");
        let json = serde_json::to_string(&args).expect("serialises");
        for text in [debug, json, format!("{credential} {credential:?}")] {
            assert!(!text.contains("super-secret") && !text.contains("diag-secret"), "{text}");
        }
        assert_eq!(args.target.secret_str(), Some("super-secret"));
    }

    #[test]
    fn diagnostics_get_the_diagnostics_token_as_bearer_else_the_ingest_token() {
        let bearer = load(&["--diagnostics-token", "read-token"]).target.diagnostics_credential();
        assert_eq!(bearer, DiagnosticsCredential::Bearer(Secret("read-token".into())));
        assert!(bearer.to_string().contains("Authorization: Bearer"));
        let ingest = load(&[]).target.diagnostics_credential();
        assert_eq!(ingest, DiagnosticsCredential::IngestToken(Secret("t".into())));
        assert!(ingest.to_string().contains("X-Ingest-Token"));
        // An empty value (an unset variable in a CI template) means "not given".
        assert_eq!(load(&["--diagnostics-token", ""]).target.diagnostics_credential(), ingest);
    }
}
