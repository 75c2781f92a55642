//! What a search result shows of a listing, read by id once the page is ranked:
//! an offer's vendor, chat title and (through its WhatsApp product) image; a
//! product's seller and display image, and the price of the newest offer that links it.

use std::collections::HashMap;

use super::{
    Database, StoreError,
    queries::on_pool,
    search_index::{LINKED_OFFER, ListingKind},
};

/// One listing as a search result shows it.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub kind: ListingKind,
    pub id: String,
    pub title: String,
    pub price: Option<String>,
    pub currency: Option<String>,
    /// Offers: the vendor's name.
    pub vendor: Option<String>,
    /// Offers: the chat's title.
    pub chat_title: Option<String>,
    /// Products: the mapped vendor's name, else the seller's phone as `/products` shows it.
    pub seller: Option<String>,
    pub image_url: Option<String>,
}

type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `ids` of one kind, by id (ids that no longer exist are absent).
pub async fn listings(
    db: &Database,
    kind: ListingKind,
    ids: &[String],
) -> Result<HashMap<String, ListingRow>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let postgres = matches!(db, Database::Postgres(_));
    let sql = match kind {
        ListingKind::Offer => {
            let id = if postgres { "o.id::text" } else { "CAST(o.id AS TEXT)" };
            format!(
                "SELECT {id}, o.title, o.price, o.currency, v.name, c.title, COALESCE(p.persisted_image_url, p.image_url)
                 FROM offers o LEFT JOIN vendors v ON v.id = o.vendor_id LEFT JOIN chats c ON c.id = o.chat_id
                 LEFT JOIN products p ON p.product_id = o.wa_product_id
                 WHERE o.id IN ({})",
                placeholders(ids.len())
            )
        }
        ListingKind::Product => format!(
            "SELECT p.product_id, COALESCE(p.name, p.product_id), lo.price, lo.currency,
                    COALESCE(v.name, p.seller_phone), CAST(NULL AS TEXT), COALESCE(p.persisted_image_url, p.image_url)
             FROM products p LEFT JOIN chats c ON c.id = p.source_chat_id LEFT JOIN vendors v ON v.id = c.vendor_id
             {LINKED_OFFER}
             WHERE p.product_id IN ({})",
            placeholders(ids.len())
        ),
    };
    let rows: Vec<Row> = on_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = match kind {
                // Offer ids are integers; one that is not matches nothing.
                ListingKind::Offer => query.bind(id.parse::<i64>().unwrap_or(-1)),
                ListingKind::Product => query.bind(id.clone()),
            };
        }
        query.fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, title, price, currency, who, chat_title, image_url)| {
            let (vendor, seller) = match kind {
                ListingKind::Offer => (who, None),
                ListingKind::Product => (None, who),
            };
            let title = title.unwrap_or_default();
            (
                id.clone(),
                ListingRow {
                    kind,
                    id,
                    title,
                    price,
                    currency,
                    vendor,
                    chat_title,
                    seller,
                    image_url,
                },
            )
        })
        .collect())
}
