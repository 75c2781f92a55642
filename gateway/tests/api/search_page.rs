//! The search page (issue 15, item 8): `/search`, `POST /search/image` and
//! `/products/{id}/similar` asked for as HTML with the admin's Basic auth. Without
//! models: cards with price, vendor and a link to the offer's chat message, the pager,
//! refusals in the page with their status, the form alone on a fresh visit, and JSON
//! unchanged for scripts. With the tiny embed model and the product chain: "more like
//! this" and the image upload answer with pages of look-alikes, and headless Chromium
//! shows the pages at 390 and 1280 px (screenshots kept with the admin console's).

use std::time::{Duration, Instant};

use base64::Engine;
use collector_client::message::IngestMessage;

use crate::admin_console::{probe, screenshot_dir};
use crate::helpers::{READ_TOKEN, TestApp, batch, message, spawn_app_with};
use crate::media_e2e::{chain_settings, image_of, ingest_catalog_link, model_settings, product_id, start_wa_fixture, wait_for_chain};

const ADMIN: &str = "admin-secret";
const CHAT: &str = "120363000000000009@g.us";
/// One long unbreakable word: the cards must wrap it at 390 px.
const LONG_TITLE: &str = "Samsung Galaxy A14 64GB dual-SIM with-original-box-charger-and-screen-protector-from-the-Moi-Avenue-shop";

fn basic() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("operator:{ADMIN}")))
}

struct Page {
    status: u16,
    csp: String,
    body: String,
}

async fn page(app: &TestApp, request: reqwest::RequestBuilder) -> Page {
    let response = request.header("authorization", basic()).header("accept", "text/html,*/*;q=0.8").send().await.expect("sent");
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (kind, csp) = (header("content-type"), header("content-security-policy"));
    assert!(kind.starts_with("text/html"), "{} answered {kind}", app.address);
    Page { status, csp, body: response.text().await.expect("text") }
}

async fn get_page(app: &TestApp, path: &str) -> Page {
    page(app, app.client.get(app.url(path))).await
}

async fn post_image_page(app: &TestApp, bytes: Vec<u8>) -> Page {
    // As a browser's upload form sends it.
    let boundary = "----soko-page-boundary-41c7";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"look.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = app
        .client
        .post(app.url("/search/image"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("origin", app.address.clone())
        .body(body);
    page(app, request).await
}

fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn the_search_page_shows_cards_errors_and_the_form_and_json_stays_json() {
    let settings = [("ADMIN_TOKEN", ADMIN), ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")];
    let app = spawn_app_with(&settings).await;
    let texts = [LONG_TITLE.to_owned() + " - 18,500", "Samsung Galaxy A54 128GB - 42,000".into(), "Samsung TV 43 inch - 38,000".into()];
    let messages = texts.iter().map(|t| IngestMessage { chat_id: Some(CHAT.into()), ..message("Phones Nairobi", t) }).collect();
    assert_eq!(app.post_ingest(&batch("c", messages)).await.status, 200);
    app.wait_extracted(3).await;
    let mapped = app
        .post_with(
            &format!("/admin/whatsapp/{CHAT}"),
            &[("authorization", &format!("Bearer {ADMIN}")), ("content-type", "application/json")],
            r#"{"new_vendor_name":"Mama Mboga Electronics"}"#,
        )
        .await;
    assert_eq!(mapped.status, 200, "{:?}", mapped.body);

    // A fresh visit: the form alone, with every filter and the image upload (here: its note).
    let blank = get_page(&app, "/search").await;
    assert_eq!(blank.status, 200);
    for field in ["name=\"q\"", "name=\"kind\"", "name=\"vendor\"", "name=\"currency\"", "name=\"price_min\"", "name=\"price_max\"", "name=\"condition\"", "name=\"active\""] {
        assert!(blank.body.contains(field), "{field} missing: {}", blank.body);
    }
    assert!(blank.body.contains("needs an embedding model") && !blank.body.contains("class=\"results\""), "{}", blank.body);
    assert!(blank.body.contains(r#"href="/search" aria-current="page""#), "Search is in the navigation: {}", blank.body);

    // Results: cards with price, vendor, the chat message's link; mode and time; thumbnails allowed.
    let found = get_page(&app, "/search?q=samsng%20a14&currency=kes").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.csp.contains("img-src 'self' https: data:"), "{}", found.csp);
    for needle in [LONG_TITLE, "KES 18,500", "Mama Mboga Electronics", "Phones Nairobi", "text</span> search", " ms", r#"value="samsng a14""#] {
        assert!(found.body.contains(needle), "{needle:?} missing: {}", found.body);
    }
    let message_pk = app.db.query_i64("SELECT source_message_pk FROM offers WHERE title LIKE '%A14%'").await[0];
    let chat_link = format!("href=\"/admin/whatsapp/120363000000000009%40g.us#m{message_pk}\"");
    assert!(found.body.contains(&chat_link), "{chat_link} missing: {}", found.body);
    assert!(!found.body.contains("More like this"), "no similarity model, no link");
    let chat_page = get_page(&app, &format!("/admin/whatsapp/{}", "120363000000000009%40g.us")).await;
    assert_eq!(chat_page.status, 200, "the chat link leads to the chat's page");

    // Pages: the next link keeps the query and filters; the second page has the rest.
    let first = get_page(&app, "/search?q=samsung&limit=2").await;
    assert_eq!(first.body.matches("<li class=\"result\"").count(), 2, "{}", first.body);
    let next = next_link(&first.body).expect("a next page link");
    assert!(next.starts_with("/search?q=samsung&") && next.contains("limit=2") && next.contains("cursor="), "{next}");
    let second = get_page(&app, &next).await;
    assert_eq!(second.body.matches("<li class=\"result\"").count(), 1, "{}", second.body);
    assert!(second.body.contains("First page"));

    // Nothing found, and refusals in the page under their status.
    let nothing = get_page(&app, "/search?q=zzqx").await;
    assert!(nothing.status == 200 && nothing.body.contains("Nothing matches"), "{}", nothing.body);
    for (query, status, message) in [
        ("/search?q=phone&price_min=cheap", 400, "price_min must be a decimal number"),
        ("/search?q=phone&kind=vendor", 400, "kind must be offer, product or all"),
        ("/search?currency=KES", 400, "q must not be empty"),
        ("/search?q=phone&cursor=forged", 400, "cursor is not one this API handed out"),
    ] {
        let refused = get_page(&app, query).await;
        assert_eq!(refused.status, status, "{query}: {}", refused.body);
        assert!(refused.body.contains(message) && refused.body.contains("role=\"alert\""), "{query}: {}", refused.body);
        assert!(refused.body.contains("name=\"q\""), "{query}: the form is kept");
    }
    let no_model = post_image_page(&app, image_of(1).0).await;
    assert_eq!(no_model.status, 503, "{}", no_model.body);
    assert!(no_model.body.contains("No embedding model configured"), "{}", no_model.body);
    let no_similar = get_page(&app, &format!("/products/{}/similar", product_id(1))).await;
    assert_eq!(no_similar.status, 503, "{}", no_similar.body);

    // Scripts keep JSON: the same query, and the 400 for an empty q.
    let json = app.read("/search?q=samsng%20a14").await;
    assert_eq!(json.status, 200);
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert!(json.body["results"][0]["title"].as_str().is_some_and(|t| t.contains("A14")), "{:?}", json.body);
    let empty = app.read("/search").await;
    assert_eq!((empty.status, empty.error_code()), (400, "bad_request"));
    let anonymous = app.client.get(app.url("/search?q=samsung")).header("accept", "text/html").send().await.expect("sent");
    assert_eq!(anonymous.status(), 401, "a browser without credentials is asked for them");
    app.finish().await;
}

/// Polls the JSON neighbours of product 1 until both others are there (the index follows the
/// database within a poll).
async fn neighbours_ready(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = app.get_with(&format!("/products/{}/similar", product_id(1)), &[("authorization", &format!("Bearer {READ_TOKEN}"))]).await;
        if answer.body["results"].as_array().is_some_and(|r| r.len() == 2) {
            return;
        }
        assert!(Instant::now() < deadline, "no neighbours in 30 s: {:?}", answer.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_finds_offers_and_look_alikes_in_headless_chromium() {
    let wa = start_wa_fixture().await;
    let (models, ort) = model_settings();
    let images = tempfile::tempdir().expect("image dir");
    let image_dir = images.path().display().to_string();
    let mut settings = chain_settings(&wa, &models, &ort);
    settings.extend([("ADMIN_TOKEN", ADMIN), ("IMAGE_STORE", "local"), ("IMAGE_DIR", image_dir.as_str())]);
    let app = spawn_app_with(&settings).await;
    ingest_catalog_link(&app).await;
    let offers = format!("{LONG_TITLE} - 18,500\nLeather sofa 3 seater 45,000");
    assert_eq!(app.post_ingest(&batch("page", vec![message("Soko Sellers", &offers)])).await.status, 200);
    wait_for_chain(&app).await;
    neighbours_ready(&app).await;

    // Offers and products in one answer; products link to their look-alikes.
    let leather = get_page(&app, "/search?q=leather").await;
    assert_eq!(leather.status, 200, "{}", leather.body);
    for needle in ["Leather sofa 3 seater", "Leather handbag 1", "More like this", "src=\"/images/", "action=\"/search/image\""] {
        assert!(leather.body.contains(needle), "{needle:?} missing: {}", leather.body);
    }
    let more = format!("href=\"/products/{}/similar\"", product_id(1));
    assert!(leather.body.contains(&more), "{more} missing: {}", leather.body);
    let similar = get_page(&app, &format!("/products/{}/similar", product_id(1))).await;
    assert_eq!(similar.status, 200, "{}", similar.body);
    for needle in ["More like Leather handbag 1", "Cotton dress 2", "Running shoes 3", "hybrid"] {
        assert!(similar.body.contains(needle), "{needle:?} missing: {}", similar.body);
    }
    // The upload form's POST: the page of products that look like the image, best first.
    let upload = post_image_page(&app, image_of(2).0).await;
    assert_eq!(upload.status, 200, "{}", upload.body);
    let first_card = upload.body.find("<li class=\"result\"").map(|at| &upload.body[at..]).unwrap_or_default();
    let end = first_card.find("</li>").unwrap_or_default();
    assert!(first_card[..end].contains("Cotton dress 2"), "the image's own product first: {}", upload.body);
    assert!(upload.body.contains("visual"), "{}", upload.body);
    let garbage = post_image_page(&app, b"not an image".to_vec()).await;
    assert_eq!(garbage.status, 422, "{}", garbage.body);
    assert!(garbage.body.contains("role=\"alert\""), "{}", garbage.body);
    // A cross-site page's form would carry the browser's basic credentials too: refused, and
    // so is a basic-auth post that names no origin at all. The image is never read.
    let boundary = "----soko-cross-site";
    let form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n{}\r\n--{boundary}--\r\n", "x");
    for origin in [Some("https://evil.example"), None] {
        let request = app.client.post(app.url("/search/image")).header("content-type", format!("multipart/form-data; boundary={boundary}")).body(form.clone());
        let request = match origin {
            Some(origin) => request.header("origin", origin),
            None => request,
        };
        let refused = page(&app, request).await;
        assert_eq!(refused.status, 403, "{origin:?}: {}", refused.body);
    }

    // Headless Chromium at a phone's and a desktop's width.
    let pages = [
        ("form", "/search".to_owned(), "Search by image"),
        ("results", "/search?q=leather".to_owned(), "Leather handbag 1"),
        ("offers", "/search?q=samsung%20a14&kind=offer".to_owned(), "Samsung Galaxy A14"),
        ("similar", format!("/products/{}/similar", product_id(1)), "Running shoes 3"),
    ];
    let shots = screenshot_dir();
    let mut plan = Vec::new();
    for width in [390, 1280] {
        for (name, path, _) in &pages {
            let file = shots.join(format!("search_{name}_{width}.png"));
            let _ = std::fs::remove_file(&file);
            plan.push(serde_json::json!({"name": name, "url": app.url(path), "width": width, "height": 844, "screenshot": file}));
        }
    }
    let results = probe(&serde_json::json!({"headers": {"Authorization": basic()}, "pages": plan})).await;
    assert_eq!(results.len(), pages.len() * 2, "every page at both widths");
    for result in &results {
        let name = result["name"].as_str().unwrap_or_default();
        let width = result["width"].as_i64().unwrap_or_default();
        let expected = pages.iter().find(|p| p.0 == name).map_or("?", |p| p.2);
        let text = result["text"].as_str().unwrap_or_default();
        assert_eq!(result["status"], 200, "{name} at {width}px: {result}");
        assert!(text.contains(expected) && text.contains("Search"), "{name} at {width}px lacks {expected:?}: {text}");
        assert_eq!(result["inner_width"].as_i64(), Some(width), "{name} at {width}px is wider than the viewport: {result}");
        assert!(result["scroll_width"].as_i64() <= Some(width), "{name} at {width}px: content {} px wide", result["scroll_width"]);
        if name == "results" || name == "similar" {
            assert!(result["thumbs_loaded"].as_i64().unwrap_or(0) >= 1, "{name} at {width}px: no thumbnail loaded: {result}");
        }
        let file = std::path::PathBuf::from(result["screenshot"].as_str().unwrap_or_default());
        let png = std::fs::read(&file).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000, "{} is not a real screenshot", file.display());
        eprintln!("screenshot: {}", file.display());
    }
    let offers_text = results.iter().find(|r| r["name"] == "offers").and_then(|r| r["text"].as_str()).unwrap_or_default();
    assert!(offers_text.contains(LONG_TITLE), "the long title is shown whole (wrapped): {offers_text}");
    app.finish().await;
}
