-- 020-commit-marks.sql -- how a commit whose connection was lost is
-- looked up (src/store/store-pg.c, pg_resolve()).
--
-- Every transaction of a connection first writes its number into the
-- connection's row, so after a lost COMMIT the row says whether it
-- committed.  Transaction ids cannot say it: after a crash of the server
-- the ids of transactions whose log never reached the disk are handed
-- out again.  PostgreSQL only: SQLite commits in the process.  at (ms,
-- database clock) lets rows of connections long gone be removed.

CREATE TABLE commit_marks (
	client		text PRIMARY KEY,
	mark		bigint NOT NULL,
	at		bigint NOT NULL
);
