//! Hydrate throughput against a local static server, at a given concurrency (default 20), in
//! products/s. Not a criterion bench: a run is one pass over a few thousand pages, driven by
//! `scripts/bench/hydrate.sh`, which serves the pages and runs the Node peer on the same ones.
//!
//! Two modes, both printed as one JSON line each:
//! - `stage`: the hydrate stage alone (fetch with caps and User-Agent, charset, OG parse), as the
//!   Node peer does, with no database;
//! - `queue`: the whole thing through the durable queue on a fresh SQLite file (or
//!   `HYDRATE_BENCH_DATABASE_URL`): N hydrate jobs claimed, run, and committed with the product
//!   rows, events and the next embed jobs.
//!
//! Env: HYDRATE_BENCH_BASE (http://127.0.0.1:8777), HYDRATE_BENCH_IDS (ids.txt: `<id>/<phone>`
//! per line), HYDRATE_BENCH_CONCURRENCY (20), HYDRATE_BENCH_MODES ("stage queue").

use std::{sync::Arc, time::{Duration, Instant}};

use gateway::{
    config::Config,
    jobs::{ClaimedJob, JobRuntime, RuntimeSettings, Stage, StageOutcome},
    metrics::Metrics,
    pipeline::{fence::{Fence, FenceSettings}, fetch::{FetchSettings, Fetcher}, hydrate::{UserAgentPool, stage::HydrateStage}},
    domain::job::stage,
    store::{Database, Store, jobs::{self, NewJob}},
};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

fn env(key: &str, default: &str) -> String {
    std::env::var(key).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// Fenced like the gateway's own: the product pages' base URL is trusted.
fn fetcher(concurrency: usize, base: &url::Url) -> Arc<Fetcher> {
    let settings = FetchSettings { timeout: Duration::from_secs(10), max_bytes: 2 * 1_048_576, per_host: concurrency };
    let fence = Arc::new(Fence::new(&FenceSettings::default(), [base], None));
    Arc::new(Fetcher::new(settings, UserAgentPool::default(), fence).expect("http client"))
}

fn targets(path: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    text.lines()
        .filter_map(|l| l.trim().split_once('/'))
        .map(|(id, phone)| (id.to_owned(), format!("+{}", phone.trim_end_matches('/'))))
        .collect()
}

async fn stage_only(base: &url::Url, targets: &[(String, String)], concurrency: usize) -> serde_json::Value {
    let db = Database::Sqlite(sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("pool"));
    let hydrate = Arc::new(HydrateStage { db, fetcher: fetcher(concurrency, base), base_url: base.clone(), concurrency });
    let slots = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(targets.len());
    for (i, (id, phone)) in targets.iter().enumerate() {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let (hydrate, job) = (hydrate.clone(), ClaimedJob {
            id: i as i64,
            stage: stage::HYDRATE,
            dedupe_key: id.clone(),
            payload: json!({"product_id": id, "phone": phone}),
            attempt: 1,
        });
        tasks.push(tokio::spawn(async move {
            let ok = matches!(hydrate.run(&job).await, StageOutcome::Done(_));
            drop(permit);
            ok
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += usize::from(task.await.unwrap_or(false));
    }
    let seconds = started.elapsed().as_secs_f64();
    json!({"mode": "stage", "pages": targets.len(), "ok": ok, "seconds": seconds, "products_per_s": targets.len() as f64 / seconds})
}

async fn through_queue(base: &url::Url, targets: &[(String, String)], concurrency: usize) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = env("HYDRATE_BENCH_DATABASE_URL", &format!("sqlite://{}", dir.path().join("bench.db").display()));
    let config = Config::from_lookup(|key| match key {
        "WHATSAPP_INGEST_TOKEN" => Some("bench".into()),
        "DATABASE_URL" => Some(url.clone()),
        _ => None,
    })
    .expect("config");
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let store = Store::open(&config.store, metrics.clone()).await.expect("store");
    let mut tx = store.db.begin_write().await.expect("tx");
    for (id, phone) in targets {
        let payload = json!({"product_id": id, "phone": phone});
        jobs::enqueue(&mut tx, NewJob { stage: stage::HYDRATE, dedupe_key: id, payload: &payload, run_at_ms: 0 }).await.expect("enqueue");
    }
    let hydrate: Arc<dyn Stage> = Arc::new(HydrateStage { db: store.db.clone(), fetcher: fetcher(concurrency, base), base_url: base.clone(), concurrency });
    let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
    let started = Instant::now();
    tx.commit().await.expect("commit");
    let settings = RuntimeSettings { lease: Duration::from_secs(60), poll: Duration::from_millis(200) };
    JobRuntime::spawn(store.db.clone(), metrics, vec![hydrate], settings, shutdown.clone(), &tasks);
    let done_sql = "SELECT COUNT(*) FROM jobs WHERE stage = 'hydrate' AND state IN ('done', 'dead')";
    let total = targets.len() as i64;
    loop {
        let done: i64 = match &store.db {
            Database::Sqlite(pool) => sqlx::query_scalar(done_sql).fetch_one(pool).await.expect("count"),
            Database::Postgres(pool) => sqlx::query_scalar(done_sql).fetch_one(pool).await.expect("count"),
        };
        if done >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    let ok_sql = "SELECT COUNT(*) FROM products WHERE hydrate_status = 'ok'";
    let ok: i64 = match &store.db {
        Database::Sqlite(pool) => sqlx::query_scalar(ok_sql).fetch_one(pool).await.expect("count"),
        Database::Postgres(pool) => sqlx::query_scalar(ok_sql).fetch_one(pool).await.expect("count"),
    };
    store.close().await;
    json!({"mode": "queue", "backend": if url.starts_with("postgres") { "postgres" } else { "sqlite" },
           "pages": targets.len(), "ok": ok, "seconds": seconds, "products_per_s": targets.len() as f64 / seconds})
}

#[tokio::main]
async fn main() {
    let base = url::Url::parse(&env("HYDRATE_BENCH_BASE", "http://127.0.0.1:8777")).expect("HYDRATE_BENCH_BASE");
    let ids = env("HYDRATE_BENCH_IDS", "/tmp/hyd-pages/ids.txt");
    let concurrency: usize = env("HYDRATE_BENCH_CONCURRENCY", "20").parse().expect("HYDRATE_BENCH_CONCURRENCY");
    let targets = targets(&ids);
    for mode in env("HYDRATE_BENCH_MODES", "stage queue").split_whitespace() {
        let report = match mode {
            "stage" => stage_only(&base, &targets, concurrency).await,
            "queue" => through_queue(&base, &targets, concurrency).await,
            other => panic!("unknown mode {other}"),
        };
        println!("{report}");
    }
}
