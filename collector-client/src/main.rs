//! The `collector` binary: parse flags and env, log to stderr, run.

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = collector_client::config::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).with_writer(std::io::stderr).init();
    match collector_client::cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("collector: {error:#}");
            ExitCode::FAILURE
        }
    }
}
