//! The full-text index of offers and products (migrations: SQLite 0012, PostgreSQL 0011):
//! candidate listings for a query with every filter applied in the same statement (so a
//! filter never thins an already-truncated list), the index generation that search caches
//! are keyed by, and the start-up fill of `search_text` for rows written before it existed.
//! SQLite looks terms up as words first and by trigrams only when no word knows them
//! (`search_words.rs`), ranked by `bm25()`; PostgreSQL by the `tsvector` (`ts_rank_cd`) plus
//! pg_trgm's `word_similarity` for typos. Every value is a bound parameter.

use super::{
    Database, StoreError,
    queries::on_pool,
    tx::on_tx,
};
use crate::parse::search_text::index_text;

/// Which table a listing lives in (search's and the vector index's alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "offer" => Some(Self::Offer),
            "product" => Some(Self::Product),
            _ => None,
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
    /// The backend's own relevance (higher is better: `-bm25()` or `ts_rank_cd + word_similarity`)
    /// over the best of the same read, 0 to 1: reads with other terms score on other scales.
    pub db_score: f64,
    pub search_text: String,
    pub active: bool,
    pub approved: bool,
    /// When the listing was last seen: the message of an offer, the last hydration of a product.
    pub seen_at_ms: Option<i64>,
}

/// A product's newest linking offer (its price, currency and condition).
pub(crate) const LINKED_OFFER: &str = "LEFT JOIN offers lo ON lo.id = (SELECT MAX(x.id) FROM offers x WHERE x.wa_product_id = p.product_id)";


/// Offers or products matching `terms` under `filter`, unranked: at least `limit` when the
/// index has them (`search_words.rs` on SQLite, `search_pg.rs` on PostgreSQL).
/// `phrase` is the query's normalised words (PostgreSQL's fuzzy match compares it whole).
pub async fn candidates(
    db: &Database,
    kind: ListingKind,
    terms: &[String],
    phrase: &str,
    filter: &ListingFilter,
    limit: i64,
) -> Result<Vec<TextCandidate>, StoreError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    match db {
        Database::Sqlite(pool) => super::search_words::candidates(pool, kind, terms, filter, limit).await,
        Database::Postgres(pool) => {
            super::search_pg::candidates(pool, kind, terms, phrase, filter, limit).await
        }
    }
}

/// Scales each candidate's `db_score` by the best of its read (see [`TextCandidate::db_score`]).
pub(crate) fn relative_scores(mut read: Vec<TextCandidate>) -> Vec<TextCandidate> {
    let best = read.iter().map(|c| c.db_score).fold(0.0_f64, f64::max);
    for candidate in &mut read {
        candidate.db_score = if best > 0.0 { (candidate.db_score / best).clamp(0.0, 1.0) } else { 0.0 };
    }
    read
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
