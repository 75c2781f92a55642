//! The product chain's stages (DESIGN.md §1): scout (catalog → product ids), hydrate (OG tags),
//! embed (SigLIP through ONNX Runtime), quality control and lazy persistence. Each stage module owns
//! its pure logic and its [`crate::jobs::Stage`] implementation; the queue in [`crate::jobs`] decides
//! when they run.
//!
//! The public face, for start-up and the HTTP layer: [`build_stages`] (every stage, from
//! [`ChainSettings`] and [`MediaSettings`]) and [`ServedImages`] (what `/images/` serves). Nothing
//! outside the pipeline reaches into a stage module.

pub mod embed;
pub mod fetch;
pub mod hydrate;
mod images;
pub mod media;
pub mod persist;
pub mod qc;
pub mod scout;
mod settings;

pub use images::{ServedImages, StoredImage};
pub use media::MediaSettings;
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
    let mut stages = fetch_stages(db, chain).context("building the scout and hydrate stages")?;
    stages.extend(media::stages::build(media, db, metrics, redis, chain.job_concurrency).await?);
    Ok(stages)
}

/// The scout and hydrate stages, sharing one fetcher (one connection pool, one per-host cap).
fn fetch_stages(db: &Database, config: &ChainSettings) -> anyhow::Result<Vec<Arc<dyn Stage>>> {
    let agents = match &config.user_agents {
        Some(list) => hydrate::UserAgentPool::parse_list(list)?,
        None => hydrate::UserAgentPool::default(),
    };
    let settings = fetch::FetchSettings {
        timeout: config.fetch_timeout,
        max_bytes: config.fetch_max_bytes,
        per_host: config.fetch_per_host,
    };
    let fetcher = Arc::new(fetch::Fetcher::new(settings, agents)?);
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
