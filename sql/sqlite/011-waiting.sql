-- 011-waiting.sql -- claims among many waiting executions (issue 11;
-- numbered after it, so that it meets no other change's number).
--
-- What lease claims look up for expired leases: unfinished executions
-- held by an engine, by lease expiry, as PostgreSQL's executions_leased.
-- Executions given back while they wait (no owner) are found through
-- their due work instead, and are not walked, however many there are.

CREATE INDEX executions_leased ON executions (lease_until)
	WHERE owner IS NOT NULL
	    AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');
