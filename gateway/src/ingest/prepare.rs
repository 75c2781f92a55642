//! Turns a validated batch into rows ready to store: normalised chat id,
//! E.164 sender, upstream time in ms, the message-id fingerprint and the
//! content hash that dedupe works on. Empty messages (no text, no media,
//! hence no caption) are set aside as refused. Pure apart from a bounded cache of
//! sender normalisations (phone parsing is the costliest step per message,
//! and vendors post many messages from few phones).

use std::collections::HashMap;

use parking_lot::Mutex;

use super::schema::{BatchPayload, MessagePayload, upstream_time};
use crate::domain::{
    PreparedBatch, PreparedMessage,
    message::{MessageRefusal, chat_id_from_title, content_hash, message_key},
};
use crate::parse::phone::normalize_phone;

const SENDER_CACHE_CAPACITY: usize = 50_000;

/// A prepared batch: the messages to store, in batch order, and the batch
/// positions of the messages refused on their own.
pub struct Prepared {
    pub batch: PreparedBatch,
    pub refused: Vec<(usize, MessageRefusal)>,
}

pub struct Preparer {
    region: phonenumber::country::Id,
    senders: Mutex<HashMap<String, Option<String>>>,
}

impl Preparer {
    pub fn new(region: phonenumber::country::Id) -> Self {
        Self { region, senders: Mutex::new(HashMap::new()) }
    }

    pub fn prepare(&self, batch: BatchPayload, request_id: String, received_at_ms: i64) -> Prepared {
        let mut messages = Vec::with_capacity(batch.messages.len());
        let mut refused = Vec::new();
        for (index, message) in batch.messages.into_iter().enumerate() {
            if is_empty(&message) {
                refused.push((index, MessageRefusal::Empty));
            } else {
                messages.push(self.prepare_message(message));
            }
        }
        let batch = PreparedBatch { request_id, client_id: batch.client_id.trim().to_owned(), received_at_ms, messages, delivery_id: None };
        Prepared { batch, refused }
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
            // A message without an upstream id has nothing else to tell it
            // apart, so its content decides (a replay of it is a duplicate).
            dedupe_by_content: has_text || has_identified_media || message_id.is_none(),
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

/// No text (or only spaces) and no media entry at all: a media entry, even
/// an exported placeholder without url or caption, says something was sent.
fn is_empty(message: &MessagePayload) -> bool {
    message.text.as_deref().is_none_or(|t| t.trim().is_empty()) && message.media.as_ref().is_none_or(Vec::is_empty)
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
        Preparer::new(phonenumber::country::Id::KE).prepare(batch(json), "r".into(), 0).batch.messages
    }

    #[test]
    fn empty_messages_are_refused_and_never_prepared() {
        let prepared = Preparer::new(phonenumber::country::Id::KE).prepare(
            batch(r#"{"client_id":"c","messages":[
                {"chat_title":"t","message_id":"a"},{"chat_title":"t","text":"hi"},
                {"chat_title":"t","text":" \n ","media":[]},{"chat_title":"t","media":[{}]}]}"#),
            "r".into(),
            0,
        );
        assert_eq!(prepared.refused, [(0, MessageRefusal::Empty), (2, MessageRefusal::Empty)]);
        let texts: Vec<_> = prepared.batch.messages.iter().map(|m| m.text.as_deref()).collect();
        assert_eq!(texts, [Some("hi"), None], "the placeholder with a media entry is kept");
    }

    #[test]
    fn senders_become_e164_when_they_are_phones() {
        let messages = prepare(r#"{"client_id":"c","messages":[
            {"chat_title":"t","sender":"254712345678@s.whatsapp.net","text":"hi"},
            {"chat_title":"t","sender":"0712 345678","text":"hi"},
            {"chat_title":"t","sender":"Mama Mboga","text":"hi"}]}"#);
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
            {"chat_title":"t","message_id":"1","media":[{"caption":""}]},{"chat_title":"t","message_id":"2","media":[{}]},
            {"chat_title":"t","media":[{"url":"https://x"}]},{"chat_title":"t","text":"hi"}]}"#);
        let flags: Vec<bool> = messages.iter().map(|m| m.dedupe_by_content).collect();
        assert_eq!(flags, [false, false, true, true]);
    }

    #[test]
    fn contentless_messages_without_an_id_are_told_apart_by_content() {
        let messages = prepare(r#"{"client_id":"c","messages":[{"chat_title":"t","media":[{"caption":""}]}]}"#);
        assert!(messages[0].dedupe_by_content, "a replay of it must be a duplicate");
    }

    #[test]
    fn message_keys_are_per_chat() {
        let messages = prepare(r#"{"client_id":"c","messages":[
            {"chat_title":"a","message_id":"3EB0X","text":"x"},{"chat_title":"b","message_id":"3EB0X","text":"x"},
            {"chat_id":"A@G.US","chat_title":"a","message_id":"3EB0X","text":"x"}]}"#);
        assert_ne!(messages[0].message_key, messages[1].message_key);
        assert_eq!(messages[2].chat_id, "a@g.us");
        assert!(messages.iter().all(|m| m.message_key.is_some()));
    }
}
