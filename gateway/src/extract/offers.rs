//! Offers from message text: the public entry point of extraction. A vendor
//! message becomes zero or more [`OfferDraft`]s, one per item, each keyed by
//! its position in the message and carrying its source span. The rules live
//! in the sibling modules: [`super::lines`] (lines and list markers),
//! [`super::price`] (prices), [`super::attrs`] (condition, quantity, cues,
//! notices), [`super::text`] (titles) and [`super::assemble`] (items).

use std::ops::Range;

use rust_decimal::Decimal;
use serde::Serialize;

pub use super::attrs::Condition;
use super::assemble::{Assembler, Item};
use super::{attrs, lines, price, text};

/// Longest message read, in bytes; the rest is ignored (cut at a char boundary).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// What extraction needs to know about the message's vendor.
#[derive(Debug, Clone, Copy)]
pub struct ExtractContext<'a> {
    /// ISO 4217 code for prices without a currency marker: the vendor's
    /// default, else `WHATSAPP_DEFAULT_CURRENCY` (`KES`).
    pub default_currency: &'a str,
}

impl Default for ExtractContext<'_> {
    fn default() -> Self {
        Self { default_currency: "KES" }
    }
}

/// One offered item of a message, before it is attributed to a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferDraft {
    /// Position of the item within the message, from 0. An offer is keyed
    /// by its source message and this index, so re-extraction is idempotent.
    pub item_index: u32,
    /// Cleaned: no emoji, prices, condition words or filler.
    pub title: String,
    pub price: Option<Decimal>,
    /// ISO 4217: the price's own marker, else a currency the message names
    /// on its own line (`Prices in USD`), else the context default.
    pub currency: String,
    pub quantity: Option<u32>,
    pub condition: Option<Condition>,
    /// Byte range of the item in the source text, on char boundaries.
    pub span: Range<usize>,
    /// Normalised title that groups one product's price history across vendors.
    pub product_key: String,
}

/// Extracts the offers of one message. Pure, total and deterministic: any
/// string gives a (possibly empty) list, in order of appearance.
pub fn extract_offers(text: &str, ctx: &ExtractContext<'_>) -> Vec<OfferDraft> {
    let text = text::truncate(text, MAX_MESSAGE_BYTES);
    if !text.bytes().any(|b| b.is_ascii_alphabetic()) && !text.chars().any(char::is_alphabetic) {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let mut assembler = Assembler::new(text, &lower);
    for line in lines::split(text) {
        if assembler.is_full() {
            break;
        }
        assembler.line(&line);
    }
    let message_condition = assembler.message_condition;
    let hint = assembler.currency_hint;
    let items = assembler.finish();
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| draft(text, index, item, message_condition, hint, ctx))
        .collect()
}

fn draft(
    text: &str,
    index: usize,
    item: Item,
    message_condition: Option<Condition>,
    hint: Option<super::lexicon::Marker>,
    ctx: &ExtractContext<'_>,
) -> OfferDraft {
    let source = &text[item.span.clone()];
    let condition = attrs::condition_in(source)
        .or_else(|| item.line_tail.as_ref().and_then(|tail| attrs::condition_in(&text[tail.clone()])))
        .or(message_condition);
    let marker = item.price.as_ref().and_then(|p| p.marker);
    OfferDraft {
        item_index: u32::try_from(index).unwrap_or(u32::MAX),
        product_key: text::key_of_clean_title(&item.title),
        currency: price::currency_code(marker, hint, ctx.default_currency),
        price: item.price.map(|p| p.amount),
        quantity: attrs::quantity_in(source),
        condition,
        span: item.span,
        title: item.title,
    }
}
