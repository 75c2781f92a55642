//! The `/admin/jobs` page: the queue per stage, then jobs filtered by state,
//! stage and text, a page at a time, each dead one with its Retry button
//! (plain forms; no JavaScript). maud escapes every value, error texts included.

use chrono_tz::Tz;
use maud::{Markup, html};

use super::{
    format::when,
    layout::{filters, page, pager, search_box, select},
};
use crate::http::jobs_admin::StageSummary;
use crate::store::jobs_admin::JobRow;

fn age(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 1_000 => format!("{ms} ms"),
        Some(ms) if ms < 120_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        Some(ms) => format!("{:.1} min", ms as f64 / 60_000.0),
    }
}

#[derive(Default)]
pub struct JobFilters {
    pub state: Option<String>,
    pub stage: Option<String>,
    pub q: Option<String>,
    pub paged: bool,
}

impl JobFilters {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("state", self.state.clone().unwrap_or_default()),
            ("stage", self.stage.clone().unwrap_or_default()),
            ("q", self.q.clone().unwrap_or_default()),
        ]
    }
}

pub struct JobsView<'a> {
    pub stages: &'a [StageSummary],
    pub jobs: &'a [JobRow],
    pub filters: &'a JobFilters,
    pub next_cursor: Option<&'a str>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub zone: Tz,
    pub now_ms: i64,
}

pub fn jobs_page(view: &JobsView<'_>) -> Markup {
    let f = view.filters;
    let states: Vec<(String, String)> = ["dead", "ready", "running", "done"]
        .iter()
        .map(|s| ((*s).to_owned(), (*s).to_owned()))
        .collect();
    let stages: Vec<(String, String)> = view
        .stages
        .iter()
        .map(|s| (s.stage.clone(), s.stage.clone()))
        .collect();
    page(
        "Product-chain jobs",
        "/admin/jobs",
        html! {
            h1 { "Product-chain jobs" }
            p.muted { "Jobs per stage and state. Dead jobs failed after their retries (2 s, 4 s, 8 s) or hit a terminal error." }
            @if let Some(notice) = &view.notice { p.note role="status" { (notice) } }
            @if let Some(error) = &view.error { p.error role="alert" { (error) } }
            div.table-wrap {
                table {
                    thead { tr { th { "Stage" } th { "Ready" } th { "Running" } th { "Done" } th { "Dead" } th { "Oldest ready" } th { "" } } }
                    tbody {
                        @for s in view.stages {
                            tr {
                                td data-label="Stage" { strong { (s.stage) } }
                                td.num data-label="Ready" { (s.ready) }
                                td.num data-label="Running" { (s.running) }
                                td.num data-label="Done" { (s.done) }
                                td.num data-label="Dead" { @if s.dead > 0 { span.unmapped { (s.dead) } } @else { "0" } }
                                td data-label="Oldest ready" { (age(s.oldest_ready_age_ms)) }
                                td {
                                    @if s.dead > 0 {
                                        form method="post" action={ "/admin/jobs/retry-dead?stage=" (s.stage) } {
                                            button type="submit" { "Retry dead " (s.stage) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { @match f.state.as_deref() { Some(state) => { "Jobs: " (state) }, None => { "Jobs" } } }
            (filters("/admin/jobs", html! {
                (select("State", "state", &states, f.state.as_deref()))
                (select("Stage", "stage", &stages, f.stage.as_deref()))
                (search_box("Key or error", f.q.as_deref()))
            }))
            @if view.jobs.is_empty() { p { "No job matches." } }
            @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "Job" } th { "Stage" } th { "State" } th { "Key" } th { "Attempts" } th { "Status" } th { "Error" } th { "Changed" } th { "" } } }
                        tbody {
                            @for job in view.jobs {
                                tr id={ "job-" (job.id) } {
                                    td data-label="Job" { (job.id) }
                                    td data-label="Stage" { (job.stage) }
                                    td data-label="State" { span class={ "badge " (job.state) } { (job.state) } }
                                    td.wrap data-label="Key" { (job.dedupe_key) }
                                    td.num data-label="Attempts" { (job.attempts) }
                                    td data-label="Status" { @if let Some(status) = job.last_status { (status) } }
                                    td.text data-label="Error" { (job.last_error.as_deref().unwrap_or("")) }
                                    td data-label="Changed" { (when(view.zone, view.now_ms, Some(job.updated_at_ms))) }
                                    td {
                                        @if job.state == "dead" {
                                            form method="post" action={ "/admin/jobs/" (job.id) "/retry" } {
                                                button type="submit" { "Retry" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/admin/jobs", &f.params(), view.next_cursor, view.jobs.len(), f.paged))
        },
    )
}
