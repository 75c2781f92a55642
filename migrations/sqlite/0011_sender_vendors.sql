-- Vendors per sender in group chats (issue 19). A chat keeps its default
-- vendor (chats.vendor_id); a sender of the chat may be mapped to a vendor of
-- their own, and that mapping wins for the offers of their messages.

-- The E.164 sender of the offer's message (NULL when the sender is not a phone).
ALTER TABLE offers ADD COLUMN sender TEXT;
UPDATE offers SET sender = (
    SELECT m.sender FROM messages m WHERE m.id = offers.source_message_pk AND m.sender LIKE '+%'
);
CREATE INDEX offers_sender ON offers (sender, id) WHERE sender IS NOT NULL;

CREATE TABLE chat_sender_vendors (
    chat_id      TEXT NOT NULL REFERENCES chats(id),
    sender       TEXT NOT NULL,
    vendor_id    INTEGER NOT NULL REFERENCES vendors(id),
    mapped_at_ms INTEGER NOT NULL,
    PRIMARY KEY (chat_id, sender)
) WITHOUT ROWID;

-- How many senders of the chat have a vendor of their own: extraction looks
-- the mappings up only when this is above zero, so unmapped chats pay nothing.
ALTER TABLE chats ADD COLUMN sender_vendor_count INTEGER NOT NULL DEFAULT 0;
