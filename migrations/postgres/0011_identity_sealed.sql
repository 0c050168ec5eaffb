-- Reporter identity encrypted at rest (src/identity.rs). Every table holding a copy of the
-- identity records the key that sealed the row (`key_id`; NULL = written in clear before this
-- migration, sealed at the next start). The values themselves carry their key id and version too.
-- Equality on the reporter (the same phone or e-mail across reports) uses a keyed blind index.

ALTER TABLE reporters ADD COLUMN reporter_key TEXT;
ALTER TABLE reporters ADD COLUMN key_id BIGINT;
ALTER TABLE report_raw ADD COLUMN key_id BIGINT;
ALTER TABLE outbox ADD COLUMN key_id BIGINT;
ALTER TABLE rejected_mail ADD COLUMN key_id BIGINT;

-- Indexes over sealed values find nothing; the blind index replaces them.
DROP INDEX reporters_phone;
DROP INDEX reporters_email;
CREATE INDEX reporters_key ON reporters (reporter_key);

-- `tipline keys status` and `rotate` count and page rows by key.
CREATE INDEX reporters_key_id ON reporters (key_id);
CREATE INDEX report_raw_key_id ON report_raw (key_id);
CREATE INDEX outbox_key_id ON outbox (key_id);
CREATE INDEX rejected_mail_key_id ON rejected_mail (key_id);
