//! `DOCUMENT_*` and `INGESTION_STORAGE_DIR` → [`DocumentSettings`]: the upload and expansion caps, the
//! OCR programs (`DOCUMENT_OCR_COMMAND`, `DOCUMENT_PDF_RASTER_COMMAND`, their timeout) and where
//! uploads are kept (`DOCUMENT_STORE=local`, under `INGESTION_STORAGE_DIR`, or `s3`, in the
//! bucket the `S3_*` variables name, the image store's).

use std::path::PathBuf;

use super::{env::Env, media::s3_settings};
use crate::{
    documents::{ArtefactBackend, DocumentSettings, LlmSettings},
    pipeline::{MediaSettings, S3Settings},
};

/// The settings, and the S3 client settings when `DOCUMENT_STORE=s3`. `prefer_llm` imports use
/// QC's OpenAI-compatible server (`QC_PROVIDER=openai`, `QC_BASE_URL`, `QC_MODEL`, `QC_API_KEY`),
/// with their own timeout and row cap (`DOCUMENT_LLM_TIMEOUT_SECONDS`, `DOCUMENT_LLM_MAX_ROWS`).
pub(super) fn document_settings(env: &mut Env<'_>, default_currency: &str, media: &MediaSettings) -> (DocumentSettings, Option<S3Settings>) {
    let defaults = DocumentSettings::default();
    let (artefacts, s3) = match env.get("DOCUMENT_STORE").map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("local") => {
            let dir = env.get("INGESTION_STORAGE_DIR").map_or_else(|| PathBuf::from(DocumentSettings::DEFAULT_STORAGE_DIR), PathBuf::from);
            if dir.exists() && !dir.is_dir() {
                env.problem(format!("INGESTION_STORAGE_DIR {} is not a directory", dir.display()));
            }
            (ArtefactBackend::Local { dir }, None)
        }
        Some("s3") => (ArtefactBackend::S3, Some(s3_settings(env, "when DOCUMENT_STORE=s3"))),
        Some(other) => {
            env.problem(format!("DOCUMENT_STORE={other:?} must be local or s3"));
            (defaults.artefacts.clone(), None)
        }
    };
    let settings = DocumentSettings {
        max_bytes: env.parse("DOCUMENT_MAX_BYTES", DocumentSettings::DEFAULT_MAX_BYTES, 1_024..=1_073_741_824),
        max_expanded_bytes: env.parse("DOCUMENT_MAX_EXPANDED_BYTES", DocumentSettings::DEFAULT_MAX_EXPANDED_BYTES, 1_024..=17_179_869_184),
        default_currency: default_currency.to_owned(),
        artefacts,
        ocr_command: env.get("DOCUMENT_OCR_COMMAND").unwrap_or(defaults.ocr_command.clone()),
        pdf_raster_command: env.get("DOCUMENT_PDF_RASTER_COMMAND").unwrap_or(defaults.pdf_raster_command.clone()),
        ocr_timeout: std::time::Duration::from_secs_f64(env.parse("DOCUMENT_OCR_TIMEOUT_SECONDS", 120.0f64, 1.0..=3_600.0)),
        ocr_languages: ocr_languages(env),
        llm: llm_settings(env, media),
        ..defaults
    };
    (settings, s3)
}

fn llm_settings(env: &mut Env<'_>, media: &MediaSettings) -> Option<LlmSettings> {
    let timeout = env.parse("DOCUMENT_LLM_TIMEOUT_SECONDS", LlmSettings::DEFAULT_TIMEOUT.as_secs_f64(), 1.0..=600.0);
    let max_rows = env.parse("DOCUMENT_LLM_MAX_ROWS", LlmSettings::DEFAULT_MAX_ROWS, 1..=100_000);
    let endpoint = media.qc.openai.as_ref()?;
    Some(LlmSettings {
        base_url: endpoint.base_url.clone(),
        model: endpoint.model.clone(),
        api_key: endpoint.api_key.clone(),
        timeout: std::time::Duration::from_secs_f64(timeout),
        max_rows,
    })
}

/// `DOCUMENT_OCR_LANGUAGES`: tesseract language codes joined by `+` (`eng`, `eng+swa`).
fn ocr_languages(env: &mut Env<'_>) -> String {
    let languages = env.get("DOCUMENT_OCR_LANGUAGES").unwrap_or_else(|| "eng".to_owned());
    let valid = languages.split('+').all(|code| {
        !code.is_empty() && code.len() <= 32 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if !valid {
        env.problem(format!(
            "DOCUMENT_OCR_LANGUAGES={languages:?} must be tesseract language codes joined by + (e.g. eng or eng+swa)"
        ));
        return "eng".to_owned();
    }
    languages
}
