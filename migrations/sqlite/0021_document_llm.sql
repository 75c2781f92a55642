-- Issue 16: optional LLM normalisation of the rows the rules cannot read. An upload records
-- whether it asked for it (the same bytes read the other way are not a skip), and the finished
-- import how many of its rows the LLM read.
ALTER TABLE source_documents ADD COLUMN prefer_llm INTEGER NOT NULL DEFAULT 0;
ALTER TABLE source_documents ADD COLUMN llm_rows INTEGER NOT NULL DEFAULT 0;
