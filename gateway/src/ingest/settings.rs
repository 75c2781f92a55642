//! The ingest path's settings. `config` reads them from the environment
//! (`WHATSAPP_INGEST_*`, `WHATSAPP_CONTENT_HASH_WINDOW_HOURS`, …) and
//! validates them; ingest only consumes them.

use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Every listed token is accepted, so a rotation needs no downtime.
    pub tokens: Vec<SecretString>,
    /// Empty means HMAC is off and only the token is checked.
    pub hmac_secrets: Vec<SecretString>,
    pub signature_ttl: Duration,
    pub rate_limit_per_minute: u32,
    /// Ceiling over every client id one ingest token uses.
    pub rate_limit_per_token_per_minute: u32,
    pub rate_limit_burst: u32,
    pub rate_limit_max_clients: usize,
    pub max_body_bytes: usize,
    pub max_messages: usize,
    /// How long the Redis dedupe markers vouch for a content hash.
    pub content_hash_window: Duration,
    pub allowed_ips: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    /// Region for national-format sender numbers.
    pub default_region: phonenumber::country::Id,
    pub failures_log_max_rows: u32,
}
