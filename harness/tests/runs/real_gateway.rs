//! The `harness` binary against the real `gateway` binary (issue #13 item
//! 8): the seed's own commands, with `--diagnostics-url …/chat/tools/diagnostics`,
//! and the exit codes 0, 2 and 3 from what the gateway really answers.
//!
//! Each test starts its own gateway process on a free loopback port with a
//! SQLite file in a temp dir, or, with `TEST_DATABASE=postgres`, a fresh
//! PostgreSQL database on the server at `TEST_POSTGRES_URL` (dropped after). The gateway binary is `GATEWAY_BIN` when set;
//! otherwise the one beside this test binary (`target/<profile>/gateway`),
//! which the workspace run (`scripts/test.sh`, `cargo test --workspace`)
//! builds for the gateway's own process tests; when that is missing too,
//! it is built once with `cargo build -p gateway --bin gateway`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TOKEN: &str = "harness-ingest-token";
const SECRET: &str = "harness-hmac-secret";
const ADMIN: &str = "harness-admin-token";

/// The gateway binary, found or built once per test binary.
fn gateway_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("GATEWAY_BIN") {
            return PathBuf::from(path);
        }
        // target/<profile>/deps/runs-<hash> → target/<profile>/gateway
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
        let beside = profile_dir.join(format!("gateway{}", std::env::consts::EXE_SUFFIX));
        if !beside.exists() {
            build_gateway(&profile_dir);
        }
        assert!(beside.exists(), "no gateway binary at {}; build it (cargo build -p gateway) or set GATEWAY_BIN", beside.display());
        beside
    })
}

/// `cargo build -p gateway --bin gateway` into the target dir and profile
/// this test binary came from.
fn build_gateway(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let target_dir = profile_dir.parent().expect("target dir");
    let mut command = Command::new(cargo);
    command.args(["build", "-p", "gateway", "--bin", "gateway", "--manifest-path"]).arg(&manifest).arg("--target-dir").arg(target_dir);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
    }
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "cargo build -p gateway failed: {status}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// The gateway's database: a SQLite file in the test's temp dir, or, with
/// `TEST_DATABASE=postgres`, a fresh database on `TEST_POSTGRES_URL`.
struct Database {
    url: String,
    /// (admin URL, database name) to drop afterwards.
    postgres: Option<(String, String)>,
}

impl Database {
    async fn create(dir: &Path) -> Self {
        use sqlx::{Connection, Executor};
        if std::env::var("TEST_DATABASE").is_ok_and(|backend| backend == "postgres") {
            let admin = std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("soko_harness_{}", uuid::Uuid::new_v4().simple());
            let mut connection = sqlx::PgConnection::connect(&admin).await.expect("TEST_POSTGRES_URL reachable");
            connection.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create test database");
            let base = admin.rsplit_once('/').map_or_else(|| admin.clone(), |(base, _)| base.to_owned());
            return Self { url: format!("{base}/{name}"), postgres: Some((admin, name)) };
        }
        Self { url: format!("sqlite://{}", dir.join("soko.db").display()), postgres: None }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        use sqlx::{Connection, Executor};
        let Some((admin, name)) = self.postgres.take() else { return };
        // Drop runs outside async code: a small runtime of its own, on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
                    let _ = connection.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
                }
            });
        })
        .join();
    }
}

/// One real gateway process; killed when dropped (before its database).
struct Gateway {
    base: String,
    child: Child,
    log: PathBuf,
    _database: Database,
    _dir: tempfile::TempDir,
}

impl Gateway {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("gateway.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let port = free_port();
        let database = Database::create(dir.path()).await;
        let child = Command::new(gateway_binary())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WHATSAPP_INGEST_TOKEN", TOKEN)
            .env("WHATSAPP_INGEST_HMAC_SECRET", SECRET)
            .env("ADMIN_TOKEN", ADMIN)
            .env("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", "1000000")
            .env("WHATSAPP_INGEST_RATE_LIMIT_BURST", "100000")
            .env("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")
            .env("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "1")
            .env("DATABASE_URL", &database.url)
            .env("HTTP_WORKERS", "2")
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("gateway binary starts");
        let mut gateway = Self { base: format!("http://127.0.0.1:{port}"), child, log, _database: database, _dir: dir };
        gateway.wait_ready(Duration::from_secs(60)).await;
        gateway
    }

    async fn wait_ready(&mut self, within: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.base)).send().await
                && response.status().is_success()
            {
                // The gateway runs on the backend the suite asked for.
                let ready: serde_json::Value = response.json().await.unwrap_or_default();
                let backend = if self._database.postgres.is_some() { "postgres" } else { "sqlite" };
                assert_eq!(ready["database"], backend, "{ready}");
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("gateway exited with {status} before it was ready:\n{}", self.log_text());
            }
            assert!(Instant::now() < deadline, "gateway did not become ready:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn ingest_url(&self) -> String {
        format!("{}/integrations/whatsapp/ingest", self.base)
    }

    fn diagnostics_url(&self) -> String {
        format!("{}/chat/tools/diagnostics", self.base)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `harness` run: its exit code, output, and the report it wrote.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    report: serde_json::Value,
    report_text: String,
}

impl Run {
    fn alerts(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| l.starts_with("ALERT: ")).collect()
    }

    /// Names of the failed checks in the report.
    fn failed_checks(&self) -> Vec<&str> {
        self.report["outcome"]["failures"].as_array().map_or_else(Vec::new, |f| f.iter().filter_map(|f| f["check"].as_str()).collect())
    }

    /// No token or secret appears in anything the run printed or wrote.
    fn assert_no_secrets(&self) {
        for text in [&self.stdout, &self.stderr, &self.report_text] {
            for secret in [TOKEN, SECRET, ADMIN, "wrong-ingest-token", "wrong-admin-token"] {
                assert!(!text.contains(secret), "{secret} printed or written:\n{text}");
            }
        }
    }
}

/// Runs the harness binary with `args` plus a report file; `env` adds variables.
async fn harness(args: &[String], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("tmp/report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
    command.args(args).arg("--report-file").arg(&report).envs(env.iter().copied());
    for inherited in ["WHATSAPP_INGEST_URL", "WHATSAPP_INGEST_TOKEN", "WHATSAPP_INGEST_HMAC_SECRET", "HARNESS_DIAGNOSTICS_TOKEN"] {
        if !env.iter().any(|(name, _)| *name == inherited) {
            command.env_remove(inherited);
        }
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await.expect("joined").expect("harness runs");
    let report_text = std::fs::read_to_string(&report).unwrap_or_default();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        report: serde_json::from_str(&report_text).unwrap_or(serde_json::Value::Null),
        report_text,
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// The seed's smoke command: `smoke --url … --token … --diagnostics-url
/// …/chat/tools/diagnostics --expect-created 1 --expect-extracted 1`, signed.
fn seed_smoke(gateway: &Gateway, token: &str) -> Vec<String> {
    let (url, diagnostics) = (gateway.ingest_url(), gateway.diagnostics_url());
    strings(&[
        "smoke", "--url", &url, "--token", token, "--secret", SECRET, "--diagnostics-url", &diagnostics,
        "--expect-created", "1", "--expect-extracted", "1", "--timeout-seconds", "30", "--poll-interval-ms", "50",
    ])
}

/// The seed's load command, `load --url … --token … --count 50 --batch-size 10
/// --diagnostics-url …`, signed, plus `extra`.
fn seed_load(gateway: &Gateway, token: &str, extra: &[&str]) -> Vec<String> {
    let (url, diagnostics) = (gateway.ingest_url(), gateway.diagnostics_url());
    let mut args = strings(&[
        "load", "--url", &url, "--token", token, "--secret", SECRET, "--count", "50", "--batch-size", "10",
        "--concurrency", "2", "--diagnostics-url", &diagnostics, "--diagnostics-interval-ms", "50",
        "--timeout-seconds", "20",
    ]);
    args.extend(strings(extra));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_smoke_passes_against_the_gateway_with_either_diagnostics_credential() {
    let gateway = Gateway::start().await;

    // The ingest token alone: sent to diagnostics as X-Ingest-Token.
    let run = harness(&seed_smoke(&gateway, TOKEN), &[]).await;
    assert_eq!(run.code, 0, "{}\n{}\ngateway log:\n{}", run.stderr, run.report_text, gateway.log_text());
    assert!(run.alerts().is_empty(), "{}", run.stderr);
    assert!(run.stdout.starts_with("smoke: HTTP 200"), "{}", run.stdout);
    let diagnostics = &run.report["diagnostics"];
    assert_eq!(diagnostics["credential"], "the ingest token (--token) as X-Ingest-Token");
    assert_eq!(diagnostics["error"], serde_json::Value::Null, "{}", run.report_text);
    assert!(diagnostics["delta"]["created"].as_u64().is_some_and(|c| c >= 1), "{}", run.report_text);
    assert!(diagnostics["delta"]["extracted"].as_u64().is_some_and(|e| e >= 1), "{}", run.report_text);
    assert!(run.report["time_to_extracted_ms"].is_number(), "{}", run.report_text);
    run.assert_no_secrets();

    // --diagnostics-token (the admin token here), from its env fallback: sent as a bearer token.
    let run = harness(&seed_smoke(&gateway, TOKEN), &[("HARNESS_DIAGNOSTICS_TOKEN", ADMIN)]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.report_text);
    assert_eq!(run.report["diagnostics"]["credential"], "--diagnostics-token as Authorization: Bearer");
    assert!(run.report["diagnostics"]["delta"]["extracted"].as_u64().is_some_and(|e| e >= 1), "{}", run.report_text);
    run.assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_exits_2_when_diagnostics_or_the_post_are_refused() {
    let gateway = Gateway::start().await;

    // Diagnostics refuse a bearer token they do not know; the post itself is fine.
    let mut args = seed_smoke(&gateway, TOKEN);
    args.extend(strings(&["--diagnostics-token", "wrong-admin-token"]));
    let run = harness(&args, &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stderr, run.report_text);
    assert_eq!(run.report["request"]["status"], 200, "{}", run.report_text);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{}", run.stderr);
    assert!(alerts[0].contains("diagnostics expectation failed (exit 2)"), "{}", alerts[0]);
    assert!(alerts[0].contains("HTTP 401 to --diagnostics-token as Authorization: Bearer"), "{}", alerts[0]);
    assert!(alerts[0].contains("check --diagnostics-token"), "{}", alerts[0]);
    run.assert_no_secrets();

    // A wrong ingest token: the post is refused, and so are diagnostics
    // asked with it; the ALERT says which credential and how to fix it.
    let run = harness(&seed_smoke(&gateway, "wrong-ingest-token"), &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stderr, run.report_text);
    assert_eq!(run.report["request"]["status"], 401, "{}", run.report_text);
    assert_eq!(run.failed_checks(), ["diagnostics", "post"], "{}", run.report_text);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{}", run.stderr);
    assert!(alerts[0].contains("HTTP 401 to the ingest token (--token) as X-Ingest-Token"), "{}", alerts[0]);
    assert!(alerts[0].contains("--diagnostics-token"), "{}", alerts[0]);
    assert!(alerts[0].contains("invalid ingest token"), "{}", alerts[0]);
    run.assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_load_exit_codes_against_the_gateway() {
    let gateway = Gateway::start().await;

    // 0: every message created, diagnostics moved as far as the answers said.
    let run = harness(&seed_load(&gateway, TOKEN, &["--slo-max-skipped-ratio", "0", "--slo-p95-ms", "30000"]), &[]).await;
    assert_eq!(run.code, 0, "{}\n{}\ngateway log:\n{}", run.stderr, run.report_text, gateway.log_text());
    assert!(run.alerts().is_empty(), "{}", run.stderr);
    assert_eq!(run.report["requests"]["status_counts"]["200"], 5, "{}", run.report_text);
    assert_eq!(run.report["messages"]["created"], 50, "{}", run.report_text);
    assert_eq!(run.report["diagnostics"]["delta"]["created"], 50, "{}", run.report_text);
    assert_eq!(run.report["diagnostics"]["error"], serde_json::Value::Null);
    assert_eq!(run.report["ratios"]["error_ratio"], 0.0);
    run.assert_no_secrets();

    // 3: an SLO no gateway can meet.
    let run = harness(&seed_load(&gateway, TOKEN, &["--slo-p95-ms", "0.001"]), &[]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.report_text);
    assert_eq!(run.failed_checks(), ["p95_ms"], "{}", run.report_text);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{}", run.stderr);
    assert!(alerts[0].starts_with("ALERT: harness load SLO breach (exit 3): p95_ms: ingest p95"), "{}", alerts[0]);

    // 3: every request refused (wrong ingest token), no SLO flag given;
    // diagnostics are still read, with the admin token.
    let args = seed_load(&gateway, "wrong-ingest-token", &["--diagnostics-token", ADMIN]);
    let run = harness(&args, &[]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.report_text);
    assert_eq!(run.report["requests"]["status_counts"]["401"], 5, "{}", run.report_text);
    assert_eq!(run.report["outcome"]["status"], "slo_breach");
    assert_eq!(run.failed_checks(), ["error_ratio"], "{}", run.report_text);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{}", run.stderr);
    assert!(alerts[0].contains("error_ratio: 5 of 5 requests failed"), "{}", alerts[0]);
    assert!(alerts[0].contains("HTTP 401 ×5 (invalid_ingest_token: invalid ingest token)"), "{}", alerts[0]);
    assert!(run.stdout.contains("5 of 5 requests failed (HTTP 401 ×5)"), "{}", run.stdout);
    assert!(run.stdout.starts_with("load: 0 accepted msgs/s"), "{}", run.stdout);
    assert_eq!(run.report["messages"]["acknowledged"], 0, "{}", run.report_text);
    assert_eq!(run.report["throughput"]["messages_per_second"], 0.0, "{}", run.report_text);
    // Without a terminal, the last progress line names the refusals too,
    // and no refused message counts toward the rate.
    let last = run.stderr.lines().rfind(|l| l.starts_with("progress: ")).unwrap_or_default();
    assert!(last.contains("50/50 msgs sent, 0 accepted msgs/s, 5 failed requests (HTTP 401 ×5), done"), "{}", run.stderr);
    let series = run.report["series"].as_array().cloned().unwrap_or_default();
    assert_eq!(series.iter().map(|p| p["failed"]["401"].as_u64().unwrap_or(0)).sum::<u64>(), 5, "{}", run.report_text);
    assert!(series.iter().all(|p| p["accepted_messages"] == 0), "{}", run.report_text);
    // assert_no_secrets covers the admin token passed on the command line too.
    run.assert_no_secrets();

    // 2: diagnostics refuse the bearer token, so the counters cannot be checked.
    let run = harness(&seed_load(&gateway, TOKEN, &["--diagnostics-token", "wrong-admin-token"]), &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stderr, run.report_text);
    assert_eq!(run.report["messages"]["created"], 50, "{}", run.report_text);
    assert_eq!(run.failed_checks(), ["diagnostics"], "{}", run.report_text);
    let error = run.report["diagnostics"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("HTTP 401 to --diagnostics-token as Authorization: Bearer"), "{error}");
    run.assert_no_secrets();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_renders_a_real_run_as_text_and_as_an_svg_plot() {
    let gateway = Gateway::start().await;
    let mut args = seed_load(&gateway, TOKEN, &["--client-id", "report-test"]);
    if let Some(count) = args.iter().position(|a| a == "--count") {
        args[count + 1] = "200".into();
    }
    let run = harness(&args, &[]).await;
    assert_eq!(
        run.code,
        0,
        "{}\n{}\ngateway log:\n{}",
        run.stderr,
        run.report_text,
        gateway.log_text()
    );
    // The traffic is marked as the harness's: the gateway purges it by this prefix.
    assert_eq!(
        run.report["settings"]["client_id"], "soko-load-report-test",
        "{}",
        run.report_text
    );
    let histogram = &run.report["latency_histogram"];
    let counted: u64 = histogram["buckets"]
        .as_array()
        .map_or(0, |b| b.iter().filter_map(|b| b["count"].as_u64()).sum());
    assert_eq!(counted, 20, "{}", run.report_text);
    let accepted: u64 = run.report["series"].as_array().map_or(0, |s| {
        s.iter()
            .filter_map(|p| p["accepted_messages"].as_u64())
            .sum()
    });
    assert_eq!(accepted, 200, "{}", run.report_text);

    let dir = tempfile::tempdir().expect("tempdir");
    let report_file = dir.path().join("load.json");
    std::fs::write(&report_file, &run.report_text).expect("report copied");
    let plot = dir.path().join("plots/load.svg");
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("report")
        .arg(&report_file)
        .arg("--plot")
        .arg(&plot)
        .output()
        .expect("harness report runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("requests: 20 sent, 20 2xx, 0 failed (none)"),
        "{text}"
    );
    assert!(
        text.contains("latency histogram (ingest latency of 2xx answers"),
        "{text}"
    );
    let histogram_rows: u64 = text
        .lines()
        .filter(|l| l.trim_start().starts_with("≤ "))
        .filter_map(|l| {
            l.split('|')
                .nth(2)?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    assert_eq!(histogram_rows, 20, "{text}");
    assert!(
        text.contains(&format!("plot: {}", plot.display())),
        "{text}"
    );

    // The plot is well-formed SVG: three panels with axes, lines and bars, text as <text>.
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    let document = roxmltree::Document::parse(&svg).expect("the plot is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        (root.attribute("width"), root.attribute("height")),
        (Some("1000"), Some("1000"))
    );
    let texts: Vec<String> = root
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    for caption in [
        "accepted messages (2xx) and failed requests",
        "latency of each second's 2xx answers",
        "latency histogram",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(caption)),
            "{caption} missing from {texts:?}"
        );
    }
    assert!(
        texts.iter().any(|t| t.contains("accepted msgs/s")),
        "{texts:?}"
    );
    let lines = root
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert!(
        lines >= 5,
        "accepted and failed rates, p50, p95, p99: {lines} polylines"
    );
    let bars = root
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#0000FF"))
        .count();
    assert!(bars >= 1, "no histogram bar in the plot");
}
