//! One-bit codes of every row (the sign of each dimension, packed 64 to a word) and the coarse pass
//! over them: the rows whose codes are nearest the query's in Hamming distance, for an exact
//! re-score. The graph ([`super::ann::Ann`]) loses recall where many listings are near-copies of
//! one another (the same phone posted by many vendors): its walk stops before it has seen the
//! whole cluster. A pass over 48 bytes per row (384 dimensions) sees every row, and the exact
//! re-score of a few thousand puts the cluster's best first. [`super::space::Space`] takes the union
//! of both, so random-like data (where the graph is strong and sign bits are weak) keeps the
//! graph's recall. docs/PERFORMANCE.md has the measurements.

/// One code per slot, tombstoned slots included (slots are never reused).
#[derive(Debug, Default)]
pub struct SignCodes {
    words: usize,
    codes: Vec<u64>,
}

impl SignCodes {
    pub fn new(dim: usize) -> Self {
        Self { words: dim.div_ceil(64), codes: Vec::new() }
    }

    /// Appends the code of the next slot's row.
    pub fn push(&mut self, v: &[f32]) {
        let start = self.codes.len();
        self.codes.resize(start + self.words, 0);
        encode_into(v, &mut self.codes[start..]);
    }

    fn slots(&self) -> usize {
        self.codes.len().checked_div(self.words).unwrap_or(0)
    }

    /// The slots whose codes are nearest `query`'s, at least `want` of those `accept` takes when
    /// that many exist (ties at the cut-off level are all kept, so it may be a few more). Order is
    /// by slot, not by distance: the caller re-scores them exactly.
    pub fn nearest(&self, query: &[f32], want: usize, accept: &dyn Fn(u32) -> bool) -> Vec<u32> {
        let slots = self.slots();
        if want == 0 || slots == 0 || self.words == 0 {
            return Vec::new();
        }
        let mut q = vec![0u64; self.words];
        encode_into(query, &mut q);
        // Distances fit in u16 (at most 64 per word); one pass fills them and their histogram.
        let bits = self.words * 64;
        let mut histogram = vec![0usize; bits + 1];
        let distances: Vec<u16> = self
            .codes
            .chunks_exact(self.words)
            .map(|code| {
                let d = code.iter().zip(&q).map(|(a, b)| (a ^ b).count_ones()).sum::<u32>() as u16;
                histogram[usize::from(d)] += 1;
                d
            })
            .collect();
        // Take whole distance levels until `want` rows are in; a filter that refuses some makes
        // the next round reach further (twice as many rows each time).
        let mut out = Vec::with_capacity(want + want / 4);
        let (mut from, mut reach) = (0usize, want);
        loop {
            let to = level_holding(&histogram, reach);
            for (slot, &d) in distances.iter().enumerate() {
                let d = usize::from(d);
                if d >= from && d <= to && accept(slot as u32) {
                    out.push(slot as u32);
                }
            }
            if out.len() >= want || to >= bits {
                return out;
            }
            from = to + 1;
            reach = reach.saturating_mul(2);
        }
    }
}

/// The smallest distance level at or below which `reach` rows lie (the last level when fewer do).
fn level_holding(histogram: &[usize], reach: usize) -> usize {
    let mut seen = 0usize;
    for (level, &count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= reach {
            return level;
        }
    }
    histogram.len().saturating_sub(1)
}

/// Bit `i` is set when `v[i] > 0`.
fn encode_into(v: &[f32], out: &mut [u64]) {
    out.fill(0);
    for (i, x) in v.iter().enumerate() {
        if *x > 0.0
            && let Some(word) = out.get_mut(i / 64)
        {
            *word |= 1 << (i % 64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(rows: &[Vec<f32>]) -> SignCodes {
        let mut c = SignCodes::new(rows[0].len());
        rows.iter().for_each(|r| c.push(r));
        c
    }

    #[test]
    fn the_nearest_codes_come_first_and_whole_levels_are_kept() {
        // Distances from the query (+,+,+,+): 0, 1, 1, 2, 4.
        let rows = vec![
            vec![1.0, 1.0, 1.0, 1.0],
            vec![1.0, 1.0, 1.0, -1.0],
            vec![-1.0, 1.0, 1.0, 1.0],
            vec![-1.0, -1.0, 1.0, 1.0],
            vec![-1.0, -1.0, -1.0, -1.0],
        ];
        let c = codes(&rows);
        let q = [0.5, 0.5, 0.5, 0.5];
        assert_eq!(c.nearest(&q, 1, &|_| true), vec![0]);
        assert_eq!(c.nearest(&q, 2, &|_| true), vec![0, 1, 2], "the tie at distance 1 is kept whole");
        assert_eq!(c.nearest(&q, 4, &|_| true), vec![0, 1, 2, 3]);
        assert_eq!(c.nearest(&q, 50, &|_| true), vec![0, 1, 2, 3, 4], "fewer rows than wanted: all of them");
        assert!(c.nearest(&q, 0, &|_| true).is_empty());
    }

    #[test]
    fn a_filter_makes_the_pass_reach_further_instead_of_coming_back_short() {
        let rows = vec![vec![1.0, 1.0, 1.0, 1.0], vec![1.0, 1.0, 1.0, -1.0], vec![-1.0, -1.0, 1.0, 1.0], vec![-1.0, -1.0, -1.0, -1.0]];
        let c = codes(&rows);
        let got = c.nearest(&[1.0, 1.0, 1.0, 1.0], 2, &|slot| slot >= 2);
        assert_eq!(got, vec![2, 3]);
        assert!(c.nearest(&[1.0, 1.0, 1.0, 1.0], 2, &|_| false).is_empty());
    }

    #[test]
    fn codes_span_several_words() {
        let dim = 130;
        let a: Vec<f32> = (0..dim).map(|i| if i % 3 == 0 { 1.0 } else { -1.0 }).collect();
        let mut b = a.clone();
        b[129] = -b[129]; // differs in the third word only
        let far: Vec<f32> = a.iter().map(|x| -x).collect();
        let c = codes(&[far, b, a.clone()]);
        assert_eq!(c.nearest(&a, 1, &|_| true), vec![2]);
        assert_eq!(c.nearest(&a, 2, &|_| true), vec![1, 2]);
    }
}
