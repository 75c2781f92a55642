//! Reading the gateway's diagnostics counters (`GET /chat/tools/diagnostics`,
//! or `/metrics/whatsapp`), and sampling them over time.
//!
//! Counters are taken from the top level of the JSON object, or from a
//! nested `totals` object when the top level lacks them, so both the
//! diagnostics shape and the seed's `/metrics/whatsapp` shape work. A
//! counter the endpoint does not report is `None`, never zero.

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
    #[error("diagnostics answered HTTP {0}")]
    Status(u16),
    #[error("diagnostics answer is not a JSON object")]
    NotAnObject,
}

/// A diagnostics endpoint and the client that reads it.
#[derive(Debug, Clone)]
pub struct DiagnosticsClient {
    client: reqwest::Client,
    url: String,
}

impl DiagnosticsClient {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { client, url: url.to_owned() })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn fetch(&self) -> Result<Counters, DiagnosticsError> {
        let response = self.client.get(&self.url).header("accept", "application/json").send().await?;
        let status = response.status();
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

/// Polls `client` every `interval` until `stop` says the wanted movement
/// happened or `deadline` passes. Failed polls are skipped (the gateway
/// may be busy); the last good sample is returned with all samples.
pub async fn poll_until<F>(
    client: &DiagnosticsClient,
    origin: Instant,
    interval: Duration,
    deadline: Instant,
    mut stop: F,
) -> Vec<Sample>
where
    F: FnMut(&Counters) -> bool,
{
    let mut samples = Vec::new();
    loop {
        if let Ok(counters) = client.fetch().await {
            samples.push(Sample { at: origin.elapsed(), counters });
            if stop(&counters) {
                break;
            }
        }
        if Instant::now() + interval > deadline {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    samples
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
