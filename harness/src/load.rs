//! `harness load`: prepares the workload, drives the workers, samples
//! diagnostics alongside, then turns the tallies into a report, its
//! expectations (exit 2) and SLOs (exit 3).

use crate::cli::LoadArgs;
use crate::cpu::{cpu_use, process_cpu_time};
use crate::diagnostics::{Counters, DiagnosticsClient, Polled, Sample};
use crate::offer_latency::{self, OfferLatency};
use crate::outcome::{Failure, SloLimits, SloObservation, evaluate_slos, exit_status};
use crate::report::*;
use crate::sender::{SendPlan, Tally, run_worker};
use crate::stats::{per_second, ratio, round3};
use crate::transport::{IngestConnection, IngestTarget};
use crate::workload::WorkloadSpec;
use crate::{HarnessError, RunOutcome};
use chrono::{SecondsFormat, Utc};
use crate::live::LiveCounts;
use crate::progress::{self, ProgressPlan};
use crate::series::Series;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// When the diagnostics sampler may stop: counters moved this far, or the deadline.
#[derive(Debug, Clone, Copy)]
struct Goal {
    created: u64,
    deduped: u64,
    extracted: Option<u64>,
    deadline: Instant,
}

impl Goal {
    /// A counter the endpoint does not report cannot be waited for; its
    /// absence is reported as a failure elsewhere.
    fn reached(&self, delta: &Counters) -> bool {
        delta.created.is_none_or(|c| c >= self.created)
            && delta.deduped.is_none_or(|d| d >= self.deduped)
            && self.extracted.is_none_or(|want| delta.extracted.is_none_or(|e| e >= want))
    }
}

pub async fn run_load(args: &LoadArgs) -> Result<RunOutcome<LoadReport>, HarnessError> {
    args.validate()?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let started_at = now_text();
    let request_timeout = Duration::from_secs_f64(args.target.request_timeout_seconds);
    let target = Arc::new(IngestTarget::new(&args.target.url, &args.target.token.0, args.target.secret_str(), request_timeout)?);
    let diagnostics = match &args.target.diagnostics_url {
        Some(url) => Some(DiagnosticsClient::new(
            url,
            request_timeout.min(Duration::from_secs(10)),
            args.target.diagnostics_credential(),
        )?),
        None => None,
    };

    let run_tag = run_id[..8].to_owned();
    let client_id = crate::marking::client_id(args.client_id.as_deref(), &run_tag);
    let spec = WorkloadSpec {
        run_tag,
        client_id: client_id.clone(),
        count: args.count,
        batch_size: args.batch_size,
        duplicate_ratio: args.duplicate_ratio,
        senders: args.senders,
        chats: args.chats,
        chat_burst: args.chat_burst,
        seed: args.seed,
        timestamp: started_at.clone(),
    };
    let prepare_started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let batches = tokio::task::spawn_blocking(move || spec.prepare(threads)).await??;
    let prepare_seconds = round3(prepare_started.elapsed().as_secs_f64());

    let mut failures = Vec::new();
    let mut before_error = None;
    let before = match &diagnostics {
        Some(client) => match client.fetch().await {
            Ok(counters) => Some(counters),
            Err(error) => {
                let text = format!("could not be read before the run: {error}");
                failures.push(Failure::expectation("diagnostics", text.clone()));
                before_error = Some(text);
                None
            }
        },
        None => None,
    };

    let origin = Instant::now();
    let plan = Arc::new(SendPlan {
        batches,
        next: AtomicUsize::new(0),
        deadline: args.duration_seconds.map(|s| origin + Duration::from_secs_f64(s)),
        origin,
        batch_interval: args.rate.map(|rate| Duration::from_secs_f64(args.batch_size as f64 / rate)),
        live: Arc::new(LiveCounts::default()),
        series: Series::default(),
    });
    let (goal_tx, goal_rx) = watch::channel(None);
    let sampler = match (&diagnostics, before) {
        (Some(client), Some(before)) => {
            let client = client.clone();
            let interval = Duration::from_millis(args.diagnostics_interval_ms);
            Some(tokio::spawn(async move { sample_until(client, origin, interval, before, goal_rx).await }))
        }
        _ => None,
    };
    let progress = progress::start(
        Arc::clone(&plan.live),
        ProgressPlan {
            total: args.count,
            origin,
            deadline: plan.deadline,
            line_interval: (args.progress_interval_seconds > 0.0).then(|| Duration::from_secs_f64(args.progress_interval_seconds)),
        },
    );

    let cpu_before = process_cpu_time();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        workers.spawn(run_worker(Arc::clone(&plan), IngestConnection::new(Arc::clone(&target))));
    }
    let mut tally = Tally::default();
    while let Some(joined) = workers.join_next().await {
        tally.merge(joined?);
    }
    let send_elapsed = tally.last_finish.map_or_else(|| origin.elapsed(), |last| last - origin);
    let cpu = cpu_use(cpu_before, process_cpu_time(), send_elapsed, tally.requests);
    if let Some(progress) = progress {
        progress.finish();
    }

    let wait_extraction = args.wait_for_extraction || args.slo_min_extracted_ratio.is_some();
    let _ = goal_tx.send(Some(Goal {
        created: tally.created,
        deduped: tally.deduped,
        extracted: wait_extraction.then_some(tally.created),
        deadline: Instant::now() + Duration::from_secs_f64(args.timeout_seconds),
    }));
    let polled = match sampler {
        Some(task) => task.await?,
        None => Polled::default(),
    };
    let samples = &polled.samples;

    let diagnostics_report = diagnostics.as_ref().map(|client| {
        let error = match (before, samples.last()) {
            (None, _) => before_error.clone(),
            (Some(_), None) => Some(match &polled.last_error {
                Some(error) => format!("could not be read after the run: {error}"),
                None => "could not be read after the run".to_owned(),
            }),
            _ => None,
        };
        diagnostics_summary(client, before, samples, error)
    });
    let delta = diagnostics_report.as_ref().and_then(|d| d.delta);
    failures.extend(count_expectations(&tally, diagnostics_report.as_ref(), args.timeout_seconds));

    let ingest_to_offer = match (&args.target.diagnostics_url, before) {
        (None, _) => OfferLatency::unavailable("no --diagnostics-url given"),
        (Some(_), None) => OfferLatency::unavailable("diagnostics were unreachable before the run"),
        (Some(_), Some(before)) => offer_latency::estimate(
            &tally.acks,
            before.extracted.unwrap_or(0),
            samples,
            Duration::from_millis(args.diagnostics_interval_ms),
        ),
    };

    let latency = Latencies { ingest: tally.ingest_latency.summary(), all_answers: tally.answer_latency.summary() };
    let ratios = Ratios {
        skipped_ratio: ratio(tally.skipped, tally.messages_sent),
        error_ratio: ratio(tally.requests - tally.ok_requests, tally.requests),
        dedupe_ratio: ratio(tally.deduped, tally.created + tally.deduped),
        extraction_success_ratio: delta.and_then(|d| ratio(d.extracted?, d.created?)),
    };
    let limits = SloLimits {
        p95_ms: args.slo_p95_ms,
        max_skipped_ratio: args.slo_max_skipped_ratio,
        min_extracted_ratio: args.slo_min_extracted_ratio,
        max_error_ratio: Some(args.max_error_ratio),
    };
    let observed = SloObservation {
        p95_ms: latency.ingest.as_ref().map(|l| l.p95_ms),
        skipped_ratio: ratios.skipped_ratio,
        extracted_ratio: ratios.extraction_success_ratio,
        error_ratio: ratios.error_ratio,
    };
    failures.extend(evaluate_slos(&limits, &observed).into_iter().map(|failure| explain_errors(failure, &tally)));
    let status = exit_status(&failures);

    let mut settings = serde_json::to_value(args)?;
    settings["signed"] = serde_json::Value::Bool(target.is_signed());
    settings["client_id"] = serde_json::Value::String(client_id);
    let report = LoadReport {
        mode: "load".into(),
        harness_version: env!("CARGO_PKG_VERSION").into(),
        run_id,
        started_at,
        finished_at: now_text(),
        outcome: Outcome { status, exit_code: status.code(), failures: failures.clone() },
        settings,
        requests: request_counts(&tally),
        messages: MessageCounts {
            planned: args.count,
            sent: tally.messages_sent,
            unique_sent: tally.messages_sent - tally.duplicates_sent,
            duplicates_sent: tally.duplicates_sent,
            acknowledged: tally.acknowledged,
            created: tally.created,
            deduped: tally.deduped,
            skipped: tally.skipped,
            unreadable_acks: tally.unreadable_acks,
        },
        ratios,
        latency_ms: latency,
        latency_histogram: tally.ingest_latency.histogram(),
        series: plan.series.points(send_elapsed),
        ingest_to_offer_ms: ingest_to_offer,
        throughput: Throughput {
            elapsed_seconds: round3(send_elapsed.as_secs_f64()),
            requests_per_second: per_second(tally.requests, send_elapsed),
            messages_per_second: per_second(tally.acknowledged, send_elapsed),
            sent_messages_per_second: per_second(tally.messages_sent, send_elapsed),
        },
        diagnostics: diagnostics_report,
        slo: SloReport { limits, observed },
        generator: GeneratorReport {
            concurrency: args.concurrency,
            transport: if args.target.url.starts_with("https://") { "reqwest-https" } else { "hyper-http1" }.into(),
            prepare_seconds,
            body_bytes_sent: tally.body_bytes,
            cpu,
        },
        definitions: definitions(),
    };
    Ok(RunOutcome { report, status, failures })
}

/// Samples every `interval` while the load runs; once a goal is set, until
/// it is reached or its deadline passes.
async fn sample_until(
    client: DiagnosticsClient,
    origin: Instant,
    interval: Duration,
    before: Counters,
    mut goal: watch::Receiver<Option<Goal>>,
) -> Polled {
    let mut polled = Polled::default();
    loop {
        let current = *goal.borrow_and_update();
        let result = client.fetch().await;
        if let Some(counters) = polled.record(origin.elapsed(), result)
            && current.is_some_and(|g| g.reached(&counters.delta_since(&before)))
        {
            break;
        }
        if current.is_some_and(|g| Instant::now() >= g.deadline) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = goal.changed() => if changed.is_err() && goal.borrow().is_none() { break },
        }
    }
    polled
}

fn diagnostics_summary(client: &DiagnosticsClient, before: Option<Counters>, samples: &[Sample], error: Option<String>) -> DiagnosticsReport {
    let after = samples.last().map(|s| s.counters);
    DiagnosticsReport {
        url: client.url().to_owned(),
        credential: client.credential().to_string(),
        before,
        after,
        delta: before.zip(after).map(|(b, a)| a.delta_since(&b)),
        samples: samples.len(),
        error,
    }
}

/// Exit-2 checks: diagnostics moved at least as far as the gateway's own
/// answers said, and, when every request succeeded, the answers agree with
/// the workload's plan of new and duplicate messages.
fn count_expectations(tally: &Tally, diagnostics: Option<&DiagnosticsReport>, timeout: f64) -> Vec<Failure> {
    let mut failures = Vec::new();
    if let Some(report) = diagnostics {
        match (report.before, report.delta) {
            (None, _) => {} // already reported: not readable before the run
            (Some(_), None) => failures.push(Failure::expectation(
                "diagnostics",
                report.error.clone().unwrap_or_else(|| "could not be read after the run".to_owned()),
            )),
            (Some(_), Some(delta)) => {
                for (name, moved, acknowledged) in
                    [("created", delta.created, tally.created), ("deduped", delta.deduped, tally.deduped)]
                {
                    match moved {
                        None => failures.push(Failure::expectation(name, format!("diagnostics has no `{name}` counter"))),
                        Some(moved) if moved < acknowledged => failures.push(Failure::expectation(
                            name,
                            format!("diagnostics {name} moved {moved} but 2xx answers reported {acknowledged} (waited {timeout} s)"),
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    let unique_sent = tally.messages_sent - tally.duplicates_sent;
    if tally.skipped == 0 && tally.unreadable_acks == 0 && (tally.created, tally.deduped) != (unique_sent, tally.duplicates_sent) {
        failures.push(Failure::expectation(
            "acknowledged_counts",
            format!(
                "answers reported {} created / {} deduped, the workload sent {unique_sent} new / {} duplicate messages",
                tally.created, tally.deduped, tally.duplicates_sent
            ),
        ));
    }
    failures
}

/// Adds what the failed requests got to an `error_ratio` failure, so that
/// the ALERT line says why (e.g. `HTTP 401 ×5: invalid_ingest_token: …`).
fn explain_errors(mut failure: Failure, tally: &Tally) -> Failure {
    if failure.check != "error_ratio" {
        return failure;
    }
    let failed = tally.requests - tally.ok_requests;
    let statuses = tally.statuses.iter().filter(|(status, _)| !(200..300).contains(*status)).map(|(status, n)| (status.to_string(), format!("HTTP {status}"), *n));
    let errors = tally.transport_errors.iter().map(|(kind, n)| ((*kind).to_owned(), (*kind).to_owned(), *n));
    let parts: Vec<String> = statuses
        .chain(errors)
        .map(|(key, label, n)| match tally.error_samples.get(&key) {
            Some(sample) => format!("{label} ×{n} ({sample})"),
            None => format!("{label} ×{n}"),
        })
        .collect();
    failure.detail = format!("{failed} of {} requests failed, {}; {}", tally.requests, failure.detail, parts.join(", "));
    failure
}

fn request_counts(tally: &Tally) -> RequestCounts {
    RequestCounts {
        sent: tally.requests,
        ok: tally.ok_requests,
        rate_limited: tally.statuses.get(&429).copied().unwrap_or(0),
        transport_errors: tally.transport_errors.values().sum(),
        status_counts: tally.statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        transport_error_kinds: tally.transport_errors.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
        error_samples: tally.error_samples.clone(),
    }
}

pub(crate) fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(sent: u64, dups: u64, created: u64, deduped: u64, skipped: u64) -> Tally {
        Tally { messages_sent: sent, duplicates_sent: dups, created, deduped, skipped, ..Tally::default() }
    }

    fn diag(created: Option<u64>, deduped: Option<u64>) -> DiagnosticsReport {
        let before = Counters { created: Some(0), deduped: Some(0), ..Counters::default() };
        DiagnosticsReport {
            url: "http://d".into(),
            credential: "the ingest token (--token) as X-Ingest-Token".into(),
            before: Some(before),
            after: None,
            delta: Some(Counters { created, deduped, ..Counters::default() }),
            samples: 1,
            error: None,
        }
    }

    #[test]
    fn expectations_table() {
        let names = |f: Vec<Failure>| f.into_iter().map(|f| f.check).collect::<Vec<_>>();
        // Planned 90 new + 10 duplicates, all acknowledged as such.
        assert!(count_expectations(&tally(100, 10, 90, 10, 0), Some(&diag(Some(90), Some(10))), 1.0).is_empty());
        // Counters moved further than our own traffic: someone else posted too; fine.
        assert!(count_expectations(&tally(100, 10, 90, 10, 0), Some(&diag(Some(95), Some(12))), 1.0).is_empty());
        assert_eq!(names(count_expectations(&tally(100, 10, 90, 10, 0), Some(&diag(Some(89), Some(10))), 1.0)), ["created"]);
        assert_eq!(names(count_expectations(&tally(100, 10, 90, 10, 0), Some(&diag(None, Some(10))), 1.0)), ["created"]);
        // The gateway created a duplicate: answers disagree with the plan.
        assert_eq!(names(count_expectations(&tally(100, 10, 91, 9, 0), None, 1.0)), ["acknowledged_counts"]);
        // With skipped requests the plan cannot be checked.
        assert!(count_expectations(&tally(100, 10, 50, 5, 45), None, 1.0).is_empty());
    }

    #[test]
    fn error_ratio_failures_say_what_the_requests_got() {
        let mut t = Tally { requests: 10, ok_requests: 4, ..Tally::default() };
        t.statuses.extend([(200, 4), (401, 5)]);
        t.transport_errors.insert("connect", 1);
        t.error_samples.insert("401".into(), "invalid_ingest_token: invalid ingest token".into());
        let failure = explain_errors(Failure::slo("error_ratio", "error ratio 0.6000 > 0.01"), &t);
        assert_eq!(
            failure.detail,
            "6 of 10 requests failed, error ratio 0.6000 > 0.01; HTTP 401 ×5 (invalid_ingest_token: invalid ingest token), connect ×1"
        );
        let other = Failure::slo("p95_ms", "x");
        assert_eq!(explain_errors(other.clone(), &t), other);
    }

    #[test]
    fn goals_treat_missing_counters_as_unwaitable() {
        let goal = Goal { created: 10, deduped: 2, extracted: Some(10), deadline: Instant::now() };
        let full = Counters { created: Some(10), deduped: Some(2), extracted: Some(10), ..Counters::default() };
        assert!(goal.reached(&full));
        assert!(!goal.reached(&Counters { extracted: Some(9), ..full }));
        assert!(goal.reached(&Counters { extracted: None, ..full }));
        assert!(!goal.reached(&Counters { created: Some(9), ..full }));
        assert!(Goal { extracted: None, ..goal }.reached(&Counters { extracted: Some(0), ..full }));
    }
}
