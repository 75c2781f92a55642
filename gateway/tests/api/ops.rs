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

/// Concurrent requests leave their chat and total updates to a fold
/// (`store::summary_fold`): the totals are exact the moment the answers are
/// in, the per-chat counters a reader with a token sees are too (it settles
/// first), and with no further request the writer folds what is pending by
/// itself within a few fold intervals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_are_counted_exactly_at_once_and_folded_without_further_requests() {
    let app = spawn_app().await;
    let batches: Vec<_> = (0..40)
        .map(|n| batch(&format!("c{}", n % 3), (0..5).map(|i| message(&format!("Fold Chat {}", n % 4), &format!("Item {n}/{i} - 1,{i}00"))).collect()))
        .collect();
    let answers = futures_util::future::join_all(batches.iter().map(|b| app.post_ingest(b))).await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().find(|a| a.status != 200).map(|a| &a.body));
    let created: i64 = answers.iter().map(|a| a.body["created"].as_i64().unwrap_or(0)).sum();
    assert_eq!(created, 200);

    let totals = app.get("/metrics/whatsapp").await.body["totals"].clone();
    assert_eq!((totals["created"].as_i64(), totals["accepted"].as_i64(), totals["deduped"].as_i64()), (Some(200), Some(200), Some(0)));
    let detail = app.read("/metrics/whatsapp").await;
    let chats = detail.body["chats"].as_array().cloned().unwrap_or_default();
    assert_eq!(chats.len(), 4);
    assert!(chats.iter().all(|c| c["created"].as_i64() == Some(50)), "every chat got 50 new messages: {chats:?}");

    app.post_ingest(&batch("c0", vec![message("Fold Chat 0", "one more - 2,000")])).await;
    let more: Vec<_> = (0..8).map(|n| batch("c1", vec![message("Fold Chat 1", &format!("late {n} - 3,000"))])).collect();
    futures_util::future::join_all(more.iter().map(|b| app.post_ingest(b))).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.db.query_i64("SELECT COUNT(*) FROM ingest_deltas").await[0] > 0 {
        assert!(std::time::Instant::now() < deadline, "pending ingest deltas were not folded without a further request");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stored = app.db.query_i64("SELECT COUNT(*) FROM messages").await[0];
    let folded = app
        .db
        .query_i64(
            "SELECT CAST(SUM(created_count) AS BIGINT) FROM chats
             UNION ALL SELECT CAST(SUM(message_count) AS BIGINT) FROM clients
             UNION ALL SELECT value FROM counters WHERE name = 'created'",
        )
        .await;
    assert_eq!((stored, folded), (209, vec![209, 209, 209]), "chat and client counters and the total, folded, match the rows");
    app.finish().await;
}
