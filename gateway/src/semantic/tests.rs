//! Unit tests of the index: the approximate graph's recall against the exact scan on random unit
//! vectors, the sign codes' pass under a narrow filter (where the graph alone comes back short),
//! replacements and filters, the snapshot's round trip and staleness checks, and the
//! MiniLM export run through ONNX Runtime against the numpy reference `scripts/export_minilm.py`
//! writes (cosine ≥ 0.999).

use std::collections::HashSet;
use std::path::PathBuf;

use super::follow::Spaces;
use super::listing_job::text_hash;
use super::snapshot::{decode, encode};
use super::space::{Effort, Space};
use super::{ListingRef, SpaceKind, TextEncoder};

/// The graph and the sign codes' pass together, as queries run.
const EFFORT: Effort = Effort { ef_search: 128, code_candidates: 200 };
/// The graph's walk alone.
const GRAPH_ONLY: Effort = Effort { ef_search: 128, code_candidates: 0 };

/// xorshift64*: reproducible random data without a dependency.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        bits as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    fn unit(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| self.next_f32()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

fn filled(n: usize, dim: usize, ann_from: usize, seed: u64) -> (Space, Rng) {
    let mut rng = Rng(seed);
    let mut space = Space::new(dim, ann_from);
    for i in 0..n {
        assert!(space.upsert(ListingRef::offer(i.to_string()), &rng.unit(dim)));
    }
    (space, rng)
}

#[test]
fn ann_recall_at_20_against_the_exact_scan() {
    let (space, mut rng) = filled(4_000, 64, 1_000, 11);
    assert!(space.uses_ann(), "4,000 vectors with ann_from 1,000 use the graph");
    let (mut found, mut total) = (0usize, 0usize);
    for _ in 0..40 {
        let q = rng.unit(64);
        let exact: HashSet<ListingRef> = space.search_exact(&q, 20).into_iter().map(|(k, _)| k).collect();
        let approx = space.search(&q, 20, GRAPH_ONLY, &|_| true);
        assert_eq!(approx.len(), 20);
        found += approx.iter().filter(|(k, _)| exact.contains(k)).count();
        total += exact.len();
    }
    let recall = found as f64 / total as f64;
    assert!(recall >= 0.95, "recall@20 {recall:.3}");
}

#[test]
fn the_sign_codes_pass_makes_a_narrowly_filtered_query_complete_and_exact() {
    let (space, mut rng) = filled(4_000, 64, 1_000, 17);
    assert!(space.uses_ann());
    // A filter that keeps 80 of 4,000 listings: the graph's walk meets few of them and can come
    // back short; the codes' pass reaches further until it has enough (here: all 80).
    let rare = |l: &ListingRef| l.id.parse::<u32>().is_ok_and(|n| n % 50 == 0);
    let narrow = Effort { ef_search: 40, code_candidates: 0 };
    let mut graph_missed = 0;
    for _ in 0..20 {
        let q = rng.unit(64);
        let mut exact: Vec<(ListingRef, f32)> = space.search_exact(&q, 4_000).into_iter().filter(|(k, _)| rare(k)).collect();
        exact.truncate(20);
        assert_eq!(space.search(&q, 20, Effort { code_candidates: 100, ..narrow }, &rare), exact);
        let keys = |hits: &[(ListingRef, f32)]| hits.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        graph_missed += usize::from(keys(&space.search(&q, 20, narrow, &rare)) != keys(&exact));
    }
    eprintln!("the graph's walk alone differed from the exact filtered answer in {graph_missed} of 20 queries");
    // Every row handed to the exact re-score: the exact answer, unfiltered too, where a walk this
    // narrow misses some of the top 20.
    let all = Effort { code_candidates: 4_000, ..narrow };
    let mut walk_missed = 0;
    for _ in 0..20 {
        let q = rng.unit(64);
        let exact = space.search_exact(&q, 20);
        assert_eq!(space.search(&q, 20, all, &|_| true), exact);
        let walked: HashSet<ListingRef> = space.search(&q, 20, narrow, &|_| true).into_iter().map(|(k, _)| k).collect();
        walk_missed += exact.iter().filter(|(k, _)| !walked.contains(k)).count();
    }
    eprintln!("unfiltered, the narrow walk alone missed {walk_missed} of the 400 exact hits");
}

#[test]
fn below_the_threshold_the_scan_is_exact_and_ordered() {
    let (space, mut rng) = filled(500, 32, 20_000, 3);
    assert!(!space.uses_ann());
    let q = rng.unit(32);
    let hits = space.search(&q, 10, EFFORT, &|_| true);
    assert_eq!(hits, space.search_exact(&q, 10));
    assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
}

#[test]
fn a_replaced_vector_is_found_by_its_new_value_only_and_filters_apply_before_ranking() {
    for ann_from in [0usize, 20_000] {
        let (mut space, mut rng) = filled(300, 16, ann_from, 5);
        let key = ListingRef::offer("7");
        let old = space.get(&key).map(<[f32]>::to_vec).unwrap_or_default();
        let new = rng.unit(16);
        space.upsert(key.clone(), &new);
        assert_eq!(space.len(), 300, "a replacement is not a new listing");
        assert_eq!(space.search(&new, 1, EFFORT, &|_| true)[0].0, key);
        let near_old = space.search(&old, 300, EFFORT, &|_| true);
        assert!(near_old.iter().filter(|(k, _)| *k == key).count() <= 1, "one entry per listing");
        // A filter that keeps only even ids: the best 5 are all even, and there are 5 of them.
        let even = |l: &ListingRef| l.id.parse::<u32>().is_ok_and(|n| n % 2 == 0);
        let hits = space.search(&new, 5, EFFORT, &even);
        assert_eq!(hits.len(), 5);
        assert!(hits.iter().all(|(k, _)| even(k)));
        space.remove(&key);
        assert!(space.search(&new, 300, EFFORT, &|_| true).iter().all(|(k, _)| *k != key));
    }
}

#[test]
fn many_replacements_compact_without_losing_listings() {
    let (mut space, mut rng) = filled(200, 8, 100, 9);
    for round in 0..3 {
        for i in 0..200 {
            space.upsert(ListingRef::offer(i.to_string()), &rng.unit(8));
        }
        assert_eq!(space.len(), 200, "round {round}");
    }
    let target = rng.unit(8);
    space.upsert(ListingRef::offer("42"), &target);
    assert_eq!(space.search(&target, 1, EFFORT, &|_| true)[0].0, ListingRef::offer("42"));
}

#[test]
fn a_batch_past_the_threshold_builds_the_graph_once_and_later_batches_join_it() {
    let mut rng = Rng(33);
    let rows: Vec<(ListingRef, Vec<f32>)> = (0..600).map(|i| (ListingRef::offer(i.to_string()), rng.unit(16))).collect();
    let mut slot = None;
    // 400 rows in one batch cross ann_from = 300: the graph is built, and holds every row.
    Spaces::put_batch(&mut slot, 300, rows[..400].iter().map(|(k, v)| (k.clone(), v.as_slice())).collect());
    let space = slot.as_ref().expect("a space");
    assert!(space.uses_ann());
    assert_eq!(space.len(), 400);
    // A second batch goes into the same graph; every vector finds itself first.
    Spaces::put_batch(&mut slot, 300, rows[400..].iter().map(|(k, v)| (k.clone(), v.as_slice())).collect());
    let space = slot.as_ref().expect("a space");
    assert_eq!(space.len(), 600);
    for (key, v) in rows.iter().step_by(37) {
        assert_eq!(&space.search(v, 1, EFFORT, &|_| true)[0].0, key);
    }
    // A run of another width starts the space again, as a single put does.
    let wide = rng.unit(24);
    Spaces::put_batch(&mut slot, 300, vec![(ListingRef::offer("w"), wide.as_slice())]);
    assert_eq!((slot.as_ref().map(Space::dim), slot.as_ref().map(Space::len)), (Some(24), Some(1)));
}

#[test]
fn snapshot_round_trips_and_refuses_other_models_and_torn_files() {
    let mut spaces = Spaces::new(20_000);
    let mut rng = Rng(21);
    for i in 0..50 {
        Spaces::put(&mut spaces.text, 20_000, ListingRef::offer(i.to_string()), &rng.unit(12));
        Spaces::put(&mut spaces.image, 20_000, ListingRef::product(format!("{i:016}")), &rng.unit(6));
    }
    spaces.text_watermark = 77;
    spaces.product_watermark = 12;
    let bytes = encode(&spaces, Some("minilm:a"), Some("siglip"));
    let back = decode(&bytes, Some("minilm:a"), Some("siglip"), 20_000).expect("decodes");
    assert_eq!((back.text_watermark, back.product_watermark), (77, 12));
    assert_eq!(back.stats().text, 50);
    assert_eq!(back.stats().image, 50);
    let key = ListingRef::offer("3");
    let text = |s: &Spaces| s.get(SpaceKind::Text).and_then(|t| t.get(&key)).map(<[f32]>::to_vec);
    assert_eq!(text(&back), text(&spaces));
    assert!(decode(&bytes, Some("minilm:b"), Some("siglip"), 20_000).is_none(), "another text model");
    assert!(decode(&bytes[..bytes.len() - 3], Some("minilm:a"), Some("siglip"), 20_000).is_none(), "torn");
    assert!(decode(b"garbage", None, None, 20_000).is_none());
}

#[test]
fn the_text_hash_follows_the_text_and_the_model() {
    assert_eq!(text_hash("m", "sofa"), text_hash("m", "sofa"));
    assert_ne!(text_hash("m", "sofa"), text_hash("m", "sofas"));
    assert_ne!(text_hash("m", "sofa"), text_hash("n", "sofa"));
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// The export run through ONNX Runtime here, pooled and normalised in Rust, against the numpy
/// forward pass over the same weights (`reference.json`, written by `scripts/export_minilm.py`).
#[test]
fn minilm_through_onnx_runtime_matches_the_numpy_reference() {
    let dir = std::env::var_os("SEARCH_TEST_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".cache/search-text-model"));
    let reference_path = dir.join("reference.json");
    assert!(
        reference_path.is_file(),
        "{} is missing: run scripts/setup-test-env.sh and `source .cache/test-env.sh`",
        reference_path.display()
    );
    let reference: serde_json::Value = serde_json::from_slice(&std::fs::read(&reference_path).unwrap()).unwrap();
    let sentences: Vec<&str> = reference["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let expected: Vec<Vec<f32>> = reference["embeddings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect();
    let encoder = TextEncoder::load(&dir, None, 2).expect("the MiniLM export loads (ORT_DYLIB_PATH must be set)");
    assert_eq!(encoder.dim(), 384);
    assert_eq!(encoder.model_id(), reference["model_id"].as_str().unwrap());
    // Together (padded to the longest) and one by one (no padding) give the same vectors.
    let batched = encoder.encode_blocking(&sentences).unwrap();
    for (i, (got, want)) in batched.iter().zip(&expected).enumerate() {
        let cosine: f32 = got.iter().zip(want).map(|(a, b)| a * b).sum();
        assert!(cosine >= 0.999, "sentence {i}: cosine {cosine}");
        let alone = encoder.encode_blocking(&[sentences[i]]).unwrap();
        let same: f32 = alone[0].iter().zip(got).map(|(a, b)| a * b).sum();
        assert!(same >= 0.9999, "sentence {i}: batched vs alone {same}");
    }
}

