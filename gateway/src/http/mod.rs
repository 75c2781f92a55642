//! The HTTP surface: routes, the request context middleware and the error
//! registry. Handlers are thin: they pull what they need from [`AppState`]
//! and call into `ingest`, `store` or the pipeline.

pub mod admin;
pub mod admin_views;
pub mod auth;
pub mod body;
pub mod diagnostics;
pub mod errors;
pub mod extract_latest;
pub mod images;
pub mod ingest;
pub mod jobs_admin;
pub mod jobs_views;
pub mod market;
pub mod ops;
pub mod privacy;
pub mod products;
pub mod request_context;

use actix_web::web;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::JsonConfig::default().limit(1_048_576).error_handler(errors::json_extractor_error))
        .app_data(web::QueryConfig::default().error_handler(errors::query_extractor_error))
        .app_data(web::PathConfig::default().error_handler(errors::path_extractor_error))
        .route("/integrations/whatsapp/ingest", web::post().to(ingest::ingest))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::prometheus))
        .route("/metrics/whatsapp", web::get().to(ops::whatsapp_metrics))
        .route("/integrations/whatsapp/chats/{chat_id}/extract-latest", web::post().to(extract_latest::extract_latest))
        .route("/admin/whatsapp", web::get().to(admin::list))
        .route("/admin/whatsapp/{chat_id}", web::get().to(admin::detail))
        .route("/admin/whatsapp/{chat_id}", web::post().to(admin::map))
        .route("/offers", web::get().to(market::offers))
        .route("/vendors", web::get().to(market::vendors))
        .route("/price-history/product/{id}", web::get().to(market::price_history))
        .route("/admin/jobs", web::get().to(jobs_admin::overview))
        .route("/admin/jobs/retry-dead", web::post().to(jobs_admin::retry_dead))
        .route("/admin/jobs/{id}/retry", web::post().to(jobs_admin::retry_one))
        .route("/products", web::get().to(products::list))
        .route("/products/{product_id}", web::get().to(products::detail))
        .route("/chat/tools/diagnostics", web::get().to(diagnostics::diagnostics))
        .route("/chat/tools/diagnostics/logs", web::get().to(diagnostics::logs))
        .route("/images/{key:.*}", web::get().to(images::serve));
}

/// A `worker` process serves only health, readiness and metrics.
pub fn worker_routes(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::prometheus));
}
