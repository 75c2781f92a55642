//! Claiming chats for extraction. A claim is a lease on the chat row: one
//! replica extracts a chat at a time, and a replica that dies mid-run loses
//! its claim when the lease expires, while the chat stays due. Claims record
//! `extract_seq`, so finishing clears the due time only if no new message
//! arrived during the run. Every write here is a write transaction, so on
//! SQLite it queues on the write gate (store/write_gate.rs) rather than
//! polling SQLite's busy handler against the ingest writer.

use super::ExtractionError;
use crate::store::{
    Database,
    queries::on_pool,
    tx::{Tx, on_tx},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claim {
    pub chat_id: String,
    pub vendor_id: Option<i64>,
    pub extracted_through_pk: i64,
    pub extract_seq: i64,
    /// Senders of the chat with a vendor of their own (`extraction::attribution`).
    pub sender_vendor_count: i64,
}

const RETURNING: &str = "RETURNING id AS chat_id, vendor_id, extracted_through_pk, extract_seq, sender_vendor_count";

/// Claims up to `limit` due chats, oldest due first.
pub async fn claim_due(db: &Database, owner: &str, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<Claim>, ExtractionError> {
    let pick = "SELECT id FROM chats
                WHERE extract_due_at_ms <= $3
                  AND (extract_claimed_by IS NULL OR extract_claim_expires_at_ms < $3)
                ORDER BY extract_due_at_ms LIMIT $4";
    // PostgreSQL: skip rows another replica is claiming right now.
    let pick = if db.is_postgres() { format!("{pick} FOR UPDATE SKIP LOCKED") } else { pick.to_owned() };
    let sql = format!(
        "UPDATE chats SET extract_claimed_by = $1, extract_claim_expires_at_ms = $2
         WHERE id IN ({pick}) {RETURNING}"
    );
    let mut tx = db.begin_write().await?;
    let claims = on_tx!(&mut tx, |conn| sqlx::query_as(&sql)
        .bind(owner)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(conn)
        .await?);
    tx.commit().await?;
    Ok(claims)
}

/// Claims one chat whether due or not (manual runs). `None` when the chat is
/// unknown or another run holds it.
pub async fn claim_chat(db: &Database, chat_id: &str, owner: &str, now_ms: i64, lease_ms: i64) -> Result<Option<Claim>, ExtractionError> {
    let sql = format!(
        "UPDATE chats SET extract_claimed_by = $1, extract_claim_expires_at_ms = $2
         WHERE id = $3 AND (extract_claimed_by IS NULL OR extract_claim_expires_at_ms < $4) {RETURNING}"
    );
    let mut tx = db.begin_write().await?;
    let claim = on_tx!(&mut tx, |conn| sqlx::query_as(&sql)
        .bind(owner)
        .bind(now_ms + lease_ms)
        .bind(chat_id)
        .bind(now_ms)
        .fetch_optional(conn)
        .await?);
    tx.commit().await?;
    Ok(claim)
}

pub async fn chat_exists(db: &Database, chat_id: &str) -> Result<bool, ExtractionError> {
    let sql = "SELECT COUNT(*) FROM chats WHERE id = $1";
    let count: i64 = on_pool!(db, |pool| sqlx::query_scalar(sql).bind(chat_id).fetch_one(pool).await?);
    Ok(count > 0)
}

pub async fn renew(db: &Database, claim: &Claim, owner: &str, expires_at_ms: i64) -> Result<(), ExtractionError> {
    let sql = "UPDATE chats SET extract_claim_expires_at_ms = $1 WHERE id = $2 AND extract_claimed_by = $3";
    let mut tx = db.begin_write().await?;
    on_tx!(&mut tx, |conn| sqlx::query(sql).bind(expires_at_ms).bind(&claim.chat_id).bind(owner).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(())
}

/// Releases the claim; clears the due time unless a new message arrived.
pub async fn finish(db: &Database, claim: &Claim, owner: &str, now_ms: i64) -> Result<(), ExtractionError> {
    let mut tx = db.begin_write().await?;
    finish_in(&mut tx, claim, owner, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

/// [`finish`] inside the caller's transaction, so a group of chats commits
/// its offers and its claims together.
pub async fn finish_in(tx: &mut Tx, claim: &Claim, owner: &str, now_ms: i64) -> Result<(), ExtractionError> {
    let settled = "UPDATE chats SET extract_claimed_by = NULL, extract_claim_expires_at_ms = NULL,
                       extract_due_at_ms = NULL, extract_pending_since_ms = NULL, last_extracted_at_ms = $1
                   WHERE id = $2 AND extract_claimed_by = $3 AND extract_seq = $4";
    let cleared = on_tx!(tx, |conn| sqlx::query(settled)
        .bind(now_ms)
        .bind(&claim.chat_id)
        .bind(owner)
        .bind(claim.extract_seq)
        .execute(conn)
        .await?
        .rows_affected());
    if cleared == 0 {
        // A message arrived during the run: release the claim, keep the chat due.
        release_in(tx, claim, owner, None, now_ms).await?;
    }
    Ok(())
}

/// Releases the claim and keeps the chat due (at `retry_at_ms` if given).
pub async fn release(db: &Database, claim: &Claim, owner: &str, retry_at_ms: Option<i64>, now_ms: i64) -> Result<(), ExtractionError> {
    let mut tx = db.begin_write().await?;
    release_in(&mut tx, claim, owner, retry_at_ms, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

async fn release_in(tx: &mut Tx, claim: &Claim, owner: &str, retry_at_ms: Option<i64>, now_ms: i64) -> Result<(), ExtractionError> {
    let sql = "UPDATE chats SET extract_claimed_by = NULL, extract_claim_expires_at_ms = NULL,
                   extract_due_at_ms = COALESCE($1, extract_due_at_ms), last_extracted_at_ms = $2
               WHERE id = $3 AND extract_claimed_by = $4";
    on_tx!(tx, |conn| sqlx::query(sql).bind(retry_at_ms).bind(now_ms).bind(&claim.chat_id).bind(owner).execute(conn).await?.rows_affected());
    Ok(())
}

/// When the next unclaimed chat falls due, if any.
pub async fn next_due_at(db: &Database, now_ms: i64) -> Result<Option<i64>, ExtractionError> {
    let sql = "SELECT MIN(extract_due_at_ms) FROM chats
               WHERE extract_due_at_ms IS NOT NULL
                 AND (extract_claimed_by IS NULL OR extract_claim_expires_at_ms < $1)";
    Ok(on_pool!(db, |pool| sqlx::query_scalar(sql).bind(now_ms).fetch_one(pool).await?))
}
