//! The `import_document` job: reads the stored upload (off the async runtime), then applies the
//! diff in the job's completion transaction, so the vendor's offers, their `price_history` rows,
//! the document row and the job's `done` commit together. A crash before that commit leaves the
//! previous snapshot intact and the job runs again (its lease expires); a repeated delivery after
//! it finds the document finished and does nothing.

use std::{collections::HashMap, sync::Arc};

use super::{
    ArtefactStore, DocumentInput, DocumentSettings, Extracted, ProcessError, diff, history,
    llm_normalise::{Normaliser, Unavailable}, pick,
};
use crate::{
    domain::{DocumentCounts, DocumentStatus, RowError, job::stage},
    jobs::{ClaimedJob, Stage, StageCommit, StageOutcome},
    parse::search_text,
    store::{
        Database, StoreError,
        documents::{self, RowWrite},
        price_history,
        tx::Tx,
    },
    time::now_ms,
};

/// The stage; one import at a time per process, beside (never inside) chat extraction.
pub struct ImportStage {
    db: Database,
    settings: Arc<DocumentSettings>,
    artefacts: Arc<dyn ArtefactStore>,
    /// For `prefer_llm` imports, when an LLM is configured.
    normaliser: Option<Normaliser>,
}

impl ImportStage {
    pub fn new(db: Database, settings: Arc<DocumentSettings>, artefacts: Arc<dyn ArtefactStore>) -> Self {
        let normaliser = settings.llm.clone().and_then(|llm| match Normaliser::new(llm) {
            Ok(normaliser) => Some(normaliser),
            Err(error) => {
                tracing::error!(error = %error, "the LLM client for document normalisation cannot be built");
                None
            }
        });
        Self { db, settings, artefacts, normaliser }
    }

    /// The upload's bytes: from the document store, or (uploads from before it) from the row.
    async fn content(&self, input: &documents::ImportInput) -> Result<Option<Vec<u8>>, StageOutcome> {
        if let Some(content) = &input.content {
            return Ok(Some(content.clone()));
        }
        let Some(key) = input.storage_key.as_deref() else {
            return Ok(None);
        };
        match self.artefacts.get(key).await {
            Ok(bytes) => Ok(bytes.map(|b| b.to_vec())),
            Err(error) => Err(retry(error)),
        }
    }
}

fn retry(error: impl std::fmt::Display) -> StageOutcome {
    StageOutcome::Retry {
        error: error.to_string(),
        status: None,
        retry_after: None,
    }
}

#[async_trait::async_trait]
impl Stage for ImportStage {
    fn name(&self) -> &'static str {
        stage::IMPORT_DOCUMENT
    }

    fn concurrency(&self) -> usize {
        1
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let Some(document_id) = job
            .payload
            .get("document_id")
            .and_then(serde_json::Value::as_i64)
        else {
            return StageOutcome::Terminal {
                error: "the job has no document_id".into(),
                status: None,
                commit: None,
                dead: true,
            };
        };
        let input = match documents::start_import(&self.db, document_id).await {
            Ok(Some(input)) => input,
            Ok(None) => return StageOutcome::done_empty(),
            Err(error) => return retry(error),
        };
        let content = match self.content(&input).await {
            Ok(content) => content,
            Err(outcome) => return outcome,
        };
        let Some(content) = content else {
            let commit = Failed {
                document_id,
                reason: "the stored upload is missing".into(),
            };
            return StageOutcome::Terminal {
                error: commit.reason.clone(),
                status: None,
                commit: Some(Box::new(commit)),
                dead: false,
            };
        };
        let currency = input
            .vendor_currency
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.settings.default_currency.clone());
        let max_expanded_bytes = self.settings.max_expanded_bytes;
        let processor_name = input.processor.clone();
        let file_name = input.file_name.clone();
        let settings = Arc::clone(&self.settings);
        let keep_unread = match (&self.normaliser, input.prefer_llm) {
            (Some(normaliser), true) => normaliser.max_rows(),
            _ => 0,
        };
        let default_currency = currency.clone();
        let read = tokio::task::spawn_blocking(move || {
            let processor = pick(&file_name, &content, Some(&processor_name))
                .map_err(|e| ProcessError::Corrupt(e.to_string()))?;
            processor.read(&DocumentInput {
                bytes: &content,
                default_currency: &currency,
                max_expanded_bytes,
                ocr: settings.ocr_tools(),
                keep_unread,
            })
        })
        .await;
        let read = match read {
            Ok(Ok(extracted)) if input.prefer_llm => match self.normalised(extracted, &default_currency).await {
                Ok(read) => read,
                // The LLM server is down: the whole import runs again later (nothing applied).
                Err(down) => {
                    return StageOutcome::Retry {
                        error: down.reason,
                        status: None,
                        retry_after: down.retry_after,
                    };
                }
            },
            Ok(read) => read.map(|extracted| (extracted, 0)),
            Err(join) => return retry(format!("the reader stopped: {join}")),
        };
        match read {
            Ok((extracted, llm_rows)) => StageOutcome::Done(Box::new(Apply {
                document_id,
                vendor_id: input.vendor_id,
                sha256: input.sha256,
                prefer_llm: input.prefer_llm,
                received_at_ms: input.created_at_ms,
                extracted,
                llm_rows,
            })),
            Err(error) => {
                let commit = Failed {
                    document_id,
                    reason: format!("{}: {error}", error.code()),
                };
                StageOutcome::Terminal {
                    error: error.code().into(),
                    status: None,
                    commit: Some(Box::new(commit)),
                    dead: false,
                }
            }
        }
    }
}

impl ImportStage {
    /// `prefer_llm`: the unread rows through the LLM (a note when none is configured any more),
    /// and how many it read; `Unavailable` when its server is down. A document whose sheets had
    /// no header fails `no_header` unless the LLM read some of its rows.
    async fn normalised(
        &self,
        mut extracted: Extracted,
        default_currency: &str,
    ) -> Result<Result<(Extracted, i64), ProcessError>, Unavailable> {
        let llm_rows = match &self.normaliser {
            Some(normaliser) => normaliser.normalise(&mut extracted, default_currency).await?,
            None => {
                extracted.errors.push(RowError {
                    row: None,
                    sheet: None,
                    reason: "prefer_llm was asked but no LLM is configured (QC_PROVIDER=openai, QC_BASE_URL, QC_MODEL); the rule-based reading stands".into(),
                });
                0
            }
        };
        if extracted.no_header && extracted.rows.is_empty() {
            return Ok(Err(ProcessError::NoHeader));
        }
        Ok(Ok((extracted, i64::try_from(llm_rows).unwrap_or(i64::MAX))))
    }
}

/// A document that cannot be read as a whole.
struct Failed {
    document_id: i64,
    reason: String,
}

#[async_trait::async_trait]
impl StageCommit for Failed {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        documents::finish(
            tx,
            self.document_id,
            DocumentStatus::Failed,
            Some(&self.reason),
            DocumentCounts::default(),
            &[],
            now_ms(),
        )
        .await
    }
}

/// Rows per write statement (both dialects; SQLite splits further under its parameter limit).
const WRITE_CHUNK: usize = 2_000;

/// The diff and its writes, inside the job's completion transaction.
struct Apply {
    document_id: i64,
    vendor_id: i64,
    sha256: String,
    prefer_llm: bool,
    received_at_ms: i64,
    extracted: Extracted,
    llm_rows: i64,
}

fn write<'r>(row: &'r crate::domain::DocumentRow) -> RowWrite<'r> {
    RowWrite {
        row,
        row_key: row.row_key(),
        row_hash: row.row_hash(),
        search_text: search_text::index_text(&[Some(&row.title)]),
    }
}

#[async_trait::async_trait]
impl StageCommit for Apply {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = now_ms();
        documents::lock_vendor(tx, self.vendor_id).await?;
        // Another import of the same bytes finished while this one waited: nothing changes.
        if documents::same_as_last_import(tx, self.vendor_id, &self.sha256, self.prefer_llm, self.document_id)
            .await?
        {
            return documents::finish(
                tx,
                self.document_id,
                DocumentStatus::Skipped,
                Some("no_changes"),
                DocumentCounts::default(),
                &[],
                now,
            )
            .await;
        }
        let snapshot: HashMap<String, diff::Known> = documents::snapshot(tx, self.vendor_id)
            .await?
            .into_iter()
            .map(|known| {
                (
                    known.row_key,
                    diff::Known {
                        offer_id: known.id,
                        row_hash: known.row_hash,
                        active: known.active != 0,
                        price: known.price,
                        currency: known.currency,
                    },
                )
            })
            .collect();
        let split = diff::partition(&self.extracted.rows, &snapshot);
        drop(snapshot);
        // Written a chunk at a time, so the statement's parameters (and the connection's buffer,
        // which keeps its largest size) stay bounded however long the list is. Every first price
        // and every changed one goes to `price_history`, dated at the upload.
        let source = history::Source {
            document_id: self.document_id,
            vendor_id: self.vendor_id,
            at_ms: self.received_at_ms,
        };
        for chunk in split.create.chunks(WRITE_CHUNK) {
            let writes: Vec<RowWrite<'_>> = chunk.iter().map(|row| write(row)).collect();
            let created =
                documents::insert_rows(tx, self.document_id, self.vendor_id, self.received_at_ms, &writes, now)
                    .await?;
            price_history::append(tx, &history::changes(source, chunk, &created, &[])).await?;
        }
        for chunk in split.update.chunks(WRITE_CHUNK) {
            let writes: Vec<(i64, RowWrite<'_>)> = chunk.iter().map(|(id, row)| (*id, write(row))).collect();
            documents::update_rows(tx, self.document_id, &writes, now).await?;
        }
        for chunk in split.repriced.chunks(WRITE_CHUNK) {
            price_history::append(tx, &history::changes(source, &[], &[], chunk)).await?;
        }
        documents::deactivate(tx, &split.removed, now).await?;
        let mut errors: Vec<RowError> = self.extracted.errors.clone();
        errors.extend(split.duplicates.iter().cloned());
        let counts = DocumentCounts {
            created: split.create.len() as i64,
            updated: split.update.len() as i64,
            unchanged: split.unchanged as i64,
            removed: split.removed.len() as i64,
            errors: errors.iter().filter(|e| e.row.is_some()).count() as i64,
            llm_rows: self.llm_rows,
        };
        documents::finish(
            tx,
            self.document_id,
            DocumentStatus::Done,
            None,
            counts,
            &errors,
            now,
        )
        .await
    }
}
