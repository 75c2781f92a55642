//! Ingest-to-offer latency, estimated from the diagnostics `extracted`
//! counter sampled over time.
//!
//! The gateway acknowledges created messages at known instants; the counter
//! says how many have been extracted by each sample. Matching the k-th
//! created message (in acknowledgement order) with the first sample where
//! the counter moved by at least k gives its latency, assuming extraction
//! finishes roughly first in, first out. The estimate errs late by up to one
//! sampling interval (`resolution_ms`). Messages not yet extracted at the
//! end count as slower than every observed one, so a percentile that falls
//! among them is `null` rather than flattering. When an offers endpoint
//! with per-message timestamps exists, a tracer-based method can fill the
//! same report fields exactly.

use crate::diagnostics::Sample;
use crate::stats::{quantile_with_missing, round3};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferLatency {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Created messages whose extraction was observed.
    pub observed: u64,
    /// Created messages not extracted when sampling stopped.
    pub pending: u64,
    pub method: String,
    pub resolution_ms: Option<f64>,
    /// Why a value is null, when it is.
    pub reason: Option<String>,
}

impl OfferLatency {
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            p50_ms: None,
            p95_ms: None,
            observed: 0,
            pending: 0,
            method: "none".into(),
            resolution_ms: None,
            reason: Some(reason.into()),
        }
    }
}

/// One acknowledgement: when the 2xx arrived, and how many messages it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub at: Duration,
    pub created: u32,
}

/// Estimates latency from acknowledgements and counter samples taken
/// against the same origin; `baseline` is `extracted` before the run.
pub fn estimate(acks: &[Ack], baseline: u64, samples: &[Sample], resolution: Duration) -> OfferLatency {
    let total: u64 = acks.iter().map(|a| u64::from(a.created)).sum();
    if total == 0 {
        return OfferLatency::unavailable("no message was created, so none could become an offer");
    }
    let moved: Vec<(Duration, u64)> = samples
        .iter()
        .filter_map(|s| Some((s.at, s.counters.extracted?.saturating_sub(baseline))))
        .scan(0u64, |high, (at, moved)| {
            *high = (*high).max(moved);
            Some((at, *high))
        })
        .collect();
    if moved.is_empty() {
        return OfferLatency::unavailable("diagnostics reported no `extracted` counter");
    }

    let mut ordered = acks.to_vec();
    ordered.sort_by_key(|a| a.at);
    let mut latencies = Vec::with_capacity(total.min(10_000_000) as usize);
    let mut sample = 0usize;
    let mut k = 0u64;
    'acks: for ack in &ordered {
        for _ in 0..ack.created {
            k += 1;
            while sample < moved.len() && moved[sample].1 < k {
                sample += 1;
            }
            let Some((seen_at, _)) = moved.get(sample) else { break 'acks };
            latencies.push(seen_at.saturating_sub(ack.at).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let observed = latencies.len() as u64;
    let pending = total - observed;
    let p50 = quantile_with_missing(&latencies, pending as usize, 0.50).map(round3);
    let p95 = quantile_with_missing(&latencies, pending as usize, 0.95).map(round3);
    let reason = match (observed, p95) {
        (0, _) => Some("the extracted counter did not move before sampling stopped".to_owned()),
        (_, None) => Some(format!("{pending} of {total} created messages were not extracted before sampling stopped")),
        _ => None,
    };
    OfferLatency {
        p50_ms: p50,
        p95_ms: p95,
        observed,
        pending,
        method: "diagnostics_extracted_counter_fifo".into(),
        resolution_ms: Some(resolution.as_secs_f64() * 1000.0),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Counters;

    fn sample(ms: u64, extracted: Option<u64>) -> Sample {
        Sample { at: Duration::from_millis(ms), counters: Counters { extracted, ..Counters::default() } }
    }

    fn ack(ms: u64, created: u32) -> Ack {
        Ack { at: Duration::from_millis(ms), created }
    }

    #[test]
    fn fifo_matching_gives_per_message_latency() {
        // Baseline 100; two messages acked at 0 ms, two at 100 ms.
        let acks = [ack(100, 2), ack(0, 2)];
        let samples = [sample(50, Some(100)), sample(250, Some(102)), sample(500, Some(103)), sample(750, Some(104))];
        let estimate = estimate(&acks, 100, &samples, Duration::from_millis(250));
        // Latencies: 250, 250, 400, 650 → p50 = 250 (2nd of 4), p95 = 650.
        assert_eq!((estimate.p50_ms, estimate.p95_ms), (Some(250.0), Some(650.0)));
        assert_eq!((estimate.observed, estimate.pending), (4, 0));
        assert_eq!(estimate.reason, None);
    }

    #[test]
    fn unextracted_messages_make_high_percentiles_null() {
        let acks = [ack(0, 10)];
        let samples = [sample(100, Some(9))];
        let estimate = estimate(&acks, 0, &samples, Duration::from_millis(100));
        assert_eq!(estimate.p50_ms, Some(100.0));
        assert_eq!(estimate.p95_ms, None);
        assert_eq!(estimate.pending, 1);
        assert!(estimate.reason.as_deref().is_some_and(|r| r.contains("1 of 10")));
    }

    #[test]
    fn missing_counter_or_no_creation_is_explained() {
        assert!(estimate(&[ack(0, 1)], 0, &[sample(10, None)], Duration::from_millis(10)).reason.is_some_and(|r| r.contains("no `extracted`")));
        assert!(estimate(&[ack(0, 0)], 0, &[sample(10, Some(1))], Duration::from_millis(10)).p50_ms.is_none());
        let stalled = estimate(&[ack(0, 3)], 5, &[sample(10, Some(5)), sample(20, Some(4))], Duration::from_millis(10));
        assert_eq!((stalled.observed, stalled.pending), (0, 3));
    }

    #[test]
    fn counter_moved_by_others_before_the_ack_clamps_to_zero() {
        let estimate = estimate(&[ack(500, 1)], 0, &[sample(100, Some(1))], Duration::from_millis(100));
        assert_eq!(estimate.p50_ms, Some(0.0));
    }
}
