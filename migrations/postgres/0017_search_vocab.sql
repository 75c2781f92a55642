-- The search vocabulary (issue 15, store/search_pg.rs): every distinct word of
-- the listings' `search_tsv`, per kind (0 offers, 1 products), so that a query
-- term finds its typo corrections (`samsng` -> `samsung`) by a byte-ordered range
-- read of a few hundred words instead of a pg_trgm scan of every listing. It is
-- the counterpart of SQLite's `*_words_vocab` (migration 0015 there).
--
-- Statement triggers with transition tables keep it in the same transaction as
-- the listings. They only ever add words: a word whose last listing is gone stays
-- (it then finds nothing, which costs one empty index read). There are no counts
-- here, on purpose: a count row per common word (`gb`) would be a hot row every
-- writer queues on; how many listings hold a word comes from the planner's
-- statistics (pg_stats.most_common_elems) instead. Words are inserted sorted, so
-- two writers adding the same new words take their locks in the same order.
CREATE TABLE search_vocab (
    kind SMALLINT NOT NULL,
    word TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, word)
);

INSERT INTO search_vocab (kind, word)
SELECT DISTINCT 0::smallint, w FROM offers, unnest(tsvector_to_array(search_tsv)) AS w
ON CONFLICT DO NOTHING;
INSERT INTO search_vocab (kind, word)
SELECT DISTINCT 1::smallint, w FROM products, unnest(tsvector_to_array(search_tsv)) AS w
ON CONFLICT DO NOTHING;

CREATE FUNCTION search_vocab_add_offers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_vocab (kind, word)
    SELECT DISTINCT 0::smallint, w COLLATE "C" FROM changed, unnest(tsvector_to_array(changed.search_tsv)) AS w
    ORDER BY 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION search_vocab_add_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_vocab (kind, word)
    SELECT DISTINCT 1::smallint, w COLLATE "C" FROM changed, unnest(tsvector_to_array(changed.search_tsv)) AS w
    ORDER BY 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER offers_search_vocab_insert AFTER INSERT ON offers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_vocab_add_offers();
CREATE TRIGGER offers_search_vocab_update AFTER UPDATE ON offers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_vocab_add_offers();
CREATE TRIGGER products_search_vocab_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_vocab_add_products();
CREATE TRIGGER products_search_vocab_update AFTER UPDATE ON products
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_vocab_add_products();

-- A GIN index's pending list (fastupdate) is scanned whole by every search until
-- VACUUM merges it; at the default 4 MB that was most of a query's time after a
-- burst of new listings (a two-term lookup: 7.8 ms with the list full, 2.7 ms
-- after gin_clean_pending_list, 100k offers). 256 kB keeps inserts batched and
-- the scan short.
ALTER INDEX offers_search_tsv SET (gin_pending_list_limit = 256);
ALTER INDEX products_search_tsv SET (gin_pending_list_limit = 256);
ALTER INDEX offers_search_trgm SET (gin_pending_list_limit = 256);
ALTER INDEX products_search_trgm SET (gin_pending_list_limit = 256);
