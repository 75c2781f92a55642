//! Catalog re-sync (issue 16): a seller's catalog, served by a local stand-in for wa.me whose
//! listing the test changes, is scouted once by the chain and again by the re-sync sweep. New
//! products are hydrated, vanished ones become inactive with a `product_delisted` event and leave
//! search, returning ones are active again; the products listed throughout are left alone; a
//! catalog page that lists nothing delists nothing. The sweep is driven with stored times moved
//! back a day (never by sleeping for hours), and in the second test by its own background task
//! with a tiny `CATALOG_RESYNC_HOURS`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, web};
use parking_lot::Mutex;
use serde_json::Value;

use crate::helpers::{TestApp, TestDatabase, batch, message, serve_on_loopback, spawn_app_with};

const SELLER: &str = "254712345009";
const DAY_MS: i64 = 24 * 3_600_000;
const WAIT: Duration = Duration::from_secs(30);

/// The fixture's products: id and name.
const A: (&str, &str) = ("7100000000000001", "Alpha lamp");
const B: (&str, &str) = ("7100000000000002", "Bravo kettle");
const C: (&str, &str) = ("7100000000000003", "Charlie radio");
const D: (&str, &str) = ("7100000000000004", "Delta fan");
const ALL: [(&str, &str); 4] = [A, B, C, D];

/// What the catalog lists now, and how often each path was fetched.
#[derive(Default)]
struct Shop {
    listed: Mutex<Vec<&'static str>>,
    hits: Mutex<HashMap<String, usize>>,
}

struct CatalogServer {
    base: String,
    shop: Arc<Shop>,
    handle: actix_web::dev::ServerHandle,
}

impl CatalogServer {
    async fn start(listed: &[(&'static str, &str)]) -> Self {
        let shop = Arc::new(Shop::default());
        *shop.listed.lock() = listed.iter().map(|(id, _)| *id).collect();
        let data = web::Data::from(shop.clone());
        let routes = move |app: &mut web::ServiceConfig| {
            app.app_data(data.clone())
                .route("/c/{phone}", web::get().to(catalog))
                .route("/p/{id}/{phone}", web::get().to(product))
                .route(
                    "/img/{file}",
                    web::get().to(|| async { HttpResponse::NotFound().finish() }),
                );
        };
        let (base, handle) = serve_on_loopback(routes, 1);
        Self { base, shop, handle }
    }

    fn list(&self, listed: &[(&'static str, &str)]) {
        *self.shop.listed.lock() = listed.iter().map(|(id, _)| *id).collect();
    }

    fn product_hits(&self, id: &str) -> usize {
        self.shop
            .hits
            .lock()
            .get(&format!("/p/{id}/{SELLER}"))
            .copied()
            .unwrap_or(0)
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn catalog(request: HttpRequest, shop: web::Data<Shop>) -> HttpResponse {
    *shop
        .hits
        .lock()
        .entry(request.path().to_owned())
        .or_default() += 1;
    let links: String = shop
        .listed
        .lock()
        .iter()
        .map(|id| format!(r#"<div class="item"><a href="/p/{id}/{SELLER}">{id}</a></div>"#))
        .collect();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!("<!doctype html><html><body>{links}</body></html>"))
}

async fn product(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    shop: web::Data<Shop>,
) -> HttpResponse {
    *shop
        .hits
        .lock()
        .entry(request.path().to_owned())
        .or_default() += 1;
    let (id, _) = path.into_inner();
    let Some((_, name)) = ALL.iter().find(|(known, _)| *known == id) else {
        return HttpResponse::NotFound().finish();
    };
    let host = request.connection_info().host().to_owned();
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><meta property="og:title" content="{name}">
<meta property="og:description" content="Sold by the catalog"><meta property="og:image" content="http://{host}/img/{id}.jpg"></head></html>"#
    ))
}

async fn app_for(fixture: &CatalogServer, extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![
        ("WHATSAPP_WEB_BASE_URL", fixture.base.as_str()),
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
    ];
    settings.extend_from_slice(extra);
    spawn_app_with(&settings).await
}

/// Posts the catalog link, as a seller would share it in a chat.
async fn share_catalog(app: &TestApp) {
    let text = format!("Everything we stock: https://wa.me/c/{SELLER}");
    assert_eq!(
        app.post_ingest(&batch("resync", vec![message("Shop", &text)]))
            .await
            .body["created"],
        1
    );
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.query_i64(sql).await.first().copied().unwrap_or(-1)
}

async fn events(db: &TestDatabase, kind: &str, product: Option<&str>) -> i64 {
    let only = product.map_or(String::new(), |id| format!(" AND product_id = '{id}'"));
    count(
        db,
        &format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = '{kind}'{only}"),
    )
    .await
}

/// `(active, delisted)` of a product, as stored.
async fn state(db: &TestDatabase, id: &str) -> (i64, bool) {
    let active = count(
        db,
        &format!("SELECT CAST(active AS BIGINT) FROM products WHERE product_id = '{id}'"),
    )
    .await;
    let delisted = count(
        db,
        &format!(
            "SELECT COUNT(*) FROM products WHERE product_id = '{id}' AND delisted_at_ms IS NOT NULL"
        ),
    )
    .await;
    (active, delisted == 1)
}

async fn hydrated(db: &TestDatabase, ids: &[&str]) -> i64 {
    let list: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM jobs WHERE stage = 'hydrate' AND state = 'done' AND dedupe_key IN ({})",
        list.join(", ")
    );
    count(db, &sql).await
}

/// Moves the catalog's last scout, and its scout job's finish, a day and an hour into the past.
async fn age_a_day(db: &TestDatabase) {
    let back = DAY_MS + 3_600_000;
    db.execute(&format!(
        "UPDATE catalogs SET last_scouted_at_ms = last_scouted_at_ms - {back}"
    ))
    .await;
    db.execute(&format!(
        "UPDATE jobs SET updated_at_ms = updated_at_ms - {back} WHERE stage = 'scout'"
    ))
    .await;
}

async fn connect(url: &str) -> gateway::store::Database {
    if url.starts_with("postgres") {
        gateway::store::Database::Postgres(sqlx::PgPool::connect(url).await.expect("connect"))
    } else {
        gateway::store::Database::Sqlite(sqlx::SqlitePool::connect(url).await.expect("connect"))
    }
}

async fn sweep(db: &gateway::store::Database) -> u64 {
    let every = Duration::from_secs(24 * 3_600);
    gateway::pipeline::resync_due_catalogs(db, every, gateway::time::now_ms())
        .await
        .expect("sweep")
}

fn search_ids(answer: &Value) -> Vec<String> {
    let results = answer["results"].as_array().cloned().unwrap_or_default();
    results
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_resync_hydrates_new_products_delists_vanished_ones_and_relists_returning_ones() {
    let fixture = CatalogServer::start(&[A, B, C]).await;
    let app = app_for(&fixture, &[]).await;
    share_catalog(&app).await;
    app.db
        .wait_for(
            "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'scout_success'",
            1,
            WAIT,
        )
        .await;
    let (a, b, c, d) = (A.0, B.0, C.0, D.0);
    app.db
        .wait_for(
            "SELECT COUNT(*) FROM products WHERE hydrate_status = 'ok'",
            3,
            WAIT,
        )
        .await;
    for id in [a, b, c] {
        assert_eq!(
            state(&app.db, id).await,
            (1, false),
            "{id} listed and active"
        );
    }
    let in_catalog = "SELECT COUNT(*) FROM products WHERE in_catalog = 1";
    assert_eq!(count(&app.db, in_catalog).await, 3);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM catalogs WHERE last_scouted_at_ms IS NOT NULL"
        )
        .await,
        1
    );

    // Scouted a moment ago: not due. A day later it is, once, however often the sweep runs.
    let db = connect(&app.db.url).await;
    assert_eq!(sweep(&db).await, 0, "a catalog scouted just now is not due");
    fixture.list(&[B, C, D]);
    age_a_day(&app.db).await;
    assert_eq!(sweep(&db).await, 1, "the day-old catalog is scouted again");
    assert_eq!(
        sweep(&db).await,
        0,
        "a scout job already armed is not armed twice"
    );
    app.db
        .wait_for(
            "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'scout_success'",
            2,
            WAIT,
        )
        .await;
    app.db
        .wait_for(
            &format!(
                "SELECT COUNT(*) FROM products WHERE product_id = '{d}' AND hydrate_status = 'ok'"
            ),
            1,
            WAIT,
        )
        .await;

    // D is new and hydrated; A left the catalog; B and C were not touched, nor fetched again.
    assert_eq!(state(&app.db, d).await, (1, false), "D is new and active");
    assert_eq!(hydrated(&app.db, &[d]).await, 1);
    assert_eq!(
        state(&app.db, a).await,
        (0, true),
        "A is inactive and delisted"
    );
    assert_eq!(events(&app.db, "product_delisted", Some(a)).await, 1);
    assert_eq!(
        events(&app.db, "product_delisted", None).await,
        1,
        "only A was delisted"
    );
    for id in [b, c] {
        assert_eq!(state(&app.db, id).await, (1, false), "{id} unchanged");
        assert_eq!(fixture.product_hits(id), 1, "{id} is not hydrated again");
    }
    let details = app.db.query_texts("SELECT details FROM catalog_sync_logs WHERE event_type = 'scout_success' ORDER BY id DESC LIMIT 1").await;
    let details: Value =
        serde_json::from_str(details[0].as_deref().unwrap_or("{}")).unwrap_or_default();
    let counts = ["products", "new_products", "kept", "delisted", "relisted"]
        .map(|k| details[k].as_u64().unwrap_or(99));
    assert_eq!(counts, [3, 1, 2, 1, 0], "{details}");

    // The read side: A shows as delisted, and search leaves it out unless asked.
    let shown = app.read(&format!("/products/{a}")).await;
    assert_eq!(
        (shown.status, shown.body["product"]["active"].as_bool()),
        (200, Some(false)),
        "{:?}",
        shown.body
    );
    assert!(
        shown.body["product"]["delisted_at"].is_string(),
        "{:?}",
        shown.body
    );
    let kinds: Vec<&str> = shown.body["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["event_type"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"product_delisted"), "{kinds:?}");
    let active = app
        .read(&format!("/products?seller={SELLER}&active=true"))
        .await;
    let listed: Vec<&str> = active.body["products"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["product_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(listed, [b, c, d]);
    let found = app.read("/search?q=alpha%20lamp&kind=product").await;
    assert_eq!(
        (found.status, search_ids(&found.body)),
        (200, vec![]),
        "{:?}",
        found.body
    );
    let with_inactive = app
        .read("/search?q=alpha%20lamp&kind=product&active=false")
        .await;
    assert_eq!(search_ids(&with_inactive.body), [a]);

    // A comes back: active again with an event, and hydrated once more.
    fixture.list(&[A, B, C, D]);
    age_a_day(&app.db).await;
    assert_eq!(sweep(&db).await, 1);
    app.db
        .wait_for(
            "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'scout_success'",
            3,
            WAIT,
        )
        .await;
    assert_eq!(state(&app.db, a).await, (1, false), "A is listed again");
    assert_eq!(events(&app.db, "product_relisted", Some(a)).await, 1);
    app.db.wait_for(&format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE product_id = '{a}' AND event_type = 'hydrate_success'"), 2, WAIT).await;
    assert_eq!(
        fixture.product_hits(a),
        2,
        "a returning product is hydrated again"
    );
    assert_eq!(count(&app.db, in_catalog).await, 4);
    let found = app.read("/search?q=alpha%20lamp&kind=product").await;
    assert_eq!(search_ids(&found.body), [a]);

    drop(db);
    app.finish().await;
    fixture.stop().await;
}

#[tokio::test]
async fn an_empty_catalog_page_delists_nothing_and_the_background_sweep_scouts_again() {
    let fixture = CatalogServer::start(&[A, B]).await;
    // 1.8 s: the app's own sweep (every second) scouts the catalog again and again.
    let app = app_for(&fixture, &[("CATALOG_RESYNC_HOURS", "0.0005")]).await;
    share_catalog(&app).await;
    app.db
        .wait_for(
            "SELECT COUNT(*) FROM products WHERE hydrate_status = 'ok'",
            2,
            WAIT,
        )
        .await;

    fixture.list(&[]);
    let empty = "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'scout_error' AND details LIKE '%no_products%'";
    app.db.wait_for(empty, 1, WAIT).await;
    for id in [A.0, B.0] {
        assert_eq!(
            state(&app.db, id).await,
            (1, false),
            "{id}: an empty page is no evidence"
        );
    }
    assert_eq!(events(&app.db, "product_delisted", None).await, 0);
    let why = app.db.query_texts("SELECT error_message FROM catalog_sync_logs WHERE event_type = 'scout_error' ORDER BY id DESC LIMIT 1").await;
    assert!(
        why[0]
            .as_deref()
            .is_some_and(|n| n.contains("listed no products")),
        "{why:?}"
    );

    // The sweep keeps going: once the page lists B alone, A is delisted.
    fixture.list(&[B]);
    app.db.wait_for(&format!("SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'product_delisted' AND product_id = '{}'", A.0), 1, WAIT).await;
    assert_eq!(state(&app.db, A.0).await, (0, true));
    assert_eq!(state(&app.db, B.0).await, (1, false));

    app.finish().await;
    fixture.stop().await;
}
