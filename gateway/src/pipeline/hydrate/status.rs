//! What an HTTP answer means for a hydrate job. How long a server asked us to wait is read by
//! [`crate::parse::retry_after`] (re-exported here); the queue owns the schedule (2 s, 4 s, 8 s)
//! and a `Retry-After` only ever lengthens a wait.

use std::time::Duration;

pub use crate::parse::retry_after::{RetryAfterError, parse_retry_after};

/// How the hydrate stage treats a response status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HydrateStatusClass {
    /// 2xx: parse the page.
    Ok,
    /// 404, 410: the product was deleted; mark it inactive and log `hydrate_404`.
    Gone,
    /// 429: retry later, honouring `Retry-After`; log `hydrate_429`.
    RateLimited,
    /// 5xx and 408: a passing failure; retry with backoff (and `Retry-After` when sent).
    Retryable,
    /// Any other status (other 4xx, an unfollowed 3xx, 1xx, nonsense): retrying won't help.
    Terminal,
}

impl HydrateStatusClass {
    /// Whether the job should go back to the queue.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Retryable)
    }
}

/// Classifies a response status for the hydrate stage.
pub fn classify_status(status: u16) -> HydrateStatusClass {
    match status {
        200..=299 => HydrateStatusClass::Ok,
        404 | 410 => HydrateStatusClass::Gone,
        429 => HydrateStatusClass::RateLimited,
        408 | 500..=599 => HydrateStatusClass::Retryable,
        _ => HydrateStatusClass::Terminal,
    }
}

/// A response's `Retry-After` as a delay from now; `None` when absent or unreadable.
/// Every remote the chain calls (product pages, images, QC providers) reads it here,
/// so an HTTP-date is honoured as well as delay-seconds.
pub fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    crate::parse::retry_after::retry_after_value(headers.get(reqwest::header::RETRY_AFTER).map(|v| v.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn status_table() {
        use HydrateStatusClass::*;
        let cases = [
            (200, Ok), (204, Ok), (299, Ok),
            (404, Gone), (410, Gone),
            (429, RateLimited),
            (408, Retryable), (500, Retryable), (502, Retryable), (503, Retryable), (599, Retryable),
            (400, Terminal), (401, Terminal), (403, Terminal), (405, Terminal), (451, Terminal),
            (301, Terminal), (304, Terminal), (100, Terminal), (0, Terminal), (600, Terminal), (u16::MAX, Terminal),
        ];
        for (status, class) in cases {
            assert_eq!(classify_status(status), class, "status {status}");
        }
        assert!(RateLimited.is_retryable() && Retryable.is_retryable());
        assert!(!Gone.is_retryable() && !Terminal.is_retryable() && !Ok.is_retryable());
    }

    #[test]
    fn retry_after_of_reads_seconds_and_http_dates_from_headers() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_of(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after_of(&headers), Some(Duration::from_secs(120)));
        let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3_600));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&in_an_hour).expect("ascii date"));
        let waited = retry_after_of(&headers).expect("a date is read");
        assert!((3_590..=3_600).contains(&waited.as_secs()), "{waited:?}");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after_of(&headers), None);
    }
}
