-- Session login for people (bearer tokens stay for machines). Only the SHA-256 of the session
-- cookie is kept; a session ends at its absolute expiry or after an idle timeout, whichever first.
CREATE TABLE sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       BIGINT  NOT NULL,
    csrf_token    TEXT    NOT NULL,          -- echoed by forms and scripts on unsafe requests
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,          -- absolute end (UTC, RFC 3339: text order is time order)
    last_seen_at  TEXT    NOT NULL           -- for the idle timeout
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, counted per account name and per client address over a window (rate limit).
-- The password is never stored; the audit log has the same facts for people to read.
CREATE TABLE login_failures (
    at            TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    client        TEXT    NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_client ON login_failures (client, at);
