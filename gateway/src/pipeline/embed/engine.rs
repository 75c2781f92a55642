//! The blocking core: a small pool of (vision, text) session pairs, and the batch path that decodes
//! images, tokenizes texts, runs both towers in chunks, normalises and mixes the vectors.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use ort::environment::Environment;
use ort::session::Session;
use tokio::sync::Semaphore;

use super::error::{EmbedError, Tower};
use super::image_prep::{VALUES_PER_IMAGE, decode_rgb, resize_to_model, write_nchw};
use super::runtime::{open_tower, run_pooled};
use super::text_prep::{TEXT_LEN, TextTokenizer};
use super::vector::{l2_normalize, weighted_hybrid};
use super::{BatchTimings, EmbedConfig, EmbedInput, Embedding, ImageStatus};

struct TowerPair {
    vision: Session,
    text: Session,
}

pub(super) struct Engine {
    pub(super) model_dir: PathBuf,
    pub(super) config: EmbedConfig,
    pub(super) tokenizer: TextTokenizer,
    pub(super) dim: usize,
    /// Bounds async callers to one blocking task per session pair.
    pub(super) permits: Arc<Semaphore>,
    pool: Mutex<Vec<TowerPair>>,
    returned: Condvar,
}

/// Gives the pair back to the pool however the batch ends.
struct Checkout<'a> {
    engine: &'a Engine,
    pair: Option<TowerPair>,
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Some(pair) = self.pair.take() {
            self.engine.pool.lock().unwrap_or_else(|p| p.into_inner()).push(pair);
            self.engine.returned.notify_one();
        }
    }
}

/// One chunk's decoded images: NCHW values row after row, and which item each row belongs to.
struct DecodedImages {
    pixels: Vec<f32>,
    owners: Vec<usize>,
    statuses: Vec<ImageStatus>,
}

impl Engine {
    pub(super) fn open(
        env: &Environment,
        model_dir: &Path,
        vision_path: &Path,
        text_path: &Path,
        tokenizer: TextTokenizer,
        config: EmbedConfig,
    ) -> Result<Self, EmbedError> {
        let mut pairs = Vec::with_capacity(config.sessions);
        let mut dim = None;
        for _ in 0..config.sessions {
            let mut pair = TowerPair {
                vision: open_tower(env, Tower::Vision, vision_path, config.intra_threads)?,
                text: open_tower(env, Tower::Text, text_path, config.intra_threads)?,
            };
            let pair_dim = probe(&mut pair, &tokenizer)?;
            if dim.is_some_and(|d| d != pair_dim) {
                return Err(EmbedError::ModelIo { tower: Tower::Vision, problem: "sessions disagree on the width".to_owned() });
            }
            dim = Some(pair_dim);
            pairs.push(pair);
        }
        let dim = dim.ok_or_else(|| EmbedError::InvalidConfig("no sessions".to_owned()))?;
        Ok(Self {
            model_dir: model_dir.to_path_buf(),
            permits: Arc::new(Semaphore::new(config.sessions)),
            config,
            tokenizer,
            dim,
            pool: Mutex::new(pairs),
            returned: Condvar::new(),
        })
    }

    fn checkout(&self) -> Checkout<'_> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(pair) = pool.pop() {
                return Checkout { engine: self, pair: Some(pair) };
            }
            pool = self.returned.wait(pool).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(super) fn embed_blocking(&self, items: &[EmbedInput]) -> Result<(Vec<Embedding>, BatchTimings), EmbedError> {
        let mut checkout = self.checkout();
        let pair = checkout.pair.as_mut().ok_or_else(|| EmbedError::Worker("session pool checkout was empty".to_owned()))?;
        let mut out = Vec::with_capacity(items.len());
        let mut timings = BatchTimings::default();
        for chunk in items.chunks(self.config.max_batch) {
            out.extend(self.embed_chunk(pair, chunk, &mut timings)?);
        }
        Ok((out, timings))
    }

    fn embed_chunk(&self, pair: &mut TowerPair, items: &[EmbedInput], timings: &mut BatchTimings) -> Result<Vec<Embedding>, EmbedError> {
        let started = Instant::now();
        let images = self.decode_images(items);
        timings.decode_resize += started.elapsed();
        timings.images += images.owners.len();

        let started = Instant::now();
        let mut ids = Vec::with_capacity(items.len() * TEXT_LEN);
        self.tokenizer.encode_into(items.iter().map(|i| i.text.as_str()), &mut ids)?;
        timings.tokenize += started.elapsed();
        timings.texts += items.len();

        let started = Instant::now();
        let mut image_rows = if images.owners.is_empty() {
            Vec::new()
        } else {
            self.normalised_rows(&mut pair.vision, Tower::Vision, images.owners.len(), &images.pixels)?
        };
        timings.vision_inference += started.elapsed();

        let started = Instant::now();
        let text_rows = self.normalised_rows(&mut pair.text, Tower::Text, items.len(), &ids)?;
        timings.text_inference += started.elapsed();

        let mut image_by_item: Vec<Option<Vec<f32>>> = vec![None; items.len()];
        for (owner, row) in images.owners.iter().zip(image_rows.drain(..)) {
            image_by_item[*owner] = Some(row);
        }
        text_rows
            .into_iter()
            .zip(image_by_item)
            .zip(images.statuses)
            .map(|((text, image), image_status)| self.compose(text, image, image_status))
            .collect()
    }

    fn decode_images(&self, items: &[EmbedInput]) -> DecodedImages {
        let mut decoded = DecodedImages { pixels: Vec::new(), owners: Vec::new(), statuses: Vec::with_capacity(items.len()) };
        for (index, item) in items.iter().enumerate() {
            let Some(bytes) = &item.image else {
                decoded.statuses.push(ImageStatus::Missing);
                continue;
            };
            match decode_rgb(bytes, &self.config.image_limits) {
                Ok(rgb) => {
                    let start = decoded.pixels.len();
                    decoded.pixels.resize(start + VALUES_PER_IMAGE, 0.0);
                    write_nchw(&resize_to_model(&rgb), &mut decoded.pixels[start..]);
                    decoded.owners.push(index);
                    decoded.statuses.push(ImageStatus::Embedded);
                }
                Err(rejection) => {
                    tracing::debug!(%rejection, "image not embedded; text only");
                    decoded.statuses.push(ImageStatus::Rejected(rejection));
                }
            }
        }
        decoded
    }

    fn normalised_rows<T>(&self, session: &mut Session, tower: Tower, rows: usize, data: &[T]) -> Result<Vec<Vec<f32>>, EmbedError>
    where
        T: ort::value::PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static,
    {
        let (values, dim) = run_pooled(session, tower, rows, data)?;
        if dim != self.dim {
            return Err(EmbedError::BadOutput { tower, problem: format!("width {dim}, but the model loaded with width {}", self.dim) });
        }
        values
            .chunks_exact(dim)
            .map(|row| {
                let mut row = row.to_vec();
                if l2_normalize(&mut row) {
                    Ok(row)
                } else {
                    Err(EmbedError::BadOutput { tower, problem: "a zero or non-finite `pooler_output` row".to_owned() })
                }
            })
            .collect()
    }

    fn compose(&self, text: Vec<f32>, image: Option<Vec<f32>>, image_status: ImageStatus) -> Result<Embedding, EmbedError> {
        let (hybrid, image_weight, text_weight) = match &image {
            Some(img) => {
                let (wi, wt) = (self.config.image_weight, self.config.text_weight);
                let hybrid = weighted_hybrid(img, &text, wi, wt).ok_or_else(|| EmbedError::BadOutput {
                    tower: Tower::Vision,
                    problem: "an image vector that cancels the text vector in the hybrid".to_owned(),
                })?;
                (hybrid, wi, wt)
            }
            None => (text.clone(), 0.0, 1.0),
        };
        Ok(Embedding { image, text, hybrid, image_weight, text_weight, dim: self.dim, image_status })
    }
}

/// Runs one blank image and one empty text through a fresh pair: proves the towers run and learns
/// the width, which both towers must share.
fn probe(pair: &mut TowerPair, tokenizer: &TextTokenizer) -> Result<usize, EmbedError> {
    let (_, vision_dim) = run_pooled(&mut pair.vision, Tower::Vision, 1, &vec![0.0f32; VALUES_PER_IMAGE])?;
    let (_, text_dim) = run_pooled(&mut pair.text, Tower::Text, 1, &tokenizer.encode("")?)?;
    if vision_dim != text_dim {
        return Err(EmbedError::ModelIo {
            tower: Tower::Text,
            problem: format!("`pooler_output` is {text_dim} wide but the vision tower's is {vision_dim}"),
        });
    }
    Ok(vision_dim)
}
