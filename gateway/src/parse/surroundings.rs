//! What stands around a number on its line: the currency marker, label or
//! word before it (`Ksh 45,000`, `Price: 500`, `@ 20`, `Pixel 8`), and the
//! multiple, marker, unit or word after it (`45k`, `2500/=`, `128GB`, `500
//! only`). [`super::price`] weighs these to decide whether it is a price.

use super::lexicon::{self, Marker};
use super::number::Number;

/// What stands before a number.
#[derive(Debug, Default)]
pub(crate) struct Before<'a> {
    pub start: usize,
    pub marker: Option<Marker>,
    pub label: bool,
    pub word: &'a str,
    /// The word is separated from the number by spaces only (`Pixel 8`, not `Pixel - 8`).
    pub word_adjacent: bool,
}

/// What stands after a number.
#[derive(Debug, Default)]
pub(crate) struct After<'a> {
    pub end: usize,
    pub marker: Option<Marker>,
    pub power: u32,
    pub metres_or_million: bool,
    pub slot_end: bool,
    pub word: &'a str,
}

pub(crate) fn read_before<'a>(lower: &'a str, line_start: usize, start: usize) -> Option<Before<'a>> {
    let b = lower.as_bytes();
    let mut before = Before { start, ..Before::default() };
    if start == line_start {
        return Some(before);
    }
    let prev = b[start - 1];
    if prev.is_ascii_alphabetic() {
        // Letters glued to the number: a currency (`Ksh45,000`) or a model (`A54`, `x3`).
        let word_start = letters_back(b, line_start, start);
        if word_start > line_start && b[word_start - 1].is_ascii_alphanumeric() {
            return None;
        }
        let word = &lower[word_start..start];
        let marker = lexicon::currency_word(word).or_else(|| letter_currency(word, b, start))?;
        before.marker = Some(marker);
        before.start = word_start;
        return Some(before);
    }
    if matches!(prev, b'#' | b'+') {
        return None;
    }
    let glued = start >= line_start + 2 && b[start - 2].is_ascii_alphanumeric();
    let glued_to_digit = glued && b[start - 2].is_ascii_digit();
    if (glued && matches!(prev, b'-' | b'/' | b'\'')) || (glued_to_digit && matches!(prev, b':' | b'.' | b',')) {
        return None;
    }
    let mut p = skip_back(b, line_start, start, |c| matches!(c, b' ' | b'\t' | b'*' | b'_' | b'~'));
    let mut punctuated = p < start && glued && prev == b'.';
    if p > line_start {
        if b[p - 1] == b'$' {
            before.marker = Some(Marker::Iso("USD"));
            before.start = if lower[..p - 1].ends_with("us") { p - 3 } else { p - 1 };
            return Some(before);
        }
        for (symbol, code) in lexicon::CURRENCY_SYMBOLS {
            if lower[..p].ends_with(symbol) {
                before.marker = Some(Marker::Iso(code));
                before.start = p - symbol.len();
                return Some(before);
            }
        }
        if b[p - 1] == b'@' {
            before.label = true;
            before.start = p - 1;
            return Some(before);
        }
        if matches!(b[p - 1], b':' | b'=' | b'-' | b'.' | b'(') {
            punctuated = true;
            p = skip_back(b, line_start, p - 1, |c| matches!(c, b' ' | b'\t' | b'*' | b'_'));
        }
    }
    let word_start = letters_back(b, line_start, p);
    if word_start == p || (word_start > line_start && b[word_start - 1].is_ascii_digit()) {
        return Some(before);
    }
    let word = &lower[word_start..p];
    if matches!(word, "to" | "hadi") && ends_with_number(b, line_start, word_start) {
        // `37 to 41`: the far end of a range is never the price; the near end may be.
        return None;
    }
    if let Some(marker) = lexicon::currency_word(word).or_else(|| letter_currency(word, b, start)) {
        before.marker = Some(marker);
        before.start = word_start;
    } else if lexicon::is_price_label(word) {
        before.label = true;
    }
    before.word = word;
    before.word_adjacent = !punctuated;
    Some(before)
}

pub(crate) fn read_after<'a>(lower: &'a str, line_end: usize, n: &Number, marked_before: bool) -> Option<After<'a>> {
    let b = lower.as_bytes();
    let mut after = After { end: n.end, ..After::default() };
    let e = n.end;
    if e < line_end {
        let next_digit = e + 1 < line_end && b[e + 1].is_ascii_digit();
        match b[e] {
            b'.' | b'/' | b':' | b'x' if next_digit => return None,
            b'-' if next_digit && !marked_before => return None,
            b'%' | b'"' | b'\'' => return None,
            _ => {}
        }
        if ["”", "″", "’", "×"].iter().any(|s| lower[e..].starts_with(s)) {
            return None;
        }
    }
    let mut q = e;
    if q < line_end && b[q].is_ascii_alphabetic() {
        // Letters glued to the number: `45k`, `1.2m`, `500bob`; else a unit or model.
        let word_end = letters_forward(b, q, line_end);
        let word = &lower[q..word_end];
        if word_end < line_end && b[word_end].is_ascii_digit() {
            return None;
        }
        if let Some(power) = lexicon::multiplier_word(word) {
            after.power = power;
            after.metres_or_million = word == "m";
        } else if let Some(marker) = lexicon::currency_word(word) {
            after.marker = Some(marker);
        } else {
            return None;
        }
        after.end = word_end;
        q = word_end;
    }
    for _ in 0..3 {
        let gap_end = skip_forward(b, q, line_end, |c| matches!(c, b' ' | b'\t' | b'*' | b'_' | b'~'));
        if gap_end >= line_end {
            after.slot_end = true;
            break;
        }
        let rest = &lower[gap_end..line_end];
        if let Some(len) = ["/=", "/-", "=/"].iter().find(|s| rest.starts_with(**s)).map(|s| s.len()) {
            after.marker.get_or_insert(Marker::Shilling);
            after.end = gap_end + len;
            after.end += usize::from(lower[after.end..line_end].starts_with('-'));
            q = after.end;
            continue;
        }
        if let Some((symbol, code)) =
            std::iter::once(("$", "USD")).chain(lexicon::CURRENCY_SYMBOLS).find(|(s, _)| rest.starts_with(s))
        {
            if opens_next_price(b, gap_end + symbol.len(), line_end) {
                // `iPhone 12 $400`: the symbol belongs to the next number.
                break;
            }
            after.marker.get_or_insert(Marker::Iso(code));
            after.end = gap_end + symbol.len();
            q = after.end;
            continue;
        }
        let c = b[gap_end];
        if c.is_ascii_alphabetic() {
            let word_end = letters_forward(b, gap_end, line_end);
            let word = &lower[gap_end..word_end];
            let spaced_letter = word.len() == 1 && !matches!(word, "l" | "g" | "k" | "m");
            if after.power == 0 && after.marker.is_none() && lexicon::multiplier_word(word).is_some() && gap_end > q {
                after.power = lexicon::multiplier_word(word).unwrap_or(0);
                after.metres_or_million = word == "m";
                after.end = word_end;
                q = word_end;
                continue;
            }
            if let Some(marker) = lexicon::currency_word(word) {
                if opens_next_price(b, word_end, line_end) {
                    // `2018 Ksh 5.5m`: the marker belongs to the next number.
                    break;
                }
                after.marker.get_or_insert(marker);
                after.end = word_end;
                q = word_end;
                continue;
            }
            let priced = marked_before || after.marker.is_some() || after.power > 0;
            if !priced && ((lexicon::is_unit(word) && !spaced_letter) || matches!(word, "for" | "kwa" | "x")) {
                return None;
            }
            after.word = word;
            after.slot_end |= lexicon::is_price_trailer(word)
                || (matches!(word, "to" | "hadi") && opens_next_price(b, word_end, line_end));
            break;
        }
        after.slot_end |= match c {
            b',' | b';' | b'|' | b'!' | b')' | b']' | b'?' => true,
            b'.' => gap_end + 1 >= line_end || !b[gap_end + 1].is_ascii_digit(),
            b'(' => lower[gap_end + 1..line_end].split(|ch: char| !ch.is_ascii_alphabetic()).next().is_some_and(lexicon::is_price_trailer),
            // `150 - 300`: the first end of a price range.
            b'-' => marked_before || after.marker.is_some() || after.power > 0 || opens_next_price(b, gap_end + 1, line_end),
            _ => !c.is_ascii(),
        };
        break;
    }
    Some(after)
}

/// `N15,000` (naira) and `R 12,500` (rand): one letter is a currency only
/// before a thousands-separated number, so `N95` and `R8` stay models.
fn letter_currency(word: &str, b: &[u8], number_start: usize) -> Option<Marker> {
    let code = match word {
        "n" => "NGN",
        "r" => "ZAR",
        _ => return None,
    };
    let digits = b[number_start..].iter().take_while(|c| c.is_ascii_digit()).count();
    let next = number_start + digits;
    ((1..=3).contains(&digits) && next + 3 < b.len() && matches!(b[next], b',' | b' ') && b[next + 1..next + 4].iter().all(u8::is_ascii_digit))
        .then_some(Marker::Iso(code))
}

/// The text before `end` (after spaces) ends with a digit.
pub(crate) fn ends_with_number(b: &[u8], floor: usize, end: usize) -> bool {
    let p = skip_back(b, floor, end, |c| c == b' ');
    p > floor && b[p - 1].is_ascii_digit()
}

/// A digit follows (after spaces, `.` or `:`): the currency word before it is that number's prefix.
pub(crate) fn opens_next_price(b: &[u8], from: usize, limit: usize) -> bool {
    let next = skip_forward(b, from, limit, |c| matches!(c, b' ' | b'\t' | b'.' | b':'));
    next < limit && b[next].is_ascii_digit()
}

fn letters_back(b: &[u8], floor: usize, mut p: usize) -> usize {
    while p > floor && b[p - 1].is_ascii_alphabetic() {
        p -= 1;
    }
    p
}

fn letters_forward(b: &[u8], mut p: usize, limit: usize) -> usize {
    while p < limit && b[p].is_ascii_alphabetic() {
        p += 1;
    }
    p
}

pub(crate) fn skip_back(b: &[u8], floor: usize, mut p: usize, skip: impl Fn(u8) -> bool) -> usize {
    while p > floor && skip(b[p - 1]) {
        p -= 1;
    }
    p
}

fn skip_forward(b: &[u8], mut p: usize, limit: usize, skip: impl Fn(u8) -> bool) -> usize {
    while p < limit && skip(b[p]) {
        p += 1;
    }
    p
}
