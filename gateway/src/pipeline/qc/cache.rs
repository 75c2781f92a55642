//! The LLM answer cache: answers by [`super::llm::content_hash`], reused until they expire (24 h
//! by default), so the same listing re-run by a heartbeat or a retry costs no provider call.
//!
//! With `REDIS_URL` set the answers live in Redis (`prefix:qc:<hash>`, `PX` = the TTL), shared by
//! every worker; the database table (`qc_answer_cache`, migration 0004) is the cache of the
//! embedded default and the fallback while Redis is unreachable ([`crate::redis_link`]).

use std::time::Duration;

use super::{Decision, QcDecision};
use crate::redis_link::{RedisLink, RedisUse};
use crate::store::queries::on_pool;
use crate::store::tx::{Tx, on_tx};
use crate::store::{Database, StoreError};

#[derive(sqlx::FromRow)]
struct Row {
    decision: String,
    confidence: f64,
    reason: String,
}

/// The cached answer, if one has not expired by `now_ms`.
pub async fn get(db: &Database, content_hash: &str, now_ms: i64) -> Result<Option<QcDecision>, StoreError> {
    let sql = "SELECT decision, confidence, reason FROM qc_answer_cache WHERE content_hash = $1 AND expires_at_ms > $2";
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(sql).bind(content_hash).bind(now_ms).fetch_optional(pool).await?);
    Ok(row.and_then(|r| Decision::parse(&r.decision).map(|d| QcDecision::new(d, r.confidence as f32, r.reason))))
}

/// Stores (or refreshes) an answer until `expires_at_ms`, and drops expired rows so the table stays small.
pub async fn put(
    tx: &mut Tx,
    content_hash: &str,
    provider: &str,
    decision: &QcDecision,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO qc_answer_cache (content_hash, provider, decision, confidence, reason, created_at_ms, expires_at_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (content_hash) DO UPDATE SET provider = excluded.provider, decision = excluded.decision,
                   confidence = excluded.confidence, reason = excluded.reason,
                   created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms";
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(content_hash)
        .bind(provider)
        .bind(decision.decision.as_str())
        .bind(f64::from(decision.confidence))
        .bind(&decision.reason)
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    let prune = "DELETE FROM qc_answer_cache WHERE expires_at_ms <= $1";
    on_tx!(tx, |conn| sqlx::query(prune).bind(now_ms).execute(&mut *conn).await?.rows_affected());
    Ok(())
}

/// An answer as stored in Redis.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    decision: String,
    confidence: f32,
    reason: String,
    provider: String,
}

/// The answer Redis holds for `content_hash`. `None` means "use the database": Redis is
/// unreachable (the link counts the fallback). An unreadable value counts as a miss.
pub async fn redis_get(link: &RedisLink, content_hash: &str) -> Option<Option<QcDecision>> {
    let key = link.key("qc", content_hash);
    let value = link
        .call(RedisUse::QcCache, |mut c| async move { redis::cmd("GET").arg(key).query_async::<Option<String>>(&mut c).await })
        .await?;
    let stored = value.and_then(|v| serde_json::from_str::<Stored>(&v).ok());
    Some(stored.and_then(|s| Decision::parse(&s.decision).map(|d| QcDecision::new(d, s.confidence, s.reason))))
}

/// Stores an answer in Redis for `ttl`; false when Redis is unreachable (store it in the database).
pub async fn redis_put(link: &RedisLink, content_hash: &str, provider: &str, decision: &QcDecision, ttl: Duration) -> bool {
    let stored = Stored {
        decision: decision.decision.as_str().to_owned(),
        confidence: decision.confidence,
        reason: decision.reason.clone(),
        provider: provider.to_owned(),
    };
    let Ok(value) = serde_json::to_string(&stored) else { return false };
    let key = link.key("qc", content_hash);
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    let set = link
        .call(RedisUse::QcCache, |mut c| async move {
            redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ttl_ms).query_async::<()>(&mut c).await
        })
        .await;
    set.is_some()
}
