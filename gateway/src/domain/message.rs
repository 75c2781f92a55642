//! A batch as ingest prepares it and the store writes it, the fingerprints
//! dedupe works on (message key, content hash), and the outcome of each
//! message, or why it was refused. Hashing is pure: the same inputs give the same bytes on every
//! replica, so the database's unique constraints can decide duplicates.

use sha2::{Digest, Sha256};

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
    /// Set by the Redis dedupe fast path when a marker proves this message is
    /// a duplicate of that stored message; the PostgreSQL writer then counts
    /// it without probing the database for it.
    pub known_duplicate_of: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PreparedBatch {
    pub request_id: String,
    pub client_id: String,
    pub received_at_ms: i64,
    pub messages: Vec<PreparedMessage>,
    /// The Standard Webhooks `webhook-id` the batch was delivered with: the
    /// store answers a second delivery of it from the first one's outcome
    /// and stores nothing.
    pub delivery_id: Option<String>,
}

/// The fate of one message of a batch, in batch order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageOutcome {
    pub created: bool,
    /// The stored message: the new one, or the one this duplicates.
    pub message_pk: Option<i64>,
}

/// Why one message of a batch was refused while the others were taken. The
/// code is the `reason` of that message in the ingest answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRefusal {
    /// No text, no caption and no media: nothing to store or to tell apart.
    Empty,
}

impl MessageRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty_message",
        }
    }
}

/// A stable chat id for collectors that only know the title: the same title
/// (ignoring case and spacing) always maps to the same id.
pub fn chat_id_from_title(title: &str) -> String {
    let normalized = collapse_whitespace(&title.to_lowercase());
    let digest = Sha256::digest(normalized.as_bytes());
    format!("chat-{}", hex::encode(&digest[..8]))
}

/// 128-bit fingerprint of an upstream message id within its chat.
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

/// Words joined by single spaces.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chat_ids_derive_stably_from_titles() {
        assert_eq!(chat_id_from_title("Smoke Chat"), chat_id_from_title("  smoke   CHAT "));
        assert_ne!(chat_id_from_title("Smoke Chat"), chat_id_from_title("Smoke Chats"));
        assert!(chat_id_from_title("x").starts_with("chat-"));
    }

    #[test]
    fn message_keys_are_per_chat() {
        assert_ne!(message_key("a", "3EB0X"), message_key("b", "3EB0X"));
        assert_eq!(message_key("a", "3EB0X"), message_key("a", "3EB0X"));
    }

    proptest! {
        #[test]
        fn hashing_is_deterministic(chat in ".{1,20}", text in ".{0,80}") {
            prop_assert_eq!(content_hash(&chat, None, Some(&text), &[]), content_hash(&chat, None, Some(&text), &[]));
        }

        #[test]
        fn content_hash_ignores_spacing(chat in "[a-z]{1,8}", words in proptest::collection::vec("[a-z0-9$]{1,6}", 1..8)) {
            let tight = words.join(" ");
            let loose = format!("  {}\n", words.join("   "));
            prop_assert_eq!(content_hash(&chat, None, Some(&tight), &[]), content_hash(&chat, None, Some(&loose), &[]));
        }

        #[test]
        fn derived_chat_ids_ignore_case_and_spacing(title in "[A-Za-z0-9 ]{1,30}") {
            let shouted = format!("  {}  ", title.to_ascii_uppercase().replace(' ', "   "));
            prop_assert_eq!(chat_id_from_title(&title), chat_id_from_title(&shouted));
        }
    }
}
