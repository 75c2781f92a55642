//! Standard Webhooks on `POST /integrations/whatsapp/ingest` (issue 14):
//! a delivery signed with a `whsec_` secret is stored without a token; the
//! same `webhook-id` again stores nothing and answers 200 with duplicates;
//! a tampered or stale one is refused (403); a request with neither scheme
//! gets 401. The collector signs this way with `--signing standard-webhooks`.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use collector_client::{
    Metrics as CollectorMetrics,
    sender::{DeliveryEvent, Sender, SenderConfig},
    signing::WebhookKey,
};
use secrecy::SecretString;

use crate::{
    helpers::{Answer, TestApp, batch, message, spawn_app_with, start_on},
    scaleout_support::skip_unless_postgres,
};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn key(secret: &str) -> WebhookKey {
    WebhookKey::parse(secret).unwrap_or_else(|e| panic!("{e}"))
}

fn secrets() -> String {
    format!("whsec_c2Vjb25k,{SECRET}")
}

async fn spawn() -> TestApp {
    // The seed's HMAC secret stays set: a webhook signature replaces it, not just the token.
    spawn_app_with(&[("WHATSAPP_INGEST_WEBHOOK_SECRETS", &secrets())]).await
}

fn body(texts: &[&str]) -> Vec<u8> {
    let messages = texts.iter().map(|text| message("Webhook Chat", text)).collect();
    serde_json::to_vec(&batch("svix-sender", messages)).expect("json")
}

/// Posts `sent` with the webhook headers of `signed`, signed by `secret` at `at`.
async fn deliver_as(app: &TestApp, id: &str, signed: &[u8], sent: &[u8], secret: &str, at: DateTime<Utc>) -> Answer {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    headers.extend(key(secret).headers(id, signed, at));
    app.post_raw(sent.to_vec(), &headers).await
}

async fn deliver(app: &TestApp, id: &str, body: &[u8]) -> Answer {
    deliver_as(app, id, body, body, SECRET, Utc::now()).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.query_i64(sql).await.first().copied().unwrap_or(-1)
}

/// The sender's stored request count, once concurrent commits' ingest deltas are folded into
/// its row (`store/summary_fold.rs` folds within about 100 ms of the commit): waits until it
/// reaches `expected`, then checks that it stays exactly that past another fold.
async fn folded_request_count(app: &TestApp, expected: i64) {
    const SQL: &str = "SELECT request_count FROM clients WHERE id = 'svix-sender'";
    app.db.wait_for(SQL, expected, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(app, SQL).await, expected, "one stored request per delivery id");
}

fn ids(answer: &Answer) -> Vec<i64> {
    answer.body["messages"].as_array().map(|m| m.iter().filter_map(|s| s["id"].as_i64()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn a_delivery_is_stored_once_and_a_replay_answers_duplicates() {
    let app = spawn().await;
    let first_body = body(&["Tecno Spark 10 - 12,000", "iPhone 11 - 45,000"]);
    let first = deliver(&app, "msg_2a", &first_body).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!((first.body["accepted"].as_i64(), first.body["created"].as_i64()), (Some(2), Some(2)));
    assert_eq!(app.count_messages().await, 2);

    // Svix retries the same message: same id, fresh timestamp and signature.
    let replay = deliver_as(&app, "msg_2a", &first_body, &first_body, SECRET, Utc::now() + chrono::Duration::seconds(5)).await;
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!(
        (replay.body["accepted"].as_i64(), replay.body["created"].as_i64(), replay.body["deduped"].as_i64()),
        (Some(2), Some(0), Some(2))
    );
    assert_eq!(ids(&replay), ids(&first), "the replay names what the first delivery stored");
    assert!(replay.body["messages"].as_array().is_some_and(|m| m.iter().all(|s| s["status"] == "duplicate")));

    // The id covers the whole request: even another body under it stores nothing.
    let other = deliver(&app, "msg_2a", &body(&["Samsung A14 - 18,000"])).await;
    assert_eq!((other.status, other.body["created"].as_i64()), (200, Some(0)));
    assert_eq!(app.count_messages().await, 2, "no new rows");
    assert_eq!(count(&app, "SELECT request_count FROM clients WHERE id = 'svix-sender'").await, 1, "replays store nothing");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await, 1);
    assert_eq!(count(&app, "SELECT created FROM webhook_deliveries WHERE webhook_id = 'msg_2a'").await, 2);

    // A new id is a new delivery.
    let next = deliver(&app, "msg_2b", &body(&["Samsung A14 - 18,000"])).await;
    assert_eq!((next.status, next.body["created"].as_i64()), (200, Some(1)));
    assert_eq!(app.count_messages().await, 3);
    app.finish().await;
}

#[tokio::test]
async fn tampered_stale_and_unsigned_deliveries_are_refused() {
    let app = spawn().await;
    let signed = body(&["Tecno Spark 10 - 12,000"]);
    let tampered = body(&["Tecno Spark 10 - 1,000"]);
    let answer = deliver_as(&app, "msg_t", &signed, &tampered, SECRET, Utc::now()).await;
    assert_eq!((answer.status, answer.error_message(), answer.error_code()), (403, "invalid signature", "invalid_webhook_signature"));

    let stale = deliver_as(&app, "msg_s", &signed, &signed, SECRET, Utc::now() - chrono::Duration::seconds(301)).await;
    assert_eq!((stale.status, stale.error_code()), (403, "webhook_timestamp_stale"));
    assert!(stale.error_message().starts_with("invalid signature"), "{}", stale.error_message());
    let future = deliver_as(&app, "msg_f", &signed, &signed, SECRET, Utc::now() + chrono::Duration::seconds(301)).await;
    assert_eq!(future.status, 403);

    let unknown = deliver_as(&app, "msg_u", &signed, &signed, "whsec_cmV0aXJlZA==", Utc::now()).await;
    assert_eq!((unknown.status, unknown.error_message()), (403, "invalid signature"));
    // An incomplete set of webhook headers is a failed signature, not a missing token.
    let partial = app.post_raw(signed.clone(), &[("content-type", "application/json".into()), ("webhook-id", "msg_p".into())]).await;
    assert_eq!(partial.status, 403);

    let neither = app.post_raw(signed.clone(), &[("content-type", "application/json".into())]).await;
    assert_eq!((neither.status, neither.error_code()), (401, "invalid_ingest_token"));
    assert_eq!(app.count_messages().await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await, 0);

    // The refused ids were never recorded: signed properly, they go through.
    let accepted = deliver(&app, "msg_t", &signed).await;
    assert_eq!((accepted.status, accepted.body["created"].as_i64()), (200, Some(1)));
    app.finish().await;
}

#[tokio::test]
async fn concurrent_deliveries_of_one_id_store_it_once() {
    let app = spawn().await;
    let payload = body(&["Redmi 12 - 16,500", "Infinix Hot 30 - 14,000", "Nokia G21 - 11,000"]);
    let answers = futures_util::future::join_all((0..6).map(|_| deliver(&app, "msg_race", &payload))).await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
    let created: i64 = answers.iter().filter_map(|a| a.body["created"].as_i64()).sum();
    assert_eq!(created, 3, "exactly one delivery created the messages");
    assert!(answers.iter().all(|a| ids(a) == ids(&answers[0])), "every answer names the same stored messages");
    assert_eq!(app.count_messages().await, 3);
    folded_request_count(&app, 1).await;
    app.finish().await;
}

#[tokio::test]
async fn two_replicas_on_one_database_store_a_delivery_once() {
    if skip_unless_postgres("two_replicas_on_one_database_store_a_delivery_once") {
        return;
    }
    let first = spawn().await;
    let second = start_on(first.db.share(), &[("WHATSAPP_INGEST_WEBHOOK_SECRETS", &secrets())]).await;
    let payload = body(&["Realme C55 - 21,000", "Vivo Y36 - 23,500"]);
    for round in 0..5 {
        let id = format!("msg_replicas_{round}");
        let answers = futures_util::future::join_all(
            (0..6).map(|i| deliver(if i % 2 == 0 { &first } else { &second }, &id, &payload)),
        )
        .await;
        assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
        let created: i64 = answers.iter().filter_map(|a| a.body["created"].as_i64()).sum();
        // The first round creates both messages; later rounds only find them as duplicates.
        assert_eq!(created, if round == 0 { 2 } else { 0 }, "round {round}");
    }
    assert_eq!(first.count_messages().await, 2);
    folded_request_count(&first, 5).await;
    let _ = second.stop().await;
    first.finish().await;
}

#[tokio::test]
async fn a_record_past_the_dedupe_window_is_pruned_and_the_id_delivers_again() {
    let app = spawn().await;
    assert_eq!(deliver(&app, "msg_old", &body(&["Oppo A17 - 15,000"])).await.status, 200);
    // Age the record past the 24 h window.
    app.db.execute("UPDATE webhook_deliveries SET received_at_ms = received_at_ms - 25 * 3600 * 1000").await;
    let again = deliver(&app, "msg_old", &body(&["Oppo A57 - 19,000"])).await;
    assert_eq!((again.status, again.body["created"].as_i64()), (200, Some(1)), "an expired id is a new delivery");
    assert_eq!(app.count_messages().await, 2);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await, 1);
    assert_eq!(count(&app, "SELECT created FROM webhook_deliveries WHERE webhook_id = 'msg_old'").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn the_rate_limit_applies_per_client_id() {
    let app = spawn_app_with(&[
        ("WHATSAPP_INGEST_WEBHOOK_SECRETS", SECRET),
        ("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", "1"),
        ("WHATSAPP_INGEST_RATE_LIMIT_BURST", "1"),
    ])
    .await;
    assert_eq!(deliver(&app, "msg_r1", &body(&["one - 1,000"])).await.status, 200);
    let limited = deliver(&app, "msg_r2", &body(&["two - 2,000"])).await;
    assert_eq!((limited.status, limited.error_code()), (429, "rate_limited"));
    app.finish().await;
}

#[tokio::test]
async fn the_collector_signs_with_standard_webhooks_and_its_batch_is_stored() {
    let app = spawn().await;
    let spool = tempfile::tempdir().expect("spool");
    let url = url::Url::parse(&app.url("/integrations/whatsapp/ingest")).expect("url");
    // No token at all: the signature authenticates the batch.
    let mut config = SenderConfig::new(url, SecretString::from(String::new()), "collector-sw", spool.path());
    config.webhook_key = Some(key(SECRET));
    config.flush_interval = Duration::from_millis(50);
    let sender = Sender::start(config, Arc::new(CollectorMetrics::new())).await.expect("sender starts");
    let mut events = sender.subscribe();
    let texts = ["Tecno Camon 20 - 27,000", "Itel A70 - 9,500"];
    sender.handle().submit(texts.iter().map(|t| message("Collector Chat", t)).collect()).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events.recv().await {
                Ok(event @ (DeliveryEvent::Delivered { .. } | DeliveryEvent::Rejected { .. } | DeliveryEvent::AuthRefused { .. })) => return event,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(error) => panic!("sender stopped: {error}"),
            }
        }
    })
    .await
    .expect("the batch was answered in time");
    assert!(matches!(outcome, DeliveryEvent::Delivered { messages: 2, status: 200, .. }), "{outcome:?}");
    let _ = sender.finish().await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM messages WHERE client_id = 'collector-sw'").await, 2);
    let recorded = app.db.query_texts("SELECT webhook_id FROM webhook_deliveries").await;
    assert!(recorded.first().cloned().flatten().is_some_and(|id| id.starts_with("msg_b")), "{recorded:?}");
    app.finish().await;
}
