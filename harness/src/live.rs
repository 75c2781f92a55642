//! Counters the workers bump while a load run is going, for the live view
//! (a bar on a terminal, `progress:` lines otherwise): messages sent and
//! accepted, failed requests, and every non-2xx answer by status or
//! transport error kind. Lock-free for statuses; transport errors (rare)
//! take a short lock. The report's exact tallies are kept separately, per
//! worker, and merged at the end.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// One slot per status 100..=599; anything else lands in the last slot.
const STATUS_SLOTS: usize = 501;

pub struct LiveCounts {
    /// Messages whose request finished, whatever the answer.
    pub sent_messages: AtomicU64,
    /// Messages acknowledged with a 2xx: the only ones the rate counts.
    pub accepted_messages: AtomicU64,
    /// Requests that got no 2xx (any other status or a transport error).
    pub failed_requests: AtomicU64,
    statuses: Box<[AtomicU64]>,
    transport_errors: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for LiveCounts {
    fn default() -> Self {
        Self {
            sent_messages: AtomicU64::new(0),
            accepted_messages: AtomicU64::new(0),
            failed_requests: AtomicU64::new(0),
            statuses: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            transport_errors: Mutex::new(BTreeMap::new()),
        }
    }
}

/// A copy of the counters at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    pub sent_messages: u64,
    pub accepted_messages: u64,
    pub failed_requests: u64,
    /// `("HTTP 401", 180)`, `("timeout", 2)`: statuses first, in order.
    pub failures: Vec<(String, u64)>,
}

impl LiveCounts {
    pub fn record_accepted(&self, messages: u64) {
        self.sent_messages.fetch_add(messages, Ordering::Relaxed);
        self.accepted_messages
            .fetch_add(messages, Ordering::Relaxed);
    }

    /// A non-2xx answer.
    pub fn record_status(&self, status: u16, messages: u64) {
        self.sent_messages.fetch_add(messages, Ordering::Relaxed);
        self.failed_requests.fetch_add(1, Ordering::Relaxed);
        let slot = usize::from(status)
            .checked_sub(100)
            .filter(|s| *s < STATUS_SLOTS - 1)
            .unwrap_or(STATUS_SLOTS - 1);
        if let Some(counter) = self.statuses.get(slot) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_transport_error(&self, kind: &'static str, messages: u64) {
        self.sent_messages.fetch_add(messages, Ordering::Relaxed);
        self.failed_requests.fetch_add(1, Ordering::Relaxed);
        *self.transport_errors.lock().entry(kind).or_default() += 1;
    }

    pub fn snapshot(&self) -> LiveSnapshot {
        let mut failures: Vec<(String, u64)> = self
            .statuses
            .iter()
            .enumerate()
            .filter_map(|(slot, n)| {
                let n = n.load(Ordering::Relaxed);
                (n > 0).then(|| {
                    let label = if slot == STATUS_SLOTS - 1 {
                        "HTTP other".to_owned()
                    } else {
                        format!("HTTP {}", slot + 100)
                    };
                    (label, n)
                })
            })
            .collect();
        failures.extend(
            self.transport_errors
                .lock()
                .iter()
                .map(|(kind, n)| ((*kind).to_owned(), *n)),
        );
        LiveSnapshot {
            sent_messages: self.sent_messages.load(Ordering::Relaxed),
            accepted_messages: self.accepted_messages.load(Ordering::Relaxed),
            failed_requests: self.failed_requests.load(Ordering::Relaxed),
            failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_by_status_and_kind_and_never_as_accepted() {
        let live = LiveCounts::default();
        live.record_accepted(10);
        for _ in 0..3 {
            live.record_status(401, 10);
        }
        live.record_status(503, 10);
        live.record_status(42, 10);
        live.record_transport_error("timeout", 10);
        let snapshot = live.snapshot();
        assert_eq!(
            (
                snapshot.sent_messages,
                snapshot.accepted_messages,
                snapshot.failed_requests
            ),
            (70, 10, 6)
        );
        let failures: Vec<(&str, u64)> = snapshot
            .failures
            .iter()
            .map(|(l, n)| (l.as_str(), *n))
            .collect();
        assert_eq!(
            failures,
            [
                ("HTTP 401", 3),
                ("HTTP 503", 1),
                ("HTTP other", 1),
                ("timeout", 1)
            ]
        );
    }
}
