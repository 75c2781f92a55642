//! Turning a fetched page's bytes into text. The order is the browser's (WHATWG "encoding
//! sniffing"): a byte-order mark, then the `Content-Type` header's `charset`, then a
//! `<meta charset>` / `<meta http-equiv="content-type">` prescan of the first
//! [`META_PRESCAN_BYTES`], then statistical detection (`chardetng`). Decoding never fails:
//! malformed sequences become U+FFFD, as in a browser.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};

/// How far the `<meta>` prescan looks. The spec says 1024 bytes; real pages put a long
/// `<script>` or comment block first often enough that 4096 is worth the few µs.
pub const META_PRESCAN_BYTES: usize = 4096;

/// How many bytes the detector sees when nothing declares a charset.
const DETECT_BYTES: usize = 64 * 1024;

/// Which rule chose the encoding; useful in event details and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    Header,
    Meta,
    Detected,
}

/// Decodes `body` to text, choosing the encoding by BOM, header, `<meta>`, then detection.
pub fn decode_html(body: &[u8], content_type_header: Option<&str>) -> (String, &'static Encoding) {
    let (text, encoding, _) = decode_html_with_source(body, content_type_header);
    (text, encoding)
}

/// [`decode_html`], also saying which rule chose the encoding.
pub fn decode_html_with_source(
    body: &[u8],
    content_type_header: Option<&str>,
) -> (String, &'static Encoding, CharsetSource) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let rest = body.get(bom_len..).unwrap_or_default();
        let text = encoding.decode_without_bom_handling(rest).0.into_owned();
        return (text, encoding, CharsetSource::Bom);
    }
    let (encoding, source) = if let Some(enc) = content_type_header.and_then(charset_from_content_type) {
        (enc, CharsetSource::Header)
    } else if let Some(enc) = prescan_meta_charset(body) {
        (enc, CharsetSource::Meta)
    } else {
        (detect(body), CharsetSource::Detected)
    };
    let text = encoding.decode_without_bom_handling(body).0.into_owned();
    (text, encoding, source)
}

/// The encoding named by a `Content-Type` value's `charset` parameter, if it is a known label.
pub fn charset_from_content_type(value: &str) -> Option<&'static Encoding> {
    let label = charset_param(value)?;
    Encoding::for_label(label.as_bytes())
}

/// Extracts `charset=...` from a `Content-Type`-shaped string (also the `content` of a
/// `<meta http-equiv>`), quoted or not; the first one wins.
fn charset_param(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower.get(from..)?.find("charset") {
        let after = from + found + "charset".len();
        from = after;
        let rest = lower.get(after..)?.trim_start_matches(is_html_space);
        let Some(rest) = rest.strip_prefix('=') else { continue };
        let rest = rest.trim_start_matches(is_html_space);
        let label = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest.get(1..)?.split(q).next()?,
            _ => rest.split(|c: char| c == ';' || is_html_space(c)).next()?,
        };
        let label = label.trim_matches(is_html_space);
        if !label.is_empty() {
            return Some(label.to_owned());
        }
    }
    None
}

fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

fn detect(body: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(body).is_ok() {
        return UTF_8;
    }
    let sample = body.get(..DETECT_BYTES).unwrap_or(body);
    // ISO-2022-JP is refused, as browsers do for pages that can run scripts. `tld` stays `None`:
    // chardetng asserts on malformed TLDs, and a hint buys little for a marketplace's pages.
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(sample, sample.len() == body.len());
    detector.guess(None, Utf8Detection::Allow)
}

/// A byte-level `<meta>` prescan in the spirit of the WHATWG algorithm: comments are skipped,
/// other tags' attributes are stepped over, and only `<meta>` attributes are read.
pub fn prescan_meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let window = body.get(..META_PRESCAN_BYTES).unwrap_or(body);
    let mut pos = 0;
    while pos < window.len() {
        let rest = window.get(pos..)?;
        if rest.starts_with(b"<!--") {
            pos += find(rest.get(4..)?, b"-->").map_or(window.len(), |end| end + 7);
        } else if rest.len() > 5
            && rest.get(..5).is_some_and(|t| t.eq_ignore_ascii_case(b"<meta"))
            && rest.get(5).is_some_and(|&b| is_space_or_slash(b))
        {
            let mut attrs = AttributeCursor { bytes: window, pos: pos + 5 };
            if let Some(encoding) = meta_encoding(&mut attrs) {
                return Some(encoding);
            }
            pos = attrs.pos.max(pos + 1);
        } else if rest.first() == Some(&b'<') && rest.get(1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/') {
            // Some other tag: skip its name and attributes so `<meta` inside a value is ignored.
            let name_end = rest.iter().position(|&b| is_space(b) || b == b'>').unwrap_or(rest.len());
            let mut attrs = AttributeCursor { bytes: window, pos: pos + name_end };
            while attrs.next_attribute().is_some() {}
            pos = attrs.pos.max(pos + 1);
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") || rest.starts_with(b"<?") {
            pos += rest.iter().position(|&b| b == b'>').map_or(window.len(), |end| end + 1);
        } else {
            pos += 1;
        }
    }
    None
}

/// Reads one `<meta>`'s attributes; returns the encoding it declares, if any.
fn meta_encoding(attrs: &mut AttributeCursor<'_>) -> Option<&'static Encoding> {
    let mut http_equiv_content_type = false;
    let mut charset: Option<&'static Encoding> = None;
    let mut content_charset: Option<&'static Encoding> = None;
    while let Some((name, value)) = attrs.next_attribute() {
        match name.as_str() {
            "http-equiv" => http_equiv_content_type |= value.eq_ignore_ascii_case("content-type"),
            "charset" if charset.is_none() => charset = Encoding::for_label(value.trim().as_bytes()),
            "content" if content_charset.is_none() => {
                content_charset = charset_param(&value).and_then(|l| Encoding::for_label(l.as_bytes()));
            }
            _ => {}
        }
    }
    let chosen = charset.or(if http_equiv_content_type { content_charset } else { None })?;
    // The spec's fix-ups: a meta can't truthfully declare UTF-16 (it was readable as ASCII).
    Some(if chosen == UTF_16BE || chosen == UTF_16LE {
        UTF_8
    } else if chosen == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        chosen
    })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

fn is_space_or_slash(b: u8) -> bool {
    is_space(b) || b == b'/'
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Walks `name=value` pairs inside a tag, stopping after `>` (WHATWG "get an attribute").
struct AttributeCursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl AttributeCursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next_attribute(&mut self) -> Option<(String, String)> {
        while self.peek().is_some_and(is_space_or_slash) {
            self.pos += 1;
        }
        match self.peek() {
            None => return None,
            Some(b'>') => {
                self.pos += 1;
                return None;
            }
            _ => {}
        }
        let mut name = Vec::new();
        while let Some(b) = self.peek() {
            if is_space_or_slash(b) || b == b'>' || (b == b'=' && !name.is_empty()) {
                break;
            }
            name.push(b.to_ascii_lowercase());
            self.pos += 1;
        }
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        if self.peek() != Some(b'=') {
            return Some((String::from_utf8_lossy(&name).into_owned(), String::new()));
        }
        self.pos += 1;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        let mut value = Vec::new();
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => {
                self.pos += 1;
                while let Some(b) = self.peek() {
                    self.pos += 1;
                    if b == q {
                        break;
                    }
                    value.push(b);
                }
            }
            _ => {
                while let Some(b) = self.peek() {
                    if is_space(b) || b == b'>' {
                        break;
                    }
                    value.push(b);
                    self.pos += 1;
                }
            }
        }
        Some((
            String::from_utf8_lossy(&name).into_owned(),
            String::from_utf8_lossy(&value).into_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{SHIFT_JIS, WINDOWS_1251};
    use proptest::prelude::*;

    #[test]
    fn bom_wins_over_header_and_meta() {
        let mut body = vec![0xEF, 0xBB, 0xBF];
        body.extend_from_slice("<meta charset=windows-1252>Café".as_bytes());
        let (text, enc, src) = decode_html_with_source(&body, Some("text/html; charset=shift_jis"));
        assert_eq!((enc, src), (UTF_8, CharsetSource::Bom));
        assert!(text.ends_with("Café") && !text.starts_with('\u{feff}'));
    }

    #[test]
    fn utf16_bom_is_decoded() {
        let mut body = vec![0xFF, 0xFE];
        for unit in "<p>Jambo</p>".encode_utf16() {
            body.extend_from_slice(&unit.to_le_bytes());
        }
        let (text, enc) = decode_html(&body, None);
        assert_eq!((text.as_str(), enc), ("<p>Jambo</p>", UTF_16LE));
    }

    #[test]
    fn header_wins_over_meta() {
        let body = b"<meta charset=utf-8><title>\x82\xa0</title>";
        let (text, enc, src) = decode_html_with_source(body, Some("text/html; Charset=\"Shift_JIS\""));
        assert_eq!((enc, src), (SHIFT_JIS, CharsetSource::Header));
        assert!(text.contains("<title>あ</title>"));
    }

    #[test]
    fn unknown_header_label_falls_through_to_meta() {
        let body = b"<meta charset=\"windows-1252\"><p>caf\xe9</p>";
        let (text, enc, src) = decode_html_with_source(body, Some("text/html; charset=no-such-thing"));
        assert_eq!((enc, src), (WINDOWS_1252, CharsetSource::Meta));
        assert!(text.contains("café"));
    }

    #[test]
    fn meta_prescan_table() {
        let cases: &[(&[u8], Option<&'static Encoding>)] = &[
            (b"<META CHARSET=WINDOWS-1251>", Some(WINDOWS_1251)),
            (b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\">", Some(SHIFT_JIS)),
            (b"<meta content='text/html;charset=windows-1252' http-equiv='content-type'>", Some(WINDOWS_1252)),
            // content without http-equiv is not a declaration
            (b"<meta content=\"text/html; charset=shift_jis\">", None),
            (b"<!-- <meta charset=shift_jis> --><meta charset=windows-1251>", Some(WINDOWS_1251)),
            (b"<div title=\"<meta charset=shift_jis>\"><meta charset=utf-8>", Some(UTF_8)),
            (b"<meta charset=utf-16le>", Some(UTF_8)),
            (b"<meta charset=x-user-defined>", Some(WINDOWS_1252)),
            (b"<meta charset=bogus><meta charset=windows-1251>", Some(WINDOWS_1251)),
            (b"<metadata charset=shift_jis>", None),
            (b"<meta charset=", None),
            (b"", None),
        ];
        for (input, expected) in cases {
            assert_eq!(prescan_meta_charset(input), *expected, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn meta_past_the_prescan_window_is_not_seen() {
        let mut body = b"<!doctype html><head><script>".to_vec();
        body.resize(META_PRESCAN_BYTES + 10, b' ');
        body.extend_from_slice(b"</script><meta charset=shift_jis>");
        assert_eq!(prescan_meta_charset(&body), None);
    }

    #[test]
    fn undeclared_windows_1252_is_detected() {
        let body = b"<html><body><p>Caf\xe9 cr\xe8me br\xfbl\xe9e, tr\xe8s d\xe9licieux \x80 5, \
                     \xe9l\xe9gant et fran\xe7ais, pr\xeat \xe0 porter.</p></body></html>";
        let (text, enc, src) = decode_html_with_source(body, Some("text/html"));
        assert_eq!((enc, src), (WINDOWS_1252, CharsetSource::Detected));
        assert!(text.contains("Café crème brûlée") && text.contains("€"));
    }

    #[test]
    fn valid_utf8_without_declaration_is_utf8() {
        let (text, enc) = decode_html("<p>Bei ¥500 · 中文</p>".as_bytes(), None);
        assert_eq!((text.as_str(), enc), ("<p>Bei ¥500 · 中文</p>", UTF_8));
    }

    #[test]
    fn charset_param_forms() {
        assert_eq!(charset_param("text/html;charset=UTF-8").as_deref(), Some("utf-8"));
        assert_eq!(charset_param("text/html; charset = 'koi8-r' ; x=y").as_deref(), Some("koi8-r"));
        assert_eq!(charset_param("text/html; charsetx; charset=gbk").as_deref(), Some("gbk"));
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("charset=\""), None);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..6000),
                                           header in proptest::option::of(".{0,60}")) {
            let (text, _) = decode_html(&body, header.as_deref());
            prop_assert!(text.len() <= body.len() * 3 + 3);
        }

        #[test]
        fn meta_prescan_never_panics(prefix in "[<>!=/a-z\"' -]{0,200}", label in "[a-zA-Z0-9_-]{0,20}") {
            let body = format!("{prefix}<meta charset=\"{label}\">");
            let _ = prescan_meta_charset(body.as_bytes());
        }

        #[test]
        fn utf8_text_round_trips(s in "\\PC{0,300}") {
            let (text, enc) = decode_html(s.as_bytes(), Some("text/html; charset=utf-8"));
            prop_assert_eq!(enc, UTF_8);
            prop_assert_eq!(text.trim_start_matches('\u{feff}'), s.trim_start_matches('\u{feff}'));
        }
    }
}
