//! The pure mapping from a Meta webhook notification to the batch the seed
//! ingest takes: every `entry[].changes[].value.messages[]` with text, a
//! caption, a reply title or media becomes one [`MessagePayload`]; delivery
//! receipts and messages with nothing to extract become bounded labels for
//! the counters. No I/O, no clock: the same notification always maps to the
//! same batch, so Meta's retries dedupe by message id like any other resend.

use super::payload::{Contact, Media, Message, Notification, Status};
use crate::ingest::{
    IngestError,
    schema::{BatchPayload, MediaPayload, MessagePayload},
};

/// The `client_id` of every Meta batch (failure log, stored batches).
pub const CLIENT_ID: &str = "meta";

/// The `status` label of `soko_meta_statuses_total`.
pub const STATUS_LABELS: [&str; 5] = ["sent", "delivered", "read", "failed", "other"];

/// The `type` label of `soko_meta_messages_skipped_total`: Meta's message
/// types, and `other` for any type this list does not know.
pub const MESSAGE_TYPES: [&str; 17] = [
    "text", "image", "video", "document", "audio", "sticker", "button", "interactive", "reaction", "location",
    "contacts", "order", "system", "request_welcome", "unsupported", "unknown", "other",
];

/// A notification as ingest sees it.
#[derive(Debug)]
pub struct MappedNotification {
    pub batch: BatchPayload,
    /// One label of [`STATUS_LABELS`] per delivery receipt.
    pub statuses: Vec<&'static str>,
    /// One label of [`MESSAGE_TYPES`] per message with nothing to store.
    pub skipped: Vec<&'static str>,
}

pub fn map_notification(notification: Notification) -> Result<MappedNotification, IngestError> {
    let mut mapped = MappedNotification {
        batch: BatchPayload { client_id: CLIENT_ID.to_owned(), messages: Vec::new() },
        statuses: Vec::new(),
        skipped: Vec::new(),
    };
    for (i, entry) in notification.entry.into_iter().enumerate() {
        for (j, change) in entry.changes.into_iter().enumerate() {
            let Some(value) = change.value else { continue };
            let at = |field: &str| format!("entry[{i}].changes[{j}].value.{field}");
            mapped.statuses.extend(value.statuses.iter().map(status_label));
            if value.messages.is_empty() {
                continue;
            }
            let phone_number_id = value.metadata.and_then(|m| m.phone_number_id).map(|id| id.trim().to_owned());
            let Some(phone_number_id) = phone_number_id.filter(|id| !id.is_empty()) else {
                return Err(schema_error(at("metadata.phone_number_id"), "is required with messages"));
            };
            for (k, message) in value.messages.into_iter().enumerate() {
                for (field, text) in [("from", &message.from), ("id", &message.id)] {
                    if text.trim().trim_start_matches('+').is_empty() {
                        return Err(schema_error(at(&format!("messages[{k}].{field}")), "must not be empty"));
                    }
                }
                let kind = type_label(message.kind.as_deref());
                match map_message(&phone_number_id, &value.contacts, message) {
                    Some(payload) => mapped.batch.messages.push(payload),
                    None => mapped.skipped.push(kind),
                }
            }
        }
    }
    Ok(mapped)
}

/// `None` when the message carries no text, caption, reply title or media.
fn map_message(phone_number_id: &str, contacts: &[Contact], message: Message) -> Option<MessagePayload> {
    let text = text_of(&message);
    let media = media_of(&message);
    if text.is_none() && media.is_empty() {
        return None;
    }
    let wa_id = message.from.trim().trim_start_matches('+').to_owned();
    let sender = format!("+{wa_id}");
    let sender_name = contacts
        .iter()
        .find(|contact| contact.wa_id.as_deref().map(|id| id.trim().trim_start_matches('+')) == Some(wa_id.as_str()))
        .and_then(|contact| contact.profile.as_ref()?.name.as_deref())
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    Some(MessagePayload {
        chat_id: Some(format!("meta:{phone_number_id}:{wa_id}")),
        // A 1:1 conversation has no title of its own: the customer's name, or number.
        chat_title: sender_name.clone().unwrap_or_else(|| sender.clone()),
        sender: Some(sender),
        sender_name,
        message_id: Some(message.id.trim().to_owned()),
        timestamp: message.timestamp,
        text,
        media: (!media.is_empty()).then_some(media),
    })
}

/// The body, else a caption, else what the customer tapped.
fn text_of(message: &Message) -> Option<String> {
    let captions = [&message.image, &message.video, &message.document].into_iter().flatten().map(|m| &m.caption);
    let replies = message.interactive.iter().flat_map(|i| [&i.button_reply, &i.list_reply]).flatten().map(|r| &r.title);
    std::iter::once(message.text.as_ref().and_then(|t| t.body.as_ref()))
        .chain(captions.map(Option::as_ref))
        .chain(std::iter::once(message.button.as_ref().and_then(|b| b.text.as_ref())))
        .chain(replies.map(Option::as_ref))
        .flatten()
        .find(|text| !text.trim().is_empty())
        .cloned()
}

/// `{kind, id, mime_type, sha256}` of each attached file (the caption is the text).
fn media_of(message: &Message) -> Vec<MediaPayload> {
    let attached: [(&str, &Option<Media>); 5] = [
        ("image", &message.image),
        ("video", &message.video),
        ("document", &message.document),
        ("audio", &message.audio),
        ("sticker", &message.sticker),
    ];
    attached
        .into_iter()
        .filter_map(|(kind, media)| media.as_ref().map(|media| (kind, media)))
        .filter(|(_, media)| media.id.is_some() || media.sha256.is_some())
        .map(|(kind, media)| MediaPayload {
            kind: Some(kind.to_owned()),
            id: media.id.clone(),
            mime_type: media.mime_type.clone(),
            sha256: media.sha256.clone(),
            ..MediaPayload::default()
        })
        .collect()
}

fn status_label(status: &Status) -> &'static str {
    let reported = status.status.as_deref().unwrap_or_default();
    STATUS_LABELS.into_iter().find(|label| *label == reported && *label != "other").unwrap_or("other")
}

fn type_label(kind: Option<&str>) -> &'static str {
    let kind = kind.unwrap_or_default();
    MESSAGE_TYPES.into_iter().find(|label| *label == kind).unwrap_or("other")
}

fn schema_error(path: String, detail: &str) -> IngestError {
    IngestError::Schema { path, detail: detail.to_owned() }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
