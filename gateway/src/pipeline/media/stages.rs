//! Builds the embed, quality-control and persist stages from [`MediaSettings`] at start-up: loads
//! the embedding model (on a blocking thread) when `EMBED_MODEL_DIR` is set, says plainly when it is
//! not, opens the image store and picks the QC provider.

use std::sync::Arc;

use anyhow::Context;

use super::{ImageCache, ImageFetcher, ImageStoreSettings, MediaSettings};
use crate::jobs::Stage;
use crate::metrics::Metrics;
use crate::redis_link::RedisLink;
use crate::pipeline::fence::Fence;
use crate::pipeline::embed::{EmbedBatcher, EmbedConfig, EmbedStage, Embedder};
use crate::pipeline::persist::{ImageStore, stage::PersistStage};
use crate::pipeline::qc::{QcProviderKind, provider, stage::QcStage};
use crate::store::Database;

/// The three stages, in chain order, each running `concurrency` jobs at once (`JOB_CONCURRENCY`).
/// `redis`: where QC caches LLM answers when `REDIS_URL` is set. `fence`: shared with scout and
/// hydrate; the QC provider's own endpoint is operator configuration and is not fenced.
pub async fn build(
    config: &MediaSettings,
    db: &Database,
    metrics: Arc<Metrics>,
    redis: Option<Arc<RedisLink>>,
    concurrency: usize,
    fence: Arc<Fence>,
) -> anyhow::Result<Vec<Arc<dyn Stage>>> {
    // One fetcher (and so one image cache) for the three stages: an approved image is downloaded once.
    let fetcher = ImageFetcher::new(config.max_image_bytes, config.fetch_timeout, fence)
        .context("building the image HTTP client")?
        .with_cache(ImageCache::new(config.cache_bytes, config.cache_ttl));
    let model = load_model(config).await?;
    let qc_engine = provider::engine(&config.qc, config.fetch_timeout.max(std::time::Duration::from_secs(30)))
        .context("building the QC provider HTTP client")?;
    let provider_name = match config.qc.provider {
        QcProviderKind::Rules => "rules",
        QcProviderKind::Gemini => "gemini",
        QcProviderKind::OpenAi => "openai",
    };
    let image_store = ImageStore::from_settings(&config.image_store).await.context("opening the image store")?;
    match &config.image_store {
        ImageStoreSettings::Local { dir } => tracing::info!(dir = %dir.display(), "images of approved products are stored locally and served under /images/"),
        ImageStoreSettings::S3(s3) => tracing::info!(bucket = %s3.bucket, region = %s3.region, "images of approved products are stored in S3"),
    }
    tracing::info!(provider = provider_name, "quality control provider");
    let embed = EmbedStage::new(db.clone(), fetcher.clone(), model, concurrency);
    let qc = QcStage::new(db.clone(), fetcher.clone(), provider::rules(&config.qc), qc_engine, config.qc.cache_ttl, concurrency).with_redis(redis);
    let persist = PersistStage::new(db.clone(), fetcher, Arc::new(image_store), metrics, concurrency);
    Ok(vec![Arc::new(embed), Arc::new(qc), Arc::new(persist)])
}

async fn load_model(config: &MediaSettings) -> anyhow::Result<Option<(EmbedBatcher, String)>> {
    let settings = &config.embed;
    let Some(dir) = settings.model_dir.clone() else {
        tracing::warn!(
            "EMBED_MODEL_DIR is not set: the embed stage passes products on to quality control WITHOUT embeddings \
             (scripts/export_siglip.py exports SigLIP; scripts/make_test_models.py writes tiny test models)"
        );
        return Ok(None);
    };
    let embedder = load_embedder(config, dir).await?;
    tracing::info!(model_id = %settings.model_id, dim = embedder.dim(), "embed stage ready");
    Ok(Some((EmbedBatcher::spawn(embedder), settings.model_id.clone())))
}

/// The embed stage's model (one copy per process, shared with image search), with its model id;
/// `None` without `EMBED_MODEL_DIR`.
pub async fn shared_embedder(config: &MediaSettings) -> anyhow::Result<Option<(Embedder, String)>> {
    let Some(dir) = config.embed.model_dir.clone() else { return Ok(None) };
    Ok(Some((load_embedder(config, dir).await?, config.embed.model_id.clone())))
}

async fn load_embedder(config: &MediaSettings, dir: std::path::PathBuf) -> anyhow::Result<Embedder> {
    let settings = &config.embed;
    let embed_config = EmbedConfig {
        ort_dylib_path: settings.ort_dylib_path.clone(),
        image_weight: settings.image_weight,
        text_weight: settings.text_weight,
        sessions: settings.sessions,
        intra_threads: settings.intra_threads,
        max_batch: settings.max_batch,
        image_limits: crate::pipeline::embed::ImageLimits { max_bytes: config.max_image_bytes, ..Default::default() },
    };
    let shown = dir.display().to_string();
    tokio::task::spawn_blocking(move || Embedder::load_shared(&dir, embed_config))
        .await
        .context("the model loading thread failed")?
        .with_context(|| format!("loading the embedding model from EMBED_MODEL_DIR={shown}"))
}
