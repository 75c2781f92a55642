//! The title lines of a message that hold no price: a line with "inbox for
//! price" is an item without a price; other title lines wait for a price on
//! the lines below (`Candidate`), and those still waiting when the message
//! ends become items only when the message says its prices are private or the
//! line says the item is available. Greetings, headers, condition lines and
//! currency notes set what they state for the message and are never items.

use super::assemble::{Assembler, Item, MAX_ITEMS};
use super::lines::Line;
use super::title_kind::{has_model_token, is_detail, is_product_like, names_brand};
use super::{attrs, lexicon, text};

/// A title line still waiting for its price.
#[derive(Debug)]
pub(super) struct Candidate {
    pub(super) title: String,
    pub(super) start: usize,
    pub(super) end: usize,
    listed: bool,
    product_like: bool,
    own_cue: bool,
    /// It is the message's first line (where a one-item post names its item).
    first_line: bool,
    /// Later title-like lines of the same block; items only if the message hides its prices.
    secondary: Vec<Candidate>,
}

impl Assembler<'_> {
    /// Closes the message: pending title lines become price-less items when
    /// the message or the line itself says they are offered.
    pub fn finish(mut self) -> Vec<Item> {
        self.close_pending();
        let message_cue = self.message_cue;
        // A priceless title is offered when it names a product and the message
        // or the line says it is for sale. One that names no model (`Phone
        // accessories available`) is a header, footer or category, unless it
        // names a brand and opens a message that offers nothing else
        // (`Ramtons fridge available`).
        let cued = |candidate: &Candidate| (message_cue || candidate.own_cue) && candidate.product_like;
        let candidates: Vec<Candidate> = std::mem::take(&mut self.closed)
            .into_iter()
            .flat_map(|mut candidate| {
                let secondary = std::mem::take(&mut candidate.secondary);
                std::iter::once(candidate).chain(secondary)
            })
            .filter(|candidate| cued(candidate))
            .collect();
        let modelled = candidates.iter().filter(|c| has_model_token(&c.title)).count();
        let sole = self.items.is_empty() && candidates.len() == 1;
        for candidate in candidates {
            let lone_brand = sole && modelled == 0 && candidate.first_line && names_brand(&candidate.title);
            if has_model_token(&candidate.title) || lone_brand {
                self.push_item(candidate.title, None, candidate.start..candidate.end, None);
            }
        }
        self.items.sort_by_key(|item| item.span.start);
        self.items.truncate(MAX_ITEMS);
        self.items
    }

    pub(super) fn priceless_line(&mut self, line: &Line, content: &str) {
        let cue = attrs::has_price_cue(content);
        let header = content.trim_end_matches(|c: char| !c.is_alphanumeric() && c != ':').ends_with(':');
        let title = if header { None } else { text::clean_title(content) };
        let Some(title) = title else {
            self.message_cue |= cue;
            self.titleless_line(line, content, header);
            return;
        };
        let product_like = is_product_like(&title);
        if attrs::is_soft_notice(content) && !product_like {
            return;
        }
        if cue && !product_like {
            self.message_cue = true;
            self.titleless_line(line, content, header);
            return;
        }
        if cue {
            self.close_pending();
            self.push_item(title, None, line.content.clone(), None);
            self.last_open = true;
            return;
        }
        if is_detail(&title) {
            self.extend_open(line.content.end);
            return;
        }
        let own_cue = attrs::has_availability_cue(content) || attrs::condition_in(content).is_some();
        let candidate = Candidate {
            title,
            start: line.content.start,
            end: line.content.end,
            listed: line.listed,
            product_like,
            own_cue,
            first_line: !self.seen_content,
            secondary: Vec::new(),
        };
        match self.pending.as_mut() {
            Some(pending) if !(line.listed || pending.listed || self.blank_since_pending) => {
                pending.secondary.push(candidate);
            }
            Some(_) => {
                self.close_pending();
                self.pending = Some(candidate);
            }
            None => self.pending = Some(candidate),
        }
        self.blank_since_pending = false;
        self.last_open = false;
    }

    /// A line with no product name: a header, a condition (`Ex-UK`), a
    /// currency note (`Prices in USD`) or a call-to-action.
    fn titleless_line(&mut self, line: &Line, content: &str, header: bool) {
        if attrs::is_soft_notice(content) {
            return;
        }
        let lower = &self.lower[line.content.clone()];
        if self.currency_hint.is_none() {
            self.currency_hint = lower.split(|c: char| !c.is_ascii_alphabetic()).find_map(lexicon::currency_word);
        }
        let about_all = lower.trim_start_matches(|c: char| !c.is_ascii_alphanumeric()).starts_with("all ")
            || lower.contains("zote")
            || lower.contains("everything");
        if header {
            self.message_condition = self.message_condition.or(attrs::condition_in(content));
            self.close_pending();
            self.last_open = false;
        } else if about_all {
            self.message_condition = self.message_condition.or(attrs::condition_in(content));
        } else if let Some(condition) = attrs::condition_in(content) {
            if !self.extend_open(line.content.end) {
                self.message_condition = self.message_condition.or(Some(condition));
            }
        }
        // Other lines of only generic words (`New arrivals 🔥`) are headers and
        // footers: they extend no item.
    }

    /// Lets the title line waiting for a price, else the last item, take a
    /// detail line ending at `end`. False when neither is open.
    pub(super) fn extend_open(&mut self, end: usize) -> bool {
        if let Some(pending) = self.pending.as_mut() {
            match pending.secondary.last_mut() {
                Some(last) => last.end = end,
                None => pending.end = end,
            }
            return true;
        }
        if self.last_open
            && let Some(item) = self.items.last_mut() {
                item.span.end = item.span.end.max(end);
                return true;
            }
        false
    }

    pub(super) fn close_pending(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.closed.push(pending);
        }
        self.blank_since_pending = false;
    }
}
