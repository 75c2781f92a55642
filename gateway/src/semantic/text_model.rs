//! The semantic text model: all-MiniLM-L6-v2 exported by `scripts/export_minilm.py` to
//! `text_search.onnx` + `tokenizer.json` (+ `model_id`), run through ONNX Runtime (`ort`
//! load-dynamic, the process-wide environment the embed stage also uses) and the `tokenizers` crate.
//! The vector is the mean of `last_hidden_state` over the attention mask, L2-normalised
//! (sentence-transformers' pooling for this model). Inference runs on blocking threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::Tokenizer;

use super::SemanticError;
use crate::pipeline::embed::{l2_normalize, ort_environment};

pub const MODEL_FILE: &str = "text_search.onnx";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const MODEL_ID_FILE: &str = "model_id";
/// Longest text handed to the tokenizer (which truncates at 256 tokens anyway).
const MAX_TEXT_BYTES: usize = 4096;

struct Inner {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    dim: usize,
    model_id: String,
}

/// Cheap to clone; clones share the session (one run at a time: `Session::run` takes `&mut`).
#[derive(Clone)]
pub struct TextEncoder {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TextEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextEncoder").field("model_id", &self.inner.model_id).field("dim", &self.inner.dim).finish()
    }
}

impl TextEncoder {
    /// Loads the model and tokenizer and runs one probe text to learn the width. Blocking.
    pub fn load(dir: &Path, ort_dylib_path: Option<&Path>, intra_threads: usize) -> Result<Self, SemanticError> {
        let model = dir.join(MODEL_FILE);
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        for path in [&model, &tokenizer_path] {
            if !path.is_file() {
                return Err(SemanticError::Model(format!("{} is missing (scripts/export_minilm.py writes it)", path.display())));
            }
        }
        let model_err = |e: String| SemanticError::Model(format!("{}: {e}", model.display()));
        let env = ort_environment(ort_dylib_path).map_err(|e| SemanticError::Model(e.to_string()))?;
        let session = Session::builder(&env)
            .map_err(|e| model_err(e.to_string()))?
            .with_intra_threads(intra_threads.max(1))
            .map_err(|e| model_err(e.to_string()))?
            .commit_from_file(&model)
            .map_err(|e| model_err(e.to_string()))?;
        let tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| SemanticError::Model(format!("{}: {e}", tokenizer_path.display())))?;
        let model_id = std::fs::read_to_string(dir.join(MODEL_ID_FILE))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default_model_id(dir));
        let mut encoder = Inner { session: Mutex::new(session), tokenizer, dim: 0, model_id };
        let probe = encode_blocking(&encoder, &["probe"])?;
        encoder.dim = probe.first().map_or(0, Vec::len);
        if encoder.dim == 0 {
            return Err(SemanticError::Model("the text model gave an empty vector".to_owned()));
        }
        Ok(Self { inner: Arc::new(encoder) })
    }

    pub fn dim(&self) -> usize {
        self.inner.dim
    }

    pub fn model_id(&self) -> &str {
        &self.inner.model_id
    }

    /// Unit vectors for `texts`, in order, computed on a blocking thread.
    pub async fn encode(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, SemanticError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            encode_blocking(&inner, &refs)
        })
        .await
        .map_err(|e| SemanticError::Model(format!("the text model's thread failed: {e}")))?
    }

    /// [`TextEncoder::encode`] on the calling thread (tests, benchmarks).
    pub fn encode_blocking(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, SemanticError> {
        encode_blocking(&self.inner, texts)
    }
}

fn default_model_id(dir: &Path) -> String {
    let name = dir.file_name().map_or_else(|| PathBuf::from("text"), PathBuf::from);
    format!("minilm:{}", name.display())
}

fn clip(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn tensor(rows: usize, seq: usize, data: &[i64]) -> Result<TensorRef<'_, i64>, SemanticError> {
    TensorRef::from_array_view((vec![rows, seq], data)).map_err(|e| SemanticError::Model(format!("text model: {e}")))
}

fn encode_blocking(inner: &Inner, texts: &[&str]) -> Result<Vec<Vec<f32>>, SemanticError> {
    let model_err = |e: String| SemanticError::Model(format!("text model: {e}"));
    let clipped: Vec<&str> = texts.iter().map(|t| clip(t)).collect();
    let encodings = inner.tokenizer.encode_batch(clipped, true).map_err(|e| model_err(e.to_string()))?;
    let rows = encodings.len();
    let seq = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
    let mut ids = vec![0i64; rows * seq];
    let mut mask = vec![0i64; rows * seq];
    let mut types = vec![0i64; rows * seq];
    for (r, enc) in encodings.iter().enumerate() {
        for (c, ((&id, &m), &t)) in enc.get_ids().iter().zip(enc.get_attention_mask()).zip(enc.get_type_ids()).enumerate() {
            ids[r * seq + c] = i64::from(id);
            mask[r * seq + c] = i64::from(m);
            types[r * seq + c] = i64::from(t);
        }
    }
    let (ids_t, mask_t, types_t) = (tensor(rows, seq, &ids)?, tensor(rows, seq, &mask)?, tensor(rows, seq, &types)?);
    let mut session = inner.session.lock().unwrap_or_else(|p| p.into_inner());
    let outputs = session
        .run(ort::inputs!["input_ids" => ids_t, "attention_mask" => mask_t, "token_type_ids" => types_t])
        .map_err(|e| model_err(e.to_string()))?;
    let hidden = outputs.get("last_hidden_state").ok_or_else(|| model_err("no `last_hidden_state` output".to_owned()))?;
    let (out_shape, values) = hidden.try_extract_tensor::<f32>().map_err(|e| model_err(e.to_string()))?;
    let dim = match **out_shape {
        [b, s, d] if b == rows as i64 && s == seq as i64 && d > 0 => d as usize,
        _ => return Err(model_err(format!("`last_hidden_state` of shape {:?} for {rows}×{seq} tokens", &**out_shape))),
    };
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let mut pooled = vec![0.0f32; dim];
        let mut count = 0.0f32;
        for c in 0..seq {
            if mask[r * seq + c] == 0 {
                continue;
            }
            count += 1.0;
            let start = (r * seq + c) * dim;
            for (p, v) in pooled.iter_mut().zip(&values[start..start + dim]) {
                *p += v;
            }
        }
        for p in &mut pooled {
            *p /= count.max(1e-9);
        }
        if !l2_normalize(&mut pooled) {
            return Err(model_err("a zero or non-finite sentence vector".to_owned()));
        }
        out.push(pooled);
    }
    Ok(out)
}
