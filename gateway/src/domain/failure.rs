//! Refused ingest requests as the failure log keeps them, and the persistent
//! totals a refusal adds to. A record carries a fixed reason code, the status
//! it was answered with and the request id; the recorder in `ingest` buffers
//! them and the store writes them in batches ([`FailureFlush`]).

/// One refused request, for `recent_failures` and the diagnostics log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FailureRecord {
    pub at_ms: i64,
    pub client_id: Option<String>,
    pub chat_title: Option<String>,
    pub status: u16,
    pub code: &'static str,
    pub reason: String,
    pub request_id: String,
}

/// The totals of `/metrics/whatsapp` that refusals count into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureCounter {
    AuthFailures,
    Forbidden,
    SignatureFailures,
    RateLimited,
    Rejected,
}

impl FailureCounter {
    pub const ALL: [Self; 5] = [Self::AuthFailures, Self::Forbidden, Self::SignatureFailures, Self::RateLimited, Self::Rejected];

    /// The total's name, as `/metrics/whatsapp` and the `counters` table name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::AuthFailures => "auth_failures",
            Self::Forbidden => "forbidden",
            Self::SignatureFailures => "signature_failures",
            Self::RateLimited => "rate_limited",
            Self::Rejected => "rejected",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What one flush writes: records, counter increments, and the row cap.
#[derive(Debug, Default, Clone)]
pub struct FailureFlush {
    pub records: Vec<FailureRecord>,
    pub counter_deltas: Vec<(&'static str, i64)>,
    pub keep_rows: u32,
}

impl FailureFlush {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.counter_deltas.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_indexes_follow_the_list() {
        for (i, counter) in FailureCounter::ALL.iter().enumerate() {
            assert_eq!(counter.index(), i);
        }
        assert!(FailureFlush::default().is_empty());
    }
}
