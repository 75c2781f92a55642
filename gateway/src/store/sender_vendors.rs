//! Vendors per sender in group chats: a chat's default vendor is
//! `chats.vendor_id`; a sender of the chat may have a vendor of their own in
//! `chat_sender_vendors`, and that one wins. This module reads a chat's
//! senders (messages, offers, mapping) for the admin page, loads the mappings
//! extraction resolves against, and changes mappings: the mapping rows, the
//! chat's `sender_vendor_count` and the `vendor_id` of exactly the affected
//! offers are written in one transaction, so a change is durable and running
//! it twice changes nothing the second time.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Database, StoreError, queries::on_pool, tx::on_tx};

/// One sender of a chat, as the admin page lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatSender {
    /// E.164.
    pub sender: String,
    /// The latest display name the sender used in the chat, if any.
    pub sender_name: Option<String>,
    pub message_count: i64,
    pub offer_count: i64,
    /// The sender's own vendor, or null when the chat's default applies.
    pub vendor_id: Option<i64>,
    pub vendor_name: Option<String>,
}

/// A sender's own vendor, as extraction needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SenderVendor {
    pub sender: String,
    pub vendor_id: i64,
    pub default_currency: Option<String>,
}

/// Mappings of one chat, for extraction (only read when the chat has any).
pub async fn for_chat(db: &Database, chat_id: &str) -> Result<Vec<SenderVendor>, StoreError> {
    let sql = "SELECT s.sender, s.vendor_id, v.default_currency
                 FROM chat_sender_vendors s JOIN vendors v ON v.id = s.vendor_id
                WHERE s.chat_id = $1";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql).bind(chat_id).fetch_all(pool).await?))
}

#[derive(sqlx::FromRow)]
struct Count {
    sender: String,
    sender_name: Option<String>,
    count: i64,
}

#[derive(sqlx::FromRow)]
struct Mapped {
    sender: String,
    vendor_id: i64,
    vendor_name: String,
}

/// The chat's phone senders with their message and offer counts and mapping,
/// most messages first (at most `limit`).
pub async fn chat_senders(db: &Database, chat_id: &str, limit: usize) -> Result<Vec<ChatSender>, StoreError> {
    let messages_sql = match db {
        // SQLite finds a chat's messages through chat_messages plus the unindexed tail.
        Database::Sqlite(_) => {
            "SELECT m.sender AS sender, MAX(m.sender_name) AS sender_name, COUNT(*) AS count
               FROM (SELECT message_pk FROM chat_messages WHERE chat_id = $1
                     UNION ALL
                     SELECT id FROM messages WHERE id > (SELECT through_pk FROM chat_messages_progress) AND chat_id = $1) ids
               JOIN messages m ON m.id = ids.message_pk
              WHERE m.sender LIKE '+%'
              GROUP BY m.sender"
        }
        Database::Postgres(_) => {
            "SELECT sender, MAX(sender_name) AS sender_name, COUNT(*) AS count
               FROM messages WHERE chat_id = $1 AND sender LIKE '+%' GROUP BY sender"
        }
    };
    let offers_sql = "SELECT sender, NULL AS sender_name, COUNT(*) AS count
                        FROM offers WHERE chat_id = $1 AND sender IS NOT NULL GROUP BY sender";
    let mapped_sql = "SELECT s.sender, s.vendor_id, v.name AS vendor_name
                        FROM chat_sender_vendors s JOIN vendors v ON v.id = s.vendor_id WHERE s.chat_id = $1";
    let messages: Vec<Count> = on_pool!(db, |pool| sqlx::query_as(messages_sql).bind(chat_id).fetch_all(pool).await?);
    let offers: Vec<Count> = on_pool!(db, |pool| sqlx::query_as(offers_sql).bind(chat_id).fetch_all(pool).await?);
    let mapped: Vec<Mapped> = on_pool!(db, |pool| sqlx::query_as(mapped_sql).bind(chat_id).fetch_all(pool).await?);

    let mut senders: BTreeMap<String, ChatSender> = BTreeMap::new();
    for row in messages {
        let sender = entry(&mut senders, &row.sender);
        sender.message_count = row.count;
        sender.sender_name = row.sender_name;
    }
    for row in offers {
        entry(&mut senders, &row.sender).offer_count = row.count;
    }
    for row in mapped {
        let sender = entry(&mut senders, &row.sender);
        sender.vendor_id = Some(row.vendor_id);
        sender.vendor_name = Some(row.vendor_name);
    }
    let mut list: Vec<ChatSender> = senders.into_values().collect();
    list.sort_by(|a, b| b.message_count.cmp(&a.message_count).then_with(|| a.sender.cmp(&b.sender)));
    list.truncate(limit);
    Ok(list)
}

fn entry<'a>(senders: &'a mut BTreeMap<String, ChatSender>, sender: &str) -> &'a mut ChatSender {
    senders.entry(sender.to_owned()).or_insert_with(|| ChatSender {
        sender: sender.to_owned(),
        sender_name: None,
        message_count: 0,
        offer_count: 0,
        vendor_id: None,
        vendor_name: None,
    })
}

/// Why a mapping change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum MappingRefusal {
    UnknownChat,
    UnknownVendor,
}

/// Sets (`Some`) or clears (`None`) the vendor of each sender of the chat, and
/// re-attributes those senders' offers (to their vendor, or back to the chat's
/// default) in the same transaction. Returns the senders whose mapping changed;
/// senders whose mapping already was as asked are left alone.
pub async fn set_mappings(
    db: &Database,
    chat_id: &str,
    mappings: &[(String, Option<i64>)],
    now_ms: i64,
) -> Result<Result<Vec<String>, MappingRefusal>, StoreError> {
    let mut tx = db.begin_write().await?;
    let sql = "SELECT vendor_id FROM chats WHERE id = $1";
    let chat: Option<Option<i64>> = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(chat_id).fetch_optional(conn).await?);
    let Some(chat_vendor) = chat else { return Ok(Err(MappingRefusal::UnknownChat)) };
    let mut changed = Vec::new();
    for (sender, vendor) in mappings {
        if let Some(vendor) = vendor {
            let sql = "SELECT COUNT(*) FROM vendors WHERE id = $1";
            let known: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(*vendor).fetch_one(conn).await?);
            if known == 0 {
                return Ok(Err(MappingRefusal::UnknownVendor));
            }
        }
        let sql = "SELECT vendor_id FROM chat_sender_vendors WHERE chat_id = $1 AND sender = $2";
        let current: Option<i64> =
            on_tx!(&mut tx, |conn| sqlx::query_scalar(sql).bind(chat_id).bind(sender).fetch_optional(conn).await?);
        if current == *vendor {
            continue;
        }
        match vendor {
            Some(vendor) => {
                let sql = "INSERT INTO chat_sender_vendors (chat_id, sender, vendor_id, mapped_at_ms) VALUES ($1, $2, $3, $4)
                           ON CONFLICT (chat_id, sender) DO UPDATE SET vendor_id = excluded.vendor_id, mapped_at_ms = excluded.mapped_at_ms";
                on_tx!(&mut tx, |conn| sqlx::query(sql).bind(chat_id).bind(sender).bind(*vendor).bind(now_ms).execute(conn).await?.rows_affected());
            }
            None => {
                let sql = "DELETE FROM chat_sender_vendors WHERE chat_id = $1 AND sender = $2";
                on_tx!(&mut tx, |conn| sqlx::query(sql).bind(chat_id).bind(sender).execute(conn).await?.rows_affected());
            }
        }
        let attributed = vendor.or(chat_vendor);
        let sql = "UPDATE offers SET vendor_id = $1, updated_at_ms = $2 WHERE chat_id = $3 AND sender = $4";
        on_tx!(&mut tx, |conn| sqlx::query(sql).bind(attributed).bind(now_ms).bind(chat_id).bind(sender).execute(conn).await?.rows_affected());
        changed.push(sender.clone());
    }
    let sql = "UPDATE chats SET sender_vendor_count = (SELECT COUNT(*) FROM chat_sender_vendors WHERE chat_id = $1) WHERE id = $1";
    on_tx!(&mut tx, |conn| sqlx::query(sql).bind(chat_id).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(Ok(changed))
}
