//! The Open Graph reader (`gateway::pipeline::hydrate::og`): a product page
//! has a title or an image, each with its source; titles and descriptions
//! respect their caps; every image URL (from a page or resolved directly) is
//! absolute http(s) with a host.

use gateway::pipeline::hydrate::og::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, parse_product_page, resolve_image_url};
use url::Url;

const PAGE: &str = "https://web.whatsapp.com/product/1234567890123456/254712345678";

fn assert_fetchable(url: &Url) {
    assert!(matches!(url.scheme(), "http" | "https"), "image scheme {:?}", url.scheme());
    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "image URL has a host: {url}");
}

pub fn check(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    let page = Url::parse(PAGE).unwrap_or_else(|e| unreachable!("page URL: {e}"));
    if let Ok(meta) = parse_product_page(&html, &page) {
        assert!(meta.title.is_some() || meta.image_url.is_some(), "a product page has a title or an image");
        assert_eq!(meta.title.is_some(), meta.title_source.is_some(), "a title has a source");
        assert_eq!(meta.image_url.is_some(), meta.image_source.is_some(), "an image has a source");
        if let Some(title) = &meta.title {
            assert!(!title.trim().is_empty(), "title is not blank");
            assert!(title.chars().count() <= MAX_TITLE_CHARS, "title over the cap");
        }
        if let Some(description) = &meta.description {
            assert!(description.chars().count() <= MAX_DESCRIPTION_CHARS, "description over the cap");
        }
        if let Some(url) = &meta.image_url {
            assert_fetchable(url);
        }
    }
    // The first line alone as an attribute value, as `og:image` content.
    let first_line = html.lines().next().unwrap_or_default();
    if let Some(url) = resolve_image_url(first_line, &page) {
        assert_fetchable(&url);
    }
}
