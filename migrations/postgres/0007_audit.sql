-- The audit log (append-only): identity reveals, exports, searches, logins — who, when, why.
CREATE TABLE audit (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT,
    reason        TEXT,
    detail        TEXT    NOT NULL
);
