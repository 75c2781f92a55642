//! Folding group summaries later (issue 17). Under concurrent load a group
//! commit stores its [`GroupSummary`] as one compact `ingest_deltas` row
//! instead of updating `chats`, `clients`, `counters` and `event_log`: those
//! rows are few and hot, so rewriting them in every commit cost most of the
//! pages each SQLite commit synced, and on PostgreSQL every concurrent commit
//! (of every replica) queued on their row locks. A fold then merges the
//! pending deltas and writes them once, deleting them in the same
//! transaction, at most [`FOLD_INTERVAL`] after the first one.
//!
//! Nothing is lost to a crash: a delta commits with its messages, and the
//! next fold (at start at the latest) applies it. Totals read through
//! [`TOTALS_SQL`] add the pending deltas, so they are exact at any moment;
//! per-chat counters and extraction due times may trail by one fold.
//! A lone request (no load) is still written directly, as before.

use std::{
    sync::LazyLock,
    time::{Duration, Instant},
};

use tokio::sync::Notify;

use super::{StoreError, group::GroupSummary};

static FOLDED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Signalled after a fold commits: per-chat due times just became visible,
/// so the extraction scheduler looks again (ingest's own wake came earlier,
/// while they were still deltas).
pub fn folded() -> &'static Notify {
    &FOLDED
}

pub(crate) fn after_fold() {
    FOLDED.notify_one();
}

/// The longest a delta waits for its fold while the load goes on.
pub const FOLD_INTERVAL: Duration = Duration::from_millis(100);
/// Deltas folded in one transaction at most (PostgreSQL; SQLite folds its own all at once).
pub const FOLD_BATCH: i64 = 2_000;

/// The persistent totals plus what pending deltas add to them (PostgreSQL's
/// `SUM` of `BIGINT` is `NUMERIC`, hence the cast).
pub const TOTALS_SQL: &str = "
    SELECT c.name, CAST(c.value + COALESCE(CASE c.name
            WHEN 'accepted' THEN d.accepted WHEN 'created' THEN d.created WHEN 'deduped' THEN d.deduped END, 0) AS BIGINT)
      FROM counters c
      CROSS JOIN (SELECT SUM(accepted) AS accepted, SUM(created) AS created, SUM(deduped) AS deduped
                    FROM ingest_deltas) d
     ORDER BY c.name";

pub fn encode(summary: &GroupSummary) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(summary).map_err(|e| StoreError::Failed(format!("cannot encode an ingest delta: {e}")))
}

pub fn decode(body: &[u8]) -> Result<GroupSummary, StoreError> {
    postcard::from_bytes(body).map_err(|e| StoreError::Failed(format!("an ingest delta does not decode: {e}")))
}

/// Merges decoded deltas, oldest first, into one summary.
pub fn merge_all(bodies: impl IntoIterator<Item = Vec<u8>>) -> Result<GroupSummary, StoreError> {
    let mut merged = GroupSummary::default();
    for body in bodies {
        merged.merge(decode(&body)?);
    }
    Ok(merged)
}

/// The SQLite writer's view of its unfolded deltas: their merged summary, the
/// last delta row, and when the first was written. Changed only after the
/// transaction that wrote or folded them commits.
#[derive(Debug, Default)]
pub struct PendingFold {
    summary: GroupSummary,
    through_id: Option<i64>,
    since: Option<Instant>,
}

/// What a group commit will do to [`PendingFold`] if it commits.
#[derive(Debug)]
pub enum FoldStep {
    /// The group appended delta row `id`, summarised by the summary.
    Appended { id: i64, summary: GroupSummary },
    /// The group wrote every pending delta and its own summary.
    Folded,
}

impl PendingFold {
    pub fn is_empty(&self) -> bool {
        self.through_id.is_none()
    }

    /// Whether the oldest pending delta has waited its [`FOLD_INTERVAL`].
    pub fn is_due(&self, now: Instant) -> bool {
        self.since.is_some_and(|since| now.duration_since(since) >= FOLD_INTERVAL)
    }

    /// How long until the pending deltas are due (zero when they are).
    pub fn time_left(&self, now: Instant) -> Duration {
        self.since.map_or(FOLD_INTERVAL, |since| FOLD_INTERVAL.saturating_sub(now.duration_since(since)))
    }

    /// The last delta row a fold deletes through, if any.
    pub fn through_id(&self) -> Option<i64> {
        self.through_id
    }

    /// The pending summary with `summary` after it: what a fold writes.
    pub fn merged_with(&self, summary: GroupSummary) -> GroupSummary {
        let mut merged = self.summary.clone();
        merged.merge(summary);
        merged
    }

    /// Records a committed step.
    pub fn apply(&mut self, step: FoldStep, now: Instant) {
        match step {
            FoldStep::Appended { id, summary } => {
                self.summary.merge(summary);
                self.through_id = Some(id);
                self.since.get_or_insert(now);
            }
            FoldStep::Folded => *self = Self::default(),
        }
    }

    /// Restores deltas a previous process committed but never folded.
    pub fn recover(bodies: Vec<(i64, Vec<u8>)>, now: Instant) -> Result<Self, StoreError> {
        let through_id = bodies.last().map(|(id, _)| *id);
        let summary = merge_all(bodies.into_iter().map(|(_, body)| body))?;
        Ok(Self { summary, through_id, since: through_id.map(|_| now) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::group::{ChatDelta, Totals};

    fn summary(chat: &str, created: i64) -> GroupSummary {
        GroupSummary {
            chats: vec![ChatDelta {
                chat_id: chat.into(),
                title: format!("{chat} title"),
                first_at_ms: 10,
                last_at_ms: 20,
                accepted: created,
                created,
                deduped: 0,
                extract_due_at_ms: Some(5_020),
                first_created_at_ms: Some(10),
            }],
            clients: vec![],
            totals: Totals { accepted: created, created, deduped: 0 },
            events: vec![],
        }
    }

    #[test]
    fn a_delta_round_trips_and_is_compact() {
        let original = summary("254700000001@c.us", 3);
        let body = encode(&original).expect("encode");
        assert_eq!(decode(&body).expect("decode"), original);
        assert!(body.len() < 80, "a one-chat delta takes {} bytes", body.len());
        assert!(decode(&body[..body.len() / 2]).is_err(), "a cut body is an error, not a smaller summary");
    }

    #[test]
    fn pending_deltas_merge_until_folded() {
        let start = Instant::now();
        let mut pending = PendingFold::default();
        assert!(pending.is_empty() && !pending.is_due(start));
        pending.apply(FoldStep::Appended { id: 7, summary: summary("a", 2) }, start);
        pending.apply(FoldStep::Appended { id: 9, summary: summary("a", 3) }, start + Duration::from_millis(60));
        assert_eq!(pending.through_id(), Some(9));
        assert!(!pending.is_due(start + Duration::from_millis(99)));
        assert!(pending.is_due(start + FOLD_INTERVAL), "the first delta's age decides");
        assert_eq!(pending.time_left(start + Duration::from_millis(40)), Duration::from_millis(60));
        let merged = pending.merged_with(summary("b", 1));
        assert_eq!((merged.totals.created, merged.chats.len(), merged.chats[0].created), (6, 2, 5));
        pending.apply(FoldStep::Folded, start);
        assert!(pending.is_empty());
    }

    #[test]
    fn recovery_merges_what_a_crash_left() {
        let bodies = vec![(3, encode(&summary("a", 1)).expect("encode")), (4, encode(&summary("a", 4)).expect("encode"))];
        let now = Instant::now();
        let pending = PendingFold::recover(bodies, now).expect("recover");
        assert_eq!(pending.through_id(), Some(4));
        assert_eq!(pending.merged_with(GroupSummary::default()).totals.created, 5);
        assert!(PendingFold::recover(vec![(1, vec![0xff, 0xff, 0xff])], now).is_err());
    }
}
