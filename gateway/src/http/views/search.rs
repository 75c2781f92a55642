//! The search page (`/search` asked for as HTML, issue 15): the query box with
//! its filters, an image upload (`POST /search/image`), and the answer as cards
//! (thumbnail, title, price, vendor or seller, chat link, "more like this" for
//! products). The same page shows visual answers (an uploaded image, a
//! product's neighbours) and refusals, with the status the handler chose.

use maud::{Markup, html};

use super::layout::{page, pager, search_box, select};
use crate::search::RawSearch;

/// The query and filters as asked for, kept in the form and in the pager's links: the search
/// request itself, as the query string brings it.
pub type SearchForm = RawSearch;

fn text(value: &Option<String>) -> String {
    value.as_deref().map(str::trim).unwrap_or_default().to_owned()
}

/// What the page needs of the request (an inherent impl here, beside the only page that uses it).
impl RawSearch {
    /// Nothing to search for: no query and no filter (a fresh visit shows the form only).
    pub fn is_blank(&self) -> bool {
        [&self.q, &self.kind, &self.vendor, &self.currency, &self.price_min, &self.price_max, &self.condition, &self.active]
            .iter()
            .all(|v| text(v).is_empty())
    }

    /// The parameters a next-page link keeps (the pager drops the empty ones).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", text(&self.q)),
            ("kind", text(&self.kind)),
            ("vendor", text(&self.vendor)),
            ("currency", text(&self.currency)),
            ("price_min", text(&self.price_min)),
            ("price_max", text(&self.price_max)),
            ("condition", text(&self.condition)),
            ("active", text(&self.active)),
            ("limit", text(&self.limit)),
            ("mode", text(&self.mode)),
        ]
    }
}

/// A link to where an offer was posted; `href` is absent when the chat is unknown.
pub struct ChatLink {
    pub title: String,
    pub href: Option<String>,
}

/// One result, whichever search found it.
pub struct Card {
    /// `offer` or `product`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// Already written for people ("KES 18,500").
    pub price: Option<String>,
    /// The vendor's name, else the seller.
    pub who: Option<String>,
    pub chat: Option<ChatLink>,
    pub image_url: Option<String>,
    pub score: f64,
    /// "More like this" (products, when a similarity space is configured).
    pub similar_href: Option<String>,
}

/// What the page shows under the forms.
pub enum Outcome {
    /// A fresh visit: the forms only.
    Blank,
    Answer { cards: Vec<Card>, mode: String, took_ms: f64, next_cursor: Option<String>, paged: bool },
    /// The request was refused; the handler answers with the matching status.
    Refused { message: String, request_id: String },
}

pub struct SearchView<'a> {
    /// "Search", or what a visual answer is about ("More like …").
    pub heading: &'a str,
    pub form: &'a SearchForm,
    /// Whether `POST /search/image` has a model to answer with.
    pub image_search: bool,
    pub outcome: Outcome,
}

fn options(values: &[(&str, &str)]) -> Vec<(String, String)> {
    values.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()
}

/// Only URLs a thumbnail may load from: ours, the web's, or inline images.
fn safe_image(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with('/') && !lower.starts_with("//")) || lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("data:image/")
}

fn query_form(form: &SearchForm) -> Markup {
    let active = text(&form.active);
    html! {
        form.filters.search-form method="get" action="/search" role="search" {
            (search_box("Search", form.q.as_deref()))
            (select("Kind", "kind", &options(&[("offer", "offers"), ("product", "products")]), form.kind.as_deref()))
            label { "Vendor" input type="text" name="vendor" value=[form.vendor.as_deref()] size="12" placeholder="name or id"; }
            label { "Currency" input type="text" name="currency" value=[form.currency.as_deref()] size="4" maxlength="3" placeholder="KES"; }
            label { "Price from" input type="text" inputmode="decimal" name="price_min" value=[form.price_min.as_deref()] size="7"; }
            label { "to" input type="text" inputmode="decimal" name="price_max" value=[form.price_max.as_deref()] size="7"; }
            (select("Condition", "condition", &options(&[("new", "new"), ("ex_uk", "ex-UK"), ("refurbished", "refurbished"), ("used", "used")]), form.condition.as_deref()))
            label { "Products"
                select name="active" {
                    option value="" { "active only" }
                    option value="false" selected[active == "false"] { "also inactive" }
                }
            }
            @if let Some(limit) = form.limit.as_deref().filter(|l| !l.trim().is_empty()) { input type="hidden" name="limit" value=(limit); }
            button type="submit" { "Search" }
            a href="/search" { "Reset" }
        }
    }
}

fn upload_form(enabled: bool) -> Markup {
    html! {
        @if enabled {
            form.filters.upload method="post" action="/search/image" enctype="multipart/form-data" {
                label { "Search by image" input type="file" name="file" accept="image/*" required; }
                button.secondary type="submit" { "Find look-alikes" }
            }
        } @else {
            p.muted { "Search by image needs an embedding model (EMBED_MODEL_DIR)." }
        }
    }
}

fn card(c: &Card) -> Markup {
    html! {
        li.result data-kind=(c.kind) title=(format!("score {:.3}", c.score)) {
            @match c.image_url.as_deref().filter(|u| safe_image(u)) {
                Some(url) => { img.thumb src=(url) alt={ "Photo of " (c.title) } loading="lazy"; },
                None => { span.thumb.none aria-hidden="true" { "no image" } },
            }
            div.body {
                strong.title { (c.title) }
                div.meta {
                    span.badge { (c.kind) }
                    " " span.price { (c.price.as_deref().unwrap_or("no price")) }
                }
                @if let Some(who) = &c.who { div.wrap { (who) } }
                @if let Some(chat) = &c.chat {
                    div.wrap {
                        "in "
                        @match &chat.href {
                            Some(href) => { a href=(href) { (chat.title) } },
                            None => { (chat.title) },
                        }
                    }
                }
                @if let Some(href) = &c.similar_href { div { a.similar href=(href) { "More like this" } } }
                @if c.kind == "product" { div.muted.small { (c.id) } }
            }
        }
    }
}

pub fn search_page(view: &SearchView<'_>) -> Markup {
    page(
        view.heading,
        "/search",
        html! {
            h1.wrap { (view.heading) }
            (query_form(view.form))
            (upload_form(view.image_search))
            @match &view.outcome {
                Outcome::Blank => { p.muted { "Type what you are looking for: typos and partial words match (iphon 13, samsng a14)." } },
                Outcome::Refused { message, request_id } => {
                    p.error role="alert" { (message) }
                    @if !request_id.is_empty() { p.muted.small { "Request id " code { (request_id) } } }
                },
                Outcome::Answer { cards, mode, took_ms, next_cursor, paged } => {
                    p.muted.summary {
                        (cards.len()) @if cards.len() == 1 { " result" } @else { " results" }
                        " · " span.mode { (mode) } " search · " (format!("{took_ms:.1}")) " ms"
                    }
                    @if cards.is_empty() { p { "Nothing matches." } }
                    @else { ul.results { @for c in cards { (card(c)) } } }
                    @if next_cursor.is_some() || *paged {
                        (pager("/search", &view.form.params(), next_cursor.as_deref(), cards.len(), *paged))
                    }
                },
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_visit_is_blank_and_a_filter_is_not() {
        assert!(SearchForm::default().is_blank());
        let spaces = SearchForm { q: Some("  ".into()), cursor: Some("x".into()), ..SearchForm::default() };
        assert!(spaces.is_blank());
        let filtered = SearchForm { currency: Some("KES".into()), ..SearchForm::default() };
        assert!(!filtered.is_blank());
    }

    #[test]
    fn thumbnails_load_only_from_safe_urls() {
        for ok in ["/images/products/1.png", "https://cdn.example/x.jpg", "data:image/png;base64,AA"] {
            assert!(safe_image(ok), "{ok}");
        }
        for bad in ["javascript:alert(1)", "//evil.example/x.png", "data:text/html,<b>", "file:///etc/passwd"] {
            assert!(!safe_image(bad), "{bad}");
        }
    }

    #[test]
    fn titles_are_escaped_and_products_link_to_their_neighbours() {
        let view = SearchView {
            heading: "Search",
            form: &SearchForm { q: Some("<b>".into()), ..SearchForm::default() },
            image_search: false,
            outcome: Outcome::Answer {
                cards: vec![Card {
                    kind: "product".into(),
                    id: "1234567890123456".into(),
                    title: "<script>x</script>".into(),
                    price: Some("KES 1,000".into()),
                    who: None,
                    chat: None,
                    image_url: Some("javascript:alert(1)".into()),
                    score: 1.0,
                    similar_href: Some("/products/1234567890123456/similar".into()),
                }],
                mode: "text".into(),
                took_ms: 1.25,
                next_cursor: Some("c2VhcmNoOjIw".into()),
                paged: false,
            },
        };
        let html = search_page(&view).into_string();
        assert!(!html.contains("<script>x") && html.contains("&lt;script&gt;x"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"href="/products/1234567890123456/similar""#), "{html}");
        assert!(html.contains("1 result") && (html.contains("1.2 ms") || html.contains("1.3 ms")), "{html}");
        assert!(html.contains("cursor=c2VhcmNoOjIw") && html.contains("q=%3Cb%3E"), "{html}");
    }
}
