-- A chat's messages are found through chat_messages instead of an index on
-- messages (chat_id, id). Such an index takes one insert per message at a
-- point of its own per chat, so every group commit rewrote a leaf page or
-- two per active chat: with 50 busy chats that was 80% of the WAL written
-- and fsynced per commit. The ingest writer instead collects (chat, message)
-- pairs and writes them here sorted, hundreds at a time, in the group
-- commit that crosses its threshold (store/chat_index.rs).
--
-- Invariant: every message with id <= chat_messages_progress.through_pk has
-- its row here. Newer messages (a short tail) are found by scanning messages
-- past through_pk; readers do both in one statement.
CREATE TABLE chat_messages (
    chat_id    TEXT NOT NULL,
    message_pk INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_pk)
) WITHOUT ROWID;

CREATE TABLE chat_messages_progress (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    through_pk INTEGER NOT NULL
);

INSERT INTO chat_messages (chat_id, message_pk) SELECT chat_id, id FROM messages;
INSERT INTO chat_messages_progress (singleton, through_pk) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
DROP INDEX messages_chat;
