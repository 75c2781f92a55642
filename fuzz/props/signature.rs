//! Signature headers (`gateway::ingest::signature`). The input is
//! `secret \n timestamp \n signature \n body`. Properties: a timestamp that
//! does not parse is refused as malformed; the collector's own signature over
//! the body (`collector_client::signing::sign`) is accepted bare, with the
//! `sha256=` prefix and in upper case; the presented header is accepted
//! exactly when it is that MAC; an old timestamp is stale, a future one refused.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use collector_client::signing::sign;
use gateway::ingest::IngestError;
use gateway::ingest::signature::{SignatureVerifier, UnverifiedBody, parse_timestamp};
use secrecy::SecretString;

const TTL_SECS: u64 = 300;

pub fn check(data: &[u8]) {
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (secret, timestamp, presented) = (next(), next(), next());
    let body = data.splitn(4, |&b| b == b'\n').nth(3).unwrap_or_default();
    let secret = if secret.is_empty() { "fuzz-secret".to_owned() } else { secret };
    let verifier = SignatureVerifier::new(vec![SecretString::from(secret.clone())], Duration::from_secs(TTL_SECS));
    let verify = |signature: &str, now: DateTime<Utc>| {
        verifier.verify(UnverifiedBody(Bytes::copy_from_slice(body)), Some(&timestamp), Some(signature), now)
    };

    let Some(signed_at) = parse_timestamp(&timestamp) else {
        let refused = verify(&presented, Utc::now());
        assert!(matches!(refused, Err(IngestError::MalformedTimestamp)), "unparsable timestamp: {:?}", refused.err());
        return;
    };
    let correct = sign(secret.as_bytes(), &timestamp, body);
    for form in [correct.clone(), format!("sha256={correct}"), correct.to_ascii_uppercase(), format!(" {correct}\t")] {
        assert!(verify(&form, signed_at).is_ok(), "the collector's signature {form:?} is accepted");
    }
    let trimmed = presented.trim();
    let hex_part = trimmed.strip_prefix("sha256=").unwrap_or(trimmed);
    let is_correct = hex_part.eq_ignore_ascii_case(&correct);
    assert_eq!(verify(&presented, signed_at).is_ok(), is_correct, "accepted exactly when it is the MAC");

    let ttl = TimeDelta::seconds(TTL_SECS as i64 + 1);
    if let Some(later) = signed_at.checked_add_signed(ttl) {
        assert!(matches!(verify(&correct, later), Err(IngestError::Stale(_))), "an old signature is stale");
    }
    if let Some(earlier) = signed_at.checked_sub_signed(ttl) {
        assert!(matches!(verify(&correct, earlier), Err(IngestError::Future(_))), "a future signature is refused");
    }
}
