//! The real `collector` binary: dry runs, stdin with bad lines, sending
//! exports, configuration errors, an unreachable gateway (exit 75, batch
//! kept in the spool and sent by the next run), refused credentials (exit
//! 77, likewise kept), a malformed batch (exit 65, in `rejected/`), and a
//! relay that refuses to run without webhook authentication.

use crate::receiver::Receiver;
use crate::{SECRET, TOKEN, ids, temp_dir};
use collector_client::export::{ExportOptions, parse_export, parse_utc_offset, read_export_file};
use collector_client::message::IngestMessage;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn export_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports").join(name)
}

fn collector(spool: &Path, ingest_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_collector"));
    for name in [
        "WHATSAPP_INGEST_URL",
        "WHATSAPP_INGEST_TOKEN",
        "WHATSAPP_INGEST_HMAC_SECRET",
        "CLIENT_ID",
        "BATCH_MAX_MESSAGES",
        "BATCH_FLUSH_INTERVAL_MS",
        "PORT",
        "SPOOL_DIR",
        "EXPORT_UTC_OFFSET",
        "WAHA_WEBHOOK_HMAC_KEY",
        "EVOLUTION_WEBHOOK_APIKEY",
        "EVOLUTION_WEBHOOK_JWT_KEY",
        "RELAY_INSECURE_NO_AUTH",
    ] {
        command.env_remove(name);
    }
    command.env("SPOOL_DIR", spool).env("BATCH_FLUSH_INTERVAL_MS", "50").env("RUST_LOG", "warn");
    if let Some(url) = ingest_url {
        command.env("WHATSAPP_INGEST_URL", url).env("WHATSAPP_INGEST_TOKEN", TOKEN).env("WHATSAPP_INGEST_HMAC_SECRET", SECRET).env("CLIENT_ID", "cli-test");
    }
    command
}

fn run_with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn collector");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("collector output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `summary:` line every one-shot run ends with.
fn summary(stderr: &str) -> String {
    stderr.lines().find(|line| line.starts_with("summary: ")).unwrap_or_else(|| panic!("no summary line in:\n{stderr}")).to_owned()
}

fn assert_no_secrets(output: &Output) {
    let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr(output));
    assert!(!all.contains(SECRET) && !all.contains(TOKEN), "a secret was printed:\n{all}");
}

#[test]
fn dry_run_prints_one_ingest_message_per_line() {
    let spool = temp_dir();
    let file = export_fixture("WhatsApp Chat with Nairobi Phones.txt");
    let output = collector(spool.path(), None).args(["export", "--dry-run"]).arg(&file).output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed: Vec<IngestMessage> = String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("ingest message JSON")).collect();

    let export = read_export_file(&file).expect("read");
    let options = ExportOptions { chat_title: export.chat_title, utc_offset: parse_utc_offset("+03:00").expect("offset"), date_order: None };
    assert_eq!(printed, parse_export(&export.text, &options).expect("parse").messages);
    assert_eq!(printed.len(), 5);
    assert!(stderr(&output).contains("\"system_lines_skipped\":4"), "{}", stderr(&output));
}

#[test]
fn dry_run_takes_the_chat_title_and_utc_offset_from_flags() {
    let spool = temp_dir();
    let output = collector(spool.path(), None)
        .args(["export", "--dry-run", "--chat", "Nairobi Phones Group", "--utc-offset", "+00:00"])
        .arg(export_fixture("WhatsApp Chat with Westlands Phones.txt"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("json")).collect();
    assert_eq!(printed.len(), 2);
    assert!(printed.iter().all(|m| m["chat_title"] == "Nairobi Phones Group"));
    assert_eq!(printed[0]["timestamp"], "2024-03-05T14:07:00Z");
}

#[test]
fn stdin_sends_good_lines_and_reports_bad_ones_by_line_number() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let input = [
        r#"{"chat_title":"Smoke Chat","text":"Pixel 8 Pro - $750"}"#,
        r#"{"chat_title":"Smoke Chat","text":"private words"#,
        "",
        r#"{"text":"private words without a chat"}"#,
        r#"{"chat_title":"Smoke Chat","sender":"+254712345678","message_id":"abc-1","timestamp":1717234200,"text":"Samsung A05 - 11,999"}"#,
    ]
    .join("\n");
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, &input);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(65), "{err}");
    assert!(err.contains("stdin line 2: not valid JSON"), "{err}");
    assert!(err.contains("stdin line 4: missing field `chat_title`"), "{err}");
    assert!(!err.contains("private words"), "message content leaked to stderr: {err}");
    assert_no_secrets(&output);
    let accepted = receiver.accepted_messages();
    assert_eq!(accepted.iter().filter_map(|m| m.text.clone()).collect::<Vec<_>>(), ["Pixel 8 Pro - $750", "Samsung A05 - 11,999"]);
    assert!(receiver.accepted_batches().iter().all(|b| b.client_id == "cli-test"));
    assert_eq!(receiver.refused_auth(), 0);
}

#[test]
fn sending_an_export_twice_sends_the_same_message_ids() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let file = export_fixture("WhatsApp Chat - Nakuru Mobile Hub.zip");
    for _ in 0..2 {
        let output = collector(spool.path(), Some(&receiver.ingest_url)).arg("export").arg(&file).output().expect("run");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_no_secrets(&output);
    }
    let accepted = receiver.accepted_messages();
    assert_eq!(accepted.len(), 6);
    assert_eq!(ids(&accepted[..3]), ids(&accepted[3..]), "a re-post carries the same ids, so the gateway deduplicates it");
    assert!(accepted.iter().all(|m| m.chat_title == "Nakuru Mobile Hub"));
}

#[test]
fn a_missing_setting_is_named() {
    let spool = temp_dir();
    let output = collector(spool.path(), None).arg("stdin").stdin(Stdio::null()).output().expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("WHATSAPP_INGEST_URL is not set"), "{}", stderr(&output));
    let output = collector(spool.path(), Some("http://127.0.0.1:9")).args(["stdin", "--batch-max-messages", "0"]).stdin(Stdio::null()).output().expect("run");
    assert!(stderr(&output).contains("BATCH_MAX_MESSAGES must be between 1 and 500"), "{}", stderr(&output));
}

#[test]
fn an_unreachable_gateway_keeps_the_batch_for_the_next_run() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let spool = temp_dir();
    let down = format!("http://127.0.0.1:{closed_port}/integrations/whatsapp/ingest");
    let mut command = collector(spool.path(), Some(&down));
    command.arg("stdin");
    let output = run_with_stdin(command, "{\"chat_title\":\"Smoke Chat\",\"message_id\":\"keep-1\",\"text\":\"Pixel 8 Pro - $750\"}\n");
    assert_eq!(output.status.code(), Some(75), "{}", stderr(&output));
    assert!(stderr(&output).contains("stay in"), "{}", stderr(&output));
    let spooled = std::fs::read_dir(spool.path()).expect("spool").flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".json") && e.file_name().to_string_lossy().starts_with('b')).count();
    assert_eq!(spooled, 1);

    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(ids(&receiver.accepted_messages()), ["keep-1"]);
}

/// A `collector relay` child on port 0; the addresses it logged.
struct RelayChild {
    child: std::process::Child,
    relay: String,
    status: Option<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn spawn_relay(mut command: Command, with_status: bool, relay_flags: &[&str]) -> RelayChild {
    use std::io::BufRead;
    command.args(["relay", "--listen", "127.0.0.1:0"]).args(relay_flags).env("RUST_LOG", "info").stdout(Stdio::null()).stderr(Stdio::piped());
    if with_status {
        command.env("PORT", "0");
    }
    let mut child = command.spawn().expect("spawn relay");
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let pipe = child.stderr.take().expect("stderr");
    let collected = stderr.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            collected.lock().unwrap_or_else(|p| p.into_inner()).push_str(&format!("{line}\n"));
            let _ = lines_tx.send(line);
        }
    });
    let address_in = |line: &str| line.split("addr=").nth(1).map(|rest| rest.split_whitespace().next().unwrap_or_default().to_owned());
    let (mut relay, mut status) = (None, None);
    while relay.is_none() || (with_status && status.is_none()) {
        let line = lines_rx.recv_timeout(std::time::Duration::from_secs(60)).expect("relay start-up log line");
        if line.contains("relay listening") {
            relay = address_in(&line);
        } else if line.contains("status server listening") {
            status = address_in(&line);
        }
    }
    RelayChild { child, relay: relay.expect("relay address"), status, stderr }
}

#[test]
fn the_relay_binary_forwards_webhooks_serves_status_and_stops_on_sigterm() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.env("WAHA_WEBHOOK_HMAC_KEY", "waha-key");
    let RelayChild { child, relay, status, stderr: logged } = spawn_relay(command, true, &[]);
    let status = status.expect("status address");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let health: serde_json::Value = client.get(format!("http://{status}/healthz")).send().await.expect("healthz").json().await.expect("json");
        assert_eq!(health["status"], "ok", "{health}");
        let body = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/relay/waha_message_group_webjs.json")).expect("fixture");
        let signature = collector_client::relay::waha::sign(b"waha-key", &body);
        let response = client.post(format!("http://{relay}/waha")).header("Content-Type", "application/json").header("X-Webhook-Hmac", signature).body(body).send().await.expect("post");
        assert_eq!(response.status().as_u16(), 200);
        // The receiver records the batch before the relay reads the answer and
        // counts it, so wait for the relay's own counter, not the receiver's.
        let mut metrics = serde_json::Value::Null;
        for _ in 0..200 {
            metrics = client.get(format!("http://{status}/metrics?format=json")).send().await.expect("metrics").json().await.expect("json");
            if metrics["messages_sent"] == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(metrics["messages_sent"], 1, "{metrics}");
        assert_eq!(metrics["connection_status"], "open");
    });
    assert_eq!(receiver.accepted_messages().iter().filter_map(|m| m.text.clone()).collect::<Vec<_>>(), ["Samsung Galaxy A15 128GB - KSh 19,999"]);

    // The shell's builtin kill: no procps needed on a bare machine.
    let killed = Command::new("sh").args(["-c", &format!("kill -TERM {}", child.id())]).status().expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    let logged = logged.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(logged.contains("stopping"), "{logged}");
    assert!(!logged.contains(SECRET) && !logged.contains(TOKEN) && !logged.contains("waha-key"), "a secret was logged:\n{logged}");
    assert!(!logged.contains("Samsung Galaxy") && !logged.contains("254712345678"), "personal data was logged:\n{logged}");
}

#[test]
fn a_webhook_acknowledged_before_a_crash_is_delivered_by_the_next_run() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let down = format!("http://127.0.0.1:{closed_port}/integrations/whatsapp/ingest");
    let spool = temp_dir();
    let mut command = collector(spool.path(), Some(&down));
    command.env("EVOLUTION_WEBHOOK_APIKEY", "B6D711FCDE4D4FD5936544120E713976");
    let RelayChild { mut child, relay, .. } = spawn_relay(command, false, &[]);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let body = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/relay/evolution_upsert_direct_conversation.json")).expect("fixture");
        let response = reqwest::Client::new().post(format!("http://{relay}/evolution")).header("Content-Type", "application/json").body(body).send().await.expect("post");
        assert_eq!(response.status().as_u16(), 200, "the relay acknowledged the webhook");
    });
    // SIGKILL: no clean shutdown, and the gateway was never reachable.
    child.kill().expect("kill -9");
    let _ = child.wait();

    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(ids(&receiver.accepted_messages()), ["3A5C7E9B1D3F5A7C9E1B"]);
}

#[test]
fn refused_credentials_exit_77_and_keep_every_batch_for_the_next_run() {
    let receiver = Receiver::start("the-gateways-new-token", Some(SECRET));
    let spool = temp_dir();
    let input = "{\"chat_title\":\"Smoke Chat\",\"message_id\":\"auth-1\",\"text\":\"Pixel 8 Pro - $750\"}\n";
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, input);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(77), "{err}");
    assert!(err.contains("gateway refused the credentials: invalid_ingest_token (HTTP 401)"), "{err}");
    assert!(err.contains("stay in"), "{err}");
    assert_eq!(summary(&err), format!("summary: 0 created, 0 duplicate, 1 waiting (1 batch(es) in {0}), 0 rejected (in {0}/rejected)", spool.path().display()));
    assert_no_secrets(&output);
    assert!(!err.contains("the-gateways-new-token"));
    assert_eq!(crate::batch_files(spool.path()).len(), 1, "kept in the spool");
    assert!(crate::batch_files(&spool.path().join("rejected")).is_empty(), "nothing thrown away");

    // Token fixed on the gateway: the next run sends the kept batch first.
    receiver.set_credentials(TOKEN, Some(SECRET));
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(ids(&receiver.accepted_messages()), ["auth-1"]);
}

#[test]
fn a_batch_refused_as_malformed_exits_65_and_waits_in_rejected() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([crate::receiver::Reply::Error(422, "invalid_payload")]);
    let spool = temp_dir();
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, "{\"chat_title\":\"Smoke Chat\",\"text\":\"Pixel 8 Pro - $750\"}\n");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(65), "{err}");
    assert_eq!(summary(&err), format!("summary: 0 created, 0 duplicate, 0 waiting (0 batch(es) in {0}), 1 rejected (in {0}/rejected)", spool.path().display()));
    assert_eq!(crate::batch_files(&spool.path().join("rejected")).len(), 1);
    assert!(crate::batch_files(spool.path()).is_empty());
}

#[test]
fn the_relay_refuses_to_start_without_webhook_auth_unless_insecure_no_auth() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    for insecure_env in [None, Some("false")] {
        let mut command = collector(spool.path(), Some(&receiver.ingest_url));
        if let Some(value) = insecure_env {
            command.env("RELAY_INSECURE_NO_AUTH", value);
        }
        let output = command.args(["relay", "--listen", "127.0.0.1:0"]).stdin(Stdio::null()).output().expect("run");
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{insecure_env:?}: {err}");
        for name in ["WAHA_WEBHOOK_HMAC_KEY", "EVOLUTION_WEBHOOK_JWT_KEY", "EVOLUTION_WEBHOOK_APIKEY", "--insecure-no-auth"] {
            assert!(err.contains(name), "{name} not named: {err}");
        }
    }

    let RelayChild { child, relay, stderr: logged, .. } = spawn_relay(collector(spool.path(), Some(&receiver.ingest_url)), false, &["--insecure-no-auth"]);
    let warned = |logged: &std::sync::Mutex<String>| {
        let text = logged.lock().unwrap_or_else(|p| p.into_inner()).clone();
        text.lines().any(|line| line.contains("WARN") && line.contains("--insecure-no-auth") && line.contains("/waha, /evolution"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !warned(&logged) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(warned(&logged), "no start-up warning:\n{}", logged.lock().unwrap_or_else(|p| p.into_inner()));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let status = runtime.block_on(async {
        let body = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/relay/waha_message_direct_noweb.json")).expect("fixture");
        reqwest::Client::new().post(format!("http://{relay}/waha")).header("Content-Type", "application/json").body(body).send().await.expect("post").status().as_u16()
    });
    assert_eq!(status, 200, "open, as asked");
    let killed = Command::new("sh").args(["-c", &format!("kill -TERM {}", child.id())]).status().expect("kill");
    assert!(killed.success());
    assert_eq!(child.wait_with_output().expect("wait").status.code(), Some(0));
}

/// A gateway that refuses the collector's HMAC secret (403 invalid_signature):
/// never a success. `stdin` and `export` exit 77, say the batch waits in the
/// spool, and the summary splits what happened; a fixed secret sends it.
#[test]
fn a_wrong_secret_is_never_a_success_for_stdin_or_export() {
    let receiver = Receiver::start(TOKEN, Some("the-gateways-other-secret"));
    let spool = temp_dir();
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, "{\"chat_title\":\"Smoke Chat\",\"message_id\":\"sig-1\",\"text\":\"Pixel 8 Pro - $750\"}\n");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(77), "{err}");
    assert!(err.contains("gateway refused the credentials: invalid_signature (HTTP 403)"), "{err}");
    assert!(err.contains(&format!("stay in {}", spool.path().display())), "{err}");
    assert_eq!(summary(&err), format!("summary: 0 created, 0 duplicate, 1 waiting (1 batch(es) in {0}), 0 rejected (in {0}/rejected)", spool.path().display()));
    assert_no_secrets(&output);
    assert!(!err.contains("the-gateways-other-secret"));

    // An export run on the same spool: the waiting batch goes first and is refused again.
    let output = collector(spool.path(), Some(&receiver.ingest_url)).arg("export").arg(export_fixture("WhatsApp Chat - Nakuru Mobile Hub.zip")).output().expect("run");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(77), "{err}");
    assert_eq!(summary(&err), format!("summary: 0 created, 0 duplicate, 4 waiting (2 batch(es) in {0}), 0 rejected (in {0}/rejected)", spool.path().display()));
    assert_eq!(crate::batch_files(spool.path()).len(), 2, "both batches wait in the spool");
    assert!(receiver.accepted_batches().is_empty());

    receiver.set_credentials(TOKEN, Some(SECRET));
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, "");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(summary(&err), format!("summary: 4 created, 0 duplicate, 0 waiting (0 batch(es) in {0}), 0 rejected (in {0}/rejected)", spool.path().display()));
}

/// The summary tells created, duplicate and rejected apart: a message the
/// gateway already had is a duplicate, and one it refuses inside its 200
/// answer is kept in `rejected/` with its reason, and the run exits 65.
#[test]
fn the_summary_splits_created_duplicate_and_rejected() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let line = |id: &str| format!("{{\"chat_title\":\"Smoke Chat\",\"message_id\":\"{id}\",\"text\":\"Samsung A05 - 11,999\"}}\n");
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    command.arg("stdin");
    let output = run_with_stdin(command, &line("dup-1"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    receiver.script([crate::receiver::Reply::Refuse(&[2])]);
    let mut command = collector(spool.path(), Some(&receiver.ingest_url));
    // One batch whatever the machine's speed: it closes at the end of stdin.
    command.env("BATCH_FLUSH_INTERVAL_MS", "60000").arg("stdin");
    let output = run_with_stdin(command, &[line("dup-1"), line("new-1"), line("refused-1")].concat());
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(65), "{err}");
    assert_eq!(summary(&err), format!("summary: 1 created, 1 duplicate, 0 waiting (0 batch(es) in {0}), 1 rejected (in {0}/rejected)", spool.path().display()));
    let rejected_dir = spool.path().join("rejected");
    let kept = crate::batch_files(&rejected_dir);
    assert_eq!(kept.len(), 1, "the refused message is kept");
    let batch: collector_client::message::IngestBatch = serde_json::from_slice(&std::fs::read(rejected_dir.join(&kept[0])).expect("read")).expect("batch");
    assert_eq!(ids(&batch.messages), ["refused-1"]);
    let reason = std::fs::read_to_string(rejected_dir.join(kept[0].replace(".json", ".reason.json"))).expect("reason");
    assert!(reason.contains("messages[2]: empty_message"), "{reason}");
    assert!(crate::batch_files(spool.path()).is_empty(), "nothing waits");
}

#[test]
fn help_documents_the_exit_codes_and_the_summary() {
    let output = Command::new(env!("CARGO_BIN_EXE_collector")).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in ["77", "75", "65", "summary:", "SPOOL_DIR/rejected", "/healthz"] {
        assert!(help.contains(expected), "{expected} missing from --help:\n{help}");
    }
    let relay = Command::new(env!("CARGO_BIN_EXE_collector")).args(["relay", "--help"]).output().expect("run");
    let relay = String::from_utf8_lossy(&relay.stdout);
    for expected in ["--evolution-jwt-key", "EVOLUTION_WEBHOOK_JWT_KEY", "AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES"] {
        assert!(relay.contains(expected), "{expected} missing from relay --help:\n{relay}");
    }
}
