//! The process's cache of fetched product images, shared by the embed, quality-control and persist
//! stages so that an approved image is downloaded once, not once per stage (issue 17). Keyed by the
//! URL; bounded in bytes (`MEDIA_CACHE_MB`, 0 turns it off) and in age (`MEDIA_CACHE_TTL_SECONDS`:
//! the chain runs its three stages within seconds of one another, and a CDN URL names one image).
//! Concurrent fetches of one URL share a single download. Failures are never cached: a retry asks
//! the server again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::fetch::{FetchError, FetchedImage};

/// What the cache adds to an entry's weight beside the body: its key and bookkeeping.
const ENTRY_OVERHEAD: usize = 256;

#[derive(Clone)]
pub struct ImageCache {
    images: moka::future::Cache<String, FetchedImage>,
}

impl std::fmt::Debug for ImageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageCache").field("entries", &self.images.entry_count()).finish()
    }
}

impl ImageCache {
    /// A cache of at most `max_bytes` of images, each kept at most `ttl`; `None` when `max_bytes` is 0.
    pub fn new(max_bytes: u64, ttl: Duration) -> Option<Self> {
        if max_bytes == 0 || ttl.is_zero() {
            return None;
        }
        let images = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|url: &String, image: &FetchedImage| u32::try_from(image.bytes.len() + url.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX))
            .time_to_live(ttl)
            .build();
        Some(Self { images })
    }

    /// The image at `url` from the cache, or from `download` (once, however many callers wait on it).
    pub async fn get_or_fetch<F>(&self, url: &str, download: F) -> Result<FetchedImage, FetchError>
    where
        F: Future<Output = Result<FetchedImage, FetchError>>,
    {
        self.images.try_get_with_by_ref(url, download).await.map_err(|shared: Arc<FetchError>| Arc::unwrap_or_clone(shared))
    }

    #[cfg(test)]
    pub async fn entries(&self) -> u64 {
        self.images.run_pending_tasks().await;
        self.images.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;

    use super::*;

    fn image(len: usize) -> FetchedImage {
        FetchedImage { bytes: Bytes::from(vec![7u8; len]), content_type: Some("image/png".into()) }
    }

    #[tokio::test]
    async fn one_download_serves_every_caller_and_concurrent_callers_share_it() {
        let cache = ImageCache::new(1 << 20, Duration::from_secs(60)).expect("a cache");
        let downloads = Arc::new(AtomicUsize::new(0));
        let fetch = |len: usize| {
            let downloads = downloads.clone();
            async move {
                downloads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(image(len))
            }
        };
        let (a, b, c) = tokio::join!(
            cache.get_or_fetch("http://cdn/a.png", fetch(10)),
            cache.get_or_fetch("http://cdn/a.png", fetch(10)),
            cache.get_or_fetch("http://cdn/a.png", fetch(10)),
        );
        assert_eq!((a.expect("a"), b.expect("b"), c.expect("c")), (image(10), image(10), image(10)));
        assert_eq!(downloads.load(Ordering::SeqCst), 1, "three concurrent callers, one download");
        cache.get_or_fetch("http://cdn/a.png", fetch(10)).await.expect("cached");
        cache.get_or_fetch("http://cdn/b.png", fetch(5)).await.expect("another URL");
        assert_eq!(downloads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = ImageCache::new(1 << 20, Duration::from_secs(60)).expect("a cache");
        let busy = cache.get_or_fetch("http://cdn/x.png", async { Err(FetchError::Status { status: 503, retry_after: None }) }).await;
        assert!(matches!(busy, Err(FetchError::Status { status: 503, .. })));
        let ok = cache.get_or_fetch("http://cdn/x.png", async { Ok(image(3)) }).await;
        assert_eq!(ok.expect("the retry downloads"), image(3));
    }

    #[tokio::test]
    async fn the_byte_bound_evicts_and_zero_turns_the_cache_off() {
        assert!(ImageCache::new(0, Duration::from_secs(60)).is_none());
        let cache = ImageCache::new(3 * (1_000 + ENTRY_OVERHEAD as u64 + 20), Duration::from_secs(60)).expect("a cache");
        for i in 0..10 {
            cache.get_or_fetch(&format!("http://cdn/{i:02}.png"), async { Ok(image(1_000)) }).await.expect("fetched");
        }
        assert!(cache.entries().await <= 3, "at most three 1,000-byte images fit");
    }
}
