-- Vendor documents (issue 16, first slice): spreadsheets and price lists become
-- offers, re-synced by difference. An offer's source is now either a chat
-- message (chat_id + source_message_pk, as before) or a document row
-- (source_document_id + source_row); a CHECK holds exactly one of them.
--
-- One row per uploaded document. `errors` is a JSON array of
-- {"row": <1-based row number>, "sheet": <name or null>, "reason": <text>}.
CREATE TABLE source_documents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor_id       INTEGER NOT NULL REFERENCES vendors(id),
    file_name       TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    processor       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed', 'skipped')),
    reason          TEXT,
    created_count   INTEGER NOT NULL DEFAULT 0,
    updated_count   INTEGER NOT NULL DEFAULT 0,
    unchanged_count INTEGER NOT NULL DEFAULT 0,
    removed_count   INTEGER NOT NULL DEFAULT 0,
    error_count     INTEGER NOT NULL DEFAULT 0,
    errors          TEXT NOT NULL DEFAULT '[]',
    -- The uploaded bytes until the import job has read them (cleared when it finishes).
    content         BLOB,
    created_at_ms   INTEGER NOT NULL,
    finished_at_ms  INTEGER
);
CREATE INDEX source_documents_vendor ON source_documents (vendor_id, id);
CREATE INDEX source_documents_status ON source_documents (status, id);
-- The whole-document skip: the same bytes for the same vendor, already imported.
CREATE INDEX source_documents_sha ON source_documents (vendor_id, sha256) WHERE status = 'done';

-- SQLite cannot drop NOT NULL in place: the offers table is rebuilt with the
-- same ids (so offers_fts, an external-content index keyed by id, stays valid),
-- then its indexes and triggers are created again exactly as migrations 0002,
-- 0011, 0012 and 0013 made them.
CREATE TABLE offers_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id             TEXT REFERENCES chats(id),
    vendor_id           INTEGER REFERENCES vendors(id),
    source_message_pk   INTEGER REFERENCES messages(id),
    item_index          INTEGER NOT NULL,
    title               TEXT NOT NULL,
    product_key         TEXT NOT NULL,
    wa_product_id       TEXT,
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
    delivery_fee        TEXT,
    sender              TEXT,
    search_text         TEXT,
    source_document_id  INTEGER REFERENCES source_documents(id),
    source_row          INTEGER,
    -- The document row's identity within its vendor (SKU, else the product key)
    -- and the hash of every field that changes the offer: the re-sync diff.
    row_key             TEXT,
    row_hash            TEXT,
    -- 0 once the row left the vendor's document snapshot; never deleted.
    active              INTEGER NOT NULL DEFAULT 1,
    UNIQUE (source_message_pk, item_index),
    CHECK (
        (source_message_pk IS NOT NULL AND chat_id IS NOT NULL AND source_document_id IS NULL AND source_row IS NULL)
        OR (source_message_pk IS NULL AND source_document_id IS NOT NULL AND source_row IS NOT NULL
            AND row_key IS NOT NULL AND vendor_id IS NOT NULL)
    )
);
INSERT INTO offers_new (id, chat_id, vendor_id, source_message_pk, item_index, title, product_key, wa_product_id,
                        price, currency, quantity, condition, span_start, span_end, source_text, message_received_at_ms,
                        created_at_ms, updated_at_ms, delivery_fee, sender, search_text)
SELECT id, chat_id, vendor_id, source_message_pk, item_index, title, product_key, wa_product_id,
       price, currency, quantity, condition, span_start, span_end, source_text, message_received_at_ms,
       created_at_ms, updated_at_ms, delivery_fee, sender, search_text
  FROM offers;
-- Keep the AUTOINCREMENT high-water mark, so ids of deleted offers are never handed out again.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'offers_new', seq FROM sqlite_sequence
 WHERE name = 'offers' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'offers_new');
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'offers')
 WHERE name = 'offers_new' AND (SELECT seq FROM sqlite_sequence WHERE name = 'offers') > seq;
DROP TABLE offers;
ALTER TABLE offers_new RENAME TO offers;

CREATE INDEX offers_vendor ON offers (vendor_id, id);
CREATE INDEX offers_chat ON offers (chat_id, id);
CREATE INDEX offers_product_key ON offers (product_key, id);
CREATE INDEX offers_wa_product ON offers (wa_product_id, id) WHERE wa_product_id IS NOT NULL;
CREATE INDEX offers_sender ON offers (sender, id) WHERE sender IS NOT NULL;
CREATE INDEX offers_updated ON offers (updated_at_ms, id);
CREATE UNIQUE INDEX offers_document_row_key ON offers (vendor_id, row_key) WHERE source_document_id IS NOT NULL;
CREATE INDEX offers_document ON offers (source_document_id, source_row) WHERE source_document_id IS NOT NULL;
CREATE INDEX offers_inactive ON offers (id) WHERE active = 0;

CREATE TRIGGER offers_search_ai AFTER INSERT ON offers BEGIN
    INSERT INTO offers_fts (rowid, search_text) VALUES (new.id, new.search_text);
    UPDATE search_generation SET value = value + 1;
END;
CREATE TRIGGER offers_search_ad AFTER DELETE ON offers BEGIN
    INSERT INTO offers_fts (offers_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    UPDATE search_generation SET value = value + 1;
END;
CREATE TRIGGER offers_search_au AFTER UPDATE OF search_text ON offers BEGIN
    INSERT INTO offers_fts (offers_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO offers_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER offers_search_generation_au AFTER UPDATE ON offers BEGIN
    UPDATE search_generation SET value = value + 1;
END;
-- The word index's triggers (0015), dropped with the old table like the ones above.
CREATE TRIGGER offers_words_ai AFTER INSERT ON offers BEGIN
    INSERT INTO offers_words (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER offers_words_ad AFTER DELETE ON offers BEGIN
    INSERT INTO offers_words (offers_words, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER offers_words_au AFTER UPDATE OF search_text ON offers BEGIN
    INSERT INTO offers_words (offers_words, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO offers_words (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- The table changed under the search cache: move the generation once.
UPDATE search_generation SET value = value + 1;
