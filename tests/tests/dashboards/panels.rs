//! Every panel query of the Grafana dashboard against a real Prometheus
//! scraping a real gateway and collector.

use crate::{alerts_path, seq, yaml};
use collector_client::message::{IngestBatch, IngestMessage};
use soko_e2e::dashboard::{self, PanelQuery};
use soko_e2e::prometheus::{PrometheusServer, Sample, ScrapeJob};
use soko_e2e::stack::{Collector, Gateway, SECRET, TOKEN};
use soko_e2e::tools;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn offer(id: &str, text: &str) -> IngestMessage {
    IngestMessage {
        chat_title: "Dashboard Phones".into(),
        message_id: Some(id.into()),
        text: Some(text.into()),
        ..IngestMessage::default()
    }
}

/// Signed ingest with offers and dedupes, one 401, one 403, one 429 and a
/// collector batch.
async fn drive_traffic(gateway: &Gateway, collector: &Collector) {
    let offers = IngestBatch {
        client_id: "e2e-shop".into(),
        messages: vec![
            offer("d1", "Samsung A15 - 18,500"),
            offer("d2", "Tecno Spark 20 - 14,000"),
            offer("d3", "iPhone 11 ex-UK @ 35k"),
        ],
    };
    assert_eq!(
        gateway.post(&offers, TOKEN, SECRET).await.expect("post"),
        200
    );
    assert_eq!(
        gateway.post(&offers, TOKEN, SECRET).await.expect("post"),
        200,
        "the same batch again: deduped"
    );
    assert_eq!(
        gateway
            .post(&offers, "wrong-token", SECRET)
            .await
            .expect("post"),
        401
    );
    assert_eq!(
        gateway
            .post(&offers, TOKEN, "wrong-secret")
            .await
            .expect("post"),
        403
    );
    let mut statuses = Vec::new();
    for n in 0..30 {
        let flood = IngestBatch {
            client_id: "e2e-flood".into(),
            messages: vec![offer(&format!("f{n}"), "hello")],
        };
        let status = gateway.post(&flood, TOKEN, SECRET).await.expect("post");
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "the flood client is rate limited: {statuses:?}"
    );
    let relayed = vec![
        offer("c1", "Infinix Hot 40 - 16,000"),
        offer("c2", "Oppo A18 - 13,500"),
    ];
    collector
        .send_and_wait(relayed)
        .await
        .expect("the collector delivers its batch");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let diagnostics = gateway.diagnostics().await.expect("diagnostics");
        if diagnostics["extracted"].as_i64().unwrap_or(0) >= 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "extraction did not run: {diagnostics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A search, then the same again (a cache hit), for the search panels.
    for _ in 0..2 {
        let search = gateway
            .client
            .get(format!("http://{}/search?q=samsng%20a15", gateway.addr))
            .bearer_auth(READ_TOKEN)
            .send()
            .await
            .expect("search");
        assert_eq!(search.status().as_u16(), 200);
    }
}

/// `API_READ_TOKEN` of the dashboard's gateway (for `/search`).
const READ_TOKEN: &str = "dashboard-read";

type Check = fn(&[Sample]) -> bool;

/// What the traffic implies for some queries, by panel title and refId;
/// every other query only has to return data.
fn expectations() -> BTreeMap<(&'static str, &'static str), (&'static str, Check)> {
    BTreeMap::from([
        (
            ("Ingest throughput (messages/s)", "A"),
            (
                "some rate > 0",
                (|s: &[Sample]| s.iter().any(|x| x.value > 0.0)) as Check,
            ),
        ),
        (
            ("Dedupe ratio", "A"),
            ("strictly between 0 and 1", |s: &[Sample]| {
                s.iter().any(|x| x.value > 0.0 && x.value < 1.0)
            }),
        ),
        (
            ("401 / 403 / 429 per minute", "A"),
            ("401 rate > 0", |s: &[Sample]| {
                s.iter().any(|x| x.value > 0.0)
            }),
        ),
        (
            ("401 / 403 / 429 per minute", "B"),
            ("403 rate > 0", |s: &[Sample]| {
                s.iter().any(|x| x.value > 0.0)
            }),
        ),
        (
            ("401 / 403 / 429 per minute", "C"),
            ("429 rate > 0", |s: &[Sample]| {
                s.iter().any(|x| x.value > 0.0)
            }),
        ),
        (
            ("Extraction lag (p50 / p95)", "B"),
            ("a finite p95", |s: &[Sample]| {
                s.iter().any(|x| x.value.is_finite() && x.value >= 0.0)
            }),
        ),
        (
            ("Queue depth per stage", "A"),
            ("every stage, ready and running", |s: &[Sample]| {
                s.len() == 2 * gateway::domain::job::stage::ALL.len()
            }),
        ),
        (
            ("Dead jobs per stage", "A"),
            ("every stage", |s: &[Sample]| s.len() == gateway::domain::job::stage::ALL.len()),
        ),
        (
            ("Collector connection status", "A"),
            ("open (2)", |s: &[Sample]| s.iter().any(|x| x.value == 2.0)),
        ),
        (
            ("Collector batches (per minute)", "A"),
            ("success rate > 0", |s: &[Sample]| {
                s.iter().any(|x| x.value > 0.0)
            }),
        ),
        (
            ("Time since the last successful batch", "A"),
            ("under 2 minutes", |s: &[Sample]| {
                s.iter().any(|x| (0.0..120.0).contains(&x.value))
            }),
        ),
    ])
}

/// Every query once: each must return data, and those in
/// [`expectations`] the values the traffic implies.
async fn check_queries(prometheus: &PrometheusServer, queries: &[PanelQuery]) -> Vec<String> {
    let expectations = expectations();
    let mut failures = Vec::new();
    let mut checked = BTreeSet::new();
    for PanelQuery {
        panel,
        ref_id,
        expr,
    } in queries
    {
        let promql = dashboard::concrete_promql(expr, "5m").expect("concrete PromQL");
        let samples = match prometheus.query(&promql).await {
            Ok(samples) => samples,
            Err(error) => {
                failures.push(format!("{panel} [{ref_id}]: {error}"));
                continue;
            }
        };
        if samples.is_empty() {
            failures.push(format!("{panel} [{ref_id}]: no data for `{promql}`"));
            continue;
        }
        if let Some((what, check)) = expectations.get(&(panel.as_str(), ref_id.as_str())) {
            checked.insert((panel.as_str(), ref_id.as_str()));
            if !check(&samples) {
                failures.push(format!(
                    "{panel} [{ref_id}]: expected {what}, got {samples:?} for `{promql}`"
                ));
            }
        }
    }
    for key in expectations.keys().filter(|key| !checked.contains(*key)) {
        failures.push(format!(
            "no panel query {key:?} in the dashboard (renamed?)"
        ));
    }
    failures
}

#[tokio::test]
async fn every_dashboard_panel_query_returns_data_from_a_real_prometheus() {
    let Some(found) = tools::require("dashboard queries", &["prometheus"]) else {
        return;
    };
    let queries = dashboard::panel_queries(
        &dashboard::load(&dashboard::dashboard_path()).expect("dashboard"),
    )
    .expect("panel queries");

    let gateway = Gateway::start(&[
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
        ("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", "60"),
        ("WHATSAPP_INGEST_RATE_LIMIT_BURST", "5"),
        ("API_READ_TOKEN", READ_TOKEN),
    ])
    .await
    .expect("gateway starts");
    let collector = Collector::start(&gateway.ingest_url(), "e2e-collector")
        .await
        .expect("collector starts");
    let jobs = [
        ScrapeJob {
            name: "soko-gateway".into(),
            targets: vec![gateway.addr.clone()],
        },
        ScrapeJob {
            name: "soko-collector".into(),
            targets: vec![collector.status.local_addr().to_string()],
        },
    ];
    let alerts = alerts_path();
    let prometheus = PrometheusServer::start(&found[0], &jobs, &[alerts.as_path()])
        .await
        .expect("prometheus starts");

    // A first scrape of both before the traffic, so rates see it as an increase.
    let both_up = |s: &[Sample]| s.len() == 2 && s.iter().all(|x| x.value == 1.0);
    prometheus
        .wait_for("up", Duration::from_secs(30), both_up)
        .await
        .expect("both targets scraped");
    drive_traffic(&gateway, &collector).await;
    for settled in [
        "soko_ingest_rate_limited_total",
        "collector_batches_success_total",
        "soko_extraction_lag_seconds_count",
    ] {
        let seen = |s: &[Sample]| s.iter().any(|x| x.value >= 1.0);
        prometheus
            .wait_for(settled, Duration::from_secs(30), seen)
            .await
            .expect("a scrape after the traffic");
    }

    // Rates need two samples of a series after the traffic: poll until every
    // query answers as expected, or report what still failed at the deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut failures = loop {
        let failures = check_queries(&prometheus, &queries).await;
        if failures.is_empty() || std::time::Instant::now() > deadline {
            break failures;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };

    // The alert rules load into the real server and evaluate without errors.
    let rules = prometheus.rules().await.expect("rules API");
    let loaded: Vec<&serde_json::Value> = rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    let defined = seq(&yaml(&alerts)["groups"])
        .iter()
        .map(|group| seq(&group["rules"]).len())
        .sum::<usize>();
    assert_eq!(
        loaded.len(),
        defined,
        "every rule of alerts.yml is loaded: {rules}"
    );
    for rule in &loaded {
        if rule["health"] == "err" {
            failures.push(format!(
                "rule {} fails to evaluate: {}",
                rule["name"], rule["lastError"]
            ));
        }
    }

    let log = prometheus.log();
    drop(prometheus);
    collector.stop().await;
    gateway.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {} panel queries failed:\n{}\n--- prometheus log ---\n{log}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
}
