-- Standard Webhooks idempotency (issue 14): one row per `webhook-id` that
-- delivered a batch, claimed and written in the group commit that stores the
-- batch. The primary key makes the claim exact across replicas: a second
-- delivery of the same id waits for the first transaction, then reads its
-- row and stores nothing. Rows older than the content-hash window are
-- pruned by the ingest writer. `message_pks` is the first answer's message
-- ids in batch order, as a JSON array (null where a message had none).
CREATE TABLE webhook_deliveries (
    webhook_id     TEXT PRIMARY KEY,
    received_at_ms BIGINT NOT NULL,
    accepted       BIGINT NOT NULL,
    created        BIGINT NOT NULL,
    deduped        BIGINT NOT NULL,
    message_pks    TEXT NOT NULL
);

CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at_ms);
