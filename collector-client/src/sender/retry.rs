//! When to try a batch again (seed 002 §7.3): three attempts, delays growing
//! by a factor of 2 and clamped to 1-5 s, except that a 429's `Retry-After`
//! is honoured as the server asked. A batch whose attempts are exhausted
//! stays in the spool and its next round starts after a longer backoff.
//!
//! A refusal of our credentials (401/403) is not retried within a round:
//! the whole queue pauses 1 s, 2 s, 4 s … up to 5 minutes (issue #13), and
//! the first 2xx resets that backoff.

use chrono::{DateTime, Utc};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per delivery round (the first try included).
    pub attempts: u32,
    pub factor: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Upper bound on a server's `Retry-After`, so a wrong header cannot
    /// park the collector for hours.
    pub max_retry_after: Duration,
    /// Pause before the next round for a batch whose attempts ran out,
    /// doubling per failed round up to `max_round_delay`.
    pub min_round_delay: Duration,
    pub max_round_delay: Duration,
    /// Pause after the gateway refused our credentials, doubling per refusal
    /// in a row up to `max_auth_delay`.
    pub min_auth_delay: Duration,
    pub max_auth_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            factor: 2,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(300),
            min_round_delay: Duration::from_secs(5),
            max_round_delay: Duration::from_secs(60),
            min_auth_delay: Duration::from_secs(1),
            max_auth_delay: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Delay after failed attempt number `attempt` (1-based) within a round.
    pub fn delay_after_attempt(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(retry_after) = retry_after {
            return retry_after.min(self.max_retry_after);
        }
        grow(self.min_delay, self.factor, attempt.saturating_sub(1)).clamp(self.min_delay, self.max_delay.max(self.min_delay))
    }

    /// Delay before round `failed_rounds + 1` of a batch that failed
    /// `failed_rounds` rounds in a row; never shorter than the server asked.
    pub fn delay_after_round(&self, failed_rounds: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = grow(self.min_round_delay, self.factor, failed_rounds.saturating_sub(1))
            .clamp(self.min_round_delay, self.max_round_delay.max(self.min_round_delay));
        match retry_after {
            Some(retry_after) => backoff.max(retry_after.min(self.max_retry_after)),
            None => backoff,
        }
    }

    /// Pause after the `refusals`-th credential refusal in a row (1-based).
    pub fn delay_after_auth_refusal(&self, refusals: u32) -> Duration {
        grow(self.min_auth_delay, self.factor, refusals.saturating_sub(1)).clamp(self.min_auth_delay, self.max_auth_delay.max(self.min_auth_delay))
    }
}

fn grow(base: Duration, factor: u32, exponent: u32) -> Duration {
    let multiplier = factor.max(1).checked_pow(exponent.min(30)).unwrap_or(u32::MAX);
    base.checked_mul(multiplier).unwrap_or(Duration::MAX)
}

/// `Retry-After` as whole seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn attempts_back_off_by_factor_two_within_one_to_five_seconds() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=5).map(|attempt| policy.delay_after_attempt(attempt, None)).collect();
        assert_eq!(delays, [S(1), S(2), S(4), S(5), S(5)]);
    }

    #[test]
    fn retry_after_is_honoured_even_beyond_the_clamp_but_bounded() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_after_attempt(1, Some(S(7))), S(7));
        assert_eq!(policy.delay_after_attempt(1, Some(S(0))), S(0));
        assert_eq!(policy.delay_after_attempt(2, Some(S(86_400))), S(300));
    }

    #[test]
    fn rounds_back_off_further_and_respect_retry_after() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=6).map(|round| policy.delay_after_round(round, None)).collect();
        assert_eq!(delays, [S(5), S(10), S(20), S(40), S(60), S(60)]);
        assert_eq!(policy.delay_after_round(1, Some(S(30))), S(30));
        assert_eq!(policy.delay_after_round(u32::MAX, None), S(60));
    }

    #[test]
    fn credential_refusals_pause_one_second_doubling_up_to_five_minutes() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=11).map(|refusal| policy.delay_after_auth_refusal(refusal)).collect();
        assert_eq!(delays, [S(1), S(2), S(4), S(8), S(16), S(32), S(64), S(128), S(256), S(300), S(300)]);
        assert_eq!(policy.delay_after_auth_refusal(0), S(1));
        assert_eq!(policy.delay_after_auth_refusal(u32::MAX), S(300));
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default();
        assert_eq!(parse_retry_after("3", now), Some(S(3)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(S(120)));
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now), Some(S(30)));
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now), Some(S(0)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
