-- Ingest deltas (issue 17, store/summary_fold.rs): under concurrent load a
-- group commit appends what it changed in chats, clients, counters and the
-- event log as one compact row here (a postcard-encoded summary) instead of
-- updating those hot rows, on whose locks every replica's commits queued. A
-- fold (any replica, FOR UPDATE SKIP LOCKED) applies merged rows and deletes
-- them. accepted/created/deduped are columns so totals stay exact meanwhile.
CREATE TABLE ingest_deltas (
    id       BIGSERIAL PRIMARY KEY,
    accepted BIGINT NOT NULL,
    created  BIGINT NOT NULL,
    deduped  BIGINT NOT NULL,
    body     BYTEA NOT NULL
);
