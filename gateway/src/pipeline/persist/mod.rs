//! Lazy persistence: approved products' images copied from Meta's CDN into our own store, as
//! `products/<product_id>.<ext>` with their content type. [`ImageStore`] is the one seam:
//! `IMAGE_STORE=local` writes under `IMAGE_DIR` (served by the gateway under `/images/`),
//! `IMAGE_STORE=s3` puts objects into any S3-compatible bucket. [`stage`] is the queue stage.

pub mod local;
pub mod s3;
pub mod stage;

use bytes::Bytes;
use image::ImageFormat;

pub use local::LocalStore;
pub use s3::S3Store;

use crate::pipeline::media::ImageStoreSettings;

#[derive(Debug, thiserror::Error)]
pub enum ImageStoreError {
    #[error("image store key {0:?} is not a safe relative path")]
    UnsafeKey(String),
    #[error("local image store: {0}")]
    Io(#[from] std::io::Error),
    #[error("S3 image store: {0}")]
    S3(String),
}

pub enum ImageStore {
    Local(LocalStore),
    S3(S3Store),
}

impl ImageStore {
    pub async fn from_settings(settings: &ImageStoreSettings) -> Result<Self, ImageStoreError> {
        Ok(match settings {
            ImageStoreSettings::Local { dir } => Self::Local(LocalStore::open(dir)?),
            ImageStoreSettings::S3(s3) => Self::S3(S3Store::connect(s3).await),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::S3(_) => "s3",
        }
    }

    /// Stores `bytes` under `key` and returns the URL it is served at.
    pub async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<String, ImageStoreError> {
        if !is_safe_key(key) {
            return Err(ImageStoreError::UnsafeKey(key.to_owned()));
        }
        match self {
            Self::Local(store) => store.put(key, &bytes).await,
            Self::S3(store) => store.put(key, bytes, content_type).await,
        }
    }
}

/// Relative, `/`-separated, every segment of `[A-Za-z0-9._-]` and none `.` or `..`: such a key
/// can be joined to a directory or put in a URL as it is.
pub fn is_safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Extension and content type of an image, from its bytes, else from the type the server sent.
pub fn image_kind(bytes: &[u8], served_type: Option<&str>) -> Option<(&'static str, &'static str)> {
    let by_bytes = image::guess_format(bytes).ok().and_then(|format| match format {
        ImageFormat::Jpeg => Some(("jpg", "image/jpeg")),
        ImageFormat::Png => Some(("png", "image/png")),
        ImageFormat::WebP => Some(("webp", "image/webp")),
        ImageFormat::Gif => Some(("gif", "image/gif")),
        _ => None,
    });
    by_bytes.or(match served_type {
        Some("image/jpeg" | "image/jpg") => Some(("jpg", "image/jpeg")),
        Some("image/png") => Some(("png", "image/png")),
        Some("image/webp") => Some(("webp", "image/webp")),
        Some("image/gif") => Some(("gif", "image/gif")),
        _ => None,
    })
}

/// Content type of a stored file, by extension (for serving the local store).
pub fn content_type_for(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
}

/// `products/<product_id>.<ext>`; product ids are digits, anything else is refused.
pub fn product_key(product_id: &str, ext: &str) -> Option<String> {
    let ok = !product_id.is_empty() && product_id.len() <= 32 && product_id.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("products/{product_id}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        for good in ["products/1234567890123456.jpg", "a/b-c_d.e"] {
            assert!(is_safe_key(good), "{good}");
        }
        for bad in ["", "/etc/passwd", "products/../x", "./x", "a//b", "a/b/", "a\\b", "a b", "ä", "a/%2e%2e/b", "x\0y"] {
            assert!(!is_safe_key(bad), "{bad:?}");
        }
        assert_eq!(product_key("1234567890123456", "png").as_deref(), Some("products/1234567890123456.png"));
        assert_eq!(product_key("12/../3", "png"), None);
        assert_eq!(product_key("", "png"), None);
    }

    #[test]
    fn kinds_come_from_bytes_first() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(image_kind(png, Some("image/jpeg")), Some(("png", "image/png")));
        assert_eq!(image_kind(b"\xff\xd8\xff\xe0", None), Some(("jpg", "image/jpeg")));
        assert_eq!(image_kind(b"????", Some("image/webp")), Some(("webp", "image/webp")));
        assert_eq!(image_kind(b"<html>", Some("text/html")), None);
        assert_eq!(content_type_for("products/1.JPG"), "image/jpeg");
        assert_eq!(content_type_for("products/1"), "application/octet-stream");
    }
}
