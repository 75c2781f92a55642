//! Why the Meta receiver refused a request. The body's own problems (too
//! large, not JSON, a field of the wrong type, storage) are the seed ingest's
//! [`IngestError`]s; the HTTP status of each is decided in `http/errors.rs`.

use crate::ingest::IngestError;

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The subscription handshake: wrong mode, token or no challenge.
    #[error("the webhook verification request does not match")]
    VerificationRefused,
    /// `X-Hub-Signature-256` is missing or matches no app secret.
    #[error("invalid signature")]
    InvalidSignature,
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl MetaError {
    /// The stable reason: the error body's `code` and the `outcome` label of
    /// `soko_meta_requests_total` (a bounded set).
    pub fn code(&self) -> &'static str {
        match self {
            Self::VerificationRefused => "verification_refused",
            Self::InvalidSignature => "invalid_signature",
            Self::Ingest(error) => error.code(),
        }
    }
}
