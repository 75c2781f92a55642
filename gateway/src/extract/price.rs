//! Prices in message text. Scans a line for numbers and keeps those that read
//! as prices: with a currency marker before or after (`KES`, `Ksh`, `Sh.`,
//! `bob`, `/=`, `$`, `€`, `£`, `₦`, `TZS`, `UGX`, `NGN`, `ZAR`, …), a label
//! (`Price:`, `bei`, `@`), a `k`/`m` multiple (`4.5k`, `1.2m`), thousands
//! separators (`45,000`, `1.500.000`), or in the price slot at the end of a
//! name-price pair. Phone numbers, sizes, model numbers, capacities, years,
//! dates and times are rejected; [`Masks`] has already hidden phones and links.
//!
//! The scanner works on the ASCII-lowercased message, whose byte offsets are
//! those of the original text.

use std::ops::Range;

use rust_decimal::Decimal;

use super::lexicon::{self, Marker};
use super::mask::Masks;

/// How sure the scanner is that a number is a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// A bare number in the price slot (`Sugar 250,`): dropped when a marked
    /// price follows it in the same pair.
    Slot,
    /// Marked, labelled, multiplied or thousands-separated.
    Marked,
}

/// A price found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceHit {
    /// The whole expression: markers, number and suffixes (`Ksh 4.5k`).
    pub span: Range<usize>,
    pub amount: Decimal,
    pub marker: Option<Marker>,
    pub strength: Strength,
}

/// Largest amount accepted; anything above is an id, not a price.
const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// The ISO code for a price: its own marker, else the message hint, else the default.
pub fn currency_code(marker: Option<Marker>, hint: Option<Marker>, default: &str) -> String {
    match marker.or(hint) {
        Some(Marker::Iso(code)) => code.to_string(),
        Some(Marker::Shilling) if matches!(default, "KES" | "TZS" | "UGX") => default.to_string(),
        Some(Marker::Shilling) => "KES".to_string(),
        None => default.to_string(),
    }
}

/// The prices on one line of `lower`, in order.
pub fn find_prices(lower: &str, line: Range<usize>, masks: &Masks) -> Vec<PriceHit> {
    let bytes = lower.as_bytes();
    let mut hits: Vec<PriceHit> = Vec::new();
    let mut i = line.start;
    while i < line.end {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let number = Number::parse(bytes, i, line.end, false);
        if !masks.covers(i)
            && let Some(mut hit) = classify(lower, &line, &number) {
                // A marker between two numbers is claimed by the later one only.
                if let Some(last) = hits.last() {
                    hit.span.start = hit.span.start.max(last.span.end);
                }
                i = hit.span.end.max(number.end);
                hits.push(hit);
                continue;
            }
        i = number.end.max(i + 1);
    }
    hits
}

/// A number as written: digits with optional thousands groups and fraction.
#[derive(Debug)]
struct Number {
    start: usize,
    end: usize,
    mantissa: u64,
    scale: u32,
    int_value: u64,
    int_digits: usize,
    grouped: bool,
    fraction: bool,
    overflow: bool,
}

impl Number {
    /// Reads the number at `start`; `space_groups` also accepts `45 000`
    /// (only asked for after a currency marker, where it cannot be two numbers).
    fn parse(b: &[u8], start: usize, limit: usize, space_groups: bool) -> Self {
        let mut n = Number {
            start,
            end: start,
            mantissa: 0,
            scale: 0,
            int_value: 0,
            int_digits: 0,
            grouped: false,
            fraction: false,
            overflow: false,
        };
        let mut j = n.read_digits(b, start, limit);
        let first_group = n.int_digits;
        let leading_zero = b[start] == b'0' && first_group > 1;
        let groupable = first_group <= 3 && !leading_zero;
        while groupable && is_group(b, j, limit, b',') {
            j = n.read_digits(b, j + 1, limit);
            n.grouped = true;
        }
        while groupable && space_groups && !n.grouped && is_group(b, j, limit, b' ') {
            j = n.read_digits(b, j + 1, limit);
            n.grouped = true;
        }
        let dotted =
            groupable && !n.grouped && is_group(b, j, limit, b'.') && !followed_by_multiplier(b, j + 4, limit);
        if dotted {
            while is_group(b, j, limit, b'.') {
                j = n.read_digits(b, j + 1, limit);
                n.grouped = true;
            }
        }
        n.int_value = n.mantissa;
        if !dotted && j + 1 < limit && b[j] == b'.' && b[j + 1].is_ascii_digit() {
            let before = j + 1;
            j = n.read_digits(b, before, limit);
            n.scale = u32::try_from(j - before).unwrap_or(u32::MAX);
            n.int_digits -= j - before;
            n.fraction = true;
        }
        n.end = j;
        n.overflow |= n.int_digits > 15 || n.scale > 6;
        n
    }

    fn read_digits(&mut self, b: &[u8], from: usize, limit: usize) -> usize {
        let mut j = from;
        while j < limit && b[j].is_ascii_digit() {
            let digit = u64::from(b[j] - b'0');
            match self.mantissa.checked_mul(10).and_then(|m| m.checked_add(digit)) {
                Some(m) => self.mantissa = m,
                None => self.overflow = true,
            }
            self.int_digits += 1;
            j += 1;
        }
        j
    }

    fn leading_zero(&self, b: &[u8]) -> bool {
        b[self.start] == b'0' && self.int_digits > 1
    }

    fn amount(&self, power_of_ten: u32) -> Option<Decimal> {
        if self.overflow {
            return None;
        }
        let mut amount = Decimal::try_from_i128_with_scale(i128::from(self.mantissa), self.scale).ok()?;
        for _ in 0..power_of_ten {
            amount = amount.checked_mul(Decimal::TEN)?;
        }
        let amount = amount.normalize();
        (amount > Decimal::ZERO && amount <= Decimal::from(MAX_AMOUNT)).then_some(amount)
    }
}

/// `,ddd` or `.ddd` at `j`, not followed by a fourth digit.
fn is_group(b: &[u8], j: usize, limit: usize, sep: u8) -> bool {
    j + 4 <= limit
        && b[j] == sep
        && b[j + 1..j + 4].iter().all(u8::is_ascii_digit)
        && !(j + 4 < limit && b[j + 4].is_ascii_digit())
}

fn followed_by_multiplier(b: &[u8], j: usize, limit: usize) -> bool {
    j < limit && matches!(b[j], b'k' | b'm') && !(j + 1 < limit && b[j + 1].is_ascii_alphabetic())
}

/// What stands before a number.
#[derive(Debug, Default)]
struct Before<'a> {
    start: usize,
    marker: Option<Marker>,
    label: bool,
    word: &'a str,
    /// The word is separated from the number by spaces only (`Pixel 8`, not `Pixel - 8`).
    word_adjacent: bool,
}

/// What stands after a number.
#[derive(Debug, Default)]
struct After<'a> {
    end: usize,
    marker: Option<Marker>,
    power: u32,
    metres_or_million: bool,
    slot_end: bool,
    word: &'a str,
}

fn classify(lower: &str, line: &Range<usize>, n: &Number) -> Option<PriceHit> {
    let b = lower.as_bytes();
    if n.overflow || (n.leading_zero(b) && !n.fraction) || (!n.grouped && n.int_digits >= 9) {
        return None;
    }
    let before = read_before(lower, line.start, n.start)?;
    let spaced = before.marker.is_some() && n.int_digits <= 3 && !n.fraction && is_group(b, n.end, line.end, b' ');
    let reparsed;
    let n = if spaced {
        reparsed = Number::parse(b, n.start, line.end, true);
        &reparsed
    } else {
        n
    };
    let after = read_after(lower, line.end, n, before.marker.is_some())?;
    let marker = before.marker.or(after.marker);
    let marked = marker.is_some() || before.label;
    let word = before.word;
    if lexicon::is_reference_label(word) || (!marked && (lexicon::is_month(word) || lexicon::is_month(after.word))) {
        return None;
    }
    let plain = !marked && after.power == 0 && !n.grouped;
    if plain && lexicon::is_size_label(word) && n.int_digits <= 3 {
        return None;
    }
    if plain && before.word_adjacent && lexicon::is_model_line_word(word) {
        return None;
    }
    if after.metres_or_million && !marked && !n.fraction {
        return None;
    }
    if after.power == 3 && marker.is_none() && !n.fraction && matches!(n.int_value, 4 | 8) && is_resolution(word, after.word) {
        return None;
    }
    if plain && !n.fraction && n.int_digits == 4 && (1950..=2035).contains(&n.int_value)
        && (lexicon::is_year_label(word) || n.int_value % 50 != 0) {
            return None;
        }
    let strength = if marked || after.power > 0 || n.grouped {
        Strength::Marked
    } else if after.slot_end && (n.int_digits >= 2 || n.fraction) && !is_inline_list_marker(b, line, n) {
        Strength::Slot
    } else {
        return None;
    };
    Some(PriceHit { span: before.start..after.end, amount: n.amount(after.power)?, marker, strength })
}

fn read_before<'a>(lower: &'a str, line_start: usize, start: usize) -> Option<Before<'a>> {
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

fn read_after<'a>(lower: &'a str, line_end: usize, n: &Number, marked_before: bool) -> Option<After<'a>> {
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
fn ends_with_number(b: &[u8], floor: usize, end: usize) -> bool {
    let p = skip_back(b, floor, end, |c| c == b' ');
    p > floor && b[p - 1].is_ascii_digit()
}

/// A digit follows (after spaces, `.` or `:`): the currency word before it is that number's prefix.
fn opens_next_price(b: &[u8], from: usize, limit: usize) -> bool {
    let next = skip_forward(b, from, limit, |c| matches!(c, b' ' | b'\t' | b'.' | b':'));
    next < limit && b[next].is_ascii_digit()
}

/// `4k`/`8k` next to TV words is a resolution, not 4,000.
fn is_resolution(word_before: &str, word_after: &str) -> bool {
    const TV: [&str; 14] =
        ["uhd", "hdr", "tv", "smart", "display", "resolution", "ultra", "oled", "qled", "led", "monitor", "camera", "video", "screen"];
    TV.contains(&word_before) || TV.contains(&word_after)
}

/// A small number followed by `. ` or `) ` and a word, after another number:
/// the next entry of an inline list (`… 45k 2. Samsung …`).
fn is_inline_list_marker(b: &[u8], line: &Range<usize>, n: &Number) -> bool {
    if n.int_digits > 2 || n.fraction || n.end + 2 >= line.end {
        return false;
    }
    let numbered = matches!(b[n.end], b'.' | b')') && b[n.end + 1] == b' ' && b[n.end + 2].is_ascii_alphabetic();
    if !numbered {
        return false;
    }
    let token_start = skip_back(b, line.start, n.start, |c| c == b' ');
    let prev_token = &b[skip_back(b, line.start, token_start, |c| !c.is_ascii_whitespace())..token_start];
    token_start == line.start || prev_token.iter().any(u8::is_ascii_digit)
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

fn skip_back(b: &[u8], floor: usize, mut p: usize, skip: impl Fn(u8) -> bool) -> usize {
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
