//! Is the title a product name, or spam? Signals are reported separately so the rules can
//! treat a title that carries no product at all (only a URL, a phone, or "DM for price")
//! more harshly than a noisy one (shouting, !!!, emoji walls).

use std::sync::LazyLock;

use regex::Regex;

/// One reason a title looks like spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamSignal {
    /// 24 or more letters, 90% or more of them upper case.
    Shouting,
    /// `!!!`/`???` runs, five or more `!`, or symbol soup (`$$$`, `***`, `###`…).
    ExcessivePunctuation,
    /// More than four pictographs, or pictographs making up over 30% of the visible text.
    ExcessiveEmoji,
    /// The same non-digit character five or more times in a row ("sooooo", "🔥🔥🔥🔥🔥").
    RepeatedCharacters,
    /// Nothing but a link.
    UrlOnly,
    /// Nothing but a phone number.
    PhoneOnly,
    /// Nothing but a "DM for price"-style request.
    PriceRequestOnly,
}

impl SpamSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shouting => "all caps",
            Self::ExcessivePunctuation => "excessive punctuation",
            Self::ExcessiveEmoji => "excessive emoji",
            Self::RepeatedCharacters => "repeated characters",
            Self::UrlOnly => "only a URL",
            Self::PhoneOnly => "only a phone number",
            Self::PriceRequestOnly => "only a price request",
        }
    }

    /// Signals meaning the title names no product at all.
    pub fn is_placeholder(self) -> bool {
        matches!(self, Self::UrlOnly | Self::PhoneOnly | Self::PriceRequestOnly)
    }
}

/// What the rules need to know about a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleAssessment {
    /// The title has at least one letter or digit.
    pub present: bool,
    pub spam: Vec<SpamSignal>,
}

impl TitleAssessment {
    pub fn is_spam(&self) -> bool {
        !self.spam.is_empty()
    }

    pub fn is_placeholder(&self) -> bool {
        self.spam.iter().any(|s| s.is_placeholder())
    }
}

/// Whole-title phrases that carry no product (compared after lower-casing and turning
/// punctuation and emoji into spaces).
const PRICE_REQUEST_PHRASES: &[&str] = &[
    "dm", "inbox", "dm for price", "dm me for price", "dm for details", "inbox for price", "inbox me",
    "pm for price", "call for price", "whatsapp for price", "text for price", "contact for price",
    "ask for price", "price on request", "price in dm", "price in inbox", "check inbox", "dm me",
];

static PICTOGRAPH: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\p{Extended_Pictographic}").ok());
static URL_ONLY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^[\s\p{P}\p{S}]*(https?://|www\.)\S+[\s\p{P}\p{S}]*$").ok());

/// Assesses a title (already entity-decoded and trimmed by the hydrate parser).
pub fn assess_title(title: &str) -> TitleAssessment {
    let title = title.trim();
    let present = title.chars().any(char::is_alphanumeric);
    let mut spam = Vec::new();
    if !present {
        return TitleAssessment { present, spam };
    }
    let letters: Vec<char> = title.chars().filter(|c| c.is_alphabetic()).collect();
    let cased = letters.iter().filter(|c| c.is_uppercase() || c.is_lowercase()).count();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if letters.len() >= 24 && cased > 0 && upper * 10 >= cased * 9 {
        spam.push(SpamSignal::Shouting);
    }
    if has_excessive_punctuation(title) {
        spam.push(SpamSignal::ExcessivePunctuation);
    }
    let visible = title.chars().filter(|c| !c.is_whitespace()).count();
    let pictographs = PICTOGRAPH.as_ref().map_or(0, |re| re.find_iter(title).count());
    if pictographs > 4 || (pictographs > 0 && pictographs * 10 > visible * 3) {
        spam.push(SpamSignal::ExcessiveEmoji);
    }
    if has_long_run(title, 5) {
        spam.push(SpamSignal::RepeatedCharacters);
    }
    if URL_ONLY.as_ref().is_some_and(|re| re.is_match(title)) {
        spam.push(SpamSignal::UrlOnly);
    }
    if is_phone_only(title) {
        spam.push(SpamSignal::PhoneOnly);
    }
    if PRICE_REQUEST_PHRASES.contains(&normalize_words(title).as_str()) {
        spam.push(SpamSignal::PriceRequestOnly);
    }
    TitleAssessment { present, spam }
}

fn has_excessive_punctuation(title: &str) -> bool {
    let bangs = title.chars().filter(|&c| c == '!').count();
    let symbols = title.chars().filter(|c| matches!(c, '$' | '*' | '#' | '~' | '=' | '^' | '|' | '_' | '<' | '>')).count();
    let visible = title.chars().filter(|c| !c.is_whitespace()).count();
    let marks_run = title
        .as_bytes()
        .windows(3)
        .any(|w| w.iter().all(|&b| b == b'!' || b == b'?'));
    marks_run || bangs >= 5 || symbols >= 6 || (symbols >= 3 && symbols * 10 > visible * 3)
}

fn has_long_run(title: &str, min: usize) -> bool {
    let mut prev = None;
    let mut run = 0;
    for c in title.chars() {
        if c.is_ascii_digit() || c.is_whitespace() {
            prev = None;
            run = 0;
            continue;
        }
        if Some(c) == prev {
            run += 1;
            if run >= min {
                return true;
            }
        } else {
            prev = Some(c);
            run = 1;
        }
    }
    false
}

fn is_phone_only(title: &str) -> bool {
    let mut digits = 0;
    for c in title.chars() {
        match c {
            '0'..='9' => digits += 1,
            '+' | '-' | '(' | ')' | '.' | ' ' | '\u{a0}' => {}
            _ => return false,
        }
    }
    (9..=15).contains(&digits)
}

/// Lower-cases and keeps only letters and digits, one space between words.
fn normalize_words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::SpamSignal::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn title_table() {
        let cases: &[(&str, bool, &[SpamSignal])] = &[
            ("Mahogany Sofa, 3 seater", true, &[]),
            ("Samsung Galaxy S23 Ultra 256GB", true, &[]),
            ("NEW SAMSUNG TV 55\"", true, &[]),
            ("Kitenge dress – size M ✨", true, &[]),
            ("Café Crème – €12", true, &[]),
            ("Phone 1000000 mAh", true, &[]),
            ("BRAND NEW ORIGINAL SHOES BEST PRICE IN TOWN", true, &[Shouting]),
            ("Shoes!!! Best price", true, &[ExcessivePunctuation]),
            ("Sale?!? now", true, &[ExcessivePunctuation]),
            ("$$$ Cheap $$$ deals $$$", true, &[ExcessivePunctuation]),
            ("🔥🔥 Hot 🔥 deal 🔥💯", true, &[ExcessiveEmoji]),
            ("Shoes 😍", true, &[]),
            ("Sooooo cheap", true, &[RepeatedCharacters]),
            ("https://bit.ly/abc123", true, &[UrlOnly]),
            ("👉 www.example.com !", true, &[UrlOnly]),
            ("Shoes at https://shop.example", true, &[]),
            ("+254 712 345 678", true, &[PhoneOnly]),
            ("0712-345-678", true, &[PhoneOnly]),
            ("DM for price", true, &[PriceRequestOnly]),
            ("📩 Inbox for price!", true, &[PriceRequestOnly]),
            ("Blue sofa - DM for price", true, &[]),
            ("", false, &[]),
            ("   ", false, &[]),
            ("!!! ???", false, &[]),
            ("🔥🔥🔥", false, &[]),
        ];
        for (title, present, spam) in cases {
            let a = assess_title(title);
            assert_eq!((a.present, a.spam.as_slice()), (*present, *spam), "{title:?}");
        }
    }

    #[test]
    fn placeholder_signals() {
        assert!(assess_title("DM").is_placeholder());
        assert!(!assess_title("Shoes!!!").is_placeholder());
        assert!(assess_title("Shoes!!!").is_spam());
    }

    proptest! {
        #[test]
        fn never_panics(title in "\\PC{0,200}") {
            let a = assess_title(&title);
            prop_assert!(a.present || a.spam.is_empty());
        }
    }
}
