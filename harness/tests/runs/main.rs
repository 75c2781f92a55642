//! Real runs over real sockets: the harness library and binary against the
//! in-memory mock gateway, one scenario per exit code; and, in
//! [`real_gateway`], the binary against the real `gateway` process.

mod real_gateway;

use harness::{ExitStatus, MockArgs, parse_load, parse_smoke, run_load, run_smoke, spawn_mock};
use std::process::Command;

const SECRET: &str = "super-secret";

fn mock_args() -> MockArgs {
    MockArgs { secret: Some(SECRET.into()), ..MockArgs::default() }
}

fn load_flags(mock: &harness::MockGateway, extra: &[&str]) -> Vec<String> {
    let mut flags = vec![
        "--url".to_owned(),
        mock.ingest_url(),
        "--token".into(),
        "test-token".into(),
        "--secret".into(),
        SECRET.into(),
    ];
    flags.extend(extra.iter().map(|s| (*s).to_owned()));
    flags
}

#[tokio::test]
async fn load_counts_match_the_gateway_and_diagnostics() {
    let mock = spawn_mock(MockArgs { extract_delay_ms: Some(30), ..mock_args() }).await.expect("mock starts");
    let diagnostics = mock.diagnostics_url();
    let args = parse_load(load_flags(
        &mock,
        &[
            "--count", "2000", "--batch-size", "10", "--concurrency", "8", "--duplicate-ratio", "0.1",
            "--diagnostics-url", &diagnostics, "--diagnostics-interval-ms", "20", "--timeout-seconds", "20",
            "--slo-min-extracted-ratio", "1.0", "--slo-max-skipped-ratio", "0", "--slo-p95-ms", "5000",
        ],
    ))
    .expect("flags parse");
    let outcome = run_load(&args).await.expect("load runs");
    let report = &outcome.report;
    assert_eq!(outcome.status, ExitStatus::Success, "{:?}", outcome.failures);
    assert_eq!(report.outcome.exit_code, 0);
    assert_eq!(report.requests.sent, 200);
    assert_eq!(mock.requests(), 200);
    assert_eq!(report.requests.status_counts.get("200"), Some(&200));
    let m = &report.messages;
    assert_eq!((m.sent, m.acknowledged, m.skipped), (2000, 2000, 0));
    assert!((190..=200).contains(&m.duplicates_sent), "{}", m.duplicates_sent);
    assert_eq!((m.created, m.deduped), (2000 - m.duplicates_sent, m.duplicates_sent));
    let delta = report.diagnostics.as_ref().and_then(|d| d.delta).expect("diagnostics delta");
    assert_eq!((delta.created, delta.deduped, delta.extracted), (Some(m.created), Some(m.deduped), Some(m.created)));
    assert_eq!(report.ratios.extraction_success_ratio, Some(1.0));
    assert_eq!(report.ratios.skipped_ratio, Some(0.0));
    let dedupe = report.ratios.dedupe_ratio.expect("defined");
    assert!((dedupe - m.deduped as f64 / 2000.0).abs() < 1e-6);
    let ingest = report.latency_ms.ingest.as_ref().expect("latency measured");
    assert_eq!(ingest.count, 200);
    assert!(ingest.p50_ms <= ingest.p95_ms && ingest.p95_ms <= ingest.p99_ms);
    // Extraction runs 30 ms after storage, so no offer can appear sooner.
    let offer = &report.ingest_to_offer_ms;
    assert_eq!(offer.pending, 0, "{offer:?}");
    assert!(offer.p50_ms.is_some_and(|p| p >= 25.0) && offer.p95_ms.is_some(), "{offer:?}");
    assert!(report.throughput.messages_per_second.is_some_and(|r| r > 0.0));
}

#[tokio::test]
async fn rate_limited_requests_are_skipped_and_breach_the_slo() {
    let mock = spawn_mock(MockArgs { reject_every: Some(4), ..mock_args() }).await.expect("mock starts");
    let args = parse_load(load_flags(
        &mock,
        &["--count", "400", "--batch-size", "10", "--concurrency", "1", "--slo-max-skipped-ratio", "0.05"],
    ))
    .expect("flags parse");
    let outcome = run_load(&args).await.expect("load runs");
    let report = &outcome.report;
    assert_eq!(outcome.status, ExitStatus::SloBreach, "{:?}", outcome.failures);
    assert_eq!(report.outcome.exit_code, 3);
    assert_eq!(report.requests.rate_limited, 10);
    assert_eq!(report.requests.status_counts.get("429"), Some(&10));
    assert_eq!(report.messages.skipped, 100);
    assert_eq!(report.ratios.skipped_ratio, Some(0.25));
    assert!(report.requests.error_samples.get("429").is_some_and(|t| t.contains("ingest rate limit exceeded")));
    // A quarter of the requests failed: also far beyond the default --max-error-ratio.
    assert_eq!(outcome.failures.iter().map(|f| f.check.as_str()).collect::<Vec<_>>(), ["skipped_ratio", "error_ratio"]);
    assert_eq!(report.ratios.error_ratio, Some(0.25));
    assert!(report.ingest_to_offer_ms.p50_ms.is_none() && report.ingest_to_offer_ms.reason.is_some());
}

#[tokio::test]
async fn a_refused_run_without_slo_flags_is_not_a_success() {
    let mock = spawn_mock(mock_args()).await.expect("mock starts");
    let mut flags = load_flags(&mock, &["--count", "50", "--concurrency", "2"]);
    flags[3] = "wrong-token".into();
    let outcome = run_load(&parse_load(flags).expect("flags")).await.expect("load runs");
    assert_eq!(outcome.report.requests.status_counts.get("401"), Some(&5));
    assert_eq!(outcome.report.ratios.error_ratio, Some(1.0));
    assert_eq!(outcome.status, ExitStatus::SloBreach, "{:?}", outcome.failures);
    assert_eq!(outcome.failures.len(), 1, "{:?}", outcome.failures);
    let failure = &outcome.failures[0];
    assert_eq!(failure.check, "error_ratio");
    assert!(failure.detail.starts_with("5 of 5 requests failed") && failure.detail.contains("HTTP 401 ×5 (invalid_token: invalid ingest token)"), "{}", failure.detail);
}

#[tokio::test]
async fn a_few_failed_requests_pass_under_a_raised_error_ratio() {
    let mock = spawn_mock(MockArgs { reject_every: Some(10), ..mock_args() }).await.expect("mock starts");
    let strict = parse_load(load_flags(&mock, &["--count", "200", "--concurrency", "1"])).expect("flags");
    let outcome = run_load(&strict).await.expect("load runs");
    assert_eq!(outcome.report.ratios.error_ratio, Some(0.1));
    assert_eq!(outcome.status, ExitStatus::SloBreach, "{:?}", outcome.failures);
    let lenient = parse_load(load_flags(&mock, &["--count", "200", "--concurrency", "1", "--max-error-ratio", "0.1"])).expect("flags");
    let outcome = run_load(&lenient).await.expect("load runs");
    assert_eq!(outcome.report.ratios.error_ratio, Some(0.1));
    assert_eq!(outcome.status, ExitStatus::Success, "{:?}", outcome.failures);
}

#[tokio::test]
async fn counters_that_do_not_move_fail_the_expectation() {
    let mock = spawn_mock(MockArgs { freeze_counters: true, ..mock_args() }).await.expect("mock starts");
    let diagnostics = mock.diagnostics_url();
    let args = parse_load(load_flags(
        &mock,
        &["--count", "100", "--diagnostics-url", &diagnostics, "--timeout-seconds", "0.5", "--diagnostics-interval-ms", "50"],
    ))
    .expect("flags parse");
    let outcome = run_load(&args).await.expect("load runs");
    assert_eq!(outcome.status, ExitStatus::ExpectationFailed);
    let checks: Vec<_> = outcome.failures.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(checks, ["created"], "{:?}", outcome.failures);
}

#[tokio::test]
async fn duration_limit_stops_before_the_count() {
    let mock = spawn_mock(MockArgs { delay_ms: 20, ..mock_args() }).await.expect("mock starts");
    let args = parse_load(load_flags(&mock, &["--count", "20000", "--concurrency", "2", "--duration-seconds", "0.3"])).expect("flags");
    let outcome = run_load(&args).await.expect("load runs");
    let sent = outcome.report.messages.sent;
    assert!(sent > 0 && sent < 20000, "{sent}");
    assert_eq!(outcome.report.messages.planned, 20000);
    assert_eq!(outcome.status, ExitStatus::Success, "{:?}", outcome.failures);
}

#[tokio::test]
async fn wrong_secret_is_all_skipped() {
    let mock = spawn_mock(mock_args()).await.expect("mock starts");
    let mut flags = load_flags(&mock, &["--count", "50", "--slo-max-skipped-ratio", "0.0"]);
    flags[5] = "wrong-secret".into();
    let outcome = run_load(&parse_load(flags).expect("flags")).await.expect("load runs");
    assert_eq!(outcome.report.requests.status_counts.get("403"), Some(&5));
    assert_eq!(outcome.report.ratios.skipped_ratio, Some(1.0));
    assert_eq!(outcome.status, ExitStatus::SloBreach);
}

fn smoke_flags(mock: &harness::MockGateway, extra: &[&str]) -> Vec<String> {
    let mut flags = load_flags(mock, &["--diagnostics-url"]);
    flags.push(mock.diagnostics_url());
    flags.extend(extra.iter().map(|s| (*s).to_owned()));
    flags
}

#[tokio::test]
async fn smoke_passes_when_created_and_extracted_move() {
    let mock = spawn_mock(MockArgs { extract_delay_ms: Some(100), nest_totals: true, ..mock_args() }).await.expect("mock");
    let args = parse_smoke(smoke_flags(&mock, &["--expect-created", "1", "--expect-extracted", "1", "--timeout-seconds", "10", "--poll-interval-ms", "20"]))
        .expect("flags");
    let outcome = run_smoke(&args).await.expect("smoke runs");
    assert_eq!(outcome.status, ExitStatus::Success, "{:?}", outcome.failures);
    let report = &outcome.report;
    assert_eq!(report.request.status, Some(200));
    assert_eq!(report.request.created, Some(1));
    assert!(report.chat_title.starts_with("Smoke Chat "));
    assert!(report.time_to_extracted_ms.is_some_and(|t| t >= 90.0), "{:?}", report.time_to_extracted_ms);
    assert!(report.time_to_created_ms.is_some());
    // A second run is not swallowed by dedupe: its ids and chat are new.
    let again = run_smoke(&args).await.expect("smoke runs again");
    assert_eq!(again.status, ExitStatus::Success, "{:?}", again.failures);
    assert_ne!(again.report.chat_title, report.chat_title);
}

#[tokio::test]
async fn smoke_without_extraction_times_out_with_exit_2() {
    let mock = spawn_mock(mock_args()).await.expect("mock");
    let args = parse_smoke(smoke_flags(&mock, &["--expect-extracted", "1", "--timeout-seconds", "0.4", "--poll-interval-ms", "50"])).expect("flags");
    let outcome = run_smoke(&args).await.expect("smoke runs");
    assert_eq!(outcome.status, ExitStatus::ExpectationFailed);
    assert_eq!(outcome.failures.iter().map(|f| f.check.as_str()).collect::<Vec<_>>(), ["extracted"]);
    assert_eq!(outcome.report.time_to_extracted_ms, None);
}

#[tokio::test]
async fn diagnostics_read_with_the_diagnostics_token_as_bearer() {
    let mock = spawn_mock(MockArgs { diagnostics_token: Some("read-token".into()), extract_delay_ms: Some(0), ..mock_args() })
        .await
        .expect("mock");
    let args = parse_smoke(smoke_flags(&mock, &["--diagnostics-token", "read-token", "--expect-extracted", "1", "--poll-interval-ms", "20"]))
        .expect("flags");
    let outcome = run_smoke(&args).await.expect("smoke runs");
    assert_eq!(outcome.status, ExitStatus::Success, "{:?}", outcome.failures);
    let diagnostics = outcome.report.diagnostics.as_ref().expect("diagnostics read");
    assert_eq!(diagnostics.credential, "--diagnostics-token as Authorization: Bearer");
    assert_eq!(diagnostics.error, None);
}

#[tokio::test]
async fn refused_diagnostics_name_the_credential_and_the_fix() {
    let mock = spawn_mock(MockArgs { diagnostics_token: Some("read-token".into()), ..mock_args() }).await.expect("mock");
    // A bearer token diagnostics do not take.
    let args = parse_smoke(smoke_flags(&mock, &["--diagnostics-token", "stale-read-token", "--timeout-seconds", "1"])).expect("flags");
    let outcome = run_smoke(&args).await.expect("smoke runs");
    assert_eq!(outcome.status, ExitStatus::ExpectationFailed);
    assert_eq!(outcome.report.request.status, Some(200), "the post itself went through");
    let failure = &outcome.failures[0];
    assert_eq!(failure.check, "diagnostics");
    assert!(failure.detail.contains("HTTP 401 to --diagnostics-token as Authorization: Bearer"), "{}", failure.detail);
    assert!(failure.detail.contains("check --diagnostics-token"), "{}", failure.detail);
    assert!(!failure.detail.contains("stale-read-token"), "{}", failure.detail);
    let report = serde_json::to_string(&outcome.report).expect("json");
    assert!(!report.contains("stale-read-token") && !report.contains("test-token"), "{report}");
    assert_eq!(outcome.report.diagnostics.as_ref().and_then(|d| d.error.as_deref()), Some(failure.detail.as_str()));
}

#[tokio::test]
async fn smoke_rejected_by_the_gateway_is_exit_2() {
    let mock = spawn_mock(mock_args()).await.expect("mock");
    let mut flags = smoke_flags(&mock, &["--timeout-seconds", "1"]);
    flags[3] = "wrong-token".into();
    let outcome = run_smoke(&parse_smoke(flags).expect("flags")).await.expect("smoke runs");
    assert_eq!(outcome.status, ExitStatus::ExpectationFailed);
    assert_eq!(outcome.report.request.status, Some(401));
    let post = outcome.failures.iter().find(|f| f.check == "post").expect("the post failed");
    assert!(post.detail.contains("invalid ingest token"), "{}", post.detail);
    // The wrong ingest token is also what diagnostics were asked with.
    let diagnostics = outcome.failures.iter().find(|f| f.check == "diagnostics").expect("diagnostics refused");
    assert!(diagnostics.detail.contains("HTTP 401 to the ingest token (--token) as X-Ingest-Token"), "{}", diagnostics.detail);
    assert!(diagnostics.detail.contains("--diagnostics-token"), "{}", diagnostics.detail);
}

/// Runs the real binary; returns (exit code, stdout, stderr).
async fn run_binary(args: Vec<String>) -> (i32, String, String) {
    let output = tokio::task::spawn_blocking(move || Command::new(env!("CARGO_BIN_EXE_harness")).args(args).output())
        .await
        .expect("joined")
        .expect("binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn alert_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("ALERT: ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_exit_codes_alert_lines_and_report_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("out/load.json");
    let report_text = report.display().to_string();

    let healthy = spawn_mock(mock_args()).await.expect("mock");
    let mut args = vec!["load".to_owned()];
    args.extend(load_flags(&healthy, &["--count", "300", "--report-file", &report_text]));
    let (code, stdout, stderr) = run_binary(args).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(alert_lines(&stderr).is_empty(), "{stderr}");
    assert!(stdout.starts_with("load: "), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report written")).expect("json");
    assert_eq!(json["messages"]["created"], 300);
    assert_eq!(json["outcome"]["exit_code"], 0);
    assert!(json["settings"].get("secret").is_none() && json["settings"].get("token").is_none());
    assert!(!std::fs::read_to_string(&report).expect("read").contains(SECRET));

    let limited = spawn_mock(MockArgs { reject_every: Some(2), ..mock_args() }).await.expect("mock");
    let mut args = vec!["load".to_owned()];
    args.extend(load_flags(&limited, &["--count", "100", "--slo-max-skipped-ratio", "0.1", "--report-file", &report_text]));
    let (code, _, stderr) = run_binary(args).await;
    assert_eq!(code, 3, "{stderr}");
    let alerts = alert_lines(&stderr);
    assert_eq!(alerts.len(), 1, "{stderr}");
    assert!(alerts[0].contains("SLO breach") && alerts[0].contains("skipped_ratio") && alerts[0].contains(&report_text));

    let frozen = spawn_mock(MockArgs { freeze_counters: true, ..mock_args() }).await.expect("mock");
    let mut args = vec!["smoke".to_owned()];
    args.extend(smoke_flags(&frozen, &["--timeout-seconds", "0.3", "--report-file", &report_text]));
    let (code, _, stderr) = run_binary(args).await;
    assert_eq!(code, 2, "{stderr}");
    let alerts = alert_lines(&stderr);
    assert_eq!(alerts.len(), 1, "{stderr}");
    assert!(alerts[0].contains("diagnostics expectation failed") && alerts[0].contains("created"));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(json["mode"], "smoke");
    assert_eq!(json["outcome"]["exit_code"], 2);

    let (code, _, stderr) = run_binary(vec!["load".into(), "--url".into(), "http://127.0.0.1:9/x".into(), "--token".into(), "t".into(), "--count".into(), "0".into()]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(alert_lines(&stderr).len(), 1, "{stderr}");
    let (code, _, stderr) = run_binary(vec!["load".into(), "--no-such-flag".into()]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(alert_lines(&stderr).len(), 1, "{stderr}");
}

/// The `progress:` lines on stderr, without the final one.
fn periodic_progress_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("progress: ") && !l.ends_with(", done"))
        .collect()
}

/// `eta N s` at the end of a progress line, in seconds.
fn eta_seconds(line: &str) -> Option<u64> {
    line.rsplit_once("eta ")?.1.strip_suffix(" s")?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_progress_lines_show_failures_and_an_eta_bounded_by_the_duration() {
    // Every answer takes at least 40 ms, so two connections send at most 50
    // requests a second: the 1,000,000 messages can never be reached, and
    // --duration-seconds ends the run after 1.5 s, with 0.25 s between lines.
    let mock = spawn_mock(MockArgs {
        delay_ms: 40,
        reject_every: Some(3),
        ..mock_args()
    })
    .await
    .expect("mock");
    let dir = tempfile::tempdir().expect("tempdir");
    let report_file = dir.path().join("load.json").display().to_string();
    let mut args = vec!["load".to_owned()];
    args.extend(load_flags(
        &mock,
        &[
            "--count",
            "1000000",
            "--concurrency",
            "2",
            "--duration-seconds",
            "1.5",
            "--progress-interval-seconds",
            "0.25",
            "--max-error-ratio",
            "1",
            "--report-file",
            &report_file,
        ],
    ));
    let (code, stdout, stderr) = run_binary(args).await;
    assert_eq!(code, 0, "{stderr}");
    let periodic = periodic_progress_lines(&stderr);
    assert!(!periodic.is_empty(), "no periodic progress line:\n{stderr}");
    for line in &periodic {
        assert!(line.contains("/1000000 msgs sent, "), "{line}");
        // The ETA ends with the duration limit, not with the million messages.
        assert!(eta_seconds(line).is_some_and(|eta| eta <= 2), "{line}");
    }
    // The last line: every third request got a 429, named by status.
    let last = stderr
        .lines()
        .rfind(|l| l.starts_with("progress: "))
        .expect("a last line");
    assert!(
        last.ends_with(", done") && last.contains("failed requests (HTTP 429 ×"),
        "{last}"
    );
    assert!(stdout.contains("requests failed (HTTP 429 ×"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).expect("report"))
            .expect("json");
    let series = report["series"].as_array().expect("series");
    assert!(!series.is_empty(), "{report}");
    let failed: u64 = series
        .iter()
        .map(|p| p["failed"]["429"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        Some(failed),
        report["requests"]["status_counts"]["429"].as_u64()
    );
    let accepted: u64 = series
        .iter()
        .map(|p| p["accepted_messages"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(Some(accepted), report["messages"]["acknowledged"].as_u64());
    let buckets = report["latency_histogram"]["buckets"]
        .as_array()
        .expect("histogram");
    let in_buckets: u64 = buckets
        .iter()
        .map(|b| b["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(Some(in_buckets), report["requests"]["ok"].as_u64());
    assert!(
        report["settings"]["client_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("soko-load-")),
        "{}",
        report["settings"]
    );

    // --progress-interval-seconds 0: no line at all.
    let mut args = vec!["load".to_owned()];
    args.extend(load_flags(
        &mock,
        &[
            "--count",
            "20",
            "--progress-interval-seconds",
            "0",
            "--max-error-ratio",
            "1",
        ],
    ));
    let (code, _, stderr) = run_binary(args).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("progress: "), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_renders_text_and_refuses_what_it_cannot_draw() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("load.json").display().to_string();
    let mock = spawn_mock(MockArgs {
        reject_every: Some(5),
        ..mock_args()
    })
    .await
    .expect("mock");
    let mut args = vec!["load".to_owned()];
    args.extend(load_flags(
        &mock,
        &[
            "--count",
            "500",
            "--concurrency",
            "2",
            "--max-error-ratio",
            "1",
            "--report-file",
            &report,
        ],
    ));
    let (code, _, stderr) = run_binary(args).await;
    assert_eq!(code, 0, "{stderr}");

    let (code, text, stderr) = run_binary(vec!["report".into(), report.clone()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("requests: 50 sent, 40 2xx, 10 failed (HTTP 429 ×10)"),
        "{text}"
    );
    assert!(
        text.contains("latency histogram (ingest latency of 2xx answers"),
        "{text}"
    );
    let bars = text
        .lines()
        .filter(|l| l.trim_start().starts_with("≤ "))
        .count();
    assert!(bars >= 1, "{text}");
    assert!(
        text.contains("per second (by when each request finished"),
        "{text}"
    );

    // Only SVG can be drawn; a missing or foreign file is exit 1 with an ALERT.
    let (code, _, stderr) = run_binary(vec![
        "report".into(),
        report.clone(),
        "--plot".into(),
        dir.path().join("x.png").display().to_string(),
    ])
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        alert_lines(&stderr)
            .first()
            .is_some_and(|l| l.contains("only .svg")),
        "{stderr}"
    );
    let (code, _, stderr) = run_binary(vec![
        "report".into(),
        dir.path().join("absent.json").display().to_string(),
    ])
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(alert_lines(&stderr).len(), 1, "{stderr}");
    let smoke = dir.path().join("smoke.json");
    std::fs::write(&smoke, r#"{"mode":"smoke"}"#).expect("write");
    let (code, _, stderr) = run_binary(vec!["report".into(), smoke.display().to_string()]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        alert_lines(&stderr)
            .first()
            .is_some_and(|l| l.contains("is not a load report")),
        "{stderr}"
    );
}
