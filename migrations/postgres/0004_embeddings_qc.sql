-- Embed and quality control (issue #4): one embedding row per product, and the
-- LLM quality-control answer cache.

-- Vectors are little-endian f32 arrays (`dims` values each), L2-normalised.
-- `image_vector` is NULL when the product was embedded from its text alone;
-- the weights then read 0 and 1. `semantic_hash` is the product's hash at the
-- time it was embedded, so a heartbeat can tell whether the vector is stale.
CREATE TABLE product_embeddings (
    product_id     TEXT PRIMARY KEY REFERENCES products(product_id),
    model_id       TEXT NOT NULL,
    dims           BIGINT NOT NULL,
    image_vector   BYTEA,
    text_vector    BYTEA NOT NULL,
    hybrid_vector  BYTEA NOT NULL,
    image_weight   DOUBLE PRECISION NOT NULL,
    text_weight    DOUBLE PRECISION NOT NULL,
    image_status   TEXT NOT NULL,
    semantic_hash  TEXT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);

-- LLM answers by content hash (model, prompt version, title, description,
-- image digest), reused for 24 h so a re-run costs no provider call.
CREATE TABLE qc_answer_cache (
    content_hash   TEXT PRIMARY KEY,
    provider       TEXT NOT NULL,
    decision       TEXT NOT NULL,
    confidence     DOUBLE PRECISION NOT NULL,
    reason         TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL
);
CREATE INDEX qc_answer_cache_expiry ON qc_answer_cache (expires_at_ms);
