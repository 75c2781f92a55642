//! The status server on `PORT`: `GET /healthz` for liveness and
//! `GET /metrics` (Prometheus text, or JSON with `?format=json`).
//!
//! `/healthz` answers `{"status":"ok","messages":{…}}`, or
//! `{"status":"degraded","reason":…,"messages":{…}}` while the gateway
//! refuses our credentials. `messages` counts what the long-running
//! commands (`relay`, `watch`) did since start: `created`, `duplicate`,
//! `rejected` (and `rejected_batches`, kept in `rejected/`), and what
//! waits in the spool now (`waiting`, `waiting_batches`). Both are HTTP 200: the
//! process is alive and keeps every batch in its spool, and a liveness
//! probe that restarted it on 503 would fix nothing (the credentials stay
//! wrong) while dropping the relay's webhooks during each restart. Alert on
//! the body or on `collector_auth_failing` instead.

use crate::metrics::Metrics;
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::task::AbortOnDropHandle;

/// An actix server running on the current tokio runtime.
pub struct RunningServer {
    addr: SocketAddr,
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
    /// Tasks that live as long as the server (the relay's insecure-mode
    /// warning); dropped, and so stopped, with it.
    companions: Vec<AbortOnDropHandle<()>>,
}

impl RunningServer {
    pub(crate) fn spawn(addr: SocketAddr, server: actix_web::dev::Server) -> Self {
        let handle = server.handle();
        Self { addr, handle, task: tokio::spawn(server), companions: Vec::new() }
    }

    pub(crate) fn with_companion(mut self, task: Option<AbortOnDropHandle<()>>) -> Self {
        self.companions.extend(task);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and lets in-flight requests finish.
    pub async fn stop(self) {
        drop(self.companions);
        self.handle.stop(true).await;
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "server ended with an error"),
            Err(error) => tracing::error!(%error, "server task failed"),
        }
    }
}

#[derive(serde::Deserialize)]
struct MetricsQuery {
    format: Option<String>,
}

async fn healthz(metrics: web::Data<Arc<Metrics>>) -> HttpResponse {
    let snapshot = metrics.snapshot();
    let counts = serde_json::json!({
        "created": snapshot.messages_created,
        "duplicate": snapshot.messages_duplicate,
        "waiting": snapshot.messages_waiting.max(0),
        "waiting_batches": snapshot.spool_depth.max(0),
        "rejected": snapshot.messages_rejected,
        "rejected_batches": snapshot.batches_rejected,
    });
    match metrics.auth_failure() {
        None => HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "messages": counts })),
        Some(reason) => HttpResponse::Ok().json(serde_json::json!({ "status": "degraded", "reason": reason, "messages": counts })),
    }
}

async fn metrics(metrics: web::Data<Arc<Metrics>>, query: web::Query<MetricsQuery>) -> HttpResponse {
    if query.format.as_deref() == Some("json") {
        return HttpResponse::Ok().json(metrics.snapshot());
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.prometheus_text())
}

/// Routes shared by the status server and the relay.
pub fn configure(metrics: Arc<Metrics>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config.app_data(web::Data::new(metrics.clone())).route("/healthz", web::get().to(healthz)).route("/metrics", web::get().to(self::metrics));
    }
}

/// Starts the status server on an already bound listener (port 0 in tests).
pub fn start_status_server(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let routes = configure(metrics);
    let server = HttpServer::new(move || App::new().configure(routes.clone())).workers(1).disable_signals().shutdown_timeout(5).listen(listener)?.run();
    Ok(RunningServer::spawn(addr, server))
}
