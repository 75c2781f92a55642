//! PostgreSQL's query terms as the text lookup asks for them (migration 0017): each term's
//! tsquery operand with its typo corrections from the vocabulary (`search_vocab`), and how
//! many listings hold it, estimated from the planner's statistics. The counterpart of the
//! first step of SQLite's `search_words.rs`, in one round trip whatever the query's length (plus one a minute for the statistics):
//!
//! 1. **Vocabulary:** for each term, whether any word is it (or begins with it, for 3+
//!    characters), and the words sharing its first half, from which
//!    [`corrections`](super::search_terms::corrections) picks the alike ones.
//! 2. **Counts:** `pg_stats.most_common_elems` of `search_tsv` (ANALYZE keeps the frequencies
//!    of about the thousand commonest words) times the table's row estimate, read once a
//!    minute per table and kept in the process. A word that is
//!    not among them is rare, which is all the "any term" read's budget needs to know: it
//!    leaves out the commonest terms (`gb`, `16`), never the rare ones. Before the first
//!    ANALYZE every count is 0 and every term is read.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use sqlx::PgPool;

use super::{
    StoreError,
    search_index::ListingKind,
    search_terms::{CORRECTION_READ, Group, correction_range, corrections, prefix_range},
};

/// The words of the vocabulary for `term` itself: a prefix for 3+ characters, else the word.
fn own_range(term: &str) -> (String, String) {
    if term.chars().count() >= 3 {
        prefix_range(term)
    } else {
        (term.to_owned(), format!("{term}\u{1}"))
    }
}

/// The tsquery operand of a term that the vocabulary knows.
fn operand(term: &str) -> String {
    if term.chars().count() >= 3 {
        format!("{term}:*")
    } else {
        term.to_owned()
    }
}

const VOCABULARY: &str = "SELECT EXISTS (SELECT 1 FROM search_vocab WHERE kind = $1 AND word >= t.low AND word < t.high),
        ARRAY(SELECT word::text FROM search_vocab
              WHERE kind = $1 AND word >= t.half_low AND word < t.half_high ORDER BY word LIMIT $6)
 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(low, high, half_low, half_high, i)
 ORDER BY t.i";

const COMMON_WORDS: &str = "SELECT coalesce(most_common_elems::text::text[], '{}'), coalesce(most_common_elem_freqs, '{}'),
        greatest(coalesce((SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)), 0), 0)::float8
 FROM (SELECT 1) one
 LEFT JOIN pg_stats ON schemaname = current_schema() AND tablename = $1 AND attname = 'search_tsv'";

/// How long a table's statistics are reused: they change only when ANALYZE runs.
const COMMON_TTL: Duration = Duration::from_secs(60);

/// A table's commonest words (sorted) with the share of rows holding each, and its rows.
struct Common {
    words: Vec<(String, f64)>,
    rows: f64,
}

impl Common {
    /// Estimated listings holding a word in `[low, high)`.
    fn listings(&self, low: &str, high: &str) -> i64 {
        let start = self.words.partition_point(|(w, _)| w.as_str() < low);
        let share: f64 = self.words[start..]
            .iter()
            .take_while(|(w, _)| w.as_str() < high)
            .map(|(_, f)| f)
            .sum();
        (share * self.rows).round() as i64
    }
}

type CommonCache = Mutex<HashMap<String, (Instant, Arc<Common>)>>;

/// The planner's statistics for `table` (reading `pg_stats` costs a few milliseconds, so
/// they are kept for [`COMMON_TTL`] per database and table).
async fn common_words(pool: &PgPool, table: &str) -> Result<Arc<Common>, StoreError> {
    static CACHE: OnceLock<CommonCache> = OnceLock::new();
    let options = pool.connect_options();
    let key = format!("{}:{}/{}/{table}", options.get_host(), options.get_port(), options.get_database().unwrap_or_default());
    let cache = CACHE.get_or_init(Default::default);
    if let Some((at, common)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
        && at.elapsed() < COMMON_TTL
    {
        return Ok(common.clone());
    }
    let (elems, freqs, rows): (Vec<String>, Vec<f32>, f64) =
        sqlx::query_as(COMMON_WORDS).bind(table).fetch_one(pool).await?;
    // most_common_elem_freqs has three more entries (min, max, nulls) than there are words.
    let mut words: Vec<(String, f64)> = elems.into_iter().zip(freqs.into_iter().map(f64::from)).collect();
    words.sort_by(|a, b| a.0.cmp(&b.0));
    let common = Arc::new(Common { words, rows });
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() > 64 {
        cache.clear();
    }
    cache.insert(key, (Instant::now(), common.clone()));
    Ok(common)
}

/// Each term of `terms` that the vocabulary knows or corrects, as a tsquery group with its
/// estimated listings; terms with neither are left out, and so are terms that are not plain
/// letters and digits (the normaliser never makes those).
pub(crate) async fn groups(pool: &PgPool, kind: ListingKind, terms: &[String]) -> Result<Vec<Group>, StoreError> {
    let terms: Vec<&String> = terms
        .iter()
        .filter(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric))
        .collect();
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let (mut low, mut high, mut half_low, mut half_high) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for term in &terms {
        let (l, h) = own_range(term);
        low.push(l);
        high.push(h);
        let (l, h) = correction_range(term).unwrap_or_default();
        half_low.push(l);
        half_high.push(h);
    }
    let code: i16 = match kind {
        ListingKind::Offer => 0,
        ListingKind::Product => 1,
    };
    let known: Vec<(bool, Vec<String>)> = sqlx::query_as(VOCABULARY)
        .bind(code)
        .bind(&low)
        .bind(&high)
        .bind(&half_low)
        .bind(&half_high)
        .bind(CORRECTION_READ)
        .fetch_all(pool)
        .await?;
    // Per term: its own operand if known, and the corrections that do not begin with it.
    let mut wanted: Vec<(Option<String>, Vec<String>)> = Vec::with_capacity(terms.len());
    let (mut count_low, mut count_high) = (Vec::new(), Vec::new());
    for ((term, (exists, near)), (l, h)) in terms.iter().zip(known).zip(low.into_iter().zip(high)) {
        let own = exists.then(|| {
            count_low.push(l);
            count_high.push(h);
            operand(term)
        });
        let alike: Vec<String> = corrections(term, near.into_iter().map(|w| (w, 0)).collect())
            .into_iter()
            .map(|(word, _)| word)
            .filter(|word| !word.starts_with(term.as_str()))
            .collect();
        for word in &alike {
            count_low.push(word.clone());
            count_high.push(format!("{word}\u{1}"));
        }
        wanted.push((own, alike));
    }
    if count_low.is_empty() {
        return Ok(Vec::new());
    }
    let table = match kind {
        ListingKind::Offer => "offers",
        ListingKind::Product => "products",
    };
    let common = common_words(pool, table).await?;
    let mut counts = count_low.iter().zip(&count_high).map(|(l, h)| common.listings(l, h));
    let mut out = Vec::new();
    for (own, alike) in wanted {
        let exprs: Vec<String> = own.into_iter().chain(alike).collect();
        let listings = counts.by_ref().take(exprs.len()).sum();
        out.extend(Group::any_of(exprs, listings, " | "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_the_shares_of_the_common_words_in_range() {
        let common = Common {
            words: vec![("gb".into(), 0.5), ("iphone".into(), 0.1), ("iphones".into(), 0.02), ("ipod".into(), 0.01)],
            rows: 1_000.0,
        };
        let (low, high) = own_range("iphon");
        assert_eq!(common.listings(&low, &high), 120);
        let (low, high) = own_range("gb");
        assert_eq!(common.listings(&low, &high), 500);
        let (low, high) = own_range("zebra");
        assert_eq!(common.listings(&low, &high), 0);
    }

    #[test]
    fn a_term_reads_its_own_words_as_a_prefix_from_three_characters() {
        let (low, high) = own_range("gb");
        assert!("gb" >= low.as_str() && "gb" < high.as_str());
        assert!(!("gbx" >= low.as_str() && "gbx" < high.as_str()));
        let (low, high) = own_range("iph");
        assert!("iphone" >= low.as_str() && "iphone" < high.as_str());
        assert_eq!(operand("iph"), "iph:*");
        assert_eq!(operand("13"), "13");
    }
}
