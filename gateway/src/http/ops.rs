//! Operations endpoints: liveness, readiness, Prometheus metrics and the
//! seed's JSON totals at `/metrics/whatsapp` (seed 002 §8).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::{
    auth,
    errors::{ApiError, ErrorBody},
    openapi::StorageErrors,
};
use crate::{
    app::AppState,
    semantic::IndexStats,
    store::queries::{self, ChatCounters, StoredFailure},
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

#[utoipa::path(
    get, path = "/healthz", tag = "ops", summary = "Liveness",
    responses((status = 200, description = "The process serves requests", body = Health)),
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness when every check passed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub migrations_applied: usize,
    /// `off`, `in_use` or `fallback`.
    pub redis: &'static str,
    /// The in-process vector index: vectors per space and how far it has followed the
    /// database's `index_seq` (replicas converge on the same watermarks).
    pub search_index: IndexStats,
}

/// Readiness when a check failed; never the driver's text.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NotReady {
    /// `not_ready`.
    pub status: &'static str,
    pub database: &'static str,
    pub redis: &'static str,
    pub failed_check: &'static str,
    pub reason: String,
}

/// Redis never makes a gateway unready (it falls back), but readiness says
/// which mode it is in.
fn redis_mode(state: &AppState) -> &'static str {
    match &state.redis {
        None => "off",
        Some(link) if link.is_healthy() => "in_use",
        Some(_) => "fallback",
    }
}

#[utoipa::path(
    get, path = "/readyz", tag = "ops", summary = "Readiness: the database answers and its migrations are applied",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready; names the failed check", body = NotReady),
    ),
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.readiness().await {
        Ok(migrations) => HttpResponse::Ok().json(Ready {
            status: "ready",
            database: state.store.backend_name(),
            migrations_applied: migrations,
            redis: redis_mode(&state),
            search_index: state.semantic.stats(),
        }),
        Err(failure) => {
            // The driver's text can name hosts, users and paths: it goes to the log only.
            tracing::warn!(check = failure.check(), error = %failure, "not ready");
            HttpResponse::ServiceUnavailable().json(NotReady {
                status: "not_ready",
                database: state.store.backend_name(),
                redis: redis_mode(&state),
                failed_check: failure.check(),
                reason: failure.summary(),
            })
        }
    }
}

#[utoipa::path(
    get, path = "/metrics", tag = "ops", summary = "Prometheus metrics",
    security((), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "METRICS_TOKEN is set and was not presented", body = ErrorBody),
        (status = 500, description = "Unexpected error", body = ErrorBody),
    ),
)]
pub async fn prometheus(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let body = state.metrics.render().map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body))
}

/// Counters named as the seed names them; every one is reported, zero or not.
const TOTAL_NAMES: [&str; 11] = [
    "accepted", "created", "deduped", "extracted", "errors", "auth_failures", "forbidden", "rate_limited",
    "signature_failures", "media_failed", "rejected",
];
const CHATS_REPORTED: i64 = 500;
const RECENT_FAILURES: usize = 50;

/// The seed's JSON totals; the per-chat part only with a read or admin token
/// (chat ids and titles are personal data).
#[derive(Serialize, utoipa::ToSchema)]
pub struct WhatsappMetrics {
    generated_at: String,
    /// Every counter the seed names (`accepted`, `created`, `deduped`, …), zero or not.
    #[schema(value_type = BTreeMap<String, i64>)]
    totals: BTreeMap<&'static str, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chats: Option<Vec<ChatCounters>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chats_total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recent_failures: Option<Vec<RecentFailure>>,
}

struct WhatsappDetail {
    chats: Vec<ChatCounters>,
    chats_total: i64,
    recent_failures: Vec<RecentFailure>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecentFailure {
    at: String,
    client_id: Option<String>,
    chat_title: Option<String>,
    status: i32,
    code: String,
    reason: String,
    request_id: String,
}

impl From<StoredFailure> for RecentFailure {
    fn from(f: StoredFailure) -> Self {
        Self {
            at: rfc3339(f.at_ms),
            client_id: f.client_id,
            chat_title: f.chat_title,
            status: f.status,
            code: f.code,
            reason: f.reason,
            request_id: f.request_id,
        }
    }
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The persistent totals plus rejections counted but not yet flushed.
pub async fn current_totals(state: &AppState) -> Result<BTreeMap<&'static str, i64>, ApiError> {
    let stored = queries::totals(&state.store.db).await?;
    let mut totals: BTreeMap<&'static str, i64> = TOTAL_NAMES.iter().map(|name| (*name, 0)).collect();
    let pending = state.ingest.failures.pending_counters();
    for (name, value) in stored.iter().map(|(n, v)| (n.as_str(), *v)).chain(pending.iter().map(|(n, v)| (*n, *v))) {
        if let Some(total) = TOTAL_NAMES.iter().find(|known| **known == name).and_then(|k| totals.get_mut(k)) {
            *total += value;
        }
    }
    Ok(totals)
}

/// Lets the per-chat rows catch up with every answered request (ingest
/// deltas, `store::summary_fold`) before they are read. A writer that cannot
/// settle (it is stopping) leaves the rows at most one fold behind.
pub async fn settle_for_read(state: &AppState) {
    if let Err(error) = state.store.settle().await {
        tracing::debug!(error = %error, "per-chat counters read without the last fold");
    }
}

/// Anonymous callers (Grafana) get `generated_at` and `totals`; a read or
/// admin token adds the per-chat counters and `recent_failures`.
#[utoipa::path(
    get, path = "/metrics/whatsapp", tag = "ops", summary = "Ingest totals; per-chat counters and recent failures with a token",
    security((), ("read_token" = [])),
    responses((status = 200, description = "Totals, and with a read or admin token the per-chat detail", body = WhatsappMetrics), StorageErrors),
)]
pub async fn whatsapp_metrics(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let totals = current_totals(&state).await?;
    let detail = match auth::is_reader(&request, &state) {
        true => Some(whatsapp_detail(&state).await?),
        false => None,
    };
    let (chats, chats_total, recent_failures) = match detail {
        Some(d) => (Some(d.chats), Some(d.chats_total), Some(d.recent_failures)),
        None => (None, None, None),
    };
    Ok(HttpResponse::Ok().json(WhatsappMetrics { generated_at: rfc3339(crate::time::now_ms()), totals, chats, chats_total, recent_failures }))
}

async fn whatsapp_detail(state: &AppState) -> Result<WhatsappDetail, ApiError> {
    let internal = |e: crate::store::StoreError| ApiError::Internal(e.into());
    let db = &state.store.db;
    let mut recent: Vec<RecentFailure> =
        state.ingest.failures.pending_records().into_iter().take(RECENT_FAILURES).map(|r| RecentFailure {
            at: rfc3339(r.at_ms),
            client_id: r.client_id,
            chat_title: r.chat_title,
            status: i32::from(r.status),
            code: r.code.to_owned(),
            reason: r.reason,
            request_id: r.request_id,
        }).collect();
    let stored_failures = queries::recent_failures(db, RECENT_FAILURES as i64).await.map_err(internal)?;
    recent.extend(stored_failures.into_iter().map(RecentFailure::from));
    recent.truncate(RECENT_FAILURES);
    settle_for_read(state).await;
    Ok(WhatsappDetail {
        chats: queries::chat_counters(db, CHATS_REPORTED).await.map_err(internal)?,
        chats_total: queries::chat_count(db).await.map_err(internal)?,
        recent_failures: recent,
    })
}
