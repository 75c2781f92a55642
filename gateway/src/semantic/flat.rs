//! The exact vector store every index keeps: unit vectors row after row in one `Vec<f32>`, a slot per
//! row, and a scan that scores all live rows by dot product (cosine, for unit vectors) and keeps the
//! best `k` in a small heap. The dot product runs over 8 lanes at once, which the compiler turns into
//! SIMD. Slots are never reused: a changed vector takes a new slot and the old one is a tombstone,
//! so the approximate graph built over the same slots stays valid.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Dot product in 8 independent lanes (vectorised by the compiler), then the remainder.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; 8];
    let chunks = n / 8;
    for c in 0..chunks {
        let (x, y) = (&a[c * 8..c * 8 + 8], &b[c * 8..c * 8 + 8]);
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let mut sum: f32 = lanes.iter().sum();
    for i in chunks * 8..n {
        sum += a[i] * b[i];
    }
    sum
}

/// A scored slot; ordered so that a `BinaryHeap` of them pops the worst first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub slot: u32,
    pub score: f32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap's top is the lowest score (ties: the higher slot), so it is evicted first.
        other.score.total_cmp(&self.score).then_with(|| self.slot.cmp(&other.slot))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the `k` best of the scores pushed into it.
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Scored>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    pub fn push(&mut self, slot: u32, score: f32) {
        if self.k == 0 || !score.is_finite() {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Scored { slot, score });
        } else if let Some(worst) = self.heap.peek()
            && score > worst.score
        {
            self.heap.pop();
            self.heap.push(Scored { slot, score });
        }
    }

    /// Best first.
    pub fn into_sorted(self) -> Vec<Scored> {
        let mut all = self.heap.into_vec();
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.slot.cmp(&b.slot)));
        all
    }
}

/// The rows of one vector space.
#[derive(Debug, Clone, Default)]
pub struct FlatVectors {
    dim: usize,
    data: Vec<f32>,
    live: Vec<bool>,
    live_count: usize,
}

impl FlatVectors {
    pub fn new(dim: usize) -> Self {
        Self { dim, ..Self::default() }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Slots ever handed out (live and tombstoned).
    pub fn slots(&self) -> usize {
        self.live.len()
    }

    pub fn live_count(&self) -> usize {
        self.live_count
    }

    /// Appends a row; its slot is the returned number. `v` must be `dim` long.
    pub fn push(&mut self, v: &[f32]) -> u32 {
        debug_assert_eq!(v.len(), self.dim);
        let slot = self.live.len() as u32;
        self.data.extend_from_slice(&v[..self.dim.min(v.len())]);
        self.data.resize(self.live.len() * self.dim + self.dim, 0.0);
        self.live.push(true);
        self.live_count += 1;
        slot
    }

    pub fn retire(&mut self, slot: u32) {
        if let Some(flag) = self.live.get_mut(slot as usize)
            && *flag
        {
            *flag = false;
            self.live_count -= 1;
        }
    }

    pub fn is_live(&self, slot: u32) -> bool {
        self.live.get(slot as usize).copied().unwrap_or(false)
    }

    pub fn row(&self, slot: u32) -> Option<&[f32]> {
        let start = slot as usize * self.dim;
        self.data.get(start..start + self.dim)
    }

    /// The exact top `k` live rows for `query` among those `keep` accepts (filters apply before
    /// ranking, never after truncation).
    pub fn search(&self, query: &[f32], k: usize, keep: &dyn Fn(u32) -> bool) -> Vec<Scored> {
        let mut top = TopK::new(k);
        if query.len() != self.dim || self.dim == 0 {
            return Vec::new();
        }
        for (slot, row) in self.data.chunks_exact(self.dim).enumerate() {
            let slot = slot as u32;
            if self.live[slot as usize] && keep(slot) {
                top.push(slot, dot(query, row));
            }
        }
        top.into_sorted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }

    #[test]
    fn top_k_keeps_the_best_in_order() {
        let mut top = TopK::new(3);
        for (slot, score) in [(0, 0.1), (1, 0.9), (2, 0.5), (3, 0.7), (4, -1.0), (5, f32::NAN)] {
            top.push(slot, score);
        }
        let got: Vec<u32> = top.into_sorted().iter().map(|s| s.slot).collect();
        assert_eq!(got, vec![1, 3, 2]);
    }

    #[test]
    fn search_skips_retired_and_filtered_rows() {
        let mut flat = FlatVectors::new(2);
        let a = flat.push(&[1.0, 0.0]);
        let b = flat.push(&[0.8, 0.6]);
        let c = flat.push(&[0.0, 1.0]);
        let hits: Vec<u32> = flat.search(&[1.0, 0.0], 2, &|_| true).iter().map(|s| s.slot).collect();
        assert_eq!(hits, vec![a, b]);
        flat.retire(a);
        assert_eq!(flat.live_count(), 2);
        let hits: Vec<u32> = flat.search(&[1.0, 0.0], 2, &|s| s != b).iter().map(|s| s.slot).collect();
        assert_eq!(hits, vec![c]);
    }
}
