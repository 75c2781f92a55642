//! The send loop of a load run: each worker owns one connection, takes the
//! next pre-generated batch, posts it, and records what came back in its
//! own tallies (merged once at the end, so workers share nothing but an
//! index and a progress counter).

use crate::live::LiveCounts;
use crate::offer_latency::Ack;
use crate::series::{Answer, Series};
use crate::report::error_text;
use crate::stats::LatencyRecorder;
use crate::transport::IngestConnection;
use crate::workload::PreparedBatch;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What every worker reads: the batches, the next index, and when to stop.
pub struct SendPlan {
    pub batches: Vec<PreparedBatch>,
    pub next: AtomicUsize,
    pub deadline: Option<Instant>,
    pub origin: Instant,
    /// With `--rate`: batch `i` starts no earlier than `origin + i × batch_interval`.
    pub batch_interval: Option<std::time::Duration>,
    /// What the live view shows while the run goes.
    pub live: Arc<LiveCounts>,
    /// The per-second series of the report.
    pub series: Series,
}

/// The readable part of a 2xx answer; other fields are ignored.
#[derive(Deserialize)]
struct AckBody {
    created: u64,
    deduped: u64,
}

/// One worker's tallies.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub ingest_latency: LatencyRecorder,
    pub answer_latency: LatencyRecorder,
    pub requests: u64,
    pub ok_requests: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: BTreeMap<&'static str, u64>,
    pub error_samples: BTreeMap<String, String>,
    pub messages_sent: u64,
    pub duplicates_sent: u64,
    pub acknowledged: u64,
    pub created: u64,
    pub deduped: u64,
    pub skipped: u64,
    pub unreadable_acks: u64,
    pub body_bytes: u64,
    pub acks: Vec<Ack>,
    /// When this worker's last request finished.
    pub last_finish: Option<Instant>,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.ingest_latency.merge(&other.ingest_latency);
        self.answer_latency.merge(&other.answer_latency);
        self.requests += other.requests;
        self.ok_requests += other.ok_requests;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        for (kind, n) in other.transport_errors {
            *self.transport_errors.entry(kind).or_default() += n;
        }
        for (key, text) in other.error_samples {
            self.error_samples.entry(key).or_insert(text);
        }
        self.messages_sent += other.messages_sent;
        self.duplicates_sent += other.duplicates_sent;
        self.acknowledged += other.acknowledged;
        self.created += other.created;
        self.deduped += other.deduped;
        self.skipped += other.skipped;
        self.unreadable_acks += other.unreadable_acks;
        self.body_bytes += other.body_bytes;
        self.acks.extend(other.acks);
        self.last_finish = self.last_finish.max(other.last_finish);
    }
}

/// Sends batches until none are left or the deadline passes.
pub async fn run_worker(plan: Arc<SendPlan>, mut connection: IngestConnection) -> Tally {
    let mut tally = Tally::default();
    let mut series = plan.series.recorder();
    loop {
        if plan.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break;
        }
        let index = plan.next.fetch_add(1, Ordering::Relaxed);
        let Some(batch) = plan.batches.get(index) else { break };
        if let Some(start) = scheduled_start(plan.origin, plan.batch_interval, index) {
            if plan.deadline.is_some_and(|deadline| start >= deadline) {
                break;
            }
            tokio::time::sleep_until(start.into()).await;
        }
        let messages = u64::from(batch.messages);
        let started = Instant::now();
        let result = connection.post(batch.body.clone()).await;
        let finished = Instant::now();
        let latency = finished - started;
        tally.requests += 1;
        tally.messages_sent += messages;
        tally.duplicates_sent += u64::from(batch.duplicates);
        tally.body_bytes += batch.body.len() as u64;
        tally.last_finish = Some(finished);
        let at = finished - plan.origin;
        match result {
            Ok(response) => {
                *tally.statuses.entry(response.status).or_default() += 1;
                tally.answer_latency.record(latency);
                if (200..300).contains(&response.status) {
                    plan.live.record_accepted(messages);
                    series.record(at, latency, Answer::Accepted { messages });
                    tally.ok_requests += 1;
                    tally.acknowledged += messages;
                    tally.ingest_latency.record(latency);
                    match serde_json::from_slice::<AckBody>(&response.body) {
                        Ok(ack) => {
                            tally.created += ack.created;
                            tally.deduped += ack.deduped;
                            let created = u32::try_from(ack.created).unwrap_or(u32::MAX);
                            tally.acks.push(Ack { at, created });
                        }
                        Err(_) => tally.unreadable_acks += messages,
                    }
                } else {
                    plan.live.record_status(response.status, messages);
                    series.record(at, latency, Answer::Status(response.status));
                    tally.skipped += messages;
                    tally.error_samples.entry(response.status.to_string()).or_insert_with(|| error_text(&response.body));
                }
            }
            Err(error) => {
                plan.live.record_transport_error(error.kind(), messages);
                series.record(at, latency, Answer::TransportError(error.kind()));
                tally.skipped += messages;
                *tally.transport_errors.entry(error.kind()).or_default() += 1;
                tally.error_samples.entry(error.kind().to_owned()).or_insert_with(|| error.to_string());
            }
        }
    }
    tally
}

/// When a paced run starts batch `index`; `None` when the run is not paced.
fn scheduled_start(origin: Instant, interval: Option<std::time::Duration>, index: usize) -> Option<Instant> {
    let interval = interval?;
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    Some(origin + interval.saturating_mul(index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn paced_batches_start_on_a_fixed_schedule() {
        let origin = Instant::now();
        assert_eq!(scheduled_start(origin, None, 7), None);
        let every = Some(Duration::from_millis(2));
        assert_eq!(scheduled_start(origin, every, 0), Some(origin));
        assert_eq!(scheduled_start(origin, every, 500), Some(origin + Duration::from_secs(1)));
    }

    #[test]
    fn merging_tallies_adds_counts_and_keeps_first_samples() {
        let mut a = Tally { requests: 2, created: 5, skipped: 1, ..Tally::default() };
        a.statuses.insert(200, 2);
        a.error_samples.insert("429".into(), "first".into());
        let mut b = Tally { requests: 3, created: 1, deduped: 4, ..Tally::default() };
        b.statuses.insert(200, 1);
        b.statuses.insert(429, 2);
        b.error_samples.insert("429".into(), "second".into());
        b.acks.push(Ack { at: Duration::from_millis(3), created: 1 });
        a.merge(b);
        assert_eq!((a.requests, a.created, a.deduped, a.skipped), (5, 6, 4, 1));
        assert_eq!(a.statuses.get(&200), Some(&3));
        assert_eq!(a.statuses.get(&429), Some(&2));
        assert_eq!(a.error_samples.get("429").map(String::as_str), Some("first"));
        assert_eq!(a.acks.len(), 1);
    }
}
