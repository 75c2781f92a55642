//! Labels and in-memory state a client cannot grow: odd HTTP methods share
//! one `method="other"` series, and the embedded writer's dedupe index keeps
//! only the content-hash window, with its size on `/metrics`.

use std::{collections::BTreeSet, time::Duration};

use collector_client::message::IngestMessage;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{backend, batch, message, spawn_app, spawn_app_with};

/// One request with any method, over a raw socket (clients refuse odd methods).
async fn raw_request(address: &str, method: &str) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.expect("connect to the gateway");
    let request = format!("{method} /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request written");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Every series of the HTTP metrics: name and labels, without the value.
fn http_series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| line.starts_with("soko_http_"))
        .filter_map(|line| line.rsplit_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

/// The value of one series, if exposed.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn fifty_odd_http_methods_add_no_series() {
    let app = spawn_app().await;
    // The series of the scrape itself and of the first odd method exist from here on.
    let _ = app.get_text("/metrics").await;
    let first = raw_request(&app.address, "FOO0").await;
    assert!(first.starts_with("HTTP/1.1 "), "the gateway answers an odd method: {first:?}");
    let before = http_series(&app.get_text("/metrics").await);

    for n in 1..=50 {
        let answer = raw_request(&app.address, &format!("FOO{n}")).await;
        assert!(answer.starts_with("HTTP/1.1 "), "FOO{n}: {answer:?}");
    }

    let text = app.get_text("/metrics").await;
    let after = http_series(&text);
    assert_eq!(after.len(), before.len(), "new series: {:?}", after.difference(&before).collect::<Vec<_>>());
    assert_eq!(after, before);
    assert!(!text.contains("FOO"), "a client-chosen method became a label");
    let counted: f64 = text
        .lines()
        .filter(|line| line.starts_with("soko_http_requests_total{") && line.contains(r#"method="other""#))
        .filter_map(|line| line.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    assert_eq!(counted, 51.0, "every odd request is still counted, as `other`");
    app.finish().await;
}

fn with_id(text: &str, id: &str) -> IngestMessage {
    IngestMessage { message_id: Some(id.into()), ..message("Window Chat", text) }
}

const KEYS: &str = r#"soko_dedupe_index_entries{kind="message_id"}"#;

#[tokio::test]
async fn the_dedupe_index_keeps_only_the_window_and_reports_its_size() {
    if backend() != "sqlite" {
        eprintln!("SKIPPED: the in-memory dedupe index belongs to the embedded SQLite writer");
        return;
    }
    // A window of 3.6 s, so the test can outlive it.
    let app = spawn_app_with(&[("WHATSAPP_CONTENT_HASH_WINDOW_HOURS", "0.001")]).await;
    assert_eq!(value(&app.get_text("/metrics").await, KEYS), Some(0.0), "exposed from start-up");

    let first = batch("c", vec![with_id("TV 43 inch 32k", "a1"), with_id("Sofa 60k", "a2"), with_id("Fridge 45k", "a3")]);
    assert_eq!(app.post_ingest(&first).await.body["created"], 3);
    assert_eq!(value(&app.get_text("/metrics").await, KEYS), Some(3.0));
    let replay = app.post_ingest(&first).await;
    assert_eq!((replay.body["created"].as_i64(), replay.body["deduped"].as_i64()), (Some(0), Some(3)), "inside the window");

    tokio::time::sleep(Duration::from_millis(4_500)).await;
    let later = batch("c", vec![with_id("Cooker 20k", "b1")]);
    assert_eq!(app.post_ingest(&later).await.body["created"], 1);
    let text = app.get_text("/metrics").await;
    assert_eq!(value(&text, KEYS), Some(1.0), "the ids of the first batch left with the window");
    assert_eq!(value(&text, r#"soko_dedupe_index_entries{kind="content"}"#), Some(1.0));
    assert_eq!(app.count_messages().await, 4);
    app.finish().await;
}
