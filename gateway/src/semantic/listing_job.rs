//! Embedding listings' text, off the write path. A sweep (every worker process, every
//! `SEARCH_INDEX_POLL_MS`) finds offers and products whose text vector is missing or older than the
//! listing and enqueues one `embed_text` job each (deduplicated by `offer:<id>` / `product:<id>`);
//! the queue gives them retries and dead letters like the chain's stages. The stage hands texts
//! to [`TextBatcher`], which runs the jobs in flight through the model together (up to
//! `SEARCH_EMBED_BATCH` per run). A listing whose text and model are unchanged (same semantic hash)
//! is not embedded again. Ingest and extraction never wait for any of this.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::rows;
use super::{ListingKind, ListingRef, TextEncoder};
use crate::domain::job::stage;
use crate::jobs::{ClaimedJob, Stage, StageCommit, StageOutcome};
use crate::store::jobs::{self, NewJob};
use crate::store::{Database, StoreError, tx::Tx};

/// Listings enqueued per sweep query.
const SWEEP_PAGE: i64 = 500;

/// sha256 over the model id and the text: equal hashes mean the stored vector is still right.
pub fn text_hash(model_id: &str, text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model_id.as_bytes());
    hasher.update(b"\n");
    hasher.update(text.as_bytes());
    hex::encode(hasher.finalize())
}

type Reply = oneshot::Sender<Result<Vec<f32>, String>>;

/// Gathers the texts of concurrent jobs into one model run.
#[derive(Clone)]
pub struct TextBatcher {
    queue: mpsc::Sender<(String, Reply)>,
}

impl TextBatcher {
    pub fn spawn(encoder: TextEncoder, max_batch: usize) -> Self {
        let (queue, mut incoming) = mpsc::channel::<(String, Reply)>(max_batch.max(1) * 4);
        let max_batch = max_batch.max(1);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match incoming.try_recv() {
                        Ok(item) => batch.push(item),
                        Err(_) => break,
                    }
                }
                let (texts, replies): (Vec<String>, Vec<Reply>) = batch.into_iter().unzip();
                match encoder.encode(texts).await {
                    Ok(vectors) => {
                        for (reply, vector) in replies.into_iter().zip(vectors) {
                            let _ = reply.send(Ok(vector));
                        }
                    }
                    Err(error) => {
                        for reply in replies {
                            let _ = reply.send(Err(error.to_string()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    pub async fn embed(&self, text: String) -> Result<Vec<f32>, String> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((text, reply)).await.map_err(|_| "the text batcher stopped".to_owned())?;
        answer.await.map_err(|_| "the text batcher dropped the request".to_owned())?
    }
}

pub struct ListingEmbedStage {
    db: Database,
    batcher: TextBatcher,
    model_id: String,
    concurrency: usize,
}

impl ListingEmbedStage {
    pub fn new(db: Database, encoder: TextEncoder, max_batch: usize, concurrency: usize) -> Self {
        let model_id = encoder.model_id().to_owned();
        Self { db, batcher: TextBatcher::spawn(encoder, max_batch), model_id, concurrency: concurrency.max(1) }
    }
}

fn retry(error: impl std::fmt::Display) -> StageOutcome {
    StageOutcome::Retry { error: error.to_string(), status: None, retry_after: None }
}

#[async_trait::async_trait]
impl Stage for ListingEmbedStage {
    fn name(&self) -> &'static str {
        stage::EMBED_TEXT
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let (Some(kind), Some(id)) = (job.payload_str("kind").and_then(ListingKind::parse), job.payload_str("id")) else {
            return StageOutcome::Terminal { error: "payload lacks kind or id".to_owned(), status: None, commit: None, dead: true };
        };
        let listing = ListingRef { kind, id: id.to_owned() };
        let (text, updated_at_ms) = match rows::listing_text(&self.db, &listing).await {
            Ok(Some(found)) => found,
            Ok(None) => return StageOutcome::done_empty(),
            Err(error) => return retry(format!("reading the listing: {error}")),
        };
        let hash = text_hash(&self.model_id, &text);
        match rows::stored_hash(&self.db, &listing).await {
            Ok(Some((model, stored))) if model == self.model_id && stored == hash => {
                return StageOutcome::Done(Box::new(Write { listing, vector: None, model_id: self.model_id.clone(), hash, updated_at_ms }));
            }
            Ok(_) => {}
            Err(error) => return retry(format!("reading the stored vector: {error}")),
        }
        match self.batcher.embed(text).await {
            Ok(vector) => StageOutcome::Done(Box::new(Write { listing, vector: Some(vector), model_id: self.model_id.clone(), hash, updated_at_ms })),
            Err(error) => retry(format!("embedding: {error}")),
        }
    }
}

/// The job's write: a new vector, or (text unchanged) only the listing's cursor.
struct Write {
    listing: ListingRef,
    vector: Option<Vec<f32>>,
    model_id: String,
    hash: String,
    updated_at_ms: i64,
}

#[async_trait::async_trait]
impl StageCommit for Write {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        match &self.vector {
            Some(vector) => rows::upsert_vector(tx, &self.listing, &self.model_id, vector, &self.hash, self.updated_at_ms, now).await,
            None => rows::touch(tx, &self.listing, self.updated_at_ms, now).await,
        }
    }
}

/// Enqueues the listings due for a vector, page by page, from a cursor that starts at the
/// beginning in each process; returns the jobs armed.
pub async fn sweep_once(db: &Database, cursors: &mut [(ListingKind, i64, String); 2]) -> Result<usize, StoreError> {
    let mut armed = 0;
    for (kind, after_ms, after_id) in cursors.iter_mut() {
        loop {
            let due = rows::due_listings(db, *kind, *after_ms, after_id, SWEEP_PAGE).await?;
            let Some(last) = due.last() else { break };
            let mut tx = db.begin_write().await?;
            let now = crate::time::now_ms();
            for item in &due {
                let key = format!("{}:{}", item.listing.kind.as_str(), item.listing.id);
                let payload = json!({"kind": item.listing.kind.as_str(), "id": item.listing.id});
                armed += usize::from(jobs::enqueue(&mut tx, NewJob { stage: stage::EMBED_TEXT, dedupe_key: &key, payload: &payload, run_at_ms: now }).await?);
            }
            tx.commit().await?;
            (*after_ms, *after_id) = (last.updated_at_ms, last.listing.id.clone());
            if (due.len() as i64) < SWEEP_PAGE {
                break;
            }
        }
    }
    Ok(armed)
}

/// Sweeps every `every` until shutdown.
pub async fn sweep(db: Database, every: Duration, shutdown: CancellationToken) {
    let mut cursors = [(ListingKind::Offer, -1, String::new()), (ListingKind::Product, -1, String::new())];
    loop {
        if let Err(error) = sweep_once(&db, &mut cursors).await {
            tracing::warn!(%error, "semantic index: the listing sweep failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// The stage, when the text model is loaded.
pub fn stage(db: &Database, encoder: Option<&TextEncoder>, max_batch: usize, concurrency: usize) -> Option<Arc<dyn Stage>> {
    encoder.map(|e| Arc::new(ListingEmbedStage::new(db.clone(), e.clone(), max_batch, concurrency)) as Arc<dyn Stage>)
}
