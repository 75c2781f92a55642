//! Request signing for `POST /integrations/whatsapp/ingest`, in either of
//! the gateway's schemes (`--signing`):
//!
//! - `seed` (the default): the canonical string is `timestamp + "." + raw
//!   body`; the signature is the lowercase hex HMAC-SHA256 of it, sent in
//!   `X-Signature` beside `X-Signature-Timestamp` and `X-Ingest-Token`
//!   (seed 002 §7.5).
//! - `standard-webhooks`: `webhook-id`, `webhook-timestamp` (unix seconds)
//!   and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
//!   keyed with the base64-decoded `whsec_` secret ([`WebhookKey`]).

use base64::{
    Engine,
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD},
};

/// Secrets decode with or without `=` padding, as the standard's libraries accept both.
const SECRET_BASE64: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const TOKEN_HEADER: &str = "X-Ingest-Token";
pub const SIGNATURE_HEADER: &str = "X-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Signature-Timestamp";
pub const INGEST_PATH: &str = "/integrations/whatsapp/ingest";

/// Formats a signing timestamp the way the seed's smoke test does:
/// `date -u +"%Y-%m-%dT%H:%M:%SZ"`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Lowercase hex HMAC-SHA256 over `timestamp + "." + body`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The three authentication headers for one request body, signed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub token: String,
    pub timestamp: String,
    /// `None` when no HMAC secret is configured (token-only mode).
    pub signature: Option<String>,
}

impl SignedHeaders {
    pub fn new(token: &str, secret: Option<&[u8]>, body: &[u8], at: DateTime<Utc>) -> Self {
        let timestamp = format_timestamp(at);
        let signature = secret.map(|secret| sign(secret, &timestamp, body));
        Self { token: token.to_owned(), timestamp, signature }
    }

    /// Header name/value pairs, ready for any HTTP client.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![(TOKEN_HEADER, self.token.clone()), (TIMESTAMP_HEADER, self.timestamp.clone())];
        if let Some(signature) = &self.signature {
            pairs.push((SIGNATURE_HEADER, signature.clone()));
        }
        pairs
    }
}

pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// Which scheme the collector signs with (`--signing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Signing {
    /// `X-Ingest-Token` and, with a secret, `X-Signature`.
    #[default]
    Seed,
    /// Standard Webhooks `webhook-*` headers, with a `whsec_` secret.
    StandardWebhooks,
}

/// A Standard Webhooks signing key: the bytes behind `whsec_<base64>`.
#[derive(Clone)]
pub struct WebhookKey(Vec<u8>);

impl WebhookKey {
    /// `whsec_` then standard base64 (the prefix may be left out). The error
    /// never quotes the secret.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let encoded = raw.strip_prefix("whsec_").unwrap_or(raw);
        match SECRET_BASE64.decode(encoded) {
            Ok(key) if !key.is_empty() => Ok(Self(key)),
            Ok(_) => Err("the webhook secret decodes to an empty key".into()),
            Err(_) => Err("the webhook secret is not whsec_ followed by standard base64".into()),
        }
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The three `webhook-*` headers for one attempt at `at`.
    pub fn headers(&self, id: &str, body: &[u8], at: DateTime<Utc>) -> Vec<(&'static str, String)> {
        vec![
            (WEBHOOK_ID_HEADER, id.to_owned()),
            (WEBHOOK_TIMESTAMP_HEADER, at.timestamp().to_string()),
            (WEBHOOK_SIGNATURE_HEADER, self.sign(id, at.timestamp(), body)),
        ]
    }
}

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey([redacted])")
    }
}

/// A batch's `webhook-id`: the spooled batch's name and a digest of its
/// body, so every retry of the batch (and a resend after a restart) carries
/// the same id, and two different batches never do.
pub fn webhook_id(batch: &str, body: &[u8]) -> String {
    let digest = <Sha256 as sha2::Digest>::digest(body);
    format!("msg_{batch}_{}", hex::encode(&digest[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_seed_python_snippet() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"super-secret", b"2026-11-22T10:00:00Z." + b"{}", hashlib.sha256).hexdigest())'
        assert_eq!(
            sign(b"super-secret", "2026-11-22T10:00:00Z", b"{}"),
            "f2cea23daba8ebb3eb66b4408e71cbcc57acfca7186d21ac4df1d1f2db3aea7d"
        );
    }

    #[test]
    fn timestamps_use_the_seed_format() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123Z").map(|t| t.with_timezone(&Utc));
        assert_eq!(at.map(format_timestamp).ok().as_deref(), Some("2026-11-22T10:00:00Z"));
    }

    #[test]
    fn standard_webhooks_signing_matches_the_standards_vector() {
        // TestWebhookSign in the standard-webhooks project's Go library:
        // repository standard-webhooks/standard-webhooks, libraries/go/webhook_test.go.
        let key = WebhookKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_or_else(|e| panic!("{e}"));
        let signature = key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(WebhookKey::parse("whsec_%%%").is_err());
        assert!(!format!("{key:?}").contains("MfKQ"));
    }

    #[test]
    fn webhook_ids_are_stable_per_batch_and_differ_between_batches() {
        let a = webhook_id("b0001", b"{\"a\":1}");
        assert_eq!(a, webhook_id("b0001", b"{\"a\":1}"));
        assert_ne!(a, webhook_id("b0002", b"{\"a\":1}"));
        assert_ne!(a, webhook_id("b0001", b"{\"a\":2}"));
        assert!(a.starts_with("msg_b0001_") && a.len() <= 256);
    }

    #[test]
    fn token_only_mode_sends_no_signature() {
        let headers = SignedHeaders::new("t", None, b"{}", Utc::now());
        assert_eq!(headers.pairs().len(), 2);
        assert!(headers.signature.is_none());
    }
}
