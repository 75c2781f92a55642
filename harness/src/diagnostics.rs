//! Reading the gateway's diagnostics counters (`GET /chat/tools/diagnostics`,
//! or `/metrics/whatsapp`), and sampling them over time.
//!
//! Counters are taken from the top level of the JSON object, or from a
//! nested `totals` object when the top level lacks them, so both the
//! diagnostics shape and the seed's `/metrics/whatsapp` shape work. A
//! counter the endpoint does not report is `None`, never zero.
//!
//! Every read carries a credential (see [`DiagnosticsCredential`]): the
//! gateway's diagnostics need one. A refusal (401, 403) names the kind of
//! credential sent, never its value, and how to send another.

use crate::cli::DiagnosticsCredential;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub accepted: Option<u64>,
    pub created: Option<u64>,
    pub deduped: Option<u64>,
    pub extracted: Option<u64>,
    pub errors: Option<u64>,
}

impl Counters {
    pub fn from_json(value: &Value) -> Self {
        let read = |name: &str| -> Option<u64> {
            number(value.get(name)).or_else(|| number(value.get("totals").and_then(|t| t.get(name))))
        };
        Self {
            accepted: read("accepted"),
            created: read("created"),
            deduped: read("deduped"),
            extracted: read("extracted"),
            errors: read("errors"),
        }
    }

    /// How far each counter moved since `before`; `None` where either side
    /// lacks it. A counter that went backwards (gateway restarted with
    /// per-process counters) reads as zero movement.
    pub fn delta_since(&self, before: &Counters) -> Counters {
        let d = |after: Option<u64>, before: Option<u64>| Some(after?.saturating_sub(before?));
        Counters {
            accepted: d(self.accepted, before.accepted),
            created: d(self.created, before.created),
            deduped: d(self.deduped, before.deduped),
            extracted: d(self.extracted, before.extracted),
            errors: d(self.errors, before.errors),
        }
    }
}

fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiagnosticsError {
    #[error("diagnostics request failed: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("diagnostics answered HTTP {status} to {credential}; {hint}")]
    Refused { status: u16, credential: String, hint: &'static str },
    #[error("diagnostics answered HTTP {0}")]
    Status(u16),
    #[error("diagnostics answer is not a JSON object")]
    NotAnObject,
    #[error("the diagnostics credential cannot be sent as an HTTP header (it holds a control character)")]
    InvalidCredential,
}

const INGEST_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-ingest-token");

/// How to get past a refusal, by the credential that was refused.
fn refusal_hint(credential: &DiagnosticsCredential) -> &'static str {
    match credential {
        DiagnosticsCredential::IngestToken(_) => {
            "pass a token the gateway accepts on diagnostics (its ADMIN_TOKEN or a read token) with --diagnostics-token or HARNESS_DIAGNOSTICS_TOKEN, or check --token"
        }
        DiagnosticsCredential::Bearer(_) => {
            "check --diagnostics-token (or HARNESS_DIAGNOSTICS_TOKEN): it must be the gateway's ADMIN_TOKEN, a read token, or an ingest token"
        }
    }
}

/// A diagnostics endpoint and the client that reads it.
#[derive(Debug, Clone)]
pub struct DiagnosticsClient {
    client: reqwest::Client,
    url: String,
    credential: DiagnosticsCredential,
    /// The header carrying the credential, marked sensitive so that no
    /// `Debug` output shows it.
    header: (HeaderName, HeaderValue),
}

impl DiagnosticsClient {
    pub fn new(url: &str, timeout: Duration, credential: DiagnosticsCredential) -> Result<Self, DiagnosticsError> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        let (name, value) = match &credential {
            DiagnosticsCredential::IngestToken(token) => (INGEST_TOKEN_HEADER, HeaderValue::from_str(&token.0)),
            DiagnosticsCredential::Bearer(token) => (AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {}", token.0))),
        };
        let mut value = value.map_err(|_| DiagnosticsError::InvalidCredential)?;
        value.set_sensitive(true);
        Ok(Self { client, url: url.to_owned(), credential, header: (name, value) })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which kind of credential this client sends (never its value).
    pub fn credential(&self) -> &DiagnosticsCredential {
        &self.credential
    }

    pub async fn fetch(&self) -> Result<Counters, DiagnosticsError> {
        let (name, value) = &self.header;
        let response =
            self.client.get(&self.url).header("accept", "application/json").header(name, value.clone()).send().await?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(DiagnosticsError::Refused {
                status: status.as_u16(),
                credential: self.credential.to_string(),
                hint: refusal_hint(&self.credential),
            });
        }
        if !status.is_success() {
            return Err(DiagnosticsError::Status(status.as_u16()));
        }
        let value: Value = response.json().await?;
        if !value.is_object() {
            return Err(DiagnosticsError::NotAnObject);
        }
        Ok(Counters::from_json(&value))
    }
}

/// One reading of the counters, `at` measured from the run's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: Duration,
    pub counters: Counters,
}

/// The good samples of a polling loop, and why the latest failed poll
/// failed (for the report when no sample came back).
#[derive(Debug, Default)]
pub struct Polled {
    pub samples: Vec<Sample>,
    pub last_error: Option<String>,
}

impl Polled {
    /// Records one poll's result; returns the counters when it succeeded.
    pub fn record(&mut self, at: Duration, result: Result<Counters, DiagnosticsError>) -> Option<Counters> {
        match result {
            Ok(counters) => {
                self.samples.push(Sample { at, counters });
                Some(counters)
            }
            Err(error) => {
                self.last_error = Some(error.to_string());
                None
            }
        }
    }
}

/// Polls `client` every `interval` until `stop` says the wanted movement
/// happened or `deadline` passes. Failed polls are skipped (the gateway
/// may be busy); every good sample is returned, with the last error.
pub async fn poll_until<F>(
    client: &DiagnosticsClient,
    origin: Instant,
    interval: Duration,
    deadline: Instant,
    mut stop: F,
) -> Polled
where
    F: FnMut(&Counters) -> bool,
{
    let mut polled = Polled::default();
    loop {
        let result = client.fetch().await;
        if polled.record(origin.elapsed(), result).is_some_and(|counters| stop(&counters)) {
            break;
        }
        if Instant::now() + interval > deadline {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    polled
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_top_level_and_totals_shapes() {
        let top = Counters::from_json(&json!({"accepted": 3, "created": 2, "deduped": 1, "extracted": 2, "errors": 0}));
        let nested = Counters::from_json(&json!({"generated_at": "x", "totals": {"accepted": 3, "created": 2, "deduped": 1, "extracted": 2, "errors": 0}}));
        assert_eq!(top, nested);
        assert_eq!(top.created, Some(2));
    }

    #[test]
    fn missing_or_odd_counters_are_none_not_zero() {
        let c = Counters::from_json(&json!({"created": "7", "deduped": -1, "extracted": null, "errors": 2.0}));
        assert_eq!(c, Counters { accepted: None, created: Some(7), deduped: None, extracted: None, errors: Some(2) });
    }

    #[test]
    fn deltas_need_both_sides_and_never_go_negative() {
        let before = Counters { accepted: Some(10), created: Some(8), deduped: None, extracted: Some(5), errors: Some(1) };
        let after = Counters { accepted: Some(15), created: Some(3), deduped: Some(4), extracted: Some(9), errors: Some(1) };
        let delta = after.delta_since(&before);
        assert_eq!(delta, Counters { accepted: Some(5), created: Some(0), deduped: None, extracted: Some(4), errors: Some(0) });
    }
}
