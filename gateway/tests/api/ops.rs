//! Health, readiness, Prometheus and the JSON totals.

use crate::helpers::{batch, message, spawn_app, start_on};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!((health.status, health.body["status"].as_str()), (200, Some("ok")));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    assert!(ready.body["migrations_applied"].as_i64().is_some_and(|n| n >= 1));
    app.finish().await;
}

#[tokio::test]
async fn prometheus_exposes_the_ingest_metrics_with_bounded_labels() {
    let app = spawn_app().await;
    app.post_ingest(&batch("c", vec![message("Chat +254712345678", "Pixel 8 Pro - $750")])).await;
    app.get("/no/such/path/0712345678").await;
    let text = app.get_text("/metrics").await;
    for name in [
        "soko_http_requests_total{method=\"POST\",route=\"/integrations/whatsapp/ingest\",status=\"200\"} 1",
        "soko_ingest_messages_total{result=\"created\"} 1",
        "soko_ingest_requests_total{outcome=\"accepted\"} 1",
        "soko_http_request_duration_seconds_bucket",
        "soko_ingest_commit_duration_seconds_bucket",
        "soko_ingest_batch_size_messages_bucket",
        "soko_ingest_commit_group_messages_bucket",
        "route=\"unmatched\"",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    assert!(!text.contains("0712345678") && !text.contains("254712345678"), "no phone numbers in labels");
    assert!(!text.contains("/no/such/path"), "no raw paths in labels");
    app.finish().await;
}

#[tokio::test]
async fn json_totals_and_chat_counters_survive_a_restart() {
    let app = spawn_app().await;
    let body = batch("c", vec![message("Totals Chat", "Jiko 2 burner 3500"), message("Totals Chat", "Jiko 2 burner 3500")]);
    app.post_ingest(&body).await;
    let bad = app.post_raw("{}", &[("x-ingest-token", "wrong".to_owned())]).await;
    assert_eq!(bad.status, 401);
    let db = app.stop().await;
    let app = start_on(db, &[]).await;
    let metrics = app.read("/metrics/whatsapp").await;
    assert!(metrics.body["generated_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let totals = &metrics.body["totals"];
    assert_eq!((totals["accepted"].as_i64(), totals["created"].as_i64(), totals["deduped"].as_i64()), (Some(2), Some(1), Some(1)));
    assert_eq!(totals["auth_failures"], 1, "flushed on shutdown, read back after restart");
    for name in ["extracted", "errors", "forbidden", "rate_limited", "signature_failures", "media_failed"] {
        assert_eq!(totals[name], 0, "{name}");
    }
    let chat = &metrics.body["chats"][0];
    assert_eq!((chat["title"].as_str(), chat["accepted"].as_i64(), chat["created"].as_i64()), (Some("Totals Chat"), Some(2), Some(1)));
    assert_eq!(metrics.body["recent_failures"][0]["status"], 401);
    app.finish().await;
}

#[tokio::test]
async fn unknown_routes_use_the_error_shape() {
    let app = spawn_app().await;
    let answer = app.get("/nowhere").await;
    assert_eq!((answer.status, answer.error_code()), (404, "not_found"));
    assert!(answer.header("x-request-id").is_some());
    app.finish().await;
}
