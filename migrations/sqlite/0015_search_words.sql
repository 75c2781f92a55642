-- Word-level full-text index (issue 15, the text-speed follow-up). The trigram
-- tables of 0012 match any three characters, so a query made of all its terms'
-- trigrams met most of the catalogue and `bm25()` ranked every row: 100-250 ms
-- at 100k listings. These tables index whole words (`search_text` is already
-- normalised to lower-case words cut where letters meet digits), so a query
-- looks up each term as a word or a word prefix and intersects them, reading
-- only the rows that hold every term. The trigram tables stay for typos: a term
-- that no word begins with is looked up by its trigrams (store/search_words.rs).
-- Same external content and the same transaction as the row, kept by triggers.
CREATE VIRTUAL TABLE offers_words USING fts5(search_text, content = 'offers', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE products_words USING fts5(search_text, content = 'products', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 0');

-- The words each index holds, with how many listings hold them: a query term
-- that begins no word is corrected from here, and common terms are told apart
-- from rare ones without reading any listing.
CREATE VIRTUAL TABLE offers_words_vocab USING fts5vocab(offers_words, 'row');
CREATE VIRTUAL TABLE products_words_vocab USING fts5vocab(products_words, 'row');
-- The same for the trigram tables: a term no word knows is looked up by its rarest trigrams.
CREATE VIRTUAL TABLE offers_fts_vocab USING fts5vocab(offers_fts, 'row');
CREATE VIRTUAL TABLE products_fts_vocab USING fts5vocab(products_fts, 'row');

INSERT INTO offers_words (offers_words) VALUES ('rebuild');
INSERT INTO products_words (products_words) VALUES ('rebuild');

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

CREATE TRIGGER products_words_ai AFTER INSERT ON products BEGIN
    INSERT INTO products_words (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER products_words_ad AFTER DELETE ON products BEGIN
    INSERT INTO products_words (products_words, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER products_words_au AFTER UPDATE OF search_text ON products BEGIN
    INSERT INTO products_words (products_words, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO products_words (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
