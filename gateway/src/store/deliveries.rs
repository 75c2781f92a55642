//! Whole-request idempotency for Standard Webhooks deliveries: the
//! `webhook_deliveries` table, keyed by `webhook-id`, holds the first
//! answer's outcome. Both writers consult it inside the group commit that
//! stores the batch, so a delivery and its record commit together: a second
//! delivery of the same id within the window is answered from the record,
//! every message reported as a duplicate of what the first one stored, and
//! stores nothing. On PostgreSQL the claim is an upsert on the primary key,
//! so replicas that race on one id serialise on its row.

use rusqlite::{OptionalExtension, params};
use sqlx::{Postgres, Transaction};

use super::{StoreError, group::MessageOutcome};

/// What a group commit does with one batch of the group.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Not a webhook delivery, or the first one of its id: store it.
    Store,
    /// A delivery seen before: answer this and store nothing.
    Replay(Vec<MessageOutcome>),
    /// The same id as an earlier batch of this group: answer that batch's
    /// outcome as duplicates.
    SameAs(usize),
}

/// The first answer, replayed: every message a duplicate of what it was.
pub fn as_duplicates(first: &[MessageOutcome]) -> Vec<MessageOutcome> {
    first.iter().map(|outcome| MessageOutcome { created: false, message_pk: outcome.message_pk }).collect()
}

fn encode_pks(outcomes: &[MessageOutcome]) -> String {
    serde_json::to_string(&outcomes.iter().map(|o| o.message_pk).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

fn decode_pks(json: &str) -> Vec<MessageOutcome> {
    let pks: Vec<Option<i64>> = serde_json::from_str(json).unwrap_or_default();
    pks.into_iter().map(|message_pk| MessageOutcome { created: false, message_pk }).collect()
}

fn counts(outcomes: &[MessageOutcome]) -> (i64, i64, i64) {
    let created = outcomes.iter().filter(|o| o.created).count() as i64;
    (outcomes.len() as i64, created, outcomes.len() as i64 - created)
}

// --- SQLite: the writer thread is the only writer, so a read then a write is exact.

/// The first answer for `id`, if it was delivered at or after `horizon_ms`.
pub fn find_sqlite(
    transaction: &rusqlite::Transaction<'_>,
    id: &str,
    horizon_ms: i64,
) -> rusqlite::Result<Option<Vec<MessageOutcome>>> {
    let mut find = transaction
        .prepare_cached("SELECT message_pks FROM webhook_deliveries WHERE webhook_id = ?1 AND received_at_ms >= ?2")?;
    let found: Option<String> = find.query_row(params![id, horizon_ms], |row| row.get(0)).optional()?;
    Ok(found.map(|json| decode_pks(&json)))
}

/// Records the answer of the first delivery of `id` (replacing an expired record).
pub fn record_sqlite(
    transaction: &rusqlite::Transaction<'_>,
    id: &str,
    at_ms: i64,
    outcomes: &[MessageOutcome],
) -> rusqlite::Result<()> {
    let (accepted, created, deduped) = counts(outcomes);
    let mut record = transaction.prepare_cached(
        "INSERT OR REPLACE INTO webhook_deliveries (webhook_id, received_at_ms, accepted, created, deduped, message_pks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    record.execute(params![id, at_ms, accepted, created, deduped, encode_pks(outcomes)])?;
    Ok(())
}

pub fn prune_sqlite(transaction: &rusqlite::Transaction<'_>, horizon_ms: i64) -> rusqlite::Result<()> {
    transaction.prepare_cached("DELETE FROM webhook_deliveries WHERE received_at_ms < ?1")?.execute([horizon_ms])?;
    Ok(())
}

// --- PostgreSQL: several writers (replicas, concurrent groups) race on one id.

/// Claims every delivery id of the group, in id order (so two groups never
/// wait on each other's rows in opposite orders). A claimed row blocks other
/// transactions that claim the same id until this one commits; they then
/// read the first answer. Expired rows are taken over.
pub async fn claim_pg(
    transaction: &mut Transaction<'_, Postgres>,
    ids: &[Option<&str>],
    at_ms: i64,
    horizon_ms: i64,
) -> Result<Vec<Claim>, StoreError> {
    let mut claims = vec![Claim::Store; ids.len()];
    let mut order: Vec<(usize, &str)> = ids.iter().enumerate().filter_map(|(i, id)| id.map(|id| (i, id))).collect();
    order.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    let mut previous: Option<(usize, &str)> = None;
    for (index, id) in order {
        if let Some((first, first_id)) = previous.filter(|(_, first_id)| *first_id == id) {
            claims[index] = Claim::SameAs(first);
            previous = Some((first, first_id));
            continue;
        }
        previous = Some((index, id));
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (webhook_id, received_at_ms, accepted, created, deduped, message_pks)
             VALUES ($1, $2, 0, 0, 0, '[]')
             ON CONFLICT (webhook_id) DO UPDATE SET
                 received_at_ms = excluded.received_at_ms, accepted = 0, created = 0, deduped = 0, message_pks = '[]'
             WHERE webhook_deliveries.received_at_ms < $3
             RETURNING webhook_id",
        )
        .bind(id)
        .bind(at_ms)
        .bind(horizon_ms)
        .fetch_optional(&mut **transaction)
        .await?;
        if claimed.is_none() {
            let json: String = sqlx::query_scalar("SELECT message_pks FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(id)
                .fetch_one(&mut **transaction)
                .await?;
            claims[index] = Claim::Replay(decode_pks(&json));
        }
    }
    Ok(claims)
}

/// Fills in the answer of a delivery claimed in this transaction.
pub async fn record_pg(
    transaction: &mut Transaction<'_, Postgres>,
    id: &str,
    outcomes: &[MessageOutcome],
) -> Result<(), StoreError> {
    let (accepted, created, deduped) = counts(outcomes);
    sqlx::query(
        "UPDATE webhook_deliveries SET accepted = $2, created = $3, deduped = $4, message_pks = $5 WHERE webhook_id = $1",
    )
    .bind(id)
    .bind(accepted)
    .bind(created)
    .bind(deduped)
    .bind(encode_pks(outcomes))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

pub async fn prune_pg(transaction: &mut Transaction<'_, Postgres>, horizon_ms: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM webhook_deliveries WHERE received_at_ms < $1")
        .bind(horizon_ms)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_reports_the_first_answer_as_duplicates() {
        let first = [
            MessageOutcome { created: true, message_pk: Some(7) },
            MessageOutcome { created: false, message_pk: Some(3) },
            MessageOutcome { created: false, message_pk: None },
        ];
        assert_eq!(counts(&first), (3, 1, 2));
        let replayed = decode_pks(&encode_pks(&first));
        assert_eq!(replayed, as_duplicates(&first));
        assert!(replayed.iter().all(|o| !o.created));
        assert_eq!(replayed.iter().map(|o| o.message_pk).collect::<Vec<_>>(), vec![Some(7), Some(3), None]);
    }

    #[test]
    fn the_sqlite_record_is_found_within_the_window_only() -> rusqlite::Result<()> {
        let mut connection = rusqlite::Connection::open_in_memory()?;
        connection.execute_batch(include_str!("../../../migrations/sqlite/0010_webhook_deliveries.sql"))?;
        let transaction = connection.transaction()?;
        let first = [MessageOutcome { created: true, message_pk: Some(1) }];
        record_sqlite(&transaction, "msg_1", 1_000, &first)?;
        assert_eq!(find_sqlite(&transaction, "msg_1", 1_000)?, Some(as_duplicates(&first)));
        assert_eq!(find_sqlite(&transaction, "msg_1", 1_001)?, None, "expired");
        assert_eq!(find_sqlite(&transaction, "msg_2", 0)?, None);
        prune_sqlite(&transaction, 1_001)?;
        assert_eq!(find_sqlite(&transaction, "msg_1", 0)?, None, "pruned");
        Ok(())
    }
}
