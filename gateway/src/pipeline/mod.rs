//! The product chain's stages (DESIGN.md §1): scout (catalog → product ids), hydrate (OG tags),
//! embed (SigLIP through ONNX Runtime), quality control and lazy persistence. Each stage module owns
//! its pure logic and its [`crate::jobs::Stage`] implementation; the queue in [`crate::jobs`] decides
//! when they run.

pub mod embed;
pub mod fetch;
pub mod hydrate;
pub mod media;
pub mod persist;
pub mod qc;
pub mod scout;

use std::sync::Arc;

use crate::{
    config::ChainConfig,
    jobs::Stage,
    store::Database,
};

/// The scout and hydrate stages, sharing one fetcher (one connection pool, one per-host cap).
pub fn fetch_stages(db: &Database, config: &ChainConfig) -> anyhow::Result<Vec<Arc<dyn Stage>>> {
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
