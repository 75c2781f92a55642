//! Turns a validated batch into rows ready to store: normalised chat id,
//! E.164 sender, upstream time in ms, the message-id fingerprint and the
//! content hash that dedupe works on. Pure apart from a bounded cache of
//! sender normalisations (phone parsing is the costliest step per message,
//! and vendors post many messages from few phones).

use std::collections::HashMap;

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use super::schema::{BatchPayload, MessagePayload, upstream_time};
use crate::extract::phone::normalize_phone;

/// A message as the store writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedMessage {
    pub chat_id: String,
    pub chat_title: String,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub message_id: Option<String>,
    /// 128-bit fingerprint of (chat id, upstream message id).
    pub message_key: Option<[u8; 16]>,
    pub text: Option<String>,
    pub media_json: Option<String>,
    pub content_hash: [u8; 32],
    /// False when there is no content to compare (no text, no identifiable
    /// media): such messages, e.g. exported `<Media omitted>` lines, are told
    /// apart by message id only.
    pub dedupe_by_content: bool,
    pub upstream_ts_ms: Option<i64>,
    /// Set by the Redis dedupe fast path (`ingest::dedupe_fast_path`) when a
    /// marker proves this message is a duplicate of that stored message; the
    /// PostgreSQL writer then counts it without probing the database for it.
    pub known_duplicate_of: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PreparedBatch {
    pub request_id: String,
    pub client_id: String,
    pub received_at_ms: i64,
    pub messages: Vec<PreparedMessage>,
}

const SENDER_CACHE_CAPACITY: usize = 50_000;

pub struct Preparer {
    region: phonenumber::country::Id,
    senders: Mutex<HashMap<String, Option<String>>>,
}

impl Preparer {
    pub fn new(region: phonenumber::country::Id) -> Self {
        Self { region, senders: Mutex::new(HashMap::new()) }
    }

    pub fn prepare(&self, batch: BatchPayload, request_id: String, received_at_ms: i64) -> PreparedBatch {
        let messages = batch.messages.into_iter().map(|m| self.prepare_message(m)).collect();
        PreparedBatch { request_id, client_id: batch.client_id.trim().to_owned(), received_at_ms, messages }
    }

    fn prepare_message(&self, message: MessagePayload) -> PreparedMessage {
        let chat_title = message.chat_title.trim().to_owned();
        let chat_id = match message.chat_id.as_deref().map(str::trim) {
            Some(id) => id.to_lowercase(),
            None => chat_id_from_title(&chat_title),
        };
        let sender = message.sender.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| self.normalize_sender(s));
        let message_id = message.message_id.map(|id| id.trim().to_owned());
        let message_key = message_id.as_deref().map(|id| message_key(&chat_id, id));
        let media = message.media.unwrap_or_default();
        let media_hashes: Vec<String> = media.iter().map(media_fingerprint).collect();
        let content_hash = content_hash(&chat_id, sender.as_deref(), message.text.as_deref(), &media_hashes);
        let media_json = (!media.is_empty()).then(|| serde_json::to_string(&media).unwrap_or_default());
        let has_text = message.text.as_deref().is_some_and(|t| !t.trim().is_empty());
        let has_identified_media = media.iter().any(|m| {
            [&m.sha256, &m.url].iter().any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
        });
        PreparedMessage {
            dedupe_by_content: has_text || has_identified_media,
            upstream_ts_ms: message.timestamp.as_ref().and_then(upstream_time).map(|t| t.timestamp_millis()),
            chat_id,
            chat_title,
            sender,
            sender_name: message.sender_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            message_id,
            message_key,
            text: message.text,
            media_json,
            content_hash,
            known_duplicate_of: None,
        }
    }

    /// E.164 when the sender is a phone, the trimmed original otherwise.
    fn normalize_sender(&self, raw: &str) -> String {
        if let Some(cached) = self.senders.lock().get(raw) {
            return cached.clone().unwrap_or_else(|| raw.to_owned());
        }
        let normalized = normalize_phone(raw, self.region);
        let mut cache = self.senders.lock();
        if cache.len() >= SENDER_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(raw.to_owned(), normalized.clone());
        normalized.unwrap_or_else(|| raw.to_owned())
    }
}

/// A stable chat id for collectors that only know the title: the same title
/// (ignoring case and spacing) always maps to the same id.
pub fn chat_id_from_title(title: &str) -> String {
    let normalized = collapse_whitespace(&title.to_lowercase());
    let digest = Sha256::digest(normalized.as_bytes());
    format!("chat-{}", hex::encode(&digest[..8]))
}

pub fn message_key(chat_id: &str, message_id: &str) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(b"message-id\x1f");
    hasher.update(chat_id.as_bytes());
    hasher.update(b"\x1f");
    hasher.update(message_id.as_bytes());
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// SHA-256 over the normalised chat id, sender, text and media hashes.
pub fn content_hash(chat_id: &str, sender: Option<&str>, text: Option<&str>, media_hashes: &[String]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(chat_id.as_bytes());
    hasher.update(b"\x1f");
    hasher.update(sender.unwrap_or_default().as_bytes());
    hasher.update(b"\x1f");
    hasher.update(collapse_whitespace(text.unwrap_or_default()).as_bytes());
    for media in media_hashes {
        hasher.update(b"\x1e");
        hasher.update(media.as_bytes());
    }
    hasher.finalize().into()
}

fn media_fingerprint(media: &super::schema::MediaPayload) -> String {
    if let Some(sha) = media.sha256.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return format!("sha256:{}", sha.to_ascii_lowercase());
    }
    if let Some(url) = media.url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return format!("url:{url}");
    }
    format!("caption:{}", media.caption.as_deref().unwrap_or_default().trim())
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn batch(json: &str) -> BatchPayload {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("test body: {e}"))
    }

    fn prepare(json: &str) -> Vec<PreparedMessage> {
        Preparer::new(phonenumber::country::Id::KE).prepare(batch(json), "r".into(), 0).messages
    }

    #[test]
    fn chat_ids_derive_stably_from_titles() {
        assert_eq!(chat_id_from_title("Smoke Chat"), chat_id_from_title("  smoke   CHAT "));
        assert_ne!(chat_id_from_title("Smoke Chat"), chat_id_from_title("Smoke Chats"));
        assert!(chat_id_from_title("x").starts_with("chat-"));
    }

    #[test]
    fn senders_become_e164_when_they_are_phones() {
        let messages = prepare(r#"{"client_id":"c","messages":[
            {"chat_title":"t","sender":"254712345678@s.whatsapp.net"},
            {"chat_title":"t","sender":"0712 345678"},
            {"chat_title":"t","sender":"Mama Mboga"}]}"#);
        let senders: Vec<_> = messages.iter().map(|m| m.sender.as_deref()).collect();
        assert_eq!(senders, [Some("+254712345678"), Some("+254712345678"), Some("Mama Mboga")]);
        assert_eq!(messages[0].content_hash, messages[1].content_hash, "same phone, same content");
    }

    #[test]
    fn content_hash_ignores_spacing_but_not_content() {
        let messages = prepare(r#"{"client_id":"c","messages":[
            {"chat_title":"t","text":"Pixel 8  Pro - $750 "},
            {"chat_title":"T","text":"Pixel 8 Pro - $750"},
            {"chat_title":"t","text":"Pixel 8 Pro - $751"},
            {"chat_title":"t","text":"Pixel 8 Pro - $750","media":[{"sha256":"AB"}]},
            {"chat_title":"t","text":"Pixel 8 Pro - $750","media":[{"sha256":"ab"}]}]}"#);
        assert_eq!(messages[0].content_hash, messages[1].content_hash);
        assert_ne!(messages[0].content_hash, messages[2].content_hash);
        assert_ne!(messages[0].content_hash, messages[3].content_hash);
        assert_eq!(messages[3].content_hash, messages[4].content_hash);
    }

    #[test]
    fn contentless_messages_are_told_apart_by_id_only() {
        let messages = prepare(r#"{"client_id":"c","messages":[
            {"chat_title":"t","media":[{"caption":""}]},{"chat_title":"t","text":"  "},
            {"chat_title":"t","media":[{"url":"https://x"}]},{"chat_title":"t","text":"hi"}]}"#);
        let flags: Vec<bool> = messages.iter().map(|m| m.dedupe_by_content).collect();
        assert_eq!(flags, [false, false, true, true]);
    }

    #[test]
    fn message_keys_are_per_chat() {
        let messages = prepare(r#"{"client_id":"c","messages":[
            {"chat_title":"a","message_id":"3EB0X"},{"chat_title":"b","message_id":"3EB0X"},{"chat_id":"A@G.US","chat_title":"a","message_id":"3EB0X"}]}"#);
        assert_ne!(messages[0].message_key, messages[1].message_key);
        assert_eq!(messages[2].chat_id, "a@g.us");
        assert!(messages.iter().all(|m| m.message_key.is_some()));
    }

    proptest! {
        #[test]
        fn hashing_is_deterministic(chat in ".{1,20}", text in ".{0,80}") {
            prop_assert_eq!(content_hash(&chat, None, Some(&text), &[]), content_hash(&chat, None, Some(&text), &[]));
        }

        #[test]
        fn derived_chat_ids_ignore_case_and_spacing(title in "[A-Za-z0-9 ]{1,30}") {
            let shouted = format!("  {}  ", title.to_ascii_uppercase().replace(' ', "   "));
            prop_assert_eq!(chat_id_from_title(&title), chat_id_from_title(&shouted));
        }
    }
}
