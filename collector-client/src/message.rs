//! The ingest batch as collectors send it (issue #2's schema). Every field but
//! `chat_title` is optional, so absent fields are skipped when serialising and
//! the JSON stays as small as the seed's smoke body.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestBatch {
    pub client_id: String,
    pub messages: Vec<IngestMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    pub chat_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// RFC 3339, or unix seconds as a JSON number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<IngestMedia>,
}

/// A media item as the gateway's schema takes it (`kind`, `url`,
/// `mime_type`, `sha256`, `caption`). `kind` is not stored: it is written
/// from the MIME type (`image`, `video`, `audio`, else `document`), so an
/// item without a MIME type (an export placeholder) has none.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IngestMedia {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

impl IngestMedia {
    /// `image`, `video`, `audio` or `document`, from the MIME type.
    pub fn kind(&self) -> Option<&'static str> {
        let mime = self.mime_type.as_deref()?.trim();
        if mime.is_empty() {
            return None;
        }
        let top = mime.split('/').next().unwrap_or_default().to_ascii_lowercase();
        Some(match top.as_str() {
            "image" => "image",
            "video" => "video",
            "audio" => "audio",
            _ => "document",
        })
    }
}

impl Serialize for IngestMedia {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            kind: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            url: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            mime_type: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            sha256: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            caption: Option<&'a str>,
        }
        Wire { kind: self.kind(), url: self.url.as_deref(), mime_type: self.mime_type.as_deref(), sha256: self.sha256.as_deref(), caption: self.caption.as_deref() }.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_smoke_body_round_trips_byte_for_byte() {
        let body = r#"{"client_id":"smoke","messages":[{"chat_title":"Smoke Chat","text":"Pixel 8 Pro - $750"}]}"#;
        let batch: IngestBatch = serde_json::from_str(body).expect("smoke body parses");
        assert_eq!(serde_json::to_string(&batch).expect("serialises"), body);
    }

    #[test]
    fn media_is_written_with_its_kind_from_the_mime_type() {
        let photo = IngestMedia { mime_type: Some("image/jpeg".into()), caption: Some("Oppo Reno 11 - 45k".into()), ..IngestMedia::default() };
        assert_eq!(serde_json::to_value(&photo).expect("json"), serde_json::json!({"kind": "image", "mime_type": "image/jpeg", "caption": "Oppo Reno 11 - 45k"}));
        let kinds: Vec<Option<&str>> =
            ["video/mp4", "audio/ogg; codecs=opus", "application/pdf", ""].iter().map(|mime| IngestMedia { mime_type: Some((*mime).into()), ..IngestMedia::default() }.kind()).collect();
        assert_eq!(kinds, [Some("video"), Some("audio"), Some("document"), None]);
        let placeholder = IngestMedia { caption: Some("x".into()), ..IngestMedia::default() };
        assert_eq!(serde_json::to_string(&placeholder).expect("json"), r#"{"caption":"x"}"#);
        let back: IngestMedia = serde_json::from_value(serde_json::to_value(&photo).expect("json")).expect("reads back");
        assert_eq!(back, photo);
    }
}
