-- The product chain (issue #4): what scout and hydrate learn about a product,
-- the columns embed, QC and persist fill in, the job queue's last HTTP status,
-- and the seed's catalog_sync_logs event trail.

ALTER TABLE products ADD COLUMN name TEXT;
ALTER TABLE products ADD COLUMN description TEXT;
-- The Meta CDN URL from og:image; persisted_image_url is our own copy.
ALTER TABLE products ADD COLUMN image_url TEXT;
ALTER TABLE products ADD COLUMN persisted_image_url TEXT;
ALTER TABLE products ADD COLUMN last_hydrated_at_ms INTEGER;
-- 1 until the product page answers 404 or 410.
ALTER TABLE products ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE products ADD COLUMN qc_decision TEXT;
ALTER TABLE products ADD COLUMN qc_confidence REAL;
ALTER TABLE products ADD COLUMN qc_reason TEXT;
-- sha256 hex over name | description | image_url: unchanged means no re-embedding.
ALTER TABLE products ADD COLUMN semantic_hash TEXT;
-- The semantic_hash the stored embedding was made from (seed 003 §2.4); NULL: no embedding yet.
ALTER TABLE products ADD COLUMN last_embedding_hash TEXT;
-- 'ok', 'gone', 'not_a_product', 'failed'.
ALTER TABLE products ADD COLUMN hydrate_status TEXT;
CREATE INDEX products_seller ON products (seller_phone, product_id);
CREATE INDEX products_heartbeat ON products (last_hydrated_at_ms) WHERE active = 1;

ALTER TABLE jobs ADD COLUMN last_status INTEGER;
CREATE INDEX jobs_lease ON jobs (state, lease_expires_at_ms);
CREATE INDEX jobs_dead ON jobs (state, updated_at_ms);

CREATE TABLE catalog_sync_logs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    seller_phone  TEXT,
    product_id    TEXT,
    event_type    TEXT NOT NULL,
    status_code   INTEGER,
    error_message TEXT,
    details       TEXT NOT NULL DEFAULT '{}',
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX catalog_sync_logs_product ON catalog_sync_logs (product_id, id);
CREATE INDEX catalog_sync_logs_seller ON catalog_sync_logs (seller_phone, id);
CREATE INDEX catalog_sync_logs_event ON catalog_sync_logs (event_type, id);
