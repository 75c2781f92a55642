//! `harness smoke`: one signed batch with a unique chat and message ids
//! (so content-hash dedupe cannot swallow it on a rerun), then diagnostics
//! polled until `created` and `extracted` moved by what is expected.
//!
//! The first message is the seed's product line, `Pixel 8 Pro - $750`, so
//! the extractor sees exactly what the seed's smoke test sends; the chat
//! title carries the run id instead of the text.

use crate::cli::SmokeArgs;
use crate::diagnostics::{Counters, DiagnosticsClient, Polled, poll_until};
use crate::load::now_text;
use crate::outcome::{Failure, exit_status};
use crate::report::{DiagnosticsReport, Outcome, SmokeReport, SmokeRequest, error_text};
use crate::stats::round3;
use crate::transport::{IngestConnection, IngestTarget};
use crate::workload::product_line;
use crate::{HarnessError, RunOutcome};
use bytes::Bytes;
use collector_client::message::{IngestBatch, IngestMessage};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct SmokeAck {
    request_id: Option<String>,
    created: Option<u64>,
    deduped: Option<u64>,
}

pub fn smoke_batch(run_tag: &str, client_id: &str, messages: u64) -> IngestBatch {
    let messages = (0..messages.max(1))
        .map(|i| IngestMessage {
            chat_id: Some(crate::marking::smoke_chat_id(run_tag)),
            chat_title: format!("Smoke Chat {run_tag}"),
            message_id: Some(format!("smoke-{run_tag}-{i}")),
            text: Some(if i == 0 { "Pixel 8 Pro - $750".to_owned() } else { product_line(i) }),
            ..IngestMessage::default()
        })
        .collect();
    IngestBatch { client_id: client_id.to_owned(), messages }
}

pub async fn run_smoke(args: &SmokeArgs) -> Result<RunOutcome<SmokeReport>, HarnessError> {
    args.validate()?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let started_at = now_text();
    let timeout = Duration::from_secs_f64(args.timeout_seconds);
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
    let run_tag = &run_id[..12];
    let client_id = crate::marking::client_id(args.client_id.as_deref(), &format!("smoke-{run_tag}"));
    let batch = smoke_batch(run_tag, &client_id, args.expect_created);
    let body = Bytes::from(serde_json::to_vec(&batch)?);
    let mut failures = Vec::new();

    let mut before_error = None;
    let before = match &diagnostics {
        Some(client) => match client.fetch().await {
            Ok(counters) => Some(counters),
            Err(error) => {
                let text = format!("could not be read before the smoke post: {error}");
                failures.push(Failure::expectation("diagnostics", text.clone()));
                before_error = Some(text);
                None
            }
        },
        None => None,
    };

    let posted = Instant::now();
    let answer = IngestConnection::new(target).post(body).await;
    let acked = Instant::now();
    let latency_ms = round3((acked - posted).as_secs_f64() * 1000.0);
    let request = match answer {
        Ok(response) if (200..300).contains(&response.status) => {
            let ack: Option<SmokeAck> = serde_json::from_slice(&response.body).ok();
            let created = ack.as_ref().and_then(|a| a.created);
            if created.is_none_or(|c| c < args.expect_created) {
                failures.push(Failure::expectation(
                    "response_created",
                    format!("answer reported created={created:?}, expected at least {}", args.expect_created),
                ));
            }
            SmokeRequest {
                status: Some(response.status),
                latency_ms,
                request_id: ack.as_ref().and_then(|a| a.request_id.clone()),
                created,
                deduped: ack.and_then(|a| a.deduped),
                error: None,
            }
        }
        Ok(response) => {
            let text = error_text(&response.body);
            failures.push(Failure::expectation("post", format!("ingest answered HTTP {}: {text}", response.status)));
            SmokeRequest { status: Some(response.status), latency_ms, request_id: None, created: None, deduped: None, error: Some(text) }
        }
        Err(error) => {
            failures.push(Failure::expectation("post", format!("ingest request failed: {error}")));
            SmokeRequest { status: None, latency_ms, request_id: None, created: None, deduped: None, error: Some(error.to_string()) }
        }
    };

    let mut time_to_created_ms = None;
    let mut time_to_extracted_ms = None;
    let mut diagnostics_report = None;
    if let (Some(client), Some(before)) = (&diagnostics, before) {
        let (want_created, want_extracted) = (args.expect_created, args.expect_extracted);
        let interval = Duration::from_millis(args.poll_interval_ms);
        let since_ack = |at: Duration| Some(round3(at.as_secs_f64() * 1000.0));
        let polled = if request.status.is_some_and(|s| (200..300).contains(&s)) {
            poll_until(client, acked, interval, Instant::now() + timeout, |after| {
                let delta = after.delta_since(&before);
                delta.created.is_some_and(|c| c >= want_created) && delta.extracted.is_some_and(|e| e >= want_extracted)
            })
            .await
        } else {
            Polled::default()
        };
        let samples = polled.samples;
        for sample in &samples {
            let delta = sample.counters.delta_since(&before);
            if time_to_created_ms.is_none() && delta.created.is_some_and(|c| c >= want_created) {
                time_to_created_ms = since_ack(sample.at);
            }
            if time_to_extracted_ms.is_none() && want_extracted > 0 && delta.extracted.is_some_and(|e| e >= want_extracted) {
                time_to_extracted_ms = since_ack(sample.at);
            }
        }
        let after = samples.last().map(|s| s.counters);
        let delta = after.map(|a| a.delta_since(&before));
        let no_answer = || match &polled.last_error {
            Some(error) => format!("no diagnostics answer after the post: {error}"),
            None => "no diagnostics answer after the post".to_owned(),
        };
        if request.status.is_some_and(|s| (200..300).contains(&s)) {
            failures.extend(counter_failures(delta, want_created, want_extracted, args.timeout_seconds, &no_answer()));
        }
        diagnostics_report = Some(DiagnosticsReport {
            url: client.url().to_owned(),
            credential: client.credential().to_string(),
            before: Some(before),
            after,
            delta,
            samples: samples.len(),
            error: after.is_none().then(no_answer),
        });
    } else if let (Some(client), Some(error)) = (&diagnostics, before_error) {
        diagnostics_report = Some(DiagnosticsReport {
            url: client.url().to_owned(),
            credential: client.credential().to_string(),
            before: None,
            after: None,
            delta: None,
            samples: 0,
            error: Some(error),
        });
    }

    let status = exit_status(&failures);
    let mut settings = serde_json::to_value(args)?;
    settings["signed"] = serde_json::Value::Bool(args.target.secret_str().is_some());
    settings["client_id"] = serde_json::Value::String(batch.client_id.clone());
    let report = SmokeReport {
        mode: "smoke".into(),
        harness_version: env!("CARGO_PKG_VERSION").into(),
        run_id,
        started_at,
        finished_at: now_text(),
        outcome: Outcome { status, exit_code: status.code(), failures: failures.clone() },
        settings,
        chat_title: batch.messages.first().map(|m| m.chat_title.clone()).unwrap_or_default(),
        message_ids: batch.messages.iter().filter_map(|m| m.message_id.clone()).collect(),
        request,
        diagnostics: diagnostics_report,
        time_to_created_ms,
        time_to_extracted_ms,
    };
    Ok(RunOutcome { report, status, failures })
}

/// Which expected counter movements did not happen; `no_answer` says why
/// diagnostics gave none.
fn counter_failures(delta: Option<Counters>, want_created: u64, want_extracted: u64, timeout: f64, no_answer: &str) -> Vec<Failure> {
    let Some(delta) = delta else {
        return vec![Failure::expectation("diagnostics", no_answer)];
    };
    let mut failures = Vec::new();
    for (name, moved, wanted) in [("created", delta.created, want_created), ("extracted", delta.extracted, want_extracted)] {
        match moved {
            _ if wanted == 0 => {}
            None => failures.push(Failure::expectation(name, format!("diagnostics has no `{name}` counter"))),
            Some(moved) if moved < wanted => {
                failures.push(Failure::expectation(name, format!("moved {moved}, expected {wanted} within {timeout} s")))
            }
            Some(_) => {}
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoke_batch_keeps_the_seed_line_and_is_unique_per_run() {
        let a = smoke_batch("aaaa", "soko-load-smoke-aaaa", 1);
        assert_eq!(a.messages[0].chat_id.as_deref(), Some("soko-load-aaaa-smoke"));
        let b = smoke_batch("bbbb", "smoke", 1);
        assert_eq!(a.messages.len(), 1);
        assert_eq!(a.messages[0].text.as_deref(), Some("Pixel 8 Pro - $750"));
        assert_ne!(a.messages[0].chat_title, b.messages[0].chat_title);
        assert_ne!(a.messages[0].message_id, b.messages[0].message_id);
        let three = smoke_batch("cccc", "smoke", 3);
        let texts: std::collections::HashSet<_> = three.messages.iter().map(|m| m.text.clone()).collect();
        assert_eq!(texts.len(), 3);
    }

    #[test]
    fn counter_failure_table() {
        let c = |created, extracted| Some(Counters { created, extracted, ..Counters::default() });
        let names = |f: Vec<Failure>| f.into_iter().map(|f| f.check).collect::<Vec<_>>();
        assert!(counter_failures(c(Some(1), Some(1)), 1, 1, 5.0, "none").is_empty());
        assert!(counter_failures(c(Some(1), None), 1, 0, 5.0, "none").is_empty());
        assert_eq!(names(counter_failures(c(Some(1), Some(0)), 1, 1, 5.0, "none")), ["extracted"]);
        assert_eq!(names(counter_failures(c(Some(0), None), 1, 1, 5.0, "none")), ["created", "extracted"]);
        assert_eq!(names(counter_failures(None, 1, 1, 5.0, "none")), ["diagnostics"]);
    }
}
