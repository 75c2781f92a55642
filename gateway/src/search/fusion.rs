//! Reciprocal rank fusion: several ranked lists become one, each listing scored
//! `Σ w / (k + rank)` over the lists it appears in (rank from 1), with k = 60 as in
//! Cormack et al. and `w` the list's weight (1 unless a retriever says otherwise: the
//! weighted form Elasticsearch and Vespa offer). Only ranks count, so retrievers whose
//! scores are not comparable (BM25, cosine) fuse fairly. Ties keep the order of the best
//! rank, then of the lists.

use std::collections::HashMap;

use super::retriever::Ranked;
use crate::store::search_index::ListingKind;

/// A listing's fused score, best rank, first (list, position) and merged matched terms.
type Entry = (f64, usize, usize, Vec<String>);

/// The usual constant: it damps the weight of the very first ranks.
pub const RRF_K: f64 = 60.0;

/// Fuses `lists` (each best first) into one, best first; `matched` terms are merged.
pub fn reciprocal_rank_fusion(lists: &[Vec<Ranked>], k: f64) -> Vec<Ranked> {
    let weighted: Vec<(f64, &[Ranked])> = lists.iter().map(|l| (1.0, l.as_slice())).collect();
    weighted_reciprocal_rank_fusion(&weighted, k)
}

/// As [`reciprocal_rank_fusion`], each list's terms multiplied by its weight.
pub fn weighted_reciprocal_rank_fusion(lists: &[(f64, &[Ranked])], k: f64) -> Vec<Ranked> {
    // (kind, id) -> (score, best rank, first list, first position, matched)
    let mut fused: HashMap<(ListingKind, &str), Entry> = HashMap::new();
    for (list_index, (weight, list)) in lists.iter().enumerate() {
        for (position, item) in list.iter().enumerate() {
            let rank = position + 1;
            let entry = fused
                .entry((item.kind, item.id.as_str()))
                .or_insert_with(|| {
                    (
                        0.0,
                        usize::MAX,
                        list_index * 1_000_000 + position,
                        Vec::new(),
                    )
                });
            entry.0 += weight / (k + rank as f64);
            entry.1 = entry.1.min(rank);
            for term in &item.matched {
                if !entry.3.contains(term) {
                    entry.3.push(term.clone());
                }
            }
        }
    }
    let mut out: Vec<(f64, usize, usize, Ranked)> = fused
        .into_iter()
        .map(|((kind, id), (score, best, first, matched))| {
            (
                score,
                best,
                first,
                Ranked {
                    kind,
                    id: id.to_owned(),
                    score,
                    matched,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(_, _, _, ranked)| ranked).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ids: &[&str]) -> Vec<Ranked> {
        ids.iter()
            .map(|id| Ranked {
                kind: ListingKind::Offer,
                id: (*id).to_owned(),
                score: 0.0,
                matched: vec![],
            })
            .collect()
    }

    fn ids(ranked: &[Ranked]) -> Vec<&str> {
        ranked.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn one_list_keeps_its_order_and_scores_by_rank() {
        let fused = reciprocal_rank_fusion(&[list(&["a", "b", "c"])], RRF_K);
        assert_eq!(ids(&fused), ["a", "b", "c"]);
        assert!((fused[0].score - 1.0 / 61.0).abs() < 1e-12);
        assert!((fused[2].score - 1.0 / 63.0).abs() < 1e-12);
    }

    #[test]
    fn agreement_beats_one_high_rank() {
        // b is second in both lists: 2/62 > 1/61 + 0 for a, which only the first list has.
        let fused =
            reciprocal_rank_fusion(&[list(&["a", "b", "c"]), list(&["d", "b", "e"])], RRF_K);
        assert_eq!(fused[0].id, "b");
        assert!((fused[0].score - 2.0 / 62.0).abs() < 1e-12);
        // a and d tie (rank 1 once each): the first list's comes first.
        assert_eq!(ids(&fused)[1..3], ["a", "d"]);
        assert_eq!(fused.len(), 5);
    }

    #[test]
    fn any_number_of_lists_and_kinds_stay_apart() {
        let mut products = list(&["a"]);
        products[0].kind = ListingKind::Product;
        let fused =
            reciprocal_rank_fusion(&[list(&["a"]), products, list(&[]), list(&["a"])], RRF_K);
        assert_eq!(
            fused.len(),
            2,
            "offer a and product a are different listings"
        );
        assert_eq!(fused[0].kind, ListingKind::Offer);
        assert!(reciprocal_rank_fusion(&[], RRF_K).is_empty());
    }

    #[test]
    fn a_lighter_list_adds_agreement_and_fills_in_after_the_heavier_one() {
        let text = list(&["a", "b"]);
        let semantic = list(&["c", "b"]);
        let fused = weighted_reciprocal_rank_fusion(&[(1.0, &text), (0.5, &semantic)], RRF_K);
        // b: 1/62 + 0.5/62 beats a's 1/61; c (0.5/61) comes after both text listings.
        assert_eq!(ids(&fused), ["b", "a", "c"]);
        assert!((fused[0].score - 1.5 / 62.0).abs() < 1e-12);
        assert!((fused[2].score - 0.5 / 61.0).abs() < 1e-12);
    }

    #[test]
    fn matched_terms_are_merged() {
        let mut first = list(&["a"]);
        first[0].matched = vec!["iphone".into()];
        let mut second = list(&["a"]);
        second[0].matched = vec!["13".into(), "iphone".into()];
        assert_eq!(
            reciprocal_rank_fusion(&[first, second], RRF_K)[0].matched,
            ["iphone", "13"]
        );
    }
}
