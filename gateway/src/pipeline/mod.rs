//! The product chain's stages (DESIGN.md §1): scout (catalog → product ids), hydrate (OG tags),
//! embed (SigLIP through ONNX Runtime), quality control and lazy persistence. Each stage module owns
//! its pure logic and its [`crate::jobs::Stage`] implementation; the queue in [`crate::jobs`] decides
//! when they run.
//!
//! The public face, for start-up and the HTTP layer: [`build_stages`] (every stage, from
//! [`ChainSettings`] and [`MediaSettings`]) and [`ServedImages`] (what `/images/` serves). Nothing
//! outside the pipeline reaches into a stage module.

pub mod embed;
pub mod fence;
pub mod fetch;
pub mod hydrate;
mod images;
pub mod media;
pub mod persist;
pub mod qc;
pub mod scout;
mod settings;

pub use fence::FenceSettings;
pub use images::{ServedImages, StoredImage};
pub use media::{MediaSettings, S3Settings};
pub use persist::S3Store;
pub use scout::resync::{resync_catalogs, resync_due_catalogs};
pub use settings::ChainSettings;

use std::sync::Arc;

use anyhow::Context;

use crate::{jobs::Stage, metrics::Metrics, redis_link::RedisLink, store::Database};

/// Every stage of the chain, in order. `redis`: where QC caches LLM answers when `REDIS_URL` is set.
pub async fn build_stages(
    db: &Database,
    chain: &ChainSettings,
    media: &MediaSettings,
    metrics: Arc<Metrics>,
    redis: Option<Arc<RedisLink>>,
) -> anyhow::Result<Vec<Arc<dyn Stage>>> {
    let fence = Arc::new(fence::Fence::new(&chain.fence, trusted_origins(chain, media), Some(metrics.clone())));
    let mut stages = fetch_stages(db, chain, fence.clone()).context("building the scout and hydrate stages")?;
    stages.extend(media::stages::build(media, db, metrics, redis, chain.job_concurrency, fence).await?);
    Ok(stages)
}

/// The image fetcher of image search (`POST /search/image` with an `image_url`): the same fence as
/// the chain's fetches, under `MEDIA_MAX_IMAGE_BYTES`.
pub fn query_image_fetcher(chain: &ChainSettings, media: &MediaSettings, metrics: Arc<Metrics>) -> anyhow::Result<media::ImageFetcher> {
    let fence = Arc::new(fence::Fence::new(&chain.fence, trusted_origins(chain, media), Some(metrics)));
    media::ImageFetcher::new(media.max_image_bytes, media.fetch_timeout, fence).context("building the image search HTTP client")
}

pub use media::stages::shared_embedder;

/// Origins the fence trusts besides `FETCH_ALLOW_PRIVATE_HOSTS`: the product pages' base URL
/// and the image store's endpoint and public base URL.
fn trusted_origins<'a>(chain: &'a ChainSettings, media: &'a MediaSettings) -> Vec<&'a url::Url> {
    let mut origins = vec![&chain.whatsapp_web_base_url];
    if let media::ImageStoreSettings::S3(s3) = &media.image_store {
        origins.extend(s3.endpoint.iter().chain(s3.public_base_url.iter()));
    }
    origins
}

/// The scout and hydrate stages, sharing one fetcher (one connection pool, one per-host cap).
fn fetch_stages(db: &Database, config: &ChainSettings, fence: Arc<fence::Fence>) -> anyhow::Result<Vec<Arc<dyn Stage>>> {
    let agents = match &config.user_agents {
        Some(list) => hydrate::UserAgentPool::parse_list(list)?,
        None => hydrate::UserAgentPool::default(),
    };
    let settings = fetch::FetchSettings {
        timeout: config.fetch_timeout,
        max_bytes: config.fetch_max_bytes,
        per_host: config.fetch_per_host,
    };
    let fetcher = Arc::new(fetch::Fetcher::new(settings, agents, fence)?);
    let base_url = config.whatsapp_web_base_url.clone();
    Ok(vec![
        Arc::new(scout::stage::ScoutStage {
            db: db.clone(),
            fetcher: fetcher.clone(),
            base_url: base_url.clone(),
            concurrency: config.job_concurrency,
        }),
        Arc::new(hydrate::stage::HydrateStage { db: db.clone(), fetcher, base_url, concurrency: config.hydrator_concurrency }),
    ])
}
