//! Group extraction: the chats one scheduler pass claims are read, extracted
//! and written together, in ONE transaction, so a commit (and its fsync, and
//! SQLite's single write lock) is shared by every chat in the pass instead of
//! paid three times per chat. This is what keeps ingest-to-offer latency near
//! the debounce window when thousands of chats fall due each second.
//!
//! A chat with more than a page of pending messages, and every chat of a pass
//! whose shared transaction fails, goes through the one-chat path
//! ([`ExtractionService::run_claimed`]), which pages, renews its lease and
//! isolates a failing chat from the others.

use std::collections::HashMap;

use super::{
    ExtractionError, ExtractionService, MessageExtraction, MessageRow, Mode,
    attribution::{Attribution, Scope},
    claim::{self, Claim},
    persist::{PageInput, PageOutcome, write_page_in},
};
use crate::time::now_ms;

/// One claimed chat whose pending messages fit in a single page.
struct ShortChat {
    claim: Claim,
    attribution: Attribution,
    rows: Vec<MessageRow>,
}

impl ExtractionService {
    /// Extracts `claims` (all held by this service), as a group where possible.
    pub(super) async fn run_group(&self, claims: Vec<Claim>) {
        let started = std::time::Instant::now();
        let mut short = Vec::with_capacity(claims.len());
        let mut one_by_one = Vec::new();
        let mut currencies: HashMap<Option<i64>, String> = HashMap::new();
        for claim in claims {
            match self.read_short_chat(claim, &mut currencies).await {
                Ok(Ok(chat)) => short.push(chat),
                Ok(Err(long_chat)) => one_by_one.push(long_chat),
                Err((claim, error)) => {
                    tracing::warn!(error = %error, "extraction read failed; retrying the chat on its own");
                    one_by_one.push(claim);
                }
            }
        }
        if !short.is_empty() {
            let claims: Vec<Claim> = short.iter().map(|chat| chat.claim.clone()).collect();
            match self.extract_and_write_group(short).await {
                Ok(outcomes) => self.record_group(&outcomes, started),
                Err(error) => {
                    tracing::warn!(error = %error, chats = claims.len(), "group extraction failed; running its chats one by one");
                    one_by_one.extend(claims);
                }
            }
        }
        for claim in one_by_one {
            if let Err(error) = self.run_claimed(claim, Mode::Latest, &Scope::All).await {
                tracing::warn!(error = %error, "extraction run failed; chat stays due");
            }
        }
    }

    /// The chat's pending messages when they fit in one page; the claim back otherwise.
    async fn read_short_chat(
        &self,
        claim: Claim,
        currencies: &mut HashMap<Option<i64>, String>,
    ) -> Result<Result<ShortChat, Claim>, (Claim, ExtractionError)> {
        let currency = match currencies.get(&claim.vendor_id) {
            Some(currency) => currency.clone(),
            None => match self.default_currency(claim.vendor_id).await {
                Ok(currency) => currencies.entry(claim.vendor_id).or_insert(currency).clone(),
                Err(error) => return Err((claim, error)),
            },
        };
        let attribution = match self.attribution(&claim, currency).await {
            Ok(attribution) => attribution,
            Err(error) => return Err((claim, error)),
        };
        let rows = match self.page(&claim.chat_id, claim.extracted_through_pk).await {
            Ok(rows) => rows,
            Err(error) => return Err((claim, error)),
        };
        if rows.len() as i64 >= self.config.page_size {
            return Ok(Err(claim));
        }
        Ok(Ok(ShortChat { claim, attribution, rows }))
    }

    async fn extract_and_write_group(&self, chats: Vec<ShortChat>) -> Result<Vec<(usize, PageOutcome)>, ExtractionError> {
        let region = self.config.region;
        let extracted: Vec<(Claim, Vec<MessageExtraction>)> = tokio::task::spawn_blocking(move || {
            chats.into_iter().map(|chat| (chat.claim, super::extract_messages(chat.rows, &chat.attribution, region))).collect()
        })
        .await
        .map_err(|e| ExtractionError::Worker(e.to_string()))?;

        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let mut outcomes = Vec::with_capacity(extracted.len());
        for (claim, messages) in &extracted {
            if !messages.is_empty() {
                let page = PageInput {
                    chat_id: &claim.chat_id,
                    messages,
                    previous_watermark: claim.extracted_through_pk,
                    prune_stale: false,
                    now_ms: now,
                    caps: self.config.fan_out,
                };
                outcomes.push((messages.len(), write_page_in(&mut tx, page).await?));
            }
            claim::finish_in(&mut tx, claim, &self.owner, now).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    fn record_group(&self, outcomes: &[(usize, PageOutcome)], started: std::time::Instant) {
        let elapsed = started.elapsed().as_secs_f64();
        for (messages, outcome) in outcomes {
            self.metrics.extraction_runs.with_label_values(&["ok"]).inc();
            self.metrics.extraction_duration.observe(elapsed);
            self.record_page_metrics(*messages, outcome);
        }
    }
}
