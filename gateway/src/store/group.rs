//! What one group commit changes besides message rows: per-chat counters and
//! debounce times, per-client activity, and the persistent totals. Both
//! backends write the same summary, computed here once.

use std::collections::HashMap;

pub use crate::domain::MessageOutcome;
use crate::domain::PreparedBatch;

#[derive(Debug, Clone, PartialEq)]
pub struct ChatDelta {
    pub chat_id: String,
    pub title: String,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
    pub accepted: i64,
    pub created: i64,
    pub deduped: i64,
    /// Pushed to received + debounce when the group created a message here.
    pub extract_due_at_ms: Option<i64>,
    /// When the first message of this group that awaits extraction arrived.
    pub first_created_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientDelta {
    pub client_id: String,
    pub at_ms: i64,
    pub requests: i64,
    pub messages: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub accepted: i64,
    pub created: i64,
    pub deduped: i64,
}

/// One `ingest` line of the diagnostics event log per stored batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchEvent {
    pub at_ms: i64,
    pub request_id: String,
    /// The chat of the batch's first message.
    pub chat_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct GroupSummary {
    pub chats: Vec<ChatDelta>,
    pub clients: Vec<ClientDelta>,
    pub totals: Totals,
    pub events: Vec<BatchEvent>,
}

/// `outcomes[i]` belongs to `batches[i]`. Chats and clients come out sorted by
/// id, so concurrent writers on PostgreSQL lock rows in one order.
pub fn summarize(batches: &[&PreparedBatch], outcomes: &[Vec<MessageOutcome>], debounce_ms: i64) -> GroupSummary {
    let mut chats: HashMap<&str, ChatDelta> = HashMap::new();
    let mut clients: HashMap<&str, ClientDelta> = HashMap::new();
    let mut totals = Totals::default();
    let mut events = Vec::with_capacity(batches.len());
    for (batch, outcomes) in batches.iter().zip(outcomes) {
        let at = batch.received_at_ms;
        let created = outcomes.iter().filter(|o| o.created).count();
        events.push(BatchEvent {
            at_ms: at,
            request_id: batch.request_id.clone(),
            chat_id: batch.messages.first().map(|m| m.chat_id.clone()),
            detail: serde_json::json!({
                "client_id": batch.client_id,
                "accepted": outcomes.len(),
                "created": created,
                "deduped": outcomes.len() - created,
            })
            .to_string(),
        });
        let client = clients.entry(batch.client_id.as_str()).or_insert_with(|| ClientDelta {
            client_id: batch.client_id.clone(),
            at_ms: at,
            requests: 0,
            messages: 0,
        });
        client.requests += 1;
        client.messages += batch.messages.len() as i64;
        client.at_ms = client.at_ms.max(at);
        for (message, outcome) in batch.messages.iter().zip(outcomes) {
            let chat = chats.entry(message.chat_id.as_str()).or_insert_with(|| ChatDelta {
                chat_id: message.chat_id.clone(),
                title: message.chat_title.clone(),
                first_at_ms: at,
                last_at_ms: at,
                accepted: 0,
                created: 0,
                deduped: 0,
                extract_due_at_ms: None,
                first_created_at_ms: None,
            });
            chat.title.clone_from(&message.chat_title);
            chat.first_at_ms = chat.first_at_ms.min(at);
            chat.last_at_ms = chat.last_at_ms.max(at);
            chat.accepted += 1;
            totals.accepted += 1;
            if outcome.created {
                chat.created += 1;
                totals.created += 1;
                chat.extract_due_at_ms = Some(chat.extract_due_at_ms.unwrap_or(i64::MIN).max(at + debounce_ms));
                chat.first_created_at_ms = Some(chat.first_created_at_ms.unwrap_or(i64::MAX).min(at));
            } else {
                chat.deduped += 1;
                totals.deduped += 1;
            }
        }
    }
    let mut chats: Vec<ChatDelta> = chats.into_values().collect();
    chats.sort_by(|a, b| a.chat_id.cmp(&b.chat_id));
    let mut clients: Vec<ClientDelta> = clients.into_values().collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    GroupSummary { chats, clients, totals, events }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PreparedMessage;

    fn message(chat: &str, title: &str) -> PreparedMessage {
        PreparedMessage {
            chat_id: chat.into(),
            chat_title: title.into(),
            sender: None,
            sender_name: None,
            message_id: None,
            message_key: None,
            text: None,
            media_json: None,
            content_hash: [0; 32],
            dedupe_by_content: true,
            upstream_ts_ms: None,
            known_duplicate_of: None,
        }
    }

    #[test]
    fn counts_per_chat_client_and_total() {
        let a = PreparedBatch { request_id: "r1".into(), client_id: "c".into(), received_at_ms: 1_000, messages: vec![message("x", "X"), message("y", "Y")], delivery_id: None };
        let b = PreparedBatch { request_id: "r2".into(), client_id: "c".into(), received_at_ms: 2_000, messages: vec![message("x", "X renamed")], delivery_id: None };
        let created = MessageOutcome { created: true, message_pk: Some(1) };
        let duplicate = MessageOutcome { created: false, message_pk: Some(1) };
        let summary = summarize(&[&a, &b], &[vec![created, duplicate], vec![created]], 10_000);
        assert_eq!(summary.totals, Totals { accepted: 3, created: 2, deduped: 1 });
        assert_eq!(summary.clients.len(), 1);
        assert_eq!((summary.clients[0].requests, summary.clients[0].messages, summary.clients[0].at_ms), (2, 3, 2_000));
        let x = &summary.chats[0];
        assert_eq!((x.chat_id.as_str(), x.title.as_str(), x.created, x.extract_due_at_ms), ("x", "X renamed", 2, Some(12_000)));
        assert_eq!(x.first_created_at_ms, Some(1_000));
        assert_eq!(summary.events.len(), 2);
        assert!(summary.events[0].detail.contains("\"deduped\":1"));
        let y = &summary.chats[1];
        assert_eq!((y.deduped, y.extract_due_at_ms), (1, None), "a chat with only duplicates is not rescheduled");
    }
}
