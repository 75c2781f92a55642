-- Ingest deltas (issue 17, store/summary_fold.rs): under concurrent load a
-- group commit stores what it changed in chats, clients, counters and the
-- event log as one compact row here (a postcard-encoded summary), and a fold
-- at most 100 ms later applies the merged rows once and deletes them.
-- accepted/created/deduped are kept in columns so the totals read stays
-- exact while a delta waits.
CREATE TABLE ingest_deltas (
    id       INTEGER PRIMARY KEY,
    accepted INTEGER NOT NULL,
    created  INTEGER NOT NULL,
    deduped  INTEGER NOT NULL,
    body     BLOB NOT NULL
);
