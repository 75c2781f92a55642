//! PDF and OCR documents (issue 16) against the real app, on SQLite and PostgreSQL: a text PDF
//! written here with lopdf, a price list rendered to PNG by headless Chromium and read by the
//! real `tesseract`, and the same rendering as a scanned PDF (a JPEG page, rasterised again by
//! `pdftoppm`) become offers of their vendor; OCR that is not installed fails the document with
//! `ocr_unavailable`; a corrupt PDF is refused with 422.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::{
    browser::chromium,
    documents,
    document_fixtures::{scanned_pdf, text_pdf},
    helpers::{Answer, TestApp, spawn_app_with},
};

const SETTINGS: &[(&str, &str)] = &[("JOB_POLL_SECONDS", "0.05")];

/// The lines every rendering shows: a title, three priced rows.
const LINES: [&str; 4] = [
    "KAMAU ELECTRONICS PRICE LIST",
    "Samsung A15 128GB KES 18,500",
    "Tecno Spark 20 KES 14,000",
    "iPhone 12 64GB KES 45,000",
];

/// `LINES` in large black-on-white text, screenshotted by headless Chromium to `file_name`
/// (`.png` or `.jpeg`) at 800×400.
fn render(dir: &Path, file_name: &str) -> Vec<u8> {
    let html = dir.join("list.html");
    let body: String = LINES
        .iter()
        .map(|line| format!("<div>{line}</div>"))
        .collect();
    std::fs::write(
        &html,
        format!(
            "<!doctype html><html><body style=\"margin:24px;background:#fff;color:#000;\
             font:32px/1.5 'DejaVu Sans',Arial,sans-serif\">{body}</body></html>"
        ),
    )
    .expect("html");
    let out = dir.join(file_name);
    let shot = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=800,400",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    assert!(
        shot.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    std::fs::read(&out).expect("screenshot written")
}

async fn upload(app: &TestApp, file_name: &str, bytes: &[u8], processor: Option<&str>) -> Answer {
    let mut fields: Vec<(&str, Option<&str>, &[u8])> = vec![
        ("file", Some(file_name), bytes),
        ("vendor", None, b"Kamau Electronics"),
    ];
    if let Some(processor) = processor {
        fields.push(("processor", None, processor.as_bytes()));
    }
    documents::post_form(app, &fields, true).await
}

/// (title, price, currency, source_row) of the vendor's listed offers, sorted by row.
async fn offers(app: &TestApp, document: &Value) -> Vec<(String, String, String, i64)> {
    let vendor_id = document["vendor_id"].as_i64().expect("vendor");
    let page = app.read(&format!("/offers?vendor_id={vendor_id}")).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let mut offers: Vec<(String, String, String, i64)> = page.body["offers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            assert_eq!(o["source_document_id"], document["id"], "{o}");
            (
                o["title"].as_str().unwrap_or("").to_owned(),
                o["price"].as_str().unwrap_or("").to_owned(),
                o["currency"].as_str().unwrap_or("").to_owned(),
                o["source_row"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    offers.sort_by_key(|o| o.3);
    offers
}

fn done(answer: &Answer, processor: &str) -> Value {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "done", "{:?}", answer.body);
    let document = answer.body["document"].clone();
    assert_eq!(document["processor"], processor, "{document}");
    document
}

fn prices(offers: &[(String, String, String, i64)]) -> Vec<&str> {
    offers.iter().map(|o| o.1.as_str()).collect()
}

#[tokio::test]
async fn a_text_pdf_becomes_offers_and_an_unreadable_priced_line_an_error() {
    let app = spawn_app_with(SETTINGS).await;
    let bytes = text_pdf(&[
        &LINES[..3],
        &[LINES[3], "Oppo A78 KES call", "Delivery within Nairobi"],
    ]);
    let answer = upload(&app, "kamau.pdf", &bytes, None).await;
    let document = done(&answer, "pdf");
    assert_eq!(document["media_type"], "application/pdf");
    assert_eq!(document["created_count"], 3, "{document}");
    assert_eq!(
        document["errors"],
        serde_json::json!([{"row": 5, "sheet": "page 2", "reason": "the line names a price that cannot be read as an item and an amount"}])
    );
    let offers = offers(&app, &document).await;
    let expected = [
        ("Samsung A15 128GB", "18500", "KES", 2),
        ("Tecno Spark 20", "14000", "KES", 3),
        ("iPhone 12 64GB", "45000", "KES", 4),
    ];
    let got: Vec<(&str, &str, &str, i64)> = offers
        .iter()
        .map(|(t, p, c, r)| (t.as_str(), p.as_str(), c.as_str(), *r))
        .collect();
    assert_eq!(got, expected);

    // The CLI's name for the processor is an alias; a price change is applied by difference.
    let next = text_pdf(&[&["Samsung A15 128GB KES 17,900", LINES[2], LINES[3]]]);
    let answer = upload(&app, "kamau-week2.pdf", &next, Some("document_text")).await;
    let document = done(&answer, "pdf");
    let counts: Vec<i64> = [
        "created_count",
        "updated_count",
        "unchanged_count",
        "removed_count",
    ]
    .iter()
    .map(|k| document[*k].as_i64().unwrap_or(-1))
    .collect();
    assert_eq!(counts, [0, 1, 2, 0], "{document}");
    app.finish().await;
}

#[tokio::test]
async fn a_rendered_price_list_image_and_a_scanned_pdf_are_read_through_ocr() {
    let dir = tempfile::tempdir().expect("dir");
    let png = render(dir.path(), "list.png");
    let app = spawn_app_with(SETTINGS).await;
    let answer = upload(&app, "whatsapp-photo.png", &png, None).await;
    let document = done(&answer, "ocr");
    assert_eq!(document["media_type"], "image/png");
    let read = offers(&app, &document).await;
    assert_eq!(prices(&read), ["18500", "14000", "45000"], "{read:?}");
    assert!(read[0].0.contains("Samsung A15"), "{read:?}");

    // The same list scanned into a PDF (a JPEG page, no text layer): pdftoppm, then tesseract.
    let jpeg = render(dir.path(), "list.jpeg");
    let scan = scanned_pdf(&jpeg, 800, 400);
    let other = spawn_app_with(SETTINGS).await;
    let answer = upload(&other, "scan.pdf", &scan, None).await;
    let document = done(&answer, "pdf");
    let read = offers(&other, &document).await;
    assert_eq!(prices(&read), ["18500", "14000", "45000"], "{read:?}");
    // Forced through OCR as a PDF, the same result.
    let forced = upload(
        &other,
        "scan-again.pdf",
        &[scan.as_slice(), b"\n"].concat(),
        Some("ocr"),
    )
    .await;
    let document = done(&forced, "ocr");
    assert_eq!(document["unchanged_count"], 3, "{document}");
    app.finish().await;
    other.finish().await;
}

#[tokio::test]
async fn without_ocr_an_image_fails_with_ocr_unavailable() {
    let mut settings = SETTINGS.to_vec();
    settings.push(("DOCUMENT_OCR_COMMAND", "/nonexistent/bin/tesseract"));
    let app = spawn_app_with(&settings).await;
    let answer = upload(&app, "photo.jpg", b"\xFF\xD8\xFF\xE0 a photo", None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "failed", "{:?}", answer.body);
    let reason = answer.body["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("ocr_unavailable: "), "{reason}");
    assert!(reason.contains("tesseract"), "{reason}");
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers").await, [0]);
    app.finish().await;
}

#[tokio::test]
async fn a_corrupt_pdf_is_refused_with_422_and_a_mismatched_processor_with_400() {
    let app = spawn_app_with(SETTINGS).await;
    let corrupt = upload(
        &app,
        "list.pdf",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog",
        None,
    )
    .await;
    documents::assert_refused(&corrupt, 422, "unreadable_document", "PDF");
    let renamed = upload(&app, "list.pdf", b"PK\x03\x04 a zip", None).await;
    assert_eq!(
        (renamed.status, renamed.error_code()),
        (415, "unsupported_document"),
        "{:?}",
        renamed.body
    );
    let unsuited = upload(&app, "list.csv", b"Item,Price\nSugar,250\n", Some("ocr")).await;
    assert_eq!(
        (unsuited.status, unsuited.error_code()),
        (400, "unsuited_processor"),
        "{:?}",
        unsuited.body
    );
    assert_eq!(
        app.db
            .query_i64("SELECT COUNT(*) FROM source_documents")
            .await,
        [0]
    );
    app.finish().await;
}
