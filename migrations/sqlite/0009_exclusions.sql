-- Conflict of interest: other names a user is known by (matched in reports besides the login name),
-- and the cases a user is excluded from because their name or an alias appears in a report.
CREATE TABLE user_aliases (
    user_id       BIGINT  NOT NULL,
    alias         TEXT    NOT NULL,
    PRIMARY KEY (user_id, alias)
);

CREATE TABLE exclusions (
    case_id       BIGINT  NOT NULL,
    user_id       BIGINT  NOT NULL,
    report_id     BIGINT,                    -- the report that named the user (none: carried by a merge)
    matched       TEXT    NOT NULL,          -- the name or alias found
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX exclusions_user ON exclusions (user_id);
