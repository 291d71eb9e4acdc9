-- 001-init.sql -- bora's PostgreSQL schema, first version.
--
-- Mirrors sql/sqlite/001-init.sql column for column so both backends
-- read and write the same rows.  Choices:
--
-- * Timestamps are bigint milliseconds since the epoch, taken from the
--   database clock (bora_now_ms()) whenever the store fills them in, so
--   leases compare correctly across engines on different machines.
-- * JSON columns are text, not jsonb: the engine only stores and reloads
--   whole documents (nothing queries inside them), text round-trips are
--   byte-exact (jsonb reorders keys and drops duplicates), and text
--   costs no parse on every write.  NULL means absent, 'null' is JSON
--   null.
-- * Identifiers are text: the API accepts whatever the client sends.
--
-- The migration runner creates schema_version itself, takes an advisory
-- lock and applies each file inside one transaction.

CREATE TABLE IF NOT EXISTS schema_version (
	version		integer PRIMARY KEY,
	name		text NOT NULL,
	applied_at	bigint NOT NULL
);

-- The database clock in ms.  STABLE (now(), the transaction's start) so
-- that it is computed once per statement and usable in index scans.
CREATE FUNCTION bora_now_ms() RETURNS bigint
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT (extract(epoch FROM now()) * 1000)::bigint $$;

-- Raise when a guarded write matched no row.  Change sets are sent
-- pipelined, so a failed guard must abort the statement for the client
-- to roll back to the change set's savepoint.  code is BG001 (a guard
-- on the expected state failed: conflict) or BG002 (the row is missing).
CREATE FUNCTION bora_guard(n bigint, code text, what text) RETURNS bigint
	LANGUAGE plpgsql
	AS $$
BEGIN
	IF n = 0 THEN
		RAISE EXCEPTION USING ERRCODE = code, MESSAGE = what;
	END IF;
	RETURN n;
END
$$;

-- Versioned definition texts: every save is a new version of
-- (kind, name); a version with deleted = 1 marks a removal.
CREATE TABLE definitions (
	id		text PRIMARY KEY,
	kind		text NOT NULL,
	name		text NOT NULL,
	version		integer NOT NULL,
	text		text NOT NULL,
	source		text,
	deleted		integer NOT NULL DEFAULT 0,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL,
	UNIQUE (kind, name, version)
);
CREATE INDEX definitions_created ON definitions (created_at);

-- Counter bumped by every definition change (one row).
CREATE TABLE def_generation (
	id		integer PRIMARY KEY CHECK (id = 1),
	value		bigint NOT NULL
);
INSERT INTO def_generation (id, value) VALUES (1, 0);

-- A workflow's stable identity: the id survives new versions.
CREATE TABLE workflows (
	id		text PRIMARY KEY,
	name		text NOT NULL UNIQUE,
	def_id		text NOT NULL,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);

CREATE TABLE executions (
	id		text PRIMARY KEY,
	workflow_name	text,
	workflow_id	text,
	def_id		text,
	parent_task_id	text,
	root_id		text,
	state		text NOT NULL,
	state_info	text,
	input		text,
	output		text,
	params		text,
	context		text,
	description	text,
	request_id	text,
	owner		text,
	lease_until	bigint NOT NULL DEFAULT 0,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);
CREATE INDEX executions_state ON executions (state);
CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_updated ON executions (updated_at, id);
CREATE INDEX executions_workflow ON executions (workflow_name, created_at);
CREATE INDEX executions_parent ON executions (parent_task_id);
CREATE INDEX executions_root ON executions (root_id);
CREATE INDEX executions_owner ON executions (owner, lease_until);
-- What lease claims look up: unfinished executions held by an engine,
-- by lease expiry (never-claimed ones use executions_owner, released ones
-- are found through their due work).
CREATE INDEX executions_leased ON executions (lease_until)
	WHERE owner IS NOT NULL
	    AND state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');

CREATE TABLE tasks (
	id		text PRIMARY KEY,
	execution_id	text NOT NULL,
	name		text NOT NULL,
	state		text NOT NULL,
	state_info	text,
	type		text,
	in_context	text,
	published	text,
	result		text,
	runtime		text,
	seq		bigint NOT NULL,
	created_at	bigint NOT NULL,
	started_at	bigint NOT NULL DEFAULT 0,
	finished_at	bigint NOT NULL DEFAULT 0,
	updated_at	bigint NOT NULL
);
CREATE INDEX tasks_execution ON tasks (execution_id, seq);
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_state ON tasks (state);

CREATE TABLE action_executions (
	id		text PRIMARY KEY,
	task_id		text,
	execution_id	text,
	name		text NOT NULL,
	state		text NOT NULL,
	state_info	text,
	input		text,
	output		text,
	attempt		integer NOT NULL DEFAULT 0,
	item		integer NOT NULL DEFAULT -1,
	is_async	integer NOT NULL DEFAULT 0,
	request_id	text,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);
CREATE INDEX action_executions_task ON action_executions
	(task_id, attempt, item);
CREATE INDEX action_executions_execution ON action_executions
	(execution_id);
CREATE INDEX action_executions_created ON action_executions
	(created_at, id);
CREATE INDEX action_executions_state ON action_executions (state);

-- Due work: timers and deferred steps, claimed through the execution.
CREATE TABLE work (
	id		bigserial PRIMARY KEY,
	execution_id	text NOT NULL,
	task_id		text,
	kind		text NOT NULL,
	due_at		bigint NOT NULL,
	payload		text
);
CREATE INDEX work_execution ON work (execution_id, due_at);
CREATE INDEX work_due ON work (due_at);
CREATE INDEX work_task ON work (task_id);

-- Named locks, owned by an execution until it ends.
CREATE TABLE locks (
	name		text PRIMARY KEY,
	execution_id	text NOT NULL,
	created_at	bigint NOT NULL
);
CREATE INDEX locks_execution ON locks (execution_id);

-- Progress events of executions and their tasks.
CREATE TABLE events (
	id		bigserial PRIMARY KEY,
	execution_id	text NOT NULL,
	task_id		text,
	task_name	text,
	time		bigint NOT NULL,
	progress	double precision NOT NULL DEFAULT -1,
	message		text,
	level		text,
	request_id	text
);
CREATE INDEX events_execution ON events (execution_id, time, id);

-- User-facing messages, reaped after expires_at (0: never).
CREATE TABLE messages (
	id		text PRIMARY KEY,
	event_id	text,
	message		text,
	request_id	text,
	resource_type	text,
	resource_uuid	text,
	level		text,
	created_at	bigint NOT NULL,
	expires_at	bigint NOT NULL DEFAULT 0
);
CREATE INDEX messages_created ON messages (created_at, id);
CREATE INDEX messages_expires ON messages (expires_at)
	WHERE expires_at > 0;
CREATE INDEX messages_resource ON messages (resource_uuid);
