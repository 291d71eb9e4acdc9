-- 009-mistral.sql -- what Mistral's users keep besides workflows:
-- namespaces and scopes of definitions, environments and cron triggers.
--
-- A definition is now one of (kind, name, namespace); the same workflow
-- name may live in two namespaces.  SQLite cannot change a table's
-- constraints, so definitions and workflows are rebuilt.

CREATE TABLE definitions_new (
	id		TEXT PRIMARY KEY,
	kind		TEXT NOT NULL,
	name		TEXT NOT NULL,
	namespace	TEXT NOT NULL DEFAULT '',
	scope		TEXT NOT NULL DEFAULT 'private',
	version		INTEGER NOT NULL,
	text		TEXT NOT NULL,
	source		TEXT,
	deleted		INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	UNIQUE (kind, name, namespace, version)
);
INSERT INTO definitions_new (id, kind, name, version, text, source,
	deleted, created_at, updated_at)
	SELECT id, kind, name, version, text, source, deleted, created_at,
	    updated_at FROM definitions ORDER BY rowid;
DROP TABLE definitions;
ALTER TABLE definitions_new RENAME TO definitions;
CREATE INDEX definitions_created ON definitions (created_at);

CREATE TABLE workflows_new (
	id		TEXT PRIMARY KEY,
	name		TEXT NOT NULL,
	namespace	TEXT NOT NULL DEFAULT '',
	def_id		TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	UNIQUE (name, namespace)
);
INSERT INTO workflows_new (id, name, def_id, created_at, updated_at)
	SELECT id, name, def_id, created_at, updated_at FROM workflows;
DROP TABLE workflows;
ALTER TABLE workflows_new RENAME TO workflows;

-- The namespace an execution's workflow was found in.
ALTER TABLE executions ADD COLUMN workflow_namespace TEXT NOT NULL
	DEFAULT '';

-- Named sets of variables, given to executions as params.env.
CREATE TABLE environments (
	id		TEXT PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	description	TEXT,
	variables	TEXT,
	scope		TEXT NOT NULL DEFAULT 'private',
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

-- Cron triggers.  next_execution_time is the next tick (ms, UTC); an
-- engine fires a tick by moving it on, guarded by its old value, in the
-- transaction that inserts the execution.  remaining_executions -1:
-- no limit.
CREATE TABLE cron_triggers (
	id			TEXT PRIMARY KEY,
	name			TEXT NOT NULL UNIQUE,
	pattern			TEXT,
	first_execution_time	INTEGER NOT NULL DEFAULT 0,
	next_execution_time	INTEGER NOT NULL,
	remaining_executions	INTEGER NOT NULL DEFAULT -1,
	workflow_name		TEXT NOT NULL,
	workflow_id		TEXT,
	workflow_namespace	TEXT NOT NULL DEFAULT '',
	workflow_input		TEXT,
	workflow_params		TEXT,
	scope			TEXT NOT NULL DEFAULT 'private',
	created_at		INTEGER NOT NULL,
	updated_at		INTEGER NOT NULL
);
CREATE INDEX cron_triggers_next ON cron_triggers (next_execution_time);
