//! LLM normalisation of vendor documents (`prefer_llm`, issue 16) against the real app, on SQLite
//! and PostgreSQL, with an OpenAI-compatible server on a real socket. The server is scripted: it
//! answers for the rows it is sent as a model would (a tidy reading, an invented price, nothing
//! for a note), so the test can check what the gateway does with each answer: only the rows the
//! rules could not read are sent, a reading whose price is not written in its row is refused, a
//! sheet without a header can still be read, an outage retries the import instead of removing
//! offers, and `prefer_llm` without a configured LLM is refused.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::documents::{counts, listed, post_form, upload, wait_for_final};
use crate::documents_files::ingest_cli_with;
use crate::helpers::{TestApp, TestDatabase, serve_on_loopback, spawn_app_with};

/// A price list: one row the rules read, three they cannot (no price column value, a price in
/// words, a quantity in words).
const LIST: &str = "Kamau Phones,,\nItem,Price (KES),Qty\niPhone 12 64GB,\"45,000\",3\n\
    Samsung A14 - now only KSh 18.5k,,\nTecno Spark 10,call for price,\nOppo A17,\"16,000\",two\n";

/// No header at all: a pasted chat list.
const HEADLESS: &str = "Sugar 2kg @ 250 bob\nRice 5kg going for 1250 bob\nDelivery across Nairobi\n";

#[derive(Default)]
struct Scripted {
    requests: Mutex<Vec<(Option<String>, Value)>>,
    hits: AtomicUsize,
    down: AtomicBool,
}

/// What the scripted model answers for a row, by its first cell.
fn reading(first_cell: &str) -> Option<Value> {
    let item = |title: &str, price: &str, quantity: Option<i64>| {
        json!({"title": title, "sku": null, "price": price, "currency": null, "quantity": quantity, "condition": null})
    };
    match first_cell {
        "Samsung A14 - now only KSh 18.5k" => Some(item("Samsung A14", "18500", None)),
        // A guess: the row has no price, so the gateway must refuse it.
        "Tecno Spark 10" => Some(item("Tecno Spark 10", "12500", None)),
        "Oppo A17" => Some(item("Oppo A17", "16000", Some(2))),
        "Sugar 2kg @ 250 bob" => Some(item("Sugar 2kg", "250", None)),
        "Rice 5kg going for 1250 bob" => Some(item("Rice 5kg", "1250", None)),
        _ => None,
    }
}

async fn completions(request: HttpRequest, body: web::Json<Value>, state: web::Data<Scripted>) -> HttpResponse {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let auth = request.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.requests.lock().expect("lock").push((auth, body.0.clone()));
    if state.down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let sent: Value = body["messages"][1]["content"].as_str().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    let rows: Vec<Value> = sent["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let mut item = reading(row["cells"][0].as_str().unwrap_or(""))?;
            item["id"] = row["id"].clone();
            Some(item)
        })
        .collect();
    let content = json!({ "rows": rows }).to_string();
    HttpResponse::Ok().json(json!({"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}))
}

struct LlmServer {
    base: String,
    state: Arc<Scripted>,
    handle: actix_web::dev::ServerHandle,
}

impl LlmServer {
    async fn start() -> LlmServer {
        let state = Arc::new(Scripted::default());
        let data = web::Data::from(state.clone());
        let routes = move |app: &mut web::ServiceConfig| {
            app.app_data(data.clone()).route("/v1/chat/completions", web::post().to(completions));
        };
        let (root, handle) = serve_on_loopback(routes, 1);
        LlmServer { base: format!("{root}/v1"), state, handle }
    }

    /// The first cell of every row sent, in order.
    fn sent_rows(&self) -> Vec<String> {
        let requests = self.state.requests.lock().expect("lock");
        requests
            .iter()
            .flat_map(|(_, body)| {
                let sent: Value = serde_json::from_str(body["messages"][1]["content"].as_str().unwrap_or("{}")).unwrap_or_default();
                sent["rows"].as_array().cloned().unwrap_or_default()
            })
            .map(|row| row["cells"][0].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

async fn app_with_llm(server: &LlmServer) -> TestApp {
    spawn_app_with(&[
        ("ADMIN_TOKEN", "admin-secret"),
        ("JOB_POLL_SECONDS", "0.05"),
        ("QC_PROVIDER", "openai"),
        ("QC_BASE_URL", server.base.as_str()),
        ("QC_MODEL", "scripted-model"),
        ("QC_API_KEY", "llm-secret-key"),
    ])
    .await
}

async fn upload_llm(app: &TestApp, file_name: &str, bytes: &[u8], vendor: &str, wait: bool) -> crate::helpers::Answer {
    post_form(app, &[("file", Some(file_name), bytes), ("vendor", None, vendor.as_bytes()), ("prefer_llm", None, b"true")], wait).await
}

/// The `/admin/documents` page as a browser gets it.
async fn admin_page(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/admin/documents"))
        .basic_auth("admin", Some("admin-secret"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(response.status(), 200);
    response.text().await.expect("html")
}

fn row_errors(document: &Value) -> Vec<(Option<i64>, String)> {
    document["errors"].as_array().into_iter().flatten().map(|e| (e["row"].as_i64(), e["reason"].as_str().unwrap_or("").to_owned())).collect()
}

#[tokio::test]
async fn prefer_llm_reads_only_the_unread_rows_and_keeps_only_grounded_answers() {
    let server = LlmServer::start().await;
    let app = app_with_llm(&server).await;

    // Without prefer_llm the rules alone read the list, and the LLM is never called.
    let plain = upload(&app, "kamau.csv", LIST.as_bytes(), "Kamau Phones", true).await;
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    let document = &plain.body["document"];
    assert_eq!(counts(document), [1, 0, 0, 0, 3], "{document}");
    assert_eq!((document["prefer_llm"].as_bool(), document["llm_rows"].as_i64()), (Some(false), Some(0)));
    assert_eq!(server.state.hits.load(Ordering::SeqCst), 0);
    let vendor_id = document["vendor_id"].as_i64().expect("vendor id");

    // The same bytes with prefer_llm are read again (not skipped): one request, with the key,
    // the model, and only the three unread rows under their header.
    let llm = upload_llm(&app, "kamau.csv", LIST.as_bytes(), "Kamau Phones", true).await;
    assert_eq!(llm.status, 200, "{:?}", llm.body);
    let document = &llm.body["document"];
    assert_eq!(document["status"], "done", "{document}");
    assert_eq!(counts(document), [2, 0, 1, 0, 1], "{document}");
    assert_eq!((document["prefer_llm"].as_bool(), document["llm_rows"].as_i64()), (Some(true), Some(2)));
    assert_eq!(server.state.hits.load(Ordering::SeqCst), 1);
    assert_eq!(server.sent_rows(), ["Samsung A14 - now only KSh 18.5k", "Tecno Spark 10", "Oppo A17"]);
    {
        let requests = server.state.requests.lock().expect("lock");
        let (auth, body) = &requests[0];
        assert_eq!(auth.as_deref(), Some("Bearer llm-secret-key"));
        assert_eq!(body["model"], "scripted-model");
        let sent: Value = serde_json::from_str(body["messages"][1]["content"].as_str().expect("text")).expect("json");
        assert_eq!(sent["rows"][0]["columns"], json!(["Item", "Price (KES)", "Qty"]));
    }
    // The invented price is refused and the row keeps its own error, with the reason added.
    let errors = row_errors(document);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, Some(5));
    assert!(errors[0].1.contains("call for price") && errors[0].1.contains("12500 is not written in the row"), "{errors:?}");
    assert_eq!(
        listed(&app, vendor_id).await,
        [
            ("Oppo A17".to_owned(), "16000".to_owned(), "KES".to_owned()),
            ("Samsung A14".to_owned(), "18500".to_owned(), "KES".to_owned()),
            ("iPhone 12 64GB".to_owned(), "45000".to_owned(), "KES".to_owned()),
        ]
    );
    let offers = app.read(&format!("/offers?document_id={}", document["id"])).await;
    let oppo = offers.body["offers"].as_array().into_iter().flatten().find(|o| o["title"] == "Oppo A17").cloned().unwrap_or_default();
    assert_eq!((oppo["source_row"].as_i64(), oppo["quantity"].as_i64()), (Some(6), Some(2)), "{oppo}");

    // The admin form offers prefer_llm, and the list says what the LLM read.
    let page = admin_page(&app).await;
    assert!(page.contains(r#"name="prefer_llm""#) && page.contains("2 read by the LLM"), "{page}");

    // The same bytes with prefer_llm again: skipped, and no request.
    let again = upload_llm(&app, "kamau.csv", LIST.as_bytes(), "Kamau Phones", false).await;
    assert_eq!((again.status, again.body["status"].as_str()), (200, Some("skipped")), "{:?}", again.body);
    assert_eq!(server.state.hits.load(Ordering::SeqCst), 1);

    // A sheet without a header fails without the LLM, and is read with it (the note is left out).
    let headless = upload(&app, "pasted.csv", HEADLESS.as_bytes(), "Mama Mboga", true).await;
    assert_eq!(headless.body["document"]["status"], "failed", "{:?}", headless.body);
    assert!(headless.body["document"]["reason"].as_str().unwrap_or("").starts_with("no_header"), "{:?}", headless.body);
    let read = upload_llm(&app, "pasted.csv", HEADLESS.as_bytes(), "Mama Mboga", true).await;
    let document = &read.body["document"];
    assert_eq!((document["status"].as_str(), document["llm_rows"].as_i64()), (Some("done"), Some(2)), "{document}");
    let mboga = document["vendor_id"].as_i64().expect("vendor id");
    assert_eq!(
        listed(&app, mboga).await,
        [("Rice 5kg".to_owned(), "1250".to_owned(), "KES".to_owned()), ("Sugar 2kg".to_owned(), "250".to_owned(), "KES".to_owned())]
    );
    app.finish().await;
    server.handle.stop(false).await;
}

#[tokio::test]
async fn an_llm_outage_retries_the_import_and_never_removes_what_the_llm_had_read() {
    let server = LlmServer::start().await;
    let app = app_with_llm(&server).await;
    let first = upload_llm(&app, "kamau.csv", LIST.as_bytes(), "Kamau Phones", true).await;
    assert_eq!(counts(&first.body["document"]), [3, 0, 0, 0, 1], "{:?}", first.body);
    let vendor_id = first.body["document"]["vendor_id"].as_i64().expect("vendor id");

    // The server goes down; a new version of the list is uploaded. Its import waits for the LLM
    // (the job retries), and meanwhile the offers the LLM had read stay listed.
    server.state.down.store(true, Ordering::SeqCst);
    let second_list = LIST.replace("\"45,000\"", "\"44,000\"");
    let second = upload_llm(&app, "kamau.csv", second_list.as_bytes(), "Kamau Phones", false).await;
    assert_eq!(second.status, 202, "{:?}", second.body);
    let id = second.body["document_id"].as_i64().expect("document id");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while server.state.hits.load(Ordering::SeqCst) < 3 {
        assert!(std::time::Instant::now() < deadline, "the import was not retried");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let waiting = app.read(&format!("/documents/{id}")).await;
    assert!(matches!(waiting.body["status"].as_str(), Some("queued" | "processing")), "{:?}", waiting.body);
    assert_eq!(listed(&app, vendor_id).await.len(), 3, "nothing removed while the LLM is down");
    let job = app.db.query_texts(&format!("SELECT last_error FROM jobs WHERE stage = 'import_document' AND dedupe_key = '{id}'")).await;
    let job = job.into_iter().next().flatten().unwrap_or_default();
    assert!(job.contains("HTTP 503") && !job.contains("llm-secret-key") && !job.contains("127.0.0.1"), "{job}");

    // Back up: the next attempt applies the new version in full.
    server.state.down.store(false, Ordering::SeqCst);
    let done = wait_for_final(&app, id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(counts(&done), [0, 1, 2, 0, 1], "{done}");
    assert!(listed(&app, vendor_id).await.contains(&("iPhone 12 64GB".to_owned(), "44000".to_owned(), "KES".to_owned())));
    app.finish().await;
    server.handle.stop(false).await;
}

#[tokio::test]
async fn prefer_llm_is_refused_without_an_llm_or_for_a_file_the_rules_read_as_text() {
    let plain = spawn_app_with(&[("ADMIN_TOKEN", "admin-secret"), ("JOB_POLL_SECONDS", "0.05")]).await;
    let refused = upload_llm(&plain, "kamau.csv", LIST.as_bytes(), "Kamau Phones", false).await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert!(refused.error_message().contains("QC_PROVIDER=openai"), "{:?}", refused.body);
    let bad_value = post_form(&plain, &[("file", Some("k.csv"), LIST.as_bytes()), ("vendor", None, b"Kamau"), ("prefer_llm", None, b"perhaps")], false).await;
    assert_eq!(bad_value.status, 400, "{:?}", bad_value.body);
    assert_eq!(plain.db.query_i64("SELECT COUNT(*) FROM source_documents").await, [0], "nothing stored");
    assert!(!admin_page(&plain).await.contains("prefer_llm"), "no LLM, no checkbox");
    plain.finish().await;

    let server = LlmServer::start().await;
    let app = app_with_llm(&server).await;
    let chat = "12/01/2024, 10:00 - Kamau: iPhone 12 64GB 45k\n";
    let refused = upload_llm(&app, "WhatsApp Chat with Kamau.txt", chat.as_bytes(), "Kamau Phones", false).await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert!(refused.error_message().contains("spreadsheets"), "{:?}", refused.body);
    app.finish().await;
    server.handle.stop(false).await;
}

#[tokio::test]
async fn the_ingest_command_takes_prefer_llm_and_prints_what_the_llm_read() {
    let server = LlmServer::start().await;
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("kamau.csv");
    std::fs::write(&list, LIST).expect("write list");
    let path = list.to_str().expect("utf-8 path").to_owned();
    let base = server.base.clone();
    // The command blocks; the scripted server answers on this test's runtime meanwhile.
    let (db, (code, out, err)) = tokio::task::spawn_blocking(move || {
        let env = [("QC_PROVIDER", "openai"), ("QC_BASE_URL", base.as_str()), ("QC_MODEL", "scripted-model")];
        let ran = ingest_cli_with(&db, &env, &[&path, "--vendor", "Kamau Phones", "--option", "prefer_llm=true"]);
        (db, ran)
    })
    .await
    .expect("the command ran");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created=3 updated=0 unchanged=0 removed=0 errors=1 llm_rows=2"), "{out}");
    assert!(out.contains("row 5: price \"call for price\" is not a number; the LLM's price 12500 is not written in the row"), "{out}");
    assert_eq!(server.state.hits.load(Ordering::SeqCst), 1);
    db.drop_database().await;
    server.handle.stop(false).await;
}
