//! A real gateway and a real collector on 127.0.0.1, port 0, for tests that
//! look at them from outside (Prometheus scraping both, for one).
//!
//! The gateway gets its own database: a SQLite file in a temp dir, or a
//! fresh PostgreSQL database when `TEST_DATABASE=postgres` (server at
//! `TEST_POSTGRES_URL`), like the gateway's own integration tests.

use chrono::Utc;
use collector_client::message::{IngestBatch, IngestMessage};
use collector_client::sender::{DeliveryEvent, Sender, SenderConfig};
use collector_client::signing::SignedHeaders;
use collector_client::{Metrics as CollectorMetrics, RunningServer, start_status_server};
use gateway::{config::Config, startup::Application};
use secrecy::SecretString;
use sqlx::{Connection, Executor};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "e2e-token";
pub const SECRET: &str = "e2e-secret";

struct Database {
    url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl Database {
    async fn create() -> anyhow::Result<Self> {
        if std::env::var("TEST_DATABASE").is_ok_and(|backend| backend == "postgres") {
            let admin = std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("soko_test_{}", uuid::Uuid::new_v4().simple());
            let mut connection = sqlx::PgConnection::connect(&admin).await?;
            connection
                .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                .await?;
            let base = admin
                .rsplit_once('/')
                .map(|(base, _)| base.to_owned())
                .unwrap_or_else(|| admin.clone());
            return Ok(Self {
                url: format!("{base}/{name}"),
                _dir: None,
                postgres: Some((admin, name)),
            });
        }
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("soko.db").display());
        Ok(Self {
            url,
            _dir: Some(dir),
            postgres: None,
        })
    }

    async fn drop_database(&self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut connection) = sqlx::PgConnection::connect(admin).await
        {
            let _ = connection
                .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                .await;
        }
    }
}

pub struct Gateway {
    pub addr: String,
    pub client: reqwest::Client,
    db: Database,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Gateway {
    /// Starts the gateway with the test token and secret plus `settings`.
    pub async fn start(settings: &[(&str, &str)]) -> anyhow::Result<Self> {
        let db = Database::create().await?;
        let mut vars: HashMap<String, String> = HashMap::from([
            ("WHATSAPP_INGEST_TOKEN".into(), TOKEN.into()),
            ("WHATSAPP_INGEST_HMAC_SECRET".into(), SECRET.into()),
            ("PORT".into(), "0".into()),
            ("HTTP_WORKERS".into(), "2".into()),
            ("DATABASE_URL".into(), db.url.clone()),
        ]);
        vars.extend(
            settings
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
        );
        let config = Config::from_lookup(|key| vars.get(key).cloned())?;
        let application = Application::build(config).await?;
        let addr = format!("127.0.0.1:{}", application.port());
        let shutdown = application.shutdown_token();
        let server = tokio::spawn(application.run_until_stopped());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            addr,
            client,
            db,
            shutdown,
            server,
        })
    }

    pub fn ingest_url(&self) -> String {
        format!("http://{}/integrations/whatsapp/ingest", self.addr)
    }

    /// Posts `batch` signed with `token` and `secret`; returns the status.
    pub async fn post(
        &self,
        batch: &IngestBatch,
        token: &str,
        secret: &str,
    ) -> anyhow::Result<u16> {
        let body = serde_json::to_vec(batch)?;
        let signed = SignedHeaders::new(token, Some(secret.as_bytes()), &body, Utc::now());
        let mut request = self
            .client
            .post(self.ingest_url())
            .header("content-type", "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        Ok(request.body(body).send().await?.status().as_u16())
    }

    /// `/chat/tools/diagnostics` as JSON.
    pub async fn diagnostics(&self) -> anyhow::Result<serde_json::Value> {
        let url = format!("http://{}/chat/tools/diagnostics", self.addr);
        Ok(self
            .client
            .get(url)
            .header("x-ingest-token", TOKEN)
            .send()
            .await?
            .json()
            .await?)
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
        self.db.drop_database().await;
    }
}

/// The collector library as the `collector` binary runs it: a sender
/// spooling to a temp dir and a status server exposing its metrics.
pub struct Collector {
    pub status: RunningServer,
    pub sender: Sender,
    pub metrics: Arc<CollectorMetrics>,
    _spool: tempfile::TempDir,
}

impl Collector {
    pub async fn start(ingest_url: &str, client_id: &str) -> anyhow::Result<Self> {
        let spool = tempfile::tempdir()?;
        let mut config = SenderConfig::new(
            url::Url::parse(ingest_url)?,
            SecretString::from(TOKEN.to_owned()),
            client_id,
            spool.path(),
        );
        config.hmac_secret = Some(SecretString::from(SECRET.to_owned()));
        config.flush_interval = Duration::from_millis(100);
        let metrics = Arc::new(CollectorMetrics::new());
        let sender = Sender::start(config, metrics.clone()).await?;
        let status =
            start_status_server(std::net::TcpListener::bind("127.0.0.1:0")?, metrics.clone())?;
        Ok(Self {
            status,
            sender,
            metrics,
            _spool: spool,
        })
    }

    /// Submits `messages` and waits until the gateway accepted their batch.
    pub async fn send_and_wait(&self, messages: Vec<IngestMessage>) -> anyhow::Result<()> {
        let mut events = self.sender.subscribe();
        self.sender.handle().submit(messages).await?;
        self.sender.handle().flush().await?;
        let delivered = async {
            loop {
                match events.recv().await {
                    Ok(DeliveryEvent::Delivered { .. }) => return Ok(()),
                    Ok(DeliveryEvent::Rejected { status, .. }) => {
                        anyhow::bail!("the gateway rejected the batch with {status}")
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        anyhow::bail!("the sender stopped")
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), delivered).await?
    }

    pub async fn stop(self) {
        self.sender.shutdown().await;
        self.status.stop().await;
    }
}
