//! The part of a line that may name an item for sale. Before the assembler
//! reads a line, this cuts off what is never an offer: buyers' questions
//! ([`super::questions`]), sentences about the shop ([`super::non_offers`]:
//! addresses, hours, calls to action, payment, warranty and delivery notes),
//! fee phrases ([`super::fees`], whose amount is kept) and notices
//! ([`super::attrs::notice_start`]: order numbers, paybills, greetings' tails).

use std::ops::Range;

use rust_decimal::Decimal;

use super::mask::Masks;
use super::{attrs, fees, non_offers, questions};

/// What a message may hold at all, found once per message so that lines of a
/// message without any question mark, question word or fee word skip those checks.
#[derive(Debug, Clone, Copy)]
pub struct MessageCues {
    /// A `?` or a question word appears somewhere ([`questions::may_ask`]).
    pub asks: bool,
    /// A fee word's first letters appear somewhere ([`fees::quick_fee_word`]).
    pub fees: bool,
}

impl MessageCues {
    /// `text` is the message, `lower` its scan text.
    pub fn of(text: &str, lower: &str) -> Self {
        Self { asks: questions::may_ask(text), fees: fees::quick_fee_word(lower) }
    }
}

/// What is left of one line, and the fee it states.
#[derive(Debug)]
pub struct Scope {
    /// The content that may hold items; empty when nothing is left.
    pub content: Range<usize>,
    /// The line stated a fee: `Some(amount)` when it gave exactly one amount.
    pub fee: Option<Option<Decimal>>,
}

/// Cuts the line `content` of `text` down to the part that may hold items.
pub fn scope(text: &str, lower: &str, masks: &Masks, cues: MessageCues, content: Range<usize>) -> Scope {
    let mut content = if cues.asks {
        match questions::without_questions(text, content.clone()) {
            Some(kept) => kept,
            None => return Scope { content: content.start..content.start, fee: None },
        }
    } else {
        content
    };
    // A note about the shop goes first: "Payment before delivery" states no fee.
    if let Some(at) = non_offers::shop_note_start(text, content.clone()) {
        content.end = kept_end(text, content.start, at);
    }
    let mut fee = None;
    if let Some(note) = cues.fees.then(|| fees::fee_in(text, lower, content.clone(), masks)).flatten() {
        fee = Some(note.amount);
        content.end = kept_end(text, content.start, note.start);
    }
    if let Some(notice) = attrs::notice_start(&text[content.clone()]) {
        content.end = kept_end(text, content.start, content.start + notice);
    }
    Scope { content, fee }
}

/// The end of the kept part `start..cut`, without the separators left hanging.
fn kept_end(text: &str, start: usize, cut: usize) -> usize {
    let kept = text[start..cut].trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '(' | '[' | ',' | ';' | '-' | ':' | '|' | '+' | '&' | '/')
    });
    start + kept.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str) -> (&str, Option<Option<String>>) {
        let lower = text.to_ascii_lowercase();
        let masks = Masks::find(&lower);
        let scope = scope(text, &lower, &masks, MessageCues::of(text, &lower), 0..text.len());
        (&text[scope.content], scope.fee.map(|f| f.map(|a| a.to_string())))
    }

    #[test]
    fn what_a_line_keeps() {
        assert_eq!(kept("Sofa 45k, delivery fee 500"), ("Sofa 45k", Some(Some("500".into()))));
        assert_eq!(kept("iPhone 12 - 45k (delivery fee 200)"), ("iPhone 12 - 45k", Some(Some("200".into()))));
        assert_eq!(kept("Delivery within Westlands 250"), ("", Some(Some("250".into()))));
        assert_eq!(kept("All original. Delivery within Westlands 250"), ("All original.", Some(Some("250".into()))));
        assert_eq!(kept("Looking for a laptop? HP 840 G5 - 35k"), ("HP 840 G5 - 35k", None));
        assert_eq!(kept("Redmi Note 12 - 23k. 1 year warranty."), ("Redmi Note 12 - 23k.", None));
        assert_eq!(kept("Is the A14 still 15k?"), ("", None));
        assert_eq!(kept("Samsung A14 15,500"), ("Samsung A14 15,500", None));
        assert_eq!(kept("Payment before delivery. Account name: Gadget Hub, Opay 8123456789"), ("", None));
    }
}
