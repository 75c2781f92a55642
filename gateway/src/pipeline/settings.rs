//! Settings of the product chain's queue workers, scout and hydrate:
//! `JOB_*`, `HEARTBEAT_HOURS`, `CATALOG_RESYNC_HOURS`, `WHATSAPP_WEB_BASE_URL`, `HYDRATE_*` and the
//! fetch fence's `FETCH_ALLOW_PRIVATE_HOSTS`, read and validated by `config`.

use std::time::Duration;

use super::fence::FenceSettings;

#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// Run the queue workers in this process (`JOB_WORKERS=false` for an HTTP-only replica).
    pub workers: bool,
    pub hydrator_concurrency: usize,
    pub job_concurrency: usize,
    /// A claimed job not finished within this is claimed again by another worker.
    pub job_lease: Duration,
    /// How often idle workers look for jobs enqueued by other processes.
    pub job_poll: Duration,
    pub heartbeat: Duration,
    /// Catalogs are scouted again once their last scout is this old (`CATALOG_RESYNC_HOURS`);
    /// `None` (0) turns re-sync off.
    pub catalog_resync: Option<Duration>,
    pub whatsapp_web_base_url: url::Url,
    pub fetch_timeout: Duration,
    pub fetch_max_bytes: usize,
    pub fetch_per_host: usize,
    /// Newline- or comma-separated; `None` uses the built-in pool.
    pub user_agents: Option<String>,
    /// Hosts every fetcher of the chain may reach on private addresses.
    pub fence: FenceSettings,
}
