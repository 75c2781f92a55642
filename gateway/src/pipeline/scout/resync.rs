//! Catalog re-sync (issue 16): every catalog is scouted again once its last scout finished more
//! than `CATALOG_RESYNC_HOURS` ago, and the scout's commit applies the difference
//! ([`super::diff`]). A background task scans now and then; each scan is one statement
//! (`store::catalogs::enqueue_due_scouts`) that re-arms the due catalogs' `scout` jobs, at most
//! [`RESYNC_BATCH`] at a time. Running it in several workers or replicas at once re-arms each
//! job once: a job that is ready, running, or finished since the cutoff is left alone.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::{Database, StoreError, catalogs};

/// Catalogs re-armed per scan; the rest wait for the next scan.
pub const RESYNC_BATCH: i64 = 1_000;

/// How often the background task scans: half the re-sync age, from 1 s to 60 s.
pub fn scan_interval(every: Duration) -> Duration {
    (every / 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// Re-arms the scout job of every catalog last scouted before `now_ms - every`; returns how many.
/// `now_ms` is the caller's clock reading (`crate::time::now_ms` in the background task).
pub async fn resync_due_catalogs(
    db: &Database,
    every: Duration,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let age_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2);
    catalogs::enqueue_due_scouts(db, now_ms.saturating_sub(age_ms), now_ms, RESYNC_BATCH).await
}

/// Scans every [`scan_interval`] until shutdown.
pub async fn resync_catalogs(db: Database, every: Duration, shutdown: CancellationToken) {
    let scan = scan_interval(every);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(scan) => {}
        }
        match resync_due_catalogs(&db, every, crate::time::now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(catalogs = n, "catalog re-sync: scouting catalogs again"),
            Err(error) => tracing::warn!(error = %error, "catalog re-sync scan failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_at_half_the_age_within_one_second_and_a_minute() {
        assert_eq!(
            scan_interval(Duration::from_secs(24 * 3_600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            scan_interval(Duration::from_secs(90)),
            Duration::from_secs(45)
        );
        assert_eq!(
            scan_interval(Duration::from_millis(500)),
            Duration::from_secs(1)
        );
    }
}
