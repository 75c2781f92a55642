//! Turns a validated batch into rows ready to store: normalised chat id,
//! E.164 sender, upstream time in ms, the message-id fingerprint and the
//! content hash that dedupe works on. Pure apart from a bounded cache of
//! sender normalisations (phone parsing is the costliest step per message,
//! and vendors post many messages from few phones).

use std::collections::HashMap;

use parking_lot::Mutex;

use super::schema::{BatchPayload, MessagePayload, upstream_time};
use crate::domain::{
    PreparedBatch, PreparedMessage,
    message::{chat_id_from_title, content_hash, message_key},
};
use crate::parse::phone::normalize_phone;

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
        PreparedBatch { request_id, client_id: batch.client_id.trim().to_owned(), received_at_ms, messages, delivery_id: None }
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

fn media_fingerprint(media: &super::schema::MediaPayload) -> String {
    if let Some(sha) = media.sha256.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return format!("sha256:{}", sha.to_ascii_lowercase());
    }
    if let Some(url) = media.url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return format!("url:{url}");
    }
    format!("caption:{}", media.caption.as_deref().unwrap_or_default().trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(json: &str) -> BatchPayload {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("test body: {e}"))
    }

    fn prepare(json: &str) -> Vec<PreparedMessage> {
        Preparer::new(phonenumber::country::Id::KE).prepare(batch(json), "r".into(), 0).messages
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
}
