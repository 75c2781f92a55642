//! Logging set-up: `RUST_LOG` filters, `LOG_FORMAT` picks pretty or JSON.
//! Request spans carry the request id; message bodies, phone numbers and
//! secrets are never logged by the gateway.

use tracing_subscriber::{EnvFilter, fmt};

/// `LOG_FORMAT`: `pretty` for people, `json` for log shippers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

const DEFAULT_FILTER: &str = "info,sqlx=warn,actix_server=warn,actix_web=warn";

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let result = match format {
        LogFormat::Pretty => fmt().with_env_filter(filter).with_target(false).try_init(),
        LogFormat::Json => fmt()
            .json()
            .with_env_filter(filter)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // Already initialised (several apps in one test process): keep the first.
    drop(result);
}
