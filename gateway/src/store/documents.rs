//! `source_documents` and the offers read from them. The upload writes the document row (and its
//! import job, in the same transaction); the import job reads the vendor's snapshot and applies
//! its diff inside the job's completion transaction, with batch statements: multi-row `INSERT`
//! and `UPDATE … FROM (VALUES …)` on SQLite, `UNNEST` arrays on PostgreSQL, never a row at a time.

use serde::Serialize;

use super::{
    Database, StoreError,
    jobs::{self, NewJob},
    queries::on_pool,
    tx::{Tx, on_tx},
};
use crate::domain::{DocumentCounts, DocumentRow, DocumentStatus, RowError, job::stage};

/// A document as `GET /documents` shows it (the stored bytes are never read here).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DocumentRecord {
    pub id: i64,
    pub vendor_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub processor: String,
    /// `queued`, `processing`, `done`, `failed` or `skipped`.
    pub status: String,
    /// Why it failed (`corrupt: …`, `no_header: …`) or was skipped (`no_changes`).
    pub reason: Option<String>,
    pub created_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub removed_count: i64,
    pub error_count: i64,
    /// JSON array of `{row, sheet, reason}`.
    #[serde(skip)]
    pub errors: String,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// The upload asked for LLM normalisation of the rows the rules cannot read.
    pub prefer_llm: bool,
    /// How many of its rows the LLM read.
    pub llm_rows: i64,
    /// Where the upload's bytes are kept (`documents/<sha256>`); null for uploads from before the
    /// document store.
    #[serde(skip)]
    pub storage_key: Option<String>,
}

/// The documents as shown: one whose import job gave up (dead after its retries) before it could
/// finish the document is `failed`, with the job's last error, not `queued` or `processing` forever.
const DOCUMENTS: &str = "SELECT d.id, d.vendor_id, d.file_name, d.media_type, d.sha256, d.size_bytes, d.processor,
        CASE WHEN d.status IN ('queued', 'processing') AND j.state = 'dead' THEN 'failed' ELSE d.status END AS status,
        CASE WHEN d.status IN ('queued', 'processing') AND j.state = 'dead'
             THEN 'job_dead: ' || COALESCE(j.last_error, 'the import job gave up') ELSE d.reason END AS reason,
        d.created_count, d.updated_count, d.unchanged_count, d.removed_count, d.error_count, d.errors, d.created_at_ms,
        CASE WHEN d.status IN ('queued', 'processing') AND j.state = 'dead' THEN j.updated_at_ms ELSE d.finished_at_ms END
            AS finished_at_ms, d.prefer_llm, d.llm_rows, d.storage_key
    FROM source_documents d
    LEFT JOIN jobs j ON j.stage = 'import_document' AND j.dedupe_key = CAST(d.id AS TEXT)";

/// An upload about to be stored.
pub struct NewDocument<'a> {
    pub vendor_id: i64,
    pub file_name: &'a str,
    pub media_type: &'a str,
    pub sha256: &'a str,
    pub processor: &'a str,
    pub size_bytes: usize,
    /// The key the bytes were stored under, before this row is written.
    pub storage_key: &'a str,
    /// LLM normalisation asked for.
    pub prefer_llm: bool,
    pub now_ms: i64,
}

/// The vendor's last finished import (`done` or `skipped`) other than `except`, when its bytes
/// were `sha256` read the same way (with or without `prefer_llm`): the whole-document skip.
pub async fn same_as_last_import(
    tx: &mut Tx,
    vendor_id: i64,
    sha256: &str,
    prefer_llm: bool,
    except: i64,
) -> Result<bool, StoreError> {
    let sql = "SELECT sha256, prefer_llm FROM source_documents WHERE vendor_id = $1 AND id <> $2 AND status IN ('done', 'skipped')
               ORDER BY id DESC LIMIT 1";
    let last: Option<(String, bool)> = on_tx!(tx, |conn| sqlx::query_as(sql)
        .bind(vendor_id)
        .bind(except)
        .fetch_optional(conn)
        .await?);
    Ok(last.is_some_and(|(last, llm)| last == sha256 && llm == prefer_llm))
}

/// Stores the upload. When the vendor's last import had the same bytes the row is `skipped`
/// (`no_changes`) and nothing else is written; otherwise it is `queued`, with its import job in
/// the same transaction.
pub async fn create(
    db: &Database,
    doc: &NewDocument<'_>,
) -> Result<(i64, DocumentStatus), StoreError> {
    let mut tx = db.begin_write().await?;
    let skip = same_as_last_import(&mut tx, doc.vendor_id, doc.sha256, doc.prefer_llm, -1).await?;
    let (status, reason, finished) = if skip {
        (DocumentStatus::Skipped, Some("no_changes"), Some(doc.now_ms))
    } else {
        (DocumentStatus::Queued, None, None)
    };
    let sql = "INSERT INTO source_documents (vendor_id, file_name, media_type, sha256, size_bytes, processor, status, reason,
                                             storage_key, created_at_ms, finished_at_ms, prefer_llm)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
    let size = i64::try_from(doc.size_bytes).unwrap_or(i64::MAX);
    let id: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql)
        .bind(doc.vendor_id)
        .bind(doc.file_name)
        .bind(doc.media_type)
        .bind(doc.sha256)
        .bind(size)
        .bind(doc.processor)
        .bind(status.as_str())
        .bind(reason)
        .bind(doc.storage_key)
        .bind(doc.now_ms)
        .bind(finished)
        .bind(doc.prefer_llm)
        .fetch_one(conn)
        .await?);
    if !skip {
        let key = id.to_string();
        let payload = serde_json::json!({ "document_id": id });
        jobs::enqueue(
            &mut tx,
            NewJob {
                stage: stage::IMPORT_DOCUMENT,
                dedupe_key: &key,
                payload: &payload,
                run_at_ms: doc.now_ms,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok((id, status))
}

/// The vendor named `name` (case-insensitive; the oldest when several share it), created when
/// there is none.
pub async fn vendor_named(db: &Database, name: &str, now_ms: i64) -> Result<i64, StoreError> {
    let mut tx = db.begin_write().await?;
    let sql = "SELECT id FROM vendors WHERE lower(name) = lower($1) ORDER BY id LIMIT 1";
    let found: Option<i64> = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql)
        .bind(name)
        .fetch_optional(conn)
        .await?);
    let id = match found {
        Some(id) => id,
        None => {
            let sql = "INSERT INTO vendors (name, created_at_ms) VALUES ($1, $2) RETURNING id";
            on_tx!(&mut tx, |conn| sqlx::query_scalar(sql)
                .bind(name)
                .bind(now_ms)
                .fetch_one(conn)
                .await?)
        }
    };
    tx.commit().await?;
    Ok(id)
}

pub async fn vendor_exists(db: &Database, id: i64) -> Result<bool, StoreError> {
    let sql = "SELECT COUNT(*) FROM vendors WHERE id = $1";
    let count: i64 = on_pool!(db, |pool| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await?);
    Ok(count > 0)
}

pub async fn get(db: &Database, id: i64) -> Result<Option<DocumentRecord>, StoreError> {
    let sql = format!("SELECT * FROM ({DOCUMENTS}) AS docs WHERE id = $1");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// Filters of `GET /documents`.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub vendor_id: Option<i64>,
    pub status: Option<DocumentStatus>,
    /// Documents with a smaller id (the previous page's last id).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Newest first.
pub async fn list(
    db: &Database,
    filter: &DocumentFilter,
) -> Result<Vec<DocumentRecord>, StoreError> {
    let sql = format!(
        "SELECT * FROM ({DOCUMENTS}) AS docs
         WHERE ($1 IS NULL OR vendor_id = $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    );
    let sql = if db.is_postgres() {
        sql.replace("$1 IS NULL", "$1::bigint IS NULL")
            .replace("$2 IS NULL", "$2::text IS NULL")
            .replace("$3 IS NULL", "$3::bigint IS NULL")
    } else {
        sql
    };
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(filter.vendor_id)
        .bind(filter.status.map(DocumentStatus::as_str))
        .bind(filter.before_id)
        .bind(filter.limit)
        .fetch_all(pool)
        .await?))
}

/// What the import job reads back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportInput {
    pub vendor_id: i64,
    pub file_name: String,
    pub processor: String,
    pub sha256: String,
    /// The bytes of an upload from before the document store; else read `storage_key`.
    pub content: Option<Vec<u8>>,
    pub storage_key: Option<String>,
    pub created_at_ms: i64,
    pub vendor_currency: Option<String>,
    pub prefer_llm: bool,
}

/// Marks a queued (or interrupted) document `processing` and returns what its import needs;
/// `None` when it is gone or already finished (a repeated delivery of its job).
pub async fn start_import(db: &Database, id: i64) -> Result<Option<ImportInput>, StoreError> {
    let sql = "UPDATE source_documents SET status = 'processing' WHERE id = $1 AND status IN ('queued', 'processing')";
    let started = on_pool!(db, |pool| sqlx::query(sql)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
    if started == 0 {
        return Ok(None);
    }
    let sql = "SELECT d.vendor_id, d.file_name, d.processor, d.sha256, d.content, d.storage_key, d.created_at_ms, v.default_currency AS vendor_currency, d.prefer_llm
               FROM source_documents d JOIN vendors v ON v.id = d.vendor_id WHERE d.id = $1";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// The end of an import: status, reason, counts and row errors; the stored bytes are dropped.
pub async fn finish(
    tx: &mut Tx,
    id: i64,
    status: DocumentStatus,
    reason: Option<&str>,
    counts: DocumentCounts,
    errors: &[RowError],
    now_ms: i64,
) -> Result<(), StoreError> {
    let errors = serde_json::to_string(errors)
        .map_err(|e| StoreError::Failed(format!("document errors: {e}")))?;
    let sql = "UPDATE source_documents SET status = $2, reason = $3, created_count = $4, updated_count = $5,
                   unchanged_count = $6, removed_count = $7, error_count = $8, errors = $9, content = NULL, finished_at_ms = $10,
                   llm_rows = $11
               WHERE id = $1";
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(id)
        .bind(status.as_str())
        .bind(reason)
        .bind(counts.created)
        .bind(counts.updated)
        .bind(counts.unchanged)
        .bind(counts.removed)
        .bind(counts.errors)
        .bind(errors)
        .bind(now_ms)
        .bind(counts.llm_rows)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Serialises the imports of one vendor, so two replicas never diff against the same snapshot:
/// on PostgreSQL the vendor row is locked (`FOR NO KEY UPDATE`, which offers referencing the
/// vendor do not wait for) until the transaction ends; a SQLite write transaction already
/// excludes every other writer.
pub async fn lock_vendor(tx: &mut Tx, vendor_id: i64) -> Result<(), StoreError> {
    if let Tx::Postgres(transaction, ..) = tx {
        let sql = "SELECT id FROM vendors WHERE id = $1 FOR NO KEY UPDATE";
        sqlx::query(sql)
            .bind(vendor_id)
            .fetch_optional(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// One document offer of a vendor, as the diff compares it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    pub row_key: String,
    pub id: i64,
    pub row_hash: String,
    pub active: i32,
    /// The offer's price now (the old price of a change).
    pub price: Option<String>,
    pub currency: String,
}

/// The vendor's document offers.
pub async fn snapshot(tx: &mut Tx, vendor_id: i64) -> Result<Vec<SnapshotRow>, StoreError> {
    let sql = "SELECT row_key, id, row_hash, active, price, currency FROM offers
               WHERE vendor_id = $1 AND source_document_id IS NOT NULL";
    Ok(on_tx!(tx, |conn| sqlx::query_as(sql)
        .bind(vendor_id)
        .fetch_all(conn)
        .await?))
}

/// One row to write: the document row, its key, hash and search text.
pub struct RowWrite<'r> {
    pub row: &'r DocumentRow,
    pub row_key: String,
    pub row_hash: String,
    pub search_text: String,
}

pub use super::document_writes::{deactivate, insert_rows, update_rows};
