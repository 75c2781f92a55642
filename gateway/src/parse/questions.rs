//! Buyers' questions, which are never offers: a sentence that ends in `?` or
//! asks in the words buyers use, in English ("how much", "is it available",
//! "still there"), Swahili and Sheng ("bei gani", "ni ngapi", "iko?") and
//! Nigerian Pidgin ("how far", "abeg how much", "e still dey"). A message
//! whose only sentences are questions yields no offer, even when it names a
//! product and a price ("is the A14 still 15k?"); in a vendor's message the
//! question sentences are cut off the line ("Looking for a laptop? HP …").

use std::ops::Range;

use super::attrs;
use super::text::{Pattern, compiled, is_match};

/// Question words that make a sentence a question without a `?`.
static ASKING: Pattern = Pattern::new(|| {
    compiled(concat!(
        r"(?i)\b(?:how\s+(?:much|far|many)|abeg|wetin|bei\s+gani|bei\s+ni\s+ngapi|ni\s+ngapi|pesa\s+ngapi|ngapi",
        r"|still\s+(?:there|available|dey|in\s+stock)|e\s+still\s+dey|is\s+(?:it|this|that|the\s+\w+)\s+(?:still\s+)?available",
        r"|do\s+(?:you|u)\s+(?:have|sell|deliver|still)|(?:una|you|u)\s+get|mnauza|mko\s+na|uko\s+na|mna\s+\w+\s*\?",
        r"|what(?:'s|\s+is)\s+the\s+(?:price|cost)|can\s+i\s+(?:get|buy|order))\b",
    ))
});

/// The sentences of `range` in `text`: ends at `?`, `!`, a full stop that is
/// not a decimal point, or the end. Each range keeps its closing mark.
pub(crate) fn sentences(text: &str, range: Range<usize>) -> impl Iterator<Item = Range<usize>> + '_ {
    let b = text.as_bytes();
    let mut start = range.start;
    let end = range.end;
    std::iter::from_fn(move || {
        while start < end && b[start].is_ascii_whitespace() {
            start += 1;
        }
        if start >= end {
            return None;
        }
        let mut i = start;
        while i < end {
            let closes = match b[i] {
                b'?' | b'!' => true,
                b'.' => i + 1 >= end || b[i + 1].is_ascii_whitespace(),
                _ => false,
            };
            i += 1;
            if closes {
                while i < end && matches!(b[i], b'?' | b'!' | b'.') {
                    i += 1;
                }
                break;
            }
        }
        let sentence = start..i;
        start = i;
        Some(sentence)
    })
}

/// A sentence that asks: it ends in `?` or holds question words.
pub(crate) fn is_question(sentence: &str) -> bool {
    let trimmed = sentence.trim_end_matches(|c: char| c.is_whitespace() || !c.is_ascii() && !c.is_alphanumeric());
    trimmed.ends_with('?') || is_match(&ASKING, sentence)
}

/// Cheap test before the sentence walk: any `?` or question word at all.
/// A message for which this is false has no question anywhere, so the
/// extractor asks it once per message, not once per line.
pub(crate) fn may_ask(text: &str) -> bool {
    text.contains('?') || is_match(&ASKING, text)
}

/// The message asks and offers nothing: each of its sentences is a question,
/// or a greeting around one ("Hello! Is the A14 still 15k?").
pub fn only_questions(text: &str) -> bool {
    may_ask(text) && every_sentence_asks(text)
}

/// [`only_questions`] for a message already known to [`may_ask`].
pub(crate) fn every_sentence_asks(text: &str) -> bool {
    let mut asked = false;
    for line in text.split(['\n', '\r']) {
        let offset = line.as_ptr() as usize - text.as_ptr() as usize;
        for sentence in sentences(text, offset..offset + line.len()) {
            let sentence = &text[sentence];
            if !sentence.chars().any(char::is_alphanumeric) {
                continue;
            }
            if is_question(sentence) {
                asked = true;
            } else if !(attrs::is_soft_notice(sentence) && !sentence.bytes().any(|b| b.is_ascii_digit())) {
                return false;
            }
        }
    }
    asked
}

/// The part of a line that is not a question: leading question sentences
/// are skipped, and the line ends where a later question starts. `None`
/// when the whole line asks.
pub fn without_questions(text: &str, line: Range<usize>) -> Option<Range<usize>> {
    if !may_ask(&text[line.clone()]) {
        return Some(line);
    }
    let mut kept: Option<Range<usize>> = None;
    for sentence in sentences(text, line.clone()) {
        let asks = is_question(&text[sentence.clone()]);
        match (&mut kept, asks) {
            (None, true) => {}
            (None, false) => kept = Some(sentence),
            (Some(_), true) => break,
            (Some(kept), false) => kept.end = sentence.end,
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_compiles() {
        assert!(ASKING.is_some());
    }

    #[test]
    fn questions_in_each_language() {
        for text in [
            "how much is the Tecno Camon 20? still there?",
            "Is the A14 still 15k?",
            "Hii Samsung A14 bei gani",
            "Mambo, iPhone 11 ni ngapi",
            "How far, the Infinix Hot 30 still dey",
            "Abeg how much for the TV",
            "Hello! Is the A14 still available?",
        ] {
            assert!(only_questions(text), "{text:?}");
        }
        for text in ["Samsung A14 15,500", "Sale!!! Samsung A14 15k", "Looking for a laptop? HP 840 G5 35k", "Bado iko poa, 18k"] {
            assert!(!only_questions(text), "{text:?}");
        }
    }

    #[test]
    fn questions_are_cut_off_a_line() {
        fn cut(text: &str) -> Option<&str> {
            without_questions(text, 0..text.len()).map(|r| &text[r])
        }
        assert_eq!(cut("Looking for a laptop? HP 840 G5 - 35k"), Some("HP 840 G5 - 35k"));
        assert_eq!(cut("Samsung A14 15.5k. Interested? Call 0712 345 678"), Some("Samsung A14 15.5k."));
        assert_eq!(cut("Any question? Inbox us"), Some("Inbox us"));
        assert_eq!(cut("Price 4.5k only"), Some("Price 4.5k only"));
        assert_eq!(cut("Still there?"), None);
    }
}
