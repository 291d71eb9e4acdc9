-- 009-mistral.sql -- what Mistral's users keep besides workflows:
-- namespaces and scopes of definitions, environments and cron triggers.
-- Mirrors sql/sqlite/009-mistral.sql.

ALTER TABLE definitions ADD COLUMN namespace text NOT NULL DEFAULT '';
ALTER TABLE definitions ADD COLUMN scope text NOT NULL DEFAULT 'private';
ALTER TABLE definitions DROP CONSTRAINT definitions_kind_name_version_key;
ALTER TABLE definitions ADD UNIQUE (kind, name, namespace, version);

ALTER TABLE workflows ADD COLUMN namespace text NOT NULL DEFAULT '';
ALTER TABLE workflows DROP CONSTRAINT workflows_name_key;
ALTER TABLE workflows ADD UNIQUE (name, namespace);

ALTER TABLE executions ADD COLUMN workflow_namespace text NOT NULL
	DEFAULT '';

CREATE TABLE environments (
	id		text PRIMARY KEY,
	name		text NOT NULL UNIQUE,
	description	text,
	variables	text,
	scope		text NOT NULL DEFAULT 'private',
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);

CREATE TABLE cron_triggers (
	id			text PRIMARY KEY,
	name			text NOT NULL UNIQUE,
	pattern			text,
	first_execution_time	bigint NOT NULL DEFAULT 0,
	next_execution_time	bigint NOT NULL,
	remaining_executions	bigint NOT NULL DEFAULT -1,
	workflow_name		text NOT NULL,
	workflow_id		text,
	workflow_namespace	text NOT NULL DEFAULT '',
	workflow_input		text,
	workflow_params		text,
	scope			text NOT NULL DEFAULT 'private',
	created_at		bigint NOT NULL,
	updated_at		bigint NOT NULL
);
CREATE INDEX cron_triggers_next ON cron_triggers (next_execution_time);
