-- 008-alarms.sql -- the alarm intake's decision log (PostgreSQL schema,
-- column for column as sql/sqlite/008-alarms.sql).
--
-- alarms: every request received on an alarm route, committed before
-- anything is matched; state 'received' (stored, not decided yet: the
-- engine decides it, even after a crash), 'decided' or 'invalid'.
-- alarm_events: the normalized events of a valid alarm.  alarm_decisions:
-- each trigger's verdict on each event; their ids are derived from the
-- alarm, so an alarm is never decided twice.  alarm_holds: one row per
-- (trigger, key) that started an execution, the unique key that keeps
-- engines sharing a database from starting it twice.  alarm_limits: a
-- trigger's counter per limit.by value and window.  alarm_nonces:
-- signatures of accepted timestamped HMAC requests, until they could
-- no longer be replayed.  alarm_auth_failures: refused requests (no
-- body kept).

CREATE TABLE alarms (
	id		text PRIMARY KEY,
	source		text NOT NULL,
	route		text NOT NULL,
	headers		text,
	body		text,
	encoding	text NOT NULL DEFAULT 'text',
	size		bigint NOT NULL DEFAULT 0,
	remote		text,
	request_id	text,
	state		text NOT NULL,
	status		text,
	error		text,
	events		bigint NOT NULL DEFAULT 0,
	verdicts	text,
	replay_of	text,
	triggers_version bigint NOT NULL DEFAULT 0,
	received_at	bigint NOT NULL,
	decided_at	bigint NOT NULL DEFAULT 0
);
CREATE INDEX alarms_received ON alarms (received_at, id);
CREATE INDEX alarms_source ON alarms (source, received_at);
-- Alarms stored but not decided: what recovery scans.
CREATE INDEX alarms_pending ON alarms (received_at) WHERE state = 'received';

CREATE TABLE alarm_events (
	id		text PRIMARY KEY,
	alarm_id	text NOT NULL,
	seq		bigint NOT NULL,
	source		text NOT NULL,
	key		text NOT NULL,
	status		text NOT NULL,
	name		text,
	severity	text,
	resource_kind	text,
	resource_id	text,
	resource_host	text,
	labels		text,
	annotations	text,
	starts_at	text,
	created_at	bigint NOT NULL
);
CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, seq);

CREATE TABLE alarm_decisions (
	id		text PRIMARY KEY,
	alarm_id	text NOT NULL,
	seq		bigint NOT NULL,
	ord		bigint NOT NULL,
	trigger_name	text NOT NULL,
	verdict		text NOT NULL,
	workflow	text,
	input		text,
	key		text,
	execution_id	text,
	until_at	bigint NOT NULL DEFAULT 0,
	until_resolved	bigint NOT NULL DEFAULT 0,
	limit_by	text,
	reason		text,
	created_at	bigint NOT NULL
);
CREATE INDEX alarm_decisions_alarm ON alarm_decisions (alarm_id, seq, ord);

CREATE TABLE alarm_holds (
	id		text PRIMARY KEY,
	trigger_name	text NOT NULL,
	key		text NOT NULL,
	execution_id	text NOT NULL,
	alarm_id	text NOT NULL,
	until_at	bigint NOT NULL DEFAULT 0,
	until_resolved	bigint NOT NULL DEFAULT 0,
	resolved_at	bigint NOT NULL DEFAULT 0,
	created_at	bigint NOT NULL,
	updated_at	bigint NOT NULL
);

CREATE TABLE alarm_limits (
	id		text PRIMARY KEY,
	trigger_name	text NOT NULL,
	by_value	text,
	window_start	bigint NOT NULL,
	window_ms	bigint NOT NULL,
	n		bigint NOT NULL,
	updated_at	bigint NOT NULL
);

CREATE TABLE alarm_nonces (
	id		text PRIMARY KEY,
	expires_at	bigint NOT NULL
);
CREATE INDEX alarm_nonces_expires ON alarm_nonces (expires_at);

CREATE TABLE alarm_auth_failures (
	id		bigserial PRIMARY KEY,
	time		bigint NOT NULL,
	source		text NOT NULL,
	route		text,
	remote		text,
	size		bigint NOT NULL DEFAULT 0,
	reason		text,
	request_id	text
);
CREATE INDEX alarm_auth_failures_time ON alarm_auth_failures (time, id);
