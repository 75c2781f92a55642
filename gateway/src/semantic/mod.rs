//! Semantic and visual search (issue 15, items 3, 4 and 6): vectors in the database are the truth,
//! and each process keeps an in-memory index derived from them.
//!
//! - Text: offers and products are embedded with all-MiniLM-L6-v2 ([`text_model`]) by a durable,
//!   batched job after extraction ([`listing_job`]); queries are embedded the same way.
//! - Images: the embed stage's SigLIP image and 0.6/0.4 hybrid vectors (`product_embeddings`),
//!   kept in separate spaces, so an image query compares image with image.
//! - [`follow`] keeps the spaces current through the `index_seq` column (polled at most every
//!   second, so replicas converge within a second), and saves and restores a snapshot in
//!   `SEARCH_INDEX_DIR`. Each space scans exactly below `SEARCH_EXACT_BELOW` vectors (20,000)
//!   and above it uses an HNSW graph ([`ann`]) together with a pass over every row's sign bits
//!   ([`sign_codes`]), re-scored exactly.
//!
//! The face for the search route and the HTTP layer is [`SemanticIndex`].

pub mod ann;
mod error;
pub mod flat;
pub mod follow;
pub mod listing_job;
pub mod rows;
pub mod sign_codes;
pub mod snapshot;
pub mod space;
pub mod text_model;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

pub use self::error::SemanticError;
pub use self::space::Effort;
pub use self::text_model::TextEncoder;
use crate::pipeline::embed::{EmbedInput, Embedder, ImageStatus};
use crate::pipeline::media::{FetchError, ImageFetcher};
use crate::store::Database;

/// What `config` reads for semantic search.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticSettings {
    /// `SEARCH_TEXT_MODEL_DIR`: `text_search.onnx` + `tokenizer.json`; unset, text search is off.
    pub text_model_dir: Option<PathBuf>,
    /// `SEARCH_INDEX_DIR`: where the index snapshot is kept; unset, every start reads the database.
    pub index_dir: Option<PathBuf>,
    /// `ORT_DYLIB_PATH`.
    pub ort_dylib_path: Option<PathBuf>,
    /// `SEARCH_INDEX_POLL_MS` (default 250, at most 1,000): how often the index looks for new rows.
    pub poll: Duration,
    /// `SEARCH_EXACT_BELOW` (default 20,000): spaces smaller than this are scanned exactly.
    pub exact_below: usize,
    /// `SEARCH_INDEX_EF_SEARCH` (default 256): how wide the graph walk is (recall against time).
    pub ef_search: usize,
    /// `SEARCH_INDEX_CODE_CANDIDATES` (default 2,000; 0 turns the pass off): rows nearest the query
    /// by sign bits that are re-scored exactly beside the graph's hits (recall on near-copies).
    pub code_candidates: usize,
    /// `SEARCH_EMBED_BATCH` (default 32): listings embedded in one model run.
    pub embed_batch: usize,
    /// Jobs of the listing-embedding stage in flight (`SEARCH_EMBED_BATCH`, so they fill a batch).
    pub concurrency: usize,
}

impl SemanticSettings {
    /// How hard an approximate query looks.
    pub fn effort(&self) -> Effort {
        Effort { ef_search: self.ef_search, code_candidates: self.code_candidates }
    }
}

impl Default for SemanticSettings {
    fn default() -> Self {
        Self {
            text_model_dir: None,
            index_dir: None,
            ort_dylib_path: None,
            poll: Duration::from_millis(250),
            exact_below: 20_000,
            ef_search: 256,
            code_candidates: 2_000,
            embed_batch: 32,
            concurrency: 8,
        }
    }
}

/// The kind of listing a vector belongs to: the store's own type.
pub use crate::store::search_index::ListingKind;

/// An offer (`id` = `offers.id`) or a product (`id` = `products.product_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ListingRef {
    pub kind: ListingKind,
    pub id: String,
}

impl ListingRef {
    pub fn product(id: impl Into<String>) -> Self {
        Self { kind: ListingKind::Product, id: id.into() }
    }

    pub fn offer(id: impl Into<String>) -> Self {
        Self { kind: ListingKind::Offer, id: id.into() }
    }
}

/// Which vectors a query compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpaceKind {
    /// MiniLM vectors of offers and products.
    Text,
    /// SigLIP image vectors of products.
    Image,
    /// The embed stage's 0.6 image + 0.4 text hybrid of products.
    Hybrid,
}

/// The image side: the SigLIP model the embed stage uses, its model id, and the fenced fetcher
/// for `image_url` queries.
#[derive(Clone)]
pub struct ImageQueries {
    pub embedder: Embedder,
    pub model_id: String,
    pub fetcher: ImageFetcher,
    pub max_image_bytes: usize,
}

/// A filter applied inside the scan, before ranking: `true` keeps the listing.
pub type Keep<'a> = &'a (dyn Fn(&ListingRef) -> bool + Sync);

/// Sizes and watermarks, reported by `/readyz`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct IndexStats {
    pub text: usize,
    pub image: usize,
    pub hybrid: usize,
    pub text_watermark: i64,
    pub product_watermark: i64,
}

/// The process's semantic index: the models and the spaces the follower keeps current.
pub struct SemanticIndex {
    pub(crate) db: Database,
    pub(crate) settings: SemanticSettings,
    text: Option<TextEncoder>,
    image: Option<ImageQueries>,
    pub(crate) spaces: RwLock<follow::Spaces>,
}

impl SemanticIndex {
    /// An index with nothing loaded yet; [`follow::start`] fills it and keeps it current.
    pub fn new(db: Database, settings: SemanticSettings, text: Option<TextEncoder>, image: Option<ImageQueries>) -> Arc<Self> {
        let spaces = follow::Spaces::new(settings.exact_below);
        Arc::new(Self { db, settings, text, image, spaces: RwLock::new(spaces) })
    }

    pub fn text_model(&self) -> Option<&TextEncoder> {
        self.text.as_ref()
    }

    pub fn image_model_id(&self) -> Option<&str> {
        self.image.as_ref().map(|i| i.model_id.as_str())
    }

    /// `MEDIA_MAX_IMAGE_BYTES` when image search is on.
    pub fn max_image_bytes(&self) -> Option<usize> {
        self.image.as_ref().map(|i| i.max_image_bytes)
    }

    pub fn text_enabled(&self) -> bool {
        self.text.is_some()
    }

    pub fn image_enabled(&self) -> bool {
        self.image.is_some()
    }

    pub fn stats(&self) -> IndexStats {
        self.spaces.read().unwrap_or_else(|p| p.into_inner()).stats()
    }

    /// Searches one space with a ready vector.
    pub fn query_vector(&self, space: SpaceKind, vector: &[f32], k: usize, keep: Keep<'_>) -> Vec<(ListingRef, f32)> {
        self.query_vector_with(space, vector, k, self.settings.effort(), keep)
    }

    /// [`Self::query_vector`] with the effort given (the benchmark's sweep).
    pub fn query_vector_with(&self, space: SpaceKind, vector: &[f32], k: usize, effort: Effort, keep: Keep<'_>) -> Vec<(ListingRef, f32)> {
        let spaces = self.spaces.read().unwrap_or_else(|p| p.into_inner());
        spaces.get(space).map(|s| s.search(vector, k, effort, keep)).unwrap_or_default()
    }

    /// Exact top `k` among `candidates` only (a narrow filter's allowed listings): a graph walk
    /// under a filter that keeps few listings can come back short; a pass over them cannot.
    pub fn query_among(&self, space: SpaceKind, vector: &[f32], k: usize, candidates: &[ListingRef]) -> Vec<(ListingRef, f32)> {
        let spaces = self.spaces.read().unwrap_or_else(|p| p.into_inner());
        let Some(space) = spaces.get(space) else { return Vec::new() };
        let mut scored: Vec<(ListingRef, f32)> =
            candidates.iter().filter_map(|key| space.get(key).map(|row| (key.clone(), flat::dot(vector, row)))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }

    /// The exact top `k` whatever the space's size (recall measurements).
    pub fn query_exact(&self, space: SpaceKind, vector: &[f32], k: usize) -> Vec<(ListingRef, f32)> {
        let spaces = self.spaces.read().unwrap_or_else(|p| p.into_inner());
        spaces.get(space).map(|s| s.search_exact(vector, k)).unwrap_or_default()
    }

    /// Whether `space` answers through the approximate graph (it holds `SEARCH_EXACT_BELOW` or more).
    pub fn uses_ann(&self, space: SpaceKind) -> bool {
        let spaces = self.spaces.read().unwrap_or_else(|p| p.into_inner());
        spaces.get(space).is_some_and(space::Space::uses_ann)
    }

    /// The MiniLM vector of `query`.
    pub async fn text_vector(&self, query: &str) -> Result<Vec<f32>, SemanticError> {
        let encoder = self.text.as_ref().ok_or(SemanticError::NotConfigured)?;
        encoder.encode(vec![query.to_owned()]).await?.pop().ok_or_else(|| SemanticError::Model("no vector".to_owned()))
    }

    /// Offers and products nearest in meaning to `query` (MiniLM), best first with cosine scores.
    pub async fn query_text(&self, query: &str, k: usize, keep: Keep<'_>) -> Result<Vec<(ListingRef, f32)>, SemanticError> {
        let vector = self.text_vector(query).await?;
        Ok(self.query_vector(SpaceKind::Text, &vector, k, keep))
    }

    /// The SigLIP image vector of `bytes`.
    pub async fn image_vector(&self, bytes: Bytes) -> Result<Vec<f32>, SemanticError> {
        let image = self.image.as_ref().ok_or(SemanticError::NotConfigured)?;
        if bytes.len() > image.max_image_bytes {
            return Err(SemanticError::ImageTooLarge { limit: image.max_image_bytes });
        }
        let mut out = image
            .embedder
            .embed_batch(vec![EmbedInput::new("", Some(bytes))])
            .await
            .map_err(|e| SemanticError::Model(e.to_string()))?;
        let embedding = out.pop().ok_or_else(|| SemanticError::Model("no embedding".to_owned()))?;
        match (embedding.image, embedding.image_status) {
            (Some(vector), _) => Ok(vector),
            (None, ImageStatus::Rejected(why)) => Err(match why {
                crate::pipeline::embed::ImageRejection::TooManyBytes { .. } => SemanticError::ImageTooLarge { limit: image.max_image_bytes },
                other => SemanticError::UndecodableImage(other.to_string()),
            }),
            (None, _) => Err(SemanticError::UndecodableImage("no image".to_owned())),
        }
    }

    /// Products whose image looks most like `bytes` (image vectors only), best first.
    pub async fn query_image(&self, bytes: Bytes, k: usize, keep: Keep<'_>) -> Result<Vec<(ListingRef, f32)>, SemanticError> {
        let vector = self.image_vector(bytes).await?;
        Ok(self.query_vector(SpaceKind::Image, &vector, k, keep))
    }

    /// Fetches `url` through the chain's fetch fence, under `MEDIA_MAX_IMAGE_BYTES`.
    pub async fn fetch_image(&self, url: &str) -> Result<Bytes, SemanticError> {
        let image = self.image.as_ref().ok_or(SemanticError::NotConfigured)?;
        match image.fetcher.fetch(url).await {
            Ok(fetched) => Ok(fetched.bytes),
            Err(FetchError::TooLarge { limit }) => Err(SemanticError::ImageTooLarge { limit }),
            Err(error @ (FetchError::InvalidUrl(_) | FetchError::Blocked(_))) => Err(SemanticError::ImageUrlRefused(error.to_string())),
            Err(error) => Err(SemanticError::ImageFetch(error.to_string())),
        }
    }

    /// The neighbours of a product in `space` (the hybrid by default at the route), itself excluded.
    pub async fn similar_to(&self, product_id: &str, space: SpaceKind, k: usize, keep: Keep<'_>) -> Result<Vec<(ListingRef, f32)>, SemanticError> {
        if space == SpaceKind::Text && self.text.is_none() || space != SpaceKind::Text && self.image.is_none() {
            return Err(SemanticError::NotConfigured);
        }
        if !rows::product_exists(&self.db, product_id).await? {
            return Err(SemanticError::UnknownProduct);
        }
        let me = ListingRef::product(product_id);
        let spaces = self.spaces.read().unwrap_or_else(|p| p.into_inner());
        let space = spaces.get(space).ok_or(SemanticError::NotIndexed)?;
        let vector = space.get(&me).ok_or(SemanticError::NotIndexed)?.to_vec();
        let not_me = |l: &ListingRef| *l != me && keep(l);
        Ok(space.search(&vector, k, self.settings.effort(), &not_me))
    }
}
