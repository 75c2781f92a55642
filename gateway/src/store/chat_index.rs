//! How a chat's messages are found on the embedded default: the
//! `chat_messages` table (migration 0005) plus a short unindexed tail.
//!
//! The ingest writer collects the (chat, message) pairs it commits and writes
//! them into `chat_messages` sorted, [`FLUSH_AT`] or more at a time, inside
//! the group commit that crosses the threshold, moving
//! `chat_messages_progress.through_pk` in the same transaction. A per-row
//! index on `messages (chat_id, id)` instead made every group commit rewrite
//! a leaf page or two per active chat, most of the WAL it fsynced.
//!
//! Readers take the indexed part and the tail past `through_pk` in one
//! statement, so they see one snapshot. After a crash the tail is rebuilt
//! from `messages` at start; it is never longer than one flush plus a group.
//! PostgreSQL keeps its ordinary index and the plain queries.

use rusqlite::{Connection, Transaction, params};

/// Pairs held back before a flush: the tail readers scan stays this short.
pub const FLUSH_AT: usize = 512;

/// A chat's messages after a primary key, oldest first.
pub const SQLITE_PAGE_AFTER: &str = "
    SELECT m.id, m.sender, m.text, m.received_at_ms
      FROM (SELECT message_pk FROM chat_messages
             WHERE chat_id = $1 AND message_pk > $2 ORDER BY message_pk LIMIT $3) AS indexed
      JOIN messages m ON m.id = indexed.message_pk
    UNION ALL
    SELECT id, sender, text, received_at_ms FROM messages
     WHERE id > MAX($2, (SELECT through_pk FROM chat_messages_progress)) AND chat_id = $1
    ORDER BY 1 LIMIT $3";

/// A chat's latest messages, newest first.
pub const SQLITE_LATEST: &str = "
    SELECT m.id, m.sender, m.sender_name, m.text, m.upstream_ts_ms, m.received_at_ms
      FROM (SELECT message_pk FROM chat_messages WHERE chat_id = $1 ORDER BY message_pk DESC LIMIT $2) AS indexed
      JOIN messages m ON m.id = indexed.message_pk
    UNION ALL
    SELECT id, sender, sender_name, text, upstream_ts_ms, received_at_ms FROM messages
     WHERE id > (SELECT through_pk FROM chat_messages_progress) AND chat_id = $1
    ORDER BY 1 DESC LIMIT $2";

/// The writer's side: pairs committed but not yet in `chat_messages`.
pub struct ChatIndexTail {
    flush_at: usize,
    committed: Vec<(String, i64)>,
    /// Pairs of the group being written; kept or dropped with its transaction.
    group: Vec<(String, i64)>,
    flushed_in_group: bool,
}

impl ChatIndexTail {
    /// Reads back whatever a previous process committed past `through_pk`.
    pub fn load(connection: &Connection) -> rusqlite::Result<Self> {
        Self::load_with_threshold(connection, FLUSH_AT)
    }

    fn load_with_threshold(connection: &Connection, flush_at: usize) -> rusqlite::Result<Self> {
        let mut statement = connection.prepare(
            "SELECT chat_id, id FROM messages
              WHERE id > (SELECT through_pk FROM chat_messages_progress) ORDER BY id",
        )?;
        let committed = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok(Self { flush_at, committed, group: Vec::new(), flushed_in_group: false })
    }

    pub fn len(&self) -> usize {
        self.committed.len() + self.group.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, chat_id: &str, message_pk: i64) {
        self.group.push((chat_id.to_owned(), message_pk));
    }

    /// Called inside the group's transaction once its messages are written.
    pub fn flush_if_due(&mut self, transaction: &Transaction<'_>) -> rusqlite::Result<()> {
        if self.len() < self.flush_at {
            return Ok(());
        }
        let mut pairs: Vec<&(String, i64)> = self.committed.iter().chain(&self.group).collect();
        // Sorted, each chat's pairs land together: one pass along its leaves.
        pairs.sort_unstable();
        // OR IGNORE: a pair already there must not stop ingest for good.
        let mut insert =
            transaction.prepare_cached("INSERT OR IGNORE INTO chat_messages (chat_id, message_pk) VALUES (?1, ?2)")?;
        let mut through = 0;
        for (chat_id, message_pk) in pairs {
            insert.execute(params![chat_id, message_pk])?;
            through = through.max(*message_pk);
        }
        transaction.execute("UPDATE chat_messages_progress SET through_pk = MAX(through_pk, ?1)", [through])?;
        self.flushed_in_group = true;
        Ok(())
    }

    /// The group's transaction committed.
    pub fn commit(&mut self) {
        if std::mem::take(&mut self.flushed_in_group) {
            self.committed.clear();
            self.group.clear();
        } else {
            self.committed.append(&mut self.group);
        }
    }

    /// Purged messages (`store::purge`) are never written to `chat_messages`.
    pub fn forget(&mut self, message_pks: &std::collections::HashSet<i64>) {
        self.committed.retain(|(_, pk)| !message_pks.contains(pk));
    }

    /// The group's transaction rolled back: nothing of it happened.
    pub fn rollback(&mut self) {
        self.group.clear();
        self.flushed_in_group = false;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rusqlite::{Connection, TransactionBehavior, params};

    use super::*;

    const MIGRATIONS: [&str; 5] = [
        include_str!("../../../migrations/sqlite/0001_ingest.sql"),
        include_str!("../../../migrations/sqlite/0002_extraction.sql"),
        include_str!("../../../migrations/sqlite/0003_product_chain.sql"),
        include_str!("../../../migrations/sqlite/0004_embeddings_qc.sql"),
        include_str!("../../../migrations/sqlite/0005_chat_messages.sql"),
    ];

    fn database(migrations: &[&str]) -> Connection {
        let connection = Connection::open_in_memory().expect("open");
        connection.execute_batch("PRAGMA foreign_keys = OFF;").expect("pragma");
        for migration in migrations {
            connection.execute_batch(migration).expect("migration");
        }
        connection
    }

    fn chat_id(chat: u8) -> String {
        format!("chat-{chat}")
    }

    /// What the writer does for one group: insert, flush when due, commit or roll back.
    fn write_group(connection: &mut Connection, tail: &mut ChatIndexTail, chats: &[u8], commit: bool) {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).expect("begin");
        for chat in chats {
            transaction
                .execute(
                    "INSERT INTO messages (chat_id, client_id, request_id, text, content_hash, received_at_ms)
                     VALUES (?1, 'c', 'r', 'text', x'00', 1)",
                    [chat_id(*chat)],
                )
                .expect("insert");
            tail.push(&chat_id(*chat), transaction.last_insert_rowid());
        }
        tail.flush_if_due(&transaction).expect("flush");
        if commit {
            transaction.commit().expect("commit");
            tail.commit();
        } else {
            drop(transaction);
            tail.rollback();
        }
    }

    fn read_ids(connection: &Connection, sql: &str, chat: u8, numbers: &[i64]) -> Vec<i64> {
        let mut statement = connection.prepare(sql).expect("prepare");
        let chat = chat_id(chat);
        let bound: Vec<&dyn rusqlite::ToSql> =
            std::iter::once(&chat as &dyn rusqlite::ToSql).chain(numbers.iter().map(|n| n as &dyn rusqlite::ToSql)).collect();
        statement.query_map(bound.as_slice(), |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("rows")
    }

    fn expected(connection: &Connection, chat: u8) -> Vec<i64> {
        read_ids(connection, "SELECT id FROM messages WHERE chat_id = ?1 ORDER BY id", chat, &[])
    }

    fn assert_reads_agree(connection: &Connection, chats: u8) {
        for chat in 0..chats {
            let all = expected(connection, chat);
            for after in [0, 1, all.len() as i64 / 2, all.last().copied().unwrap_or(0)] {
                for limit in [1_i64, 3, 1_000] {
                    let page = read_ids(connection, SQLITE_PAGE_AFTER, chat, &[after, limit]);
                    let want: Vec<i64> = all.iter().copied().filter(|id| *id > after).take(limit as usize).collect();
                    assert_eq!(page, want, "page after {after}, limit {limit}, chat {chat}");
                }
            }
            for limit in [1_i64, 4, 1_000] {
                let latest = read_ids(connection, SQLITE_LATEST, chat, &[limit]);
                let want: Vec<i64> = all.iter().rev().copied().take(limit as usize).collect();
                assert_eq!(latest, want, "latest {limit}, chat {chat}");
            }
        }
    }

    fn through_pk(connection: &Connection) -> i64 {
        connection.query_row("SELECT through_pk FROM chat_messages_progress", [], |row| row.get(0)).expect("progress")
    }

    #[test]
    fn reads_see_flushed_pairs_and_the_tail_alike() {
        let mut connection = database(&MIGRATIONS);
        let mut tail = ChatIndexTail::load_with_threshold(&connection, 8).expect("load");
        write_group(&mut connection, &mut tail, &[0, 1, 0], true);
        assert_eq!(through_pk(&connection), 0, "below the threshold nothing is flushed");
        assert_reads_agree(&connection, 3);
        write_group(&mut connection, &mut tail, &[2, 0, 1, 1, 0, 2], true);
        assert_eq!(through_pk(&connection), 9, "the group that crossed the threshold flushed everything");
        assert!(tail.is_empty());
        write_group(&mut connection, &mut tail, &[1, 2], true);
        assert_reads_agree(&connection, 3);
    }

    #[test]
    fn a_rolled_back_flush_leaves_the_pairs_pending() {
        let mut connection = database(&MIGRATIONS);
        let mut tail = ChatIndexTail::load_with_threshold(&connection, 4).expect("load");
        write_group(&mut connection, &mut tail, &[0, 1], true);
        write_group(&mut connection, &mut tail, &[0, 1, 0], false);
        assert_eq!(through_pk(&connection), 0);
        assert_eq!(tail.len(), 2);
        write_group(&mut connection, &mut tail, &[1, 1], true);
        assert_eq!(through_pk(&connection), expected(&connection, 1).last().copied().unwrap_or(0));
        assert_reads_agree(&connection, 2);
    }

    #[test]
    fn the_migration_indexes_messages_written_before_it() {
        let connection = database(&MIGRATIONS[..4]);
        for chat in [0, 1, 0, 2, 0] {
            connection
                .execute(
                    "INSERT INTO messages (chat_id, client_id, request_id, content_hash, received_at_ms) VALUES (?1, 'c', 'r', x'00', 1)",
                    params![chat_id(chat)],
                )
                .expect("insert");
        }
        connection.execute_batch(MIGRATIONS[4]).expect("migration 0005");
        assert_eq!(through_pk(&connection), 5);
        let index_left: i64 = connection
            .query_row("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'messages_chat'", [], |row| row.get(0))
            .expect("schema");
        assert_eq!(index_left, 0);
        assert_reads_agree(&connection, 3);
    }

    #[test]
    fn both_reads_use_indexes_not_a_table_scan() {
        let connection = database(&MIGRATIONS);
        let page: &[&dyn rusqlite::ToSql] = &[&"chat-0", &0, &10];
        let latest: &[&dyn rusqlite::ToSql] = &[&"chat-0", &10];
        for (sql, bound) in [(SQLITE_PAGE_AFTER, page), (SQLITE_LATEST, latest)] {
            let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("plan");
            let plan: Vec<String> =
                statement.query_map(bound, |row| row.get::<_, String>(3)).expect("rows").collect::<Result<_, _>>().expect("plan");
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN messages") && !step.starts_with("SCAN m")),
                "a full scan of messages in:\n{}",
                plan.join("\n")
            );
            assert!(plan.iter().any(|step| step.contains("INTEGER PRIMARY KEY (rowid>?)")), "{}", plan.join("\n"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any sequence of groups, rolled back or not, with restarts that
        /// rebuild the tail from the table, reads like a per-row index would.
        #[test]
        fn reads_match_a_per_row_index(
            groups in prop::collection::vec((prop::collection::vec(0_u8..4, 0..7), any::<bool>(), 0_u8..6), 1..30),
            flush_at in 1_usize..12,
        ) {
            let mut connection = database(&MIGRATIONS);
            let mut tail = ChatIndexTail::load_with_threshold(&connection, flush_at).expect("load");
            for (chats, commit, restart) in groups {
                write_group(&mut connection, &mut tail, &chats, commit || chats.is_empty());
                if restart == 0 {
                    tail = ChatIndexTail::load_with_threshold(&connection, flush_at).expect("reload");
                }
                prop_assert!(tail.len() < flush_at.max(1) + 7);
            }
            assert_reads_agree(&connection, 4);
        }
    }
}
