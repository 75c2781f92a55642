//! Vendor document imports (issue 16) through the real release `gateway` binary, over HTTP on
//! loopback, as a vendor's upload meets them: `POST /documents?wait=true` until the import is
//! finished. Cases (median of `DOCUMENT_BENCH_REPS`, default 5):
//! - a 5,000-row `.xlsx`, first import (a new vendor each time) to `done`;
//! - the same file again for the same vendor (whole-document hash skip);
//! - the same list with 50 prices changed;
//! - a 100,000-row `.csv`, first import, with the gateway's RSS before, after and at its peak.
//!
//! Beside wall times it prints what does not depend on the machine's speed: the gateway's
//! CPU-seconds per 1,000 rows and bytes it wrote per row (`/proc/<pid>/stat` and `/proc/<pid>/io`).
//! SQLite by default; `DOCUMENT_BENCH_DATABASE_URL=postgres://…` for PostgreSQL (the database
//! must exist and be empty). Run through `scripts/bench/documents.sh`.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

const READ_TOKEN: &str = "bench-read-token";

struct Gateway {
    child: Child,
    base: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

async fn start(database_url: &str, storage: &Path) -> Gateway {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env("WHATSAPP_INGEST_TOKEN", "bench-ingest-token")
        .env("API_READ_TOKEN", READ_TOKEN)
        .env("DATABASE_URL", database_url)
        .env("INGESTION_STORAGE_DIR", storage)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the gateway binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "the gateway did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Gateway { child, base }
}

/// `rows` price-list rows; the first 50 carry `+shift` on their price.
fn rows(count: usize, shift: u32) -> impl Iterator<Item = (String, String, f64, u32, &'static str)> {
    (0..count).map(move |i| {
        let price = 1_000.0 + (i % 9_000) as f64 * 10.0 + if i < 50 { f64::from(shift) } else { 0.0 };
        (format!("SKU-{i:06}"), format!("Phone model {i} {}GB", 32 << (i % 4)), price, 1 + (i % 20) as u32, ["new", "ex-uk", "refurbished"][i % 3])
    })
}

fn xlsx(count: usize, shift: u32) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["MODEL/SKU", "DESCRIPTION", "PRICE", "QTY", "CONDITION"].into_iter().enumerate() {
        sheet.write_string(0, c as u16, h).expect("header");
    }
    for (r, (sku, description, price, qty, condition)) in rows(count, shift).enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, sku).expect("cell");
        sheet.write_string(r, 1, description).expect("cell");
        sheet.write_number(r, 2, price).expect("cell");
        sheet.write_number(r, 3, f64::from(qty)).expect("cell");
        sheet.write_string(r, 4, condition).expect("cell");
    }
    book.save_to_buffer().expect("xlsx")
}

fn csv(count: usize) -> Vec<u8> {
    let mut out = String::from("SKU,Description,Price (KES),Qty,Condition\n");
    for (sku, description, price, qty, condition) in rows(count, 0) {
        out.push_str(&format!("{sku},{description},\"{}\",{qty},{condition}\n", price as u64));
    }
    out.into_bytes()
}

async fn upload(client: &reqwest::Client, base: &str, name: &str, bytes: Vec<u8>, vendor: &str) -> (f64, Value) {
    const BOUNDARY: &str = "soko-bench-boundary-41d";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"vendor\"\r\n\r\n{vendor}\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let started = Instant::now();
    let response = client
        .post(format!("{base}/documents?wait=true"))
        .bearer_auth(READ_TOKEN)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .expect("upload");
    let body: Value = response.json().await.expect("json answer");
    (started.elapsed().as_secs_f64() * 1_000.0, body)
}

/// (VmRSS, VmHWM) in MiB, CPU seconds, bytes written.
fn process(pid: u32) -> (f64, f64, f64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
            / 1024.0
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 after the command.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let written = io.lines().find_map(|l| l.strip_prefix("write_bytes: ")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    (kib("VmRSS:"), kib("VmHWM:"), cpu, written)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn counts(body: &Value) -> [i64; 5] {
    ["created_count", "updated_count", "unchanged_count", "removed_count", "error_count"].map(|k| body["document"][k].as_i64().unwrap_or(-1))
}

#[tokio::main]
async fn main() {
    let reps: usize = std::env::var("DOCUMENT_BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = std::env::var("DOCUMENT_BENCH_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let backend = if database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let gateway = start(&database_url, &dir.path().join("storage")).await;
    let pid = gateway.child.id();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().expect("client");
    let list = xlsx(5_000, 0);

    let (mut first, mut skip, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    let (_, _, cpu_before, written_before) = process(pid);
    for v in 0..reps {
        let (ms, body) = upload(&client, &gateway.base, "list.xlsx", list.clone(), &format!("Bench Vendor {v}")).await;
        assert_eq!((body["status"].as_str(), counts(&body)), (Some("done"), [5_000, 0, 0, 0, 0]), "{body}");
        first.push(ms);
    }
    let (_, _, cpu_after, written_after) = process(pid);
    let first_rows = (reps * 5_000) as f64;
    for _ in 0..reps {
        let (ms, body) = upload(&client, &gateway.base, "list.xlsx", list.clone(), "Bench Vendor 0").await;
        assert_eq!(body["status"], "skipped", "{body}");
        skip.push(ms);
    }
    for shift in 1..=reps as u32 {
        let (ms, body) = upload(&client, &gateway.base, "list.xlsx", xlsx(5_000, shift), "Bench Vendor 0").await;
        assert_eq!(counts(&body), [0, 50, 4_950, 0, 0], "{body}");
        changed.push(ms);
    }

    let big = csv(100_000);
    let big_bytes = big.len();
    // Resets the peak RSS (VmHWM) to the current RSS, so the peak below is this import's.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let (rss_before, _, cpu_big_before, written_big_before) = process(pid);
    let (big_ms, body) = upload(&client, &gateway.base, "big.csv", big, "Bench Big Vendor").await;
    assert_eq!(counts(&body)[0], 100_000, "{body}");
    let (rss_after, peak, cpu_big_after, written_big_after) = process(pid);

    let result = json!({
        "bench": "documents_import",
        "backend": backend,
        "reps": reps,
        "xlsx_5000_first_import_ms_median": median(first.clone()),
        "xlsx_5000_first_import_ms": first,
        "same_file_hash_skip_ms_median": median(skip.clone()),
        "fifty_prices_changed_ms_median": median(changed.clone()),
        "fifty_prices_changed_ms": changed,
        "csv_100000_first_import_ms": big_ms,
        "csv_100000_bytes": big_bytes,
        "gateway_rss_mib_before_after_peak": [rss_before, rss_after, peak],
        "gateway_rss_growth_mib_to_peak": peak - rss_before,
        "gateway_cpu_seconds_per_1000_rows_xlsx_first": (cpu_after - cpu_before) / first_rows * 1_000.0,
        "gateway_cpu_seconds_per_1000_rows_csv_100000": (cpu_big_after - cpu_big_before) / 100.0,
        "gateway_bytes_written_per_row_xlsx_first": (written_after - written_before) as f64 / first_rows,
        "gateway_bytes_written_per_row_csv_100000": (written_big_after - written_big_before) as f64 / 100_000.0,
    });
    println!("{result}");
}
