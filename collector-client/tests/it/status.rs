//! The status server answers /healthz and /metrics (text and JSON) over HTTP,
//! with the counters the sender moved, and says `degraded` while the gateway
//! refuses the collector's credentials.

use crate::receiver::Receiver;
use crate::{SECRET, TOKEN, events_until, messages, sender_config, temp_dir};
use collector_client::{DeliveryEvent, Drain, Metrics, Sender, start_status_server};
use serde_json::Value;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_report_what_the_sender_did() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let status = start_status_server(std::net::TcpListener::bind("127.0.0.1:0").expect("bind"), metrics.clone()).expect("status");
    let client = reqwest::Client::new();

    let before: Value = client.get(format!("{}/metrics?format=json", status.url())).send().await.expect("get").json().await.expect("json");
    assert_eq!(before["batches_success"], 0);
    assert_eq!(before["last_success_at"], Value::Null);

    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    sender.handle().submit(messages(0..3)).await.expect("submit");
    assert_eq!(sender.finish().await.expect("finish"), Drain::Empty);

    let health = client.get(format!("{}/healthz", status.url())).send().await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    let counts = serde_json::json!({"created": 3, "duplicate": 0, "waiting": 0, "waiting_batches": 0, "rejected": 0, "rejected_batches": 0});
    assert_eq!(health.json::<Value>().await.expect("json"), serde_json::json!({"status": "ok", "messages": counts}));

    let text_response = client.get(format!("{}/metrics", status.url())).send().await.expect("metrics");
    let content_type = text_response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = text_response.text().await.expect("text");
    for line in [
        "collector_batches_success_total 1",
        "collector_batches_failed_total 0",
        "collector_messages_sent_total 3",
        "collector_spool_depth 0",
        "collector_connection_status{status=\"open\"} 1",
        "collector_connection_status{status=\"closed\"} 0",
        "collector_delivery_attempts_total{outcome=\"success\"} 1",
        "collector_messages_total{outcome=\"created\"} 3",
        "collector_messages_total{outcome=\"duplicate\"} 0",
        "collector_messages_total{outcome=\"rejected\"} 0",
        "collector_spool_messages 0",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(text.contains("collector_last_success_timestamp_seconds "));

    let json: Value = client.get(format!("{}/metrics?format=json", status.url())).send().await.expect("get").json().await.expect("json");
    assert_eq!(json["batches_success"], 1);
    assert_eq!(json["messages_sent"], 3);
    assert_eq!(json["spool_depth"], 0);
    assert_eq!(json["connection_status"], "open");
    assert!(json["last_success_at"].as_str().is_some_and(|at| at.ends_with('Z')));
    status.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_degraded_with_the_reason_while_the_gateway_refuses_the_credentials() {
    let receiver = Receiver::start("the-gateways-token", Some(SECRET));
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let status = start_status_server(std::net::TcpListener::bind("127.0.0.1:0").expect("bind"), metrics.clone()).expect("status");
    let client = reqwest::Client::new();
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    sender.handle().submit(messages(0..2)).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let refused = |event: &DeliveryEvent| matches!(event, DeliveryEvent::AuthRefused { .. });
    tokio::time::timeout(std::time::Duration::from_secs(60), events_until(&mut events, refused)).await.expect("refused in time");

    let health = client.get(format!("{}/healthz", status.url())).send().await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200, "alive, and keeping its spool");
    let body = health.text().await.expect("body");
    assert!(!body.contains(TOKEN) && !body.contains(SECRET) && !body.contains("the-gateways-token"), "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    let waiting = serde_json::json!({"created": 0, "duplicate": 0, "waiting": 2, "waiting_batches": 1, "rejected": 0, "rejected_batches": 0});
    assert_eq!(body, serde_json::json!({"status": "degraded", "reason": "gateway refused the credentials: invalid_ingest_token (HTTP 401)", "messages": waiting}));
    let text = client.get(format!("{}/metrics", status.url())).send().await.expect("metrics").text().await.expect("text");
    assert!(text.contains("# HELP collector_auth_failing "), "{text}");
    assert!(text.lines().any(|line| line == "collector_auth_failing 1"), "{text}");
    assert!(text.lines().any(|line| line == "collector_spool_depth 1"), "{text}");
    let json: Value = client.get(format!("{}/metrics?format=json", status.url())).send().await.expect("get").json().await.expect("json");
    assert_eq!((json["auth_failing"].as_bool(), json["connection_status"].as_str()), (Some(true), Some("closed")));

    // The gateway takes our token again: the next paused attempt delivers.
    receiver.set_credentials(TOKEN, Some(SECRET));
    let delivered = |event: &DeliveryEvent| matches!(event, DeliveryEvent::Delivered { .. });
    tokio::time::timeout(std::time::Duration::from_secs(60), events_until(&mut events, delivered)).await.expect("delivered in time");
    let health: Value = client.get(format!("{}/healthz", status.url())).send().await.expect("healthz").json().await.expect("json");
    let delivered = serde_json::json!({"created": 2, "duplicate": 0, "waiting": 0, "waiting_batches": 0, "rejected": 0, "rejected_batches": 0});
    assert_eq!(health, serde_json::json!({"status": "ok", "messages": delivered}));
    let text = client.get(format!("{}/metrics", status.url())).send().await.expect("metrics").text().await.expect("text");
    assert!(text.lines().any(|line| line == "collector_auth_failing 0"), "{text}");
    sender.shutdown().await;
    status.stop().await;
}
