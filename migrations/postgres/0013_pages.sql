-- Web pages: the key that signs form tokens (one per deployment, shared by every node), files that
-- an anonymous reporter adds later (linked to the event that recorded the addition), and the form
-- submissions already taken (a double click adds information once).
CREATE TABLE web_keys (
    name          TEXT    PRIMARY KEY,
    value         TEXT    NOT NULL
);
ALTER TABLE attachments ADD COLUMN added_seq BIGINT;
CREATE TABLE form_submissions (
    token         TEXT    PRIMARY KEY,
    at            TEXT    NOT NULL
);
