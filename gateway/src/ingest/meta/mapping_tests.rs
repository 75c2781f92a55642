//! The mapping on Meta's documented notification shapes (fixtures in
//! `gateway/tests/fixtures/meta/`), plus the edge cases a retrying sender
//! can produce.

use super::*;
use crate::ingest::schema::{self, upstream_time};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/meta/", $name))
    };
}

fn map(json: &str) -> MappedNotification {
    let notification: Notification = schema::parse_json(json.as_bytes()).unwrap_or_else(|e| panic!("fixture parses: {e}"));
    map_notification(notification).unwrap_or_else(|e| panic!("fixture maps: {e}"))
}

fn media_json(message: &MessagePayload) -> serde_json::Value {
    serde_json::to_value(message.media.as_ref()).unwrap_or_default()
}

#[test]
fn a_text_message_becomes_one_message_of_the_customer_chat() {
    let mapped = map(fixture!("text.json"));
    assert_eq!((mapped.statuses.len(), mapped.skipped.len()), (0, 0));
    assert_eq!(mapped.batch.client_id, "meta");
    let [message] = mapped.batch.messages.as_slice() else { panic!("one message: {mapped:?}") };
    assert_eq!(message.chat_id.as_deref(), Some("meta:106540352242922:16505551234"));
    assert_eq!(message.sender.as_deref(), Some("+16505551234"));
    assert_eq!(message.sender_name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(message.chat_title, "Sheena Nelson");
    assert_eq!(message.message_id.as_deref(), Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="));
    assert_eq!(message.text.as_deref(), Some("Samsung A15 - 18,500"));
    assert_eq!(message.timestamp.as_ref().and_then(upstream_time).map(|t| t.timestamp()), Some(1_749_416_383));
    assert!(message.media.is_none());
    schema::check_batch(&mapped.batch, 10).expect("the mapped batch passes the seed's own rules");
}

#[test]
fn an_image_keeps_its_caption_as_text_and_its_file_as_media() {
    let mapped = map(fixture!("image_caption.json"));
    let [message] = mapped.batch.messages.as_slice() else { panic!("one message: {mapped:?}") };
    assert_eq!(message.text.as_deref(), Some("Tecno Spark 20 - 14,000"));
    assert_eq!(
        media_json(message),
        serde_json::json!([{
            "kind": "image",
            "id": "1003383421387256",
            "mime_type": "image/jpeg",
            "sha256": "4i4P6xyfVfTbp4Ya2V4sufeW7lOXCALFoQsWmpoqWcw="
        }]),
        "kind, id, mime type and digest; never Meta's short-lived download URL"
    );
}

#[test]
fn interactive_replies_are_stored_with_the_tapped_title_and_the_right_contact() {
    let mapped = map(fixture!("interactive_reply.json"));
    let found: Vec<_> = mapped
        .batch
        .messages
        .iter()
        .map(|m| (m.text.as_deref(), m.sender_name.as_deref(), m.chat_id.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (Some("Change"), Some("Sheena Nelson"), Some("meta:106540352242922:16505551234")),
            (Some("Express Shipping"), Some("Pablo Morales"), Some("meta:106540352242922:16505553333")),
        ]
    );
}

#[test]
fn reactions_and_locations_are_skipped_and_labelled_by_type() {
    let mapped = map(fixture!("reaction.json"));
    assert!(mapped.batch.messages.is_empty(), "{mapped:?}");
    assert_eq!(mapped.skipped, ["reaction", "location"]);
}

#[test]
fn a_statuses_only_callback_is_counted_and_stores_nothing() {
    let mapped = map(fixture!("statuses.json"));
    assert!(mapped.batch.messages.is_empty());
    assert_eq!(mapped.statuses, ["delivered", "read", "failed"]);
    assert!(mapped.skipped.is_empty());
}

#[test]
fn labels_stay_in_their_bounded_sets() {
    let json = r#"{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},
        "statuses":[{"status":"deleted"},{"status":"other"},{}],
        "messages":[{"from":"2","id":"a","type":"a-type-from-the-future"},{"from":"2","id":"b","type":"text","text":{"body":"  "}},{"from":"2","id":"c"}]}}]}]}"#;
    let mapped = map(json);
    assert_eq!(mapped.statuses, ["other", "other", "other"]);
    assert_eq!(mapped.skipped, ["other", "text", "other"]);
    assert!(mapped.statuses.iter().all(|l| STATUS_LABELS.contains(l)));
    assert!(mapped.skipped.iter().all(|l| MESSAGE_TYPES.contains(l)));
}

#[test]
fn buttons_documents_and_audio_map_like_the_other_types() {
    let json = r#"{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},"messages":[
        {"from":"254712345678","id":"b","timestamp":"1","type":"button","button":{"text":"Yes, reserve it","payload":"RESERVE"}},
        {"from":"254712345678","id":"d","type":"document","document":{"caption":"Price list","filename":"prices.pdf","mime_type":"application/pdf","sha256":"x","id":"9"}},
        {"from":"254712345678","id":"v","type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"y","id":"8","voice":true}}]}}]}]}"#;
    let mapped = map(json);
    let texts: Vec<_> = mapped.batch.messages.iter().map(|m| m.text.as_deref()).collect();
    assert_eq!(texts, [Some("Yes, reserve it"), Some("Price list"), None]);
    assert_eq!(media_json(&mapped.batch.messages[2])[0]["kind"], "audio", "a voice note has media: stored");
    assert_eq!(mapped.batch.messages[0].chat_title, "+254712345678", "no contact: the number is the title");
    assert!(mapped.skipped.is_empty());
}

#[test]
fn messages_without_the_business_number_or_an_id_are_schema_errors() {
    let missing_metadata = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"2","id":"a","text":{"body":"hi"}}]}}]}]}"#;
    let notification: Notification = schema::parse_json(missing_metadata.as_bytes()).expect("parses");
    match map_notification(notification) {
        Err(IngestError::Schema { path, .. }) => assert_eq!(path, "entry[0].changes[0].value.metadata.phone_number_id"),
        other => panic!("expected a schema error, got {other:?}"),
    }
    let empty_id = r#"{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"2","id":" "}]}}]}]}"#;
    let notification: Notification = schema::parse_json(empty_id.as_bytes()).expect("parses");
    assert!(matches!(map_notification(notification), Err(IngestError::Schema { path, .. }) if path.ends_with("messages[0].id")));
    let missing_from = r#"{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},"messages":[{"id":"a"}]}}]}]}"#;
    assert!(matches!(schema::parse_json::<Notification>(missing_from.as_bytes()), Err(IngestError::Schema { .. })));
}

#[test]
fn other_webhook_fields_and_empty_objects_map_to_nothing() {
    for json in [r#"{}"#, r#"{"object":"whatsapp_business_account","entry":[]}"#, r#"{"entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}"#] {
        let mapped = map(json);
        assert!(mapped.batch.messages.is_empty() && mapped.statuses.is_empty() && mapped.skipped.is_empty(), "{json}");
    }
}

#[test]
fn the_same_notification_always_maps_to_the_same_batch() {
    let first = map(fixture!("image_caption.json"));
    let again = map(fixture!("image_caption.json"));
    assert_eq!(format!("{:?}", first.batch), format!("{:?}", again.batch));
}
