//! Runs the parsed command line: builds the sender and status server, runs
//! the chosen source, and maps the result to an exit code.
//!
//! Exit codes of the one-shot commands (`stdin`, `export`), most serious
//! first:
//! - 77 the gateway refused our credentials (401/403): every batch not yet
//!   delivered waits in SPOOL_DIR and goes first on the next run;
//! - 75 the gateway did not take everything (down, overloaded, a wrong
//!   URL): the rest waits in SPOOL_DIR and goes first on the next run;
//! - 65 some input was skipped (bad stdin lines, unreadable exports) or
//!   refused by the gateway for good (a malformed batch, or messages
//!   refused one by one in a 2xx answer; both kept in SPOOL_DIR/rejected/);
//!   the rest was delivered;
//! - 1 configuration or fatal error (including a relay without webhook
//!   authentication);
//! - 0 everything read was delivered (or printed, for `--dry-run`).
//!
//! Every run ends with one `summary:` line on stderr that splits the
//! messages into created, duplicate, waiting (in the spool) and rejected.

use crate::config::{Cli, Command, CommonArgs, ExportArgs, RelayArgs, WatchArgs};
use crate::export::{ExportOptions, parse_export, read_export_file};
use crate::metrics::{Metrics, Source};
use crate::relay::{ChatTitles, RelayAuth, RelayConfig, RunningRelay};
use crate::sender::{Drain, Sender, SenderConfig};
use crate::sources::stdin::run_stdin;
use crate::sources::watch::{WatchConfig, Watcher};
use crate::status::{RunningServer, start_status_server};
use anyhow::Context;
use std::collections::HashMap;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const EXIT_INPUT_SKIPPED: u8 = 65;
pub const EXIT_UNDELIVERED: u8 = 75;
/// sysexits' `EX_NOPERM`.
pub const EXIT_AUTH_REFUSED: u8 = 77;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let metrics = Arc::new(Metrics::new());
    match cli.command {
        Command::Export(args) if args.dry_run => dry_run(&args),
        Command::Export(args) => {
            let (sender, status) = start_sending(&cli.common, &metrics).await?;
            let skipped = send_exports(&args, &sender, &metrics).await?;
            finish(sender, status, skipped).await
        }
        Command::Stdin => {
            let (sender, status) = start_sending(&cli.common, &metrics).await?;
            let reader = tokio::io::BufReader::new(tokio::io::stdin());
            let report = run_stdin(reader, &sender.handle(), &metrics, |bad| eprintln!("stdin line {}: {}; skipped", bad.line, bad.reason)).await?;
            eprintln!("stdin: {} line(s), {} message(s) queued, {} bad line(s) skipped", report.lines, report.messages, report.bad_lines.len());
            finish(sender, status, !report.bad_lines.is_empty()).await
        }
        Command::Watch(args) => watch(&cli.common, args, &metrics).await,
        Command::Relay(args) => relay(&cli.common, args, &metrics).await,
    }
}

async fn start_sending(common: &CommonArgs, metrics: &Arc<Metrics>) -> anyhow::Result<(Sender, Option<RunningServer>)> {
    let config = common.sender_config()?;
    warn_if_unsigned(&config);
    let status = start_status(common, metrics)?;
    let sender = Sender::start(config, metrics.clone()).await?;
    if sender.pending() > 0 {
        tracing::info!(batches = sender.pending(), "resending batches left in the spool");
    }
    Ok((sender, status))
}

fn start_status(common: &CommonArgs, metrics: &Arc<Metrics>) -> anyhow::Result<Option<RunningServer>> {
    let Some(port) = common.port else {
        return Ok(None);
    };
    let listener = TcpListener::bind((common.status_host.as_str(), port)).with_context(|| format!("cannot bind the status server to {}:{port}", common.status_host))?;
    let server = start_status_server(listener, metrics.clone())?;
    tracing::info!(addr = %server.local_addr(), "status server listening");
    Ok(Some(server))
}

fn warn_if_unsigned(config: &SenderConfig) {
    if config.webhook_key.is_some() {
        tracing::info!("signing batches with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)");
    } else if config.hmac_secret.is_none() {
        tracing::warn!("WHATSAPP_INGEST_HMAC_SECRET is not set: batches carry the token only, without X-Signature");
    }
}

fn export_options(args: &ExportArgs, title_from_file: String) -> ExportOptions {
    ExportOptions { chat_title: args.chat.clone().filter(|chat| !chat.trim().is_empty()).unwrap_or(title_from_file), utc_offset: args.settings.utc_offset, date_order: args.settings.date_order }
}

fn dry_run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut skipped = false;
    for path in &args.files {
        let parsed = read_export_file(path).and_then(|export| {
            let options = export_options(args, export.chat_title);
            parse_export(&export.text, &options)
        });
        match parsed {
            Ok(parsed) => {
                for message in &parsed.messages {
                    writeln!(out, "{}", serde_json::to_string(message)?)?;
                }
                eprintln!("{}: {}", path.display(), serde_json::to_string(&parsed.report)?);
            }
            Err(error) => {
                eprintln!("{}: {error}; skipped", path.display());
                skipped = true;
            }
        }
    }
    out.flush()?;
    Ok(if skipped { ExitCode::from(EXIT_INPUT_SKIPPED) } else { ExitCode::SUCCESS })
}

/// Returns whether any file was skipped.
async fn send_exports(args: &ExportArgs, sender: &Sender, metrics: &Metrics) -> anyhow::Result<bool> {
    let mut skipped = false;
    for path in &args.files {
        let owned = path.clone();
        let chat = args.chat.clone();
        let settings = args.settings.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            read_export_file(&owned).and_then(|export| {
                let title = chat.filter(|chat| !chat.trim().is_empty()).unwrap_or(export.chat_title);
                parse_export(&export.text, &ExportOptions { chat_title: title, utc_offset: settings.utc_offset, date_order: settings.date_order })
            })
        })
        .await?;
        match parsed {
            Ok(parsed) => {
                eprintln!(
                    "{}: {} message(s), {} system line(s) skipped, {} media placeholder(s)",
                    path.display(),
                    parsed.messages.len(),
                    parsed.report.system_lines_skipped,
                    parsed.report.media_placeholders
                );
                metrics.record_received(Source::Export, parsed.messages.len());
                sender.handle().submit(parsed.messages).await?;
            }
            Err(error) => {
                eprintln!("{}: {error}; skipped", path.display());
                metrics.record_ignored(Source::Export, "not_an_export", 1);
                skipped = true;
            }
        }
    }
    Ok(skipped)
}

async fn finish(sender: Sender, status: Option<RunningServer>, input_skipped: bool) -> anyhow::Result<ExitCode> {
    let spool_dir = sender.spool_dir().to_owned();
    let metrics = sender.metrics().clone();
    let drain = sender.finish().await?;
    if let Some(status) = status {
        status.stop().await;
    }
    let snapshot = metrics.snapshot();
    eprintln!("{}", summary_line(&snapshot, &spool_dir));
    match drain {
        Drain::AuthRefused { pending } => {
            let reason = metrics.auth_failure().unwrap_or_else(|| "gateway refused the credentials".to_owned());
            eprintln!("{reason}; {pending} batch(es) stay in {} and are sent first on the next run, once the token, HMAC secret or clock is fixed", spool_dir.display());
            Ok(ExitCode::from(EXIT_AUTH_REFUSED))
        }
        Drain::Undelivered { pending } => {
            eprintln!("{pending} batch(es) could not be delivered now and stay in {}; they are sent first on the next run", spool_dir.display());
            Ok(ExitCode::from(EXIT_UNDELIVERED))
        }
        Drain::Empty if input_skipped || snapshot.batches_rejected > 0 || snapshot.messages_rejected > 0 => {
            if snapshot.messages_rejected > 0 {
                eprintln!("{} message(s) were refused by the gateway and kept in {}/rejected with the reason beside each batch", snapshot.messages_rejected, spool_dir.display());
            }
            Ok(ExitCode::from(EXIT_INPUT_SKIPPED))
        }
        Drain::Empty => Ok(ExitCode::SUCCESS),
    }
}

/// The one line every one-shot run ends with, e.g.
/// `summary: 12 created, 3 duplicate, 50 waiting (1 batch(es) in ./spool), 2 rejected (in ./spool/rejected)`.
pub fn summary_line(snapshot: &crate::metrics::StatusSnapshot, spool_dir: &std::path::Path) -> String {
    format!(
        "summary: {} created, {} duplicate, {} waiting ({} batch(es) in {}), {} rejected (in {}/rejected)",
        snapshot.messages_created,
        snapshot.messages_duplicate,
        snapshot.messages_waiting.max(0),
        snapshot.spool_depth.max(0),
        spool_dir.display(),
        snapshot.messages_rejected,
        spool_dir.display()
    )
}

async fn watch(common: &CommonArgs, args: WatchArgs, metrics: &Arc<Metrics>) -> anyhow::Result<ExitCode> {
    if !args.dir.is_dir() {
        anyhow::bail!("watch directory {} does not exist or is not a directory", args.dir.display());
    }
    let (sender, status) = start_sending(common, metrics).await?;
    let config = WatchConfig {
        dir: args.dir,
        poll_interval: Duration::from_millis(args.poll_interval_ms.max(50)),
        state_file: args.state_file.unwrap_or_else(|| common.spool_dir.join("watch-state.json")),
        export: args.settings,
    };
    let watcher = Watcher::new(config, sender.handle(), metrics.clone())?;
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(watcher.run(shutdown.clone()));
    wait_for_signal().await;
    shutdown.cancel();
    let result = running.await?;
    sender.shutdown().await;
    if let Some(status) = status {
        status.stop().await;
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

async fn relay(common: &CommonArgs, args: RelayArgs, metrics: &Arc<Metrics>) -> anyhow::Result<ExitCode> {
    let chat_titles = match &args.chat_titles {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read chat titles file {}", path.display()))?;
            let titles: HashMap<String, String> = serde_json::from_str(&text).with_context(|| format!("{} must be a JSON object of JID → title", path.display()))?;
            ChatTitles::new(titles)
        }
        None => ChatTitles::default(),
    };
    let relay_config =
        RelayConfig { waha_hmac_key: args.waha_hmac_key, evolution_apikey: args.evolution_apikey, evolution_jwt_key: args.evolution_jwt_key, chat_titles, insecure_no_auth: args.insecure_no_auth };
    // Refused before anything listens or touches the spool.
    RelayAuth::decide(&relay_config)?;
    let config = common.sender_config()?;
    warn_if_unsigned(&config);
    let status = start_status(common, metrics)?;
    let relay = RunningRelay::start(&args.listen, config, relay_config, metrics.clone()).await?;
    tracing::info!(addr = %relay.local_addr(), "relay listening: POST /waha, POST /evolution");
    wait_for_signal().await;
    // In-flight webhooks finish (and are spooled) before the sender stops.
    relay.stop().await;
    if let Some(status) = status {
        status.stop().await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl+C stops the collector");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping");
}
