//! Diagnostics for operators and the harness (seed 002 §8):
//! `GET /chat/tools/diagnostics` (JSON, or `?format=csv` for per-chat
//! counters) and `GET /chat/tools/diagnostics/logs` (recent ingest and
//! extraction events as JSON lines). Both take an ingest, read or admin token
//! (the guard is in the route table).
//! Downloads are bounded, hold no secrets, and mask phone numbers.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    errors::{ApiError, ErrorBody},
    list_cursor,
    openapi::StorageErrors,
    ops,
    views::{diagnostics as pages, layout},
};
use crate::domain::fan_out::LINKS_DROPPED_CODE;
use crate::parse::privacy::{mask_chat_id, mask_phones};
use crate::{
    app::AppState,
    store::{admin_lists, events, market, queries},
    time::now_ms,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiagnosticsQuery {
    /// `json` (the default) or `csv` (per-chat counters).
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
    /// The page only (`Accept: text/html`): events of this kind.
    kind: Option<String>,
    /// The page only: text in an event's chat id or detail.
    q: Option<String>,
    /// The page only: `next_cursor` of the previous page of events.
    cursor: Option<String>,
}

const EVENTS_SHOWN: i64 = 50;

/// The ingest and extraction summary.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DiagnosticsSummary {
    pub generated_at: String,
    pub accepted: i64,
    pub created: i64,
    pub deduped: i64,
    pub extracted: i64,
    pub errors: i64,
    pub chats_pending_extraction: i64,
    pub oldest_pending_age_seconds: Option<f64>,
    pub last_extraction_at: Option<String>,
    /// The last extraction's largest lag, when it reported one.
    pub last_extraction_lag_ms: Value,
    #[schema(value_type = std::collections::BTreeMap<String, i64>)]
    pub totals: std::collections::BTreeMap<&'static str, i64>,
}

const CSV_ROWS: i64 = 10_000;
const DEFAULT_LOG_LINES: i64 = 1_000;
const MAX_LOG_LINES: i64 = 5_000;

#[utoipa::path(
    get, path = "/chat/tools/diagnostics", tag = "ops", summary = "Ingest and extraction summary, or per-chat counters as CSV",
    params(DiagnosticsQuery),
    security(("ingest_token" = []), ("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The summary (JSON, or a page with `Accept: text/html`) or the per-chat counters (CSV, phone numbers masked)", content(
            (DiagnosticsSummary = "application/json"), (String = "text/csv"), (String = "text/html"),
        )),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 401, description = "No ingest, read or admin token", body = ErrorBody),
        (status = 422, description = "A parameter of the wrong type", body = ErrorBody),
        StorageErrors,
    ),
)]
pub async fn diagnostics(
    request: HttpRequest,
    query: web::Query<DiagnosticsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match query.format.as_deref() {
        None if layout::wants_html(&request) => page(&state, &query).await,
        None | Some("json") => Ok(HttpResponse::Ok().json(summary(&state).await?.0)),
        Some("csv") => chats_csv(&state).await,
        Some(other) => Err(ApiError::BadRequest(format!("format {other:?} is not json or csv"))),
    }
}

/// The page: the summary, then a page of events.
async fn page(state: &AppState, query: &DiagnosticsQuery) -> Result<HttpResponse, ApiError> {
    let (summary, last_extraction_ms) = summary(state).await?;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let cursor = clean(&query.cursor);
    let filter = admin_lists::EventQuery {
        kind: clean(&query.kind),
        pattern: query.q.as_deref().and_then(admin_lists::like_pattern),
        before_id: cursor
            .as_deref()
            .map(list_cursor::parse_event)
            .transpose()?,
        limit: EVENTS_SHOWN,
    };
    let db = &state.store.db;
    let events = admin_lists::events(db, &filter).await?;
    let next_cursor = (events.len() as i64 == EVENTS_SHOWN)
        .then(|| events.last().map(|e| list_cursor::event(e.id)))
        .flatten();
    let kinds = admin_lists::event_kinds(db).await?;
    let filters = pages::EventFilters {
        kind: filter.kind.clone(),
        q: clean(&query.q),
        paged: cursor.is_some(),
    };
    Ok(layout::ok(pages::diagnostics_page(
        &pages::DiagnosticsView {
            summary: &summary,
            events: &events,
            kinds: &kinds,
            filters: &filters,
            next_cursor: next_cursor.as_deref(),
            zone: state.console.time_zone,
            now_ms: now_ms(),
            last_extraction_ms,
        },
    )))
}

/// The summary, and when the last extraction ran (ms).
async fn summary(state: &AppState) -> Result<(DiagnosticsSummary, Option<i64>), ApiError> {
    let totals = ops::current_totals(state).await?;
    let db = &state.store.db;
    let pending = market::pending_extraction(db).await?;
    let now = now_ms();
    let last = events::latest_of_kind(db, "extraction").await?;
    let last_detail: Value = last.as_ref().and_then(|e| serde_json::from_str(&e.detail).ok()).unwrap_or(Value::Null);
    let total = |name: &str| totals.get(name).copied().unwrap_or(0);
    let summary = DiagnosticsSummary {
        generated_at: ops::rfc3339(now),
        accepted: total("accepted"),
        created: total("created"),
        deduped: total("deduped"),
        extracted: total("extracted"),
        errors: total("errors"),
        chats_pending_extraction: pending.chats_pending,
        oldest_pending_age_seconds: pending.oldest_pending_since_ms.map(|since| (now - since).max(0) as f64 / 1_000.0),
        last_extraction_at: last.as_ref().map(|e| ops::rfc3339(e.at_ms)),
        last_extraction_lag_ms: last_detail.get("max_lag_ms").cloned().unwrap_or(Value::Null),
        totals,
    };
    Ok((summary, last.as_ref().map(|e| e.at_ms)))
}

/// A CSV cell: phones masked (ids come through [`mask_chat_id`] first, and
/// `mask_phones` leaves hex ids alone), formula-safe, quoted when needed.
fn csv_cell(value: &str) -> String {
    let masked = mask_phones(value);
    // A leading = + - @ (or a tab or carriage return before one) would be run
    // as a formula by spreadsheet software.
    let safe = if masked.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{masked}") } else { masked };
    if safe.contains([',', '"', '\n', '\r']) { format!("\"{}\"", safe.replace('"', "\"\"")) } else { safe }
}

async fn chats_csv(state: &AppState) -> Result<HttpResponse, ApiError> {
    ops::settle_for_read(state).await;
    let chats = queries::chat_counters(&state.store.db, CSV_ROWS).await?;
    let mut body = String::from("chat_id,title,vendor_id,accepted,created,deduped,extracted,last_message_at,extract_due_at\n");
    for chat in chats {
        let row = [
            csv_cell(&mask_chat_id(&chat.chat_id)),
            csv_cell(&chat.title),
            chat.vendor_id.map(|v| v.to_string()).unwrap_or_default(),
            chat.accepted.to_string(),
            chat.created.to_string(),
            chat.deduped.to_string(),
            chat.extracted.to_string(),
            ops::rfc3339(chat.last_message_at_ms),
            chat.extract_due_at_ms.map(ops::rfc3339).unwrap_or_default(),
        ];
        body.push_str(&row.join(","));
        body.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, r#"attachment; filename="soko-chat-counters.csv""#))
        .body(body))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// Lines wanted, clamped to 1..=5000 (default 1000).
    limit: Option<i64>,
}

#[utoipa::path(
    get, path = "/chat/tools/diagnostics/logs", tag = "ops", summary = "Recent ingest and extraction events as JSON lines",
    params(LogsQuery),
    security(("ingest_token" = []), ("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "One JSON object a line, oldest first; phone numbers masked", content_type = "application/x-ndjson", body = String),
        (status = 401, description = "No ingest, read or admin token", body = ErrorBody),
        (status = 422, description = "A parameter of the wrong type", body = ErrorBody),
        StorageErrors,
    ),
)]
pub async fn logs(query: web::Query<LogsQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LOG_LINES).clamp(1, MAX_LOG_LINES);
    let db = &state.store.db;
    let mut lines: Vec<(i64, Value)> = events::recent(db, limit)
        .await?
        .into_iter()
        .map(|event| {
            let detail: Value = serde_json::from_str(&event.detail).unwrap_or(Value::String(event.detail.clone()));
            let line = json!({
                "at": ops::rfc3339(event.at_ms),
                "kind": event.kind,
                "chat_id": event.chat_id.as_deref().map(mask_chat_id),
                "request_id": event.request_id,
                "detail": mask_detail(detail),
            });
            (event.at_ms, line)
        })
        .collect();
    for failure in queries::recent_failures(db, limit).await? {
        let line = json!({
            "at": ops::rfc3339(failure.at_ms),
            // Extraction's dropped-link records share the failure log.
            "kind": if failure.code == LINKS_DROPPED_CODE { "links_dropped" } else { "ingest_rejected" },
            "chat_title": failure.chat_title.as_deref().map(mask_phones),
            "request_id": failure.request_id,
            "detail": {"client_id": failure.client_id, "status": failure.status, "code": failure.code, "reason": failure.reason},
        });
        lines.push((failure.at_ms, line));
    }
    lines.sort_by_key(|line| std::cmp::Reverse(line.0));
    lines.truncate(limit as usize);
    let mut body = String::new();
    for (_, line) in lines.into_iter().rev() {
        body.push_str(&line.to_string());
        body.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, r#"attachment; filename="soko-diagnostics.log""#))
        .body(body))
}

fn mask_detail(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(mask_phones(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(mask_detail).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match value {
                    Value::String(id) if key.ends_with("chat_id") => (key, Value::String(mask_chat_id(&id))),
                    other => (key, mask_detail(other)),
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_cell, mask_detail};
    use crate::parse::privacy::mask_chat_id;

    #[test]
    fn ids_pass_phones_do_not() {
        let hex = "chat-3f2a1b4c12345678";
        assert_eq!(csv_cell(&mask_chat_id(hex)), hex);
        assert_eq!(csv_cell(&mask_chat_id("3EB0C767D26A1234567")), "3EB0C767D26A1234567");
        let detail = serde_json::json!({"chat_id": "120363000000000001@g.us", "note": "from 0712345678", "id": "3EB0C767D26A1234567"});
        assert_eq!(
            mask_detail(detail),
            serde_json::json!({"chat_id": "120363000000000001@g.us", "note": "from •••••••678", "id": "3EB0C767D26A1234567"})
        );
    }

    #[test]
    fn csv_cells_are_quoted_masked_and_formula_safe() {
        assert_eq!(csv_cell("Phones, Nairobi"), "\"Phones, Nairobi\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("\t=1+1"), "'\t=1+1");
        assert_eq!(csv_cell("\r=1"), "\"'\r=1\"");
        for lead in ['=', '+', '-', '@', '\t', '\r'] {
            assert!(csv_cell(&format!("{lead}x")).trim_start_matches('"').starts_with('\''), "{lead:?}");
        }
        assert_eq!(csv_cell("254712345678@s.whatsapp.net"), "•••••••••678@s.whatsapp.net");
    }
}
