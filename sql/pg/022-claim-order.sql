-- 022-claim-order.sql -- claims among many never-claimed executions
-- (issue 11, PostgreSQL).
--
-- A claim takes the oldest never-claimed executions first: this index
-- holds them alone, in that order, so that each claim reads only the
-- rows it takes, however many wait to begin (executions_owner found
-- them all, and they were sorted at every claim).

CREATE INDEX executions_unclaimed ON executions (created_at, id)
	WHERE owner IS NULL AND lease_until = 0
	    AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');
