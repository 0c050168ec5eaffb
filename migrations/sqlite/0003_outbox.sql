-- Mail out (issue: e-mail): officers' addresses and the sender's lease on outbox rows.

-- Where a user receives notices of new cases (optional).
ALTER TABLE users ADD COLUMN email TEXT;

-- A sender holds a row until this time while it delivers it; a crashed sender's rows come due again.
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
-- Set when delivery was given up (a permanent refusal, or too many attempts); the row stays.
ALTER TABLE outbox ADD COLUMN failed_at TEXT;

CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE done_at IS NULL;
