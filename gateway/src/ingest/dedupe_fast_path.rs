//! The Redis dedupe fast path (scale-out only: PostgreSQL plus `REDIS_URL`).
//! It is an accelerator, never a source of truth: the database's unique
//! constraints (`messages_message_key`, `content_hashes`) decide what is a
//! duplicate, and this module only lets a gateway skip the database's dedupe
//! probes for messages that are *proven* duplicates.
//!
//! **Markers.** After a group commit (never before), each message the
//! database *created* leaves markers whose value is its stored id:
//! `prefix:dk:<message key>` when it has an upstream id, and
//! `prefix:dc:<content hash>` when it is deduplicated by content. They are
//! written with `SET NX PX`, so an existing marker is never moved.
//!
//! **Lookups.** Before the write, one `MGET` looks up a marker per message,
//! mirroring the order the database decides in (`soko_store_messages`):
//! a message with an upstream id is looked up by its key only (the database
//! checks the key first, and its content check only runs for new keys); a
//! message without one by its content hash. A hit marks the message
//! `known_duplicate_of(id)`: the writer answers "duplicate" with that id and
//! counts it, without sending it to the database function.
//!
//! **Why a hit is always true.** A marker exists only if the message it
//! names was committed, because it is written after the commit returned.
//! Message keys are unique forever, so a key marker stays true for its whole
//! life. A content marker lives for what is left of the content window at
//! the time it is written, minus [`CLOCK_SKEW_MARGIN`] (gateways compare the
//! window against their own clocks), so it expires before the database would
//! let that content in again.
//!
//! **Why a miss, a flush or an outage is harmless.** No marker only means the
//! message goes to the database, which decides exactly as without Redis:
//! two gateways racing with the same message both miss, both reach
//! `soko_store_messages`, and the unique indexes let exactly one create it.
//! A marker written late (after a concurrent twin already went to the
//! database) changes nothing for the same reason. Redis errors and timeouts
//! make every lookup a miss and every marker write a no-op, so an outage
//! never creates a duplicate and never loses a message.

use std::{sync::Arc, time::Duration};

use prometheus::IntCounter;

use crate::{
    domain::{MessageOutcome, PreparedBatch, PreparedMessage},
    metrics::Metrics,
    redis_link::{RedisLink, RedisUse},
    time::now_ms,
};

/// Content markers expire this much before the database's window closes.
pub const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(10);
/// Key markers are true forever; this only bounds Redis memory.
const KEY_MARKER_TTL: Duration = Duration::from_secs(24 * 3_600);

/// What the markers of a batch need, kept while the batch itself goes to
/// the writer.
pub struct MarkerPlan {
    received_at_ms: i64,
    messages: Vec<MarkerSource>,
}

struct MarkerSource {
    message_key: Option<[u8; 16]>,
    content_hash: [u8; 32],
    dedupe_by_content: bool,
}

impl MarkerPlan {
    pub fn of(batch: &PreparedBatch) -> Self {
        Self {
            received_at_ms: batch.received_at_ms,
            messages: batch
                .messages
                .iter()
                .map(|m| MarkerSource {
                    message_key: m.message_key,
                    content_hash: m.content_hash,
                    dedupe_by_content: m.dedupe_by_content,
                })
                .collect(),
        }
    }
}

#[derive(Clone)]
pub struct DedupeFastPath {
    link: Arc<RedisLink>,
    content_window: Duration,
    /// `soko_dedupe_fast_path_hits_total`: duplicates proven by a marker.
    hits: IntCounter,
}

impl DedupeFastPath {
    pub fn new(link: Arc<RedisLink>, content_window: Duration, metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let hits = IntCounter::new(
            "soko_dedupe_fast_path_hits_total",
            "Messages a Redis marker proved to be duplicates, so the database was not probed for them",
        )?;
        metrics.register(Box::new(hits.clone()))?;
        Ok(Self { link, content_window, hits })
    }

    fn lookup_key(&self, message: &PreparedMessage) -> Option<String> {
        match (&message.message_key, message.dedupe_by_content) {
            (Some(key), _) => Some(self.link.key("dk", &hex::encode(key))),
            (None, true) => Some(self.link.key("dc", &hex::encode(message.content_hash))),
            (None, false) => None,
        }
    }

    /// Marks the messages a marker proves to be duplicates; one round trip.
    pub async fn mark_known_duplicates(&self, batch: &mut PreparedBatch) -> usize {
        let (indexes, keys): (Vec<usize>, Vec<String>) = batch
            .messages
            .iter()
            .enumerate()
            .filter_map(|(index, message)| self.lookup_key(message).map(|key| (index, key)))
            .unzip();
        if keys.is_empty() {
            return 0;
        }
        let found = self
            .link
            .call(RedisUse::Dedupe, |mut connection| async move {
                redis::cmd("MGET").arg(&keys).query_async::<Vec<Option<i64>>>(&mut connection).await
            })
            .await;
        let Some(found) = found else { return 0 };
        let mut known = 0;
        for (index, stored) in indexes.into_iter().zip(found) {
            if let (Some(message), Some(stored)) = (batch.messages.get_mut(index), stored) {
                message.known_duplicate_of = Some(stored);
                known += 1;
            }
        }
        self.hits.inc_by(known as u64);
        known
    }

    /// Writes markers for what the committed batch created. Runs after the
    /// commit, off the request path; failures only cost future fast paths.
    pub async fn remember(&self, plan: MarkerPlan, outcomes: &[MessageOutcome]) {
        let content_ttl = self
            .content_window
            .checked_sub(Duration::from_millis(u64::try_from(now_ms() - plan.received_at_ms).unwrap_or(0)))
            .and_then(|left| left.checked_sub(CLOCK_SKEW_MARGIN));
        let mut pipeline = redis::pipe();
        let mut markers = 0;
        for (message, outcome) in plan.messages.iter().zip(outcomes) {
            let (true, Some(stored)) = (outcome.created, outcome.message_pk) else { continue };
            if let Some(key) = &message.message_key {
                let ttl = KEY_MARKER_TTL.as_millis() as u64;
                pipeline.cmd("SET").arg(self.link.key("dk", &hex::encode(key))).arg(stored).arg("NX").arg("PX").arg(ttl).ignore();
                markers += 1;
            }
            if let (true, Some(ttl)) = (message.dedupe_by_content, content_ttl.filter(|t| !t.is_zero())) {
                let ttl = ttl.as_millis() as u64;
                let key = self.link.key("dc", &hex::encode(message.content_hash));
                pipeline.cmd("SET").arg(key).arg(stored).arg("NX").arg("PX").arg(ttl.max(1)).ignore();
                markers += 1;
            }
        }
        if markers == 0 {
            return;
        }
        self.link
            .call(RedisUse::Dedupe, |mut connection| async move { pipeline.query_async::<()>(&mut connection).await })
            .await;
    }
}
