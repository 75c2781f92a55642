//! The `/admin/jobs` page: the queue per stage and the dead letters, each with a retry button
//! (plain forms; no JavaScript). maud escapes every value, error texts included.

use maud::{Markup, html};

use super::{admin_views::page, jobs_admin::StageSummary, ops::rfc3339};
use crate::store::jobs_admin::JobRow;

fn age(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 1_000 => format!("{ms} ms"),
        Some(ms) if ms < 120_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        Some(ms) => format!("{:.1} min", ms as f64 / 60_000.0),
    }
}

pub fn jobs_page(stages: &[StageSummary], dead: &[JobRow]) -> Markup {
    page("Product-chain jobs", html! {
        h1 { "Product-chain jobs" }
        p.muted { "Jobs per stage and state. Dead jobs failed after their retries (2 s, 4 s, 8 s) or hit a terminal error." }
        table {
            thead { tr { th { "Stage" } th { "Ready" } th { "Running" } th { "Done" } th { "Dead" } th { "Oldest ready" } th { "" } } }
            tbody {
                @for s in stages {
                    tr {
                        td { (s.stage) }
                        td { (s.ready) }
                        td { (s.running) }
                        td { (s.done) }
                        td { @if s.dead > 0 { span.unmapped { (s.dead) } } @else { "0" } }
                        td { (age(s.oldest_ready_age_ms)) }
                        td {
                            @if s.dead > 0 {
                                form method="post" action={ "/admin/jobs/retry-dead?stage=" (s.stage) } {
                                    button type="submit" { "Retry dead" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Recent dead jobs" }
        @if dead.is_empty() { p { "No dead jobs." } }
        @else {
            table {
                thead { tr { th { "Job" } th { "Stage" } th { "Key" } th { "Attempts" } th { "Status" } th { "Error" } th { "Died" } th { "" } } }
                tbody {
                    @for job in dead {
                        tr {
                            td { (job.id) }
                            td { (job.stage) }
                            td { (job.dedupe_key) }
                            td { (job.attempts) }
                            td { @if let Some(status) = job.last_status { (status) } @else { "—" } }
                            td.text { (job.last_error.as_deref().unwrap_or("")) }
                            td { (rfc3339(job.updated_at_ms)) }
                            td {
                                form method="post" action={ "/admin/jobs/" (job.id) "/retry" } {
                                    button type="submit" { "Retry" }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}
