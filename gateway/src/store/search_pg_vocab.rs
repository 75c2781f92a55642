//! PostgreSQL's query terms as the text lookup asks for them (migration 0017): each term's
//! tsquery operand with its typo corrections from the vocabulary (`search_vocab`), and how
//! many listings hold it, estimated from the planner's statistics. The counterpart of the
//! first step of SQLite's `search_words.rs`, in two round trips whatever the query's length:
//!
//! 1. **Vocabulary:** for each term, whether any word is it (or begins with it, for 3+
//!    characters), and the words sharing its first half, from which
//!    [`corrections`](super::search_terms::corrections) picks the alike ones.
//! 2. **Counts:** `pg_stats.most_common_elems` of `search_tsv` (ANALYZE keeps the frequencies
//!    of about the thousand commonest words) times the table's row estimate. A word that is
//!    not among them is rare, which is all the "any term" read's budget needs to know: it
//!    leaves out the commonest terms (`gb`, `16`), never the rare ones. Before the first
//!    ANALYZE every count is 0 and every term is read.

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

const COUNTS: &str = "WITH s AS (
     SELECT unnest(most_common_elems::text::text[]) AS w, unnest(most_common_elem_freqs) AS f
     FROM pg_stats WHERE schemaname = current_schema() AND tablename = $1 AND attname = 'search_tsv'),
   n AS (SELECT greatest(coalesce((SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)), 0), 0)::float8 AS rows)
 SELECT (coalesce(sum(s.f), 0) * (SELECT rows FROM n))::int8
 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(low, high, i)
 LEFT JOIN s ON s.w COLLATE \"C\" >= t.low AND s.w COLLATE \"C\" < t.high
 GROUP BY t.i ORDER BY t.i";

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
    let counts: Vec<i64> = sqlx::query_scalar(COUNTS)
        .bind(table)
        .bind(&count_low)
        .bind(&count_high)
        .fetch_all(pool)
        .await?;
    let mut counts = counts.into_iter();
    let mut out = Vec::new();
    for (own, alike) in wanted {
        let mut exprs = Vec::new();
        let mut listings = 0;
        for expr in own.into_iter().chain(alike) {
            listings += counts.next().unwrap_or(0);
            exprs.push(expr);
        }
        match exprs.len() {
            0 => {}
            1 => out.push(Group { expr: exprs.remove(0), listings }),
            _ => out.push(Group {
                expr: format!("({})", exprs.join(" | ")),
                listings,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
