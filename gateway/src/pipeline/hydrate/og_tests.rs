//! Tests for the Open Graph reader: table cases, the committed wa.me fixtures (decoded through
//! `decode_html` exactly as the worker will), and never-panic properties.

use super::*;
use super::super::decode_html;
use encoding_rs::{SHIFT_JIS, UTF_8, WINDOWS_1252};
use proptest::prelude::*;

fn page(id: &str) -> Url {
    Url::parse(&format!("http://fixture.test:8080/p/{id}/254700000001")).unwrap()
}

fn parse(html: &str) -> Result<ProductMeta, PageError> {
    parse_product_page(html, &page("7200000000000000"))
}

fn image(html: &str) -> Option<String> {
    parse(html).ok()?.image_url.map(String::from)
}

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/wa/", $name)).as_slice()
    };
}

#[test]
fn image_priority_falls_through_unusable_candidates() {
    let cases = [
        (r#"<meta property="og:image" content="https://a/1.jpg"><meta property="og:image:secure_url" content="https://a/2.jpg">"#, "https://a/2.jpg"),
        (r#"<meta property="og:image" content="https://a/1.jpg"><meta property="og:image:url" content="https://a/3.jpg">"#, "https://a/3.jpg"),
        (r#"<meta name="twitter:image" content="https://a/t.jpg"><meta property="og:image" content="https://a/1.jpg">"#, "https://a/1.jpg"),
        (r#"<meta property="og:image:secure_url" content="data:image/png;base64,AAAA"><meta property="og:image" content="https://a/1.jpg">"#, "https://a/1.jpg"),
        (r#"<meta property="og:image" content="   "><meta property="og:image" content="https://a/second.jpg">"#, "https://a/second.jpg"),
        (r#"<meta property="og:image" content="javascript:alert(1)"><meta name="twitter:image:src" content="/t.png">"#, "http://fixture.test:8080/t.png"),
        (r#"<meta property="og:image" content="//cdn.example/x.jpg">"#, "http://cdn.example/x.jpg"),
        (r#"<meta property="og:image" content="img/x.jpg">"#, "http://fixture.test:8080/p/7200000000000000/img/x.jpg"),
        (r#"<meta property="og:image" content=" https://a/sp ace.jpg?q=1&amp;r=2 ">"#, "https://a/sp%20ace.jpg?q=1&r=2"),
        (r#"<meta PROPERTY="OG:IMAGE" CONTENT="https://a/upper.jpg">"#, "https://a/upper.jpg"),
        (r#"<meta name="og:image" content="https://a/name.jpg">"#, "https://a/name.jpg"),
    ];
    for (html, expected) in cases {
        assert_eq!(image(html).as_deref(), Some(expected), "{html}");
    }
}

#[test]
fn title_and_description_fallbacks() {
    let meta = parse("<title> Plain &amp; simple </title><meta name=twitter:title content='Tw &amp; title'>").unwrap();
    assert_eq!((meta.title.as_deref(), meta.title_source), (Some("Tw & title"), Some(TitleSource::TwitterTitle)));
    let meta = parse("<title>\n  Plain &amp;\n simple &lt;3 </title><meta property=og:image content=/i.jpg>").unwrap();
    assert_eq!((meta.title.as_deref(), meta.title_source), (Some("Plain & simple <3"), Some(TitleSource::HtmlTitle)));
    let meta = parse(r#"<meta property="og:title" content="  "><title>Real</title><meta name="description" content=" d ">"#).unwrap();
    assert_eq!((meta.title.as_deref(), meta.description.as_deref()), (Some("Real"), Some("d")));
    let meta = parse(r#"<meta property="og:description" content="og"><meta name="description" content="plain"><title>t</title>"#).unwrap();
    assert_eq!(meta.description.as_deref(), Some("og"));
}

#[test]
fn decodes_entities_exactly_once() {
    let meta = parse(r#"<meta property="og:title" content="A &amp;amp; B &lt;i&gt; &#x41;&#66; &eacute;">"#).unwrap();
    assert_eq!(meta.title.as_deref(), Some("A &amp; B <i> AB é"));
    // Attribute rules: a legacy entity without `;` followed by `=` stays literal (as in URLs).
    assert_eq!(image(r#"<meta property="og:image" content="https://a/x?a=1&copy=2">"#).as_deref(), Some("https://a/x?a=1&copy=2"));
}

#[test]
fn ignores_tags_inside_scripts_comments_and_svg_titles() {
    let html = r#"<head><script>document.write('<meta property="og:image" content="https://evil/x.jpg">')</script>
        <!-- <meta property="og:title" content="commented"> --></head>
        <body><svg><title>icon</title></svg><meta property="og:image" content="https://a/real.jpg"></body>"#;
    let meta = parse(html).unwrap();
    assert_eq!(meta.image_url.map(String::from).as_deref(), Some("https://a/real.jpg"));
    assert_eq!(meta.title, None);
    let meta = parse("<title></title><meta property=og:image content=/i.jpg><svg><title>icon</title></svg>").unwrap();
    assert_eq!(meta.title, None);
}

#[test]
fn not_a_product_page() {
    for html in ["", "<html><body>nothing</body></html>", "<title>  </title><meta property=og:image content='ftp://x/y.jpg'>", "\u{0}<<<>>>"] {
        assert_eq!(parse(html), Err(PageError::NotAProductPage), "{html:?}");
    }
}

#[test]
fn long_fields_are_capped_on_char_boundaries() {
    let html = format!(r#"<meta property="og:title" content="{}"><meta property="og:description" content="{}">"#, "é".repeat(2000), "ü".repeat(20_000));
    let meta = parse(&html).unwrap();
    assert_eq!(meta.title.unwrap().chars().count(), MAX_TITLE_CHARS);
    assert_eq!(meta.description.unwrap().chars().count(), MAX_DESCRIPTION_CHARS);
}

#[test]
fn stops_early_only_when_head_had_title_and_image() {
    // Title and image in the head: a later secure_url in the body is not read (documented).
    let early = r#"<head><meta property="og:title" content="t"><meta property="og:image" content="https://a/head.jpg"></head>
        <body><meta property="og:image:secure_url" content="https://a/body.jpg"></body>"#;
    assert_eq!(image(early).as_deref(), Some("https://a/head.jpg"));
    // No image in the head: the body is read.
    let late = r#"<head><meta property="og:title" content="t"></head><body><div></div><meta property="og:image" content="https://a/body.jpg"></body>"#;
    assert_eq!(image(late).as_deref(), Some("https://a/body.jpg"));
}

fn fixture_meta(bytes: &[u8], content_type: Option<&str>, id: &str) -> (Result<ProductMeta, PageError>, &'static encoding_rs::Encoding) {
    let (html, enc) = decode_html(bytes, content_type);
    (parse_product_page(&html, &page(id)), enc)
}

#[test]
fn fixture_basic() {
    let (meta, enc) = fixture_meta(fixture!("product_basic.html"), Some("text/html; charset=utf-8"), "7200000000000001");
    let meta = meta.unwrap();
    assert_eq!(enc, UTF_8);
    assert_eq!(meta.title.as_deref(), Some("Mahogany Sofa, 3 seater"));
    assert_eq!(meta.description.as_deref(), Some("Handcrafted mahogany sofa with leather cushions. KES 45,000"));
    assert_eq!(
        meta.image_url.map(String::from).as_deref(),
        Some("https://media-mba1-1.cdn.whatsapp.net/v/t45.5328-4/7200000000000001_n.jpg?stp=dst-jpg_p100x100&ccb=1-7&_nc_sid=657aed")
    );
    assert_eq!(meta.image_source, Some(ImageSource::OgImage));
}

#[test]
fn fixture_relative_and_protocol_relative() {
    let (meta, _) = fixture_meta(fixture!("product_relative_image.html"), None, "7200000000000002");
    assert_eq!(meta.unwrap().image_url.map(String::from).as_deref(), Some("http://fixture.test:8080/media/7200000000000002.jpg?size=600"));
    let (meta, _) = fixture_meta(fixture!("product_protocol_relative.html"), None, "7200000000000003");
    let meta = meta.unwrap();
    assert_eq!(meta.image_url.map(String::from).as_deref(), Some("http://media.example.net/v/7200000000000003.jpg"));
    assert_eq!((meta.image_source, meta.description), (Some(ImageSource::OgImageSecureUrl), None));
}

#[test]
fn fixture_entities() {
    let (meta, _) = fixture_meta(fixture!("product_entities.html"), None, "7200000000000004");
    let meta = meta.unwrap();
    assert_eq!(meta.title.as_deref(), Some("Mama's \"Best\" Chapati & Tea – €5 🍞"));
    assert_eq!(meta.description.as_deref(), Some("Fresh daily <b>not bold</b> &amp; double-encoded"));
    assert_eq!(
        meta.image_url.map(String::from).as_deref(),
        Some("https://media.example.net/v/t45/7200000000000004.jpg?stp=dst-jpg_s600x600&_nc_cat=1&amp;oe=ABC=")
    );
}

#[test]
fn fixture_secure_url_preferred_and_twitter_only() {
    let (meta, _) = fixture_meta(fixture!("product_secure_url_preferred.html"), None, "7200000000000005");
    assert_eq!(meta.unwrap().image_url.map(String::from).as_deref(), Some("https://media.example.net/secure.jpg"));
    let (meta, _) = fixture_meta(fixture!("product_twitter_only.html"), None, "7200000000000006");
    let meta = meta.unwrap();
    assert_eq!((meta.title.as_deref(), meta.title_source), (Some("Kitenge Dress (size M)"), Some(TitleSource::HtmlTitle)));
    assert_eq!(meta.description.as_deref(), Some("Only twitter:image and a plain description."));
    assert_eq!(meta.image_url.map(String::from).as_deref(), Some("https://pbs.example.net/media/7200000000000006.jpg"));
    assert_eq!(meta.image_source, Some(ImageSource::TwitterImage));
}

#[test]
fn fixture_non_utf8_pages() {
    let (meta, enc) = fixture_meta(fixture!("product_windows1252_meta.html"), Some("text/html"), "7200000000000007");
    let meta = meta.unwrap();
    assert_eq!(enc, WINDOWS_1252);
    assert_eq!(meta.title.as_deref(), Some("Café Crème – €12 “special”"));
    assert_eq!(meta.description.as_deref(), Some("Très bon café, naïve façade, 10% off"));

    let (meta, enc) = fixture_meta(fixture!("product_shift_jis_header.html"), Some("text/html; charset=Shift_JIS"), "7200000000000008");
    let meta = meta.unwrap();
    assert_eq!(enc, SHIFT_JIS);
    assert_eq!(meta.title.as_deref(), Some("抹茶 ラテ セット"));
    assert_eq!(meta.description.as_deref(), Some("京都の抹茶を使用。送料無料。"));

    let (meta, enc) = fixture_meta(fixture!("product_undeclared_windows1252.html"), Some("text/html"), "7200000000000009");
    assert_eq!(enc, WINDOWS_1252);
    assert_eq!(meta.unwrap().title.as_deref(), Some("Crêpe à la française, délicieuse"));
}

#[test]
fn fixture_tags_in_body_template_and_not_a_product() {
    let (meta, _) = fixture_meta(fixture!("product_tags_in_body.html"), None, "7200000000000010");
    let meta = meta.unwrap();
    assert_eq!(meta.title.as_deref(), Some("Tags after the body started"));
    assert_eq!(meta.image_url.map(String::from).as_deref(), Some("http://fixture.test:8080/media/7200000000000010.jpg"));

    let template = std::str::from_utf8(fixture!("product_template.html")).unwrap();
    let html = template.replace("{{PRODUCT_ID}}", "7100000000000007").replace("{{N}}", "7");
    let meta = parse_product_page(&html, &page("7100000000000007")).unwrap();
    assert_eq!(meta.title.as_deref(), Some("Test product 7 & friends"));
    assert_eq!(meta.description.as_deref(), Some("Sample product number 7.\nKES 700, delivery in Nairobi."));
    assert_eq!(meta.image_url.map(String::from).as_deref(), Some("http://fixture.test:8080/media/7100000000000007.jpg"));

    let (meta, _) = fixture_meta(fixture!("not_a_product.html"), None, "7200000000000011");
    assert_eq!(meta, Err(PageError::NotAProductPage));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(html in "\\PC{0,2000}") {
        let _ = parse(&html);
    }

    #[test]
    fn never_panics_on_tag_soup(parts in proptest::collection::vec(
        prop_oneof![
            Just("<meta property=og:image content=".to_owned()), Just("<meta name='twitter:image' content=\"".to_owned()),
            Just("<title>".to_owned()), Just("</title>".to_owned()), Just("<body>".to_owned()), Just("<script>".to_owned()),
            Just("<!--".to_owned()), Just("-->".to_owned()), Just("<svg>".to_owned()), Just("&amp;".to_owned()), Just("&#x".to_owned()),
            Just(">".to_owned()), Just("\"".to_owned()), Just("//x".to_owned()), Just("../".to_owned()), "\\PC{0,12}",
        ], 0..60)) {
        let html = parts.concat();
        if let Ok(meta) = parse(&html) {
            prop_assert!(meta.title.is_some() || meta.image_url.is_some());
            if let Some(url) = meta.image_url {
                prop_assert!(matches!(url.scheme(), "http" | "https"));
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let (html, _) = decode_html(&bytes, None);
        let _ = parse(&html);
    }
}
