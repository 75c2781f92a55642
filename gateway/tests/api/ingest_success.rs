//! The happy path of `POST /integrations/whatsapp/ingest`.

use collector_client::message::{IngestMedia, IngestMessage};

use crate::helpers::{batch, message, spawn_app, spawn_app_with};

const SMOKE_BODY: &str = r#"{"client_id":"smoke","messages":[{"chat_title":"Smoke Chat","text":"Pixel 8 Pro - $750"}]}"#;

#[tokio::test]
async fn the_seed_smoke_body_is_stored_and_answered_with_its_request_id() {
    let app = spawn_app().await;
    let answer = app.post_signed_body(SMOKE_BODY.as_bytes().to_vec(), "test-token", "super-secret").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["accepted"], 1);
    assert_eq!(answer.body["created"], 1);
    assert_eq!(answer.body["deduped"], 0);
    assert_eq!(answer.body["messages"][0]["index"], 0);
    assert_eq!(answer.body["messages"][0]["status"], "created");
    let id = answer.body["messages"][0]["id"].as_i64().expect("numeric id");
    let request_id = answer.body["request_id"].as_str().expect("request id");
    assert_eq!(answer.header("x-request-id"), Some(request_id));
    assert_eq!(answer.header("x-ratelimit-limit"), Some("1000"));
    let stored = app.db.query_i64(&format!("SELECT id FROM messages WHERE id = {id}")).await;
    assert_eq!(stored, [id]);
    let texts = app.db.query_i64("SELECT COUNT(*) FROM messages WHERE text = 'Pixel 8 Pro - $750' AND chat_id LIKE 'chat-%'").await;
    assert_eq!(texts, [1]);
    app.finish().await;
}

#[tokio::test]
async fn a_supplied_request_id_is_kept_in_the_answer() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&batch("c", vec![message("Chat", "hello")])).expect("json");
    let mut headers = crate::helpers::signed_headers(&body, &collector_client::signing::format_timestamp(chrono::Utc::now()), "super-secret");
    headers.push(("x-request-id", "trace-abc.123".into()));
    let answer = app.post_raw(body, &headers).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["request_id"], "trace-abc.123");
    assert_eq!(answer.header("x-request-id"), Some("trace-abc.123"));
    app.finish().await;
}

#[tokio::test]
async fn every_field_is_stored_normalised() {
    let app = spawn_app().await;
    let full = IngestMessage {
        chat_id: Some("120363025246125486@G.US".into()),
        chat_title: "Nairobi Phones".into(),
        sender: Some("254712345678@s.whatsapp.net".into()),
        sender_name: Some("Mama Mboga".into()),
        message_id: Some("3EB0C767D26A1D2F4A8B".into()),
        timestamp: Some(serde_json::json!(1_795_334_400)),
        text: Some("Samsung A15 128GB 18,500".into()),
        media: vec![IngestMedia { url: Some("https://mmg.whatsapp.net/x".into()), mime_type: Some("image/jpeg".into()), sha256: Some("AB12".into()), caption: Some("new".into()) }],
    };
    let answer = app.post_ingest(&batch("collector-1", vec![full])).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let id = answer.body["messages"][0]["id"].as_i64().expect("id");
    let checks = [
        format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND chat_id = '120363025246125486@g.us'"),
        format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND sender = '+254712345678' AND sender_name = 'Mama Mboga'"),
        format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND upstream_ts_ms = 1795334400000 AND message_id = '3EB0C767D26A1D2F4A8B'"),
        format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND media_json LIKE '%image/jpeg%' AND client_id = 'collector-1'"),
        "SELECT COUNT(*) FROM chats WHERE id = '120363025246125486@g.us' AND title = 'Nairobi Phones' AND extract_due_at_ms IS NOT NULL".into(),
        "SELECT request_count FROM clients WHERE id = 'collector-1'".into(),
    ];
    for check in checks {
        assert_eq!(app.db.query_i64(&check).await, [1], "{check}");
    }
    app.finish().await;
}

#[tokio::test]
async fn token_only_mode_accepts_unsigned_bodies() {
    let app = spawn_app_with(&[("WHATSAPP_INGEST_HMAC_SECRET", "")]).await;
    let headers = [("content-type", "application/json".to_owned()), ("x-ingest-token", "test-token".to_owned())];
    let answer = app.post_raw(SMOKE_BODY, &headers).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let wrong = app.post_raw(SMOKE_BODY, &[("content-type", "application/json".to_owned()), ("x-ingest-token", "nope".to_owned())]).await;
    assert_eq!(wrong.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn an_empty_batch_is_accepted_with_nothing_created() {
    let app = spawn_app().await;
    let answer = app.post_ingest(&batch("c", vec![])).await;
    assert_eq!(answer.status, 200);
    assert_eq!((answer.body["accepted"].as_i64(), answer.body["created"].as_i64()), (Some(0), Some(0)));
    app.finish().await;
}

#[tokio::test]
async fn the_ip_allowlist_refuses_others_and_believes_only_trusted_proxies() {
    let refused = spawn_app_with(&[("WHATSAPP_INGEST_ALLOWED_IPS", "10.0.0.0/8")]).await;
    let answer = refused.post_ingest(&batch("c", vec![message("Chat", "hi")])).await;
    assert_eq!((answer.status, answer.error_message()), (403, "ip not allowed"));
    assert_eq!(answer.error_code(), "ip_not_allowed");
    refused.finish().await;

    let proxied = spawn_app_with(&[("WHATSAPP_INGEST_ALLOWED_IPS", "10.0.0.0/8"), ("WHATSAPP_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let body = serde_json::to_vec(&batch("c", vec![message("Chat", "hi")])).expect("json");
    let mut headers = crate::helpers::signed_headers(&body, &collector_client::signing::format_timestamp(chrono::Utc::now()), "super-secret");
    headers.push(("x-forwarded-for", "10.1.2.3".into()));
    assert_eq!(proxied.post_raw(body.clone(), &headers).await.status, 200);
    headers.pop();
    headers.push(("x-forwarded-for", "192.0.2.1".into()));
    assert_eq!(proxied.post_raw(body, &headers).await.status, 403);
    proxied.finish().await;
}
