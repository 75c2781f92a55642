//! The full-text retriever: candidates from the database's index (FTS5 trigrams and
//! `bm25()` on SQLite, `tsvector` + pg_trgm on PostgreSQL) with the filters applied in the
//! same statement, then one ranking for both backends: how fully each query term is met
//! (exact word, word prefix, or trigram likeness for typos), the backend's own score, and a
//! small boost for active, QC-approved, recently seen listings.

use super::{
    SearchError,
    retriever::{Ranked, Retriever, RetrieverKind, SearchQuery},
};
use crate::{
    parse::search_text::{gram_overlap, gram_set, term_match},
    store::{
        Database,
        search_index::{self, TextCandidate},
    },
    time::now_ms,
};

/// Candidates read per kind before ranking, at least (more when a deep page needs them).
pub const MIN_CANDIDATES: usize = 50;
const DAY_MS: f64 = 86_400_000.0;

pub struct TextRetriever {
    db: Database,
}

impl TextRetriever {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl Retriever for TextRetriever {
    fn kind(&self) -> RetrieverKind {
        RetrieverKind::Text
    }

    async fn retrieve(
        &self,
        query: &SearchQuery,
        depth: usize,
    ) -> Result<Option<Vec<Ranked>>, SearchError> {
        let phrase = query.terms.join(" ");
        let limit = i64::try_from(depth.max(MIN_CANDIDATES)).unwrap_or(i64::MAX);
        let now = now_ms();
        // Each kind's lookup on its own connection, side by side.
        let lookups = query.kinds.iter().map(|kind| {
            search_index::candidates(&self.db, *kind, &query.terms, &phrase, &query.filter, limit)
        });
        let mut ranked = Vec::new();
        for candidates in futures_util::future::try_join_all(lookups).await? {
            ranked.extend(rank(&query.terms, &candidates, now));
        }
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        ranked.truncate(depth);
        Ok(Some(ranked))
    }
}

/// Scores one kind's candidates; those that meet no query term are dropped.
pub fn rank(terms: &[String], candidates: &[TextCandidate], now_ms: i64) -> Vec<Ranked> {
    let best_db = candidates
        .iter()
        .map(|c| c.db_score)
        .fold(0.0_f64, f64::max);
    let query_grams = gram_set(terms.iter().map(String::as_str));
    let mut out = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let words: Vec<&str> = candidate.search_text.split_whitespace().collect();
        let mut matched = Vec::new();
        let (mut met, mut weight) = (0.0, 0.0);
        for term in terms {
            // Words carry more meaning than bare numbers and unit letters (`13`, `gb`).
            let w = if term.chars().count() >= 3 && term.chars().any(char::is_alphabetic) {
                1.5
            } else {
                1.0
            };
            let m = term_match(term, &words);
            if m > 0.0 {
                matched.push(term.clone());
            }
            met += w * m;
            weight += w;
        }
        if matched.is_empty() || weight == 0.0 {
            continue;
        }
        let coverage = met / weight;
        let bm25 = if best_db > 0.0 {
            (candidate.db_score / best_db).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // The index's own score comes from whichever read found the listing; the trigram
        // overlap is the same for every read and backend, and credits near-words.
        let db = 0.5 * bm25 + 0.5 * gram_overlap(&query_grams, &words);
        let compact = (matched.len() as f64 / words.len().max(1) as f64).min(1.0);
        let recency = candidate.seen_at_ms.map_or(0.0, |seen| {
            (-((now_ms - seen).max(0) as f64) / (30.0 * DAY_MS)).exp()
        });
        let boost = 1.0
            + 0.03 * f64::from(u8::from(candidate.active))
            + 0.03 * f64::from(u8::from(candidate.approved))
            + 0.03 * recency;
        let score = coverage * coverage * (0.7 + 0.15 * db + 0.15 * compact) * boost;
        out.push(Ranked {
            kind: candidate.kind,
            id: candidate.id.clone(),
            score,
            matched,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::search_index::ListingKind;

    fn candidate(id: &str, text: &str, db_score: f64) -> TextCandidate {
        TextCandidate {
            kind: ListingKind::Offer,
            id: id.into(),
            db_score,
            search_text: text.into(),
            active: true,
            approved: false,
            seen_at_ms: None,
        }
    }

    #[test]
    fn full_matches_outrank_partial_ones_and_typos_still_match() {
        let terms = vec!["samsng".to_owned(), "a".to_owned(), "14".to_owned()];
        let list = [
            candidate("1", " samsung galaxy a 14 64 gb ", 1.0),
            candidate("2", " tecno spark 14 ", 1.5),
            candidate("3", " sofa set ", 0.1),
        ];
        let ranked = rank(&terms, &list, 0);
        assert_eq!(
            ranked.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert!(ranked[0].score > ranked[1].score);
        assert_eq!(ranked[0].matched, ["samsng", "a", "14"]);
        assert_eq!(ranked[1].matched, ["14"]);
    }

    #[test]
    fn the_boost_is_small_and_favours_fresh_approved_listings() {
        let terms = vec!["sofa".to_owned()];
        let mut fresh = candidate("fresh", " sofa ", 1.0);
        fresh.approved = true;
        fresh.seen_at_ms = Some(1_000);
        let stale = candidate("stale", " sofa ", 1.0);
        let ranked = rank(&terms, &[stale, fresh], 1_000);
        assert!(ranked[1].score > ranked[0].score);
        assert!(ranked[1].score / ranked[0].score < 1.1);
    }
}
