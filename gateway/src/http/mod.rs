//! The HTTP surface: routes, the request context middleware and the error
//! registry. Handlers are thin: they pull what they need from [`AppState`]
//! and call into `ingest`, `store` or the pipeline.

pub mod errors;
pub mod ingest;
pub mod ops;
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
        .route("/metrics/whatsapp", web::get().to(ops::whatsapp_metrics));
}
