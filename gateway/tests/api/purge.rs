//! Purging test traffic (issue 19 §5): two clients' traffic (a shop and a
//! `soko-load-` harness run, which also posts into the shop's chat), then the
//! purge through the admin route and through `gateway purge` run as a real
//! process. The shop's chats, messages, offers, products and jobs are intact;
//! the load client's are gone, and the totals still match the stored rows.

use std::process::Command;

use collector_client::message::IngestMessage;
use serde_json::{Value, json};

use crate::helpers::{
    SECRET, TOKEN, TestApp, TestDatabase, batch, message, spawn_app_with, start_on,
};

const ADMIN: &[(&str, &str)] = &[
    ("ADMIN_TOKEN", "admin-secret"),
    ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
];
const SHOP: &str = "shop-nairobi";
const LOAD: &str = "soko-load-run-7";
const SHOP_PRODUCT: &str = "1234567890123456";
const LOAD_PRODUCT: &str = "6543210987654321";

fn in_chat(chat_id: &str, title: &str, message_id: &str, text: &str) -> IngestMessage {
    IngestMessage {
        chat_id: Some(chat_id.into()),
        message_id: Some(message_id.into()),
        ..message(title, text)
    }
}

/// The shop: 3 messages in its chat. The load run: 4 messages in 2 chats of
/// its own, and 1 in the shop's chat. Waits until all 8 are extracted.
async fn ingest_two_clients(app: &TestApp) {
    let shop = vec![
        in_chat("shop@g.us", "Real Shop", "s1", "Samsung A54 128GB - 38,000"),
        in_chat(
            "shop@g.us",
            "Real Shop",
            "s2",
            &format!("New: https://wa.me/p/{SHOP_PRODUCT}/254712345678 Tecno Spark 20 - 15,500"),
        ),
        in_chat("shop@g.us", "Real Shop", "s3", "Oppo Reno 11 - 45,000"),
    ];
    assert_eq!(app.post_ingest(&batch(SHOP, shop)).await.status, 200);
    let load = vec![
        in_chat(
            "load-1@g.us",
            "Soko Load Chat 1",
            "l1",
            "Infinix Hot 40 - 17,000",
        ),
        in_chat(
            "load-1@g.us",
            "Soko Load Chat 1",
            "l2",
            &format!("https://wa.me/p/{LOAD_PRODUCT}/254700000001 Redmi 13C - 14,000"),
        ),
        in_chat(
            "load-2@g.us",
            "Soko Load Chat 2",
            "l3",
            "Nokia G42 - 21,000",
        ),
        in_chat("load-2@g.us", "Soko Load Chat 2", "l4", "Itel A70 - 9,500"),
        in_chat("shop@g.us", "Real Shop", "l5", "Vivo Y36 - 23,000"),
    ];
    assert_eq!(app.post_ingest(&batch(LOAD, load)).await.status, 200);
    app.wait_extracted(8).await;
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.query_i64(sql).await.first().copied().unwrap_or(-1)
}

/// What the shop owns, as rows: compared before and after the purge.
async fn shop_rows(db: &TestDatabase) -> Vec<i64> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM messages WHERE client_id = 'shop-nairobi'",
        "SELECT COUNT(*) FROM offers o JOIN messages m ON m.id = o.source_message_pk WHERE m.client_id = 'shop-nairobi'",
        "SELECT COUNT(*) FROM products WHERE product_id = '1234567890123456'",
        "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '1234567890123456'",
        "SELECT COUNT(*) FROM clients WHERE id = 'shop-nairobi'",
        "SELECT COUNT(*) FROM chats WHERE id = 'shop@g.us'",
    ] {
        rows.push(count(db, sql).await);
    }
    rows
}

/// The load client left nothing, the shop everything, and the totals match.
async fn assert_purged(app: &TestApp, shop_before: &[i64]) {
    let db = &app.db;
    assert_eq!(
        shop_rows(db).await,
        shop_before,
        "the shop's rows are intact"
    );
    for sql in [
        "SELECT COUNT(*) FROM messages WHERE client_id LIKE 'soko-load-%'",
        "SELECT COUNT(*) FROM chats WHERE id IN ('load-1@g.us', 'load-2@g.us')",
        "SELECT COUNT(*) FROM offers WHERE chat_id IN ('load-1@g.us', 'load-2@g.us')",
        "SELECT COUNT(*) FROM offers WHERE source_message_pk NOT IN (SELECT id FROM messages)",
        "SELECT COUNT(*) FROM products WHERE product_id = '6543210987654321'",
        "SELECT COUNT(*) FROM jobs WHERE dedupe_key = '6543210987654321'",
        "SELECT COUNT(*) FROM clients WHERE id LIKE 'soko-load-%'",
        "SELECT COUNT(*) FROM event_log WHERE chat_id IN ('load-1@g.us', 'load-2@g.us')",
    ] {
        assert_eq!(count(db, sql).await, 0, "{sql}");
    }
    if app.db.url.starts_with("postgres") {
        let orphans =
            "SELECT COUNT(*) FROM content_hashes WHERE message_pk NOT IN (SELECT id FROM messages)";
        assert_eq!(
            count(db, orphans).await,
            0,
            "no dedupe entry names a purged message"
        );
    } else {
        let orphans =
            "SELECT COUNT(*) FROM chat_messages WHERE message_pk NOT IN (SELECT id FROM messages)";
        assert_eq!(
            count(db, orphans).await,
            0,
            "the chat index names no purged message"
        );
    }
    let stored = count(db, "SELECT COUNT(*) FROM messages").await;
    assert_eq!(
        count(db, "SELECT value FROM counters WHERE name = 'created'").await,
        stored,
        "created total = stored rows"
    );
    assert_eq!(
        count(db, "SELECT created_count FROM chats WHERE id = 'shop@g.us'").await,
        3
    );
    assert_eq!(
        count(db, "SELECT offer_count FROM chats WHERE id = 'shop@g.us'").await,
        shop_before[1]
    );

    let auth = [
        ("authorization", "Bearer admin-secret"),
        ("accept", "application/json"),
    ];
    assert_eq!(
        app.get_with("/admin/whatsapp/load-1%40g.us", &auth)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get_with("/admin/whatsapp/shop%40g.us", &auth)
            .await
            .status,
        200
    );
    let offers = app.read("/offers?limit=100").await;
    let chats: Vec<&str> = offers.body["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .filter_map(|o| o["chat_id"].as_str())
        .collect();
    assert!(
        !chats.is_empty() && chats.iter().all(|c| *c == "shop@g.us"),
        "{chats:?}"
    );

    // The load run's messages can be sent again: nothing remembers them as duplicates.
    let again = vec![in_chat(
        "load-1@g.us",
        "Soko Load Chat 1",
        "l1",
        "Infinix Hot 40 - 17,000",
    )];
    let answer = app.post_ingest(&batch(LOAD, again)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["created"], 1, "{:?}", answer.body);
}

async fn purge_route(app: &TestApp, body: Value) -> crate::helpers::Answer {
    let headers = [
        ("authorization", "Bearer admin-secret"),
        ("content-type", "application/json"),
    ];
    app.post_with("/admin/purge", &headers, body.to_string())
        .await
}

#[tokio::test]
async fn the_admin_route_purges_one_clients_traffic_and_nothing_else() {
    let app = spawn_app_with(ADMIN).await;
    ingest_two_clients(&app).await;
    let shop_before = shop_rows(&app.db).await;
    assert_eq!(shop_before[..5], [3, 3, 1, 1, 1]);
    let load_offers = count(&app.db, "SELECT COUNT(*) FROM offers o JOIN messages m ON m.id = o.source_message_pk WHERE m.client_id = 'soko-load-run-7'").await;
    assert_eq!(load_offers, 5);

    // The list can hide the load chats (the shop's stays: it holds the shop's messages too).
    let auth = [
        ("authorization", "Bearer admin-secret"),
        ("accept", "application/json"),
    ];
    let all = app.get_with("/admin/whatsapp", &auth).await;
    assert_eq!(all.body["chats"].as_array().map(Vec::len), Some(3));
    let hidden = app
        .get_with("/admin/whatsapp?hide_client_prefix=soko-load-", &auth)
        .await;
    let shown: Vec<&str> = hidden.body["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .filter_map(|c| c["chat_id"].as_str())
        .collect();
    assert_eq!(shown, ["shop@g.us"], "{:?}", hidden.body);
    let html = app
        .get_with(
            "/admin/whatsapp?hide_client_prefix=soko-load-",
            &[("authorization", "Bearer admin-secret")],
        )
        .await;
    assert_eq!(html.status, 200);
    assert!(
        !html
            .body
            .as_str()
            .unwrap_or_default()
            .contains("Soko Load Chat")
    );

    // Refusals: no prefix, an empty one, a cross-site form post, no token.
    assert_eq!(purge_route(&app, json!({})).await.status, 400);
    let empty = purge_route(&app, json!({"client_prefix": "  "})).await;
    assert_eq!(empty.status, 400);
    assert!(empty.error_message().contains("empty"), "{:?}", empty.body);
    let cross = app
        .post_with(
            "/admin/purge",
            &[
                ("authorization", "Bearer admin-secret"),
                ("origin", "https://evil.example"),
                ("content-type", "application/json"),
            ],
            json!({"client_prefix": "soko-load-"}).to_string(),
        )
        .await;
    assert_eq!(cross.status, 403);
    let anonymous = app
        .post_with(
            "/admin/purge",
            &[("content-type", "application/json")],
            r#"{"client_prefix":"soko-load-"}"#,
        )
        .await;
    assert_eq!(anonymous.status, 401);

    // A dry run counts and removes nothing.
    let dry = purge_route(
        &app,
        json!({"client_prefix": "soko-load-", "dry_run": true}),
    )
    .await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    assert_eq!(dry.body["removed"]["messages"], 5);
    assert_eq!(dry.body["removed"]["chats"], 2);
    assert_eq!(dry.body["removed"]["offers"], 5);
    assert_eq!(dry.body["removed"]["products"], 1);
    assert_eq!(dry.body["removed"]["jobs"], 1);
    assert_eq!(dry.body["removed"]["clients"], 1);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM messages").await,
        8,
        "a dry run removes nothing"
    );

    let done = purge_route(&app, json!({"client_prefix": "soko-load-"})).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(
        done.body["removed"], dry.body["removed"],
        "the dry run counted what the purge removed"
    );
    assert_eq!(done.body["dry_run"], false);
    assert_purged(&app, &shop_before).await;
    app.finish().await;
}

fn run_cli(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WHATSAPP_INGEST_TOKEN", TOKEN)
        .env("WHATSAPP_INGEST_HMAC_SECRET", SECRET)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("the gateway binary runs")
}

#[tokio::test]
async fn the_purge_command_removes_the_load_clients_data_in_a_real_process() {
    let app = spawn_app_with(ADMIN).await;
    ingest_two_clients(&app).await;
    let shop_before = shop_rows(&app.db).await;
    let db = app.stop().await;

    let empty = run_cli(&db, &["purge", "--client-prefix", ""]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("empty"),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );

    let dry = run_cli(
        &db,
        &["purge", "--client-prefix", "soko-load-", "--dry-run"],
    );
    let dry_out = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(
        dry.status.success(),
        "{dry_out}\n{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        dry_out.contains("would remove")
            && dry_out.contains("messages=5\n")
            && dry_out.contains("chats=2\n"),
        "{dry_out}"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM messages").await,
        8,
        "a dry run removes nothing"
    );

    let done = run_cli(&db, &["purge", "--client-prefix", "soko-load-"]);
    let out = String::from_utf8_lossy(&done.stdout).to_string();
    assert!(
        done.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        out.contains("removed") && out.contains("messages=5\n") && out.contains("offers=5\n"),
        "{out}"
    );
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        dry_out.lines().skip(1).collect::<Vec<_>>(),
        "dry run counted the same"
    );

    let app = start_on(db, ADMIN).await;
    assert_purged(&app, &shop_before).await;
    app.finish().await;
}

/// The embedded SQLite default runs one process per database file, so the
/// command refuses to run beside a gateway; on PostgreSQL it runs beside one.
#[tokio::test]
async fn the_command_beside_a_running_gateway() {
    let app = spawn_app_with(ADMIN).await;
    let beside = run_cli(&app.db, &["purge", "--client-prefix", "soko-load-", "--dry-run"]);
    let stderr = String::from_utf8_lossy(&beside.stderr).to_string();
    if crate::helpers::backend() == "sqlite" {
        assert_eq!(beside.status.code(), Some(1));
        assert!(stderr.contains("another gateway process"), "{stderr}");
    } else {
        assert!(beside.status.success(), "{stderr}");
        assert!(String::from_utf8_lossy(&beside.stdout).contains("messages=0\n"));
    }
    app.finish().await;
}
