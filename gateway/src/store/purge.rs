//! Purge of test traffic (issue 19 §5): every row derived from the batches of
//! the clients whose `client_id` starts with a prefix (the harness marks its
//! traffic `soko-load-`), removed in one transaction on either backend.
//!
//! What goes: the messages those clients stored; their offers; the products
//! and catalogs first found in them (a product another client's offer still
//! names stays), with their jobs, embeddings and sync-log lines; the dedupe
//! entries (PostgreSQL's `content_hashes`, SQLite's `chat_messages` and the
//! writer's in-memory index) and the `webhook_deliveries` that answered with
//! them; the chats left without messages, with their event-log lines and
//! hourly link budgets; the clients' rows and their rejected-request records.
//! The persistent totals (`counters`) and the counters of a chat that also
//! holds other clients' messages drop by what was removed, so they keep
//! matching the stored rows.
//!
//! What stays: vendors (an admin made them), image files already copied to
//! the image store, and Redis dedupe markers (they expire on their own; a
//! purged message re-sent with the same upstream id within their life is
//! answered as a duplicate).
//!
//! The statements are one text for both backends (`$1` is the prefix; the
//! SQLite writer runs them with rusqlite on its own connection, so its
//! in-memory dedupe index forgets the purged messages in the same step). A
//! dry run runs the same transaction and rolls it back, so its counts are
//! exactly what a purge would remove at that moment.

use serde::Serialize;

use super::{Database, StoreError};

/// Rows removed (or, for a dry run, that would be), by what they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PurgeCounts {
    pub messages: u64,
    pub chats: u64,
    pub offers: u64,
    pub products: u64,
    pub catalogs: u64,
    pub jobs: u64,
    /// Dedupe rows: PostgreSQL's `content_hashes`, SQLite's `chat_messages`.
    pub dedupe_entries: u64,
    pub webhook_deliveries: u64,
    pub clients: u64,
    /// Event-log lines, rejected-request records, product embeddings and
    /// catalog sync-log lines.
    pub log_rows: u64,
}

impl PurgeCounts {
    /// `name=count` pairs, in a fixed order (the CLI prints them).
    pub fn pairs(&self) -> [(&'static str, u64); 10] {
        [
            ("messages", self.messages),
            ("chats", self.chats),
            ("offers", self.offers),
            ("products", self.products),
            ("catalogs", self.catalogs),
            ("jobs", self.jobs),
            ("dedupe_entries", self.dedupe_entries),
            ("webhook_deliveries", self.webhook_deliveries),
            ("clients", self.clients),
            ("log_rows", self.log_rows),
        ]
    }
}

/// A validated prefix: never empty (an empty prefix would match every client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPrefix(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error(
        "the client prefix is empty; it would purge every client's data (the harness uses `soko-load-`)"
    )]
    Empty,
    #[error("the client prefix is longer than 200 characters")]
    TooLong,
}

impl ClientPrefix {
    pub fn parse(raw: &str) -> Result<Self, PrefixError> {
        let prefix = raw.trim();
        if prefix.is_empty() {
            return Err(PrefixError::Empty);
        }
        if prefix.chars().count() > 200 {
            return Err(PrefixError::TooLong);
        }
        Ok(Self(prefix.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which count a statement's affected rows add to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tally {
    None,
    Messages,
    Chats,
    Offers,
    Products,
    Catalogs,
    Jobs,
    Dedupe,
    Deliveries,
    Clients,
    Logs,
}

impl PurgeCounts {
    pub(super) fn add(&mut self, tally: Tally, rows: u64) {
        let slot = match tally {
            Tally::None => return,
            Tally::Messages => &mut self.messages,
            Tally::Chats => &mut self.chats,
            Tally::Offers => &mut self.offers,
            Tally::Products => &mut self.products,
            Tally::Catalogs => &mut self.catalogs,
            Tally::Jobs => &mut self.jobs,
            Tally::Dedupe => &mut self.dedupe_entries,
            Tally::Deliveries => &mut self.webhook_deliveries,
            Tally::Clients => &mut self.clients,
            Tally::Logs => &mut self.log_rows,
        };
        *slot += rows;
    }
}

/// Backend-specific statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

const MATCHES: &str = "substr(client_id, 1, length($1)) = $1";

/// The purge, in order. Counts are taken from the statements that delete
/// (or, for messages and chats, select) the rows.
pub(super) fn statements(dialect: Dialect) -> Vec<(Tally, String)> {
    let mut list: Vec<(Tally, String)> = vec![
        (Tally::None, "CREATE TEMP TABLE purge_messages (id BIGINT PRIMARY KEY, chat_id TEXT NOT NULL)".into()),
        (Tally::None, format!("INSERT INTO purge_messages (id, chat_id) SELECT id, chat_id FROM messages WHERE {MATCHES}")),
        (Tally::None, "CREATE TEMP TABLE purge_chats (id TEXT PRIMARY KEY)".into()),
        // Chats all of whose messages go.
        (
            Tally::None,
            format!(
                "INSERT INTO purge_chats (id) SELECT chat_id FROM messages
                  WHERE chat_id IN (SELECT chat_id FROM purge_messages)
                  GROUP BY chat_id HAVING SUM(CASE WHEN {MATCHES} THEN 0 ELSE 1 END) = 0"
            ),
        ),
        (Tally::None, "CREATE TEMP TABLE purge_catalogs (seller_phone TEXT PRIMARY KEY)".into()),
        (
            Tally::None,
            "INSERT INTO purge_catalogs (seller_phone) SELECT seller_phone FROM catalogs
              WHERE source_message_pk IN (SELECT id FROM purge_messages)"
                .into(),
        ),
        (Tally::None, "CREATE TEMP TABLE purge_products (product_id TEXT PRIMARY KEY)".into()),
        (
            Tally::None,
            "INSERT INTO purge_products (product_id) SELECT p.product_id FROM products p
              WHERE (p.source_message_pk IN (SELECT id FROM purge_messages)
                     OR (p.source_message_pk IS NULL AND p.seller_phone IN (SELECT seller_phone FROM purge_catalogs)))
                AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.wa_product_id = p.product_id
                                   AND o.source_message_pk NOT IN (SELECT id FROM purge_messages))"
                .into(),
        ),
        // The totals drop by the removed chats' tallies, and by the removed
        // messages of chats that stay.
        (Tally::None, totals_update("accepted", "accepted_count")),
        (Tally::None, totals_update("deduped", "deduped_count")),
        (Tally::None, totals_update("extracted", "extracted_count")),
        (
            Tally::None,
            "UPDATE counters SET value = value - (SELECT COUNT(*) FROM purge_messages) WHERE name = 'created'".into(),
        ),
        (
            Tally::None,
            "UPDATE counters SET value = value - (SELECT COUNT(*) FROM purge_messages pm
                  WHERE pm.chat_id NOT IN (SELECT id FROM purge_chats)) WHERE name = 'accepted'"
                .into(),
        ),
        (
            Tally::None,
            "UPDATE chats SET
                 created_count = created_count - (SELECT COUNT(*) FROM purge_messages pm WHERE pm.chat_id = chats.id),
                 accepted_count = accepted_count - (SELECT COUNT(*) FROM purge_messages pm WHERE pm.chat_id = chats.id),
                 offer_count = offer_count - (SELECT COUNT(*) FROM offers o
                     WHERE o.chat_id = chats.id AND o.source_message_pk IN (SELECT id FROM purge_messages))
              WHERE id IN (SELECT chat_id FROM purge_messages) AND id NOT IN (SELECT id FROM purge_chats)"
                .into(),
        ),
        (Tally::Offers, "DELETE FROM offers WHERE source_message_pk IN (SELECT id FROM purge_messages)".into()),
        (
            Tally::Jobs,
            "DELETE FROM jobs WHERE (stage <> 'scout' AND dedupe_key IN (SELECT product_id FROM purge_products))
                                 OR (stage = 'scout' AND dedupe_key IN (SELECT seller_phone FROM purge_catalogs))"
                .into(),
        ),
        (Tally::Logs, "DELETE FROM product_embeddings WHERE product_id IN (SELECT product_id FROM purge_products)".into()),
        (
            Tally::Logs,
            "DELETE FROM catalog_sync_logs WHERE product_id IN (SELECT product_id FROM purge_products)
                 OR (product_id IS NULL AND seller_phone IN (SELECT seller_phone FROM purge_catalogs))"
                .into(),
        ),
        (Tally::Products, "DELETE FROM products WHERE product_id IN (SELECT product_id FROM purge_products)".into()),
        (Tally::Catalogs, "DELETE FROM catalogs WHERE seller_phone IN (SELECT seller_phone FROM purge_catalogs)".into()),
    ];
    match dialect {
        Dialect::Sqlite => {
            list.push((
                Tally::Dedupe,
                "DELETE FROM chat_messages WHERE message_pk IN (SELECT id FROM purge_messages)"
                    .into(),
            ));
            list.push((
                Tally::Deliveries,
                "DELETE FROM webhook_deliveries WHERE EXISTS (SELECT 1 FROM json_each(webhook_deliveries.message_pks) j
                     WHERE j.value IN (SELECT id FROM purge_messages))"
                    .into(),
            ));
        }
        Dialect::Postgres => {
            list.push((
                Tally::Dedupe,
                "DELETE FROM content_hashes WHERE message_pk IN (SELECT id FROM purge_messages)"
                    .into(),
            ));
            list.push((
                Tally::Deliveries,
                "DELETE FROM webhook_deliveries w WHERE EXISTS (
                     SELECT 1 FROM jsonb_array_elements_text(w.message_pks::jsonb) AS j(v)
                      WHERE j.v IS NOT NULL AND j.v::bigint IN (SELECT id FROM purge_messages))"
                    .into(),
            ));
        }
    }
    list.extend([
        // The ingest lines of the batches that stored them (those of a chat
        // that goes are removed with it below).
        (
            Tally::Logs,
            "DELETE FROM event_log WHERE kind = 'ingest' AND chat_id NOT IN (SELECT id FROM purge_chats)
                 AND request_id IN (SELECT m.request_id FROM messages m JOIN purge_messages pm ON pm.id = m.id)"
                .into(),
        ),
        (Tally::Messages, "DELETE FROM messages WHERE id IN (SELECT id FROM purge_messages)".into()),
        (Tally::Logs, "DELETE FROM event_log WHERE chat_id IN (SELECT id FROM purge_chats)".into()),
        (Tally::None, "DELETE FROM link_jobs_hourly WHERE chat_id IN (SELECT id FROM purge_chats)".into()),
        // Per-sender vendor mappings of the purged chats (they reference chats).
        (Tally::None, "DELETE FROM chat_sender_vendors WHERE chat_id IN (SELECT id FROM purge_chats)".into()),
        (Tally::Chats, "DELETE FROM chats WHERE id IN (SELECT id FROM purge_chats)".into()),
        (Tally::Logs, format!("DELETE FROM ingest_failures WHERE {MATCHES}")),
        (Tally::Clients, "DELETE FROM clients WHERE substr(id, 1, length($1)) = $1".into()),
        (Tally::None, "DROP TABLE purge_products".into()),
        (Tally::None, "DROP TABLE purge_catalogs".into()),
        (Tally::None, "DROP TABLE purge_chats".into()),
        (Tally::None, "DROP TABLE purge_messages".into()),
    ]);
    list
}

/// The ids of the messages the purge removes (the SQLite writer's index
/// forgets them), read inside the purge transaction before the deletes.
pub(super) const DOOMED_MESSAGE_IDS: &str = "SELECT id FROM purge_messages";

/// How many statements run before [`DOOMED_MESSAGE_IDS`] can be read.
pub(super) const SETUP_STATEMENTS: usize = 2;

fn totals_update(counter: &str, column: &str) -> String {
    format!(
        "UPDATE counters SET value = value - (SELECT COALESCE(SUM(c.{column}), 0) FROM chats c
              WHERE c.id IN (SELECT id FROM purge_chats)) WHERE name = '{counter}'"
    )
}

/// Runs the purge on PostgreSQL (the SQLite default goes through its writer
/// thread: `SqliteWriter::purge`).
pub(super) async fn purge_postgres(
    db: &Database,
    prefix: &ClientPrefix,
    dry_run: bool,
) -> Result<PurgeCounts, StoreError> {
    let Database::Postgres(pool) = db else {
        return Err(StoreError::Failed("purge_postgres called on SQLite".into()));
    };
    let mut transaction = pool.begin().await?;
    let mut counts = PurgeCounts::default();
    for (tally, sql) in statements(Dialect::Postgres) {
        let query = sqlx::query(&sql);
        let query = if sql.contains("$1") {
            query.bind(prefix.as_str())
        } else {
            query
        };
        let done = query.execute(&mut *transaction).await?;
        counts.add(tally, done.rows_affected());
    }
    if dry_run {
        transaction.rollback().await?;
    } else {
        transaction.commit().await?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_prefix_is_refused() {
        assert_eq!(ClientPrefix::parse(""), Err(PrefixError::Empty));
        assert_eq!(ClientPrefix::parse("   "), Err(PrefixError::Empty));
        assert_eq!(
            ClientPrefix::parse(" soko-load- ").map(|p| p.as_str().to_owned()),
            Ok("soko-load-".to_owned())
        );
        assert_eq!(
            ClientPrefix::parse(&"x".repeat(201)),
            Err(PrefixError::TooLong)
        );
    }

    #[test]
    fn every_temporary_table_is_dropped_and_messages_go_after_what_names_them() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let sql: Vec<String> = statements(dialect).into_iter().map(|(_, s)| s).collect();
            for table in [
                "purge_messages",
                "purge_chats",
                "purge_catalogs",
                "purge_products",
            ] {
                assert!(
                    sql.iter().any(|s| s == &format!("DROP TABLE {table}")),
                    "{table} is dropped"
                );
            }
            let position = |needle: &str| {
                sql.iter()
                    .position(|s| s.starts_with(needle))
                    .expect(needle)
            };
            assert!(position("DELETE FROM offers") < position("DELETE FROM messages"));
            assert!(position("DELETE FROM messages") < position("DELETE FROM chats"));
            assert!(position("DELETE FROM product_embeddings") < position("DELETE FROM products"));
            assert!(
                sql[..SETUP_STATEMENTS]
                    .iter()
                    .any(|s| s.starts_with("INSERT INTO purge_messages"))
            );
        }
    }
}
