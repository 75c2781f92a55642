//! `gateway ingest <file> --vendor "Name"` (seed 002's CLI): the same intake as `POST /documents`
//! (format check, vendor by id or name, the bytes kept in the document store, the row and its
//! import job in one transaction), then the durable import job run in this process until the
//! document is finished. A gateway worker running beside it may take the job instead: the command
//! waits for the document either way, so nothing is imported twice and nothing is lost.

use std::{path::Path, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::Config,
    documents::{import::ImportStage, intake},
    domain::{DocumentCounts, DocumentStatus, RowError},
    jobs,
    metrics::Metrics,
    store::{Store, documents as stored},
};

/// What `gateway ingest` was asked to do.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub file_name: String,
    pub bytes: Bytes,
    pub vendor: String,
    pub processor: Option<String>,
    /// `--option key=value` pairs.
    pub options: Vec<(String, String)>,
}

/// Where the command is, for the progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Stored,
    Waiting(DocumentStatus),
}

/// How the import ended.
#[derive(Debug, Clone)]
pub struct IngestOutcome {
    pub document_id: i64,
    pub status: DocumentStatus,
    pub reason: Option<String>,
    pub counts: DocumentCounts,
    pub errors: Vec<RowError>,
}

/// Why the command could not finish.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input is refused (format, corrupt workbook, option): exit 65.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Reads the `--option` pairs: `prefer_llm` (true or false) is the only key; the last one given
/// counts. Whether an LLM is configured is the intake's check, as for `POST /documents`.
fn prefer_llm_of(options: &[(String, String)]) -> Result<bool, CliError> {
    let mut prefer_llm = false;
    for (key, value) in options {
        match key.as_str() {
            "prefer_llm" => {
                prefer_llm = intake::flag_value(value)
                    .ok_or_else(|| CliError::Refused(format!("--option prefer_llm={value:?}: the value must be true or false")))?;
            }
            other => return Err(CliError::Refused(format!("--option {other:?} is unknown: the known option is prefer_llm"))),
        }
    }
    Ok(prefer_llm)
}

/// Runs one import to its end; `progress` hears each change of step.
pub async fn ingest(config: &Config, request: IngestRequest, mut progress: impl FnMut(Step)) -> Result<IngestOutcome, CliError> {
    let prefer_llm = prefer_llm_of(&request.options)?;
    if request.bytes.len() > config.documents.max_bytes {
        return Err(CliError::Refused(format!(
            "the file is {} bytes, over DOCUMENT_MAX_BYTES ({})",
            request.bytes.len(),
            config.documents.max_bytes
        )));
    }
    let metrics = Arc::new(Metrics::new().context("registering metrics")?);
    let store = Store::open(&config.store, metrics.clone()).await.context("opening the database")?;
    let artefacts = crate::app::artefact_store(&config.documents, config.documents_s3.as_ref()).await;
    let submission = intake::Submission {
        file_name: &request.file_name,
        bytes: request.bytes,
        vendor: &request.vendor,
        processor: request.processor.as_deref(),
        prefer_llm,
    };
    let accepted = match intake::accept(&store.db, artefacts.as_ref(), &config.documents, submission).await {
        Ok(accepted) => accepted,
        Err(error @ (intake::IntakeError::Store(_) | intake::IntakeError::Artefact(_) | intake::IntakeError::Probe(_))) => {
            return Err(CliError::Other(anyhow::Error::new(error).context("storing the document")));
        }
        Err(refused) => return Err(CliError::Refused(refused.to_string())),
    };
    progress(Step::Stored);
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    if accepted.status == DocumentStatus::Queued {
        let stage = Arc::new(ImportStage::new(store.db.clone(), Arc::new(config.documents.clone()), artefacts));
        let settings = jobs::RuntimeSettings { lease: config.chain.job_lease, poll: Duration::from_millis(50) };
        jobs::JobRuntime::spawn(store.db.clone(), metrics, vec![stage], settings, shutdown.clone(), &tasks);
    }
    let finished = wait_until_final(&store, accepted.document_id, &mut progress).await;
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    store.close().await;
    finished
}

async fn wait_until_final(store: &Store, id: i64, progress: &mut impl FnMut(Step)) -> Result<IngestOutcome, CliError> {
    let mut last = None;
    loop {
        let record = stored::get(&store.db, id).await.context("reading the document")?.context("the document row is gone")?;
        let status = DocumentStatus::parse(&record.status).context("an unknown document status")?;
        if last != Some(status) {
            progress(Step::Waiting(status));
            last = Some(status);
        }
        if status.is_final() {
            let errors = serde_json::from_str(&record.errors).unwrap_or_default();
            let counts = DocumentCounts {
                created: record.created_count,
                updated: record.updated_count,
                unchanged: record.unchanged_count,
                removed: record.removed_count,
                errors: record.error_count,
                llm_rows: record.llm_rows,
            };
            return Ok(IngestOutcome { document_id: id, status, reason: record.reason, counts, errors });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Files at least this large get a progress bar while they are read.
const BAR_FROM_BYTES: u64 = 4 * 1024 * 1024;

/// The command: reads the file (with a progress bar when it is large and stderr is a terminal),
/// imports it, prints the counts and the unreadable rows, and gives the exit code.
pub async fn run(config: &Config, path: &Path, vendor: String, processor: Option<String>, options: Vec<(String, String)>) -> ExitCode {
    let bytes = match read_with_bar(path).await {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("gateway ingest: cannot read {}: {error}", path.display());
            return ExitCode::from(65);
        }
    };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let request = IngestRequest { file_name, bytes, vendor, processor, options };
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let outcome = ingest(config, request, |step| {
        spinner.set_message(match step {
            Step::Stored => "stored".to_owned(),
            Step::Waiting(status) => status.as_str().to_owned(),
        })
    })
    .await;
    spinner.finish_and_clear();
    match outcome {
        Ok(outcome) => {
            print_outcome(&outcome);
            if outcome.status == DocumentStatus::Failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(CliError::Refused(reason)) => {
            eprintln!("gateway ingest: refused: {reason}");
            ExitCode::from(65)
        }
        Err(CliError::Other(error)) => {
            eprintln!("gateway ingest: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn read_with_bar(path: &Path) -> std::io::Result<Bytes> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let size = file.metadata().await?.len();
    let bar = if size >= BAR_FROM_BYTES { ProgressBar::new(size) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("reading {bar:30} {bytes}/{total_bytes}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let read = file.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..read]);
        bar.inc(read as u64);
    }
    bar.finish_and_clear();
    Ok(Bytes::from(bytes))
}

fn print_outcome(outcome: &IngestOutcome) {
    let c = &outcome.counts;
    println!("document {} {}", outcome.document_id, outcome.status.as_str());
    if let Some(reason) = &outcome.reason {
        println!("reason {reason}");
    }
    let llm = if c.llm_rows > 0 { format!(" llm_rows={}", c.llm_rows) } else { String::new() };
    println!("created={} updated={} unchanged={} removed={} errors={}{llm}", c.created, c.updated, c.unchanged, c.removed, c.errors);
    for error in outcome.errors.iter().take(50) {
        let place = match (&error.sheet, error.row) {
            (Some(sheet), Some(row)) => format!("{sheet} row {row}"),
            (None, Some(row)) => format!("row {row}"),
            (Some(sheet), None) => sheet.clone(),
            (None, None) => "document".to_owned(),
        };
        println!("  {place}: {}", error.reason);
    }
    if outcome.errors.len() > 50 {
        println!("  … {} more (GET /documents/{})", outcome.errors.len() - 50, outcome.document_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_not_ignored() {
        let pair = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert!(matches!(prefer_llm_of(&[]), Ok(false)));
        assert!(matches!(prefer_llm_of(&pair("prefer_llm", "false")), Ok(false)));
        assert!(matches!(prefer_llm_of(&pair("prefer_llm", "TRUE")), Ok(true)));
        assert!(matches!(prefer_llm_of(&pair("prefer_llm", "maybe")), Err(CliError::Refused(m)) if m.contains("true or false")));
        assert!(matches!(prefer_llm_of(&pair("colour", "red")), Err(CliError::Refused(m)) if m.contains("unknown")));
    }
}
