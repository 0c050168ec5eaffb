-- The 12345 chain (issue 8): replies pushed to the platform, and extension requests (延期).

-- Outbox rows of one stream (a 12345 order number) are delivered one after another, oldest first,
-- so that the platform hears 签收 before 办结回复 even when an earlier push had to be retried.
ALTER TABLE outbox ADD COLUMN stream TEXT;
CREATE INDEX outbox_stream ON outbox (stream, id) WHERE done_at IS NULL;

-- An officer's request for more working days, and the leader's decision; `n` counts per case.
CREATE TABLE extensions (
    case_id         BIGINT  NOT NULL,
    n               BIGINT  NOT NULL,
    state           TEXT    NOT NULL,          -- pending | approved | denied
    days            BIGINT  NOT NULL,
    reason          TEXT    NOT NULL,
    requested_by    TEXT    NOT NULL,
    requested_at    TEXT    NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT,
    decision_reason TEXT,
    PRIMARY KEY (case_id, n)
);
