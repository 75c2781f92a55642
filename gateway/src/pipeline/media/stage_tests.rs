//! The embed, QC and persist stages run directly (as the queue would) against a real database
//! and a local HTTP server (which counts downloads), with their commits applied in real transactions.

use std::sync::Arc;
use std::time::Duration;

use image::ImageFormat;
use serde_json::json;

use super::test_support::{FixtureServer, Route, TestStore, apply, job, sharp_image, tiny_model};
use super::{ImageCache, ImageFetcher};
use crate::jobs::{Stage, StageOutcome};
use crate::pipeline::fence::{Fence, FenceSettings};
use crate::pipeline::embed::{EmbedBatcher, EmbedConfig, EmbedStage, Embedder, store as embeddings};
use crate::pipeline::persist::{ImageStore, LocalStore, stage::PersistStage};
use crate::pipeline::qc::provider::{LlmProvider, QcEngine, RulesProvider};
use crate::pipeline::qc::rules::{BannedWords, QcThresholds};
use crate::pipeline::qc::{QcProviderKind, stage::QcStage};
use crate::pipeline::media::settings::LlmEndpoint;
use crate::domain::job::stage;

const ID: &str = "1234567890123456";

/// A fetcher whose fence trusts the fixture server (it listens on loopback).
fn fetcher(server: &FixtureServer) -> ImageFetcher {
    server.image_fetcher(2 * 1_048_576)
}

fn rules() -> RulesProvider {
    RulesProvider { banned: BannedWords::default(), thresholds: QcThresholds::default() }
}

async fn embedder() -> EmbedBatcher {
    let (dir, dylib) = tiny_model();
    let config = EmbedConfig { ort_dylib_path: dylib, intra_threads: 1, ..EmbedConfig::default() };
    let embedder = tokio::task::spawn_blocking(move || Embedder::load(&dir, config)).await.expect("thread").expect("tiny model loads");
    EmbedBatcher::spawn(embedder)
}

async fn job_state(store: &TestStore, stage: &str) -> Option<String> {
    store.scalar_text(&format!("SELECT MAX(state) FROM jobs WHERE stage = '{stage}' AND dedupe_key = '{ID}'")).await
}

async fn events_of(store: &TestStore, event: &str) -> i64 {
    store.scalar_i64(&format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = '{event}' AND product_id = '{ID}'")).await
}

fn unit_norm(v: &[f32]) -> bool {
    (v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-4
}

#[tokio::test]
async fn a_good_product_is_embedded_approved_and_persisted_locally() {
    let server = FixtureServer::start(vec![("/p.png", Route::ok("image/png", sharp_image(320, 3, ImageFormat::Png)))]).await;
    let store = TestStore::open().await;
    store.insert_product(ID, "Red cotton dress", "Size M, new, delivery available 🔥 inbox for price", Some(&server.url("/p.png"))).await;
    let db = store.db().clone();
    // One fetcher for the three stages, as `stages::build` makes it: its cache means one download.
    let shared = fetcher(&server).with_cache(ImageCache::new(64 << 20, Duration::from_secs(600)));

    let batcher = embedder().await;
    let dim = batcher.dim();
    let embed = EmbedStage::new(db.clone(), shared.clone(), Some((batcher, "tiny".into())), 2);
    let outcome = embed.run(&job(stage::EMBED, ID, 1)).await;
    assert!(matches!(outcome, StageOutcome::Done(_)), "{outcome:?}");
    apply(&db, outcome).await;
    let stored = embeddings::load(&db, ID).await.expect("read").expect("an embedding row");
    assert_eq!((stored.dims, stored.model_id.as_str(), stored.image_status.as_str()), (dim, "tiny", "embedded"));
    for v in [stored.image.as_deref().expect("image vector"), &stored.text, &stored.hybrid] {
        assert_eq!(v.len(), dim);
        assert!(unit_norm(v));
    }
    assert_eq!((stored.image_weight, stored.text_weight), (f64::from(0.6f32), f64::from(0.4f32)));
    assert_eq!(job_state(&store, stage::QC).await.as_deref(), Some("ready"));
    assert_eq!(events_of(&store, "embed_success").await, 1);
    let hash = store.scalar_text(&format!("SELECT last_embedding_hash FROM products WHERE product_id = '{ID}'")).await;
    assert_eq!(hash, store.scalar_text(&format!("SELECT semantic_hash FROM products WHERE product_id = '{ID}'")).await);

    let qc = QcStage::new(db.clone(), shared.clone(), rules(), QcEngine::Rules, Duration::from_secs(86_400), 2);
    apply(&db, qc.run(&job(stage::QC, ID, 1)).await).await;
    assert_eq!(store.scalar_text(&format!("SELECT qc_decision FROM products WHERE product_id = '{ID}'")).await.as_deref(), Some("approved"));
    assert_eq!(job_state(&store, stage::PERSIST).await.as_deref(), Some("ready"));
    assert_eq!(events_of(&store, "qc_approved").await, 1);

    let dir = tempfile::tempdir().expect("temp dir");
    let image_store = Arc::new(ImageStore::Local(LocalStore::open(dir.path()).expect("store")));
    let persist = PersistStage::new(db.clone(), shared, image_store, store.metrics.clone(), 2);
    apply(&db, persist.run(&job(stage::PERSIST, ID, 1)).await).await;
    let url = store.scalar_text(&format!("SELECT persisted_image_url FROM products WHERE product_id = '{ID}'")).await;
    assert_eq!(url.as_deref(), Some("/images/products/1234567890123456.png"));
    let kept = store.scalar_text(&format!("SELECT image_url FROM products WHERE product_id = '{ID}'")).await;
    assert_eq!(kept, Some(server.url("/p.png")), "the Meta CDN URL is kept beside the copy");
    let on_disk = std::fs::read(dir.path().join("products/1234567890123456.png")).expect("stored file");
    assert_eq!(on_disk, sharp_image(320, 3, ImageFormat::Png));
    assert_eq!((events_of(&store, "lazy_persist_start").await, events_of(&store, "lazy_persist_success").await), (1, 1));
    assert_eq!(store.metrics.media.with_label_values(&["persisted"]).get(), 1);
    assert_eq!(server.hits("/p.png"), 1, "embed, QC and persist share one download of the image");
}

#[tokio::test]
async fn without_a_model_embed_passes_the_product_on() {
    let store = TestStore::open().await;
    store.insert_product(ID, "Shoes", "", Some("http://127.0.0.1:9/none.png")).await;
    let fetcher = ImageFetcher::new(1_024, Duration::from_secs(5), Arc::new(Fence::trusting(&[]))).expect("fetcher");
    let embed = EmbedStage::new(store.db().clone(), fetcher, None, 1);
    apply(store.db(), embed.run(&job(stage::EMBED, ID, 1)).await).await;
    assert!(embeddings::load(store.db(), ID).await.expect("read").is_none());
    assert_eq!(job_state(&store, stage::QC).await.as_deref(), Some("ready"));
    assert_eq!(events_of(&store, "embed_skipped").await, 1);
}

#[tokio::test]
async fn bad_images_are_rejected_and_busy_hosts_retried() {
    let server = FixtureServer::start(vec![
        ("/blank.png", Route::ok("image/png", image_blank())),
        ("/busy.png", Route::status(429, &[("retry-after", "5")])),
    ])
    .await;
    let store = TestStore::open().await;
    let qc = QcStage::new(store.db().clone(), fetcher(&server), rules(), QcEngine::Rules, Duration::from_secs(86_400), 1);
    let reason_sql = format!("SELECT qc_reason FROM products WHERE product_id = '{ID}'");
    let decision = || store.scalar_text(&reason_sql);

    store.insert_product(ID, "Blender", "", Some(&server.url("/busy.png"))).await;
    match qc.run(&job(stage::QC, ID, 1)).await {
        StageOutcome::Retry { status, retry_after, .. } => assert_eq!((status, retry_after), (Some(429), Some(Duration::from_secs(5)))),
        other => panic!("a 429 image host must be retried: {other:?}"),
    }
    let sql = |url: String| format!("UPDATE products SET image_url = '{url}' WHERE product_id = '{ID}'");
    crate::store::queries::on_pool!(store.db(), |pool| sqlx::query(&sql(server.url("/blank.png"))).execute(pool).await.expect("update").rows_affected());
    apply(store.db(), qc.run(&job(stage::QC, ID, 1)).await).await;
    assert!(decision().await.unwrap_or_default().contains("blank"), "{:?}", decision().await);
    assert_eq!(events_of(&store, "qc_rejected").await, 1);
    assert_eq!(job_state(&store, stage::PERSIST).await, None, "rejected products are not persisted");

    crate::store::queries::on_pool!(store.db(), |pool| sqlx::query(&sql(server.url("/gone.png"))).execute(pool).await.expect("update").rows_affected());
    apply(store.db(), qc.run(&job(stage::QC, ID, 1)).await).await;
    assert!(decision().await.unwrap_or_default().contains("404"), "{:?}", decision().await);
}

fn image_blank() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(300, 300, image::Rgb([240, 240, 240])).write_to(&mut out, ImageFormat::Png).expect("encode");
    out.into_inner()
}

#[tokio::test]
async fn persist_retries_then_records_the_failure_and_keeps_the_cdn_url() {
    let server = FixtureServer::start(vec![("/flaky.jpg", Route::status(503, &[]))]).await;
    let store = TestStore::open().await;
    store.insert_product(ID, "Sofa", "", Some(&server.url("/flaky.jpg"))).await;
    crate::store::queries::on_pool!(store.db(), |pool| sqlx::query("UPDATE products SET qc_decision = 'approved'")
        .execute(pool)
        .await
        .expect("approve")
        .rows_affected());
    let dir = tempfile::tempdir().expect("temp dir");
    let image_store = Arc::new(ImageStore::Local(LocalStore::open(dir.path()).expect("store")));
    let persist = PersistStage::new(store.db().clone(), fetcher(&server), image_store, store.metrics.clone(), 1);
    for attempt in 1..4 {
        assert!(matches!(persist.run(&job(stage::PERSIST, ID, attempt)).await, StageOutcome::Retry { status: Some(503), .. }), "attempt {attempt}");
    }
    let last = persist.run(&job(stage::PERSIST, ID, 4)).await;
    assert!(matches!(last, StageOutcome::Terminal { dead: true, status: Some(503), commit: Some(_), .. }), "{last:?}");
    apply(store.db(), last).await;
    assert_eq!(events_of(&store, "lazy_persist_failed").await, 1);
    assert_eq!(store.metrics.media.with_label_values(&["failed"]).get(), 1);
    let urls = store.scalar_text(&format!("SELECT COALESCE(persisted_image_url, image_url) FROM products WHERE product_id = '{ID}'")).await;
    assert_eq!(urls, Some(server.url("/flaky.jpg")));
    assert_eq!(server.hits("/flaky.jpg"), 4);

    // Products that are not approved are never downloaded.
    crate::store::queries::on_pool!(store.db(), |pool| sqlx::query("UPDATE products SET qc_decision = 'flagged'").execute(pool).await.expect("flag").rows_affected());
    assert!(matches!(persist.run(&job(stage::PERSIST, ID, 1)).await, StageOutcome::Done(_)));
    assert_eq!(server.hits("/flaky.jpg"), 4);
}

#[tokio::test]
async fn llm_answers_are_cached_by_content() {
    let image = sharp_image(256, 9, ImageFormat::Jpeg);
    let answer = json!({"choices": [{"message": {"content": r#"{"decision":"approved","confidence":0.88,"reason":"clear photo"}"#}, "finish_reason": "stop"}]});
    let server = FixtureServer::start(vec![
        ("/p.jpg", Route::ok("image/jpeg", image)),
        ("/v1/chat/completions", Route::ok("application/json", answer.to_string().into_bytes())),
    ])
    .await;
    let store = TestStore::open().await;
    store.insert_product(ID, "Leather bag", "brown", Some(&server.url("/p.jpg"))).await;
    let endpoint = LlmEndpoint { base_url: url::Url::parse(&server.url("/v1")).expect("url"), model: "local-vlm".into(), api_key: None };
    let engine = QcEngine::Llm(LlmProvider::new(QcProviderKind::OpenAi, endpoint, Duration::from_secs(5)).expect("client"));
    let qc = QcStage::new(store.db().clone(), fetcher(&server), rules(), engine, Duration::from_secs(86_400), 1);
    for _ in 0..2 {
        apply(store.db(), qc.run(&job(stage::QC, ID, 1)).await).await;
    }
    assert_eq!(server.hits("/v1/chat/completions"), 1, "the second run is answered from the cache");
    assert_eq!(store.scalar_i64("SELECT COUNT(*) FROM qc_answer_cache").await, 1);
    assert_eq!(store.scalar_text(&format!("SELECT qc_decision FROM products WHERE product_id = '{ID}'")).await.as_deref(), Some("approved"));
    let cached = store.scalar_i64(&format!(
        "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'qc_approved' AND details LIKE '%\"cached\":true%' AND product_id = '{ID}'"
    ))
    .await;
    assert_eq!(cached, 1);
}

/// Embed, QC and persist each end dead at once on an image the fence refuses: the server on
/// the untrusted loopback port sees no request, `fetch_blocked` is logged with `blocked_address`,
/// and `soko_fetch_blocked_total{stage}` counts each.
#[tokio::test]
async fn an_image_on_an_untrusted_private_address_kills_the_job_without_a_request() {
    let server = FixtureServer::start(vec![("/p.png", Route::ok("image/png", sharp_image(320, 3, ImageFormat::Png)))]).await;
    let store = TestStore::open().await;
    store.insert_product(ID, "Lamp", "", Some(&server.url("/p.png"))).await;
    crate::store::queries::on_pool!(store.db(), |pool| sqlx::query("UPDATE products SET qc_decision = 'approved'")
        .execute(pool)
        .await
        .expect("approve")
        .rows_affected());
    // Trusts nothing: the fixture's loopback port is as private as any other.
    let fence = Arc::new(Fence::new(&FenceSettings::default(), [], Some(store.metrics.clone())));
    let fetcher = ImageFetcher::new(2 * 1_048_576, Duration::from_secs(5), fence).expect("fetcher");
    let dir = tempfile::tempdir().expect("temp dir");
    let image_store = Arc::new(ImageStore::Local(LocalStore::open(dir.path()).expect("store")));
    let batcher = embedder().await;
    let stages: Vec<Box<dyn Stage>> = vec![
        Box::new(EmbedStage::new(store.db().clone(), fetcher.clone(), Some((batcher, "tiny".into())), 1)),
        Box::new(QcStage::new(store.db().clone(), fetcher.clone(), rules(), QcEngine::Rules, Duration::from_secs(86_400), 1)),
        Box::new(PersistStage::new(store.db().clone(), fetcher, image_store, store.metrics.clone(), 1)),
    ];
    for (n, stage) in stages.iter().enumerate() {
        let outcome = stage.run(&job(stage.name(), ID, 1)).await;
        match &outcome {
            StageOutcome::Terminal { error, dead: true, commit: Some(_), .. } => assert!(error.starts_with("blocked_address"), "{error}"),
            other => panic!("{} must die at once on a blocked image: {other:?}", stage.name()),
        }
        apply(store.db(), outcome).await;
        assert_eq!(events_of(&store, "fetch_blocked").await, n as i64 + 1);
        assert_eq!(store.metrics.fetch_blocked.with_label_values(&[stage.name()]).get(), 1, "{}", stage.name());
    }
    assert_eq!(server.hits("/p.png"), 0, "the refused address is never connected to");
    let sql = format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'fetch_blocked' AND error_message = 'blocked_address' AND details LIKE '%loopback%' AND product_id = '{ID}'");
    assert_eq!(store.scalar_i64(&sql).await, 3);
    assert_eq!(store.scalar_text(&format!("SELECT qc_decision FROM products WHERE product_id = '{ID}'")).await.as_deref(), Some("approved"), "QC decided nothing");
}
