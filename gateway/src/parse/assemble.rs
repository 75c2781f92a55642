//! Turns a message's lines into items: a priced line gives one item per
//! name-price pair (`priced_line`), a line holding only a price completes the
//! title line above it, and a variant line (`128GB 50k`) joins the item above.
//! Lines without a price go to the sibling module `priceless`, which also
//! closes the message (`Assembler::finish`).

use std::ops::Range;

use rust_decimal::Decimal;

use super::attrs::{self, Condition};
use super::lexicon::Marker;
use super::line_scope;
use super::lines::Line;
use super::mask::Masks;
use super::price::{self, PriceHit};
use super::priceless::Candidate;
use super::text;
use super::title_kind::{after_heading, base_of, is_detail, is_variant};

/// Most items kept from one message.
pub(super) const MAX_ITEMS: usize = 256;

/// One item before numbering.
#[derive(Debug)]
pub struct Item {
    pub title: String,
    pub price: Option<PriceHit>,
    pub span: Range<usize>,
    /// Text after the line's last price (`… all ex-UK`), read when the item states no condition.
    pub line_tail: Option<Range<usize>>,
    /// A fee stated on the item's own line: `Some(amount)`, the amount when it gave one.
    pub line_fee: Option<Option<Decimal>>,
}

/// A name-price pair on one line.
struct Group {
    title: Range<usize>,
    /// The cleaned title of `title`, computed once.
    name: Option<String>,
    price: PriceHit,
}

pub struct Assembler<'t> {
    pub(super) text: &'t str,
    pub(super) lower: &'t str,
    masks: Masks,
    cues: line_scope::MessageCues,
    pub items: Vec<Item>,
    /// The title line waiting for a price, and those that waited in vain.
    pub(super) pending: Option<Candidate>,
    pub(super) closed: Vec<Candidate>,
    /// The message says its prices are private ("Inbox for prices").
    pub(super) message_cue: bool,
    pub message_condition: Option<Condition>,
    pub currency_hint: Option<Marker>,
    /// The last item may still take the detail lines under it.
    pub(super) last_open: bool,
    pub(super) blank_since_pending: bool,
    /// A line gave an item or a title (the next title is not the first).
    pub(super) seen_content: bool,
    /// Fees stated on lines of their own (or on lines that gave no item).
    pub message_fees: Vec<Option<Decimal>>,
}

impl<'t> Assembler<'t> {
    pub fn new(text: &'t str, lower: &'t str, cues: line_scope::MessageCues) -> Self {
        Self {
            text,
            lower,
            masks: Masks::find(lower),
            cues,
            items: Vec::new(),
            pending: None,
            closed: Vec::new(),
            message_cue: false,
            message_condition: None,
            currency_hint: None,
            last_open: false,
            blank_since_pending: false,
            seen_content: false,
            message_fees: Vec::new(),
        }
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= MAX_ITEMS
    }

    pub fn line(&mut self, line: &Line) {
        if line.is_blank() {
            self.last_open = false;
            self.blank_since_pending = self.pending.is_some();
            return;
        }
        let mut line = line.clone();
        let scope = line_scope::scope(self.text, self.lower, &self.masks, self.cues, line.content.clone());
        line.content = scope.content;
        let items_before = self.items.len();
        if line.is_blank() {
            self.last_open = false;
        } else {
            let content = &self.text[line.content.clone()];
            let hits = price::find_prices(self.lower, line.content.clone(), &self.masks);
            if hits.is_empty() {
                self.priceless_line(&line, content);
            } else {
                self.priced_line(&line, hits);
            }
            self.seen_content |= self.items.len() > items_before || self.pending.is_some();
        }
        if let Some(fee) = scope.fee {
            if self.items.len() > items_before {
                self.items[items_before..].iter_mut().for_each(|item| item.line_fee = Some(fee));
            } else {
                self.message_fees.push(fee);
            }
        }
    }

    fn priced_line(&mut self, line: &Line, hits: Vec<PriceHit>) {
        let content = line.content.clone();
        let mut groups = self.group(content.start, hits);
        let tail = groups.last().map_or(content.end, |g| g.price.span.end)..content.end;
        let first_named = groups.first().is_some_and(|g| g.name.is_some());
        let tail_name = if first_named || self.pending.is_some() { None } else { self.title_at(&tail) };
        let price_first = tail_name.as_ref().is_some_and(|t| !is_detail(t));
        if price_first {
            // Price first, name after: `Ksh 500 Sugar, Ksh 900 Rice`.
            for i in 0..groups.len() {
                let (title, name) = match groups.get(i + 1) {
                    Some(next) => (next.title.clone(), next.name.clone()),
                    None => (tail.clone(), tail_name.clone()),
                };
                groups[i].title = title;
                groups[i].name = name;
            }
        }
        let count = groups.len();
        let line_tail = (!tail.is_empty() && count > 1).then(|| tail.clone());
        for (i, group) in groups.into_iter().enumerate() {
            let end = if i + 1 == count { content.end } else { group.price.span.end.max(group.title.end) };
            let start = if price_first && i == 0 { content.start } else { group.title.start.min(group.price.span.start) };
            self.priced_item(group, start..end, line_tail.clone());
        }
        self.last_open = true;
    }

    /// Splits a line's prices into name-price pairs. A price with no name
    /// before it joins the previous pair: "was X now Y" and `~X~ Y` keep the
    /// later price; `X (was Y)` and a range `X - Y` / `X to Y` keep the first.
    /// A quantity deal (`1k, 2 for 1.8k`) is a pair of its own.
    fn group(&self, line_start: usize, hits: Vec<PriceHit>) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::with_capacity(hits.len());
        let mut prev_end = line_start;
        for hit in hits {
            let gap = prev_end..hit.span.start;
            prev_end = hit.span.end;
            let name = self.title_at(&gap);
            let deal = name.is_none() && attrs::quantity_in(&self.text[gap.clone()]).is_some();
            if let Some(last) = groups.last_mut()
                && name.is_none()
                && !deal
            {
                let connector = self.lower[gap].trim_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_'));
                let keeps_first = matches!(connector, "-" | "–" | "to" | "hadi" | "/")
                    || ["was", "ilikuwa", "before", "rrp", "old"].iter().any(|w| connector.contains(w));
                if keeps_first {
                    last.price.span.end = hit.span.end;
                } else {
                    last.price = hit;
                }
                continue;
            }
            groups.push(Group { title: gap, name, price: hit });
        }
        groups
    }

    fn priced_item(&mut self, group: Group, span: Range<usize>, line_tail: Option<Range<usize>>) {
        let (own, variant) = match group.name {
            Some(name) if is_variant(&name) => (None, Some(name)),
            name => (name, None),
        };
        let (title, start) = match own {
            Some(title) => {
                self.close_pending();
                (title, trim_start(self.text, span.start, span.end))
            }
            None => {
                let (base, start) = match self.pending.take() {
                    Some(pending) => (Some(pending.title), pending.start),
                    None => {
                        let base = self.items.last().filter(|_| self.last_open || variant.is_some()).map(|i| base_of(&i.title));
                        (base, trim_start(self.text, span.start, span.end))
                    }
                };
                match (base, variant) {
                    (Some(base), Some(variant)) => (format!("{base} {variant}"), start),
                    (Some(base), None) => (base, start),
                    (None, Some(variant)) => (variant, start),
                    (None, None) => return,
                }
            }
        };
        self.push_item(title, Some(group.price), start..span.end, line_tail);
        self.last_open = true;
    }

    pub(super) fn push_item(&mut self, title: String, price: Option<PriceHit>, span: Range<usize>, line_tail: Option<Range<usize>>) {
        if self.is_full() || !title.chars().any(char::is_alphabetic) {
            return;
        }
        self.items.push(Item { title, price, span, line_tail, line_fee: None });
    }

    fn title_at(&self, range: &Range<usize>) -> Option<String> {
        let raw = &self.text[range.clone()];
        if !raw.bytes().any(|b| b.is_ascii_alphabetic()) && raw.is_ascii() {
            return None;
        }
        let title = text::clean_title(raw)?;
        Some(after_heading(title))
    }
}

/// Moves `start` past what the previous pair left behind: separators
/// (`, `, `| `) and its price's trailing words (`kila moja`, `each`, `bob`).
fn trim_start(text: &str, mut start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        start += bytes[start..end]
            .iter()
            .take_while(|b| b.is_ascii_whitespace() || matches!(b, b',' | b';' | b'|' | b'/' | b'-' | b'.' | b':' | b'!' | b'+'))
            .count();
        let word_len = bytes[start..end].iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let word = text[start..start + word_len].to_ascii_lowercase();
        let trailer = matches!(
            word.as_str(),
            "only" | "each" | "kila" | "moja" | "mmoja" | "kimoja" | "tu" | "pekee" | "negotiable" | "nego" | "neg" | "ono"
                | "bob" | "per" | "piece" | "pc" | "ea" | "apiece"
        );
        if word_len == 0 || !trailer {
            return start;
        }
        start += word_len;
    }
}
