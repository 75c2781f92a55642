//! The standard's own test vectors. Source: the standard-webhooks project's
//! Go library tests, repository `standard-webhooks/standard-webhooks`, path
//! `libraries/go/webhook_test.go` (commit 449485caf9c0303530c19524fbe4096680aafcf1):
//! `TestWebhookSign` (secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id
//! `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, payload
//! `{"test": 2432232314}`, expected `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`)
//! and the cases of `TestWebhook` (missing headers, the invalid signature
//! `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=`, a multi-signature
//! header with a `v2,` entry, old and new timestamps, the `whsec_` prefix).

use bytes::Bytes;
use chrono::{DateTime, Duration as Span, Utc};

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP: i64 = 1_614_265_330;
const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const INVALID: &str = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

fn verifier(secrets: &[&str]) -> WebhookVerifier {
    let secrets = secrets.iter().filter_map(|s| WebhookSecret::parse(s).ok()).collect();
    WebhookVerifier::new(secrets, Duration::from_secs(300))
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn check(v: &WebhookVerifier, id: Option<&str>, ts: Option<&str>, sig: Option<&str>, body: &[u8], now: DateTime<Utc>) -> Result<String, IngestError> {
    let headers = WebhookHeaders { id, timestamp: ts, signature: sig };
    v.verify(UnverifiedBody(Bytes::copy_from_slice(body)), &headers, now).map(|(_, id)| id)
}

fn sign_now(secret: &str, id: &str, now: DateTime<Utc>, body: &[u8]) -> (String, String) {
    let key = collector_client::signing::WebhookKey::parse(secret).unwrap_or_else(|e| panic!("{e}"));
    let ts = now.timestamp().to_string();
    (ts.clone(), key.sign(id, now.timestamp(), body))
}

#[test]
fn the_standards_signing_vector_verifies() {
    let ts = TIMESTAMP.to_string();
    let v = verifier(&[SECRET]);
    assert_eq!(check(&v, Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, at(TIMESTAMP)).ok().as_deref(), Some(ID));
    // The prefix is optional, as in TestWebhookPrefix.
    let bare = verifier(&["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
    assert!(check(&bare, Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, at(TIMESTAMP)).is_ok());
    // The collector's signer produces the same string.
    assert_eq!(sign_now(SECRET, ID, at(TIMESTAMP), PAYLOAD).1, EXPECTED);
}

#[test]
fn the_standards_failure_cases_are_refused() {
    let ts = TIMESTAMP.to_string();
    let now = at(TIMESTAMP);
    let v = verifier(&[SECRET]);
    let refused = |id, ts, sig| matches!(check(&v, id, ts, sig, PAYLOAD, now), Err(IngestError::InvalidWebhookSignature));
    assert!(refused(None, Some(&ts), Some(EXPECTED)), "missing id");
    assert!(refused(Some(ID), Some(&ts), None), "missing signature");
    assert!(refused(Some(ID), Some(&ts), Some(INVALID)), "invalid signature");
    assert!(matches!(check(&v, Some(ID), None, Some(EXPECTED), PAYLOAD, now), Err(IngestError::InvalidWebhookSignature)), "missing timestamp");
    assert!(matches!(check(&v, Some(ID), Some(&ts), Some(EXPECTED), b"{\"test\": 2432232315}", now), Err(IngestError::InvalidWebhookSignature)), "tampered body");
    assert!(matches!(check(&v, Some("msg_other"), Some(&ts), Some(EXPECTED), PAYLOAD, now), Err(IngestError::InvalidWebhookSignature)), "other id");
    // Old and new timestamps fail ("old timestamp fails", "new timestamp fails").
    assert!(matches!(check(&v, Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, now + Span::seconds(301)), Err(IngestError::WebhookStale(300))));
    assert!(matches!(check(&v, Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, now - Span::seconds(301)), Err(IngestError::WebhookFuture(300))));
    assert!(check(&v, Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, now + Span::seconds(300)).is_ok(), "the TTL itself is still fresh");
    for bad in ["1614265330.5", "2021-02-25T15:02:10Z", "", "-1", "99999999999999"] {
        assert!(matches!(check(&v, Some(ID), Some(bad), Some(EXPECTED), PAYLOAD, now), Err(IngestError::WebhookMalformedTimestamp)), "{bad}");
    }
    // A secret that did not sign it.
    let other = verifier(&["whsec_c2Vjb25k"]);
    assert!(check(&other, Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, now).is_err());
}

#[test]
fn any_entry_of_a_multi_signature_header_may_match() {
    let ts = TIMESTAMP.to_string();
    let v = verifier(&[SECRET]);
    // "valid multi sig is valid": v1 and v2 decoys around the valid one.
    let header = format!("{INVALID} v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {EXPECTED} {INVALID}");
    assert!(check(&v, Some(ID), Some(&ts), Some(&header), PAYLOAD, at(TIMESTAMP)).is_ok());
    // The valid signature under another version tag does not count.
    let relabelled = EXPECTED.replacen("v1,", "v2,", 1);
    assert!(check(&v, Some(ID), Some(&ts), Some(&relabelled), PAYLOAD, at(TIMESTAMP)).is_err());
}

#[test]
fn old_and_new_secrets_both_verify_during_rotation() {
    let now = Utc::now();
    let v = verifier(&["whsec_c2Vjb25k", SECRET]);
    for secret in ["whsec_c2Vjb25k", SECRET] {
        let (ts, sig) = sign_now(secret, "msg_rotation", now, b"{}");
        assert!(check(&v, Some("msg_rotation"), Some(&ts), Some(&sig), b"{}", now).is_ok());
    }
    let (ts, sig) = sign_now("whsec_cmV0aXJlZA==", "msg_rotation", now, b"{}");
    assert!(check(&v, Some("msg_rotation"), Some(&ts), Some(&sig), b"{}", now).is_err());
}

#[test]
fn without_secrets_or_with_an_oversized_id_nothing_verifies() {
    let ts = TIMESTAMP.to_string();
    assert!(check(&verifier(&[]), Some(ID), Some(&ts), Some(EXPECTED), PAYLOAD, at(TIMESTAMP)).is_err());
    let long = "m".repeat(MAX_ID_BYTES + 1);
    let (ts, sig) = sign_now(SECRET, &long, at(TIMESTAMP), PAYLOAD);
    assert!(check(&verifier(&[SECRET]), Some(&long), Some(&ts), Some(&sig), PAYLOAD, at(TIMESTAMP)).is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sign_then_verify_round_trips(body in proptest::collection::vec(any::<u8>(), 0..512), offset in -299i64..299, id in "[a-zA-Z0-9_]{1,40}") {
            let now = Utc::now();
            let (ts, sig) = sign_now(SECRET, &id, now + Span::seconds(offset), &body);
            prop_assert!(check(&verifier(&[SECRET]), Some(&id), Some(&ts), Some(&sig), &body, now).is_ok());
        }

        #[test]
        fn any_single_byte_flip_is_rejected(body in proptest::collection::vec(any::<u8>(), 1..256), index in any::<prop::sample::Index>()) {
            let now = Utc::now();
            let (ts, sig) = sign_now(SECRET, ID, now, &body);
            let mut tampered = body.clone();
            let i = index.index(tampered.len());
            tampered[i] ^= 0x01;
            prop_assert!(check(&verifier(&[SECRET]), Some(ID), Some(&ts), Some(&sig), &tampered, now).is_err());
        }

        #[test]
        fn arbitrary_headers_never_panic(ts in ".{0,20}", sig in ".{0,80}") {
            let _ = check(&verifier(&[SECRET]), Some(ID), Some(&ts), Some(&sig), PAYLOAD, Utc::now());
        }
    }
}
