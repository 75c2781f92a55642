//! Charset sniffing (`gateway::pipeline::hydrate::charset`). The input is an
//! optional `Content-Type` line (`content-type: text/html; charset=…`)
//! followed by the body. The rule that chose the encoding agrees with its
//! own helper (BOM, header, `<meta>` prescan), a BOM always wins, a declared
//! header beats the page, and a UTF-8 body decoded as UTF-8 comes out unchanged.

use gateway::pipeline::hydrate::charset::{
    CharsetSource, charset_from_content_type, decode_html, decode_html_with_source, prescan_meta_charset,
};

const HEADER_PREFIX: &[u8] = b"content-type:";

/// Splits the optional header line off the body.
fn split(data: &[u8]) -> (Option<String>, &[u8]) {
    let Some(rest) = data.strip_prefix(HEADER_PREFIX) else { return (None, data) };
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let header = String::from_utf8_lossy(&rest[..end]).trim().to_owned();
    (Some(header), rest.get(end + 1..).unwrap_or_default())
}

pub fn check(data: &[u8]) {
    let (header, body) = split(data);
    let header = header.as_deref();
    let (text, encoding, source) = decode_html_with_source(body, header);
    assert_eq!(decode_html(body, header), (text.clone(), encoding), "both entry points agree");
    let bom = [&[0xEF, 0xBB, 0xBF][..], &[0xFF, 0xFE], &[0xFE, 0xFF]].iter().any(|bom| body.starts_with(bom));
    assert_eq!(source == CharsetSource::Bom, bom, "a byte-order mark wins, and only then is BOM the source");
    let declared = header.and_then(charset_from_content_type);
    match source {
        CharsetSource::Bom => {}
        CharsetSource::Header => assert_eq!(declared, Some(encoding), "the header's charset is used"),
        CharsetSource::Meta => {
            assert!(declared.is_none(), "a declared header beats <meta>");
            assert_eq!(prescan_meta_charset(body), Some(encoding), "the <meta> charset is used");
        }
        CharsetSource::Detected => {
            assert!(declared.is_none() && prescan_meta_charset(body).is_none(), "detection only when nothing is declared");
        }
    }
    if source != CharsetSource::Bom && encoding.name() == "UTF-8" && let Ok(utf8) = std::str::from_utf8(body) {
        assert_eq!(text, utf8, "a UTF-8 body decoded as UTF-8 is unchanged");
    }
}
