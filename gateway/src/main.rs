use std::process::ExitCode;

use clap::Parser;
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
