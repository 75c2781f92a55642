//! Vendor documents over HTTP (issue 16): `POST /documents` takes a multipart `file` with its
//! `vendor` (an id, or a name: an unknown name creates the vendor) and an optional `processor`,
//! refuses what no processor reads (415), a workbook that does not open (422, with the reason)
//! and anything over `DOCUMENT_MAX_BYTES` while it streams in (413); it stores the upload and its
//! import job together and answers 202, or 200 `skipped` / `no_changes` when the vendor's last
//! import had the same bytes. `?wait=true` answers once the import is finished.
//! `GET /documents` lists them, `GET /documents/{id}` shows one with its row errors
//! (`http/document_files.rs` serves its file and the template).

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::header, web};
use serde::{Deserialize, Serialize};

use super::{
    admin_documents, auth,
    body::read_capped,
    views::{documents::Refused, layout},
    errors::{ApiError, ErrorBody},
    list_cursor,
    openapi::ReadErrors,
};
use crate::{
    app::AppState,
    documents::intake,
    domain::{DocumentStatus, RowError},
    ingest::IngestError,
    parse::multipart,
    store::documents::{self as stored, DocumentFilter, DocumentRecord},
};

/// Room for the multipart framing and the small fields around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// `?wait=true` gives up (answering 202 with the status so far) after this long.
const WAIT_AT_MOST: Duration = Duration::from_secs(120);
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// A document and what its import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    #[serde(flatten)]
    pub record: DocumentRecord,
    /// The rows that could not be read, with their row numbers (and sheet-wide problems, with a
    /// null row).
    pub errors: Vec<RowError>,
}

impl From<DocumentRecord> for DocumentView {
    fn from(record: DocumentRecord) -> Self {
        let errors = serde_json::from_str(&record.errors).unwrap_or_default();
        Self { record, errors }
    }
}

/// The answer to an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentAccepted {
    pub document_id: i64,
    /// `queued` (202), or `skipped` (200, `reason` = `no_changes`); with `?wait=true`, the final
    /// status (200) unless the import outlasted the wait (202).
    pub status: DocumentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The finished document, with `?wait=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentView>,
}

/// The multipart form of `POST /documents`.
#[derive(Debug, utoipa::ToSchema)]
pub struct DocumentUpload {
    /// The price list: `.xlsx`, `.xls`, `.ods`, `.csv`, `.tsv`, `.pdf`, a photo (`.png`, `.jpg`,
    /// `.webp`, `.tif`) or a WhatsApp chat export (`.txt`, or a `.zip` holding `_chat.txt`), at
    /// most `DOCUMENT_MAX_BYTES`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// A vendor id, or a vendor name (an unknown name creates the vendor).
    pub vendor: String,
    /// `spreadsheet`, `chat_export` (alias `whatsapp_text`), `pdf` (alias `document_text`) or
    /// `ocr`; by default the file's format decides (`ocr` for photos; a PDF without a text layer is
    /// read through OCR too).
    pub processor: Option<String>,
    /// `true` sends the rows the rules cannot read (and the rows of sheets without a header) to
    /// the OpenAI-compatible LLM QC uses; spreadsheets only, and only when one is configured
    /// (`QC_PROVIDER=openai`), else 400. Its answers are checked: a price must be written in its
    /// row. Off by default.
    pub prefer_llm: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Answer when the import has finished (at most two minutes), not when it is queued.
    #[serde(default)]
    wait: bool,
}

#[utoipa::path(
    post, path = "/documents", tag = "read", summary = "Import a vendor's price list (spreadsheet)",
    params(UploadQuery),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Skipped (the vendor's last import had the same bytes), or finished with `?wait=true`", body = DocumentAccepted),
        (status = 202, description = "Stored; the import runs as a job", body = DocumentAccepted),
        (status = 303, description = "A browser's form post (Accept: text/html): to the document's page, /admin/documents/{id}"),
        (status = 404, description = "The vendor id is unknown", body = ErrorBody),
        (status = 413, description = "The file is over DOCUMENT_MAX_BYTES", body = ErrorBody),
        (status = 415, description = "Not multipart/form-data, or a file no processor reads", body = ErrorBody),
        ReadErrors,
    ),
)]
pub async fn upload(
    request: HttpRequest,
    payload: web::Payload,
    query: web::Query<UploadQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // The admin page's form posts here with basic credentials: only from this gateway's pages.
    auth::require_same_origin(&request, &state)?;
    let mut typed_vendor = None;
    match receive(&request, payload, &query, &state, &mut typed_vendor).await {
        // A browser's refused upload gets the form back with the reason, not a JSON body.
        Err(error) if layout::wants_html(&request) && error.status_code().is_client_error() => {
            let message = error.to_string();
            let refused = Refused { message: &message, vendor: typed_vendor.as_deref() };
            admin_documents::refused_upload(&state, error.status_code(), refused).await
        }
        answer => answer,
    }
}

/// Reads the form, accepts the upload and answers; `typed_vendor` keeps the vendor field for a
/// refusal page.
async fn receive(
    request: &HttpRequest,
    payload: web::Payload,
    query: &UploadQuery,
    state: &AppState,
    typed_vendor: &mut Option<String>,
) -> Result<HttpResponse, ApiError> {
    let max_bytes = state.documents.max_bytes;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multipart::boundary(content_type).ok_or(ApiError::NotMultipart)?;
    let body = read_capped(request, payload, max_bytes + MULTIPART_OVERHEAD)
        .await
        .map_err(|error| match error {
            IngestError::TooLarge(_) => ApiError::PayloadTooLarge(max_bytes),
            other => ApiError::BadRequest(other.to_string()),
        })?;
    let parts = multipart::parts(&body, &boundary)
        .ok_or_else(|| ApiError::BadRequest("the multipart body is malformed".into()))?;
    let field = |name: &str| parts.iter().find(|p| p.name.as_deref() == Some(name));
    let file = field("file")
        .ok_or_else(|| ApiError::BadRequest("the multipart form has no `file` part".into()))?;
    if file.body.len() > max_bytes {
        return Err(ApiError::PayloadTooLarge(max_bytes));
    }
    let text = |name: &str| {
        field(name)
            .map(|p| String::from_utf8_lossy(p.body).trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    *typed_vendor = text("vendor");
    let vendor = typed_vendor
        .clone()
        .ok_or_else(|| ApiError::BadRequest("the multipart form has no `vendor` part".into()))?;
    let processor = text("processor");
    let prefer_llm = match text("prefer_llm") {
        None => false,
        Some(value) => intake::flag_value(&value).ok_or_else(|| {
            ApiError::BadRequest("`prefer_llm` must be true or false".into())
        })?,
    };
    let file_name = file.filename.clone().unwrap_or_default();
    let submission = intake::Submission {
        file_name: &file_name,
        bytes: body.slice_ref(file.body),
        vendor: &vendor,
        processor: processor.as_deref(),
        prefer_llm,
    };
    let intake::Accepted { document_id, status } =
        intake::accept(&state.store.db, state.artefacts.as_ref(), &state.documents, submission).await?;
    if layout::wants_html(request) {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/documents/{document_id}")))
            .finish());
    }
    if status == DocumentStatus::Skipped {
        return Ok(HttpResponse::Ok().json(DocumentAccepted {
            document_id,
            status,
            reason: Some("no_changes".into()),
            document: None,
        }));
    }
    if query.wait {
        let started = Instant::now();
        while started.elapsed() < WAIT_AT_MOST {
            // The upload is accepted and durable: a poll that meets a busy pool (a large import
            // holds connections) waits on, and the deadline answers 202 as usual.
            let record = match stored::get(&state.store.db, document_id).await {
                Ok(record) => record,
                Err(error) if error.is_transient() => None,
                Err(error) => return Err(error.into()),
            };
            if let Some(record) = record
                && let Some(status) = DocumentStatus::parse(&record.status).filter(|s| s.is_final())
            {
                let reason = record.reason.clone();
                let document = Some(DocumentView::from(record));
                return Ok(HttpResponse::Ok().json(DocumentAccepted {
                    document_id,
                    status,
                    reason,
                    document,
                }));
            }
            // Fine-grained at first (a small list is done in tens of milliseconds), then gentler.
            let pause = if started.elapsed() < Duration::from_secs(2) { 10 } else { 50 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
    Ok(HttpResponse::Accepted().json(DocumentAccepted {
        document_id,
        status,
        reason: None,
        document: None,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this vendor's documents.
    #[serde(default, deserialize_with = "list_cursor::empty_as_none")]
    #[param(value_type = Option<i64>)]
    vendor: Option<i64>,
    /// `queued`, `processing`, `done`, `failed` or `skipped`.
    status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of documents, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentPage {
    pub documents: Vec<DocumentView>,
    /// Present when the page is full: pass it as `cursor` for the next one.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/documents", tag = "read", summary = "Imported vendor documents, newest first",
    params(ListQuery),
    security(("read_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "A page of documents", body = DocumentPage), ReadErrors),
)]
pub async fn list(
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let status = match query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => Some(DocumentStatus::parse(raw).ok_or_else(|| {
            ApiError::BadRequest(
                "status must be one of queued, processing, done, failed, skipped".into(),
            )
        })?),
    };
    let before_id = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(list_cursor::parse_document)
        .transpose()?;
    let filter = DocumentFilter {
        vendor_id: query.vendor,
        status,
        before_id,
        limit,
    };
    let records = stored::list(&state.store.db, &filter).await?;
    let next_cursor = (records.len() as i64 == limit)
        .then(|| records.last().map(|r| list_cursor::document(r.id)))
        .flatten();
    let documents = records.into_iter().map(DocumentView::from).collect();
    Ok(HttpResponse::Ok().json(DocumentPage {
        documents,
        next_cursor,
    }))
}

#[utoipa::path(
    get, path = "/documents/{id}", tag = "read", summary = "One vendor document: status, counts and row errors",
    params(("id" = i64, Path, description = "The document id")),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The document", body = DocumentView),
        (status = 404, description = "No such document", body = ErrorBody),
        ReadErrors,
    ),
)]
pub async fn detail(
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let record = stored::get(&state.store.db, path.into_inner())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(DocumentView::from(record)))
}
