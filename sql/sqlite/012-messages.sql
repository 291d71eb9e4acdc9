-- 012-messages.sql -- what users are told: messages carry their project;
-- the outbox of notifications (see sql/pg/012-messages.sql).  The
-- reapers' lock, bora_try_lock(), is a function of the connection: one
-- process writes an SQLite database at a time anyway.

ALTER TABLE messages ADD COLUMN project_id TEXT;
CREATE INDEX messages_request ON messages (request_id);
CREATE INDEX messages_event ON messages (event_id, created_at);

CREATE TABLE outbox (
	id		TEXT PRIMARY KEY,
	execution_id	TEXT NOT NULL,
	seq		INTEGER NOT NULL,
	event		TEXT NOT NULL,
	target		TEXT NOT NULL,
	headers		TEXT,
	body		TEXT,
	state		TEXT NOT NULL,
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_at		INTEGER NOT NULL DEFAULT 0,
	owner		TEXT,
	lease_until	INTEGER NOT NULL DEFAULT 0,
	last_error	TEXT,
	sent_at		INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'PENDING';
CREATE INDEX outbox_stream ON outbox (execution_id, target, seq);
CREATE INDEX outbox_done ON outbox (state, updated_at);
CREATE INDEX outbox_created ON outbox (created_at, id);
