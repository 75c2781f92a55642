//! What one group commit changes besides message rows: per-chat counters and
//! debounce times, per-client activity, and the persistent totals. Both
//! backends write the same summary, computed here once. Summaries merge
//! ([`GroupSummary::merge`]), so several commits' worth can be written as one
//! (`summary_fold.rs`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use crate::domain::MessageOutcome;
use crate::domain::PreparedBatch;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientDelta {
    pub client_id: String,
    pub at_ms: i64,
    pub requests: i64,
    pub messages: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub accepted: i64,
    pub created: i64,
    pub deduped: i64,
}

/// One `ingest` line of the diagnostics event log per stored batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEvent {
    pub at_ms: i64,
    pub request_id: String,
    /// The chat of the batch's first message.
    pub chat_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub chats: Vec<ChatDelta>,
    pub clients: Vec<ClientDelta>,
    pub totals: Totals,
    pub events: Vec<BatchEvent>,
}

impl GroupSummary {
    pub fn is_empty(&self) -> bool {
        self.chats.is_empty() && self.clients.is_empty() && self.events.is_empty() && self.totals == Totals::default()
    }

    /// Adds a later summary to this one, so that writing the result once
    /// leaves the rows as writing both in order would; the one difference is
    /// that a chat's `extract_seq` moves once, not once per summary (it only
    /// tells a running extraction that something new arrived).
    pub fn merge(&mut self, later: GroupSummary) {
        self.chats = merge_sorted(std::mem::take(&mut self.chats), later.chats, |c| c.chat_id.clone(), |into, c| {
            into.title = c.title;
            into.first_at_ms = into.first_at_ms.min(c.first_at_ms);
            into.last_at_ms = into.last_at_ms.max(c.last_at_ms);
            into.accepted += c.accepted;
            into.created += c.created;
            into.deduped += c.deduped;
            into.extract_due_at_ms = into.extract_due_at_ms.max(c.extract_due_at_ms);
            into.first_created_at_ms = match (into.first_created_at_ms, c.first_created_at_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        });
        self.clients = merge_sorted(std::mem::take(&mut self.clients), later.clients, |c| c.client_id.clone(), |into, c| {
            into.at_ms = into.at_ms.max(c.at_ms);
            into.requests += c.requests;
            into.messages += c.messages;
        });
        self.totals.accepted += later.totals.accepted;
        self.totals.created += later.totals.created;
        self.totals.deduped += later.totals.deduped;
        self.events.extend(later.events);
    }
}

/// Two lists sorted by key into one, combining the entries of equal keys.
fn merge_sorted<T>(a: Vec<T>, b: Vec<T>, key: impl Fn(&T) -> String, combine: impl Fn(&mut T, T)) -> Vec<T> {
    let mut merged: std::collections::BTreeMap<String, T> = std::collections::BTreeMap::new();
    for item in a.into_iter().chain(b) {
        match merged.entry(key(&item)) {
            std::collections::btree_map::Entry::Occupied(mut entry) => combine(entry.get_mut(), item),
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(item);
            }
        }
    }
    merged.into_values().collect()
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

    fn arbitrary_batches() -> impl proptest::strategy::Strategy<Value = Vec<(PreparedBatch, Vec<MessageOutcome>)>> {
        use proptest::prelude::*;
        let message_strategy = (0..4usize, 0..3usize, any::<bool>());
        let batch_strategy = (0..3usize, 0..50_000i64, proptest::collection::vec(message_strategy, 0..6));
        proptest::collection::vec(batch_strategy, 0..8).prop_map(|batches| {
            batches
                .into_iter()
                .enumerate()
                .map(|(n, (client, at, messages))| {
                    let (messages, outcomes) = messages
                        .into_iter()
                        .map(|(chat, title, created)| {
                            (message(&format!("chat-{chat}"), &format!("title-{title}")), MessageOutcome { created, message_pk: Some(1) })
                        })
                        .unzip();
                    let batch = PreparedBatch {
                        request_id: format!("r{n}"),
                        client_id: format!("client-{client}"),
                        received_at_ms: at,
                        messages,
                        delivery_id: None,
                    };
                    (batch, outcomes)
                })
                .collect()
        })
    }

    proptest::proptest! {
        /// Summarising a run of batches in two parts and merging the parts gives what
        /// summarising the whole run gives, wherever the run is cut.
        #[test]
        fn merging_two_parts_equals_summarising_the_whole(batches in arbitrary_batches(), cut in 0..9usize) {
            let cut = cut.min(batches.len());
            let refs: Vec<&PreparedBatch> = batches.iter().map(|(b, _)| b).collect();
            let outcomes: Vec<Vec<MessageOutcome>> = batches.iter().map(|(_, o)| o.clone()).collect();
            let whole = summarize(&refs, &outcomes, 7_000);
            let mut first = summarize(&refs[..cut], &outcomes[..cut], 7_000);
            first.merge(summarize(&refs[cut..], &outcomes[cut..], 7_000));
            proptest::prop_assert_eq!(first, whole);
        }
    }
}
