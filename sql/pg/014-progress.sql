-- 014-progress.sql -- progress events say what kind they are and what
-- their task runs (see sql/sqlite/014-progress.sql).

ALTER TABLE events ADD COLUMN kind text;
ALTER TABLE events ADD COLUMN action text;
