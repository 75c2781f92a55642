//! Reading a product page's Open Graph tags: title, description and image.
//!
//! Parsing uses `lol_html`, a streaming tokenizer, instead of building a DOM with `scraper`
//! (html5ever): on a make_pages.py page (31 KB, a 22 KB `<script>` in `<head>`) scraper took
//! ~630-760 µs per page and lol_html ~11-17 µs when it stops at the end of `<head>` (~180 µs
//! when it must read the whole body). See `examples/parser_compare.rs` in the scratch crate.
//!
//! Rules:
//! - keys come from `<meta property=…>` or `<meta name=…>`, compared case-insensitively; the
//!   value is `content`; for each key the first non-empty value wins;
//! - title: `og:title`, then `twitter:title`, then the document's first HTML `<title>`;
//! - description: `og:description`, then `twitter:description`, then `<meta name=description>`;
//! - image: `og:image:secure_url`, `og:image:url`, `og:image`, `twitter:image`,
//!   `twitter:image:src`, the first that resolves (against the page URL; relative and
//!   protocol-relative forms included) to an http(s) URL with a host;
//! - character references are decoded once, as a browser does (`&amp;amp;` becomes `&amp;`);
//!   titles have whitespace runs collapsed, descriptions are trimmed;
//! - parsing stops at the first `<body>`/`<div>`/`<main>`/`<section>`/`<article>` once a
//!   title and an image are known; otherwise it reads on, for pages that put tags in the body.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::LazyLock;

use lol_html::html_content::{Element, TextChunk};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};
use url::Url;

use super::{ImageSource, PageError, ProductMeta, TitleSource};

/// Longest title kept, in characters; longer ones are cut (names are shown in lists).
pub const MAX_TITLE_CHARS: usize = 512;
/// Longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 8192;

const HTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// Reads the product fields from a decoded page. A page with neither a usable title nor a
/// usable image is [`PageError::NotAProductPage`].
pub fn parse_product_page(html: &str, page_url: &Url) -> Result<ProductMeta, PageError> {
    let tags = collect_tags(html);
    let title = [
        (tags.og_title.as_deref(), TitleSource::OgTitle),
        (tags.twitter_title.as_deref(), TitleSource::TwitterTitle),
        (tags.html_title.as_deref(), TitleSource::HtmlTitle),
    ]
    .into_iter()
    .find_map(|(raw, source)| Some((clean_title(raw?, source)?, source)));
    let description = [
        tags.og_description.as_deref(),
        tags.twitter_description.as_deref(),
        tags.meta_description.as_deref(),
    ]
    .into_iter()
    .find_map(|raw| clean_description(raw?));
    let image = [
        (tags.og_image_secure_url.as_deref(), ImageSource::OgImageSecureUrl),
        (tags.og_image_url.as_deref(), ImageSource::OgImageUrl),
        (tags.og_image.as_deref(), ImageSource::OgImage),
        (tags.twitter_image.as_deref(), ImageSource::TwitterImage),
        (tags.twitter_image_src.as_deref(), ImageSource::TwitterImage),
    ]
    .into_iter()
    .find_map(|(raw, source)| Some((resolve_image_url(raw?, page_url)?, source)));

    if title.is_none() && image.is_none() {
        return Err(PageError::NotAProductPage);
    }
    Ok(ProductMeta {
        title: title.as_ref().map(|(t, _)| t.clone()),
        description,
        image_url: image.as_ref().map(|(u, _)| u.clone()),
        title_source: title.map(|(_, s)| s),
        image_source: image.map(|(_, s)| s),
    })
}

/// Resolves an image reference against the page; only http(s) URLs with a host are kept.
pub fn resolve_image_url(raw: &str, page_url: &Url) -> Option<Url> {
    let decoded = htmlize::unescape_attribute(raw);
    let trimmed = decoded.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return None;
    }
    let url = page_url.join(trimmed).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())).then_some(url)
}

/// Raw (still entity-encoded) values of the tags we care about, first one per key.
#[derive(Default, Debug)]
struct RawTags {
    og_title: Option<String>,
    twitter_title: Option<String>,
    html_title: Option<String>,
    og_description: Option<String>,
    twitter_description: Option<String>,
    meta_description: Option<String>,
    og_image_secure_url: Option<String>,
    og_image_url: Option<String>,
    og_image: Option<String>,
    twitter_image: Option<String>,
    twitter_image_src: Option<String>,
    title_state: TitleState,
    next_title_is_foreign: bool,
}

#[derive(Default, Debug, PartialEq)]
enum TitleState {
    #[default]
    NotSeen,
    Reading(String),
    Done,
}

impl RawTags {
    fn has_title_and_image(&self) -> bool {
        let title = self.og_title.is_some() || self.twitter_title.is_some() || self.html_title.is_some();
        let image = self.og_image_secure_url.is_some()
            || self.og_image_url.is_some()
            || self.og_image.is_some()
            || self.twitter_image.is_some()
            || self.twitter_image_src.is_some();
        title && image
    }

    fn on_meta(&mut self, el: &Element<'_, '_>) {
        let key = el.get_attribute("property").or_else(|| el.get_attribute("name"));
        let Some(key) = key else { return };
        let slot = match key.trim().to_ascii_lowercase().as_str() {
            "og:title" => &mut self.og_title,
            "twitter:title" => &mut self.twitter_title,
            "og:description" => &mut self.og_description,
            "twitter:description" => &mut self.twitter_description,
            "description" => &mut self.meta_description,
            "og:image:secure_url" => &mut self.og_image_secure_url,
            "og:image:url" => &mut self.og_image_url,
            "og:image" => &mut self.og_image,
            "twitter:image" => &mut self.twitter_image,
            "twitter:image:src" => &mut self.twitter_image_src,
            _ => return,
        };
        if slot.is_none() {
            *slot = el.get_attribute("content").filter(|v| !v.trim().is_empty());
        }
    }

    fn on_title_start(&mut self, el: &Element<'_, '_>) {
        let foreign = std::mem::take(&mut self.next_title_is_foreign);
        match &mut self.title_state {
            TitleState::NotSeen if !foreign && el.namespace_uri() == HTML_NAMESPACE => {
                self.title_state = TitleState::Reading(String::new());
            }
            // The first <title> ended without a final text chunk (it was empty): close it so
            // a later (e.g. SVG) title's text is not appended to it.
            TitleState::Reading(buf) => {
                let text = std::mem::take(buf);
                self.html_title = Some(text).filter(|t| !t.trim().is_empty());
                self.title_state = TitleState::Done;
            }
            _ => {}
        }
    }

    fn on_title_text(&mut self, chunk: &TextChunk<'_>) {
        if let TitleState::Reading(buf) = &mut self.title_state {
            if buf.len() < MAX_TITLE_CHARS * 8 {
                buf.push_str(chunk.as_str());
            }
            if chunk.last_in_text_node() {
                let text = std::mem::take(buf);
                self.html_title = Some(text).filter(|t| !t.trim().is_empty());
                self.title_state = TitleState::Done;
            }
        }
    }
}

/// Marker error: a handler asks the rewriter to stop because the head gave us enough.
#[derive(Debug, thiserror::Error)]
#[error("enough tags read")]
struct EnoughRead;

/// Selectors parsed once per process (lol_html's `element!` macro parses on every call).
struct Selectors {
    meta: Selector,
    foreign_title: Selector,
    title: Selector,
    body_start: Selector,
}

static SELECTORS: LazyLock<Option<Selectors>> = LazyLock::new(|| {
    Some(Selectors {
        meta: "meta".parse().ok()?,
        foreign_title: "svg title, math title".parse().ok()?,
        title: "title".parse().ok()?,
        body_start: "body, div, main, section, article".parse().ok()?,
    })
});

fn collect_tags(html: &str) -> RawTags {
    let tags = RefCell::new(RawTags::default());
    let Some(sel) = SELECTORS.as_ref() else { return tags.into_inner() };
    let settings = Settings::new()
        .with_strict(false)
        .append_element_content_handler((
            Cow::Borrowed(&sel.meta),
            ElementContentHandlers::default().element(|el: &mut Element<'_, '_>| {
                tags.borrow_mut().on_meta(el);
                Ok(())
            }),
        ))
        // Registered before "title" so it runs first for the same element: lol_html reports an
        // SVG <title> (an HTML integration point) in the HTML namespace.
        .append_element_content_handler((
            Cow::Borrowed(&sel.foreign_title),
            ElementContentHandlers::default().element(|_el: &mut Element<'_, '_>| {
                tags.borrow_mut().next_title_is_foreign = true;
                Ok(())
            }),
        ))
        .append_element_content_handler((
            Cow::Borrowed(&sel.title),
            ElementContentHandlers::default()
                .element(|el: &mut Element<'_, '_>| {
                    tags.borrow_mut().on_title_start(el);
                    Ok(())
                })
                .text(|chunk: &mut TextChunk<'_>| {
                    tags.borrow_mut().on_title_text(chunk);
                    Ok(())
                }),
        ))
        .append_element_content_handler((
            Cow::Borrowed(&sel.body_start),
            ElementContentHandlers::default().element(|_el: &mut Element<'_, '_>| {
                if tags.borrow().has_title_and_image() { Err(EnoughRead.into()) } else { Ok(()) }
            }),
        ));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // A write error is either our early stop or a parser limit; either way keep what was read.
    // `end()` must not be called after an error (lol_html panics on that).
    if rewriter.write(html.as_bytes()).is_ok() {
        let _ = rewriter.end();
    } else {
        drop(rewriter);
    }
    let mut tags = tags.into_inner();
    if let TitleState::Reading(partial) = std::mem::take(&mut tags.title_state) {
        // An unterminated <title> at end of input: keep what it held.
        tags.html_title = tags.html_title.take().or(Some(partial).filter(|t| !t.trim().is_empty()));
    }
    tags
}

/// Decodes character references (attribute rules for `<meta content>`, text rules for
/// `<title>`), collapses whitespace and caps the length.
fn clean_title(raw: &str, source: TitleSource) -> Option<String> {
    let decoded = match source {
        TitleSource::HtmlTitle => htmlize::unescape(raw),
        TitleSource::OgTitle | TitleSource::TwitterTitle => htmlize::unescape_attribute(raw),
    };
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    let capped = cap_chars(&collapsed, MAX_TITLE_CHARS);
    (!capped.is_empty()).then(|| capped.to_owned())
}

fn clean_description(raw: &str) -> Option<String> {
    let decoded = htmlize::unescape_attribute(raw);
    let trimmed = decoded.trim();
    let capped = cap_chars(trimmed, MAX_DESCRIPTION_CHARS).trim_end();
    (!capped.is_empty()).then(|| capped.to_owned())
}

fn cap_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((cut, _)) => s.get(..cut).unwrap_or(s),
        None => s,
    }
}

#[cfg(test)]
#[path = "og_tests.rs"]
mod tests;
