//! Taking in one document, the same way for `POST /documents` and `gateway ingest`: check the
//! format (and that a workbook opens) off the runtime, resolve the vendor (an id, or a name that
//! is created when unknown), keep the bytes in the document store, then write the document row and
//! its import job in one transaction (or `skipped` / `no_changes` for the vendor's last bytes).

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{ArtefactError, ArtefactStore, DocumentSettings, ProbeError, artefacts, probe};
use crate::{
    domain::DocumentStatus,
    store::{
        Database, StoreError,
        documents::{self as stored, NewDocument},
    },
    time::now_ms,
};

/// A vendor named in an upload (created when unknown) stays a readable name.
pub const MAX_VENDOR_NAME: usize = 200;

/// One upload, as the client gave it.
pub struct Submission<'a> {
    pub file_name: &'a str,
    pub bytes: Bytes,
    /// A vendor id, or a vendor name.
    pub vendor: &'a str,
    /// The processor the client names, if any.
    pub processor: Option<&'a str>,
    /// Send the rows the rules cannot read to the LLM (spreadsheets only).
    pub prefer_llm: bool,
}

/// The stored document and where it stands (`queued`, or `skipped` with `no_changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub document_id: i64,
    pub status: DocumentStatus,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the file is empty")]
    Empty,
    #[error("the vendor is empty")]
    NoVendor,
    #[error("the vendor name is longer than {MAX_VENDOR_NAME} characters")]
    VendorNameTooLong,
    #[error("no vendor has the id {0}")]
    UnknownVendorId(i64),
    #[error(
        "prefer_llm needs an OpenAI-compatible LLM, and none is configured: set QC_PROVIDER=openai, QC_BASE_URL and QC_MODEL"
    )]
    LlmUnavailable,
    #[error("prefer_llm applies to spreadsheets; this file is read by the {0} processor")]
    LlmNotForProcessor(&'static str),
    #[error(transparent)]
    Refused(#[from] ProbeError),
    #[error("the format check stopped: {0}")]
    Probe(String),
    #[error(transparent)]
    Artefact(#[from] ArtefactError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A `prefer_llm` value (a form field or `--option prefer_llm=`): `true`, `1`, `yes` or `on`, or
/// `false`, `0`, `no` or `off`, in any case; anything else is `None`.
pub fn flag_value(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Stores the submission and queues its import (see the module note).
pub async fn accept(
    db: &Database,
    store: &dyn ArtefactStore,
    settings: &DocumentSettings,
    submission: Submission<'_>,
) -> Result<Accepted, IntakeError> {
    let vendor = submission.vendor.trim();
    if submission.bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    if vendor.is_empty() {
        return Err(IntakeError::NoVendor);
    }
    if vendor.chars().count() > MAX_VENDOR_NAME {
        return Err(IntakeError::VendorNameTooLong);
    }
    if submission.prefer_llm && settings.llm.is_none() {
        return Err(IntakeError::LlmUnavailable);
    }
    let (bytes, file_name) = (submission.bytes.clone(), submission.file_name.to_owned());
    let requested = submission.processor.map(str::to_owned);
    let limit = settings.max_expanded_bytes;
    let (processor, media_type) =
        tokio::task::spawn_blocking(move || probe(&file_name, &bytes, requested.as_deref(), limit))
            .await
            .map_err(|join| IntakeError::Probe(join.to_string()))??;
    if submission.prefer_llm && processor != super::sheet::NAME {
        return Err(IntakeError::LlmNotForProcessor(processor));
    }
    let now = now_ms();
    let vendor_id = match vendor.parse::<i64>() {
        Ok(id) if stored::vendor_exists(db, id).await? => id,
        Ok(id) => return Err(IntakeError::UnknownVendorId(id)),
        Err(_) => stored::vendor_named(db, vendor, now).await?,
    };
    let sha256 = hex::encode(Sha256::digest(&submission.bytes));
    // The bytes are kept before the row that names them: a crash between the two leaves a file
    // that the next upload of the same bytes adopts, never a row without its bytes.
    let storage_key = artefacts::key_for(&sha256);
    let size_bytes = submission.bytes.len();
    store.put(&storage_key, submission.bytes, media_type).await?;
    let new = NewDocument {
        vendor_id,
        file_name: submission.file_name,
        media_type,
        sha256: &sha256,
        processor,
        size_bytes,
        storage_key: &storage_key,
        prefer_llm: submission.prefer_llm,
        now_ms: now,
    };
    let (document_id, status) = stored::create(db, &new).await?;
    Ok(Accepted { document_id, status })
}
