//! Finding a price list's header row: the seed's standard columns `MODEL/SKU, DESCRIPTION, PRICE,
//! QTY, CONDITION` and their common spellings (`Item`, `Name`, `Product`, `Price (KES)`, `Qty`,
//! `Stock`, `Currency`, any case and spacing). Title rows above the header (a shop name merged
//! across the columns, a date) are skipped: the header is the first row that names a price
//! column and a description or SKU column.

/// A column the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Sku,
    Description,
    Price,
    Quantity,
    Condition,
    Currency,
}

/// Where each known column is, and the currency a price header names (`Price (KES)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub sku: Option<usize>,
    pub description: Option<usize>,
    pub price: Option<usize>,
    pub quantity: Option<usize>,
    pub condition: Option<usize>,
    pub currency: Option<usize>,
    /// The ISO code from the price header's suffix, if it names one.
    pub price_currency: Option<String>,
}

/// How far down a sheet the header may be.
pub const MAX_HEADER_ROW: usize = 30;

/// The header's index among `rows` and its columns, or `None` when no row within the first
/// [`MAX_HEADER_ROW`] names a price and a description or SKU.
pub fn find_header<R: AsRef<[S]>, S: AsRef<str>>(rows: &[R]) -> Option<(usize, Header)> {
    rows.iter()
        .take(MAX_HEADER_ROW)
        .enumerate()
        .find_map(|(index, cells)| {
            let header = read_header(cells.as_ref())?;
            Some((index, header))
        })
}

/// The row as a header, when it is one.
pub fn read_header<S: AsRef<str>>(cells: &[S]) -> Option<Header> {
    let mut header = Header::default();
    for (index, cell) in cells.iter().enumerate() {
        let Some((column, currency)) = classify(cell.as_ref()) else {
            continue;
        };
        let slot = match column {
            Column::Sku => &mut header.sku,
            Column::Description => &mut header.description,
            Column::Price => &mut header.price,
            Column::Quantity => &mut header.quantity,
            Column::Condition => &mut header.condition,
            Column::Currency => &mut header.currency,
        };
        // The first column of a kind wins (`Price` before a later `Price (old)`), except that a
        // product's name beats a description, which beats a bare `Item` (often a number or a
        // code beside the real name: `Item | Name | Price`).
        let better_title = column == Column::Description
            && slot.is_some_and(|at| title_rank(cell.as_ref()) > title_rank(cells[at].as_ref()));
        if slot.is_none() || better_title {
            *slot = Some(index);
            if column == Column::Price {
                header.price_currency = currency;
            }
        }
    }
    (header.price.is_some() && (header.description.is_some() || header.sku.is_some()))
        .then_some(header)
}

/// How well a description-like header names the offer's title: 3 for a name (`Name`, `Product
/// name`, `Title`, `Product`), 2 for a description, 1 for `Item`.
fn title_rank(cell: &str) -> u8 {
    let words = words(cell);
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    if has(&["name", "title", "product", "products"]) {
        3
    } else if has(&["description", "desc", "details"]) {
        2
    } else {
        1
    }
}

/// The words of a header cell: lower case, letters and digits only.
fn words(cell: &str) -> Vec<String> {
    cell.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Which column a header cell names, and a currency it carries (`Price (KES)`, `USD price`).
pub fn classify(cell: &str) -> Option<(Column, Option<String>)> {
    let words = words(cell);
    if words.is_empty() || words.len() > 4 {
        return None;
    }
    let joined = words.join(" ");
    let currency = words.iter().find_map(|w| super::cells::currency_of_word(w));
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let column = match joined.as_str() {
        "sku" | "model" | "model sku" | "sku model" | "model no" | "model number" | "code"
        | "item code" | "product code" | "part number" | "part no" | "ref" | "reference" => {
            Column::Sku
        }
        "currency" | "curr" | "ccy" => Column::Currency,
        "condition" | "cond" | "state" | "grade" => Column::Condition,
        _ if has(&["price", "prices", "cost", "amount", "bei", "rate"])
            && !has(&["old", "previous", "was", "list"]) =>
        {
            Column::Price
        }
        _ if has(&["qty", "quantity", "stock", "units", "available", "pcs"]) => Column::Quantity,
        _ if has(&[
            "description",
            "desc",
            "item",
            "items",
            "name",
            "product",
            "products",
            "title",
            "details",
        ]) =>
        {
            Column::Description
        }
        _ if currency.is_some() && words.len() == 1 => Column::Price,
        _ => return None,
    };
    Some((
        column,
        if column == Column::Price {
            currency
        } else {
            None
        },
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn standard_and_variant_headers() {
        let cases: &[(&str, Option<Column>)] = &[
            ("MODEL/SKU", Some(Column::Sku)),
            ("  sku ", Some(Column::Sku)),
            ("DESCRIPTION", Some(Column::Description)),
            ("Item", Some(Column::Description)),
            ("Product Name", Some(Column::Description)),
            ("PRICE", Some(Column::Price)),
            ("Price (KES)", Some(Column::Price)),
            ("Unit price", Some(Column::Price)),
            ("Old price", None),
            ("QTY", Some(Column::Quantity)),
            ("Stock", Some(Column::Quantity)),
            ("Condition", Some(Column::Condition)),
            ("Currency", Some(Column::Currency)),
            ("Kamau Electronics price list, March", None),
            ("", None),
        ];
        for (cell, expected) in cases {
            assert_eq!(classify(cell).map(|(c, _)| c), *expected, "{cell:?}");
        }
        assert_eq!(
            classify("Price (KES)").and_then(|(_, c)| c).as_deref(),
            Some("KES")
        );
        assert_eq!(classify("USD"), Some((Column::Price, Some("USD".into()))));
    }

    #[test]
    fn title_rows_above_the_header_are_skipped() {
        let rows = vec![
            vec!["KAMAU ELECTRONICS", "", ""],
            vec!["Price list — March 2026", "", ""],
            vec!["", "", ""],
            vec!["Item", "Qty", "Price (KES)"],
            vec!["iPhone 12", "2", "45,000"],
        ];
        let (index, header) = find_header(&rows).expect("a header");
        assert_eq!(index, 3);
        assert_eq!(
            (header.description, header.quantity, header.price),
            (Some(0), Some(1), Some(2))
        );
        assert_eq!(header.price_currency.as_deref(), Some("KES"));
    }

    #[test]
    fn a_name_column_beats_a_description_which_beats_item() {
        let description = |cells: &[&str]| read_header(cells).and_then(|h| h.description);
        assert_eq!(description(&["Item", "Name", "Price"]), Some(1));
        assert_eq!(description(&["Item", "Description", "Price"]), Some(1));
        assert_eq!(description(&["Description", "Product name", "Price"]), Some(1));
        assert_eq!(description(&["Product", "Description", "Price"]), Some(0));
        assert_eq!(description(&["Name", "Title", "Price"]), Some(0), "a tie: the first");
        assert_eq!(description(&["No", "Item", "Price"]), Some(1));
    }

    #[test]
    fn a_row_without_a_price_column_is_no_header() {
        assert_eq!(read_header(&["Item", "Qty"]), None);
        assert_eq!(read_header(&["Price", "Qty"]), None);
        assert!(read_header(&["SKU", "Price"]).is_some());
    }

    proptest! {
        #[test]
        fn never_panics_and_never_finds_a_header_past_the_limit(
            rows in proptest::collection::vec(proptest::collection::vec(".{0,12}", 0..6), 0..40)
        ) {
            if let Some((index, header)) = find_header(&rows) {
                prop_assert!(index < MAX_HEADER_ROW);
                prop_assert!(header.price.is_some());
                prop_assert_eq!(read_header(&rows[index]), Some(header));
            }
        }

        #[test]
        fn case_and_spacing_do_not_matter(upper in proptest::bool::ANY, pad in 0usize..4) {
            let base = ["Model/SKU", "Description", "Price (KES)", "Qty", "Condition"];
            let cells: Vec<String> = base
                .iter()
                .map(|c| {
                    let c = if upper { c.to_uppercase() } else { c.to_lowercase() };
                    format!("{}{c}{}", " ".repeat(pad), " ".repeat(pad))
                })
                .collect();
            let header = read_header(&cells).expect("the standard header");
            prop_assert_eq!(
                (header.sku, header.description, header.price, header.quantity, header.condition),
                (Some(0), Some(1), Some(2), Some(3), Some(4))
            );
        }
    }
}
