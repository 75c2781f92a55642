//! The ingest batch as JSON, and its validation. Syntax errors are 400,
//! schema errors are 422 and name the field path (`messages[3].timestamp`).
//! Unknown fields are ignored so collectors can send extra metadata.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::signature::{VerifiedBody, parse_timestamp};
use super::IngestError;

/// A batch as collectors send it. Unknown fields are ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchPayload {
    /// The collector's id; the rate limit is per `client_id`.
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: String,
    /// At most `WHATSAPP_INGEST_MAX_MESSAGES` (500 by default).
    pub messages: Vec<MessagePayload>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MessagePayload {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 256)]
    pub chat_id: Option<String>,
    #[schema(min_length = 1, max_length = 512)]
    pub chat_title: String,
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default)]
    pub sender_name: Option<String>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 256)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<TimestampValue>,
    #[serde(default)]
    #[schema(max_length = 65536)]
    pub text: Option<String>,
    #[serde(default)]
    #[schema(max_items = 32)]
    pub media: Option<Vec<MediaPayload>>,
}

/// Unix seconds, or RFC 3339 text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TimestampValue {
    UnixSeconds(f64),
    Text(String),
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct MediaPayload {
    /// `image`, `video`, `document`, … when the sender says (the Meta Cloud API does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The sender's own media id (Meta's, to download it through the Graph API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

const MAX_ID_CHARS: usize = 256;
const MAX_TITLE_CHARS: usize = 512;
const MAX_TEXT_CHARS: usize = 65_536;
const MAX_MEDIA_ITEMS: usize = 32;

/// Parses and validates a verified body.
pub fn parse_batch(body: &VerifiedBody, max_messages: usize) -> Result<BatchPayload, IngestError> {
    let batch: BatchPayload = parse_json(body.bytes())?;
    check_batch(&batch, max_messages)?;
    Ok(batch)
}

/// JSON into `T`: syntax errors are [`IngestError::MalformedJson`], type
/// errors [`IngestError::Schema`] with the field path. Callers pass only
/// bytes whose signature was checked.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, IngestError> {
    // JSON is UTF-8, but serde_json skips unknown fields without checking it,
    // so a body with broken UTF-8 in one was accepted (found by the fuzz target).
    let text = std::str::from_utf8(bytes).map_err(|e| IngestError::MalformedJson(format!("not UTF-8: {e}")))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => value,
        Err(error) => return Err(classify(error, text)),
    };
    deserializer.end().map_err(|e| IngestError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// The batch-size cap and the field rules, for a batch from any sender.
pub fn check_batch(batch: &BatchPayload, max_messages: usize) -> Result<(), IngestError> {
    if batch.messages.len() > max_messages {
        return Err(IngestError::TooManyMessages { count: batch.messages.len(), max: max_messages });
    }
    validate(batch)
}

/// A schema error is reported only for a body that is JSON: serde stops at the
/// first problem, and a missing field is found when the top-level object
/// closes, before the bytes after it (`{"a":1} xyz`) are read. Found by the
/// `schema` fuzz target; such a body is malformed, not invalid.
fn classify(error: serde_path_to_error::Error<serde_json::Error>, text: &str) -> IngestError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_data() {
        if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            return IngestError::MalformedJson(syntax.to_string());
        }
        let detail = strip_position(&inner.to_string());
        IngestError::Schema { path: if path.is_empty() || path == "." { "$".into() } else { path }, detail }
    } else {
        IngestError::MalformedJson(inner.to_string())
    }
}

/// serde_json appends "at line 1 column 57"; the field path says it better.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn invalid(path: String, detail: impl Into<String>) -> IngestError {
    IngestError::Schema { path, detail: detail.into() }
}

fn check_text(path: impl FnOnce() -> String, value: &str, max: usize, allow_empty: bool) -> Result<(), IngestError> {
    if !allow_empty && value.trim().is_empty() {
        return Err(invalid(path(), "must not be empty"));
    }
    if value.len() > max * 4 || value.chars().count() > max {
        return Err(invalid(path(), format!("must be at most {max} characters")));
    }
    Ok(())
}

fn validate(batch: &BatchPayload) -> Result<(), IngestError> {
    check_text(|| "client_id".into(), &batch.client_id, 128, false)?;
    if batch.client_id.chars().any(char::is_control) {
        return Err(invalid("client_id".into(), "must not contain control characters"));
    }
    for (i, message) in batch.messages.iter().enumerate() {
        let at = |field: &str| format!("messages[{i}].{field}");
        check_text(|| at("chat_title"), &message.chat_title, MAX_TITLE_CHARS, false)?;
        for (field, value) in [("chat_id", &message.chat_id), ("message_id", &message.message_id)] {
            if let Some(value) = value {
                check_text(|| at(field), value, MAX_ID_CHARS, false)?;
            }
        }
        for (field, value) in [("sender", &message.sender), ("sender_name", &message.sender_name)] {
            if let Some(value) = value {
                check_text(|| at(field), value, MAX_ID_CHARS, true)?;
            }
        }
        if let Some(text) = &message.text {
            check_text(|| at("text"), text, MAX_TEXT_CHARS, true)?;
        }
        if let Some(timestamp) = &message.timestamp {
            upstream_time(timestamp).ok_or_else(|| {
                invalid(at("timestamp"), "must be an RFC 3339 date-time or unix seconds")
            })?;
        }
        let media = message.media.as_deref().unwrap_or_default();
        if media.len() > MAX_MEDIA_ITEMS {
            return Err(invalid(at("media"), format!("at most {MAX_MEDIA_ITEMS} items")));
        }
        for (j, item) in media.iter().enumerate() {
            let fields = [
                ("kind", &item.kind, 32),
                ("id", &item.id, MAX_ID_CHARS),
                ("url", &item.url, 4_096),
                ("mime_type", &item.mime_type, 255),
                ("sha256", &item.sha256, 128),
                ("caption", &item.caption, 4_096),
            ];
            for (field, value, max) in fields {
                if let Some(value) = value {
                    check_text(|| format!("messages[{i}].media[{j}].{field}"), value, max, true)?;
                }
            }
        }
    }
    Ok(())
}

/// Upstream time of a message: RFC 3339 or unix seconds (number or string).
pub fn upstream_time(value: &TimestampValue) -> Option<DateTime<Utc>> {
    match value {
        TimestampValue::UnixSeconds(seconds) if seconds.is_finite() && *seconds >= 0.0 && *seconds < 253_402_300_800.0 => {
            DateTime::from_timestamp_millis((seconds * 1_000.0).round() as i64)
        }
        TimestampValue::UnixSeconds(_) => None,
        TimestampValue::Text(text) => parse_timestamp(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::signature::{SignatureVerifier, UnverifiedBody};
    use proptest::prelude::*;

    fn parse(body: &str) -> Result<BatchPayload, IngestError> {
        let verifier = SignatureVerifier::new(vec![], std::time::Duration::from_secs(1));
        let body = verifier
            .verify(UnverifiedBody(bytes::Bytes::copy_from_slice(body.as_bytes())), None, None, Utc::now())
            .map_err(|_| IngestError::InvalidSignature)?;
        parse_batch(&body, 3)
    }

    fn path_of(result: Result<BatchPayload, IngestError>) -> String {
        match result {
            Err(IngestError::Schema { path, .. }) => path,
            other => format!("not a schema error: {other:?}"),
        }
    }

    #[test]
    fn the_seed_smoke_body_is_accepted_as_it_is() {
        let batch = parse(r#"{"client_id":"smoke","messages":[{"chat_title":"Smoke Chat","text":"Pixel 8 Pro - $750"}]}"#);
        let batch = batch.expect("valid");
        assert_eq!(batch.messages[0].text.as_deref(), Some("Pixel 8 Pro - $750"));
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        for body in ["{", "not json", r#"{"client_id":"a","messages":[]} trailing"#, ""] {
            assert!(matches!(parse(body), Err(IngestError::MalformedJson(_))), "{body:?}");
        }
    }

    #[test]
    fn a_schema_error_followed_by_bytes_that_are_not_json_is_malformed_json() {
        for body in [r#"{"a":1} xyz"#, r#"{"client_id":"c"}}"#, r#"{"client_id":"c","messages":[{}]} ,"#] {
            assert!(matches!(parse(body), Err(IngestError::MalformedJson(_))), "{body}");
        }
        assert!(matches!(parse(r#"{"a":1}"#), Err(IngestError::Schema { .. })));
    }

    #[test]
    fn a_body_that_is_not_utf8_is_malformed_json_even_in_an_unknown_field() {
        let bodies: [&[u8]; 2] =
            [b"{\"client_id\": 5, \"mess\xc3ces\": \"no\"}", b"{\"client_id\":\"c\",\"messages\":[],\"extra\":\"caf\xc3\"}"];
        for body in bodies {
            let verifier = SignatureVerifier::new(vec![], std::time::Duration::from_secs(1));
            let verified = verifier.verify(UnverifiedBody(bytes::Bytes::copy_from_slice(body)), None, None, Utc::now()).unwrap();
            assert!(matches!(parse_batch(&verified, 3), Err(IngestError::MalformedJson(_))), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn schema_errors_name_the_field_path() {
        assert_eq!(path_of(parse(r#"{"messages":[]}"#)), "$");
        assert_eq!(path_of(parse(r#"{"client_id":"a","messages":[{"text":"x"}]}"#)), "messages[0]");
        assert_eq!(path_of(parse(r#"{"client_id":"a","messages":[{"chat_title":"c"},{"chat_title":"c","text":5}]}"#)), "messages[1].text");
        assert_eq!(path_of(parse(r#"{"client_id":"a","messages":[{"chat_title":"c","timestamp":"yesterday"}]}"#)), "messages[0].timestamp");
        assert_eq!(path_of(parse(r#"{"client_id":"a","messages":[{"chat_title":"  "}]}"#)), "messages[0].chat_title");
        assert_eq!(path_of(parse(r#"{"client_id":"","messages":[]}"#)), "client_id");
        assert_eq!(path_of(parse(r#"{"client_id":"a","messages":[{"chat_title":"c","media":[{"url":7}]}]}"#)), "messages[0].media[0].url");
    }

    #[test]
    fn too_many_messages_is_its_own_error() {
        let body = r#"{"client_id":"a","messages":[{"chat_title":"c"},{"chat_title":"c"},{"chat_title":"c"},{"chat_title":"c"}]}"#;
        assert!(matches!(parse(body), Err(IngestError::TooManyMessages { count: 4, max: 3 })));
    }

    #[test]
    fn timestamps_are_rfc3339_or_unix_seconds() {
        let body = r#"{"client_id":"a","messages":[{"chat_title":"c","timestamp":1763800000},{"chat_title":"c","timestamp":"2026-11-22T10:00:00+03:00"},{"chat_title":"c","timestamp":"1763800000"}]}"#;
        let batch = parse(body).expect("valid");
        let times: Vec<i64> = batch.messages.iter().filter_map(|m| m.timestamp.as_ref().and_then(upstream_time)).map(|t| t.timestamp()).collect();
        assert_eq!(times, [1_763_800_000, 1_795_330_800, 1_763_800_000]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in ".{0,200}") {
            let _ = parse(&body);
        }
    }
}
