//! PostgreSQL's text lookup: the candidates of a query from the `tsvector` GIN index, read
//! the way `search_words.rs` reads SQLite's, so that a query touches the rows that hold its
//! terms rather than scoring every row that holds any of them:
//!
//! 1. **Terms** (`search_pg_vocab.rs`): each term as a prefix (or word), with the vocabulary's
//!    words alike to it (typos on either side: `samsng` finds `samsung`), and an estimate of
//!    how many listings hold it.
//! 2. **All terms, then all but one, …**: the listings holding at least k of the n terms
//!    (`search_terms::at_least`, tsquery's `&` and `|`), k from n down to 2, newest first, at
//!    most `max(limit, STRICT_CAP)` per read, until `limit` listings are in hand. The newest
//!    are picked from the index's matches without a rank; `ts_rank_cd` and pg_trgm's
//!    `word_similarity` are computed only for the rows picked.
//! 3. **Any term** (k = 1 of several): ranked by `ts_rank_cd`, the rarest terms first, leaving
//!    out the commonest once the listings they hold pass the budget
//!    (`search_terms::RELAX_BUDGET`).
//! 4. **Alike as a whole**, when no term is known at all: pg_trgm's `<%` of the query's words
//!    against each listing's, ranked by `word_similarity`.
//!
//! Filters sit in every statement, applied before any cap.

use std::collections::HashSet;

use sqlx::PgPool;

use super::{
    StoreError,
    search_index::{LINKED_OFFER, ListingFilter, ListingKind, TextCandidate, VendorRef, filters, relative_scores},
    search_pg_vocab,
    search_terms::{STRICT_CAP, at_least, relaxed_expr},
};

/// The tsquery operand of each alphanumeric term: a prefix for words of 3+ characters.
pub fn tsquery_parts(terms: &[String]) -> Vec<String> {
    terms
        .iter()
        .filter(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric))
        .map(|t| {
            if t.chars().count() >= 3 {
                format!("{t}:*")
            } else {
                t.clone()
            }
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Read {
    /// The newest listings matching `$1`; ranks computed for those only.
    Newest,
    /// The listings matching `$1`, ranked by `ts_rank_cd` over every match.
    Ranked,
    /// Any term or alike as a whole (pg_trgm), ranked over every match.
    Fuzzy,
}

fn statement(kind: ListingKind, read: Read) -> String {
    let filters = filters(true, kind);
    match (kind, read) {
        (ListingKind::Offer, Read::Newest) => format!(
            "SELECT o.id::text, (ts_rank_cd(o.search_tsv, q.tsq) + word_similarity($8::text, o.search_text))::float8,
                    o.search_text, 1, NULL::text, o.message_received_at_ms
             FROM (SELECT o.id FROM offers o LEFT JOIN vendors v ON v.id = o.vendor_id
                   WHERE o.search_tsv @@ to_tsquery('simple', $1) AND {filters}
                   ORDER BY o.id DESC LIMIT $9) top
             JOIN offers o ON o.id = top.id CROSS JOIN (SELECT to_tsquery('simple', $1) AS tsq) q"
        ),
        (ListingKind::Product, Read::Newest) => format!(
            "SELECT p.product_id, (ts_rank_cd(p.search_tsv, q.tsq) + word_similarity($9::text, p.search_text))::float8,
                    p.search_text, p.active, p.qc_decision, p.last_hydrated_at_ms
             FROM (SELECT p.product_id FROM products p
                   LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER}
                   WHERE p.search_tsv @@ to_tsquery('simple', $1) AND {filters}
                   ORDER BY p.created_at_ms DESC, p.product_id DESC LIMIT $10) top
             JOIN products p ON p.product_id = top.product_id CROSS JOIN (SELECT to_tsquery('simple', $1) AS tsq) q"
        ),
        (ListingKind::Offer, Read::Ranked) => format!(
            "SELECT o.id::text, ts_rank_cd(o.search_tsv, to_tsquery('simple', $1))::float8 AS s,
                    o.search_text, 1, NULL::text, o.message_received_at_ms
             FROM offers o LEFT JOIN vendors v ON v.id = o.vendor_id
             WHERE o.search_tsv @@ to_tsquery('simple', $1) AND length($8::text) >= 0 AND {filters}
             ORDER BY s DESC LIMIT $9"
        ),
        (ListingKind::Product, Read::Ranked) => format!(
            "SELECT p.product_id, ts_rank_cd(p.search_tsv, to_tsquery('simple', $1))::float8 AS s,
                    p.search_text, p.active, p.qc_decision, p.last_hydrated_at_ms
             FROM products p
             LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER}
             WHERE p.search_tsv @@ to_tsquery('simple', $1) AND length($9::text) >= 0 AND {filters}
             ORDER BY s DESC LIMIT $10"
        ),
        (ListingKind::Offer, Read::Fuzzy) => format!(
            "SELECT o.id::text, (ts_rank_cd(o.search_tsv, q.tsq) + word_similarity($8::text, o.search_text))::float8 AS s,
                    o.search_text, 1, NULL::text, o.message_received_at_ms
             FROM offers o CROSS JOIN (SELECT to_tsquery('simple', $1) AS tsq) q LEFT JOIN vendors v ON v.id = o.vendor_id
             WHERE (o.search_tsv @@ q.tsq OR $8::text <% o.search_text) AND {filters}
             ORDER BY s DESC LIMIT $9"
        ),
        (ListingKind::Product, Read::Fuzzy) => format!(
            "SELECT p.product_id, (ts_rank_cd(p.search_tsv, q.tsq) + word_similarity($9::text, p.search_text))::float8 AS s,
                    p.search_text, p.active, p.qc_decision, p.last_hydrated_at_ms
             FROM products p CROSS JOIN (SELECT to_tsquery('simple', $1) AS tsq) q
             LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER}
             WHERE (p.search_tsv @@ q.tsq OR $9::text <% p.search_text) AND {filters}
             ORDER BY s DESC LIMIT $10"
        ),
    }
}

type Row = (String, f64, Option<String>, i32, Option<String>, Option<i64>);

#[allow(clippy::too_many_arguments)]
async fn read(
    pool: &PgPool,
    kind: ListingKind,
    how: Read,
    tsquery: String,
    phrase: &str,
    filter: &ListingFilter,
    limit: usize,
) -> Result<Vec<TextCandidate>, StoreError> {
    let (vendor_id, vendor_name) = match &filter.vendor {
        Some(VendorRef::Id(id)) => (Some(*id), None),
        Some(VendorRef::Name(name)) => (None, Some(name.clone())),
        None => (None, None),
    };
    let sql = statement(kind, how);
    let query = sqlx::query_as::<_, Row>(&sql)
        .bind(tsquery)
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
        .bind(phrase.to_owned())
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

/// Listings of `kind` for `terms` under `filter` (see the module note), unranked.
/// `phrase` is the query's normalised words, which pg_trgm compares whole.
pub async fn candidates(
    pool: &PgPool,
    kind: ListingKind,
    terms: &[String],
    phrase: &str,
    filter: &ListingFilter,
    limit: usize,
) -> Result<Vec<TextCandidate>, StoreError> {
    let groups = search_pg_vocab::groups(pool, kind, terms).await?;
    if groups.is_empty() {
        // No term is a word of the index, nor alike to one: the query's words as a whole.
        let parts = tsquery_parts(terms);
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        return read(pool, kind, Read::Fuzzy, parts.join(" | "), phrase, filter, limit).await;
    }
    let parts: Vec<String> = groups.iter().map(|g| g.expr.clone()).collect();
    let mut found: Vec<TextCandidate> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for k in (1..=parts.len()).rev() {
        let batch = if k == 1 && parts.len() > 1 {
            read(pool, kind, Read::Ranked, relaxed_expr(&groups, " | "), phrase, filter, limit).await?
        } else if let Some(expr) = at_least(&parts, k, " & ", " | ") {
            read(pool, kind, Read::Newest, expr, phrase, filter, limit.max(STRICT_CAP)).await?
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
    fn operands_are_built_from_clean_terms_only() {
        let terms = vec!["iphon".to_owned(), "13".to_owned()];
        assert_eq!(tsquery_parts(&terms), ["iphon:*", "13"]);
        assert_eq!(tsquery_parts(&["a'b".to_owned(), "x".to_owned()]), ["x"]);
        assert_eq!(
            at_least(&tsquery_parts(&terms), 2, " & ", " | ").as_deref(),
            Some("iphon:* & 13")
        );
    }
}
