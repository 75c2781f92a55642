//! Price history (issue 16) against the real app, on SQLite and PostgreSQL: a vendor price list's
//! first prices and a re-import's changed price (old → new) are kept in `price_history` although
//! the offer is rewritten in place; unchanged rows append nothing; chat offers join the same
//! history without being counted twice; `?format=csv` and `Accept: text/csv` download it.

use collector_client::message::IngestMessage;
use serde_json::Value;

use crate::{
    documents::upload,
    helpers::{Answer, READ_TOKEN, TestApp, batch, message, spawn_app_with, start_on},
};

const SETTINGS: &[(&str, &str)] = &[
    ("ADMIN_TOKEN", "admin-secret"),
    ("JOB_POLL_SECONDS", "0.05"),
    ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
];

const FIRST: &str = "SKU,Description,Price (KES),Qty\n\
    SA14,Samsung Galaxy A14,\"18,500\",5\n\
    IP12,iPhone 12 64GB,\"45,000\",3\n";

/// A week later: SA14 cheaper, IP12 the same.
const SECOND: &str = "SKU,Description,Price (KES),Qty\n\
    SA14,Samsung Galaxy A14,\"17,900\",5\n\
    IP12,iPhone 12 64GB,\"45,000\",3\n";

const SAMSUNG: &str = "/price-history/product/samsung%20galaxy%20a14";

async fn import(app: &TestApp, name: &str, csv: &str) -> i64 {
    let done = upload(app, name, csv.as_bytes(), "Kamau Electronics", true).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["status"], "done", "{:?}", done.body);
    done.body["document"]["id"].as_i64().expect("a document id")
}

fn points(answer: &Answer) -> Vec<Value> {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["points"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// (source, old price, price) of each point, oldest first.
fn prices(points: &[Value]) -> Vec<(String, Option<String>, String)> {
    points
        .iter()
        .map(|p| {
            (
                p["source"].as_str().unwrap_or("?").to_owned(),
                p["old_price"].as_str().map(str::to_owned),
                p["price"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, Option<&str>, &str)]) -> Vec<(String, Option<String>, String)> {
    rows.iter()
        .map(|(s, o, p)| ((*s).to_owned(), o.map(str::to_owned), (*p).to_owned()))
        .collect()
}

/// The CSV body: its header row, and its records.
fn records(answer: &Answer) -> (Vec<String>, Vec<Vec<String>>) {
    let text = answer.body.as_str().expect("a CSV body, not JSON");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .into_records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn a_reimport_keeps_the_old_price_and_the_history_downloads_as_csv() {
    let app = spawn_app_with(SETTINGS).await;
    let first = import(&app, "kamau.csv", FIRST).await;
    let history = points(&app.read(SAMSUNG).await);
    assert_eq!(prices(&history), owned(&[("document", None, "18500")]));
    let point = &history[0];
    assert_eq!(point["source_document_id"], first);
    assert!(
        point["chat_id"].is_null() && point["old_currency"].is_null(),
        "{point}"
    );
    assert_eq!(
        (
            point["vendor_name"].as_str(),
            point["currency"].as_str(),
            point["title"].as_str()
        ),
        (
            Some("Kamau Electronics"),
            Some("KES"),
            Some("Samsung Galaxy A14")
        )
    );
    let offer_id = point["offer_id"].as_i64().expect("an offer id");

    let second = import(&app, "kamau-week2.csv", SECOND).await;
    // The offer was rewritten in place; its old price is in the history.
    let offers = app
        .db
        .query_texts(&format!("SELECT price FROM offers WHERE id = {offer_id}"))
        .await;
    assert_eq!(offers, [Some("17900".to_owned())]);
    let history = points(&app.read(SAMSUNG).await);
    assert_eq!(
        prices(&history),
        owned(&[
            ("document", None, "18500"),
            ("document", Some("18500"), "17900")
        ])
    );
    assert_eq!(history[1]["source_document_id"], second);
    assert_eq!(history[1]["old_currency"], "KES");
    assert_eq!(history[1]["offer_id"], offer_id, "the same offer, changed");
    assert!(history[0]["at_ms"].as_i64() <= history[1]["at_ms"].as_i64());
    // The unchanged row appended nothing: one point, from the first document.
    let iphone = points(&app.read("/price-history/product/iphone%2012%2064gb").await);
    assert_eq!(prices(&iphone), owned(&[("document", None, "45000")]));
    assert_eq!(iphone[0]["source_document_id"], first);
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM price_history").await,
        [3]
    );

    // The same history as CSV, by parameter or by Accept.
    let download = app.read(&format!("{SAMSUNG}?format=csv")).await;
    assert_eq!(download.status, 200, "{:?}", download.body);
    assert_eq!(
        download.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        download.header("content-disposition"),
        Some(r#"attachment; filename="price-history-samsung-galaxy-a14.csv""#)
    );
    let (header, rows) = records(&download);
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    let picked: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[column("source")].clone(),
                r[column("old_price")].clone(),
                r[column("price")].clone(),
                r[column("source_document_id")].clone(),
            )
        })
        .collect();
    assert_eq!(
        picked,
        [
            (
                "document".to_owned(),
                String::new(),
                "18500".to_owned(),
                first.to_string()
            ),
            (
                "document".to_owned(),
                "18500".to_owned(),
                "17900".to_owned(),
                second.to_string()
            ),
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r[column("vendor_name")] == "Kamau Electronics"
                && r[column("title")] == "Samsung Galaxy A14")
    );
    let by_accept = app
        .get_with(
            SAMSUNG,
            &[
                ("authorization", &format!("Bearer {READ_TOKEN}")),
                ("accept", "text/csv"),
            ],
        )
        .await;
    assert_eq!(
        by_accept.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(by_accept.body, download.body);
    // JSON stays the default, and wins when asked for by name.
    let json = app
        .get_with(
            &format!("{SAMSUNG}?format=json"),
            &[
                ("authorization", &format!("Bearer {READ_TOKEN}")),
                ("accept", "text/csv"),
            ],
        )
        .await;
    assert_eq!(
        json.body["product_key"], "samsung galaxy a14",
        "{:?}",
        json.body
    );
    assert_eq!(app.read(&format!("{SAMSUNG}?format=xml")).await.status, 400);
    assert_eq!(app.get(&format!("{SAMSUNG}?format=csv")).await.status, 401);
    assert_eq!(
        app.read("/price-history/product/nothing-like-this?format=csv")
            .await
            .status,
        404
    );

    // A chat offer of the same product joins the history once, as itself.
    let chat = IngestMessage {
        chat_id: Some("shop@g.us".into()),
        ..message("shop@g.us", "Samsung Galaxy A14 - 18,000")
    };
    app.post_ingest(&batch("c", vec![chat])).await;
    app.wait_extracted(1).await;
    let key = app
        .db
        .query_texts("SELECT product_key FROM offers WHERE chat_id = 'shop@g.us'")
        .await;
    assert_eq!(
        key,
        [Some("samsung galaxy a14".to_owned())],
        "the chat offer names the same product"
    );
    let history = points(&app.read(SAMSUNG).await);
    assert_eq!(
        prices(&history),
        owned(&[
            ("document", None, "18500"),
            ("document", Some("18500"), "17900"),
            ("chat", None, "18000")
        ])
    );
    assert_eq!(history[2]["chat_id"], "shop@g.us");
    assert!(history[2]["source_document_id"].is_null());
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM price_history").await,
        [3],
        "chat offers are not copied"
    );
    app.finish().await;
}

#[tokio::test]
async fn document_offers_stored_before_the_table_get_their_current_price() {
    let app = spawn_app_with(SETTINGS).await;
    import(&app, "kamau.csv", FIRST).await;
    let second = import(&app, "kamau-week2.csv", SECOND).await;
    let db = app.stop().await;
    // Back to before migration 0018: no table, the migration forgotten.
    db.execute("DROP TABLE price_history").await;
    db.execute("DELETE FROM _sqlx_migrations WHERE version = 18")
        .await;
    let app = start_on(db, SETTINGS).await;
    // Each document offer gets one point: its price now, from the document that last wrote it.
    let history = points(&app.read(SAMSUNG).await);
    assert_eq!(prices(&history), owned(&[("document", None, "17900")]));
    assert_eq!(history[0]["source_document_id"], second);
    let uploaded = app
        .db
        .query_i64(&format!(
            "SELECT created_at_ms FROM source_documents WHERE id = {second}"
        ))
        .await;
    assert_eq!(history[0]["at_ms"].as_i64(), uploaded.first().copied());
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM price_history").await,
        [2]
    );
    app.finish().await;
}
