//! Vendor documents (issue 16) against the real app, on SQLite and PostgreSQL: a generated
//! `.xlsx` (a merged title row above the header, two sheets, a bad row) and a `.csv` become
//! offers of their vendor; a second import is split into created, updated, unchanged and removed
//! rows; the same bytes again are skipped; removed offers stay in the database but leave the
//! offers list and search; unreadable uploads get 415, 413 or 422; every route needs a token.

use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

use crate::helpers::{Answer, READ_TOKEN, TestApp, answer, spawn_app_with};

const SETTINGS: &[(&str, &str)] = &[
    ("ADMIN_TOKEN", "admin-secret"),
    ("JOB_POLL_SECONDS", "0.05"),
];

enum Cell {
    Text(&'static str),
    Number(f64),
}
use Cell::{Number, Text};

/// A workbook with a merged shop-name row above each sheet's rows.
fn xlsx(sheets: &[(&str, &[&[Cell]])]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).expect("sheet name");
        sheet
            .merge_range(0, 0, 0, 4, "KAMAU ELECTRONICS — PRICE LIST", &Format::new())
            .expect("merged title");
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 2, c as u16);
                match cell {
                    Text(text) => sheet.write_string(r, c, *text).map(|_| ()),
                    Number(value) => sheet.write_number(r, c, *value).map(|_| ()),
                }
                .expect("cell");
            }
        }
    }
    book.save_to_buffer().expect("xlsx bytes")
}

fn first_list() -> Vec<u8> {
    xlsx(&[
        (
            "Phones",
            &[
                &[
                    Text("MODEL/SKU"),
                    Text("DESCRIPTION"),
                    Text("PRICE (KES)"),
                    Text("QTY"),
                    Text("CONDITION"),
                ],
                &[
                    Text("IP12"),
                    Text("iPhone 12 64GB"),
                    Number(45000.0),
                    Number(3.0),
                    Text("Brand new"),
                ],
                &[
                    Text("SA14"),
                    Text("Samsung Galaxy A14"),
                    Text("18,500"),
                    Number(5.0),
                    Text("ex-uk"),
                ],
                &[
                    Text("TS10"),
                    Text("Tecno Spark 10"),
                    Number(12500.0),
                    Number(1.0),
                    Text(""),
                ],
                &[
                    Text("NK1"),
                    Text("Nokia 105"),
                    Text("call for price"),
                    Number(2.0),
                    Text(""),
                ],
            ],
        ),
        (
            "Accessories",
            &[
                &[Text("Item"), Text("Price"), Text("Currency")],
                &[Text("Anker charger 20W"), Number(15.5), Text("USD")],
            ],
        ),
    ])
}

/// The same vendor's list a week later, as CSV: IP12 and the charger unchanged, SA14's price
/// changed, TS10 gone, OP9 new.
const SECOND_LIST: &str = "Kamau Electronics,,,,\nSKU,Description,Price (KES),Qty,Condition\n\
    IP12,iPhone 12 64GB,\"45,000\",3,Brand new\n\
    SA14,Samsung Galaxy A14,\"17,900\",5,ex-uk\n\
    OP9,OnePlus 9 Pro,\"52,000\",1,refurbished\n\
    ,Anker charger 20W,$15.50,,\n";

pub(crate) fn form(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "soko-test-boundary-7c1f";
    let mut body = Vec::new();
    for (name, file_name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload(app: &TestApp, file_name: &str, bytes: &[u8], vendor: &str, wait: bool) -> Answer {
    post_form(
        app,
        &[
            ("file", Some(file_name), bytes),
            ("vendor", None, vendor.as_bytes()),
        ],
        wait,
    )
    .await
}

/// `POST /documents` (`?wait=true` when `wait`) with the read token and these form fields.
pub(crate) async fn post_form(app: &TestApp, fields: &[(&str, Option<&str>, &[u8])], wait: bool) -> Answer {
    let (content_type, body) = form(fields);
    let path = if wait {
        "/documents?wait=true"
    } else {
        "/documents"
    };
    let auth = format!("Bearer {READ_TOKEN}");
    app.post_with(
        path,
        &[("content-type", &content_type), ("authorization", &auth)],
        body,
    )
    .await
}

/// `answer` is the refusal `status` / `code`, and its message gives the reason (`reason` in it).
pub(crate) fn assert_refused(answer: &Answer, status: u16, code: &str, reason: &str) {
    assert_eq!((answer.status, answer.error_code()), (status, code), "{:?}", answer.body);
    assert!(answer.error_message().contains(reason), "the reason is given: {:?}", answer.body);
}

pub(crate) fn counts(document: &Value) -> [i64; 5] {
    [
        "created_count",
        "updated_count",
        "unchanged_count",
        "removed_count",
        "error_count",
    ]
    .map(|k| document[k].as_i64().unwrap_or(-1))
}

/// (sku or title, price, currency) of the vendor's listed offers, sorted.
pub(crate) async fn listed(app: &TestApp, vendor_id: i64) -> Vec<(String, String, String)> {
    let page = app.read(&format!("/offers?vendor_id={vendor_id}")).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let mut offers: Vec<(String, String, String)> = page.body["offers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            assert!(
                o["chat_id"].is_null() && o["source_message_id"].is_null(),
                "a document offer has no chat: {o}"
            );
            assert!(
                o["source_document_id"].as_i64().is_some() && o["source_row"].as_i64().is_some(),
                "{o}"
            );
            (
                o["title"].as_str().unwrap_or("").to_owned(),
                o["price"].as_str().unwrap_or("").to_owned(),
                o["currency"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    offers.sort();
    offers
}

#[tokio::test]
async fn a_price_list_becomes_offers_and_its_next_version_is_applied_by_difference() {
    let app = spawn_app_with(SETTINGS).await;
    let first = upload(&app, "kamau.xlsx", &first_list(), "Kamau Electronics", true).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["status"], "done", "{:?}", first.body);
    let document = &first.body["document"];
    assert_eq!(counts(document), [4, 0, 0, 0, 1], "{document}");
    assert_eq!(
        document["errors"],
        serde_json::json!([{"row": 7, "sheet": "Phones", "reason": "price \"call for price\" is not a number"}])
    );
    assert_eq!(document["processor"], "spreadsheet");
    let vendor_id = document["vendor_id"]
        .as_i64()
        .expect("the vendor was created");
    let vendors = app.read("/vendors").await;
    assert!(
        vendors.body["vendors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["id"] == vendor_id && v["name"] == "Kamau Electronics")
    );
    let owned = |t: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        t.iter()
            .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
            .collect()
    };
    assert_eq!(
        listed(&app, vendor_id).await,
        owned(&[
            ("Anker charger 20W", "15.5", "USD"),
            ("Samsung Galaxy A14", "18500", "KES"),
            ("Tecno Spark 10", "12500", "KES"),
            ("iPhone 12 64GB", "45000", "KES"),
        ])
    );
    // The console's offers page shows a document row where a chat message would be.
    let page = app
        .client
        .get(app.url(&format!("/offers?vendor_id={vendor_id}")))
        .header("authorization", format!("Bearer {READ_TOKEN}"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("offers page");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("html");
    assert!(
        page.contains("iPhone 12 64GB") && page.contains("row 4"),
        "{page}"
    );
    let tecno_id = app
        .db
        .query_i64("SELECT id FROM offers WHERE row_key = 'sku:ts10'")
        .await[0];
    let found = app.read("/search?q=tecno%20spark&mode=text").await;
    assert!(
        found.body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["id"].as_str() == Some(tecno_id.to_string().as_str())),
        "{:?}",
        found.body
    );

    // The next version, by name again (the same vendor), as CSV, without waiting.
    let second = upload(
        &app,
        "kamau-week2.csv",
        SECOND_LIST.as_bytes(),
        "kamau electronics",
        false,
    )
    .await;
    assert_eq!(second.status, 202, "{:?}", second.body);
    assert_eq!(second.body["status"], "queued");
    let second_id = second.body["document_id"].as_i64().expect("an id");
    let done = wait_for_final(&app, second_id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        counts(&done),
        [1, 1, 2, 1, 0],
        "created OP9, updated SA14, unchanged IP12 and the charger, removed TS10: {done}"
    );
    assert_eq!(
        listed(&app, vendor_id).await,
        owned(&[
            ("Anker charger 20W", "15.5", "USD"),
            ("OnePlus 9 Pro", "52000", "KES"),
            ("Samsung Galaxy A14", "17900", "KES"),
            ("iPhone 12 64GB", "45000", "KES"),
        ])
    );
    // Removed is inactive, never deleted, and no longer found.
    assert_eq!(
        app.db
            .query_i64(&format!(
                "SELECT CAST(active AS BIGINT) FROM offers WHERE id = {tecno_id}"
            ))
            .await,
        [0]
    );
    let gone = app.read("/search?q=tecno%20spark&mode=text").await;
    assert_eq!(gone.status, 200);
    assert!(
        !gone.body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["id"].as_str() == Some(tecno_id.to_string().as_str())),
        "{:?}",
        gone.body
    );
    // Unchanged rows were not written again; the updated one now points at the new document.
    let sources = app.db.query_i64("SELECT source_document_id FROM offers WHERE row_key IN ('sku:ip12', 'sku:sa14') ORDER BY row_key").await;
    assert_eq!(sources, [document["id"].as_i64().unwrap_or(-1), second_id]);

    // The same bytes again: skipped, and nothing but the document row is written.
    let offers_before = app.db.query_i64("SELECT COUNT(*) FROM offers").await;
    let updated_before = app
        .db
        .query_i64("SELECT MAX(updated_at_ms) FROM offers")
        .await;
    let again = upload(
        &app,
        "kamau-week2-copy.csv",
        SECOND_LIST.as_bytes(),
        &vendor_id.to_string(),
        false,
    )
    .await;
    assert_eq!(
        (
            again.status,
            again.body["status"].clone(),
            again.body["reason"].clone()
        ),
        (200, "skipped".into(), "no_changes".into()),
        "{:?}",
        again.body
    );
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM offers").await,
        offers_before
    );
    assert_eq!(
        app.db
            .query_i64("SELECT MAX(updated_at_ms) FROM offers")
            .await,
        updated_before
    );
    assert_eq!(
        app.db
            .query_i64("SELECT COUNT(*) FROM jobs WHERE stage = 'import_document'")
            .await,
        [2],
        "no job for a skipped upload"
    );
    let skipped = app
        .read(&format!("/documents/{}", again.body["document_id"]))
        .await;
    assert_eq!(
        (
            skipped.body["status"].clone(),
            skipped.body["reason"].clone()
        ),
        ("skipped".into(), "no_changes".into())
    );

    // The first list again is not "no changes": it brings TS10 back and OP9 leaves.
    let back = upload(
        &app,
        "kamau.xlsx",
        &first_list(),
        &vendor_id.to_string(),
        true,
    )
    .await;
    assert_eq!(back.body["status"], "done", "{:?}", back.body);
    assert_eq!(
        counts(&back.body["document"]),
        [0, 2, 2, 1, 1],
        "{:?}",
        back.body
    );
    assert_eq!(
        app.db
            .query_i64(&format!(
                "SELECT CAST(active AS BIGINT) FROM offers WHERE id = {tecno_id}"
            ))
            .await,
        [1]
    );
    app.finish().await;
}

pub(crate) async fn wait_for_final(app: &TestApp, id: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answer = app.read(&format!("/documents/{id}")).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        if matches!(
            answer.body["status"].as_str(),
            Some("done" | "failed" | "skipped")
        ) {
            return answer.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import did not finish: {:?}",
            answer.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn unreadable_uploads_are_refused_and_every_route_needs_a_token() {
    let app = spawn_app_with(&[
        ("ADMIN_TOKEN", "admin-secret"),
        ("DOCUMENT_MAX_BYTES", "4096"),
    ])
    .await;
    let gif = upload(&app, "photo.gif", b"GIF89a rest", "V", false).await;
    assert_eq!(
        (gif.status, gif.error_code()),
        (415, "unsupported_document"),
        "{:?}",
        gif.body
    );
    let renamed = upload(&app, "list.csv", b"PK\x03\x04 a zip named csv", "V", false).await;
    assert_eq!(renamed.status, 415, "{:?}", renamed.body);
    let corrupt = upload(
        &app,
        "list.xlsx",
        b"PK\x03\x04 this is not a workbook",
        "V",
        false,
    )
    .await;
    assert_refused(&corrupt, 422, "unreadable_document", "cannot be opened");
    let too_big = upload(&app, "big.csv", &vec![b'a'; 5_000], "V", false).await;
    assert_eq!(
        (too_big.status, too_big.error_code()),
        (413, "payload_too_large"),
        "{:?}",
        too_big.body
    );
    // A body far over the cap is cut off while it streams, before the form is parsed.
    let huge = upload(&app, "huge.csv", &vec![b'a'; 100_000], "V", false).await;
    assert_eq!(huge.status, 413, "{:?}", huge.body);
    let auth = format!("Bearer {READ_TOKEN}");
    let json = app
        .post_with(
            "/documents",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            "{}",
        )
        .await;
    assert_eq!(
        (json.status, json.error_code()),
        (415, "unsupported_media_type")
    );
    let long_name = "V".repeat(201);
    let named = upload(&app, "list.csv", b"Item,Price\nA,1\n", &long_name, false).await;
    assert_eq!(named.status, 400, "{:?}", named.body);
    let unknown_vendor = upload(&app, "list.csv", b"Item,Price\nA,1\n", "987654", false).await;
    assert_eq!(unknown_vendor.status, 404, "{:?}", unknown_vendor.body);
    assert_eq!(
        app.db
            .query_i64("SELECT COUNT(*) FROM source_documents")
            .await,
        [0],
        "nothing was stored"
    );
    assert!(
        app.db
            .query_i64("SELECT COUNT(*) FROM vendors WHERE name = 'V'")
            .await[0]
            <= 1
    );

    let (content_type, body) = form(&[
        ("file", Some("a.csv"), b"Item,Price\nA,1\n"),
        ("vendor", None, b"V"),
    ]);
    let anonymous = answer(
        app.client
            .post(app.url("/documents"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(app.get("/documents").await.status, 401);
    assert_eq!(app.get("/documents/1").await.status, 401);
    assert_eq!(app.read("/documents/1").await.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn documents_are_listed_by_vendor_and_status_with_their_row_errors() {
    let app = spawn_app_with(SETTINGS).await;
    let bad = upload(
        &app,
        "notes.csv",
        b"just some,notes\nwithout,a header\n",
        "Amina Stores",
        true,
    )
    .await;
    assert_eq!(bad.body["status"], "failed", "{:?}", bad.body);
    assert!(
        bad.body["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("no_header")),
        "{:?}",
        bad.body
    );
    let vendor_id = bad.body["document"]["vendor_id"].as_i64().expect("vendor");
    let tsv = b"Name\tStock\tPrice\nSugar 2kg\t10\t250\nRice 5kg\tmany\t900\n";
    let good = upload(&app, "stock.tsv", tsv, &vendor_id.to_string(), true).await;
    assert_eq!(good.body["status"], "done", "{:?}", good.body);
    assert_eq!(good.body["document"]["errors"][0]["row"], 3);
    let other = upload(
        &app,
        "other.csv",
        b"Item,Price\nSoap,100\n",
        "Other Shop",
        true,
    )
    .await;
    assert_eq!(other.body["status"], "done");

    let mine = app.read(&format!("/documents?vendor={vendor_id}")).await;
    let ids: Vec<i64> = mine.body["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_i64())
        .collect();
    assert_eq!(
        ids,
        [
            good.body["document_id"].as_i64().unwrap_or(-1),
            bad.body["document_id"].as_i64().unwrap_or(-1)
        ]
    );
    let failed = app.read("/documents?status=failed").await;
    assert_eq!(failed.body["documents"].as_array().map(Vec::len), Some(1));
    let first_page = app.read("/documents?limit=2").await;
    let cursor = first_page.body["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second_page = app
        .read(&format!("/documents?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        second_page.body["documents"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(app.read("/documents?status=lost").await.status, 400);
    assert_eq!(app.read("/documents?cursor=forged").await.status, 400);
    app.finish().await;
}

#[tokio::test]
async fn a_document_whose_import_job_died_is_shown_failed_not_queued_forever() {
    let app = spawn_app_with(&[("ADMIN_TOKEN", "admin-secret"), ("JOB_WORKERS", "0")]).await;
    let queued = upload(&app, "list.csv", b"Item,Price\nSoap,100\n", "Shop", false).await;
    assert_eq!(
        (queued.status, queued.body["status"].clone()),
        (202, "queued".into()),
        "{:?}",
        queued.body
    );
    let id = queued.body["document_id"].as_i64().expect("id");
    assert_eq!(
        app.read(&format!("/documents/{id}")).await.body["status"],
        "queued"
    );
    app.db
        .execute("UPDATE jobs SET state = 'dead', last_error = 'database unavailable' WHERE stage = 'import_document'")
        .await;
    let shown = app.read(&format!("/documents/{id}")).await;
    assert_eq!(shown.body["status"], "failed", "{:?}", shown.body);
    assert_eq!(shown.body["reason"], "job_dead: database unavailable");
    assert!(shown.body["finished_at_ms"].as_i64().is_some());
    let failed = app.read("/documents?status=failed").await;
    assert_eq!(failed.body["documents"].as_array().map(Vec::len), Some(1));
    let queued = app.read("/documents?status=queued").await;
    assert_eq!(queued.body["documents"].as_array().map(Vec::len), Some(0));
    app.finish().await;
}
