//! `GET /search` against the real app: offers posted in a chat are found by misspelt and
//! differently-spaced queries after extraction; filters apply; pages do not overlap; the
//! cache never serves an answer that a newer commit changed; listings written before the
//! search index are filled at start; every bad input gets its answer.

use collector_client::message::IngestMessage;
use serde_json::Value;

use crate::helpers::{Answer, TestApp, batch, message, spawn_app_with, start_on};

const SETTINGS: &[(&str, &str)] = &[
    ("ADMIN_TOKEN", "admin-secret"),
    ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
];

fn in_chat(chat: &str, text: &str) -> IngestMessage {
    IngestMessage {
        chat_id: Some(chat.into()),
        ..message(chat, text)
    }
}

fn results(answer: &Answer) -> &[Value] {
    answer.body["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn titles(answer: &Answer) -> Vec<String> {
    results(answer)
        .iter()
        .filter_map(|r| r["title"].as_str())
        .map(str::to_lowercase)
        .collect()
}

async fn search(app: &TestApp, query: &str) -> Answer {
    let answer = app.read(&format!("/search?{query}")).await;
    assert_eq!(answer.status, 200, "{query}: {:?}", answer.body);
    answer
}

async fn map_vendor(app: &TestApp, chat: &str, name: &str) {
    let body = serde_json::json!({ "new_vendor_name": name }).to_string();
    let headers = [
        ("authorization", "Bearer admin-secret"),
        ("content-type", "application/json"),
    ];
    let mapped = app
        .post_with(&format!("/admin/whatsapp/{chat}"), &headers, body)
        .await;
    assert_eq!(mapped.status, 200, "{:?}", mapped.body);
}

async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.get_text("/metrics").await;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn an_offer_posted_in_a_chat_is_found_by_a_misspelt_query() {
    let app = spawn_app_with(SETTINGS).await;
    let texts = [
        "iPhone 13 Pro 256GB ex-uk - 85,000",
        "Samsung Galaxy A14 64GB @ 18,500",
        "Sofa set 5 seater 45k",
    ];
    app.post_ingest(&batch(
        "c",
        texts.iter().map(|t| in_chat("phones@g.us", t)).collect(),
    ))
    .await;
    app.wait_extracted(3).await;
    for query in [
        "q=iphon%2013",
        "q=iphone13",
        "q=IPHONE%2013%20256%20gb",
        "q=iphone%2013%20256GB",
    ] {
        let answer = search(&app, query).await;
        let top = &results(&answer)[0];
        assert!(
            top["title"]
                .as_str()
                .unwrap_or_default()
                .contains("iPhone 13"),
            "{query}: {:?}",
            answer.body
        );
        assert_eq!(top["kind"], "offer");
        assert_eq!(top["price"], "85000");
        assert_eq!(top["currency"], "KES");
        assert_eq!(top["chat_title"], "phones@g.us");
        assert_eq!(answer.body["mode"], "text");
        assert!(answer.body["took_ms"].as_f64().is_some());
    }
    let typo = search(&app, "q=samsng%20a14").await;
    assert!(
        titles(&typo)[0].contains("samsung galaxy a14"),
        "{:?}",
        typo.body
    );
    let matched: Vec<&str> = results(&typo)[0]["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(matched, ["samsng", "a", "14"]);
    let nothing = search(&app, "q=zzqx").await;
    assert!(results(&nothing).is_empty(), "{:?}", nothing.body);
    assert!(nothing.body["next_cursor"].is_null());
    app.finish().await;
}

/// A listing's own typo (`samsumg`) is found by the right word, through the vocabulary's
/// corrections; on PostgreSQL that vocabulary is kept by triggers (migration 0017), so a
/// word a listing gains by an UPDATE is known at once too.
#[tokio::test]
async fn a_listing_typo_is_found_by_the_right_word() {
    let app = spawn_app_with(SETTINGS).await;
    let texts = [
        "Samsumg Galaxy A15 128GB @ 21,000",
        "Tecno Spark 10 Pro 128GB 16,500",
        "Infinix Hot 30 8/128 17,000",
    ];
    app.post_ingest(&batch(
        "c",
        texts.iter().map(|t| in_chat("phones@g.us", t)).collect(),
    ))
    .await;
    app.wait_extracted(3).await;
    let answer = search(&app, "q=samsung%20galaxy%20a15").await;
    assert!(
        titles(&answer).first().is_some_and(|t| t.contains("samsumg galaxy a15")),
        "{:?}",
        answer.body
    );
    if crate::helpers::backend() == "postgres" {
        let words = app
            .db
            .query_i64("SELECT count(*) FROM search_vocab WHERE kind = 0 AND word IN ('samsumg', 'tecno', 'infinix')")
            .await;
        assert_eq!(words, [3]);
        // A word the listing gains by an UPDATE joins the vocabulary in the same statement.
        app.db
            .execute("UPDATE offers SET search_text = search_text || ' kiswahiliword' WHERE title ILIKE 'tecno%'")
            .await;
        let words = app
            .db
            .query_i64("SELECT count(*) FROM search_vocab WHERE kind = 0 AND word = 'kiswahiliword'")
            .await;
        assert_eq!(words, [1]);
        let misspelt = search(&app, "q=kiswahilward").await;
        assert!(
            titles(&misspelt).first().is_some_and(|t| t.contains("tecno spark")),
            "{:?}",
            misspelt.body
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn filters_apply_before_ranking() {
    let app = spawn_app_with(SETTINGS).await;
    let kenya = [
        "Tecno Spark 10 128GB - KSh 14,000",
        "Tecno Spark 10 64GB used - KSh 9,500",
        "Tecno Spark 10 256GB brand new 21,000",
    ];
    let nigeria = [
        "Tecno Spark 10 128GB ₦150,000",
        "Tecno Spark 10 pro 256GB ₦210,000",
    ];
    let mut messages: Vec<IngestMessage> = kenya.iter().map(|t| in_chat("ke@g.us", t)).collect();
    messages.extend(nigeria.iter().map(|t| in_chat("ng@g.us", t)));
    app.post_ingest(&batch("c", messages)).await;
    app.wait_extracted(5).await;
    map_vendor(&app, "ng@g.us", "Ikeja Plug").await;
    let all = search(&app, "q=tecno%20spark%2010&kind=offer").await;
    assert_eq!(results(&all).len(), 5);
    let ngn = search(&app, "q=tecno%20spark%2010&currency=ngn").await;
    assert_eq!(results(&ngn).len(), 2);
    assert!(
        results(&ngn)
            .iter()
            .all(|r| r["currency"] == "NGN" && r["vendor"] == "Ikeja Plug")
    );
    let by_name = search(&app, "q=tecno%20spark%2010&vendor=ikeja%20plug").await;
    assert_eq!(results(&by_name).len(), 2);
    let vendor_id = app.db.query_i64("SELECT id FROM vendors").await[0];
    let by_id = search(&app, &format!("q=tecno%20spark%2010&vendor={vendor_id}")).await;
    assert_eq!(results(&by_id).len(), 2);
    // Price bounds are inclusive, compared as numbers, and only priced offers pass.
    let cheap = search(
        &app,
        "q=tecno%20spark%2010&currency=KES&price_min=9500&price_max=14000",
    )
    .await;
    let prices: Vec<&str> = results(&cheap)
        .iter()
        .filter_map(|r| r["price"].as_str())
        .collect();
    assert_eq!(prices.len(), 2, "{:?}", cheap.body);
    assert!(prices.contains(&"9500") && prices.contains(&"14000"));
    let used = search(&app, "q=tecno%20spark%2010&condition=used").await;
    assert_eq!(results(&used).len(), 1);
    let products = search(&app, "q=tecno%20spark%2010&kind=product").await;
    assert!(results(&products).is_empty());
    // A filter is applied before ranking: the best text match (the pro) is not what a
    // KES filter truncates to; the page is full of KES offers even with limit 1.
    let one = search(&app, "q=tecno%20spark%2010%20pro&currency=KES&limit=1").await;
    assert_eq!(results(&one).len(), 1);
    assert_eq!(results(&one)[0]["currency"], "KES");
    app.finish().await;
}

#[tokio::test]
async fn pages_follow_each_other_without_overlap() {
    let app = spawn_app_with(SETTINGS).await;
    let messages: Vec<IngestMessage> = (0..7)
        .map(|i| {
            in_chat(
                "pages@g.us",
                &format!("Office chair model {i} - {}00", 30 + i),
            )
        })
        .collect();
    app.post_ingest(&batch("c", messages)).await;
    app.wait_extracted(7).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for page in 0..3 {
        let answer = search(&app, &format!("q=office%20chair&limit=3{cursor}")).await;
        seen.extend(
            results(&answer)
                .iter()
                .filter_map(|r| r["id"].as_str())
                .map(str::to_owned),
        );
        match answer.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => assert_eq!(page, 2, "the third page is the last"),
        }
    }
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((seen.len(), distinct.len()), (7, 7), "{seen:?}");
    app.finish().await;
}

#[tokio::test]
async fn the_cache_never_serves_what_a_newer_commit_changed() {
    let app = spawn_app_with(SETTINGS).await;
    app.post_ingest(&batch(
        "c",
        vec![in_chat("furniture@g.us", "L shaped sofa grey 65,000")],
    ))
    .await;
    app.wait_extracted(1).await;
    let first = search(&app, "q=l%20shaped%20sofa").await;
    assert_eq!(results(&first).len(), 1);
    assert!(results(&first)[0]["vendor"].is_null());
    let hits = metric(&app, "soko_search_cache_total{result=\"hit\"}").await;
    let again = search(&app, "q=l%20shaped%20sofa").await;
    assert_eq!(again.body["results"], first.body["results"]);
    assert_eq!(
        metric(&app, "soko_search_cache_total{result=\"hit\"}").await,
        hits + 1.0,
        "the repeat is a hit"
    );
    // A new listing commits: the next search sees it, not the cached answer.
    app.post_ingest(&batch(
        "c",
        vec![in_chat("furniture@g.us", "L-shaped sofa brown 70,000")],
    ))
    .await;
    app.wait_extracted(2).await;
    let after_insert = search(&app, "q=l%20shaped%20sofa").await;
    assert_eq!(results(&after_insert).len(), 2, "{:?}", after_insert.body);
    // Mapping the chat to a vendor changes what the results say.
    map_vendor(&app, "furniture@g.us", "Kilimani Furniture").await;
    let after_mapping = search(&app, "q=l%20shaped%20sofa").await;
    assert!(
        results(&after_mapping)
            .iter()
            .all(|r| r["vendor"] == "Kilimani Furniture"),
        "{:?}",
        after_mapping.body
    );
    // Renaming the chat (a later message carries its new title) shows in the next answer,
    // although no offer changed: the rename moves the generation too.
    let renamed = IngestMessage {
        chat_id: Some("furniture@g.us".into()),
        ..message("Kilimani Sofas & Beds", "good morning all")
    };
    assert_eq!(app.post_ingest(&batch("c", vec![renamed])).await.status, 200);
    let after_rename = search(&app, "q=l%20shaped%20sofa").await;
    assert!(
        results(&after_rename)
            .iter()
            .all(|r| r["chat_title"] == "Kilimani Sofas & Beds"),
        "{:?}",
        after_rename.body
    );
    // A deleted listing disappears at once.
    app.db
        .execute("DELETE FROM offers WHERE title LIKE '%brown%'")
        .await;
    let after_delete = search(&app, "q=l%20shaped%20sofa").await;
    assert_eq!(results(&after_delete).len(), 1, "{:?}", after_delete.body);
    app.finish().await;
}

#[tokio::test]
async fn products_written_before_the_index_are_filled_at_start() {
    let app = spawn_app_with(SETTINGS).await;
    let insert = "INSERT INTO products (product_id, seller_phone, name, description, active, qc_decision, created_at_ms, updated_at_ms)
                  VALUES ('1234567890123456', '+254700000001', 'JBL Flip5 speaker', 'Waterproof, original', 1, 'approved', 1, 1),
                         ('1234567890123457', '+254700000001', 'JBL Flip 5 gone', NULL, 0, NULL, 1, 1)";
    app.db.execute(insert).await;
    let db = app.stop().await;
    let app = start_on(db, SETTINGS).await;
    let found = search(&app, "q=jbl%20flip%205").await;
    assert_eq!(
        results(&found).len(),
        1,
        "inactive products are left out by default: {:?}",
        found.body
    );
    let top = &results(&found)[0];
    assert_eq!(
        (top["kind"].as_str(), top["id"].as_str()),
        (Some("product"), Some("1234567890123456"))
    );
    assert_eq!(top["seller"], "+254700000001");
    assert!(top["vendor"].is_null() && top["chat_title"].is_null());
    let with_inactive = search(&app, "q=jbl%20flip5&active=false&kind=product").await;
    assert_eq!(results(&with_inactive).len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn every_bad_input_gets_its_answer() {
    let app = spawn_app_with(SETTINGS).await;
    let messages: Vec<IngestMessage> = (0..3)
        .map(|i| in_chat("x@g.us", &format!("Gaming chair {i} - 1{i},000")))
        .collect();
    app.post_ingest(&batch("c", messages)).await;
    app.wait_extracted(3).await;
    for query in [
        "",
        "q=",
        "q=%20%20%20",
        "q=chair&price_min=500&price_max=100",
        "q=chair&price_min=cheap",
        "q=chair&cursor=forged",
        "q=chair&kind=vendor",
        "q=chair&limit=0",
        "q=chair&limit=many",
        "q=chair&active=maybe",
        "q=chair&condition=broken",
        "q=chair&currency=shilling",
        "q=chair&mode=fuzzy",
    ] {
        let answer = app.read(&format!("/search?{query}")).await;
        assert_eq!(
            (answer.status, answer.error_code()),
            (400, "bad_request"),
            "{query}: {:?}",
            answer.body
        );
        assert!(answer.body["error"]["request_id"].is_string());
    }
    // Semantic retrieval asked for by name, without SEARCH_TEXT_MODEL_DIR: 503, never a
    // quiet text answer; unnamed, the text retriever answers alone and says so.
    for mode in ["semantic", "hybrid"] {
        let off = app.read(&format!("/search?q=chair&mode={mode}")).await;
        assert_eq!(off.status, 503, "{mode}: {:?}", off.body);
        assert_eq!(off.error_message(), "no embedding model configured");
    }
    let unavailable = metric(&app, "soko_search_requests_total{mode=\"none\",outcome=\"unavailable\"}").await;
    assert_eq!(unavailable, 2.0, "503s are counted as unavailable");
    assert_eq!(search(&app, "q=chair").await.body["mode"], "text");
    assert_eq!(search(&app, "q=chair&mode=text").await.body["mode"], "text");
    let capped = search(&app, "q=chair&limit=1000").await;
    assert_eq!(results(&capped).len(), 3);
    // Quotes and operators are searched as text, never as SQL or index syntax.
    let hostile = search(
        &app,
        "q=chair%22%20OR%201%3D1%20--%20%27%3B%20DROP%20TABLE%20offers",
    )
    .await;
    assert_eq!(hostile.status, 200);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers").await, [3]);
    assert_eq!(app.get("/search?q=chair").await.status, 401);
    let refused = metric(
        &app,
        "soko_search_requests_total{mode=\"none\",outcome=\"bad_request\"}",
    )
    .await;
    assert!(refused >= 13.0, "bad requests are counted: {refused}");
    app.finish().await;
}
