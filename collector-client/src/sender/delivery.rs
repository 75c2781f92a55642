//! One signed POST of a spooled batch body, classified into what the
//! sender should do next. The body is sent byte for byte as spooled and is
//! re-signed on every attempt, because the signature timestamp has a TTL.

use super::retry::parse_retry_after;
use crate::metrics::AttemptLabel;
use crate::signing::SignedHeaders;
use chrono::Utc;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use url::Url;

/// At most this much of a refusal's body is kept as the reason.
const REASON_LIMIT: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered { status: u16 },
    /// Worth trying again: 408, 429, 5xx, 3xx, or no answer at all.
    Retryable { status: Option<u16>, retry_after: Option<Duration>, reason: String },
    /// Refused for good: any other 4xx.
    Rejected { status: u16, reason: String },
}

impl AttemptOutcome {
    pub fn label(&self) -> AttemptLabel {
        match self {
            AttemptOutcome::Delivered { .. } => AttemptLabel::Success,
            AttemptOutcome::Retryable { status: Some(429), .. } => AttemptLabel::RateLimited,
            AttemptOutcome::Retryable { status: Some(_), .. } => AttemptLabel::ServerError,
            AttemptOutcome::Retryable { status: None, .. } => AttemptLabel::NetworkError,
            AttemptOutcome::Rejected { .. } => AttemptLabel::Rejected,
        }
    }
}

pub struct Delivery {
    client: reqwest::Client,
    url: Url,
    token: SecretString,
    hmac_secret: Option<SecretString>,
}

impl Delivery {
    pub fn new(
        url: Url,
        token: SecretString,
        hmac_secret: Option<SecretString>,
        request_timeout: Option<Duration>,
        connect_timeout: Option<Duration>,
    ) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("soko-collector/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn the POST into a GET; surface it instead.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(None::<Duration>);
        if let Some(timeout) = request_timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(timeout) = connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        Ok(Self { client: builder.build()?, url, token, hmac_secret })
    }

    pub async fn attempt(&self, body: &[u8], request_id: &str) -> AttemptOutcome {
        let secret = self.hmac_secret.as_ref().map(|secret| secret.expose_secret().as_bytes());
        let headers = SignedHeaders::new(self.token.expose_secret(), secret, body, Utc::now());
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Request-Id", request_id)
            .body(body.to_vec());
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return AttemptOutcome::Retryable { status: None, retry_after: None, reason: describe_transport_error(error) };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        let reason = read_reason(response).await;
        classify(status, retry_after, reason)
    }
}

fn classify(status: StatusCode, retry_after: Option<Duration>, reason: String) -> AttemptOutcome {
    let code = status.as_u16();
    if status.is_success() {
        AttemptOutcome::Delivered { status: code }
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        AttemptOutcome::Retryable { status: Some(code), retry_after, reason }
    } else if status == StatusCode::REQUEST_TIMEOUT {
        AttemptOutcome::Retryable { status: Some(code), retry_after: None, reason }
    } else if status.is_client_error() {
        AttemptOutcome::Rejected { status: code, reason }
    } else {
        AttemptOutcome::Retryable { status: Some(code), retry_after: None, reason }
    }
}

async fn read_reason(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let mut end = text.len().min(REASON_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Transport errors, without the URL's query (tokens never go there, but
/// the rule is cheap to keep).
fn describe_transport_error(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        source = inner.source();
    }
    format!("{kind}: {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_issue_asks() {
        let outcome = |code: u16| {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
            match classify(status, None, String::new()) {
                AttemptOutcome::Delivered { .. } => "delivered",
                AttemptOutcome::Retryable { .. } => "retry",
                AttemptOutcome::Rejected { .. } => "reject",
            }
        };
        let table = [
            (200, "delivered"),
            (202, "delivered"),
            (301, "retry"),
            (400, "reject"),
            (401, "reject"),
            (403, "reject"),
            (408, "retry"),
            (413, "reject"),
            (415, "reject"),
            (422, "reject"),
            (429, "retry"),
            (500, "retry"),
            (502, "retry"),
            (503, "retry"),
        ];
        for (code, expected) in table {
            assert_eq!(outcome(code), expected, "{code}");
        }
    }

    #[test]
    fn only_429_keeps_its_retry_after() {
        let wait = Some(Duration::from_secs(9));
        let rate_limited = classify(StatusCode::TOO_MANY_REQUESTS, wait, String::new());
        assert!(matches!(rate_limited, AttemptOutcome::Retryable { retry_after: Some(_), .. }));
        assert_eq!(rate_limited.label(), AttemptLabel::RateLimited);
        let unavailable = classify(StatusCode::SERVICE_UNAVAILABLE, wait, String::new());
        assert!(matches!(unavailable, AttemptOutcome::Retryable { retry_after: None, .. }));
    }
}
