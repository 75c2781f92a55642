//! Operators' view of the product-chain queue: `GET /admin/jobs` (HTML, or JSON with
//! `Accept: application/json`) shows counts per stage and state, the oldest waiting job's age and
//! the recent dead letters; `POST /admin/jobs/{id}/retry` and `POST /admin/jobs/retry-dead?stage=`
//! put dead jobs back in the queue. All behind the admin token.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::{Deserialize, Serialize};

use super::{admin::wants_json, auth, errors::ApiError, jobs_views, openapi::AdminErrors};
use crate::{
    app::AppState,
    domain::job::stage,
    store::jobs_admin::{self, JobRow},
    time::now_ms,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobsOverview {
    pub stages: Vec<StageSummary>,
    /// The most recent dead letters (at most 50).
    pub dead: Vec<JobRow>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetriedOne {
    /// The job put back in the queue.
    pub retried: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetriedDead {
    pub retried: i64,
    pub by_stage: std::collections::BTreeMap<String, i64>,
}

const DEAD_SHOWN: i64 = 50;

/// Counts of one stage, by state, with the age of its oldest due job.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct StageSummary {
    pub stage: String,
    pub ready: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
    pub oldest_ready_age_ms: Option<i64>,
}

pub fn summarise(counts: &[jobs_admin::StageStateCount], now: i64) -> Vec<StageSummary> {
    let mut stages: Vec<StageSummary> = crate::metrics::JOB_STAGES
        .iter()
        .map(|s| StageSummary { stage: (*s).to_owned(), ..Default::default() })
        .collect();
    for c in counts {
        let index = match stages.iter().position(|s| s.stage == c.stage) {
            Some(i) => i,
            None => {
                stages.push(StageSummary { stage: c.stage.clone(), ..Default::default() });
                stages.len() - 1
            }
        };
        let summary = &mut stages[index];
        match c.state.as_str() {
            "ready" => summary.ready = c.count,
            "running" => summary.running = c.count,
            "done" => summary.done = c.count,
            "dead" => summary.dead = c.count,
            _ => {}
        }
        if let Some(due) = c.oldest_due_ms {
            summary.oldest_ready_age_ms = Some(now - due);
        }
    }
    stages
}

#[utoipa::path(
    get, path = "/admin/jobs", tag = "admin", summary = "The product-chain queue (HTML, or JSON with `Accept: application/json`)",
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Counts per stage and the dead letters", content((JobsOverview = "application/json"), (String = "text/html"))),
        AdminErrors,
    ),
)]
pub async fn overview(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = now_ms();
    let counts = jobs_admin::counts(&state.store.db, now).await?;
    let stages = summarise(&counts, now);
    let dead = jobs_admin::recent_dead(&state.store.db, DEAD_SHOWN).await?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(JobsOverview { stages, dead }));
    }
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(jobs_views::jobs_page(&stages, &dead).into_string()))
}

/// Form posts from the page go back to it; API calls get JSON.
fn answer(request: &HttpRequest, body: impl Serialize) -> HttpResponse {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form && !wants_json(request) {
        return HttpResponse::SeeOther().insert_header((header::LOCATION, "/admin/jobs")).finish();
    }
    HttpResponse::Ok().json(body)
}

#[utoipa::path(
    post, path = "/admin/jobs/{id}/retry", tag = "admin", summary = "Put one dead job back in the queue",
    params(("id" = i64, Path, description = "The job's id")),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Retried", body = RetriedOne),
        (status = 303, description = "Retried (form posts): back to /admin/jobs"),
        AdminErrors,
    ),
)]
pub async fn retry_one(request: HttpRequest, path: web::Path<i64>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth::require_same_origin(&request, &state)?;
    let id = path.into_inner();
    let db = &state.store.db;
    if !jobs_admin::retry_dead_job(db, id, now_ms()).await? {
        let job = jobs_admin::get(db, id).await?.ok_or(ApiError::NotFound)?;
        return Err(ApiError::Conflict(format!("job {id} is {}, not dead", job.state)));
    }
    tracing::info!(job_id = id, "dead job retried by an operator");
    Ok(answer(&request, RetriedOne { retried: vec![id] }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetryDeadQuery {
    /// Only this stage's dead jobs (`scout`, `hydrate`, …); all when absent.
    stage: Option<String>,
}

#[utoipa::path(
    post, path = "/admin/jobs/retry-dead", tag = "admin", summary = "Put every dead job (of a stage) back in the queue",
    params(RetryDeadQuery),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Retried", body = RetriedDead),
        (status = 303, description = "Retried (form posts): back to /admin/jobs"),
        AdminErrors,
    ),
)]
pub async fn retry_dead(
    request: HttpRequest,
    query: web::Query<RetryDeadQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth::require_same_origin(&request, &state)?;
    let stage = match query.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => Some(stage::from_name(name).ok_or_else(|| {
            ApiError::BadRequest(format!("stage must be one of {}", crate::metrics::JOB_STAGES.join(", ")))
        })?),
        None => None,
    };
    let counts = jobs_admin::retry_dead(&state.store.db, stage, now_ms()).await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    tracing::info!(jobs = total, stage = stage.unwrap_or("all"), "dead jobs retried by an operator");
    let by_stage = counts.into_iter().collect();
    Ok(answer(&request, RetriedDead { retried: total, by_stage }))
}
