-- Offer precision (issue 18): a delivery, shipping, transport or packaging fee
-- line is never an offer; where it applies to a message's items its amount is
-- kept on them. Exact decimal as text, like price; NULL when none is stated.
ALTER TABLE offers ADD COLUMN delivery_fee TEXT;
