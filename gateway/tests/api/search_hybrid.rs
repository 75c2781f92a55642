//! `GET /search` with the real all-MiniLM-L6-v2 (`SEARCH_TEXT_MODEL_DIR`), on SQLite and, with
//! `TEST_DATABASE=postgres`, on PostgreSQL: a query that shares no word with an offer still
//! finds it through its vector, the text and vector lists are fused (`mode: hybrid`), the
//! filters apply before the vectors are ranked, and the answer cache never hides a vector
//! that landed after the cached answer.

use std::time::{Duration, Instant};

use collector_client::message::IngestMessage;
use serde_json::Value;

use crate::helpers::{Answer, TestApp, batch, message, spawn_app_with};

fn in_chat(chat: &str, text: &str) -> IngestMessage {
    IngestMessage { chat_id: Some(chat.into()), ..message(chat, text) }
}

fn titles(answer: &Answer) -> Vec<String> {
    answer.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r: &Value| r["title"].as_str())
        .map(str::to_lowercase)
        .collect()
}

async fn search(app: &TestApp, query: &str) -> Answer {
    let answer = app.read(&format!("/search?{query}")).await;
    assert_eq!(answer.status, 200, "{query}: {:?}", answer.body);
    answer
}

/// Polls `query` until a title containing `needle` is in its answer (vectors are embedded by a
/// job and followed by the index within a poll); panics after 60 s.
async fn eventually_finds(app: &TestApp, query: &str, needle: &str) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = search(app, query).await;
        if titles(&answer).iter().any(|t| t.contains(needle)) {
            return answer;
        }
        assert!(Instant::now() < deadline, "{query} never found {needle}: {:?}", answer.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn vectors_find_what_words_miss_and_the_filters_still_hold() {
    let model = crate::semantic::text_model_dir();
    let (_, ort) = crate::media_e2e::model_settings();
    let app = spawn_app_with(&[
        ("SEARCH_TEXT_MODEL_DIR", model.as_str()),
        ("ORT_DYLIB_PATH", ort.as_str()),
        ("SEARCH_INDEX_POLL_MS", "100"),
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
    ])
    .await;
    let messages = vec![
        in_chat("sofas@g.us", "3 seater leather sofa, brown - KSh 45,000"),
        in_chat("phones@g.us", "Samsung Galaxy A14 64GB brand new - KSh 18,500"),
        in_chat("shoes@g.us", "Nike Air Force 1 sneakers size 42 - USD 60"),
    ];
    assert_eq!(app.post_ingest(&batch("c", messages)).await.status, 200);
    app.wait_extracted(3).await;

    // "couch" shares no word (nor trigram run) with "sofa": text alone finds nothing.
    let text = search(&app, "q=couch&mode=text").await;
    assert_eq!((text.body["mode"].as_str(), titles(&text).len()), (Some("text"), 0), "{:?}", text.body);
    // Meaning does, once the offer's vector is in the index; no mode named means hybrid.
    let hybrid = eventually_finds(&app, "q=couch", "sofa").await;
    assert_eq!(hybrid.body["mode"], "hybrid");
    assert!(titles(&hybrid)[0].contains("sofa"), "{:?}", hybrid.body);
    assert_eq!(hybrid.body["results"][0]["matched"], serde_json::json!([]), "a vector match names no term");
    let semantic = search(&app, "q=couch&mode=semantic").await;
    assert_eq!(semantic.body["mode"], "semantic");
    assert!(titles(&semantic)[0].contains("sofa"));
    // Unrelated listings stay out of a semantic answer (their cosine is below the floor).
    assert!(!titles(&semantic).iter().any(|t| t.contains("samsung")), "{:?}", semantic.body);

    // Filters narrow the vector scan before it ranks: the sofa is in KES, so a USD search for
    // a couch finds no sofa, and a price ceiling under its price leaves it out too.
    let usd = search(&app, "q=couch&currency=USD").await;
    assert!(!titles(&usd).iter().any(|t| t.contains("sofa")), "{:?}", usd.body);
    let cheap = search(&app, "q=couch&price_max=40000").await;
    assert!(!titles(&cheap).iter().any(|t| t.contains("sofa")), "{:?}", cheap.body);
    let in_range = search(&app, "q=couch&currency=KES&price_min=40000&price_max=50000").await;
    assert!(titles(&in_range).first().is_some_and(|t| t.contains("sofa")), "{:?}", in_range.body);
    let products_only = search(&app, "q=couch&kind=product").await;
    assert_eq!(titles(&products_only).len(), 0, "there are no products: {:?}", products_only.body);

    // A new listing: the semantic answer cached before its vector landed is not served after.
    let before = search(&app, "q=sectional%20couch&mode=semantic").await;
    assert!(!titles(&before).iter().any(|t| t.contains("grey")), "{:?}", before.body);
    assert_eq!(app.post_ingest(&batch("c", vec![in_chat("sofas@g.us", "Corner sofa grey, 5 seater - KSh 60,000")])).await.status, 200);
    app.wait_extracted(4).await;
    eventually_finds(&app, "q=sectional%20couch&mode=semantic", "grey").await;
    app.finish().await;
}
