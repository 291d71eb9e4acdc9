-- 001-init.sql -- bora's embedded schema, first version.
--
-- Timestamps are INTEGER milliseconds since the epoch; JSON columns are
-- TEXT (NULL: absent, 'null': JSON null).  The migration runner creates
-- schema_version itself and applies each file inside one transaction.

-- Versioned definition texts: every save is a new version of
-- (kind, name); a version with deleted = 1 marks a removal.
CREATE TABLE definitions (
	id		TEXT PRIMARY KEY,
	kind		TEXT NOT NULL,
	name		TEXT NOT NULL,
	version		INTEGER NOT NULL,
	text		TEXT NOT NULL,
	source		TEXT,
	deleted		INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	UNIQUE (kind, name, version)
);
CREATE INDEX definitions_created ON definitions (created_at);

-- Counter bumped by every definition change (one row).
CREATE TABLE def_generation (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	value		INTEGER NOT NULL
);
INSERT INTO def_generation (id, value) VALUES (1, 0);

-- A workflow's stable identity: the id survives new versions.
CREATE TABLE workflows (
	id		TEXT PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	def_id		TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE executions (
	id		TEXT PRIMARY KEY,
	workflow_name	TEXT,
	workflow_id	TEXT,
	def_id		TEXT,
	parent_task_id	TEXT,
	root_id		TEXT,
	state		TEXT NOT NULL,
	state_info	TEXT,
	input		TEXT,
	output		TEXT,
	params		TEXT,
	context		TEXT,
	description	TEXT,
	request_id	TEXT,
	owner		TEXT,
	lease_until	INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX executions_state ON executions (state);
CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_updated ON executions (updated_at, id);
CREATE INDEX executions_workflow ON executions (workflow_name, created_at);
CREATE INDEX executions_parent ON executions (parent_task_id);
CREATE INDEX executions_root ON executions (root_id);
CREATE INDEX executions_owner ON executions (owner, lease_until);
-- Unfinished executions only: what lease claims scan.
CREATE INDEX executions_live ON executions (lease_until)
	WHERE state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');

CREATE TABLE tasks (
	id		TEXT PRIMARY KEY,
	execution_id	TEXT NOT NULL,
	name		TEXT NOT NULL,
	state		TEXT NOT NULL,
	state_info	TEXT,
	type		TEXT,
	in_context	TEXT,
	published	TEXT,
	result		TEXT,
	runtime		TEXT,
	seq		INTEGER NOT NULL,
	created_at	INTEGER NOT NULL,
	started_at	INTEGER NOT NULL DEFAULT 0,
	finished_at	INTEGER NOT NULL DEFAULT 0,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX tasks_execution ON tasks (execution_id, seq);
CREATE INDEX tasks_created ON tasks (created_at, id);

CREATE TABLE action_executions (
	id		TEXT PRIMARY KEY,
	task_id		TEXT,
	execution_id	TEXT,
	name		TEXT NOT NULL,
	state		TEXT NOT NULL,
	state_info	TEXT,
	input		TEXT,
	output		TEXT,
	attempt		INTEGER NOT NULL DEFAULT 0,
	item		INTEGER NOT NULL DEFAULT -1,
	is_async	INTEGER NOT NULL DEFAULT 0,
	request_id	TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX action_executions_task ON action_executions
	(task_id, attempt, item);
CREATE INDEX action_executions_execution ON action_executions
	(execution_id);
CREATE INDEX action_executions_created ON action_executions
	(created_at, id);

-- Due work: timers and deferred steps, claimed through the execution.
CREATE TABLE work (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	execution_id	TEXT NOT NULL,
	task_id		TEXT,
	kind		TEXT NOT NULL,
	due_at		INTEGER NOT NULL,
	payload		TEXT
);
CREATE INDEX work_execution ON work (execution_id, due_at);
CREATE INDEX work_due ON work (due_at);
CREATE INDEX work_task ON work (task_id);

-- Named locks, owned by an execution until it ends.
CREATE TABLE locks (
	name		TEXT PRIMARY KEY,
	execution_id	TEXT NOT NULL,
	created_at	INTEGER NOT NULL
);
CREATE INDEX locks_execution ON locks (execution_id);

-- Progress events of executions and their tasks.
CREATE TABLE events (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	execution_id	TEXT NOT NULL,
	task_id		TEXT,
	task_name	TEXT,
	time		INTEGER NOT NULL,
	progress	REAL NOT NULL DEFAULT -1,
	message		TEXT,
	level		TEXT,
	request_id	TEXT
);
CREATE INDEX events_execution ON events (execution_id, time, id);

-- User-facing messages, reaped after expires_at (0: never).
CREATE TABLE messages (
	id		TEXT PRIMARY KEY,
	event_id	TEXT,
	message		TEXT,
	request_id	TEXT,
	resource_type	TEXT,
	resource_uuid	TEXT,
	level		TEXT,
	created_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_created ON messages (created_at, id);
CREATE INDEX messages_expires ON messages (expires_at);
CREATE INDEX messages_resource ON messages (resource_uuid);
