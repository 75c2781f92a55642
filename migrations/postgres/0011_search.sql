-- Full-text search (issue 15). `search_text` is the listing's normalised words
-- (parse/search_text.rs: lower case, letters and digits cut apart, a space at
-- each end), written by the app in the statement that writes the title; rows
-- from before this migration are filled at start (store/search_index.rs).
-- `search_tsv` is derived from it by the database (so it is transactional with
-- the row) and indexed with GIN for `@@` and `ts_rank_cd`; the pg_trgm GIN
-- index serves fuzzy matches (`<%`, word_similarity) for typos.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE offers ADD COLUMN search_text TEXT;
ALTER TABLE offers ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(search_text, ''))) STORED;
CREATE INDEX offers_search_tsv ON offers USING GIN (search_tsv);
CREATE INDEX offers_search_trgm ON offers USING GIN (search_text gin_trgm_ops);

ALTER TABLE products ADD COLUMN search_text TEXT;
ALTER TABLE products ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(search_text, ''))) STORED;
CREATE INDEX products_search_tsv ON products USING GIN (search_tsv);
CREATE INDEX products_search_trgm ON products USING GIN (search_text gin_trgm_ops);

-- The index generation: the sum of these rows. Every statement that writes
-- offers, products or vendors bumps one shard (by backend pid) in its own
-- transaction, so concurrent writers rarely wait on one row, and a reader that
-- reads the sum before its query never caches an answer under a generation
-- newer than the data it saw.
CREATE TABLE search_generation (
    shard INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO search_generation (shard, value) SELECT s, 0 FROM generate_series(0, 15) AS s;

CREATE FUNCTION search_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_generation SET value = value + 1 WHERE shard = pg_backend_pid() % 16;
    RETURN NULL;
END
$$;
CREATE TRIGGER offers_search_generation AFTER INSERT OR UPDATE OR DELETE ON offers
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_bump();
CREATE TRIGGER products_search_generation AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_bump();
CREATE TRIGGER vendors_search_generation AFTER INSERT OR UPDATE OR DELETE ON vendors
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_bump();
