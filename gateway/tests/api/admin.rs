//! The admin mapping pages through real HTTP: auth, listing order, JSON
//! negotiation, mapping with an inline vendor, re-attribution, escaping and
//! cross-site protection.

use base64::Engine;
use collector_client::message::IngestMessage;

use crate::helpers::{TOKEN, batch, message, spawn_app, spawn_app_with};

const ADMIN: &[(&str, &str)] = &[("ADMIN_TOKEN", "admin-secret"), ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")];

fn basic() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("anyone:admin-secret"))
}

#[tokio::test]
async fn admin_routes_are_404_without_a_configured_token() {
    let app = spawn_app().await;
    assert_eq!(app.get("/admin/whatsapp").await.status, 404);
    assert_eq!(app.get_with("/admin/whatsapp", &[("authorization", "Bearer anything")]).await.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn admin_needs_the_token_as_bearer_or_basic_password() {
    let app = spawn_app_with(ADMIN).await;
    let refused = app.get("/admin/whatsapp").await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("www-authenticate").is_some_and(|v| v.starts_with("Basic")));
    assert_eq!(app.get_with("/admin/whatsapp", &[("authorization", "Bearer wrong")]).await.status, 401);
    assert_eq!(app.get_with("/admin/whatsapp", &[("authorization", "Bearer admin-secret")]).await.status, 200);
    assert_eq!(app.get_with("/admin/whatsapp", &[("authorization", &basic())]).await.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn chats_are_listed_unmapped_first_and_mapping_reattributes_offers() {
    let app = spawn_app_with(ADMIN).await;
    let mapped_chat = IngestMessage { chat_id: Some("mapped@g.us".into()), ..message("Mapped Chat", "Blender 3 speed - 4,500") };
    let open_chat = IngestMessage { chat_id: Some("open@g.us".into()), ..message("Open <script>alert(1)</script> Chat", "Kettle 2L - 1,800") };
    app.post_ingest(&batch("c", vec![mapped_chat, open_chat])).await;
    app.wait_extracted(2).await;
    let auth = [("authorization", "Bearer admin-secret"), ("accept", "application/json")];

    // Map through the form, creating the vendor inline, as a browser would.
    let form = "vendor_id=&new_vendor_name=Mama+Mboga+Electronics&new_vendor_currency=ugx";
    let posted = app
        .post_with(
            "/admin/whatsapp/mapped%40g.us",
            &[("authorization", "Bearer admin-secret"), ("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.header("location"), Some("/admin/whatsapp/mapped%40g.us?mapped=1"));

    let list = app.get_with("/admin/whatsapp", &auth).await;
    let chats = list.body["chats"].as_array().expect("chats");
    assert_eq!(chats[0]["chat_id"], "open@g.us", "unmapped first");
    assert_eq!(chats[1]["vendor_name"], "Mama Mboga Electronics");
    assert_eq!((chats[1]["message_count"].as_i64(), chats[1]["offer_count"].as_i64()), (Some(1), Some(1)));

    let offers = app.read("/offers?chat_id=mapped@g.us").await;
    let offer = &offers.body["offers"][0];
    assert_eq!(offer["vendor_id"], 1, "re-attributed");
    assert_eq!((offer["price"].as_str(), offer["currency"].as_str()), (Some("4500"), Some("UGX")), "vendor's default currency applied");

    // Map the other chat to the existing vendor through JSON.
    let json = app
        .post_with("/admin/whatsapp/open@g.us", &[("authorization", "Bearer admin-secret"), ("content-type", "application/json")], r#"{"vendor_id":"1"}"#)
        .await;
    assert_eq!((json.status, json.body["vendor_id"].as_i64()), (200, Some(1)));
    assert_eq!(json.body["report"]["mode"], "full");

    let html = app.client.get(app.url("/admin/whatsapp")).header("authorization", "Bearer admin-secret").send().await.expect("get");
    assert!(html.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("text/html")));
    let html = html.text().await.expect("text");
    assert!(html.contains("Open &lt;script&gt;alert(1)&lt;/script&gt; Chat"), "titles are escaped");
    assert!(!html.contains("<script>alert(1)"));
    let detail = app.client.get(app.url("/admin/whatsapp/open%40g.us")).header("authorization", "Bearer admin-secret").send().await.expect("get");
    let detail = detail.text().await.expect("text");
    assert!(detail.contains("Kettle 2L") && detail.contains("<form method=\"post\""), "detail shows offers and the mapping form");
    app.finish().await;
}

#[tokio::test]
async fn mapping_refuses_cross_site_posts_and_bad_input() {
    let app = spawn_app_with(ADMIN).await;
    app.post_ingest(&batch("c", vec![IngestMessage { chat_id: Some("x@g.us".into()), ..message("X", "Radio - 900") }])).await;
    let form = [("authorization", "Bearer admin-secret"), ("content-type", "application/x-www-form-urlencoded")];
    let cross = app
        .post_with("/admin/whatsapp/x@g.us", &[form[0], form[1], ("origin", "https://evil.example")], "new_vendor_name=Evil")
        .await;
    assert_eq!((cross.status, cross.error_code()), (403, "cross_site_request"));
    assert_eq!(app.post_with("/admin/whatsapp/x@g.us", &form, "vendor_id=").await.status, 400);
    assert_eq!(app.post_with("/admin/whatsapp/x@g.us", &form, "vendor_id=99").await.status, 404);
    assert_eq!(app.post_with("/admin/whatsapp/x@g.us", &form, "new_vendor_name=A&new_vendor_currency=shillings").await.status, 400);
    assert_eq!(app.post_with("/admin/whatsapp/unknown", &form, "new_vendor_name=A").await.status, 404);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM vendors").await, [0], "a failed mapping creates no vendor");
    let _ = TOKEN;
    app.finish().await;
}
