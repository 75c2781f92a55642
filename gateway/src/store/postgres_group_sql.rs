//! The statements of one PostgreSQL ingest group ([`super::postgres_writer`] runs them in one
//! transaction): the chats it touches, its messages through `soko_store_messages` (arrays, one
//! round trip whatever the group's size), its summary written to the shared chat, client and
//! counter rows or appended as an `ingest_deltas` row, and each batch's answer.

use sqlx::{Postgres, Transaction};

use super::{
    StoreError,
    deliveries::{self, Claim},
    group::{GroupSummary, MessageOutcome},
    summary_fold,
};
use crate::{domain::PreparedBatch, time::now_ms};

pub(super) async fn append_delta(transaction: &mut Transaction<'_, Postgres>, summary: &GroupSummary) -> Result<(), StoreError> {
    let totals = summary.totals;
    sqlx::query("INSERT INTO ingest_deltas (accepted, created, deduped, body) VALUES ($1, $2, $3, $4)")
        .bind(totals.accepted)
        .bind(totals.created)
        .bind(totals.deduped)
        .bind(summary_fold::encode(summary)?)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// One batch's answer, and whether it stored anything.
pub(super) enum Answer {
    Stored(Vec<MessageOutcome>),
    Replayed(Vec<MessageOutcome>),
}

impl Answer {
    pub(super) fn stored(&self) -> Option<&[MessageOutcome]> {
        match self {
            Answer::Stored(outcomes) => Some(outcomes),
            Answer::Replayed(_) => None,
        }
    }

    pub(super) fn into_outcomes(self) -> Vec<MessageOutcome> {
        match self {
            Answer::Stored(outcomes) | Answer::Replayed(outcomes) => outcomes,
        }
    }
}

/// Puts the stored batches' outcomes (in order) back beside the replays.
pub(super) fn answers_by_claim(claims: Vec<Claim>, stored: Vec<Vec<MessageOutcome>>) -> Result<Vec<Answer>, StoreError> {
    let mut stored = stored.into_iter();
    let mut answers: Vec<Answer> = Vec::with_capacity(claims.len());
    for claim in claims {
        let answer = match claim {
            Claim::Store => Answer::Stored(
                stored.next().ok_or_else(|| StoreError::Unavailable("store function answered too few batches".into()))?,
            ),
            Claim::Replay(first) => Answer::Replayed(first),
            Claim::SameAs(index) => match answers.get(index) {
                Some(Answer::Stored(first) | Answer::Replayed(first)) => Answer::Replayed(deliveries::as_duplicates(first)),
                None => return Err(StoreError::Unavailable("a redelivery precedes its first delivery".into())),
            },
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// Messages reference their chat, so chats exist before the messages go in.
pub(super) async fn ensure_chats(transaction: &mut Transaction<'_, Postgres>, batches: &[&PreparedBatch]) -> Result<(), StoreError> {
    let mut chats: Vec<(String, String, i64)> = batches
        .iter()
        .flat_map(|b| b.messages.iter().map(move |m| (m.chat_id.clone(), m.chat_title.clone(), b.received_at_ms)))
        .collect();
    chats.sort_by(|a, b| a.0.cmp(&b.0));
    chats.dedup_by(|a, b| a.0 == b.0);
    let (ids, (titles, times)): (Vec<String>, (Vec<String>, Vec<i64>)) =
        chats.into_iter().map(|(id, title, at)| (id, (title, at))).unzip();
    sqlx::query(
        "INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $3::bigint[])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&titles)
    .bind(&times)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

pub(super) async fn store_messages(
    transaction: &mut Transaction<'_, Postgres>,
    batches: &[&PreparedBatch],
    window_ms: i64,
) -> Result<Vec<Vec<MessageOutcome>>, StoreError> {
    let all = || batches.iter().flat_map(|b| b.messages.iter().map(move |m| (b, m)));
    // Messages the Redis fast path proved to be duplicates skip the function.
    let count = all().filter(|(_, m)| m.known_duplicate_of.is_none()).count();
    let mut columns = MessageColumns::with_capacity(count);
    for (batch, message) in all().filter(|(_, m)| m.known_duplicate_of.is_none()) {
        columns.push(batch, message);
    }
    let received_at = batches.iter().map(|b| b.received_at_ms).max().unwrap_or_else(now_ms);
    let mut rows: Vec<(i32, bool, Option<i64>)> = Vec::new();
    if count > 0 {
        rows = sqlx::query_as(
            "SELECT ord, created, message_pk FROM soko_store_messages($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(received_at - window_ms)
        .bind(received_at)
        .bind(&columns.chat_id)
        .bind(&columns.client_id)
        .bind(&columns.request_id)
        .bind(&columns.message_id)
        .bind(&columns.message_key)
        .bind(&columns.sender)
        .bind(&columns.sender_name)
        .bind(&columns.text)
        .bind(&columns.media_json)
        .bind(&columns.content_hash)
        .bind(&columns.dedupe_by_content)
        .bind(&columns.upstream_ts_ms)
        .fetch_all(&mut **transaction)
        .await?;
    }
    if rows.len() != count {
        return Err(StoreError::Unavailable(format!("store function answered {} of {count} rows", rows.len())));
    }
    rows.sort_by_key(|row| row.0);
    let mut stored = rows.into_iter().map(|(_, created, message_pk)| MessageOutcome { created, message_pk });
    let mut outcome = |message: &crate::domain::PreparedMessage| match message.known_duplicate_of {
        Some(pk) => Some(MessageOutcome { created: false, message_pk: Some(pk) }),
        None => stored.next(),
    };
    batches
        .iter()
        .map(|b| b.messages.iter().map(&mut outcome).collect::<Option<Vec<_>>>())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| StoreError::Unavailable("store function answered too few rows".into()))
}

#[derive(Default)]
struct MessageColumns {
    chat_id: Vec<String>,
    client_id: Vec<String>,
    request_id: Vec<String>,
    message_id: Vec<Option<String>>,
    message_key: Vec<Option<Vec<u8>>>,
    sender: Vec<Option<String>>,
    sender_name: Vec<Option<String>>,
    text: Vec<Option<String>>,
    media_json: Vec<Option<String>>,
    content_hash: Vec<Vec<u8>>,
    dedupe_by_content: Vec<bool>,
    upstream_ts_ms: Vec<Option<i64>>,
}

impl MessageColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            chat_id: Vec::with_capacity(n),
            client_id: Vec::with_capacity(n),
            request_id: Vec::with_capacity(n),
            message_id: Vec::with_capacity(n),
            message_key: Vec::with_capacity(n),
            sender: Vec::with_capacity(n),
            sender_name: Vec::with_capacity(n),
            text: Vec::with_capacity(n),
            media_json: Vec::with_capacity(n),
            content_hash: Vec::with_capacity(n),
            dedupe_by_content: Vec::with_capacity(n),
            upstream_ts_ms: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, batch: &PreparedBatch, message: &crate::domain::PreparedMessage) {
        self.chat_id.push(message.chat_id.clone());
        self.client_id.push(batch.client_id.clone());
        self.request_id.push(batch.request_id.clone());
        self.message_id.push(message.message_id.clone());
        self.message_key.push(message.message_key.map(|k| k.to_vec()));
        self.sender.push(message.sender.clone());
        self.sender_name.push(message.sender_name.clone());
        self.text.push(message.text.clone());
        self.media_json.push(message.media_json.clone());
        self.content_hash.push(message.content_hash.to_vec());
        self.dedupe_by_content.push(message.dedupe_by_content);
        self.upstream_ts_ms.push(message.upstream_ts_ms);
    }
}

pub(super) async fn write_summary(
    transaction: &mut Transaction<'_, Postgres>,
    summary: &GroupSummary,
    max_wait_ms: i64,
) -> Result<(), StoreError> {
    let chats = &summary.chats;
    // Debounce with a ceiling, as on SQLite: never past first pending + max wait.
    sqlx::query(
        "INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms, extract_due_at_ms,
                            extract_pending_since_ms, accepted_count, created_count, deduped_count)
         SELECT id, title, first_at, last_at, LEAST(due, pending + $10), pending, accepted, created, deduped
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                     $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
              AS d(id, title, first_at, last_at, due, pending, accepted, created, deduped)
         ON CONFLICT (id) DO UPDATE SET
             title = excluded.title,
             last_message_at_ms = GREATEST(chats.last_message_at_ms, excluded.last_message_at_ms),
             extract_pending_since_ms = COALESCE(chats.extract_pending_since_ms, excluded.extract_pending_since_ms),
             extract_due_at_ms = CASE
                 WHEN excluded.extract_pending_since_ms IS NULL THEN chats.extract_due_at_ms
                 ELSE LEAST(excluded.extract_due_at_ms,
                            COALESCE(chats.extract_pending_since_ms, excluded.extract_pending_since_ms) + $10) END,
             extract_seq = chats.extract_seq + CASE WHEN excluded.created_count > 0 THEN 1 ELSE 0 END,
             accepted_count = chats.accepted_count + excluded.accepted_count,
             created_count = chats.created_count + excluded.created_count,
             deduped_count = chats.deduped_count + excluded.deduped_count",
    )
    .bind(chats.iter().map(|c| c.chat_id.clone()).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.title.clone()).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.first_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.last_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.extract_due_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.first_created_at_ms).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.accepted).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.created).collect::<Vec<_>>())
    .bind(chats.iter().map(|c| c.deduped).collect::<Vec<_>>())
    .bind(max_wait_ms)
    .execute(&mut **transaction)
    .await?;
    let events = &summary.events;
    sqlx::query(
        "INSERT INTO event_log (at_ms, kind, chat_id, request_id, detail)
         SELECT at, 'ingest', chat, request, detail FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[])
             AS e(at, chat, request, detail)",
    )
    .bind(events.iter().map(|e| e.at_ms).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.chat_id.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.request_id.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.detail.clone()).collect::<Vec<_>>())
    .execute(&mut **transaction)
    .await?;
    let clients = &summary.clients;
    sqlx::query(
        "INSERT INTO clients (id, first_seen_at_ms, last_seen_at_ms, request_count, message_count)
         SELECT id, at, at, requests, messages FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
             AS d(id, at, requests, messages)
         ON CONFLICT (id) DO UPDATE SET
             last_seen_at_ms = GREATEST(clients.last_seen_at_ms, excluded.last_seen_at_ms),
             request_count = clients.request_count + excluded.request_count,
             message_count = clients.message_count + excluded.message_count",
    )
    .bind(clients.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>())
    .bind(clients.iter().map(|c| c.at_ms).collect::<Vec<_>>())
    .bind(clients.iter().map(|c| c.requests).collect::<Vec<_>>())
    .bind(clients.iter().map(|c| c.messages).collect::<Vec<_>>())
    .execute(&mut **transaction)
    .await?;
    let totals = summary.totals;
    super::queries::bump_counters_pg(
        transaction,
        &[("accepted", totals.accepted), ("created", totals.created), ("deduped", totals.deduped)],
    )
    .await
}
