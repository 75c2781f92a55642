//! Text cleaning shared by offer titles and the embed stage: emoji and
//! decoration removal, filler phrases ("inbox for price", "call/WhatsApp
//! 07…", "only!!", "negotiable"), whitespace collapsing, and the normalised
//! title key that groups one product's price history across vendors.
//!
//! Emoji are matched with explicit `\p{Extended_Pictographic}` classes plus
//! the modifiers, joiners and regional indicators that build emoji sequences.
//! `\p{Emoji}` is never used: it matches the digits, `#` and `*`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::attrs::{CONDITION, QUANTITY};
use super::lexicon;

/// Pictographs, the pieces of emoji sequences (skin tones, joiners, variation
/// selectors, keycaps, flags, tags), other symbols (`™`, `★`) and list bullets.
static DECORATION: Pattern = LazyLock::new(|| {
    compiled(
        r"[\p{Extended_Pictographic}\p{So}\x{1F3FB}-\x{1F3FF}\x{1F1E6}-\x{1F1FF}\x{FE0E}\x{FE0F}\x{200D}\x{20E3}\x{E0020}-\x{E007F}\x{2022}\x{25E6}\x{2043}\x{2192}\x{21D2}\x{27F6}\x{200B}\x{200C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2060}\x{FEFF}]+",
    )
});

/// Filler that carries no product identity: how to ask for the price, how to
/// call, sales talk, availability. Phone numbers go with their call-to-action.
static FILLER: Pattern = LazyLock::new(|| {
    compiled(concat!(
        r"(?i)",
        r"\b(?:inbox|dm|pm|call|text|sms|whats\s?app|ask|contact)(?:\s+(?:us|me))?\s+for\s+(?:the\s+|a\s+)?(?:prices?|pricing|bei|details|info|more\s+(?:info|details)|orders?|enquir(?:y|ies)|inquir(?:y|ies))\b",
        r"|\b(?:prices?|bei)\s*(?:is\s+|ni\s+|kwa\s+|on\s+|via\s+|in\s+)?:?\s*(?:inbox|dm|pm|on\s+request|on\s+call)\b",
        r"|\b(?:call|whats\s?app|wa|text|sms|tel|phone|mob|mobile|contact|reach)(?:\s*(?:/|or|&|\+|and)\s*(?:call|whats\s?app|text|sms))*(?:\s+(?:us|me|now|today))?(?:\s+(?:on|via|at|through))?\s*[:\-]?\s*\+?\d[\d \-]{6,}\d",
        r"|\b(?:call\s*(?:/|or|&|\+)\s*whats\s?app|whats\s?app\s*(?:/|or|&|\+)\s*call)\b(?:\s+(?:us|me))?",
        r"|(?:\+\d|\b0\d)[\d \-]{7,}\d|\b\d{11,15}\b",
        r"|\b(?:inbox|dm)(?:\s+(?:us|me|now))?\b|\bpm\s+(?:us|me)\b",
        r"|\bslide\s+(?:in(?:to)?\s+)?(?:my|our|the)?\s*dms?\b",
        r"|\bonly\b|[!]+",
        r"|\b(?:slightly\s+|very\s+)?(?:negotiable|nego|neg)\b\.?|\bo\.n\.o\b\.?|\bono\b|\bor\s+(?:near(?:est)?|best)\s+offer\b",
        r"|\bfixed\s+price\b|\bprice\s+(?:is\s+)?fixed\b|\bbei\s+(?:ni\s+)?(?:poa|nafuu|fixed|ya\s+mwisho|ya\s+jumla)\b|\bmaelewano\b",
        r"|\beach\b|\bkila(?:\s+(?:moja|kimoja|mmoja))?\b|\bper\s+(?:piece|pc|item|unit)\b|\bapiece\b",
        r"|\b(?:now\s+)?available(?:\s+(?:now|in\s+stock))?\b|\bin\s*stock\b|\blimited\s+stock\b",
        r"|\b(?:ila\s+|bado\s+)?(?:iko|ziko|ni)\s+(?:poa|safi|fiti|sawa|kali)\b",
        r"|\b(?:iko|ziko|zipo|ipo|tunazo|zinapatikana|inapatikana|zimefika|imefika)\b",
        r"|\b(?:hurry|grab\s+yours|get\s+yours|while\s+stocks?\s+lasts?)\b",
        r"|\bfree\s+delivery(?:\s+(?:within|in|to)\s+\w+|\s+countrywide)?\b|\bdelivery\s+(?:available|countrywide)\b",
    ))
});

/// WhatsApp formatting marks (`*bold*`, `_italic_`, `~strike~`, ```` ``` ````).
static FORMATTING: Pattern = LazyLock::new(|| compiled(r"[*_~`]+"));

static EMPTY_BRACKETS: Pattern = LazyLock::new(|| compiled(r"\(\s*\)|\[\s*\]"));

/// One of the module's fixed patterns, compiled on first use. A pattern that
/// failed to compile (a programming error, caught by the tests) matches
/// nothing instead of panicking.
pub(crate) type Pattern = LazyLock<Option<Regex>>;

/// Compiles a pattern with `\b` read as an ASCII word boundary. A Unicode
/// `\b` stops the regex crate's DFA at the first non-ASCII byte and falls
/// back to a much slower engine, and nearly every message holds an emoji;
/// the words these patterns look for are all ASCII.
pub(crate) fn compiled(pattern: &str) -> Option<Regex> {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).ok()
}

pub(crate) fn is_match(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(text))
}

pub(crate) fn replace_all<'t, R: regex::Replacer>(pattern: &Pattern, text: &'t str, rep: R) -> Cow<'t, str> {
    match pattern.as_ref() {
        Some(re) => re.replace_all(text, rep),
        None => Cow::Borrowed(text),
    }
}

/// Longest title kept, in bytes (cut at a char boundary).
const MAX_TITLE_BYTES: usize = 160;

/// Removes emoji and decorative symbols, replacing each run with one space.
pub fn strip_decoration(text: &str) -> Cow<'_, str> {
    // Every decoration character is outside ASCII.
    if text.is_ascii() { Cow::Borrowed(text) } else { replace_all(&DECORATION, text, " ") }
}

/// Collapses every whitespace run to one space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Text for the embed stage: emoji, formatting marks and filler (including
/// phone numbers with their call-to-action) removed, whitespace collapsed.
/// Prices and descriptions stay: they are content.
pub fn clean_for_embedding(text: &str) -> String {
    let text = strip_decoration(text);
    let text = replace_all(&FILLER, &text, " ");
    let text = without_formatting(text);
    let collapsed = collapse_whitespace(&text);
    collapsed.trim_matches(|c: char| c.is_whitespace() || is_edge_punct(c)).to_string()
}

/// Cleans a raw title slice: decoration, filler, condition words and
/// quantities removed, dangling labels and punctuation trimmed from the ends.
/// Returns `None` when nothing that names a product is left.
pub fn clean_title(raw: &str) -> Option<String> {
    if !raw.chars().any(char::is_alphabetic) {
        return None;
    }
    let text = strip_decoration(raw);
    let text = replace_all(&FILLER, &text, " ");
    let text = strip_conditions(&text);
    let text = if text.bytes().any(|b| b.is_ascii_digit()) { replace_all(&QUANTITY, &text, " ") } else { text };
    let text = without_formatting(text);
    let collapsed = collapse_whitespace(&text);
    let trimmed = trim_edges(&collapsed);
    if trimmed.chars().any(char::is_alphabetic) && !is_titleless(trimmed) {
        Some(truncate(trimmed, MAX_TITLE_BYTES).to_string())
    } else {
        None
    }
}

/// Removes formatting marks and the empty brackets that filler removal leaves.
fn without_formatting(text: Cow<'_, str>) -> Cow<'_, str> {
    let text = if text.bytes().any(|b| matches!(b, b'*' | b'_' | b'~' | b'`')) {
        Cow::Owned(replace_all(&FORMATTING, &text, " ").into_owned())
    } else {
        text
    };
    if text.contains("(") || text.contains('[') {
        Cow::Owned(replace_all(&EMPTY_BRACKETS, &text, " ").into_owned())
    } else {
        text
    }
}

/// Removes condition phrases but keeps names that only look like one (`New Balance`).
fn strip_conditions(text: &str) -> Cow<'_, str> {
    replace_all(&CONDITION, text, |caps: &regex::Captures<'_>| {
        if caps.name("notnew").is_some() { caps[0].to_string() } else { " ".to_string() }
    })
}

/// True when [`clean_title`] would return `title` itself: it is a title that
/// cleaning already produced. Each cleaning step is checked to be the identity
/// (no decoration, filler, condition word, quantity or formatting mark; single
/// spaces; no edge word or punctuation; it names something; within the length
/// cap), so `clean_title(title) == Some(title)` whenever this holds, and the
/// product key of an extracted offer skips a second cleaning.
pub(crate) fn is_clean_title(title: &str) -> bool {
    let single_spaced = !title.starts_with(' ')
        && !title.ends_with(' ')
        && !title.contains("  ")
        && title.chars().all(|c| c == ' ' || !c.is_whitespace());
    // The cheap byte checks first, the pattern scans last.
    single_spaced
        && title.len() <= MAX_TITLE_BYTES
        && !title.bytes().any(|b| matches!(b, b'*' | b'_' | b'~' | b'`'))
        && title.chars().any(char::is_alphabetic)
        && edges_settled(title)
        && !is_titleless(title)
        && (!title.contains(['(', '[']) || !is_match(&EMPTY_BRACKETS, title))
        && (title.is_ascii() || !is_match(&DECORATION, title))
        && !is_match(&FILLER, title)
        && !is_match(&CONDITION, title)
        && (!title.bytes().any(|b| b.is_ascii_digit()) || !is_match(&QUANTITY, title))
}

/// True when [`clean_title`] would return `key` unchanged (or nothing):
/// `key` is a product key (lowercase words, single spaces) in which no
/// filler, condition, quantity or edge word is left. Cheaper than cleaning.
pub(crate) fn is_settled_key(key: &str) -> bool {
    let first = key.split(' ').next().unwrap_or_default();
    let last = key.rsplit(' ').next().unwrap_or_default();
    key.len() <= MAX_TITLE_BYTES
        && !is_edge_token(first)
        && !is_edge_token(last)
        && !is_match(&FILLER, key)
        && super::attrs::condition_in(key).is_none()
        && (!key.bytes().any(|b| b.is_ascii_digit()) || !is_match(&QUANTITY, key))
}

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
fn edges_settled(text: &str) -> bool {
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
fn trim_edges(text: &str) -> &str {
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

fn is_edge_token(token: &str) -> bool {
    let word = token.trim_matches(is_edge_punct);
    let mut buffer = [0u8; 16];
    ascii_lowercase(word, &mut buffer).is_some_and(is_edge_word)
}

/// `word` lowercased into `buffer`, without allocating; `None` when it is
/// empty, longer than the buffer or not ASCII (no word list holds such words).
fn ascii_lowercase<'b>(word: &str, buffer: &'b mut [u8; 16]) -> Option<&'b str> {
    if word.is_empty() || word.len() > buffer.len() || !word.is_ascii() {
        return None;
    }
    let lower = &mut buffer[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).ok()
}

fn is_edge_punct(c: char) -> bool {
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

/// Cuts `text` to at most `max` bytes at a char boundary, then trims.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decoration_goes_but_digits_hash_and_star_stay() {
        assert_eq!(collapse_whitespace(&strip_decoration("🔥🔥 iPhone 12 📱✅")), "iPhone 12");
        assert_eq!(collapse_whitespace(&strip_decoration("👍🏽 ok 🇰🇪")), "ok");
        assert_eq!(strip_decoration("#1 * 2 = 2"), "#1 * 2 = 2");
        assert_eq!(collapse_whitespace(&strip_decoration("1\u{fe0f}\u{20e3} Sofa")), "1 Sofa");
    }

    #[test]
    fn titles_lose_filler_conditions_and_labels() {
        let cases = [
            ("Pixel 8 Pro - ", "Pixel 8 Pro"),
            ("🔥Brand New Samsung 55\" QLED TV🔥 inbox for price", "Samsung 55\" QLED TV"),
            ("*HP EliteBook 840 G5* ex-UK", "HP EliteBook 840 G5"),
            ("Sofa set call/WhatsApp 0712 345 678 only!!", "Sofa set"),
            ("Hello family, Samsung A14 now", "Samsung A14"),
            ("Nike Air Force 1 (2 pcs) negotiable", "Nike Air Force 1"),
            ("Tomatoes kila moja", "Tomatoes"),
            ("New Balance 574", "New Balance 574"),
            ("iPhone 12 (Blue) - bei", "iPhone 12 (Blue)"),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_title(raw).as_deref(), Some(want), "{raw:?}");
        }
    }

    #[test]
    fn a_clean_title_is_one_that_cleaning_returns_unchanged() {
        for title in ["Pixel 8 Pro", "Samsung 55\" QLED TV", "HP EliteBook 840 G5", "Tomatoes", "iPhone 12 (Blue)"] {
            assert!(is_clean_title(title), "{title:?}");
            assert_eq!(clean_title(title).as_deref(), Some(title));
        }
        for raw in ["Pixel 8 Pro - ", " Pixel", "Sofa  set", "Sofa set only", "Brand new Sofa", "Sofa 2 pcs", "*Sofa*", "🔥 Sofa", "Price:", "New arrivals", "Sofa ()"] {
            assert!(!is_clean_title(raw), "{raw:?}");
        }
    }

    #[test]
    fn headers_and_filler_alone_are_no_title() {
        for raw in ["New arrivals 🔥🔥", "Price:", "Inbox for price", "DM", "Call 0712345678", "", "🔥", "Black Friday deals!!"] {
            assert_eq!(clean_title(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn embedding_text_keeps_content_and_drops_noise() {
        assert_eq!(
            clean_for_embedding("🔥 *Samsung A14* 64GB\nKsh 15,500 — inbox for price, call 0712 345 678 🙏"),
            "Samsung A14 64GB Ksh 15,500"
        );
        assert_eq!(clean_for_embedding("Sofa set, seller 254712345678"), "Sofa set, seller");
    }

    proptest! {
        #[test]
        fn cleaning_never_panics(raw in "\\PC{0,80}") {
            let _ = clean_title(&raw);
            let cleaned = clean_for_embedding(&raw);
            prop_assert!(!cleaned.contains("  "));
        }

        #[test]
        fn edges_settled_agrees_with_trim_edges(raw in "[ a-zA-Z0-9()\"'!.,:-]{0,30}|(price|for|the|now|only|hi) [a-z ]{0,12}( now| only)?") {
            prop_assert_eq!(edges_settled(&raw), !raw.is_empty() && trim_edges(&raw).len() == raw.len(), "{:?}", raw);
        }

        #[test]
        fn a_title_called_clean_is_returned_unchanged(raw in "\\PC{0,60}") {
            if is_clean_title(&raw) {
                let cleaned = clean_title(&raw);
                prop_assert_eq!(cleaned.as_deref(), Some(raw.as_str()));
            }
            if let Some(title) = clean_title(&raw) && is_clean_title(&title) {
                prop_assert_eq!(clean_title(&title), Some(title.clone()));
            }
        }

        #[test]
        fn titles_are_bounded_and_trimmed(raw in ".{0,400}") {
            if let Some(title) = clean_title(&raw) {
                prop_assert!(title.len() <= MAX_TITLE_BYTES);
                prop_assert_eq!(title.trim(), title.as_str());
            }
        }
    }
}
