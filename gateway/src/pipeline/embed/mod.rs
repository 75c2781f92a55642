//! The embed stage's engine: SigLIP image and text towers run through ONNX Runtime (`ort`, loading
//! `libonnxruntime.so` at run time), giving each product an image vector, a text vector and their
//! weighted hybrid, all L2-normalised.
//!
//! A model directory holds `vision_model.onnx`, `text_model.onnx` and `tokenizer.json`, the layout of
//! the public SigLIP-base ONNX export (the `.onnx` files may also sit in an `onnx/` subfolder, as the
//! export publishes them). `scripts/make_test_models.py` writes tiny models with the same inputs and
//! outputs; `scripts/export_siglip.py` exports the real one; `scripts/fetch_onnxruntime.sh` fetches the
//! runtime library that `ORT_DYLIB_PATH` (or [`EmbedConfig::ort_dylib_path`]) points at.
//!
//! Inference runs on blocking threads, never on the async runtime: [`Embedder::embed_batch`] waits for
//! one of [`EmbedConfig::sessions`] session pairs and runs the batch in `spawn_blocking`. Text must be
//! cleaned before it comes here. A missing or rejected image gives a text-only embedding, flagged in
//! [`Embedding::image_status`], never an error.

pub mod batcher;
mod engine;
mod error;
mod image_prep;
mod runtime;
pub mod stage;
pub mod store;
mod text_prep;
mod vector;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod int8_tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use self::batcher::EmbedBatcher;
pub use self::error::{EmbedError, ImageRejection, Tower};
pub use self::image_prep::{IMAGE_SIZE, ImageLimits, VALUES_PER_IMAGE, decode_rgb, preprocess_image, resize_to_model};
pub use self::runtime::{environment as ort_environment, resolve_dylib_path};
pub use self::stage::EmbedStage;
pub use self::text_prep::{MAX_TEXT_BYTES, PAD_ID, TEXT_LEN, TextTokenizer};
pub use self::vector::{dot, l2_norm, l2_normalize, vector_from_le_bytes, vector_to_le_bytes, weighted_hybrid};

pub const VISION_MODEL_FILE: &str = "vision_model.onnx";
pub const TEXT_MODEL_FILE: &str = "text_model.onnx";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

#[derive(Debug, Clone, PartialEq)]
pub struct EmbedConfig {
    /// `libonnxruntime.so`; when `None`, the `ORT_DYLIB_PATH` environment variable.
    pub ort_dylib_path: Option<PathBuf>,
    /// Weight of the image vector in the hybrid (default 0.6).
    pub image_weight: f32,
    /// Weight of the text vector in the hybrid (default 0.4).
    pub text_weight: f32,
    pub image_limits: ImageLimits,
    /// Session pairs (vision + text), hence batches that can run at once (default 1).
    pub sessions: usize,
    /// ONNX Runtime threads inside each session (default: the machine's cores).
    pub intra_threads: usize,
    /// Most rows given to one ONNX Runtime run; larger batches run in chunks (default 16).
    pub max_batch: usize,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        Self {
            ort_dylib_path: None,
            image_weight: 0.6,
            text_weight: 0.4,
            image_limits: ImageLimits::default(),
            sessions: 1,
            intra_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_batch: 16,
        }
    }
}

impl EmbedConfig {
    pub fn validate(&self) -> Result<(), EmbedError> {
        let bad = |m: &str| Err(EmbedError::InvalidConfig(m.to_owned()));
        let weight_ok = |w: f32| w.is_finite() && w >= 0.0;
        if !weight_ok(self.image_weight) || !weight_ok(self.text_weight) {
            return bad("hybrid weights must be finite and not negative");
        }
        if self.text_weight == 0.0 {
            return bad("the text weight must be above 0: text-only products would have no hybrid");
        }
        if self.sessions == 0 || self.intra_threads == 0 || self.max_batch == 0 {
            return bad("sessions, intra_threads and max_batch must be at least 1");
        }
        if self.image_limits.max_bytes == 0 {
            return bad("the image byte cap must be above 0");
        }
        Ok(())
    }
}

/// One product to embed: its cleaned text and, when there is one, its image bytes as fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedInput {
    pub text: String,
    pub image: Option<bytes::Bytes>,
}

impl EmbedInput {
    pub fn new(text: impl Into<String>, image: Option<bytes::Bytes>) -> Self {
        Self { text: text.into(), image }
    }

    pub fn text_only(text: impl Into<String>) -> Self {
        Self::new(text, None)
    }
}

/// What became of a product's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageStatus {
    Embedded,
    /// The product has no image: the hybrid is the text vector.
    Missing,
    /// The image was refused or could not be decoded: the hybrid is the text vector.
    Rejected(ImageRejection),
}

/// The stored result for one product. All vectors are L2-normalised and `dim` long.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    pub image: Option<Vec<f32>>,
    pub text: Vec<f32>,
    pub hybrid: Vec<f32>,
    /// Weights the hybrid was made with: the configured ones, or 0 and 1 when text-only.
    pub image_weight: f32,
    pub text_weight: f32,
    pub dim: usize,
    pub image_status: ImageStatus,
}

impl Embedding {
    pub fn is_text_only(&self) -> bool {
        self.image.is_none()
    }
}

/// Where a batch's time went, for metrics and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchTimings {
    /// Decoding and resizing images and writing the NCHW tensor.
    pub decode_resize: Duration,
    pub tokenize: Duration,
    pub vision_inference: Duration,
    pub text_inference: Duration,
    pub images: usize,
    pub texts: usize,
}

impl BatchTimings {
    pub fn add(&mut self, other: &BatchTimings) {
        self.decode_resize += other.decode_resize;
        self.tokenize += other.tokenize;
        self.vision_inference += other.vision_inference;
        self.text_inference += other.text_inference;
        self.images += other.images;
        self.texts += other.texts;
    }
}

/// Cheap to clone: all clones share the sessions and the bound on concurrent batches.
#[derive(Clone)]
pub struct Embedder {
    inner: Arc<engine::Engine>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("model_dir", &self.inner.model_dir).field("dim", &self.inner.dim).finish()
    }
}

impl Embedder {
    /// Loads the runtime (once per process), both towers and the tokenizer, checks the towers' inputs
    /// and outputs, and runs one probe input through each to learn the embedding width. Blocking: call
    /// it at start-up or inside `spawn_blocking`.
    pub fn load(model_dir: &Path, config: EmbedConfig) -> Result<Self, EmbedError> {
        config.validate()?;
        let vision_path = model_file(model_dir, VISION_MODEL_FILE)?;
        let text_path = model_file(model_dir, TEXT_MODEL_FILE)?;
        let tokenizer_path = model_dir.join(TOKENIZER_FILE);
        if !tokenizer_path.is_file() {
            return Err(EmbedError::MissingModelFile { path: tokenizer_path });
        }
        let env = runtime::environment(config.ort_dylib_path.as_deref())?;
        let tokenizer = TextTokenizer::from_file(&tokenizer_path)?;
        let engine = engine::Engine::open(&env, model_dir, &vision_path, &text_path, tokenizer, config)?;
        tracing::info!(model_dir = %model_dir.display(), dim = engine.dim, sessions = engine.config.sessions, "embedding model loaded");
        Ok(Self { inner: Arc::new(engine) })
    }

    /// Width of every vector this model produces (768 for SigLIP-base).
    pub fn dim(&self) -> usize {
        self.inner.dim
    }

    pub fn config(&self) -> &EmbedConfig {
        &self.inner.config
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.inner.tokenizer
    }

    /// Embeds `items` (in order) on a blocking thread, once a session pair is free.
    pub async fn embed_batch(&self, items: Vec<EmbedInput>) -> Result<Vec<Embedding>, EmbedError> {
        self.embed_batch_timed(items).await.map(|(embeddings, _)| embeddings)
    }

    /// [`Embedder::embed_batch`], also saying where the time went.
    pub async fn embed_batch_timed(&self, items: Vec<EmbedInput>) -> Result<(Vec<Embedding>, BatchTimings), EmbedError> {
        if items.is_empty() {
            return Ok((Vec::new(), BatchTimings::default()));
        }
        let permit = self.inner.permits.clone().acquire_owned().await.map_err(|e| EmbedError::Worker(e.to_string()))?;
        let engine = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            engine.embed_blocking(&items)
        })
        .await
        .map_err(|e| EmbedError::Worker(e.to_string()))?
    }

    /// The same work on the calling thread, for callers that are already off the async runtime
    /// (benchmarks, tools). Waits for a free session pair.
    pub fn embed_batch_blocking(&self, items: &[EmbedInput]) -> Result<(Vec<Embedding>, BatchTimings), EmbedError> {
        self.inner.embed_blocking(items)
    }
}

/// Models loaded in this process, by directory and configuration: the embed stage and the image
/// search queries share one copy of the model.
static SHARED: std::sync::Mutex<Vec<(PathBuf, EmbedConfig, Embedder)>> = std::sync::Mutex::new(Vec::new());

impl Embedder {
    /// [`Embedder::load`], once per directory and configuration in this process. Blocking.
    pub fn load_shared(model_dir: &Path, config: EmbedConfig) -> Result<Self, EmbedError> {
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, found)) = shared.iter().find(|(dir, c, _)| dir == model_dir && *c == config) {
            return Ok(found.clone());
        }
        let loaded = Self::load(model_dir, config.clone())?;
        shared.push((model_dir.to_path_buf(), config, loaded.clone()));
        Ok(loaded)
    }
}

/// `dir/NAME`, or `dir/onnx/NAME` as the published export lays it out.
fn model_file(dir: &Path, name: &str) -> Result<PathBuf, EmbedError> {
    let direct = dir.join(name);
    if direct.is_file() {
        return Ok(direct);
    }
    let nested = dir.join("onnx").join(name);
    if nested.is_file() {
        return Ok(nested);
    }
    Err(EmbedError::MissingModelFile { path: direct })
}
