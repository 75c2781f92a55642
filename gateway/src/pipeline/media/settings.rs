//! Settings of the embed, quality-control and persist stages. `config` reads them from the
//! environment and validates them with everything else (every problem reported at once):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `EMBED_MODEL_DIR` | unset | SigLIP ONNX export; unset means products pass on without a vector |
//! | `EMBED_MODEL_ID` | the directory's name | stored with every vector |
//! | `ORT_DYLIB_PATH` | – | `libonnxruntime.so` (`scripts/fetch_onnxruntime.sh` prints it) |
//! | `EMBED_IMAGE_WEIGHT`, `EMBED_TEXT_WEIGHT` | 0.6, 0.4 | hybrid weights |
//! | `EMBED_SESSIONS`, `EMBED_THREADS`, `EMBED_MAX_BATCH` | 1, cores, 16 | inference pool |
//! | `MEDIA_MAX_IMAGE_BYTES` | 10 MiB | cap on a fetched image |
//! | `MEDIA_FETCH_TIMEOUT_SECONDS` | 10 | whole-request timeout of an image fetch |
//! | `MEDIA_CACHE_MB`, `MEDIA_CACHE_TTL_SECONDS` | 32, 600 | fetched images kept for the chain's next stage (0 MB: off) |
//! | `QC_PROVIDER` | `rules` | `rules`, `gemini` or `openai` |
//! | `GEMINI_API_KEY`, `GEMINI_MODEL`, `GEMINI_BASE_URL` | –, `gemini-2.5-flash`, Google's | Gemini |
//! | `QC_BASE_URL`, `QC_API_KEY`, `QC_MODEL` | – | any OpenAI-compatible endpoint |
//! | `QC_BANNED_WORDS` | – | extra banned terms, comma-separated |
//! | `IMAGE_STORE` | `local` | `local` or `s3` |
//! | `IMAGE_DIR` | `./data/images` | local store root, served under `/images/` |
//! | `S3_BUCKET`, `S3_ENDPOINT`, `S3_REGION`, `S3_PUBLIC_BASE_URL` | –, AWS, `us-east-1`, path-style URL | S3 store |
//! | `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY` | the AWS default chain | static S3 credentials |

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::pipeline::qc::QcProviderKind;

pub const DEFAULT_IMAGE_DIR: &str = "./data/images";
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";

#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub max_image_bytes: usize,
    pub fetch_timeout: Duration,
    /// `MEDIA_CACHE_MB` in bytes: fetched images kept so the next stage does not download again.
    pub cache_bytes: u64,
    /// `MEDIA_CACHE_TTL_SECONDS`.
    pub cache_ttl: Duration,
    pub embed: EmbedSettings,
    pub qc: QcSettings,
    pub image_store: ImageStoreSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmbedSettings {
    /// `None`: the embed stage passes products on without a vector.
    pub model_dir: Option<PathBuf>,
    pub model_id: String,
    /// `libonnxruntime.so`; required with a model.
    pub ort_dylib_path: Option<PathBuf>,
    pub image_weight: f32,
    pub text_weight: f32,
    pub sessions: usize,
    pub intra_threads: usize,
    pub max_batch: usize,
}

#[derive(Debug, Clone)]
pub struct QcSettings {
    pub provider: QcProviderKind,
    /// Set when the provider is Gemini.
    pub gemini: Option<LlmEndpoint>,
    /// Set when the provider is OpenAI-compatible.
    pub openai: Option<LlmEndpoint>,
    pub extra_banned_words: Option<String>,
    pub cache_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct LlmEndpoint {
    pub base_url: Url,
    pub model: String,
    /// OpenAI-compatible local servers may need no key.
    pub api_key: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub enum ImageStoreSettings {
    Local { dir: PathBuf },
    S3(Box<S3Settings>),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<Url>,
    pub region: String,
    pub public_base_url: Option<Url>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}
