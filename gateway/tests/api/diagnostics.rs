//! Diagnostics JSON, CSV and the log download: credentials, counters,
//! bounded output, masked phone numbers, no secrets.

use collector_client::message::IngestMessage;

use crate::helpers::{SECRET, TOKEN, batch, message, spawn_app_with};

#[tokio::test]
async fn diagnostics_report_pending_extraction_and_need_a_token() {
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "600"), ("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "600")]).await;
    assert_eq!(app.get("/chat/tools/diagnostics").await.status, 401);
    app.post_ingest(&batch("c", vec![message("Waiting Chat", "Microwave 20L - 8,000")])).await;
    let answer = app.get_with("/chat/tools/diagnostics", &[("x-ingest-token", TOKEN)]).await;
    assert_eq!(answer.status, 200);
    for field in ["accepted", "created", "deduped", "extracted", "errors", "chats_pending_extraction"] {
        assert!(answer.body[field].is_i64(), "{field}: {:?}", answer.body);
    }
    assert_eq!(answer.body["chats_pending_extraction"], 1);
    assert!(answer.body["oldest_pending_age_seconds"].as_f64().is_some_and(|age| age >= 0.0));
    assert!(answer.body["last_extraction_lag_ms"].is_null());
    let bearer = app.get_with("/chat/tools/diagnostics", &[("authorization", &format!("Bearer {TOKEN}"))]).await;
    assert_eq!(bearer.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn csv_and_logs_are_masked_bounded_and_secret_free() {
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")]).await;
    let private = IngestMessage {
        chat_id: Some("254712345678@s.whatsapp.net".into()),
        sender: Some("+254712345678".into()),
        ..message("Call 0712 345 678, Nairobi", "Gas cylinder 13kg - 3,200")
    };
    app.post_ingest(&batch("collector-7", vec![private])).await;
    app.post_raw("{}", &[("content-type", "application/json".into()), ("x-ingest-token", "wrong".into())]).await;
    app.wait_extracted(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;

    let csv = app.client.get(app.url("/chat/tools/diagnostics?format=csv")).header("x-ingest-token", TOKEN).send().await.expect("csv");
    assert!(csv.headers()["content-disposition"].to_str().is_ok_and(|v| v.contains("attachment")));
    let csv = csv.text().await.expect("text");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("chat_id,title,vendor_id,accepted,created,deduped,extracted,last_message_at,extract_due_at"));
    let row = lines.next().expect("one chat");
    assert!(row.starts_with("•••••••••678@s.whatsapp.net,\"Call •••• ••• 678, Nairobi\",,1,1,0,1,"), "{row}");

    let logs = app.client.get(app.url("/chat/tools/diagnostics/logs?limit=50")).header("x-ingest-token", TOKEN).send().await.expect("logs");
    let logs = logs.text().await.expect("text");
    let kinds: Vec<String> = logs
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("json line")["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    for kind in ["ingest", "extraction", "ingest_rejected"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing: {kinds:?}");
    }
    for secret_or_phone in ["712345678", TOKEN, SECRET, "wrong"] {
        assert!(!logs.contains(secret_or_phone), "{secret_or_phone} leaked into the log download");
    }
    let bounded = app.client.get(app.url("/chat/tools/diagnostics/logs?limit=1")).header("x-ingest-token", TOKEN).send().await.expect("logs");
    assert_eq!(bounded.text().await.expect("text").lines().count(), 1);
    app.finish().await;
}
