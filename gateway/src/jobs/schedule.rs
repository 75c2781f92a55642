//! When a failed attempt runs again: 2 s, 4 s, then 8 s after the first, second and third
//! attempts (a `Retry-After` only lengthens a wait, up to an hour), and dead after the last.

use std::time::Duration;

/// The longest `Retry-After` honoured; a server asking for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// What to do after attempt `attempt` (1-based) of `max_attempts` failed transiently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RunAgainAfter(Duration),
    GiveUp,
}

pub fn after_failure(attempt: u32, max_attempts: u32, retry_after: Option<Duration>) -> RetryDecision {
    if attempt >= max_attempts {
        return RetryDecision::GiveUp;
    }
    let backoff = Duration::from_secs(1u64 << attempt.clamp(1, 20));
    let asked = retry_after.unwrap_or_default().min(MAX_RETRY_AFTER);
    RetryDecision::RunAgainAfter(backoff.max(asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_retries_after_two_four_eight_seconds_then_dead() {
        let waits: Vec<RetryDecision> = (1..=4).map(|attempt| after_failure(attempt, 4, None)).collect();
        assert_eq!(
            waits,
            [
                RetryDecision::RunAgainAfter(Duration::from_secs(2)),
                RetryDecision::RunAgainAfter(Duration::from_secs(4)),
                RetryDecision::RunAgainAfter(Duration::from_secs(8)),
                RetryDecision::GiveUp,
            ]
        );
    }

    #[test]
    fn retry_after_only_lengthens_the_wait_and_is_capped() {
        assert_eq!(after_failure(2, 4, Some(Duration::from_secs(1))), RetryDecision::RunAgainAfter(Duration::from_secs(4)));
        assert_eq!(after_failure(1, 4, Some(Duration::from_secs(30))), RetryDecision::RunAgainAfter(Duration::from_secs(30)));
        assert_eq!(after_failure(1, 4, Some(Duration::from_secs(86_400))), RetryDecision::RunAgainAfter(MAX_RETRY_AFTER));
        assert_eq!(after_failure(4, 4, Some(Duration::from_secs(30))), RetryDecision::GiveUp);
    }

    #[test]
    fn a_job_reclaimed_past_its_last_attempt_gives_up() {
        assert_eq!(after_failure(5, 4, None), RetryDecision::GiveUp);
    }
}
