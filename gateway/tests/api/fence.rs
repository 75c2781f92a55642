//! The fetch fence against a real gateway: product pages served by a trusted fixture (the
//! `WHATSAPP_WEB_BASE_URL` origin, on loopback) point their `og:image` at a second loopback
//! port, directly, through `localhost`, through a redirect from the trusted fixture, or at the
//! cloud metadata address; and one page itself redirects to the trap. The trap listener must
//! never see a connection; each job dies at once with `blocked_address` (one attempt, no
//! retry), `fetch_blocked` is in `catalog_sync_logs`, and `soko_fetch_blocked_total{stage}`
//! counts it. A control product whose image sits on the trusted origin is fetched as usual.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, TestDatabase, spawn_app_with};

const SELLER: &str = "254712345001";
/// Products, by what their page does.
const DIRECT: &str = "2000000000000001";
const VIA_LOCALHOST: &str = "2000000000000002";
const VIA_REDIRECT: &str = "2000000000000003";
const METADATA: &str = "2000000000000004";
const PAGE_REDIRECTS: &str = "2000000000000005";
const CONTROL: &str = "2000000000000006";

/// A listener that only counts the connections it accepts.
async fn trap() -> (u16, Arc<AtomicUsize>) {
    let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind trap");
    let port = socket.local_addr().expect("address").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = socket.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, accepted)
}

/// The trusted fixture: product pages and one redirect, logging every path it serves.
async fn fixture(trap: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind fixture");
    let base = format!("http://127.0.0.1:{}", socket.local_addr().expect("address").port());
    let served = Arc::new(Mutex::new(Vec::new()));
    let (log, own) = (served.clone(), base.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            let (log, own) = (log.clone(), own.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                log.lock().push(path.clone());
                let _ = stream.write_all(answer(&path, trap, &own).as_bytes()).await;
            });
        }
    });
    (base, served)
}

fn answer(path: &str, trap: u16, own: &str) -> String {
    let page = |image: String| {
        let body = format!(
            r#"<!doctype html><html><head><meta property="og:title" content="Fenced lamp"><meta property="og:description" content="d"><meta property="og:image" content="{image}"></head></html>"#
        );
        format!("HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
    };
    let redirect = |to: String| format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let id = path.strip_prefix("/p/").and_then(|rest| rest.split('/').next()).unwrap_or_default();
    match id {
        DIRECT => page(format!("http://127.0.0.1:{trap}/direct.png")),
        VIA_LOCALHOST => page(format!("http://localhost:{trap}/named.png")),
        VIA_REDIRECT => page(format!("{own}/r/hop.png")),
        METADATA => page("http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned()),
        PAGE_REDIRECTS => redirect(format!("http://127.0.0.1:{trap}/page")),
        CONTROL => page(format!("{own}/img/control.png")),
        _ if path == "/r/hop.png" => redirect(format!("http://127.0.0.1:{trap}/hop.png")),
        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
    }
}

async fn insert_hydrate_job(db: &TestDatabase, id: &str) {
    db.execute(&format!(
        "INSERT INTO jobs (stage, dedupe_key, payload, state, attempts, run_at_ms, created_at_ms, updated_at_ms)
         VALUES ('hydrate', '{id}', '{{\"product_id\":\"{id}\",\"phone\":\"+{SELLER}\"}}', 'ready', 0, 0, 0, 0)"
    ))
    .await;
}

/// A job's state, attempts and last error; an empty state when there is no such job.
async fn job(app: &TestApp, stage: &str, id: &str) -> (String, i64, String) {
    let of = |column: &str| format!("(SELECT {column} FROM jobs WHERE stage = '{stage}' AND dedupe_key = '{id}')");
    let texts = app.db.query_texts(&format!("SELECT {}, {}", of("state"), of("last_error"))).await;
    let attempts = app.db.query_i64(&format!("SELECT CAST(attempts AS BIGINT) FROM jobs WHERE stage = '{stage}' AND dedupe_key = '{id}'")).await;
    let text = |i: usize| texts.get(i).cloned().flatten().unwrap_or_default();
    (text(0), attempts.first().copied().unwrap_or(-1), text(1))
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn pages_and_images_on_untrusted_private_addresses_are_never_fetched() {
    let (trap_port, trap_hits) = trap().await;
    let (base, served) = fixture(trap_port).await;
    let app = spawn_app_with(&[("WHATSAPP_WEB_BASE_URL", base.as_str()), ("JOB_POLL_SECONDS", "0.05")]).await;
    for id in [DIRECT, VIA_LOCALHOST, VIA_REDIRECT, METADATA, PAGE_REDIRECTS, CONTROL] {
        insert_hydrate_job(&app.db, id).await;
    }
    // Four images refused by QC, one page refused by hydrate; the control is judged by QC.
    let dead = "SELECT COUNT(*) FROM jobs WHERE state = 'dead'";
    app.db.wait_for(dead, 5, Duration::from_secs(30)).await;
    app.db.wait_for("SELECT COUNT(*) FROM jobs WHERE stage = 'qc' AND state = 'done'", 1, Duration::from_secs(30)).await;

    for id in [DIRECT, VIA_LOCALHOST, VIA_REDIRECT, METADATA] {
        let (state, attempts, error) = job(&app, "qc", id).await;
        assert_eq!((state.as_str(), attempts), ("dead", 1), "{id}: dead at once, no retry ({error})");
        assert!(error.starts_with("blocked_address"), "{id}: {error}");
    }
    let (state, attempts, error) = job(&app, "hydrate", PAGE_REDIRECTS).await;
    assert_eq!((state.as_str(), attempts), ("dead", 1), "{error}");
    assert!(error.starts_with("blocked_address"), "{error}");
    assert_eq!(job(&app, "qc", PAGE_REDIRECTS).await.0, "", "a refused page makes no product to judge");
    let hydrate_error = format!(
        "SELECT COUNT(*) FROM catalog_sync_logs WHERE product_id = '{PAGE_REDIRECTS}' AND event_type = 'hydrate_error' AND error_message = 'blocked_address'"
    );
    assert_eq!(app.db.query_i64(&hydrate_error).await, [1], "hydrate records its own failure too");
    assert_eq!(job(&app, "qc", CONTROL).await.0, "done", "the trusted origin's image is fetched and judged");
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await, [5]);

    assert_eq!(trap_hits.load(Ordering::SeqCst), 0, "the untrusted loopback port never saw a connection");
    let served = served.lock().clone();
    assert!(served.iter().any(|p| p == "/r/hop.png"), "the redirect's first hop is the trusted fixture: {served:?}");
    assert!(served.iter().any(|p| p == "/img/control.png"), "{served:?}");

    let logged = "SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'fetch_blocked' AND error_message = 'blocked_address'";
    assert_eq!(app.db.query_i64(logged).await, [5]);
    let on_metadata = format!("SELECT details FROM catalog_sync_logs WHERE event_type = 'fetch_blocked' AND product_id = '{METADATA}'");
    let details = app.db.query_texts(&on_metadata).await.into_iter().next().flatten().unwrap_or_default();
    assert!(details.contains(r#""range":"link_local""#) && details.contains(r#""stage":"qc""#), "{details}");

    let metrics = app.get_text("/metrics").await;
    assert_eq!(metric(&metrics, r#"soko_fetch_blocked_total{stage="qc"}"#), Some(4.0), "{metrics}");
    assert_eq!(metric(&metrics, r#"soko_fetch_blocked_total{stage="hydrate"}"#), Some(1.0));
    assert_eq!(metric(&metrics, r#"soko_fetch_blocked_total{stage="persist"}"#), Some(0.0));
    assert_eq!(metric(&metrics, r#"soko_job_retries_total{stage="qc"}"#), Some(0.0), "refusals are never retried");
    app.finish().await;
}

#[tokio::test]
async fn fetch_allow_private_hosts_lets_a_listed_host_port_through() {
    let (trap_port, trap_hits) = trap().await;
    let (base, _) = fixture(trap_port).await;
    let allowed = format!("127.0.0.1:{trap_port}");
    let app = spawn_app_with(&[
        ("WHATSAPP_WEB_BASE_URL", base.as_str()),
        ("JOB_POLL_SECONDS", "0.05"),
        ("FETCH_ALLOW_PRIVATE_HOSTS", allowed.as_str()),
    ])
    .await;
    insert_hydrate_job(&app.db, DIRECT).await;
    // The trap closes the connection without an answer: a network error, retried, not refused.
    app.db.wait_for("SELECT COUNT(*) FROM jobs WHERE stage = 'qc' AND attempts >= 1 AND state <> 'running'", 1, Duration::from_secs(30)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while trap_hits.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "the listed host:port was never reached");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, _, error) = job(&app, "qc", DIRECT).await;
    assert!(!error.starts_with("blocked_address"), "{error}");
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM catalog_sync_logs WHERE event_type = 'fetch_blocked'").await, [0]);
    app.finish().await;
}
