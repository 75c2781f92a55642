use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway::{
    config::{Config, Role},
    startup::Application,
    telemetry,
};

/// Soko Ingest gateway. Every setting comes from environment variables (see
/// docs/CONFIGURATION.md); the role can also be given here.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// all (HTTP and background work), api (HTTP only) or worker (background
    /// work plus /healthz, /readyz, /metrics). Overrides GATEWAY_ROLE.
    #[arg(long, value_parser = parse_role)]
    role: Option<Role>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Remove test traffic: the chats, messages, offers, products, jobs and
    /// dedupe entries derived from batches whose client_id starts with the
    /// prefix, in one transaction. Prints what it removed. On SQLite, stop the
    /// gateway first (or use POST /admin/purge on the running one).
    Purge {
        /// The client_id prefix (never empty); the harness marks its traffic soko-load-.
        #[arg(long)]
        client_prefix: String,
        /// Print the counts only; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import a vendor document (price list, chat export, PDF or photo) the way POST /documents
    /// does, and wait for its import: prints the counts and the rows that could not be read.
    /// Exit 0 when done or skipped (same bytes as the vendor's last import), 1 when the import
    /// failed, 65 when the file is refused (format, corrupt, too large), 2 for bad settings.
    Ingest {
        /// The file: .xlsx, .xls, .ods, .csv, .tsv, a chat export (.txt, .zip), .pdf or an image.
        file: std::path::PathBuf,
        /// A vendor id, or a vendor name (created when unknown).
        #[arg(long)]
        vendor: String,
        /// Force a processor instead of choosing one from the file.
        #[arg(long)]
        processor: Option<String>,
        /// key=value; the known key is prefer_llm.
        #[arg(long = "option", value_parser = parse_option)]
        options: Vec<(String, String)>,
    },
}

fn parse_option(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{raw:?} is not key=value"))
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("{raw:?} is not a role: use all, api or worker"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gateway: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Purge { client_prefix, dry_run }) => return purge(&config, &client_prefix, dry_run).await,
        Some(Command::Ingest { file, vendor, processor, options }) => {
            return gateway::document_cli::run(&config, &file, vendor, processor, options).await;
        }
        None => {}
    }
    if let Some(role) = cli.role {
        config.role = role;
    }
    telemetry::init(config.log_format);
    let application = match Application::build(config).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "gateway failed to start");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = application.shutdown_token();
    tokio::spawn(async move {
        gateway::startup::wait_for_signal().await;
        shutdown.cancel();
    });
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "gateway stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn purge(config: &Config, client_prefix: &str, dry_run: bool) -> ExitCode {
    if client_prefix.trim().is_empty() {
        eprintln!("gateway purge: --client-prefix is empty; it would purge every client's data (the harness uses soko-load-)");
        return ExitCode::from(2);
    }
    match gateway::startup::purge_clients(config, client_prefix, dry_run).await {
        Ok(counts) => {
            let verb = if dry_run { "would remove" } else { "removed" };
            println!("purge client_prefix={} dry_run={dry_run}: {verb}", client_prefix.trim());
            for (name, count) in counts.pairs() {
                println!("{name}={count}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gateway purge: {error:#}");
            ExitCode::FAILURE
        }
    }
}
