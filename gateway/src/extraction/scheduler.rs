//! The extraction scheduler: claims due chats and runs them, then sleeps
//! until the next chat falls due (at most `idle_poll`, so replicas see each
//! other's chats), or until ingest wakes it. Errors back off; shutdown stops
//! claiming and lets running extractions finish.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::ExtractionService;
use crate::time::now_ms;

pub async fn run(service: Arc<ExtractionService>, shutdown: CancellationToken) {
    tracing::info!("extraction scheduler started");
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let pause = match service.run_due().await {
            Ok(claimed) if claimed > 0 => {
                failures = 0;
                continue;
            }
            Ok(_) => {
                failures = 0;
                idle_pause(&service).await
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
            () = service.wake.notified() => {},
            () = tokio::time::sleep(pause) => {},
        }
    }
    tracing::info!("extraction scheduler stopped");
}

async fn idle_pause(service: &ExtractionService) -> Duration {
    let idle = service.config.idle_poll;
    match service.next_due_at().await {
        Ok(Some(due)) => Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)).min(idle),
        _ => idle,
    }
}
