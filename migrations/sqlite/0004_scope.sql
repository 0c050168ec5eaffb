-- Who logged a report (an operator reads what it logged, whatever its jurisdiction).
ALTER TABLE reports ADD COLUMN logged_by BIGINT;
