//! A document read as text (a PDF's text layer, or what OCR saw on an image) becomes rows, one
//! line at a time, through the same offer extractor as chat messages (`parse::extract_offers`):
//! - a line with priced offers gives one [`DocumentRow`] per offer, its `source_text` the line;
//! - a line that looks priced (a currency next to a number, or a marked price the scanner finds)
//!   but gives no priced offer becomes a [`RowError`] with its number;
//! - every other line (titles, addresses, notes) is skipped silently.
//!
//! Rows are numbered by the document's non-blank lines, 1-based, counted through the pages in
//! order (a page's blank lines and layout gaps do not count), so a number is stable for the same
//! text and unique in the document: offers keep only (document, row). The page is the row's
//! `sheet` (`page 2`) when the document has pages.

use super::rows::Extracted;
use crate::{
    domain::{DocumentRow, RowError},
    parse::{
        ExtractContext, extract_offers,
        lexicon::{self, CURRENCY_SYMBOLS},
        price::{Strength, prices_in},
        text::truncate,
    },
};

/// The longest line kept as a row's `source_text`, in bytes.
const MAX_LINE_BYTES: usize = 2_000;

/// One page's text; `label` is the `sheet` its rows and errors carry (`page 3`), if any.
pub struct PageText {
    pub label: Option<String>,
    pub text: String,
}

/// Reads `pages` in order, numbering their non-blank lines from 1.
pub fn read_pages(pages: &[PageText], default_currency: &str) -> Extracted {
    let mut out = Extracted::default();
    let context = ExtractContext { default_currency };
    let mut number: u32 = 0;
    for page in pages {
        for line in page.text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            number = number.saturating_add(1);
            read_line(
                truncate(line, MAX_LINE_BYTES),
                number,
                page.label.as_ref(),
                &context,
                &mut out,
            );
        }
    }
    out
}

fn read_line(
    line: &str,
    number: u32,
    page: Option<&String>,
    context: &ExtractContext<'_>,
    out: &mut Extracted,
) {
    let before = out.rows.len();
    for offer in extract_offers(line, context) {
        let Some(price) = offer.price else { continue };
        if price.is_sign_negative() && !price.is_zero() {
            continue;
        }
        let product_key = if offer.product_key.is_empty() {
            offer.title.to_lowercase()
        } else {
            offer.product_key
        };
        out.rows.push(DocumentRow {
            sheet: page.cloned(),
            row: number,
            sku: None,
            title: offer.title,
            product_key,
            price: price.normalize().to_string(),
            currency: offer.currency,
            quantity: offer.quantity.and_then(|q| i32::try_from(q).ok()),
            condition: offer.condition.map(|c| c.as_str().to_owned()),
            source_text: line.to_owned(),
        });
    }
    if out.rows.len() == before && looks_priced(line) {
        out.errors.push(RowError {
            row: Some(number),
            sheet: page.cloned(),
            reason: "the line names a price that cannot be read as an item and an amount"
                .to_owned(),
        });
    }
}

/// A marked price the scanner reads, or a currency word or symbol beside (or glued to) a word with
/// a digit: `KES 12,5OO` as OCR misreads it, `Ksh12,5O0`, `$ l9.99`.
pub fn looks_priced(line: &str) -> bool {
    if prices_in(line)
        .iter()
        .any(|hit| hit.strength == Strength::Marked)
    {
        return true;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let has_digit = |word: &str| word.bytes().any(|b| b.is_ascii_digit());
    words.iter().enumerate().any(|(i, word)| {
        let symbol = CURRENCY_SYMBOLS
            .iter()
            .any(|(s, _)| word.starts_with(s) || word.ends_with(s));
        let letters: String = word
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_lowercase();
        let named = !letters.is_empty() && lexicon::currency_word(&letters).is_some();
        (symbol || named)
            && (has_digit(word)
                || words.get(i + 1).is_some_and(|w| has_digit(w))
                || (i > 0 && has_digit(words[i - 1])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(label: Option<&str>, text: &str) -> PageText {
        PageText {
            label: label.map(str::to_owned),
            text: text.to_owned(),
        }
    }

    #[test]
    fn priced_lines_become_rows_numbered_by_non_blank_line() {
        let out = read_pages(
            &[
                page(
                    Some("page 1"),
                    "KAMAU ELECTRONICS PRICE LIST\n\n  Samsung A15 128GB KES 18,500\nTecno Spark 20 - Ksh 14,000\n",
                ),
                page(
                    Some("page 2"),
                    "Call 0712 345 678 for delivery\niPhone 12 64GB ex-uk 45,000/=\n",
                ),
            ],
            "KES",
        );
        assert_eq!(
            out.summary(),
            [
                (Some("page 1"), 2, "Samsung A15 128GB", "18500", "KES"),
                (Some("page 1"), 3, "Tecno Spark 20", "14000", "KES"),
                (Some("page 2"), 5, "iPhone 12 64GB", "45000", "KES"),
            ],
            "{:?}",
            out.errors
        );
        assert_eq!(out.rows[0].source_text, "Samsung A15 128GB KES 18,500");
        assert_eq!(out.rows[2].condition.as_deref(), Some("ex_uk"));
        assert!(out.errors.is_empty(), "{:?}", out.errors);
    }

    #[test]
    fn a_line_that_looks_priced_but_cannot_be_read_is_an_error_with_its_number() {
        let out = read_pages(
            &[page(
                None,
                "Price list\nNokia 105 KES 2,500\nOppo A78 KES l8,5OO\nKES 9,000\nDelivery in Nairobi CBD",
            )],
            "KES",
        );
        assert_eq!(out.rows.len(), 1);
        assert_eq!((out.rows[0].row, out.rows[0].price.as_str()), (2, "2500"));
        let errors: Vec<Option<u32>> = out.errors.iter().map(|e| e.row).collect();
        assert_eq!(errors, [Some(3), Some(4)], "{:?}", out.errors);
        assert!(out.errors.iter().all(|e| e.sheet.is_none()));
    }

    #[test]
    fn the_default_currency_applies_and_marked_currencies_win() {
        let out = read_pages(
            &[page(None, "Sugar 2kg 250\nAnker charger 20W $15.50\n")],
            "UGX",
        );
        let currencies: Vec<(&str, &str)> = out
            .rows
            .iter()
            .map(|r| (r.price.as_str(), r.currency.as_str()))
            .collect();
        assert_eq!(
            currencies,
            [("250", "UGX"), ("15.5", "USD")],
            "{:?}",
            out.errors
        );
    }

    #[test]
    fn what_looks_priced() {
        for line in [
            "KES 12,5OO",
            "Ksh12,5O0",
            "$ l9.99",
            "Oppo 18,500/=",
            "price 2 500 UGX",
        ] {
            assert!(looks_priced(line), "{line}");
        }
        for line in [
            "Samsung A15 128GB",
            "Prices in KES, valid until Friday",
            "Call 0712 345 678",
            "Page 2 of 3",
        ] {
            assert!(!looks_priced(line), "{line}");
        }
    }
}
