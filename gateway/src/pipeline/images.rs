//! The read side of the image store, as `GET /images/{key}` serves it: with
//! `IMAGE_STORE=local`, files under `IMAGE_DIR` reached only through a safe
//! key; with S3 the bucket serves its own URLs and nothing is served here.

use std::{io::ErrorKind, path::PathBuf};

use super::{
    media::ImageStoreSettings,
    persist::{content_type_for, local::resolve_in},
};

/// Images the gateway serves itself.
#[derive(Debug, Clone)]
pub enum ServedImages {
    Local { dir: PathBuf },
    /// Images live in S3: every key is unknown here.
    Elsewhere,
}

/// One stored image, with the content type its key implies.
#[derive(Debug)]
pub struct StoredImage {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

impl ServedImages {
    pub fn from_settings(settings: &ImageStoreSettings) -> Self {
        match settings {
            ImageStoreSettings::Local { dir } => Self::Local { dir: dir.clone() },
            ImageStoreSettings::S3(_) => Self::Elsewhere,
        }
    }

    /// The image under `key`; `Ok(None)` for an unsafe, unknown or missing key.
    pub async fn read(&self, key: &str) -> std::io::Result<Option<StoredImage>> {
        let Self::Local { dir } = self else { return Ok(None) };
        let Some(path) = resolve_in(dir, key) else { return Ok(None) };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(StoredImage { bytes, content_type: content_type_for(key) })),
            // No such file, a directory, a path through a file, a name too long for the file
            // system: all of them are simply not an image we have.
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory | ErrorKind::InvalidFilename
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_safe_existing_keys_are_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("products")).expect("mkdir");
        std::fs::write(dir.path().join("products/1.png"), b"png").expect("write");
        std::fs::write(dir.path().join("secret"), b"no").expect("write");
        let images = ServedImages::Local { dir: dir.path().to_path_buf() };
        let image = images.read("products/1.png").await.expect("read").expect("found");
        assert_eq!((image.bytes.as_slice(), image.content_type), (&b"png"[..], "image/png"));
        for missing in ["products/2.png", "products", "../secret", "products/../secret", "/etc/passwd"] {
            assert!(images.read(missing).await.expect("read").is_none(), "{missing}");
        }
        assert!(ServedImages::Elsewhere.read("products/1.png").await.expect("read").is_none());
    }

    #[tokio::test]
    async fn keys_the_file_system_cannot_hold_are_missing_not_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("products")).expect("mkdir");
        std::fs::write(dir.path().join("products/1.png"), b"png").expect("write");
        let images = ServedImages::Local { dir: dir.path().to_path_buf() };
        let too_long = format!("{}.png", "a".repeat(300));
        for key in [too_long.as_str(), "products/1.png/2.png"] {
            assert!(images.read(key).await.expect("not an I/O error").is_none(), "{key}");
        }
    }
}
