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

use super::attrs::{CONDITION, CONDITION_PATTERN, QUANTITY, QUANTITY_PATTERN};
pub use super::title_edges::is_titleless;
use super::title_edges::{edges_settled, is_edge_punct, is_edge_token, trim_edges};

/// Pictographs, the pieces of emoji sequences (skin tones, joiners, variation
/// selectors, keycaps, flags, tags), other symbols (`™`, `★`) and list bullets.
static DECORATION: Pattern = LazyLock::new(|| {
    compiled(
        r"[\p{Extended_Pictographic}\p{So}\x{1F3FB}-\x{1F3FF}\x{1F1E6}-\x{1F1FF}\x{FE0E}\x{FE0F}\x{200D}\x{20E3}\x{E0020}-\x{E007F}\x{2022}\x{25E6}\x{2043}\x{2192}\x{21D2}\x{27F6}\x{200B}\x{200C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2060}\x{FEFF}]+",
    )
});

/// Filler that carries no product identity: how to ask for the price, how to
/// call, sales talk, availability. Phone numbers go with their call-to-action.
static FILLER: Pattern = LazyLock::new(|| compiled(FILLER_PATTERN));

const FILLER_PATTERN: &str = concat!(
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
);

/// Filler, condition words and quantities in one pattern: the text a title
/// loses to [`FILLER`], [`CONDITION`] and [`QUANTITY`]. One scan that finds
/// none of them stands for the three (most titles hold none), and only a text
/// it matches is scanned by each; a match of any one is a match of this one,
/// so every answer stays the same.
static TITLE_NOISE: Pattern =
    LazyLock::new(|| compiled(&format!("(?:{FILLER_PATTERN})|(?:{CONDITION_PATTERN})|(?:{QUANTITY_PATTERN})")));

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
    if text.is_ascii() {
        return collapse_ascii_whitespace(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// [`collapse_whitespace`] of ASCII text, by bytes: the ASCII characters that
/// are whitespace (`char::is_whitespace`) are tab, line feed, vertical tab,
/// form feed, carriage return and space.
fn collapse_ascii_whitespace(text: &str) -> String {
    let white = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r');
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && white(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !white(bytes[i]) {
            i += 1;
        }
        if i > start {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&text[start..i]);
        }
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
    // Text that none of the three matches is what each of them returns.
    let noisy = is_match(&TITLE_NOISE, &text);
    let text = if noisy { replace_all(&FILLER, &text, " ") } else { Cow::Borrowed(&*text) };
    let text = if noisy { strip_conditions(&text) } else { Cow::Borrowed(&*text) };
    let text = if noisy && text.bytes().any(|b| b.is_ascii_digit()) { replace_all(&QUANTITY, &text, " ") } else { text };
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
        && !is_match(&TITLE_NOISE, title)
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
        && (!is_match(&TITLE_NOISE, key)
            || (!is_match(&FILLER, key)
                && super::attrs::condition_in(key).is_none()
                && (!key.bytes().any(|b| b.is_ascii_digit()) || !is_match(&QUANTITY, key))))
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

    #[test]
    fn ascii_whitespace_is_what_char_calls_whitespace() {
        // The six bytes `collapse_ascii_whitespace` splits on, and no others.
        let white: Vec<u8> = (0u8..128).filter(|b| char::from(*b).is_whitespace()).collect();
        assert_eq!(white, [b'\t', b'\n', b'\x0B', b'\x0C', b'\r', b' ']);
    }

    /// True when one of the three patterns that [`TITLE_NOISE`] joins matches.
    fn one_part_matches(text: &str) -> bool {
        is_match(&FILLER, text) || is_match(&CONDITION, text) || is_match(&QUANTITY, text)
    }

    #[test]
    fn the_title_noise_pattern_compiles_and_matches_each_part() {
        assert!(TITLE_NOISE.is_some());
        for text in ["Sofa only", "inbox for price", "call 0712 345 678", "Brand new", "New Balance 574", "ex-UK", "2 pcs", "x3", "3 for 100", "Sofa set", "BMW X3", ""] {
            assert_eq!(is_match(&TITLE_NOISE, text), one_part_matches(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn one_noise_scan_answers_as_three_did(
            raw in "((?i)(only|each|new|brand|used|ex|uk|in stock|inbox|dm|call|for|price|arrivals|balance|pcs|kila|mpya|x|[a-z]{1,5})|[0-9]{1,4}|[ ,:!/-]|\\PC)( |){0,10}"
        ) {
            prop_assert_eq!(is_match(&TITLE_NOISE, &raw), one_part_matches(&raw), "{:?}", raw);
        }

        #[test]
        fn ascii_collapse_agrees_with_split_whitespace(raw in "[ \t\n\x0B\x0C\ra-z.]{0,30}") {
            let reference: Vec<&str> = raw.split_whitespace().collect();
            prop_assert_eq!(collapse_ascii_whitespace(&raw), reference.join(" "));
        }

        #[test]
        fn cleaning_never_panics(raw in "\\PC{0,80}") {
            let _ = clean_title(&raw);
            let cleaned = clean_for_embedding(&raw);
            prop_assert!(!cleaned.contains("  "));
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
