//! Every refusal of the ingest contract, with its status, code and text, and
//! proof that nothing was stored.

use chrono::{Duration as ChronoDuration, Utc};
use collector_client::signing::format_timestamp;

use crate::helpers::{SECRET, TOKEN, batch, message, signed_headers, spawn_app, spawn_app_with};

fn smoke_body() -> Vec<u8> {
    serde_json::to_vec(&batch("c", vec![message("Chat", "Pixel 8 Pro - $750")])).expect("json")
}

fn now() -> String {
    format_timestamp(Utc::now())
}

#[tokio::test]
async fn missing_or_wrong_token_is_401() {
    let app = spawn_app().await;
    let body = smoke_body();
    let mut headers = signed_headers(&body, &now(), SECRET);
    headers.retain(|(name, _)| *name != "x-ingest-token");
    let missing = app.post_raw(body.clone(), &headers).await;
    headers.push(("x-ingest-token", "wrong-token".into()));
    let wrong = app.post_raw(body, &headers).await;
    for answer in [missing, wrong] {
        assert_eq!((answer.status, answer.error_code(), answer.error_message()), (401, "invalid_ingest_token", "invalid ingest token"));
        assert!(answer.body["error"]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    assert_eq!(app.count_messages().await, 0);
    app.finish().await;
}

#[tokio::test]
async fn missing_wrong_or_tampered_signatures_are_403() {
    let app = spawn_app().await;
    let body = smoke_body();
    let ts = now();
    let mut no_signature = signed_headers(&body, &ts, SECRET);
    no_signature.retain(|(name, _)| *name != "x-signature");
    let wrong_secret = signed_headers(&body, &ts, "another-secret");
    let good = signed_headers(&body, &ts, SECRET);
    let mut tampered = body.clone();
    let last = tampered.len() - 3;
    tampered[last] = b'9';
    for (headers, payload) in [(no_signature, body.clone()), (wrong_secret, body.clone()), (good, tampered)] {
        let answer = app.post_raw(payload, &headers).await;
        assert_eq!((answer.status, answer.error_code(), answer.error_message()), (403, "invalid_signature", "invalid signature"));
    }
    assert_eq!(app.count_messages().await, 0);
    app.finish().await;
}

#[tokio::test]
async fn replayed_and_future_timestamps_are_403_with_their_own_codes() {
    let app = spawn_app().await;
    let body = smoke_body();
    let old = format_timestamp(Utc::now() - ChronoDuration::seconds(301));
    // Ten seconds past the 300 s bound, not one: the timestamp is whole seconds (up to 1 s
    // early) and the request reaches the check a moment later, under load by more than a
    // second (a PostgreSQL CI pass once saw 301 s accepted that way).
    let future = format_timestamp(Utc::now() + ChronoDuration::seconds(310));
    let replay = app.post_raw(body.clone(), &signed_headers(&body, &old, SECRET)).await;
    assert_eq!((replay.status, replay.error_code()), (403, "signature_timestamp_stale"));
    assert!(replay.error_message().starts_with("invalid signature"));
    let ahead = app.post_raw(body.clone(), &signed_headers(&body, &future, SECRET)).await;
    assert_eq!((ahead.status, ahead.error_code()), (403, "signature_timestamp_future"));
    let unix_ok = Utc::now().timestamp().to_string();
    assert_eq!(app.post_raw(body.clone(), &signed_headers(&body, &unix_ok, SECRET)).await.status, 200);
    let garbage = app.post_raw(body.clone(), &signed_headers(&body, "last tuesday", SECRET)).await;
    assert_eq!((garbage.status, garbage.error_code()), (403, "signature_timestamp_invalid"));
    app.finish().await;
}

#[tokio::test]
async fn a_shorter_ttl_is_honoured() {
    let app = spawn_app_with(&[("WHATSAPP_INGEST_SIGNATURE_TTL_SECONDS", "10")]).await;
    let body = smoke_body();
    let old = format_timestamp(Utc::now() - ChronoDuration::seconds(30));
    assert_eq!(app.post_raw(body.clone(), &signed_headers(&body, &old, SECRET)).await.error_code(), "signature_timestamp_stale");
    app.finish().await;
}

#[tokio::test]
async fn over_the_client_limit_is_429_with_retry_and_limit_headers() {
    let app = spawn_app_with(&[("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", "6"), ("WHATSAPP_INGEST_RATE_LIMIT_BURST", "2")]).await;
    let first = app.post_ingest(&batch("busy", vec![message("Chat", "one")])).await;
    assert_eq!((first.status, first.header("x-ratelimit-remaining")), (200, Some("1")));
    assert_eq!(app.post_ingest(&batch("busy", vec![message("Chat", "two")])).await.status, 200);
    let limited = app.post_ingest(&batch("busy", vec![message("Chat", "three")])).await;
    assert_eq!((limited.status, limited.error_code(), limited.error_message()), (429, "rate_limited", "ingest rate limit exceeded"));
    let retry_after: u64 = limited.header("retry-after").and_then(|v| v.parse().ok()).expect("whole seconds");
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert!(limited.header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= retry_after));
    // Another client has its own bucket.
    assert_eq!(app.post_ingest(&batch("calm", vec![message("Chat", "four")])).await.status, 200);
    assert_eq!(app.count_messages().await, 3);
    app.finish().await;
}

#[tokio::test]
async fn bodies_over_the_cap_are_413_even_when_chunked() {
    let app = spawn_app_with(&[("WHATSAPP_INGEST_MAX_BODY_BYTES", "2048")]).await;
    let big = serde_json::to_vec(&batch("c", vec![message("Chat", &"x".repeat(4_000))])).expect("json");
    let declared = app.post_raw(big.clone(), &signed_headers(&big, &now(), SECRET)).await;
    assert_eq!((declared.status, declared.error_code()), (413, "payload_too_large"));

    // No Content-Length: a stream of chunks that never ends on its own. The
    // gateway must cut it off while reading, not buffer it.
    let chunks = futures_util::stream::iter((0..10_000).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 512]))));
    let streamed = app.post_raw(reqwest::Body::wrap_stream(chunks), &signed_headers(b"irrelevant", &now(), SECRET)).await;
    assert_eq!((streamed.status, streamed.error_code()), (413, "payload_too_large"));
    assert_eq!(app.count_messages().await, 0);
    app.finish().await;
}

#[tokio::test]
async fn too_many_messages_is_413() {
    let app = spawn_app_with(&[("WHATSAPP_INGEST_MAX_MESSAGES", "3")]).await;
    let messages = (0..4).map(|i| message("Chat", &format!("item {i}"))).collect();
    let answer = app.post_ingest(&batch("c", messages)).await;
    assert_eq!((answer.status, answer.error_code()), (413, "too_many_messages"));
    assert!(answer.error_message().contains("4 messages"), "{}", answer.error_message());
    app.finish().await;
}

#[tokio::test]
async fn not_json_is_400_and_schema_breaks_are_422_naming_the_path() {
    let app = spawn_app().await;
    let not_json = b"client_id=smoke".to_vec();
    let answer = app.post_raw(not_json.clone(), &signed_headers(&not_json, &now(), SECRET)).await;
    assert_eq!((answer.status, answer.error_code()), (400, "malformed_json"));
    // Found by the schema fuzz target: an object followed by more bytes, and broken
    // UTF-8 in a field the schema ignores, are not JSON either.
    let not_json: [&[u8]; 2] = [b"{\"client_id\":7} {\"more\":1}", b"{\"client_id\":\"c\",\"messages\":[],\"x\":\"\xc3\"}"];
    for body in not_json {
        let answer = app.post_raw(body.to_vec(), &signed_headers(body, &now(), SECRET)).await;
        assert_eq!((answer.status, answer.error_code()), (400, "malformed_json"), "{}", String::from_utf8_lossy(body));
    }

    let cases = [
        (r#"{"client_id":"c","messages":[{"chat_title":"a"},{"text":"no title"}]}"#, "messages[1]"),
        (r#"{"client_id":"c","messages":[{"chat_title":"a","timestamp":"soon"}]}"#, "messages[0].timestamp"),
        (r#"{"client_id":"c","messages":[{"chat_title":"a","media":[{"url":["x"]}]}]}"#, "messages[0].media[0].url"),
        (r#"{"client_id":7,"messages":[]}"#, "client_id"),
    ];
    for (body, path) in cases {
        let answer = app.post_raw(body, &signed_headers(body.as_bytes(), &now(), SECRET)).await;
        assert_eq!((answer.status, answer.error_code()), (422, "invalid_payload"), "{body}");
        assert!(answer.error_message().contains(path), "{path} not named in {:?}", answer.error_message());
    }
    assert_eq!(app.count_messages().await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let body = smoke_body();
    let mut headers = signed_headers(&body, &now(), SECRET);
    headers.retain(|(name, _)| *name != "content-type");
    let missing = app.post_raw(body.clone(), &headers).await;
    headers.push(("content-type", "text/plain".into()));
    let wrong = app.post_raw(body, &headers).await;
    for answer in [missing, wrong] {
        assert_eq!((answer.status, answer.error_code()), (415, "unsupported_media_type"));
    }
    app.finish().await;
}

#[tokio::test]
async fn refusals_feed_totals_and_recent_failures() {
    let app = spawn_app().await;
    let body = smoke_body();
    let mut headers = signed_headers(&body, &now(), SECRET);
    headers.retain(|(name, _)| *name != "x-ingest-token");
    headers.push(("x-ingest-token", "nope".into()));
    app.post_raw(body.clone(), &headers).await;
    app.post_raw(body.clone(), &signed_headers(&body, &now(), "bad-secret")).await;
    let schema = br#"{"client_id":"named","messages":[{"text":"x"}]}"#;
    app.post_raw(schema.to_vec(), &signed_headers(schema, &now(), SECRET)).await;
    let metrics = app.read("/metrics/whatsapp").await;
    let totals = &metrics.body["totals"];
    assert_eq!((totals["auth_failures"].as_i64(), totals["forbidden"].as_i64(), totals["signature_failures"].as_i64()), (Some(1), Some(1), Some(1)));
    let failures = metrics.body["recent_failures"].as_array().expect("array");
    assert_eq!(failures.len(), 3);
    assert_eq!(failures[0]["status"], 422);
    assert_eq!(failures[0]["client_id"], "named");
    assert_eq!(failures[2]["status"], 401);
    for failure in failures {
        for field in ["at", "client_id", "chat_title", "status", "reason", "request_id"] {
            assert!(failure.get(field).is_some(), "{field} missing in {failure}");
        }
    }
    assert!(!metrics.body.to_string().contains(TOKEN), "tokens never appear in reports");
    app.finish().await;
}
