-- Standard Webhooks idempotency (issue 14): one row per `webhook-id` that
-- delivered a batch, written in the group commit that stored the batch. A
-- second delivery with the same id within the content-hash window is
-- answered from this row (every message a duplicate of what the first
-- delivery stored) and stores nothing. Rows older than the window are
-- pruned by the ingest writer. `message_pks` is the first answer's message
-- ids in batch order, as a JSON array (null where a message had none).
CREATE TABLE webhook_deliveries (
    webhook_id     TEXT PRIMARY KEY,
    received_at_ms INTEGER NOT NULL,
    accepted       INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    deduped        INTEGER NOT NULL,
    message_pks    TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at_ms);
