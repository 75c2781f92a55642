//! One vector space (offer and product text, product images, or the image+text hybrid): the exact
//! rows in [`FlatVectors`], which listing each slot holds, and, from `ann_from` live vectors up, an
//! approximate graph ([`Ann`]) over the same slots, plus every row's sign code ([`SignCodes`]).
//! Below that size a query scans exactly; above it the graph's walk and the codes' coarse pass each
//! bring candidates, and the best of both by exact score answer. A changed vector takes a new slot
//! and retires the old one everywhere.

use std::collections::HashMap;

use super::ann::Ann;
use super::flat::{FlatVectors, Scored, TopK, dot};
use super::sign_codes::SignCodes;
use super::ListingRef;

/// Rebuild when more than this share of the slots are retired.
const MAX_RETIRED_SHARE: f32 = 0.25;

/// How hard a query looks once the space answers approximately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effort {
    /// The graph walk's candidate list (`SEARCH_INDEX_EF_SEARCH`).
    pub ef_search: usize,
    /// Rows the sign codes' pass hands to the exact re-score (`SEARCH_INDEX_CODE_CANDIDATES`; 0: none).
    pub code_candidates: usize,
}

pub struct Space {
    flat: FlatVectors,
    codes: SignCodes,
    keys: Vec<ListingRef>,
    slot_of: HashMap<ListingRef, u32>,
    ann: Option<Ann>,
    ann_from: usize,
}

impl Space {
    pub fn new(dim: usize, ann_from: usize) -> Self {
        Self { flat: FlatVectors::new(dim), codes: SignCodes::new(dim), keys: Vec::new(), slot_of: HashMap::new(), ann: None, ann_from }
    }

    pub fn dim(&self) -> usize {
        self.flat.dim()
    }

    pub fn len(&self) -> usize {
        self.flat.live_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether queries go through the approximate graph.
    pub fn uses_ann(&self) -> bool {
        self.ann.is_some()
    }

    pub fn get(&self, key: &ListingRef) -> Option<&[f32]> {
        self.slot_of.get(key).and_then(|&slot| self.flat.row(slot))
    }

    /// Every live entry, for the snapshot.
    pub fn entries(&self) -> impl Iterator<Item = (&ListingRef, &[f32])> {
        self.slot_of.iter().filter_map(|(key, &slot)| self.flat.row(slot).map(|row| (key, row)))
    }

    /// Inserts or replaces `key`'s vector. A vector of another width is refused (`false`).
    pub fn upsert(&mut self, key: ListingRef, v: &[f32]) -> bool {
        if v.len() != self.flat.dim() || v.is_empty() {
            return false;
        }
        if let Some(slot) = self.place(key, v)
            && let Some(ann) = &mut self.ann
            && let Err(error) = ann.add(slot, v)
        {
            tracing::warn!(%error, "the approximate index refused a vector; falling back to exact search");
            self.ann = None;
        }
        self.maintain();
        true
    }

    /// Inserts or replaces many vectors (a page the follower read, a restored snapshot): the graph
    /// takes them in one parallel pass, or is built once when they take the space past
    /// `ann_from`, never one sequential insert per vector. Vectors of another width are skipped.
    pub fn upsert_batch<'a>(&mut self, rows: impl IntoIterator<Item = (ListingRef, &'a [f32])>) {
        let dim = self.flat.dim();
        let mut placed = Vec::new();
        for (key, v) in rows {
            if v.len() == dim
                && !v.is_empty()
                && let Some(slot) = self.place(key, v)
            {
                placed.push(slot);
            }
        }
        if let Some(ann) = &mut self.ann {
            let rows: Vec<(u32, &[f32])> = placed.iter().filter_map(|&slot| self.flat.row(slot).map(|row| (slot, row))).collect();
            if let Err(error) = ann.add_batch(&rows) {
                tracing::warn!(%error, "the approximate index refused vectors; falling back to exact search");
                self.ann = None;
            }
        }
        self.maintain();
    }

    /// Writes `v` into a new slot for `key` (retiring its old one); `None` when `key` already
    /// holds exactly `v`. The graph is the caller's business.
    fn place(&mut self, key: ListingRef, v: &[f32]) -> Option<u32> {
        if let Some(old) = self.slot_of.get(&key).copied() {
            if self.flat.row(old) == Some(v) {
                return None;
            }
            self.retire_slot(old);
        }
        let slot = self.flat.push(v);
        self.codes.push(v);
        self.keys.push(key.clone());
        self.slot_of.insert(key, slot);
        Some(slot)
    }

    pub fn remove(&mut self, key: &ListingRef) {
        if let Some(slot) = self.slot_of.remove(key) {
            self.retire_slot(slot);
        }
    }

    fn retire_slot(&mut self, slot: u32) {
        self.flat.retire(slot);
        if let Some(ann) = &mut self.ann {
            ann.remove(slot);
        }
    }

    /// Builds the graph once the space is large enough, and compacts after many replacements.
    fn maintain(&mut self) {
        let slots = self.flat.slots().max(1);
        let retired = slots - self.flat.live_count();
        if retired as f32 / slots as f32 > MAX_RETIRED_SHARE && slots > 64 {
            self.compact();
        }
        if self.ann.is_none() && self.flat.live_count() >= self.ann_from {
            self.build_ann();
        }
    }

    /// Rewrites the rows without tombstones (slots change), and the graph with them.
    pub fn compact(&mut self) {
        let mut fresh = Space::new(self.flat.dim(), usize::MAX);
        let mut live: Vec<(ListingRef, u32)> = self.slot_of.iter().map(|(k, &s)| (k.clone(), s)).collect();
        live.sort_by_key(|(_, s)| *s);
        for (key, slot) in live {
            if let Some(row) = self.flat.row(slot) {
                fresh.upsert(key, row);
            }
        }
        let had_ann = self.ann.is_some();
        self.flat = fresh.flat;
        self.codes = fresh.codes;
        self.keys = fresh.keys;
        self.slot_of = fresh.slot_of;
        self.ann = None;
        if had_ann || self.flat.live_count() >= self.ann_from {
            self.build_ann();
        }
    }

    /// Builds the graph now, whatever the size (benchmarks, and a space that must answer through it).
    pub fn compact_with_graph(&mut self) {
        self.ann = None;
        self.build_ann();
    }

    fn build_ann(&mut self) {
        let rows = (0..self.flat.slots() as u32).filter(|&s| self.flat.is_live(s)).filter_map(|s| self.flat.row(s).map(|r| (s, r)));
        match Ann::build(self.flat.dim(), self.flat.slots(), rows) {
            Ok(ann) => self.ann = Some(ann),
            Err(error) => tracing::warn!(%error, "could not build the approximate index; exact search continues"),
        }
    }

    /// The top `k` listings for `query` among those `keep` accepts, best first, with cosine scores.
    pub fn search(&self, query: &[f32], k: usize, effort: Effort, keep: &dyn Fn(&ListingRef) -> bool) -> Vec<(ListingRef, f32)> {
        let accept = |slot: u32| self.flat.is_live(slot) && self.keys.get(slot as usize).is_some_and(keep);
        let hits: Vec<Scored> = match &self.ann {
            Some(ann) => match ann.search(query, k, effort.ef_search, &accept) {
                Ok(walked) => self.with_code_candidates(query, k, effort.code_candidates, walked, &accept),
                Err(error) => {
                    tracing::warn!(%error, "approximate search failed; scanning exactly");
                    self.flat.search(query, k, &accept)
                }
            },
            None => self.flat.search(query, k, &accept),
        };
        hits.into_iter().filter_map(|h| self.keys.get(h.slot as usize).map(|key| (key.clone(), h.score))).collect()
    }

    /// The best `k` of the graph's hits and the sign codes' nearest `candidates` rows, all scored
    /// by the same exact dot product (the graph's `1 − distance` can differ in the last bit).
    fn with_code_candidates(&self, query: &[f32], k: usize, candidates: usize, walked: Vec<Scored>, accept: &dyn Fn(u32) -> bool) -> Vec<Scored> {
        if candidates == 0 || query.len() != self.flat.dim() {
            return walked;
        }
        let mut top = TopK::new(k);
        let mut seen: Vec<u32> = walked.iter().map(|h| h.slot).collect();
        seen.sort_unstable();
        let code_hits = self.codes.nearest(query, candidates.max(k), accept);
        for slot in seen.iter().copied().chain(code_hits.into_iter().filter(|slot| seen.binary_search(slot).is_err())) {
            if let Some(row) = self.flat.row(slot) {
                top.push(slot, dot(query, row));
            }
        }
        top.into_sorted()
    }

    /// The exact answer whatever the size (recall measurements).
    pub fn search_exact(&self, query: &[f32], k: usize) -> Vec<(ListingRef, f32)> {
        let accept = |slot: u32| self.flat.is_live(slot);
        self.flat.search(query, k, &accept).into_iter().filter_map(|h| self.keys.get(h.slot as usize).map(|key| (key.clone(), h.score))).collect()
    }
}
