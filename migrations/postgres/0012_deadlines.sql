-- Deadline reminders and escalations (issue 8): one row per case, deadline step, deadline and kind
-- (`reminded`, `escalated`). The sweep inserts the row first, in the transaction that writes the
-- case event and the mail, so that each is sent once across restarts and across nodes.
CREATE TABLE deadline_notices (
    case_id       BIGINT  NOT NULL,
    step          TEXT    NOT NULL,          -- sign_for | first_contact | verification | reply
    due_at        TEXT    NOT NULL,          -- the deadline (UTC, RFC 3339, as in cases.due_at)
    kind          TEXT    NOT NULL,          -- reminded | escalated
    at            TEXT    NOT NULL,
    target        TEXT,                      -- the jurisdiction notified
    recipients    BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, step, due_at, kind)
);
