//! The ingest JSON schema (`gateway::ingest::schema::parse_batch`): an
//! accepted batch is JSON text (UTF-8 included) within every limit the schema promises; a
//! body that is not JSON is refused as `malformed_json`; refusals carry a
//! stable code.

use std::time::Duration;

use bytes::Bytes;
use chrono::DateTime;
use gateway::ingest::IngestError;
use gateway::ingest::schema::{parse_batch, upstream_time};
use gateway::ingest::signature::{SignatureVerifier, UnverifiedBody};

/// The batch cap the gateway starts with (`WHATSAPP_INGEST_MAX_BATCH`).
const MAX_MESSAGES: usize = 100;

fn chars(s: &str) -> usize {
    s.chars().count()
}

pub fn check(data: &[u8]) {
    // With no secret configured the verifier passes the body on as verified (token-only mode).
    let verifier = SignatureVerifier::new(Vec::new(), Duration::from_secs(300));
    let body = UnverifiedBody(Bytes::copy_from_slice(data));
    let Ok(body) = verifier.verify(body, None, None, DateTime::UNIX_EPOCH) else {
        unreachable!("token-only mode verifies every body")
    };
    // JSON text: UTF-8 and the JSON grammar (numbers of any size, as the grammar allows).
    let is_json = std::str::from_utf8(data).is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
    let batch = match parse_batch(&body, MAX_MESSAGES) {
        Ok(batch) => batch,
        Err(error) => {
            if !is_json {
                assert!(matches!(error, IngestError::MalformedJson(_)), "not JSON must be malformed_json: {error:?}");
            }
            assert!(matches!(error.code(), "malformed_json" | "too_many_messages" | "invalid_payload"), "{error:?}");
            return;
        }
    };
    assert!(is_json, "an accepted batch is JSON");
    assert!(batch.messages.len() <= MAX_MESSAGES, "batch cap");
    assert!((1..=128).contains(&chars(&batch.client_id)), "client_id length");
    assert!(!batch.client_id.chars().any(char::is_control), "client_id has no control characters");
    for message in &batch.messages {
        assert!((1..=512).contains(&chars(&message.chat_title)), "chat_title length");
        for id in [&message.chat_id, &message.message_id].into_iter().flatten() {
            assert!((1..=256).contains(&chars(id)), "id length");
        }
        if let Some(text) = &message.text {
            assert!(chars(text) <= 65_536, "text length");
        }
        if let Some(timestamp) = &message.timestamp {
            assert!(upstream_time(timestamp).is_some(), "an accepted timestamp has a time");
        }
        assert!(message.media.as_ref().is_none_or(|m| m.len() <= 32), "media cap");
    }
}
