//! The prices an import appends to `price_history`: each created offer's first price (no old
//! price), and each update whose price or currency changed (old and new). Unchanged rows, and
//! updates that keep the price (a new title, an offer back from inactive), append nothing. Every
//! point is dated at the document's upload, as a chat offer is dated at its message's arrival.

use std::collections::HashMap;

use super::diff::Repriced;
use crate::{
    domain::DocumentRow,
    store::price_history::{PriceChange, PriceSource},
};

/// The document the prices come from.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub document_id: i64,
    pub vendor_id: i64,
    pub at_ms: i64,
}

/// `created` are `(offer id, row key)` of the inserted offers; `rows` the import's rows they were
/// written from (a key the rows do not have is skipped, never guessed).
pub fn changes(
    source: Source,
    rows: &[&DocumentRow],
    created: &[(i64, String)],
    repriced: &[Repriced<'_>],
) -> Vec<PriceChange> {
    let by_key: HashMap<String, &DocumentRow> =
        rows.iter().map(|row| (row.row_key(), *row)).collect();
    let point =
        |offer_id: i64, row: &DocumentRow, old: Option<(&Option<String>, &str)>| PriceChange {
            offer_id,
            product_key: row.product_key.clone(),
            wa_product_id: None,
            vendor_id: Some(source.vendor_id),
            old_price: old.and_then(|(price, _)| price.clone()),
            old_currency: old
                .and_then(|(price, currency)| price.as_ref().map(|_| currency.to_owned())),
            new_price: row.price.clone(),
            currency: row.currency.clone(),
            source: PriceSource::Document,
            source_document_id: Some(source.document_id),
            at_ms: source.at_ms,
        };
    let mut out: Vec<PriceChange> = created
        .iter()
        .filter_map(|(offer_id, key)| by_key.get(key).map(|row| point(*offer_id, row, None)))
        .collect();
    out.extend(repriced.iter().map(|r| {
        point(
            r.offer_id,
            r.row,
            Some((&r.old_price, r.old_currency.as_str())),
        )
    }));
    out.sort_by_key(|c| c.offer_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sku: &str, price: &str, currency: &str) -> DocumentRow {
        DocumentRow {
            sheet: None,
            row: 2,
            sku: Some(sku.to_owned()),
            title: format!("item {sku}"),
            product_key: format!("item {sku}"),
            price: price.to_owned(),
            currency: currency.to_owned(),
            quantity: None,
            condition: None,
            source_text: String::new(),
        }
    }

    const SOURCE: Source = Source {
        document_id: 7,
        vendor_id: 3,
        at_ms: 1_000,
    };

    #[test]
    fn first_prices_have_no_old_price_and_changes_have_both() {
        let new = row("a", "100", "KES");
        let changed = row("b", "250", "KES");
        let repriced = [Repriced {
            offer_id: 5,
            row: &changed,
            old_price: Some("200".into()),
            old_currency: "KES".into(),
        }];
        let out = changes(SOURCE, &[&new], &[(9, "sku:a".into())], &repriced);
        let summary: Vec<_> = out
            .iter()
            .map(|c| {
                (
                    c.offer_id,
                    c.old_price.as_deref(),
                    c.old_currency.as_deref(),
                    c.new_price.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [(5, Some("200"), Some("KES"), "250"), (9, None, None, "100")]
        );
        assert!(out.iter().all(|c| c.source == PriceSource::Document
            && c.source_document_id == Some(7)
            && c.vendor_id == Some(3)
            && c.at_ms == 1_000));
        assert_eq!(out[1].product_key, "item a");
    }

    #[test]
    fn an_offer_without_a_price_before_has_no_old_currency() {
        let changed = row("b", "10", "USD");
        let repriced = [Repriced {
            offer_id: 5,
            row: &changed,
            old_price: None,
            old_currency: "KES".into(),
        }];
        let out = changes(SOURCE, &[], &[(9, "sku:unknown".into())], &repriced);
        assert_eq!(
            out.len(),
            1,
            "a created key the rows do not have is skipped"
        );
        assert_eq!(
            (out[0].old_price.as_deref(), out[0].old_currency.as_deref()),
            (None, None)
        );
    }
}
