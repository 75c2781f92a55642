//! Latency recording and the summary maths of a report: percentiles from an
//! HDR histogram (microsecond resolution, 3 significant digits), rates and
//! ratios that stay defined (`None`) when their denominator is zero.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Highest latency the histogram tracks; slower answers are clamped to it.
const MAX_TRACKED_MICROS: u64 = 600_000_000;

/// A latency recorder that never fails: out-of-range values are clamped.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    histogram: Histogram<u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    pub fn new() -> Self {
        // Bounds are constants inside hdrhistogram's accepted range, so this
        // cannot fail; the fallback keeps the no-panic rule without unwrap.
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKED_MICROS, 3)
            .or_else(|_| Histogram::new(3))
            .unwrap_or_else(|_| unreachable!("3 significant digits is always valid"));
        Self { histogram }
    }

    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.record_micros(micros);
    }

    pub fn record_micros(&mut self, micros: u64) {
        self.histogram.saturating_record(micros.clamp(1, MAX_TRACKED_MICROS));
    }

    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Both histograms share bounds, so adding cannot overflow their range.
        let _ = self.histogram.add(&other.histogram);
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    pub fn summary(&self) -> Option<LatencySummary> {
        if self.histogram.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(LatencySummary {
            count: self.histogram.len(),
            min_ms: ms(self.histogram.min()),
            mean_ms: round3(self.histogram.mean() / 1000.0),
            p50_ms: ms(self.histogram.value_at_quantile(0.50)),
            p95_ms: ms(self.histogram.value_at_quantile(0.95)),
            p99_ms: ms(self.histogram.value_at_quantile(0.99)),
            max_ms: ms(self.histogram.max()),
        })
    }
}

impl LatencyRecorder {
    /// The histogram in log buckets (each √2 wider than the one before,
    /// from [`FIRST_BUCKET_MICROS`]), from the first to the last non-empty
    /// one; `None` when nothing was recorded.
    pub fn histogram(&self) -> Option<LatencyHistogram> {
        if self.histogram.is_empty() {
            return None;
        }
        let mut buckets: Vec<HistogramBucket> = self
            .histogram
            .iter_log(FIRST_BUCKET_MICROS, std::f64::consts::SQRT_2)
            .map(|step| HistogramBucket { le_ms: round3(step.value_iterated_to() as f64 / 1000.0), count: step.count_since_last_iteration() })
            .collect();
        let first = buckets.iter().position(|b| b.count > 0).unwrap_or(0);
        buckets.drain(..first);
        while buckets.last().is_some_and(|b| b.count == 0) {
            buckets.pop();
        }
        Some(LatencyHistogram {
            of: "ingest latency of 2xx answers".into(),
            significant_digits: 3,
            count: self.histogram.len(),
            buckets,
        })
    }
}

/// Width of the histogram's first bucket: 8 µs.
pub const FIRST_BUCKET_MICROS: u64 = 8;

/// A latency histogram from the HDR recorder, in log buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    pub of: String,
    /// Precision of the recorder the buckets were read from.
    pub significant_digits: u8,
    pub count: u64,
    /// Ascending; each holds the values above the previous `le_ms` up to its own.
    pub buckets: Vec<HistogramBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramBucket {
    pub le_ms: f64,
    pub count: u64,
}

/// Percentiles in milliseconds, as they appear in the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// `numerator / denominator`, or `None` when nothing was measured.
pub fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| round6(numerator as f64 / denominator as f64))
}

/// Events per second over `elapsed`, or `None` for an empty interval.
pub fn per_second(events: u64, elapsed: Duration) -> Option<f64> {
    let seconds = elapsed.as_secs_f64();
    (seconds > 0.0).then(|| round3(events as f64 / seconds))
}

/// The value at quantile `q` of a sample where `missing` further values are
/// known to be larger than every observed one (e.g. messages never
/// extracted). `None` when the quantile falls among the missing values.
pub fn quantile_with_missing(sorted_observed: &[f64], missing: usize, q: f64) -> Option<f64> {
    let total = sorted_observed.len() + missing;
    if total == 0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    // Nearest-rank definition: the smallest value with at least q of the
    // sample at or below it.
    let rank = ((q * total as f64).ceil() as usize).max(1);
    sorted_observed.get(rank - 1).copied()
}

pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

pub fn round6(value: f64) -> f64 {
    (value * 1_000_000.0).round() / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_of_one_to_a_thousand_ms() {
        let mut recorder = LatencyRecorder::new();
        for ms in 1..=1000u64 {
            recorder.record(Duration::from_millis(ms));
        }
        let summary = recorder.summary().expect("non-empty");
        assert_eq!(summary.count, 1000);
        // 3 significant digits: values are exact to within 0.1 %.
        for (observed, expected) in [(summary.p50_ms, 500.0), (summary.p95_ms, 950.0), (summary.p99_ms, 990.0)] {
            assert!((observed - expected).abs() <= expected * 0.001 + 0.001, "{observed} vs {expected}");
        }
        assert!((summary.min_ms - 1.0).abs() < 0.01);
        assert!((summary.max_ms - 1000.0).abs() <= 1.0);
    }

    #[test]
    fn merging_two_recorders_equals_recording_into_one() {
        let (mut a, mut b, mut both) = (LatencyRecorder::new(), LatencyRecorder::new(), LatencyRecorder::new());
        for micros in [150u64, 900, 3_000, 12_000, 70_000] {
            a.record_micros(micros);
            both.record_micros(micros);
        }
        for micros in [80u64, 2_500, 40_000] {
            b.record_micros(micros);
            both.record_micros(micros);
        }
        a.merge(&b);
        assert_eq!(a.summary(), both.summary());
    }

    #[test]
    fn empty_recorder_has_no_summary_and_extremes_are_clamped() {
        assert!(LatencyRecorder::new().summary().is_none());
        let mut recorder = LatencyRecorder::new();
        recorder.record_micros(0);
        recorder.record(Duration::from_secs(100_000));
        let summary = recorder.summary().expect("two values");
        assert_eq!(summary.count, 2);
        assert!(summary.max_ms <= MAX_TRACKED_MICROS as f64 / 1000.0 * 1.001);
    }

    #[test]
    fn histogram_buckets_hold_every_value_once_in_ascending_order() {
        assert!(LatencyRecorder::new().histogram().is_none());
        let mut recorder = LatencyRecorder::new();
        for micros in [900u64, 1_000, 1_100, 5_000, 250_000] {
            recorder.record_micros(micros);
        }
        let histogram = recorder.histogram().expect("non-empty");
        assert_eq!(histogram.count, 5);
        assert_eq!(histogram.buckets.iter().map(|b| b.count).sum::<u64>(), 5);
        assert!(histogram.buckets.windows(2).all(|w| w[0].le_ms < w[1].le_ms));
        assert!(histogram.buckets.first().is_some_and(|b| b.count > 0 && b.le_ms >= 0.9 && b.le_ms < 1.3), "{histogram:?}");
        assert!(histogram.buckets.last().is_some_and(|b| b.count == 1 && b.le_ms >= 250.0 && b.le_ms < 360.0), "{histogram:?}");
        // Each bucket is √2 wider than the one before.
        let widths: Vec<f64> = histogram.buckets.windows(2).map(|w| w[1].le_ms / w[0].le_ms).collect();
        assert!(widths.iter().all(|r| (1.3..1.55).contains(r)), "{widths:?}");
    }

    #[test]
    fn ratios_and_rates_are_undefined_on_empty_denominators() {
        assert_eq!(ratio(1, 0), None);
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(per_second(10, Duration::ZERO), None);
        assert_eq!(per_second(500, Duration::from_millis(250)), Some(2000.0));
    }

    #[test]
    fn quantiles_with_missing_values() {
        let observed = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(quantile_with_missing(&observed, 0, 0.5), Some(20.0));
        assert_eq!(quantile_with_missing(&observed, 0, 0.95), Some(40.0));
        // 4 observed + 1 missing: p50 is the 3rd value, p95 falls on the missing one.
        assert_eq!(quantile_with_missing(&observed, 1, 0.5), Some(30.0));
        assert_eq!(quantile_with_missing(&observed, 1, 0.95), None);
        assert_eq!(quantile_with_missing(&[], 0, 0.5), None);
        assert_eq!(quantile_with_missing(&observed, 0, 1.5), None);
    }

    proptest! {
        #[test]
        fn percentiles_are_ordered_and_within_the_recorded_range(values in proptest::collection::vec(1u64..10_000_000, 1..200)) {
            let mut recorder = LatencyRecorder::new();
            for v in &values {
                recorder.record_micros(*v);
            }
            let s = recorder.summary().expect("non-empty");
            prop_assert!(s.min_ms <= s.p50_ms && s.p50_ms <= s.p95_ms && s.p95_ms <= s.p99_ms && s.p99_ms <= s.max_ms);
            let lowest = *values.iter().min().expect("non-empty") as f64 / 1000.0;
            let highest = *values.iter().max().expect("non-empty") as f64 / 1000.0;
            prop_assert!(s.min_ms >= lowest * 0.999 && s.max_ms <= highest * 1.001);
        }

        #[test]
        fn quantile_with_missing_never_panics(observed in proptest::collection::vec(0.0f64..1e6, 0..50), missing in 0usize..50, q in -1.0f64..2.0) {
            let mut sorted = observed.clone();
            sorted.sort_by(f64::total_cmp);
            let _ = quantile_with_missing(&sorted, missing, q);
        }
    }
}
