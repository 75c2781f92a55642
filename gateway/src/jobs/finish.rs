//! Applying attempt outcomes. Finished attempts queue here and are written in groups: one
//! transaction per group (one fsync on SQLite, one round trip burst on PostgreSQL), each job
//! inside its own savepoint, so a stage commit that fails rolls back alone and its job is
//! scheduled again. Marking a job done and applying its [`StageCommit`] share that
//! transaction, so next-stage jobs land exactly when the job is done.

use std::{sync::Arc, time::{Duration, Instant}};

use tokio::sync::mpsc;

use super::{
    schedule::{RetryDecision, after_failure},
    stage::{ClaimedJob, StageOutcome},
};
use crate::{
    metrics::Metrics,
    store::{Database, StoreError, jobs, tx::{Tx, on_tx}},
};

/// Most outcomes written in one transaction.
const MAX_GROUP: usize = 256;

/// One attempt's result, on its way to the database.
pub struct Finished {
    pub job: ClaimedJob,
    pub token: Arc<str>,
    pub max_attempts: u32,
    pub outcome: StageOutcome,
    pub started: Instant,
}

/// What was written, for metrics after the commit.
enum Written {
    Done,
    Retry,
    Dead,
    Terminal,
    LeaseLost,
}

/// Drains `rx` until every sender is gone, writing outcomes in groups.
pub async fn run_finisher(db: Database, metrics: Arc<Metrics>, mut rx: mpsc::Receiver<Finished>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let labels: Vec<(&'static str, &'static str, Duration)> =
            group.iter().map(|f| (f.job.stage, f.outcome.label(), f.started.elapsed())).collect();
        match write_group(&db, std::mem::take(&mut group)).await {
            Ok(written) => {
                for ((stage, label, elapsed), written) in labels.into_iter().zip(written) {
                    let label = match written {
                        Written::Dead => "dead",
                        Written::LeaseLost => continue,
                        _ => label,
                    };
                    metrics.job_duration.with_label_values(&[stage, label]).observe(elapsed.as_secs_f64());
                    match written {
                        Written::Retry => {
                            metrics.job_retries.with_label_values(&[stage]).inc();
                            // An idle dispatcher sleeps until its next due job; this one may be sooner.
                            jobs::wake::after_commit(jobs::wake::index(stage));
                        }
                        Written::Dead => metrics.jobs_dead.with_label_values(&[stage]).inc(),
                        Written::Done | Written::Terminal | Written::LeaseLost => {}
                    }
                }
            }
            // The jobs stay leased; they run again when the lease expires (at least once).
            Err(error) => tracing::error!(error = %error, jobs = labels.len(), "could not record job outcomes; they will run again after their lease"),
        }
    }
}

async fn write_group(db: &Database, group: Vec<Finished>) -> Result<Vec<Written>, StoreError> {
    let mut tx = db.begin_write().await?;
    let mut written = Vec::with_capacity(group.len());
    for finished in group {
        let (id, stage, token) = (finished.job.id, finished.job.stage, finished.token.clone());
        let (attempt, max_attempts) = (finished.job.attempt, finished.max_attempts);
        savepoint(&mut tx, "SAVEPOINT job_outcome").await?;
        match write_one(&mut tx, finished).await {
            Ok(w) => {
                savepoint(&mut tx, "RELEASE SAVEPOINT job_outcome").await?;
                written.push(w);
            }
            Err(error) => {
                savepoint(&mut tx, "ROLLBACK TO SAVEPOINT job_outcome").await?;
                savepoint(&mut tx, "RELEASE SAVEPOINT job_outcome").await?;
                tracing::warn!(error = %error, job_id = id, stage, "a stage's commit failed; scheduling the job again");
                let message = format!("commit failed: {error}");
                let now = crate::time::now_ms();
                let w = match after_failure(attempt, max_attempts, None) {
                    RetryDecision::RunAgainAfter(wait) => {
                        let run_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                        match jobs::mark_retry(&mut tx, id, &token, run_at, &message, None, now).await? {
                            true => Written::Retry,
                            false => Written::LeaseLost,
                        }
                    }
                    RetryDecision::GiveUp => match jobs::mark_dead(&mut tx, id, &token, &message, None, now).await? {
                        true => Written::Dead,
                        false => Written::LeaseLost,
                    },
                };
                written.push(w);
            }
        }
    }
    tx.commit().await?;
    Ok(written)
}

async fn savepoint(tx: &mut Tx, sql: &str) -> Result<(), StoreError> {
    on_tx!(tx, |conn| sqlx::query(sql).execute(conn).await?.rows_affected());
    Ok(())
}

async fn write_one(tx: &mut Tx, finished: Finished) -> Result<Written, StoreError> {
    let Finished { job, token, max_attempts, outcome, .. } = finished;
    let now = crate::time::now_ms();
    Ok(match outcome {
        StageOutcome::Done(commit) => {
            if !jobs::mark_done(tx, job.id, &token, None, now).await? {
                return Ok(Written::LeaseLost);
            }
            commit.apply(tx).await?;
            Written::Done
        }
        StageOutcome::Retry { error, status, retry_after } => match after_failure(job.attempt, max_attempts, retry_after) {
            RetryDecision::RunAgainAfter(wait) => {
                let run_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                if !jobs::mark_retry(tx, job.id, &token, run_at, &error, status, now).await? {
                    return Ok(Written::LeaseLost);
                }
                Written::Retry
            }
            RetryDecision::GiveUp => {
                let error = format!("gave up after {} attempts: {error}", job.attempt);
                if !jobs::mark_dead(tx, job.id, &token, &error, status, now).await? {
                    return Ok(Written::LeaseLost);
                }
                Written::Dead
            }
        },
        StageOutcome::Terminal { error, status, commit, dead } => {
            let marked = if dead {
                jobs::mark_dead(tx, job.id, &token, &error, status, now).await?
            } else {
                jobs::mark_done(tx, job.id, &token, Some((&error, status)), now).await?
            };
            if !marked {
                return Ok(Written::LeaseLost);
            }
            if let Some(commit) = commit {
                commit.apply(tx).await?;
            }
            if dead { Written::Dead } else { Written::Terminal }
        }
    })
}
