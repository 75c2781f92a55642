//! Evolution API `messages.upsert` webhooks → ingest messages.
//!
//! Envelope (Evolution v2 `webhook.controller`): `{event, instance, data,
//! destination, date_time, sender, server_url, apikey}`. `data` is a Baileys
//! message: `key {remoteJid, fromMe, id, participant?, remoteJidAlt?,
//! participantAlt?}`, `pushName`, `message {conversation |
//! extendedTextMessage.text | imageMessage {mimetype, caption, fileSha256} …}`, `messageType`,
//! `messageTimestamp`. Some versions send `data` as an array, or as
//! `{messages: […]}`; all three are read. With "webhook by events" the
//! event arrives at `/evolution/messages-upsert`.

use super::jid::{ChatTitles, is_status_broadcast, phone_of, unix_to_rfc3339};
use super::media::describe;
use super::{Ignored, Relayed};
use crate::message::{IngestMedia, IngestMessage};
use serde_json::Value;

/// `messages.upsert`, `MESSAGES_UPSERT` and `messages-upsert` are one event.
pub fn is_upsert(event: &str) -> bool {
    event.to_ascii_lowercase().replace(['_', '-'], ".") == "messages.upsert"
}

pub fn parse_event(event: &Value, titles: &ChatTitles) -> Relayed {
    let mut relayed = Relayed::default();
    let name = event.get("event").and_then(Value::as_str).unwrap_or_default();
    if !is_upsert(name) {
        relayed.ignored.push(Ignored::NotAMessageEvent);
        return relayed;
    }
    let owner = event.get("sender").and_then(Value::as_str);
    let data = event.get("data");
    let items: Vec<&Value> = match data {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(object)) => match object.get("messages").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![data.unwrap_or(&Value::Null)],
        },
        _ => Vec::new(),
    };
    if items.is_empty() {
        relayed.ignored.push(Ignored::Malformed);
    }
    for item in items {
        match parse_message(item, owner, titles) {
            Ok(message) => relayed.messages.push(message),
            Err(reason) => relayed.ignored.push(reason),
        }
    }
    relayed
}

fn parse_message(item: &Value, owner: Option<&str>, titles: &ChatTitles) -> Result<IngestMessage, Ignored> {
    let key = item.get("key").ok_or(Ignored::Malformed)?;
    let key_text = |name: &str| key.get(name).and_then(Value::as_str).filter(|value| !value.is_empty());
    let chat = key_text("remoteJid").ok_or(Ignored::Malformed)?;
    let id = key_text("id").ok_or(Ignored::Malformed)?;
    if is_status_broadcast(chat) {
        return Err(Ignored::StatusBroadcast);
    }
    let (text, media) = content_of(item)?;
    let from_me = key.get("fromMe").and_then(Value::as_bool).unwrap_or(false);
    // Newer WhatsApp addressing hides numbers behind `@lid`; the `…Alt`
    // fields then carry the phone JID.
    let sender = if chat.ends_with("@g.us") {
        key_text("participant").and_then(phone_of).or_else(|| key_text("participantAlt").and_then(phone_of))
    } else if from_me {
        owner.and_then(phone_of)
    } else {
        phone_of(chat).or_else(|| key_text("remoteJidAlt").and_then(phone_of))
    };
    let sender_name = item.get("pushName").and_then(Value::as_str).map(str::trim).filter(|name| !name.is_empty());
    Ok(IngestMessage {
        chat_id: Some(chat.to_owned()),
        chat_title: titles.title_for(chat),
        sender,
        sender_name: sender_name.map(str::to_owned),
        message_id: Some(id.to_owned()),
        timestamp: item.get("messageTimestamp").and_then(unix_to_rfc3339).map(Value::String),
        text: Some(text),
        media,
    })
}

/// Baileys media messages whose caption is relayed.
const CAPTIONED: [&str; 3] = ["imageMessage", "videoMessage", "documentMessage"];

/// The text, and the media it describes: `conversation` or
/// `extendedTextMessage.text`; or the caption of an `imageMessage`,
/// `videoMessage` or `documentMessage` (also inside the
/// `documentWithCaptionMessage`, `ephemeralMessage` and `viewOnceMessage…`
/// wrappers), with the media described. Media without a caption is `non_text`.
fn content_of(item: &Value) -> Result<(String, Vec<IngestMedia>), Ignored> {
    let message = unwrap(item.get("message").ok_or(Ignored::NonText)?);
    let plain = message.get("conversation").and_then(Value::as_str).or_else(|| message.get("extendedTextMessage").and_then(|extended| extended.get("text")).and_then(Value::as_str));
    if let Some(text) = plain.map(str::trim) {
        return if text.is_empty() { Err(Ignored::EmptyText) } else { Ok((text.to_owned(), Vec::new())) };
    }
    if let Some(media) = CAPTIONED.iter().find_map(|kind| message.get(*kind)) {
        let caption = media.get("caption").and_then(Value::as_str).map(str::trim).filter(|caption| !caption.is_empty()).ok_or(Ignored::NonText)?;
        let described = describe(media.get("mimetype").and_then(Value::as_str), media.get("fileSha256"), caption);
        return Ok((caption.to_owned(), vec![described]));
    }
    // Audio, stickers, contacts, locations, reactions…: nothing to read.
    Err(Ignored::NonText)
}

/// Baileys wraps some messages in `{…Message: {message: {…}}}`.
fn unwrap(message: &Value) -> &Value {
    let mut current = message;
    for _ in 0..4 {
        let wrapped = ["documentWithCaptionMessage", "ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension"]
            .iter()
            .find_map(|wrapper| current.get(*wrapper).and_then(|wrapper| wrapper.get("message")));
        match wrapped {
            Some(inner) => current = inner,
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_upsert_event_is_accepted() {
        for name in ["messages.upsert", "MESSAGES_UPSERT", "messages-upsert"] {
            assert!(is_upsert(name), "{name}");
        }
        for name in ["messages.update", "connection.update", ""] {
            assert!(!is_upsert(name), "{name}");
        }
    }
}
