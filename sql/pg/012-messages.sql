-- 012-messages.sql -- what users are told: messages carry their project;
-- the outbox of notifications; the lock the reapers take.
--
-- The outbox holds one row per event and receiver, written in the same
-- transaction as the transition it reports, so a receiver that is down
-- or an engine killed mid-delivery loses nothing.  Rows of one
-- execution and receiver are sent in seq order; a sender claims a row
-- with owner and lease_until like an execution, marks it SENT, or
-- schedules the next attempt (next_at), or gives up (DEAD).

ALTER TABLE messages ADD COLUMN project_id text;
CREATE INDEX messages_request ON messages (request_id);
CREATE INDEX messages_event ON messages (event_id, created_at);

CREATE TABLE outbox (
	id		text PRIMARY KEY,
	execution_id	text NOT NULL,
	seq		bigint NOT NULL,
	event		text NOT NULL,
	target		text NOT NULL,
	headers		text,
	body		text,
	state		text NOT NULL,
	attempts	integer NOT NULL DEFAULT 0,
	next_at		bigint NOT NULL DEFAULT 0,
	owner		text,
	lease_until	bigint NOT NULL DEFAULT 0,
	last_error	text,
	sent_at		bigint NOT NULL DEFAULT 0,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'PENDING';
CREATE INDEX outbox_stream ON outbox (execution_id, target, seq);
CREATE INDEX outbox_done ON outbox (state, updated_at);
CREATE INDEX outbox_created ON outbox (created_at, id);

-- A reaper's lock, cluster-wide: only one engine reaps a kind of rows at
-- a time.  A session lock, so a reaper whose connection or process dies
-- lets go of it.
CREATE FUNCTION bora_try_lock(name text) RETURNS boolean
	LANGUAGE sql VOLATILE
	AS $$ SELECT pg_try_advisory_lock(hashtext('bora:' || name)) $$;
CREATE FUNCTION bora_unlock(name text) RETURNS boolean
	LANGUAGE sql VOLATILE
	AS $$ SELECT pg_advisory_unlock(hashtext('bora:' || name)) $$;
