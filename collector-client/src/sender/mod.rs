//! Sources hand messages to a [`Sender`]; it closes batches at
//! `batch_max_messages` or `flush_interval` after a batch's first message,
//! spools each batch durably, and delivers the spool in order with retries.
//!
//! ```text
//! SenderHandle::submit ─▶ batcher ─▶ spool (fsync) ─▶ worker ─▶ POST, 3 attempts
//!                                     ▲                  │ 2xx: remove
//!                   restart: resend ──┘                  │ 400/413/422: rejected/
//!                                                        │ 401/403: stays; queue pauses 1 s … 5 min
//!                                                        └ else: stays, retried later
//! ```
//!
//! Start one with [`Sender::start`]; tests can point it at any URL and
//! follow what it does through [`Sender::subscribe`].

mod batcher;
pub mod classify;
pub mod delivery;
pub mod retry;
pub mod spool;
mod worker;

pub use classify::{AttemptOutcome, AuthRefusal, GatewayAnswer};
pub use retry::RetryPolicy;
pub use spool::{Spool, SpoolError, SpooledBatch};

use crate::message::IngestMessage;
use crate::metrics::Metrics;
use crate::signing::WebhookKey;
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

#[derive(Clone)]
pub struct SenderConfig {
    /// The full ingest endpoint, e.g. `http://127.0.0.1:8000/integrations/whatsapp/ingest`.
    pub ingest_url: Url,
    pub token: SecretString,
    pub hmac_secret: Option<SecretString>,
    /// Set: sign with Standard Webhooks (`--signing standard-webhooks`) instead.
    pub webhook_key: Option<WebhookKey>,
    pub client_id: String,
    pub batch_max_messages: usize,
    pub flush_interval: Duration,
    pub spool_dir: PathBuf,
    pub retry: RetryPolicy,
    pub request_timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
}

impl std::fmt::Debug for SenderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderConfig")
            .field("ingest_url", &self.ingest_url.as_str())
            .field("token", &"[redacted]")
            .field("hmac_secret", &self.hmac_secret.as_ref().map(|_| "[redacted]"))
            .field("webhook_key", &self.webhook_key.as_ref().map(|_| "[redacted]"))
            .field("client_id", &self.client_id)
            .field("batch_max_messages", &self.batch_max_messages)
            .field("flush_interval", &self.flush_interval)
            .field("spool_dir", &self.spool_dir)
            .field("retry", &self.retry)
            .finish()
    }
}

impl SenderConfig {
    /// Defaults from issue #5: 50 messages, 1 s, 3 attempts in 1-5 s.
    pub fn new(ingest_url: Url, token: SecretString, client_id: impl Into<String>, spool_dir: impl Into<PathBuf>) -> Self {
        Self {
            ingest_url,
            token,
            hmac_secret: None,
            webhook_key: None,
            client_id: client_id.into(),
            batch_max_messages: 50,
            flush_interval: Duration::from_millis(1000),
            spool_dir: spool_dir.into(),
            retry: RetryPolicy::default(),
            request_timeout: Some(Duration::from_secs(30)),
            connect_timeout: Some(Duration::from_secs(10)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("cannot encode a batch: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the sender has stopped")]
    Stopped,
    #[error("{lost} message(s) could not be written to the spool (see the error log)")]
    NotSpooled { lost: usize },
}

/// What the sender did, for tests and logs. Batch names are spool file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEvent {
    Spooled {
        batch: String,
        messages: usize,
    },
    AttemptFailed {
        batch: String,
        attempt: u32,
        status: Option<u16>,
        retry_in: Duration,
    },
    /// `created + duplicate + refused == messages`; `refused` messages went
    /// to `rejected/` in a batch of their own.
    Delivered {
        batch: String,
        messages: usize,
        status: u16,
        created: usize,
        duplicate: usize,
        refused: usize,
    },
    RoundFailed {
        batch: String,
        failed_rounds: u32,
        next_round_in: Duration,
    },
    Rejected {
        batch: String,
        status: u16,
    },
    /// The gateway refused our credentials: the batch stays spooled and the
    /// queue pauses `paused_for` (the `refusals`-th refusal in a row).
    AuthRefused {
        batch: String,
        status: u16,
        code: Option<String>,
        refusals: u32,
        paused_for: Duration,
    },
    /// The spool is empty.
    Idle,
}

/// Messages in a batch body (0 when it cannot be read as one).
pub fn count_messages(body: &[u8]) -> usize {
    #[derive(serde::Deserialize)]
    struct Count {
        messages: Vec<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Count>(body).map(|count| count.messages.len()).unwrap_or(0)
}

/// How [`Sender::finish`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// Every spooled batch was delivered or rejected.
    Empty,
    /// The gateway did not take everything; these batches stay spooled and
    /// are resent first by the next collector started on the same spool.
    Undelivered { pending: u64 },
    /// As `Undelivered`, because the gateway refused our credentials
    /// (401/403): nothing gets through until the configuration is fixed.
    AuthRefused { pending: u64 },
}

pub(crate) enum Command {
    Submit { messages: Vec<IngestMessage>, spooled: Option<oneshot::Sender<Result<(), SenderError>>> },
    Flush { done: oneshot::Sender<Result<(), SenderError>> },
}

/// Counters shared by the batcher, the worker and [`Sender::finish`].
#[derive(Default)]
pub(crate) struct Progress {
    /// Batches known to need delivery: found at start plus spooled since.
    known: AtomicU64,
    /// Batches delivered or rejected.
    settled: AtomicU64,
    /// The worker is waiting out a round backoff.
    backing_off: AtomicBool,
    /// ...and the round failed only because the gateway rate-limited us: it
    /// is up, so a one-shot run keeps waiting instead of giving up.
    rate_limited: AtomicBool,
    /// ...or because the gateway refused our credentials.
    auth_refused: AtomicBool,
    changed: Notify,
}

impl Progress {
    fn bump(&self) {
        self.changed.notify_waiters();
    }
}

/// A cheap, cloneable way for sources to submit messages.
#[derive(Clone)]
pub struct SenderHandle {
    commands: mpsc::Sender<Command>,
}

impl SenderHandle {
    /// Queues messages; they are spooled when their batch closes.
    pub async fn submit(&self, messages: Vec<IngestMessage>) -> Result<(), SenderError> {
        self.commands.send(Command::Submit { messages, spooled: None }).await.map_err(|_| SenderError::Stopped)
    }

    /// Queues messages and returns once they are durably spooled (at most
    /// one flush interval later). Webhook handlers answer only after this.
    pub async fn submit_durable(&self, messages: Vec<IngestMessage>) -> Result<(), SenderError> {
        let (spooled, done) = oneshot::channel();
        self.commands.send(Command::Submit { messages, spooled: Some(spooled) }).await.map_err(|_| SenderError::Stopped)?;
        done.await.map_err(|_| SenderError::Stopped)?
    }

    /// Closes the open batch now and returns once it is spooled.
    pub async fn flush(&self) -> Result<(), SenderError> {
        let (done, finished) = oneshot::channel();
        self.commands.send(Command::Flush { done }).await.map_err(|_| SenderError::Stopped)?;
        finished.await.map_err(|_| SenderError::Stopped)?
    }
}

pub struct Sender {
    handle: SenderHandle,
    events: broadcast::Sender<DeliveryEvent>,
    progress: Arc<Progress>,
    metrics: Arc<Metrics>,
    spool_dir: PathBuf,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Sender {
    /// Opens (and locks) the spool, then starts batching and delivering.
    /// Batches left by an earlier run are sent before any new one.
    pub async fn start(config: SenderConfig, metrics: Arc<Metrics>) -> Result<Self, SenderError> {
        let spool_dir = config.spool_dir.clone();
        let spool = {
            let dir = spool_dir.clone();
            tokio::task::spawn_blocking(move || Spool::open(&dir)).await.map_err(|_| SenderError::Stopped)??
        };
        let spool = Arc::new(spool);
        let progress = Arc::new(Progress::default());
        let left = spool.pending()?;
        let already_spooled = left.len() as u64;
        progress.known.store(already_spooled, Ordering::SeqCst);
        metrics.spool_depth.set(i64::try_from(already_spooled).unwrap_or(i64::MAX));
        let waiting: usize = left.iter().map(|batch| spool.read(batch).map(|body| count_messages(&body)).unwrap_or(0)).sum();
        metrics.spool_messages.set(i64::try_from(waiting).unwrap_or(i64::MAX));

        let delivery =
            delivery::Delivery::new(config.ingest_url.clone(), config.token.clone(), config.hmac_secret.clone(), config.webhook_key.clone(), config.request_timeout, config.connect_timeout)?;
        let (events, _) = broadcast::channel(4096);
        let (commands, command_rx) = mpsc::channel(1024);
        let shutdown = CancellationToken::new();
        let spooled_notify = Arc::new(Notify::new());

        let batcher = batcher::Batcher {
            commands: command_rx,
            spool: spool.clone(),
            client_id: config.client_id.clone(),
            max_messages: config.batch_max_messages.max(1),
            flush_interval: config.flush_interval,
            progress: progress.clone(),
            spooled: spooled_notify.clone(),
            events: events.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
        };
        let worker = worker::Worker {
            spool,
            delivery,
            policy: config.retry.clone(),
            progress: progress.clone(),
            spooled: spooled_notify,
            events: events.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
        };
        let tasks = vec![tokio::spawn(batcher.run()), tokio::spawn(worker.run())];
        Ok(Self { handle: SenderHandle { commands }, events, progress, metrics, spool_dir, shutdown, tasks })
    }

    pub fn handle(&self) -> SenderHandle {
        self.handle.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DeliveryEvent> {
        self.events.subscribe()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn spool_dir(&self) -> &std::path::Path {
        &self.spool_dir
    }

    /// Batches spooled but not yet delivered or rejected.
    pub fn pending(&self) -> u64 {
        self.progress.known.load(Ordering::SeqCst).saturating_sub(self.progress.settled.load(Ordering::SeqCst))
    }

    /// For one-shot sources: closes the open batch, then waits until the
    /// spool is empty, a delivery round has failed (rounds that failed only
    /// on 429 keep it waiting: the gateway is up and pacing us) or the
    /// gateway refused our credentials, and stops.
    pub async fn finish(self) -> Result<Drain, SenderError> {
        let flushed = self.handle.flush().await;
        let drain = loop {
            let changed = self.progress.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let pending = self.pending();
            if pending == 0 {
                break Drain::Empty;
            }
            if self.progress.backing_off.load(Ordering::SeqCst) {
                if self.progress.auth_refused.load(Ordering::SeqCst) {
                    break Drain::AuthRefused { pending };
                }
                if !self.progress.rate_limited.load(Ordering::SeqCst) {
                    break Drain::Undelivered { pending };
                }
            }
            changed.await;
        };
        self.shutdown().await;
        flushed.map(|()| drain)
    }

    /// Spools whatever batch is open and stops. Undelivered batches stay in
    /// the spool for the next start.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "sender task ended abnormally");
            }
        }
    }
}
