//! The admin pages in a real browser: headless Debian Chromium loads the
//! chat list and a chat page through basic auth, the DOM is checked, and a
//! screenshot of each page is saved under the test's target tmp dir.

use std::{path::PathBuf, process::Command};

use collector_client::message::IngestMessage;

use crate::helpers::{batch, message, spawn_app_with};

pub fn chromium() -> PathBuf {
    let candidates = [std::env::var("CHROMIUM").ok(), Some("/usr/bin/chromium".into()), Some("/usr/bin/chromium-browser".into())];
    candidates
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("headless Chromium is required: run scripts/setup-test-env.sh (apt-get install chromium) or set CHROMIUM"))
}

fn run_chromium(profile: &std::path::Path, extra: &[&str], url: &str) -> std::process::Output {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command.args(extra).arg(url);
    command.output().expect("chromium runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_render_in_headless_chromium() {
    let app = spawn_app_with(&[("ADMIN_TOKEN", "admin-secret"), ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2")]).await;
    let messages = vec![
        IngestMessage { chat_id: Some("browser@g.us".into()), ..message("Browser Phones", "1. Samsung A15 - 18,500\n2. Tecno Spark 20 - 14,000") },
        IngestMessage { chat_id: Some("other@g.us".into()), ..message("Other Chat", "Kettle 2L - 1,800") },
    ];
    app.post_ingest(&batch("c", messages)).await;
    app.wait_extracted(2).await;
    let base = app.address.replace("http://", "http://admin:admin-secret@");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let profile = tempfile::tempdir().expect("profile dir");

    for (page, path, expected) in [
        ("admin_whatsapp", "/admin/whatsapp".to_owned(), vec!["WhatsApp chats", "Browser Phones", "Other Chat", "unmapped"]),
        ("admin_whatsapp_chat", "/admin/whatsapp/browser%40g.us".to_owned(), vec!["Samsung A15", "Tecno Spark 20", "Save mapping and re-extract"]),
    ] {
        let url = format!("{base}{path}");
        let dom = run_chromium(profile.path(), &["--dump-dom"], &url);
        let html = String::from_utf8_lossy(&dom.stdout);
        for needle in expected {
            assert!(html.contains(needle), "{needle:?} missing from the page Chromium rendered for {path}");
        }
        let file = shots.join(format!("{page}.png"));
        let _ = std::fs::remove_file(&file);
        let shot = run_chromium(profile.path(), &[&format!("--screenshot={}", file.display())], &url);
        assert!(shot.status.success(), "chromium failed: {}", String::from_utf8_lossy(&shot.stderr));
        let png = std::fs::read(&file).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000, "{} is not a real screenshot", file.display());
        eprintln!("screenshot: {}", file.display());
    }
    app.finish().await;
}
