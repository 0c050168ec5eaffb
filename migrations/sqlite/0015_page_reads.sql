-- The operator's desk lists the calls an operator logged (today's first): by user, newest first.
CREATE INDEX reports_logged_by ON reports (logged_by, id) WHERE logged_by IS NOT NULL;
-- The queue's "escalated" filter reads the escalations of a kind before it matches them to the
-- cases' current deadlines.
CREATE INDEX deadline_notices_kind ON deadline_notices (kind, case_id, due_at);
-- Duplicates suggested on the queue and case pages: the open cases about a subject.
CREATE INDEX cases_open_subject ON cases (subject_key, id) WHERE state NOT IN ('closed', 'merged', 'transferred');
-- The queue's channel filter asks, per open case, whether one of its reports came by a channel:
-- the case's index of reports carries the channel, so the answer is read from the index (same
-- number of indexes to write as before).
DROP INDEX reports_case;
CREATE INDEX reports_case ON reports (case_id, channel);
