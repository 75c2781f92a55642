//! The semantic index's speed (issue 15): build time of N vectors (exact rows, then the HNSW graph),
//! top-20 query latency (p50/p95) of the exact SIMD scan and of the graph, and recall@20 of the
//! graph against the exact scan, on random unit vectors. A plain timing harness, not criterion.
//!
//! Run: `cargo bench -p gateway --bench vector_index` (or `scripts/bench/vector_index.sh`), with
//! `VECTOR_BENCH_N` (default 100,000), `VECTOR_BENCH_DIM` (384, MiniLM's width), and
//! `VECTOR_BENCH_QUERIES` (200).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gateway::semantic::{ListingRef, SemanticSettings};
use gateway::semantic::space::Space;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Rng(u64);

impl Rng {
    fn unit(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim)
            .map(|_| {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = env_or("VECTOR_BENCH_N", 100_000);
    let dim: usize = env_or("VECTOR_BENCH_DIM", 384);
    let queries: usize = env_or("VECTOR_BENCH_QUERIES", 200);
    let mut rng = Rng(0x5eed);
    let data: Vec<Vec<f32>> = (0..n).map(|_| rng.unit(dim)).collect();
    let qs: Vec<Vec<f32>> = (0..queries).map(|_| rng.unit(dim)).collect();

    let started = Instant::now();
    let mut exact = Space::new(dim, usize::MAX);
    for (i, v) in data.iter().enumerate() {
        exact.upsert(ListingRef::offer(i.to_string()), v);
    }
    let exact_build = started.elapsed();

    let started = Instant::now();
    let mut ann = Space::new(dim, usize::MAX);
    for (i, v) in data.iter().enumerate() {
        ann.upsert(ListingRef::offer(i.to_string()), v);
    }
    ann.compact_with_graph();
    let ann_build = started.elapsed();
    assert!(ann.uses_ann());

    let effort = SemanticSettings::default().effort();
    let time = |space: &Space| {
        let mut laps: Vec<Duration> = qs
            .iter()
            .map(|q| {
                let t = Instant::now();
                std::hint::black_box(space.search(q, 20, effort, &|_| true));
                t.elapsed()
            })
            .collect();
        laps.sort();
        (percentile(&laps, 0.5), percentile(&laps, 0.95))
    };
    let (exact_p50, exact_p95) = time(&exact);
    let (ann_p50, ann_p95) = time(&ann);
    let (mut hit, mut total) = (0usize, 0usize);
    for q in &qs {
        let truth: HashSet<ListingRef> = exact.search_exact(q, 20).into_iter().map(|(k, _)| k).collect();
        hit += ann.search(q, 20, effort, &|_| true).iter().filter(|(k, _)| truth.contains(k)).count();
        total += truth.len();
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("vector index, {n} unit vectors × {dim}, {queries} queries, {cores} cores");
    println!("  exact rows loaded      {:>10.2?}", exact_build);
    println!("  HNSW build (rows+graph){:>10.2?}", ann_build);
    println!("  exact top-20   p50 {:>9.2?}  p95 {:>9.2?}", exact_p50, exact_p95);
    println!("  HNSW  top-20   p50 {:>9.2?}  p95 {:>9.2?}", ann_p50, ann_p95);
    println!("  recall@20 (HNSW + sign codes vs exact, {effort:?}) {:.4}", hit as f64 / total.max(1) as f64);
}
