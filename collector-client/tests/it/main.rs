//! Integration tests of the collector: real HTTP servers on 127.0.0.1:0,
//! real spool directories, the real `collector` binary. One test binary
//! keeps link time down.

mod cli;
mod exports;
mod keep_spool;
mod receiver;
mod relay;
mod sender;
mod status;
mod watch;

use collector_client::message::IngestMessage;
use collector_client::sender::{DeliveryEvent, SenderConfig};
use secrecy::SecretString;
use std::path::Path;
use tokio::sync::broadcast;

pub const TOKEN: &str = "test-token";
pub const SECRET: &str = "super-secret";

pub fn message(n: usize) -> IngestMessage {
    IngestMessage {
        chat_title: "Test Chat".into(),
        message_id: Some(format!("m{n}")),
        text: Some(format!("Offer {n}: Tecno Spark {n} - {}k", 10 + n)),
        ..IngestMessage::default()
    }
}

pub fn messages(range: std::ops::Range<usize>) -> Vec<IngestMessage> {
    range.map(message).collect()
}

/// Issue #5 defaults, with no client timeouts: on a paused clock a pending
/// timeout would be fast-forwarded while a real socket waits.
pub fn sender_config(ingest_url: &str, spool: &Path) -> SenderConfig {
    let url = url::Url::parse(ingest_url).expect("url");
    let mut config = SenderConfig::new(url, SecretString::from(TOKEN.to_owned()), "it-collector", spool);
    config.hmac_secret = Some(SecretString::from(SECRET.to_owned()));
    config.request_timeout = None;
    config.connect_timeout = None;
    config
}

/// Events up to and including the first one `done` accepts.
pub async fn events_until(events: &mut broadcast::Receiver<DeliveryEvent>, mut done: impl FnMut(&DeliveryEvent) -> bool) -> Vec<DeliveryEvent> {
    let mut seen = Vec::new();
    loop {
        match events.recv().await {
            Ok(event) => {
                let finished = done(&event);
                seen.push(event);
                if finished {
                    return seen;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => panic!("sender stopped before the expected event; saw {seen:?}"),
        }
    }
}

pub fn ids(messages: &[IngestMessage]) -> Vec<String> {
    messages.iter().filter_map(|m| m.message_id.clone()).collect()
}

/// Batch files (`b….json`) directly in `dir`: the spool, or its `rejected/`.
pub fn batch_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with('b') && n.ends_with(".json") && !n.ends_with(".reason.json")).collect())
        .unwrap_or_default();
    names.sort();
    names
}

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
