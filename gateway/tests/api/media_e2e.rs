//! End to end through the real app: a signed message with a catalog link is ingested, extracted,
//! scouted on a local wa.me stand-in, hydrated, embedded with the tiny test model, approved by the
//! rules and its images persisted. Once into the local store (served under `/images/`), once into
//! S3 on a moto server this test starts. Runs on SQLite and, with `TEST_DATABASE=postgres`, on
//! PostgreSQL.

use std::io::Cursor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use image::{ImageFormat, Rgb, RgbImage};
use sqlx::{Connection, Row};

use crate::helpers::{TestApp, batch, message, spawn_app_with};

pub(crate) const SELLER: &str = "254711000001";
pub(crate) const PRODUCTS: u64 = 3;
/// `scripts/make_test_models.py`'s default width.
const TINY_DIM: usize = 32;

pub(crate) fn product_id(n: u64) -> String {
    format!("{}", 2_000_000_000_000_000u64 + n)
}

/// Odd products have a PNG, even ones a JPEG: 320×320 (or 280×240), sharp blocks and stripes.
pub(crate) fn image_of(n: u64) -> (Vec<u8>, &'static str, &'static str) {
    let (w, h) = if n % 2 == 1 { (320, 320) } else { (280, 240) };
    let img = RgbImage::from_fn(w, h, |x, y| {
        let block = ((x / 16) + (y / 16) + n as u32).is_multiple_of(2);
        if block { Rgb([(40 * n) as u8, 200, (x % 7 * 30) as u8]) } else { Rgb([220, (y % 5 * 40) as u8, 30]) }
    });
    let (format, ext, mime) = if n % 2 == 1 { (ImageFormat::Png, "png", "image/png") } else { (ImageFormat::Jpeg, "jpg", "image/jpeg") };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode fixture image");
    (out.into_inner(), ext, mime)
}

/// The wa.me stand-in: `/c/<seller>` lists the products, `/p/<id>/<seller>` has the og tags,
/// `/img/<n>` the image (Meta's CDN in real life).
pub(crate) async fn start_wa_fixture() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind fixture");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let image_base = base.clone();
    let server = HttpServer::new(move || {
        let image_base = image_base.clone();
        App::new()
            .route(
                "/c/{phone}",
                web::get().to(|| async {
                    let links: String = (1..=PRODUCTS).map(|n| format!(r#"<li><a href="/p/{}/{SELLER}">Item {n}</a></li>"#, product_id(n))).collect();
                    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!("<html><body><ul>{links}</ul></body></html>"))
                }),
            )
            .route(
                "/p/{id}/{phone}",
                web::get().to(move |path: web::Path<(String, String)>| {
                    let image_base = image_base.clone();
                    async move {
                        let n = path.0.parse::<u64>().unwrap_or(0).saturating_sub(2_000_000_000_000_000);
                        if !(1..=PRODUCTS).contains(&n) {
                            return HttpResponse::NotFound().finish();
                        }
                        let names = ["Leather handbag", "Cotton dress", "Running shoes"];
                        let name = names[(n as usize - 1) % names.len()];
                        HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
                            r#"<html><head><meta property="og:title" content="{name} {n}">
                               <meta property="og:description" content="Brand new, size M, delivery available">
                               <meta property="og:image" content="{image_base}/img/{n}"></head><body></body></html>"#
                        ))
                    }
                }),
            )
            .route(
                "/img/{n}",
                web::get().to(|n: web::Path<u64>| async move {
                    let (bytes, _, mime) = image_of(*n);
                    HttpResponse::Ok().content_type(mime).body(bytes)
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    base
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

/// The tiny model and the ONNX Runtime library, as `scripts/setup-test-env.sh` prepares them.
pub(crate) fn model_settings() -> (String, String) {
    let models = std::env::var("EMBED_TEST_MODEL_DIR").unwrap_or_else(|_| repo_root().join(".cache/embed-test-models").display().to_string());
    let ort = std::env::var("ORT_DYLIB_PATH")
        .unwrap_or_else(|_| repo_root().join(".cache/onnxruntime/1.31.1/libonnxruntime.so.1.31.1").display().to_string());
    assert!(
        Path::new(&models).join("vision_model.onnx").is_file() && Path::new(&ort).is_file(),
        "the tiny embed models or ONNX Runtime are missing ({models}, {ort}): run scripts/setup-test-env.sh and `source .cache/test-env.sh`"
    );
    (models, ort)
}

pub(crate) async fn ingest_catalog_link(app: &TestApp) {
    let text = format!("Karibu! Our full catalog: https://wa.me/c/{SELLER} 🔥");
    let answer = app.post_ingest(&batch("e2e", vec![message("Soko Sellers", &text)])).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

pub(crate) struct StoredProduct {
    pub(crate) product_id: String,
    qc_decision: Option<String>,
    persisted_image_url: Option<String>,
    image_url: Option<String>,
    dims: Option<i64>,
    vectors: Vec<Vec<u8>>,
}

const PRODUCT_SQL: &str = "SELECT p.product_id, p.qc_decision, p.persisted_image_url, p.image_url, e.dims,
        e.image_vector, e.text_vector, e.hybrid_vector
    FROM products p LEFT JOIN product_embeddings e ON e.product_id = p.product_id ORDER BY p.product_id";

async fn stored_products(url: &str) -> Vec<StoredProduct> {
    macro_rules! read {
        ($rows:expr) => {
            $rows
                .iter()
                .map(|row| StoredProduct {
                    product_id: row.get("product_id"),
                    qc_decision: row.get("qc_decision"),
                    persisted_image_url: row.get("persisted_image_url"),
                    image_url: row.get("image_url"),
                    dims: row.get("dims"),
                    vectors: ["image_vector", "text_vector", "hybrid_vector"]
                        .iter()
                        .filter_map(|c| row.get::<Option<Vec<u8>>, _>(*c))
                        .collect(),
                })
                .collect()
        };
    }
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url).await.expect("connect");
        read!(sqlx::query(PRODUCT_SQL).fetch_all(&mut connection).await.expect("products"))
    } else {
        let mut connection = sqlx::SqliteConnection::connect(url).await.expect("connect");
        read!(sqlx::query(PRODUCT_SQL).fetch_all(&mut connection).await.expect("products"))
    }
}

/// Waits (up to 90 s) until every product is approved and persisted; shows the queue on timeout.
pub(crate) async fn wait_for_chain(app: &TestApp) -> Vec<StoredProduct> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let products = stored_products(&app.db.url).await;
        let done = products.iter().filter(|p| p.persisted_image_url.is_some()).count();
        if products.len() == PRODUCTS as usize && done == products.len() {
            return products;
        }
        if Instant::now() > deadline {
            let jobs = app.get_with("/admin/jobs", &[("accept", "application/json")]).await;
            let summary: Vec<String> = products.iter().map(|p| format!("{} qc={:?} persisted={:?}", p.product_id, p.qc_decision, p.persisted_image_url)).collect();
            panic!("the chain did not finish in 90 s: {summary:?}; jobs: {}", jobs.body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn vector(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Every product approved, embedded at the tiny model's width with unit-norm image, text and hybrid vectors.
fn assert_embedded_and_approved(products: &[StoredProduct]) {
    for p in products {
        assert_eq!(p.qc_decision.as_deref(), Some("approved"), "{}", p.product_id);
        assert_eq!(p.dims, Some(TINY_DIM as i64), "{}", p.product_id);
        assert_eq!(p.vectors.len(), 3, "{}: image, text and hybrid vectors", p.product_id);
        for v in &p.vectors {
            let v = vector(v);
            assert_eq!(v.len(), TINY_DIM);
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{}: norm {norm}", p.product_id);
        }
        assert!(p.image_url.as_deref().is_some_and(|u| u.contains("/img/")), "the Meta CDN URL is kept");
    }
}

fn n_of(product_id: &str) -> u64 {
    product_id.parse::<u64>().expect("digits") - 2_000_000_000_000_000
}

pub(crate) fn chain_settings<'a>(wa_base: &'a str, models: &'a str, ort: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
        ("WHATSAPP_WEB_BASE_URL", wa_base),
        ("EMBED_MODEL_DIR", models),
        ("ORT_DYLIB_PATH", ort),
        ("EMBED_THREADS", "1"),
        ("JOB_POLL_SECONDS", "0.2"),
    ]
}

#[tokio::test]
async fn catalog_link_ends_with_approved_embedded_products_in_the_local_store() {
    let wa = start_wa_fixture().await;
    let (models, ort) = model_settings();
    let images = tempfile::tempdir().expect("image dir");
    let image_dir = images.path().display().to_string();
    let mut settings = chain_settings(&wa, &models, &ort);
    settings.extend([("IMAGE_STORE", "local"), ("IMAGE_DIR", image_dir.as_str())]);
    let app = spawn_app_with(&settings).await;
    ingest_catalog_link(&app).await;

    let products = wait_for_chain(&app).await;
    assert_embedded_and_approved(&products);
    for p in &products {
        let (bytes, ext, mime) = image_of(n_of(&p.product_id));
        let key = format!("products/{}.{ext}", p.product_id);
        assert_eq!(p.persisted_image_url.as_deref(), Some(format!("/images/{key}").as_str()));
        assert_eq!(std::fs::read(images.path().join(&key)).expect("stored file"), bytes);
        let served = app.client.get(app.url(&format!("/images/{key}"))).send().await.expect("GET image");
        assert_eq!(served.status(), 200);
        assert_eq!(served.headers()["content-type"], mime);
        assert_eq!(served.bytes().await.expect("body").as_ref(), bytes.as_slice());
    }
    for path in ["/images/../Cargo.toml", "/images/products/%2e%2e/x", "/images/products/0000000000000000.png"] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains(r#"soko_media_total{outcome="persisted"} 3"#), "{}", metrics.lines().filter(|l| l.contains("media")).collect::<Vec<_>>().join("\n"));
    let trail = app.db.query_i64("SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type IN ('embed_success', 'qc_approved', 'lazy_persist_success')").await;
    assert_eq!(trail, [3 * PRODUCTS as i64]);
    app.finish().await;
}

/// moto's S3 server on a free port, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto; `None` (loudly) only when it is not installed and `TEST_REQUIRE_S3` is unset.
async fn start_moto() -> Option<Moto> {
    let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let spawned = Command::new(&program).args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(error) if std::env::var("TEST_REQUIRE_S3").is_err() => {
            eprintln!("\n*** S3 END-TO-END TEST SKIPPED: {program} cannot start ({error}). Run scripts/setup-test-env.sh (pip install 'moto[s3]'). ***\n");
            return None;
        }
        Err(error) => panic!("TEST_REQUIRE_S3 is set but {program} cannot start: {error}"),
    };
    let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "moto_server did not listen within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(moto)
}

fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test]
async fn catalog_link_ends_with_approved_embedded_products_in_s3() {
    let Some(moto) = start_moto().await else { return };
    let bucket = "soko-e2e";
    let s3 = s3_client(&moto.endpoint);
    s3.create_bucket().bucket(bucket).send().await.expect("create bucket");
    let wa = start_wa_fixture().await;
    let (models, ort) = model_settings();
    let mut settings = chain_settings(&wa, &models, &ort);
    settings.extend([
        ("IMAGE_STORE", "s3"),
        ("S3_BUCKET", bucket),
        ("S3_ENDPOINT", moto.endpoint.as_str()),
        ("S3_REGION", "us-east-1"),
        ("S3_ACCESS_KEY_ID", "testing"),
        ("S3_SECRET_ACCESS_KEY", "testing"),
    ]);
    let app = spawn_app_with(&settings).await;
    ingest_catalog_link(&app).await;

    let products = wait_for_chain(&app).await;
    assert_embedded_and_approved(&products);
    for p in &products {
        let (bytes, ext, mime) = image_of(n_of(&p.product_id));
        let key = format!("products/{}.{ext}", p.product_id);
        assert_eq!(p.persisted_image_url, Some(format!("{}/{bucket}/{key}", moto.endpoint)));
        let object = s3.get_object().bucket(bucket).key(&key).send().await.expect("object stored");
        assert_eq!(object.content_type(), Some(mime));
        assert_eq!(object.body.collect().await.expect("body").into_bytes().as_ref(), bytes.as_slice());
    }
    let listed = s3.list_objects_v2().bucket(bucket).send().await.expect("list");
    assert_eq!(listed.key_count(), Some(PRODUCTS as i32), "exactly one object per product");
    assert_eq!(app.get("/images/products/whatever.png").await.status, 404, "nothing is served locally with S3");
    app.finish().await;
}
