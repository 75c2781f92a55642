-- Fan-out cap per chat (WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR): the
-- product and scout jobs extraction made for a chat in one clock hour
-- (hour_bucket = unix ms / 3,600,000). Updated in the transaction that makes
-- the jobs, so the cap holds across restarts and across gateway processes;
-- buckets older than a day are deleted as the chat's next ones are written.
CREATE TABLE link_jobs_hourly (
    chat_id     TEXT NOT NULL,
    hour_bucket INTEGER NOT NULL,
    jobs        INTEGER NOT NULL,
    PRIMARY KEY (chat_id, hour_bucket)
) WITHOUT ROWID;
