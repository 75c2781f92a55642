//! Keeping the in-memory spaces equal to the database. At start the index restores its snapshot
//! from `SEARCH_INDEX_DIR` (when present and not stale) and reads the rows past the snapshot's
//! watermarks; it then polls every `SEARCH_INDEX_POLL_MS` (≤ 1 s) for rows whose `index_seq` is
//! past the watermark of their table. Writers take `index_seq` values in commit order (see the
//! migrations), so nothing committed is ever skipped, and every replica converges within a poll.
//! The snapshot is written again after changes (at most every 30 s) and at shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::rows::{self, ProductRow, TextRow};
use super::snapshot;
use super::space::Space;
use super::{IndexStats, ListingRef, SemanticIndex, SpaceKind};
use crate::store::StoreError;

/// Rows read per query while catching up.
const PAGE: i64 = 2_000;
/// Least time between two snapshot writes.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);

/// The three spaces and how far each table has been read.
pub struct Spaces {
    pub(crate) text: Option<Space>,
    pub(crate) image: Option<Space>,
    pub(crate) hybrid: Option<Space>,
    pub(crate) text_watermark: i64,
    pub(crate) product_watermark: i64,
    exact_below: usize,
}

impl Spaces {
    pub fn new(exact_below: usize) -> Self {
        Self { text: None, image: None, hybrid: None, text_watermark: 0, product_watermark: 0, exact_below }
    }

    pub fn get(&self, kind: SpaceKind) -> Option<&Space> {
        match kind {
            SpaceKind::Text => self.text.as_ref(),
            SpaceKind::Image => self.image.as_ref(),
            SpaceKind::Hybrid => self.hybrid.as_ref(),
        }
    }

    pub fn stats(&self) -> IndexStats {
        let len = |s: &Option<Space>| s.as_ref().map_or(0, Space::len);
        IndexStats {
            text: len(&self.text),
            image: len(&self.image),
            hybrid: len(&self.hybrid),
            text_watermark: self.text_watermark,
            product_watermark: self.product_watermark,
        }
    }

    /// Puts `v` into the space in `slot`, creating it with `v`'s width. A vector of another width
    /// means the model changed: the space starts again with the new width.
    pub(crate) fn put(slot: &mut Option<Space>, exact_below: usize, key: ListingRef, v: &[f32]) {
        if v.is_empty() {
            return;
        }
        if slot.as_ref().is_none_or(|s| s.dim() != v.len()) {
            if slot.is_some() {
                tracing::warn!(width = v.len(), "vectors of a new width: the space starts again");
            }
            *slot = Some(Space::new(v.len(), exact_below));
        }
        if let Some(space) = slot.as_mut() {
            space.upsert(key, v);
        }
    }

    /// Puts many vectors into the space in `slot` at once ([`Space::upsert_batch`]); a run of
    /// another width starts the space again, as [`Self::put`] does.
    pub(crate) fn put_batch<'a>(slot: &mut Option<Space>, exact_below: usize, rows: Vec<(ListingRef, &'a [f32])>) {
        let mut rest = rows.as_slice();
        while let Some((_, first)) = rest.first() {
            let width = first.len();
            let run = rest.iter().take_while(|(_, v)| v.len() == width).count();
            let (now, later) = rest.split_at(run);
            rest = later;
            if width == 0 {
                continue;
            }
            if slot.as_ref().is_none_or(|s| s.dim() != width) {
                if slot.is_some() {
                    tracing::warn!(width, "vectors of a new width: the space starts again");
                }
                *slot = Some(Space::new(width, exact_below));
            }
            if let Some(space) = slot.as_mut() {
                space.upsert_batch(now.iter().map(|(key, v)| (key.clone(), *v)));
            }
        }
    }

    pub(crate) fn apply_text(&mut self, rows: &[TextRow], model_id: Option<&str>) {
        let mut batch = Vec::with_capacity(rows.len());
        for row in rows {
            self.text_watermark = self.text_watermark.max(row.index_seq);
            if model_id.is_some_and(|m| m == row.model_id) {
                batch.push((row.listing.clone(), row.vector.as_slice()));
            }
        }
        Self::put_batch(&mut self.text, self.exact_below, batch);
    }

    pub(crate) fn apply_products(&mut self, rows: &[ProductRow], model_id: Option<&str>) {
        for row in rows {
            self.product_watermark = self.product_watermark.max(row.index_seq);
            if model_id.is_none_or(|m| m != row.model_id) {
                continue;
            }
            let key = ListingRef::product(row.product_id.clone());
            match &row.image {
                Some(image) => Self::put(&mut self.image, self.exact_below, key.clone(), image),
                None => {
                    if let Some(space) = self.image.as_mut() {
                        space.remove(&key);
                    }
                }
            }
            Self::put(&mut self.hybrid, self.exact_below, key, &row.hybrid);
        }
    }
}

impl SemanticIndex {
    fn write_spaces(&self) -> std::sync::RwLockWriteGuard<'_, Spaces> {
        self.spaces.write().unwrap_or_else(|p| p.into_inner())
    }

    fn watermarks(&self) -> (i64, i64) {
        let spaces = self.spaces.read().unwrap_or_else(|p| p.into_inner());
        (spaces.text_watermark, spaces.product_watermark)
    }

    /// Reads every row past the watermarks; returns how many rows were read.
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        let mut read = 0;
        let text_model = self.text_model().map(|t| t.model_id().to_owned());
        let image_model = self.image_model_id().map(str::to_owned);
        loop {
            let (text_w, product_w) = self.watermarks();
            let text = if text_model.is_some() { rows::text_rows_since(&self.db, text_w, PAGE).await? } else { Vec::new() };
            let products = if image_model.is_some() { rows::product_rows_since(&self.db, product_w, PAGE).await? } else { Vec::new() };
            if text.is_empty() && products.is_empty() {
                return Ok(read);
            }
            read += text.len() + products.len();
            let full = text.len() as i64 == PAGE || products.len() as i64 == PAGE;
            {
                let mut spaces = self.write_spaces();
                spaces.apply_text(&text, text_model.as_deref());
                spaces.apply_products(&products, image_model.as_deref());
            }
            if !full {
                return Ok(read);
            }
        }
    }
}

/// Restores the snapshot, catches up, then follows the database until shutdown, saving the
/// snapshot after changes and once more at the end.
pub fn start(index: Arc<SemanticIndex>, shutdown: CancellationToken, tasks: &TaskTracker) {
    tasks.spawn(async move {
        let started = Instant::now();
        let restored = snapshot::restore(&index).await;
        match index.catch_up().await {
            Ok(read) => tracing::info!(restored, read, elapsed_ms = started.elapsed().as_millis() as u64, stats = ?index.stats(), "semantic index ready"),
            Err(error) => tracing::warn!(%error, "semantic index: the first catch-up failed; retrying on the next poll"),
        }
        let mut dirty = restored == 0;
        let mut saved_at = Instant::now();
        let poll = index.settings.poll.min(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(poll) => {}
            }
            match index.catch_up().await {
                Ok(0) => {}
                Ok(_) => dirty = true,
                Err(error) => tracing::warn!(%error, "semantic index: reading new vectors failed"),
            }
            if dirty && saved_at.elapsed() >= SNAPSHOT_EVERY {
                snapshot::save(&index).await;
                saved_at = Instant::now();
                dirty = false;
            }
        }
        if dirty {
            snapshot::save(&index).await;
        }
    });
}
