//! The files around vendor documents, against the real app on SQLite and PostgreSQL: an upload is
//! kept in the document store (`INGESTION_STORAGE_DIR`) and given back byte for byte at
//! `GET /documents/{id}/file`; the `.xlsx` template imports as its two example offers;
//! `GET /offers?document_id=` lists one document's rows; a legacy `.xls` workbook (written by the
//! PyPI `xlwt` package) and an OpenDocument `.ods` (written by `odfpy`) are read like the others;
//! and `gateway ingest` imports from the command line.

use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::documents::{counts, upload};
use crate::helpers::{READ_TOKEN, TOKEN, TestApp, TestDatabase, spawn_app_with, start_on};

const SETTINGS: &[(&str, &str)] = &[("ADMIN_TOKEN", "admin-secret"), ("JOB_POLL_SECONDS", "0.05")];

const LIST: &str = "SKU,Description,Price (KES),Qty\nIP12,iPhone 12 64GB,\"45,000\",3\nSA14,Samsung Galaxy A14,\"18,500\",5\n";

async fn raw_get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

fn document_id(answer: &Value) -> i64 {
    answer["document_id"].as_i64().expect("a document id")
}

#[tokio::test]
async fn uploads_are_kept_in_the_store_and_the_template_imports_as_its_examples() {
    let app = spawn_app_with(SETTINGS).await;
    let first = upload(&app, "kamau.csv", LIST.as_bytes(), "Kamau Electronics", true).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let id = document_id(&first.body);

    // The bytes are in the store under their content address, and come back unchanged.
    let sha = hex::encode(Sha256::digest(LIST.as_bytes()));
    let kept = std::fs::read(app.db.storage_dir.join("documents").join(&sha)).expect("the artefact is on disk");
    assert_eq!(kept, LIST.as_bytes());
    let file = raw_get(&app, &format!("/documents/{id}/file"), Some(READ_TOKEN)).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "text/csv");
    assert_eq!(file.headers()["content-disposition"], "attachment; filename=\"kamau.csv\"");
    assert_eq!(file.bytes().await.expect("body").as_ref(), LIST.as_bytes());
    assert_eq!(raw_get(&app, &format!("/documents/{id}/file"), None).await.status(), 401);
    assert_eq!(raw_get(&app, "/documents/99999/file", Some(READ_TOKEN)).await.status(), 404);

    // The template: a workbook with the standard headers, importing as its two example rows.
    let template = raw_get(&app, "/documents/templates/vendor-price", Some(READ_TOKEN)).await;
    assert_eq!(template.status(), 200);
    assert_eq!(template.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let template = template.bytes().await.expect("template bytes");
    assert!(template.starts_with(b"PK"), "an xlsx is a zip");
    assert_eq!(raw_get(&app, "/documents/templates/vendor-price", None).await.status(), 401);
    let imported = upload(&app, "vendor-price-template.xlsx", &template, "Template Vendor", true).await;
    assert_eq!(imported.status, 200, "{:?}", imported.body);
    assert_eq!(counts(&imported.body["document"]), [2, 0, 0, 0, 0], "{:?}", imported.body);
    let template_id = document_id(&imported.body);

    // `document_id` narrows the offers to one document's rows.
    let page = app.read(&format!("/offers?document_id={template_id}")).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let mut titles: Vec<(&str, &str)> = page.body["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| {
            assert_eq!(o["source_document_id"].as_i64(), Some(template_id), "{o}");
            (o["title"].as_str().unwrap_or(""), o["price"].as_str().unwrap_or(""))
        })
        .collect();
    titles.sort();
    assert_eq!(titles, [("Samsung Galaxy A15 128GB", "18500"), ("iPhone 12 64GB", "45000")]);
    let other = app.read(&format!("/offers?document_id={id}")).await;
    assert_eq!(other.body["offers"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.read("/offers?document_id=abc").await.status, 422);
    app.finish().await;
}

/// A `.xls` (BIFF8) workbook written by xlwt, the format old office suites still send.
fn xls(path: &std::path::Path) {
    let script = r#"
import sys, xlwt
book = xlwt.Workbook()
sheet = book.add_sheet("Bei")
sheet.write_merge(0, 0, 0, 3, "DUKA LA SIMU - PRICE LIST")
for c, h in enumerate(["Item Code", "Name", "Price (KES)", "Stock"]):
    sheet.write(2, c, h)
sheet.write(3, 0, "TCL-30"); sheet.write(3, 1, "TCL 30 SE 64GB"); sheet.write(3, 2, 13500); sheet.write(3, 3, 7)
sheet.write(4, 0, "NK-105"); sheet.write(4, 1, "Nokia 105"); sheet.write(4, 2, "2,300"); sheet.write(4, 3, 40)
sheet.write(5, 0, "BAD"); sheet.write(5, 1, "Mystery phone"); sheet.write(5, 2, "call me"); sheet.write(5, 3, 1)
book.save(sys.argv[1])
"#;
    python_writes(script, path, "xlwt");
}

/// Runs `script` with `path` as its argument; `package` (installed by
/// `scripts/setup-test-env.sh`) writes the file.
fn python_writes(script: &str, path: &std::path::Path, package: &str) {
    let status = Command::new("python3").arg("-c").arg(script).arg(path).status().expect("python3 runs");
    assert!(status.success(), "{package} wrote the workbook (scripts/setup-test-env.sh installs it)");
}

/// An OpenDocument spreadsheet written by odfpy: a title row and a blank row above the header on
/// the first sheet, a price with thousands separators, a row without a price, and a second sheet.
fn ods(path: &std::path::Path) {
    let script = r#"
import sys
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableRow, TableCell
from odf.text import P
doc = OpenDocumentSpreadsheet()
for name, rows in [
    ("Simu", [["MAMA MBOGA PHONES - PRICE LIST"], [], ["Code", "Name", "Price (UGX)", "Qty"],
              ["TEC-S10", "Tecno Spark 10", 450000, 4], ["ITL-A70", "itel A70", "320,000", 9],
              ["BAD", "Mystery phone", "ask", 1]]),
    ("Vifaa", [["Code", "Name", "Price (UGX)", "Qty"], ["CHG-20", "Oraimo charger 20W", 35000, 30]]),
]:
    table = Table(name=name)
    for values in rows:
        row = TableRow()
        for v in values:
            number = isinstance(v, int)
            c = TableCell(valuetype="float", value=v) if number else TableCell(valuetype="string")
            c.addElement(P(text=str(v)))
            row.addElement(c)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
doc.save(sys.argv[1])
"#;
    python_writes(script, path, "odfpy");
}

#[tokio::test]
async fn an_opendocument_spreadsheet_is_read_sheet_by_sheet_with_its_bad_row_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("simu.ods");
    ods(&path);
    let bytes = std::fs::read(&path).expect("ods bytes");
    let app = spawn_app_with(SETTINGS).await;
    let answer = upload(&app, "simu.ods", &bytes, "Mama Mboga Phones", true).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let document = &answer.body["document"];
    assert_eq!(document["media_type"], "application/vnd.oasis.opendocument.spreadsheet", "{document}");
    assert_eq!(document["processor"], "spreadsheet", "{document}");
    assert_eq!(counts(document), [3, 0, 0, 0, 1], "{document}");
    let errors = document["errors"].as_array().expect("errors");
    assert_eq!((errors[0]["row"].as_i64(), errors[0]["sheet"].as_str()), (Some(6), Some("Simu")), "{errors:?}");
    let page = app.read(&format!("/offers?document_id={}", document_id(&answer.body))).await;
    let mut read: Vec<(String, String, String, i64)> = page.body["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| {
            let text = |k: &str| o[k].as_str().unwrap_or("").to_owned();
            (text("title"), text("price"), text("currency"), o["quantity"].as_i64().unwrap_or(-1))
        })
        .collect();
    read.sort();
    let row = |t: &str, p: &str, q: i64| (t.to_owned(), p.to_owned(), "UGX".to_owned(), q);
    assert_eq!(
        read,
        [row("Oraimo charger 20W", "35000", 30), row("Tecno Spark 10", "450000", 4), row("itel A70", "320000", 9)]
    );
    app.finish().await;
}

#[tokio::test]
async fn a_legacy_xls_workbook_is_read_with_its_bad_row_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bei.xls");
    xls(&path);
    let bytes = std::fs::read(&path).expect("xls bytes");
    assert!(bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]), "an OLE2 compound file");
    let app = spawn_app_with(SETTINGS).await;
    let answer = upload(&app, "bei.xls", &bytes, "Duka la Simu", true).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let document = &answer.body["document"];
    assert_eq!(document["media_type"], "application/vnd.ms-excel", "{document}");
    assert_eq!(counts(document), [2, 0, 0, 0, 1], "{document}");
    let errors = document["errors"].as_array().expect("errors");
    assert_eq!((errors[0]["row"].as_i64(), errors[0]["sheet"].as_str()), (Some(6), Some("Bei")), "{errors:?}");
    let page = app.read(&format!("/offers?document_id={}", document_id(&answer.body))).await;
    let mut read: Vec<(String, String, i64)> = page.body["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| (o["title"].as_str().unwrap_or("").to_owned(), o["price"].as_str().unwrap_or("").to_owned(), o["quantity"].as_i64().unwrap_or(-1)))
        .collect();
    read.sort();
    assert_eq!(read, [("Nokia 105".to_owned(), "2300".to_owned(), 40), ("TCL 30 SE 64GB".to_owned(), "13500".to_owned(), 7)]);
    app.finish().await;
}

/// `gateway ingest` against the test's database, with the environment a gateway would have.
/// On SQLite the embedded database belongs to one process at a time, so no app runs beside it.
fn ingest_cli(db: &TestDatabase, args: &[&str]) -> (i32, String, String) {
    ingest_cli_with(db, &[], args)
}

/// `gateway ingest` with `env` beside the database settings: (exit code, stdout, stderr).
pub(crate) fn ingest_cli_with(db: &TestDatabase, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WHATSAPP_INGEST_TOKEN", TOKEN)
        .env("DATABASE_URL", &db.url)
        .env("INGESTION_STORAGE_DIR", &db.storage_dir)
        .envs(env.iter().copied())
        .arg("ingest")
        .args(args)
        .output()
        .expect("the gateway binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test]
async fn the_ingest_command_imports_a_file_and_says_what_it_did() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("list.csv");
    std::fs::write(&list, LIST).expect("write list");
    let path = list.to_str().expect("utf-8 path");

    let (code, out, err) = ingest_cli(&db, &[path, "--vendor", "Cli Vendor"]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains(" done\n") && out.contains("created=2 updated=0 unchanged=0 removed=0 errors=0"), "{out}");
    let vendor_id = db.query_i64("SELECT id FROM vendors WHERE name = 'Cli Vendor'").await[0];

    // The same bytes again, the vendor named by id: skipped, nothing written but the document row.
    let (code, out, _) = ingest_cli(&db, &[path, "--vendor", &vendor_id.to_string()]);
    assert_eq!((code, out.contains(" skipped\n"), out.contains("reason no_changes")), (0, true, true), "{out}");

    // A changed price; the name matches the vendor whatever its case.
    std::fs::write(&list, LIST.replace("\"18,500\"", "\"17,900\"")).expect("rewrite");
    let (code, out, _) = ingest_cli(&db, &[path, "--vendor", "cli vendor"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("created=0 updated=1 unchanged=1 removed=0 errors=0"), "{out}");

    // Refusals: an unknown format, prefer_llm without an LLM configured, a missing file.
    let junk = dir.path().join("notes.bin");
    std::fs::write(&junk, [0u8, 159, 146, 150, 1, 2, 3]).expect("write junk");
    let (code, _, err) = ingest_cli(&db, &[junk.to_str().expect("path"), "--vendor", "Cli Vendor"]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("refused"), "{err}");
    let (code, _, err) = ingest_cli(&db, &[path, "--vendor", "Cli Vendor", "--option", "prefer_llm=true"]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("prefer_llm"), "{err}");
    let (code, _, err) = ingest_cli(&db, &["/nonexistent/list.csv", "--vendor", "Cli Vendor"]);
    assert_eq!(code, 65, "{err}");

    // What the command did is what the gateway shows.
    let app = start_on(db, SETTINGS).await;
    let documents = app.read(&format!("/documents?vendor={vendor_id}")).await;
    let statuses: Vec<&str> = documents.body["documents"].as_array().expect("documents").iter().filter_map(|d| d["status"].as_str()).collect();
    assert_eq!(statuses, ["done", "skipped", "done"], "newest first");
    let page = app.read(&format!("/offers?vendor_id={vendor_id}")).await;
    let mut prices: Vec<&str> = page.body["offers"].as_array().expect("offers").iter().filter_map(|o| o["price"].as_str()).collect();
    prices.sort_unstable();
    assert_eq!(prices, ["17900", "45000"], "{:?}", page.body);
    app.finish().await;
}

#[tokio::test]
async fn a_workbook_that_expands_past_the_limit_is_refused_before_it_is_stored() {
    let app = spawn_app_with(&[("DOCUMENT_MAX_EXPANDED_BYTES", "4096"), ("JOB_POLL_SECONDS", "0.05")]).await;
    let template = raw_get(&app, "/documents/templates/vendor-price", Some(READ_TOKEN)).await;
    let template = template.bytes().await.expect("template bytes");
    let answer = upload(&app, "list.xlsx", &template, "Tiny Limit Vendor", true).await;
    assert_eq!(answer.status, 413, "{:?}", answer.body);
    assert_eq!(answer.error_code(), "document_too_large");
    assert!(answer.error_message().contains("4096 bytes"), "{:?}", answer.body);
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM source_documents").await, [0], "nothing stored");
    // A CSV is no zip: the expansion limit does not apply to it.
    assert_eq!(upload(&app, "list.csv", LIST.as_bytes(), "Tiny Limit Vendor", true).await.status, 200);
    app.finish().await;
}
