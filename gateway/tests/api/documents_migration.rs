//! The migration that gives offers a document source (SQLite 0016, PostgreSQL 0015): offers
//! extracted before it keep their ids, their chat source and their place in the search index,
//! the rebuilt SQLite table keeps its triggers (a new offer is found by search at once), and the
//! CHECK refuses an offer with both sources or none.

use collector_client::message::IngestMessage;
use sqlx::Connection;

use crate::helpers::{TestApp, TestDatabase, backend, batch, message, spawn_app_with, start_on};

const SETTINGS: &[(&str, &str)] = &[
    ("ADMIN_TOKEN", "admin-secret"),
    ("WHATSAPP_EXTRACT_DEBOUNCE_SECONDS", "0.2"),
];

fn in_chat(text: &str) -> IngestMessage {
    IngestMessage {
        chat_id: Some("shop@g.us".into()),
        ..message("shop@g.us", text)
    }
}

async fn found_ids(app: &TestApp, query: &str) -> Vec<String> {
    let answer = app.read(&format!("/search?q={query}&mode=text")).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

/// Back to the offers table of before the migration, and the migration forgotten.
async fn undo_migration(db: &TestDatabase) {
    // The price history (0018) refers to source_documents: it goes first, and comes back with
    // its migration.
    db.execute("DROP TABLE price_history").await;
    db.execute("DELETE FROM _sqlx_migrations WHERE version = 18")
        .await;
    if backend() == "postgres" {
        for sql in [
            "ALTER TABLE offers DROP CONSTRAINT offers_one_source",
            "ALTER TABLE offers DROP COLUMN source_document_id, DROP COLUMN source_row, DROP COLUMN row_key, DROP COLUMN row_hash, DROP COLUMN active",
            "ALTER TABLE offers ALTER COLUMN chat_id SET NOT NULL",
            "ALTER TABLE offers ALTER COLUMN source_message_pk SET NOT NULL",
            "DROP TABLE source_documents",
            "DELETE FROM _sqlx_migrations WHERE version = 15",
        ] {
            db.execute(sql).await;
        }
        return;
    }
    for sql in [
        "CREATE TABLE offers_old (
            id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id TEXT NOT NULL REFERENCES chats(id), vendor_id INTEGER REFERENCES vendors(id),
            source_message_pk INTEGER NOT NULL REFERENCES messages(id), item_index INTEGER NOT NULL, title TEXT NOT NULL,
            product_key TEXT NOT NULL, wa_product_id TEXT, price TEXT, currency TEXT NOT NULL, quantity INTEGER, condition TEXT,
            span_start INTEGER NOT NULL, span_end INTEGER NOT NULL, source_text TEXT NOT NULL, message_received_at_ms INTEGER NOT NULL,
            created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, delivery_fee TEXT, sender TEXT, search_text TEXT,
            UNIQUE (source_message_pk, item_index))",
        "INSERT INTO offers_old SELECT id, chat_id, vendor_id, source_message_pk, item_index, title, product_key, wa_product_id, price,
            currency, quantity, condition, span_start, span_end, source_text, message_received_at_ms, created_at_ms, updated_at_ms,
            delivery_fee, sender, search_text FROM offers",
        "DROP TABLE offers",
        "ALTER TABLE offers_old RENAME TO offers",
        "CREATE INDEX offers_vendor ON offers (vendor_id, id)",
        "CREATE INDEX offers_chat ON offers (chat_id, id)",
        "CREATE INDEX offers_product_key ON offers (product_key, id)",
        "CREATE INDEX offers_wa_product ON offers (wa_product_id, id) WHERE wa_product_id IS NOT NULL",
        "CREATE INDEX offers_sender ON offers (sender, id) WHERE sender IS NOT NULL",
        "CREATE INDEX offers_updated ON offers (updated_at_ms, id)",
        "CREATE TRIGGER offers_search_ai AFTER INSERT ON offers BEGIN
            INSERT INTO offers_fts (rowid, search_text) VALUES (new.id, new.search_text);
            UPDATE search_generation SET value = value + 1;
        END",
        "CREATE TRIGGER offers_search_ad AFTER DELETE ON offers BEGIN
            INSERT INTO offers_fts (offers_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            UPDATE search_generation SET value = value + 1;
        END",
        "CREATE TRIGGER offers_search_au AFTER UPDATE OF search_text ON offers BEGIN
            INSERT INTO offers_fts (offers_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            INSERT INTO offers_fts (rowid, search_text) VALUES (new.id, new.search_text);
        END",
        "CREATE TRIGGER offers_search_generation_au AFTER UPDATE ON offers BEGIN
            UPDATE search_generation SET value = value + 1;
        END",
        "CREATE TRIGGER offers_words_ai AFTER INSERT ON offers BEGIN
            INSERT INTO offers_words (rowid, search_text) VALUES (new.id, new.search_text);
        END",
        "CREATE TRIGGER offers_words_ad AFTER DELETE ON offers BEGIN
            INSERT INTO offers_words (offers_words, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        END",
        "CREATE TRIGGER offers_words_au AFTER UPDATE OF search_text ON offers BEGIN
            INSERT INTO offers_words (offers_words, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            INSERT INTO offers_words (rowid, search_text) VALUES (new.id, new.search_text);
        END",
        "DROP TABLE source_documents",
        "DELETE FROM _sqlx_migrations WHERE version = 16",
    ] {
        db.execute(sql).await;
    }
}

/// Whether the database refuses `sql`.
async fn refused(db: &TestDatabase, sql: &str) -> bool {
    if db.url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        sqlx::query(sql).execute(&mut connection).await.is_err()
    } else {
        let mut connection = sqlx::SqliteConnection::connect(&db.url)
            .await
            .expect("connect");
        sqlx::query(sql).execute(&mut connection).await.is_err()
    }
}

#[tokio::test]
async fn offers_from_before_the_document_source_keep_their_ids_source_and_search_index() {
    let app = spawn_app_with(SETTINGS).await;
    app.post_ingest(&batch(
        "c",
        vec![
            in_chat("Samsung Galaxy A15 128GB - 18,500"),
            in_chat("Oak dining table - 32,000"),
        ],
    ))
    .await;
    app.wait_extracted(2).await;
    let before = app.db.query_i64("SELECT id FROM offers ORDER BY id").await;
    assert_eq!(before.len(), 2);
    let samsung = found_ids(&app, "samsung").await;
    assert_eq!(samsung.len(), 1);
    let db = app.stop().await;

    undo_migration(&db).await;
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM offers WHERE source_message_pk IS NOT NULL")
            .await,
        [2]
    );
    let app = start_on(db, SETTINGS).await;
    let version = if backend() == "postgres" { 15 } else { 16 };
    assert_eq!(
        app.db
            .query_i64(&format!(
                "SELECT COUNT(*) FROM _sqlx_migrations WHERE version = {version}"
            ))
            .await,
        [1]
    );
    // The price history came back after it, with nothing in it: chat offers are their own history.
    assert_eq!(
        app.db.query_i64("SELECT COUNT(*) FROM price_history").await,
        [0]
    );
    assert_eq!(
        app.db.query_i64("SELECT id FROM offers ORDER BY id").await,
        before,
        "the same offers, with the same ids"
    );
    assert_eq!(app.db.query_i64("SELECT COUNT(*) FROM offers WHERE chat_id = 'shop@g.us' AND source_message_pk IS NOT NULL AND active = 1 AND source_document_id IS NULL").await, [2]);
    assert_eq!(
        found_ids(&app, "samsung").await,
        samsung,
        "the search index still finds the old offer"
    );
    assert_eq!(found_ids(&app, "dining").await.len(), 1);
    if backend() == "sqlite" {
        app.db
            .execute("INSERT INTO offers_fts (offers_fts) VALUES ('integrity-check')")
            .await;
        app.db
            .execute("INSERT INTO offers_words (offers_words) VALUES ('integrity-check')")
            .await;
    }
    let listed = app.read("/offers").await;
    assert_eq!(
        listed.body["offers"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        listed.body
    );

    // The rebuilt table's insert trigger still feeds the index.
    app.post_ingest(&batch(
        "c",
        vec![in_chat("Hisense 43 inch smart TV - 27,999")],
    ))
    .await;
    app.wait_extracted(3).await;
    assert_eq!(found_ids(&app, "hisense").await.len(), 1);
    if backend() == "sqlite" {
        // The word index's trigger too (search would still find it through the trigram one).
        assert_eq!(
            app.db
                .query_i64("SELECT COUNT(*) FROM offers_words WHERE offers_words MATCH 'hisense'")
                .await,
            [1]
        );
    }

    // Exactly one source: neither, or both, is refused.
    let (chat, message) = (
        app.db
            .query_texts("SELECT chat_id FROM offers LIMIT 1")
            .await,
        app.db
            .query_i64("SELECT source_message_pk FROM offers LIMIT 1")
            .await,
    );
    let chat = chat[0].clone().unwrap_or_default();
    let columns = "(chat_id, source_message_pk, source_document_id, source_row, row_key, vendor_id, item_index, title, product_key, currency,
                    span_start, span_end, source_text, message_received_at_ms, created_at_ms, updated_at_ms)";
    let neither = format!(
        "INSERT INTO offers {columns} VALUES (NULL, NULL, NULL, NULL, NULL, NULL, 9, 't', 't', 'KES', 0, 0, '', 0, 0, 0)"
    );
    assert!(
        refused(&app.db, &neither).await,
        "an offer without a source"
    );
    let both = format!(
        "INSERT INTO offers {columns} VALUES ('{chat}', {}, NULL, 4, 'key:t', NULL, 9, 't', 't', 'KES', 0, 0, '', 0, 0, 0)",
        message[0]
    );
    assert!(
        refused(&app.db, &both).await,
        "a message offer with a document row number"
    );
    app.finish().await;
}
