//! Typed failures of the embed stage: loading (files, runtime, model IO), inference, and image rejections.
//!
//! A rejected image is not a failed embedding: [`ImageRejection`] is carried inside the result, and the
//! product is embedded from its text alone. [`EmbedError`] is for failures of the whole call.

use std::path::PathBuf;

/// Why an image was not embedded. Kept in the result so quality control and the event log can say why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRejection {
    #[error("image is empty")]
    Empty,
    #[error("image is {bytes} bytes, over the {limit}-byte cap")]
    TooManyBytes { bytes: usize, limit: usize },
    #[error("image format is not accepted: {0}")]
    UnsupportedFormat(String),
    #[error("image exceeds the decode limits: {0}")]
    ExceedsLimits(String),
    #[error("image cannot be decoded: {0}")]
    Undecodable(String),
}

/// Which of the two ONNX towers a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tower {
    Vision,
    Text,
}

impl Tower {
    pub fn file_name(self) -> &'static str {
        match self {
            Tower::Vision => "vision_model.onnx",
            Tower::Text => "text_model.onnx",
        }
    }
}

impl std::fmt::Display for Tower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file_name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model file missing: {} (EMBED_MODEL_DIR must hold vision_model.onnx, text_model.onnx and \
         tokenizer.json; scripts/make_test_models.py writes tiny test ones, scripts/export_siglip.py the real SigLIP)",
        path.display()
    )]
    MissingModelFile { path: PathBuf },

    #[error(
        "ONNX Runtime library not found: {reason}. Set ORT_DYLIB_PATH to libonnxruntime.so; \
         scripts/fetch_onnxruntime.sh fetches it from the onnxruntime PyPI wheel and prints the path"
    )]
    RuntimeNotFound { reason: String },

    #[error("ONNX Runtime library at {} could not be loaded: {reason}", path.display())]
    RuntimeLoad { path: PathBuf, reason: String },

    #[error("{tower} does not have the SigLIP export's inputs and outputs: {problem}")]
    ModelIo { tower: Tower, problem: String },

    #[error("{tower} could not be loaded: {source}")]
    Session {
        tower: Tower,
        #[source]
        source: ort::Error,
    },

    #[error("{tower} inference failed: {source}")]
    Inference {
        tower: Tower,
        #[source]
        source: ort::Error,
    },

    #[error("{tower} returned {problem}")]
    BadOutput { tower: Tower, problem: String },

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error(transparent)]
    Image(#[from] ImageRejection),

    #[error("invalid embed configuration: {0}")]
    InvalidConfig(String),

    #[error("vector bytes: {len} bytes is not a whole number of f32 values")]
    VectorBytes { len: usize },

    #[error("the embedding worker stopped: {0}")]
    Worker(String),
}
