-- Extraction (issue #3): debounced per-chat runs, offers, WhatsApp product
-- and catalog links, and a bounded event log for diagnostics.

-- A chat is due at min(last new message + debounce, first pending + max wait);
-- a replica claims it with a lease so one extracts it at a time.
ALTER TABLE chats ADD COLUMN extract_pending_since_ms INTEGER;
ALTER TABLE chats ADD COLUMN extract_claimed_by TEXT;
ALTER TABLE chats ADD COLUMN extract_claim_expires_at_ms INTEGER;
-- Messages with a larger id than this have not been extracted yet.
ALTER TABLE chats ADD COLUMN extracted_through_pk INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN offer_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN last_extracted_at_ms INTEGER;
ALTER TABLE chats ADD COLUMN mapped_at_ms INTEGER;
-- Bumped by every group commit that creates a message in the chat; an
-- extraction clears the due time only if nothing new arrived since it began.
ALTER TABLE chats ADD COLUMN extract_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE offers (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id             TEXT NOT NULL REFERENCES chats(id),
    vendor_id           INTEGER REFERENCES vendors(id),
    source_message_pk   INTEGER NOT NULL REFERENCES messages(id),
    item_index          INTEGER NOT NULL,
    title               TEXT NOT NULL,
    product_key         TEXT NOT NULL,
    wa_product_id       TEXT,
    -- Exact decimal as text (no float rounding); NULL when no price was given.
    price               TEXT,
    currency            TEXT NOT NULL,
    quantity            INTEGER,
    condition           TEXT,
    span_start          INTEGER NOT NULL,
    span_end            INTEGER NOT NULL,
    source_text         TEXT NOT NULL,
    message_received_at_ms INTEGER NOT NULL,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    UNIQUE (source_message_pk, item_index)
);
CREATE INDEX offers_vendor ON offers (vendor_id, id);
CREATE INDEX offers_chat ON offers (chat_id, id);
CREATE INDEX offers_product_key ON offers (product_key, id);
CREATE INDEX offers_wa_product ON offers (wa_product_id, id) WHERE wa_product_id IS NOT NULL;

-- WhatsApp products and catalogs found in messages; the product chain
-- (issue #4) adds what it learns about them.
CREATE TABLE products (
    product_id        TEXT PRIMARY KEY,
    seller_phone      TEXT,
    source_chat_id    TEXT,
    source_message_pk INTEGER,
    created_at_ms     INTEGER NOT NULL,
    updated_at_ms     INTEGER NOT NULL
);
CREATE TABLE catalogs (
    seller_phone      TEXT PRIMARY KEY,
    source_chat_id    TEXT,
    source_message_pk INTEGER,
    created_at_ms     INTEGER NOT NULL,
    updated_at_ms     INTEGER NOT NULL
);

-- Recent ingest and extraction events for the diagnostics log download,
-- kept bounded. Details never hold secrets; phones are masked when shown.
CREATE TABLE event_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    chat_id    TEXT,
    request_id TEXT,
    detail     TEXT NOT NULL
);
