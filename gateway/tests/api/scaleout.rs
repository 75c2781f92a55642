//! Scale-out (issue #6): two real gateway processes on loopback sharing one
//! fresh PostgreSQL database and one Redis (a private `redis-server`, one key
//! prefix per test). PostgreSQL only: the tests skip, saying so, on SQLite.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use collector_client::message::{IngestBatch, IngestMessage};
use parking_lot::Mutex;

use crate::{
    helpers::{TestDatabase, batch, message},
    scaleout_support::{
        CuttableProxy, GatewayProcess, GatewaySettings, PrivateRedis, host_port, post_batch, skip_unless_postgres,
        unique_prefix,
    },
};

const GENEROUS_RATE: u32 = 6_000_000;
const GENEROUS_BURST: u32 = 100_000;

async fn two_gateways(database_url: &str, redis: &PrivateRedis, prefix: &str, rate: u32, burst: u32) -> [GatewayProcess; 2] {
    two_gateways_with(database_url, redis, prefix, rate, burst, 1_000).await
}

async fn two_gateways_with(
    database_url: &str,
    redis: &PrivateRedis,
    prefix: &str,
    rate: u32,
    burst: u32,
    redis_timeout_ms: u32,
) -> [GatewayProcess; 2] {
    let redis_url = redis.url();
    let settings = GatewaySettings {
        database_url,
        redis_url: Some(&redis_url),
        prefix,
        role: "all",
        rate_per_minute: rate,
        burst,
        redis_timeout_ms,
    };
    [GatewayProcess::start(&settings).await, GatewayProcess::start(&settings).await]
}

/// Waits until both gateways report Redis in use (their probe has answered).
async fn wait_redis_in_use(gateways: &[GatewayProcess]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for gateway in gateways {
        while gateway.metric("soko_redis_fallback ").await != 0.0 {
            assert!(Instant::now() < deadline, "{} did not start using Redis", gateway.base);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_gets_no_more_than_limit_plus_burst_across_two_gateways() {
    if skip_unless_postgres("shared rate limit") {
        return;
    }
    let db = TestDatabase::create().await;
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix("limit");
    // 60 per minute: one request a second past the burst of 20.
    let (rate_per_minute, burst) = (60u32, 20u32);
    let gateways = two_gateways(&db.url, &redis, &prefix, rate_per_minute, burst).await;
    wait_redis_in_use(&gateways).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut requests = Vec::new();
    for i in 0..200 {
        let (client, base) = (client.clone(), gateways[i % 2].base.clone());
        requests.push(tokio::spawn(async move {
            let batch = batch("greedy", vec![message("Limit Chat", &format!("Item {i} - 100"))]);
            post_batch(&client, &base, &batch).await.expect("answered")
        }));
    }
    let answers: Vec<_> = futures_util::future::join_all(requests).await.into_iter().map(|a| a.expect("join")).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let allowed = answers.iter().filter(|a| a.status == 200).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(allowed + refused.len(), 200, "only 200 and 429 expected");
    let ceiling = burst as usize + (elapsed * f64::from(rate_per_minute) / 60.0).ceil() as usize;
    assert!(allowed <= ceiling, "{allowed} allowed in {elapsed:.2} s; limit + burst allows {ceiling}");
    assert!(allowed >= burst as usize, "the burst itself must be allowed ({allowed})");
    // Each gateway alone would have allowed a full burst: the limit is shared.
    assert!(allowed < 2 * burst as usize, "{allowed} allowed: the two gateways did not share the limit");
    let refusal = refused.first().expect("some requests were refused");
    assert_eq!(refusal.error_code(), "rate_limited");
    assert_eq!(refusal.header("x-ratelimit-limit"), Some("20"));
    assert_eq!(refusal.header("x-ratelimit-remaining"), Some("0"));
    assert!(refusal.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1));
    assert!(redis.count_keys(&prefix).await >= 1, "the limiter keeps its state under the test's prefix");
    for gateway in &gateways {
        assert_eq!(gateway.metric("soko_redis_fallback_total{use=\"rate_limit\"}").await, 0.0, "no check fell back");
    }
    drop(gateways);
    db.drop_database().await;
}

fn duplicate_batch() -> IngestBatch {
    let messages = (0..200)
        .map(|i| match i % 2 {
            0 => IngestMessage {
                message_id: Some(format!("dup-{i}")),
                ..message(&format!("Dup Chat {}", i % 5), &format!("With id {i} - 2,000"))
            },
            _ => message(&format!("Dup Chat {}", i % 5), &format!("Without id {i} - 3,000")),
        })
        .collect();
    batch("dup", messages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_batch_posted_to_both_gateways_at_once_is_stored_once() {
    if skip_unless_postgres("concurrent duplicates") {
        return;
    }
    let db = TestDatabase::create().await;
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix("dupes");
    let gateways = two_gateways(&db.url, &redis, &prefix, GENEROUS_RATE, GENEROUS_BURST).await;
    wait_redis_in_use(&gateways).await;
    let client = reqwest::Client::new();
    let the_batch = duplicate_batch();
    let posts = (0..8).map(|i| {
        let (client, base, the_batch) = (client.clone(), gateways[i % 2].base.clone(), the_batch.clone());
        tokio::spawn(async move { post_batch(&client, &base, &the_batch).await.expect("answered") })
    });
    let answers: Vec<_> = futures_util::future::join_all(posts).await.into_iter().map(|a| a.expect("join")).collect();
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let created: i64 = answers.iter().map(|a| a.body["created"].as_i64().unwrap_or(-1)).sum();
    assert_eq!(created, 200, "each message created by exactly one of the eight posts");
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM messages").await, [200]);
    // Every answer names the same stored message for each position.
    let ids = |a: &crate::helpers::Answer| -> Vec<i64> {
        a.body["messages"].as_array().into_iter().flatten().map(|m| m["id"].as_i64().unwrap_or(-1)).collect()
    };
    let first = ids(&answers[0]);
    assert!(answers.iter().all(|a| ids(a) == first), "answers disagree on stored ids");
    // Markers are written after the commit; a later repeat takes the fast path
    // and still answers with the stored ids, creating nothing.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.count_keys(&format!("{prefix}:dk")).await + redis.count_keys(&format!("{prefix}:dc")).await < 200 {
        assert!(Instant::now() < deadline, "dedupe markers were not written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for gateway in &gateways {
        let hits_before = gateway.metric("soko_dedupe_fast_path_hits_total ").await;
        let repeat = post_batch(&client, &gateway.base, &the_batch).await.expect("answered");
        assert_eq!((repeat.status, repeat.body["created"].as_i64()), (200, Some(0)));
        assert_eq!(ids(&repeat), first);
        let hits = gateway.metric("soko_dedupe_fast_path_hits_total ").await - hits_before;
        assert_eq!(hits, 200.0, "every message of the repeat was proven a duplicate by its marker");
    }
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM messages").await, [200]);
    // Concurrent commits' counts reach the counters row by the ingest-delta fold (within about
    // 100 ms, store/summary_fold.rs): wait for it, then check it is exact.
    let deduped = "SELECT value FROM counters WHERE name = 'deduped'";
    db.wait_for(deduped, 7 * 200 + 2 * 200, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(db.query_i64(deduped).await, [7 * 200 + 2 * 200]);
    drop(gateways);
    db.drop_database().await;
}

/// A collector-like load on both gateways: every batch is retried until it is
/// answered 200, and every tenth batch is a repeat of an earlier one. Returns
/// upstream message id → the stored id every 200 answer gave for it.
struct Load {
    stop: Arc<AtomicBool>,
    unavailable: Arc<AtomicUsize>,
    acknowledged: Arc<Mutex<HashMap<String, HashSet<i64>>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(bases: [String; 2], workers: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let unavailable = Arc::new(AtomicUsize::new(0));
        let acknowledged = Arc::new(Mutex::new(HashMap::new()));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        let tasks = (0..workers)
            .map(|worker| {
                let (client, bases, stop) = (client.clone(), bases.clone(), stop.clone());
                let (unavailable, acknowledged) = (unavailable.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    for round in 0usize.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let sent_round = if round % 10 == 9 { round - 5 } else { round };
                        let messages: Vec<IngestMessage> = (0..10)
                            .map(|i| IngestMessage {
                                message_id: Some(format!("load-{worker}-{sent_round}-{i}")),
                                ..message(&format!("Load Chat {}", worker % 3), &format!("Item {worker}/{sent_round}/{i} - 900"))
                            })
                            .collect();
                        let the_batch = batch("load", messages.clone());
                        // Retry until stored, alternating gateways, as a collector does.
                        for attempt in 0usize.. {
                            let base = &bases[(worker + round + attempt) % 2];
                            match post_batch(&client, base, &the_batch).await {
                                Some(reply) if reply.status == 200 => {
                                    let mut acked = acknowledged.lock();
                                    let outcomes = reply.body["messages"].as_array().cloned().unwrap_or_default();
                                    for (sent, outcome) in messages.iter().zip(outcomes) {
                                        if let (Some(id), Some(stored)) = (&sent.message_id, outcome["id"].as_i64()) {
                                            acked.entry(id.clone()).or_insert_with(HashSet::new).insert(stored);
                                        }
                                    }
                                    break;
                                }
                                Some(reply) => {
                                    assert_eq!(reply.status, 503, "unexpected answer {:?}", reply.body);
                                    assert_eq!(reply.error_code(), "storage_unavailable");
                                    assert!(reply.header("retry-after").is_some(), "503 carries Retry-After");
                                    unavailable.fetch_add(1, Ordering::Relaxed);
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                }
                                None => tokio::time::sleep(Duration::from_millis(100)).await,
                            }
                        }
                    }
                })
            })
            .collect();
        Self { stop, unavailable, acknowledged, tasks }
    }

    fn acknowledged_count(&self) -> usize {
        self.acknowledged.lock().len()
    }

    async fn finish(self) -> (HashMap<String, HashSet<i64>>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("load task");
        }
        let acknowledged = std::mem::take(&mut *self.acknowledged.lock());
        (acknowledged, self.unavailable.load(Ordering::Relaxed))
    }
}

async fn wait_acknowledged(load: &Load, at_least: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while load.acknowledged_count() < at_least {
        assert!(Instant::now() < deadline, "load stalled at {} acknowledged", load.acknowledged_count());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every acknowledged message is stored, under the one id every answer gave
/// it, and no upstream message is stored twice.
async fn assert_exactly_once(db: &TestDatabase, acknowledged: &HashMap<String, HashSet<i64>>) {
    let stored: HashSet<i64> = db.query_i64("SELECT id FROM messages").await.into_iter().collect();
    let twice: Vec<_> = acknowledged.iter().filter(|(_, ids)| ids.len() != 1).take(3).collect();
    assert!(twice.is_empty(), "messages answered with different stored ids: {twice:?}");
    let lost: Vec<_> = acknowledged.iter().filter(|(_, ids)| ids.iter().any(|id| !stored.contains(id))).take(3).collect();
    assert!(lost.is_empty(), "acknowledged messages missing from the database: {lost:?}");
    let distinct = db.query_i64("SELECT COUNT(DISTINCT message_id) FROM messages").await;
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM messages").await, distinct, "an upstream message was stored twice");
    assert_eq!(distinct, [acknowledged.len() as i64], "stored messages that were never acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load_loses_nothing_and_duplicates_nothing() {
    if skip_unless_postgres("Redis restart") {
        return;
    }
    let db = TestDatabase::create().await;
    let mut redis = PrivateRedis::start().await;
    let prefix = unique_prefix("redis-restart");
    let gateways = two_gateways_with(&db.url, &redis, &prefix, GENEROUS_RATE, GENEROUS_BURST, 500).await;
    wait_redis_in_use(&gateways).await;
    let load = Load::start([gateways[0].base.clone(), gateways[1].base.clone()], 8);
    wait_acknowledged(&load, 1_000).await;
    redis.kill();
    let during_outage = load.acknowledged_count();
    wait_acknowledged(&load, during_outage + 1_000).await;
    for gateway in &gateways {
        assert_eq!(gateway.metric("soko_redis_fallback ").await, 1.0, "{} must report fallback", gateway.base);
        let ready = gateway.get("/readyz").await;
        assert_eq!((ready.status, ready.body["redis"].as_str()), (200, Some("fallback")), "Redis never makes a gateway unready");
        assert!(gateway.metric("soko_redis_fallback_total{use=\"rate_limit\"}").await > 0.0);
    }
    redis.restart().await;
    // Both gateways come back to Redis by themselves, with the load running.
    wait_redis_in_use(&gateways).await;
    assert_eq!(gateways[0].get("/readyz").await.body["redis"], "in_use");
    let series = "soko_redis_fallback_total{use=\"rate_limit\"}";
    let fallbacks_after_restart = [gateways[0].metric(series).await, gateways[1].metric(series).await];
    let after_restart = load.acknowledged_count();
    wait_acknowledged(&load, after_restart + 1_000).await;
    // The restarted Redis has no scripts: EVALSHA's NOSCRIPT reloads it, and
    // no check falls back once the gateways are back on Redis.
    for (gateway, before) in gateways.iter().zip(fallbacks_after_restart) {
        assert_eq!(gateway.metric(series).await, before, "{} fell back after Redis returned", gateway.base);
    }
    let (acknowledged, unavailable) = load.finish().await;
    assert_eq!(unavailable, 0, "a Redis outage never makes ingest unavailable");
    assert_exactly_once(&db, &acknowledged).await;
    assert!(redis.count_keys(&prefix).await > 0, "markers and limits are written again after the restart");
    drop(gateways);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_and_restored_under_load_answers_503_then_recovers_exactly_once() {
    if skip_unless_postgres("PostgreSQL outage") {
        return;
    }
    let db = TestDatabase::create().await;
    let proxy = CuttableProxy::start(host_port(&db.url)).await;
    let proxied_url = db.url.replacen(&host_port(&db.url), &format!("127.0.0.1:{}", proxy.port), 1);
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix("pg-outage");
    let gateways = two_gateways(&proxied_url, &redis, &prefix, GENEROUS_RATE, GENEROUS_BURST).await;
    wait_redis_in_use(&gateways).await;
    let load = Load::start([gateways[0].base.clone(), gateways[1].base.clone()], 8);
    wait_acknowledged(&load, 1_000).await;

    proxy.cut();
    let cut_at = Instant::now();
    // Readiness turns false on both while the database is unreachable.
    for gateway in &gateways {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = gateway.get("/readyz").await;
            if ready.status == 503 {
                assert_eq!(ready.body["status"], "not_ready");
                // Which check failed, in fixed words: never the driver's error text.
                assert_eq!((ready.body["failed_check"].as_str(), ready.body["reason"].as_str()), (Some("database"), Some("the database does not answer")), "{}", ready.body);
                break;
            }
            assert!(Instant::now() < deadline, "{} stayed ready with the database cut", gateway.base);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let acknowledged_while_cut = load.acknowledged_count();
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(cut_at.elapsed())).await;
    let still = load.acknowledged_count();
    // At most the groups already committing when the cut came are answered.
    assert!(still <= acknowledged_while_cut + 8 * 10, "{still} acknowledged with the database cut");

    proxy.restore();
    for gateway in &gateways {
        gateway.wait_ready(Duration::from_secs(30)).await;
    }
    let after_restore = load.acknowledged_count();
    wait_acknowledged(&load, after_restore + 1_000).await;
    let (acknowledged, unavailable) = load.finish().await;
    assert!(unavailable > 0, "ingest answered 503 while the database was cut");
    assert_exactly_once(&db, &acknowledged).await;
    drop(gateways);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_worker_roles_split_http_from_background_work() {
    if skip_unless_postgres("roles") {
        return;
    }
    let db = TestDatabase::create().await;
    let redis = PrivateRedis::start().await;
    let redis_url = redis.url();
    let prefix = unique_prefix("roles");
    let settings = |role| GatewaySettings {
        database_url: &db.url,
        redis_url: Some(&redis_url),
        prefix: &prefix,
        role,
        rate_per_minute: GENEROUS_RATE,
        burst: GENEROUS_BURST,
        redis_timeout_ms: 1_000,
    };
    let api = GatewayProcess::start(&settings("api")).await;
    let client = reqwest::Client::new();
    let offer = batch("roles", vec![message("Role Chat", "Fridge 300L - 45,000")]);
    assert_eq!(post_batch(&client, &api.base, &offer).await.expect("answered").status, 200);
    // An api process runs no extraction: the chat stays due.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM offers").await, [0]);

    let worker = GatewayProcess::start(&settings("worker")).await;
    assert_eq!(worker.get("/healthz").await.status, 200);
    assert!(worker.get("/metrics").await.status == 200);
    assert_eq!(post_batch(&client, &worker.base, &offer).await.expect("answered").status, 404, "workers take no ingest");
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.query_i64("SELECT COUNT(*) FROM offers").await != [1] {
        assert!(Instant::now() < deadline, "the worker did not extract the due chat");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((api, worker));
    db.drop_database().await;
}
