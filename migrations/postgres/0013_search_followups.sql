-- Search answers show a chat's title (offers) and are filtered by its vendor (products
-- take their vendor from the chat), so renaming a chat or mapping it to a vendor moves
-- the search generation too, in the same transaction. Only those two columns, and only
-- when they change: the counters and due times that every ingest updates leave the cache
-- alone.
CREATE TRIGGER chats_search_generation AFTER UPDATE OF title, vendor_id ON chats
    FOR EACH ROW
    WHEN (old.title IS DISTINCT FROM new.title OR old.vendor_id IS DISTINCT FROM new.vendor_id)
    EXECUTE FUNCTION search_generation_bump();

-- The vector retriever's "active products only" filter reads the inactive products once per
-- search generation; this keeps that read to the few inactive rows.
CREATE INDEX products_inactive ON products (product_id) WHERE active = 0;
