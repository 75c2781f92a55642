//! The HTTP surface: routes, the request context middleware and the error
//! registry. Handlers are thin: they pull what they need from [`AppState`]
//! and call into `ingest`, `store` or the pipeline.

pub mod access;
pub mod admin;
pub mod admin_documents;
pub mod admin_senders;
pub mod admin_views;
pub mod auth;
pub mod body;
pub mod diagnostics;
pub mod docs;
pub mod errors;
pub mod extract_latest;
pub mod images;
pub mod ingest;
pub mod jobs_admin;
pub mod list_cursor;
pub mod market;
pub mod meta;
pub mod openapi;
pub mod ops;
pub mod price_history;
pub mod products;
pub mod purge;
pub mod request_context;
pub mod route_table;
pub mod views;
pub mod search;
pub mod search_page;
pub mod similar;
pub mod document_files;
pub mod documents;

use actix_web::web;

use route_table::{Access::*, Operation, Resource, RouteTable};

/// The route table of an API process. Each resource is registered with the credential it takes
/// (see `access` and the README's access table); `Public` routes have no guard. Every route goes
/// through [`RouteTable`], and each one needs an entry in the OpenAPI document (`openapi.rs`):
/// its drift test compares the two.
pub fn routes(config: &mut web::ServiceConfig) {
    register_api(config);
}

/// Registers the API routes and returns what was registered (for the drift test).
pub fn register_api(config: &mut web::ServiceConfig) -> Vec<Operation> {
    let mut table = RouteTable::new(config);
    table
        .app_data(web::JsonConfig::default().limit(1_048_576).error_handler(errors::json_extractor_error))
        .app_data(web::QueryConfig::default().error_handler(errors::query_extractor_error))
        .app_data(web::PathConfig::default().error_handler(errors::path_extractor_error))
        // Public: the ingest path authenticates itself (token, signature); health; product images;
        // the API's own description.
        .add(Resource::new(Public, "/integrations/whatsapp/ingest").post(ingest::ingest))
        // The WhatsApp Cloud API: its verify token and app-secret signature (404 when off).
        .add(Resource::new(Public, "/integrations/whatsapp/meta").get(meta::verify).post(meta::receive))
        .add(Resource::new(Public, "/healthz").get(ops::healthz))
        .add(Resource::new(Public, "/readyz").get(ops::readyz))
        .add(Resource::new(Public, "/images/{key:.*}").get(images::serve))
        .add(Resource::new(Public, "/admin/assets/admin.css").get(admin_views::stylesheet))
        .add(Resource::new(Public, "/openapi.json").get(openapi::document))
        .add(Resource::new(Public, "/docs").get(docs::index))
        .add(Resource::new(Public, "/docs/{file:.*}").get(docs::asset))
        // Totals for everyone; per-chat counters and failures with a read or admin token.
        .add(Resource::new(Public, "/metrics/whatsapp").get(ops::whatsapp_metrics))
        .add(Resource::new(MetricsReaders, "/metrics").get(ops::prometheus))
        // The ingest token, or the admin token (checked by the handler).
        .add(Resource::new(Public, "/integrations/whatsapp/chats/{chat_id}/extract-latest").post(extract_latest::extract_latest))
        .add(Resource::new(Readers, "/offers").get(market::offers))
        .add(Resource::new(Readers, "/vendors").get(market::vendors))
        .add(Resource::new(Readers, "/price-history/product/{id}").get(price_history::price_history))
        .add(Resource::new(Readers, "/search").get(search::search))
        .add(Resource::new(Readers, "/products").get(products::list))
        .add(Resource::new(Readers, "/products/{product_id}").get(products::detail))
        .add(Resource::new(Readers, "/products/{product_id}/similar").get(similar::similar))
        .add(Resource::new(Readers, "/search/image").post(similar::search_image))
        .add(Resource::new(Readers, "/documents").get(documents::list).post(documents::upload))
        .add(Resource::new(Readers, "/documents/templates/vendor-price").get(document_files::vendor_price_template))
        .add(Resource::new(Readers, "/documents/{id}").get(documents::detail))
        .add(Resource::new(Readers, "/documents/{id}/file").get(document_files::file))
        .add(Resource::new(Operators, "/chat/tools/diagnostics").get(diagnostics::diagnostics))
        .add(Resource::new(Operators, "/chat/tools/diagnostics/logs").get(diagnostics::logs))
        .add(Resource::new(Admins, "/admin/whatsapp").get(admin::list))
        .add(Resource::new(Admins, "/admin/whatsapp/{chat_id}").get(admin::detail).post(admin::map))
        .add(Resource::new(Admins, "/admin/purge").post(purge::purge))
        .add(Resource::new(Admins, "/admin/whatsapp/{chat_id}/senders").get(admin_senders::list).post(admin_senders::map))
        .add(Resource::new(Admins, "/admin/documents").get(admin_documents::list))
        .add(Resource::new(Admins, "/admin/documents/{id}").get(admin_documents::detail))
        .add(Resource::new(Admins, "/admin/jobs").get(jobs_admin::overview))
        .add(Resource::new(Admins, "/admin/jobs/retry-dead").post(jobs_admin::retry_dead))
        .add(Resource::new(Admins, "/admin/jobs/{id}/retry").post(jobs_admin::retry_one));
    table.into_operations()
}

/// A `worker` process serves only health, readiness and metrics.
pub fn worker_routes(config: &mut web::ServiceConfig) {
    register_worker(config);
}

/// Registers the worker routes and returns what was registered (for the drift test).
pub fn register_worker(config: &mut web::ServiceConfig) -> Vec<Operation> {
    let mut table = RouteTable::new(config);
    table
        .add(Resource::new(Public, "/healthz").get(ops::healthz))
        .add(Resource::new(Public, "/readyz").get(ops::readyz))
        .add(Resource::new(MetricsReaders, "/metrics").get(ops::prometheus));
    table.into_operations()
}
