//! The full-text index of offers and products (migrations: SQLite 0012, PostgreSQL 0011):
//! candidate listings for a query with every filter applied in the same statement (so a
//! filter never thins an already-truncated list), the index generation that search caches
//! are keyed by, and the start-up fill of `search_text` for rows written before it existed.
//! SQLite looks terms up by their trigrams in FTS5 and ranks by `bm25()`; PostgreSQL by the
//! `tsvector` (`ts_rank_cd`) plus pg_trgm's `word_similarity` for typos. Every value is a
//! bound parameter.

use super::{
    Database, StoreError,
    queries::on_pool,
    tx::on_tx,
};
use crate::parse::search_text::{index_text, trigrams};

/// Which table a listing lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListingKind {
    Offer,
    Product,
}

impl ListingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Product => "product",
        }
    }
}

/// A vendor by id (`vendor=12`) or by name, compared without case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VendorRef {
    Id(i64),
    Name(String),
}

/// The filters of a search, applied inside the retrieving statement. Prices are exact
/// decimal strings (checked by the caller) compared numerically; a product's price and
/// currency are those of the newest offer that links it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListingFilter {
    pub vendor: Option<VendorRef>,
    pub currency: Option<String>,
    pub price_min: Option<String>,
    pub price_max: Option<String>,
    pub condition: Option<String>,
    /// Only active products (offers are always active).
    pub active_only: bool,
}

/// One listing the index matched, with what ranking needs.
#[derive(Debug, Clone)]
pub struct TextCandidate {
    pub kind: ListingKind,
    pub id: String,
    /// The backend's own relevance (higher is better): `-bm25()` or `ts_rank_cd + word_similarity`.
    pub db_score: f64,
    pub search_text: String,
    pub active: bool,
    pub approved: bool,
    /// When the listing was last seen: the message of an offer, the last hydration of a product.
    pub seen_at_ms: Option<i64>,
}

/// The FTS5 query for `terms`: any of their padded trigrams, each a quoted phrase.
pub fn fts5_query(terms: &[String]) -> String {
    let mut grams: Vec<String> = Vec::new();
    for gram in terms.iter().flat_map(|term| trigrams(term)) {
        if !grams.contains(&gram) {
            grams.push(gram);
        }
    }
    grams
        .iter()
        .map(|gram| format!("\"{}\"", gram.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The tsquery text for `terms` (alphanumeric words only): prefixes for words of 3+ characters.
pub fn tsquery(terms: &[String]) -> String {
    let clean = terms
        .iter()
        .filter(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric));
    clean
        .map(|t| {
            if t.chars().count() >= 3 {
                format!("{t}:*")
            } else {
                t.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A product's newest linking offer (its price, currency and condition).
pub(crate) const LINKED_OFFER: &str = "LEFT JOIN offers lo ON lo.id = (SELECT MAX(x.id) FROM offers x WHERE x.wa_product_id = p.product_id)";

type Row = (
    String,
    f64,
    Option<String>,
    i32,
    Option<String>,
    Option<i64>,
);

/// Up to `limit` offers or products matching `terms` under `filter`, best first.
/// `phrase` is the query's normalised words (PostgreSQL's fuzzy match compares it whole).
pub async fn candidates(
    db: &Database,
    kind: ListingKind,
    terms: &[String],
    phrase: &str,
    filter: &ListingFilter,
    limit: i64,
) -> Result<Vec<TextCandidate>, StoreError> {
    let sql = statement(db, kind);
    let (vendor_id, vendor_name) = match &filter.vendor {
        Some(VendorRef::Id(id)) => (Some(*id), None),
        Some(VendorRef::Name(name)) => (None, Some(name.clone())),
        None => (None, None),
    };
    let first = match db {
        Database::Sqlite(_) => fts5_query(terms),
        Database::Postgres(_) => tsquery(terms),
    };
    if first.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = on_pool!(db, |pool| {
        let query = sqlx::query_as(&sql)
            .bind(first)
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
        let query = if matches!(db, Database::Postgres(_)) {
            query.bind(phrase.to_owned())
        } else {
            query
        };
        query.bind(limit).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(id, db_score, search_text, active, qc, seen_at_ms)| TextCandidate {
                kind,
                id,
                db_score,
                search_text: search_text.unwrap_or_default(),
                active: active != 0,
                approved: qc.as_deref() == Some("approved"),
                seen_at_ms,
            },
        )
        .collect())
}

/// The filter clauses, `$2`..`$7` (and `$8` for products), in the backend's spelling.
pub(crate) fn filters(postgres: bool, kind: ListingKind) -> String {
    let param = |n: u8, ty: &str| {
        if postgres {
            format!("${n}::{ty}")
        } else {
            format!("${n}")
        }
    };
    let number = |expr: &str| {
        if postgres {
            format!("({expr})::numeric")
        } else {
            format!("CAST({expr} AS REAL)")
        }
    };
    let (vendor, price, currency, condition) = match kind {
        ListingKind::Offer => ("o.vendor_id", "o.price", "o.currency", "o.condition"),
        ListingKind::Product => ("c.vendor_id", "lo.price", "lo.currency", "lo.condition"),
    };
    let mut clauses = format!(
        "({p2} IS NULL OR {vendor} = {p2}) AND ({p3} IS NULL OR lower(v.name) = lower({p3}))
         AND ({p4} IS NULL OR {currency} = {p4}) AND ({p5} IS NULL OR {price_num} >= {p5n})
         AND ({p6} IS NULL OR {price_num} <= {p6n}) AND ({p7} IS NULL OR {condition} = {p7})",
        p2 = param(2, "bigint"),
        p3 = param(3, "text"),
        p4 = param(4, "text"),
        p5 = param(5, "text"),
        p6 = param(6, "text"),
        p7 = param(7, "text"),
        price_num = number(price),
        p5n = number(&param(5, "text")),
        p6n = number(&param(6, "text")),
    );
    match kind {
        ListingKind::Product => clauses.push_str(&format!(" AND ({} = 0 OR p.active = 1)", param(8, "int"))),
        // A document row that left its vendor's latest snapshot is kept, but never found.
        ListingKind::Offer => clauses.push_str(" AND o.active = 1"),
    }
    clauses
}

fn statement(db: &Database, kind: ListingKind) -> String {
    let postgres = matches!(db, Database::Postgres(_));
    let filters = filters(postgres, kind);
    match (postgres, kind) {
        (false, ListingKind::Offer) => format!(
            "SELECT CAST(o.id AS TEXT), -bm25(offers_fts), o.search_text, 1, NULL, o.message_received_at_ms
             FROM offers_fts JOIN offers o ON o.id = offers_fts.rowid LEFT JOIN vendors v ON v.id = o.vendor_id
             WHERE offers_fts MATCH $1 AND {filters}
             ORDER BY bm25(offers_fts) LIMIT $8"
        ),
        (false, ListingKind::Product) => format!(
            "SELECT p.product_id, -bm25(products_fts), p.search_text, p.active, p.qc_decision, p.last_hydrated_at_ms
             FROM products_fts JOIN products p ON p.rowid = products_fts.rowid
             LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER}
             WHERE products_fts MATCH $1 AND {filters}
             ORDER BY bm25(products_fts) LIMIT $9"
        ),
        (true, ListingKind::Offer) => format!(
            "SELECT o.id::text, (ts_rank_cd(o.search_tsv, q.tsq) + word_similarity($8::text, o.search_text))::float8 AS s,
                    o.search_text, 1, NULL::text, o.message_received_at_ms
             FROM offers o CROSS JOIN (SELECT to_tsquery('simple', $1) AS tsq) q LEFT JOIN vendors v ON v.id = o.vendor_id
             WHERE (o.search_tsv @@ q.tsq OR $8::text <% o.search_text) AND {filters}
             ORDER BY s DESC LIMIT $9"
        ),
        (true, ListingKind::Product) => format!(
            "SELECT p.product_id, (ts_rank_cd(p.search_tsv, q.tsq) + word_similarity($9::text, p.search_text))::float8 AS s,
                    p.search_text, p.active, p.qc_decision, p.last_hydrated_at_ms
             FROM products p CROSS JOIN (SELECT to_tsquery('simple', $1) AS tsq) q
             LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER}
             WHERE (p.search_tsv @@ q.tsq OR $9::text <% p.search_text) AND {filters}
             ORDER BY s DESC LIMIT $10"
        ),
    }
}

/// The index generation: it moves with every commit that writes offers, products or vendors.
pub async fn generation(db: &Database) -> Result<i64, StoreError> {
    let value: Option<i64> = match db {
        Database::Sqlite(pool) => {
            sqlx::query_scalar("SELECT value FROM search_generation")
                .fetch_optional(pool)
                .await?
        }
        Database::Postgres(pool) => {
            sqlx::query_scalar("SELECT SUM(value)::bigint FROM search_generation")
                .fetch_one(pool)
                .await?
        }
    };
    Ok(value.unwrap_or(0))
}

/// Fills `search_text` of rows written before the search migration (or by a path that does
/// not write it), in batches; returns how many rows it filled.
pub async fn backfill(db: &Database) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let offers: Vec<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(
            "SELECT id, title FROM offers WHERE search_text IS NULL ORDER BY id LIMIT 500"
        )
        .fetch_all(pool)
        .await?);
        let products: Vec<(String, Option<String>, Option<String>)> = on_pool!(db, |pool| {
            sqlx::query_as(
            "SELECT product_id, name, description FROM products WHERE search_text IS NULL ORDER BY product_id LIMIT 500"
        )
        .fetch_all(pool)
        .await?
        });
        if offers.is_empty() && products.is_empty() {
            return Ok(filled);
        }
        filled += offers.len() + products.len();
        // A write transaction as the stages take it (BEGIN IMMEDIATE behind the write gate on SQLite).
        let mut tx = db.begin_write().await?;
        for (id, title) in &offers {
            let text = index_text(&[Some(title)]);
            on_tx!(&mut tx, |conn| sqlx::query("UPDATE offers SET search_text = $1 WHERE id = $2")
                .bind(text)
                .bind(id)
                .execute(conn)
                .await?
                .rows_affected());
        }
        for (id, name, description) in &products {
            let text = index_text(&[name.as_deref(), description.as_deref()]);
            on_tx!(&mut tx, |conn| sqlx::query("UPDATE products SET search_text = $1 WHERE product_id = $2")
                .bind(text)
                .bind(id)
                .execute(conn)
                .await?
                .rows_affected());
        }
        tx.commit().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_built_from_clean_terms_only() {
        let terms = vec!["iphon".to_owned(), "13".to_owned()];
        assert_eq!(
            fts5_query(&terms),
            "\" ip\" OR \"iph\" OR \"pho\" OR \"hon\" OR \"on \" OR \" 13\" OR \"13 \""
        );
        assert_eq!(tsquery(&terms), "iphon:* | 13");
        assert_eq!(tsquery(&["a'b".to_owned(), "x".to_owned()]), "x");
    }
}
