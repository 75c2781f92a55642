-- Issue 16: an upload's bytes are kept in the document store (INGESTION_STORAGE_DIR or S3)
-- under a content-addressed key, instead of in the row until its import has read them.
-- Rows from before this migration keep `content` (their import reads it) and have no key.
ALTER TABLE source_documents ADD COLUMN storage_key TEXT;
