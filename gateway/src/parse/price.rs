//! Prices in message text. Scans a line for numbers and keeps those that read
//! as prices: with a currency marker before or after (`KES`, `Ksh`, `Sh.`,
//! `bob`, `/=`, `$`, `€`, `£`, `₦`, `TZS`, `UGX`, `NGN`, `ZAR`, …), a label
//! (`Price:`, `bei`, `@`), a `k`/`m` multiple (`4.5k`, `1.2m`), thousands
//! separators (`45,000`, `1.500.000`), or in the price slot at the end of a
//! name-price pair. Phone numbers, sizes, model numbers, capacities, years,
//! dates and times are rejected; [`Masks`] has already hidden phones and links.
//!
//! The scanner works on the ASCII-lowercased message, whose byte offsets are
//! those of the original text.

use std::ops::Range;

use rust_decimal::Decimal;

use super::lexicon::{self, Marker};
use super::lines;
use super::mask::Masks;
use super::number::{Number, space_group};
use super::surroundings::{read_after, read_before, skip_back};

/// How sure the scanner is that a number is a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// A bare number in the price slot (`Sugar 250,`): dropped when a marked
    /// price follows it in the same pair.
    Slot,
    /// Marked, labelled, multiplied or thousands-separated.
    Marked,
}

/// A price found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceHit {
    /// The whole expression: markers, number and suffixes (`Ksh 4.5k`).
    pub span: Range<usize>,
    pub amount: Decimal,
    pub marker: Option<Marker>,
    pub strength: Strength,
}

/// The ISO code for a price: its own marker, else the message hint, else the default.
pub fn currency_code(marker: Option<Marker>, hint: Option<Marker>, default: &str) -> String {
    match marker.or(hint) {
        Some(Marker::Iso(code)) => code.to_string(),
        Some(Marker::Shilling) if matches!(default, "KES" | "TZS" | "UGX") => default.to_string(),
        Some(Marker::Shilling) => "KES".to_string(),
        None => default.to_string(),
    }
}

/// The prices on one line of `lower`, in order.
pub fn find_prices(lower: &str, line: Range<usize>, masks: &Masks) -> Vec<PriceHit> {
    let bytes = lower.as_bytes();
    let mut hits: Vec<PriceHit> = Vec::new();
    let mut i = line.start;
    while i < line.end {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let number = Number::parse(bytes, i, line.end, false);
        if !masks.covers(i)
            && let Some(mut hit) = classify(lower, &line, &number) {
                // A marker between two numbers is claimed by the later one only.
                if let Some(last) = hits.last() {
                    hit.span.start = hit.span.start.max(last.span.end);
                }
                i = hit.span.end.max(number.end);
                hits.push(hit);
                continue;
            }
        i = number.end.max(i + 1);
    }
    hits
}

/// Every price in `text`, line by line, as extraction scans them (phones and
/// links masked), without the item assembly around them. Spans are byte
/// ranges of `text`. The narrow entry point for property tests and fuzzing.
pub fn prices_in(text: &str) -> Vec<PriceHit> {
    let lower = text.to_ascii_lowercase();
    let masks = Masks::find(&lower);
    lines::split(text).into_iter().flat_map(|line| find_prices(&lower, line.content, &masks)).collect()
}

fn classify(lower: &str, line: &Range<usize>, n: &Number) -> Option<PriceHit> {
    let b = lower.as_bytes();
    if n.overflow || (n.leading_zero(b) && !n.fraction) || (!n.grouped && n.int_digits >= 9) {
        return None;
    }
    let before = read_before(lower, line.start, n.start)?;
    let spaced = before.marker.is_some() && n.int_digits <= 3 && !n.fraction && space_group(b, n.end, line.end).is_some();
    let reparsed;
    let n = if spaced {
        reparsed = Number::parse(b, n.start, line.end, true);
        &reparsed
    } else {
        n
    };
    let after = read_after(lower, line.end, n, before.marker.is_some())?;
    let marker = before.marker.or(after.marker);
    let marked = marker.is_some() || before.label;
    let word = before.word;
    if lexicon::is_reference_label(word) || (!marked && (lexicon::is_month(word) || lexicon::is_month(after.word))) {
        return None;
    }
    let plain = !marked && after.power == 0 && !n.grouped;
    if plain && lexicon::is_size_label(word) && n.int_digits <= 3 {
        return None;
    }
    if plain && before.word_adjacent && lexicon::is_model_line_word(word) {
        return None;
    }
    if after.metres_or_million && !marked && !n.fraction {
        return None;
    }
    if after.power == 3 && marker.is_none() && !n.fraction && matches!(n.int_value, 4 | 8) && is_resolution(word, after.word) {
        return None;
    }
    if plain && !n.fraction && n.int_digits == 4 && (1950..=2035).contains(&n.int_value)
        && (lexicon::is_year_label(word) || n.int_value % 50 != 0) {
            return None;
        }
    let strength = if marked || after.power > 0 || n.grouped {
        Strength::Marked
    } else if after.slot_end && (n.int_digits >= 2 || n.fraction) && !is_inline_list_marker(b, line, n) {
        Strength::Slot
    } else {
        return None;
    };
    Some(PriceHit { span: before.start..after.end, amount: n.amount(after.power)?, marker, strength })
}

/// `4k`/`8k` next to TV words is a resolution, not 4,000.
fn is_resolution(word_before: &str, word_after: &str) -> bool {
    const TV: [&str; 14] =
        ["uhd", "hdr", "tv", "smart", "display", "resolution", "ultra", "oled", "qled", "led", "monitor", "camera", "video", "screen"];
    TV.contains(&word_before) || TV.contains(&word_after)
}

/// A small number followed by `. ` or `) ` and a word, after another number:
/// the next entry of an inline list (`… 45k 2. Samsung …`).
fn is_inline_list_marker(b: &[u8], line: &Range<usize>, n: &Number) -> bool {
    if n.int_digits > 2 || n.fraction || n.end + 2 >= line.end {
        return false;
    }
    let numbered = matches!(b[n.end], b'.' | b')') && b[n.end + 1] == b' ' && b[n.end + 2].is_ascii_alphabetic();
    if !numbered {
        return false;
    }
    let token_start = skip_back(b, line.start, n.start, |c| c == b' ');
    let prev_token = &b[skip_back(b, line.start, token_start, |c| !c.is_ascii_whitespace())..token_start];
    token_start == line.start || prev_token.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prices of a one-line text as `(amount, currency)`, default KES.
    fn prices(text: &str) -> Vec<(String, String)> {
        let lower = text.to_ascii_lowercase();
        let masks = Masks::find(&lower);
        find_prices(&lower, 0..lower.len(), &masks)
            .into_iter()
            .map(|hit| (hit.amount.to_string(), currency_code(hit.marker, None, "KES")))
            .collect()
    }

    fn one(amount: &str, currency: &str) -> Vec<(String, String)> {
        vec![(amount.to_string(), currency.to_string())]
    }

    #[test]
    fn prices_in_reads_every_line_with_spans_into_the_text() {
        let text = "iPhone 12 Ksh 45,000\nCall 0712 345 678\n\u{2022} Tecno Spark 9,500/=";
        let hits = prices_in(text);
        let found: Vec<(&str, String)> = hits.iter().map(|h| (&text[h.span.clone()], h.amount.to_string())).collect();
        assert_eq!(found, vec![("Ksh 45,000", "45000".to_string()), ("9,500/=", "9500".to_string())]);
    }

    #[test]
    fn currency_markers_before_and_after() {
        let cases = [
            ("Ksh 45,000", "45000", "KES"),
            ("KES4500", "4500", "KES"),
            ("Kshs. 1,200", "1200", "KES"),
            ("Sh. 500", "500", "KES"),
            ("500 bob", "500", "KES"),
            ("1500/=", "1500", "KES"),
            ("1500/-", "1500", "KES"),
            ("$750", "750", "USD"),
            ("US$ 750", "750", "USD"),
            ("750 USD", "750", "USD"),
            ("$12.99", "12.99", "USD"),
            ("€850", "850", "EUR"),
            ("850 EUR", "850", "EUR"),
            ("£40", "40", "GBP"),
            ("GBP 40", "40", "GBP"),
            ("TZS 45,000", "45000", "TZS"),
            ("Tsh 20,000", "20000", "TZS"),
            ("UGX 450,000", "450000", "UGX"),
            ("USh 50,000", "50000", "UGX"),
            ("NGN 185,000", "185000", "NGN"),
            ("₦15,000", "15000", "NGN"),
            ("N15,000", "15000", "NGN"),
            ("ZAR 1,299", "1299", "ZAR"),
            ("R 12 500", "12500", "ZAR"),
            ("KES 45 000", "45000", "KES"),
            ("KES 1 200 000", "1200000", "KES"),
        ];
        for (text, amount, currency) in cases {
            assert_eq!(prices(text), one(amount, currency), "{text:?}");
        }
    }

    #[test]
    fn multiples_separators_and_labels() {
        let cases = [
            ("4.5k", "4500"),
            ("45K", "45000"),
            ("1.2m", "1200000"),
            ("ksh 5m", "5000000"),
            ("5 thao", "5000"),
            ("45k bob", "45000"),
            ("@ 2500", "2500"),
            ("@2500", "2500"),
            ("Price: 500", "500"),
            ("bei 500", "500"),
            ("bei ni 500", "500"),
            ("1.500", "1500"),
            ("1.500.000", "1500000"),
            ("1,200,000", "1200000"),
            ("45,000.00", "45000"),
            ("Sofa 45000", "45000"),
            ("Sugar 250,", "250"),
            ("Eggs 450 each", "450"),
        ];
        for (text, amount) in cases {
            assert_eq!(prices(text), one(amount, "KES"), "{text:?}");
        }
    }

    #[test]
    fn numbers_that_are_never_prices() {
        for text in [
            "0712345678", "call 0712 345 678", "+254 712 345 678", "254712345678", "128GB", "64 gb", "43 inch",
            "TV 43\"", "300L", "20000mAh", "Vitz 2015", "model 2020", "12/05/2024", "12.05.2024", "at 10:30",
            "8am", "Samsung A54", "core i5", "5G", "4K UHD TV", "size 42", "UK 9", "50% off", "2 pcs", "x3", "3x",
            "6x6", "Till 123456", "8th gen", "HDMI cable 2m", "Pixel 8", "Spark 10", "#1", "v2.1", "12 May",
            "5 years", "3 for", "No. 5", "2 left", "Sizes 37 to 41", "0", "007",
        ] {
            assert_eq!(prices(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn a_marker_between_two_numbers_belongs_to_the_second() {
        assert_eq!(prices("Toyota Prado 2018 Ksh 5.5m"), one("5500000", "KES"));
        assert_eq!(prices("iPhone 12 $400"), one("400", "USD"));
        assert_eq!(prices("Dell 5490 £210"), one("210", "GBP"));
        assert_eq!(
            prices("Sugar 2kg Ksh 250 Rice 5kg Ksh 900"),
            vec![("250".into(), "KES".into()), ("900".into(), "KES".into())]
        );
    }

    #[test]
    fn shillings_follow_the_vendor_region() {
        assert_eq!(currency_code(Some(Marker::Shilling), None, "TZS"), "TZS");
        assert_eq!(currency_code(Some(Marker::Shilling), None, "UGX"), "UGX");
        assert_eq!(currency_code(Some(Marker::Shilling), None, "USD"), "KES");
        assert_eq!(currency_code(None, Some(Marker::Iso("USD")), "KES"), "USD");
        assert_eq!(currency_code(None, None, "NGN"), "NGN");
    }
}
