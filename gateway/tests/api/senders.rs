//! Vendors per sender in group chats (issue 19) through real HTTP: a group
//! chat with three senders, the chat mapped to vendor A and sender 2 to vendor
//! B; a changed mapping re-attributes only the affected offers, and saving it
//! again changes nothing; `sender` masked for read tokens and in full for the
//! admin; `GET /offers?sender=`; the admin senders page and its form; and the
//! migration's backfill of existing offers.

use std::collections::BTreeMap;

use collector_client::message::IngestMessage;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, backend, batch, message, spawn_app_with, start_on};

const SETTINGS: &[(&str, &str)] = &[("ADMIN_TOKEN", "admin-secret"), ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")];
const CHAT: &str = "market@g.us";
const S1: &str = "+254712345601";
const S2: &str = "+254712345602";
const S3: &str = "+254712345603";
const ADMIN_JSON: &[(&str, &str)] = &[("authorization", "Bearer admin-secret"), ("accept", "application/json")];

fn from(chat: &str, sender: &str, text: &str) -> IngestMessage {
    // Senders arrive as JIDs, as the bridges send them; the gateway stores E.164.
    let jid = format!("{}@s.whatsapp.net", sender.trim_start_matches('+'));
    IngestMessage { chat_id: Some(chat.into()), sender: Some(jid), ..message("Nairobi Phones Market", text) }
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> Answer {
    app.post_with(path, &[("authorization", "Bearer admin-secret"), ("content-type", "application/json")], body.to_string()).await
}

/// Maps a chat to a new vendor; returns its id.
async fn map_chat_to_new_vendor(app: &TestApp, chat: &str, name: &str, currency: &str) -> i64 {
    let answer = post_json(app, &format!("/admin/whatsapp/{chat}"), json!({"new_vendor_name": name, "new_vendor_currency": currency})).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["vendor_id"].as_i64().expect("vendor id")
}

/// The chat's offers as the admin sees them, by sender: (vendor_id, currency, updated_at_ms).
async fn offers_by_sender(app: &TestApp) -> BTreeMap<String, (Option<i64>, String, i64)> {
    let answer = app.get_with(&format!("/offers?chat_id={CHAT}&limit=100"), &[("authorization", "Bearer admin-secret")]).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let offers = answer.body["offers"].as_array().cloned().unwrap_or_default();
    assert_eq!(offers.len(), 3, "{offers:?}");
    offers
        .iter()
        .map(|o| {
            let sender = o["sender"].as_str().expect("a sender in full for the admin").to_owned();
            let currency = o["currency"].as_str().unwrap_or_default().to_owned();
            (sender, (o["vendor_id"].as_i64(), currency, o["updated_at_ms"].as_i64().unwrap_or_default()))
        })
        .collect()
}

async fn group_chat_with_three_senders(app: &TestApp) {
    let messages = vec![
        from(CHAT, S1, "Samsung A15 128GB - 18,500"),
        from(CHAT, S2, "Tecno Spark 20 - 14,200"),
        from(CHAT, S3, "Oppo Reno 11 - 45,000"),
    ];
    app.post_ingest(&batch("c", messages)).await;
    app.post_ingest(&batch("c", vec![from("other@g.us", S1, "Infinix Hot 40 - 16,000")])).await;
    app.wait_extracted(4).await;
}

#[tokio::test]
async fn offers_are_attributed_per_sender_and_a_mapping_change_touches_only_its_offers() {
    let app = spawn_app_with(SETTINGS).await;
    group_chat_with_three_senders(&app).await;
    let vendor_a = map_chat_to_new_vendor(&app, CHAT, "Vendor A", "KES").await;
    let vendor_b = map_chat_to_new_vendor(&app, "other@g.us", "Vendor B", "UGX").await;

    // Sender 2 gets a vendor of their own, given as a JID.
    let mapped = post_json(&app, &format!("/admin/whatsapp/{CHAT}/senders"), json!({"senders": [{"sender": "254712345602@s.whatsapp.net", "vendor_id": vendor_b}]})).await;
    assert_eq!(mapped.status, 200, "{:?}", mapped.body);
    assert_eq!(mapped.body["changed"], json!([S2]));
    assert_eq!(mapped.body["report"]["messages_processed"], 1, "only sender 2's message is extracted again");
    let after_sender_map = offers_by_sender(&app).await;
    assert_eq!((after_sender_map[S1].0, after_sender_map[S3].0), (Some(vendor_a), Some(vendor_a)));
    assert_eq!((after_sender_map[S2].0, after_sender_map[S2].1.as_str()), (Some(vendor_b), "UGX"), "sender 2's vendor and its currency");

    // Saving the same mapping again changes nothing.
    let again = post_json(&app, &format!("/admin/whatsapp/{CHAT}/senders"), json!({"senders": [{"sender": S2, "vendor_id": vendor_b}]})).await;
    assert_eq!((again.status, again.body["changed"].clone(), again.body["report"].clone()), (200, json!([]), Value::Null));
    assert_eq!(offers_by_sender(&app).await, after_sender_map, "idempotent: no offer rewritten");

    // The chat's default changes: senders 1 and 3 follow it, sender 2 keeps their own and is not rewritten.
    let remapped = post_json(&app, &format!("/admin/whatsapp/{CHAT}"), json!({"vendor_id": vendor_b.to_string()})).await;
    assert_eq!(remapped.status, 200, "{:?}", remapped.body);
    assert_eq!(remapped.body["report"]["messages_processed"], 2);
    let after_chat_map = offers_by_sender(&app).await;
    for sender in [S1, S3] {
        assert_eq!(after_chat_map[sender].0, Some(vendor_b));
        assert_ne!(after_chat_map[sender].2, after_sender_map[sender].2, "{sender}'s offer was re-extracted");
    }
    assert_eq!(after_chat_map[S2], after_sender_map[S2], "sender 2's offer is untouched");

    // Sender 3 goes to vendor A: only sender 3's offer changes.
    let third = post_json(&app, &format!("/admin/whatsapp/{CHAT}/senders"), json!({"senders": [{"sender": S3, "vendor_id": vendor_a}]})).await;
    assert_eq!(third.body["changed"], json!([S3]));
    let after_third = offers_by_sender(&app).await;
    assert_eq!((after_third[S3].0, after_third[S3].1.as_str()), (Some(vendor_a), "KES"));
    assert_eq!((&after_third[S1], &after_third[S2]), (&after_chat_map[S1], &after_chat_map[S2]));

    // Clearing sender 2's own vendor gives their offer back to the chat's default.
    let cleared = post_json(&app, &format!("/admin/whatsapp/{CHAT}/senders"), json!({"senders": [{"sender": S2, "vendor_id": null}]})).await;
    assert_eq!(cleared.body["changed"], json!([S2]));
    assert_eq!(offers_by_sender(&app).await[S2].0, Some(vendor_b));

    // The other chat is never touched by this chat's sender mappings.
    let other = app.get_with("/offers?chat_id=other@g.us", &[("authorization", "Bearer admin-secret")]).await;
    assert_eq!(other.body["offers"][0]["vendor_id"], json!(vendor_b));

    // Bad input.
    let senders_path = format!("/admin/whatsapp/{CHAT}/senders");
    assert_eq!(post_json(&app, &senders_path, json!({"senders": [{"sender": "Mama Mboga", "vendor_id": 1}]})).await.status, 400);
    assert_eq!(post_json(&app, &senders_path, json!({"senders": []})).await.status, 400);
    assert_eq!(post_json(&app, &senders_path, json!({"senders": [{"sender": S1, "vendor_id": 99}]})).await.status, 404);
    assert_eq!(post_json(&app, "/admin/whatsapp/unknown@g.us/senders", json!({"senders": [{"sender": S1, "vendor_id": 1}]})).await.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn senders_are_masked_for_read_tokens_and_filter_offers() {
    let app = spawn_app_with(SETTINGS).await;
    group_chat_with_three_senders(&app).await;

    let read = app.read(&format!("/offers?chat_id={CHAT}")).await;
    let masked: Vec<&str> = read.body["offers"].as_array().into_iter().flatten().filter_map(|o| o["sender"].as_str()).collect();
    assert_eq!(masked.len(), 3);
    for sender in &masked {
        assert!(sender.starts_with("+•••••••••60") && sender.chars().filter(char::is_ascii_digit).count() == 3, "{sender}");
    }
    let admin = app.get_with(&format!("/offers?chat_id={CHAT}"), &[("authorization", "Bearer admin-secret")]).await;
    let full: Vec<&str> = admin.body["offers"].as_array().into_iter().flatten().filter_map(|o| o["sender"].as_str()).collect();
    assert_eq!(full, [S3, S2, S1], "newest first, in full for the admin");

    // `?sender=` takes E.164 or the JID; both find sender 1's offers across chats.
    for query in ["%2B254712345601", "254712345601%40s.whatsapp.net"] {
        let found = app.read(&format!("/offers?sender={query}")).await;
        assert_eq!(found.status, 200, "{:?}", found.body);
        let mut chats: Vec<&str> = found.body["offers"].as_array().into_iter().flatten().filter_map(|o| o["chat_id"].as_str()).collect();
        chats.sort_unstable();
        assert_eq!(chats, [CHAT, "other@g.us"], "{query}");
        assert!(found.body["offers"].as_array().into_iter().flatten().all(|o| o["sender"] == "+•••••••••601"));
    }
    let narrowed = app.read(&format!("/offers?sender=%2B254712345601&chat_id={CHAT}")).await;
    assert_eq!(narrowed.body["offers"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.read("/offers?sender=not-a-phone").await.status, 400);
    app.finish().await;
}

#[tokio::test]
async fn the_admin_senders_page_lists_senders_and_its_form_maps_one() {
    let app = spawn_app_with(SETTINGS).await;
    group_chat_with_three_senders(&app).await;
    app.post_ingest(&batch("c", vec![from(CHAT, S2, "Are you open on Sunday?")])).await;
    app.wait_extracted(5).await;
    map_chat_to_new_vendor(&app, CHAT, "Vendor A", "KES").await;
    let vendor_b = map_chat_to_new_vendor(&app, "other@g.us", "Vendor B", "KES").await;

    let listed = app.get_with(&format!("/admin/whatsapp/{CHAT}/senders"), ADMIN_JSON).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let senders = listed.body["senders"].as_array().cloned().unwrap_or_default();
    let counts: Vec<(&str, i64, i64)> = senders
        .iter()
        .map(|s| (s["sender"].as_str().unwrap_or_default(), s["message_count"].as_i64().unwrap_or(-1), s["offer_count"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(counts, [(S2, 2, 1), (S1, 1, 1), (S3, 1, 1)], "most messages first");

    let page = app.client.get(app.url("/admin/whatsapp/market%40g.us/senders")).header("authorization", "Bearer admin-secret").send().await.expect("get");
    assert!(page.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("text/html")));
    let page = page.text().await.expect("html");
    for sender in [S1, S2, S3] {
        assert!(page.contains(&format!("name=\"vendor:{sender}\"")), "a select for {sender}");
    }
    assert!(page.contains("<form method=\"post\" action=\"/admin/whatsapp/market%40g.us/senders\""));

    // The form as a browser posts it: same origin, basic credentials, one field per sender.
    let form = format!("vendor%3A%2B254712345601={vendor_b}&vendor%3A%2B254712345602=&vendor%3A%2B254712345603=");
    let basic = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "anyone:admin-secret"));
    let origin = app.address.clone();
    let headers = [("authorization", basic.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let cross = app.post_with("/admin/whatsapp/market%40g.us/senders", &[headers[0], headers[1], ("origin", "https://evil.example")], form.clone()).await;
    assert_eq!((cross.status, cross.error_code()), (403, "cross_site_request"));
    let posted = app.post_with("/admin/whatsapp/market%40g.us/senders", &[headers[0], headers[1], ("origin", origin.as_str())], form).await;
    assert_eq!(posted.status, 303, "{:?}", posted.body);
    assert_eq!(posted.header("location"), Some("/admin/whatsapp/market%40g.us/senders?saved=1"));
    let offers = offers_by_sender(&app).await;
    assert_eq!(offers[S1].0, Some(vendor_b));
    assert_ne!(offers[S2].0, Some(vendor_b));
    let saved = app.client.get(app.url("/admin/whatsapp/market%40g.us/senders?saved=1")).header("authorization", "Bearer admin-secret").send().await.expect("get");
    let saved = saved.text().await.expect("html");
    assert!(saved.contains(&format!("<option value=\"{vendor_b}\" selected>Vendor B</option>")), "the saved mapping is selected");

    // On the chat page each offer links to its message, which the page then shows.
    let detail = app.client.get(app.url("/admin/whatsapp/market%40g.us")).header("authorization", "Bearer admin-secret").send().await.expect("get");
    let detail = detail.text().await.expect("html");
    let pk = app.db.query_i64("SELECT source_message_pk FROM offers WHERE sender = '+254712345601' AND chat_id = 'market@g.us'").await[0];
    assert!(detail.contains(&format!("href=\"/admin/whatsapp/market%40g.us?message={pk}#m{pk}\"")), "the message ref is a link");
    assert!(detail.contains(&format!("id=\"m{pk}\"")), "the message is on the page");
    assert!(detail.contains("/admin/whatsapp/market%40g.us/senders"), "the chat page links to its senders");
    app.finish().await;
}

#[tokio::test]
async fn the_migration_backfills_senders_of_existing_offers_and_chat_mappings_keep_working() {
    let app = spawn_app_with(SETTINGS).await;
    group_chat_with_three_senders(&app).await;
    let vendor_a = map_chat_to_new_vendor(&app, CHAT, "Vendor A", "KES").await;
    let db = app.stop().await;

    // Back to the schema before the migration: no sender column, no sender mappings.
    let version = if backend() == "postgres" { 10 } else { 11 };
    db.execute("DROP INDEX offers_sender").await;
    db.execute("DROP TABLE chat_sender_vendors").await;
    db.execute("ALTER TABLE offers DROP COLUMN sender").await;
    db.execute("ALTER TABLE chats DROP COLUMN sender_vendor_count").await;
    db.execute(&format!("DELETE FROM _sqlx_migrations WHERE version = {version}")).await;

    let app = start_on(db, SETTINGS).await;
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers WHERE sender IS NOT NULL").await, [4], "every offer got its message's sender");
    let offers = offers_by_sender(&app).await;
    assert!([S1, S2, S3].iter().all(|s| offers[*s].0 == Some(vendor_a)), "the chat's mapping still holds: {offers:?}");
    let mapped = post_json(&app, &format!("/admin/whatsapp/{CHAT}/senders"), json!({"senders": [{"sender": S3, "vendor_id": null}]})).await;
    assert_eq!((mapped.status, mapped.body["changed"].clone()), (200, json!([])), "no mapping to clear");
    app.finish().await;
}
