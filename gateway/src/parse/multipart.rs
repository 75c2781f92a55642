//! A `multipart/form-data` body (RFC 7578), already read under a cap, split into its parts: the
//! boundary from the `Content-Type`, each part's `name` and `filename` from its
//! `Content-Disposition`, and its bytes. Enough for one uploaded file; pure, so it is tested on
//! hand-written bodies.

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_owned())
    })
    .filter(|b| !b.is_empty() && b.len() <= 70)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: Option<String>,
    pub filename: Option<String>,
    pub body: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// `name="value"` (or unquoted) out of a `Content-Disposition` header value.
fn param(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`; `None` when it is not a well-formed multipart body for `boundary`.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at = find(body, delimiter, 0)? + delimiter.len();
    let mut out = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(out);
        }
        // Skip the line break after the delimiter.
        at = find(body, b"\r\n", at)? + 2;
        let headers_end = find(body, b"\r\n\r\n", at)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).ok()?;
        let content_start = headers_end + 4;
        let mut close = Vec::with_capacity(delimiter.len() + 2);
        close.extend_from_slice(b"\r\n");
        close.extend_from_slice(delimiter);
        let content_end = find(body, &close, content_start)?;
        let disposition = headers
            .split("\r\n")
            .find_map(|line| line.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition")).map(|(_, v)| v.trim()));
        out.push(Part {
            name: disposition.and_then(|d| param(d, "name")),
            filename: disposition.and_then(|d| param(d, "filename")),
            body: &body[content_start..content_end],
        });
        at = content_end + close.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_table() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("Multipart/Form-Data; charset=utf-8; boundary=\"x y\"").as_deref(), Some("x y"));
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn a_file_and_a_field() {
        let body = b"preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x00\x01\r\n--XX--\r\n";
        let got = parts(body, "XX").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name.as_deref(), Some("note"));
        assert_eq!(got[0].body, b"hello");
        assert_eq!(got[1].name.as_deref(), Some("file"));
        assert_eq!(got[1].filename.as_deref(), Some("a.png"));
        assert_eq!(got[1].body, b"\x89PNG\r\n\x00\x01");
    }

    #[test]
    fn truncated_bodies_are_refused() {
        assert_eq!(parts(b"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc", "XX"), None);
        assert_eq!(parts(b"nothing here", "XX"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parts(&body, "XX");
        }
    }
}
