//! What follows an export header: who wrote it, and whether it is a text, a
//! media placeholder, a deleted message or a system event to skip.
//!
//! Android writes system events without a sender (`Alice added Bob`); iOS
//! writes them with the chat's name as sender and a U+200E mark before the
//! text. Media exported "without media" leaves a placeholder
//! (`<Media omitted>`, `image omitted`); exported "with media" it leaves a
//! file reference (`IMG-…jpg (file attached)`, `<attached: …>`), with the
//! caption on the following lines.

use regex::Regex;
use std::sync::LazyLock;

const LRM: char = '\u{200E}';

/// Bidi and format marks that carry no text.
pub fn is_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

pub fn strip_marks(text: &str) -> String {
    text.chars().filter(|c| !is_mark(*c)).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// Digits with a leading `+` when the export had one; the gateway
    /// normalises it to E.164.
    Phone(String),
    Name(String),
}

/// Splits `Name: text`. Returns `None` for Android system lines, which have
/// no sender, and for names that cannot be names (quotes come from system
/// sentences such as `changed the subject from "A: B"`).
pub fn split_sender(rest: &str) -> Option<(&str, &str)> {
    let (name, text) = match rest.find(": ") {
        Some(index) => (&rest[..index], &rest[index + 2..]),
        None => (rest.strip_suffix(':')?, ""),
    };
    let visible = strip_marks(name);
    let visible = visible.trim();
    let plausible = !visible.is_empty() && visible.chars().count() <= 80 && !visible.contains('"') && !visible.contains('\u{201C}');
    plausible.then_some((name, text))
}

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\+?[0-9][0-9 \-().]{5,}[0-9]$").unwrap_or_else(|error| unreachable!("static regex: {error}"))
});

pub fn normalise_sender(raw: &str) -> Option<Sender> {
    let visible = strip_marks(raw).replace(['\u{00A0}', '\u{202F}', '\u{2007}'], " ");
    // Android prefixes names of people who are not in the contacts with `~`.
    let visible = visible.trim().trim_start_matches('~').trim();
    if visible.is_empty() {
        return None;
    }
    if PHONE.is_match(visible) {
        let digits: String = visible.chars().filter(char::is_ascii_digit).collect();
        if (7..=15).contains(&digits.len()) {
            let plus = if visible.starts_with('+') { "+" } else { "" };
            return Some(Sender::Phone(format!("{plus}{digits}")));
        }
    }
    Some(Sender::Name(visible.to_owned()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    Media { caption: Option<String> },
    Deleted,
    System,
}

static MEDIA_PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        r"<media omitted>|<médias omis>|<medien ausgeschlossen>|<multimedia omitido>|<mídia oculta>|<media weggelaten>",
        r"|(?:image|video|audio|sticker|gif|document|contact card|photo) omitted",
        r"|.* document omitted",
        r"|.+\.[a-z0-9]{2,5} \(file attached\)",
        r")$"
    ))
    .unwrap_or_else(|error| unreachable!("static regex: {error}"))
});

static ATTACHED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<attached: [^>]*>").unwrap_or_else(|error| unreachable!("static regex: {error}")));

static DELETED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:this message was deleted|you deleted this message|este mensaje fue eliminado|diese nachricht wurde gelöscht)\.?$")
        .unwrap_or_else(|error| unreachable!("static regex: {error}"))
});

static SYSTEM_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        r"messages and calls are end-to-end encrypted",
        r"|messages to this group are now secured with end-to-end encryption",
        r"|missed (?:voice|video|group voice|group video) call",
        r"|waiting for this message",
        r"|your security code with .* changed",
        r"|.* turned (?:on|off) disappearing messages",
        r"|null$",
        r")"
    ))
    .unwrap_or_else(|error| unreachable!("static regex: {error}"))
});

const EDITED_SUFFIX: &str = "<This message was edited>";

/// Classifies a whole message text (first line plus continuation lines).
pub fn classify_body(text: &str) -> Body {
    let ios_event_mark = text.trim_start_matches(' ').starts_with(LRM);
    let (first_line, later_lines) = match text.split_once('\n') {
        Some((first, later)) => (first, Some(later)),
        None => (text, None),
    };
    let first_visible = strip_marks(first_line);
    let first_visible = first_visible.trim();

    if ATTACHED.is_match(first_visible) {
        let mut caption = ATTACHED.replace_all(first_visible, "").trim().to_owned();
        if let Some(later) = later_lines {
            caption = join_caption(&caption, later);
        }
        return Body::Media { caption: non_empty(caption) };
    }
    if MEDIA_PLACEHOLDER.is_match(first_visible) {
        return Body::Media { caption: later_lines.and_then(|later| non_empty(strip_marks(later).trim().to_owned())) };
    }
    if DELETED.is_match(first_visible) {
        return Body::Deleted;
    }
    if SYSTEM_SENTENCE.is_match(first_visible) || ios_event_mark {
        return Body::System;
    }
    let mut text = text.trim().to_owned();
    if let Some(stripped) = text.strip_suffix(EDITED_SUFFIX) {
        // iOS puts a U+200E before the marker.
        text = stripped.trim_end_matches(|c: char| c.is_whitespace() || is_mark(c)).to_owned();
    }
    match non_empty(text) {
        Some(text) => Body::Text(text),
        None => Body::System,
    }
}

fn join_caption(first: &str, later: &str) -> String {
    let later = strip_marks(later);
    let later = later.trim();
    match (first.is_empty(), later.is_empty()) {
        (true, _) => later.to_owned(),
        (false, true) => first.to_owned(),
        (false, false) => format!("{first}\n{later}"),
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_split_only_where_a_name_can_be() {
        assert_eq!(split_sender("Alice: iPhone 13 - 65k"), Some(("Alice", "iPhone 13 - 65k")));
        assert_eq!(split_sender("Alice: Price: 65k"), Some(("Alice", "Price: 65k")));
        assert_eq!(split_sender("Alice:"), Some(("Alice", "")));
        assert_eq!(split_sender("Alice added Bob"), None);
        assert_eq!(split_sender("Alice changed the subject from \"Phones: Nairobi\" to \"Phones\""), None);
    }

    #[test]
    fn phone_senders_become_digits_and_names_stay_names() {
        assert_eq!(normalise_sender("+254 712 345 678"), Some(Sender::Phone("+254712345678".into())));
        assert_eq!(normalise_sender("\u{202A}+254\u{00A0}712\u{00A0}345\u{00A0}678\u{202C}"), Some(Sender::Phone("+254712345678".into())));
        assert_eq!(normalise_sender("+1 (415) 555-0100"), Some(Sender::Phone("+14155550100".into())));
        assert_eq!(normalise_sender("~\u{202F}Mama Njeri"), Some(Sender::Name("Mama Njeri".into())));
        assert_eq!(normalise_sender("Shop 254"), Some(Sender::Name("Shop 254".into())));
        assert_eq!(normalise_sender("\u{200E}"), None);
    }

    #[test]
    fn bodies_are_classified() {
        let cases: [(&str, Body); 13] = [
            ("Samsung A14 - KSh 18,500", Body::Text("Samsung A14 - KSh 18,500".into())),
            ("<Media omitted>", Body::Media { caption: None }),
            ("\u{200E}image omitted", Body::Media { caption: None }),
            ("\u{200E}<attached: 00000012-PHOTO-2023-12-31-21-41-05.jpg>", Body::Media { caption: None }),
            ("IMG-20231231-WA0001.jpg (file attached)\nTecno Spark 10 brand new 14k", Body::Media { caption: Some("Tecno Spark 10 brand new 14k".into()) }),
            ("Price list.pdf • \u{200E}3 pages \u{200E}document omitted", Body::Media { caption: None }),
            ("This message was deleted", Body::Deleted),
            ("\u{200E}You deleted this message.", Body::Deleted),
            ("\u{200E}Messages and calls are end-to-end encrypted. No one outside of this chat can read them.", Body::System),
            ("\u{200E}Alice added Bob", Body::System),
            ("Missed voice call", Body::System),
            ("Pixel 7 ex-UK 32k <This message was edited>", Body::Text("Pixel 7 ex-UK 32k".into())),
            ("Pixel 7 ex-UK 31k \u{200E}<This message was edited>", Body::Text("Pixel 7 ex-UK 31k".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(classify_body(text), expected, "{text:?}");
        }
    }
}
