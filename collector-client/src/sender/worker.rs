//! Delivers the spool, oldest batch first, one batch at a time so the
//! gateway sees messages in the order they were collected.
//!
//! Each batch gets a round of `policy.attempts` attempts. A 2xx removes it;
//! a malformed-batch refusal (400, 413, 422) moves it to `rejected/`; a
//! round that runs out of attempts leaves it spooled, marks the connection
//! closed and pauses the whole queue (the gateway is down or overloaded, so
//! the next batch would fare no better) for a backoff that grows with each
//! failed round.
//!
//! A refusal of our credentials (401/403) ends the round at once: the batch
//! stays spooled, `collector_auth_failing` goes to 1 with the reason that
//! `/healthz` shows, and the queue pauses 1 s, 2 s, 4 s … up to 5 minutes
//! before the same batch is tried again. The first 2xx clears it all.

use super::classify::{AttemptOutcome, AuthRefusal, GatewayAnswer};
use super::delivery::Delivery;
use super::{DeliveryEvent, Progress, RetryPolicy, Spool, SpooledBatch, count_messages};
use crate::metrics::{ConnectionStatus, Metrics};
use chrono::Utc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

pub(super) struct Worker {
    pub spool: Arc<Spool>,
    pub delivery: Delivery,
    pub policy: RetryPolicy,
    pub progress: Arc<Progress>,
    pub spooled: Arc<Notify>,
    pub events: broadcast::Sender<DeliveryEvent>,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
}

enum RoundResult {
    /// Taken by the gateway; the event is published once the counts say so.
    Delivered(DeliveryEvent),
    /// Refused for good; the event is published once the counts say so.
    Rejected(DeliveryEvent),
    Failed { retry_after: Option<Duration>, rate_limited: bool },
    AuthRefused(AuthRefusal),
    Stopped,
}

impl Worker {
    pub async fn run(self) {
        let mut failed_rounds: u32 = 0;
        let mut auth_refusals: u32 = 0;
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            let spool = self.spool.clone();
            let pending = match tokio::task::spawn_blocking(move || spool.pending()).await {
                Ok(Ok(pending)) => pending,
                Ok(Err(error)) => {
                    tracing::error!(%error, "cannot list the spool; retrying");
                    if self.pause(self.policy.min_round_delay).await {
                        return;
                    }
                    continue;
                }
                Err(_) => return,
            };
            // spool_depth is counted up by the batcher and down here, never
            // set from a listing: a listing races with the batcher's count.
            if pending.is_empty() {
                // Start-up with nothing to send: nothing has failed, so the
                // path counts as open. A closed status waits for a success.
                if self.metrics.delivery_status() == ConnectionStatus::Connecting {
                    self.metrics.set_delivery_status(ConnectionStatus::Open);
                }
                let _ = self.events.send(DeliveryEvent::Idle);
                tokio::select! {
                    () = self.shutdown.cancelled() => return,
                    () = self.spooled.notified() => continue,
                }
            }
            for batch in pending {
                match self.deliver(&batch).await {
                    // The event goes out after `settled`, so whoever waits for it reads
                    // counts (spool depth, /healthz) that already include this batch.
                    RoundResult::Delivered(event) => {
                        // A 2xx also cleared collector_auth_failing.
                        (failed_rounds, auth_refusals) = (0, 0);
                        self.settled();
                        let _ = self.events.send(event);
                    }
                    RoundResult::Rejected(event) => {
                        failed_rounds = 0;
                        self.settled();
                        let _ = self.events.send(event);
                    }
                    RoundResult::Failed { retry_after, rate_limited } => {
                        failed_rounds = failed_rounds.saturating_add(1);
                        let wait = self.policy.delay_after_round(failed_rounds, retry_after);
                        self.metrics.batches_failed.inc();
                        self.metrics.set_delivery_status(ConnectionStatus::Closed);
                        tracing::warn!(batch = batch.id(), failed_rounds, next_round_in_ms = wait.as_millis() as u64, "batch not delivered; it stays spooled");
                        let _ = self.events.send(DeliveryEvent::RoundFailed { batch: batch.name.clone(), failed_rounds, next_round_in: wait });
                        if self.back_off(wait, rate_limited, false).await {
                            return;
                        }
                        break;
                    }
                    RoundResult::AuthRefused(refusal) => {
                        auth_refusals = auth_refusals.saturating_add(1);
                        let wait = self.policy.delay_after_auth_refusal(auth_refusals);
                        self.metrics.batches_failed.inc();
                        self.metrics.set_auth_failure(refusal.reason());
                        self.metrics.set_delivery_status(ConnectionStatus::Closed);
                        tracing::error!(
                            batch = batch.id(),
                            status = refusal.status,
                            code = refusal.code.as_deref().unwrap_or("none"),
                            hint = refusal.hint(),
                            refusals = auth_refusals,
                            paused_for_ms = wait.as_millis() as u64,
                            "the gateway refused the collector's credentials; batches stay spooled and delivery pauses"
                        );
                        let _ =
                            self.events.send(DeliveryEvent::AuthRefused { batch: batch.name.clone(), status: refusal.status, code: refusal.code.clone(), refusals: auth_refusals, paused_for: wait });
                        if self.back_off(wait, false, true).await {
                            return;
                        }
                        break;
                    }
                    RoundResult::Stopped => return,
                }
            }
        }
    }

    fn settled(&self) {
        self.progress.settled.fetch_add(1, Ordering::SeqCst);
        self.metrics.spool_depth.dec();
        self.progress.bump();
    }

    /// Pauses the whole queue, telling [`super::Sender::finish`] why; true
    /// when shut down meanwhile.
    async fn back_off(&self, wait: Duration, rate_limited: bool, auth_refused: bool) -> bool {
        self.progress.rate_limited.store(rate_limited, Ordering::SeqCst);
        self.progress.auth_refused.store(auth_refused, Ordering::SeqCst);
        self.progress.backing_off.store(true, Ordering::SeqCst);
        self.progress.bump();
        let stopped = self.pause(wait).await;
        self.progress.backing_off.store(false, Ordering::SeqCst);
        stopped
    }

    /// Sleeps unless shut down first; true when shut down.
    async fn pause(&self, wait: Duration) -> bool {
        tokio::select! {
            () = self.shutdown.cancelled() => true,
            () = tokio::time::sleep(wait) => false,
        }
    }

    async fn deliver(&self, batch: &SpooledBatch) -> RoundResult {
        let spool = self.spool.clone();
        let owned = batch.clone();
        let body = match tokio::task::spawn_blocking(move || spool.read(&owned)).await {
            Ok(Ok(body)) => body,
            Ok(Err(error)) => {
                tracing::error!(%error, batch = batch.id(), "cannot read a spooled batch");
                return RoundResult::Failed { retry_after: None, rate_limited: false };
            }
            Err(_) => return RoundResult::Stopped,
        };
        let messages = count_messages(&body);
        let mut last_retry_after = None;
        let mut last_status = None;
        for attempt in 1..=self.policy.attempts.max(1) {
            let request_id = format!("{}-{attempt}", batch.id());
            let outcome = tokio::select! {
                () = self.shutdown.cancelled() => return RoundResult::Stopped,
                outcome = self.delivery.attempt(&body, &request_id, batch.id()) => outcome,
            };
            self.metrics.record_attempt(outcome.label());
            match outcome {
                AttemptOutcome::Delivered { status, answer } => {
                    return self.delivered(batch, &body, messages, status, &answer).await;
                }
                AttemptOutcome::Rejected { status, reason } => {
                    return self.rejected(batch, messages, status, &reason, attempt).await;
                }
                AttemptOutcome::AuthRefused(refusal) => return RoundResult::AuthRefused(refusal),
                AttemptOutcome::Retryable { status, retry_after, reason } => {
                    last_retry_after = retry_after;
                    last_status = status;
                    let last = attempt >= self.policy.attempts;
                    let retry_in = if last { Duration::ZERO } else { self.policy.delay_after_attempt(attempt, retry_after) };
                    tracing::warn!(batch = batch.id(), attempt, status, reason = %truncate(&reason, 200), retry_in_ms = retry_in.as_millis() as u64, "delivery attempt failed");
                    let _ = self.events.send(DeliveryEvent::AttemptFailed { batch: batch.name.clone(), attempt, status, retry_in });
                    if last {
                        break;
                    }
                    self.metrics.set_delivery_status(ConnectionStatus::Connecting);
                    if self.pause(retry_in).await {
                        return RoundResult::Stopped;
                    }
                }
            }
        }
        RoundResult::Failed { retry_after: last_retry_after, rate_limited: last_status == Some(429) }
    }

    async fn delivered(&self, batch: &SpooledBatch, body: &[u8], messages: usize, status: u16, answer: &GatewayAnswer) -> RoundResult {
        let (created, duplicate, refused) = answer.split(messages);
        if refused > 0 {
            self.keep_refused(batch, body, status, answer).await;
        }
        let spool = self.spool.clone();
        let owned = batch.clone();
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || spool.remove(&owned)).await {
            // The gateway has it; a leftover file would only be resent and deduplicated.
            tracing::error!(%error, batch = batch.id(), "delivered batch could not be removed from the spool");
        }
        self.metrics.record_success(messages, Utc::now());
        self.metrics.record_outcome("created", created);
        self.metrics.record_outcome("duplicate", duplicate);
        self.metrics.record_outcome("rejected", refused);
        self.metrics.spool_messages.sub(i64::try_from(messages).unwrap_or(i64::MAX));
        tracing::info!(batch = batch.id(), messages, created, duplicate, refused, status, "batch delivered");
        RoundResult::Delivered(DeliveryEvent::Delivered { batch: batch.name.clone(), messages, status, created, duplicate, refused })
    }

    /// The messages a 2xx answer refused one by one go to `rejected/` as a
    /// batch of their own; the rest of the batch was taken.
    async fn keep_refused(&self, batch: &SpooledBatch, body: &[u8], status: u16, answer: &GatewayAnswer) {
        let Ok(mut parsed) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        let Some(all) = parsed.get_mut("messages").and_then(serde_json::Value::as_array_mut) else {
            return;
        };
        let picked: Vec<serde_json::Value> = answer.refused.iter().filter_map(|(index, _)| all.get(*index).cloned()).collect();
        *all = picked;
        let reasons: Vec<String> = answer.refused.iter().map(|(index, code)| format!("messages[{index}]: {code}")).collect();
        let reason = format!("refused one by one in the gateway's {status} answer ({})", reasons.join(", "));
        let part = serde_json::to_vec(&parsed).unwrap_or_default();
        let spool = self.spool.clone();
        let owned = batch.clone();
        match tokio::task::spawn_blocking(move || spool.reject_part(&owned, &part, status, &reason)).await {
            Ok(Ok(path)) => {
                tracing::error!(batch = batch.id(), refused = answer.refused.len(), kept_in = %path.display(), "the gateway refused some messages of a batch; they are kept in rejected/")
            }
            Ok(Err(error)) => {
                tracing::error!(%error, batch = batch.id(), "refused messages could not be written to rejected/")
            }
            Err(_) => {}
        }
    }

    async fn rejected(&self, batch: &SpooledBatch, messages: usize, status: u16, reason: &str, attempts: u32) -> RoundResult {
        let spool = self.spool.clone();
        let owned = batch.clone();
        let reason_owned = reason.to_owned();
        match tokio::task::spawn_blocking(move || spool.reject(&owned, status, &reason_owned, attempts)).await {
            Ok(Ok(path)) => {
                tracing::error!(batch = batch.id(), status, reason = %truncate(reason, 200), moved_to = %path.display(), "gateway refused a batch; moved to rejected/")
            }
            Ok(Err(error)) => {
                tracing::error!(%error, batch = batch.id(), "refused batch could not be moved to rejected/; will retry");
                return RoundResult::Failed { retry_after: None, rate_limited: false };
            }
            Err(_) => return RoundResult::Stopped,
        }
        self.metrics.batches_failed.inc();
        self.metrics.batches_rejected.inc();
        self.metrics.record_outcome("rejected", messages);
        self.metrics.spool_messages.sub(i64::try_from(messages).unwrap_or(i64::MAX));
        // The gateway read the batch, so the path to it works.
        self.metrics.set_delivery_status(ConnectionStatus::Open);
        RoundResult::Rejected(DeliveryEvent::Rejected { batch: batch.name.clone(), status })
    }
}

fn truncate(text: &str, limit: usize) -> &str {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
