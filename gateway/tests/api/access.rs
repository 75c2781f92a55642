//! Issue #13, read access and browser safety, against the real app: which
//! credential each route takes, what anonymous callers see, what the failure
//! log keeps, and the headers and origin checks that protect browsers.

use base64::Engine;
use serde_json::Value;

use crate::helpers::{READ_TOKEN, SECRET, TOKEN, TestApp, batch, message, signed_headers, spawn_app_with};

const ADMIN: &[(&str, &str)] = &[("ADMIN_TOKEN", "admin-secret")];

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic(password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("anyone:{password}")))
}

/// Every route that returns personal or vendor data.
const READ_ROUTES: [&str; 8] = [
    "/offers",
    "/vendors",
    "/price-history/product/pixel%208%20pro",
    "/products",
    "/products/1234567890123456",
    "/offers?limit=0",
    "/search?q=pixel%208",
    "/search?q=",
];

#[tokio::test]
async fn personal_and_vendor_data_need_a_read_or_admin_token() {
    let app = spawn_app_with(ADMIN).await;
    app.post_ingest(&batch("c", vec![message("Phones +254712345678", "Pixel 8 Pro - $750 call 0712345678")])).await;
    app.wait_extracted(1).await;
    for path in READ_ROUTES {
        for presented in [None, Some(bearer("wrong")), Some(bearer(TOKEN)), Some(basic("wrong"))] {
            let headers: Vec<(&str, &str)> = presented.iter().map(|value| ("authorization", value.as_str())).collect();
            let refused = app.get_with(path, &headers).await;
            assert_eq!((refused.status, refused.error_code()), (401, "unauthorized"), "{path} with {presented:?}");
            assert!(refused.body["error"]["request_id"].as_str().is_some_and(|id| !id.is_empty()), "the usual error shape");
            let challenges: Vec<&str> = refused.headers.get_all("www-authenticate").iter().filter_map(|v| v.to_str().ok()).collect();
            assert!(challenges.iter().any(|c| c.starts_with("Bearer")) && challenges.iter().any(|c| c.starts_with("Basic")), "{challenges:?}");
            assert!(!refused.body.to_string().contains("712345678"), "a refusal shows no data");
        }
        for credential in [bearer(READ_TOKEN), bearer("admin-secret"), basic(READ_TOKEN), basic("admin-secret")] {
            let answer = app.get_with(path, &[("authorization", &credential)]).await;
            assert_ne!(answer.status, 401, "{path} with a valid credential");
        }
    }
    let offers = app.read("/offers").await;
    assert_eq!(offers.status, 200);
    assert!(offers.body["offers"][0]["source_text"].as_str().is_some_and(|t| t.contains("Pixel")), "readers see the data");
    app.finish().await;
}

#[tokio::test]
async fn rotated_read_tokens_all_work_and_without_any_only_the_admin_reads() {
    let app = spawn_app_with(&[("API_READ_TOKEN", "old-read, new-read")]).await;
    for token in ["old-read", "new-read"] {
        assert_eq!(app.get_with("/offers", &[("authorization", &bearer(token))]).await.status, 200, "{token}");
    }
    assert_eq!(app.get_with("/offers", &[("authorization", &bearer(READ_TOKEN))]).await.status, 401);
    app.finish().await;

    let app = spawn_app_with(&[("API_READ_TOKEN", ""), ("ADMIN_TOKEN", "admin-secret")]).await;
    assert_eq!(app.get_with("/products", &[("authorization", &bearer(READ_TOKEN))]).await.status, 401);
    assert_eq!(app.get_with("/products", &[("authorization", &bearer("admin-secret"))]).await.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn diagnostics_take_ingest_read_or_admin_tokens() {
    let app = spawn_app_with(ADMIN).await;
    for path in ["/chat/tools/diagnostics", "/chat/tools/diagnostics/logs"] {
        let anonymous = app.get(path).await;
        assert_eq!((anonymous.status, anonymous.error_code()), (401, "unauthorized"), "{path}");
        assert!(anonymous.header("www-authenticate").is_some(), "{path}");
        for headers in [
            vec![("x-ingest-token", TOKEN.to_owned())],
            vec![("authorization", bearer(TOKEN))],
            vec![("authorization", bearer(READ_TOKEN))],
            vec![("authorization", basic("admin-secret"))],
        ] {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(app.get_with(path, &headers).await.status, 200, "{path} with {:?}", headers[0].0);
        }
    }
    // Reading does not let a read token trigger work.
    let extract = app.post_with("/integrations/whatsapp/chats/x/extract-latest", &[("authorization", &bearer(READ_TOKEN))], "").await;
    assert_eq!(extract.status, 401);
    app.finish().await;
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn anonymous_whatsapp_metrics_keep_only_the_totals() {
    let app = spawn_app_with(&[("ADMIN_TOKEN", "admin-secret"), ("WHATSAPP_INGEST_RATE_LIMIT_BURST", "1"), ("WHATSAPP_INGEST_RATE_LIMIT_PER_MINUTE", "1")]).await;
    let chat = batch("c", vec![message("Mama +254712345678", "Sufuria 3 pcs - 1,200")]);
    assert_eq!(app.post_ingest(&chat).await.status, 200);
    // Refused after parsing (the chat title is known), then before (the body's values are not).
    assert_eq!(app.post_ingest(&chat).await.status, 429);
    let refused = br#"{"client_id":"0712345678","messages":[{"chat_title":"Call 0712345678","timestamp":"call 0799888777"}]}"#;
    let answer = app.post_raw(refused.to_vec(), &signed_headers(refused, &now(), SECRET)).await;
    assert_eq!(answer.status, 422);

    let anonymous = app.get("/metrics/whatsapp").await;
    assert_eq!(anonymous.status, 200);
    let keys: Vec<&str> = anonymous.body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["generated_at", "totals"], "anonymous callers get the totals only");
    assert_eq!(anonymous.body["totals"]["created"], 1);
    assert_eq!((anonymous.body["totals"]["rejected"].as_i64(), anonymous.body["totals"]["rate_limited"].as_i64()), (Some(1), Some(1)));

    for credential in [bearer(READ_TOKEN), bearer("admin-secret")] {
        let full = app.get_with("/metrics/whatsapp", &[("authorization", &credential)]).await;
        assert!(full.body["chats"].as_array().is_some_and(|c| !c.is_empty()) && full.body["chats_total"] == 1);
        let failure = &full.body["recent_failures"][0];
        assert_eq!(failure["code"], "invalid_payload");
        assert_eq!(failure["reason"], "invalid payload at messages[0].timestamp", "a fixed text and the field, not the value");
        assert_eq!(failure["client_id"], "•••••••678", "a client id that is a phone number keeps its last 3 digits");
        let limited = &full.body["recent_failures"][1];
        assert_eq!((limited["code"].as_str(), limited["chat_title"].as_str()), (Some("rate_limited"), Some("Mama +•••••••••678")));
        let text = full.body["recent_failures"].to_string();
        assert!(!text.contains("0712345678") && !text.contains("254712345678") && !text.contains("799888"), "{text}");
    }
    // Once flushed to the database, the diagnostics log shows the same masked rows.
    let logs = wait_for_logged_refusals(&app, 2).await;
    assert!(logs.contains("invalid payload at messages[0].timestamp"), "{logs}");
    assert!(!logs.contains("0799888777") && !logs.contains("0712345678") && !logs.contains("254712345678"), "{logs}");
    app.finish().await;
}

async fn wait_for_logged_refusals(app: &TestApp, at_least: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let logs = app.client.get(app.url("/chat/tools/diagnostics/logs")).header("x-ingest-token", TOKEN).send().await.expect("logs");
        let logs = logs.text().await.expect("text");
        if logs.matches("ingest_rejected").count() >= at_least {
            return logs;
        }
        assert!(std::time::Instant::now() < deadline, "refusals never reached the log: {logs}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn prometheus_needs_the_metrics_token_only_when_one_is_set() {
    let app = spawn_app_with(&[]).await;
    assert_eq!(app.get("/metrics").await.status, 200, "anonymous by default");
    app.finish().await;

    let app = spawn_app_with(&[("METRICS_TOKEN", "scrape-me"), ("ADMIN_TOKEN", "admin-secret")]).await;
    let anonymous = app.get("/metrics").await;
    assert_eq!((anonymous.status, anonymous.error_code()), (401, "unauthorized"));
    assert_eq!(app.get_with("/metrics", &[("authorization", &bearer(READ_TOKEN))]).await.status, 401, "read tokens do not scrape");
    for token in ["scrape-me", "admin-secret"] {
        let scraped = app.client.get(app.url("/metrics")).header("authorization", bearer(token)).send().await.expect("scrape");
        assert_eq!(scraped.status(), 200, "{token}");
        let text = scraped.text().await.expect("text");
        assert!(text.contains("soko_ingest_requests_total") && !text.contains("scrape-me"));
    }
    app.finish().await;
}

#[tokio::test]
async fn pages_send_security_headers_and_json_sends_nosniff() {
    let app = spawn_app_with(ADMIN).await;
    let page = app.client.get(app.url("/admin/whatsapp")).header("authorization", basic("admin-secret")).send().await.expect("page");
    let headers = page.headers();
    assert!(headers["content-type"].to_str().is_ok_and(|c| c.starts_with("text/html")));
    for (name, value) in [
        ("content-security-policy", "default-src 'self'; frame-ancestors 'none'"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}");
    }
    let html = page.text().await.expect("html");
    assert!(!html.contains("<style") && !html.contains("<script"), "no inline style or script: the CSP would block it");
    assert!(html.contains(r#"href="/admin/assets/admin.css""#));
    let css = app.client.get(app.url("/admin/assets/admin.css")).send().await.expect("css");
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("text/css")));
    for path in ["/healthz", "/offers", "/no/such/route"] {
        let answer = app.get(path).await;
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert!(answer.header("x-frame-options").is_none(), "{path}: framing headers are for pages");
    }
    app.finish().await;
}

async fn post_form(app: &TestApp, path: &str, headers: Vec<(&'static str, String)>) -> crate::helpers::Answer {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_with(path, &headers, "vendor_id=99").await
}

#[tokio::test]
async fn basic_auth_posts_need_a_matching_origin_and_forwarded_hosts_count_only_from_proxies() {
    let app = spawn_app_with(ADMIN).await;
    app.post_ingest(&batch("c", vec![crate::helpers::message("Csrf Chat", "Radio - 900")])).await;
    let chat_id: Value = app.get_with("/admin/whatsapp", &[("authorization", "Bearer admin-secret"), ("accept", "application/json")]).await.body["chats"][0]["chat_id"].clone();
    let path = format!("/admin/whatsapp/{}", chat_id.as_str().expect("chat id"));
    let own_origin = app.address.clone();
    let host = own_origin.trim_start_matches("http://").to_owned();
    let form = |extra: &[(&'static str, String)]| {
        let mut headers = vec![("authorization", basic("admin-secret")), ("content-type", "application/x-www-form-urlencoded".to_owned())];
        headers.extend(extra.iter().cloned());
        headers
    };
    // No Origin and no Referer with browser credentials: refused.
    let bare = post_form(&app, &path, form(&[])).await;
    assert_eq!((bare.status, bare.error_code()), (403, "cross_site_request"));
    // Another site, even one that names itself in X-Forwarded-Host from an untrusted peer.
    let spoofed = post_form(&app, &path, form(&[("origin", "http://evil.example".into()), ("x-forwarded-host", "evil.example".into())])).await;
    assert_eq!(spoofed.status, 403);
    // Our own origin, or a same-origin Referer, passes the check (vendor 99 does not exist: 404).
    assert_eq!(post_form(&app, &path, form(&[("origin", own_origin.clone())])).await.status, 404);
    assert_eq!(post_form(&app, &path, form(&[("referer", format!("{own_origin}/admin/whatsapp"))])).await.status, 404);
    assert_eq!(post_form(&app, &path, form(&[("origin", format!("https://{host}"))])).await.status, 403, "another scheme is another origin");
    // Bearer clients need neither header.
    let bearer_post = app.post_with(&path, &[("authorization", "Bearer admin-secret"), ("content-type", "application/x-www-form-urlencoded")], "vendor_id=99").await;
    assert_eq!(bearer_post.status, 404);
    app.finish().await;

    // Behind a trusted proxy (the test client is on loopback), its forwarded host and scheme count.
    let app = spawn_app_with(&[("ADMIN_TOKEN", "admin-secret"), ("WHATSAPP_TRUSTED_PROXIES", "127.0.0.1,::1")]).await;
    let proxied = app
        .post_with(
            "/admin/whatsapp/none",
            &[
                ("authorization", &basic("admin-secret")),
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "https://shop.example"),
                ("x-forwarded-host", "shop.example"),
                ("x-forwarded-proto", "https"),
            ],
            "vendor_id=99",
        )
        .await;
    assert_eq!(proxied.status, 404, "same origin as the proxy reports it; the chat is unknown");
    app.finish().await;
}
