//! Operators' view of the product-chain queue: `GET /admin/jobs` (HTML, or JSON with
//! `Accept: application/json`) shows counts per stage and state, the oldest waiting job's age and
//! the recent dead letters; `POST /admin/jobs/{id}/retry` and `POST /admin/jobs/retry-dead?stage=`
//! put dead jobs back in the queue. All behind the admin token.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use serde::{Deserialize, Serialize};

use super::{
    admin::wants_json,
    auth,
    errors::ApiError,
    list_cursor,
    openapi::AdminErrors,
    views::{
        jobs::{JobFilters, JobsView, jobs_page},
        layout,
    },
};
use crate::{
    app::AppState,
    domain::job::stage,
    store::{
        admin_lists,
        jobs_admin::{self, JobRow},
    },
    time::now_ms,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobsOverview {
    pub stages: Vec<StageSummary>,
    /// The most recent dead letters (at most 50).
    pub dead: Vec<JobRow>,
    /// Jobs matching `state`, `stage` and `q`, newest change first (only when one of them, or
    /// `cursor`, is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<JobRow>>,
    /// Present when `jobs` is a full page: pass it as `cursor` for the next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `dead` (the page's default), `ready`, `running` or `done`.
    #[param(pattern = "^(dead|ready|running|done)?$")]
    state: Option<String>,
    /// Only this stage (`scout`, `hydrate`, …).
    stage: Option<String>,
    /// Text in the job's key or last error (case-insensitive).
    q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Set after a retry from the page: how many jobs went back in the queue.
    retried: Option<i64>,
}

#[utoipa::path(
    get, path = "/admin/jobs", tag = "admin", summary = "The product-chain queue (HTML, or JSON with `Accept: application/json`)",
    params(JobsQuery),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Counts per stage and the dead letters", content((JobsOverview = "application/json"), (String = "text/html"))),
        AdminErrors,
    ),
)]
pub async fn overview(
    request: HttpRequest,
    query: web::Query<JobsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let json = wants_json(&request);
    let filtered = [&query.state, &query.stage, &query.q, &query.cursor]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
    let list = job_list(&state, &query, json).await?;
    let now = now_ms();
    let counts = jobs_admin::counts(&state.store.db, now).await?;
    let stages = summarise(&counts, now);
    if json {
        let dead = jobs_admin::recent_dead(&state.store.db, DEAD_SHOWN).await?;
        let (jobs, next_cursor) = if filtered {
            (Some(list.jobs), list.next_cursor)
        } else {
            (None, None)
        };
        return Ok(HttpResponse::Ok().json(JobsOverview {
            stages,
            dead,
            jobs,
            next_cursor,
        }));
    }
    let notice = query.retried.map(|n| match n {
        1 => "1 job went back in the queue.".to_owned(),
        n => format!("{n} jobs went back in the queue."),
    });
    Ok(layout::ok(jobs_page(&JobsView {
        stages: &stages,
        jobs: &list.jobs,
        filters: &list.filters,
        next_cursor: list.next_cursor.as_deref(),
        notice,
        error: None,
        zone: state.console.time_zone,
        now_ms: now,
    })))
}

struct JobList {
    jobs: Vec<JobRow>,
    filters: JobFilters,
    next_cursor: Option<String>,
}

/// The filtered page of jobs; the page shows dead jobs unless another state is asked for.
async fn job_list(state: &AppState, query: &JobsQuery, json: bool) -> Result<JobList, ApiError> {
    let limit = query.limit.unwrap_or(DEAD_SHOWN);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let job_state = match clean(&query.state) {
        Some(s) if matches!(s.as_str(), "dead" | "ready" | "running" | "done") => Some(s),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "state must be dead, ready, running or done".into(),
            ));
        }
        None if json => None,
        None => Some("dead".to_owned()),
    };
    let stage = clean(&query.stage);
    let cursor = clean(&query.cursor);
    let after = cursor.as_deref().map(list_cursor::parse_job).transpose()?;
    let filter = admin_lists::JobQuery {
        state: job_state.clone(),
        stage: stage.clone(),
        pattern: query.q.as_deref().and_then(admin_lists::like_pattern),
        after,
        limit,
    };
    let jobs = admin_lists::jobs(&state.store.db, &filter).await?;
    let next_cursor = (jobs.len() as i64 == limit)
        .then(|| jobs.last().map(|j| list_cursor::job(j.updated_at_ms, j.id)))
        .flatten();
    let filters = JobFilters {
        state: job_state,
        stage,
        q: clean(&query.q),
        paged: cursor.is_some(),
    };
    Ok(JobList {
        jobs,
        filters,
        next_cursor,
    })
}

/// A refused retry from the page: the page again, with the reason on top.
async fn refused_page(
    state: &AppState,
    status: StatusCode,
    error: String,
) -> Result<HttpResponse, ApiError> {
    let query = JobsQuery {
        state: None,
        stage: None,
        q: None,
        limit: None,
        cursor: None,
        retried: None,
    };
    let list = job_list(state, &query, false).await?;
    let now = now_ms();
    let stages = summarise(&jobs_admin::counts(&state.store.db, now).await?, now);
    Ok(layout::respond(
        status,
        jobs_page(&JobsView {
            stages: &stages,
            jobs: &list.jobs,
            filters: &list.filters,
            next_cursor: list.next_cursor.as_deref(),
            notice: None,
            error: Some(error),
            zone: state.console.time_zone,
            now_ms: now,
        }),
    ))
}

/// Form posts from the page go back to it (with how many were retried); API calls get JSON.
fn answer(request: &HttpRequest, retried: i64, body: impl Serialize) -> HttpResponse {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form && !wants_json(request) {
        let location = format!("/admin/jobs?retried={retried}");
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish();
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
        let (status, message) = match jobs_admin::get(db, id).await? {
            Some(job) => (
                StatusCode::CONFLICT,
                format!("job {id} is {}, not dead", job.state),
            ),
            None => (StatusCode::NOT_FOUND, format!("job {id} does not exist")),
        };
        if layout::wants_html(&request) {
            let message = format!("Not retried: {message} (it may have been retried already).");
            return refused_page(&state, status, message).await;
        }
        return Err(if status == StatusCode::CONFLICT {
            ApiError::Conflict(message)
        } else {
            ApiError::NotFound
        });
    }
    tracing::info!(job_id = id, "dead job retried by an operator");
    Ok(answer(&request, 1, RetriedOne { retried: vec![id] }))
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
    let stage = match query
        .stage
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(name) => match stage::from_name(name) {
            Some(stage) => Some(stage),
            None => {
                let message = format!(
                    "stage must be one of {}",
                    crate::metrics::JOB_STAGES.join(", ")
                );
                if layout::wants_html(&request) {
                    return refused_page(&state, StatusCode::BAD_REQUEST, message).await;
                }
                return Err(ApiError::BadRequest(message));
            }
        },
        None => None,
    };
    let counts = jobs_admin::retry_dead(&state.store.db, stage, now_ms()).await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    tracing::info!(jobs = total, stage = stage.unwrap_or("all"), "dead jobs retried by an operator");
    let by_stage = counts.into_iter().collect();
    Ok(answer(
        &request,
        total,
        RetriedDead {
            retried: total,
            by_stage,
        },
    ))
}
