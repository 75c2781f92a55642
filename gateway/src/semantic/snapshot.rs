//! The index snapshot in `SEARCH_INDEX_DIR` (`semantic-index.bin`), so a restart reads only the
//! rows committed since. Layout: `SOKOSEM1`, a little-endian u32 header length, a JSON header
//! (models, watermarks, spaces with width and count), then per space its entries: kind (u8), id
//! length (u16) and bytes, and `dim` little-endian f32s. Written to a temporary file and renamed.
//! A snapshot for other models, or with a watermark past the database's highest `index_seq` (a
//! database rebuilt under it), is stale and ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::follow::Spaces;
use super::{ListingKind, ListingRef, SemanticIndex, SpaceKind};

const MAGIC: &[u8; 8] = b"SOKOSEM1";
pub const FILE_NAME: &str = "semantic-index.bin";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Header {
    text_model: Option<String>,
    image_model: Option<String>,
    text_watermark: i64,
    product_watermark: i64,
    spaces: Vec<(String, usize, usize)>,
}

fn space_name(kind: SpaceKind) -> &'static str {
    match kind {
        SpaceKind::Text => "text",
        SpaceKind::Image => "image",
        SpaceKind::Hybrid => "hybrid",
    }
}

/// The snapshot's bytes, taken under the read lock.
pub fn encode(spaces: &Spaces, text_model: Option<&str>, image_model: Option<&str>) -> Vec<u8> {
    let kinds = [SpaceKind::Text, SpaceKind::Image, SpaceKind::Hybrid];
    let present: Vec<_> = kinds.iter().filter_map(|&k| spaces.get(k).map(|s| (k, s))).collect();
    let header = Header {
        text_model: text_model.map(str::to_owned),
        image_model: image_model.map(str::to_owned),
        text_watermark: spaces.text_watermark,
        product_watermark: spaces.product_watermark,
        spaces: present.iter().map(|(k, s)| (space_name(*k).to_owned(), s.dim(), s.len())).collect(),
    };
    let json = serde_json::to_vec(&header).unwrap_or_default();
    let mut out = Vec::with_capacity(16 + json.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    for (_, space) in present {
        for (key, row) in space.entries() {
            out.push(match key.kind {
                ListingKind::Offer => 0,
                ListingKind::Product => 1,
            });
            let id = key.id.as_bytes();
            out.extend_from_slice(&(id.len().min(u16::MAX as usize) as u16).to_le_bytes());
            out.extend_from_slice(&id[..id.len().min(u16::MAX as usize)]);
            for x in row {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }
}

/// Decodes a snapshot into fresh spaces; `None` when the bytes are not a whole snapshot or were
/// made for other models.
pub fn decode(bytes: &[u8], text_model: Option<&str>, image_model: Option<&str>, exact_below: usize) -> Option<Spaces> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(8)? != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
    let header: Header = serde_json::from_slice(r.take(len)?).ok()?;
    if header.text_model.as_deref() != text_model || header.image_model.as_deref() != image_model {
        return None;
    }
    let mut spaces = Spaces::new(exact_below);
    spaces.text_watermark = header.text_watermark;
    spaces.product_watermark = header.product_watermark;
    for (name, dim, count) in &header.spaces {
        let mut slot = None;
        let mut rows = Vec::with_capacity(*count);
        for _ in 0..*count {
            let kind = match r.take(1)?[0] {
                0 => ListingKind::Offer,
                1 => ListingKind::Product,
                _ => return None,
            };
            let id_len = u16::from_le_bytes(r.take(2)?.try_into().ok()?) as usize;
            let id = String::from_utf8(r.take(id_len)?.to_vec()).ok()?;
            let row: Vec<f32> = r.take(dim * 4)?.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            rows.push((ListingRef { kind, id }, row));
        }
        // One batch: the graph (for a space past SEARCH_EXACT_BELOW) is built once, in parallel.
        Spaces::put_batch(&mut slot, exact_below, rows.iter().map(|(key, row)| (key.clone(), row.as_slice())).collect());
        match name.as_str() {
            "text" => spaces.text = slot,
            "image" => spaces.image = slot,
            "hybrid" => spaces.hybrid = slot,
            _ => return None,
        }
    }
    (r.at == bytes.len()).then_some(spaces)
}

fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Writes the snapshot (when `SEARCH_INDEX_DIR` is set); failures are logged, never fatal.
pub async fn save(index: &SemanticIndex) {
    let Some(dir) = index.settings.index_dir.clone() else { return };
    let bytes = {
        let spaces = index.spaces.read().unwrap_or_else(|p| p.into_inner());
        encode(&spaces, index.text_model().map(|t| t.model_id()), index.image_model_id())
    };
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!("{FILE_NAME}.tmp"));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path_in(&dir))
    })
    .await;
    match written {
        Ok(Ok(())) => tracing::debug!("semantic index snapshot saved"),
        Ok(Err(error)) => tracing::warn!(%error, "could not save the semantic index snapshot"),
        Err(error) => tracing::warn!(%error, "the snapshot thread failed"),
    }
}

/// Loads the snapshot into the index when it fits; returns the vectors restored (0: none).
pub async fn restore(index: &SemanticIndex) -> usize {
    let Some(dir) = index.settings.index_dir.clone() else { return 0 };
    let Ok(bytes) = tokio::fs::read(path_in(&dir)).await else { return 0 };
    let (text_model, image_model) = (index.text_model().map(|t| t.model_id().to_owned()), index.image_model_id().map(str::to_owned));
    let exact_below = index.settings.exact_below;
    let decoded = tokio::task::spawn_blocking(move || decode(&bytes, text_model.as_deref(), image_model.as_deref(), exact_below)).await;
    let Ok(Some(spaces)) = decoded else {
        tracing::info!("the semantic index snapshot is unreadable or for other models; rebuilding from the database");
        return 0;
    };
    match super::rows::max_index_seq(&index.db).await {
        Ok(max) if spaces.text_watermark <= max && spaces.product_watermark <= max => {}
        Ok(_) => {
            tracing::info!("the semantic index snapshot is ahead of the database (rebuilt?); rebuilding from the database");
            return 0;
        }
        Err(error) => {
            tracing::warn!(%error, "could not check the snapshot against the database; rebuilding");
            return 0;
        }
    }
    let stats = spaces.stats();
    *index.spaces.write().unwrap_or_else(|p| p.into_inner()) = spaces;
    stats.text + stats.hybrid
}
