//! The ends of a title: the words and marks that cleaning trims from either
//! end (labels and connectors left next to a price or a call-to-action,
//! separators, unbalanced brackets and quotes), and the test that a title is
//! only generic words. Word lookups lowercase on the stack, without allocating.

use super::lexicon;

/// True when every word of `text` is generic (a header such as "New arrivals!",
/// a bare "Price:"), so it names no product.
pub fn is_titleless(text: &str) -> bool {
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if word.bytes().any(|b| b.is_ascii_digit()) {
            return false;
        }
        let mut buffer = [0u8; 16];
        let Some(lower) = ascii_lowercase(word, &mut buffer) else {
            return false;
        };
        if !lexicon::is_generic_word(lower) && !is_weekday(lower) {
            return false;
        }
    }
    true
}

fn is_weekday(word: &str) -> bool {
    matches!(
        word,
        "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday"
            | "jumatatu" | "jumanne" | "jumatano" | "alhamisi" | "ijumaa" | "jumamosi"
            | "jumapili" | "arriving" | "coming" | "soon" | "expected" | "incoming" | "next"
    )
}

/// Words stripped from either end of a title: labels and connectors that were
/// next to a price or a call-to-action.
fn is_edge_word(word: &str) -> bool {
    matches!(
        word,
        "price" | "prices" | "bei" | "cost" | "was" | "now" | "at" | "for" | "from" | "ni" | "sale"
            | "offer" | "ofa" | "only" | "each" | "is" | "ya" | "kwa" | "na" | "and" | "with"
            | "or" | "of" | "to" | "in" | "on" | "sasa" | "just" | "hello" | "hi" | "hey"
            | "habari" | "karibu" | "family" | "guys" | "friends" | "customers" | "good"
            | "morning" | "afternoon" | "evening" | "we" | "have" | "got" | "selling" | "rrp"
            | "total" | "x" | "tu" | "pekee" | "call" | "whatsapp" | "ksh" | "kes" | "usd"
            | "bob" | "sh" | "shs" | "ila" | "but" | "my" | "our" | "asking" | "rent" | "retail"
            | "karibuni" | "asante" | "wholesale" | "the" | "a" | "an" | "bado" | "tuko" | "leo"
            | "today"
    )
}

/// True when [`trim_edges`] returns `text` whole: its first round would change
/// nothing (no edge punctuation or whitespace at the ends, nothing unbalanced, no
/// edge word first or last), and a round that changes nothing is the last.
pub(crate) fn edges_settled(text: &str) -> bool {
    let untrimmed = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace() && !is_edge_punct(c));
    if !untrimmed(text.chars().next()) || !untrimmed(text.chars().next_back()) || trim_unbalanced(text).len() != text.len() {
        return false;
    }
    match (text.split_once(' '), text.rsplit_once(' ')) {
        (Some((first, _)), Some((_, last))) => !is_edge_token(first) && !is_edge_token(last),
        _ => !is_edge_token(text),
    }
}

/// Trims punctuation and edge words from both ends until stable.
pub(crate) fn trim_edges(text: &str) -> &str {
    let mut current = text;
    loop {
        let before = current.len();
        current = current.trim_matches(|c: char| c.is_whitespace() || is_edge_punct(c));
        current = trim_unbalanced(current);
        if let Some((first, rest)) = current.split_once(' ') {
            if is_edge_token(first) {
                current = rest;
            }
        } else if is_edge_token(current) {
            current = "";
        }
        if let Some((rest, last)) = current.rsplit_once(' ')
            && is_edge_token(last) {
                current = rest;
            }
        if current.len() == before {
            return current;
        }
    }
}

pub(crate) fn is_edge_token(token: &str) -> bool {
    // No edge punctuation is an ASCII letter or digit: such ends trim nothing.
    let bytes = token.as_bytes();
    let bare = bytes.first().is_some_and(u8::is_ascii_alphanumeric) && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    let word = if bare { token } else { token.trim_matches(is_edge_punct) };
    let mut buffer = [0u8; 16];
    ascii_lowercase(word, &mut buffer).is_some_and(is_edge_word)
}

/// `word` lowercased into `buffer`, without allocating; `None` when it is
/// empty, longer than the buffer or not ASCII (no word list holds such words).
fn ascii_lowercase<'b>(word: &'b str, buffer: &'b mut [u8; 16]) -> Option<&'b str> {
    if word.is_empty() || word.len() > buffer.len() || !word.is_ascii() {
        return None;
    }
    if !word.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(word);
    }
    let lower = &mut buffer[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).ok()
}

pub(crate) fn is_edge_punct(c: char) -> bool {
    matches!(
        c,
        '-' | '–' | '—' | ':' | '|' | '=' | ',' | '.' | ';' | '/' | '\\' | '!' | '?' | '@' | '#'
            | '+' | '>' | '<' | '&' | '[' | ']' | '{' | '}' | '\'' | '«' | '»' | '“' | '’'
    )
}

/// Drops an unmatched `(` / `)` or a quote mark at either end, keeping `(Blue)`
/// and an inch mark after a digit (`55"`).
fn trim_unbalanced(text: &str) -> &str {
    let mut t = text;
    if t.ends_with('(') {
        t = &t[..t.len() - 1];
    }
    if t.starts_with(')') {
        t = &t[1..];
    }
    if t.ends_with(')') && t.matches('(').count() < t.matches(')').count() {
        t = &t[..t.len() - 1];
    }
    if t.starts_with('(') && t.matches('(').count() > t.matches(')').count() {
        t = &t[1..];
    }
    if t.starts_with('"') {
        t = &t[1..];
    }
    if t.ends_with('"') && !t[..t.len() - 1].ends_with(|c: char| c.is_ascii_digit()) {
        t = &t[..t.len() - 1];
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_ascii_letter_or_digit_is_edge_punctuation() {
        // The reason `is_edge_token` skips the trim when both ends are ASCII letters or digits.
        assert!((0u8..128).filter(u8::is_ascii_alphanumeric).all(|b| !is_edge_punct(char::from(b))));
    }

    #[test]
    fn lowercasing_borrows_words_without_capitals() {
        let mut buffer = [0u8; 16];
        assert_eq!(ascii_lowercase("price", &mut buffer), Some("price"));
        assert_eq!(ascii_lowercase("PriCE", &mut buffer), Some("price"));
        assert_eq!(ascii_lowercase("", &mut buffer), None);
        assert_eq!(ascii_lowercase("caf\u{e9}", &mut buffer), None);
        assert_eq!(ascii_lowercase("abcdefghijklmnopq", &mut buffer), None);
    }

    proptest! {
        #[test]
        fn edges_settled_agrees_with_trim_edges(raw in "[ a-zA-Z0-9()\"'!.,:-]{0,30}|(price|for|the|now|only|hi) [a-z ]{0,12}( now| only)?") {
            prop_assert_eq!(edges_settled(&raw), !raw.is_empty() && trim_edges(&raw).len() == raw.len(), "{:?}", raw);
        }
    }
}
