//! Collects submitted messages into batches and spools each one. A batch
//! closes when it holds `max_messages`, when `flush_interval` has passed
//! since its first message, on an explicit flush, or at shutdown (so a
//! stopping collector spools what it holds instead of dropping it).

use super::{Command, DeliveryEvent, Progress, SenderError, Spool};
use crate::message::{IngestBatch, IngestMessage};
use crate::metrics::Metrics;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

type Ack = oneshot::Sender<Result<(), SenderError>>;

pub(super) struct Batcher {
    pub commands: mpsc::Receiver<Command>,
    pub spool: Arc<Spool>,
    pub client_id: String,
    pub max_messages: usize,
    pub flush_interval: Duration,
    pub progress: Arc<Progress>,
    pub spooled: Arc<Notify>,
    pub events: broadcast::Sender<DeliveryEvent>,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
}

struct OpenBatch {
    messages: Vec<IngestMessage>,
    /// Submitters waiting for this batch to be on disk.
    waiting: Vec<Ack>,
    closes_at: Option<Instant>,
    /// Messages that failed to spool since the last flush.
    lost: usize,
}

impl Batcher {
    pub async fn run(mut self) {
        let mut open = OpenBatch { messages: Vec::new(), waiting: Vec::new(), closes_at: None, lost: 0 };
        loop {
            let deadline = open.closes_at;
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => break,
                command = self.commands.recv() => match command {
                    Some(Command::Submit { messages, spooled }) => self.submit(&mut open, messages, spooled).await,
                    Some(Command::Flush { done }) => {
                        self.close(&mut open).await;
                        let result = if open.lost == 0 { Ok(()) } else { Err(SenderError::NotSpooled { lost: open.lost }) };
                        open.lost = 0;
                        let _ = done.send(result);
                    }
                    None => break,
                },
                () = sleep_until_some(deadline) => self.close(&mut open).await,
            }
        }
        // Whatever was accepted but not yet spooled is spooled now, so a
        // clean stop loses nothing.
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Submit { messages, spooled } => self.submit(&mut open, messages, spooled).await,
                Command::Flush { done } => {
                    self.close(&mut open).await;
                    let _ = done.send(Ok(()));
                }
            }
        }
        self.close(&mut open).await;
    }

    async fn submit(&self, open: &mut OpenBatch, messages: Vec<IngestMessage>, spooled: Option<Ack>) {
        let lost_before = open.lost;
        for message in messages {
            if open.messages.is_empty() {
                open.closes_at = Some(Instant::now() + self.flush_interval);
            }
            open.messages.push(message);
            if open.messages.len() >= self.max_messages {
                self.close(open).await;
            }
        }
        let Some(ack) = spooled else { return };
        if open.lost > lost_before {
            let _ = ack.send(Err(SenderError::NotSpooled { lost: open.lost - lost_before }));
        } else if open.messages.is_empty() {
            let _ = ack.send(Ok(()));
        } else {
            open.waiting.push(ack);
        }
    }

    async fn close(&self, open: &mut OpenBatch) {
        open.closes_at = None;
        let waiting = std::mem::take(&mut open.waiting);
        if open.messages.is_empty() {
            for ack in waiting {
                let _ = ack.send(Ok(()));
            }
            return;
        }
        let messages = std::mem::take(&mut open.messages);
        let count = messages.len();
        match self.spool_batch(messages).await {
            Ok(name) => {
                self.progress.known.fetch_add(1, Ordering::SeqCst);
                self.metrics.spool_depth.inc();
                self.metrics.spool_messages.add(i64::try_from(count).unwrap_or(i64::MAX));
                self.progress.bump();
                self.spooled.notify_one();
                let _ = self.events.send(DeliveryEvent::Spooled { batch: name, messages: count });
                for ack in waiting {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(error) => {
                tracing::error!(%error, messages = count, "could not spool a batch; its messages are not sent");
                open.lost += count;
                for ack in waiting {
                    let _ = ack.send(Err(SenderError::NotSpooled { lost: count }));
                }
            }
        }
    }

    async fn spool_batch(&self, messages: Vec<IngestMessage>) -> Result<String, SenderError> {
        let body = serde_json::to_vec(&IngestBatch { client_id: self.client_id.clone(), messages })?;
        let spool = self.spool.clone();
        let batch = tokio::task::spawn_blocking(move || spool.write(&body)).await.map_err(|_| SenderError::Stopped)??;
        Ok(batch.name)
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
