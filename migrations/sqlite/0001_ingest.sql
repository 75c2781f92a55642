-- Ingest foundation (issue #2). Times are unix epoch milliseconds (INTEGER),
-- the same representation as the PostgreSQL schema, so queries are shared.

CREATE TABLE clients (
    id               TEXT PRIMARY KEY,
    first_seen_at_ms INTEGER NOT NULL,
    last_seen_at_ms  INTEGER NOT NULL,
    request_count    INTEGER NOT NULL DEFAULT 0,
    message_count    INTEGER NOT NULL DEFAULT 0
);

-- Vendors are created by the admin mapping (issue #3); chats point at them.
CREATE TABLE vendors (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    default_currency TEXT,
    created_at_ms    INTEGER NOT NULL
);

CREATE TABLE chats (
    id                  TEXT PRIMARY KEY,
    title               TEXT NOT NULL,
    vendor_id           INTEGER REFERENCES vendors(id),
    first_message_at_ms INTEGER NOT NULL,
    last_message_at_ms  INTEGER NOT NULL,
    -- Debounced extraction: pushed to now + debounce by every created message.
    extract_due_at_ms   INTEGER,
    accepted_count      INTEGER NOT NULL DEFAULT 0,
    created_count       INTEGER NOT NULL DEFAULT 0,
    deduped_count       INTEGER NOT NULL DEFAULT 0,
    extracted_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chats_extract_due ON chats (extract_due_at_ms) WHERE extract_due_at_ms IS NOT NULL;

-- message_key is a 128-bit fingerprint of (chat id, upstream message id) and
-- content_hash the SHA-256 of the normalised content. On SQLite the single
-- writer keeps both in an exact in-memory index rebuilt from this table at
-- start, because random-key B-tree indexes cost more than the rest of the
-- write path together (see README, Performance).
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    chat_id        TEXT NOT NULL REFERENCES chats(id),
    client_id      TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    message_id     TEXT,
    message_key    BLOB,
    sender         TEXT,
    sender_name    TEXT,
    text           TEXT,
    media_json     TEXT,
    content_hash   BLOB NOT NULL,
    -- FALSE for messages with nothing to compare (no text, no identifiable
    -- media): they are deduplicated by message id only.
    dedupe_by_content INTEGER NOT NULL DEFAULT 1,
    upstream_ts_ms INTEGER,
    received_at_ms INTEGER NOT NULL
);
CREATE INDEX messages_chat ON messages (chat_id, id);
CREATE INDEX messages_received ON messages (received_at_ms);

-- Totals that survive restarts (GET /metrics/whatsapp).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES
    ('accepted', 0), ('created', 0), ('deduped', 0), ('extracted', 0), ('errors', 0),
    ('auth_failures', 0), ('forbidden', 0), ('rate_limited', 0), ('signature_failures', 0),
    ('media_failed', 0), ('rejected', 0);

-- Rejected ingest requests, kept bounded by the gateway (recent_failures).
CREATE TABLE ingest_failures (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    client_id  TEXT,
    chat_title TEXT,
    status     INTEGER NOT NULL,
    code       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    request_id TEXT NOT NULL
);

-- Durable jobs (DESIGN.md §1): written in the same transaction as the data
-- that caused them; claimed with a lease.
CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    stage               TEXT NOT NULL,
    dedupe_key          TEXT NOT NULL,
    payload             TEXT NOT NULL,
    state               TEXT NOT NULL DEFAULT 'ready'
                        CHECK (state IN ('ready', 'running', 'done', 'dead')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    max_attempts        INTEGER NOT NULL DEFAULT 4,
    run_at_ms           INTEGER NOT NULL,
    lease_expires_at_ms INTEGER,
    leased_by           TEXT,
    last_error          TEXT,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    UNIQUE (stage, dedupe_key)
);
CREATE INDEX jobs_claim ON jobs (stage, state, run_at_ms);
