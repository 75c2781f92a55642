//! Wall-clock helpers. Stored times are unix epoch milliseconds everywhere.

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
