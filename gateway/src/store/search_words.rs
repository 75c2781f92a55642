//! SQLite's word-first text lookup (migration 0015): the candidates of a query read from the
//! word index (`offers_words`, `products_words`) so that a query touches the rows that hold
//! its terms, never the whole catalogue. In order:
//!
//! 1. **Terms.** Each query term is looked up in the index's vocabulary (`*_words_vocab`): a
//!    term of 3+ characters as a word prefix (`iphon` → `iphone`), a shorter one as a word,
//!    with the vocabulary words that share its first half and are at least as alike as
//!    ranking asks ([`TYPO_LIKENESS`](super::search_terms::TYPO_LIKENESS)), best three: a query's typo (`samsng`) finds the word,
//!    and a listing's (`samsumg`) is found by the word.
//! 2. **All terms, then all but one, …** ([`at_least`]): the listings holding at least k of
//!    the n terms, k from n down, newest first, at most `max(limit, STRICT_CAP)` per read,
//!    each with its `bm25()`, until `limit` listings are in hand. FTS5 walks a match in rowid
//!    order, so a read stops at its cap instead of scoring every match.
//! 3. **Any term** (k = 1 of several): ranked by `bm25()`, the rarest terms first, leaving out
//!    the commonest once the listings they hold pass [`RELAX_BUDGET`](super::search_terms::RELAX_BUDGET) (a `gb` or a `16` ranks
//!    nothing and would make the read score half the index).
//! 4. **Trigrams**, when no term is known at all (`couch` in a catalogue without one): the
//!    inner trigrams of the terms in the trigram index (migration 0012), ranked by `bm25()`,
//!    rarest first within the same budget.
//!
//! Filters sit in every statement, applied before any cap. Ranking the candidates is the
//! search layer's job (`search/text.rs`); the score returned here is `-bm25()`.

use std::collections::HashSet;

use sqlx::SqlitePool;

use super::{
    StoreError,
    search_index::{LINKED_OFFER, ListingFilter, ListingKind, TextCandidate, VendorRef, filters, relative_scores},
    search_terms::{self, CORRECTION_READ, Group, STRICT_CAP, at_least, correction_range, prefix_range, quoted, relaxed_expr},
};
use crate::parse::search_text::trigrams;


struct Tables {
    words: &'static str,
    vocab: &'static str,
    trigram: &'static str,
    trigram_vocab: &'static str,
}

fn tables(kind: ListingKind) -> Tables {
    match kind {
        ListingKind::Offer => Tables {
            words: "offers_words",
            vocab: "offers_words_vocab",
            trigram: "offers_fts",
            trigram_vocab: "offers_fts_vocab",
        },
        ListingKind::Product => Tables {
            words: "products_words",
            vocab: "products_words_vocab",
            trigram: "products_fts",
            trigram_vocab: "products_fts_vocab",
        },
    }
}

/// How many listings hold a word beginning with `term` (3+ characters) or the word itself.
async fn listings_holding(pool: &SqlitePool, vocab: &str, term: &str) -> Result<i64, StoreError> {
    let count: Option<i64> = if term.chars().count() >= 3 {
        let (low, high) = prefix_range(term);
        sqlx::query_scalar(&format!("SELECT SUM(doc) FROM {vocab} WHERE term >= $1 AND term < $2"))
            .bind(low)
            .bind(high)
            .fetch_one(pool)
            .await?
    } else {
        sqlx::query_scalar(&format!("SELECT doc FROM {vocab} WHERE term = $1"))
            .bind(term)
            .fetch_optional(pool)
            .await?
    };
    Ok(count.unwrap_or(0))
}

/// Vocabulary words alike to `term` (4+ characters): those that share its first half, alike
/// enough, best first.
async fn corrections(pool: &SqlitePool, vocab: &str, term: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let Some((low, high)) = correction_range(term) else {
        return Ok(Vec::new());
    };
    let words: Vec<(String, i64)> =
        sqlx::query_as(&format!("SELECT term, doc FROM {vocab} WHERE term >= $1 AND term < $2 LIMIT $3"))
            .bind(low)
            .bind(high)
            .bind(CORRECTION_READ)
            .fetch_all(pool)
            .await?;
    Ok(search_terms::corrections(term, words))
}

/// The index expression of each term that the vocabulary knows or corrects: the term as a
/// word or prefix, or both, with the alike words that do not begin with it (a query's typo,
/// `samsng`, or a listing's, `samsumg`); a term with neither is left out.
async fn groups(pool: &SqlitePool, vocab: &str, terms: &[String]) -> Result<Vec<Group>, StoreError> {
    let mut out = Vec::with_capacity(terms.len());
    for term in terms {
        let mut listings = listings_holding(pool, vocab, term).await?;
        let mut exprs = Vec::new();
        if listings > 0 {
            exprs.push(if term.chars().count() >= 3 {
                format!("{}*", quoted(term))
            } else {
                quoted(term)
            });
        }
        for (word, doc) in corrections(pool, vocab, term).await? {
            if !word.starts_with(term.as_str()) {
                exprs.push(quoted(&word));
                listings += doc;
            }
        }
        out.extend(Group::any_of(exprs, listings, " OR "));
    }
    Ok(out)
}

/// The inner trigrams of the terms that no word knows (the padded ones, `" co"` or `"ch "`,
/// begin or end thousands of words and rank nothing), each once.
fn inner_trigrams(terms: &[String]) -> Vec<String> {
    let mut grams: Vec<String> = Vec::new();
    for term in terms.iter().filter(|t| t.chars().count() >= 3) {
        for gram in trigrams(term) {
            if !gram.contains(' ') && !grams.contains(&gram) {
                grams.push(gram);
            }
        }
    }
    grams
}

/// The trigram groups of `terms`: each inner trigram the trigram index holds, with its count.
async fn trigram_groups(pool: &SqlitePool, vocab: &str, terms: &[String]) -> Result<Vec<Group>, StoreError> {
    let mut out = Vec::new();
    for gram in inner_trigrams(terms) {
        let listings: Option<i64> = sqlx::query_scalar(&format!("SELECT doc FROM {vocab} WHERE term = $1"))
            .bind(&gram)
            .fetch_optional(pool)
            .await?;
        if let Some(listings) = listings.filter(|n| *n > 0) {
            out.push(Group {
                expr: quoted(&gram),
                listings,
            });
        }
    }
    Ok(out)
}

type Row = (String, f64, Option<String>, i32, Option<String>, Option<i64>);

/// How one read orders its rows.
#[derive(Clone, Copy)]
enum Order {
    Newest,
    Bm25,
}

fn statement(kind: ListingKind, index: &str, order: Order) -> String {
    let filters = filters(false, kind);
    let order = match order {
        Order::Newest => format!("{index}.rowid DESC"),
        Order::Bm25 => format!("bm25({index})"),
    };
    match kind {
        ListingKind::Offer => format!(
            "SELECT CAST(o.id AS TEXT), -bm25({index}), o.search_text, 1, NULL, o.message_received_at_ms
             FROM {index} JOIN offers o ON o.id = {index}.rowid LEFT JOIN vendors v ON v.id = o.vendor_id
             WHERE {index} MATCH $1 AND {filters}
             ORDER BY {order} LIMIT $8"
        ),
        ListingKind::Product => format!(
            "SELECT p.product_id, -bm25({index}), p.search_text, p.active, p.qc_decision, p.last_hydrated_at_ms
             FROM {index} JOIN products p ON p.rowid = {index}.rowid
             LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER}
             WHERE {index} MATCH $1 AND {filters}
             ORDER BY {order} LIMIT $9"
        ),
    }
}

async fn read(
    pool: &SqlitePool,
    kind: ListingKind,
    sql: &str,
    expr: String,
    filter: &ListingFilter,
    limit: usize,
) -> Result<Vec<TextCandidate>, StoreError> {
    let (vendor_id, vendor_name) = match &filter.vendor {
        Some(VendorRef::Id(id)) => (Some(*id), None),
        Some(VendorRef::Name(name)) => (None, Some(name.clone())),
        None => (None, None),
    };
    let query = sqlx::query_as::<_, Row>(sql)
        .bind(expr)
        .bind(vendor_id)
        .bind(vendor_name)
        .bind(filter.currency.clone())
        .bind(filter.price_min.clone())
        .bind(filter.price_max.clone())
        .bind(filter.condition.clone());
    let query = if kind == ListingKind::Product {
        query.bind(i32::from(filter.active_only))
    } else {
        query
    };
    let rows = query
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    Ok(relative_scores(rows
        .into_iter()
        .map(|(id, db_score, search_text, active, qc, seen_at_ms)| TextCandidate {
            kind,
            id,
            db_score,
            search_text: search_text.unwrap_or_default(),
            active: active != 0,
            approved: qc.as_deref() == Some("approved"),
            seen_at_ms,
        })
        .collect()))
}

/// Listings of `kind` for `terms` under `filter` (see the module note for the order of the
/// reads), unranked: at least `limit` when the index has them, at most a few reads' caps.
pub async fn candidates(
    pool: &SqlitePool,
    kind: ListingKind,
    terms: &[String],
    filter: &ListingFilter,
    limit: usize,
) -> Result<Vec<TextCandidate>, StoreError> {
    let tables = tables(kind);
    let groups = groups(pool, tables.vocab, terms).await?;
    if groups.is_empty() {
        let grams = trigram_groups(pool, tables.trigram_vocab, terms).await?;
        if grams.is_empty() {
            return Ok(Vec::new());
        }
        let sql = statement(kind, tables.trigram, Order::Bm25);
        return read(pool, kind, &sql, relaxed_expr(&grams, " OR "), filter, limit).await;
    }
    let parts: Vec<String> = groups.iter().map(|g| g.expr.clone()).collect();
    let newest = statement(kind, tables.words, Order::Newest);
    let mut found: Vec<TextCandidate> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for k in (1..=parts.len()).rev() {
        let batch = if k == 1 && parts.len() > 1 {
            let sql = statement(kind, tables.words, Order::Bm25);
            read(pool, kind, &sql, relaxed_expr(&groups, " OR "), filter, limit).await?
        } else if let Some(expr) = at_least(&parts, k, " AND ", " OR ") {
            read(pool, kind, &newest, expr, filter, limit.max(STRICT_CAP)).await?
        } else {
            continue;
        };
        for candidate in batch {
            if seen.insert(candidate.id.clone()) {
                found.push(candidate);
            }
        }
        if found.len() >= limit {
            break;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigram_fallback_uses_inner_trigrams_only_and_quotes_them() {
        assert_eq!(inner_trigrams(&["couch".into(), "x".into()]), ["cou", "ouc", "uch"]);
        assert!(inner_trigrams(&["ab".into()]).is_empty());
    }
}
