//! How the console writes times and money: WhatsApp times in the operator's
//! time zone (`ADMIN_TIME_ZONE`) with a relative "3 min ago" beside them, and
//! prices with thousands separators and their currency ("KES 118,000").

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

/// "6 Dec 2026, 14:03" in `zone`, or "—" for a time that cannot be shown.
pub fn local_time(zone: Tz, ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(utc) => zone
            .from_utc_datetime(&utc.naive_utc())
            .format("%-d %b %Y, %H:%M")
            .to_string(),
        None => "—".into(),
    }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago"; "in 4 min" for a future time.
pub fn relative(now_ms: i64, ms: i64) -> String {
    let delta = now_ms - ms;
    let (future, secs) = (delta < 0, delta.unsigned_abs() / 1_000);
    let amount = match secs {
        0..=44 => return "just now".into(),
        45..=5_399 => format!("{} min", (secs + 30) / 60),
        5_400..=129_599 => format!("{} h", (secs + 1_800) / 3_600),
        _ => format!("{} days", (secs + 43_200) / 86_400),
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A `<time>` with the local time, the zone's name on hover, and the relative time.
pub fn when(zone: Tz, now_ms: i64, ms: Option<i64>) -> Markup {
    match ms.and_then(|ms| DateTime::<Utc>::from_timestamp_millis(ms).map(|utc| (ms, utc))) {
        Some((ms, utc)) => html! {
            time datetime=(utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) title=(zone.name()) { (local_time(zone, ms)) }
            " " span.rel { (relative(now_ms, ms)) }
        },
        None => html! { span.muted { "—" } },
    }
}

/// Groups the integer part of a decimal string by thousands: "118000.50" → "118,000.50";
/// a fraction of zeros is dropped ("118000.00" → "118,000").
pub fn group_thousands(decimal: &str) -> String {
    let decimal = decimal.trim();
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return decimal.to_owned();
    }
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let fraction = if fraction.bytes().all(|b| b == b'0') {
        String::new()
    } else {
        format!(".{fraction}")
    };
    format!("{sign}{grouped}{fraction}")
}

/// "KES 118,000", or "no price".
pub fn price(currency: &str, amount: Option<&str>) -> String {
    match amount {
        Some(amount) => format!("{currency} {}", group_thousands(amount)),
        None => "no price".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_have_separators_and_currency() {
        assert_eq!(price("KES", Some("118000")), "KES 118,000");
        assert_eq!(price("KES", Some("118000.00")), "KES 118,000");
        assert_eq!(price("NGN", Some("1250000.5")), "NGN 1,250,000.5");
        assert_eq!(price("USD", Some("999")), "USD 999");
        assert_eq!(price("KES", Some("-1000")), "KES -1,000");
        assert_eq!(price("KES", None), "no price");
        assert_eq!(group_thousands("abc"), "abc");
    }

    #[test]
    fn times_are_local_and_relative() {
        // 2026-12-06T11:03:00Z is 14:03 in Nairobi (UTC+3).
        let ms = 1_796_554_980_000;
        assert_eq!(
            local_time(chrono_tz::Africa::Nairobi, ms),
            "6 Dec 2026, 14:03"
        );
        assert_eq!(local_time(chrono_tz::UTC, ms), "6 Dec 2026, 11:03");
        assert_eq!(relative(ms + 10_000, ms), "just now");
        assert_eq!(relative(ms + 5 * 60_000, ms), "5 min ago");
        assert_eq!(relative(ms + 3 * 3_600_000, ms), "3 h ago");
        assert_eq!(relative(ms + 2 * 86_400_000, ms), "2 days ago");
        assert_eq!(relative(ms - 4 * 60_000, ms), "in 4 min");
    }
}
