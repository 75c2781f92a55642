//! The WhatsApp Cloud API's webhook notification as JSON, as far as the
//! gateway reads it: `entry[].changes[].value` with its `metadata`,
//! `contacts`, `messages` and `statuses`. Every field the mapping does not
//! need is ignored and every list may be absent, so other webhook fields
//! (template updates, account alerts) parse and simply carry no messages.
//! Shapes: <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples>.

use serde::Deserialize;

use crate::ingest::schema::TimestampValue;

#[derive(Debug, Default, Deserialize)]
pub struct Notification {
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub value: Option<ChangeValue>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

/// The business phone number the notification is for.
#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub phone_number_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub wa_id: Option<String>,
    #[serde(default)]
    pub profile: Option<Profile>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

/// One inbound message. `type` says which of the content objects is set.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// The customer's WhatsApp id: international digits without `+`.
    pub from: String,
    /// The `wamid.…` id; Meta's retries repeat it.
    pub id: String,
    #[serde(default)]
    pub timestamp: Option<TimestampValue>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<Text>,
    #[serde(default)]
    pub image: Option<Media>,
    #[serde(default)]
    pub video: Option<Media>,
    #[serde(default)]
    pub document: Option<Media>,
    #[serde(default)]
    pub audio: Option<Media>,
    #[serde(default)]
    pub sticker: Option<Media>,
    #[serde(default)]
    pub button: Option<Button>,
    #[serde(default)]
    pub interactive: Option<Interactive>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub body: Option<String>,
}

/// An uploaded file: Meta's media id (for the Graph API), its type and digest.
#[derive(Debug, Default, Deserialize)]
pub struct Media {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
}

/// A tap on a template's quick-reply button.
#[derive(Debug, Default, Deserialize)]
pub struct Button {
    #[serde(default)]
    pub text: Option<String>,
}

/// A reply to an interactive message: a button or a list row.
#[derive(Debug, Default, Deserialize)]
pub struct Interactive {
    #[serde(default)]
    pub button_reply: Option<Reply>,
    #[serde(default)]
    pub list_reply: Option<Reply>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub title: Option<String>,
}

/// A delivery receipt for a message the business sent.
#[derive(Debug, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub status: Option<String>,
}
