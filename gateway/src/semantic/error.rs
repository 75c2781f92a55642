//! What semantic and visual search can refuse or fail with; `http/errors.rs` gives each its status.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SemanticError {
    /// `SEARCH_TEXT_MODEL_DIR` (text) or `EMBED_MODEL_DIR` (images) is not set: 503.
    #[error("no embedding model configured")]
    NotConfigured,
    /// Loading or running a model failed: 500.
    #[error("embedding model: {0}")]
    Model(String),
    /// The bytes are not an image the model can read: 422.
    #[error("the image could not be decoded: {0}")]
    UndecodableImage(String),
    /// Over `MEDIA_MAX_IMAGE_BYTES`: 413.
    #[error("the image is larger than the {limit}-byte cap (MEDIA_MAX_IMAGE_BYTES)")]
    ImageTooLarge { limit: usize },
    /// `image_url` is not http(s) or the fetch fence refused it: 400.
    #[error("image_url refused: {0}")]
    ImageUrlRefused(String),
    /// The image server answered with an error or could not be reached: 502.
    #[error("fetching image_url failed: {0}")]
    ImageFetch(String),
    /// No such product: 404.
    #[error("not found")]
    UnknownProduct,
    /// The product exists but has no vector yet: 409.
    #[error("the product has no embedding yet")]
    NotIndexed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SemanticError {
    /// The stable error code of the JSON error shape.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured => "no_embedding_model",
            Self::Model(_) => "embedding_failed",
            Self::UndecodableImage(_) => "undecodable_image",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::ImageUrlRefused(_) => "image_url_refused",
            Self::ImageFetch(_) => "image_fetch_failed",
            Self::UnknownProduct => "not_found",
            Self::NotIndexed => "not_indexed",
            Self::Store(_) => "storage_unavailable",
        }
    }
}
