-- Semantic and visual search (issue 15): text vectors of offers and products, and the
-- `index_seq` every search replica follows to keep its in-process vector index current.

-- One counter for every vector row that search indexes. A trigger gives each new or changed
-- vector the next value, so `index_seq > watermark` finds everything committed since a replica's
-- last look (SQLite has one writer, so values are handed out in commit order).
CREATE TABLE search_index_seq (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO search_index_seq (id, value) VALUES (1, 0);

-- The text vector (all-MiniLM-L6-v2, little-endian f32, L2-normalised) of one offer or product:
-- `kind` is 'offer' (listing_id = offers.id) or 'product' (listing_id = products.product_id).
-- `semantic_hash` is over the embedded text, so an unchanged title and description is never
-- embedded again; `source_updated_at_ms` is the listing's `updated_at_ms` when last checked.
CREATE TABLE listing_embeddings (
    kind                  TEXT NOT NULL,
    listing_id            TEXT NOT NULL,
    model_id              TEXT NOT NULL,
    dims                  INTEGER NOT NULL,
    vector                BLOB NOT NULL,
    semantic_hash         TEXT NOT NULL,
    source_updated_at_ms  INTEGER NOT NULL,
    index_seq             INTEGER NOT NULL DEFAULT 0,
    created_at_ms         INTEGER NOT NULL,
    updated_at_ms         INTEGER NOT NULL,
    PRIMARY KEY (kind, listing_id)
);
CREATE INDEX listing_embeddings_seq ON listing_embeddings (index_seq);

ALTER TABLE product_embeddings ADD COLUMN index_seq INTEGER NOT NULL DEFAULT 0;
UPDATE product_embeddings SET index_seq = (SELECT count(*) FROM product_embeddings AS p WHERE p.product_id <= product_embeddings.product_id);
UPDATE search_index_seq SET value = (SELECT count(*) FROM product_embeddings) WHERE id = 1;
CREATE INDEX product_embeddings_seq ON product_embeddings (index_seq);

CREATE TRIGGER listing_embeddings_seq_insert AFTER INSERT ON listing_embeddings
BEGIN
    UPDATE search_index_seq SET value = value + 1 WHERE id = 1;
    UPDATE listing_embeddings SET index_seq = (SELECT value FROM search_index_seq WHERE id = 1)
     WHERE kind = NEW.kind AND listing_id = NEW.listing_id;
END;
CREATE TRIGGER listing_embeddings_seq_update AFTER UPDATE OF vector, model_id ON listing_embeddings
BEGIN
    UPDATE search_index_seq SET value = value + 1 WHERE id = 1;
    UPDATE listing_embeddings SET index_seq = (SELECT value FROM search_index_seq WHERE id = 1)
     WHERE kind = NEW.kind AND listing_id = NEW.listing_id;
END;
CREATE TRIGGER product_embeddings_seq_insert AFTER INSERT ON product_embeddings
BEGIN
    UPDATE search_index_seq SET value = value + 1 WHERE id = 1;
    UPDATE product_embeddings SET index_seq = (SELECT value FROM search_index_seq WHERE id = 1)
     WHERE product_id = NEW.product_id;
END;
CREATE TRIGGER product_embeddings_seq_update AFTER UPDATE OF image_vector, text_vector, hybrid_vector, model_id ON product_embeddings
BEGIN
    UPDATE search_index_seq SET value = value + 1 WHERE id = 1;
    UPDATE product_embeddings SET index_seq = (SELECT value FROM search_index_seq WHERE id = 1)
     WHERE product_id = NEW.product_id;
END;

-- The listing sweep walks offers and products by (updated_at_ms, id).
CREATE INDEX offers_updated ON offers (updated_at_ms, id);
CREATE INDEX products_updated ON products (updated_at_ms, product_id);
