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

/// An error and its causes on one line (`a: b: c`), for logs and stored reasons.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A reqwest error's chain without its URL, which may hold a seller's phone number or a key.
pub fn http_error_text(error: reqwest::Error) -> String {
    error_chain(&error.without_url())
}
