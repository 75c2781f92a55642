//! Price scanning (`gateway::parse::price::prices_in`): amounts positive and
//! bounded, spans non-empty, ordered and on char boundaries, currency codes ISO.

use gateway::parse::price::{currency_code, prices_in};
use rust_decimal::Decimal;

/// The scanner's ceiling (`parse/number.rs`): larger numbers are ids.
const MAX_AMOUNT: i64 = 10_000_000_000_000;

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut previous_end = 0;
    for hit in prices_in(&text) {
        assert!(hit.amount > Decimal::ZERO, "price must be positive: {}", hit.amount);
        assert!(hit.amount <= Decimal::from(MAX_AMOUNT), "price above the ceiling: {}", hit.amount);
        super::assert_span(&text, &hit.span, "price");
        assert!(!hit.span.is_empty(), "empty price span");
        assert!(hit.span.start >= previous_end, "price spans overlap: {:?} after {previous_end}", hit.span);
        previous_end = hit.span.end;
        let code = currency_code(hit.marker, None, "KES");
        assert!(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()), "currency code {code:?}");
    }
}
