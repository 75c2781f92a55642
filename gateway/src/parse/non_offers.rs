//! Sentences that are about the shop, not about an item: addresses and
//! directions ("Shop 12, Luthuli Ave", "opposite Otigba street"), opening
//! hours ("Open Mon - Sat 8am - 7pm", "Masaa: 8:00 - 18:00"), calls to action
//! ("Inbox to order", "Send your order today"), payment instructions ("Lipa
//! kwa M-Pesa", "Account name: …"), and warranty, returns and delivery notes
//! ("1 year warranty on all speakers", "We deliver countrywide"). A line is
//! read up to the first such sentence; from there on it is never an offer,
//! even when it holds a number.

use std::ops::Range;

use super::questions::sentences;
use super::text::{Pattern, compiled};

/// The opening words of a sentence about the shop rather than an item.
static NON_OFFER: Pattern = Pattern::new(|| {
    compiled(concat!(
        r"(?i)^[\W_]*(?:",
        // Addresses and directions.
        r"(?:shop|stall|room|suite|kiosk|office)\s*(?:no\.?|number|#)?\s*[a-z]?\d{1,4}[a-z]?\b",
        r"|(?:we\s*(?:'re|\s+are)\s+)?(?:located|based)\s+(?:at|in|along|on|opposite)\b|(?:come\s+)?find\s+us\b|visit\s+(?:us|our)\b",
        r"|our\s+(?:shop|store|office|location)\b|(?-i:[Tt]uko\s+[A-Z])|tuko\s+(?:kwa|katika|hapa|karibu|ndani|mtaa)\b|tupatikane\b",
        r"|directions?\b|landmark\b|(?:opposite|opp\.?|next\s+to|adjacent\s+to)\s",
        // Opening hours.
        r"|open(?:ing)?\s+(?:hours|daily|mon|monday|tue|wed|thu|fri|sat|sun|from|everyday|every\s+day|\d)|(?:working|business|operating)\s+hours\b",
        r"|we\s+(?:open|close)\b|masaa\b|saa\s+za\s+kazi\b",
        // Calls to action.
        r"|(?:inbox|dm|pm|call|text|sms|whats\s?app|message|chat|reach)\b(?:\s+\S+){0,5}?\s+to\s+(?:order|book|buy|reserve|purchase)\b",
        r"|(?:order|book|reserve|shop)\s+(?:now|today|yours|here)\b|(?:send|place|tuma|weka)\s+(?:your\s+|us\s+your\s+)?orders?\b",
        r"|(?:click|tap|check|follow)\s+(?:on\s+)?(?:the|this|our)?\s*(?:link|catalog|catalogue|page|profile)\b",
        // Payment instructions.
        r"|(?:lipa|pay|payments?|malipo|paybill|till\s+(?:no|number)|bank\s+(?:transfer|details|account)|account\s+(?:name|no|number|details)",
        r"|acc\s+(?:name|no)|send\s+money|transfer\s+to|opay|palmpay|moniepoint|cash\s+on\s+delivery)\b",
        // Warranty, returns and delivery notes.
        r"|(?:(?:\d+|one|two|three|six|twelve)\s*-?\s*(?:months?|yrs?|years?|days?|weeks?)\s+)?(?:warranty|guarantee|dhamana)\b",
        r"|no\s+(?:returns?|refunds?)\b|goods\s+once\s+sold\b|returns?\s+(?:accepted|within|policy)\b",
        r"|(?:we|tuna|tunafanya)\s*deliver\b|tunadeliver\b|(?:same|next)\s+day\s+delivery\b",
        r")",
    ))
});

/// Where the part of `line` about the shop starts (a byte offset into
/// `text`): the start of its first sentence that is an address, hours, call
/// to action, payment instruction or warranty or delivery note.
pub fn shop_note_start(text: &str, line: Range<usize>) -> Option<usize> {
    // Anchored: the DFA gives up a few bytes into a sentence that opens otherwise.
    let re = NON_OFFER.as_ref()?;
    sentences(text, line).find(|s| re.is_match(&text[s.clone()])).map(|s| s.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(text: &str) -> Option<&str> {
        shop_note_start(text, 0..text.len()).map(|at| &text[at..])
    }

    #[test]
    fn the_pattern_compiles() {
        assert!(NON_OFFER.is_some());
    }

    #[test]
    fn notes_about_the_shop() {
        for text in [
            "Shop 12, Luthuli Ave, Nairobi CBD",
            "Find us at Tom Mboya street",
            "We are located at Luthuli Avenue, Room 4",
            "Tuko Kenyatta Market stall 21",
            "Masaa: 8:00 - 18:00 kila siku",
            "Opening hours: Monday to Saturday 9am to 6pm",
            "Our shop dey for Computer Village",
            "We open 8am to 7pm daily",
            "Inbox to order 📩",
            "Call or WhatsApp 0712 345 678 to order",
            "Order now before stock runs out!",
            "Pay via M-Pesa till 5544332",
            "Account name: Gadget Hub",
            "Lipa kwa M-Pesa, paybill 247247",
            "1 year warranty on all speakers",
            "Dhamana mwaka mmoja",
            "Goods once sold are not returnable.",
            "We deliver countrywide",
        ] {
            assert_eq!(start(text), Some(text), "{text:?}");
        }
        assert_eq!(start("Redmi Note 12 - 23k. 1 year warranty."), Some("1 year warranty."));
        for text in ["Samsung A14 15,500", "Tuko na offer leo: Smart watch 1500 tu!", "Payless shoes 2k"] {
            assert_eq!(start(text), None, "{text:?}");
        }
    }
}
