//! WhatsApp chat exports as vendor documents (issue 16), against the real app on SQLite and
//! PostgreSQL: a generated export `.zip` becomes offers attributed to the document and its
//! message numbers (a buyer's question does not), the next export is applied by difference (the
//! latest price of a product wins), a `.txt` export is read too, and a zip whose entries expand
//! past `DOCUMENT_MAX_EXPANDED_BYTES` fails with the limit as its reason.

use std::io::{Cursor, Write};

use serde_json::Value;

use crate::{
    document_fixtures::zip,
    documents::{self, counts},
    helpers::{Answer, TestApp, spawn_app_with},
};

const SETTINGS: &[(&str, &str)] = &[("JOB_POLL_SECONDS", "0.05")];

/// Messages 1 to 5 (the encryption notice is not a message): three priced offers, a buyer's
/// question and a media placeholder.
const FIRST_CHAT: &str = "12/01/2024, 09:00 - Messages and calls are end-to-end encrypted. Tap to learn more.\n\
12/01/2024, 09:01 - +254 712 345 678: iPhone 12 64GB 45,000\n\
12/01/2024, 09:02 - Buyer Jane: Do you have the Samsung Galaxy A14 in stock?\n\
12/01/2024, 09:03 - +254 712 345 678: Samsung Galaxy A14 128GB 18,500\n\
12/01/2024, 09:04 - +254 712 345 678: <Media omitted>\n\
12/01/2024, 09:05 - +254 712 345 678: Tecno Spark 10 12,500\n";

/// A week later: the iPhone offered at the old price, then at a new one; the Samsung again at
/// the same price; the Tecno gone.
const SECOND_CHAT: &str = "19/01/2024, 09:01 - +254 712 345 678: iPhone 12 64GB 45,000\n\
19/01/2024, 09:02 - +254 712 345 678: Samsung Galaxy A14 128GB 18,500\n\
19/01/2024, 18:30 - +254 712 345 678: iPhone 12 64GB 44,000\n";

async fn upload(app: &TestApp, file_name: &str, bytes: &[u8], vendor: &str) -> Answer {
    documents::upload(app, file_name, bytes, vendor, true).await
}

/// The finished document of a `?wait=true` upload.
/// The finished document of a chat export upload, checked `done` by the `chat_export`
/// processor with `media_type`.
fn finished<'a>(answer: &'a Answer, media_type: &str) -> &'a Value {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let document = &answer.body["document"];
    assert!(document.is_object(), "{:?}", answer.body);
    assert_eq!(answer.body["status"], "done", "{:?}", answer.body);
    assert_eq!(
        (document["processor"].as_str(), document["media_type"].as_str()),
        (Some("chat_export"), Some(media_type)),
        "{document}"
    );
    document
}

/// (title, price, source document, source row) of the vendor's listed offers, sorted.
async fn listed(app: &TestApp, vendor_id: i64) -> Vec<(String, String, i64, i64)> {
    let page = app.read(&format!("/offers?vendor_id={vendor_id}")).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let mut offers: Vec<_> = page.body["offers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            assert!(o["chat_id"].is_null() && o["sender"].is_null(), "{o}");
            (
                o["title"].as_str().unwrap_or("").to_owned(),
                o["price"].as_str().unwrap_or("").to_owned(),
                o["source_document_id"].as_i64().unwrap_or(-1),
                o["source_row"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    offers.sort();
    offers
}

#[tokio::test]
async fn a_chat_export_zip_becomes_offers_and_its_next_export_is_applied_by_difference() {
    let app = spawn_app_with(SETTINGS).await;
    let first = zip(&[
        (
            "IMG-20240112-WA0001.jpg",
            b"\xFF\xD8\xFF not really a photo",
        ),
        ("_chat.txt", FIRST_CHAT.as_bytes()),
    ]);
    let answer = upload(
        &app,
        "WhatsApp Chat - Kamau Phones.zip",
        &first,
        "Kamau Phones",
    )
    .await;
    let document = finished(&answer, "application/zip");
    assert_eq!(counts(document), [3, 0, 0, 0, 0], "{document}");
    let first_id = document["id"].as_i64().expect("an id");
    let vendor_id = document["vendor_id"].as_i64().expect("a vendor");
    let row = |title: &str, price: &str, document: i64, row: i64| {
        (title.to_owned(), price.to_owned(), document, row)
    };
    assert_eq!(
        listed(&app, vendor_id).await,
        [
            row("Samsung Galaxy A14 128GB", "18500", first_id, 3),
            row("Tecno Spark 10", "12500", first_id, 5),
            row("iPhone 12 64GB", "45000", first_id, 1),
        ],
        "the question (message 2) is not an offer"
    );
    let source = app
        .db
        .query_i64("SELECT COUNT(*) FROM offers WHERE source_text = 'iPhone 12 64GB 45,000' AND currency = 'KES'")
        .await;
    assert_eq!(source, [1], "the offer keeps its span of the message");
    let phones = app
        .db
        .query_i64(
            "SELECT COUNT(*) FROM offers WHERE sender IS NOT NULL OR source_text LIKE '%254%'",
        )
        .await;
    assert_eq!(phones, [0], "the sender's phone is not copied into offers");

    let second = zip(&[("_chat.txt", SECOND_CHAT.as_bytes())]);
    let answer = upload(
        &app,
        "WhatsApp Chat - Kamau Phones (1).zip",
        &second,
        &vendor_id.to_string(),
    )
    .await;
    let document = finished(&answer, "application/zip");
    assert_eq!(
        counts(document),
        [0, 1, 1, 1, 0],
        "updated the iPhone, unchanged the Samsung, removed the Tecno; the earlier iPhone price is no error: {document}"
    );
    let second_id = document["id"].as_i64().expect("an id");
    assert_eq!(
        listed(&app, vendor_id).await,
        [
            row("Samsung Galaxy A14 128GB", "18500", first_id, 3),
            row("iPhone 12 64GB", "44000", second_id, 3),
        ]
    );
    let inactive = app
        .db
        .query_i64("SELECT COUNT(*) FROM offers WHERE title = 'Tecno Spark 10' AND active = 0")
        .await;
    assert_eq!(inactive, [1], "removed is inactive, not deleted");
    app.finish().await;
}

#[tokio::test]
async fn a_text_export_is_read_and_a_zip_that_expands_too_far_fails_with_the_limit() {
    let app = spawn_app_with(SETTINGS).await;
    let text = "[12/01/2024, 09:01:00] Mama Njeri: Sugar 2kg 250\n\
        [12/01/2024, 09:02:10] Mama Njeri: Rice 5kg\nKSh 900\n";
    let answer = upload(
        &app,
        "WhatsApp Chat with Mama Njeri.txt",
        text.as_bytes(),
        "Mama Njeri",
    )
    .await;
    let document = finished(&answer, "text/plain");
    assert_eq!(counts(document), [2, 0, 0, 0, 0], "{document}");
    let vendor_id = document["vendor_id"].as_i64().expect("a vendor");
    let titles: Vec<(String, String)> = listed(&app, vendor_id)
        .await
        .into_iter()
        .map(|(title, price, _, _)| (title, price))
        .collect();
    assert_eq!(
        titles,
        [
            ("Rice 5kg".to_owned(), "900".to_owned()),
            ("Sugar 2kg".to_owned(), "250".to_owned())
        ]
    );

    // 201 copies of a megabyte of zeros: a few hundred kilobytes that expand past the default
    // DOCUMENT_MAX_EXPANDED_BYTES (200 MiB). Nothing of it is inflated.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("_chat.txt", options).expect("chat");
    writer.write_all(text.as_bytes()).expect("chat text");
    writer.start_file("VID-0.mp4", options).expect("entry");
    writer.write_all(&vec![0u8; 1024 * 1024]).expect("zeros");
    for copy in 1..=200 {
        writer
            .deep_copy_file("VID-0.mp4", &format!("VID-{copy}.mp4"))
            .expect("copy");
    }
    let bomb = writer.finish().expect("zip").into_inner();
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    let answer = upload(&app, "WhatsApp Chat - Bomb.zip", &bomb, "Mama Njeri").await;
    // Refused at the door (413) from the sizes its directory declares, before it is stored.
    assert_eq!(answer.status, 413, "{:?}", answer.body);
    assert_eq!(answer.error_code(), "document_too_large", "{:?}", answer.body);
    assert!(
        answer.error_message().contains("209715200 bytes"),
        "the message names the limit: {:?}",
        answer.body
    );
    assert_eq!(
        app.db
            .query_i64(&format!(
                "SELECT COUNT(*) FROM offers WHERE vendor_id = {vendor_id} AND active = 1"
            ))
            .await,
        [2],
        "nothing of the refused export was applied"
    );
    app.finish().await;
}
