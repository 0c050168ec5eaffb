-- The officer's queue reads the open cases of a subtree by handling office and by locus, due
-- first, with counts per state. Partial indexes over the open cases only (the history of closed
-- cases does not grow them), holding every column the unfiltered queue and its counts read, so
-- that they are answered from the index alone. The queue writes the state condition exactly as
-- here, so that the planner may use them.
CREATE INDEX cases_open_handling ON cases (handling, state, due_at, locus, subject_kind, categories) WHERE state NOT IN ('closed', 'merged', 'transferred');
CREATE INDEX cases_open_locus ON cases (locus, state, due_at, handling, subject_kind, categories) WHERE state NOT IN ('closed', 'merged', 'transferred');
