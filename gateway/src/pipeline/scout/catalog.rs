//! Reading a catalog page: the 16-digit product ids it links to, and the link to its next
//! page. One streaming pass (`lol_html`) over every element with an `href`.
//!
//! Product ids: every `href` (entity-decoded) is searched for `/p/<digits>/`, and the digits
//! are kept when `parse::product_id::is_product_id` (the rule link detection and hydrate share)
//! accepts them; ids are deduplicated, first occurrence order kept. A 17-digit run or an id
//! without the trailing `/` does not match.
//!
//! Next page, first rule that finds a link wins:
//! 1. an `<a>`/`<link>`/`<area>` whose `rel` has the token `next`;
//! 2. an `<a>` whose text, `aria-label` or `title` is a pagination word ("next", "next page",
//!    "more", "load more", "see more", "show more", "view more", "older"; arrows and
//!    punctuation are ignored), or whose `class` has the token `next`;
//! 3. an `<a>` to the same path whose `page` query parameter is the current page's + 1
//!    (the current page is `page` in the page URL, or 1).
//!
//! A candidate must resolve to http(s) on the same host and port as the page, and must
//! differ from the page itself (fragment ignored). Loop and page-count limits are the
//! caller's: keep a visited set and a maximum page count.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::LazyLock;

use lol_html::html_content::{Element, TextChunk};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};
use regex::Regex;
use url::Url;

use crate::parse::product_id::is_product_id;

/// What one catalog page holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogPage {
    pub product_ids: Vec<String>,
    pub next_page: Option<Url>,
}

const PAGINATION_WORDS: &[&str] = &["next", "next page", "more", "load more", "see more", "show more", "view more", "more products", "older"];

static PRODUCT_HREF: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"/p/(\d+)/").ok());

/// Product ids linked from a catalog page, deduplicated, in page order.
pub fn extract_product_ids(html: &str) -> Vec<String> {
    scan(html).product_ids
}

/// The catalog's next page, if the page links to one (see the module notes for the rules).
pub fn find_next_page(html: &str, page_url: &Url) -> Option<Url> {
    scan_catalog_page(html, page_url).next_page
}

/// Both answers from one pass.
pub fn scan_catalog_page(html: &str, page_url: &Url) -> CatalogPage {
    let links = scan(html);
    let next_page = choose_next(&links.anchors, page_url);
    CatalogPage { product_ids: links.product_ids, next_page }
}

#[derive(Debug, Default)]
struct Anchor {
    href: String,
    rel_next: bool,
    class_next: bool,
    is_a: bool,
    label: String,
    text: String,
}

#[derive(Debug, Default)]
struct Links {
    product_ids: Vec<String>,
    anchors: Vec<Anchor>,
    current_a: Option<usize>,
}

/// Anchor text kept per link; pagination words are short.
const MAX_ANCHOR_TEXT: usize = 64;

impl Links {
    fn on_href(&mut self, el: &Element<'_, '_>) {
        let Some(raw) = el.get_attribute("href") else { return };
        let href = htmlize::unescape_attribute(raw).into_owned();
        if let Some(re) = PRODUCT_HREF.as_ref() {
            for caps in re.captures_iter(&href) {
                if let Some(id) = caps.get(1).map(|m| m.as_str())
                    && is_product_id(id)
                    && !self.product_ids.iter().any(|seen| seen == id)
                {
                    self.product_ids.push(id.to_owned());
                }
            }
        }
        let has_token = |attr: &str, token: &str| {
            el.get_attribute(attr)
                .is_some_and(|v| v.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case(token)))
        };
        let is_a = el.tag_name() == "a";
        let label = [el.get_attribute("aria-label"), el.get_attribute("title")]
            .into_iter()
            .flatten()
            .find(|l| is_pagination_word(l))
            .unwrap_or_default();
        self.anchors.push(Anchor {
            href,
            rel_next: has_token("rel", "next"),
            class_next: is_a && has_token("class", "next"),
            is_a,
            label,
            text: String::new(),
        });
        self.current_a = is_a.then(|| self.anchors.len() - 1);
    }

    fn on_anchor_text(&mut self, chunk: &str) {
        if let Some(anchor) = self.current_a.and_then(|i| self.anchors.get_mut(i))
            && anchor.text.len() < MAX_ANCHOR_TEXT
        {
            anchor.text.push_str(chunk);
        }
    }
}

/// Selectors parsed once per process (lol_html's `element!` macro parses on every call).
static SELECTORS: LazyLock<Option<[Selector; 3]>> =
    LazyLock::new(|| Some(["[href]".parse().ok()?, "a:not([href])".parse().ok()?, "a[href]".parse().ok()?]));

fn scan(html: &str) -> Links {
    let links = RefCell::new(Links::default());
    let Some([with_href, bare_a, a_with_href]) = SELECTORS.as_ref() else { return links.into_inner() };
    let settings = Settings::new()
        .with_strict(false)
        .append_element_content_handler((
            Cow::Borrowed(with_href),
            ElementContentHandlers::default().element(|el: &mut Element<'_, '_>| {
                links.borrow_mut().on_href(el);
                Ok(())
            }),
        ))
        .append_element_content_handler((
            Cow::Borrowed(bare_a),
            ElementContentHandlers::default().element(|_el: &mut Element<'_, '_>| {
                links.borrow_mut().current_a = None;
                Ok(())
            }),
        ))
        .append_element_content_handler((
            Cow::Borrowed(a_with_href),
            ElementContentHandlers::default().text(|chunk: &mut TextChunk<'_>| {
                links.borrow_mut().on_anchor_text(chunk.as_str());
                Ok(())
            }),
        ));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // Keep whatever was read if the parser gives up; never call `end()` after an error.
    if rewriter.write(html.as_bytes()).is_ok() {
        let _ = rewriter.end();
    } else {
        drop(rewriter);
    }
    links.into_inner()
}

fn is_pagination_word(text: &str) -> bool {
    let decoded = htmlize::unescape(text);
    let words: Vec<String> = decoded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    !words.is_empty() && words.len() <= 3 && PAGINATION_WORDS.contains(&words.join(" ").as_str())
}

fn choose_next(anchors: &[Anchor], page_url: &Url) -> Option<Url> {
    let acceptable = |href: &str| -> Option<Url> {
        let url = page_url.join(href.trim()).ok()?;
        let same_origin = matches!(url.scheme(), "http" | "https")
            && url.host_str() == page_url.host_str()
            && url.port_or_known_default() == page_url.port_or_known_default();
        let mut a = url.clone();
        a.set_fragment(None);
        let mut b = page_url.clone();
        b.set_fragment(None);
        (same_origin && a != b).then_some(url)
    };
    let by_rel = anchors.iter().filter(|a| a.rel_next).find_map(|a| acceptable(&a.href));
    let by_word = || {
        anchors
            .iter()
            .filter(|a| a.is_a && (a.class_next || !a.label.is_empty() || is_pagination_word(&a.text)))
            .find_map(|a| acceptable(&a.href))
    };
    let by_page_number = || {
        let current = page_number(page_url).unwrap_or(1);
        let wanted = current.checked_add(1)?;
        anchors.iter().filter(|a| a.is_a).find_map(|a| {
            let url = acceptable(&a.href)?;
            (url.path() == page_url.path() && page_number(&url) == Some(wanted)).then_some(url)
        })
    };
    by_rel.or_else(by_word).or_else(by_page_number)
}

fn page_number(url: &Url) -> Option<u32> {
    url.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.trim().parse().ok())
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
