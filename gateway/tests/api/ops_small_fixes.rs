//! Issue 19 §6 through real HTTP: `/metrics` carries the `process_*` series
//! and `soko_build_info{version,commit}`; the diagnostics CSV and log mask
//! phone numbers but never ids, so an id read there opens its admin page.

use collector_client::message::IngestMessage;

use crate::helpers::{TOKEN, batch, message, spawn_app, spawn_app_with};

#[tokio::test]
async fn metrics_show_the_process_and_the_build() {
    let app = spawn_app().await;
    let text = app.get_text("/metrics").await;
    let value = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("{name} missing"));
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{line}"))
    };
    assert!(
        value("process_resident_memory_bytes") > 1_000_000.0,
        "a running gateway holds more than 1 MB"
    );
    assert!(
        value("process_open_fds") >= 3.0,
        "stdin, stdout, stderr at least"
    );
    assert!(value("process_cpu_seconds_total") >= 0.0);
    let started = value("process_start_time_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    assert!(
        started > 1.6e9 && started <= now + 1.0,
        "start time {started} is a unix time before now ({now})"
    );

    let info = text
        .lines()
        .find(|l| l.starts_with("soko_build_info{"))
        .expect("soko_build_info");
    assert!(info.ends_with("} 1"), "{info}");
    assert!(
        info.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );
    let commit = info
        .split("commit=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("commit label");
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    app.finish().await;
}

#[tokio::test]
async fn diagnostics_mask_phones_never_ids() {
    let admin = [
        ("ADMIN_TOKEN", "admin-secret"),
        ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
    ];
    let app = spawn_app_with(&admin).await;
    // A hex id with a 10-digit decimal run, and a one-to-one chat named by a phone.
    let hex_id = "3eb0c7d2a10712345678ff";
    let hex_chat = IngestMessage {
        chat_id: Some(hex_id.into()),
        ..message("Hex Chat 0712 345 678", "Kettle 2L - 1,800")
    };
    let phone_chat = IngestMessage {
        chat_id: Some("254712345678@s.whatsapp.net".into()),
        ..message("Private", "Jiko - 2,500")
    };
    app.post_ingest(&batch("collector-7", vec![hex_chat, phone_chat]))
        .await;
    app.wait_extracted(2).await;

    let csv = app
        .client
        .get(app.url("/chat/tools/diagnostics?format=csv"))
        .header("x-ingest-token", TOKEN)
        .send()
        .await
        .expect("csv");
    let csv = csv.text().await.expect("text");
    let ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .collect();
    assert!(
        ids.contains(&hex_id),
        "the hex id is shown as stored: {csv}"
    );
    assert!(
        ids.contains(&"•••••••••678@s.whatsapp.net"),
        "the phone is masked: {csv}"
    );
    assert!(
        csv.contains("Hex Chat •••• ••• 678")
            && !csv.contains("712345678@")
            && !csv.contains("0712 345 678"),
        "{csv}"
    );

    let logs = app
        .client
        .get(app.url("/chat/tools/diagnostics/logs"))
        .header("x-ingest-token", TOKEN)
        .send()
        .await
        .expect("logs");
    let logs = logs.text().await.expect("text");
    let logged: Vec<String> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line["chat_id"].as_str().map(str::to_owned))
        .collect();
    assert!(logged.iter().any(|id| id == hex_id), "{logged:?}");
    assert!(
        !logs.contains("254712345678"),
        "the phone never shows in the log"
    );

    // The id read from the download opens the chat's admin page.
    let auth = [
        ("authorization", "Bearer admin-secret"),
        ("accept", "application/json"),
    ];
    let page = app
        .get_with(&format!("/admin/whatsapp/{hex_id}"), &auth)
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    app.finish().await;
}
