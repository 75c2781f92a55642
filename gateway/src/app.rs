//! The application's shared state: the services a request handler may use.
//! `startup` builds it once; handlers receive it as `web::Data<AppState>`
//! and depend on these services, never on the start-up code or the raw
//! configuration.

use std::sync::Arc;

use crate::{
    extraction::ExtractionService,
    ingest::{IngestService, auth::TokenVerifier},
    metrics::Metrics,
    pipeline::ServedImages,
    redis_link::RedisLink,
    store::Store,
};

pub struct AppState {
    pub metrics: Arc<Metrics>,
    pub store: Store,
    pub ingest: IngestService,
    pub extraction: Arc<ExtractionService>,
    /// `None` when `ADMIN_TOKEN` is unset: admin routes answer 404.
    pub admin_tokens: Option<TokenVerifier>,
    /// `None` without `REDIS_URL`.
    pub redis: Option<Arc<RedisLink>>,
    /// What `GET /images/{key}` serves.
    pub images: ServedImages,
}
