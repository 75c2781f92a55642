//! Property of issue 18: appending any line from a corpus of non-offer lines
//! (headers, footers, addresses, opening hours, calls to action, payment and
//! warranty notes, fee lines, buyers' questions) to any offer message never
//! adds an offer and never changes the offers already found. A fee line may
//! only set the `delivery_fee` of the offers it applies to; nothing else of
//! them moves.

use proptest::prelude::*;

use super::offers::{ExtractContext, OfferDraft, extract_offers};
use super::offers_tests::GROUPS;

/// Lines that are never offers, in English, Swahili/Sheng and Pidgin.
const NON_OFFER_LINES: &[&str] = &[
    // Headers and footers, some with numbers.
    "Phone accessories available 🔥",
    "TOP 5 DEALS THIS WEEK 🔥",
    "Price list as at 1st June 2024 📋",
    "New arrivals 🔥🔥",
    "Mzigo mpya umefika 👟",
    "Fresh stock don land o 🔥",
    "All original 💯",
    "Over 500 happy customers served 🙏",
    "Offer valid for 7 days only!",
    "Karibuni wote, bei ni poa sana",
    "Thank you for your support 🙏",
    // Addresses, directions, opening hours.
    "Shop 12, Luthuli Ave, Nairobi CBD",
    "📍 Location: Nairobi CBD, Luthuli Avenue",
    "Find us at Tom Mboya street, Shop B14 opposite Ambassadeur",
    "We are located at Luthuli Avenue, Room 4, 2nd floor",
    "Tuko Kenyatta Market stall 21, karibu sana",
    "Open Mon - Sat 8am - 7pm",
    "Masaa: 8:00 - 18:00 kila siku",
    "Our shop dey for Computer Village, Ikeja",
    "We open 8am to 7pm daily",
    // Calls to action and payment instructions.
    "Inbox to order 📩",
    "Call or WhatsApp 0712 345 678 to order",
    "Order now before stock runs out!",
    "Pay via M-Pesa till 5544332",
    "Lipa kwa M-Pesa, paybill 247247 account 0712345678",
    "Account name: Gadget Hub, Opay 8123456789",
    "Click the link to see our catalogue 👇",
    // Warranty and delivery notes.
    "1 year warranty on all items",
    "Dhamana mwaka mmoja",
    "Goods once sold are not returnable.",
    "We deliver countrywide 🚚",
    "Same day delivery within Nairobi",
    // Buyers' questions.
    "how much is the Tecno Camon 20? still there?",
    "Is the A14 still 15k?",
    "Hii Samsung A14 bei gani?",
    "Niaje boss, ile Tecno Camon 20 iko?",
    "Mambo, iPhone 11 64GB ni ngapi",
    "How far, the Infinix Hot 30 still dey?",
    "Abeg how much for the Samsung 43 inch TV",
];

/// Fee lines: never offers, but they may set the `delivery_fee` of the offers.
const FEE_LINES: &[&str] = &[
    "Delivery within Westlands 250",
    "Delivery fee 500 within Nairobi",
    "+ packaging 50 bob",
    "Shipping 1,500",
    "Transport to Mombasa 800",
    "Usafiri 100",
    "Free delivery within CBD",
    "Delivery CBD 300, outside Nairobi 1,000",
    "Delivery within Lagos ₦3,000",
];

fn all_lines() -> Vec<&'static str> {
    NON_OFFER_LINES.iter().chain(FEE_LINES).copied().collect()
}

/// Every corpus message that gives at least one offer.
fn offer_messages() -> Vec<&'static str> {
    let ctx = ExtractContext::default();
    GROUPS.iter().flat_map(|group| group()).map(|(text, _)| text).filter(|text| !extract_offers(text, &ctx).is_empty()).collect()
}

/// The offer without its fee: what a fee line must leave alone.
fn without_fee(offer: &OfferDraft) -> OfferDraft {
    OfferDraft { delivery_fee: None, ..offer.clone() }
}

fn check(message: &str, line: &str, separator: &str) -> Result<(), TestCaseError> {
    let ctx = ExtractContext::default();
    let before = extract_offers(message, &ctx);
    let text = format!("{message}{separator}{line}");
    let after = extract_offers(&text, &ctx);
    prop_assert_eq!(after.len(), before.len(), "{:?} + {:?}", message, line);
    for (a, b) in after.iter().zip(&before) {
        prop_assert_eq!(without_fee(a), without_fee(b), "{:?} + {:?}", message, line);
        if a.delivery_fee != b.delivery_fee {
            prop_assert!(FEE_LINES.contains(&line), "{:?} + {:?} changed a fee", message, line);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn a_non_offer_line_never_adds_or_changes_offers(
        message in prop::sample::select(offer_messages()),
        line in prop::sample::select(all_lines()),
        separator in prop::sample::select(vec!["\n", "\n\n", "\r\n"]),
    ) {
        check(message, line, separator)?;
    }
}

#[test]
fn every_non_offer_line_alone_gives_nothing() {
    let ctx = ExtractContext::default();
    let offered: Vec<_> = all_lines().into_iter().filter(|line| !extract_offers(line, &ctx).is_empty()).collect();
    assert!(offered.is_empty(), "{offered:?}");
}

#[test]
fn the_property_holds_for_every_pair() {
    // The sampled property above, exhaustively: the corpus is small enough.
    let messages = offer_messages();
    assert!(messages.len() >= 150, "{}", messages.len());
    for message in &messages {
        for line in all_lines() {
            check(message, line, "\n").unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
