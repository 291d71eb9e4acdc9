-- 014-recovery.sql -- what recovery needs: the kind and action of
-- progress events, Masakari's segments, hosts and notifications (see
-- sql/sqlite/014-recovery.sql).

ALTER TABLE events ADD COLUMN kind text;
ALTER TABLE events ADD COLUMN action text;

CREATE TABLE segments (
	id		bigserial PRIMARY KEY,
	uuid		text NOT NULL UNIQUE,
	name		text NOT NULL UNIQUE,
	description	text,
	recovery_method	text NOT NULL,
	service_type	text NOT NULL,
	enabled		integer NOT NULL DEFAULT 1,
	cloud		text,
	options		text,
	source		text,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);
CREATE INDEX segments_created ON segments (created_at, id);

CREATE TABLE segment_hosts (
	id		bigserial PRIMARY KEY,
	uuid		text NOT NULL UNIQUE,
	name		text NOT NULL UNIQUE,
	segment_uuid	text NOT NULL,
	type		text NOT NULL,
	control_attributes text NOT NULL,
	reserved	integer NOT NULL DEFAULT 0,
	on_maintenance	integer NOT NULL DEFAULT 0,
	source		text,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);
CREATE INDEX segment_hosts_segment ON segment_hosts
	(segment_uuid, created_at, id);

-- state: new, running, finished, ignored, error or failed as decided
-- when the notification came or by its retries; while an execution
-- runs for it, its status follows that execution.  dedup is the type,
-- host and payload in one text, for Masakari's duplicate window.
CREATE TABLE ha_notifications (
	id		bigserial PRIMARY KEY,
	notification_uuid text NOT NULL UNIQUE,
	type		text NOT NULL,
	hostname	text NOT NULL,
	source_host_uuid text,
	generated_time	bigint NOT NULL,
	payload		text,
	dedup		text NOT NULL,
	state		text NOT NULL,
	state_info	text,
	workflow	text,
	execution_id	text,
	retries		integer NOT NULL DEFAULT 0,
	request_id	text,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);
CREATE INDEX ha_notifications_dedup ON ha_notifications
	(dedup, generated_time);
CREATE INDEX ha_notifications_created ON ha_notifications (created_at, id);
CREATE INDEX ha_notifications_state ON ha_notifications (state);
