//! The re-sync diff (seed 003): an import's rows against the vendor's document snapshot, by row
//! key. New keys are created; known keys with another content hash (or an inactive offer coming
//! back) are updated; the rest are unchanged; active keys the import no longer has are removed,
//! which makes their offers inactive. A key twice in one import keeps its first row; the later
//! one is an error with both row numbers. An update whose price or currency differs from the
//! offer's is also a price change, for `price_history`.

use std::collections::{HashMap, HashSet};

use crate::domain::{DocumentRow, RowError};

/// One offer of the vendor's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub offer_id: i64,
    pub row_hash: String,
    pub active: bool,
    /// The offer's price and currency now.
    pub price: Option<String>,
    pub currency: String,
}

/// An update that changes the offer's price (or its currency): its old and new price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repriced<'r> {
    pub offer_id: i64,
    pub row: &'r DocumentRow,
    pub old_price: Option<String>,
    pub old_currency: String,
}

/// What an import does, row by row.
#[derive(Debug, Default)]
pub struct Partition<'r> {
    pub create: Vec<&'r DocumentRow>,
    /// (offer id, its new row).
    pub update: Vec<(i64, &'r DocumentRow)>,
    /// The updates whose price or currency changed.
    pub repriced: Vec<Repriced<'r>>,
    pub unchanged: usize,
    /// Offer ids that leave the snapshot.
    pub removed: Vec<i64>,
    /// Later rows whose key an earlier row of the import already has.
    pub duplicates: Vec<RowError>,
}

/// Splits `rows` against `snapshot` (row key → offer).
pub fn partition<'r>(rows: &'r [DocumentRow], snapshot: &HashMap<String, Known>) -> Partition<'r> {
    let mut out = Partition::default();
    let mut seen: HashMap<String, &DocumentRow> = HashMap::with_capacity(rows.len());
    for row in rows {
        let key = row.row_key();
        if let Some(first) = seen.get(&key) {
            out.duplicates.push(RowError {
                row: Some(row.row),
                sheet: row.sheet.clone(),
                reason: format!("the same SKU or product as row {} (kept)", first.row),
            });
            continue;
        }
        match snapshot.get(&key) {
            None => out.create.push(row),
            Some(known) if known.active && known.row_hash == row.row_hash() => out.unchanged += 1,
            Some(known) => {
                out.update.push((known.offer_id, row));
                if known.price.as_deref() != Some(row.price.as_str())
                    || known.currency != row.currency
                {
                    out.repriced.push(Repriced {
                        offer_id: known.offer_id,
                        row,
                        old_price: known.price.clone(),
                        old_currency: known.currency.clone(),
                    });
                }
            }
        }
        seen.insert(key, row);
    }
    let kept: HashSet<&str> = seen.keys().map(String::as_str).collect();
    out.removed = snapshot
        .iter()
        .filter(|(key, known)| known.active && !kept.contains(key.as_str()))
        .map(|(_, known)| known.offer_id)
        .collect();
    out.removed.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn row(number: u32, sku: &str, price: &str) -> DocumentRow {
        DocumentRow {
            sheet: None,
            row: number,
            sku: Some(sku.to_owned()),
            title: format!("item {sku}"),
            product_key: format!("item {sku}"),
            price: price.to_owned(),
            currency: "KES".to_owned(),
            quantity: None,
            condition: None,
            source_text: String::new(),
        }
    }

    fn known(id: i64, row: &DocumentRow, active: bool) -> Known {
        Known {
            offer_id: id,
            row_hash: row.row_hash(),
            active,
            price: Some(row.price.clone()),
            currency: row.currency.clone(),
        }
    }

    #[test]
    fn the_four_partitions_and_duplicates() {
        let before = [
            row(2, "a", "100"),
            row(3, "b", "200"),
            row(4, "c", "300"),
            row(5, "d", "400"),
        ];
        let snapshot: HashMap<String, Known> = [
            ("sku:a".to_owned(), known(1, &before[0], true)),
            ("sku:b".to_owned(), known(2, &before[1], true)),
            ("sku:c".to_owned(), known(3, &before[2], true)),
            ("sku:d".to_owned(), known(4, &before[3], false)),
        ]
        .into();
        let now = [
            row(2, "a", "100"),
            row(3, "b", "250"),
            row(4, "e", "50"),
            row(5, "d", "400"),
            row(6, "A", "1"),
        ];
        let split = partition(&now, &snapshot);
        assert_eq!(split.unchanged, 1);
        assert_eq!(
            split
                .update
                .iter()
                .map(|(id, r)| (*id, r.row))
                .collect::<Vec<_>>(),
            [(2, 3), (4, 5)],
            "changed, and back from inactive"
        );
        assert_eq!(
            split
                .repriced
                .iter()
                .map(|r| (r.offer_id, r.old_price.as_deref(), r.row.price.as_str()))
                .collect::<Vec<_>>(),
            [(2, Some("200"), "250")],
            "only the changed price; back from inactive at the same price is no change"
        );
        assert_eq!(split.create.iter().map(|r| r.row).collect::<Vec<_>>(), [4]);
        assert_eq!(split.removed, [3]);
        assert_eq!(split.duplicates.len(), 1);
        assert_eq!(split.duplicates[0].row, Some(6));
    }

    #[test]
    fn a_new_currency_is_a_price_change_and_a_new_title_is_not() {
        let before = [row(2, "a", "100"), row(3, "b", "200")];
        let snapshot: HashMap<String, Known> = [
            ("sku:a".to_owned(), known(1, &before[0], true)),
            ("sku:b".to_owned(), known(2, &before[1], true)),
        ]
        .into();
        let mut dollars = row(2, "a", "100");
        dollars.currency = "USD".into();
        let mut renamed = row(3, "b", "200");
        renamed.title = "item b, boxed".into();
        let now = [dollars, renamed];
        let split = partition(&now, &snapshot);
        assert_eq!(split.update.len(), 2);
        assert_eq!(
            split
                .repriced
                .iter()
                .map(|r| (r.offer_id, r.old_currency.as_str(), r.row.currency.as_str()))
                .collect::<Vec<_>>(),
            [(1, "KES", "USD")]
        );
    }

    proptest! {
        #[test]
        fn every_row_and_every_active_offer_lands_in_exactly_one_partition(
            skus in proptest::collection::vec(0u8..20, 0..30),
            known_skus in proptest::collection::vec((0u8..20, proptest::bool::ANY, 0u8..3), 0..20),
        ) {
            let rows: Vec<DocumentRow> = skus.iter().enumerate().map(|(i, s)| row(i as u32 + 2, &s.to_string(), "10")).collect();
            let mut snapshot = HashMap::new();
            for (id, (sku, active, price)) in known_skus.iter().enumerate() {
                let old = row(0, &sku.to_string(), &(10 + u32::from(*price) * (id as u32 % 2)).to_string());
                snapshot.insert(old.row_key(), known(id as i64, &old, *active));
            }
            let split = partition(&rows, &snapshot);
            let distinct: HashSet<&u8> = skus.iter().collect();
            prop_assert_eq!(split.create.len() + split.update.len() + split.unchanged, distinct.len());
            prop_assert_eq!(split.duplicates.len(), skus.len() - distinct.len());
            let active_gone = snapshot.iter().filter(|(k, v)| v.active && !distinct.iter().any(|s| format!("sku:{s}") == **k)).count();
            prop_assert_eq!(split.removed.len(), active_gone);
        }
    }
}
