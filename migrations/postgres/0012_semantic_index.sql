-- Semantic and visual search (issue 15): text vectors of offers and products, and the
-- `index_seq` every search replica follows to keep its in-process vector index current.

-- One sequence for every vector row that search indexes. The trigger takes a transaction-scoped
-- advisory lock before `nextval`, so writers of vectors commit in `index_seq` order and a replica
-- reading `index_seq > watermark` can never miss a smaller value committed later.
CREATE SEQUENCE search_index_seq;

-- The text vector (all-MiniLM-L6-v2, little-endian f32, L2-normalised) of one offer or product:
-- `kind` is 'offer' (listing_id = offers.id) or 'product' (listing_id = products.product_id).
-- `semantic_hash` is over the embedded text, so an unchanged title and description is never
-- embedded again; `source_updated_at_ms` is the listing's `updated_at_ms` when last checked.
CREATE TABLE listing_embeddings (
    kind                  TEXT NOT NULL,
    listing_id            TEXT NOT NULL,
    model_id              TEXT NOT NULL,
    dims                  BIGINT NOT NULL,
    vector                BYTEA NOT NULL,
    semantic_hash         TEXT NOT NULL,
    source_updated_at_ms  BIGINT NOT NULL,
    index_seq             BIGINT NOT NULL DEFAULT 0,
    created_at_ms         BIGINT NOT NULL,
    updated_at_ms         BIGINT NOT NULL,
    PRIMARY KEY (kind, listing_id)
);
CREATE INDEX listing_embeddings_seq ON listing_embeddings (index_seq);

ALTER TABLE product_embeddings ADD COLUMN index_seq BIGINT NOT NULL DEFAULT 0;
UPDATE product_embeddings SET index_seq = nextval('search_index_seq');
CREATE INDEX product_embeddings_seq ON product_embeddings (index_seq);

CREATE FUNCTION search_index_bump() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7215100015);
    NEW.index_seq := nextval('search_index_seq');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listing_embeddings_seq BEFORE INSERT OR UPDATE OF vector, model_id ON listing_embeddings
    FOR EACH ROW EXECUTE FUNCTION search_index_bump();
CREATE TRIGGER product_embeddings_seq BEFORE INSERT OR UPDATE OF image_vector, text_vector, hybrid_vector, model_id ON product_embeddings
    FOR EACH ROW EXECUTE FUNCTION search_index_bump();

-- The listing sweep walks offers and products by (updated_at_ms, id).
CREATE INDEX offers_updated ON offers (updated_at_ms, id);
CREATE INDEX products_updated ON products (updated_at_ms, product_id);
