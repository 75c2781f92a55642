//! The admin console's shared layout: one page skeleton with the navigation
//! every admin page carries, the stylesheet (compiled into the binary, no
//! CDN), and the helpers every list page uses: content negotiation (HTML for
//! browsers, JSON for everyone else), the filter bar, the pager and the HTML
//! answers for sign-in, form errors and confirmations.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header};
use maud::{DOCTYPE, Markup, html};

/// The stylesheet served at `/admin/assets/admin.css`.
pub const STYLE: &str = include_str!("admin.css");

/// The console's sections, in navigation order: (label, link). Pages that
/// land later (documents, per-sender mapping) add their row here.
pub const NAV: &[(&str, &str)] = &[
    ("Chats", "/admin/whatsapp"),
    ("Vendors", "/vendors"),
    ("Offers", "/offers"),
    ("Documents", "/admin/documents"),
    ("Products", "/products"),
    ("Search", "/search"),
    ("Jobs", "/admin/jobs"),
    ("Diagnostics", "/chat/tools/diagnostics"),
];

/// The products and search pages show thumbnails from the Meta CDN; every other page keeps the
/// gateway's default policy (`default-src 'self'`, set by the request context).
pub const IMAGES_CSP: &str =
    "default-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; form-action 'self'";

/// Whether the client asked for a page: its `Accept` names `text/html`.
pub fn wants_html(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A page: the navigation with `active` (a `NAV` link) highlighted, then `body`.
pub fn page(title: &str, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Soko admin" }
                link rel="stylesheet" href="/admin/assets/admin.css";
            }
            body {
                header.top {
                    nav aria-label="Admin sections" {
                        a.brand href="/admin/whatsapp" { "Soko admin" }
                        @for (label, href) in NAV {
                            a.item.active[*href == active] href=(href) aria-current=[(*href == active).then_some("page")] { (label) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// An HTML answer (never cached: pages hold personal data).
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// A page that shows remote product images.
pub fn ok_with_images(markup: Markup) -> HttpResponse {
    let mut response = respond(StatusCode::OK, markup);
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(IMAGES_CSP));
    response
}

pub fn ok(markup: Markup) -> HttpResponse {
    respond(StatusCode::OK, markup)
}

/// The page a browser gets with a 401: the `WWW-Authenticate: Basic` header makes it prompt.
pub fn sign_in_page() -> Markup {
    page(
        "Sign in",
        "",
        html! {
            h1 { "Sign in" }
            p { "This page needs the admin token (or, for lists and diagnostics, a read token)." }
            p.muted { "Your browser asks for a user name and password: any user name, and the token as the password. Scripts send it as " code { "Authorization: Bearer …" } "." }
        },
    )
}

/// A small page for an error that has no form to return to.
pub fn message_page(title: &str, active: &str, message: &str, back: (&str, &str)) -> Markup {
    page(
        title,
        active,
        html! {
            h1 { (title) }
            p.error role="alert" { (message) }
            p { a href=(back.1) { (back.0) } }
        },
    )
}

/// A GET filter bar: `fields` render inside, with a Filter button and a reset link.
pub fn filters(action: &str, fields: Markup) -> Markup {
    html! {
        form.filters method="get" action=(action) role="search" {
            (fields)
            button type="submit" { "Filter" }
            a href=(action) { "Reset" }
        }
    }
}

/// A text search box named `q`.
pub fn search_box(label: &str, value: Option<&str>) -> Markup {
    html! {
        label { (label) input type="search" name="q" value=[value] placeholder="search…"; }
    }
}

/// A select over `(value, label)` options; the empty value means "any".
pub fn select(
    label: &str,
    name: &str,
    options: &[(String, String)],
    selected: Option<&str>,
) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                option value="" { "any" }
                @for (value, text) in options {
                    option value=(value) selected[selected == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

/// The pager: "next page" keeps the filters (`params`) and adds the cursor.
pub fn pager(
    action: &str,
    params: &[(&str, String)],
    next_cursor: Option<&str>,
    shown: usize,
    paged: bool,
) -> Markup {
    let mut next = params
        .iter()
        .filter(|(k, v)| *k != "cursor" && !v.is_empty())
        .cloned()
        .collect::<Vec<_>>();
    let first = serde_urlencoded::to_string(&next).unwrap_or_default();
    let next_href = next_cursor.map(|cursor| {
        next.push(("cursor", cursor.to_owned()));
        format!(
            "{action}?{}",
            serde_urlencoded::to_string(&next).unwrap_or_default()
        )
    });
    html! {
        nav.pager aria-label="Pages" {
            span.muted { (shown) " shown" }
            @if paged { a href={ (action) @if !first.is_empty() { "?" (first) } } { "« First page" } }
            @if let Some(href) = next_href { a.button href=(href) rel="next" { "Next page »" } }
        }
    }
}

/// Percent-encodes a path segment (chat ids hold `@` and `.`).
pub fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
