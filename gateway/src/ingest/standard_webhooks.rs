//! The second signing scheme: Standard Webhooks (Svix and the libraries of
//! the standard-webhooks project). A request that carries `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` is verified as the
//! specification says:
//!
//! - the signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`,
//!   HMAC-SHA256 keyed with the base64-decoded `whsec_` secret;
//! - `webhook-timestamp` is integer unix seconds within ±TTL of now;
//! - `webhook-signature` is a space-separated list of `v1,<base64>`; any
//!   entry may match any configured secret (rotation), compared in constant
//!   time (`Mac::verify_slice`), and every pair is tried, so timing does not
//!   tell which matched.
//!
//! A valid signature authenticates the request by itself; the verified
//! `webhook-id` then keys whole-request idempotency in the store.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{
    IngestError, RequestHeaders,
    settings::WebhookSecret,
    signature::{UnverifiedBody, VerifiedBody},
};

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// Longest `webhook-id` kept as an idempotency key (Svix ids are ~30 bytes).
const MAX_ID_BYTES: usize = 256;
/// At most this many `v1,` entries are tried per request.
const MAX_SIGNATURES: usize = 16;

/// The three `webhook-*` headers as sent; any of them marks the request as
/// using this scheme.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl<'a> WebhookHeaders<'a> {
    pub fn read(headers: &'a dyn RequestHeaders) -> Self {
        Self {
            id: headers.header_text(ID_HEADER),
            timestamp: headers.header_text(TIMESTAMP_HEADER),
            signature: headers.header_text(SIGNATURE_HEADER),
        }
    }

    pub fn any_present(&self) -> bool {
        self.id.is_some() || self.timestamp.is_some() || self.signature.is_some()
    }
}

pub struct WebhookVerifier {
    secrets: Vec<WebhookSecret>,
    ttl: Duration,
}

impl WebhookVerifier {
    pub fn new(secrets: Vec<WebhookSecret>, ttl: Duration) -> Self {
        Self { secrets, ttl }
    }

    pub fn is_enabled(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The verified body and its `webhook-id`.
    pub fn verify(
        &self,
        body: UnverifiedBody,
        headers: &WebhookHeaders<'_>,
        now: DateTime<Utc>,
    ) -> Result<(VerifiedBody, String), IngestError> {
        let (Some(id), Some(timestamp), Some(signatures)) = (headers.id, headers.timestamp, headers.signature) else {
            return Err(IngestError::InvalidWebhookSignature);
        };
        if !self.is_enabled() || id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(IngestError::InvalidWebhookSignature);
        }
        self.check_timestamp(timestamp, now)?;
        let presented: Vec<Vec<u8>> = signatures
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .take(MAX_SIGNATURES)
            .filter_map(|encoded| STANDARD.decode(encoded).ok())
            .collect();
        let matched = self.secrets.iter().fold(false, |matched, secret| {
            presented.iter().fold(matched, |matched, signature| {
                matched | signature_matches(secret.key(), id, timestamp, &body.0, signature)
            })
        });
        match matched {
            true => Ok((body.into_verified(), id.to_owned())),
            false => Err(IngestError::InvalidWebhookSignature),
        }
    }

    fn check_timestamp(&self, raw: &str, now: DateTime<Utc>) -> Result<(), IngestError> {
        let digits = !raw.is_empty() && raw.len() <= 12 && raw.bytes().all(|b| b.is_ascii_digit());
        let seconds: i64 = match digits {
            true => raw.parse().map_err(|_| IngestError::WebhookMalformedTimestamp)?,
            false => return Err(IngestError::WebhookMalformedTimestamp),
        };
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let age = now.timestamp() - seconds;
        if age > ttl {
            return Err(IngestError::WebhookStale(self.ttl.as_secs()));
        }
        if -age > ttl {
            return Err(IngestError::WebhookFuture(self.ttl.as_secs()));
        }
        Ok(())
    }
}

fn signature_matches(key: &[u8], id: &str, timestamp: &str, body: &[u8], presented: &[u8]) -> bool {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else { return false };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(presented).is_ok()
}

#[cfg(test)]
mod tests;
