//! What the scale-out tests run against: real `gateway` processes
//! (`CARGO_BIN_EXE_gateway`) on loopback, a private `redis-server` per test
//! on a free port (the tests stop and restart it, so never the shared one),
//! and a TCP proxy in front of PostgreSQL that the test can cut.

use std::{
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use collector_client::message::IngestBatch;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Answer, SECRET, TOKEN, answer, backend};

/// True (and says why) when the scale-out tests cannot run in this suite.
pub fn skip_unless_postgres(test: &str) -> bool {
    if backend() == "postgres" {
        return false;
    }
    eprintln!("SKIPPED {test}: scale-out needs PostgreSQL and Redis; run with TEST_DATABASE=postgres (scripts/test.sh does)");
    true
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

pub fn unique_prefix(test: &str) -> String {
    format!("test:{test}:{}", uuid::Uuid::new_v4().simple())
}

fn test_log() -> Stdio {
    match std::env::var("TEST_LOG") {
        Ok(_) => Stdio::inherit(),
        Err(_) => Stdio::null(),
    }
}

/// A `redis-server` of the test's own.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let mut redis = Self { port: free_port(), child: None };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// (Re)starts the server on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/setup-test-env.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "private redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: Redis vanishes as in a crash, with nothing persisted.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn count_keys(&self, prefix: &str) -> usize {
        self.keys(prefix).await.len()
    }

    /// The keys under `prefix:`.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let client = redis::Client::open(self.url()).expect("redis url");
        let mut connection = client.get_multiplexed_async_connection().await.expect("redis connection");
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut connection).await.expect("KEYS")
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP proxy to PostgreSQL. While cut, it closes every open connection
/// and every new one at once, as a dead network path does.
pub struct CuttableProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    generation: Arc<parking_lot::Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl CuttableProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(parking_lot::Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        let (cut_flag, generations, stopped) = (cut.clone(), generation.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stopped.cancelled() => break,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut inbound, _)) = accepted else { continue };
                if cut_flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let token = generations.lock().clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        () = token.cancelled() => {},
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {},
                    }
                });
            }
        });
        Self { port, cut, generation, stop }
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        let old = std::mem::replace(&mut *self.generation.lock(), CancellationToken::new());
        old.cancel();
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.generation.lock().cancel();
    }
}

/// One real gateway process.
pub struct GatewayProcess {
    pub base: String,
    child: Child,
}

pub struct GatewaySettings<'a> {
    pub database_url: &'a str,
    pub redis_url: Option<&'a str>,
    pub prefix: &'a str,
    pub role: &'a str,
    pub rate_per_minute: u32,
    pub burst: u32,
    /// `REDIS_TIMEOUT_MS`: generous where a fallback would blur what a test
    /// measures (debug builds on a busy machine), short where it kills Redis.
    pub redis_timeout_ms: u32,
}

impl GatewayProcess {
    pub async fn start(settings: &GatewaySettings<'_>) -> Self {
        Self::start_with(settings, &[]).await
    }

    /// As [`Self::start`], with more environment variables (e.g. the job runtime's).
    pub async fn start_with(settings: &GatewaySettings<'_>, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
        command
            .arg("--role")
            .arg(settings.role)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WHATSAPP_INGEST_TOKEN", TOKEN)
            .env("WHATSAPP_INGEST_HMAC_SECRET", SECRET)
            .env("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", settings.rate_per_minute.to_string())
            .env("WHATSAPP_INGEST_RATE_LIMIT_BURST", settings.burst.to_string())
            .env("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")
            .env("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "1")
            .env("DATABASE_URL", settings.database_url)
            .env("DATABASE_MAX_CONNECTIONS", "8")
            .env("HTTP_WORKERS", "2")
            .env("REDIS_KEY_PREFIX", settings.prefix)
            .env("REDIS_TIMEOUT_MS", settings.redis_timeout_ms.to_string())
            .env("PORT", port.to_string())
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(test_log())
            .stderr(test_log());
        if let Some(url) = settings.redis_url {
            command.env("REDIS_URL", url);
        }
        command.envs(extra.iter().copied());
        let child = command.spawn().expect("gateway binary starts");
        let gateway = Self { base: format!("http://127.0.0.1:{port}"), child };
        gateway.wait_ready(Duration::from_secs(30)).await;
        gateway
    }

    /// The process id, which starts every lease token the process's job runtime writes.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies mid-work, releasing nothing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn wait_ready(&self, within: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.base)).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "gateway {} did not become ready", self.base);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        answer(reqwest::get(format!("{}{path}", self.base)).await.expect("GET")).await
    }

    /// The value of one series in `/metrics` (0 when absent).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.base)).await.expect("metrics").text().await.expect("text");
        text.lines()
            .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
            .unwrap_or(0.0)
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts a batch signed now; `None` when the connection itself failed.
pub async fn post_batch(client: &reqwest::Client, base: &str, batch: &IngestBatch) -> Option<Answer> {
    let body = serde_json::to_vec(batch).expect("json");
    let signed = collector_client::signing::SignedHeaders::new(TOKEN, Some(SECRET.as_bytes()), &body, chrono::Utc::now());
    let mut request =
        client.post(format!("{base}/integrations/whatsapp/ingest")).header("content-type", "application/json");
    for (name, value) in signed.pairs() {
        request = request.header(name, value);
    }
    Some(answer(request.body(body).send().await.ok()?).await)
}

/// `host:port` of a PostgreSQL URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}
