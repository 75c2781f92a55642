//! WAHA (WhatsApp HTTP API) `message` events → ingest messages.
//!
//! Envelope: `{event, session, me?, payload, engine}`; the message is in
//! `payload`: `id` (e.g. `false_120363…@g.us_3EB0…_254…@c.us`), `timestamp`
//! (unix seconds), `from` (the chat), `to`, `fromMe`, `participant` (the
//! sender in groups), `body`, `hasMedia`, and engine data in `_data`
//! (`notifyName` on WEBJS, `pushName` on NOWEB/GOWS). With an HMAC key
//! configured WAHA adds `X-Webhook-Hmac`: hex HMAC-SHA512 of the raw body.

use super::jid::{ChatTitles, is_status_broadcast, phone_of, unix_to_rfc3339};
use super::{Ignored, Relayed};
use crate::message::IngestMessage;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha512;

pub const HMAC_HEADER: &str = "X-Webhook-Hmac";
pub const HMAC_ALGORITHM_HEADER: &str = "X-Webhook-Hmac-Algorithm";

/// Constant-time check of `X-Webhook-Hmac` (hex, any case) over the raw body.
pub fn verify_hmac(key: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else { return false };
    let Ok(mut mac) = <Hmac<Sha512> as KeyInit>::new_from_slice(key) else { return false };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// Hex HMAC-SHA512, as WAHA computes it (used by tests and tooling).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub fn parse_event(event: &Value, titles: &ChatTitles) -> Relayed {
    let mut relayed = Relayed::default();
    let name = event.get("event").and_then(Value::as_str).unwrap_or_default();
    if name != "message" && name != "message.any" {
        relayed.ignored.push(Ignored::NotAMessageEvent);
        return relayed;
    }
    match parse_message(event) {
        Ok(message) => relayed.messages.push(message.titled(titles)),
        Err(reason) => relayed.ignored.push(reason),
    }
    relayed
}

struct Untitled {
    chat: String,
    message: IngestMessage,
}

impl Untitled {
    fn titled(mut self, titles: &ChatTitles) -> IngestMessage {
        self.message.chat_title = titles.title_for(&self.chat);
        self.message.chat_id = Some(self.chat);
        self.message
    }
}

fn parse_message(event: &Value) -> Result<Untitled, Ignored> {
    let payload = event.get("payload").ok_or(Ignored::Malformed)?;
    let text_field = |name: &str| payload.get(name).and_then(Value::as_str).filter(|value| !value.is_empty());
    let id = text_field("id").ok_or(Ignored::Malformed)?;
    let from_me = payload.get("fromMe").and_then(Value::as_bool).unwrap_or(false);
    let chat = if from_me { text_field("to").or(text_field("from")) } else { text_field("from") }.ok_or(Ignored::Malformed)?;
    if is_status_broadcast(chat) {
        return Err(Ignored::StatusBroadcast);
    }
    let data = payload.get("_data");
    let engine_type = data.and_then(|data| data.get("type")).and_then(Value::as_str);
    let has_vcards = payload.get("vCards").and_then(Value::as_array).is_some_and(|cards| !cards.is_empty());
    let has_media = payload.get("hasMedia").and_then(Value::as_bool).unwrap_or(false);
    if has_media || has_vcards || engine_type.is_some_and(|kind| kind != "chat") {
        return Err(Ignored::NonText);
    }
    let text = payload.get("body").and_then(Value::as_str).map(str::trim).filter(|text| !text.is_empty()).ok_or(Ignored::EmptyText)?;

    let me = event.get("me");
    let sender_jid = text_field("participant").or_else(|| if from_me { me.and_then(|me| me.get("id")).and_then(Value::as_str) } else { Some(chat) });
    let pushed_name = data
        .and_then(|data| data.get("notifyName").or_else(|| data.get("pushName")))
        .and_then(Value::as_str)
        .or_else(|| if from_me { me.and_then(|me| me.get("pushName")).and_then(Value::as_str) } else { None })
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != "~");
    Ok(Untitled {
        chat: chat.to_owned(),
        message: IngestMessage {
            chat_id: None,
            chat_title: String::new(),
            sender: sender_jid.and_then(phone_of),
            sender_name: pushed_name.map(str::to_owned),
            message_id: Some(id.to_owned()),
            timestamp: payload.get("timestamp").and_then(unix_to_rfc3339).map(Value::String),
            text: Some(text.to_owned()),
            media: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hmac_matches_the_example_in_wahas_docs() {
        let body = br#"{"event":"message","session":"default","engine":"WEBJS"}"#;
        let documented = "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89";
        assert_eq!(sign(b"my-secret-key", body), documented);
        assert!(verify_hmac(b"my-secret-key", body, documented));
        assert!(verify_hmac(b"my-secret-key", body, &documented.to_uppercase()));
        assert!(!verify_hmac(b"other-key", body, documented));
        assert!(!verify_hmac(b"my-secret-key", b"{}", documented));
        assert!(!verify_hmac(b"my-secret-key", body, "not hex"));
        assert!(!verify_hmac(b"my-secret-key", body, ""));
    }
}
