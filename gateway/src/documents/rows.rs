//! A sheet's rows under its header become [`DocumentRow`]s, or [`RowError`]s with the row number
//! and the reason: the price is read exactly, the currency comes from a currency column, else the
//! price cell's own marker, else the price header's suffix (`Price (KES)`), else the vendor's
//! default (the same default extraction uses for chat messages).

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
}

/// Reads one sheet into `out`; returns false when it has content but no header row.
pub fn read_grid(grid: &Grid, default_currency: &str, out: &mut Extracted) -> bool {
    let cells: Vec<&[String]> = grid.rows.iter().map(|(_, c)| c.as_slice()).collect();
    let Some((index, header)) = super::header::find_header(&cells) else {
        return grid
            .rows
            .iter()
            .all(|(_, cells)| cells.iter().all(|c| c.trim().is_empty()));
    };
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
            Err(reason) => out.errors.push(RowError {
                row: Some(*number),
                sheet: grid.sheet.clone(),
                reason,
            }),
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
        assert!(read_grid(&sheet, "UGX", &mut out));
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
        assert!(read_grid(&sheet, "TZS", &mut out));
        let currencies: Vec<&str> = out.rows.iter().map(|r| r.currency.as_str()).collect();
        assert_eq!(currencies, ["TZS", "USD"]);
    }

    #[test]
    fn a_sheet_without_a_header_says_so_unless_it_is_empty() {
        let mut out = Extracted::default();
        assert!(!read_grid(&grid(&[&["hello", "world"]]), "KES", &mut out));
        assert!(read_grid(&grid(&[&["", ""]]), "KES", &mut out));
    }
}
