//! Reading one spreadsheet cell: an amount with thousands separators and an optional currency
//! before or after it (`KES 45,000`, `Ksh1,500/=`, `$12.50`, `1 200 000 UGX`), a quantity, and a
//! currency on its own. Amounts are exact decimals; a cell a program stored as a number arrives
//! here as its shortest round-trip text (`45000`, `12.5`).

use rust_decimal::{Decimal, prelude::ToPrimitive};

use crate::parse::lexicon::{self, Marker};

/// Why a price cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    #[error("price {0:?} is not a number")]
    NotANumber(String),
    #[error("price {0:?} is negative")]
    Negative(String),
}

/// The ISO code a word names (`kes`, `ksh`, `usd`, `ugx`, …); bare shillings are left out,
/// since their country is the vendor's.
pub fn currency_of_word(word: &str) -> Option<String> {
    match lexicon::currency_word(&word.to_ascii_lowercase())? {
        Marker::Iso(code) => Some(code.to_owned()),
        Marker::Shilling => None,
    }
}

/// A currency cell (`KES`, `ksh`, `$`), as an ISO code.
pub fn read_currency(cell: &str) -> Option<String> {
    let cell = cell.trim();
    lexicon::CURRENCY_SYMBOLS
        .iter()
        .find(|(symbol, _)| *symbol == cell)
        .map(|(_, code)| (*code).to_owned())
        .or_else(|| currency_of_word(cell.trim_end_matches('.')))
}

/// An amount and the currency written beside it. `Ok(None)` for an empty cell.
pub fn read_amount(cell: &str) -> Result<Option<(Decimal, Option<String>)>, CellError> {
    let text = cell.trim();
    if text.is_empty() || matches!(text, "-" | "—" | "–") {
        return Ok(None);
    }
    let mut rest = text;
    let mut currency = None;
    // A symbol or a currency word before the number.
    for (symbol, code) in lexicon::CURRENCY_SYMBOLS {
        if let Some(after) = rest.strip_prefix(symbol) {
            rest = after;
            currency = Some(code.to_owned());
        }
    }
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    if word_end > 0 {
        let word = rest[..word_end].to_ascii_lowercase();
        if lexicon::currency_word(&word).is_some() {
            currency = currency.or_else(|| currency_of_word(&word));
            rest = rest[word_end..].trim_start_matches(['.', ':', ' ']);
        }
    }
    // The Kenyan `/=` and `/-`, and a currency word or symbol after the number.
    rest = rest
        .trim_end()
        .trim_end_matches("/=")
        .trim_end_matches("/-")
        .trim_end();
    let tail_start = rest
        .rfind(|c: char| c.is_ascii_digit() || c == '.')
        .map_or(0, |i| i + 1);
    let tail = rest[tail_start..].trim();
    if !tail.is_empty() {
        currency = currency.or_else(|| read_currency(tail));
        if read_currency(tail).is_none()
            && !matches!(tail.to_ascii_lowercase().as_str(), "sh" | "shs" | "bob")
        {
            return Err(CellError::NotANumber(cell.to_owned()));
        }
        rest = &rest[..tail_start];
    }
    let amount = read_number(rest.trim()).ok_or_else(|| CellError::NotANumber(cell.to_owned()))?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(CellError::Negative(cell.to_owned()));
    }
    Ok(Some((amount.normalize(), currency)))
}

/// A plain number with optional thousands separators: `45000`, `45,000`, `1 200 000`,
/// `1.500.000`, `12.50`, `1,234.5`, `-3`. Groups after a separator must have three digits.
pub fn read_number(text: &str) -> Option<Decimal> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    };
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let dots = digits.matches('.').count();
    // `1.500.000`: dots group thousands (and a comma, if any, is the decimal point).
    let (group_seps, decimal_point): (&[char], char) = if dots > 1 {
        (&['.', ' ', '\u{a0}', '\''], ',')
    } else {
        (&[',', ' ', '\u{a0}', '\''], '.')
    };
    let (whole, fraction) = match digits.split_once(decimal_point) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let groups: Vec<&str> = whole.split(group_seps).collect();
    let well_grouped = groups
        .iter()
        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
        && groups.iter().skip(1).all(|g| g.len() == 3)
        && (groups.len() == 1 || groups[0].len() <= 3);
    if !well_grouped
        || fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut plain: String = groups.concat();
    if let Some(fraction) = fraction {
        plain.push('.');
        plain.push_str(fraction);
    }
    let value: Decimal = plain.parse().ok()?;
    Some(if negative { -value } else { value })
}

/// A quantity cell: a whole number (`3`, `1,200`, `3.0`); `None` when it is not one.
pub fn read_quantity(cell: &str) -> Option<i32> {
    let value = read_number(cell.trim())?;
    if value.is_sign_negative() || !value.fract().is_zero() {
        return None;
    }
    value.to_i32()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn amount(cell: &str) -> Option<(String, Option<String>)> {
        read_amount(cell)
            .expect("readable")
            .map(|(d, c)| (d.to_string(), c))
    }

    #[test]
    fn amounts_with_separators_and_markers() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("45000", "45000", None),
            ("45,000", "45000", None),
            ("1 200 000", "1200000", None),
            ("1.500.000", "1500000", None),
            ("1,234.50", "1234.5", None),
            ("12.5", "12.5", None),
            ("KES 45,000", "45000", Some("KES")),
            ("Ksh1,500/=", "1500", Some("KES")),
            ("Ksh. 1,500", "1500", Some("KES")),
            ("$12.50", "12.5", Some("USD")),
            ("1 200 000 UGX", "1200000", Some("UGX")),
            ("2,500/-", "2500", None),
            ("₦ 15,000", "15000", Some("NGN")),
        ];
        for (cell, value, currency) in cases {
            assert_eq!(
                amount(cell),
                Some(((*value).to_owned(), currency.map(str::to_owned))),
                "{cell:?}"
            );
        }
        assert_eq!(amount(""), None);
        assert_eq!(amount("-"), None);
    }

    #[test]
    fn bad_amounts_are_refused_with_the_cell() {
        assert_eq!(
            read_amount("call for price"),
            Err(CellError::NotANumber("call for price".into()))
        );
        assert_eq!(
            read_amount("45,00"),
            Err(CellError::NotANumber("45,00".into()))
        );
        assert_eq!(
            read_amount("12abc"),
            Err(CellError::NotANumber("12abc".into()))
        );
        assert_eq!(read_amount("-5"), Err(CellError::Negative("-5".into())));
    }

    #[test]
    fn quantities_and_currencies() {
        assert_eq!(read_quantity("3"), Some(3));
        assert_eq!(read_quantity("1,200"), Some(1200));
        assert_eq!(read_quantity("3.0"), Some(3));
        assert_eq!(read_quantity("2.5"), None);
        assert_eq!(read_quantity("many"), None);
        assert_eq!(read_currency("ksh"), Some("KES".into()));
        assert_eq!(read_currency("$"), Some("USD".into()));
        assert_eq!(read_currency("shillings"), None);
    }

    proptest! {
        #[test]
        fn never_panics(cell in "\\PC{0,24}") {
            let _ = read_amount(&cell);
            let _ = read_quantity(&cell);
        }

        #[test]
        fn grouped_numbers_read_back_exactly(whole in 0u64..10_000_000_000, cents in proptest::option::of(0u32..100), sep in prop::sample::select(vec![",", " ", ""])) {
            let digits = whole.to_string();
            let mut grouped = String::new();
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push_str(sep);
                }
                grouped.push(ch);
            }
            let mut expected = Decimal::from(whole);
            if let Some(cents) = cents {
                grouped.push_str(&format!(".{cents:02}"));
                expected += Decimal::new(i64::from(cents), 2);
            }
            prop_assert_eq!(read_number(&grouped), Some(expected));
            prop_assert_eq!(read_amount(&format!("KES {grouped}")).ok().flatten(), Some((expected.normalize(), Some("KES".to_owned()))));
        }
    }
}
