//! The per-token ceiling: a collector that varies `client_id` still meets
//! one bucket per ingest token, in process and shared through Redis.

use crate::{
    helpers::{Answer, SECRET, TOKEN, TestApp, batch, message, spawn_app_with},
    scaleout_support::{PrivateRedis, unique_prefix},
};

const OTHER_TOKEN: &str = "other-token";

/// With the test apps' per-client limit (60 000/min, burst 1 000) this
/// ceiling has a burst of one request and refills every 10 s.
const CEILING: (&str, &str) = ("WHATSAPP_INGEST_RATE_LIMIT_PER_TOKEN_PER_MINUTE", "6");
const TOKENS: (&str, &str) = ("WHATSAPP_INGEST_TOKEN", "test-token,other-token");

async fn post_as(app: &TestApp, client_id: &str, token: &str) -> Answer {
    let body = serde_json::to_vec(&batch(client_id, vec![message("Ceiling Chat", &format!("Offer from {client_id} 10k"))]))
        .expect("serialise");
    app.post_signed_body(body, token, SECRET).await
}

fn assert_token_limited(answer: &Answer) {
    assert_eq!(answer.status, 429, "{:?}", answer.body);
    assert_eq!(answer.error_code(), "token_rate_limited");
    assert_eq!(answer.error_message(), "ingest rate limit exceeded for this token");
    assert!(answer.body["error"]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    let retry_after: u64 = answer.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
}

/// A gateway starts in fallback until its first Redis probe answers.
async fn wait_for_redis(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !app.get_text("/metrics").await.lines().any(|line| line == "soko_redis_fallback 0") {
        assert!(std::time::Instant::now() < deadline, "the gateway never reached Redis");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn one_token_varying_client_ids_meets_its_ceiling() {
    let app = spawn_app_with(&[CEILING, TOKENS]).await;
    assert_eq!(post_as(&app, "collector-1", TOKEN).await.status, 200);
    let refused = post_as(&app, "collector-2", TOKEN).await;
    assert_token_limited(&refused);
    assert_eq!(post_as(&app, "collector-3", OTHER_TOKEN).await.status, 200, "another token has its own ceiling");
    assert_eq!(app.count_messages().await, 2, "the refused batch stored nothing");
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains(r#"soko_ingest_requests_total{outcome="token_rate_limited"} 1"#), "{metrics}");
    assert!(metrics.contains("soko_ingest_rate_limited_total 1"));
    app.finish().await;
}

#[tokio::test]
async fn the_ceiling_is_shared_through_redis() {
    let redis = PrivateRedis::start().await;
    let prefix = unique_prefix("token-ceiling");
    let url = redis.url();
    // Generous, so a slow call under a loaded test run is not taken for an
    // outage (each gateway would then fall back to its own bucket).
    let redis_timeout = ("REDIS_TIMEOUT_MS", "5000");
    let settings = [CEILING, TOKENS, redis_timeout, ("REDIS_URL", url.as_str()), ("REDIS_KEY_PREFIX", prefix.as_str())];
    // Two gateways (each with its own database), one Redis.
    let first = spawn_app_with(&settings).await;
    let second = spawn_app_with(&settings).await;
    wait_for_redis(&first).await;
    wait_for_redis(&second).await;
    assert_eq!(post_as(&first, "collector-1", TOKEN).await.status, 200);
    assert_token_limited(&post_as(&second, "collector-2", TOKEN).await);
    assert_eq!(post_as(&second, "collector-3", OTHER_TOKEN).await.status, 200);
    assert_eq!(redis.count_keys(&format!("{prefix}:rlt")).await, 2, "one bucket per token, under the test's prefix");
    for app in [&first, &second] {
        let metrics = app.get_text("/metrics").await;
        assert!(metrics.contains(r#"soko_redis_fallback_total{use="rate_limit"} 0"#), "no check fell back");
    }
    let keys = redis.keys(&prefix).await;
    assert!(keys.iter().all(|key| !key.contains(TOKEN) && !key.contains(OTHER_TOKEN)), "a token in a Redis key: {keys:?}");
    first.finish().await;
    second.finish().await;
}
