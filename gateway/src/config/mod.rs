//! Settings from environment variables (names as in the seeds), parsed and
//! validated once at start-up. This module only reads the environment and
//! assembles each component's own settings type ([`IngestSettings`],
//! [`StoreSettings`], [`ChainSettings`], [`MediaSettings`], …); components
//! never read the environment or import this module. Every problem is
//! collected and reported together, so an operator fixes a bad deployment in
//! one pass.

mod documents;
mod env;
mod extraction;
mod media;
mod meta;
mod semantic;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::{
    app::{AccessSettings, ConsoleSettings},
    extraction::ExtractionSettings,
    ingest::{IngestSettings, meta::MetaSettings, settings::WebhookSecret},
    pipeline::{ChainSettings, FenceSettings, MediaSettings, hydrate::UserAgentPool},
    redis_link::RedisSettings,
    search::SearchSettings,
    store::StoreSettings,
    telemetry::LogFormat,
};
use env::Env;

/// Where the gateway keeps its data when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/soko.db";

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub http_workers: usize,
    pub shutdown_timeout: Duration,
    pub log_format: LogFormat,
    /// Admin, read and metrics tokens; the proxies whose forwarded headers count.
    pub access: AccessSettings,
    pub event_log_max_rows: u32,
    pub role: Role,
    pub store: StoreSettings,
    pub ingest: IngestSettings,
    /// The WhatsApp Cloud API webhook (`META_*`); off without an app secret.
    pub meta: MetaSettings,
    pub extraction: ExtractionSettings,
    pub redis: Option<RedisSettings>,
    pub chain: ChainSettings,
    /// Embed, quality control and persist.
    pub media: MediaSettings,
    /// The admin console (`ADMIN_TIME_ZONE`).
    pub console: ConsoleSettings,
    /// `GET /search` (`SEARCH_CACHE_TTL_SECONDS`).
    pub search: SearchSettings,
    /// Semantic and visual search (`SEARCH_TEXT_MODEL_DIR`, `SEARCH_INDEX_DIR`, …).
    pub semantic: crate::semantic::SemanticSettings,
    /// Vendor document imports (`DOCUMENT_*`, `INGESTION_STORAGE_DIR`).
    pub documents: crate::documents::DocumentSettings,
    /// The bucket documents are kept in when `DOCUMENT_STORE=s3`.
    pub documents_s3: Option<crate::pipeline::S3Settings>,
}

/// What one process does (`gateway --role`, or `GATEWAY_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// HTTP and background work: the single-process default.
    All,
    /// HTTP only; background work runs in `worker` processes.
    Api,
    /// Background work, plus `/healthz`, `/readyz` and `/metrics`.
    Worker,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "all" => Some(Self::All),
            "api" => Some(Self::Api),
            "worker" => Some(Self::Worker),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Api => "api",
            Self::Worker => "worker",
        }
    }

    pub fn serves_api(self) -> bool {
        matches!(self, Self::All | Self::Api)
    }

    pub fn runs_workers(self) -> bool {
        matches!(self, Self::All | Self::Worker)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key lookup; tests pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut env = Env::new(&lookup);
        let content_hash_window = hours(env.parse("WHATSAPP_CONTENT_HASH_WINDOW_HOURS", 24.0f64, 0.0..=8_760.0));
        let extract_debounce = Duration::from_secs_f64(env.parse("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", 10.0f64, 0.0..=86_400.0));
        let extract_max_wait = Duration::from_secs_f64(env.parse("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", 60.0f64, 0.0..=86_400.0));
        let region = env.region("WHATSAPP_DEFAULT_REGION");
        let ingest = ingest_settings(&mut env, content_hash_window, region);
        let access = AccessSettings {
            admin_token: env.get("ADMIN_TOKEN").map(SecretString::from),
            read_tokens: env.secret_list("API_READ_TOKEN"),
            metrics_tokens: env.secret_list("METRICS_TOKEN"),
            trusted_proxies: ingest.trusted_proxies.clone(),
        };
        let media = media::media_settings(&mut env);
        let extraction = extraction::extraction_settings(&mut env, region, ingest.failures_log_max_rows);
        let (documents, documents_s3) = documents::document_settings(&mut env, &extraction.default_currency, &media);
        let config = Config {
            host: env.get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: env.parse("PORT", 8000u16, 0..=u16::MAX),
            http_workers: env.parse("HTTP_WORKERS", default_workers(), 1..=256),
            shutdown_timeout: Duration::from_secs(env.parse("SHUTDOWN_TIMEOUT_SECONDS", 30u64, 0..=3_600)),
            log_format: log_format(&mut env),
            access,
            event_log_max_rows: env.parse("EVENT_LOG_MAX_ROWS", 5_000u32, 100..=10_000_000),
            role: role(&mut env),
            store: StoreSettings {
                database_url: env.get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
                max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10u32, 1..=1_000),
                write_groups: env.parse("DATABASE_WRITE_GROUPS", default_workers(), 1..=256),
                acquire_timeout: Duration::from_millis(env.parse("DATABASE_ACQUIRE_TIMEOUT_MS", 1_000u64, 50..=60_000)),
                sqlite_cache_mb: env.parse("SQLITE_CACHE_MB", 64u32, 1..=65_536),
                content_hash_window,
                extract_debounce,
                extract_max_wait,
            },
            ingest,
            meta: meta::meta_settings(&mut env),
            extraction: extraction.clone(),
            redis: redis(&mut env),
            chain: chain_settings(&mut env),
            media,
            console: console_settings(&mut env),
            search: SearchSettings {
                cache_ttl: Duration::from_secs(env.parse("SEARCH_CACHE_TTL_SECONDS", 3_600u64, 1..=604_800)),
            },
            semantic: semantic::semantic_settings(&mut env),
            documents,
            documents_s3,
        };
        if let Some(list) = &config.chain.user_agents
            && let Err(error) = UserAgentPool::parse_list(list)
        {
            env.problem(format!("HYDRATE_USER_AGENTS: {error}"));
        }
        if extract_max_wait < extract_debounce {
            env.problem(format!(
                "WHATSAPP_EXTRACT_MAX_WAIT_SECONDS ({} s) must not be shorter than WHATSAPP_EXTRACT_DEBOUNCE_SECONDS ({} s)",
                extract_max_wait.as_secs_f64(),
                extract_debounce.as_secs_f64()
            ));
        }
        if !(config.store.database_url.starts_with("sqlite:") || config.is_postgres()) {
            env.problem(format!(
                "DATABASE_URL must start with sqlite:// or postgres:// (got a {} URL)",
                config.store.database_url.split(':').next().unwrap_or("malformed")
            ));
        }
        match env.problems.is_empty() {
            true => Ok(config),
            false => Err(ConfigError { problems: env.problems }),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.store.is_postgres()
    }
}

/// `ADMIN_TIME_ZONE`: an IANA zone name such as `Africa/Nairobi` (the default) or `UTC`.
fn console_settings(env: &mut Env<'_>) -> ConsoleSettings {
    let Some(raw) = env.get("ADMIN_TIME_ZONE").filter(|z| !z.trim().is_empty()) else {
        return ConsoleSettings::default();
    };
    match raw.trim().parse::<chrono_tz::Tz>() {
        Ok(time_zone) => ConsoleSettings { time_zone },
        Err(_) => {
            env.problem(format!("ADMIN_TIME_ZONE must be an IANA time zone such as Africa/Nairobi or UTC (got {raw:?})"));
            ConsoleSettings::default()
        }
    }
}

fn ingest_settings(
    env: &mut Env<'_>,
    content_hash_window: Duration,
    region: phonenumber::country::Id,
) -> IngestSettings {
    let tokens = env.secret_list("WHATSAPP_INGEST_TOKEN");
    if tokens.is_empty() {
        env.problem(
            "WHATSAPP_INGEST_TOKEN is required: the token collectors send in X-Ingest-Token \
             (a comma-separated list is accepted during rotation)",
        );
    }
    let rate_limit_per_minute = env.parse("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", 120u32, 1..=100_000_000);
    IngestSettings {
        tokens,
        hmac_secrets: env.secret_list("WHATSAPP_INGEST_HMAC_SECRET"),
        webhook_secrets: webhook_secrets(env),
        signature_ttl: Duration::from_secs(env.parse("WHATSAPP_INGEST_SIGNATURE_TTL_SECONDS", 300u64, 1..=86_400)),
        rate_limit_per_minute,
        rate_limit_per_token_per_minute: env.parse(
            "WHATSAPP_INGEST_RATE_LIMIT_PER_TOKEN_PER_MINUTE",
            rate_limit_per_minute.saturating_mul(20),
            1..=2_000_000_000,
        ),
        rate_limit_burst: env.parse("WHATSAPP_INGEST_RATE_LIMIT_BURST", 30u32, 1..=10_000_000),
        rate_limit_max_clients: env.parse("WHATSAPP_INGEST_RATE_LIMIT_MAX_CLIENTS", 100_000usize, 16..=10_000_000),
        max_body_bytes: env.parse("WHATSAPP_INGEST_MAX_BODY_BYTES", 1_048_576usize, 256..=256 * 1_048_576),
        max_messages: env.parse("WHATSAPP_INGEST_MAX_MESSAGES", 500usize, 1..=100_000),
        content_hash_window,
        allowed_ips: env.cidr_list("WHATSAPP_INGEST_ALLOWED_IPS"),
        trusted_proxies: env.cidr_list("WHATSAPP_TRUSTED_PROXIES"),
        default_region: region,
        failures_log_max_rows: env.parse("WHATSAPP_FAILURES_LOG_MAX_ROWS", 1_000u32, 50..=1_000_000),
    }
}

/// `WHATSAPP_INGEST_WEBHOOK_SECRETS`: comma-separated `whsec_<base64>`
/// keys; each bad one is reported by position, never by value.
fn webhook_secrets(env: &mut Env<'_>) -> Vec<WebhookSecret> {
    let key = "WHATSAPP_INGEST_WEBHOOK_SECRETS";
    let mut secrets = Vec::new();
    for (position, raw) in env.secret_list(key).iter().enumerate() {
        match WebhookSecret::parse(raw.expose_secret()) {
            Ok(secret) => secrets.push(secret),
            Err(reason) => env.problem(format!("{key}: secret {} of the list {reason}", position + 1)),
        }
    }
    secrets
}

fn chain_settings(env: &mut Env<'_>) -> ChainSettings {
    ChainSettings {
        workers: env.flag("JOB_WORKERS"),
        hydrator_concurrency: env.parse("HYDRATOR_CONCURRENCY", 20usize, 1..=1_000),
        job_concurrency: env.parse("JOB_CONCURRENCY", 5usize, 1..=1_000),
        job_lease: Duration::from_secs_f64(env.parse("JOB_LEASE_SECONDS", 60.0f64, 0.1..=86_400.0)),
        job_poll: Duration::from_secs_f64(env.parse("JOB_POLL_SECONDS", 1.0f64, 0.01..=3_600.0)),
        heartbeat: hours(env.parse("HEARTBEAT_HOURS", 24.0f64, 0.0001..=8_760.0)),
        catalog_resync: catalog_resync(env),
        whatsapp_web_base_url: env.base_url("WHATSAPP_WEB_BASE_URL", "https://wa.me"),
        fetch_timeout: Duration::from_secs_f64(env.parse("HYDRATE_TIMEOUT_SECONDS", 10.0f64, 0.05..=300.0)),
        fetch_max_bytes: env.parse("HYDRATE_MAX_BYTES", 2 * 1_048_576usize, 1_024..=256 * 1_048_576),
        fetch_per_host: env.parse("HYDRATE_PER_HOST_CONCURRENCY", 16usize, 1..=1_000),
        user_agents: env.get("HYDRATE_USER_AGENTS"),
        fence: fence_settings(env),
    }
}

/// `CATALOG_RESYNC_HOURS`: the age of a catalog's last scout that makes it due again (fractions
/// allowed, at most a year); 0 turns re-sync off.
fn catalog_resync(env: &mut Env<'_>) -> Option<Duration> {
    let value = env.parse("CATALOG_RESYNC_HOURS", 24.0f64, 0.0..=8_760.0);
    (value > 0.0).then(|| hours(value))
}

/// `FETCH_ALLOW_PRIVATE_HOSTS`: `host:port` entries the fetch fence lets reach private addresses.
fn fence_settings(env: &mut Env<'_>) -> FenceSettings {
    let Some(raw) = env.get("FETCH_ALLOW_PRIVATE_HOSTS") else { return FenceSettings::default() };
    FenceSettings::parse_list(&raw).unwrap_or_else(|problems| {
        for problem in problems {
            env.problem(format!("FETCH_ALLOW_PRIVATE_HOSTS: {problem}"));
        }
        FenceSettings::default()
    })
}

fn redis(env: &mut Env<'_>) -> Option<RedisSettings> {
    let prefix = env.get("REDIS_KEY_PREFIX").unwrap_or_else(|| "soko".into());
    let prefix_ok =
        prefix.len() <= 64 && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if !prefix_ok {
        env.problem(format!("REDIS_KEY_PREFIX={prefix:?} must be at most 64 characters of letters, digits, _ - . :"));
    }
    let call_timeout = Duration::from_millis(env.parse("REDIS_TIMEOUT_MS", 100u64, 5..=10_000));
    let url = env.get("REDIS_URL")?;
    let scheme = url.split("://").next().unwrap_or_default();
    if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") || !url.contains("://") {
        env.problem("REDIS_URL must be a redis://host:port[/db] URL (or rediss://, unix://)");
        return None;
    }
    if redis::Client::open(url.as_str()).is_err() {
        env.problem("REDIS_URL is not a valid Redis URL");
        return None;
    }
    Some(RedisSettings { url: SecretString::from(url), key_prefix: prefix, call_timeout })
}

fn role(env: &mut Env<'_>) -> Role {
    let raw = env.get("GATEWAY_ROLE").unwrap_or_else(|| "all".into());
    Role::parse(&raw).unwrap_or_else(|| {
        env.problem(format!("GATEWAY_ROLE={raw:?} must be all, api or worker"));
        Role::All
    })
}

fn log_format(env: &mut Env<'_>) -> LogFormat {
    match env.get("LOG_FORMAT").as_deref() {
        None | Some("pretty") | Some("text") => LogFormat::Pretty,
        Some("json") => LogFormat::Json,
        Some(other) => {
            env.problem(format!("LOG_FORMAT={other:?} must be pretty or json"));
            LogFormat::Pretty
        }
    }
}

fn hours(value: f64) -> Duration {
    Duration::from_secs_f64(value * 3_600.0)
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Config::from_lookup(|key| vars.get(key).cloned())
    }

    #[test]
    fn defaults_follow_the_seed() {
        let config = config(&[("WHATSAPP_INGEST_TOKEN", "t")]).expect("valid");
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8000));
        assert_eq!(config.store.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.ingest.signature_ttl, Duration::from_secs(300));
        assert_eq!(config.ingest.max_body_bytes, 1_048_576);
        assert_eq!(config.ingest.max_messages, 500);
        assert_eq!(config.ingest.content_hash_window, Duration::from_secs(24 * 3_600));
        assert_eq!(config.store.content_hash_window, config.ingest.content_hash_window);
        assert!(config.ingest.hmac_secrets.is_empty());
        assert_eq!(config.ingest.rate_limit_per_token_per_minute, 20 * 120);
    }

    #[test]
    fn catalog_resync_defaults_to_a_day_zero_turns_it_off_and_bad_values_are_refused() {
        let base = ("WHATSAPP_INGEST_TOKEN", "t");
        assert_eq!(config(&[base]).expect("valid").chain.catalog_resync, Some(Duration::from_secs(24 * 3_600)));
        let half = config(&[base, ("CATALOG_RESYNC_HOURS", "0.5")]).expect("valid");
        assert_eq!(half.chain.catalog_resync, Some(Duration::from_secs(1_800)));
        assert_eq!(config(&[base, ("CATALOG_RESYNC_HOURS", "0")]).expect("valid").chain.catalog_resync, None);
        for bad in ["-1", "daily", "9000", "NaN"] {
            let error = config(&[base, ("CATALOG_RESYNC_HOURS", bad)]).expect_err("refused");
            assert!(error.to_string().contains("CATALOG_RESYNC_HOURS"), "{bad}: {error}");
        }
    }

    #[test]
    fn document_settings_default_to_20_mib_and_the_extraction_currency_and_are_validated() {
        let default = config(&[("WHATSAPP_INGEST_TOKEN", "t")]).expect("valid");
        assert_eq!(default.documents.max_bytes, 20 * 1024 * 1024);
        assert_eq!(default.documents.default_currency, "KES");
        let set = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("DOCUMENT_MAX_BYTES", "4096"), ("WHATSAPP_DEFAULT_CURRENCY", "ugx")])
            .expect("valid");
        assert_eq!((set.documents.max_bytes, set.documents.default_currency.as_str()), (4096, "UGX"));
        for bad in ["0", "lots", "2000000000"] {
            let error = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("DOCUMENT_MAX_BYTES", bad)]).expect_err("refused");
            assert!(error.to_string().contains("DOCUMENT_MAX_BYTES"), "{error}");
        }
        assert_eq!(default.documents.ocr_languages, "eng");
        let two = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("DOCUMENT_OCR_LANGUAGES", "eng+swa")]).expect("valid");
        assert_eq!(two.documents.ocr_languages, "eng+swa");
        for bad in ["eng+", "eng -c x", "../eng", "+"] {
            let error = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("DOCUMENT_OCR_LANGUAGES", bad)]).expect_err("refused");
            assert!(error.to_string().contains("DOCUMENT_OCR_LANGUAGES"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn prefer_llm_uses_qc_s_openai_compatible_server_with_its_own_limits() {
        let none = config(&[("WHATSAPP_INGEST_TOKEN", "t")]).expect("valid");
        assert!(none.documents.llm.is_none(), "no LLM unless QC_PROVIDER=openai");
        let gemini = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("QC_PROVIDER", "gemini"), ("GEMINI_API_KEY", "k")]).expect("valid");
        assert!(gemini.documents.llm.is_none(), "only an OpenAI-compatible server");
        let openai = config(&[
            ("WHATSAPP_INGEST_TOKEN", "t"),
            ("QC_PROVIDER", "openai"),
            ("QC_BASE_URL", "http://127.0.0.1:9/v1"),
            ("QC_MODEL", "local-model"),
            ("DOCUMENT_LLM_MAX_ROWS", "200"),
        ])
        .expect("valid");
        let llm = openai.documents.llm.expect("an LLM");
        assert_eq!((llm.base_url.as_str(), llm.model.as_str(), llm.max_rows), ("http://127.0.0.1:9/v1", "local-model", 200));
        assert_eq!(llm.timeout, std::time::Duration::from_secs(60));
        let error = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("DOCUMENT_LLM_MAX_ROWS", "0")]).expect_err("refused");
        assert!(error.to_string().contains("DOCUMENT_LLM_MAX_ROWS"), "{error}");
    }

    #[test]
    fn the_admin_time_zone_defaults_to_nairobi_and_is_validated() {
        let default = config(&[("WHATSAPP_INGEST_TOKEN", "t")]).expect("valid");
        assert_eq!(default.console.time_zone, chrono_tz::Africa::Nairobi);
        let lagos = config(&[
            ("WHATSAPP_INGEST_TOKEN", "t"),
            ("ADMIN_TIME_ZONE", "Africa/Lagos"),
        ])
        .expect("valid");
        assert_eq!(lagos.console.time_zone, chrono_tz::Africa::Lagos);
        let error = config(&[
            ("WHATSAPP_INGEST_TOKEN", "t"),
            ("ADMIN_TIME_ZONE", "Nairobi"),
        ])
        .expect_err("an unknown zone");
        assert!(
            error
                .to_string()
                .contains("ADMIN_TIME_ZONE must be an IANA time zone"),
            "{error}"
        );
    }

    #[test]
    fn the_token_ceiling_follows_the_client_rate_unless_set() {
        let scaled = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", "30")]).expect("valid");
        assert_eq!(scaled.ingest.rate_limit_per_token_per_minute, 600);
        let set = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_INGEST_RATE_LIMIT_PER_TOKEN_PER_MINUTE", "45")]).expect("valid");
        assert_eq!(set.ingest.rate_limit_per_token_per_minute, 45);
        assert!(config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_INGEST_RATE_LIMIT_PER_TOKEN_PER_MINUTE", "0")]).is_err());
    }

    #[test]
    fn webhook_secrets_are_decoded_and_a_bad_one_is_named_by_position() {
        let config = config(&[
            ("WHATSAPP_INGEST_TOKEN", "t"),
            ("WHATSAPP_INGEST_WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_c2Vjb25k"),
        ])
        .expect("valid");
        assert_eq!(config.ingest.webhook_secrets.len(), 2);
        assert_eq!(config.ingest.webhook_secrets[1].key(), b"second");
        let error = self::config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_INGEST_WEBHOOK_SECRETS", "whsec_c2Vjb25k,whsec_%%%")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("WHATSAPP_INGEST_WEBHOOK_SECRETS: secret 2 of the list is not whsec_"), "{error}");
        assert!(!error.contains("%%%"), "{error}");
    }

    #[test]
    fn rotation_lists_are_split_and_trimmed() {
        let config = config(&[("WHATSAPP_INGEST_TOKEN", "old, new"), ("WHATSAPP_INGEST_HMAC_SECRET", "s1,s2,")])
            .expect("valid");
        let tokens: Vec<&str> = config.ingest.tokens.iter().map(|t| t.expose_secret()).collect();
        assert_eq!(tokens, ["old", "new"]);
        assert_eq!(config.ingest.hmac_secrets.len(), 2);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = config(&[
            ("PORT", "eighty"),
            ("WHATSAPP_INGEST_ALLOWED_IPS", "10.0.0.0/8, not-an-ip"),
            ("WHATSAPP_INGEST_MAX_MESSAGES", "0"),
            ("DATABASE_URL", "mysql://x"),
        ])
        .expect_err("invalid");
        let text = error.to_string();
        for needle in ["WHATSAPP_INGEST_TOKEN is required", "PORT=\"eighty\"", "not-an-ip", "WHATSAPP_INGEST_MAX_MESSAGES=0", "mysql"] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        assert_eq!(error.problems.len(), 5);
    }

    #[test]
    fn redis_and_role_are_validated() {
        let plain = config(&[("WHATSAPP_INGEST_TOKEN", "t")]).expect("valid");
        assert!(plain.redis.is_none());
        assert_eq!(plain.role, Role::All);
        let shared = config_with_redis("redis://127.0.0.1:6379/0", "tenant-a").expect("valid");
        let redis = shared.redis.expect("redis configured");
        assert_eq!((redis.key_prefix.as_str(), redis.call_timeout), ("tenant-a", Duration::from_millis(100)));
        let defaults = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("REDIS_URL", "redis://h:6379")]).expect("valid");
        assert_eq!(defaults.redis.map(|r| r.key_prefix).as_deref(), Some("soko"));
        let slow = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("REDIS_URL", "redis://h"), ("REDIS_TIMEOUT_MS", "0")]);
        assert!(slow.expect_err("out of range").to_string().contains("REDIS_TIMEOUT_MS=0"));
        let error = config_with_redis("http://x", "bad prefix!").expect_err("invalid");
        assert_eq!(error.problems.len(), 2, "{error}");
        let error = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("GATEWAY_ROLE", "cron")]).expect_err("invalid");
        assert!(error.to_string().contains("must be all, api or worker"));
        let worker = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("GATEWAY_ROLE", "Worker")]).expect("valid");
        assert!(worker.role.runs_workers() && !worker.role.serves_api());
    }

    fn config_with_redis(url: &str, prefix: &str) -> Result<Config, ConfigError> {
        config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("REDIS_URL", url), ("REDIS_KEY_PREFIX", prefix)])
    }

    #[test]
    fn fetch_allow_private_hosts_is_a_host_port_list() {
        let valid = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("FETCH_ALLOW_PRIVATE_HOSTS", "minio:9000, [::1]:8080")]).expect("valid");
        let hosts: Vec<String> = valid.chain.fence.allow_private_hosts.iter().map(|h| format!("{}:{}", h.host, h.port)).collect();
        assert_eq!(hosts, ["minio:9000", "[::1]:8080"]);
        let error = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("FETCH_ALLOW_PRIVATE_HOSTS", "minio, 10.0.0.1:http")]).expect_err("invalid");
        assert_eq!(error.problems.len(), 2, "{error}");
        assert!(error.to_string().contains("FETCH_ALLOW_PRIVATE_HOSTS: \"minio\" is not host:port"), "{error}");
    }

    #[test]
    fn single_addresses_count_as_host_networks() {
        let config = config(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_TRUSTED_PROXIES", "10.1.2.3,::1")]).expect("valid");
        assert_eq!(config.ingest.trusted_proxies.len(), 2);
        assert_eq!(config.ingest.trusted_proxies[0].prefix_len(), 32);
    }
}
