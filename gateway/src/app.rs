//! The application's shared state: the services a request handler may use,
//! and who may read what ([`Access`]). `startup` builds it once; handlers
//! receive it as `web::Data<AppState>` and depend on these services, never
//! on the start-up code or the raw configuration.

use std::sync::Arc;

use ipnet::IpNet;
use secrecy::SecretString;

use crate::{
    documents::{ArtefactBackend, ArtefactError, ArtefactStore, DocumentSettings, LocalArtefacts},
    extraction::ExtractionService,
    ingest::{IngestService, auth::TokenVerifier, meta::MetaReceiver},
    metrics::Metrics,
    pipeline::{S3Settings, S3Store, ServedImages},
    redis_link::RedisLink,
    search::SearchService,
    semantic::SemanticIndex,
    store::Store,
};

pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub store: Store,
    pub ingest: IngestService,
    /// The WhatsApp Cloud API webhook; `None` without `META_APP_SECRET` (404).
    pub meta: Option<MetaReceiver>,
    pub extraction: Arc<ExtractionService>,
    pub access: Access,
    /// `None` without `REDIS_URL`.
    pub redis: Option<Arc<RedisLink>>,
    /// What `GET /images/{key}` serves.
    pub images: ServedImages,
    /// How the admin console shows times.
    pub console: ConsoleSettings,
    /// `GET /search`.
    pub search: SearchService,
    /// Semantic and visual search: the models (when configured) and the in-process vector index.
    pub semantic: Arc<SemanticIndex>,
    /// Vendor document imports (`POST /documents`).
    pub documents: Arc<DocumentSettings>,
    /// Where uploaded documents are kept (`DOCUMENT_STORE`).
    pub artefacts: Arc<dyn ArtefactStore>,
}

/// The document store the settings name. `DOCUMENT_STORE=s3` uses the pipeline's S3 client (one
/// bucket configuration for images and documents); `config` has checked that `s3` is present.
pub async fn artefact_store(settings: &DocumentSettings, s3: Option<&S3Settings>) -> Arc<dyn ArtefactStore> {
    match (&settings.artefacts, s3) {
        (ArtefactBackend::S3, Some(s3)) => Arc::new(S3Artefacts(S3Store::connect(s3).await)),
        (ArtefactBackend::Local { dir }, _) => Arc::new(LocalArtefacts::new(dir)),
        (ArtefactBackend::S3, None) => Arc::new(LocalArtefacts::new(DocumentSettings::DEFAULT_STORAGE_DIR.as_ref())),
    }
}

/// `DOCUMENT_STORE=s3`: documents as objects beside the images.
struct S3Artefacts(S3Store);

#[async_trait::async_trait]
impl ArtefactStore for S3Artefacts {
    fn kind(&self) -> &'static str {
        "s3"
    }

    async fn put(&self, key: &str, bytes: bytes::Bytes, media_type: &str) -> Result<(), ArtefactError> {
        self.0.put(key, bytes, media_type).await.map(|_| ()).map_err(|e| ArtefactError::S3(e.to_string()))
    }

    async fn get(&self, key: &str) -> Result<Option<bytes::Bytes>, ArtefactError> {
        self.0.get(key).await.map_err(|e| ArtefactError::S3(e.to_string()))
    }
}

/// The admin console's settings (`ADMIN_TIME_ZONE`): the operator's time zone,
/// in which every page shows WhatsApp times.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSettings {
    pub time_zone: chrono_tz::Tz,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Africa::Nairobi,
        }
    }
}

/// The read side's credentials (`ADMIN_TOKEN`, `API_READ_TOKEN`,
/// `METRICS_TOKEN`) and the proxies whose forwarded headers are believed
/// (`WHATSAPP_TRUSTED_PROXIES`), as `config` reads them.
#[derive(Debug, Clone, Default)]
pub struct AccessSettings {
    pub admin_token: Option<SecretString>,
    /// Every listed token is accepted (rotation).
    pub read_tokens: Vec<SecretString>,
    /// When set, `/metrics` needs one of these as a bearer token.
    pub metrics_tokens: Vec<SecretString>,
    pub trusted_proxies: Vec<IpNet>,
}

/// The verifiers built from [`AccessSettings`]; `http/auth.rs` applies them.
pub struct Access {
    /// `None` when `ADMIN_TOKEN` is unset: admin routes answer 404.
    pub admin: Option<TokenVerifier>,
    /// `None` when `API_READ_TOKEN` is unset: reads need the admin token.
    pub read: Option<TokenVerifier>,
    /// `None` when `METRICS_TOKEN` is unset: `/metrics` is anonymous.
    pub metrics: Option<TokenVerifier>,
    pub trusted_proxies: Vec<IpNet>,
}

impl Access {
    pub fn new(settings: &AccessSettings) -> Self {
        let verifier = |tokens: &[SecretString]| (!tokens.is_empty()).then(|| TokenVerifier::new(tokens));
        Self {
            admin: settings.admin_token.as_ref().map(|token| TokenVerifier::new(std::slice::from_ref(token))),
            read: verifier(&settings.read_tokens),
            metrics: verifier(&settings.metrics_tokens),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// Whether `peer` is a proxy whose `X-Forwarded-*` headers count.
    pub fn is_trusted_proxy(&self, peer: std::net::IpAddr) -> bool {
        let peer = match peer {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.trusted_proxies.iter().any(|net| net.contains(&peer))
    }
}
