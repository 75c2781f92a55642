//! The extraction scheduler: claims due chats and runs them, then sleeps
//! until the next chat falls due (at most `idle_poll`, so replicas see each
//! other's chats), or until ingest wakes it. Errors back off; shutdown stops
//! claiming and lets running extractions finish.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::ExtractionService;
use crate::time::now_ms;

/// Ingest wakes the scheduler on every batch, but the due times it sets lie a
/// debounce window ahead: a burst of wakes is coalesced into one pass.
const WAKE_COALESCE: Duration = Duration::from_millis(25);

pub async fn run(service: Arc<ExtractionService>, shutdown: CancellationToken) {
    tracing::info!("extraction scheduler started");
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let pause = match pass(&service).await {
            Ok(None) => {
                failures = 0;
                continue;
            }
            Ok(Some(pause)) => {
                failures = 0;
                pause
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let backoff = Duration::from_millis(250 * 2u64.saturating_pow(failures.min(6)));
                tracing::warn!(error = %error, backoff_ms = backoff.as_millis() as u64, "extraction scheduler cannot claim chats");
                backoff
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = service.wake.notified() => {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(WAKE_COALESCE) => {},
                }
            },
            () = crate::store::summary_fold::folded().notified() => {},
            () = tokio::time::sleep(pause) => {},
        }
    }
    tracing::info!("extraction scheduler stopped");
}

/// One pass: claims and runs due chats (`None`: look again at once), or says
/// how long to wait. Claiming is a write transaction, so it is only tried when
/// a read shows a chat is due; a pass that claims nothing never takes
/// SQLite's write lock away from ingest.
async fn pass(service: &ExtractionService) -> Result<Option<Duration>, super::ExtractionError> {
    let idle = service.config.idle_poll;
    match service.next_due_at().await? {
        Some(due) if due <= now_ms() => {
            let claimed = service.run_due().await?;
            Ok(if claimed > 0 { None } else { Some(idle.min(Duration::from_millis(100))) })
        }
        Some(due) => Ok(Some(Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)).min(idle))),
        None => Ok(Some(idle)),
    }
}
