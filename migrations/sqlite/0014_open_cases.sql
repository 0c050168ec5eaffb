-- The officer's queue reads open cases by handling office or by locus within a subtree, due first.
-- Partial indexes over the open cases only: the history of closed cases does not grow them, and
-- the queue's condition on the state is written exactly as here so that the planner uses them.
CREATE INDEX cases_open_handling ON cases (handling, due_at) WHERE state NOT IN ('closed', 'merged', 'transferred');
CREATE INDEX cases_open_locus ON cases (locus, due_at) WHERE state NOT IN ('closed', 'merged', 'transferred');
