//! `gateway::ingest`: the schema and the signature check, with an
//! [`IngestError`] holding only the variants those two return. The gateway's
//! own enum also wraps store and rate-limit errors, which this crate leaves out;
//! the codes below are the gateway's (`gateway/src/ingest/error.rs`).

#[path = "../../../gateway/src/ingest/schema.rs"]
pub mod schema;
#[path = "../../../gateway/src/ingest/signature.rs"]
pub mod signature;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid signature")]
    InvalidSignature,
    #[error("invalid signature: timestamp is older than the allowed {0} s")]
    Stale(u64),
    #[error("invalid signature: timestamp is more than {0} s in the future")]
    Future(u64),
    #[error("invalid signature: X-Signature-Timestamp must be RFC 3339 UTC or unix seconds")]
    MalformedTimestamp,
    #[error("batch has {count} messages; at most {max} are accepted per request")]
    TooManyMessages { count: usize, max: usize },
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("invalid payload at {path}: {detail}")]
    Schema { path: String, detail: String },
}

impl IngestError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidSignature => "invalid_signature",
            Self::Stale(_) => "signature_timestamp_stale",
            Self::Future(_) => "signature_timestamp_future",
            Self::MalformedTimestamp => "signature_timestamp_invalid",
            Self::TooManyMessages { .. } => "too_many_messages",
            Self::MalformedJson(_) => "malformed_json",
            Self::Schema { .. } => "invalid_payload",
        }
    }
}
