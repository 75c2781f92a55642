//! `Retry-After` (RFC 9110 §10.2.3): how long a server asked us to wait, as delay-seconds or an
//! HTTP-date. Every remote the gateway calls (product pages, images, the QC and document LLM
//! providers) reads it here, so an HTTP-date is honoured as well as delay-seconds.

use std::time::{Duration, SystemTime};

/// Why a `Retry-After` value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryAfterError {
    #[error("empty Retry-After")]
    Empty,
    #[error("Retry-After seconds out of range")]
    OutOfRange,
    #[error("Retry-After is neither delay-seconds nor an HTTP-date")]
    Invalid,
}

/// Reads a `Retry-After` value (RFC 9110 §10.2.3): `delay-seconds` (digits only) or an
/// HTTP-date (IMF-fixdate, RFC 850 or asctime). A date in the past means "now" (zero).
/// `now` is passed in so the function stays pure.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Result<Duration, RetryAfterError> {
    let value = value.trim_matches(|c: char| c == ' ' || c == '\t');
    if value.is_empty() {
        return Err(RetryAfterError::Empty);
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().map(Duration::from_secs).map_err(|_| RetryAfterError::OutOfRange);
    }
    let at = httpdate::parse_http_date(value).map_err(|_| RetryAfterError::Invalid)?;
    Ok(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A `Retry-After` header's raw value (`HeaderValue::as_bytes`) as a delay from now; `None`
/// when absent or unreadable. Kept free of any HTTP client's types, so `parse/` stays pure.
pub fn retry_after_value(value: Option<&[u8]>) -> Option<Duration> {
    let value = std::str::from_utf8(value?).ok()?;
    parse_retry_after(value, SystemTime::now()).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_header_value_is_read_as_seconds_or_an_http_date() {
        assert_eq!(retry_after_value(None), None);
        assert_eq!(retry_after_value(Some(b"120")), Some(Duration::from_secs(120)));
        let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3_600));
        let waited = retry_after_value(Some(in_an_hour.as_bytes())).expect("a date is read");
        assert!((3_590..=3_600).contains(&waited.as_secs()), "{waited:?}");
        assert_eq!(retry_after_value(Some(b"soon")), None);
        assert_eq!(retry_after_value(Some(b"\xff")), None);
    }

    #[test]
    fn retry_after_table() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let secs = |s| std::result::Result::Ok(Duration::from_secs(s));
        let cases: &[(&str, Result<Duration, RetryAfterError>)] = &[
            ("120", secs(120)),
            (" 0 ", secs(0)),
            ("007", secs(7)),
            ("Sun, 06 Nov 1994 08:50:37 GMT", secs(60)),
            ("Sunday, 06-Nov-94 08:51:37 GMT", secs(120)),
            ("Sun Nov  6 08:52:37 1994", secs(180)),
            ("Sun, 06 Nov 1994 08:40:00 GMT", secs(0)),
            ("", Err(RetryAfterError::Empty)),
            ("  ", Err(RetryAfterError::Empty)),
            ("-5", Err(RetryAfterError::Invalid)),
            ("1.5", Err(RetryAfterError::Invalid)),
            ("soon", Err(RetryAfterError::Invalid)),
            ("99999999999999999999999", Err(RetryAfterError::OutOfRange)),
        ];
        for (value, expected) in cases {
            assert_eq!(&parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(value in "\\PC{0,64}", now_secs in 0u64..4_000_000_000) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs);
            let _ = parse_retry_after(&value, now);
        }

        #[test]
        fn seconds_round_trip(n in any::<u64>()) {
            prop_assert_eq!(parse_retry_after(&n.to_string(), SystemTime::now()), Ok(Duration::from_secs(n)));
        }

        #[test]
        fn http_date_round_trip(now_secs in 0u64..200_000_000_000, ahead in 0u64..10_000_000) {
            // httpdate formats years 1970..=9999; 2e11 s is about the year 8300.
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs);
            let at = now + Duration::from_secs(ahead);
            prop_assume!(at < SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799));
            let formatted = httpdate::fmt_http_date(at);
            prop_assert_eq!(parse_retry_after(&formatted, now), Ok(Duration::from_secs(ahead)));
        }
    }
}
