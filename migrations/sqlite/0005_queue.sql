-- The officer's queue: every case keeps its step deadlines and the one due now (UTC, RFC 3339,
-- so that text order is time order).
ALTER TABLE cases ADD COLUMN deadlines TEXT;
ALTER TABLE cases ADD COLUMN due_at TEXT;
CREATE INDEX cases_due ON cases (due_at);
