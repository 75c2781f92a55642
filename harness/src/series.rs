//! The per-second series of a load run: for each second since the clock
//! started (by when each request finished), the requests, the messages the
//! gateway accepted, the failed requests by status, and the ingest latency
//! percentiles of the 2xx answers. Each worker fills its current second and
//! hands it to the shared series when the second changes, so workers take
//! a lock about once a second each.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Per-second latencies above this are clamped (the run's overall
/// histogram keeps the full range).
const MAX_SECOND_MICROS: u64 = 60_000_000;

#[derive(Debug, Clone)]
struct SecondStats {
    requests: u64,
    ok_requests: u64,
    accepted_messages: u64,
    failed: BTreeMap<String, u64>,
    latency: hdrhistogram::Histogram<u32>,
}

impl SecondStats {
    fn new() -> Self {
        // Constant bounds inside hdrhistogram's accepted range: cannot fail.
        let latency = hdrhistogram::Histogram::new_with_bounds(1, MAX_SECOND_MICROS, 2)
            .or_else(|_| hdrhistogram::Histogram::new(2))
            .unwrap_or_else(|_| unreachable!("2 significant digits is always valid"));
        Self {
            requests: 0,
            ok_requests: 0,
            accepted_messages: 0,
            failed: BTreeMap::new(),
            latency,
        }
    }

    fn merge(&mut self, other: &SecondStats) {
        self.requests += other.requests;
        self.ok_requests += other.ok_requests;
        self.accepted_messages += other.accepted_messages;
        for (key, n) in &other.failed {
            *self.failed.entry(key.clone()).or_default() += n;
        }
        let _ = self.latency.add(&other.latency);
    }
}

/// The series shared by all workers.
#[derive(Debug, Clone, Default)]
pub struct Series {
    seconds: Arc<Mutex<BTreeMap<u64, SecondStats>>>,
}

/// One worker's view: its current second, handed over when it changes.
pub struct SeriesRecorder {
    shared: Series,
    current: Option<(u64, SecondStats)>,
}

/// What one request got: a 2xx with its message count, a status, or a transport error kind.
pub enum Answer<'a> {
    Accepted { messages: u64 },
    Status(u16),
    TransportError(&'a str),
}

impl Series {
    pub fn recorder(&self) -> SeriesRecorder {
        SeriesRecorder {
            shared: self.clone(),
            current: None,
        }
    }

    /// The series for the report; `elapsed` is the send phase, so the last
    /// second's `span_seconds` says how much of it the run covered.
    pub fn points(&self, elapsed: Duration) -> Vec<SecondPoint> {
        let seconds = self.seconds.lock();
        // Every second of the send phase gets a point, including those in
        // which no request finished (a stalled gateway shows as zeros).
        let by_time = (elapsed.as_secs_f64().ceil() as u64).checked_sub(1);
        let Some(last) = by_time.max(seconds.keys().next_back().copied()) else {
            return Vec::new();
        };
        let empty = SecondStats::new();
        let elapsed = elapsed.as_secs_f64();
        (0..=last)
            .map(|second| {
                let stats = seconds.get(&second).unwrap_or(&empty);
                let span = (elapsed - second as f64).clamp(0.001, 1.0);
                let quantile = |q: f64| {
                    (!stats.latency.is_empty())
                        .then(|| stats.latency.value_at_quantile(q) as f64 / 1000.0)
                };
                SecondPoint {
                    second,
                    span_seconds: crate::stats::round3(span),
                    requests: stats.requests,
                    ok_requests: stats.ok_requests,
                    accepted_messages: stats.accepted_messages,
                    accepted_messages_per_second: crate::stats::round3(
                        stats.accepted_messages as f64 / span,
                    ),
                    failed_requests: stats.requests - stats.ok_requests,
                    failed: stats.failed.clone(),
                    p50_ms: quantile(0.50),
                    p95_ms: quantile(0.95),
                    p99_ms: quantile(0.99),
                    max_ms: (!stats.latency.is_empty())
                        .then(|| stats.latency.max() as f64 / 1000.0),
                }
            })
            .collect()
    }
}

impl SeriesRecorder {
    /// Records one finished request; `at` is its finish time since the clock started.
    pub fn record(&mut self, at: Duration, latency: Duration, answer: Answer<'_>) {
        let second = at.as_secs();
        if self.current.as_ref().is_some_and(|(s, _)| *s != second) {
            self.flush();
        }
        let (_, stats) = self
            .current
            .get_or_insert_with(|| (second, SecondStats::new()));
        stats.requests += 1;
        match answer {
            Answer::Accepted { messages } => {
                stats.ok_requests += 1;
                stats.accepted_messages += messages;
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                stats
                    .latency
                    .saturating_record(micros.clamp(1, MAX_SECOND_MICROS));
            }
            Answer::Status(status) => *stats.failed.entry(status.to_string()).or_default() += 1,
            Answer::TransportError(kind) => *stats.failed.entry(kind.to_owned()).or_default() += 1,
        }
    }

    /// Hands the current second to the shared series.
    pub fn flush(&mut self) {
        if let Some((second, stats)) = self.current.take() {
            self.shared
                .seconds
                .lock()
                .entry(second)
                .and_modify(|s| s.merge(&stats))
                .or_insert(stats);
        }
    }
}

impl Drop for SeriesRecorder {
    fn drop(&mut self) {
        self.flush();
    }
}

/// One second of the run, as it appears in the report's `series`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondPoint {
    /// Whole seconds since the clock started: this point covers `[second, second + 1)`.
    pub second: u64,
    /// 1, except for the last second, which the run may have covered in part.
    pub span_seconds: f64,
    pub requests: u64,
    pub ok_requests: u64,
    pub accepted_messages: u64,
    /// `accepted_messages / span_seconds`: rejected requests never count.
    pub accepted_messages_per_second: f64,
    pub failed_requests: u64,
    /// Non-2xx status (`"401"`) or transport error kind (`"timeout"`) → requests.
    pub failed: BTreeMap<String, u64>,
    /// Ingest latency of that second's 2xx answers (2 significant digits).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_run_without_time_or_answers_has_no_points() {
        assert!(Series::default().points(Duration::ZERO).is_empty());
        assert_eq!(Series::default().points(ms(1_500)).len(), 2);
    }

    #[test]
    fn two_workers_fill_the_same_seconds() {
        let series = Series::default();
        let (mut a, mut b) = (series.recorder(), series.recorder());
        a.record(ms(100), ms(5), Answer::Accepted { messages: 10 });
        b.record(ms(900), ms(15), Answer::Accepted { messages: 10 });
        a.record(ms(1_200), ms(1), Answer::Status(401));
        b.record(ms(1_300), ms(1), Answer::TransportError("timeout"));
        b.record(ms(3_100), ms(20), Answer::Accepted { messages: 5 });
        drop(a);
        drop(b);
        let points = series.points(ms(3_500));
        // Second 2 had no finished request: it is there, with zeros.
        assert_eq!(points.iter().map(|p| p.second).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!((points[2].requests, points[2].accepted_messages_per_second, points[2].p50_ms), (0, 0.0, None));
        let points: Vec<SecondPoint> = points.into_iter().filter(|p| p.second != 2).collect();
        assert_eq!(
            (
                points[0].requests,
                points[0].accepted_messages,
                points[0].accepted_messages_per_second
            ),
            (2, 20, 20.0)
        );
        assert!(
            points[0].p50_ms.is_some_and(|p| (4.9..=5.1).contains(&p)),
            "{:?}",
            points[0]
        );
        assert!(
            points[0].max_ms.is_some_and(|m| (14.8..=15.2).contains(&m)),
            "{:?}",
            points[0]
        );
        let failed: Vec<(&str, u64)> = points[1]
            .failed
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        assert_eq!(
            (
                points[1].failed_requests,
                points[1].accepted_messages,
                failed
            ),
            (2, 0, vec![("401", 1), ("timeout", 1)])
        );
        assert_eq!(points[1].p95_ms, None);
        // The last second was half covered: 5 messages in 0.5 s.
        assert_eq!(
            (
                points[2].span_seconds,
                points[2].accepted_messages_per_second
            ),
            (0.5, 10.0)
        );
    }
}
