-- Price history (issue 16): every price a vendor document (and, later, a
-- catalog re-sync) states for an offer appends one row here, in the same
-- transaction as the offer write, so a re-import that overwrites an offer's
-- price in place keeps the old one. Chat offers are their own history (each
-- message makes a new offer row): `GET /price-history/product/{key}` reads
-- them from `offers` and unions these rows, so nothing is counted twice.
--
-- old_price/old_currency are NULL for an offer's first price. Prices are exact
-- decimals as text, like offers.price. offer_id has no foreign key on purpose:
-- SQLite rebuilds a table to change its constraints (migration 0016 rebuilt
-- offers), and a rebuild inside a migration's transaction cannot turn foreign
-- keys off, so a key here would make the next rebuild of offers fail.
CREATE TABLE price_history (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    offer_id           INTEGER NOT NULL,
    product_key        TEXT NOT NULL,
    wa_product_id      TEXT,
    vendor_id          INTEGER REFERENCES vendors(id),
    old_price          TEXT,
    old_currency       TEXT,
    new_price          TEXT NOT NULL,
    currency           TEXT NOT NULL,
    source             TEXT NOT NULL CHECK (source IN ('document', 'chat', 'catalog')),
    source_document_id INTEGER REFERENCES source_documents(id),
    at_ms              INTEGER NOT NULL
);
CREATE INDEX price_history_product ON price_history (product_key, at_ms);
CREATE INDEX price_history_wa_product ON price_history (wa_product_id, at_ms) WHERE wa_product_id IS NOT NULL;
CREATE INDEX price_history_offer ON price_history (offer_id, id);

-- Document offers imported before this table existed: their current price, as
-- of the document that last wrote it (earlier prices were overwritten and are
-- gone). Chat offers need nothing: the read takes them from offers.
INSERT INTO price_history (offer_id, product_key, wa_product_id, vendor_id, old_price, old_currency, new_price,
                           currency, source, source_document_id, at_ms)
SELECT o.id, o.product_key, o.wa_product_id, o.vendor_id, NULL, NULL, o.price, o.currency, 'document',
       o.source_document_id, COALESCE(d.created_at_ms, o.message_received_at_ms)
  FROM offers o LEFT JOIN source_documents d ON d.id = o.source_document_id
 WHERE o.source_document_id IS NOT NULL AND o.price IS NOT NULL
 ORDER BY o.id;
