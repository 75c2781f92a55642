use std::process::ExitCode;

use gateway::{config::Config, startup::Application, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gateway: {error}");
            return ExitCode::from(2);
        }
    };
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
