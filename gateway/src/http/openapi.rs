//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the answer types' `ToSchema` derives, served at
//! `GET /openapi.json`. It also names the credentials (security schemes) and
//! the error sets the routes answer with, in the one JSON error shape.
//! Its test compares the document with the route table (`route_table.rs`).

use std::{collections::BTreeMap, sync::LazyLock};

use actix_web::HttpResponse;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, ContentBuilder, RefOr, ResponseBuilder,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::{admin, admin_documents, admin_senders, diagnostics, docs, document_files, documents, errors, extract_latest, images, ingest, jobs_admin, market, meta, ops, price_history, products, purge, search, similar};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Soko Ingest",
        description = "Signed WhatsApp message batches in; offers, vendors, price history and products out. \
            Every error answers `{\"error\": {\"code\", \"message\", \"request_id\"}}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        ingest::ingest, ops::healthz, ops::readyz, images::serve, super::admin_views::stylesheet, document,
        docs::index, docs::asset, ops::whatsapp_metrics, ops::prometheus, extract_latest::extract_latest,
        market::offers, market::vendors, price_history::price_history, search::search, products::list, products::detail, similar::search_image, similar::similar,
        documents::upload, documents::list, documents::detail, admin_documents::list, admin_documents::detail, document_files::file, document_files::vendor_price_template,
        diagnostics::diagnostics, diagnostics::logs, admin::list, admin::detail, admin::map,
        admin_senders::list, admin_senders::map,
        jobs_admin::overview, jobs_admin::retry_dead, jobs_admin::retry_one, meta::verify, meta::receive,
        purge::purge,
    ),
    components(schemas(errors::ErrorBody)),
    modifiers(&Credentials),
    tags(
        (name = "ingest", description = "Message batches from collectors"),
        (name = "read", description = "Offers, vendors, price history, products and search (read or admin token), and product images (public)"),
        (name = "ops", description = "Health, readiness, metrics and diagnostics"),
        (name = "admin", description = "Chat-to-vendor and sender-to-vendor mapping, and the job queue (admin token)"),
        (name = "docs", description = "This document and its reference page"),
    ),
)]
pub struct ApiDoc;

/// Serialised once; it cannot fail for a document built from derives, and if it did the
/// answer would still be JSON that says so.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi().to_json().unwrap_or_else(|error| serde_json::json!({ "error": error.to_string() }).to_string())
});

#[utoipa::path(
    get, path = "/openapi.json", tag = "docs",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The document", content_type = "application/json", body = Object)),
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}

/// The security schemes: every credential the gateway takes.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let header = |name: &str, description: &str| SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, description)));
        let http = |scheme: HttpAuthScheme, description: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(scheme).description(Some(description)).build())
        };
        let schemes = [
            ("ingest_token", header("X-Ingest-Token", "An ingest token (WHATSAPP_INGEST_TOKEN, a comma-separated rotation list).")),
            ("ingest_signature", header(
                "X-Signature",
                "Hex HMAC-SHA256 of `X-Signature-Timestamp + \".\" + raw body`, keyed with WHATSAPP_INGEST_HMAC_SECRET. \
                 `X-Signature-Timestamp` (RFC 3339 or unix seconds) must be within WHATSAPP_INGEST_SIGNATURE_TTL_SECONDS. \
                 Taken together with `ingest_token`.",
            )),
            ("standard_webhooks", header(
                "webhook-signature",
                "Standard Webhooks (Svix): space-separated `v1,<base64 HMAC-SHA256>` over \
                 `{webhook-id}.{webhook-timestamp}.{raw body}`, keyed with a `whsec_` secret of \
                 WHATSAPP_INGEST_WEBHOOK_SECRETS; `webhook-id` and `webhook-timestamp` (unix seconds) come along. \
                 Authenticates an ingest request by itself.",
            )),
            ("meta_signature", header(
                "X-Hub-Signature-256",
                "WhatsApp Cloud API (Meta): `sha256=<hex HMAC-SHA256 of the raw body>` keyed with META_APP_SECRET.",
            )),
            ("read_token", http(HttpAuthScheme::Bearer, "A read token (API_READ_TOKEN) or the admin token.")),
            ("admin_token", http(HttpAuthScheme::Bearer, "The admin token (ADMIN_TOKEN); admin routes answer 404 without one configured.")),
            ("admin_basic", http(
                HttpAuthScheme::Basic,
                "The admin or read token as the password of HTTP basic auth (any user name), for browsers. \
                 State-changing requests on basic credentials need a same-origin `Origin` or `Referer`.",
            )),
            ("metrics_token", http(HttpAuthScheme::Bearer, "The metrics token (METRICS_TOKEN) when one is set, or the admin token.")),
        ];
        for (name, scheme) in schemes {
            components.add_security_scheme(name, scheme);
        }
    }
}

/// An error answer in the one shape, as a response of the document.
fn error_response(description: &str) -> RefOr<openapi::Response> {
    let content = ContentBuilder::new().schema(Some(openapi::Ref::from_schema_name("ErrorBody"))).build();
    ResponseBuilder::new().description(description).content("application/json", content).build().into()
}

fn error_set(statuses: &[(&str, &str)]) -> BTreeMap<String, RefOr<openapi::Response>> {
    statuses.iter().map(|(status, description)| ((*status).to_owned(), error_response(description))).collect()
}

/// An error of a route that is also a page: the JSON shape, or (`Accept: text/html`) the page
/// with the message in it.
pub fn error_or_page(description: &str) -> RefOr<openapi::Response> {
    let json = ContentBuilder::new().schema(Some(openapi::Ref::from_schema_name("ErrorBody"))).build();
    let page = ContentBuilder::new()
        .schema(Some(openapi::ObjectBuilder::new().schema_type(openapi::schema::Type::String)))
        .build();
    ResponseBuilder::new().description(description).content("application/json", json).content("text/html", page).build().into()
}

/// Errors of the read routes that are also pages (the search page).
pub struct ReadPageErrors;

impl utoipa::IntoResponses for ReadPageErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        let mut set = error_set(&[UNAUTHORIZED, INVALID]);
        for (status, description) in [BAD_REQUEST, INTERNAL, UNAVAILABLE] {
            set.insert(status.to_owned(), error_or_page(description));
        }
        set
    }
}

const UNAUTHORIZED: (&str, &str) = ("401", "No credential, or one this route does not take");
const INTERNAL: (&str, &str) = ("500", "Unexpected error (logged with the request id)");
const UNAVAILABLE: (&str, &str) = ("503", "Storage unavailable; retry after `Retry-After` seconds");
const BAD_REQUEST: (&str, &str) = ("400", "A parameter out of range or malformed");
const INVALID: (&str, &str) = ("422", "A parameter of the wrong type");

/// Errors of any route that reads the database.
pub struct StorageErrors;

impl utoipa::IntoResponses for StorageErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_set(&[INTERNAL, UNAVAILABLE])
    }
}

/// Errors of the guarded read routes.
pub struct ReadErrors;

impl utoipa::IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_set(&[BAD_REQUEST, UNAUTHORIZED, INVALID, INTERNAL, UNAVAILABLE])
    }
}

/// Errors of the admin routes (404 also when no admin token is configured).
pub struct AdminErrors;

impl utoipa::IntoResponses for AdminErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_set(&[
            BAD_REQUEST,
            UNAUTHORIZED,
            ("403", "A state-changing request on basic credentials from another origin"),
            ("404", "Unknown chat or job, or no admin token configured"),
            ("409", "The job is not dead, or the chat is being extracted"),
            ("415", "The body is neither JSON nor a form"),
            INVALID,
            INTERNAL,
            UNAVAILABLE,
        ])
    }
}

/// Refusals of the ingest route.
pub struct IngestErrors;

impl utoipa::IntoResponses for IngestErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_set(&[
            ("400", "The body is not JSON, or could not be read"),
            ("401", "No accepted ingest token and no Standard Webhooks signature"),
            ("403", "Bad or stale signature, or a peer outside the IP allowlist"),
            ("408", "The body arrived too slowly"),
            ("413", "The body or the batch is too large"),
            ("415", "The content type is not application/json"),
            ("422", "The batch does not match the schema (the error names the field path)"),
            ("429", "Rate limit of the client_id, or the ceiling of the token, exceeded; see `Retry-After` and `X-RateLimit-*`"),
            INTERNAL,
            UNAVAILABLE,
        ])
    }
}

/// Answers of the WhatsApp Cloud API routes besides 200.
pub struct MetaErrors;

impl utoipa::IntoResponses for MetaErrors {
    fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
        error_set(&[
            ("400", "The body is not JSON, or could not be read"),
            ("403", "Wrong verify token, or a bad or missing `X-Hub-Signature-256`"),
            ("404", "The Meta routes are off (`META_APP_SECRET` is not set)"),
            ("408", "The body arrived too slowly"),
            ("413", "The body or the notification is too large"),
            ("422", "The notification does not match Meta's schema (the error names the field path)"),
            INTERNAL,
            UNAVAILABLE,
        ])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::App;

    use super::*;
    use crate::http::route_table::Operation;

    /// `(METHOD, path)` of every operation in the document.
    fn documented() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
        let mut found = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths is an object") {
            for method in methods.iter().filter(|m| item.get(**m).is_some()) {
                found.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
        found
    }

    fn as_pairs(operations: &[Operation]) -> BTreeSet<(String, String)> {
        operations.iter().map(|op| (op.method.as_str().to_owned(), op.path.clone())).collect()
    }

    /// What one side has and the other lacks, as readable lines.
    fn drift(registered: &BTreeSet<(String, String)>, documented: &BTreeSet<(String, String)>) -> Vec<String> {
        let undocumented = registered.difference(documented).map(|(m, p)| format!("{m} {p} is registered but not in the OpenAPI document"));
        let unregistered = documented.difference(registered).map(|(m, p)| format!("{m} {p} is in the OpenAPI document but not registered"));
        undocumented.chain(unregistered).collect()
    }

    fn registered_api() -> Vec<Operation> {
        let mut operations = Vec::new();
        let _app = App::new().configure(|config| operations = crate::http::register_api(config));
        operations
    }

    #[test]
    fn the_document_and_the_route_table_name_the_same_operations() {
        let registered = registered_api();
        assert!(registered.len() >= 20, "the API registers its routes: {registered:?}");
        let problems = drift(&as_pairs(&registered), &documented());
        assert!(problems.is_empty(), "route table and OpenAPI document differ:\n{}", problems.join("\n"));
    }

    #[test]
    fn no_route_is_registered_twice() {
        let registered = registered_api();
        assert_eq!(as_pairs(&registered).len(), registered.len(), "{registered:?}");
    }

    #[test]
    fn a_worker_serves_only_documented_operations() {
        let mut operations = Vec::new();
        let _app = App::new().configure(|config| operations = crate::http::register_worker(config));
        let worker = as_pairs(&operations);
        assert_eq!(worker.len(), 3);
        assert!(worker.is_subset(&documented()), "{worker:?}");
    }

    /// A route mounted beside the table would escape the record; the places that mount routes
    /// may only go through it.
    #[test]
    fn routes_are_mounted_only_through_the_route_table() {
        for (file, source) in [("http/mod.rs", include_str!("mod.rs")), ("startup.rs", include_str!("../startup.rs"))] {
            for call in [".route(", ".service(", "web::resource(", "web::scope("] {
                assert!(!source.contains(call), "{file} mounts a route with `{call}`: register it through RouteTable");
            }
        }
    }

    #[test]
    fn the_drift_check_catches_a_route_without_an_entry_and_an_entry_without_a_route() {
        let mut registered = as_pairs(&registered_api());
        registered.insert(("GET".into(), "/new-route".into()));
        let mut documented = documented();
        documented.insert(("POST".into(), "/gone".into()));
        let problems = drift(&registered, &documented);
        assert_eq!(problems, [
            "GET /new-route is registered but not in the OpenAPI document".to_owned(),
            "POST /gone is in the OpenAPI document but not registered".to_owned(),
        ]);
    }

    #[test]
    fn the_document_is_openapi_3_1_with_every_credential() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        assert_eq!(doc["openapi"], "3.1.0");
        let schemes = doc["components"]["securitySchemes"].as_object().expect("security schemes");
        for name in ["ingest_token", "ingest_signature", "standard_webhooks", "meta_signature", "read_token", "admin_token", "admin_basic"] {
            assert!(schemes.contains_key(name), "{name} missing");
        }
        assert_eq!(schemes["meta_signature"]["name"], "X-Hub-Signature-256");
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }
}
