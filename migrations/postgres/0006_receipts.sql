-- Receipt codes of anonymous web reporters: only the SHA-256 of the code is kept.
CREATE TABLE receipts (
    code_hash     TEXT    PRIMARY KEY,
    report_id     BIGINT  NOT NULL,
    case_id       BIGINT  NOT NULL,
    created_at    TEXT    NOT NULL
);
