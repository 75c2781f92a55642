//! Debounced extraction end to end: offers from the seed's smoke message,
//! the manual `extract-latest` run, idempotent re-runs, product and catalog
//! links enqueued once, durability of due chats across restarts, and fee
//! lines and buyers' questions that are no offers (the fee kept as `delivery_fee`).

use collector_client::message::IngestMessage;

use crate::helpers::{TOKEN, backend, batch, message, spawn_app_with, start_on};

const FAST: &[(&str, &str)] = &[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.3")];

#[tokio::test]
async fn the_smoke_message_becomes_a_pixel_offer_after_the_debounce() {
    let app = spawn_app_with(FAST).await;
    let body = br#"{"client_id":"smoke","messages":[{"chat_title":"Smoke Chat","text":"Pixel 8 Pro - $750"}]}"#;
    let answer = app.post_signed_body(body.to_vec(), TOKEN, "super-secret").await;
    assert_eq!(answer.body["created"], 1);
    let diagnostics = app.wait_extracted(1).await;
    assert_eq!(diagnostics.body["created"], 1);
    assert_eq!(diagnostics.body["extracted"], 1);
    let offers = app.read("/offers").await;
    let offer = &offers.body["offers"][0];
    assert_eq!((offer["title"].as_str(), offer["price"].as_str(), offer["currency"].as_str()), (Some("Pixel 8 Pro"), Some("750"), Some("USD")));
    assert_eq!(offers.body["offers"].as_array().map(Vec::len), Some(1));
    let lag = app.get_text("/metrics").await;
    assert!(lag.contains("soko_offers_total 1"), "offers counter");
    assert!(lag.contains("soko_extraction_lag_seconds_count 1"), "lag histogram");
    app.finish().await;
}

#[tokio::test]
async fn extract_latest_runs_now_needs_the_token_and_never_duplicates() {
    // A long debounce: only the manual run extracts.
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "600"), ("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "600")]).await;
    let chat = "120363000000000001@g.us";
    let messages = vec![
        IngestMessage { chat_id: Some(chat.into()), ..message("Phones Ke", "1. Samsung A15 - 18,500\n2. Tecno Spark 20 - 14,000\n3. iPhone 11 ex-UK @ 35k") },
        IngestMessage { chat_id: Some(chat.into()), ..message("Phones Ke", "Good morning family 🌞") },
    ];
    assert_eq!(app.post_ingest(&batch("c", messages)).await.body["created"], 2);
    let path = format!("/integrations/whatsapp/chats/{chat}/extract-latest");
    assert_eq!(app.post_with(&path, &[], "").await.status, 401);
    let first = app.post_with(&path, &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["report"]["messages_new"], 2);
    assert_eq!(first.body["report"]["offers_new"], 3);
    let titles: Vec<&str> = first.body["offers"].as_array().into_iter().flatten().filter_map(|o| o["title"].as_str()).collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles[0].contains("Samsung A15"));
    let again = app.post_with(&path, &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!(again.body["report"]["messages_processed"], 0, "nothing new");
    let full = app.post_with(&format!("{path}?full=true"), &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!((full.body["report"]["messages_processed"].as_i64(), full.body["report"]["offers_new"].as_i64()), (Some(2), Some(0)));
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers").await, [3], "re-running never duplicates offers");
    let diagnostics = app.get_with("/chat/tools/diagnostics", &[("x-ingest-token", TOKEN)]).await;
    assert_eq!(diagnostics.body["extracted"], 2, "re-extraction is not counted twice");
    let unknown = app.post_with("/integrations/whatsapp/chats/nope/extract-latest", &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!(unknown.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn fee_lines_and_questions_are_no_offers_and_the_fee_rides_on_the_items() {
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "600"), ("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "600")]).await;
    let chat = "120363000000000018@g.us";
    let list = "Phone accessories available 🔥\nOraimo earbuds - 2,500\nType C cable - 400\nDelivery within Westlands 250\nInbox to order 📩";
    let messages = vec![
        IngestMessage { chat_id: Some(chat.into()), ..message("Accessories Ke", list) },
        IngestMessage { chat_id: Some(chat.into()), ..message("Accessories Ke", "Is the Oraimo earbuds still 2.5k? bei gani") },
        IngestMessage { chat_id: Some(chat.into()), ..message("Accessories Ke", "JBL Flip 6 speaker 14,500") },
    ];
    assert_eq!(app.post_ingest(&batch("c", messages)).await.body["created"], 3);
    let path = format!("/integrations/whatsapp/chats/{chat}/extract-latest");
    let run = app.post_with(&path, &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!(run.status, 200, "{:?}", run.body);
    assert_eq!(run.body["report"]["offers_new"], 3, "{:?}", run.body);
    let fees: Vec<(Option<&str>, Option<&str>)> =
        run.body["offers"].as_array().into_iter().flatten().map(|o| (o["title"].as_str(), o["delivery_fee"].as_str())).collect();
    assert_eq!(fees, [(Some("Oraimo earbuds"), Some("250")), (Some("Type C cable"), Some("250")), (Some("JBL Flip 6 speaker"), None)]);
    // The read API answers the same, oldest offer last; a missing fee is null, not absent.
    let offers = app.read("/offers").await;
    let read: Vec<(Option<&str>, Option<&str>, bool)> = offers.body["offers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (o["title"].as_str(), o["delivery_fee"].as_str(), o["delivery_fee"].is_null()))
        .collect();
    assert_eq!(read, [(Some("JBL Flip 6 speaker"), None, true), (Some("Type C cable"), Some("250"), false), (Some("Oraimo earbuds"), Some("250"), false)]);
    let stored = app
        .db
        .query_texts(
            "SELECT (SELECT delivery_fee FROM offers WHERE title = 'Oraimo earbuds'), (SELECT delivery_fee FROM offers WHERE title = 'Type C cable'),
                    (SELECT delivery_fee FROM offers WHERE title = 'JBL Flip 6 speaker')",
        )
        .await;
    assert_eq!(stored, [Some("250".to_string()), Some("250".to_string()), None], "{} stores the fee as exact text", backend());
    app.finish().await;
}

#[tokio::test]
async fn product_and_catalog_links_are_recorded_and_enqueued_once() {
    let app = spawn_app_with(FAST).await;
    let texts = [
        "New stock! https://wa.me/p/1234567890123456/254712345678 Samsung A15 18,500",
        "See our catalog wa.me/c/254712345678",
        "Again: https://wa.me/p/1234567890123456/254712345678 and https://api.whatsapp.com/catalog/254712345678",
    ];
    let messages = texts.iter().map(|t| message("Links Chat", t)).collect();
    assert_eq!(app.post_ingest(&batch("c", messages)).await.body["created"], 3);
    app.wait_extracted(3).await;
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM products WHERE product_id = '1234567890123456' AND seller_phone = '+254712345678'").await, [1]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM catalogs WHERE seller_phone = '+254712345678'").await, [1]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM jobs WHERE stage = 'hydrate' AND dedupe_key = '1234567890123456'").await, [1]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM jobs WHERE stage = 'scout' AND dedupe_key = '+254712345678'").await, [1]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM jobs").await, [2]);
    let offers = app.read("/offers?product_id=1234567890123456").await;
    assert_eq!(offers.body["offers"][0]["wa_product_id"], "1234567890123456");
    app.finish().await;
}

#[tokio::test]
async fn a_chat_due_when_the_process_stopped_is_extracted_after_restart() {
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "1.5")]).await;
    app.post_ingest(&batch("c", vec![message("Durable Chat", "Fridge 300L - 45,000")])).await;
    let db = app.stop().await;
    let due = db.query_i64("SELECT COUNT(*) FROM chats WHERE extract_due_at_ms IS NOT NULL").await;
    assert_eq!(due, [1], "still due after the stop");
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM offers").await, [0]);
    let app = start_on(db, &[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "1.5")]).await;
    app.wait_extracted(1).await;
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers").await, [1]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM chats WHERE extract_due_at_ms IS NULL").await, [1]);
    app.finish().await;
}

#[tokio::test]
async fn a_busy_chat_is_still_extracted_within_the_max_wait() {
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.6"), ("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "1")]).await;
    let started = std::time::Instant::now();
    // A new message every 200 ms never lets the 600 ms debounce expire.
    for i in 0..12 {
        app.post_ingest(&batch("c", vec![message("Busy Chat", &format!("Item {i} - {}00", 10 + i))])).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if app.db.query_i64("SELECT COUNT(*) FROM offers").await.first().copied().unwrap_or(0) > 0 {
            break;
        }
    }
    assert!(app.db.query_i64("SELECT COUNT(*) FROM offers").await[0] > 0, "extracted before the traffic stopped");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    app.finish().await;
}

#[tokio::test]
async fn two_replicas_extract_each_chat_exactly_once() {
    if crate::helpers::backend() != "postgres" {
        // SQLite is single-process by design (the lock file); the claim logic
        // is still exercised by every other test.
        return;
    }
    let first = spawn_app_with(FAST).await;
    let shared = first.db.share();
    let second = start_on(shared, FAST).await;
    let messages: Vec<IngestMessage> = (0..40).map(|i| message(&format!("Replica Chat {}", i % 20), &format!("Sofa {i} - {}000", 20 + i))).collect();
    first.post_ingest(&batch("c", messages[..20].to_vec())).await;
    second.post_ingest(&batch("c", messages[20..].to_vec())).await;
    first.wait_extracted(40).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let counts = first.db.query_i64("SELECT COUNT(*) FROM offers").await;
    assert_eq!(counts, [40]);
    let extracted = first.db.query_i64("SELECT value FROM counters WHERE name = 'extracted'").await;
    assert_eq!(extracted, [40], "no message extracted twice");
    second.stop().await;
    first.finish().await;
}

#[tokio::test]
async fn a_burst_of_due_chats_is_extracted_in_groups_and_a_long_chat_page_by_page() {
    // 300 one-message chats fall due together (more than one claim of 128),
    // and one chat holds more pending messages than a page (500).
    let app = spawn_app_with(&[("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "1")]).await;
    let long_chat = |i: usize| IngestMessage { chat_id: Some("long-chat".into()), ..message("Long Chat", &format!("Pixel {i} Pro - $750")) };
    let short_chat = |i: usize| message(&format!("Short Chat {i}"), &format!("Tecno Spark {i} - $120"));
    let first: Vec<IngestMessage> = (0..400).map(long_chat).chain((0..100).map(short_chat)).collect();
    let second: Vec<IngestMessage> = (400..501).map(long_chat).chain((100..300).map(short_chat)).collect();
    assert_eq!(app.post_ingest(&batch("burst", first)).await.body["created"], 500);
    assert_eq!(app.post_ingest(&batch("burst", second)).await.body["created"], 301);
    app.wait_extracted(801).await;
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers").await, [801]);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers WHERE chat_id = 'long-chat'").await, [501]);
    assert_eq!(app.db.query_i64("SELECT COUNT(DISTINCT chat_id) FROM offers").await, [301]);
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM chats WHERE extract_due_at_ms IS NOT NULL OR extract_claimed_by IS NOT NULL").await,
        [0],
        "every chat settled and released"
    );
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains("soko_offers_total 801"), "offers counter");
    assert!(metrics.contains("soko_extraction_messages_total 801"), "messages counter");
    app.finish().await;
}

#[tokio::test]
async fn a_chats_messages_are_found_before_and_after_the_chat_index_catches_up() {
    // On SQLite the writer files (chat, message) pairs into chat_messages
    // 512 at a time (store/chat_index.rs): reads must find a chat's messages
    // on both sides of that line, including pairs left pending by a restart.
    let settings = [
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "600"),
        ("WHATSAPP_EXTRACT_MAX_WAIT_SECONDS", "600"),
        ("ADMIN_TOKEN", "admin-secret"),
    ];
    let app = spawn_app_with(&settings).await;
    let chat = "tracked@g.us";
    let tracked = |i: usize| IngestMessage { chat_id: Some(chat.into()), ..message("Tracked", &format!("Pixel {i} Pro - $750")) };
    assert_eq!(app.post_ingest(&batch("c", (0..3).map(tracked).collect())).await.body["created"], 3);
    let app = start_on(app.stop().await, &settings).await;
    for round in 0..5 {
        let filler = (0..450).map(|i| message(&format!("Filler {}", i % 40), &format!("Item {round}-{i} - $5"))).collect();
        assert_eq!(app.post_ingest(&batch("c", filler)).await.body["created"], 450);
    }
    assert_eq!(app.post_ingest(&batch("c", (3..5).map(tracked).collect())).await.body["created"], 2);
    if backend() == "sqlite" {
        // 512 pairs per flush: the first three were filed after the restart,
        // the last two are still in the tail.
        let through = app.db.query_i64("SELECT through_pk FROM chat_messages_progress").await;
        assert!(through[0] >= 512, "{through:?}");
        assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM chat_messages WHERE chat_id = 'tracked@g.us'").await, [3]);
        let tail = app.db.query_i64("SELECT COUNT(*) FROM messages WHERE id > (SELECT through_pk FROM chat_messages_progress)").await;
        assert!(tail[0] >= 2, "{tail:?}");
    }

    let path = format!("/integrations/whatsapp/chats/{chat}/extract-latest?full=true");
    let full = app.post_with(&path, &[("x-ingest-token", TOKEN)], "").await;
    assert_eq!(full.status, 200, "{:?}", full.body);
    assert_eq!(full.body["report"]["messages_processed"], 5, "{:?}", full.body);
    assert_eq!(full.body["report"]["offers_new"], 5, "{:?}", full.body);

    let detail = app
        .get_with("/admin/whatsapp/tracked%40g.us", &[("authorization", "Bearer admin-secret"), ("accept", "application/json")])
        .await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    let texts: Vec<&str> = detail.body["messages"].as_array().into_iter().flatten().filter_map(|m| m["text"].as_str()).collect();
    let newest_first: Vec<String> = (0..5).rev().map(|i| format!("Pixel {i} Pro - $750")).collect();
    assert_eq!(texts, newest_first);
    app.finish().await;
}
