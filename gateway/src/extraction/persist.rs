//! Writing one page of an extraction run in one transaction: the offers
//! (upserted by source message and item position, so re-runs never
//! duplicate; each attributed to its message's vendor, see `attribution`), product and catalog records with their jobs (within the
//! fan-out caps of [`fan_out`]), the chat's
//! watermark and counters, the `extracted` total and an event line.

use serde_json::json;

use super::{ExtractionError, MessageExtraction, fan_out::{self, FanOutCaps}};
use crate::domain::{LinkDrops, job::stage};
use crate::{
    parse::{WaLink, search_text},
    store::{
        Database, events, placeholders,
        jobs::{self, NewJob},
        tx::{Tx, on_tx},
    },
};

/// What a page wrote, for the run report and metrics.
#[derive(Debug, Default)]
pub struct PageOutcome {
    pub offers_written: usize,
    /// Lags (ms) from message stored to offer written, for new offers only.
    pub new_offer_lags_ms: Vec<i64>,
    pub products: Vec<String>,
    pub catalogs: Vec<String>,
    pub jobs_enqueued: usize,
    /// Links of new messages that made no job, by reason (`extraction::fan_out`).
    pub links_dropped: LinkDrops,
}

pub struct PageInput<'a> {
    pub chat_id: &'a str,
    pub messages: &'a [MessageExtraction],
    /// Messages with a larger id were never extracted before.
    pub previous_watermark: i64,
    /// Remove offers a message no longer yields (full re-extraction).
    pub prune_stale: bool,
    pub now_ms: i64,
    pub caps: FanOutCaps,
}

const OFFER_COLUMNS: usize = 20;

pub async fn write_page(db: &Database, page: PageInput<'_>) -> Result<PageOutcome, ExtractionError> {
    let mut tx = db.begin_write().await?;
    let outcome = write_page_in(&mut tx, page).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// One page's writes inside the caller's transaction.
pub async fn write_page_in(tx: &mut Tx, page: PageInput<'_>) -> Result<PageOutcome, ExtractionError> {
    let mut outcome = PageOutcome::default();
    upsert_offers(&mut *tx, &page, &mut outcome).await?;
    if page.prune_stale {
        for message in page.messages {
            let sql = "DELETE FROM offers WHERE source_message_pk = $1 AND item_index >= $2";
            let kept = i64::try_from(message.offers.len()).unwrap_or(i64::MAX);
            on_tx!(&mut *tx, |conn| sqlx::query(sql).bind(message.pk).bind(kept).execute(conn).await?.rows_affected());
        }
    }
    fan_out::record_links(&mut *tx, &page, &mut outcome).await?;
    let last_pk = page.messages.last().map_or(page.previous_watermark, |m| m.pk);
    let new_messages = page.messages.iter().filter(|m| m.pk > page.previous_watermark).count() as i64;
    let chat_sql = "UPDATE chats SET
            extracted_through_pk = CASE WHEN $1 > extracted_through_pk THEN $1 ELSE extracted_through_pk END,
            extracted_count = extracted_count + $2,
            offer_count = (SELECT COUNT(*) FROM offers WHERE chat_id = $3)
        WHERE id = $3";
    on_tx!(&mut *tx, |conn| sqlx::query(chat_sql).bind(last_pk).bind(new_messages).bind(page.chat_id).execute(conn).await?.rows_affected());
    if new_messages > 0 {
        let sql = "UPDATE counters SET value = value + $1 WHERE name = 'extracted'";
        on_tx!(&mut *tx, |conn| sqlx::query(sql).bind(new_messages).execute(conn).await?.rows_affected());
    }
    let detail = json!({
        "messages": page.messages.len(),
        "new_messages": new_messages,
        "offers": outcome.offers_written,
        "new_offers": outcome.new_offer_lags_ms.len(),
        "max_lag_ms": outcome.new_offer_lags_ms.iter().max(),
        "jobs_enqueued": outcome.jobs_enqueued,
        "links_dropped": outcome.links_dropped.total(),
    });
    events::append(&mut *tx, page.now_ms, "extraction", Some(page.chat_id), &detail).await?;
    Ok(outcome)
}

async fn upsert_offers(tx: &mut Tx, page: &PageInput<'_>, outcome: &mut PageOutcome) -> Result<(), ExtractionError> {
    let rows: Vec<(&MessageExtraction, &crate::parse::OfferDraft)> =
        page.messages.iter().flat_map(|m| m.offers.iter().map(move |o| (m, o))).collect();
    // SQLite allows 32,766 parameters per statement; stay well inside.
    for chunk in rows.chunks(1_000) {
        let values = placeholders::rows(tx.is_postgres(), chunk.len(), OFFER_COLUMNS, 0);
        let sql = format!(
            "INSERT INTO offers (chat_id, vendor_id, sender, source_message_pk, item_index, title, product_key, wa_product_id,
                                 price, currency, delivery_fee, quantity, condition, span_start, span_end, source_text,
                                 message_received_at_ms, created_at_ms, updated_at_ms, search_text)
             VALUES {}
             ON CONFLICT (source_message_pk, item_index) DO UPDATE SET
                 chat_id = excluded.chat_id, vendor_id = excluded.vendor_id, sender = excluded.sender, title = excluded.title,
                 product_key = excluded.product_key, wa_product_id = excluded.wa_product_id,
                 price = excluded.price, currency = excluded.currency, delivery_fee = excluded.delivery_fee,
                 quantity = excluded.quantity,
                 condition = excluded.condition, span_start = excluded.span_start, span_end = excluded.span_end,
                 source_text = excluded.source_text, updated_at_ms = excluded.updated_at_ms,
                 search_text = excluded.search_text",
            values
        );
        on_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for (message, offer) in chunk {
                let source_text = message.text.get(offer.span.clone()).unwrap_or_default().to_owned();
                let wa_product_id = message.single_product_id().map(str::to_owned);
                query = query
                    .bind(page.chat_id)
                    .bind(message.vendor_id)
                    .bind(message.sender.as_deref())
                    .bind(message.pk)
                    .bind(i32::try_from(offer.item_index).unwrap_or(i32::MAX))
                    .bind(offer.title.clone())
                    .bind(offer.product_key.clone())
                    .bind(wa_product_id.filter(|_| message.offers.len() == 1))
                    .bind(offer.price.map(|p| p.normalize().to_string()))
                    .bind(offer.currency.clone())
                    .bind(offer.delivery_fee.map(|fee| fee.normalize().to_string()))
                    .bind(offer.quantity.map(|q| i32::try_from(q).unwrap_or(i32::MAX)))
                    .bind(offer.condition.map(|c| c.as_str()))
                    .bind(i32::try_from(offer.span.start).unwrap_or(i32::MAX))
                    .bind(i32::try_from(offer.span.end).unwrap_or(i32::MAX))
                    .bind(source_text)
                    .bind(message.received_at_ms)
                    .bind(page.now_ms)
                    .bind(page.now_ms)
                    .bind(search_text::index_text(&[Some(&offer.title)]));
            }
            query.execute(conn).await?.rows_affected()
        });
        outcome.offers_written += chunk.len();
        for (message, _) in chunk {
            if message.pk > page.previous_watermark {
                outcome.new_offer_lags_ms.push(page.now_ms - message.received_at_ms);
            }
        }
    }
    Ok(())
}

/// Records one link: its product or catalog row and, when that is new, its
/// job. Returns how many jobs it made (0 or 1).
pub(super) async fn record_link(
    tx: &mut Tx,
    chat_id: &str,
    message_pk: i64,
    link: &WaLink,
    now_ms: i64,
    outcome: &mut PageOutcome,
) -> Result<usize, ExtractionError> {
    let mut made = 0;
    match link {
        WaLink::Product { product_id, phone } => {
            let sql = "INSERT INTO products (product_id, seller_phone, source_chat_id, source_message_pk, created_at_ms, updated_at_ms)
                       VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (product_id) DO NOTHING";
            let inserted = on_tx!(tx, |conn| sqlx::query(sql)
                .bind(product_id)
                .bind(phone.as_deref())
                .bind(chat_id)
                .bind(message_pk)
                .bind(now_ms)
                .execute(conn)
                .await?
                .rows_affected());
            if inserted == 1 {
                outcome.products.push(product_id.clone());
                // Payload and dedupe key as the product chain's contract (jobs/stage.rs) has them.
                let payload = json!({"product_id": product_id, "phone": phone});
                let job = NewJob { stage: stage::HYDRATE, dedupe_key: product_id, payload: &payload, run_at_ms: now_ms };
                made = usize::from(jobs::enqueue(tx, job).await?);
            }
        }
        WaLink::Catalog { phone } => {
            let sql = "INSERT INTO catalogs (seller_phone, source_chat_id, source_message_pk, created_at_ms, updated_at_ms)
                       VALUES ($1, $2, $3, $4, $4) ON CONFLICT (seller_phone) DO NOTHING";
            let inserted = on_tx!(tx, |conn| sqlx::query(sql)
                .bind(phone)
                .bind(chat_id)
                .bind(message_pk)
                .bind(now_ms)
                .execute(conn)
                .await?
                .rows_affected());
            if inserted == 1 {
                outcome.catalogs.push(phone.clone());
                let payload = json!({"phone": phone});
                let job = NewJob { stage: stage::SCOUT, dedupe_key: phone, payload: &payload, run_at_ms: now_ms };
                made = usize::from(jobs::enqueue(tx, job).await?);
            }
        }
    }
    outcome.jobs_enqueued += made;
    Ok(made)
}
