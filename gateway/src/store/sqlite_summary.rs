//! How the embedded writer applies a group's summary (or a fold of pending deltas) to the shared
//! rows: each chat's counts and debounced extraction due time, the ingest events, each client's
//! counts and last-seen time, and the totals.

use rusqlite::params;

use super::group::GroupSummary;

pub(super) fn write_summary(transaction: &rusqlite::Transaction<'_>, summary: &GroupSummary, max_wait_ms: i64) -> rusqlite::Result<()> {
    // Debounce with a ceiling: each new message pushes the due time out, but
    // never past the first pending message + max wait, so a chat that never
    // goes quiet is still extracted.
    let mut chat = transaction.prepare_cached(
        "INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms, extract_due_at_ms,
                            extract_pending_since_ms, accepted_count, created_count, deduped_count)
         VALUES (?1, ?2, ?3, ?4, MIN(?5, ?6 + ?10), ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET
             title = excluded.title,
             last_message_at_ms = MAX(chats.last_message_at_ms, excluded.last_message_at_ms),
             extract_pending_since_ms = COALESCE(chats.extract_pending_since_ms, excluded.extract_pending_since_ms),
             extract_due_at_ms = CASE
                 WHEN ?5 IS NULL THEN chats.extract_due_at_ms
                 ELSE MIN(?5, COALESCE(chats.extract_pending_since_ms, ?6) + ?10) END,
             extract_seq = chats.extract_seq + (excluded.created_count > 0),
             accepted_count = chats.accepted_count + excluded.accepted_count,
             created_count = chats.created_count + excluded.created_count,
             deduped_count = chats.deduped_count + excluded.deduped_count",
    )?;
    for delta in &summary.chats {
        chat.execute(params![
            delta.chat_id, delta.title, delta.first_at_ms, delta.last_at_ms, delta.extract_due_at_ms,
            delta.first_created_at_ms, delta.accepted, delta.created, delta.deduped, max_wait_ms
        ])?;
    }
    let mut event = transaction.prepare_cached(
        "INSERT INTO event_log (at_ms, kind, chat_id, request_id, detail) VALUES (?1, 'ingest', ?2, ?3, ?4)",
    )?;
    for batch in &summary.events {
        event.execute(params![batch.at_ms, batch.chat_id, batch.request_id, batch.detail])?;
    }
    let mut client = transaction.prepare_cached(
        "INSERT INTO clients (id, first_seen_at_ms, last_seen_at_ms, request_count, message_count)
         VALUES (?1, ?2, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET
             last_seen_at_ms = MAX(clients.last_seen_at_ms, excluded.last_seen_at_ms),
             request_count = clients.request_count + excluded.request_count,
             message_count = clients.message_count + excluded.message_count",
    )?;
    for delta in &summary.clients {
        client.execute(params![delta.client_id, delta.at_ms, delta.requests, delta.messages])?;
    }
    let mut bump = transaction.prepare_cached("UPDATE counters SET value = value + ?2 WHERE name = ?1")?;
    let totals = summary.totals;
    for (name, delta) in [("accepted", totals.accepted), ("created", totals.created), ("deduped", totals.deduped)] {
        if delta != 0 {
            bump.execute(params![name, delta])?;
        }
    }
    Ok(())
}
