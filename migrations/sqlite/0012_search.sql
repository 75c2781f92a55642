-- Full-text search (issue 15). `search_text` is the listing's normalised words
-- (parse/search_text.rs: lower case, letters and digits cut apart, a space at
-- each end), written by the app in the statement that writes the title; rows
-- from before this migration are filled at start (store/search_index.rs).
-- The FTS5 tables are external-content indexes over that column, kept by the
-- triggers below in the same transaction as the row. The trigram tokenizer
-- indexes every three characters, spaces included, so a query is looked up by
-- its terms' trigrams: partial words and typos (`iphon`, `samsng`) still meet.
ALTER TABLE offers ADD COLUMN search_text TEXT;
ALTER TABLE products ADD COLUMN search_text TEXT;

CREATE VIRTUAL TABLE offers_fts USING fts5(search_text, content = 'offers', content_rowid = 'id', tokenize = 'trigram');
CREATE VIRTUAL TABLE products_fts USING fts5(search_text, content = 'products', content_rowid = 'rowid', tokenize = 'trigram');

-- The index generation: bumped by every write to offers, products or vendors,
-- in the writing transaction, so a search cache keyed by it never serves an
-- answer from before a commit it has seen.
CREATE TABLE search_generation (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    value     INTEGER NOT NULL
);
INSERT INTO search_generation (singleton, value) VALUES (1, 0);

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

CREATE TRIGGER products_search_ai AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
    UPDATE search_generation SET value = value + 1;
END;
CREATE TRIGGER products_search_ad AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    UPDATE search_generation SET value = value + 1;
END;
CREATE TRIGGER products_search_au AFTER UPDATE OF search_text ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO products_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER products_search_generation_au AFTER UPDATE ON products BEGIN
    UPDATE search_generation SET value = value + 1;
END;

CREATE TRIGGER vendors_search_generation_ai AFTER INSERT ON vendors BEGIN
    UPDATE search_generation SET value = value + 1;
END;
CREATE TRIGGER vendors_search_generation_au AFTER UPDATE ON vendors BEGIN
    UPDATE search_generation SET value = value + 1;
END;
