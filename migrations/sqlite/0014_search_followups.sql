-- Search answers show a chat's title (offers) and are filtered by its vendor (products
-- take their vendor from the chat), so renaming a chat or mapping it to a vendor moves
-- the search generation too, in the same transaction. Only those two columns: the
-- counters and due times that every ingest updates leave the cache alone.
CREATE TRIGGER chats_search_generation_au AFTER UPDATE OF title, vendor_id ON chats
WHEN old.title IS NOT new.title OR old.vendor_id IS NOT new.vendor_id
BEGIN
    UPDATE search_generation SET value = value + 1;
END;

-- The vector retriever's "active products only" filter reads the inactive products once per
-- search generation; this keeps that read to the few inactive rows.
CREATE INDEX products_inactive ON products (product_id) WHERE active = 0;
