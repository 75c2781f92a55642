//! The embed stage ([`crate::jobs::Stage`]): fetches the product image into memory under the cap,
//! cleans the title and description, embeds both through the shared [`EmbedBatcher`] and, in the
//! job's transaction, stores the vectors, logs `embed_success` and enqueues quality control.
//!
//! Without `EMBED_MODEL_DIR` the stage only passes the product on to quality control (and logs
//! `embed_skipped`). An image that is missing, gone (404) or undecodable gives a text-only
//! embedding: quality control is where a bad image is judged. A transient image failure (429,
//! 5xx, network) is retried through the queue. An image the fence refuses kills the job
//! (`blocked_address`).

use serde_json::json;

use super::batcher::EmbedBatcher;
use super::{EmbedInput, Embedding, ImageStatus, store};
use crate::parse::text::clean_for_embedding;
use crate::jobs::{ClaimedJob, Stage, StageCommit, StageOutcome};
use crate::pipeline::media::events;
use crate::pipeline::fence::blocked_outcome;
use crate::pipeline::media::{FetchError, ImageFetcher, enqueue_for_product, load_active_product};
use crate::domain::job::stage;
use crate::domain::{Product, product::semantic_hash};
use crate::store::products;
use crate::store::{Database, StoreError, tx::Tx};

pub struct EmbedStage {
    db: Database,
    fetcher: ImageFetcher,
    /// `None` when `EMBED_MODEL_DIR` is unset.
    model: Option<(EmbedBatcher, String)>,
    concurrency: usize,
}

impl EmbedStage {
    /// `model`: the batcher over the loaded model and the model id stored with each vector.
    pub fn new(db: Database, fetcher: ImageFetcher, model: Option<(EmbedBatcher, String)>, concurrency: usize) -> Self {
        Self { db, fetcher, model, concurrency: concurrency.max(1) }
    }

    async fn embed(&self, product: &Product, batcher: &EmbedBatcher) -> Result<(Embedding, Option<String>), StageOutcome> {
        let mut fetch_problem = None;
        let image = match product.image_url.as_deref() {
            None => None,
            Some(url) => match self.fetcher.fetch(url).await {
                Ok(image) => Some(image.bytes),
                Err(FetchError::Blocked(refusal)) => {
                    let (phone, id) = (product.seller_phone.as_deref(), Some(product.product_id.as_str()));
                    return Err(blocked_outcome(self.fetcher.fence(), stage::EMBED, refusal, phone, id));
                }
                Err(error) if error.is_transient() => return Err(error.into_outcome("fetching the product image")),
                Err(error) => {
                    fetch_problem = Some(error.to_string());
                    None
                }
            },
        };
        let (title, description) = product.title_and_description();
        let text = clean_for_embedding(&format!("{title}\n{description}"));
        let embedding = batcher.embed(EmbedInput::new(text, image)).await.map_err(|error| StageOutcome::Retry {
            error: format!("embedding: {error}"),
            status: None,
            retry_after: None,
        })?;
        Ok((embedding, fetch_problem))
    }
}

#[async_trait::async_trait]
impl Stage for EmbedStage {
    fn name(&self) -> &'static str {
        stage::EMBED
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let product = match load_active_product(&self.db, job).await {
            Ok(Some(product)) => product,
            Ok(None) => return StageOutcome::done_empty(),
            Err(outcome) => return outcome,
        };
        let Some((batcher, model_id)) = &self.model else {
            return StageOutcome::Done(Box::new(EmbedCommit { product, stored: None }));
        };
        match self.embed(&product, batcher).await {
            Ok((embedding, fetch_problem)) => {
                StageOutcome::Done(Box::new(EmbedCommit { product, stored: Some((embedding, model_id.clone(), fetch_problem)) }))
            }
            Err(outcome) => outcome,
        }
    }
}

struct EmbedCommit {
    product: Product,
    /// The embedding, the model id and why the image was not fetched (if it was not).
    stored: Option<(Embedding, String, Option<String>)>,
}

#[async_trait::async_trait]
impl StageCommit for EmbedCommit {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        let now = crate::time::now_ms();
        let id = self.product.product_id.as_str();
        match &self.stored {
            None => {
                let details = json!({"reason": "EMBED_MODEL_DIR is not set"});
                events::record(tx, now, events::EMBED_SKIPPED, &self.product, None, details).await?;
            }
            Some((embedding, model_id, fetch_problem)) => {
                let p = &self.product;
                let hash = p.semantic_hash.clone().unwrap_or_else(|| {
                    semantic_hash(p.name.as_deref(), p.description.as_deref(), p.image_url.as_deref())
                });
                store::upsert(tx, id, model_id, embedding, Some(&hash), now).await?;
                products::mark_embedded(tx, id, &hash, now).await?;
                let rejection = match &embedding.image_status {
                    ImageStatus::Rejected(why) => Some(why.to_string()),
                    _ => fetch_problem.clone(),
                };
                let details = json!({
                    "model_id": model_id,
                    "dims": embedding.dim,
                    "image_status": store::image_status_label(&embedding.image_status),
                    "image_problem": rejection,
                });
                events::record(tx, now, events::EMBED_SUCCESS, &self.product, None, details).await?;
            }
        }
        enqueue_for_product(tx, stage::QC, id, now).await
    }
}
