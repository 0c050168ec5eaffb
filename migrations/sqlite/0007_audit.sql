-- The audit log (append-only): identity reveals, exports, searches, logins — who, when, why.
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT,
    reason        TEXT,
    detail        TEXT    NOT NULL
);
