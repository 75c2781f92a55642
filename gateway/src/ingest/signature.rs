//! Signature verification over the exact bytes received, before any JSON
//! parsing: the seed's scheme (`X-Signature`); Standard Webhooks is
//! `standard_webhooks`. An [`UnverifiedBody`] only becomes a [`VerifiedBody`] through
//! [`SignatureVerifier::verify`], so code that parses a batch cannot be
//! reached with an unchecked body.
//!
//! The canonical string is `timestamp + "." + body`; the signature is hex
//! HMAC-SHA256, optionally prefixed `sha256=`; the timestamp is RFC 3339 UTC
//! or unix seconds and must lie within ±TTL of now.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::IngestError;

pub struct UnverifiedBody(pub Bytes);

impl UnverifiedBody {
    /// For the other scheme's verifier (`standard_webhooks`), once it checked the body.
    pub(super) fn into_verified(self) -> VerifiedBody {
        VerifiedBody(self.0)
    }
}

/// A body whose signature (or, in token-only mode, whose token) was checked.
pub struct VerifiedBody(Bytes);

impl VerifiedBody {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

pub struct SignatureVerifier {
    secrets: Vec<SecretString>,
    ttl: Duration,
}

impl SignatureVerifier {
    pub fn new(secrets: Vec<SecretString>, ttl: Duration) -> Self {
        Self { secrets, ttl }
    }

    pub fn is_enabled(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Checks timestamp age and signature. With no secret configured, HMAC is
    /// off (as in the seed) and the body passes on the strength of the token.
    pub fn verify(
        &self,
        body: UnverifiedBody,
        timestamp: Option<&str>,
        signature: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<VerifiedBody, IngestError> {
        if !self.is_enabled() {
            return Ok(VerifiedBody(body.0));
        }
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return Err(IngestError::InvalidSignature);
        };
        let signed_at = parse_timestamp(timestamp).ok_or(IngestError::MalformedTimestamp)?;
        let ttl_secs = self.ttl.as_secs();
        let age_ms = now.timestamp_millis() - signed_at.timestamp_millis();
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        if age_ms > ttl_ms {
            return Err(IngestError::Stale(ttl_secs));
        }
        if -age_ms > ttl_ms {
            return Err(IngestError::Future(ttl_secs));
        }
        let presented = decode_signature(signature).ok_or(IngestError::InvalidSignature)?;
        let matched = self.secrets.iter().fold(false, |matched, secret| {
            matched | signature_matches(secret.expose_secret().as_bytes(), timestamp, &body.0, &presented)
        });
        if matched { Ok(VerifiedBody(body.0)) } else { Err(IngestError::InvalidSignature) }
    }
}

fn signature_matches(secret: &[u8], timestamp: &str, body: &[u8], presented: &[u8]) -> bool {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else { return false };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(presented).is_ok()
}

/// Hex, case-insensitive, with an optional `sha256=` prefix.
fn decode_signature(raw: &str) -> Option<Vec<u8>> {
    let raw = raw.trim();
    let hex_part = raw.strip_prefix("sha256=").unwrap_or(raw);
    if hex_part.len() != 64 {
        return None;
    }
    hex::decode(hex_part).ok()
}

/// RFC 3339 (any offset, normalised to UTC) or unix seconds, with an optional
/// fraction.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(raw) {
        let parsed = parsed.with_timezone(&Utc);
        // A leap second (`23:59:60`) counts as the next second, as in the millisecond
        // arithmetic of the age check; chrono's own addition would give it one second
        // of its own, and a signature TTL+1 s old passed (found by the fuzz target).
        if parsed.timestamp_subsec_nanos() >= 1_000_000_000 {
            return DateTime::from_timestamp_millis(parsed.timestamp_millis());
        }
        return Some(parsed);
    }
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let seconds: f64 = raw.parse().ok()?;
    if !(0.0..=253_402_300_799.0).contains(&seconds) {
        return None;
    }
    DateTime::from_timestamp_millis((seconds * 1_000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector_client::signing::{format_timestamp, sign};
    use proptest::prelude::*;

    fn verifier(secrets: &[&str]) -> SignatureVerifier {
        let secrets = secrets.iter().map(|s| SecretString::from((*s).to_owned())).collect();
        SignatureVerifier::new(secrets, Duration::from_secs(300))
    }

    fn check(v: &SignatureVerifier, body: &[u8], ts: &str, sig: &str, now: DateTime<Utc>) -> Result<(), IngestError> {
        v.verify(UnverifiedBody(Bytes::copy_from_slice(body)), Some(ts), Some(sig), now).map(|_| ())
    }

    #[test]
    fn a_leap_second_timestamp_ages_like_the_next_second() {
        let leap = "2016-12-31T23:59:60Z";
        let next = parse_timestamp("2017-01-01T00:00:00Z").unwrap();
        assert_eq!(parse_timestamp(leap), Some(next));
        let v = verifier(&["k"]);
        let sig = sign(b"k", leap, b"{}");
        assert!(check(&v, b"{}", leap, &sig, next + chrono::TimeDelta::seconds(300)).is_ok());
        let late = check(&v, b"{}", leap, &sig, next + chrono::TimeDelta::seconds(301));
        assert!(matches!(late, Err(IngestError::Stale(300))), "{late:?}");
    }

    #[test]
    fn accepts_seed_signatures_with_or_without_prefix() {
        let now = Utc::now();
        let ts = format_timestamp(now);
        let body = br#"{"client_id":"smoke","messages":[]}"#;
        let sig = sign(b"super-secret", &ts, body);
        let v = verifier(&["super-secret"]);
        assert!(check(&v, body, &ts, &sig, now).is_ok());
        assert!(check(&v, body, &ts, &format!("sha256={sig}"), now).is_ok());
        assert!(check(&v, body, &ts, &sig.to_uppercase(), now).is_ok());
        assert!(check(&v, body, &now.timestamp().to_string(), &sign(b"super-secret", &now.timestamp().to_string(), body), now).is_ok());
    }

    #[test]
    fn rejects_tampering_replay_and_the_future() {
        let now = Utc::now();
        let v = verifier(&["super-secret"]);
        let ts = format_timestamp(now);
        let sig = sign(b"super-secret", &ts, b"{}");
        assert!(matches!(check(&v, b"{ }", &ts, &sig, now), Err(IngestError::InvalidSignature)));
        let old = format_timestamp(now - chrono::Duration::seconds(301));
        assert!(matches!(check(&v, b"{}", &old, &sign(b"super-secret", &old, b"{}"), now), Err(IngestError::Stale(300))));
        let future = format_timestamp(now + chrono::Duration::seconds(301));
        assert!(matches!(check(&v, b"{}", &future, &sign(b"super-secret", &future, b"{}"), now), Err(IngestError::Future(300))));
        assert!(matches!(check(&v, b"{}", "yesterday", &sig, now), Err(IngestError::MalformedTimestamp)));
        assert!(matches!(check(&v, b"{}", &ts, "zz", now), Err(IngestError::InvalidSignature)));
        let missing = v.verify(UnverifiedBody(Bytes::from_static(b"{}")), Some(&ts), None, now);
        assert!(matches!(missing, Err(IngestError::InvalidSignature)));
    }

    #[test]
    fn old_and_new_secrets_both_verify_during_rotation() {
        let now = Utc::now();
        let ts = format_timestamp(now);
        let v = verifier(&["old-secret", "new-secret"]);
        for secret in [&b"old-secret"[..], b"new-secret"] {
            assert!(check(&v, b"{}", &ts, &sign(secret, &ts, b"{}"), now).is_ok());
        }
        assert!(check(&v, b"{}", &ts, &sign(b"retired", &ts, b"{}"), now).is_err());
    }

    #[test]
    fn without_a_secret_only_the_token_matters() {
        let v = verifier(&[]);
        assert!(v.verify(UnverifiedBody(Bytes::from_static(b"{}")), None, None, Utc::now()).is_ok());
    }

    proptest! {
        #[test]
        fn sign_then_verify_round_trips(body in proptest::collection::vec(any::<u8>(), 0..512), offset in -299i64..299) {
            let now = Utc::now();
            let ts = format_timestamp(now + chrono::Duration::seconds(offset));
            let v = verifier(&["k"]);
            prop_assert!(check(&v, &body, &ts, &sign(b"k", &ts, &body), now).is_ok());
        }

        #[test]
        fn any_single_byte_flip_is_rejected(body in proptest::collection::vec(any::<u8>(), 1..256), index in any::<prop::sample::Index>()) {
            let now = Utc::now();
            let ts = format_timestamp(now);
            let sig = sign(b"k", &ts, &body);
            let mut tampered = body.clone();
            let i = index.index(tampered.len());
            tampered[i] ^= 0x01;
            prop_assert!(check(&verifier(&["k"]), &tampered, &ts, &sig, now).is_err());
        }

        #[test]
        fn timestamp_parser_never_panics(raw in ".{0,40}") {
            let _ = parse_timestamp(&raw);
        }
    }
}
