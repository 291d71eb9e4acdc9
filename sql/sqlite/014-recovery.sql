-- 014-recovery.sql -- what recovery needs (issue 14; numbered after it,
-- so that it meets no other change's number).
--
-- Progress events say what kind they are and what their task runs.
-- kind: 'task' (the engine's record of a task's start, attempts and
-- end), 'execution' (of the execution itself) or 'progress' (a message
-- a workflow declares or a Lua action or expression emits).  action:
-- the action or sub-workflow of the event's task.

ALTER TABLE events ADD COLUMN kind TEXT;
ALTER TABLE events ADD COLUMN action TEXT;

-- Masakari's failover segments, their hosts and the notifications
-- masakari-monitors send.  Each row has Masakari's integer id and its
-- uuid; the API names rows by uuid.  source is 'api' or the workbook
-- that declares the row.  A host name is unique across segments, so a
-- notification's host names one segment.

CREATE TABLE segments (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	uuid		TEXT NOT NULL UNIQUE,
	name		TEXT NOT NULL UNIQUE,
	description	TEXT,
	recovery_method	TEXT NOT NULL,
	service_type	TEXT NOT NULL,
	enabled		INTEGER NOT NULL DEFAULT 1,
	cloud		TEXT,
	options		TEXT,
	source		TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX segments_created ON segments (created_at, id);

CREATE TABLE segment_hosts (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	uuid		TEXT NOT NULL UNIQUE,
	name		TEXT NOT NULL UNIQUE,
	segment_uuid	TEXT NOT NULL,
	type		TEXT NOT NULL,
	control_attributes TEXT NOT NULL,
	reserved	INTEGER NOT NULL DEFAULT 0,
	on_maintenance	INTEGER NOT NULL DEFAULT 0,
	source		TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX segment_hosts_segment ON segment_hosts
	(segment_uuid, created_at, id);

-- state: new, running, finished, ignored, error or failed as decided
-- when the notification came or by its retries; while an execution
-- runs for it, its status follows that execution.  dedup is the type,
-- host and payload in one text, for Masakari's duplicate window.
CREATE TABLE ha_notifications (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	notification_uuid TEXT NOT NULL UNIQUE,
	type		TEXT NOT NULL,
	hostname	TEXT NOT NULL,
	source_host_uuid TEXT,
	generated_time	INTEGER NOT NULL,
	payload		TEXT,
	dedup		TEXT NOT NULL,
	state		TEXT NOT NULL,
	state_info	TEXT,
	workflow	TEXT,
	execution_id	TEXT,
	retries		INTEGER NOT NULL DEFAULT 0,
	request_id	TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX ha_notifications_dedup ON ha_notifications
	(dedup, generated_time);
CREATE INDEX ha_notifications_created ON ha_notifications (created_at, id);
CREATE INDEX ha_notifications_state ON ha_notifications (state);
