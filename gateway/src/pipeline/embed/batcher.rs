//! Turns one-product requests from concurrent embed jobs into batches: a single task collects
//! whatever requests are waiting (up to `max_batch`) whenever a session pair is free, and runs them
//! as one [`Embedder::embed_batch`] call on a blocking thread. While every pair is busy, requests
//! queue up and leave together, so batches grow with load and nothing waits on a timer.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{EmbedInput, Embedder, Embedding};

type Reply = oneshot::Sender<Result<Embedding, String>>;

/// Cheap to clone; the collecting task stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct EmbedBatcher {
    requests: mpsc::Sender<(EmbedInput, Reply)>,
    dim: usize,
}

impl EmbedBatcher {
    /// Starts the collecting task on the current tokio runtime.
    pub fn spawn(embedder: Embedder) -> Self {
        let max_batch = embedder.config().max_batch;
        let sessions = Arc::new(Semaphore::new(embedder.config().sessions));
        let dim = embedder.dim();
        let (requests, mut queue) = mpsc::channel::<(EmbedInput, Reply)>(max_batch * 64);
        tokio::spawn(async move {
            loop {
                let Ok(permit) = sessions.clone().acquire_owned().await else { break };
                let Some(first) = queue.recv().await else { break };
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match queue.try_recv() {
                        Ok(request) => batch.push(request),
                        Err(_) => break,
                    }
                }
                let embedder = embedder.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let (inputs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                    match embedder.embed_batch(inputs).await {
                        Ok(embeddings) => {
                            for (reply, embedding) in replies.into_iter().zip(embeddings) {
                                let _ = reply.send(Ok(embedding));
                            }
                        }
                        Err(error) => {
                            let text = error.to_string();
                            for reply in replies {
                                let _ = reply.send(Err(text.clone()));
                            }
                        }
                    }
                });
            }
        });
        Self { requests, dim }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Embeds one product as part of whatever batch it joins.
    pub async fn embed(&self, input: EmbedInput) -> Result<Embedding, String> {
        let (reply, answer) = oneshot::channel();
        self.requests.send((input, reply)).await.map_err(|_| "the embedding batcher has stopped".to_owned())?;
        answer.await.map_err(|_| "the embedding batch was dropped".to_owned())?
    }
}
