//! Offer extraction (`gateway::parse::extract_offers`): total, deterministic,
//! items numbered in order with spans on char boundaries, positive prices and
//! ISO currency codes.

use gateway::parse::offers::MAX_MESSAGE_BYTES;
use gateway::parse::{ExtractContext, extract_offers};

/// Vendor default currencies the context may carry; the input's length picks one.
const DEFAULTS: [&str; 4] = ["KES", "TZS", "USD", "NGN"];

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ctx = ExtractContext { default_currency: DEFAULTS[data.len() % DEFAULTS.len()] };
    let offers = extract_offers(&text, &ctx);
    assert_eq!(offers, extract_offers(&text, &ctx), "extraction is deterministic");
    let mut previous_start = 0;
    for (index, offer) in offers.iter().enumerate() {
        assert_eq!(offer.item_index as usize, index, "items are numbered in order");
        super::assert_span(&text, &offer.span, "offer");
        assert!(offer.span.end <= MAX_MESSAGE_BYTES, "offer beyond the bytes read: {:?}", offer.span);
        assert!(offer.span.start >= previous_start, "offers in order of appearance");
        previous_start = offer.span.start;
        if let Some(price) = offer.price {
            assert!(price.is_sign_positive() && !price.is_zero(), "price must be positive: {price}");
        }
        assert!(
            offer.currency.len() == 3 && offer.currency.bytes().all(|b| b.is_ascii_uppercase()),
            "currency is an ISO code: {:?}",
            offer.currency
        );
        assert_eq!(offer.quantity.map(|q| q > 0), offer.quantity.map(|_| true), "quantity is never 0");
    }
}
