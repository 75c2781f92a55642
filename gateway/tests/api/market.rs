//! Read APIs: offers with filters and stable cursor pages, vendors, and
//! price history across vendors.

use collector_client::message::IngestMessage;

use crate::helpers::{batch, message, spawn_app_with};

const SETTINGS: &[(&str, &str)] = &[("ADMIN_TOKEN", "admin-secret"), ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")];

fn in_chat(chat: &str, text: &str) -> IngestMessage {
    IngestMessage { chat_id: Some(chat.into()), ..message(chat, text) }
}

#[tokio::test]
async fn offers_page_stably_and_filter() {
    let app = spawn_app_with(SETTINGS).await;
    let messages: Vec<IngestMessage> = (0..7).map(|i| in_chat("pages@g.us", &format!("Chair model {i} - {}00", 10 + i))).collect();
    app.post_ingest(&batch("c", messages)).await;
    app.wait_extracted(7).await;
    let first = app.read("/offers?limit=3").await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page").to_owned();
    // New offers arriving between pages do not shift the next page.
    app.post_ingest(&batch("c", vec![in_chat("pages@g.us", "Table oak - 9,000")])).await;
    app.wait_extracted(8).await;
    let second = app.read(&format!("/offers?limit=3&cursor={cursor}")).await;
    let ids = |answer: &crate::helpers::Answer| -> Vec<i64> {
        answer.body["offers"].as_array().into_iter().flatten().filter_map(|o| o["id"].as_i64()).collect()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(a.len(), 3);
    assert_eq!(b.len(), 3);
    assert!(a.iter().min() > b.iter().max(), "pages continue strictly downwards: {a:?} then {b:?}");
    let third = app.read(&format!("/offers?limit=3&cursor={}", second.body["next_cursor"].as_str().unwrap_or_default())).await;
    assert_eq!(ids(&third).len(), 1);
    assert!(third.body["next_cursor"].is_null());
    assert_eq!(app.read("/offers?cursor=forged").await.status, 400);
    assert_eq!(app.read("/offers?limit=0").await.status, 400);
    assert_eq!(app.read("/offers?since=tomorrowish").await.status, 400);
    let future = app.read("/offers?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future.body["offers"].as_array().map(Vec::len), Some(0));
    let chat = app.read("/offers?chat_id=pages@g.us&limit=100").await;
    assert_eq!(chat.body["offers"].as_array().map(Vec::len), Some(8));
    app.finish().await;
}

#[tokio::test]
async fn price_history_spans_vendors_and_vendors_are_listed() {
    let app = spawn_app_with(SETTINGS).await;
    app.post_ingest(&batch("c", vec![in_chat("a@g.us", "Samsung A15 128GB - 18,500"), in_chat("b@g.us", "Samsung A15 128GB @ 17,900")])).await;
    app.wait_extracted(2).await;
    for (chat, name) in [("a@g.us", "Alpha Phones"), ("b@g.us", "Beta Mobile")] {
        let body = serde_json::json!({ "new_vendor_name": name }).to_string();
        let mapped = app
            .post_with(&format!("/admin/whatsapp/{chat}"), &[("authorization", "Bearer admin-secret"), ("content-type", "application/json")], body)
            .await;
        assert_eq!(mapped.status, 200, "{:?}", mapped.body);
    }
    let vendors = app.read("/vendors").await;
    let names: Vec<&str> = vendors.body["vendors"].as_array().into_iter().flatten().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["Alpha Phones", "Beta Mobile"]);
    assert_eq!(vendors.body["vendors"][0]["offer_count"], 1);
    let key = app.read("/offers?chat_id=a@g.us").await.body["offers"][0]["product_key"].as_str().unwrap_or_default().to_owned();
    let history = app.read(&format!("/price-history/product/{key}")).await;
    assert_eq!(history.status, 200, "{:?}", history.body);
    let points = history.body["points"].as_array().expect("points");
    let prices: Vec<(&str, &str)> = points.iter().filter_map(|p| Some((p["vendor_name"].as_str()?, p["price"].as_str()?))).collect();
    assert_eq!(prices.len(), 2);
    assert!(prices.contains(&("Alpha Phones", "18500")) && prices.contains(&("Beta Mobile", "17900")), "{prices:?}");
    // A title names the same product through its normalised key.
    let by_title = app.read("/price-history/product/samsung%20a15%20128gb").await;
    assert_eq!(by_title.body["points"].as_array().map(Vec::len), Some(2), "{:?}", by_title.body);
    assert_eq!(app.read("/price-history/product/nothing-like-this").await.status, 404);
    app.finish().await;
}
