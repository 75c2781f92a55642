//! The contract between the queue runtime and the stages. A stage does its work and returns a
//! [`StageOutcome`]; it never sleeps and never writes outside the [`StageCommit`] it hands back, so
//! its results and the next stage's jobs land in the same transaction that marks the job done.

use std::time::Duration;

use crate::store::{StoreError, tx::Tx};

/// A job the runtime has claimed (leased) for one attempt.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    /// One of `crate::domain::job::stage::*`.
    pub stage: &'static str,
    pub dedupe_key: String,
    pub payload: serde_json::Value,
    /// 1 for the first attempt.
    pub attempt: u32,
}

impl ClaimedJob {
    /// A string field of the payload, e.g. `product_id` or `phone`.
    pub fn payload_str(&self, field: &str) -> Option<&str> {
        self.payload.get(field).and_then(serde_json::Value::as_str)
    }
}

/// What one attempt of a stage came to.
pub enum StageOutcome {
    /// Success. `commit` runs in the SAME transaction that marks the job done, so results and
    /// next-stage jobs (`store::jobs::enqueue`) land atomically.
    Done(Box<dyn StageCommit>),
    /// Transient failure: retried after 2 s, 4 s, 8 s (or `retry_after` when longer); dead after that.
    Retry { error: String, status: Option<u16>, retry_after: Option<Duration> },
    /// No retries. `commit` (optional) records the outcome in the same transaction (e.g. product
    /// inactive). `dead: true` puts the job in the dead-letter state, `false` marks it done.
    Terminal { error: String, status: Option<u16>, commit: Option<Box<dyn StageCommit>>, dead: bool },
}

impl StageOutcome {
    /// Done with nothing to write.
    pub fn done_empty() -> Self {
        Self::Done(Box::new(NoCommit))
    }

    /// The label used for `job_duration{outcome}`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Done(_) => "done",
            Self::Retry { .. } => "retry",
            Self::Terminal { dead: true, .. } => "dead",
            Self::Terminal { dead: false, .. } => "terminal",
        }
    }
}

impl std::fmt::Debug for StageOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Done(_) => f.write_str("Done"),
            Self::Retry { error, status, retry_after } => f
                .debug_struct("Retry")
                .field("error", error)
                .field("status", status)
                .field("retry_after", retry_after)
                .finish(),
            Self::Terminal { error, status, commit, dead } => f
                .debug_struct("Terminal")
                .field("error", error)
                .field("status", status)
                .field("commit", &commit.is_some())
                .field("dead", dead)
                .finish(),
        }
    }
}

/// Writes a stage's results inside the job's completion transaction.
#[async_trait::async_trait]
pub trait StageCommit: Send {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError>;
}

/// A commit that writes nothing.
pub struct NoCommit;

#[async_trait::async_trait]
impl StageCommit for NoCommit {
    async fn apply(self: Box<Self>, _tx: &mut Tx) -> Result<(), StoreError> {
        Ok(())
    }
}

/// One step of the product chain.
#[async_trait::async_trait]
pub trait Stage: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// `HYDRATOR_CONCURRENCY` for hydrate, `JOB_CONCURRENCY` for the others.
    fn concurrency(&self) -> usize;
    /// Never sleeps for retries; returns and lets the queue schedule.
    async fn run(&self, job: &ClaimedJob) -> StageOutcome;
}
