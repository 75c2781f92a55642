//! Where uploaded documents are kept (seed 002: "each run copies the artefact into
//! `INGESTION_STORAGE_DIR`"). [`ArtefactStore`] is the one seam: [`LocalArtefacts`] writes files
//! under `INGESTION_STORAGE_DIR` (`DOCUMENT_STORE=local`, the default); `DOCUMENT_STORE=s3` puts
//! objects into the S3 bucket the image store uses (its adapter lives in `app.rs`, which may name
//! both this layer and the pipeline's S3 client).
//!
//! Keys are content-addressed (`documents/<sha256>`): the same bytes uploaded twice are one file,
//! a retried upload overwrites a file with identical bytes, and a crash between the write and the
//! database row leaves at most one orphan that the next upload of those bytes adopts.

use std::path::{Path, PathBuf};

use bytes::Bytes;

/// Why the artefact store failed; the message never holds document contents.
#[derive(Debug, thiserror::Error)]
pub enum ArtefactError {
    #[error("the artefact key {0:?} is not a document key")]
    BadKey(String),
    #[error("local document store: {0}")]
    Io(#[from] std::io::Error),
    #[error("S3 document store: {0}")]
    S3(String),
}

/// Keeps uploaded documents and gives them back.
#[async_trait::async_trait]
pub trait ArtefactStore: Send + Sync {
    /// `local` or `s3`, for logs and the admin page.
    fn kind(&self) -> &'static str;
    /// Stores `bytes` under `key`, durably, before returning.
    async fn put(&self, key: &str, bytes: Bytes, media_type: &str) -> Result<(), ArtefactError>;
    /// The bytes under `key`, or `None` when nothing is stored there.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ArtefactError>;
}

/// The key of a document's bytes: `documents/<sha256 in lower-case hex>`.
pub fn key_for(sha256_hex: &str) -> String {
    format!("documents/{sha256_hex}")
}

/// Only keys made by [`key_for`] reach a path or an object name.
fn checked(key: &str) -> Result<&str, ArtefactError> {
    match key.strip_prefix("documents/") {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
            Ok(hash)
        }
        _ => Err(ArtefactError::BadKey(key.to_owned())),
    }
}

/// `DOCUMENT_STORE=local`: `INGESTION_STORAGE_DIR/documents/<sha256>`, written to a temporary
/// name, synced and renamed, so a reader never sees half a file and an acknowledged upload is on
/// disk. The directory is created on the first upload.
#[derive(Debug, Clone)]
pub struct LocalArtefacts {
    root: PathBuf,
}

impl LocalArtefacts {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, ArtefactError> {
        let hash = checked(key)?;
        Ok(self.root.join("documents").join(hash))
    }
}

#[async_trait::async_trait]
impl ArtefactStore for LocalArtefacts {
    fn kind(&self) -> &'static str {
        "local"
    }

    async fn put(&self, key: &str, bytes: Bytes, _media_type: &str) -> Result<(), ArtefactError> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || write_durably(&path, &bytes))
            .await
            .map_err(|join| std::io::Error::other(join.to_string()))??;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, ArtefactError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

/// Temporary file, `fsync`, rename, then `fsync` of the directory: the file is whole and on disk.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().ok_or_else(|| std::io::Error::other("the artefact path has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let temporary = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[tokio::test]
    async fn a_local_artefact_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalArtefacts::new(&dir.path().join("storage"));
        let key = key_for(HASH);
        assert!(store.get(&key).await.expect("read").is_none(), "nothing stored yet");
        store.put(&key, Bytes::from_static(b"test"), "text/csv").await.expect("put");
        store.put(&key, Bytes::from_static(b"test"), "text/csv").await.expect("same bytes again");
        assert_eq!(store.get(&key).await.expect("read").as_deref(), Some(&b"test"[..]));
        let files: Vec<_> = std::fs::read_dir(dir.path().join("storage/documents")).expect("list").collect();
        assert_eq!(files.len(), 1, "one file, no temporary leftovers");
    }

    #[tokio::test]
    async fn keys_other_than_content_addresses_never_reach_the_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalArtefacts::new(dir.path());
        for key in ["documents/../../etc/passwd", "documents/ABC", "products/1.png", &format!("documents/{HASH}/x")] {
            assert!(matches!(store.get(key).await, Err(ArtefactError::BadKey(_))), "{key}");
            assert!(matches!(store.put(key, Bytes::new(), "").await, Err(ArtefactError::BadKey(_))), "{key}");
        }
    }
}
