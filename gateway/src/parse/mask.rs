//! Byte ranges of a message whose digits are never prices: links, e-mail
//! addresses and phone numbers (`0712 345 678`, `+254-712-345-678`,
//! `254712345678`). Found once per message, then consulted by the price scanner.

use std::ops::Range;

/// Sorted, non-overlapping masked ranges of one message.
#[derive(Debug, Default)]
pub struct Masks {
    ranges: Vec<Range<usize>>,
}

impl Masks {
    /// Finds the masked ranges of `text` (any case; only ASCII is inspected).
    pub fn find(text: &str) -> Self {
        let mut ranges = Vec::new();
        link_tokens(text, &mut ranges);
        phone_runs(text.as_bytes(), &mut ranges);
        ranges.sort_by_key(|r| r.start);
        Self { ranges }
    }

    /// True when byte `pos` lies inside a masked range.
    pub fn covers(&self, pos: usize) -> bool {
        let idx = self.ranges.partition_point(|r| r.start <= pos);
        idx > 0 && self.ranges[idx - 1].end > pos
    }

    /// True when any masked range overlaps `range`.
    pub fn overlaps(&self, range: &Range<usize>) -> bool {
        self.ranges.iter().any(|r| r.start < range.end && range.start < r.end)
    }
}

/// Whitespace-separated tokens that are links or e-mail addresses.
fn link_tokens(text: &str, out: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        while start < bytes.len() && bytes[start].is_ascii_whitespace() {
            start += 1;
        }
        let mut end = start;
        while end < bytes.len() && !bytes[end].is_ascii_whitespace() {
            end += 1;
        }
        if end > start && is_link_or_email(&bytes[start..end]) {
            out.push(start..end);
        }
        start = end;
    }
}

fn is_link_or_email(token: &[u8]) -> bool {
    if !token.iter().any(|b| matches!(b, b'.' | b':' | b'@')) {
        return false;
    }
    let has = |needle: &[u8]| token.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle));
    if has(b"://") || has(b"www.") || has(b"wa.me") || has(b".com") || has(b".co.") || has(b".ke/") {
        return true;
    }
    token.windows(3).any(|w| w[0].is_ascii_alphanumeric() && w[1] == b'@' && w[2].is_ascii_alphabetic())
}

/// Runs of digit groups (joined by one space, `-` or `.`) that read as a
/// phone number: nine to fifteen digits, opening with `+`, a trunk `0`, or a
/// bare country code of an eleven-plus digit international number.
fn phone_runs(bytes: &[u8], out: &mut Vec<Range<usize>>) {
    let mut i = 0;
    while i < bytes.len() {
        let plus = bytes[i] == b'+' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        let group_start = bytes[i].is_ascii_digit() && (i == 0 || !is_number_glue(bytes[i - 1]));
        if !(plus || group_start) {
            i += 1;
            continue;
        }
        let digits_from = if plus { i + 1 } else { i };
        let (end, digits, first_group) = digit_run(bytes, digits_from);
        let opens_like_phone = plus
            || bytes[digits_from] == b'0'
            || (digits >= 11 && first_group <= 4 && starts_with_country_code(&bytes[digits_from..]));
        let plain_international = digits >= 11 && first_group == digits;
        if (9..=15).contains(&digits) && (opens_like_phone || plain_international) {
            out.push(i..end);
            i = end;
        } else {
            // Skip only the first group, so a phone right after a price
            // (`45000 0712345678`) is still found.
            i = digits_from + first_group_len(bytes, digits_from);
        }
    }
}

/// Characters that glue a digit to a preceding number or word (`1,200`, `A54`).
fn is_number_glue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b',' | b'.' | b'/' | b'-' | b'+' | b'_' | b':')
}

fn first_group_len(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count().max(1)
}

/// Reads digit groups joined by single separators; returns (end, digits, first group length).
fn digit_run(bytes: &[u8], from: usize) -> (usize, usize, usize) {
    let mut end = from;
    let mut digits = 0;
    let mut first_group = 0;
    loop {
        let group = bytes[end..].iter().take_while(|b| b.is_ascii_digit()).count();
        if first_group == 0 {
            first_group = group;
        }
        digits += group;
        end += group;
        let joined = matches!(bytes.get(end), Some(b' ' | b'-' | b'.'))
            && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
            && digits < 15;
        if !joined {
            return (end, digits, first_group);
        }
        end += 1;
    }
}

fn starts_with_country_code(digits: &[u8]) -> bool {
    const CODES: [&[u8]; 12] =
        [b"254", b"255", b"256", b"250", b"257", b"211", b"251", b"234", b"233", b"27", b"44", b"1"];
    CODES.iter().any(|code| digits.starts_with(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> Vec<&str> {
        let masks = Masks::find(text);
        masks.ranges.iter().map(|r| &text[r.clone()]).collect()
    }

    #[test]
    fn phones_links_and_emails_are_masked() {
        assert_eq!(masked("call 0712 345 678 now"), ["0712 345 678"]);
        assert_eq!(masked("WhatsApp +254-712-345-678."), ["+254-712-345-678"]);
        assert_eq!(masked("254712345678"), ["254712345678"]);
        assert_eq!(masked("45000 0712345678"), ["0712345678"]);
        assert_eq!(masked("see https://wa.me/c/254712345678 or shop@duka.co.ke"), ["https://wa.me/c/254712345678", "shop@duka.co.ke"]);
    }

    #[test]
    fn prices_and_sizes_are_not_masked() {
        for text in ["Ksh 1,200,000", "45000", "Sugar 2kg 250, Rice 5kg 900", "12/05/2024", "A54 128GB 38000", "250 500 750"] {
            assert!(masked(text).is_empty(), "{text:?}: {:?}", masked(text));
        }
    }

    #[test]
    fn covers_answers_by_position() {
        let text = "iPhone 0712345678 x";
        let masks = Masks::find(text);
        assert!(!masks.covers(0));
        assert!(masks.covers(7));
        assert!(masks.covers(16));
        assert!(!masks.covers(17));
        assert!(masks.overlaps(&(5..8)));
    }
}
