-- Mail in (PostgreSQL): the raw message as bytes, attachments stored with their report, rejected (poison) mail.

-- Raw payloads that are bytes (a mail as received); `payload` then holds nothing.
ALTER TABLE report_raw ADD COLUMN payload_bytes BYTEA;

-- Attachments, written in the report's transaction. A refused attachment keeps its name, type,
-- size, hash and reason, but no data.
CREATE TABLE attachments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id     BIGINT  NOT NULL,
    file_name     TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    sha256        TEXT    NOT NULL,
    data          BYTEA,
    rejected      TEXT
);
CREATE INDEX attachments_report ON attachments (report_id);

-- Mail that could not become a report, kept with its reason; one row per mailbox and message.
CREATE TABLE rejected_mail (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox       TEXT    NOT NULL,
    uid           BIGINT,
    message_id    TEXT,
    sha256        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    raw           BYTEA    NOT NULL,
    received_at   TEXT    NOT NULL,
    UNIQUE (mailbox, sha256)
);
