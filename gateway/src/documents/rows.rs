//! A sheet's rows under its header become [`DocumentRow`]s, or [`RowError`]s with the row number
//! and the reason: the price is read exactly, the currency comes from a currency column, else the
//! price cell's own marker, else the price header's suffix (`Price (KES)`), else the vendor's
//! default (the same default extraction uses for chat messages).

use std::sync::Arc;

use super::{
    cells::{read_amount, read_currency, read_quantity},
    header::{Header, read_header},
};
use crate::{
    domain::{DocumentRow, RowError},
    parse::{attrs::condition_in, key::normalize_title_key},
};

/// One sheet: its name (None for CSV) and its rows as (1-based row number, cells as text).
pub struct Grid {
    pub sheet: Option<String>,
    pub rows: Vec<(u32, Vec<String>)>,
}

/// What a processor read out of a document.
#[derive(Debug, Default)]
pub struct Extracted {
    pub rows: Vec<DocumentRow>,
    pub errors: Vec<RowError>,
    /// The rows the rules could not read, as they were, for LLM normalisation: kept only when the
    /// import asked for it ([`super::DocumentInput::keep_unread`]), at most that many.
    pub unread: Vec<UnreadRow>,
    /// Unread rows past that limit (not kept).
    pub unread_dropped: usize,
    /// No sheet had a header row: with `keep_unread`, the sheet reader answers this instead of
    /// failing, so the LLM may still read the rows; without any row from it the import fails.
    pub no_header: bool,
}

/// A row the rules could not read (its cells' text), where it was, and the header row it sat
/// under (none on a sheet without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadRow {
    pub sheet: Option<String>,
    pub row: u32,
    pub columns: Option<Arc<[String]>>,
    pub cells: Vec<String>,
}

impl Extracted {
    /// (sheet, row, title, price, currency) of every row: what the processors' tests compare.
    #[cfg(test)]
    pub fn summary(&self) -> Vec<(Option<&str>, u32, &str, &str, &str)> {
        self.rows
            .iter()
            .map(|r| (r.sheet.as_deref(), r.row, r.title.as_str(), r.price.as_str(), r.currency.as_str()))
            .collect()
    }

    /// Keeps `cells` (without empty trailing cells) for the LLM, within `limit` rows.
    fn keep_unread(
        &mut self,
        limit: usize,
        sheet: &Option<String>,
        columns: Option<&Arc<[String]>>,
        row: u32,
        cells: &[String],
    ) {
        if limit == 0 {
            return;
        }
        if self.unread.len() >= limit {
            self.unread_dropped += 1;
            return;
        }
        let used = cells.iter().rposition(|c| !c.trim().is_empty()).map_or(0, |i| i + 1);
        let cells = cells[..used].iter().map(|c| c.trim().to_owned()).collect();
        self.unread.push(UnreadRow {
            sheet: sheet.clone(),
            row,
            columns: columns.cloned(),
            cells,
        });
    }
}

/// Reads one sheet into `out`; returns false when it has content but no header row. With
/// `keep_unread` > 0, every row that is not read (and every row of a sheet without a header) is
/// also kept in [`Extracted::unread`], up to that many.
pub fn read_grid(grid: &Grid, default_currency: &str, keep_unread: usize, out: &mut Extracted) -> bool {
    let cells: Vec<&[String]> = grid.rows.iter().map(|(_, c)| c.as_slice()).collect();
    let Some((index, header)) = super::header::find_header(&cells) else {
        let mut empty = true;
        for (number, cells) in &grid.rows {
            if cells.iter().any(|c| !c.trim().is_empty()) {
                empty = false;
                out.keep_unread(keep_unread, &grid.sheet, None, *number, cells);
            }
        }
        return empty;
    };
    let columns: Option<Arc<[String]>> = (keep_unread > 0)
        .then(|| grid.rows[index].1.iter().map(|c| c.trim().to_owned()).collect());
    for (number, cells) in &grid.rows[index + 1..] {
        if cells.iter().all(|c| c.trim().is_empty()) || read_header(cells).is_some() {
            continue;
        }
        match read_row(&header, cells, default_currency) {
            Ok(mut row) => {
                row.sheet = grid.sheet.clone();
                row.row = *number;
                out.rows.push(row);
            }
            Err(reason) => {
                out.keep_unread(keep_unread, &grid.sheet, columns.as_ref(), *number, cells);
                out.errors.push(RowError {
                    row: Some(*number),
                    sheet: grid.sheet.clone(),
                    reason,
                });
            }
        }
    }
    true
}

fn cell(cells: &[String], at: Option<usize>) -> &str {
    at.and_then(|i| cells.get(i)).map_or("", |c| c.trim())
}

/// One row under `header` (its sheet and number are filled in by the caller).
pub fn read_row(
    header: &Header,
    cells: &[String],
    default_currency: &str,
) -> Result<DocumentRow, String> {
    let sku = Some(cell(cells, header.sku))
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let description = cell(cells, header.description);
    let title = match (description, &sku) {
        ("", Some(sku)) => sku.clone(),
        ("", None) => return Err("no description or SKU".to_owned()),
        (description, _) => description.to_owned(),
    };
    let price_cell = cell(cells, header.price);
    let (price, marked) = match read_amount(price_cell) {
        Ok(Some(found)) => found,
        Ok(None) => return Err("no price".to_owned()),
        Err(error) => return Err(error.to_string()),
    };
    let column_currency = match cell(cells, header.currency) {
        "" => None,
        raw => Some(
            read_currency(raw)
                .ok_or_else(|| format!("currency {raw:?} is not a known currency"))?,
        ),
    };
    let currency = column_currency
        .or(marked)
        .or_else(|| header.price_currency.clone())
        .unwrap_or_else(|| default_currency.to_owned());
    let quantity = match cell(cells, header.quantity) {
        "" => None,
        raw => Some(
            read_quantity(raw).ok_or_else(|| format!("quantity {raw:?} is not a whole number"))?,
        ),
    };
    let condition = condition_in(cell(cells, header.condition)).map(|c| c.as_str().to_owned());
    let key = normalize_title_key(&title);
    let product_key = if key.is_empty() {
        title.to_lowercase()
    } else {
        key
    };
    let source_text = cells
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    Ok(DocumentRow {
        sheet: None,
        row: 0,
        sku,
        title,
        product_key,
        price: price.to_string(),
        currency,
        quantity,
        condition,
        source_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&[&str]]) -> Grid {
        Grid {
            sheet: Some("Phones".into()),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32 + 1, r.iter().map(|c| (*c).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn rows_under_the_header_become_offers_and_bad_rows_errors() {
        let sheet = grid(&[
            &["KAMAU ELECTRONICS PRICE LIST", "", "", "", ""],
            &[
                "MODEL/SKU",
                "DESCRIPTION",
                "PRICE (KES)",
                "QTY",
                "CONDITION",
            ],
            &["IP12-64", "iPhone 12 64GB", "45,000", "3", "Brand new"],
            &["", "Samsung A14", "$180", "", "ex-uk"],
            &["", "", "", "", ""],
            &["TV-55", "", "call us", "1", ""],
            &["", "Tecno Spark 10", "12,500", "two", ""],
            &["", "", "", "", "note: prices include VAT"],
        ]);
        let mut out = Extracted::default();
        assert!(read_grid(&sheet, "UGX", 0, &mut out));
        assert_eq!(out.rows.len(), 2, "{:?}", out.errors);
        let first = &out.rows[0];
        assert_eq!(
            (first.row, first.sku.as_deref(), first.title.as_str()),
            (3, Some("IP12-64"), "iPhone 12 64GB")
        );
        assert_eq!(
            (
                first.price.as_str(),
                first.currency.as_str(),
                first.quantity
            ),
            ("45000", "KES", Some(3))
        );
        assert_eq!(first.condition.as_deref(), Some("new"));
        assert_eq!(first.sheet.as_deref(), Some("Phones"));
        let second = &out.rows[1];
        assert_eq!(
            (
                second.price.as_str(),
                second.currency.as_str(),
                second.condition.as_deref()
            ),
            ("180", "USD", Some("ex_uk"))
        );
        let errors: Vec<(Option<u32>, &str)> = out
            .errors
            .iter()
            .map(|e| (e.row, e.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                (Some(6), "price \"call us\" is not a number"),
                (Some(7), "quantity \"two\" is not a whole number"),
                (Some(8), "no description or SKU"),
            ]
        );
    }

    #[test]
    fn the_default_currency_applies_without_any_marker() {
        let sheet = grid(&[
            &["Item", "Price", "Currency"],
            &["Sugar 2kg", "250", ""],
            &["Rice 5kg", "9", "usd"],
        ]);
        let mut out = Extracted::default();
        assert!(read_grid(&sheet, "TZS", 0, &mut out));
        let currencies: Vec<&str> = out.rows.iter().map(|r| r.currency.as_str()).collect();
        assert_eq!(currencies, ["TZS", "USD"]);
    }

    #[test]
    fn a_sheet_without_a_header_says_so_unless_it_is_empty() {
        let mut out = Extracted::default();
        assert!(!read_grid(&grid(&[&["hello", "world"]]), "KES", 0, &mut out));
        assert!(read_grid(&grid(&[&["", ""]]), "KES", 0, &mut out));
    }

    #[test]
    fn unread_rows_are_kept_only_when_asked_and_within_the_limit() {
        let sheet = grid(&[
            &["Item", "Price"],
            &["Sugar", "250"],
            &[" Rice 5kg ", "call", "", ""],
            &["Oil", "n/a"],
        ]);
        let mut out = Extracted::default();
        assert!(read_grid(&sheet, "KES", 0, &mut out));
        assert!(out.unread.is_empty() && out.unread_dropped == 0);
        let mut out = Extracted::default();
        assert!(read_grid(&sheet, "KES", 1, &mut out));
        let kept = UnreadRow {
            sheet: Some("Phones".into()),
            row: 3,
            columns: Some(vec!["Item".to_owned(), "Price".to_owned()].into()),
            cells: vec!["Rice 5kg".into(), "call".into()],
        };
        assert_eq!((out.unread, out.unread_dropped, out.errors.len()), (vec![kept], 1, 2));
        let mut out = Extracted::default();
        let headless = grid(&[&["Sugar 2kg going for 250 bob", ""], &["", ""], &["Oil 1l 300"]]);
        assert!(!read_grid(&headless, "KES", 5, &mut out));
        let rows: Vec<(u32, Vec<String>)> = out.unread.into_iter().map(|u| (u.row, u.cells)).collect();
        assert_eq!(rows, [(1, vec!["Sugar 2kg going for 250 bob".to_owned()]), (3, vec!["Oil 1l 300".to_owned()])]);
    }
}
