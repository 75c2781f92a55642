//! Fee lines: delivery, shipping, transport and packaging charges
//! ("Delivery within Westlands 250", "+ packaging 50 bob", "Usafiri 100",
//! "Sofa 45k, delivery 200"). A fee is never an offer; the part of the line
//! from the fee word on is cut off, and its amount, when it states exactly
//! one, becomes the `delivery_fee` of the items it applies to.

use rust_decimal::Decimal;

use super::mask::Masks;
use super::number::Number;
use super::price;
use super::text::{Pattern, compiled, is_match};

/// A fee word, at the start of a line or after a separator or space.
static FEE: Pattern = Pattern::new(|| {
    compiled(concat!(
        r"(?i)(?:^|[\s.,;!(|+&/-])(?P<fee>(?:free\s+)?(?:delivery|deliveries|shipping|transport(?:ation)?|packaging|packing",
        r"|courier|dispatch|postage|usafiri|waybill|rider\s+fee|gharama\s+ya\s+(?:delivery|usafiri|kusafirisha))\b)",
    ))
});

/// The first letters of every fee word, as one literal alternation: the regex
/// crate runs it as a single SIMD multi-substring pass (Teddy), where eleven
/// `contains` calls read the text eleven times.
static FEE_WORD_START: Pattern = Pattern::new(|| {
    compiled("deliver|ship|transport|pack|courier|dispatch|postage|usafiri|waybill|rider|gharama")
});

/// The fee part of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeNote {
    /// Where the fee part starts (a byte offset into the message).
    pub start: usize,
    /// The one amount it states; `None` when free, unstated or several.
    pub amount: Option<Decimal>,
}

/// The fee part of the line `line` of `text` (`lower` is its scan text).
pub fn fee_in(text: &str, lower: &str, line: std::ops::Range<usize>, masks: &Masks) -> Option<FeeNote> {
    let content = &lower[line.clone()];
    if !quick_fee_word(content) {
        return None;
    }
    let re = FEE.as_ref()?;
    let fee = re.captures(&text[line.clone()])?.name("fee")?;
    let start = line.start + fee.start();
    let free = lower[start..].starts_with("free");
    let amount = if free { None } else { one_amount(lower, start..line.end, masks) };
    Some(FeeNote { start, amount })
}

/// Most text names no fee: skip the regex unless a fee word's first letters
/// appear. `lower` is scan text (ASCII-lowercased). The extractor asks once per
/// message and reads the lines only when the message passes.
pub(crate) fn quick_fee_word(lower: &str) -> bool {
    is_match(&FEE_WORD_START, lower)
}

/// The single amount of a fee phrase: its one price, else its one bare
/// number of two to six digits that no unit follows (`fee 500 within …`).
fn one_amount(lower: &str, range: std::ops::Range<usize>, masks: &Masks) -> Option<Decimal> {
    let hits = price::find_prices(lower, range.clone(), masks);
    match hits.as_slice() {
        [one] => return Some(one.amount),
        [] => {}
        _ => return None,
    }
    let b = lower.as_bytes();
    let mut found = None;
    let mut i = range.start;
    while i < range.end {
        if !b[i].is_ascii_digit() || (i > range.start && b[i - 1].is_ascii_alphanumeric()) || masks.covers(i) {
            i += 1;
            continue;
        }
        let n = Number::parse(b, i, range.end, false);
        let unit_follows = b.get(n.end).is_some_and(u8::is_ascii_alphabetic);
        if !n.overflow && (2..=6).contains(&n.int_digits) && b[i] != b'0' && !unit_follows && !n.fraction {
            if found.is_some() {
                return None;
            }
            found = n.amount(0);
        }
        i = n.end.max(i + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(text: &str) -> Option<(String, Option<String>)> {
        let lower = text.to_ascii_lowercase();
        let masks = Masks::find(&lower);
        fee_in(text, &lower, 0..text.len(), &masks).map(|f| (text[f.start..].to_string(), f.amount.map(|a| a.to_string())))
    }

    #[test]
    fn the_patterns_compile() {
        assert!(FEE.is_some() && FEE_WORD_START.is_some());
    }

    #[test]
    fn every_fee_word_passes_the_quick_test() {
        for word in ["delivery", "deliveries", "shipping", "transport", "transportation", "packaging", "packing", "courier",
            "dispatch", "postage", "usafiri", "waybill", "rider fee", "gharama ya delivery", "free delivery"] {
            assert!(quick_fee_word(word), "{word:?}");
            assert!(FEE.as_ref().is_some_and(|re| re.is_match(word)), "{word:?}");
        }
        assert!(!quick_fee_word("samsung a14 15,500"));
    }

    #[test]
    fn fee_parts_and_their_amounts() {
        let some = |part: &str, amount: &str| Some((part.to_string(), Some(amount.to_string())));
        assert_eq!(fee("Delivery within Westlands 250"), some("Delivery within Westlands 250", "250"));
        assert_eq!(fee("Delivery fee 500 within Nairobi"), some("Delivery fee 500 within Nairobi", "500"));
        assert_eq!(fee("+ packaging 50 bob"), some("packaging 50 bob", "50"));
        assert_eq!(fee("Sofa 45k, delivery fee 500"), some("delivery fee 500", "500"));
        assert_eq!(fee("Usafiri 100"), some("Usafiri 100", "100"));
        assert_eq!(fee("Free delivery within CBD"), Some(("Free delivery within CBD".into(), None)));
        assert_eq!(fee("Delivery CBD 300, outside Nairobi 1,000"), Some(("Delivery CBD 300, outside Nairobi 1,000".into(), None)));
        assert_eq!(fee("Call 0712 345 678 for delivery"), Some(("delivery".into(), None)));
        assert_eq!(fee("Samsung A14 15,500"), None);
    }
}
