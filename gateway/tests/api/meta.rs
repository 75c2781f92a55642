//! The WhatsApp Cloud API webhook against a real gateway: the subscription
//! handshake, signed notifications stored and extracted into offers like a
//! collector's batch, refusals that store nothing, receipts and skipped
//! types counted, Meta's redeliveries deduped. Payloads are the documented
//! shapes in `tests/fixtures/meta/`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::helpers::{Answer, TOKEN, TestApp, spawn_app, spawn_app_with};

const APP_SECRET: &str = "6f1e2d3c4b5a69788796a5b4c3d2e1f0";
const NEXT_SECRET: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const VERIFY_TOKEN: &str = "soko-meta-verify";
const ROUTE: &str = "/integrations/whatsapp/meta";
const CHAT: &str = "meta:106540352242922:16505551234";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../fixtures/meta/", $name))
    };
}

/// Meta on, and a debounce long enough that only the manual run extracts.
async fn spawn_meta_app() -> TestApp {
    let secrets = format!("{APP_SECRET},{NEXT_SECRET}");
    spawn_app_with(&[
        ("META_APP_SECRET", secrets.as_str()),
        ("META_VERIFY_TOKEN", VERIFY_TOKEN),
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "600"),
        ("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "600"),
    ])
    .await
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl TestApp {
    /// Posts a notification as Meta does: JSON, signed with `secret`.
    async fn post_meta(&self, body: &str, secret: &str) -> Answer {
        let signed = signature(secret, body.as_bytes());
        let headers = [("content-type", "application/json"), ("x-hub-signature-256", signed.as_str())];
        self.post_with(ROUTE, &headers, body.to_owned()).await
    }
}

fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn the_challenge_is_echoed_only_for_the_right_verify_token() {
    let app = spawn_meta_app().await;
    let path = |token: &str, mode: &str| format!("{ROUTE}?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444");
    let response = app.client.get(app.url(&path(VERIFY_TOKEN, "subscribe"))).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(response.text().await.expect("text"), "1158201444");
    for refused in [path("wrong-token", "subscribe"), path(VERIFY_TOKEN, "unsubscribe"), format!("{ROUTE}?hub.mode=subscribe&hub.challenge=1"), format!("{ROUTE}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}")] {
        let answer = app.get(&refused).await;
        assert_eq!((answer.status, answer.error_code()), (403, "forbidden"), "{refused}: {:?}", answer.body);
        assert!(answer.body["error"]["request_id"].is_string(), "the one error shape");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_meta_routes_answer_404_without_an_app_secret() {
    let app = spawn_app().await;
    let challenge = app.get(&format!("{ROUTE}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")).await;
    assert_eq!((challenge.status, challenge.error_code()), (404, "not_found"));
    let body = fixture!("text.json");
    let posted = app.post_meta(body, APP_SECRET).await;
    assert_eq!((posted.status, posted.error_code()), (404, "not_found"));
    assert_eq!(app.count_messages().await, 0);
    assert!(!app.get_text("/metrics").await.contains("soko_meta_"), "no Meta series while it is off");
    app.finish().await;
}

#[tokio::test]
async fn signed_text_and_image_messages_are_stored_and_extracted_into_offers() {
    let app = spawn_meta_app().await;
    let text = app.post_meta(fixture!("text.json"), APP_SECRET).await;
    assert_eq!(text.status, 200, "{:?}", text.body);
    assert_eq!((text.body["accepted"].as_i64(), text.body["created"].as_i64(), text.body["deduped"].as_i64()), (Some(1), Some(1), Some(0)));
    assert_eq!(text.body["messages"][0]["status"], "created");
    // The second app secret (rotation) signs the image.
    let image = app.post_meta(fixture!("image_caption.json"), NEXT_SECRET).await;
    assert_eq!((image.status, image.body["created"].as_i64()), (200, Some(1)), "{:?}", image.body);
    let stored = app
        .db
        .query_texts(&format!(
            "SELECT chat_id, sender, sender_name, message_id, text, media_json FROM messages WHERE chat_id = '{CHAT}' AND media_json IS NOT NULL"
        ))
        .await;
    assert_eq!(stored[..5], [
        Some(CHAT.to_owned()),
        Some("+16505551234".to_owned()),
        Some("Sheena Nelson".to_owned()),
        Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUNDMzg2RkE3NkYyODgwMjkyOAA=".to_owned()),
        Some("Tecno Spark 20 - 14,000".to_owned()),
    ]);
    let media: serde_json::Value = serde_json::from_str(stored[5].as_deref().unwrap_or_default()).expect("media json");
    assert_eq!(media, serde_json::json!([{"kind": "image", "id": "1003383421387256", "mime_type": "image/jpeg", "sha256": "4i4P6xyfVfTbp4Ya2V4sufeW7lOXCALFoQsWmpoqWcw="}]));
    let extracted = app.post_with(&format!("/integrations/whatsapp/chats/{CHAT}/extract-latest"), &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!(extracted.status, 200, "{:?}", extracted.body);
    assert_eq!(extracted.body["report"]["messages_new"], 2);
    let mut offers: Vec<(String, String)> = extracted.body["offers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (o["title"].as_str().unwrap_or_default().to_owned(), o["price"].as_str().unwrap_or_default().to_owned()))
        .collect();
    offers.sort();
    assert_eq!(offers, [("Samsung A15".to_owned(), "18500".to_owned()), ("Tecno Spark 20".to_owned(), "14000".to_owned())]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers").await, [2]);
    let metrics = app.get_text("/metrics").await;
    assert_eq!(metric_value(&metrics, r#"soko_meta_requests_total{outcome="accepted"}"#), Some(2.0));
    assert_eq!(metric_value(&metrics, r#"soko_ingest_messages_total{result="created"}"#), Some(2.0));
    app.finish().await;
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_nothing_is_stored() {
    let app = spawn_meta_app().await;
    let body = fixture!("text.json");
    let wrong_secret = app.post_meta(body, "ffffffffffffffffffffffffffffffff").await;
    let tampered = {
        let headers = [("content-type", "application/json"), ("x-hub-signature-256", &*signature(APP_SECRET, body.as_bytes()))];
        app.post_with(ROUTE, &headers, body.replace("18,500", "1,850")).await
    };
    let unsigned = app.post_with(ROUTE, &[("content-type", "application/json")], body.to_owned()).await;
    for answer in [&wrong_secret, &tampered, &unsigned] {
        assert_eq!((answer.status, answer.error_code(), answer.error_message()), (403, "invalid_signature", "invalid signature"));
    }
    assert_eq!(app.count_messages().await, 0);
    let metrics = app.get_text("/metrics").await;
    assert_eq!(metric_value(&metrics, r#"soko_meta_requests_total{outcome="invalid_signature"}"#), Some(3.0));
    app.finish().await;
}

#[tokio::test]
async fn receipts_and_reactions_are_counted_and_not_stored() {
    let app = spawn_meta_app().await;
    let statuses = app.post_meta(fixture!("statuses.json"), APP_SECRET).await;
    assert_eq!(statuses.status, 200, "{:?}", statuses.body);
    assert_eq!((statuses.body["accepted"].as_i64(), statuses.body["created"].as_i64(), statuses.body["statuses"].as_i64()), (Some(0), Some(0), Some(3)));
    let reactions = app.post_meta(fixture!("reaction.json"), APP_SECRET).await;
    assert_eq!((reactions.status, reactions.body["accepted"].as_i64(), reactions.body["skipped"].as_i64()), (200, Some(0), Some(2)));
    assert_eq!(app.count_messages().await, 0);
    let metrics = app.get_text("/metrics").await;
    for (series, value) in [
        (r#"soko_meta_statuses_total{status="delivered"}"#, 1.0),
        (r#"soko_meta_statuses_total{status="read"}"#, 1.0),
        (r#"soko_meta_statuses_total{status="failed"}"#, 1.0),
        (r#"soko_meta_statuses_total{status="sent"}"#, 0.0),
        (r#"soko_meta_messages_skipped_total{type="reaction"}"#, 1.0),
        (r#"soko_meta_messages_skipped_total{type="location"}"#, 1.0),
    ] {
        assert_eq!(metric_value(&metrics, series), Some(value), "{series}");
    }
    assert!(!metrics.contains("16505551234"), "no phone number in a label");
    app.finish().await;
}

#[tokio::test]
async fn a_redelivered_notification_answers_200_and_stores_nothing_new() {
    let app = spawn_meta_app().await;
    let first = app.post_meta(fixture!("text.json"), APP_SECRET).await;
    let again = app.post_meta(fixture!("text.json"), APP_SECRET).await;
    assert_eq!((first.status, first.body["created"].as_i64()), (200, Some(1)));
    assert_eq!((again.status, again.body["created"].as_i64(), again.body["deduped"].as_i64()), (200, Some(0), Some(1)));
    assert_eq!(again.body["messages"][0]["status"], "duplicate");
    assert_eq!(again.body["messages"][0]["id"], first.body["messages"][0]["id"]);
    // Meta retries with the same id even when the text differs (an edit is not a new message).
    let edited = fixture!("text.json").replace("18,500", "18,000");
    assert_eq!(app.post_meta(&edited, APP_SECRET).await.body["deduped"].as_i64(), Some(1));
    assert_eq!(app.count_messages().await, 1);
    app.finish().await;
}

#[tokio::test]
async fn malformed_and_mistyped_notifications_get_the_usual_errors() {
    let app = spawn_meta_app().await;
    let malformed = app.post_meta(r#"{"entry": [ "#, APP_SECRET).await;
    assert_eq!((malformed.status, malformed.error_code()), (400, "malformed_json"));
    let mistyped = app.post_meta(r#"{"entry":[{"changes":[{"value":{"messages":[{"from":16505551234,"id":"x"}]}}]}]}"#, APP_SECRET).await;
    assert_eq!((mistyped.status, mistyped.error_code()), (422, "invalid_payload"), "{:?}", mistyped.body);
    assert_eq!(app.count_messages().await, 0);
    app.finish().await;
}
