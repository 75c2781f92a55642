-- Catalog re-sync (issue 16, "Catalogs"): every catalog is scouted again once its last scout is
-- older than CATALOG_RESYNC_HOURS, and the new listing is compared with the one before.

-- When the catalog's last scout finished (listed products, or found nothing to list).
ALTER TABLE catalogs ADD COLUMN last_scouted_at_ms INTEGER;
-- Backfill: the scout job's finish, else the newest scout outcome in the event trail; NULL
-- (never finished) counts from the catalog's creation in the sweep.
UPDATE catalogs SET last_scouted_at_ms = COALESCE(
    (SELECT j.updated_at_ms FROM jobs j
      WHERE j.stage = 'scout' AND j.dedupe_key = catalogs.seller_phone AND j.state IN ('done', 'dead')),
    (SELECT MAX(l.created_at_ms) FROM catalog_sync_logs l
      WHERE l.seller_phone = catalogs.seller_phone AND l.event_type IN ('scout_success', 'scout_error')));
-- The sweep's one query reads catalogs in this order, oldest scout first.
CREATE INDEX catalogs_resync ON catalogs (COALESCE(last_scouted_at_ms, created_at_ms));

-- 1 while the seller's catalog lists the product (as its last scout read it).
ALTER TABLE products ADD COLUMN in_catalog INTEGER NOT NULL DEFAULT 0;
-- When a re-scout no longer found the product in its catalog (it is then inactive); NULL while
-- listed, or for a product no catalog ever listed.
ALTER TABLE products ADD COLUMN delisted_at_ms INTEGER;
-- Backfill: a product with no source message whose seller has a catalog came from that catalog.
UPDATE products SET in_catalog = 1
 WHERE source_message_pk IS NULL AND seller_phone IN (SELECT seller_phone FROM catalogs);
