-- The foundation schema (SQLite). Ids of reports and cases are allocated by the application in
-- blocks so that a batch can be inserted with multi-row statements (see src/store/mod.rs).

CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    channel       TEXT    NOT NULL,
    external_id   TEXT    NOT NULL,
    received_at   TEXT    NOT NULL,          -- RFC 3339 as given
    received_ts   BIGINT  NOT NULL,          -- unix milliseconds, for ranges and order
    title         TEXT,
    text          TEXT    NOT NULL,          -- as received, for display
    address       TEXT,
    deadline      TEXT,
    subject_json  TEXT,                      -- the structured subject, when the channel gave one
    decisions     TEXT    NOT NULL,          -- extraction, locus, routing, dedup (JSON, with reasons)
    fingerprint   TEXT    NOT NULL,          -- hash of the normalized content
    subject_key   TEXT,                      -- normalized subject name (the subject's record)
    case_id       BIGINT  NOT NULL,
    stored_at     TEXT    NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX reports_case ON reports (case_id);
CREATE INDEX reports_received ON reports (received_ts);
CREATE INDEX reports_subject ON reports (subject_key);

-- The payload exactly as received. It can carry identity, so it lives apart from the report.
CREATE TABLE report_raw (
    report_id     BIGINT  PRIMARY KEY,
    content_type  TEXT    NOT NULL,
    payload       TEXT    NOT NULL
);

-- Reporter identity, apart from the report text (DOMAIN.md §1).
CREATE TABLE reporters (
    report_id     BIGINT  PRIMARY KEY,
    name          TEXT,
    phone         TEXT,
    email         TEXT,
    id_number     TEXT,
    anonymous     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX reporters_phone ON reporters (phone);
CREATE INDEX reporters_email ON reporters (email);

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    case_no       TEXT    NOT NULL UNIQUE,
    state         TEXT    NOT NULL,
    subject_name  TEXT,
    subject_key   TEXT,
    subject_kind  TEXT    NOT NULL,
    categories    TEXT    NOT NULL,          -- JSON list of codes
    locus         TEXT,
    handling      TEXT    NOT NULL,
    referrals     TEXT    NOT NULL,          -- JSON list
    transfer      TEXT,
    merged_into   BIGINT,                    -- set when the case was merged into another (并案)
    deadline      TEXT,
    report_count  BIGINT  NOT NULL DEFAULT 1,
    repeat_count  BIGINT  NOT NULL DEFAULT 0,
    version       BIGINT  NOT NULL DEFAULT 1,
    opened_at     TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX cases_handling ON cases (handling, state);
CREATE INDEX cases_subject ON cases (subject_key);

-- Which report belongs to which case, and how it came there.
CREATE TABLE case_reports (
    report_id     BIGINT  PRIMARY KEY,
    case_id       BIGINT  NOT NULL,
    link          TEXT    NOT NULL,          -- opened | repeat | same_matter | merged
    linked_at     TEXT    NOT NULL
);
CREATE INDEX case_reports_case ON case_reports (case_id);

-- The append-only event log: every decision and every change, with who, when and why.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    case_id       BIGINT,
    report_id     BIGINT,
    data          TEXT    NOT NULL
);
CREATE INDEX events_case ON events (case_id);

-- Work that follows a commit (mail, platform replies), written in the same transaction.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    dedup_key     TEXT    UNIQUE,
    payload       TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at TEXT  NOT NULL,
    last_error    TEXT,
    done_at       TEXT
);

-- Subjects as records: every report and case about one institution is reachable from its key.
CREATE TABLE subjects (
    subject_key   TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,          -- the first full name seen
    kind          TEXT    NOT NULL,
    locus         TEXT,
    first_seen    TEXT    NOT NULL,
    last_seen     TEXT    NOT NULL,
    report_count  BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE counters (
    name          TEXT    PRIMARY KEY,
    value         BIGINT  NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    jurisdiction  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    disabled      BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT  NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at    TEXT    NOT NULL,
    revoked_at    TEXT
);
