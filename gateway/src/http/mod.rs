//! The HTTP surface: routes, the request context middleware and the error
//! registry. Handlers are thin: they pull what they need from [`AppState`]
//! and call into `ingest`, `store` or the pipeline.

pub mod access;
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
pub mod meta;
pub mod ops;
pub mod products;
pub mod request_context;

use actix_web::{middleware::from_fn, web};

/// The route table. Each resource is wrapped with the credential it takes (see `access` and
/// the README's access table); routes without a guard are public.
pub fn routes(config: &mut web::ServiceConfig) {
    let readers = |path: &str| web::resource(path.to_owned()).wrap(from_fn(access::readers));
    let operators = |path: &str| web::resource(path.to_owned()).wrap(from_fn(access::operators));
    let admins = |path: &str| web::resource(path.to_owned()).wrap(from_fn(access::admins));
    config
        .app_data(web::JsonConfig::default().limit(1_048_576).error_handler(errors::json_extractor_error))
        .app_data(web::QueryConfig::default().error_handler(errors::query_extractor_error))
        .app_data(web::PathConfig::default().error_handler(errors::path_extractor_error))
        // Public: the ingest path authenticates itself (token, signature); health; product images.
        .route("/integrations/whatsapp/ingest", web::post().to(ingest::ingest))
        // The WhatsApp Cloud API: its verify token and app-secret signature (404 when off).
        .service(web::resource("/integrations/whatsapp/meta").route(web::get().to(meta::verify)).route(web::post().to(meta::receive)))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/images/{key:.*}", web::get().to(images::serve))
        .route("/admin/assets/admin.css", web::get().to(admin_views::stylesheet))
        // Totals for everyone; per-chat counters and failures with a read or admin token.
        .route("/metrics/whatsapp", web::get().to(ops::whatsapp_metrics))
        .service(web::resource("/metrics").wrap(from_fn(access::metrics_readers)).route(web::get().to(ops::prometheus)))
        // The ingest token, or the admin token (checked by the handler).
        .route("/integrations/whatsapp/chats/{chat_id}/extract-latest", web::post().to(extract_latest::extract_latest))
        .service(readers("/offers").route(web::get().to(market::offers)))
        .service(readers("/vendors").route(web::get().to(market::vendors)))
        .service(readers("/price-history/product/{id}").route(web::get().to(market::price_history)))
        .service(readers("/products").route(web::get().to(products::list)))
        .service(readers("/products/{product_id}").route(web::get().to(products::detail)))
        .service(operators("/chat/tools/diagnostics").route(web::get().to(diagnostics::diagnostics)))
        .service(operators("/chat/tools/diagnostics/logs").route(web::get().to(diagnostics::logs)))
        .service(admins("/admin/whatsapp").route(web::get().to(admin::list)))
        .service(admins("/admin/whatsapp/{chat_id}").route(web::get().to(admin::detail)).route(web::post().to(admin::map)))
        .service(admins("/admin/jobs").route(web::get().to(jobs_admin::overview)))
        .service(admins("/admin/jobs/retry-dead").route(web::post().to(jobs_admin::retry_dead)))
        .service(admins("/admin/jobs/{id}/retry").route(web::post().to(jobs_admin::retry_one)));
}

/// A `worker` process serves only health, readiness and metrics.
pub fn worker_routes(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .service(web::resource("/metrics").wrap(from_fn(access::metrics_readers)).route(web::get().to(ops::prometheus)));
}
