//! The durable job queue that drives the product chain: stages implement [`Stage`], the runtime
//! claims rows from the `jobs` table with a lease, runs them with per-stage concurrency, and applies
//! each outcome (done + next jobs, retry schedule, dead letter) in one transaction. Beside it run
//! the queue-depth sampler and the heartbeat that re-hydrates stale products.

pub mod background;
pub mod finish;
pub mod runtime;
pub mod schedule;
pub mod stage;

pub use runtime::{JobRuntime, RuntimeSettings};
pub use stage::{ClaimedJob, NoCommit, Stage, StageCommit, StageOutcome};
