//! Test fixtures shared by the embed, QC and persist stage tests: a store on a database of the
//! test's own (SQLite in a temp dir, or a fresh PostgreSQL database when `TEST_DATABASE=postgres`),
//! an HTTP server on a real socket with canned routes that counts hits, sharp generated images,
//! and running a stage's outcome through a real transaction.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use image::{ImageFormat, Rgb, RgbImage};
use sqlx::{Connection, Executor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::jobs::{ClaimedJob, StageOutcome};
use crate::metrics::Metrics;
use crate::store::{Database, Store, StoreSettings};

pub struct TestStore {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    _dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) of a PostgreSQL database to drop afterwards.
    postgres: Option<(String, String)>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else { return };
        // Drop runs inside the test's runtime: a thread of its own with a small runtime does the async work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut connection = sqlx::PgConnection::connect(&admin).await.ok()?;
                connection.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await.ok()
            })
        })
        .join();
    }
}

impl TestStore {
    pub async fn open() -> Self {
        let metrics = Arc::new(Metrics::new().expect("metrics"));
        if std::env::var("TEST_DATABASE").as_deref() == Ok("postgres") {
            let admin = std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("soko_test_{}", uuid::Uuid::new_v4().simple());
            let mut connection = sqlx::PgConnection::connect(&admin).await.expect("connect to PostgreSQL");
            connection.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create database");
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or_else(|| admin.clone());
            let store = Store::open(&StoreSettings::for_tests(&format!("{base}/{name}")), metrics.clone()).await.expect("open store");
            return Self { store, metrics, _dir: None, postgres: Some((admin, name)) };
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("soko.db").display());
        let store = Store::open(&StoreSettings::for_tests(&url), metrics.clone()).await.expect("open store");
        Self { store, metrics, _dir: Some(dir), postgres: None }
    }

    pub fn db(&self) -> &Database {
        &self.store.db
    }

    /// A hydrated, active product.
    pub async fn insert_product(&self, product_id: &str, name: &str, description: &str, image_url: Option<&str>) {
        let mut tx = self.db().begin_write().await.expect("begin");
        let sql = "INSERT INTO products (product_id, seller_phone, name, description, image_url, active, semantic_hash, created_at_ms, updated_at_ms)
                   VALUES ($1, '+254700000001', $2, $3, $4, 1, $5, 1, 1)";
        let hash = crate::domain::product::semantic_hash(Some(name), Some(description), image_url);
        crate::store::tx::on_tx!(&mut tx, |conn| sqlx::query(sql)
            .bind(product_id)
            .bind(name)
            .bind(description)
            .bind(image_url)
            .bind(&hash)
            .execute(conn)
            .await
            .expect("insert product")
            .rows_affected());
        tx.commit().await.expect("commit");
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        crate::store::queries::on_pool!(self.db(), |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql))
    }

    pub async fn scalar_text(&self, sql: &str) -> Option<String> {
        crate::store::queries::on_pool!(self.db(), |pool| sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(pool).await.expect(sql))
    }
}

/// Runs a stage outcome's commit (if any) in a real transaction, as the queue runtime does.
pub async fn apply(db: &Database, outcome: StageOutcome) -> StageOutcome {
    let commit = match outcome {
        StageOutcome::Done(commit) => Some(commit),
        StageOutcome::Terminal { commit, .. } => commit,
        StageOutcome::Retry { .. } => None,
    };
    if let Some(commit) = commit {
        let mut tx = db.begin_write().await.expect("begin");
        commit.apply(&mut tx).await.expect("commit applies");
        tx.commit().await.expect("commit");
    }
    StageOutcome::done_empty()
}

pub fn job(stage: &'static str, product_id: &str, attempt: u32) -> ClaimedJob {
    ClaimedJob { id: 1, stage, dedupe_key: product_id.to_owned(), payload: serde_json::json!({"product_id": product_id}), attempt }
}

/// A canned HTTP answer: status, extra headers, body.
#[derive(Clone)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Route {
    pub fn ok(content_type: &str, body: Vec<u8>) -> Self {
        Self { status: 200, headers: vec![("content-type".into(), content_type.into())], body }
    }

    pub fn status(status: u16, headers: &[(&str, &str)]) -> Self {
        Self { status, headers: headers.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(), body: Vec::new() }
    }
}

/// An HTTP/1.1 server on 127.0.0.1 answering GETs by path and counting requests per path.
pub struct FixtureServer {
    pub base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl FixtureServer {
    pub async fn start(routes: Vec<(&str, Route)>) -> Self {
        let routes: Arc<HashMap<String, Route>> = Arc::new(routes.into_iter().map(|(p, r)| (p.to_owned(), r)).collect());
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let routes = routes.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    *counter.lock().expect("hits").entry(path.clone()).or_insert(0) += 1;
                    let route = routes.get(&path).cloned().unwrap_or_else(|| Route::status(404, &[]));
                    let mut response = format!("HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n", route.status, route.body.len());
                    for (name, value) in &route.headers {
                        response.push_str(&format!("{name}: {value}\r\n"));
                    }
                    response.push_str("\r\n");
                    let mut bytes = response.into_bytes();
                    bytes.extend_from_slice(&route.body);
                    let _ = stream.write_all(&bytes).await;
                });
            }
        });
        Self { base, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().expect("hits").get(path).copied().unwrap_or(0)
    }

    /// An image fetcher whose fence trusts this server's `host:port` (and nothing else private).
    pub fn image_fetcher(&self, max_bytes: usize) -> crate::pipeline::media::ImageFetcher {
        let fence = crate::pipeline::fence::Fence::trusting(&[self.base.trim_start_matches("http://")]);
        crate::pipeline::media::ImageFetcher::new(max_bytes, std::time::Duration::from_secs(5), Arc::new(fence)).expect("fetcher")
    }
}

/// A sharp, colourful `side`² product-photo stand-in (blocks and stripes with hard edges).
pub fn sharp_image(side: u32, seed: u8, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(side, side, |x, y| {
        let block = ((x / 20) + (y / 20)) % 2 == 0;
        let stripe = (x / 7) % 3;
        if block {
            Rgb([200u8.wrapping_add(seed), (stripe * 70) as u8, 40])
        } else {
            Rgb([30, 90u8.wrapping_add(seed), (200 - stripe * 60) as u8])
        }
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode image");
    out.into_inner()
}

/// The tiny SigLIP-shaped test models (`scripts/setup-test-env.sh` writes them and exports
/// `EMBED_TEST_MODEL_DIR` and `ORT_DYLIB_PATH`). Missing models fail the test, saying what to run.
pub fn tiny_model() -> (std::path::PathBuf, Option<std::path::PathBuf>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf();
    let dir = std::env::var_os("EMBED_TEST_MODEL_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join(".cache/embed-test-models"));
    assert!(
        dir.join("vision_model.onnx").is_file(),
        "no test models in {}: run scripts/setup-test-env.sh and `source .cache/test-env.sh`",
        dir.display()
    );
    let dylib = std::env::var_os("ORT_DYLIB_PATH")
        .map(std::path::PathBuf::from)
        .or_else(|| Some(root.join(".cache/onnxruntime/1.31.1/libonnxruntime.so.1.31.1")).filter(|p| p.is_file()));
    (dir, dylib)
}
