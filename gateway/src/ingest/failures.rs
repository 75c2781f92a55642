//! Rejected ingest requests: counted at once (Prometheus and the pending
//! deltas of the persistent totals) and logged to a bounded in-memory buffer
//! that a background task flushes to the `ingest_failures` table twice a
//! second. A flood of bad requests therefore costs one small write per flush,
//! and when the buffer is full the oldest records are dropped (and counted),
//! never the totals.

use std::collections::VecDeque;

use parking_lot::Mutex;

use super::IngestError;
use crate::domain::{FailureCounter, FailureFlush, FailureRecord};

const BUFFER_CAPACITY: usize = 2_000;

#[derive(Default)]
struct Pending {
    records: VecDeque<FailureRecord>,
    // Taken by the flusher but not yet confirmed written: still reported.
    in_flight: Vec<FailureRecord>,
    counters: [i64; FailureCounter::ALL.len()],
}

pub struct FailureRecorder {
    pending: Mutex<Pending>,
    keep_rows: u32,
}

/// The totals a rejection adds to, named as in `/metrics/whatsapp`.
pub fn counters_for(error: &IngestError) -> &'static [FailureCounter] {
    use FailureCounter::{AuthFailures, Forbidden, RateLimited, Rejected, SignatureFailures};
    match error {
        IngestError::InvalidToken => &[AuthFailures],
        e if e.is_signature_failure() => &[Forbidden, SignatureFailures],
        IngestError::IpNotAllowed => &[Forbidden],
        IngestError::RateLimited(_) | IngestError::TokenRateLimited(_) => &[RateLimited],
        IngestError::Storage(_) => &[],
        _ => &[Rejected],
    }
}

impl FailureRecorder {
    pub fn new(keep_rows: u32) -> Self {
        Self { pending: Mutex::new(Pending::default()), keep_rows }
    }

    /// Returns how many buffered records were dropped to make room (0 or 1).
    pub fn record(&self, record: FailureRecord, counters: &[FailureCounter]) -> u64 {
        let mut pending = self.pending.lock();
        for counter in counters {
            pending.counters[counter.index()] += 1;
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
        let counter_deltas = FailureCounter::ALL
            .iter()
            .zip(pending.counters)
            .filter(|(_, delta)| *delta != 0)
            .map(|(counter, delta)| (counter.name(), delta))
            .collect();
        FailureFlush { records, counter_deltas, keep_rows: self.keep_rows }
    }

    pub fn acknowledge(&self, flush: &FailureFlush) {
        let mut pending = self.pending.lock();
        for (name, delta) in &flush.counter_deltas {
            if let Some(counter) = FailureCounter::ALL.iter().find(|c| c.name() == *name) {
                pending.counters[counter.index()] -= delta;
            }
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
        FailureCounter::ALL.iter().map(|c| c.name()).zip(pending.counters).collect()
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
            dropped += recorder.record(record(n), counters_for(&IngestError::InvalidToken));
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
        recorder.record(record(-1), counters_for(&IngestError::InvalidToken));
        recorder.acknowledge(&again);
        assert_eq!(recorder.pending_counters()[0], ("auth_failures", 1), "only the flushed part is cleared");
        assert_eq!(recorder.pending_records().len(), 1);
    }

    #[test]
    fn signature_failures_also_count_as_forbidden() {
        use FailureCounter::*;
        assert_eq!(counters_for(&IngestError::Stale(300)), [Forbidden, SignatureFailures]);
        assert_eq!(counters_for(&IngestError::IpNotAllowed), [Forbidden]);
        assert_eq!(counters_for(&IngestError::TooLarge(1)), [Rejected]);
    }
}
