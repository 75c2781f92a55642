//! The approximate nearest-neighbour graph: an HNSW index from the `hnsw_rs` crate (pure Rust,
//! maintained, builds offline here in about a minute) keyed by the space's slots, scored with the
//! same SIMD-friendly dot product as the exact scan. HNSW in `hnsw_rs` cannot delete a point, so a
//! replaced vector's old slot stays in the graph and the walk's filter skips it (with the caller's
//! own filter, so filters apply before ranking); [`super::space::Space`] rebuilds the graph once a
//! quarter of the slots are retired. Why not `usearch`: see docs/SEARCH_SEMANTIC.md.

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::prelude::{FilterT, Hnsw};

use super::flat::{Scored, dot};

/// HNSW parameters: M = 16 links per node, ef_construction = 200; ef_search is the caller's
/// (`SEARCH_INDEX_EF_SEARCH`), at least 2·k. On clusters of near-copies the walk misses some of the
/// exact top k whatever the build; [`super::sign_codes`] covers that (docs/PERFORMANCE.md).
const CONNECTIONS: usize = 16;
const MAX_LAYER: usize = 16;
const EF_CONSTRUCTION: usize = 200;
/// Rows inserted per parallel batch while building.
const BUILD_CHUNK: usize = 4_096;

#[derive(Debug, thiserror::Error)]
#[error("approximate index: {0}")]
pub struct AnnError(String);

/// `1 − a·b` for unit vectors, never negative (rounding can push a self-match past 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitDot;

impl Distance<f32> for UnitDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

pub struct Ann {
    graph: Hnsw<'static, f32, UnitDot>,
}

struct SlotFilter<'a>(&'a dyn Fn(u32) -> bool);

impl FilterT for SlotFilter<'_> {
    fn hnsw_filter(&self, id: &usize) -> bool {
        u32::try_from(*id).is_ok_and(|slot| (self.0)(slot))
    }
}

impl Ann {
    /// A graph over `rows` (slot, unit vector); `capacity` sizes its layers.
    pub fn build<'a>(_dim: usize, capacity: usize, rows: impl Iterator<Item = (u32, &'a [f32])>) -> Result<Self, AnnError> {
        let graph = Hnsw::new(CONNECTIONS, capacity.max(1_024), MAX_LAYER, EF_CONSTRUCTION, UnitDot);
        let rows: Vec<(&[f32], usize)> = rows.map(|(slot, row)| (row, slot as usize)).collect();
        for chunk in rows.chunks(BUILD_CHUNK) {
            graph.parallel_insert_slice(&chunk.to_vec());
        }
        Ok(Self { graph })
    }

    pub fn add(&mut self, slot: u32, v: &[f32]) -> Result<(), AnnError> {
        self.graph.insert_slice((v, slot as usize));
        Ok(())
    }

    /// Adds many rows in parallel batches (a page of new vectors).
    pub fn add_batch(&mut self, rows: &[(u32, &[f32])]) -> Result<(), AnnError> {
        let rows: Vec<(&[f32], usize)> = rows.iter().map(|(slot, row)| (*row, *slot as usize)).collect();
        for chunk in rows.chunks(BUILD_CHUNK) {
            self.graph.parallel_insert_slice(&chunk.to_vec());
        }
        Ok(())
    }

    /// A no-op for the graph: the slot's `live` flag, checked by every search's filter, retires it.
    pub fn remove(&mut self, _slot: u32) {}

    /// The best `k` slots `keep` accepts, best first; scores are cosines. `ef_search` is the
    /// walk's candidate list (at least 2·k): wider finds more of the true top k, slower.
    pub fn search(&self, query: &[f32], k: usize, ef_search: usize, keep: &dyn Fn(u32) -> bool) -> Result<Vec<Scored>, AnnError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let ef = ef_search.max(k * 2);
        let filter = SlotFilter(keep);
        let found = self.graph.search_filter(query, k, ef, Some(&filter));
        let mut out: Vec<Scored> = found
            .into_iter()
            .filter_map(|n| u32::try_from(n.d_id).ok().map(|slot| Scored { slot, score: 1.0 - n.distance }))
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.slot.cmp(&b.slot)));
        out.truncate(k);
        Ok(out)
    }
}
