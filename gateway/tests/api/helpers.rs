//! Test harness in zero2prod's shape: `spawn_app()` starts the real gateway
//! on port 0 against its own database (a temporary SQLite file, or a fresh
//! PostgreSQL database when `TEST_DATABASE=postgres`), and returns a
//! `TestApp` with typed helpers. Logs go nowhere unless `TEST_LOG` is set.

use std::{collections::HashMap, sync::LazyLock, time::Duration};

use chrono::Utc;
use collector_client::{
    message::{IngestBatch, IngestMessage},
    signing::SignedHeaders,
};
use gateway::{config::Config, startup::Application, telemetry};
use serde_json::Value;
use sqlx::{Connection, Executor};
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "test-token";
pub const SECRET: &str = "super-secret";
/// `API_READ_TOKEN` of every test app.
pub const READ_TOKEN: &str = "read-token";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        telemetry::init(gateway::telemetry::LogFormat::Pretty);
    }
});

/// Which backend this test run uses.
pub fn backend() -> &'static str {
    static BACKEND: LazyLock<String> =
        LazyLock::new(|| std::env::var("TEST_DATABASE").unwrap_or_else(|_| "sqlite".into()));
    BACKEND.as_str()
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of the test's own: a file in a temp dir, or a PostgreSQL
/// database created for it.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
    /// The test's document store (`INGESTION_STORAGE_DIR`), shared by every app on this database.
    pub storage_dir: std::path::PathBuf,
    _storage: std::sync::Arc<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let storage = std::sync::Arc::new(tempfile::tempdir().expect("storage dir"));
        let storage_dir = storage.path().to_path_buf();
        if backend() == "postgres" {
            let name = format!("soko_test_{}", uuid::Uuid::new_v4().simple());
            let admin = postgres_admin_url();
            let mut connection = sqlx::PgConnection::connect(&admin).await.expect("connect to the PostgreSQL test server");
            connection.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create test database");
            let base = admin.rsplit_once('/').map(|(base, _)| base.to_owned()).unwrap_or(admin);
            return Self { url: format!("{base}/{name}"), _dir: None, postgres_name: Some(name), storage_dir, _storage: storage };
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("soko.db").display());
        Self { url, _dir: Some(dir), postgres_name: None, storage_dir, _storage: storage }
    }

    pub async fn drop_database(&self) {
        if let Some(name) = &self.postgres_name
            && let Ok(mut connection) = sqlx::PgConnection::connect(&postgres_admin_url()).await
        {
            let _ = connection.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
        }
    }

    /// The same database, for a second app; dropping it is left to the owner.
    pub fn share(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            _dir: None,
            postgres_name: None,
            storage_dir: self.storage_dir.clone(),
            _storage: self._storage.clone(),
        }
    }

    /// Runs one statement (test set-up and fast-forwarding stored times).
    pub async fn execute(&self, sql: &str) -> u64 {
        if self.url.starts_with("postgres") {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.expect("connect");
            sqlx::query(sql).execute(&mut connection).await.expect("execute").rows_affected()
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.expect("connect");
            sqlx::query(sql).execute(&mut connection).await.expect("execute").rows_affected()
        }
    }

    /// Text columns of the first row (NULL as `None`).
    pub async fn query_texts(&self, sql: &str) -> Vec<Option<String>> {
        use sqlx::Row;
        if self.url.starts_with("postgres") {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.expect("connect");
            let row = sqlx::query(sql).fetch_one(&mut connection).await.expect("query");
            (0..row.len()).map(|i| row.try_get::<Option<String>, _>(i).expect("text column")).collect()
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.expect("connect");
            let row = sqlx::query(sql).fetch_one(&mut connection).await.expect("query");
            (0..row.len()).map(|i| row.try_get::<Option<String>, _>(i).expect("text column")).collect()
        }
    }

    /// Polls `sql` (one integer) until it reaches `at_least`, or panics after `within`.
    pub async fn wait_for(&self, sql: &str, at_least: i64, within: Duration) -> i64 {
        let deadline = std::time::Instant::now() + within;
        loop {
            let value = self.query_i64(sql).await.first().copied().unwrap_or(0);
            if value >= at_least {
                return value;
            }
            assert!(std::time::Instant::now() < deadline, "waited {within:?} for `{sql}` to reach {at_least}; it is {value}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A direct connection for assertions on stored rows.
    pub async fn query_i64(&self, sql: &str) -> Vec<i64> {
        if self.url.starts_with("postgres") {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&mut connection).await.expect("query")
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&mut connection).await.expect("query")
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra environment settings on top of the test defaults.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    let db = TestDatabase::create().await;
    start_on(db, settings).await
}

/// Starts an app on an existing database (restarts).
pub async fn start_on(db: TestDatabase, settings: &[(&str, &str)]) -> TestApp {
    LazyLock::force(&TRACING);
    let mut vars: HashMap<String, String> = HashMap::from([
        ("WHATSAPP_INGEST_TOKEN".into(), TOKEN.into()),
        ("WHATSAPP_INGEST_HMAC_SECRET".into(), SECRET.into()),
        ("API_READ_TOKEN".into(), READ_TOKEN.into()),
        ("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE".into(), "60000".into()),
        ("WHATSAPP_INGEST_RATE_LIMIT_BURST".into(), "1000".into()),
        ("PORT".into(), "0".into()),
        ("HTTP_WORKERS".into(), "2".into()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("INGESTION_STORAGE_DIR".into(), db.storage_dir.display().to_string()),
        // Nothing listens on the discard port; product-chain tests point this at their fixture.
        ("WHATSAPP_WEB_BASE_URL".into(), "http://127.0.0.1:9".into()),
    ]);
    for (key, value) in settings {
        if value.is_empty() {
            vars.remove(*key);
        } else {
            vars.insert((*key).into(), (*value).into());
        }
    }
    let config = Config::from_lookup(|key| vars.get(key).cloned()).expect("valid test configuration");
    let application = Application::build(config).await.expect("application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let shutdown = application.shutdown_token();
    let server = tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        // actix closes a connection idle for 5 s (its default keep-alive); a pooled one reused
        // at that moment fails with `IncompleteMessage`. Dropping them at 2 s avoids the race.
        .pool_idle_timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp { address, client, db, shutdown, server }
}

pub fn message(chat_title: &str, text: &str) -> IngestMessage {
    IngestMessage { chat_title: chat_title.into(), text: Some(text.into()), ..IngestMessage::default() }
}

pub fn batch(client_id: &str, messages: Vec<IngestMessage>) -> IngestBatch {
    IngestBatch { client_id: client_id.into(), messages }
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
    pub fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Posts a batch signed now with the test token and secret.
    pub async fn post_ingest(&self, batch: &IngestBatch) -> Answer {
        let body = serde_json::to_vec(batch).expect("serialise");
        self.post_signed_body(body, TOKEN, SECRET).await
    }

    pub async fn post_signed_body(&self, body: Vec<u8>, token: &str, secret: &str) -> Answer {
        let signed = SignedHeaders::new(token, Some(secret.as_bytes()), &body, Utc::now());
        let mut request = self.client.post(self.url("/integrations/whatsapp/ingest")).header("content-type", "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        answer(request.body(body).send().await.expect("request sent")).await
    }

    /// Posts with explicit headers (for the error cases).
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>, headers: &[(&str, String)]) -> Answer {
        let mut request = self.client.post(self.url("/integrations/whatsapp/ingest"));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        answer(request.body(body).send().await.expect("request sent")).await
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> Answer {
        answer(self.client.get(self.url(path)).send().await.expect("request sent")).await
    }

    /// A GET with the read token, for the routes that return personal or vendor data.
    pub async fn read(&self, path: &str) -> Answer {
        self.get_with(path, &[("authorization", &format!("Bearer {READ_TOKEN}"))]).await
    }

    /// GET with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.expect("request sent")).await
    }

    /// POST with extra headers and a body.
    pub async fn post_with(&self, path: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> Answer {
        let mut request = self.client.post(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.body(body).send().await.expect("request sent")).await
    }

    /// Polls diagnostics until `extracted` reaches `at_least` (or panics after 20 s).
    pub async fn wait_extracted(&self, at_least: i64) -> Answer {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let answer = self.get_with("/chat/tools/diagnostics", &[("x-ingest-token", TOKEN)]).await;
            if answer.body["extracted"].as_i64().unwrap_or(0) >= at_least {
                return answer;
            }
            assert!(std::time::Instant::now() < deadline, "extraction did not reach {at_least}: {:?}", answer.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.client.get(self.url(path)).send().await.expect("request sent").text().await.expect("text")
    }

    pub async fn count_messages(&self) -> i64 {
        self.db.query_i64("SELECT COUNT(*) FROM messages").await.first().copied().unwrap_or(-1)
    }

    /// Stops the app gracefully and hands its database back (for restarts).
    pub async fn stop(self) -> TestDatabase {
        self.shutdown.cancel();
        let _ = self.server.await;
        self.db
    }

    pub async fn finish(self) {
        let db = self.stop().await;
        db.drop_database().await;
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, headers, body }
}

/// Signed headers for a body, with any timestamp.
pub fn signed_headers(body: &[u8], timestamp: &str, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-ingest-token", TOKEN.into()),
        ("x-signature-timestamp", timestamp.into()),
        ("x-signature", collector_client::signing::sign(secret.as_bytes(), timestamp, body)),
    ]
}

/// A fixture HTTP server on a free loopback port, configured by `routes` (its `app_data` and
/// routes), with `workers` workers: its base URL (`http://127.0.0.1:<port>`) and handle. It runs
/// on the calling test's runtime until the handle stops it.
pub fn serve_on_loopback(
    routes: impl Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
    workers: usize,
) -> (String, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a fixture server");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let server = actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
        .workers(workers)
        .max_connections(10_000)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    (base, handle)
}
