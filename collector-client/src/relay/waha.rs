//! WAHA (WhatsApp HTTP API) `message` events → ingest messages.
//!
//! Envelope: `{event, session, me?, payload, engine}`; the message is in
//! `payload`: `id` (e.g. `false_120363…@g.us_3EB0…_254…@c.us`), `timestamp`
//! (unix seconds), `from` (the chat), `to`, `fromMe`, `participant` (the
//! sender in groups on NOWEB and GOWS; WEBJS has none, see `group_sender`),
//! `body` (the caption, for media), `hasMedia`, `media {url, mimetype}`,
//! and engine data in `_data` (`notifyName`, `author`, `type`, `mimetype`,
//! `filehash` on WEBJS; the Baileys message with `pushName` on NOWEB).
//! With an HMAC key configured WAHA adds `X-Webhook-Hmac`: hex HMAC-SHA512
//! of the raw body.

use super::jid::{ChatTitles, is_status_broadcast, phone_of, unix_to_rfc3339};
use super::media::describe;
use super::{Ignored, Relayed};
use crate::message::IngestMessage;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha512;

pub const HMAC_HEADER: &str = "X-Webhook-Hmac";
pub const HMAC_ALGORITHM_HEADER: &str = "X-Webhook-Hmac-Algorithm";

/// Constant-time check of `X-Webhook-Hmac` (hex, any case) over the raw body.
pub fn verify_hmac(key: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha512> as KeyInit>::new_from_slice(key) else {
        return false;
    };
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
    let has_vcards = payload.get("vCards").and_then(Value::as_array).is_some_and(|cards| !cards.is_empty());
    if has_vcards {
        return Err(Ignored::NonText);
    }
    let content = content_of(payload, data)?;
    // For media, every engine puts the caption in `body` (WEBJS: whatsapp-web.js
    // `body = caption`; NOWEB/GOWS: `extractBody` reads `…Message.caption`).
    let text = payload.get("body").and_then(Value::as_str).or_else(|| data.and_then(|data| data.get("caption")).and_then(Value::as_str)).map(str::trim).filter(|text| !text.is_empty());
    let (text, media) = match (content, text) {
        (Content::Text, Some(text)) => (text, Vec::new()),
        (Content::Text, None) => return Err(Ignored::EmptyText),
        (Content::Media { .. }, None) | (Content::Other, _) => return Err(Ignored::NonText),
        (Content::Media { mime_type, sha256 }, Some(text)) => (text, vec![describe(mime_type, sha256, text)]),
    };

    let me = event.get("me");
    let sender_jid = if chat.ends_with("@g.us") {
        group_sender(payload, data).or_else(|| if from_me { me.and_then(|me| me.get("id")).and_then(Value::as_str) } else { None })
    } else {
        text_field("participant").or_else(|| if from_me { me.and_then(|me| me.get("id")).and_then(Value::as_str) } else { Some(chat) })
    };
    let pushed_name = data
        .and_then(|data| data.get("notifyName").or_else(|| data.get("pushName")).or_else(|| data.get("Info").and_then(|info| info.get("PushName"))))
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
            media,
        },
    })
}

/// What a WAHA message carries besides its `body`.
enum Content<'a> {
    Text,
    /// An image, video, document, audio or sticker: relayed only with a caption.
    Media {
        mime_type: Option<&'a str>,
        sha256: Option<&'a Value>,
    },
    /// Locations, polls, revoked messages…: never relayed.
    Other,
}

/// The Baileys message kinds (NOWEB's `_data.message`) that are media.
const BAILEYS_MEDIA: [&str; 6] = ["imageMessage", "videoMessage", "documentMessage", "audioMessage", "stickerMessage", "ptvMessage"];

fn content_of<'a>(payload: &'a Value, data: Option<&'a Value>) -> Result<Content<'a>, Ignored> {
    let has_media = payload.get("hasMedia").and_then(Value::as_bool).unwrap_or(false);
    let media_mime = payload.get("media").and_then(|media| media.get("mimetype")).and_then(Value::as_str);
    // WEBJS: `_data` is whatsapp-web.js's raw message: `type` ("chat",
    // "image", "video", "document", "audio", "ptt", "sticker", …), `mimetype`, `filehash`.
    if let Some(kind) = data.and_then(|data| data.get("type")).and_then(Value::as_str) {
        return Ok(match kind {
            "chat" if !has_media => Content::Text,
            "image" | "video" | "document" | "audio" | "ptt" | "sticker" | "chat" => {
                Content::Media { mime_type: media_mime.or_else(|| data.and_then(|data| data.get("mimetype")).and_then(Value::as_str)), sha256: data.and_then(|data| data.get("filehash")) }
            }
            _ => Content::Other,
        });
    }
    // NOWEB: `_data` is the Baileys message; GOWS: `_data.Message` is whatsmeow's.
    let inner = data.and_then(|data| data.get("message").or_else(|| data.get("Message")));
    let baileys = inner.and_then(unwrap_baileys).and_then(|message| BAILEYS_MEDIA.iter().find_map(|kind| message.get(*kind)));
    if has_media || baileys.is_some() {
        let mime = media_mime.or_else(|| baileys.and_then(|media| media.get("mimetype")).and_then(Value::as_str));
        let sha = baileys.and_then(|media| media.get("fileSha256").or_else(|| media.get("fileSHA256")));
        return Ok(Content::Media { mime_type: mime, sha256: sha });
    }
    Ok(Content::Text)
}

/// Baileys wraps some messages (`ephemeralMessage`, `viewOnceMessage`,
/// `documentWithCaptionMessage` …) in `{message: {…}}`.
fn unwrap_baileys(message: &Value) -> Option<&Value> {
    let mut current = message;
    for _ in 0..4 {
        let wrapped = ["ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension", "documentWithCaptionMessage"]
            .iter()
            .find_map(|wrapper| current.get(*wrapper).and_then(|wrapper| wrapper.get("message")));
        match wrapped {
            Some(inner) => current = inner,
            None => return Some(current),
        }
    }
    Some(current)
}

/// The sender of a group message on every engine:
/// - NOWEB and GOWS: the top-level `participant`;
/// - WEBJS: none at the top level; whatsapp-web.js's raw message has
///   `_data.author`, and `_data.id.participant` (a JID string, or an object
///   with `_serialized` in newer versions);
/// - the raw Baileys key (`_data.key.participant`, or `participantAlt` when
///   the participant is a hidden `@lid`), and whatsmeow's `_data.Info.Sender`.
///
/// The first that is a phone JID wins, so a `@lid` falls through to a field
/// that has the number.
fn group_sender<'a>(payload: &'a Value, data: Option<&'a Value>) -> Option<&'a str> {
    let jid = |value: Option<&'a Value>| -> Option<&'a str> {
        let value = value?;
        value.as_str().or_else(|| value.get("_serialized").and_then(Value::as_str)).filter(|jid| !jid.is_empty())
    };
    let at = |path: &[&str]| -> Option<&'a Value> { path.iter().try_fold(data?, |value, key| value.get(*key)) };
    let candidates = [
        jid(payload.get("participant")),
        jid(at(&["author"])),
        jid(at(&["id", "participant"])),
        jid(at(&["key", "participant"])),
        jid(at(&["key", "participantAlt"])),
        jid(at(&["key", "participantPn"])),
        jid(at(&["Info", "Sender"])),
        jid(at(&["Info", "SenderAlt"])),
    ];
    candidates.iter().flatten().copied().find(|jid| phone_of(jid).is_some()).or_else(|| candidates.iter().flatten().copied().next())
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
