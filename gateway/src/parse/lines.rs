//! Splits a message into lines and finds each line's content: the text after
//! its list marker (`1.`, `2)`, `(3)`, `1️⃣`, `-`, `•`, `*`, `▪️`, a leading
//! emoji) and surrounding whitespace. Offsets are byte offsets into the message.

use std::ops::Range;
use std::sync::LazyLock;

use super::text::{Pattern, compiled};

/// One line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The content, without list marker, leading decoration or outer whitespace.
    pub content: Range<usize>,
    /// The line opened with a number, bullet or emoji: it is one entry of a list.
    pub listed: bool,
}

impl Line {
    pub fn is_blank(&self) -> bool {
        self.content.is_empty()
    }
}

/// Leading emoji, symbols, bullets and the joiners and selectors inside them.
static LEADING_DECORATION: Pattern = LazyLock::new(|| {
    compiled(
        r"\A[\p{Extended_Pictographic}\p{So}\x{1F3FB}-\x{1F3FF}\x{1F1E6}-\x{1F1FF}\x{FE0E}\x{FE0F}\x{200D}\x{2022}\x{25E6}\x{2043}\x{2192}\x{21D2}\x{200B}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2060}\x{FEFF}]+",
    )
});

/// Splits `text` into lines (`\n`, `\r\n` or `\r`), blank lines included.
pub fn split(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    while start <= bytes.len() {
        let end = bytes[start..].iter().position(|&b| b == b'\n' || b == b'\r').map_or(bytes.len(), |p| start + p);
        lines.push(line(text, start..end));
        if end >= bytes.len() {
            break;
        }
        start = end + 1;
        if bytes[end] == b'\r' && bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
    }
    lines
}

fn line(text: &str, range: Range<usize>) -> Line {
    let mut start = range.start;
    let end = range.start + text[range.clone()].trim_end().len();
    let mut listed = false;
    // Markers and decoration may stack: `🔥 1. ✅ iPhone`.
    for _ in 0..4 {
        let before = start;
        start += text[start..end].len() - text[start..end].trim_start().len();
        let undecorated = start;
        start += leading_decoration_len(&text[start..end]);
        if start > undecorated {
            listed = true;
        }
        let marker = list_marker_len(&text.as_bytes()[start..end]);
        if marker > 0 {
            start += marker;
            listed = true;
        }
        if start == before {
            break;
        }
    }
    let start = start + (text[start..end].len() - text[start..end].trim_start().len());
    Line { content: start.min(end)..end, listed }
}

fn leading_decoration_len(text: &str) -> usize {
    // Every decoration character is outside ASCII.
    if text.as_bytes().first().is_none_or(u8::is_ascii) {
        return 0;
    }
    LEADING_DECORATION.as_ref().and_then(|re| re.find(text)).map_or(0, |m| m.end())
}

/// Length of a list marker at the start of `b`, including the space after it:
/// `12. `, `3) `, `(4) `, `1️⃣ ` (keycap), `- `, `* `, `• `, `> `.
fn list_marker_len(b: &[u8]) -> usize {
    let spaces_after = |at: usize| b[at..].iter().take_while(|c| c.is_ascii_whitespace()).count();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if (1..=2).contains(&digits) && digits < b.len() {
        let after = digits + 1;
        // `1.` / `1)` / `1-` followed by a space; a digit after the dot is a decimal.
        if matches!(b[digits], b'.' | b')' | b'-' | b':') && after < b.len() && b[after].is_ascii_whitespace() {
            return after + spaces_after(after);
        }
        // Keycap digit: `1` + U+FE0F? + U+20E3.
        let keycap = [0xEF, 0xB8, 0x8F, 0xE2, 0x83, 0xA3];
        if b[digits..].starts_with(&keycap) {
            return digits + 6 + spaces_after(digits + 6);
        }
        if b[digits..].starts_with(&keycap[3..]) {
            return digits + 3 + spaces_after(digits + 3);
        }
    }
    if b.first() == Some(&b'(') {
        let inner = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if (1..=2).contains(&inner) && b.get(1 + inner) == Some(&b')') {
            return 2 + inner + spaces_after(2 + inner);
        }
    }
    if matches!(b.first(), Some(b'-' | b'*' | b'>' | b'+')) && b.get(1).is_some_and(u8::is_ascii_whitespace) {
        return 1 + spaces_after(1);
    }
    // En and em dashes used as bullets.
    if (b.starts_with("–".as_bytes()) || b.starts_with("—".as_bytes())) && b.get(3).is_some_and(u8::is_ascii_whitespace) {
        return 3 + spaces_after(3);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(text: &str) -> Vec<(&str, bool)> {
        split(text).into_iter().map(|l| (&text[l.content.clone()], l.listed)).collect()
    }

    #[test]
    fn no_ascii_character_is_leading_decoration() {
        // The reason `leading_decoration_len` returns 0 for a line opening with ASCII.
        let re = LEADING_DECORATION.as_ref().expect("compiles");
        for byte in 0u8..128 {
            assert!(!re.is_match(&char::from(byte).to_string()), "{byte}");
        }
    }

    #[test]
    fn list_markers_are_stripped_and_flagged() {
        let text = "New stock:\r\n1. iPhone 12 - 45k\n2) Samsung A54\n(3) Tecno\n1️⃣ Sofa\n- Dell\n• HP\n* Lenovo\n🔥 Oraimo\n*Bold* title\n\n  4.5k only";
        assert_eq!(
            contents(text),
            [
                ("New stock:", false),
                ("iPhone 12 - 45k", true),
                ("Samsung A54", true),
                ("Tecno", true),
                ("Sofa", true),
                ("Dell", true),
                ("HP", true),
                ("Lenovo", true),
                ("Oraimo", true),
                ("*Bold* title", false),
                ("", false),
                ("4.5k only", false),
            ]
        );
    }

    #[test]
    fn offsets_point_into_the_message() {
        let text = "a\n\n  b  \r\nc";
        let lines = split(text);
        assert_eq!(lines.len(), 4);
        assert_eq!(&text[lines[2].content.clone()], "b");
        assert!(lines[1].is_blank());
    }
}
