//! Read side of what extraction produces: offers with filters and stable
//! cursor pagination, vendors, and the chat views of the admin mapping page
//! (price history is `price_history.rs`). Shared SQL for both backends.

use serde::Serialize;

use super::{Database, StoreError, queries::on_pool, tx::on_tx};
use crate::domain::Offer;

const OFFER_COLUMNS: &str = "id, chat_id, vendor_id, sender, source_message_pk, source_document_id, source_row, item_index, title, product_key, wa_product_id,
    price, currency, delivery_fee, quantity, condition, span_start, span_end, source_text, message_received_at_ms,
    created_at_ms, updated_at_ms";

#[derive(Debug, Default, Clone)]
pub struct OfferFilter {
    pub vendor_id: Option<i64>,
    /// A normalised title key or a WhatsApp product id.
    pub product: Option<String>,
    pub chat_id: Option<String>,
    /// Only the rows of this vendor document.
    pub document_id: Option<i64>,
    /// An E.164 sender.
    pub sender: Option<String>,
    pub since_ms: Option<i64>,
    /// A case-insensitive `LIKE` pattern over the title (`admin_lists::like_pattern`).
    pub title_pattern: Option<String>,
    /// Offers with a smaller id than this (the previous page's last id).
    pub before_id: Option<i64>,
    pub limit: i64,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Newest first; the last id of a page is the cursor of the next one, so
/// pages stay stable while new offers arrive.
pub async fn offers(db: &Database, filter: &OfferFilter) -> Result<Vec<Offer>, StoreError> {
    // Document rows that left their vendor's latest snapshot are kept, never listed.
    let mut conditions = vec!["active = 1".to_owned()];
    let mut binds = Vec::new();
    let mut push = |condition: &str, bind: Bind| {
        binds.push(bind);
        conditions.push(condition.replace('?', &format!("${}", binds.len())));
    };
    if let Some(vendor) = filter.vendor_id {
        push("vendor_id = ?", Bind::Int(vendor));
    }
    if let Some(product) = &filter.product {
        // Both `?` take the same parameter number.
        push("(product_key = ? OR wa_product_id = ?)", Bind::Text(product.clone()));
    }
    if let Some(chat) = &filter.chat_id {
        push("chat_id = ?", Bind::Text(chat.clone()));
    }
    if let Some(document) = filter.document_id {
        push("source_document_id = ?", Bind::Int(document));
    }
    if let Some(sender) = &filter.sender {
        push("sender = ?", Bind::Text(sender.clone()));
    }
    if let Some(since) = filter.since_ms {
        push("message_received_at_ms >= ?", Bind::Int(since));
    }
    if let Some(pattern) = &filter.title_pattern {
        push(
            "LOWER(title) LIKE ? ESCAPE '\\'",
            Bind::Text(pattern.clone()),
        );
    }
    if let Some(before) = filter.before_id {
        push("id < ?", Bind::Int(before));
    }
    let clause = format!("WHERE {}", conditions.join(" AND "));
    let sql = format!("SELECT {OFFER_COLUMNS} FROM offers {clause} ORDER BY id DESC LIMIT ${}", binds.len() + 1);
    Ok(on_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql);
        for bind in &binds {
            query = match bind {
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.as_str()),
            };
        }
        query.bind(filter.limit).fetch_all(pool).await?
    }))
}

/// Offers of one chat written at or after `since_ms` (an extraction run's).
pub async fn offers_written_since(db: &Database, chat_id: &str, since_ms: i64, limit: i64) -> Result<Vec<Offer>, StoreError> {
    let sql = format!(
        "SELECT {OFFER_COLUMNS} FROM offers WHERE chat_id = $1 AND updated_at_ms >= $2 ORDER BY source_message_pk, item_index LIMIT $3"
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(chat_id).bind(since_ms).bind(limit).fetch_all(pool).await?))
}

/// Where an offer came from: its chat and message (the search page links a result to them).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferSource {
    pub id: i64,
    pub chat_id: String,
    pub source_message_pk: i64,
}

/// The chat and message of each offer in `ids` (unknown ids and offers from vendor documents,
/// which have no chat, are left out; at most 200 asked).
pub async fn offer_sources(db: &Database, ids: &[i64]) -> Result<Vec<OfferSource>, StoreError> {
    let ids = &ids[..ids.len().min(200)];
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!("SELECT id, chat_id, source_message_pk FROM offers WHERE id IN ({}) AND source_message_pk IS NOT NULL", placeholders.join(", "));
    Ok(on_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Vendor {
    pub id: i64,
    pub name: String,
    pub default_currency: Option<String>,
    pub created_at_ms: i64,
    pub chat_count: i64,
    pub offer_count: i64,
}

pub async fn vendors(db: &Database) -> Result<Vec<Vendor>, StoreError> {
    let sql = "SELECT v.id, v.name, v.default_currency, v.created_at_ms,
                      (SELECT COUNT(*) FROM chats c WHERE c.vendor_id = v.id) AS chat_count,
                      (SELECT COUNT(*) FROM offers o WHERE o.vendor_id = v.id) AS offer_count
               FROM vendors v ORDER BY v.name, v.id";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChatSummary {
    pub chat_id: String,
    pub title: String,
    pub vendor_id: Option<i64>,
    pub vendor_name: Option<String>,
    pub message_count: i64,
    pub offer_count: i64,
    pub last_message_at_ms: i64,
    pub extract_due_at_ms: Option<i64>,
    pub last_extracted_at_ms: Option<i64>,
}

const CHAT_SUMMARY: &str = "SELECT c.id AS chat_id, c.title, c.vendor_id, v.name AS vendor_name,
        c.created_count AS message_count, c.offer_count, c.last_message_at_ms, c.extract_due_at_ms,
        c.last_extracted_at_ms
    FROM chats c LEFT JOIN vendors v ON v.id = c.vendor_id";

/// Unmapped chats first, then by latest activity.
pub async fn chat_summaries(db: &Database, limit: i64) -> Result<Vec<ChatSummary>, StoreError> {
    let sql = format!(
        "{CHAT_SUMMARY} ORDER BY CASE WHEN c.vendor_id IS NULL THEN 0 ELSE 1 END, c.last_message_at_ms DESC, c.id LIMIT $1"
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?))
}

pub async fn chat_summary(db: &Database, chat_id: &str) -> Result<Option<ChatSummary>, StoreError> {
    let sql = format!("{CHAT_SUMMARY} WHERE c.id = $1");
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql).bind(chat_id).fetch_optional(pool).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub text: Option<String>,
    pub upstream_ts_ms: Option<i64>,
    pub received_at_ms: i64,
}

pub async fn latest_messages(db: &Database, chat_id: &str, limit: i64) -> Result<Vec<MessageView>, StoreError> {
    let sql = match db {
        Database::Sqlite(_) => super::chat_index::SQLITE_LATEST,
        Database::Postgres(_) => {
            "SELECT id, sender, sender_name, text, upstream_ts_ms, received_at_ms
               FROM messages WHERE chat_id = $1 ORDER BY id DESC LIMIT $2"
        }
    };
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(chat_id).bind(limit).fetch_all(pool).await?))
}

/// One message of a chat (the admin page's link from an offer to its message).
pub async fn message_in_chat(db: &Database, chat_id: &str, message_pk: i64) -> Result<Option<MessageView>, StoreError> {
    let sql = "SELECT id, sender, sender_name, text, upstream_ts_ms, received_at_ms FROM messages WHERE id = $1 AND chat_id = $2";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(message_pk).bind(chat_id).fetch_optional(pool).await?))
}

/// Which vendor a chat maps to: an existing one, or one created inline.
pub enum VendorChoice {
    Existing(i64),
    New { name: String, default_currency: Option<String> },
}

/// Maps the chat and re-attributes the offers of its senders without a vendor
/// of their own at once; returns the vendor id,
/// or `None` when the chat or the existing vendor is unknown.
pub async fn map_chat(db: &Database, chat_id: &str, choice: VendorChoice, now_ms: i64) -> Result<Option<i64>, StoreError> {
    let mut tx = db.begin_write().await?;
    let vendor_id = match choice {
        VendorChoice::Existing(id) => {
            let sql = "SELECT id FROM vendors WHERE id = $1";
            let found: Option<i64> = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(id).fetch_optional(conn).await?);
            match found {
                Some(id) => id,
                None => return Ok(None),
            }
        }
        VendorChoice::New { name, default_currency } => {
            let sql = "INSERT INTO vendors (name, default_currency, created_at_ms) VALUES ($1, $2, $3) RETURNING id";
            on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(&name).bind(&default_currency).bind(now_ms).fetch_one(conn).await?)
        }
    };
    let sql = "UPDATE chats SET vendor_id = $1, mapped_at_ms = $2 WHERE id = $3";
    let updated = on_tx!(&mut tx, |conn| sqlx::query(sql).bind(vendor_id).bind(now_ms).bind(chat_id).execute(conn).await?.rows_affected());
    if updated == 0 {
        return Ok(None);
    }
    // Offers of senders with a vendor of their own keep it (store/sender_vendors.rs).
    let sql = "UPDATE offers SET vendor_id = $1, updated_at_ms = $2 WHERE chat_id = $3
                 AND (sender IS NULL OR NOT EXISTS (
                      SELECT 1 FROM chat_sender_vendors s WHERE s.chat_id = offers.chat_id AND s.sender = offers.sender))";
    on_tx!(&mut tx, |conn| sqlx::query(sql).bind(vendor_id).bind(now_ms).bind(chat_id).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(Some(vendor_id))
}

/// Diagnostics figures about pending extraction.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PendingExtraction {
    pub chats_pending: i64,
    pub oldest_pending_since_ms: Option<i64>,
}

pub async fn pending_extraction(db: &Database) -> Result<PendingExtraction, StoreError> {
    let sql = "SELECT COUNT(*) AS chats_pending, MIN(extract_pending_since_ms) AS oldest_pending_since_ms
               FROM chats WHERE extract_due_at_ms IS NOT NULL";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).fetch_one(pool).await?))
}
