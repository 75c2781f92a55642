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
    config::Config,
    extraction::{ExtractionConfig, ExtractionService, scheduler},
    http::{self, errors, request_context::request_context},
    ingest::{IngestService, auth::TokenVerifier},
    jobs,
    metrics::Metrics,
    redis_link::RedisLink,
    store::{Store, events},
};

pub struct AppState {
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub store: Store,
    pub ingest: IngestService,
    pub extraction: Arc<ExtractionService>,
    /// `None` when `ADMIN_TOKEN` is unset: admin routes answer 404.
    pub admin_tokens: Option<TokenVerifier>,
    /// `None` without `REDIS_URL`.
    pub redis: Option<Arc<RedisLink>>,
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

const FAILURE_FLUSH_INTERVAL: Duration = Duration::from_millis(500);
const RATE_LIMIT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
const EVENT_LOG_PRUNE_INTERVAL: Duration = Duration::from_secs(30);

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new().context("registering metrics")?);
        let store = Store::open(&config, metrics.clone())
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
        let admin_tokens = config.admin_token.as_ref().map(|token| TokenVerifier::new(std::slice::from_ref(token)));
        if admin_tokens.is_none() {
            tracing::warn!("ADMIN_TOKEN is not set: the admin pages (/admin/…) answer 404");
        }
        let extraction = Arc::new(ExtractionService::new(
            store.db.clone(),
            ExtractionConfig::new(config.default_currency.clone(), config.ingest.default_region),
            metrics.clone(),
        ));
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            config: Arc::new(config),
            metrics,
            store,
            ingest,
            extraction,
            admin_tokens,
            redis: redis.clone(),
        });
        let server = {
            let app_state = state.clone();
            let role = app_state.config.role;
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
            .workers(state.config.http_workers)
            .backlog(2_048)
            .client_request_timeout(Duration::from_secs(10))
            .shutdown_timeout(state.config.shutdown_timeout.as_secs())
            .disable_signals()
            .listen(listener)?
            .run()
        };
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let role = state.config.role;
        tasks.spawn(flush_failures(state.clone(), shutdown.clone()));
        if role.serves_api() {
            tasks.spawn(sweep_rate_limits(state.clone(), shutdown.clone()));
        }
        if role.runs_workers() {
            tasks.spawn(prune_event_log(state.clone(), shutdown.clone()));
            tasks.spawn(scheduler::run(state.extraction.clone(), shutdown.clone()));
        }
        start_product_chain(&state, &shutdown, &tasks).await?;
        if let Some(link) = redis {
            tasks.spawn(link.run_probe(shutdown.clone()));
        }
        tracing::info!(
            address = %format!("{}:{port}", state.config.host),
            database = state.store.backend_name(),
            role = role.name(),
            redis = state.config.redis.is_some(),
            "gateway listening"
        );
        Ok(Self { port, server, state, shutdown, tasks })
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

/// The product chain's queue workers, heartbeat and queue-depth sampler (issue #4).
async fn start_product_chain(state: &web::Data<AppState>, shutdown: &CancellationToken, tasks: &TaskTracker) -> anyhow::Result<()> {
    let chain = &state.config.chain;
    let db = state.store.db.clone();
    tasks.spawn(jobs::background::sample_queue_depth(db.clone(), state.metrics.clone(), shutdown.clone()));
    if !chain.workers || !state.config.role.runs_workers() {
        tracing::info!(role = state.config.role.name(), "this process runs no product-chain jobs (JOB_WORKERS off or --role api)");
        return Ok(());
    }
    let mut stages: Vec<Arc<dyn jobs::Stage>> = crate::pipeline::fetch_stages(&db, chain).context("building the scout and hydrate stages")?;
    // Embed, quality control and persist (pipeline::media).
    let media = crate::pipeline::media::stages::build(&state.config.media, &db, state.metrics.clone(), state.redis.clone(), chain.job_concurrency).await?;
    stages.extend(media);
    let settings = jobs::RuntimeSettings { lease: chain.job_lease, poll: chain.job_poll };
    jobs::JobRuntime::spawn(db.clone(), state.metrics.clone(), stages, settings, shutdown.clone(), tasks);
    tasks.spawn(jobs::background::heartbeat(db, chain.heartbeat, shutdown.clone()));
    Ok(())
}

async fn flush_failures(state: web::Data<AppState>, shutdown: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            () = shutdown.cancelled() => true,
            () = tokio::time::sleep(FAILURE_FLUSH_INTERVAL) => false,
        };
        let flush = state.ingest.failures.take();
        if !flush.is_empty() {
            match state.store.record_failures(clone_flush(&flush)).await {
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

fn clone_flush(flush: &crate::ingest::failures::FailureFlush) -> crate::ingest::failures::FailureFlush {
    crate::ingest::failures::FailureFlush {
        records: flush.records.clone(),
        counter_deltas: flush.counter_deltas.clone(),
        keep_rows: flush.keep_rows,
    }
}

async fn prune_event_log(state: web::Data<AppState>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(EVENT_LOG_PRUNE_INTERVAL) => {
                if let Err(error) = events::prune(&state.store.db, i64::from(state.config.event_log_max_rows)).await {
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
            () = tokio::time::sleep(RATE_LIMIT_SWEEP_INTERVAL) => state.ingest.rate_limiter.sweep(),
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
