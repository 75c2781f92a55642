//! A local stand-in for wa.me, served over a real socket: a seller's catalog of 30 products
//! over two pages, and product pages that each exercise one case of the hydrate stage. Every
//! page's expected outcome is listed beside it ([`Expect`]), so the test reads as a table.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, web};
use parking_lot::Mutex;

pub const SELLER: &str = "254712345001";
pub const PRODUCTS: u64 = 30;
/// Pages per catalog: 15 products each, linked by `rel="next"`.
const PER_PAGE: u64 = 15;

pub fn product_id(n: u64) -> String {
    format!("{}", 1_000_000_000_000_000 + n)
}

/// What a product page does, and what the chain must make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// og:title "Product N", og:description, absolute og:image: hydrated.
    Normal,
    /// og:image is a relative path: resolved against the page.
    RelativeImage,
    /// Entities in og:title and og:image: decoded.
    EntityEncoded,
    /// windows-1252 bytes, charset only in `<meta charset>`: decoded to "Café crème".
    NonUtf8,
    /// 404: product inactive, `hydrate_404`, job done with no retry.
    NotFound,
    /// 429 with `Retry-After: 3` once, then 200: hydrated on the second attempt, ≥ 3 s later.
    RateLimitedOnce,
    /// 500 once, then 200: hydrated on the second attempt, ≥ 2 s later.
    ServerErrorOnce,
    /// Answers after the hydrate timeout: retried with a "timed out" error.
    Slow,
    /// Larger than the response cap: dead at once, no retry.
    Oversized,
}

pub fn page_of(n: u64) -> Page {
    match n {
        23 => Page::RelativeImage,
        24 => Page::EntityEncoded,
        25 => Page::NonUtf8,
        26 => Page::NotFound,
        27 => Page::RateLimitedOnce,
        28 => Page::ServerErrorOnce,
        29 => Page::Slow,
        30 => Page::Oversized,
        _ => Page::Normal,
    }
}

pub const SLOW_PAGE_DELAY: Duration = Duration::from_millis(4_000);
pub const OVERSIZED_BYTES: usize = 512 * 1024;

#[derive(Default)]
pub struct Seen {
    hits: Mutex<HashMap<String, usize>>,
    agents: Mutex<HashSet<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Product pages answered 500 until this many hits (for the always-failing test page).
    pub always_500: Mutex<HashSet<String>>,
}

impl Seen {
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().get(path).copied().unwrap_or(0)
    }
    pub fn distinct_agents(&self) -> usize {
        self.agents.lock().len()
    }
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

pub struct Fixture {
    pub base: String,
    pub seen: Arc<Seen>,
    handle: actix_web::dev::ServerHandle,
}

impl Fixture {
    pub async fn start() -> Fixture {
        let seen = Arc::new(Seen::default());
        let data = web::Data::from(seen.clone());
        let routes = move |app: &mut web::ServiceConfig| {
            app.app_data(data.clone())
                .route("/c/{phone}", web::get().to(catalog))
                .route("/p/{id}/{phone}", web::get().to(product));
        };
        let (base, handle) = crate::helpers::serve_on_loopback(routes, 2);
        Fixture { base, seen, handle }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

struct InFlight<'a>(&'a Seen);

impl<'a> InFlight<'a> {
    fn enter(seen: &'a Seen, request: &HttpRequest) -> Self {
        *seen.hits.lock().entry(request.path().to_owned()).or_default() += 1;
        if let Some(agent) = request.headers().get("user-agent").and_then(|v| v.to_str().ok()) {
            seen.agents.lock().insert(agent.to_owned());
        }
        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(seen)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn catalog(request: HttpRequest, path: web::Path<String>, seen: web::Data<Seen>) -> HttpResponse {
    let _guard = InFlight::enter(&seen, &request);
    let phone = path.into_inner();
    let page: u64 = request.query_string().strip_prefix("page=").and_then(|p| p.parse().ok()).unwrap_or(1);
    let first = (page - 1) * PER_PAGE + 1;
    let mut links = String::new();
    for n in first..(first + PER_PAGE).min(PRODUCTS + 1) {
        // Both link shapes a catalog uses: absolute wa.me and relative.
        if n % 2 == 0 {
            links.push_str(&format!(r#"<div class="item"><a href="https://wa.me/p/{}/{phone}">Item {n}</a></div>"#, product_id(n)));
        } else {
            links.push_str(&format!(r#"<div class="item"><a href="/p/{}/{phone}?ref=catalog&amp;x=1">Item {n}</a></div>"#, product_id(n)));
        }
    }
    if first + PER_PAGE <= PRODUCTS {
        links.push_str(&format!(r#"<a rel="next" href="/c/{phone}?page={}">Next</a>"#, page + 1));
    }
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!("<!doctype html><html><head><title>Catalog</title></head><body>{links}</body></html>"))
}

fn og_page(title: &str, description: &str, image: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>WhatsApp</title>
<meta property="og:title" content="{title}"><meta property="og:description" content="{description}">
<meta property="og:image" content="{image}"></head><body><p>{title}</p></body></html>"#
    )
}

async fn product(request: HttpRequest, path: web::Path<(String, String)>, seen: web::Data<Seen>) -> HttpResponse {
    let _guard = InFlight::enter(&seen, &request);
    let (id, _phone) = path.into_inner();
    let hits = seen.hits(request.path());
    if seen.always_500.lock().contains(&id) {
        return HttpResponse::InternalServerError().body("down");
    }
    let n: u64 = id.parse::<u64>().map(|v| v.saturating_sub(1_000_000_000_000_000)).unwrap_or(0);
    let html = |body: String| HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body);
    let normal = || og_page(&format!("Product {n}"), &format!("Description {n}"), &format!("https://cdn.example.com/p/{n}.jpg"));
    match page_of(n) {
        Page::Normal => html(normal()),
        Page::RelativeImage => html(og_page("Relative image", "d", &format!("/images/p{n}.jpg"))),
        Page::EntityEncoded => html(og_page("Tom &amp; Jerry&#39;s mug", "50&#37; off", "https://cdn.example.com/i/24.jpg?w=600&amp;h=600")),
        Page::NonUtf8 => {
            let mut body = b"<!doctype html><html><head><meta charset=\"windows-1252\"><meta property=\"og:title\" content=\"Caf".to_vec();
            body.extend_from_slice(b"\xe9 cr\xe8me\"><meta property=\"og:image\" content=\"https://cdn.example.com/p/25.jpg\"></head><body></body></html>");
            HttpResponse::Ok().content_type("text/html").body(body)
        }
        Page::NotFound => HttpResponse::NotFound().body("gone"),
        Page::RateLimitedOnce if hits <= 1 => HttpResponse::TooManyRequests().insert_header(("retry-after", "3")).body("slow down"),
        Page::ServerErrorOnce if hits <= 1 => HttpResponse::InternalServerError().body("oops"),
        Page::RateLimitedOnce | Page::ServerErrorOnce => html(normal()),
        Page::Slow => {
            tokio::time::sleep(SLOW_PAGE_DELAY).await;
            html(normal())
        }
        Page::Oversized => {
            let mut body = normal();
            body.push_str(&"<!-- padding -->".repeat(OVERSIZED_BYTES / 16));
            html(body)
        }
    }
}
