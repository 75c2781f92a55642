//! The admin console as one app, against a real gateway: every list is a
//! page for browsers and JSON for scripts, with filters, text search and
//! keyset pagination; times are WhatsApp times in `ADMIN_TIME_ZONE`; form
//! errors come back as the page with the form filled in; browsers get a
//! Basic challenge. Then every page in headless Chromium at 390 and 1280 px
//! (driven over the DevTools protocol by `browser_probe.py`): it loads, its
//! content is no wider than the viewport, and a screenshot is kept under
//! `$CI_ARTIFACTS_DIR/screenshots` (default `<target>/artifacts/screenshots`).

use std::{collections::HashSet, path::PathBuf, process::Command};

use base64::Engine;
use collector_client::message::IngestMessage;
use serde_json::Value;

use crate::helpers::{TestApp, batch, message, spawn_app_with};

const ADMIN: &str = "admin-secret";
const CHATS: usize = 61;
/// 2026-12-06T11:03:00Z: 14:03 in Nairobi.
const SENT_AT: &str = "2026-12-06T11:03:00Z";

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("operator:{ADMIN}"))
    )
}

async fn html(app: &TestApp, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .header("authorization", basic())
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{path} answered {kind}");
    (status, response.text().await.expect("text"))
}

async fn json(app: &TestApp, path: &str) -> Value {
    let answer = app
        .get_with(
            path,
            &[
                ("authorization", &format!("Bearer {ADMIN}")),
                ("accept", "application/json"),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
    answer.body
}

/// The `href` of the page's "Next page" link, unescaped.
fn next_link(page: &str) -> Option<String> {
    let end = page.find("rel=\"next\"")?;
    let start = page[..end].rfind("href=\"")? + 6;
    let href = &page[start..];
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

async fn seeded_app() -> TestApp {
    let app = spawn_app_with(&[
        ("ADMIN_TOKEN", ADMIN),
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
        ("ADMIN_TIME_ZONE", "Africa/Nairobi"),
    ])
    .await;
    let mut messages: Vec<IngestMessage> = (0..CHATS)
        .map(|i| IngestMessage {
            chat_id: Some(format!("1203630000000{i:05}@g.us")),
            sender: Some(format!("2547120000{i:02}")),
            timestamp: Some(Value::String(SENT_AT.into())),
            ..message(
                &format!("Console Market {i:02}"),
                &format!("1. Samsung Galaxy S{i} 256GB - 118,000\n2. Tecno Spark {i} - 14,500"),
            )
        })
        .collect();
    messages.push(IngestMessage {
        chat_id: Some("wide@g.us".into()),
        ..message(
            "A very long chat title that goes on and on without_any_break_at_all_ThisIsOneVeryLongUnbrokenWordThatWouldOverflowAPhoneScreen",
            "1. Oppo Reno 11 - 45k\n2. AVeryLongUnbrokenProductNameWithoutSpacesThatMustWrapInsideItsCellOnAPhone - 2,500,000",
        )
    });
    assert_eq!(
        app.post_ingest(&batch("console", messages)).await.status,
        200
    );
    app.wait_extracted(CHATS as i64 + 1).await;
    let long_error = "gave up after 4 attempts: ".to_owned() + &"upstream said no; ".repeat(40);
    app.db
        .execute(&format!(
            "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, last_error, last_status, created_at_ms, updated_at_ms)
             VALUES ('hydrate', '9990000000000001', '{{}}', 'dead', 4, 0, '{long_error}', 500, 0, 0)"
        ))
        .await;
    let thumb = r#"data:image/svg+xml;utf8,<svg xmlns="http://www.w3.org/2000/svg" width="56" height="56"><rect width="56" height="56" fill="teal"/></svg>"#;
    app.db
        .execute(&format!(
            "INSERT INTO products (product_id, seller_phone, name, description, image_url, active, qc_decision, qc_confidence, qc_reason,
                                   hydrate_status, last_hydrated_at_ms, created_at_ms, updated_at_ms)
             VALUES ('1234567890123456', '+254712000001', 'Samsung Galaxy S24 Ultra', 'Brand new, sealed', '{thumb}', 1, 'approved', 0.93,
                     'a clear product photo', 'ok', 1796554980000, 0, 0)"
        ))
        .await;
    let mapped = app
        .post_with(
            "/admin/whatsapp/120363000000000001@g.us",
            &[
                ("authorization", &format!("Bearer {ADMIN}")),
                ("content-type", "application/json"),
            ],
            r#"{"new_vendor_name":"Mama Mboga Electronics","new_vendor_currency":"KES"}"#,
        )
        .await;
    assert_eq!(mapped.status, 200, "{:?}", mapped.body);
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_are_pages_for_browsers_and_json_for_scripts() {
    let app = seeded_app().await;

    // Browsers get a Basic challenge and a page; scripts keep the JSON error.
    let refused = app
        .client
        .get(app.url("/chat/tools/diagnostics"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(
        refused
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(r#"Basic realm="soko", charset="UTF-8""#)
    );
    assert!(refused.text().await.expect("text").contains("Sign in"));
    assert_eq!(app.get("/offers").await.error_code(), "unauthorized");

    // 62 chats: the page shows 50 and a next link; both pages together hold every chat once.
    let (status, first) = html(&app, "/admin/whatsapp").await;
    assert_eq!(status, 200);
    assert!(
        first.contains("aria-label=\"Admin sections\"") && first.contains("href=\"/admin/jobs\""),
        "the navigation"
    );
    let next = next_link(&first).expect("a next page");
    let (_, second) = html(&app, &next).await;
    assert!(next_link(&second).is_none(), "two pages");
    let seen = |page: &str| page.matches("Console Market ").count();
    assert_eq!(seen(&first) + seen(&second), CHATS);
    // JSON pages through the same keyset: every chat once.
    let mut ids = HashSet::new();
    let mut path = "/admin/whatsapp?limit=20".to_owned();
    loop {
        let page = json(&app, &path).await;
        for chat in page["chats"].as_array().expect("chats") {
            assert!(
                ids.insert(chat["chat_id"].as_str().unwrap_or_default().to_owned()),
                "a chat shown twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/whatsapp?limit=20&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), CHATS + 1);
    assert!(
        json(&app, "/admin/whatsapp")
            .await
            .get("next_cursor")
            .is_none(),
        "the unpaged JSON list keeps its shape"
    );
    let found = json(&app, "/admin/whatsapp?q=market%2007").await;
    assert_eq!(found["chats"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        json(&app, "/admin/whatsapp?mapped=yes").await["chats"][0]["vendor_name"],
        "Mama Mboga Electronics"
    );

    // Offers: prices with separators, WhatsApp time in Nairobi, search and filters.
    let (_, offers) = html(&app, "/offers?q=galaxy+s7&vendor_id=").await;
    assert!(offers.contains("KES 118,000"), "{offers}");
    assert!(
        offers.contains("6 Dec 2026, 14:03"),
        "the WhatsApp time in Nairobi"
    );
    assert!(offers.contains("Galaxy S7 ") && !offers.contains("Galaxy S8 "));
    assert_eq!(
        json(&app, "/offers?q=tecno&limit=500").await["offers"]
            .as_array()
            .map(Vec::len),
        Some(CHATS)
    );
    let (_, vendors) = html(&app, "/vendors?q=mboga").await;
    assert!(vendors.contains("Mama Mboga Electronics"));
    assert!(
        json(&app, "/vendors").await.get("next_cursor").is_none(),
        "the unpaged JSON list keeps its shape"
    );
    assert_eq!(
        json(&app, "/vendors?q=nobody").await["vendors"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let (_, products) = html(&app, "/products?q=galaxy&qc=approved&active=").await;
    assert!(
        products.contains("Samsung Galaxy S24 Ultra")
            && products.contains("badge approved")
            && products.contains("img class=\"thumb\"")
    );
    let (_, diagnostics) = html(&app, "/chat/tools/diagnostics?kind=extraction").await;
    assert!(diagnostics.contains("Events") && diagnostics.contains("extracted"));
    assert!(json(&app, "/chat/tools/diagnostics").await["accepted"].as_i64() >= Some(CHATS as i64));
    let (_, jobs) = html(&app, "/admin/jobs?q=upstream").await;
    assert!(jobs.contains("/admin/jobs/") && jobs.contains("Retry"));
    let jobs_json = json(&app, "/admin/jobs?state=dead").await;
    assert_eq!(jobs_json["jobs"].as_array().map(Vec::len), Some(1));
    assert!(
        json(&app, "/admin/jobs").await.get("jobs").is_none(),
        "the unfiltered JSON keeps its shape"
    );
    app.finish().await;
}

async fn post_form(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("post")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_errors_and_confirmations_are_pages_with_the_form_kept() {
    let app = seeded_app().await;
    let auth = basic();
    let origin = app.address.clone();
    let form = [
        ("authorization", auth.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", origin.as_str()),
    ];
    let browser = [form[0], form[1], form[2], ("accept", "text/html")];

    // An empty mapping: the page again, 400, with the currency the operator typed.
    let empty = post_form(
        &app,
        "/admin/whatsapp/120363000000000002%40g.us",
        &browser,
        "vendor_id=&new_vendor_name=&new_vendor_currency=KES",
    )
    .await;
    assert_eq!(empty.status().as_u16(), 400);
    let page = empty.text().await.expect("text");
    assert!(
        page.contains("choose a vendor or name a new one") && page.contains("value=\"KES\""),
        "{page}"
    );
    let bad = post_form(
        &app,
        "/admin/whatsapp/120363000000000002%40g.us",
        &browser,
        "new_vendor_name=Duka+Moja&new_vendor_currency=shillings",
    )
    .await;
    assert_eq!(bad.status().as_u16(), 400);
    let page = bad.text().await.expect("text");
    assert!(
        page.contains("three-letter code")
            && page.contains("value=\"Duka Moja\"")
            && page.contains("value=\"shillings\"")
    );
    // JSON clients keep the JSON error.
    let scripted = app
        .post_with(
            "/admin/whatsapp/120363000000000002%40g.us",
            &form,
            "vendor_id=",
        )
        .await;
    assert_eq!(
        (scripted.status, scripted.error_code()),
        (400, "bad_request")
    );

    // Retrying a dead job: a confirmation page after the redirect.
    let id = app
        .db
        .query_i64("SELECT id FROM jobs WHERE state = 'dead'")
        .await[0];
    let path = format!("/admin/jobs/{id}/retry");
    let retried = post_form(&app, &path, &browser, "").await;
    assert_eq!(retried.status().as_u16(), 303);
    assert_eq!(
        retried
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/admin/jobs?retried=1")
    );
    let (_, confirmed) = html(&app, "/admin/jobs?retried=1").await;
    assert!(confirmed.contains("1 job went back in the queue."));
    // A job that is no longer dead (here: done) is not retried: the page again, with the reason.
    app.db
        .execute(
            "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
             VALUES ('hydrate', '9990000000000002', '{}', 'done', 1, 0, 0, 0)",
        )
        .await;
    let done = app
        .db
        .query_i64("SELECT id FROM jobs WHERE dedupe_key = '9990000000000002'")
        .await[0];
    let path = format!("/admin/jobs/{done}/retry");
    let again = post_form(&app, &path, &browser, "").await;
    assert_eq!(again.status().as_u16(), 409);
    let page = again.text().await.expect("text");
    assert!(
        page.contains("is done, not dead") && page.contains("Product-chain jobs"),
        "{page}"
    );
    let scripted = app.post_with(&path, &form, "").await;
    assert_eq!((scripted.status, scripted.error_code()), (409, "conflict"));
    app.finish().await;
}

pub(crate) fn chromium() -> PathBuf {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("headless Chromium is required: run scripts/setup-test-env.sh (apt-get install chromium) or set CHROMIUM"))
}

/// `$CI_ARTIFACTS_DIR/screenshots`, else `<target>/artifacts/screenshots`.
pub(crate) fn screenshot_dir() -> PathBuf {
    let root = match std::env::var_os("CI_ARTIFACTS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("..")
            .join("artifacts"),
    };
    let dir = root.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Runs `browser_probe.py` over `plan` (`{"headers", "pages"}`): one JSON object per page.
pub(crate) async fn probe(plan: &Value) -> Vec<Value> {
    let plan_file = tempfile::NamedTempFile::new().expect("plan file");
    std::fs::write(plan_file.path(), plan.to_string()).expect("plan written");
    let probe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/browser_probe.py");
    let output = tokio::task::spawn_blocking({
        let plan = plan_file.path().to_owned();
        move || {
            Command::new("python3")
                .arg(probe)
                .arg(chromium())
                .arg(plan)
                .output()
                .expect("python3 runs the probe")
        }
    })
    .await
    .expect("probe task");
    assert!(
        output.status.success(),
        "the Chromium probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_page_fits_a_phone_and_a_desktop_in_chromium() {
    let app = seeded_app().await;
    let (_, first) = html(&app, "/admin/whatsapp").await;
    let second = next_link(&first).expect("a second page");
    let pages: Vec<(&str, String, &str)> = vec![
        ("chats", "/admin/whatsapp".into(), "WhatsApp chats"),
        ("chats_page2", second, "Console Market"),
        (
            "chat",
            "/admin/whatsapp/wide%40g.us".into(),
            "Save mapping and re-extract",
        ),
        (
            "chat_senders",
            "/admin/whatsapp/wide%40g.us/senders".into(),
            "Senders of",
        ),
        ("vendors", "/vendors".into(), "Mama Mboga Electronics"),
        ("offers", "/offers".into(), "KES 118,000"),
        ("products", "/products".into(), "Samsung Galaxy S24 Ultra"),
        ("jobs", "/admin/jobs".into(), "Retry"),
        ("diagnostics", "/chat/tools/diagnostics".into(), "Events"),
    ];
    let shots = screenshot_dir();
    let mut plan = Vec::new();
    for width in [390, 1280] {
        for (name, path, _) in &pages {
            let file = shots.join(format!("admin_{name}_{width}.png"));
            let _ = std::fs::remove_file(&file);
            plan.push(serde_json::json!({"name": name, "url": app.url(path), "width": width, "height": 844, "screenshot": file}));
        }
    }
    let plan = serde_json::json!({"headers": {"Authorization": basic(), "Accept": "text/html"}, "pages": plan});
    let results = probe(&plan).await;
    assert_eq!(results.len(), pages.len() * 2, "every page at both widths");
    for result in &results {
        let name = result["name"].as_str().unwrap_or_default();
        let width = result["width"].as_i64().unwrap_or_default();
        let expected = pages
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|p| p.2)
            .unwrap_or("?");
        assert_eq!(result["status"], 200, "{name} at {width}px: {result}");
        assert!(
            result["text"]
                .as_str()
                .is_some_and(|t| t.contains(expected)),
            "{name} at {width}px lacks {expected:?}"
        );
        assert!(
            result["text"]
                .as_str()
                .is_some_and(|t| t.contains("Diagnostics") && t.contains("Vendors")),
            "{name}: navigation"
        );
        // Wider content would make the layout viewport grow past the device width, or scroll sideways.
        assert_eq!(
            result["inner_width"].as_i64(),
            Some(width),
            "{name} at {width}px is wider than the viewport: {result}"
        );
        assert!(
            result["scroll_width"].as_i64() <= Some(width),
            "{name} at {width}px: content {} px wide in a {width} px viewport",
            result["scroll_width"]
        );
        let file = PathBuf::from(result["screenshot"].as_str().unwrap_or_default());
        let png = std::fs::read(&file).expect("screenshot written");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000,
            "{} is not a real screenshot",
            file.display()
        );
        eprintln!("screenshot: {}", file.display());
    }
    app.finish().await;
}
