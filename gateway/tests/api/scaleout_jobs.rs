//! Scale-out of the job queue (issue #6): two real `gateway --role worker` processes (with a
//! private Redis, as deployed) on one fresh PostgreSQL database share the product chain's jobs
//! (`FOR UPDATE SKIP LOCKED` leases). Pages come from `page_fixture.rs`, which counts every fetch
//! per product. EMBED_MODEL_DIR is unset and QC runs on rules, so a product goes hydrate → embed
//! (no vector) → QC (its image is 404, so it is rejected), and each job's end is `done`.
//! PostgreSQL only: the tests skip, saying so, on SQLite.

use std::time::{Duration, Instant};

use crate::{
    helpers::TestDatabase,
    page_fixture::PageServer,
    scaleout_support::{GatewayProcess, GatewaySettings, PrivateRedis, skip_unless_postgres, unique_prefix},
};

const SELLER: &str = "+254712345001";
const JOBS: u64 = 1_000;

fn product(n: u64) -> String {
    format!("{}", 4_200_000_000_000_000 + n)
}

/// A `gateway --role worker` on the test's database and its private Redis, as deployed.
async fn start_worker(database_url: &str, redis: &PrivateRedis, prefix: &str, extra: &[(&str, &str)]) -> GatewayProcess {
    let redis_url = redis.url();
    let settings = GatewaySettings {
        database_url,
        redis_url: Some(&redis_url),
        prefix,
        role: "worker",
        rate_per_minute: 60,
        burst: 10,
        redis_timeout_ms: 1_000,
    };
    GatewayProcess::start_with(&settings, extra).await
}

/// Enqueues hydrate jobs for `ids` in ONE statement (so one transaction), as extraction would.
async fn enqueue_hydrate(db: &TestDatabase, ids: &[String]) {
    let rows: Vec<String> = ids
        .iter()
        .map(|id| format!("('hydrate', '{id}', '{{\"product_id\":\"{id}\",\"phone\":\"{SELLER}\"}}', 'ready', 0, 0, 0, 0)"))
        .collect();
    let sql = format!(
        "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms) VALUES {}",
        rows.join(", ")
    );
    assert_eq!(db.execute(&sql).await, ids.len() as u64);
}

/// One text column of every row (PostgreSQL: these tests run only there).
async fn texts(db: &TestDatabase, sql: &str) -> Vec<Option<String>> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_scalar(sql).fetch_all(&mut connection).await.expect("query")
}

/// The process id a lease token starts with (`<pid>-<process uuid>-<claim uuid>`).
fn pid_of(token: &str) -> Option<u32> {
    token.split('-').next().and_then(|pid| pid.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_jobs_on_two_worker_processes_each_run_exactly_once_to_success() {
    if skip_unless_postgres("1,000 jobs on two workers") {
        return;
    }
    let db = TestDatabase::create().await;
    let pages = PageServer::start().await;
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix("jobs");
    let env = [
        ("WHATSAPP_WEB_BASE_URL", pages.base.as_str()),
        ("JOB_POLL_SECONDS", "0.05"),
        ("HYDRATOR_CONCURRENCY", "16"),
        ("HYDRATE_PER_HOST_CONCURRENCY", "16"),
        ("JOB_CONCURRENCY", "8"),
        ("QC_PROVIDER", "rules"),
    ];
    let workers = [start_worker(&db.url, &redis, &prefix, &env).await, start_worker(&db.url, &redis, &prefix, &env).await];
    let ids: Vec<String> = (1..=JOBS).map(product).collect();
    let started = Instant::now();
    enqueue_hydrate(&db, &ids).await;

    // The chain is over when every job of every stage has ended and QC has decided every product.
    let decided = "SELECT COUNT(*) FROM jobs WHERE stage = 'qc' AND state IN ('done', 'dead')";
    db.wait_for(decided, JOBS as i64, Duration::from_secs(50)).await;
    let open = "SELECT COUNT(*) FROM jobs WHERE state NOT IN ('done', 'dead')";
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.query_i64(open).await[0] > 0 {
        assert!(Instant::now() < deadline, "jobs still open after QC decided every product");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();

    let by_stage = |stage: &str, condition: &str| format!("SELECT COUNT(*) FROM jobs WHERE stage = '{stage}' AND {condition}");
    for stage in ["hydrate", "embed", "qc"] {
        assert_eq!(db.query_i64(&by_stage(stage, "state = 'done' AND attempts = 1")).await, [JOBS as i64], "{stage}: every job done on its first attempt");
        assert_eq!(db.query_i64(&by_stage(stage, "TRUE")).await, [JOBS as i64], "{stage}: one job per product");
    }
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM jobs").await, [3 * JOBS as i64], "nothing else was enqueued");
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM products WHERE hydrate_status = 'ok'").await, [JOBS as i64]);

    // Each product's page fetched exactly once (so each hydrate ran once), never two at a time, and
    // QC fetched each image once (so each QC job ran once).
    let fetched = pages.log.pages();
    assert_eq!(fetched.len(), JOBS as usize, "every product page was fetched");
    for id in &ids {
        let page = pages.log.page(id);
        assert_eq!((page.count, page.max_in_flight), (1, 1), "product {id}: page fetches, most at once");
        assert_eq!(pages.log.image(id).count, 1, "product {id}: QC image fetches");
    }

    // Both processes did part of the work: every finishing write keeps the lease token, which
    // starts with the process id.
    let tokens = texts(&db, "SELECT leased_by FROM jobs WHERE stage = 'hydrate'").await;
    let mut per_worker = [0usize; 2];
    for token in &tokens {
        let pid = token.as_deref().and_then(pid_of).expect("a finished job keeps its lease token");
        let index = workers.iter().position(|w| w.pid() == pid).expect("the token names one of the two workers");
        per_worker[index] += 1;
    }
    assert!(per_worker.iter().all(|n| *n > 0), "both workers hydrated some products: {per_worker:?}");
    eprintln!("1,000 hydrate jobs + their embed and QC jobs in {elapsed:?}; hydrate jobs per worker {per_worker:?}");

    drop(workers);
    pages.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_leaves_it_to_the_other_after_the_lease_and_never_twice_at_once() {
    if skip_unless_postgres("worker killed mid-job") {
        return;
    }
    let db = TestDatabase::create().await;
    let pages = PageServer::start().await;
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix("killed");
    // The hydrate timeout (2 s) is shorter than the lease (3 s): a live worker always finishes or
    // gives up on an attempt before its lease can expire, so only a dead worker's job is re-leased.
    let env = [
        ("WHATSAPP_WEB_BASE_URL", pages.base.as_str()),
        ("JOB_POLL_SECONDS", "0.05"),
        ("JOB_LEASE_SECONDS", "3"),
        ("HYDRATE_TIMEOUT_SECONDS", "2"),
        ("QC_PROVIDER", "rules"),
    ];
    let mut workers = [start_worker(&db.url, &redis, &prefix, &env).await, start_worker(&db.url, &redis, &prefix, &env).await];
    let id = product(1);
    pages.log.hold_first_fetch(&id);
    enqueue_hydrate(&db, std::slice::from_ref(&id)).await;

    // The first fetch is hanging in the fixture: find the worker that holds the job and kill it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pages.log.page(&id).count == 0 {
        assert!(Instant::now() < deadline, "no worker fetched the held page");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let job = format!("FROM jobs WHERE stage = 'hydrate' AND dedupe_key = '{id}'");
    let token = texts(&db, &format!("SELECT leased_by {job}")).await;
    let first_token = token.first().cloned().flatten().expect("the running job has a lease token");
    let lease_expires = db.query_i64(&format!("SELECT lease_expires_at_ms {job}")).await[0];
    let holder = workers.iter().position(|w| Some(w.pid()) == pid_of(&first_token)).expect("one of the two holds it");
    workers[holder].kill();
    let killed_at = gateway::time::now_ms();
    assert!(killed_at < lease_expires, "killed while the lease was still held ({killed_at} ≥ {lease_expires})");
    assert_eq!(pages.log.page(&id).count, 1, "nobody else fetched it while the holder lived");
    // The dead worker's request ends; the fixture stops counting it in flight.
    pages.log.release_held();

    db.wait_for(&format!("SELECT COUNT(*) {job} AND state = 'done'"), 1, Duration::from_secs(15)).await;
    let page = pages.log.page(&id);
    assert_eq!(page.count, 2, "fetched by the killed worker, then once by the survivor");
    assert_eq!(page.max_in_flight, 1, "never two fetches of the product at once");
    assert!(page.started_ms[1] >= lease_expires, "the survivor started only after the lease expired ({:?} vs {lease_expires})", page.started_ms);
    assert_eq!(db.query_i64(&format!("SELECT CAST(attempts AS BIGINT) {job}")).await, [2], "the killed attempt counts");
    let last = texts(&db, &format!("SELECT leased_by {job}")).await;
    let survivor = workers[1 - holder].pid();
    assert_eq!(last.first().cloned().flatten().as_deref().and_then(pid_of), Some(survivor), "the survivor finished it");

    drop(workers);
    pages.stop().await;
    db.drop_database().await;
}
