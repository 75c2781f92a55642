//! `collector watch`: files dropped into a directory are posted once, even
//! across restarts, and only after they stopped changing.

use crate::receiver::Receiver;
use crate::{SECRET, TOKEN, sender_config, temp_dir};
use collector_client::config::ExportSettings;
use collector_client::export::parse_utc_offset;
use collector_client::sources::watch::{WatchConfig, Watcher};
use collector_client::{Metrics, Sender};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn export_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports").join(name)
}

fn watch_config(dir: &Path, state: &Path) -> WatchConfig {
    WatchConfig {
        dir: dir.to_owned(),
        poll_interval: Duration::from_millis(100),
        state_file: state.to_owned(),
        export: ExportSettings { utc_offset: parse_utc_offset("+03:00").expect("offset"), date_order: None },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_exports_are_posted_once_even_across_restarts() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let inbox = temp_dir();
    let state = spool.path().join("watch-state.json");
    let metrics = Arc::new(Metrics::new());
    let mut settings = sender_config(&receiver.ingest_url, spool.path());
    settings.flush_interval = Duration::from_millis(20);
    let sender = Sender::start(settings.clone(), metrics.clone()).await.expect("sender");

    let mut watcher = Watcher::new(watch_config(inbox.path(), &state), sender.handle(), metrics.clone()).expect("watcher");
    let first_scan = watcher.scan().await.expect("scan");
    assert!(first_scan.posted.is_empty());

    std::fs::copy(export_fixture("WhatsApp Chat with Eastleigh Traders.txt"), inbox.path().join("WhatsApp Chat with Eastleigh Traders.txt")).expect("copy");
    std::fs::copy(export_fixture("WhatsApp Chat - Nakuru Mobile Hub.zip"), inbox.path().join("WhatsApp Chat - Nakuru Mobile Hub.zip")).expect("copy");
    std::fs::write(inbox.path().join("notes.txt"), "just a shopping list\nmilk\n").expect("write");
    std::fs::write(inbox.path().join("photo.jpg"), b"\xff\xd8").expect("write");

    let seen = watcher.scan().await.expect("scan");
    assert_eq!((seen.posted.len(), seen.settling), (0, 3), "new files wait one interval to settle");
    let taken = watcher.scan().await.expect("scan");
    assert_eq!(taken.posted, ["WhatsApp Chat - Nakuru Mobile Hub.zip", "WhatsApp Chat with Eastleigh Traders.txt"]);
    assert_eq!(taken.failed, ["notes.txt"]);
    let again = watcher.scan().await.expect("scan");
    assert_eq!(again, Default::default(), "nothing is taken twice and failures are not retried until the file changes");

    // The same export under another name is recognised by its content.
    std::fs::copy(export_fixture("WhatsApp Chat with Eastleigh Traders.txt"), inbox.path().join("WhatsApp Chat with Eastleigh Traders (1).txt")).expect("copy");
    watcher.scan().await.expect("scan");
    assert_eq!(watcher.scan().await.expect("scan").already_posted, ["WhatsApp Chat with Eastleigh Traders (1).txt"]);

    // A restart reads the state file and posts nothing again.
    let mut restarted = Watcher::new(watch_config(inbox.path(), &state), sender.handle(), metrics.clone()).expect("watcher");
    assert_eq!(restarted.state().posted.len(), 2);
    restarted.scan().await.expect("scan");
    let after_restart = restarted.scan().await.expect("scan");
    assert!(after_restart.posted.is_empty(), "{after_restart:?}");
    assert_eq!(after_restart.already_posted.len(), 3);

    sender.handle().flush().await.expect("flush");
    for _ in 0..600 {
        if receiver.accepted_messages().len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let titles: Vec<String> = receiver.accepted_messages().iter().map(|m| m.chat_title.clone()).collect();
    assert_eq!(titles.iter().filter(|t| *t == "Nakuru Mobile Hub").count(), 3);
    assert_eq!(titles.iter().filter(|t| *t == "Eastleigh Traders").count(), 3);
    assert_eq!(titles.len(), 6, "each file's messages exactly once");
    sender.shutdown().await;
}

#[tokio::test]
async fn an_unreadable_directory_closes_the_connection_status() {
    let spool = temp_dir();
    let metrics = Arc::new(Metrics::new());
    let sender = Sender::start(sender_config("http://127.0.0.1:9/integrations/whatsapp/ingest", spool.path()), metrics.clone()).await.expect("sender");
    let missing = spool.path().join("no-such-dir");
    let mut watcher = Watcher::new(watch_config(&missing, &spool.path().join("state.json")), sender.handle(), metrics.clone()).expect("watcher");
    watcher.scan().await.expect("scan");
    assert_eq!(metrics.connection_status(), collector_client::ConnectionStatus::Closed);
    std::fs::create_dir(&missing).expect("mkdir");
    watcher.scan().await.expect("scan");
    assert_ne!(metrics.connection_status(), collector_client::ConnectionStatus::Closed);
    sender.shutdown().await;
}
