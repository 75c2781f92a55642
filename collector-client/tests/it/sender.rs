//! The sender against a real HTTP receiver: batching, retry schedule,
//! Retry-After, spooling across restarts, and rejected batches. Timing tests
//! run on tokio's paused clock, so the 1-5 s delays cost no real time and
//! elapsed virtual time can be checked exactly from below.

use crate::receiver::{Receiver, Reply};
use crate::{SECRET, TOKEN, events_until, ids, message, messages, sender_config, temp_dir};
use collector_client::sender::{DeliveryEvent, Drain, Sender};
use collector_client::{ConnectionStatus, Metrics};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

fn delivered(event: &DeliveryEvent) -> bool {
    matches!(event, DeliveryEvent::Delivered { .. })
}

#[tokio::test(start_paused = true)]
async fn batches_close_at_the_size_limit_and_at_the_flush_interval() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let mut config = sender_config(&receiver.ingest_url, spool.path());
    config.batch_max_messages = 5;
    config.flush_interval = Duration::from_millis(1000);
    let sender = Sender::start(config, Arc::new(Metrics::new())).await.expect("start");
    let mut events = sender.subscribe();
    let started = Instant::now();

    sender.handle().submit(messages(0..12)).await.expect("submit");
    let mut count = 0;
    events_until(&mut events, |event| {
        count += usize::from(delivered(event));
        count == 3
    })
    .await;

    let sizes: Vec<usize> = receiver.accepted_batches().iter().map(|batch| batch.messages.len()).collect();
    assert_eq!(sizes, [5, 5, 2]);
    assert_eq!(ids(&receiver.accepted_messages()), ids(&messages(0..12)), "order is kept");
    // The last two messages waited for the interval, not for more messages.
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert!(receiver.accepted_batches().iter().all(|batch| batch.client_id == "it-collector"));
    assert_eq!(receiver.refused_auth(), 0, "every request carried a valid token and signature");
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn failed_attempts_back_off_one_then_two_seconds() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::Status(500, "boom"), Reply::Status(503, "busy")]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    let started = Instant::now();

    sender.handle().submit(vec![message(1)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let seen = events_until(&mut events, delivered).await;

    let waits: Vec<(u32, Option<u16>, Duration)> = seen
        .iter()
        .filter_map(|event| match event {
            DeliveryEvent::AttemptFailed { attempt, status, retry_in, .. } => Some((*attempt, *status, *retry_in)),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [(1, Some(500), Duration::from_secs(1)), (2, Some(503), Duration::from_secs(2))]);
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(receiver.received().len(), 3);
    assert_eq!(receiver.accepted_messages().len(), 1);
    // Each attempt is re-signed and carries its own request id.
    let request_ids: Vec<_> = receiver.received().iter().filter_map(|r| r.request_id.clone()).collect();
    assert_eq!(request_ids.len(), 3);
    assert!(request_ids[0].ends_with("-1") && request_ids[2].ends_with("-3"), "{request_ids:?}");
    let snapshot = metrics.snapshot();
    assert_eq!((snapshot.batches_success, snapshot.batches_failed, snapshot.messages_sent), (1, 0, 1));
    assert_eq!(snapshot.connection_status, ConnectionStatus::Open);
    assert!(snapshot.last_success_at.is_some());
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_waits_as_long_as_retry_after_says() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::RateLimited { retry_after: 7 }]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    let started = Instant::now();

    sender.handle().submit(vec![message(1)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let seen = events_until(&mut events, delivered).await;

    let waits: Vec<_> = seen
        .iter()
        .filter_map(|event| match event {
            DeliveryEvent::AttemptFailed { status, retry_in, .. } => Some((*status, *retry_in)),
            _ => None,
        })
        .collect();
    // 7 s is beyond the 1-5 s clamp: the server's word wins.
    assert_eq!(waits, [(Some(429), Duration::from_secs(7))]);
    assert!(started.elapsed() >= Duration::from_secs(7));
    assert!(metrics.prometheus_text().contains("collector_delivery_attempts_total{outcome=\"rate_limited\"} 1"));
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_batch_that_exhausts_its_attempts_stays_spooled_and_is_delivered_later_once() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::Status(503, "down"), Reply::Status(503, "down"), Reply::Status(503, "down")]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();

    sender.handle().submit(messages(0..3)).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let seen = events_until(&mut events, |event| matches!(event, DeliveryEvent::RoundFailed { .. })).await;
    let spooled = seen
        .iter()
        .find_map(|event| match event {
            DeliveryEvent::Spooled { batch, messages } => Some((batch.clone(), *messages)),
            _ => None,
        })
        .expect("a Spooled event");
    assert_eq!(spooled.1, 3);
    let attempts = seen.iter().filter(|event| matches!(event, DeliveryEvent::AttemptFailed { .. })).count();
    assert_eq!(attempts, 3, "three attempts per round");
    assert_eq!(seen.last(), Some(&DeliveryEvent::RoundFailed { batch: spooled.0, failed_rounds: 1, next_round_in: Duration::from_secs(5) }));
    assert_eq!(metrics.snapshot().connection_status, ConnectionStatus::Closed);
    assert_eq!(metrics.snapshot().spool_depth, 1);
    assert_eq!(metrics.snapshot().batches_failed, 1);

    events_until(&mut events, delivered).await;
    assert_eq!(receiver.received().len(), 4);
    assert_eq!(ids(&receiver.accepted_messages()), ids(&messages(0..3)), "delivered exactly once");
    assert_eq!(metrics.snapshot().connection_status, ConnectionStatus::Open);
    assert_eq!(metrics.snapshot().spool_depth, 0);
    sender.shutdown().await;
}

#[tokio::test]
async fn refused_batches_move_to_rejected_with_their_reason_and_do_not_block_the_queue() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::Status(422, r#"{"error":{"code":"schema","message":"messages[0].chat_title: missing"}}"#)]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();

    sender.handle().submit(vec![message(1)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    sender.handle().submit(vec![message(2)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let seen = tokio::time::timeout(Duration::from_secs(60), events_until(&mut events, delivered)).await.expect("delivered in time");

    let rejected = seen.iter().find_map(|event| match event {
        DeliveryEvent::Rejected { batch, status } => Some((batch.clone(), *status)),
        _ => None,
    });
    let (batch, status) = rejected.expect("a Rejected event");
    assert_eq!(status, 422);
    let rejected_dir = spool.path().join("rejected");
    assert!(rejected_dir.join(&batch).exists(), "batch kept in rejected/");
    let reason_file = rejected_dir.join(batch.replace(".json", ".reason.json"));
    let reason: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(reason_file).expect("reason file")).expect("reason json");
    assert_eq!(reason["status"], 422);
    assert!(reason["reason"].as_str().unwrap_or_default().contains("messages[0].chat_title"));
    // Tried once, never again; the next batch went through.
    assert_eq!(receiver.received().len(), 2);
    assert_eq!(ids(&receiver.accepted_messages()), ["m2"]);
    let snapshot = metrics.snapshot();
    assert_eq!((snapshot.batches_rejected, snapshot.batches_success, snapshot.spool_depth), (1, 1, 0));
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_sender_resends_the_spool_first_and_loses_nothing() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.set_default(Reply::Status(503, "gateway down"));
    let spool = temp_dir();

    // First run: the gateway is down; finish() gives up after one round.
    let first = Sender::start(sender_config(&receiver.ingest_url, spool.path()), Arc::new(Metrics::new())).await.expect("start");
    first.handle().submit(messages(0..7)).await.expect("submit");
    assert_eq!(first.finish().await.expect("finish"), Drain::Undelivered { pending: 1 });
    assert_eq!(receiver.accepted_messages().len(), 0);

    // A message accepted just before a stop is spooled, not dropped.
    let second = Sender::start(sender_config(&receiver.ingest_url, spool.path()), Arc::new(Metrics::new())).await.expect("restart");
    second.handle().submit(vec![message(7)]).await.expect("submit");
    second.shutdown().await;
    let spooled = std::fs::read_dir(spool.path()).expect("spool").flatten().filter(|e| e.file_name().to_string_lossy().starts_with('b')).count();
    assert_eq!(spooled, 2);

    // Gateway back: a new sender over the same spool sends old batches first.
    receiver.set_default(Reply::Ok);
    let metrics = Arc::new(Metrics::new());
    let third = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("restart");
    assert_eq!(third.pending(), 2);
    third.handle().submit(messages(8..10)).await.expect("submit");
    assert_eq!(third.finish().await.expect("finish"), Drain::Empty);

    let batches = receiver.accepted_batches();
    assert_eq!(batches.iter().map(|b| b.messages.len()).collect::<Vec<_>>(), [7, 1, 2]);
    assert_eq!(ids(&receiver.accepted_messages()), ids(&messages(0..10)), "every message exactly once, in order");
    assert_eq!(metrics.snapshot().messages_sent, 10);
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_run_keeps_waiting_while_the_gateway_only_rate_limits() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::RateLimited { retry_after: 2 }, Reply::RateLimited { retry_after: 2 }, Reply::RateLimited { retry_after: 2 }, Reply::RateLimited { retry_after: 30 }]);
    let spool = temp_dir();
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), Arc::new(Metrics::new())).await.expect("start");
    let started = Instant::now();
    sender.handle().submit(messages(0..2)).await.expect("submit");
    // A full round of 429s does not make finish() give up: the gateway is up.
    assert_eq!(sender.finish().await.expect("finish"), Drain::Empty);
    assert_eq!(receiver.received().len(), 5);
    assert_eq!(ids(&receiver.accepted_messages()), ["m0", "m1"]);
    // 2 s + 2 s inside the round, at least 5 s before the next round, 30 s as asked.
    assert!(started.elapsed() >= Duration::from_secs(39));
}

#[tokio::test]
async fn token_only_mode_sends_no_signature() {
    let receiver = Receiver::start(TOKEN, None);
    let spool = temp_dir();
    let mut config = sender_config(&receiver.ingest_url, spool.path());
    config.hmac_secret = None;
    let sender = Sender::start(config, Arc::new(Metrics::new())).await.expect("start");
    sender.handle().submit(vec![message(1)]).await.expect("submit");
    let drained = tokio::time::timeout(Duration::from_secs(60), sender.finish()).await.expect("in time").expect("finish");
    assert_eq!(drained, Drain::Empty);
    assert_eq!(receiver.refused_auth(), 0);
    assert_eq!(receiver.accepted_messages().len(), 1);
}

#[tokio::test]
async fn two_collectors_cannot_share_a_spool() {
    let spool = temp_dir();
    let config = sender_config("http://127.0.0.1:9/integrations/whatsapp/ingest", spool.path());
    let first = Sender::start(config.clone(), Arc::new(Metrics::new())).await.expect("start");
    let second = Sender::start(config, Arc::new(Metrics::new())).await;
    let error = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("in use by another collector"), "{error}");
    first.shutdown().await;
}
