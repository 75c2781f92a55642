//! PostgreSQL's text lookup: the candidates of a query from the `tsvector` GIN index, read
//! the way `search_words.rs` reads SQLite's, so that a query touches the rows that hold its
//! terms rather than scoring every row that holds any of them:
//!
//! 1. **All terms, then all but one, …**: the listings holding at least k of the n terms
//!    (`search_words::at_least`, tsquery's `&` and `|`), k from n down to 2, newest first, at
//!    most `max(limit, STRICT_CAP)` per read, until `limit` listings are in hand. The newest
//!    are picked from the index's matches without a rank; `ts_rank_cd` and pg_trgm's
//!    `word_similarity` are computed only for the rows picked.
//! 2. **Any term, or alike** (typos: `samsng`): when that is still short, the listings holding
//!    any term or whose words pg_trgm finds alike (`<%`), ranked by both, as the first version
//!    of search did for every query.
//!
//! Filters sit in every statement, applied before any cap.

use std::collections::HashSet;

use sqlx::PgPool;

use super::{
    StoreError,
    search_index::{LINKED_OFFER, ListingFilter, ListingKind, TextCandidate, VendorRef, filters, relative_scores},
    search_terms::{STRICT_CAP, at_least},
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
    /// Any term or alike, ranked over every match.
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
    let parts = tsquery_parts(terms);
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<TextCandidate> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut keep = |batch: Vec<TextCandidate>, found: &mut Vec<TextCandidate>| {
        for candidate in batch {
            if seen.insert(candidate.id.clone()) {
                found.push(candidate);
            }
        }
    };
    let lowest = if parts.len() == 1 { 1 } else { 2 };
    for k in (lowest..=parts.len()).rev() {
        let Some(expr) = at_least(&parts, k, " & ", " | ") else {
            continue;
        };
        let batch = read(pool, kind, Read::Newest, expr, phrase, filter, limit.max(STRICT_CAP)).await?;
        keep(batch, &mut found);
        if found.len() >= limit {
            return Ok(found);
        }
    }
    let any = parts.join(" | ");
    let batch = read(pool, kind, Read::Fuzzy, any, phrase, filter, limit).await?;
    keep(batch, &mut found);
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
