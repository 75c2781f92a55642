//! Periodic work beside the queue: the queue-depth gauge sampled from the `jobs` table (so it is
//! right across processes), and the heartbeat that hydrates again products whose last hydration
//! is older than `HEARTBEAT_HOURS` (unchanged content then stops at hydrate: seed 003 §2.4).

use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::domain::job::stage;
use crate::{
    metrics::{JOB_DEPTH_STATES, JOB_STAGES, Metrics},
    store::{Database, StoreError, jobs::{self, NewJob}, jobs_admin, products},
};

pub const DEPTH_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// Products re-armed per heartbeat scan; the rest wait for the next scan.
const HEARTBEAT_BATCH: i64 = 1_000;

/// Sets `jobs_queue_depth{stage,state}` from the table until shutdown.
pub async fn sample_queue_depth(db: Database, metrics: Arc<Metrics>, shutdown: CancellationToken) {
    loop {
        if let Err(error) = sample_once(&db, &metrics).await {
            tracing::warn!(error = %error, "could not sample the job queue depth");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(DEPTH_SAMPLE_INTERVAL) => {}
        }
    }
}

pub async fn sample_once(db: &Database, metrics: &Metrics) -> Result<(), StoreError> {
    let counts = jobs_admin::counts(db, crate::time::now_ms()).await?;
    for stage in JOB_STAGES {
        for state in JOB_DEPTH_STATES {
            let n = counts.iter().find(|c| c.stage == stage && c.state == state).map_or(0, |c| c.count);
            metrics.jobs_queue_depth.with_label_values(&[stage, state]).set(n);
        }
    }
    Ok(())
}

/// Scans for stale products every `min(heartbeat / 2, 60 s)` (at least 1 s) until shutdown.
pub async fn heartbeat(db: Database, every: Duration, shutdown: CancellationToken) {
    let scan = (every / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(scan) => {}
        }
        match rearm_stale(&db, every).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(products = n, "heartbeat: hydrating stale products again"),
            Err(error) => tracing::warn!(error = %error, "heartbeat scan failed"),
        }
    }
}

/// Re-arms the hydrate job of every active product hydrated longer than `every` ago.
pub async fn rearm_stale(db: &Database, every: Duration) -> Result<usize, StoreError> {
    let now = crate::time::now_ms();
    let cutoff = now - i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2);
    let due = products::due_for_heartbeat(db, cutoff, HEARTBEAT_BATCH).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin_write().await?;
    let mut armed = 0;
    for (product_id, phone) in &due {
        let payload = json!({"product_id": product_id, "phone": phone});
        let job = NewJob { stage: stage::HYDRATE, dedupe_key: product_id, payload: &payload, run_at_ms: now };
        armed += usize::from(jobs::enqueue(&mut tx, job).await?);
    }
    tx.commit().await?;
    Ok(armed)
}
