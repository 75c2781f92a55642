//! The queue runtime: one dispatcher per stage claims due jobs (leased) up to the stage's free
//! concurrency, runs each attempt in its own task, and hands the outcome to the finisher, which
//! writes it (with the stage's commit) in one transaction. Dispatchers wake at once when a commit
//! in this process enqueued work for their stage, and otherwise poll briefly for work from other
//! processes, retries coming due and expired leases. On shutdown nothing new is claimed;
//! attempts in flight get a short grace to finish, then their jobs are released unrun.

use std::{sync::Arc, time::{Duration, Instant}};

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    finish::{Finished, run_finisher},
    stage::{ClaimedJob, Stage, StageOutcome},
};
use crate::{
    metrics::Metrics,
    store::{Database, jobs},
};

/// How long attempts in flight may run on after shutdown before their jobs are released.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Wait after a database error before claiming again.
const CLAIM_ERROR_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    pub lease: Duration,
    pub poll: Duration,
}

pub struct JobRuntime;

impl JobRuntime {
    /// Starts a dispatcher per stage and the finisher on `tasks`; they stop with `shutdown`.
    pub fn spawn(
        db: Database,
        metrics: Arc<Metrics>,
        stages: Vec<Arc<dyn Stage>>,
        settings: RuntimeSettings,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) {
        let capacity = stages.iter().map(|s| s.concurrency()).sum::<usize>().max(1) * 2;
        let (finished_tx, finished_rx) = mpsc::channel(capacity);
        tasks.spawn(run_finisher(db.clone(), metrics, finished_rx));
        let worker = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        for stage in stages {
            let Some(signal) = jobs::wake::signal(stage.name()) else {
                tracing::error!(stage = stage.name(), "unknown stage name; its jobs will not run");
                continue;
            };
            let dispatcher = Dispatcher {
                db: db.clone(),
                slots: Arc::new(Semaphore::new(stage.concurrency().max(1))),
                stage,
                signal,
                settings: settings.clone(),
                worker: worker.clone(),
                finished: finished_tx.clone(),
                shutdown: shutdown.clone(),
                tasks: tasks.clone(),
            };
            tasks.spawn(dispatcher.run());
        }
    }
}

struct Dispatcher {
    db: Database,
    stage: Arc<dyn Stage>,
    slots: Arc<Semaphore>,
    signal: &'static Notify,
    settings: RuntimeSettings,
    worker: String,
    finished: mpsc::Sender<Finished>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Dispatcher {
    async fn run(self) {
        let name = self.stage.name();
        loop {
            let first = tokio::select! {
                () = self.shutdown.cancelled() => break,
                permit = self.slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
            };
            // Registered before claiming, so a commit between the claim and the wait still wakes us.
            let woken = self.signal.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let mut permits = vec![first];
            while let Ok(permit) = self.slots.clone().try_acquire_owned() {
                permits.push(permit);
            }
            let wanted = permits.len();
            let token: Arc<str> = Arc::from(format!("{}-{}", self.worker, uuid::Uuid::new_v4().simple()));
            let now = crate::time::now_ms();
            let lease_ms = i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX / 4);
            let claimed = jobs::claim(&self.db, name, &token, now, lease_ms, wanted as i64).await;
            let rows = match claimed {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::warn!(error = %error, stage = name, "could not claim jobs");
                    drop(permits);
                    tokio::select! {
                        () = self.shutdown.cancelled() => break,
                        () = tokio::time::sleep(CLAIM_ERROR_BACKOFF) => continue,
                    }
                }
            };
            let got = rows.len();
            for (row, permit) in rows.into_iter().zip(permits.drain(..)) {
                let payload = serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null);
                let job = ClaimedJob {
                    id: row.id,
                    stage: name,
                    dedupe_key: row.dedupe_key,
                    payload,
                    attempt: u32::try_from(row.attempts).unwrap_or(1).max(1),
                };
                let max_attempts = u32::try_from(row.max_attempts).unwrap_or(4);
                let attempt = Attempt {
                    db: self.db.clone(),
                    stage: self.stage.clone(),
                    token: token.clone(),
                    finished: self.finished.clone(),
                    shutdown: self.shutdown.clone(),
                    lease: self.settings.lease,
                };
                self.tasks.spawn(async move {
                    attempt.run(job, max_attempts).await;
                    drop(permit);
                });
            }
            drop(permits);
            if got == wanted {
                continue;
            }
            let wait = self.idle_wait().await;
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                () = &mut woken => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        tracing::debug!(stage = name, "dispatcher stopped");
    }

    /// Until the next poll, or sooner when a retry or a lease comes due.
    async fn idle_wait(&self) -> Duration {
        let poll = self.settings.poll;
        match jobs::next_due_ms(&self.db, self.stage.name()).await {
            Ok(Some(due)) => {
                let until = u64::try_from(due - crate::time::now_ms()).unwrap_or(0);
                poll.min(Duration::from_millis(until.max(5)))
            }
            _ => poll,
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn renew_lease(db: Database, id: i64, token: Arc<str>, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(20));
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 4);
    loop {
        tokio::time::sleep(every).await;
        match jobs::extend_lease(&db, id, &token, crate::time::now_ms().saturating_add(lease_ms)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(error = %error, job_id = id, "could not renew a job's lease"),
        }
    }
}

struct Attempt {
    db: Database,
    stage: Arc<dyn Stage>,
    token: Arc<str>,
    finished: mpsc::Sender<Finished>,
    shutdown: CancellationToken,
    lease: Duration,
}

impl Attempt {
    async fn run(self, job: ClaimedJob, max_attempts: u32) {
        let started = Instant::now();
        let (stage, for_task) = (self.stage.clone(), job.clone());
        // A task of its own, so a panicking stage becomes a retry instead of a lost worker.
        let mut running = tokio::spawn(async move { stage.run(&for_task).await });
        // The lease is renewed every third of it while the attempt runs, so a long one (a large
        // import, OCR, LLM calls) is never claimed again underneath itself; a process that dies
        // stops renewing, and its jobs come due when the lease runs out.
        let renewing = tokio::spawn(renew_lease(self.db.clone(), job.id, self.token.clone(), self.lease));
        let _stop_renewing = AbortOnDrop(renewing);
        let grace = async {
            self.shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let outcome = tokio::select! {
            joined = &mut running => match joined {
                Ok(outcome) => outcome,
                Err(error) => StageOutcome::Retry { error: format!("stage task failed: {error}"), status: None, retry_after: None },
            },
            () = grace => {
                running.abort();
                if let Err(error) = jobs::release(&self.db, job.id, &self.token, crate::time::now_ms()).await {
                    tracing::warn!(error = %error, job_id = job.id, "could not release a job at shutdown; its lease will expire");
                }
                return;
            }
        };
        let finished = Finished { job, token: self.token, max_attempts, outcome, started };
        if self.finished.send(finished).await.is_err() {
            tracing::warn!("the job finisher has stopped; the outcome is dropped and the job will run again");
        }
    }
}
