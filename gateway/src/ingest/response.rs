//! The answer to an accepted batch: one status per message, in batch order
//! (`created`, `duplicate`, or `refused` with its reason), and the counts.
//! Refused messages were never sent to the store; the others come back from
//! it in the order they were sent, which is batch order without the refused.

use serde::Serialize;

use crate::domain::{MessageOutcome, message::MessageRefusal};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestResponse {
    pub request_id: String,
    /// Messages taken: created plus deduped.
    pub accepted: usize,
    pub created: usize,
    pub deduped: usize,
    /// Messages refused on their own (see each one's `reason`).
    pub refused: usize,
    pub messages: Vec<MessageStatus>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageStatus {
    pub index: usize,
    pub status: &'static str,
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// Merges the store's outcomes with the refusals back into batch order.
pub fn build(request_id: &str, outcomes: &[MessageOutcome], refused: &[(usize, MessageRefusal)]) -> IngestResponse {
    let created = outcomes.iter().filter(|o| o.created).count();
    let total = outcomes.len() + refused.len();
    let mut stored = outcomes.iter();
    let mut refusals = refused.iter().peekable();
    let mut messages = Vec::with_capacity(total);
    for index in 0..total {
        let status = match refusals.next_if(|(at, _)| *at == index) {
            Some((_, refusal)) => MessageStatus { index, status: "refused", id: None, reason: Some(refusal.code()) },
            None => match stored.next() {
                Some(outcome) => MessageStatus {
                    index,
                    status: if outcome.created { "created" } else { "duplicate" },
                    id: outcome.message_pk,
                    reason: None,
                },
                None => break,
            },
        };
        messages.push(status);
    }
    IngestResponse {
        request_id: request_id.to_owned(),
        accepted: outcomes.len(),
        created,
        deduped: outcomes.len() - created,
        refused: refused.len(),
        messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(created: bool, pk: i64) -> MessageOutcome {
        MessageOutcome { created, message_pk: Some(pk) }
    }

    #[test]
    fn refusals_take_their_place_in_batch_order() {
        let refused = [(0, MessageRefusal::Empty), (2, MessageRefusal::Empty)];
        let answer = build("r", &[outcome(true, 7), outcome(false, 3)], &refused);
        let statuses: Vec<_> = answer.messages.iter().map(|m| (m.index, m.status, m.id, m.reason)).collect();
        assert_eq!(
            statuses,
            [
                (0, "refused", None, Some("empty_message")),
                (1, "created", Some(7), None),
                (2, "refused", None, Some("empty_message")),
                (3, "duplicate", Some(3), None),
            ]
        );
        assert_eq!((answer.accepted, answer.created, answer.deduped, answer.refused), (2, 1, 1, 2));
    }

    #[test]
    fn the_seed_shape_is_kept_when_nothing_is_refused() {
        let answer = build("r", &[outcome(true, 1)], &[]);
        let json = serde_json::to_value(&answer).unwrap_or_default();
        assert_eq!(json["messages"][0], serde_json::json!({"index": 0, "status": "created", "id": 1}));
        assert_eq!((json["refused"].as_u64(), json["accepted"].as_u64()), (Some(0), Some(1)));
    }
}
