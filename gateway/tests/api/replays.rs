//! A signed request replayed within the signature TTL creates nothing new,
//! whether its messages carry upstream ids or not; and an empty message (no
//! text, no caption, no media) is refused on its own and never stored.

use chrono::Utc;
use collector_client::message::{IngestMedia, IngestMessage};

use crate::helpers::{Answer, TestApp, batch, message, signed_headers, spawn_app, SECRET};

/// Rows a replay could add to.
async fn rows(app: &TestApp) -> (i64, i64) {
    let messages = app.count_messages().await;
    let chats = app.db.query_i64("SELECT COUNT(*) FROM chats").await.first().copied().unwrap_or(-1);
    (messages, chats)
}

/// Sends the same bytes with the same signed headers, as an eavesdropper would.
async fn send_twice(app: &TestApp, messages: Vec<IngestMessage>) -> (Answer, (i64, i64), Answer) {
    let body = serde_json::to_vec(&batch("replayed", messages)).expect("serialise");
    let headers = signed_headers(&body, &Utc::now().timestamp().to_string(), SECRET);
    let original = app.post_raw(body.clone(), &headers).await;
    assert_eq!(original.status, 200, "{:?}", original.body);
    let before = rows(app).await;
    let replay = app.post_raw(body, &headers).await;
    (original, before, replay)
}

fn statuses(answer: &Answer) -> Vec<String> {
    answer.body["messages"].as_array().into_iter().flatten().filter_map(|m| m["status"].as_str().map(str::to_owned)).collect()
}

fn placeholder() -> IngestMessage {
    IngestMessage { media: vec![IngestMedia::default()], ..IngestMessage { chat_title: "Replay Chat".into(), ..IngestMessage::default() } }
}

#[tokio::test]
async fn a_replayed_batch_with_message_ids_creates_nothing() {
    let app = spawn_app().await;
    let with_id = |text: &str, id: &str| IngestMessage { message_id: Some(id.into()), ..message("Replay Chat", text) };
    let with_ids = vec![
        with_id("Samsung A15 18,500", "3EB0R1"),
        with_id("Samsung A25 27,000", "3EB0R2"),
        IngestMessage { message_id: Some("3EB0R3".into()), ..placeholder() },
    ];
    let (original, before, replay) = send_twice(&app, with_ids).await;
    assert_eq!(original.body["created"], 3);
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!((replay.body["created"].as_i64(), replay.body["deduped"].as_i64()), (Some(0), Some(3)));
    assert_eq!(rows(&app).await, before);
    assert_eq!(before.0, 3);
    app.finish().await;
}

#[tokio::test]
async fn a_replayed_batch_without_message_ids_creates_nothing() {
    let app = spawn_app().await;
    let without_ids = vec![
        message("Replay Chat", "Tecno Spark 20 @ 14500"),
        IngestMessage { sender: Some("+254712345678".into()), ..placeholder() },
        IngestMessage { media: vec![IngestMedia { url: Some("https://mmg.whatsapp.net/r".into()), ..IngestMedia::default() }], ..placeholder() },
    ];
    let (original, before, replay) = send_twice(&app, without_ids).await;
    assert_eq!(original.body["created"], 3);
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!(statuses(&replay), ["duplicate", "duplicate", "duplicate"]);
    assert_eq!(rows(&app).await, before);
    assert_eq!(before.0, 3);
    app.finish().await;
}

#[tokio::test]
async fn empty_messages_are_refused_one_by_one_and_never_stored() {
    let app = spawn_app().await;
    let empty = || IngestMessage { chat_title: "Replay Chat".into(), ..IngestMessage::default() };
    let blank = IngestMessage { text: Some(" \n\t ".into()), message_id: Some("3EB0BLANK".into()), ..empty() };
    let (original, before, replay) = send_twice(&app, vec![empty(), message("Replay Chat", "Sofa 60k"), blank]).await;
    assert_eq!(statuses(&original), ["refused", "created", "refused"]);
    let reasons: Vec<_> = original.body["messages"].as_array().into_iter().flatten().map(|m| m["reason"].as_str()).collect();
    assert_eq!(reasons, [Some("empty_message"), None, Some("empty_message")]);
    assert_eq!(original.body["messages"][0]["id"], serde_json::Value::Null);
    let counts = |a: &Answer| ["accepted", "created", "deduped", "refused"].map(|k| a.body[k].as_i64().unwrap_or(-1));
    assert_eq!(counts(&original), [1, 1, 0, 2]);
    assert_eq!(before.0, 1, "only the message with text is stored");
    assert_eq!(statuses(&replay), ["refused", "duplicate", "refused"]);
    assert_eq!(rows(&app).await, before);

    let only_empty = serde_json::to_vec(&batch("replayed", vec![empty()])).expect("serialise");
    let headers = signed_headers(&only_empty, &Utc::now().timestamp().to_string(), SECRET);
    let answer = app.post_raw(only_empty, &headers).await;
    assert_eq!((answer.status, counts(&answer)), (200, [0, 0, 0, 1]));
    assert_eq!(app.count_messages().await, 1);
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains(r#"soko_ingest_messages_total{result="refused"} 5"#), "{metrics}");
    app.finish().await;
}
