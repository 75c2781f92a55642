//! One signed POST of a spooled batch body, classified (see `classify`)
//! into what the sender should do next. The body is sent byte for byte as
//! spooled and is re-signed on every attempt, because the signature
//! timestamp has a TTL; under Standard Webhooks every attempt carries the
//! batch's one `webhook-id`, so the gateway stores a batch once however
//! often it is retried.

use super::classify::{AttemptOutcome, BODY_LIMIT, classify, read_capped};
use super::retry::parse_retry_after;
use crate::signing::{SignedHeaders, TOKEN_HEADER, WebhookKey, webhook_id};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use url::Url;

pub struct Delivery {
    client: reqwest::Client,
    url: Url,
    token: SecretString,
    hmac_secret: Option<SecretString>,
    /// Set: sign with Standard Webhooks instead of the seed's scheme.
    webhook_key: Option<WebhookKey>,
}

impl Delivery {
    pub fn new(
        url: Url,
        token: SecretString,
        hmac_secret: Option<SecretString>,
        webhook_key: Option<WebhookKey>,
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
        Ok(Self { client: builder.build()?, url, token, hmac_secret, webhook_key })
    }

    /// `batch` names the spooled batch (its `webhook-id` derives from it).
    pub async fn attempt(&self, body: &[u8], request_id: &str, batch: &str) -> AttemptOutcome {
        let headers = match &self.webhook_key {
            Some(key) => {
                let mut headers = key.headers(&webhook_id(batch, body), body, Utc::now());
                // The signature authenticates by itself; a token is sent only when configured.
                if !self.token.expose_secret().is_empty() {
                    headers.push((TOKEN_HEADER, self.token.expose_secret().to_owned()));
                }
                headers
            }
            None => {
                let secret = self.hmac_secret.as_ref().map(|secret| secret.expose_secret().as_bytes());
                SignedHeaders::new(self.token.expose_secret(), secret, body, Utc::now()).pairs()
            }
        };
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Request-Id", request_id)
            .body(body.to_vec());
        for (name, value) in headers {
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
        let body = read_capped(response, BODY_LIMIT).await;
        classify(status, retry_after, &body)
    }
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
