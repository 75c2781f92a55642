//! Request signing for `POST /integrations/whatsapp/ingest`.
//!
//! The canonical string is `timestamp + "." + raw body`; the signature is the
//! lowercase hex HMAC-SHA256 of it, sent in `X-Signature` beside
//! `X-Signature-Timestamp` and `X-Ingest-Token` (seed 002 §7.5).

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
    fn token_only_mode_sends_no_signature() {
        let headers = SignedHeaders::new("t", None, b"{}", Utc::now());
        assert_eq!(headers.pairs().len(), 2);
        assert!(headers.signature.is_none());
    }
}
