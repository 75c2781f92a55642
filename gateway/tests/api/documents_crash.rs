//! `kill -9` during a vendor import (issue 16): the real `gateway` binary is killed while its
//! import job is `processing` a large price list. The vendor's previous snapshot is intact (the
//! diff commits with the job, in one transaction); after a restart the job runs again, and the
//! vendor ends exactly where an uninterrupted import of the same two files ends.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crash::{free_port, start_gateway_with};
use crate::documents::form;
use crate::helpers::{READ_TOKEN, TestDatabase, answer};

/// `rows` priced lines; the first `changed` carry a second price.
fn price_list(rows: usize, changed: usize) -> Vec<u8> {
    let mut csv = String::from("SKU,Description,Price (KES),Qty\n");
    for i in 0..rows {
        let price = if i < changed { 2_000 + i } else { 1_000 + i };
        csv.push_str(&format!("SKU-{i:06},Phone model {i} 64GB,{price},{}\n", 1 + i % 9));
    }
    csv.into_bytes()
}

async fn post(client: &reqwest::Client, base: &str, file: &[u8], vendor: &str, wait: bool) -> Value {
    let (content_type, body) = form(&[("file", Some("list.csv"), file), ("vendor", None, vendor.as_bytes())]);
    let path = if wait { "/documents?wait=true" } else { "/documents" };
    let response = client
        .post(format!("{base}{path}"))
        .header("content-type", content_type)
        .bearer_auth(READ_TOKEN)
        .body(body)
        .send()
        .await
        .expect("upload sent");
    let answer = answer(response).await;
    assert!(matches!(answer.status, 200 | 202), "{:?}", answer.body);
    answer.body
}

async fn document(client: &reqwest::Client, base: &str, id: i64) -> Value {
    let response = client.get(format!("{base}/documents/{id}")).bearer_auth(READ_TOKEN).send().await.expect("read");
    answer(response).await.body
}

async fn until_final(client: &reqwest::Client, base: &str, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let body = document(client, base, id).await;
        if matches!(body["status"].as_str(), Some("done" | "failed" | "skipped")) {
            return body;
        }
        assert!(Instant::now() < deadline, "the import did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn counts(document: &Value) -> Vec<i64> {
    ["created_count", "updated_count", "unchanged_count", "removed_count", "error_count"]
        .iter()
        .map(|k| document[k].as_i64().unwrap_or(-1))
        .collect()
}

#[tokio::test]
async fn a_kill_during_an_import_keeps_the_old_snapshot_and_the_rerun_ends_like_an_uninterrupted_import() {
    const ROWS: usize = 20_000;
    let first = price_list(2_000, 0);
    let second = price_list(ROWS, 500);
    let db = TestDatabase::create().await;
    let storage = db.storage_dir.display().to_string();
    let settings = [
        ("INGESTION_STORAGE_DIR", storage.as_str()),
        ("API_READ_TOKEN", READ_TOKEN),
        ("JOB_POLL_SECONDS", "0.05"),
        ("JOB_LEASE_SECONDS", "2"),
    ];
    let client = reqwest::Client::builder().timeout(Duration::from_secs(200)).build().expect("client");
    let mut gateway = start_gateway_with(&db, free_port(), &settings).await;

    let done = post(&client, &gateway.base, &first, "Killed Vendor", true).await;
    assert_eq!(done["status"], "done", "{done}");
    let vendor_id = db.query_i64("SELECT id FROM vendors WHERE name = 'Killed Vendor'").await[0];
    let queued = post(&client, &gateway.base, &second, "Killed Vendor", false).await;
    let id = queued["document_id"].as_i64().expect("document id");

    // Kill the process the moment its import is under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = document(&client, &gateway.base, id).await;
        match body["status"].as_str() {
            Some("processing") => break,
            Some("queued") => {}
            other => panic!("the import finished ({other:?}) before it could be interrupted: make the list longer"),
        }
        assert!(Instant::now() < deadline, "the import never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    gateway.child.kill().expect("SIGKILL");
    gateway.child.wait().expect("reaped");

    let status = db.query_texts(&format!("SELECT status FROM source_documents WHERE id = {id}")).await;
    assert_eq!(status, [Some("processing".to_owned())], "the kill landed mid-import");
    let active = format!("SELECT COUNT(*) FROM offers WHERE vendor_id = {vendor_id} AND active = 1");
    assert_eq!(db.query_i64(&active).await, [2_000], "the previous snapshot is intact");
    let from_second = format!("SELECT COUNT(*) FROM offers WHERE source_document_id = {id}");
    assert_eq!(db.query_i64(&from_second).await, [0], "nothing of the interrupted import is applied");

    // Restarted: the job's lease runs out, it runs again and finishes.
    let restarted = start_gateway_with(&db, free_port(), &settings).await;
    let rerun = until_final(&client, &restarted.base, id).await;
    assert_eq!(rerun["status"], "done", "{rerun}");

    // The same two files for another vendor, uninterrupted.
    post(&client, &restarted.base, &first, "Calm Vendor", true).await;
    let calm = post(&client, &restarted.base, &second, "Calm Vendor", true).await;
    assert_eq!(calm["status"], "done", "{calm}");
    assert_eq!(counts(&rerun), counts(&calm["document"]), "the rerun did what an uninterrupted import does");
    assert_eq!(counts(&rerun), vec![(ROWS - 2_000) as i64, 500, 1_500, 0, 0]);
    let calm_id = db.query_i64("SELECT id FROM vendors WHERE name = 'Calm Vendor'").await[0];
    let same = format!(
        "SELECT COUNT(*) FROM offers a JOIN offers b ON b.vendor_id = {calm_id} AND b.row_key = a.row_key
           AND b.source_document_id IS NOT NULL
           AND b.title = a.title AND b.price = a.price AND b.quantity = a.quantity AND b.active = a.active
         WHERE a.vendor_id = {vendor_id} AND a.source_document_id IS NOT NULL"
    );
    assert_eq!(db.query_i64(&same).await, [ROWS as i64], "row for row the same offers");
    drop(restarted); // killed and reaped by its Drop
    db.drop_database().await;
}
