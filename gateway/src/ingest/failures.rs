//! Rejected ingest requests: counted at once (Prometheus and the pending
//! deltas of the persistent totals) and logged to a bounded in-memory buffer
//! that a background task flushes to the `ingest_failures` table twice a
//! second. A flood of bad requests therefore costs one small write per flush,
//! and when the buffer is full the oldest records are dropped (and counted),
//! never the totals.

use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::http::errors::ApiError;

const BUFFER_CAPACITY: usize = 2_000;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FailureRecord {
    pub at_ms: i64,
    pub client_id: Option<String>,
    pub chat_title: Option<String>,
    pub status: u16,
    pub code: &'static str,
    pub reason: String,
    pub request_id: String,
}

/// What one flush writes: records, counter increments, and the row cap.
#[derive(Debug, Default)]
pub struct FailureFlush {
    pub records: Vec<FailureRecord>,
    pub counter_deltas: Vec<(&'static str, i64)>,
    pub keep_rows: u32,
}

impl FailureFlush {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.counter_deltas.is_empty()
    }
}

#[derive(Default)]
struct Pending {
    records: VecDeque<FailureRecord>,
    // Taken by the flusher but not yet confirmed written: still reported.
    in_flight: Vec<FailureRecord>,
    counters: [i64; COUNTER_NAMES.len()],
}

const COUNTER_NAMES: [&str; 5] = ["auth_failures", "forbidden", "signature_failures", "rate_limited", "rejected"];

fn counter_slot(name: &str) -> usize {
    COUNTER_NAMES.iter().position(|known| *known == name).unwrap_or(COUNTER_NAMES.len() - 1)
}

pub struct FailureRecorder {
    pending: Mutex<Pending>,
    keep_rows: u32,
}

/// The totals a rejection adds to, named as in `/metrics/whatsapp`.
pub fn counters_for(error: &ApiError) -> &'static [&'static str] {
    match error {
        ApiError::InvalidToken => &["auth_failures"],
        e if e.is_signature_failure() => &["forbidden", "signature_failures"],
        ApiError::IpNotAllowed => &["forbidden"],
        ApiError::RateLimited(_) => &["rate_limited"],
        ApiError::Unavailable { .. } | ApiError::Internal(_) => &[],
        _ => &["rejected"],
    }
}

impl FailureRecorder {
    pub fn new(keep_rows: u32) -> Self {
        Self { pending: Mutex::new(Pending::default()), keep_rows }
    }

    /// Returns how many buffered records were dropped to make room (0 or 1).
    pub fn record(&self, record: FailureRecord, counters: &[&'static str]) -> u64 {
        let mut pending = self.pending.lock();
        for counter in counters {
            pending.counters[counter_slot(counter)] += 1;
        }
        let mut dropped = 0;
        if pending.records.len() >= BUFFER_CAPACITY {
            pending.records.pop_front();
            dropped = 1;
        }
        pending.records.push_back(record);
        dropped
    }

    /// What the next flush should write. Counters stay pending (and reported)
    /// until [`acknowledge`](Self::acknowledge) confirms the write.
    pub fn take(&self) -> FailureFlush {
        let mut pending = self.pending.lock();
        let records: Vec<FailureRecord> = pending.records.drain(..).collect();
        pending.in_flight.clone_from(&records);
        let counter_deltas = COUNTER_NAMES
            .iter()
            .zip(pending.counters)
            .filter(|(_, delta)| *delta != 0)
            .map(|(name, delta)| (*name, delta))
            .collect();
        FailureFlush { records, counter_deltas, keep_rows: self.keep_rows }
    }

    pub fn acknowledge(&self, flush: &FailureFlush) {
        let mut pending = self.pending.lock();
        for (name, delta) in &flush.counter_deltas {
            pending.counters[counter_slot(name)] -= delta;
        }
        pending.in_flight.clear();
    }

    /// A flush that could not be written goes back in front of newer records.
    pub fn restore(&self) {
        let mut pending = self.pending.lock();
        let in_flight = std::mem::take(&mut pending.in_flight);
        for record in in_flight.into_iter().rev() {
            if pending.records.len() >= BUFFER_CAPACITY {
                break;
            }
            pending.records.push_front(record);
        }
    }

    /// Unflushed increments, so totals read between flushes are exact.
    pub fn pending_counters(&self) -> Vec<(&'static str, i64)> {
        let pending = self.pending.lock();
        COUNTER_NAMES.iter().copied().zip(pending.counters).collect()
    }

    /// Records not yet confirmed written, newest first.
    pub fn pending_records(&self) -> Vec<FailureRecord> {
        let pending = self.pending.lock();
        pending.records.iter().rev().chain(pending.in_flight.iter().rev()).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: i64) -> FailureRecord {
        FailureRecord { at_ms: n, client_id: None, chat_title: None, status: 401, code: "invalid_ingest_token", reason: "r".into(), request_id: n.to_string() }
    }

    #[test]
    fn counts_survive_a_full_buffer_and_a_failed_flush() {
        let recorder = FailureRecorder::new(50);
        let mut dropped = 0;
        let total = BUFFER_CAPACITY as i64 + 10;
        for n in 0..total {
            dropped += recorder.record(record(n), counters_for(&ApiError::InvalidToken));
        }
        assert_eq!(dropped, 10);
        let flush = recorder.take();
        assert_eq!(flush.records.len(), BUFFER_CAPACITY);
        assert_eq!(flush.records[0].at_ms, 10, "oldest dropped first");
        assert_eq!(flush.counter_deltas, vec![("auth_failures", total)]);
        assert_eq!(recorder.pending_records().len(), BUFFER_CAPACITY, "in-flight records are still reported");
        recorder.restore();
        assert_eq!(recorder.pending_counters()[0], ("auth_failures", total));
        let again = recorder.take();
        assert_eq!(again.records.len(), BUFFER_CAPACITY);
        recorder.record(record(-1), counters_for(&ApiError::InvalidToken));
        recorder.acknowledge(&again);
        assert_eq!(recorder.pending_counters()[0], ("auth_failures", 1), "only the flushed part is cleared");
        assert_eq!(recorder.pending_records().len(), 1);
    }

    #[test]
    fn signature_failures_also_count_as_forbidden() {
        assert_eq!(counters_for(&ApiError::StaleTimestamp(300)), ["forbidden", "signature_failures"]);
        assert_eq!(counters_for(&ApiError::IpNotAllowed), ["forbidden"]);
        assert_eq!(counters_for(&ApiError::PayloadTooLarge(1)), ["rejected"]);
    }
}
