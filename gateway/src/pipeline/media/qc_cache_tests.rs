//! The QC answer cache with Redis (issue #6): against a private `redis-server` on a free port (the
//! test kills it, so never the shared one) and a local OpenAI-compatible fake, the same content
//! costs one LLM call while Redis answers (the answer lives under `prefix:qc:<hash>` for 24 h, not in
//! the table), and with Redis gone the database table still caches.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use image::ImageFormat;
use secrecy::SecretString;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::test_support::{FixtureServer, Route, TestStore, apply, job, sharp_image};
use super::settings::LlmEndpoint;
use crate::redis_link::RedisSettings;
use crate::jobs::Stage;
use crate::pipeline::qc::provider::{LlmProvider, QcEngine, RulesProvider};
use crate::pipeline::qc::rules::{BannedWords, QcThresholds};
use crate::pipeline::qc::{QcProviderKind, stage::QcStage};
use crate::redis_link::RedisLink;
use crate::domain::job::stage;

const ID: &str = "7234567890123456";
const DAY_MS: i64 = 86_400_000;

struct PrivateRedis(Child);

impl PrivateRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/setup-test-env.sh installs it)");
        Self(child)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn redis_keys(url: &str, pattern: &str) -> Vec<(String, i64)> {
    let client = redis::Client::open(url).expect("redis url");
    let mut connection = client.get_multiplexed_async_connection().await.expect("redis connection");
    let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(&mut connection).await.expect("KEYS");
    let mut with_ttl = Vec::new();
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut connection).await.expect("PTTL");
        with_ttl.push((key, ttl));
    }
    with_ttl
}

#[tokio::test]
async fn llm_answers_are_cached_in_redis_and_in_the_database_while_redis_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port");
    let redis_server = PrivateRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}/0");
    let answer = json!({"choices": [{"message": {"content": r#"{"decision":"approved","confidence":0.9,"reason":"clear photo"}"#}, "finish_reason": "stop"}]});
    let server = FixtureServer::start(vec![
        ("/p.jpg", Route::ok("image/jpeg", sharp_image(256, 4, ImageFormat::Jpeg))),
        ("/v1/chat/completions", Route::ok("application/json", answer.to_string().into_bytes())),
    ])
    .await;
    let store = TestStore::open().await;
    store.insert_product(ID, "Canvas tote", "blue", Some(&server.url("/p.jpg"))).await;

    let prefix = format!("test:qc:{}", uuid::Uuid::new_v4().simple());
    let config = RedisSettings { url: SecretString::from(url.clone()), key_prefix: prefix.clone(), call_timeout: Duration::from_millis(300) };
    let link = RedisLink::new(&config, &store.metrics).expect("link");
    let shutdown = CancellationToken::new();
    tokio::spawn(link.clone().run_probe(shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !link.is_healthy() {
        assert!(Instant::now() < deadline, "the link never saw the private Redis");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let endpoint = LlmEndpoint { base_url: url::Url::parse(&server.url("/v1")).expect("url"), model: "local-vlm".into(), api_key: None };
    let engine = QcEngine::Llm(LlmProvider::new(QcProviderKind::OpenAi, endpoint, Duration::from_secs(5)).expect("client"));
    let fetcher = server.image_fetcher(2 * 1_048_576);
    let rules = RulesProvider { banned: BannedWords::default(), thresholds: QcThresholds::default() };
    let qc = QcStage::new(store.db().clone(), fetcher, rules, engine, Duration::from_millis(DAY_MS as u64), 1).with_redis(Some(Arc::clone(&link)));
    let run_qc = || async { apply(store.db(), qc.run(&job(stage::QC, ID, 1)).await).await };

    // Redis up: one call, the answer kept in Redis for 24 h and not in the table.
    run_qc().await;
    run_qc().await;
    assert_eq!(server.hits("/v1/chat/completions"), 1, "the second run is answered from Redis");
    let keys = redis_keys(&url, &format!("{prefix}:qc:*")).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].1 > DAY_MS - 60_000 && keys[0].1 <= DAY_MS, "expires in 24 h: {keys:?}");
    assert_eq!(store.scalar_i64("SELECT COUNT(*) FROM qc_answer_cache").await, 0, "Redis holds it, not the table");

    // Redis gone: the first run asks again (Redis held the answer) and caches it in the table,
    // which answers the run after, with the fallback counted.
    drop(redis_server);
    run_qc().await;
    run_qc().await;
    assert_eq!(server.hits("/v1/chat/completions"), 2, "one more call with Redis down, then the table answers");
    assert_eq!(store.scalar_i64("SELECT COUNT(*) FROM qc_answer_cache").await, 1);
    assert!(!link.is_healthy());
    let text = store.metrics.render().expect("metrics");
    let counted: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix(r#"soko_redis_fallback_total{use="qc_cache"} "#).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0);
    assert!(counted >= 2.0, "the QC cache's fallbacks are counted: {counted}");
    let cached = store.scalar_i64(&format!(
        "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'qc_approved' AND details LIKE '%\"cached\":true%' AND product_id = '{ID}'"
    ))
    .await;
    assert_eq!(cached, 2, "one run answered from Redis, one from the table");
    shutdown.cancel();
}
