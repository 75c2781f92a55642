//! Issue #13: the collector keeps what it cannot send. Against the real
//! test receiver over a socket: credential refusals (401, and 403 for every
//! signature, timestamp and address code) keep every batch and pause with a
//! backoff capped at 5 minutes, only malformed batches (400/413/422) go to
//! `rejected/`, other 4xx are retried, a refusal body is read only in part,
//! and the spool is owner-only. Backoff timing runs on tokio's paused clock.

use crate::receiver::{Receiver, Reply};
use crate::{SECRET, TOKEN, batch_files, events_until, ids, message, messages, sender_config, temp_dir};
use collector_client::sender::{DeliveryEvent, Drain, Sender};
use collector_client::{ConnectionStatus, Metrics};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const S: fn(u64) -> Duration = Duration::from_secs;

/// (batch, status, code, paused_for) of every credential refusal seen.
fn refusals(seen: &[DeliveryEvent]) -> Vec<(String, u16, Option<String>, Duration)> {
    seen.iter()
        .filter_map(|event| match event {
            DeliveryEvent::AuthRefused { batch, status, code, paused_for, .. } => Some((batch.clone(), *status, code.clone(), *paused_for)),
            _ => None,
        })
        .collect()
}

fn first_spooled(seen: &[DeliveryEvent]) -> String {
    seen.iter()
        .find_map(|event| match event {
            DeliveryEvent::Spooled { batch, .. } => Some(batch.clone()),
            _ => None,
        })
        .expect("a Spooled event")
}

fn delivered_count(target: usize) -> impl FnMut(&DeliveryEvent) -> bool {
    let mut count = 0;
    move |event| {
        count += usize::from(matches!(event, DeliveryEvent::Delivered { .. }));
        count == target
    }
}

#[tokio::test(start_paused = true)]
async fn a_refused_token_keeps_every_batch_and_backs_off_up_to_five_minutes_until_fixed() {
    let receiver = Receiver::start("a-rotated-token", Some(SECRET));
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let mut config = sender_config(&receiver.ingest_url, spool.path());
    config.batch_max_messages = 1;
    let sender = Sender::start(config, metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    let started = Instant::now();

    sender.handle().submit(messages(0..2)).await.expect("submit");
    let seen = events_until(&mut events, |event| matches!(event, DeliveryEvent::AuthRefused { refusals: 11, .. })).await;
    let refused = refusals(&seen);
    let pauses: Vec<Duration> = refused.iter().map(|r| r.3).collect();
    assert_eq!(pauses, [S(1), S(2), S(4), S(8), S(16), S(32), S(64), S(128), S(256), S(300), S(300)]);
    let oldest = first_spooled(&seen);
    assert!(refused.iter().all(|r| r.0 == oldest && r.1 == 401 && r.2.as_deref() == Some("invalid_ingest_token")), "{refused:?}");
    // The ten pauses before the 11th refusal really happened.
    assert!(started.elapsed() >= S(1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 300));
    assert_eq!(receiver.refused_auth(), 11, "one request per refusal: no attempts wasted inside a round");

    // Nothing lost, nothing moved.
    assert_eq!(batch_files(spool.path()).len(), 2);
    assert!(batch_files(&spool.path().join("rejected")).is_empty());
    let snapshot = metrics.snapshot();
    assert!(snapshot.auth_failing);
    assert_eq!((snapshot.batches_rejected, snapshot.spool_depth, snapshot.connection_status), (0, 2, ConnectionStatus::Closed));
    assert!(metrics.prometheus_text().lines().any(|line| line == "collector_auth_failing 1"));
    assert!(metrics.prometheus_text().contains("collector_delivery_attempts_total{outcome=\"auth_refused\"} 11"));
    assert_eq!(metrics.auth_failure().as_deref(), Some("gateway refused the credentials: invalid_ingest_token (HTTP 401)"));

    // The gateway takes the token again: both batches go, in order, once.
    receiver.set_credentials(TOKEN, Some(SECRET));
    events_until(&mut events, delivered_count(2)).await;
    assert_eq!(ids(&receiver.accepted_messages()), ["m0", "m1"]);
    assert!(batch_files(spool.path()).is_empty());
    let snapshot = metrics.snapshot();
    assert!(!snapshot.auth_failing && metrics.auth_failure().is_none());
    assert_eq!((snapshot.spool_depth, snapshot.connection_status), (0, ConnectionStatus::Open));
    assert!(metrics.prometheus_text().lines().any(|line| line == "collector_auth_failing 0"));

    // The success reset the backoff: a new refusal pauses 1 s again.
    receiver.set_credentials("rotated-once-more", Some(SECRET));
    sender.handle().submit(vec![message(2)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let seen = events_until(&mut events, |event| matches!(event, DeliveryEvent::AuthRefused { .. })).await;
    assert!(matches!(seen.last(), Some(DeliveryEvent::AuthRefused { refusals: 1, paused_for, .. }) if *paused_for == S(1)), "{seen:?}");
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn every_signature_timestamp_and_address_refusal_keeps_the_batch() {
    // The collector signs with SECRET; this gateway expects another secret.
    let receiver = Receiver::start(TOKEN, Some("the-gateways-other-secret"));
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    sender.handle().submit(vec![message(1)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let first = events_until(&mut events, |event| matches!(event, DeliveryEvent::AuthRefused { .. })).await;
    assert_eq!(metrics.auth_failure().as_deref(), Some("gateway refused the credentials: invalid_signature (HTTP 403)"));

    // Secret fixed; the gateway still objects to the clock, then the address.
    receiver.set_credentials(TOKEN, Some(SECRET));
    receiver.script([
        Reply::Error(403, "signature_timestamp_stale"),
        Reply::Error(403, "signature_timestamp_future"),
        Reply::Error(403, "signature_timestamp_invalid"),
        Reply::Error(403, "ip_not_allowed"),
    ]);
    let rest = events_until(&mut events, |event| matches!(event, DeliveryEvent::Delivered { .. })).await;
    let refused = refusals(&[first, rest].concat());
    let codes: Vec<_> = refused.iter().map(|r| (r.1, r.2.clone().unwrap_or_default())).collect();
    let expected = ["invalid_signature", "signature_timestamp_stale", "signature_timestamp_future", "signature_timestamp_invalid", "ip_not_allowed"];
    assert_eq!(codes, expected.iter().map(|code| (403, (*code).to_owned())).collect::<Vec<_>>());
    assert_eq!(refused.iter().map(|r| r.3).collect::<Vec<_>>(), [S(1), S(2), S(4), S(8), S(16)]);

    assert_eq!(ids(&receiver.accepted_messages()), ["m1"], "the same batch, delivered once");
    assert!(batch_files(&spool.path().join("rejected")).is_empty());
    assert!(!metrics.snapshot().auth_failing);
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_run_gives_up_on_refused_credentials_and_says_so() {
    let receiver = Receiver::start("another-token", Some(SECRET));
    let spool = temp_dir();
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), Arc::new(Metrics::new())).await.expect("start");
    sender.handle().submit(messages(0..3)).await.expect("submit");
    assert_eq!(sender.finish().await.expect("finish"), Drain::AuthRefused { pending: 1 });
    assert_eq!(batch_files(spool.path()).len(), 1, "the batch waits for the next run");
    assert!(batch_files(&spool.path().join("rejected")).is_empty());
}

#[tokio::test]
async fn only_malformed_batches_400_413_422_go_to_rejected() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::Error(400, "malformed_json"), Reply::Error(413, "payload_too_large"), Reply::Error(422, "invalid_payload")]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let mut config = sender_config(&receiver.ingest_url, spool.path());
    config.batch_max_messages = 1;
    let sender = Sender::start(config, metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    sender.handle().submit(messages(0..4)).await.expect("submit");
    let seen = tokio::time::timeout(S(60), events_until(&mut events, delivered_count(1))).await.expect("delivered in time");

    let rejected: Vec<(String, u16)> = seen
        .iter()
        .filter_map(|event| match event {
            DeliveryEvent::Rejected { batch, status } => Some((batch.clone(), *status)),
            _ => None,
        })
        .collect();
    assert_eq!(rejected.iter().map(|r| r.1).collect::<Vec<_>>(), [400, 413, 422]);
    let rejected_dir = spool.path().join("rejected");
    assert_eq!(batch_files(&rejected_dir), rejected.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), "only those three");
    for (batch, status) in &rejected {
        let reason: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(rejected_dir.join(batch.replace(".json", ".reason.json"))).expect("reason")).expect("json");
        assert_eq!(reason["status"], *status);
    }
    assert_eq!(ids(&receiver.accepted_messages()), ["m3"]);
    let snapshot = metrics.snapshot();
    assert_eq!((snapshot.batches_rejected, snapshot.batches_success, snapshot.spool_depth, snapshot.auth_failing), (3, 1, 0, false));
    sender.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn other_4xx_answers_keep_the_batch_and_are_retried_like_a_5xx() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    // A wrong path, a wrong method, a proxy that dislikes the content type.
    receiver.script([Reply::Error(404, "not_found"), Reply::Status(405, ""), Reply::Status(415, "")]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config(&receiver.ingest_url, spool.path()), metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    sender.handle().submit(vec![message(1)]).await.expect("submit");
    sender.handle().flush().await.expect("flush");
    let seen = events_until(&mut events, |event| matches!(event, DeliveryEvent::Delivered { .. })).await;
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|event| match event {
            DeliveryEvent::AttemptFailed { status, .. } => *status,
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [404, 405, 415]);
    assert!(seen.iter().any(|event| matches!(event, DeliveryEvent::RoundFailed { .. })), "a failed round, then the next one");
    assert!(batch_files(&spool.path().join("rejected")).is_empty());
    assert_eq!(ids(&receiver.accepted_messages()), ["m1"]);
    assert!(metrics.prometheus_text().contains("collector_delivery_attempts_total{outcome=\"client_error\"} 3"));
    assert!(!metrics.snapshot().auth_failing, "not a credential problem");
    sender.shutdown().await;
}

#[tokio::test]
async fn a_refusal_body_that_never_ends_is_read_only_in_part() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::Endless(400), Reply::Endless(401)]);
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let mut config = sender_config(&receiver.ingest_url, spool.path());
    config.batch_max_messages = 1;
    let sender = Sender::start(config, metrics.clone()).await.expect("start");
    let mut events = sender.subscribe();
    sender.handle().submit(messages(0..2)).await.expect("submit");
    // Reading either body to its end would never finish.
    let seen = tokio::time::timeout(S(60), events_until(&mut events, delivered_count(1))).await.expect("both refusals handled in time");

    let rejected = seen.iter().find_map(|event| match event {
        DeliveryEvent::Rejected { batch, status: 400 } => Some(batch.clone()),
        _ => None,
    });
    let rejected = rejected.expect("the 400 batch was rejected");
    let reason_file = spool.path().join("rejected").join(rejected.replace(".json", ".reason.json"));
    let reason: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(reason_file).expect("reason")).expect("json");
    let text = reason["reason"].as_str().unwrap_or_default();
    assert!(!text.is_empty() && text.len() <= 2048 && text.bytes().all(|b| b == b'x'), "{} bytes kept", text.len());
    // The 401 batch was kept, paused for, and delivered.
    assert_eq!(refusals(&seen).iter().map(|r| (r.1, r.2.clone())).collect::<Vec<_>>(), [(401, None)]);
    assert_eq!(ids(&receiver.accepted_messages()), ["m1"]);
    sender.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_spool_directory_is_0700_and_every_file_in_it_0600() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    receiver.script([Reply::Error(422, "invalid_payload")]);
    receiver.set_default(Reply::Error(401, "invalid_ingest_token"));
    let root = temp_dir();
    let dir = root.path().join("var/spool");
    let mut config = sender_config(&receiver.ingest_url, &dir);
    config.batch_max_messages = 1;
    let sender = Sender::start(config, Arc::new(Metrics::new())).await.expect("start");
    let mut events = sender.subscribe();
    sender.handle().submit(messages(0..2)).await.expect("submit");
    let seen = tokio::time::timeout(S(60), events_until(&mut events, |event| matches!(event, DeliveryEvent::AuthRefused { .. }))).await.expect("in time");

    let rejected = dir.join("rejected");
    assert_eq!((mode(&root.path().join("var")), mode(&dir), mode(&rejected)), (0o700, 0o700, 0o700));
    assert_eq!(mode(&dir.join(".lock")), 0o600);
    let kept = batch_files(&dir);
    assert_eq!(kept.len(), 1, "the 401 batch stays: {seen:?}");
    assert_eq!(mode(&dir.join(&kept[0])), 0o600);
    let refused = batch_files(&rejected);
    assert_eq!(refused.len(), 1);
    assert_eq!(mode(&rejected.join(&refused[0])), 0o600);
    assert_eq!(mode(&rejected.join(refused[0].replace(".json", ".reason.json"))), 0o600);
    sender.shutdown().await;
}
