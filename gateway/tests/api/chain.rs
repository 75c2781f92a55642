//! The product chain's scout and hydrate stages and its queue, against the local wa.me fixture
//! (`wa_fixture.rs`): a catalog link in a message ends with every fixture page at its expected
//! outcome; retries follow 2 s / 4 s / 8 s (read from the stored `run_at_ms`) and then dead-letter;
//! operators retry dead jobs; and a job leased by a worker that died is finished by another.

use std::time::Duration;

use serde_json::Value;

use crate::{
    helpers::{TestApp, TestDatabase, batch, message, spawn_app_with, start_on},
    wa_fixture::{Fixture, PRODUCTS, Page, SELLER, page_of, product_id},
};

const ADMIN: &str = "admin-secret";

fn settings(fixture: &Fixture) -> Vec<(&'static str, String)> {
    vec![
        ("WHATSAPP_WEB_BASE_URL", fixture.base.clone()),
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2".into()),
        ("HYDRATE_TIMEOUT_SECONDS", "1".into()),
        ("HYDRATE_MAX_BYTES", "262144".into()),
        ("ADMIN_TOKEN", ADMIN.into()),
    ]
}

async fn app_with(fixture: &Fixture, extra: &[(&'static str, &str)]) -> TestApp {
    let mut all = settings(fixture);
    all.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(&pairs).await
}

/// A hydrate job for a fixture product, due at once, as extraction or scout would enqueue it.
async fn insert_hydrate_job(db: &TestDatabase, id: &str, state: &str) {
    db.execute(&format!(
        "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
         VALUES ('hydrate', '{id}', '{{\"product_id\":\"{id}\",\"phone\":\"+{SELLER}\"}}', '{state}', 0, 0, 0, 0)"
    ))
    .await;
}

async fn job_i64(app: &TestApp, column: &str, product: &str) -> i64 {
    let sql = format!("SELECT CAST({column} AS BIGINT) FROM jobs WHERE stage = 'hydrate' AND dedupe_key = '{product}'");
    app.db.query_i64(&sql).await.first().copied().unwrap_or(i64::MIN)
}

async fn job_text(app: &TestApp, column: &str, product: &str) -> String {
    let sql = format!("SELECT {column} FROM jobs WHERE stage = 'hydrate' AND dedupe_key = '{product}'");
    app.db.query_texts(&sql).await.into_iter().next().flatten().unwrap_or_default()
}

async fn events(app: &TestApp, product: &str, kind: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE product_id = '{product}' AND event_type = '{kind}'");
    app.db.query_i64(&sql).await[0]
}

/// Milliseconds from the first `from` event to the last `to` event of a product.
async fn event_gap_ms(app: &TestApp, product: &str, from: &str, to: &str) -> i64 {
    let sql = format!(
        "SELECT (SELECT MAX(created_at_ms) FROM catalog_sync_logs WHERE product_id = '{product}' AND event_type = '{to}')
              - (SELECT MIN(created_at_ms) FROM catalog_sync_logs WHERE product_id = '{product}' AND event_type = '{from}')"
    );
    app.db.query_i64(&sql).await[0]
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn a_catalog_link_brings_every_fixture_page_to_its_expected_outcome() {
    let fixture = Fixture::start().await;
    // A 30 s poll: only commit wake-ups and due-time timers can drive this test in time.
    let app = app_with(&fixture, &[("HYDRATE_PER_HOST_CONCURRENCY", "3"), ("JOB_POLL_SECONDS", "30")]).await;
    let text = format!("Our whole catalog is here: https://wa.me/c/{SELLER}");
    assert_eq!(app.post_ingest(&batch("c", vec![message("Sellers", &text)])).await.body["created"], 1);
    let finished = "SELECT COUNT(*) FROM jobs WHERE stage = 'hydrate' AND state IN ('done', 'dead')";
    app.db.wait_for(finished, i64::try_from(PRODUCTS).unwrap_or(0) - 1, Duration::from_secs(40)).await;

    let listed = app.read(&format!("/products?seller={SELLER}&limit=100")).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let products: Vec<Value> = listed.body["products"].as_array().cloned().unwrap_or_default();
    assert_eq!(products.len() as u64, PRODUCTS, "every catalog product is recorded once");
    let by_id = |n: u64| products.iter().find(|p| p["product_id"] == product_id(n)).cloned().unwrap_or(Value::Null);

    for n in 1..=PRODUCTS {
        let id = product_id(n);
        let p = by_id(n);
        let page = page_of(n);
        let context = format!("product {n} ({page:?}): {p}");
        match page {
            Page::Normal | Page::RateLimitedOnce | Page::ServerErrorOnce => {
                assert_eq!(p["name"], format!("Product {n}"), "{context}");
                assert_eq!(p["description"], format!("Description {n}"), "{context}");
                assert_eq!(p["image_url"], format!("https://cdn.example.com/p/{n}.jpg"), "{context}");
                assert_eq!(p["display_image_url"], p["image_url"], "{context}");
                assert_eq!((p["active"].as_bool(), p["hydrate_status"].as_str()), (Some(true), Some("ok")), "{context}");
                assert_eq!(p["semantic_hash"].as_str().map(str::len), Some(64), "{context}");
                assert_eq!(job_text(&app, "state", &id).await, "done", "{context}");
            }
            Page::RelativeImage => assert_eq!(p["image_url"], format!("{}/images/p{n}.jpg", fixture.base), "{context}"),
            Page::EntityEncoded => {
                assert_eq!(p["name"], "Tom & Jerry's mug", "{context}");
                assert_eq!(p["description"], "50% off", "{context}");
                assert_eq!(p["image_url"], "https://cdn.example.com/i/24.jpg?w=600&h=600", "{context}");
            }
            Page::NonUtf8 => assert_eq!(p["name"], "Café crème", "{context}"),
            Page::NotFound => {
                assert_eq!((p["active"].as_bool(), p["hydrate_status"].as_str()), (Some(false), Some("gone")), "{context}");
                assert_eq!(job_text(&app, "state", &id).await, "done", "a 404 is an outcome, not a dead job");
                assert_eq!((job_i64(&app, "attempts", &id).await, job_i64(&app, "last_status", &id).await), (1, 404), "no retry");
                assert_eq!(events(&app, &id, "hydrate_404").await, 1);
            }
            Page::Slow => {
                assert_ne!(job_text(&app, "state", &id).await, "done", "{context}");
                assert!(job_text(&app, "last_error", &id).await.contains("timed out"), "{context}");
                assert!(p["name"].is_null(), "{context}");
            }
            Page::Oversized => {
                assert_eq!(job_text(&app, "state", &id).await, "dead", "{context}");
                assert_eq!(job_i64(&app, "attempts", &id).await, 1, "an oversized page is not retried");
                assert!(job_text(&app, "last_error", &id).await.contains("larger than 262144 bytes"), "{context}");
                assert_eq!(p["hydrate_status"], "failed", "{context}");
            }
        }
    }
    // 429 and 500 were retried once, after Retry-After (3 s) and the first backoff step (2 s).
    let (limited, failed) = (product_id(27), product_id(28));
    assert_eq!((job_i64(&app, "attempts", &limited).await, job_i64(&app, "attempts", &failed).await), (2, 2));
    assert_eq!((events(&app, &limited, "hydrate_429").await, events(&app, &failed, "hydrate_error").await), (1, 1));
    assert!(event_gap_ms(&app, &limited, "hydrate_429", "hydrate_success").await >= 3_000, "Retry-After honoured");
    assert!(event_gap_ms(&app, &failed, "hydrate_error", "hydrate_success").await >= 2_000, "2 s backoff");

    // Hydrated products went on to embed; the scout followed both catalog pages.
    let hydrated = app.db.query_i64("SELECT COUNT(*) FROM products WHERE hydrate_status = 'ok'").await[0];
    assert_eq!(hydrated, 27);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM jobs WHERE stage = 'embed'").await, [27]);
    let scout = app.db.query_texts("SELECT details FROM catalog_sync_logs WHERE event_type = 'scout_success'").await;
    let scout: Value = serde_json::from_str(scout[0].as_deref().unwrap_or("{}")).unwrap_or_default();
    assert_eq!((scout["products"].as_u64(), scout["new_products"].as_u64(), scout["pages"].as_u64()), (Some(30), Some(30), Some(2)));

    // Per-host cap and User-Agent rotation, as the fixture saw them.
    assert!((2..=3).contains(&fixture.seen.max_in_flight()), "per-host cap 3, concurrency used: {}", fixture.seen.max_in_flight());
    assert!(fixture.seen.distinct_agents() >= 3, "User-Agents rotate");

    // Read API: filters, the detail view with its events, cursor pagination.
    let inactive = app.read("/products?active=false").await;
    assert_eq!(inactive.body["products"].as_array().map(Vec::len), Some(1));
    assert_eq!(inactive.body["products"][0]["product_id"], product_id(26));
    let detail = app.read(&format!("/products/{}", product_id(26))).await;
    assert_eq!(detail.body["product"]["has_embedding"], false);
    let kinds: Vec<&str> = detail.body["events"].as_array().into_iter().flatten().filter_map(|e| e["event_type"].as_str()).collect();
    assert_eq!(kinds, ["hydrate_404", "hydrate_start"], "newest first");
    assert_eq!(app.read("/products/1000000000000099").await.status, 404);
    assert_eq!(app.read("/products?qc=maybe").await.status, 400);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.read(&format!("/products?limit=7{cursor}")).await;
        seen.extend(page.body["products"].as_array().into_iter().flatten().filter_map(|p| p["product_id"].as_str().map(str::to_owned)));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    seen.dedup();
    assert_eq!(seen.len() as u64, PRODUCTS, "pages cover every product once");

    let metrics = app.get_text("/metrics").await;
    assert_eq!(metric(&metrics, r#"soko_jobs_dead_total{stage="hydrate"}"#), Some(1.0));
    assert!(metric(&metrics, r#"soko_job_retries_total{stage="hydrate"}"#).unwrap_or(0.0) >= 3.0, "429, 500 and the slow page");
    app.finish().await;
    fixture.stop().await;
}

#[tokio::test]
async fn retries_wait_two_four_eight_seconds_then_dead_letter_and_operators_retry() {
    let fixture = Fixture::start().await;
    let app = app_with(&fixture, &[("JOB_POLL_SECONDS", "0.05")]).await;
    let failing = product_id(1);
    fixture.seen.always_500.lock().insert(failing.clone());
    insert_hydrate_job(&app.db, &failing, "ready").await;
    let key = format!("stage = 'hydrate' AND dedupe_key = '{failing}'");
    for (attempt, wait_ms) in [(1, 2_000), (2, 4_000), (3, 8_000)] {
        app.db.wait_for(&format!("SELECT COUNT(*) FROM jobs WHERE {key} AND state = 'ready' AND attempts = {attempt}"), 1, Duration::from_secs(10)).await;
        let scheduled = app.db.query_i64(&format!("SELECT run_at_ms - updated_at_ms FROM jobs WHERE {key}")).await;
        assert_eq!(scheduled, [wait_ms], "attempt {attempt} waits {wait_ms} ms");
        assert_eq!(job_i64(&app, "last_status", &failing).await, 500);
        // Fast-forward the clock the queue reads: the retry is due now.
        app.db.execute(&format!("UPDATE jobs SET run_at_ms = run_at_ms - {wait_ms} WHERE {key}")).await;
    }
    app.db.wait_for(&format!("SELECT COUNT(*) FROM jobs WHERE {key} AND state = 'dead'"), 1, Duration::from_secs(10)).await;
    assert_eq!(job_i64(&app, "attempts", &failing).await, 4, "one attempt and three retries");
    assert!(job_text(&app, "last_error", &failing).await.starts_with("gave up after 4 attempts"), "{}", job_text(&app, "last_error", &failing).await);
    let metrics = app.get_text("/metrics").await;
    assert_eq!(metric(&metrics, r#"soko_job_retries_total{stage="hydrate"}"#), Some(3.0));
    assert_eq!(metric(&metrics, r#"soko_jobs_dead_total{stage="hydrate"}"#), Some(1.0));
    // The depth gauge is sampled from the table every 5 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while metric(&app.get_text("/metrics").await, r#"soko_jobs_queue_depth{stage="hydrate",state="dead"}"#) != Some(1.0) {
        assert!(std::time::Instant::now() < deadline, "queue depth gauge never showed the dead job");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The admin view, as JSON and HTML, behind the admin token.
    let bearer = format!("Bearer {ADMIN}");
    let auth = [("authorization", bearer.as_str()), ("accept", "application/json")];
    assert_eq!(app.get("/admin/jobs").await.status, 401);
    let overview = app.get_with("/admin/jobs", &auth).await;
    let hydrate = overview.body["stages"].as_array().into_iter().flatten().find(|s| s["stage"] == "hydrate").cloned().unwrap_or_default();
    assert_eq!(hydrate["dead"], 1, "{:?}", overview.body);
    let dead_id = overview.body["dead"][0]["id"].as_i64().unwrap_or_default();
    assert_eq!(overview.body["dead"][0]["last_status"], 500);
    let html = app.get_with("/admin/jobs", &[("authorization", bearer.as_str())]).await;
    let html = html.body.as_str().unwrap_or_default().to_owned();
    assert!(html.contains("gave up after 4 attempts") && html.contains(&format!("/admin/jobs/{dead_id}/retry")), "{html}");

    // Retrying one dead job puts it back as a fresh job; it is not dead, so a second retry conflicts.
    fixture.seen.always_500.lock().clear();
    let retried = app.post_with(&format!("/admin/jobs/{dead_id}/retry"), &auth, "").await;
    assert_eq!((retried.status, retried.body["retried"][0].as_i64()), (200, Some(dead_id)), "{:?}", retried.body);
    app.db.wait_for(&format!("SELECT COUNT(*) FROM jobs WHERE {key} AND state = 'done'"), 1, Duration::from_secs(10)).await;
    assert_eq!(job_i64(&app, "attempts", &failing).await, 1, "the retry starts a fresh count");
    assert_eq!(app.post_with(&format!("/admin/jobs/{dead_id}/retry"), &auth, "").await.status, 409);
    assert_eq!(app.post_with("/admin/jobs/999999/retry", &auth, "").await.status, 404);

    // Retry every dead job of a stage.
    insert_hydrate_job(&app.db, &product_id(2), "dead").await;
    insert_hydrate_job(&app.db, &product_id(3), "dead").await;
    assert_eq!(app.post_with("/admin/jobs/retry-dead?stage=nope", &auth, "").await.status, 400);
    let all = app.post_with("/admin/jobs/retry-dead?stage=hydrate", &auth, "").await;
    assert_eq!((all.body["retried"].as_i64(), all.body["by_stage"]["hydrate"].as_i64()), (Some(2), Some(2)), "{:?}", all.body);
    app.db.wait_for("SELECT COUNT(*) FROM jobs WHERE state = 'done' AND stage = 'hydrate'", 3, Duration::from_secs(10)).await;
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM products WHERE hydrate_status = 'ok'").await, [3]);
    app.finish().await;
    fixture.stop().await;
}

#[tokio::test]
async fn a_job_whose_worker_died_is_finished_by_another_after_its_lease() {
    let fixture = Fixture::start().await;
    // This app runs no workers: the only "worker" is the one that claims and dies below.
    let first = app_with(&fixture, &[("JOB_WORKERS", "false")]).await;
    let id = product_id(5);
    insert_hydrate_job(&first.db, &id, "ready").await;
    let db = connect(&first.db.url).await;
    let claimed_at = gateway::time::now_ms();
    let claimed = gateway::store::jobs::claim(&db, "hydrate", "dead-worker", claimed_at, 1_500, 10).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(gateway::store::jobs::claim(&db, "hydrate", "other", claimed_at, 1_500, 10).await.expect("claim").len(), 0, "leased");

    // The embedded SQLite runs one gateway per file, so the first one stops before the second starts.
    let second = start_on(first.stop().await, &[
        ("WHATSAPP_WEB_BASE_URL", fixture.base.as_str()),
        ("JOB_POLL_SECONDS", "0.05"),
    ])
    .await;
    second.db.wait_for(&format!("SELECT COUNT(*) FROM jobs WHERE dedupe_key = '{id}' AND state = 'done'"), 1, Duration::from_secs(10)).await;
    assert_eq!(job_i64(&second, "attempts", &id).await, 2, "the dead worker's attempt counts");
    let hydrated_at = second.db.query_i64(&format!("SELECT last_hydrated_at_ms FROM products WHERE product_id = '{id}'")).await;
    assert!(hydrated_at[0] >= claimed_at + 1_500, "not before the lease expired");
    // The dead worker, were it to wake up, can no longer finish the job.
    let mut tx = db.begin_write().await.expect("tx");
    assert!(!gateway::store::jobs::mark_done(&mut tx, claimed[0].id, "dead-worker", None, gateway::time::now_ms()).await.expect("update"));
    tx.commit().await.expect("commit");
    second.finish().await;
    fixture.stop().await;
}

async fn connect(url: &str) -> gateway::store::Database {
    if url.starts_with("postgres") {
        gateway::store::Database::Postgres(sqlx::PgPool::connect(url).await.expect("connect"))
    } else {
        gateway::store::Database::Sqlite(sqlx::SqlitePool::connect(url).await.expect("connect"))
    }
}

#[tokio::test]
async fn shutdown_releases_a_job_still_running_after_the_grace() {
    let fixture = Fixture::start().await;
    // The slow page answers after 4 s; the timeout is 10 s, so the attempt outlives the 2 s grace.
    let app = app_with(&fixture, &[("JOB_POLL_SECONDS", "0.05"), ("HYDRATE_TIMEOUT_SECONDS", "10")]).await;
    let id = product_id(29);
    insert_hydrate_job(&app.db, &id, "ready").await;
    app.db.wait_for(&format!("SELECT COUNT(*) FROM jobs WHERE dedupe_key = '{id}' AND state = 'running'"), 1, Duration::from_secs(10)).await;
    let db = app.stop().await;
    let released = db.query_i64(&format!("SELECT COUNT(*) FROM jobs WHERE dedupe_key = '{id}' AND state = 'ready' AND attempts = 0 AND leased_by IS NULL")).await;
    assert_eq!(released, [1], "the unfinished attempt is given back and does not count");
    db.drop_database().await;
    fixture.stop().await;
}

#[tokio::test]
async fn the_heartbeat_hydrates_again_and_unchanged_content_is_not_embedded_again() {
    let fixture = Fixture::start().await;
    // About 1 s: a product hydrated longer ago than that is hydrated again.
    let app = app_with(&fixture, &[("JOB_POLL_SECONDS", "0.05"), ("HEARTBEAT_HOURS", "0.0003")]).await;
    let id = product_id(7);
    insert_hydrate_job(&app.db, &id, "ready").await;
    let successes = format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE product_id = '{id}' AND event_type = 'hydrate_success'");
    app.db.wait_for(&successes, 1, Duration::from_secs(10)).await;
    assert_eq!(app.db.query_i64(&format!("SELECT COUNT(*) FROM jobs WHERE stage = 'embed' AND dedupe_key = '{id}'")).await, [1], "first hydration embeds");
    // As if the embed stage had run on this content.
    app.db.execute(&format!("UPDATE products SET last_embedding_hash = semantic_hash WHERE product_id = '{id}'")).await;
    app.db.execute(&format!("UPDATE jobs SET state = 'done' WHERE stage = 'embed' AND dedupe_key = '{id}'")).await;
    app.db.wait_for(&successes, 2, Duration::from_secs(10)).await;
    assert_eq!(
        app.db.query_i64(&format!("SELECT COUNT(*) FROM jobs WHERE stage = 'embed' AND dedupe_key = '{id}' AND state = 'done'")).await,
        [1],
        "same semantic hash: the embed job is not armed again"
    );
    let last = app.db.query_texts(&format!(
        "SELECT details FROM catalog_sync_logs WHERE product_id = '{id}' AND event_type = 'hydrate_success' ORDER BY id DESC LIMIT 1"
    )).await;
    let last: Value = serde_json::from_str(last[0].as_deref().unwrap_or("{}")).unwrap_or_default();
    assert_eq!((last["changed"].as_bool(), last["next"].is_null()), (Some(false), true), "{last}");
    app.finish().await;
    fixture.stop().await;
}

/// A stage whose attempts outlast the lease, counting them.
struct SlowStage {
    runs: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl gateway::jobs::Stage for SlowStage {
    fn name(&self) -> &'static str {
        "hydrate"
    }

    fn concurrency(&self) -> usize {
        2
    }

    async fn run(&self, _job: &gateway::jobs::ClaimedJob) -> gateway::jobs::StageOutcome {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        gateway::jobs::StageOutcome::done_empty()
    }
}

#[tokio::test]
async fn an_attempt_longer_than_its_lease_renews_it_and_runs_once() {
    // Migrated by an app that runs no workers, then stopped: the runtime below is the only one.
    let db = crate::helpers::spawn_app_with(&[("JOB_WORKERS", "false")]).await.stop().await;
    let id = product_id(41);
    insert_hydrate_job(&db, &id, "ready").await;
    let pool = connect(&db.url).await;
    let stage = std::sync::Arc::new(SlowStage { runs: Default::default() });
    let metrics = std::sync::Arc::new(gateway::metrics::Metrics::new().expect("metrics"));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();
    // A 300 ms lease against a 1.5 s attempt: without renewal the same dispatcher (two slots)
    // would claim the job again at 300 ms and run it a second time beside the first.
    let settings = gateway::jobs::RuntimeSettings { lease: Duration::from_millis(300), poll: Duration::from_millis(20) };
    gateway::jobs::JobRuntime::spawn(pool, metrics, vec![stage.clone()], settings, shutdown.clone(), &tasks);
    db.wait_for(&format!("SELECT COUNT(*) FROM jobs WHERE dedupe_key = '{id}' AND state = 'done'"), 1, Duration::from_secs(10)).await;
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    assert_eq!(stage.runs.load(std::sync::atomic::Ordering::SeqCst), 1, "one attempt, never a second beside it");
    assert_eq!(db.query_i64(&format!("SELECT CAST(attempts AS BIGINT) FROM jobs WHERE dedupe_key = '{id}'")).await, [1]);
    db.drop_database().await;
}
