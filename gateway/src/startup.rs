//! Building and running the application (zero2prod's `startup.rs` shape):
//! [`Application::build`] opens the store, binds the listener (port 0 works
//! for tests) and prepares the server; [`Application::run_until_stopped`]
//! serves until the shutdown token fires, then stops accepting, lets
//! in-flight requests finish, flushes the failure log and drains the writer,
//! so nothing acknowledged is lost.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware::from_fn, web};
use anyhow::Context;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    app::{Access, AppState},
    config::Config,
    documents,
    extraction::{ExtractionService, scheduler},
    http::{self, errors, request_context::request_context},
    ingest::{IngestService, meta::MetaReceiver},
    jobs,
    metrics::Metrics,
    pipeline::{self, ServedImages},
    redis_link::RedisLink,
    search::{SearchService, semantic_text::SemanticTextRetriever},
    semantic::{self, ImageQueries, SemanticIndex, TextEncoder},
    store::{Store, events},
};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    config: Arc<Config>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

const FAILURE_FLUSH_INTERVAL: Duration = Duration::from_millis(500);
const RATE_LIMIT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
const EVENT_LOG_PRUNE_INTERVAL: Duration = Duration::from_secs(30);

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new().context("registering metrics")?);
        let store = Store::open(&config.store, metrics.clone())
            .await
            .with_context(|| format!("opening the {} database", if config.is_postgres() { "PostgreSQL" } else { "SQLite" }))?;
        let mut ingest = IngestService::new(config.ingest.clone(), metrics.clone());
        let redis = match &config.redis {
            Some(redis) => {
                let link = RedisLink::new(redis, &metrics)
                    .context("setting up the Redis link")?;
                ingest.use_redis(link.clone(), config.is_postgres()).context("registering the Redis metrics")?;
                Some(link)
            }
            None => {
                if config.is_postgres() && config.role.serves_api() {
                    tracing::warn!(
                        "PostgreSQL without REDIS_URL: with several gateways each one rate-limits on its own \
                         (N replicas allow N times the rate); set REDIS_URL to share the limit"
                    );
                }
                None
            }
        };
        if !ingest.hmac_enabled() {
            tracing::warn!(
                "WHATSAPP_INGEST_HMAC_SECRET is not set: ingest checks the token only, request bodies are not signed"
            );
        }
        if ingest.standard_webhooks_enabled() {
            tracing::info!("WHATSAPP_INGEST_WEBHOOK_SECRETS is set: Standard Webhooks deliveries are accepted without a token");
        }
        let meta = MetaReceiver::new(&config.meta, &metrics).context("registering the Meta metrics")?;
        if meta.is_none() {
            tracing::info!("META_APP_SECRET is not set: the WhatsApp Cloud API webhook (/integrations/whatsapp/meta) answers 404");
        }
        let access = Access::new(&config.access);
        if access.admin.is_none() {
            tracing::warn!("ADMIN_TOKEN is not set: the admin pages (/admin/…) answer 404");
        }
        if access.read.is_none() {
            tracing::warn!("API_READ_TOKEN is not set: /offers, /products and the other reads answer 401 to all but the admin token");
        }
        let extraction = Arc::new(ExtractionService::new(
            store.db.clone(),
            config.extraction.clone(),
            metrics.clone(),
        ));
        let filled = crate::store::search_index::backfill(&store.db).await.context("filling the search text of older listings")?;
        if filled > 0 {
            tracing::info!(listings = filled, "search text filled for listings written before the search index");
        }
        let semantic = build_semantic(&config, &store, metrics.clone()).await?;
        // Full text always; MiniLM vectors fused in when SEARCH_TEXT_MODEL_DIR is set.
        let search = SearchService::new(store.db.clone(), &config.search, redis.clone(), &metrics)
            .context("registering the search metrics")?
            .with_retriever(Arc::new(SemanticTextRetriever::new(store.db.clone(), semantic.clone())));
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let artefacts = crate::app::artefact_store(&config.documents, config.documents_s3.as_ref()).await;
        let state = web::Data::new(AppState {
            metrics,
            store,
            ingest,
            meta,
            extraction,
            access,
            redis: redis.clone(),
            images: ServedImages::from_settings(&config.media.image_store),
            console: config.console,
            search,
            semantic,
            documents: Arc::new(config.documents.clone()),
            artefacts,
        });
        let config = Arc::new(config);
        let server = {
            let app_state = state.clone();
            let role = config.role;
            HttpServer::new(move || {
                App::new()
                    .app_data(app_state.clone())
                    .wrap(from_fn(request_context))
                    .configure(|routes| match role.serves_api() {
                        true => http::routes(routes),
                        false => http::worker_routes(routes),
                    })
                    .default_service(web::to(errors::not_found))
            })
            .workers(config.http_workers)
            .backlog(2_048)
            .client_request_timeout(Duration::from_secs(10))
            .shutdown_timeout(config.shutdown_timeout.as_secs())
            .disable_signals()
            .listen(listener)?
            .run()
        };
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let role = config.role;
        tasks.spawn(flush_failures(state.clone(), shutdown.clone()));
        if role.serves_api() {
            tasks.spawn(sweep_rate_limits(state.clone(), shutdown.clone()));
        }
        if role.runs_workers() {
            tasks.spawn(prune_event_log(state.clone(), config.event_log_max_rows, shutdown.clone()));
            tasks.spawn(scheduler::run(state.extraction.clone(), shutdown.clone()));
        }
        if role.serves_api() {
            semantic::follow::start(state.semantic.clone(), shutdown.clone(), &tasks);
        }
        start_product_chain(&state, &config, &shutdown, &tasks).await?;
        if let Some(link) = redis {
            tasks.spawn(link.run_probe(shutdown.clone()));
        }
        tracing::info!(
            address = %format!("{}:{port}", config.host),
            database = state.store.backend_name(),
            role = role.name(),
            redis = config.redis.is_some(),
            "gateway listening"
        );
        Ok(Self { port, server, state, config, shutdown, tasks })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancel this token to stop the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { server, state, shutdown, tasks, .. } = self;
        let handle = server.handle();
        let stopper = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                tracing::info!("shutting down: no new connections, finishing in-flight requests");
                handle.stop(true).await;
            })
        };
        let served = server.await;
        shutdown.cancel();
        let _ = stopper.await;
        tasks.close();
        tasks.wait().await;
        state.store.close().await;
        tracing::info!("gateway stopped");
        served.context("HTTP server failed")
    }
}

/// The product chain's queue workers, heartbeat, catalog re-sync and queue-depth sampler (issues #4, #16).
async fn start_product_chain(
    state: &web::Data<AppState>,
    config: &Config,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> anyhow::Result<()> {
    let chain = &config.chain;
    let db = state.store.db.clone();
    tasks.spawn(jobs::background::sample_queue_depth(db.clone(), state.metrics.clone(), shutdown.clone()));
    if !chain.workers || !config.role.runs_workers() {
        tracing::info!(role = config.role.name(), "this process runs no product-chain jobs (JOB_WORKERS off or --role api)");
        return Ok(());
    }
    let mut stages = pipeline::build_stages(&db, chain, &config.media, state.metrics.clone(), state.redis.clone()).await?;
    let text_model = state.semantic.text_model();
    if let Some(stage) = semantic::listing_job::stage(&db, text_model, config.semantic.embed_batch, config.semantic.concurrency) {
        stages.push(stage);
        tasks.spawn(semantic::listing_job::sweep(db.clone(), config.semantic.poll, shutdown.clone()));
    }
    stages.push(Arc::new(documents::import::ImportStage::new(db.clone(), state.documents.clone(), state.artefacts.clone())));
    let settings = jobs::RuntimeSettings { lease: chain.job_lease, poll: chain.job_poll };
    jobs::JobRuntime::spawn(db.clone(), state.metrics.clone(), stages, settings, shutdown.clone(), tasks);
    if let Some(every) = chain.catalog_resync {
        tasks.spawn(pipeline::resync_catalogs(db.clone(), every, shutdown.clone()));
    }
    tasks.spawn(jobs::background::heartbeat(db, chain.heartbeat, shutdown.clone()));
    Ok(())
}

/// The semantic index and its models: the MiniLM text model when `SEARCH_TEXT_MODEL_DIR` is set,
/// and the embed stage's SigLIP model (the same loaded copy) for image queries.
async fn build_semantic(config: &Config, store: &Store, metrics: Arc<Metrics>) -> anyhow::Result<Arc<SemanticIndex>> {
    let settings = config.semantic.clone();
    let text = match settings.text_model_dir.clone() {
        Some(dir) => {
            let ort = settings.ort_dylib_path.clone();
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let shown = dir.display().to_string();
            let encoder = tokio::task::spawn_blocking(move || TextEncoder::load(&dir, ort.as_deref(), threads))
                .await
                .context("the text model loading thread failed")?
                .with_context(|| format!("loading the semantic text model from SEARCH_TEXT_MODEL_DIR={shown}"))?;
            tracing::info!(model_id = encoder.model_id(), dim = encoder.dim(), "semantic text search ready");
            Some(encoder)
        }
        None => {
            tracing::warn!("SEARCH_TEXT_MODEL_DIR is not set: semantic text search is off (scripts/export_minilm.py exports the model)");
            None
        }
    };
    let image = match pipeline::shared_embedder(&config.media).await? {
        Some((embedder, model_id)) => Some(ImageQueries {
            embedder,
            model_id,
            fetcher: pipeline::query_image_fetcher(&config.chain, &config.media, metrics)?,
            max_image_bytes: config.media.max_image_bytes,
        }),
        None => None,
    };
    Ok(SemanticIndex::new(store.db.clone(), settings, text, image))
}

async fn flush_failures(state: web::Data<AppState>, shutdown: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            () = shutdown.cancelled() => true,
            () = tokio::time::sleep(FAILURE_FLUSH_INTERVAL) => false,
        };
        let flush = state.ingest.failures.take();
        if !flush.is_empty() {
            match state.store.record_failures(flush.clone()).await {
                Ok(()) => state.ingest.failures.acknowledge(&flush),
                Err(error) => {
                    tracing::warn!(error = %error, "could not write the failures log; will retry");
                    state.ingest.failures.restore();
                }
            }
        }
        if stopping {
            break;
        }
    }
}

async fn prune_event_log(state: web::Data<AppState>, keep_rows: u32, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(EVENT_LOG_PRUNE_INTERVAL) => {
                if let Err(error) = events::prune(&state.store.db, i64::from(keep_rows)).await {
                    tracing::warn!(error = %error, "could not prune the event log");
                }
            }
        }
    }
}

async fn sweep_rate_limits(state: web::Data<AppState>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(RATE_LIMIT_SWEEP_INTERVAL) => {
                state.ingest.rate_limiter.sweep();
                state.ingest.token_ceiling.sweep();
            }
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(error = %error, "cannot listen for SIGTERM; only Ctrl-C stops the gateway");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// `gateway purge --client-prefix …`: opens the configured store (on the
/// SQLite default this takes the database's process lock, so it refuses to
/// run beside a gateway on the same file: use `POST /admin/purge` there),
/// removes or counts the prefix's data in one transaction, and closes it.
pub async fn purge_clients(config: &Config, prefix: &str, dry_run: bool) -> anyhow::Result<crate::store::purge::PurgeCounts> {
    let prefix = crate::store::purge::ClientPrefix::parse(prefix)?;
    let metrics = Arc::new(Metrics::new().context("registering metrics")?);
    let store = Store::open(&config.store, metrics).await.context("opening the database")?;
    let counts = store.purge_clients(prefix, dry_run).await;
    store.close().await;
    counts.context("purging")
}
