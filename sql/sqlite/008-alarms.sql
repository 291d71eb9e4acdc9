-- 008-alarms.sql -- the alarm intake's decision log (embedded schema).
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
	id		TEXT PRIMARY KEY,
	source		TEXT NOT NULL,
	route		TEXT NOT NULL,
	headers		TEXT,
	body		TEXT,
	encoding	TEXT NOT NULL DEFAULT 'text',
	size		INTEGER NOT NULL DEFAULT 0,
	remote		TEXT,
	request_id	TEXT,
	state		TEXT NOT NULL,
	status		TEXT,
	error		TEXT,
	events		INTEGER NOT NULL DEFAULT 0,
	verdicts	TEXT,
	replay_of	TEXT,
	triggers_version INTEGER NOT NULL DEFAULT 0,
	received_at	INTEGER NOT NULL,
	decided_at	INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alarms_received ON alarms (received_at, id);
CREATE INDEX alarms_source ON alarms (source, received_at);
-- Alarms stored but not decided: what recovery scans.
CREATE INDEX alarms_pending ON alarms (received_at) WHERE state = 'received';

CREATE TABLE alarm_events (
	id		TEXT PRIMARY KEY,
	alarm_id	TEXT NOT NULL,
	seq		INTEGER NOT NULL,
	source		TEXT NOT NULL,
	key		TEXT NOT NULL,
	status		TEXT NOT NULL,
	name		TEXT,
	severity	TEXT,
	resource_kind	TEXT,
	resource_id	TEXT,
	resource_host	TEXT,
	labels		TEXT,
	annotations	TEXT,
	starts_at	TEXT,
	created_at	INTEGER NOT NULL
);
CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, seq);

CREATE TABLE alarm_decisions (
	id		TEXT PRIMARY KEY,
	alarm_id	TEXT NOT NULL,
	seq		INTEGER NOT NULL,
	ord		INTEGER NOT NULL,
	trigger_name	TEXT NOT NULL,
	verdict		TEXT NOT NULL,
	workflow	TEXT,
	input		TEXT,
	key		TEXT,
	execution_id	TEXT,
	until_at	INTEGER NOT NULL DEFAULT 0,
	until_resolved	INTEGER NOT NULL DEFAULT 0,
	limit_by	TEXT,
	reason		TEXT,
	created_at	INTEGER NOT NULL
);
CREATE INDEX alarm_decisions_alarm ON alarm_decisions (alarm_id, seq, ord);

CREATE TABLE alarm_holds (
	id		TEXT PRIMARY KEY,
	trigger_name	TEXT NOT NULL,
	key		TEXT NOT NULL,
	execution_id	TEXT NOT NULL,
	alarm_id	TEXT NOT NULL,
	until_at	INTEGER NOT NULL DEFAULT 0,
	until_resolved	INTEGER NOT NULL DEFAULT 0,
	resolved_at	INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE alarm_limits (
	id		TEXT PRIMARY KEY,
	trigger_name	TEXT NOT NULL,
	by_value	TEXT,
	window_start	INTEGER NOT NULL,
	window_ms	INTEGER NOT NULL,
	n		INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE alarm_nonces (
	id		TEXT PRIMARY KEY,
	expires_at	INTEGER NOT NULL
);
CREATE INDEX alarm_nonces_expires ON alarm_nonces (expires_at);

CREATE TABLE alarm_auth_failures (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	time		INTEGER NOT NULL,
	source		TEXT NOT NULL,
	route		TEXT,
	remote		TEXT,
	size		INTEGER NOT NULL DEFAULT 0,
	reason		TEXT,
	request_id	TEXT
);
CREATE INDEX alarm_auth_failures_time ON alarm_auth_failures (time, id);
