//! `price_history`: the prices vendor documents (and, later, catalog re-syncs) state for an offer,
//! appended in the same transaction as the offer write, so a re-import that overwrites a price in
//! place keeps the old one; and the read of one product's prices over time. Chat offers are their
//! own history (each message makes a new offer row): the read takes them from `offers` and unions
//! the history rows, so no price is counted twice.
//!
//! Appends are batch statements: multi-row `INSERT … VALUES` in chunks on SQLite, one `UNNEST`
//! insert on PostgreSQL, never a statement per row.

use serde::Serialize;

use super::{Database, StoreError, placeholders, queries::on_pool, tx::Tx};

/// What stated a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    Document,
    Chat,
    Catalog,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Chat => "chat",
            Self::Catalog => "catalog",
        }
    }
}

/// One price an offer took: its first (no old price) or a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub offer_id: i64,
    /// The offer key: the normalised product key.
    pub product_key: String,
    pub wa_product_id: Option<String>,
    pub vendor_id: Option<i64>,
    /// `None` for the offer's first price.
    pub old_price: Option<String>,
    pub old_currency: Option<String>,
    pub new_price: String,
    pub currency: String,
    pub source: PriceSource,
    pub source_document_id: Option<i64>,
    pub at_ms: i64,
}

/// Rows per SQLite statement: 11 parameters each stays far under SQLite's 32,766.
const SQLITE_CHUNK: usize = 1_000;

const COLUMNS: &str =
    "offer_id, product_key, wa_product_id, vendor_id, old_price, old_currency, new_price, currency,
                       source, source_document_id, at_ms";

/// Appends `changes`; returns the rows written.
pub async fn append(tx: &mut Tx, changes: &[PriceChange]) -> Result<u64, StoreError> {
    if changes.is_empty() {
        return Ok(0);
    }
    let mut written = 0;
    match tx {
        Tx::Sqlite(transaction, ..) => {
            for chunk in changes.chunks(SQLITE_CHUNK) {
                let sql = format!(
                    "INSERT INTO price_history ({COLUMNS}) VALUES {}",
                    placeholders::rows(false, chunk.len(), 11, 0)
                );
                let mut query = sqlx::query(&sql).persistent(chunk.len() == SQLITE_CHUNK);
                for c in chunk {
                    query = query
                        .bind(c.offer_id)
                        .bind(&c.product_key)
                        .bind(c.wa_product_id.as_deref())
                        .bind(c.vendor_id)
                        .bind(c.old_price.as_deref())
                        .bind(c.old_currency.as_deref())
                        .bind(&c.new_price)
                        .bind(&c.currency)
                        .bind(c.source.as_str())
                        .bind(c.source_document_id)
                        .bind(c.at_ms);
                }
                written += query.execute(&mut **transaction).await?.rows_affected();
            }
        }
        Tx::Postgres(transaction, ..) => {
            let sql = format!(
                "INSERT INTO price_history ({COLUMNS})
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                                      $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[])"
            );
            let column =
                |f: fn(&PriceChange) -> Option<String>| changes.iter().map(f).collect::<Vec<_>>();
            written += sqlx::query(&sql)
                .bind(changes.iter().map(|c| c.offer_id).collect::<Vec<_>>())
                .bind(
                    changes
                        .iter()
                        .map(|c| c.product_key.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(column(|c| c.wa_product_id.clone()))
                .bind(changes.iter().map(|c| c.vendor_id).collect::<Vec<_>>())
                .bind(column(|c| c.old_price.clone()))
                .bind(column(|c| c.old_currency.clone()))
                .bind(
                    changes
                        .iter()
                        .map(|c| c.new_price.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    changes
                        .iter()
                        .map(|c| c.currency.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    changes
                        .iter()
                        .map(|c| c.source.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    changes
                        .iter()
                        .map(|c| c.source_document_id)
                        .collect::<Vec<_>>(),
                )
                .bind(changes.iter().map(|c| c.at_ms).collect::<Vec<_>>())
                .execute(&mut **transaction)
                .await?
                .rows_affected();
        }
    }
    Ok(written)
}

/// One price of a product at one time.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PricePoint {
    /// When the price was stated: the chat message's arrival, or the document's upload.
    pub at_ms: i64,
    pub price: String,
    /// The offer's price before this one; null for a chat offer (each message is an offer of its
    /// own) and for an offer's first price.
    pub old_price: Option<String>,
    /// The currency of `old_price`, when it has one.
    pub old_currency: Option<String>,
    pub currency: String,
    pub vendor_id: Option<i64>,
    pub vendor_name: Option<String>,
    pub offer_id: i64,
    /// The offer's chat, or null for an offer from a vendor document.
    pub chat_id: Option<String>,
    /// `chat`, `document` or `catalog`.
    pub source: String,
    /// The vendor document that stated the price (null for a chat offer).
    pub source_document_id: Option<i64>,
    /// The offer's title as it is now.
    pub title: String,
}

/// Prices over time across vendors for one product (title key or WhatsApp id), oldest first:
/// chat offers from `offers`, every other source from `price_history`.
pub async fn points(
    db: &Database,
    product: &str,
    limit: i64,
) -> Result<Vec<PricePoint>, StoreError> {
    let sql = "SELECT p.at_ms, p.price, p.old_price, p.old_currency, p.currency, p.vendor_id, v.name AS vendor_name,
                      p.offer_id, p.chat_id, p.source, p.source_document_id, p.title
               FROM (
                   SELECT o.message_received_at_ms AS at_ms, o.price, CAST(NULL AS TEXT) AS old_price,
                          CAST(NULL AS TEXT) AS old_currency, o.currency, o.vendor_id, o.id AS offer_id, o.chat_id,
                          'chat' AS source, CAST(NULL AS BIGINT) AS source_document_id, o.title, 0 AS seq
                     FROM offers o
                    WHERE (o.product_key = $1 OR o.wa_product_id = $1) AND o.price IS NOT NULL
                      AND o.source_message_pk IS NOT NULL
                   UNION ALL
                   SELECT h.at_ms, h.new_price, h.old_price, h.old_currency, h.currency, h.vendor_id, h.offer_id,
                          o.chat_id, h.source, h.source_document_id, COALESCE(o.title, h.product_key), h.id
                     FROM price_history h LEFT JOIN offers o ON o.id = h.offer_id
                    WHERE h.product_key = $1 OR h.wa_product_id = $1
               ) p LEFT JOIN vendors v ON v.id = p.vendor_id
               ORDER BY p.at_ms, p.offer_id, p.seq LIMIT $2";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(product)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}
