//! What a refused fetch does to its job: it is dead at once (no retry could make the address
//! acceptable), the refusal is counted in `soko_fetch_blocked_total{stage}`, and the event trail
//! gets a `fetch_blocked` row with `error_message = "blocked_address"` and the stage and range in
//! its details, written in the same transaction that marks the job dead.

use serde_json::json;

use super::{Fence, FenceRefusal};
use crate::jobs::{StageCommit, StageOutcome};
use crate::store::sync_log::{self, SyncEvent, event};
use crate::store::{StoreError, tx::Tx};

/// The fixed reason code of a refused fetch.
pub const BLOCKED_ADDRESS: &str = "blocked_address";

/// The dead outcome of a refused fetch, counted once. `seller_phone` and `product_id` tie the
/// event to the product or seller the job was about.
pub fn blocked_outcome(
    fence: &Fence,
    stage: &'static str,
    refusal: FenceRefusal,
    seller_phone: Option<&str>,
    product_id: Option<&str>,
) -> StageOutcome {
    blocked_outcome_with(fence, stage, refusal, seller_phone, product_id, None)
}

/// The same, with the stage's own failure record (`also`) written in the same transaction.
pub fn blocked_outcome_with(
    fence: &Fence,
    stage: &'static str,
    refusal: FenceRefusal,
    seller_phone: Option<&str>,
    product_id: Option<&str>,
    also: Option<Box<dyn StageCommit>>,
) -> StageOutcome {
    fence.count(stage);
    tracing::warn!(stage, detail = refusal.detail(), "a fetch was refused by the fence");
    let commit = BlockedCommit {
        stage,
        detail: refusal.detail(),
        seller_phone: seller_phone.map(str::to_owned),
        product_id: product_id.map(str::to_owned),
        also,
    };
    StageOutcome::Terminal { error: refusal.to_string(), status: None, commit: Some(Box::new(commit)), dead: true }
}

struct BlockedCommit {
    stage: &'static str,
    detail: &'static str,
    seller_phone: Option<String>,
    product_id: Option<String>,
    also: Option<Box<dyn StageCommit>>,
}

#[async_trait::async_trait]
impl StageCommit for BlockedCommit {
    async fn apply(self: Box<Self>, tx: &mut Tx) -> Result<(), StoreError> {
        if let Some(also) = self.also {
            also.apply(tx).await?;
        }
        let e = SyncEvent {
            event_type: event::FETCH_BLOCKED,
            seller_phone: self.seller_phone.as_deref(),
            product_id: self.product_id.as_deref(),
            status_code: None,
            error_message: Some(BLOCKED_ADDRESS),
            details: json!({"stage": self.stage, "range": self.detail}),
        };
        sync_log::append(tx, crate::time::now_ms(), &e).await
    }
}
