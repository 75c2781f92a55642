//! Dedupe by upstream message id and by content hash inside the window,
//! atomic under concurrency, and intact across restarts.

use collector_client::message::IngestMessage;

use crate::helpers::{batch, message, spawn_app, spawn_app_with, start_on};

fn with_id(chat: &str, text: &str, id: &str) -> IngestMessage {
    IngestMessage { message_id: Some(id.into()), sender: Some("+254712345678".into()), ..message(chat, text) }
}

#[tokio::test]
async fn fifty_concurrent_identical_posts_create_exactly_one_message() {
    let app = spawn_app().await;
    let body = batch("racer", vec![with_id("Race Chat", "Samsung A15 - 18,500", "3EB0RACE")]);
    let answers = futures_util::future::join_all((0..50).map(|_| app.post_ingest(&body))).await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let created: i64 = answers.iter().filter_map(|a| a.body["created"].as_i64()).sum();
    let deduped: i64 = answers.iter().filter_map(|a| a.body["deduped"].as_i64()).sum();
    assert_eq!((created, deduped), (1, 49));
    let ids: std::collections::HashSet<i64> = answers.iter().filter_map(|a| a.body["messages"][0]["id"].as_i64()).collect();
    assert_eq!(ids.len(), 1, "every duplicate points at the one stored message");
    assert_eq!(app.count_messages().await, 1);
    app.finish().await;
}

#[tokio::test]
async fn fifty_concurrent_posts_without_message_ids_also_create_one() {
    let app = spawn_app().await;
    let body = batch("racer", vec![message("Race Chat", "Tecno Spark 20 @ 14500")]);
    let answers = futures_util::future::join_all((0..50).map(|_| app.post_ingest(&body))).await;
    let created: i64 = answers.iter().filter_map(|a| a.body["created"].as_i64()).sum();
    assert_eq!(created, 1);
    assert_eq!(app.count_messages().await, 1);
    app.finish().await;
}

#[tokio::test]
async fn a_known_message_id_is_a_duplicate_even_with_new_text() {
    let app = spawn_app().await;
    let first = app.post_ingest(&batch("c", vec![with_id("Chat", "Fridge 300L 45k", "wamid.A1")])).await;
    let edited = app.post_ingest(&batch("c", vec![with_id("Chat", "Fridge 300L 44k (edited)", "wamid.A1")])).await;
    assert_eq!(first.body["created"], 1);
    assert_eq!(edited.body["messages"][0]["status"], "duplicate");
    assert_eq!(edited.body["messages"][0]["id"], first.body["messages"][0]["id"]);
    // The same upstream id in another chat is another message.
    let other_chat = app.post_ingest(&batch("c", vec![with_id("Other Chat", "Fridge 300L 45k", "wamid.A1")])).await;
    assert_eq!(other_chat.body["created"], 1);
    app.finish().await;
}

#[tokio::test]
async fn duplicates_inside_one_batch_are_caught_in_order() {
    let app = spawn_app().await;
    let answer = app
        .post_ingest(&batch("c", vec![message("Chat", "Cooker 4 burner 23k"), message("Chat", "Cooker  4 burner 23k "), message("Chat", "Oven 9k")]))
        .await;
    let statuses: Vec<&str> = answer.body["messages"].as_array().into_iter().flatten().filter_map(|m| m["status"].as_str()).collect();
    assert_eq!(statuses, ["created", "duplicate", "created"]);
    assert_eq!(answer.body["messages"][1]["id"], answer.body["messages"][0]["id"]);
    app.finish().await;
}

#[tokio::test]
async fn content_duplicates_expire_with_the_window() {
    // 0.0004 h is 1.44 s: the window logic itself is unit-tested with explicit
    // clocks; this checks the wiring end to end.
    let app = spawn_app_with(&[("WHATSAPP_CONTENT_HASH_WINDOW_HOURS", "0.0004")]).await;
    let body = batch("c", vec![message("Chat", "Daily special: mandazi 10 bob")]);
    assert_eq!(app.post_ingest(&body).await.body["created"], 1);
    assert_eq!(app.post_ingest(&body).await.body["created"], 0);
    tokio::time::sleep(std::time::Duration::from_millis(1_700)).await;
    assert_eq!(app.post_ingest(&body).await.body["created"], 1, "outside the window the same content is new");
    assert_eq!(app.count_messages().await, 2);
    app.finish().await;
}

#[tokio::test]
async fn dedupe_survives_a_restart() {
    let app = spawn_app().await;
    let with_ids = batch("c", vec![with_id("Chat", "TV 43 inch 32k", "3EB0TV"), message("Chat", "Sofa set 5 seater 60k")]);
    assert_eq!(app.post_ingest(&with_ids).await.body["created"], 2);
    let db = app.stop().await;
    let restarted = start_on(db, &[]).await;
    let again = restarted.post_ingest(&with_ids).await;
    assert_eq!((again.body["created"].as_i64(), again.body["deduped"].as_i64()), (Some(0), Some(2)));
    assert_eq!(restarted.count_messages().await, 2);
    restarted.finish().await;
}

#[tokio::test]
async fn media_placeholders_without_content_are_told_apart_by_id() {
    let app = spawn_app().await;
    let placeholder = |id: &str| IngestMessage {
        message_id: Some(id.into()),
        sender: Some("+254712345678".into()),
        media: vec![collector_client::message::IngestMedia { caption: None, ..Default::default() }],
        ..IngestMessage { chat_title: "Export Chat".into(), ..IngestMessage::default() }
    };
    let answer = app.post_ingest(&batch("export", vec![placeholder("e1"), placeholder("e2"), placeholder("e3"), placeholder("e1")])).await;
    let statuses: Vec<&str> = answer.body["messages"].as_array().into_iter().flatten().filter_map(|m| m["status"].as_str()).collect();
    assert_eq!(statuses, ["created", "created", "created", "duplicate"]);
    app.finish().await;
}
