//! `IMAGE_STORE=local`: files under `IMAGE_DIR` (default `./data/images`), written to a temporary
//! name and renamed, so a reader never sees half a file. The gateway serves them under `/images/`
//! ([`LocalStore::resolve`] is the only way a request path reaches the disk).

use std::path::{Path, PathBuf};

use super::{ImageStoreError, is_safe_key};

/// URL prefix the gateway serves the local store under.
pub const PUBLIC_PREFIX: &str = "/images/";

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// The directory is created on the first write, so a gateway that never persists leaves no trace.
    pub fn open(root: &Path) -> Result<Self, ImageStoreError> {
        if root.exists() && !root.is_dir() {
            return Err(std::io::Error::new(std::io::ErrorKind::NotADirectory, format!("IMAGE_DIR {} is not a directory", root.display())).into());
        }
        Ok(Self { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<String, ImageStoreError> {
        let path = self.resolve(key).ok_or_else(|| ImageStoreError::UnsafeKey(key.to_owned()))?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temporary = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, bytes).await?;
        if let Err(error) = tokio::fs::rename(&temporary, &path).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        Ok(format!("{PUBLIC_PREFIX}{key}"))
    }

    /// The file for a key, or `None` when the key could leave the root.
    pub fn resolve(&self, key: &str) -> Option<PathBuf> {
        resolve_in(&self.root, key)
    }
}

/// `root/key` for a safe key (see [`is_safe_key`]), else `None`: nothing outside `root` is reachable.
pub fn resolve_in(root: &Path, key: &str) -> Option<PathBuf> {
    is_safe_key(key).then(|| key.split('/').fold(root.to_path_buf(), |path, segment| path.join(segment)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_atomically_under_the_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::open(&dir.path().join("images")).expect("open");
        let url = store.put("products/42.png", b"png bytes").await.expect("put");
        assert_eq!(url, "/images/products/42.png");
        let path = dir.path().join("images/products/42.png");
        assert_eq!(std::fs::read(&path).expect("stored"), b"png bytes");
        store.put("products/42.png", b"again").await.expect("overwrite");
        assert_eq!(std::fs::read(&path).expect("stored"), b"again");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("parent")).expect("list").collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
        assert!(store.resolve("../secret").is_none());
        assert!(matches!(store.put("../x.png", b"x").await, Err(ImageStoreError::UnsafeKey(_))));
    }
}
