/*
 * store-pg.c -- PostgreSQL backend of the store interface (libpq).
 *
 * URL: any libpq URI, "postgresql://user@host:port/db?..." or
 * "postgresql:///db?host=/run/postgresql" for a Unix socket.
 *
 * One connection per struct store (one per worker thread).  Every
 * statement is prepared once per connection, all in one pipelined round
 * trip when the connection is made, together with LISTEN bora_work.
 *
 * Change sets are sent in libpq pipeline mode: BEGIN, SELECT
 * txid_current(), every change set's statements, COMMIT, all in one
 * round trip (several change sets share the commit).  A guarded
 * statement that matches no row raises (bora_guard() in the schema,
 * SQLSTATE BG001 for a failed guard, BG002 for a missing row), which
 * aborts the rest of the pipeline.  The client then rolls back and sends
 * the other change sets again, each inside SAVEPOINT ... RELEASE, so that
 * a further failure is undone alone (ROLLBACK TO SAVEPOINT) and only the
 * change sets after it are sent again.  Conflicts are rare, so the common
 * case costs one round trip and creates no subtransactions.
 *
 * Several engines share one database.  Executions are claimed with
 * SELECT ... FOR UPDATE SKIP LOCKED and a lease whose times come from
 * the database clock (bora_now_ms()); an expired lease is taken over by
 * any engine.  Inserting executions or due work sends NOTIFY bora_work in
 * the same transaction, and store_wait() waits for it on the socket; the
 * engine polls as a fallback.
 *
 * Faults: when the connection is lost a call returns STORE_UNAVAILABLE
 * and the next call reconnects, with a backoff between attempts (100 ms
 * doubling to 5 s).  If the connection is lost after COMMIT was sent,
 * the outcome is not guessed: the transaction id read before COMMIT is
 * looked up with txid_status() on a new connection, waiting while it is
 * still in progress.  The server flushes that id (a Flush message right
 * after SELECT txid_current()) before it runs any change, so not having
 * it means the transaction never got past BEGIN.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dl/dl.h"
#include "store/store-int.h"

#define PG_CHANNEL	"bora_work"
#define PG_MIGRATE_LOCK	"7139062515311"	/* advisory lock key */
#define PG_BACKOFF_MIN	100		/* ms before the first retry */
#define PG_BACKOFF_MAX	5000
#define PG_RESOLVE_MS	15000		/* to resolve a lost commit */
#define PG_CHUNK	256		/* statements per pipeline flush */
#define PG_MAXPARAMS	20

/* The SQL below writes the SF_* bits as decimal numbers. */
_Static_assert(SF_STATE == 1 && SF_STATE_INFO == 2 && SF_OUTPUT == 4 &&
    SF_CONTEXT == 8 && SF_PUBLISHED == 16 && SF_RESULT == 32 &&
    SF_RUNTIME == 64 && SF_STARTED == 128 && SF_FINISHED == 256 &&
    SF_PARAMS == 512 && SF_DESCRIPTION == 1024 && SF_INPUT == 2048 &&
    SF_IN_CONTEXT == 4096, "SF_* values changed: update store-pg.c");

/*
 * One connection.  conn is NULL while disconnected; then retry_at (on
 * the monotonic clock) is when the next call may try to reconnect.
 */
struct pg_store {
	struct store	 s;		/* first: the store interface */
	char		*url;
	PGconn		*conn;
	int64_t		 retry_at;
	int		 backoff;
	char		 lost[256];	/* why the connection is gone */
};

#define PG(s) ((struct pg_store *)(s))

/*
 * Fault injection for tests: 1 drops the connection right after a
 * change set's COMMIT was sent, 2 sends ROLLBACK in its place and then
 * drops the connection.  Always 0 outside tests.
 */
int	 store_pg_fault;

/* Parameters of one statement, as text. */
struct pg_params {
	int		 n;
	const char	*v[PG_MAXPARAMS];
	char		*own[PG_MAXPARAMS];
	char		 num[PG_MAXPARAMS][32];
};

/* ---- columns and statements -------------------------------------- */

#define DEF_COLS "id, kind, name, version, text, source, deleted, " \
	"created_at, updated_at"
#define WORKFLOW_COLS "id, name, def_id, created_at, updated_at"
#define EXEC_COLS "id, workflow_name, workflow_id, def_id, parent_task_id, " \
	"root_id, state, state_info, input, output, params, context, " \
	"description, request_id, owner, lease_until, created_at, updated_at"
#define TASK_COLS "id, execution_id, name, state, state_info, type, " \
	"in_context, published, result, runtime, seq, created_at, " \
	"started_at, finished_at, updated_at"
#define ACTION_COLS "id, task_id, execution_id, name, state, state_info, " \
	"input, output, attempt, item, is_async, request_id, created_at, " \
	"updated_at"
#define WORK_COLS "id, execution_id, task_id, kind, due_at, payload"
#define EVENT_COLS "id, execution_id, task_id, task_name, time, progress, " \
	"message, level, request_id"
#define MESSAGE_COLS "id, event_id, message, request_id, resource_type, " \
	"resource_uuid, level, created_at, expires_at"
#define FINAL_STATES "('SUCCESS', 'ERROR', 'CANCELLED')"

/* A masked column: "col = CASE WHEN $2 & bit <> 0 THEN $n ELSE col END". */
#define SET(col, bit, p) \
	col " = CASE WHEN $2::integer & " #bit " <> 0 THEN " p " ELSE " \
	col " END, "

enum pg_stmt {
	PG_BEGIN,
	PG_COMMIT,
	PG_ROLLBACK,
	PG_SAVEPOINT,
	PG_RELEASE,
	PG_ROLLBACK_TO,
	PG_TXID,
	PG_TXID_STATUS,
	PG_NOTIFY,
	PG_NOW,
	PG_EXEC_INSERT,
	PG_EXEC_UPDATE,
	PG_TASK_INSERT,
	PG_TASK_UPDATE,
	PG_ACTION_INSERT,
	PG_ACTION_UPDATE,
	PG_WORK_INSERT,
	PG_WORK_DELETE,
	PG_WORK_DELETE_TASK,
	PG_LOCK_ACQUIRE,
	PG_LOCK_RELEASE_ALL,
	PG_EVENT_INSERT,
	PG_MESSAGE_INSERT,
	PG_DEF_BUMP,
	PG_DEF_LAST,
	PG_DEF_INSERT,
	PG_DEF_LOAD,
	PG_DEF_CURRENT,
	PG_DEF_LIST,
	PG_DEF_GENERATION,
	PG_WORKFLOW_SAVE,
	PG_WORKFLOW_LOAD,
	PG_WORKFLOW_DELETE,
	PG_EXEC_LOAD,
	PG_EXEC_STATE,
	PG_TASKS_LOAD,
	PG_EXECS_LOAD,
	PG_TASKS_LOAD_MANY,
	PG_TASK_LOAD,
	PG_ACTIONS_LOAD,
	PG_ACTION_LOAD,
	PG_EVENTS_LOAD,
	PG_EXEC_CHILDREN,
	PG_LOCK_OWNER,
	PG_MESSAGE_DELETE,
	PG_MESSAGE_REAP,
	PG_EXEC_DELETE,
	PG_EXEC_CLAIM,
	PG_EXEC_RENEW,
	PG_EXEC_RELEASE,
	PG_WORK_DUE,
	PG_WORK_LOAD,
	PG_WORK_NEXT,
	PG_NSTMTS
};

/* Every prepared statement; its name is "bora" and its index. */
static const char *const pg_sql[PG_NSTMTS] = {
	[PG_BEGIN] = "BEGIN",
	[PG_COMMIT] = "COMMIT",
	[PG_ROLLBACK] = "ROLLBACK",
	[PG_SAVEPOINT] = "SAVEPOINT cs",
	[PG_RELEASE] = "RELEASE SAVEPOINT cs",
	[PG_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT cs",
	[PG_TXID] = "SELECT txid_current()",
	[PG_TXID_STATUS] = "SELECT txid_status($1::bigint)",
	[PG_NOTIFY] = "SELECT pg_notify($1, '')",
	[PG_NOW] = "SELECT bora_now_ms()",

	[PG_EXEC_INSERT] = "INSERT INTO executions (" EXEC_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, COALESCE($7::text, 'IDLE'), $8, $9, "
	    "$10, $11, $12, $13, $14, $15, $16, "
	    "COALESCE($17::bigint, bora_now_ms()), "
	    "COALESCE($18::bigint, $17::bigint, bora_now_ms()))",
	[PG_EXEC_UPDATE] = "WITH u AS (UPDATE executions SET "
	    SET("state", 1, "$4::text")
	    SET("state_info", 2, "$5::text")
	    SET("input", 2048, "$6::text")
	    SET("output", 4, "$7::text")
	    SET("params", 512, "$8::text")
	    SET("context", 8, "$9::text")
	    SET("description", 1024, "$10::text")
	    "updated_at = bora_now_ms() WHERE id = $1 AND "
	    "($3::text IS NULL OR state = $3::text) RETURNING 1) "
	    "SELECT bora_guard(count(*), $11, $12) FROM u",
	[PG_TASK_INSERT] = "INSERT INTO tasks (" TASK_COLS ") VALUES "
	    "($1, $2, $3, COALESCE($4::text, 'IDLE'), $5, $6, $7, $8, $9, $10, "
	    "CASE WHEN $11::bigint > 0 THEN $11::bigint ELSE (SELECT "
	    "COALESCE(max(seq), 0) + 1 FROM tasks WHERE execution_id = $2) "
	    "END, COALESCE($12::bigint, bora_now_ms()), $13, $14, "
	    "COALESCE($15::bigint, $12::bigint, bora_now_ms()))",
	[PG_TASK_UPDATE] = "WITH u AS (UPDATE tasks SET "
	    SET("state", 1, "$4::text")
	    SET("state_info", 2, "$5::text")
	    SET("in_context", 4096, "$6::text")
	    SET("published", 16, "$7::text")
	    SET("result", 32, "$8::text")
	    SET("runtime", 64, "$9::text")
	    SET("started_at", 128, "$10::bigint")
	    SET("finished_at", 256, "$11::bigint")
	    "updated_at = bora_now_ms() WHERE id = $1 AND "
	    "($3::text IS NULL OR state = $3::text) RETURNING 1) "
	    "SELECT bora_guard(count(*), $12, $13) FROM u",
	[PG_ACTION_INSERT] = "INSERT INTO action_executions (" ACTION_COLS
	    ") VALUES ($1, $2, $3, $4, COALESCE($5::text, 'RUNNING'), $6, $7, "
	    "$8, $9, $10, $11, $12, COALESCE($13::bigint, bora_now_ms()), "
	    "COALESCE($14::bigint, $13::bigint, bora_now_ms()))",
	[PG_ACTION_UPDATE] = "WITH u AS (UPDATE action_executions SET "
	    SET("state", 1, "$4::text")
	    SET("state_info", 2, "$5::text")
	    SET("input", 2048, "$6::text")
	    SET("output", 4, "$7::text")
	    "updated_at = bora_now_ms() WHERE id = $1 AND "
	    "($3::text IS NULL OR state = $3::text) RETURNING 1) "
	    "SELECT bora_guard(count(*), $8, $9) FROM u",
	[PG_WORK_INSERT] = "INSERT INTO work (execution_id, task_id, kind, "
	    "due_at, payload) VALUES ($1, $2, COALESCE($3::text, ''), $4, $5)",
	[PG_WORK_DELETE] = "WITH d AS (DELETE FROM work WHERE id = $1 "
	    "RETURNING 1) SELECT bora_guard(count(*), 'BG001', "
	    "'work ' || $1::bigint || ' is gone') FROM d",
	[PG_WORK_DELETE_TASK] = "DELETE FROM work WHERE task_id = $1",
	[PG_LOCK_ACQUIRE] = "WITH l AS (INSERT INTO locks (name, "
	    "execution_id, created_at) VALUES ($1, $2, bora_now_ms()) "
	    "ON CONFLICT (name) DO UPDATE SET execution_id = "
	    "excluded.execution_id WHERE locks.execution_id = "
	    "excluded.execution_id RETURNING 1) SELECT bora_guard(count(*), "
	    "'BG001', 'lock ' || $1::text || ' is held by another execution') "
	    "FROM l",
	[PG_LOCK_RELEASE_ALL] = "DELETE FROM locks WHERE execution_id = $1",
	[PG_EVENT_INSERT] = "INSERT INTO events (execution_id, task_id, "
	    "task_name, time, progress, message, level, request_id) VALUES "
	    "($1, $2, $3, COALESCE($4::bigint, bora_now_ms()), $5, $6, $7, $8)",
	[PG_MESSAGE_INSERT] = "INSERT INTO messages (" MESSAGE_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "COALESCE($8::bigint, bora_now_ms()), $9)",

	[PG_DEF_BUMP] = "UPDATE def_generation SET value = value + 1 "
	    "WHERE id = 1",
	[PG_DEF_LAST] = "SELECT version, deleted FROM definitions WHERE "
	    "kind = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
	[PG_DEF_INSERT] = "INSERT INTO definitions (" DEF_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, bora_now_ms(), bora_now_ms()) "
	    "RETURNING " DEF_COLS,
	[PG_DEF_LOAD] = "SELECT " DEF_COLS " FROM definitions WHERE id = $1",
	[PG_DEF_CURRENT] = "SELECT " DEF_COLS " FROM definitions WHERE "
	    "kind = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
	[PG_DEF_LIST] = "SELECT " DEF_COLS " FROM definitions d WHERE "
	    "deleted = 0 AND version = (SELECT max(version) FROM definitions x "
	    "WHERE x.kind = d.kind AND x.name = d.name) "
	    "ORDER BY created_at, id",
	[PG_DEF_GENERATION] = "SELECT value FROM def_generation WHERE id = 1",
	[PG_WORKFLOW_SAVE] = "INSERT INTO workflows (" WORKFLOW_COLS ") "
	    "VALUES ($1, $2, $3, bora_now_ms(), bora_now_ms()) ON CONFLICT "
	    "(name) DO UPDATE SET def_id = excluded.def_id, updated_at = "
	    "excluded.updated_at RETURNING " WORKFLOW_COLS,
	[PG_WORKFLOW_LOAD] = "SELECT " WORKFLOW_COLS " FROM workflows WHERE "
	    "id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1",
	[PG_WORKFLOW_DELETE] = "DELETE FROM workflows WHERE name = $1 OR "
	    "id = $1",

	[PG_EXEC_LOAD] = "SELECT " EXEC_COLS " FROM executions WHERE id = $1",
	[PG_EXEC_STATE] = "SELECT state FROM executions WHERE id = $1",
	[PG_TASKS_LOAD] = "SELECT " TASK_COLS " FROM tasks WHERE "
	    "execution_id = $1 ORDER BY seq, created_at, id",
	[PG_TASK_LOAD] = "SELECT " TASK_COLS " FROM tasks WHERE id = $1",
	[PG_EXECS_LOAD] = "SELECT " EXEC_COLS " FROM executions WHERE "
	    "id = ANY ($1::text[])",
	[PG_TASKS_LOAD_MANY] = "SELECT " TASK_COLS " FROM tasks WHERE "
	    "execution_id = ANY ($1::text[]) ORDER BY execution_id, seq, "
	    "created_at, id",
	[PG_ACTIONS_LOAD] = "SELECT " ACTION_COLS " FROM action_executions "
	    "WHERE task_id = $1 ORDER BY attempt, item, created_at, id",
	[PG_ACTION_LOAD] = "SELECT " ACTION_COLS " FROM action_executions "
	    "WHERE id = $1",
	[PG_EVENTS_LOAD] = "SELECT " EVENT_COLS " FROM events WHERE "
	    "execution_id = $1 ORDER BY time, id",
	[PG_EXEC_CHILDREN] = "SELECT " EXEC_COLS " FROM executions WHERE "
	    "parent_task_id = $1 ORDER BY created_at, id",
	[PG_LOCK_OWNER] = "SELECT execution_id FROM locks WHERE name = $1",
	[PG_MESSAGE_DELETE] = "DELETE FROM messages WHERE id = $1",
	[PG_MESSAGE_REAP] = "DELETE FROM messages WHERE id IN (SELECT id "
	    "FROM messages WHERE expires_at > 0 AND expires_at <= $1 "
	    "ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
	[PG_EXEC_DELETE] = "WITH RECURSIVE tree(id) AS (SELECT id FROM "
	    "executions WHERE id = $1 AND state IN " FINAL_STATES " UNION "
	    "SELECT e.id FROM executions e JOIN tasks t ON "
	    "e.parent_task_id = t.id JOIN tree ON t.execution_id = tree.id), "
	    "a AS (DELETE FROM action_executions WHERE execution_id IN "
	    "(SELECT id FROM tree) OR task_id IN (SELECT t.id FROM tasks t "
	    "WHERE t.execution_id IN (SELECT id FROM tree))), "
	    "t AS (DELETE FROM tasks WHERE execution_id IN "
	    "(SELECT id FROM tree)), "
	    "w AS (DELETE FROM work WHERE execution_id IN "
	    "(SELECT id FROM tree)), "
	    "l AS (DELETE FROM locks WHERE execution_id IN "
	    "(SELECT id FROM tree)), "
	    "v AS (DELETE FROM events WHERE execution_id IN "
	    "(SELECT id FROM tree)) "
	    "DELETE FROM executions WHERE id IN (SELECT id FROM tree)",

	/*
	 * Candidates come from three indexed sources (never claimed,
	 * expired leases, due work) so that a claim does not walk every
	 * live execution; the outer conditions are checked again on the
	 * locked row.
	 */
	[PG_EXEC_CLAIM] = "UPDATE executions SET owner = $1, lease_until = "
	    "bora_now_ms() + $2::bigint WHERE id IN (SELECT x.id FROM "
	    "executions x WHERE x.id IN (SELECT c.id FROM executions c WHERE "
	    "c.owner IS NULL AND c.lease_until = 0 UNION ALL SELECT c.id FROM "
	    "executions c WHERE c.owner IS NOT NULL AND c.lease_until <= "
	    "bora_now_ms() AND c.state NOT IN " FINAL_STATES " UNION ALL "
	    "SELECT w.execution_id FROM work w WHERE w.due_at <= "
	    "bora_now_ms()) AND x.state NOT IN " FINAL_STATES " AND "
	    "((x.owner IS NULL AND (x.lease_until = 0 OR EXISTS (SELECT 1 "
	    "FROM work w WHERE w.execution_id = x.id AND w.due_at <= "
	    "bora_now_ms()))) OR (x.owner IS NOT NULL AND x.lease_until <= "
	    "bora_now_ms())) ORDER BY x.created_at, x.id LIMIT $3 "
	    "FOR UPDATE SKIP LOCKED) RETURNING id",
	[PG_EXEC_RENEW] = "UPDATE executions SET lease_until = "
	    "bora_now_ms() + $2::bigint WHERE owner = $1",
	/* A running execution given back is claimed again at once. */
	[PG_EXEC_RELEASE] = "UPDATE executions SET owner = NULL, "
	    "lease_until = CASE WHEN state = 'RUNNING' THEN 0 ELSE "
	    "bora_now_ms() END WHERE id = $1 AND owner = $2",
	[PG_WORK_DUE] = "SELECT " WORK_COLS " FROM work WHERE "
	    "execution_id = $1 AND due_at <= $2 ORDER BY due_at, id",
	[PG_WORK_LOAD] = "SELECT " WORK_COLS " FROM work WHERE "
	    "execution_id = $1 ORDER BY due_at, id",
	[PG_WORK_NEXT] = "SELECT min(w.due_at) FROM work w JOIN executions e "
	    "ON e.id = w.execution_id WHERE e.owner IS NULL OR e.owner = $1 "
	    "OR e.lease_until <= bora_now_ms()"
};

static struct store	*pg_open(const char *, char **);
static void		 pg_close(struct store *);
static PGconn		*pg_connect(struct pg_store *, char **);
static int		 pg_migrate(PGconn *, char **);
static int		 pg_prepare_all(PGconn *, char **);
static enum store_rc	 pg_ready(struct pg_store *);
static void		 pg_drop(struct pg_store *, const char *);
static enum store_rc	 pg_result_rc(struct pg_store *, PGresult *,
			     const char *);
static PGresult		*pg_run(struct pg_store *, enum pg_stmt,
			     struct pg_params *, const char *,
			     enum store_rc *);
static enum store_rc	 pg_simple(struct pg_store *, enum pg_stmt,
			     const char *);
static void		 pg_rollback(struct pg_store *);
static enum store_rc	 pg_begin(struct pg_store *, int64_t *);
static enum store_rc	 pg_commit(struct pg_store *, int64_t);
static int		 pg_resolve(struct pg_store *, int64_t);

/* ---- parameters -------------------------------------------------- */

/* Add a text parameter (NULL is SQL NULL); borrowed until sent. */
static void
pp_str(struct pg_params *p, const char *s)
{
	if (p->n >= PG_MAXPARAMS)
		fatalx("%s: too many parameters", __func__);
	p->own[p->n] = NULL;
	p->v[p->n++] = s;
}

/* Add an identifier; "" is NULL. */
static void
pp_id(struct pg_params *p, const char *s)
{
	pp_str(p, (s == NULL || *s == '\0') ? NULL : s);
}

/* Add a malloc'd text parameter, freed with the parameters. */
static void
pp_own(struct pg_params *p, char *s)
{
	pp_str(p, s);
	p->own[p->n - 1] = s;
}

/* Add an integer. */
static void
pp_int(struct pg_params *p, int64_t v)
{
	pp_str(p, NULL);
	snprintf(p->num[p->n - 1], sizeof p->num[0], "%lld", (long long)v);
	p->v[p->n - 1] = p->num[p->n - 1];
}

/* Add an integer where 0 means "not given" (SQL NULL). */
static void
pp_int0(struct pg_params *p, int64_t v)
{
	if (v == 0)
		pp_str(p, NULL);
	else
		pp_int(p, v);
}

/* Add a floating point number. */
static void
pp_double(struct pg_params *p, double v)
{
	pp_str(p, NULL);
	snprintf(p->num[p->n - 1], sizeof p->num[0], "%.17g", v);
	p->v[p->n - 1] = p->num[p->n - 1];
}

/* Add a JSON value as text (NULL stays NULL). */
static void
pp_json(struct pg_params *p, json_t *j)
{
	pp_own(p, store_json_text(j));
}

/* Add a JSON value only when bit is in mask; NULL otherwise. */
static void
pp_json_if(struct pg_params *p, unsigned mask, unsigned bit, json_t *j)
{
	if (mask & bit)
		pp_json(p, j);
	else
		pp_str(p, NULL);
}

/* Free what the parameters own and empty them. */
static void
pp_free(struct pg_params *p)
{
	int	 i;

	for (i = 0; i < p->n; i++)
		free(p->own[i]);
	p->n = 0;
}

/* ---- rows -------------------------------------------------------- */

/* Copy a text column (NULL stays NULL). */
static char *
col_str(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return (NULL);
	return (xstrdup(PQgetvalue(res, row, col)));
}

/* Copy a text column into a fixed identifier buffer. */
static void
col_id(PGresult *res, int row, int col, char *out)
{
	snprintf(out, UUID_STRLEN, "%s", PQgetvalue(res, row, col));
}

/* An integer column; NULL is 0. */
static int64_t
col_int(PGresult *res, int row, int col)
{
	return (strtoll(PQgetvalue(res, row, col), NULL, 10));
}

/* Parse a JSON text column. */
static json_t *
col_json(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return (NULL);
	return (store_json_parse(PQgetvalue(res, row, col)));
}

/* A definition row from result row r. */
static struct store_def *
read_def(PGresult *res, int r)
{
	struct store_def	*d;

	d = xcalloc(1, sizeof *d);
	col_id(res, r, 0, d->id);
	d->kind = col_str(res, r, 1);
	d->name = col_str(res, r, 2);
	d->version = (int)col_int(res, r, 3);
	d->text = col_str(res, r, 4);
	d->source = col_str(res, r, 5);
	d->deleted = (int)col_int(res, r, 6);
	d->created_at = col_int(res, r, 7);
	d->updated_at = col_int(res, r, 8);
	return (d);
}

/* A workflow identity row from result row r. */
static struct store_workflow *
read_workflow(PGresult *res, int r)
{
	struct store_workflow	*w;

	w = xcalloc(1, sizeof *w);
	col_id(res, r, 0, w->id);
	w->name = col_str(res, r, 1);
	col_id(res, r, 2, w->def_id);
	w->created_at = col_int(res, r, 3);
	w->updated_at = col_int(res, r, 4);
	return (w);
}

/* A execution row from result row r. */
static struct store_exec *
read_exec(PGresult *res, int r)
{
	struct store_exec	*e;

	e = xcalloc(1, sizeof *e);
	col_id(res, r, 0, e->id);
	e->workflow_name = col_str(res, r, 1);
	col_id(res, r, 2, e->workflow_id);
	col_id(res, r, 3, e->def_id);
	e->parent_task_id = col_str(res, r, 4);
	e->root_id = col_str(res, r, 5);
	e->state = col_str(res, r, 6);
	e->state_info = col_str(res, r, 7);
	e->input = col_json(res, r, 8);
	e->output = col_json(res, r, 9);
	e->params = col_json(res, r, 10);
	e->context = col_json(res, r, 11);
	e->description = col_str(res, r, 12);
	e->request_id = col_str(res, r, 13);
	e->owner = col_str(res, r, 14);
	e->lease_until = col_int(res, r, 15);
	e->created_at = col_int(res, r, 16);
	e->updated_at = col_int(res, r, 17);
	return (e);
}

/* A task row from result row r. */
static struct store_task *
read_task(PGresult *res, int r)
{
	struct store_task	*t;

	t = xcalloc(1, sizeof *t);
	col_id(res, r, 0, t->id);
	col_id(res, r, 1, t->execution_id);
	t->name = col_str(res, r, 2);
	t->state = col_str(res, r, 3);
	t->state_info = col_str(res, r, 4);
	t->type = col_str(res, r, 5);
	t->in_context = col_json(res, r, 6);
	t->published = col_json(res, r, 7);
	t->result = col_json(res, r, 8);
	t->runtime = col_json(res, r, 9);
	t->seq = col_int(res, r, 10);
	t->created_at = col_int(res, r, 11);
	t->started_at = col_int(res, r, 12);
	t->finished_at = col_int(res, r, 13);
	t->updated_at = col_int(res, r, 14);
	return (t);
}

/* A action execution row from result row r. */
static struct store_action *
read_action(PGresult *res, int r)
{
	struct store_action	*a;

	a = xcalloc(1, sizeof *a);
	col_id(res, r, 0, a->id);
	a->task_id = col_str(res, r, 1);
	a->execution_id = col_str(res, r, 2);
	a->name = col_str(res, r, 3);
	a->state = col_str(res, r, 4);
	a->state_info = col_str(res, r, 5);
	a->input = col_json(res, r, 6);
	a->output = col_json(res, r, 7);
	a->attempt = (int)col_int(res, r, 8);
	a->item = (int)col_int(res, r, 9);
	a->is_async = (int)col_int(res, r, 10);
	a->request_id = col_str(res, r, 11);
	a->created_at = col_int(res, r, 12);
	a->updated_at = col_int(res, r, 13);
	return (a);
}

/* A due work row from result row r. */
static struct store_work *
read_work(PGresult *res, int r)
{
	struct store_work	*w;

	w = xcalloc(1, sizeof *w);
	w->id = col_int(res, r, 0);
	col_id(res, r, 1, w->execution_id);
	w->task_id = col_str(res, r, 2);
	w->kind = col_str(res, r, 3);
	w->due_at = col_int(res, r, 4);
	w->payload = col_json(res, r, 5);
	return (w);
}

/* A event row from result row r. */
static struct store_event *
read_event(PGresult *res, int r)
{
	struct store_event	*ev;

	ev = xcalloc(1, sizeof *ev);
	ev->id = col_int(res, r, 0);
	col_id(res, r, 1, ev->execution_id);
	ev->task_id = col_str(res, r, 2);
	ev->task_name = col_str(res, r, 3);
	ev->time = col_int(res, r, 4);
	ev->progress = strtod(PQgetvalue(res, r, 5), NULL);
	ev->message = col_str(res, r, 6);
	ev->level = col_str(res, r, 7);
	ev->request_id = col_str(res, r, 8);
	return (ev);
}

/* A message row from result row r. */
static struct store_message *
read_message(PGresult *res, int r)
{
	struct store_message	*m;

	m = xcalloc(1, sizeof *m);
	col_id(res, r, 0, m->id);
	m->event_id = col_str(res, r, 1);
	m->message = col_str(res, r, 2);
	m->request_id = col_str(res, r, 3);
	m->resource_type = col_str(res, r, 4);
	m->resource_uuid = col_str(res, r, 5);
	m->level = col_str(res, r, 6);
	m->created_at = col_int(res, r, 7);
	m->expires_at = col_int(res, r, 8);
	return (m);
}

/* Every row of a result as a typed array the caller owns. */
#define PG_ROWS(res, fn, out, n) do {					\
	int	 i_, n_ = PQntuples(res);				\
									\
	*(out) = NULL;							\
	if (n_ > 0) {							\
		*(out) = xreallocarray(NULL, n_, sizeof **(out));	\
		for (i_ = 0; i_ < n_; i_++)				\
			(*(out))[i_] = fn((res), i_);			\
	}								\
	*(n) = (size_t)n_;						\
} while (0)

/* ---- connection -------------------------------------------------- */

/* Load libpq, open a connection, migrate and prepare the statements. */
static struct store *
pg_open(const char *url, char **cause)
{
	struct pg_store	*ps;
	PGconn		*conn;

	if (dl_pq_load(cause) != 0)
		return (NULL);
	ps = xcalloc(1, sizeof *ps);
	ps->url = xstrdup(url);
	if ((conn = pg_connect(ps, cause)) == NULL)
		goto fail;
	if (pg_migrate(conn, cause) != 0 ||
	    pg_prepare_all(conn, cause) != 0) {
		PQfinish(conn);
		goto fail;
	}
	ps->conn = conn;
	return (&ps->s);

fail:
	free(ps->url);
	free(ps);
	return (NULL);
}

/* Close the connection. */
static void
pg_close(struct store *s)
{
	struct pg_store	*ps = PG(s);

	if (ps->conn != NULL)
		PQfinish(ps->conn);
	free(ps->url);
	free(ps);
}

/* Server notices go to the debug log, not to stderr. */
static void
pg_notice(void *arg, const char *msg)
{
	log_debug("postgresql: %s", msg);
}

/* Make a raw connection to the URL; NULL + *cause on failure. */
static PGconn *
pg_connect(struct pg_store *ps, char **cause)
{
	/* Defaults first: what the URL says overrides them. */
	static const char *const keys[] = {
		"fallback_application_name", "connect_timeout",
		"keepalives_idle", "keepalives_interval", "keepalives_count",
		"dbname", NULL
	};
	const char	*values[] = { "bora", "10", "30", "10", "3", ps->url,
			    NULL };
	PGconn		*conn;
	char		*msg, *nl;

	conn = PQconnectdbParams(keys, values, 1);
	if (conn == NULL) {
		xasprintf(cause, "cannot allocate a connection");
		return (NULL);
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		msg = xstrdup(PQerrorMessage(conn));
		if ((nl = strrchr(msg, '\n')) != NULL && nl[1] == '\0')
			*nl = '\0';
		xasprintf(cause, "connect: %s", msg);
		free(msg);
		PQfinish(conn);
		return (NULL);
	}
	PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
	PQsetNoticeProcessor(conn, pg_notice, NULL);
	return (conn);
}

/* Run a statement of the migration transaction; -1 + *cause. */
static int
pg_migrate_exec(PGconn *conn, const char *sql, const char *what,
    PGresult **out, char **cause)
{
	PGresult	*res;
	char		*msg, *nl;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		msg = xstrdup(PQresultErrorMessage(res));
		if (*msg == '\0') {
			free(msg);
			msg = xstrdup(PQerrorMessage(conn));
		}
		if ((nl = strrchr(msg, '\n')) != NULL && nl[1] == '\0')
			*nl = '\0';
		xasprintf(cause, "%s: %s", what, msg);
		free(msg);
		PQclear(res);
		return (-1);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return (0);
}

/*
 * Apply the migrations the database lacks, in one transaction under an
 * advisory lock so that engines starting together do not race.  A
 * database whose schema is newer than this binary knows is refused.
 */
static int
pg_migrate(PGconn *conn, char **cause)
{
	const struct store_migration	*mg;
	PGresult			*res;
	const char			*values[2];
	char				 num[16];
	int				 cur, known = 0;

	for (mg = store_pg_migrations; mg->sql != NULL; mg++)
		known = mg->version;

	if (pg_migrate_exec(conn, "BEGIN", "schema", NULL, cause) != 0)
		return (-1);
	if (pg_migrate_exec(conn, "SET LOCAL client_min_messages = warning",
	    "schema", NULL, cause) != 0 ||
	    pg_migrate_exec(conn, "SELECT pg_advisory_xact_lock("
	    PG_MIGRATE_LOCK ")", "schema lock", NULL, cause) != 0 ||
	    pg_migrate_exec(conn, "CREATE TABLE IF NOT EXISTS schema_version "
	    "(version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at bigint NOT NULL)", "schema", NULL, cause) != 0 ||
	    pg_migrate_exec(conn, "SELECT COALESCE(max(version), 0) FROM "
	    "schema_version", "schema", &res, cause) != 0)
		goto fail;
	cur = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (cur > known) {
		xasprintf(cause, "database schema version %d is newer than "
		    "this version of bora knows (%d): upgrade bora", cur,
		    known);
		goto fail;
	}

	for (mg = store_pg_migrations; mg->sql != NULL; mg++) {
		if (mg->version <= cur)
			continue;
		if (pg_migrate_exec(conn, mg->sql, mg->name, NULL, cause) != 0)
			goto fail;
		snprintf(num, sizeof num, "%d", mg->version);
		values[0] = num;
		values[1] = mg->name;
		res = PQexecParams(conn, "INSERT INTO schema_version (version, "
		    "name, applied_at) VALUES ($1, $2, (extract(epoch FROM "
		    "now()) * 1000)::bigint)", 2, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			xasprintf(cause, "schema: %s", PQerrorMessage(conn));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	if (pg_migrate_exec(conn, "COMMIT", "schema", NULL, cause) != 0)
		return (-1);
	return (0);

fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return (-1);
}

/*
 * Next result of a pipeline: the command's result, having consumed the
 * NULL that ends it.  NULL when the connection broke.
 */
static PGresult *
pg_pipe_next(PGconn *conn)
{
	PGresult	*res, *extra;

	if ((res = PQgetResult(conn)) == NULL)
		return (NULL);
	if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		return (res);
	while ((extra = PQgetResult(conn)) != NULL) {
		/* One result per command: anything more is a broken state. */
		PQclear(extra);
		if (PQstatus(conn) == CONNECTION_BAD)
			break;
	}
	return (res);
}

/* Prepare every statement and LISTEN, in one round trip. */
static int
pg_prepare_all(PGconn *conn, char **cause)
{
	PGresult	*res;
	char		 name[16];
	int		 i, bad = -1, ok;

	if (PQenterPipelineMode(conn) != 1) {
		xasprintf(cause, "pipeline mode: %s", PQerrorMessage(conn));
		return (-1);
	}
	for (i = 0; i < PG_NSTMTS; i++) {
		snprintf(name, sizeof name, "bora%d", i);
		if (PQsendPrepare(conn, name, pg_sql[i], 0, NULL) != 1)
			goto lost;
	}
	if (PQsendQueryParams(conn, "LISTEN " PG_CHANNEL, 0, NULL, NULL, NULL,
	    NULL, 0) != 1 || PQpipelineSync(conn) != 1)
		goto lost;
	for (i = 0; i <= PG_NSTMTS; i++) {
		if ((res = pg_pipe_next(conn)) == NULL)
			goto lost;
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok && bad == -1) {
			bad = i;
			xasprintf(cause, "prepare %s: %s", i < PG_NSTMTS ?
			    pg_sql[i] : "LISTEN", PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	if ((res = pg_pipe_next(conn)) == NULL)
		goto lost;
	PQclear(res);
	if (PQexitPipelineMode(conn) != 1) {
		if (bad == -1)
			xasprintf(cause, "pipeline mode: %s",
			    PQerrorMessage(conn));
		return (-1);
	}
	return (bad == -1 ? 0 : -1);

lost:
	if (bad != -1)
		free(*cause);
	xasprintf(cause, "prepare: %s", PQerrorMessage(conn));
	return (-1);
}

/* Forget a broken connection; the next call reconnects. */
static void
pg_drop(struct pg_store *ps, const char *why)
{
	char	*nl;

	if (why != NULL) {
		/* libpq may have no message for a closed connection. */
		snprintf(ps->lost, sizeof ps->lost, "%s", *why != '\0' ? why :
		    "connection lost");
		if ((nl = strrchr(ps->lost, '\n')) != NULL && nl[1] == '\0')
			*nl = '\0';
	}
	if (ps->conn != NULL)
		PQfinish(ps->conn);
	ps->conn = NULL;
	/* The first reconnect is at once; backoff grows from there. */
	if (ps->backoff == 0)
		ps->retry_at = 0;
}

/*
 * Make sure there is a working connection: reconnect (prepare, LISTEN)
 * if it was lost, but not before the backoff has passed.  Only called at
 * the start of an operation, never inside a transaction.
 */
static enum store_rc
pg_ready(struct pg_store *ps)
{
	PGconn	*conn;
	char	*cause = NULL;
	int64_t	 now;

	if (ps->conn != NULL) {
		if (PQstatus(ps->conn) == CONNECTION_OK &&
		    PQtransactionStatus(ps->conn) == PQTRANS_IDLE)
			return (STORE_OK);
		pg_drop(ps, PQstatus(ps->conn) == CONNECTION_OK ?
		    "connection left in a transaction" :
		    PQerrorMessage(ps->conn));
	}
	now = time_mono_ms();
	if (now < ps->retry_at) {
		store_set_error(&ps->s, "database unavailable: %s", ps->lost);
		return (STORE_UNAVAILABLE);
	}
	conn = pg_connect(ps, &cause);
	if (conn != NULL && pg_prepare_all(conn, &cause) != 0) {
		PQfinish(conn);
		conn = NULL;
	}
	if (conn == NULL) {
		snprintf(ps->lost, sizeof ps->lost, "%s", cause);
		free(cause);
		ps->backoff = ps->backoff == 0 ? PG_BACKOFF_MIN :
		    ps->backoff * 2;
		if (ps->backoff > PG_BACKOFF_MAX)
			ps->backoff = PG_BACKOFF_MAX;
		ps->retry_at = now + ps->backoff;
		store_set_error(&ps->s, "database unavailable: %s", ps->lost);
		return (STORE_UNAVAILABLE);
	}
	ps->conn = conn;
	ps->backoff = 0;
	ps->retry_at = 0;
	return (STORE_OK);
}

/* The store result for a SQLSTATE. */
static enum store_rc
pg_sqlstate_rc(const char *code)
{
	if (code == NULL)
		return (STORE_ERROR);
	if (strcmp(code, "BG001") == 0)
		return (STORE_CONFLICT);
	if (strcmp(code, "BG002") == 0)
		return (STORE_NOTFOUND);
	if (strncmp(code, "23", 2) == 0 ||	/* integrity constraint */
	    strcmp(code, "40001") == 0 ||	/* serialization failure */
	    strcmp(code, "40P01") == 0)		/* deadlock */
		return (STORE_CONFLICT);
	if (strncmp(code, "08", 2) == 0 ||	/* connection exception */
	    strcmp(code, "57P01") == 0 ||	/* admin shutdown */
	    strcmp(code, "57P02") == 0 ||	/* crash shutdown */
	    strcmp(code, "57P03") == 0 ||	/* cannot connect now */
	    strcmp(code, "53300") == 0)		/* too many clients */
		return (STORE_UNAVAILABLE);
	return (STORE_ERROR);
}

/*
 * Map a result to a store result and record the error; a lost
 * connection is dropped so that the next call reconnects.
 */
static enum store_rc
pg_result_rc(struct pg_store *ps, PGresult *res, const char *what)
{
	ExecStatusType	 st;
	enum store_rc	 rc;
	const char	*msg;
	char		*copy, *nl;

	st = PQresultStatus(res);
	if (res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
		return (STORE_OK);
	if (res != NULL && *PQresultErrorMessage(res) != '\0') {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		if (msg == NULL)
			msg = PQresultErrorMessage(res);
	} else
		msg = PQerrorMessage(ps->conn);
	copy = xstrdup(msg);
	if ((nl = strrchr(copy, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	store_set_error(&ps->s, "%s: %s", what, copy);
	free(copy);

	rc = pg_sqlstate_rc(res == NULL ? NULL :
	    PQresultErrorField(res, PG_DIAG_SQLSTATE));
	if (PQstatus(ps->conn) != CONNECTION_OK)
		rc = STORE_UNAVAILABLE;
	if (rc == STORE_UNAVAILABLE)
		pg_drop(ps, PQerrorMessage(ps->conn));
	return (rc);
}

/*
 * Run a prepared statement; the result (caller clears it) or NULL with
 * *rc and store_error() set.  The parameters are freed.
 */
static PGresult *
pg_run(struct pg_store *ps, enum pg_stmt stmt, struct pg_params *p,
    const char *what, enum store_rc *rc)
{
	PGresult	*res;
	char		 name[16];

	if (ps->conn == NULL) {
		store_set_error(&ps->s, "%s: database unavailable: %s", what,
		    ps->lost);
		*rc = STORE_UNAVAILABLE;
		if (p != NULL)
			pp_free(p);
		return (NULL);
	}
	snprintf(name, sizeof name, "bora%d", (int)stmt);
	res = PQexecPrepared(ps->conn, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, NULL, NULL, 0);
	if (p != NULL)
		pp_free(p);
	if ((*rc = pg_result_rc(ps, res, what)) != STORE_OK) {
		PQclear(res);
		return (NULL);
	}
	return (res);
}

/* Run a statement whose result is not needed. */
static enum store_rc
pg_simple(struct pg_store *ps, enum pg_stmt stmt, const char *what)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_run(ps, stmt, NULL, what, &rc)) != NULL)
		PQclear(res);
	return (rc);
}

/* Roll back the open transaction, if any. */
static void
pg_rollback(struct pg_store *ps)
{
	PGTransactionStatusType	 ts;
	char			 errbuf[sizeof ps->s.errbuf];

	if (ps->conn == NULL)
		return;
	ts = PQtransactionStatus(ps->conn);
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
		return;
	/* Keep the error that made us roll back. */
	memcpy(errbuf, ps->s.errbuf, sizeof errbuf);
	pg_simple(ps, PG_ROLLBACK, "rollback");
	memcpy(ps->s.errbuf, errbuf, sizeof errbuf);
}

/* Begin a transaction and read its id (for pg_commit()). */
static enum store_rc
pg_begin(struct pg_store *ps, int64_t *xid)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	if ((rc = pg_simple(ps, PG_BEGIN, "begin")) != STORE_OK)
		return (rc);
	if ((res = pg_run(ps, PG_TXID, NULL, "begin", &rc)) == NULL) {
		pg_rollback(ps);
		return (rc);
	}
	*xid = col_int(res, 0, 0);
	PQclear(res);
	return (STORE_OK);
}

/*
 * Commit.  A connection lost during COMMIT is resolved through the
 * transaction id: STORE_OK if it committed, STORE_UNAVAILABLE if not.
 */
static enum store_rc
pg_commit(struct pg_store *ps, int64_t xid)
{
	enum store_rc	 rc;

	rc = pg_simple(ps, PG_COMMIT, "commit");
	if (rc == STORE_UNAVAILABLE) {
		switch (pg_resolve(ps, xid)) {
		case 1:
			return (STORE_OK);
		case 0:
			return (STORE_UNAVAILABLE);
		default:
			return (STORE_ERROR);
		}
	}
	if (rc != STORE_OK) {
		pg_rollback(ps);
		return (rc == STORE_CONFLICT ? STORE_ERROR : rc);
	}
	return (STORE_OK);
}

/* Sleep ms milliseconds. */
static void
pg_sleep(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Find out whether transaction xid committed, after its connection was
 * lost during COMMIT: 1 committed, 0 not (aborted, or the server
 * restarted without it), -1 still unknown after PG_RESOLVE_MS (then
 * store_error() says so).  Reconnects as needed.
 */
static int
pg_resolve(struct pg_store *ps, int64_t xid)
{
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	const char		*v;
	int64_t			 deadline;
	int			 pause = 10, result;

	deadline = time_mono_ms() + PG_RESOLVE_MS;
	for (;;) {
		ps->retry_at = 0;
		if (pg_ready(ps) == STORE_OK) {
			pp_int(&p, xid);
			res = pg_run(ps, PG_TXID_STATUS, &p, "txid_status",
			    &rc);
			if (res != NULL) {
				v = PQgetisnull(res, 0, 0) ? NULL :
				    PQgetvalue(res, 0, 0);
				result = v == NULL ? -1 :
				    strcmp(v, "committed") == 0 ? 1 :
				    strcmp(v, "aborted") == 0 ? 0 : 2;
				PQclear(res);
				if (result == -1) {
					store_set_error(&ps->s, "commit "
					    "outcome unknown: transaction %lld "
					    "is too old to check",
					    (long long)xid);
					return (-1);
				}
				if (result != 2) {
					ps->backoff = 0;
					return (result);
				}
				/* In progress: its backend has not ended. */
			}
		}
		if (time_mono_ms() >= deadline)
			break;
		pg_sleep(pause);
		pause = pause * 2 > 500 ? 500 : pause * 2;
	}
	ps->backoff = 0;
	store_set_error(&ps->s, "commit outcome unknown: transaction %lld "
	    "could not be checked (%s)", (long long)xid, ps->lost);
	return (-1);
}

/* Cheap liveness check: reconnects if needed, then one round trip. */
static enum store_rc
pg_ping(struct store *s)
{
	struct pg_store	*ps = PG(s);
	enum store_rc	 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	return (pg_simple(ps, PG_NOW, "ping"));
}

/* The database clock; the local clock when it cannot be read. */
static int64_t
pg_now(struct store *s)
{
	struct pg_store	*ps = PG(s);
	PGresult	*res;
	enum store_rc	 rc;
	int64_t		 v;

	if (pg_ready(ps) != STORE_OK)
		return (time_now_ms());
	if ((res = pg_run(ps, PG_NOW, NULL, "now", &rc)) == NULL)
		return (time_now_ms());
	v = col_int(res, 0, 0);
	PQclear(res);
	return (v);
}

/* ---- change sets ------------------------------------------------- */

/* What a statement sent in a pipeline was for. */
enum pg_sent_kind {
	PGS_BEGIN,
	PGS_TXID,
	PGS_NOTIFY,
	PGS_UNDO,		/* ROLLBACK TO / RELEASE after a failure */
	PGS_SAVEPOINT,
	PGS_OP,
	PGS_RELEASE,
	PGS_COMMIT
};
struct pg_sent {
	enum pg_sent_kind	 kind;
	size_t			 cs;		/* change set index */
	const char		*what;
};

/* Guard parameters of an update: SQLSTATE and message. */
static void
pg_guard_params(struct pg_params *p, const char *table, const char *id,
    const char *expect)
{
	char	*msg;

	if (expect != NULL) {
		xasprintf(&msg, "%s %s is not in state %s", table, id, expect);
		pp_str(p, "BG001");
	} else {
		xasprintf(&msg, "%s %s not found", table, id);
		pp_str(p, "BG002");
	}
	pp_own(p, msg);
}

/* Statement and parameters of one recorded operation. */
static enum pg_stmt
pg_op_params(struct store_op *op, struct pg_params *p, const char **what)
{
	struct store_exec	*e;
	struct store_task	*t;
	struct store_action	*a;
	struct store_work	*w;
	struct store_event	*ev;
	struct store_message	*m;
	unsigned		 mask = op->mask;

	switch (op->kind) {
	case STORE_OP_EXEC_INSERT:
		e = op->u.exec;
		*what = "insert execution";
		pp_str(p, e->id);
		pp_str(p, e->workflow_name);
		pp_id(p, e->workflow_id);
		pp_id(p, e->def_id);
		pp_str(p, e->parent_task_id);
		pp_str(p, e->root_id);
		pp_str(p, e->state);
		pp_str(p, e->state_info);
		pp_json(p, e->input);
		pp_json(p, e->output);
		pp_json(p, e->params);
		pp_json(p, e->context);
		pp_str(p, e->description);
		pp_str(p, e->request_id);
		pp_str(p, e->owner);
		pp_int(p, e->lease_until);
		pp_int0(p, e->created_at);
		pp_int0(p, e->updated_at);
		return (PG_EXEC_INSERT);
	case STORE_OP_EXEC_UPDATE:
		e = op->u.exec;
		*what = "update execution";
		pp_str(p, e->id);
		pp_int(p, mask);
		pp_str(p, op->expect);
		pp_str(p, (mask & SF_STATE) ? e->state : NULL);
		pp_str(p, (mask & SF_STATE_INFO) ? e->state_info : NULL);
		pp_json_if(p, mask, SF_INPUT, e->input);
		pp_json_if(p, mask, SF_OUTPUT, e->output);
		pp_json_if(p, mask, SF_PARAMS, e->params);
		pp_json_if(p, mask, SF_CONTEXT, e->context);
		pp_str(p, (mask & SF_DESCRIPTION) ? e->description : NULL);
		pg_guard_params(p, "execution", e->id, op->expect);
		return (PG_EXEC_UPDATE);
	case STORE_OP_TASK_INSERT:
		t = op->u.task;
		*what = "insert task";
		pp_str(p, t->id);
		pp_str(p, t->execution_id);
		pp_str(p, t->name);
		pp_str(p, t->state);
		pp_str(p, t->state_info);
		pp_str(p, t->type);
		pp_json(p, t->in_context);
		pp_json(p, t->published);
		pp_json(p, t->result);
		pp_json(p, t->runtime);
		pp_int(p, t->seq);
		pp_int0(p, t->created_at);
		pp_int(p, t->started_at);
		pp_int(p, t->finished_at);
		pp_int0(p, t->updated_at);
		return (PG_TASK_INSERT);
	case STORE_OP_TASK_UPDATE:
		t = op->u.task;
		*what = "update task";
		pp_str(p, t->id);
		pp_int(p, mask);
		pp_str(p, op->expect);
		pp_str(p, (mask & SF_STATE) ? t->state : NULL);
		pp_str(p, (mask & SF_STATE_INFO) ? t->state_info : NULL);
		pp_json_if(p, mask, SF_IN_CONTEXT, t->in_context);
		pp_json_if(p, mask, SF_PUBLISHED, t->published);
		pp_json_if(p, mask, SF_RESULT, t->result);
		pp_json_if(p, mask, SF_RUNTIME, t->runtime);
		pp_int(p, t->started_at);
		pp_int(p, t->finished_at);
		pg_guard_params(p, "task", t->id, op->expect);
		return (PG_TASK_UPDATE);
	case STORE_OP_ACTION_INSERT:
		a = op->u.action;
		*what = "insert action execution";
		pp_str(p, a->id);
		pp_str(p, a->task_id);
		pp_str(p, a->execution_id);
		pp_str(p, a->name);
		pp_str(p, a->state);
		pp_str(p, a->state_info);
		pp_json(p, a->input);
		pp_json(p, a->output);
		pp_int(p, a->attempt);
		pp_int(p, a->item);
		pp_int(p, a->is_async);
		pp_str(p, a->request_id);
		pp_int0(p, a->created_at);
		pp_int0(p, a->updated_at);
		return (PG_ACTION_INSERT);
	case STORE_OP_ACTION_UPDATE:
		a = op->u.action;
		*what = "update action execution";
		pp_str(p, a->id);
		pp_int(p, mask);
		pp_str(p, op->expect);
		pp_str(p, (mask & SF_STATE) ? a->state : NULL);
		pp_str(p, (mask & SF_STATE_INFO) ? a->state_info : NULL);
		pp_json_if(p, mask, SF_INPUT, a->input);
		pp_json_if(p, mask, SF_OUTPUT, a->output);
		pg_guard_params(p, "action execution", a->id, op->expect);
		return (PG_ACTION_UPDATE);
	case STORE_OP_WORK_INSERT:
		w = op->u.work;
		*what = "insert work";
		pp_str(p, w->execution_id);
		pp_str(p, w->task_id);
		pp_str(p, w->kind);
		pp_int(p, w->due_at);
		pp_json(p, w->payload);
		return (PG_WORK_INSERT);
	case STORE_OP_WORK_DELETE:
		*what = "delete work";
		pp_int(p, op->u.id);
		return (PG_WORK_DELETE);
	case STORE_OP_WORK_DELETE_TASK:
		*what = "delete work";
		pp_str(p, op->u.task_id);
		return (PG_WORK_DELETE_TASK);
	case STORE_OP_LOCK_ACQUIRE:
		*what = "lock";
		pp_str(p, op->u.lock.name);
		pp_str(p, op->u.lock.execution_id);
		return (PG_LOCK_ACQUIRE);
	case STORE_OP_LOCK_RELEASE_ALL:
		*what = "unlock";
		pp_str(p, op->u.lock.execution_id);
		return (PG_LOCK_RELEASE_ALL);
	case STORE_OP_EVENT_INSERT:
		ev = op->u.event;
		*what = "insert event";
		pp_str(p, ev->execution_id);
		pp_str(p, ev->task_id);
		pp_str(p, ev->task_name);
		pp_int0(p, ev->time);
		pp_double(p, ev->progress);
		pp_str(p, ev->message);
		pp_str(p, ev->level);
		pp_str(p, ev->request_id);
		return (PG_EVENT_INSERT);
	case STORE_OP_MESSAGE_INSERT:
		m = op->u.message;
		*what = "insert message";
		pp_str(p, m->id);
		pp_str(p, m->event_id);
		pp_str(p, m->message);
		pp_str(p, m->request_id);
		pp_str(p, m->resource_type);
		pp_str(p, m->resource_uuid);
		pp_str(p, m->level);
		pp_int0(p, m->created_at);
		pp_int(p, m->expires_at);
		return (PG_MESSAGE_INSERT);
	}
	return (PG_NSTMTS);
}

/* A pipeline being filled: the statements sent and not yet read. */
struct pg_pipe {
	struct pg_sent	*sent;
	size_t		 n;
	size_t		 cap;
};

/* Queue a prepared statement in the pipeline; 0 when it broke. */
static int
pg_pipe_send(struct pg_store *ps, struct pg_pipe *pp, enum pg_stmt stmt,
    struct pg_params *p, enum pg_sent_kind kind, size_t cs, const char *what)
{
	char	 name[16];
	int	 ok;

	if (pp->n == pp->cap) {
		pp->cap = pp->cap == 0 ? 64 : pp->cap * 2;
		pp->sent = xreallocarray(pp->sent, pp->cap, sizeof *pp->sent);
	}
	snprintf(name, sizeof name, "bora%d", (int)stmt);
	ok = PQsendQueryPrepared(ps->conn, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, NULL, NULL, 0);
	if (p != NULL)
		pp_free(p);
	pp->sent[pp->n].kind = kind;
	pp->sent[pp->n].cs = cs;
	pp->sent[pp->n].what = what;
	pp->n++;
	return (ok == 1);
}

/* Send the statements of one change set; 0 when the pipeline broke. */
static int
pg_send_tx(struct pg_store *ps, struct pg_pipe *pp, struct store_tx *tx,
    size_t cs, int sp)
{
	struct pg_params	 p;
	enum pg_stmt		 stmt;
	const char		*what = "";
	size_t			 i;

	if (sp && !pg_pipe_send(ps, pp, PG_SAVEPOINT, NULL, PGS_SAVEPOINT,
	    cs, "savepoint"))
		return (0);
	for (i = 0; i < tx->n; i++) {
		p.n = 0;
		stmt = pg_op_params(&tx->ops[i], &p, &what);
		if (stmt == PG_NSTMTS) {
			pp_free(&p);
			fatalx("%s: unknown change kind %d", __func__,
			    (int)tx->ops[i].kind);
		}
		if (!pg_pipe_send(ps, pp, stmt, &p, PGS_OP, cs, what))
			return (0);
	}
	if (sp && !pg_pipe_send(ps, pp, PG_RELEASE, NULL, PGS_RELEASE, cs,
	    "release savepoint"))
		return (0);
	return (1);
}

/* Does any change set insert rows other engines should hear about? */
static int
pg_wants_notify(struct store_tx **txs, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < txs[i]->n; j++) {
			if (txs[i]->ops[j].kind == STORE_OP_EXEC_INSERT ||
			    txs[i]->ops[j].kind == STORE_OP_WORK_INSERT)
				return (1);
		}
	}
	return (0);
}

/*
 * Apply change sets in one transaction, pipelined (see the top of the
 * file).  The first attempt sends them all plainly: no subtransactions,
 * two statements fewer per change set.  If one fails, the transaction is
 * rolled back and the others are sent again, each inside SAVEPOINT cs,
 * so that any further failure is rolled back alone; every change set
 * reports its own result.  Change sets are sent PG_CHUNK statements at a
 * time so that neither side's socket buffer can fill up while the other
 * is still writing.
 */
static enum store_rc
pg_commit_many(struct store *s, struct store_tx **txs, size_t n,
    enum store_rc *rcs)
{
	struct pg_store		*ps = PG(s);
	struct pg_pipe		 pp = { NULL, 0, 0 };
	struct pg_params	 p = { 0 };
	struct pg_sent		*f;
	PGresult		*res;
	ExecStatusType		 st;
	enum store_rc		 rc, frc = STORE_OK, worst;
	int64_t			 xid = -1;
	size_t			 pos = 0, first, i, failed;
	int			 sp = 0, started = 0, undo = 0;
	int			 final = 0, commit_sent = 0, fault = 0;

	for (i = 0; i < n && txs[i]->n == 0; i++)
		;
	if (i == n)
		return (STORE_OK);	/* nothing to write */
	if ((rc = pg_ready(ps)) != STORE_OK)
		goto fail_all;
	if (PQenterPipelineMode(ps->conn) != 1) {
		store_set_error(s, "pipeline mode: %s",
		    PQerrorMessage(ps->conn));
		rc = STORE_ERROR;
		goto fail_all;
	}

	for (;;) {
		pp.n = 0;
		if (!started) {
			started = 1;
			if (!pg_pipe_send(ps, &pp, PG_BEGIN, NULL, PGS_BEGIN,
			    0, "begin") ||
			    !pg_pipe_send(ps, &pp, PG_TXID, NULL, PGS_TXID, 0,
			    "begin") ||
			    PQsendFlushRequest(ps->conn) != 1)
				goto lost;
			if (pg_wants_notify(txs, n)) {
				pp_str(&p, PG_CHANNEL);
				if (!pg_pipe_send(ps, &pp, PG_NOTIFY, &p,
				    PGS_NOTIFY, 0, "notify"))
					goto lost;
			}
		}
		if (undo) {
			undo = 0;
			if (!pg_pipe_send(ps, &pp, PG_ROLLBACK_TO, NULL,
			    PGS_UNDO, 0, "rollback to savepoint") ||
			    !pg_pipe_send(ps, &pp, PG_RELEASE, NULL, PGS_UNDO,
			    0, "release savepoint"))
				goto lost;
		}
		first = pos;
		while (pos < n && (pos == first || pp.n < PG_CHUNK)) {
			if (txs[pos]->n > 0 && rcs[pos] == STORE_OK &&
			    !pg_send_tx(ps, &pp, txs[pos], pos, sp))
				goto lost;
			pos++;
		}
		final = pos == n;
		if (final) {
			fault = store_pg_fault;
			commit_sent = 1;
			if (!pg_pipe_send(ps, &pp, fault == 2 ? PG_ROLLBACK :
			    PG_COMMIT, NULL, PGS_COMMIT, 0, "commit") ||
			    PQpipelineSync(ps->conn) != 1)
				goto lost;
		} else if (PQsendFlushRequest(ps->conn) != 1 ||
		    PQflush(ps->conn) != 0)
			goto lost;

		/* Read every result; after a failure the rest are aborted. */
		failed = SIZE_MAX;
		for (i = 0; i < pp.n; i++) {
			if ((res = pg_pipe_next(ps->conn)) == NULL)
				goto lost;
			st = PQresultStatus(res);
			if (st == PGRES_PIPELINE_ABORTED) {
				PQclear(res);
				continue;
			}
			if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
				if (PQstatus(ps->conn) != CONNECTION_OK) {
					PQclear(res);
					goto lost;
				}
				if (failed == SIZE_MAX) {
					failed = i;
					frc = pg_result_rc(ps, res,
					    pp.sent[i].what);
				}
				PQclear(res);
				if (frc == STORE_UNAVAILABLE)
					goto lost;
				continue;
			}
			if (pp.sent[i].kind == PGS_TXID)
				xid = col_int(res, 0, 0);
			PQclear(res);
			if (final && fault != 0 &&
			    pp.sent[i].kind == PGS_TXID) {
				/* Test: the connection dies during COMMIT. */
				shutdown(PQsocket(ps->conn), SHUT_RDWR);
				goto lost;
			}
		}
		if (final || failed != SIZE_MAX) {
			if (!final && PQpipelineSync(ps->conn) != 1)
				goto lost;
			if ((res = pg_pipe_next(ps->conn)) == NULL)
				goto lost;
			st = PQresultStatus(res);
			PQclear(res);
			if (st != PGRES_PIPELINE_SYNC)
				goto lost;
		}
		if (failed == SIZE_MAX) {
			if (final)
				break;
			continue;
		}

		f = &pp.sent[failed];
		if (!sp && n > 1 && f->kind == PGS_OP) {
			/*
			 * First failure, sent without savepoints: roll it all
			 * back and send the others again, each in a savepoint.
			 */
			rcs[f->cs] = frc;
			PQexitPipelineMode(ps->conn);
			pg_rollback(ps);
			if (ps->conn == NULL ||
			    PQenterPipelineMode(ps->conn) != 1)
				goto lost;
			sp = 1;
			started = 0;
			commit_sent = 0;
			xid = -1;
			pos = 0;
			continue;
		}
		if (sp && (f->kind == PGS_OP || f->kind == PGS_RELEASE)) {
			/* That change set only: undo it, resend the rest. */
			rcs[f->cs] = frc;
			pos = f->cs + 1;
			undo = 1;
			continue;
		}
		/* The whole transaction failed. */
		PQexitPipelineMode(ps->conn);
		pg_rollback(ps);
		if (f->kind == PGS_COMMIT && frc == STORE_CONFLICT)
			frc = STORE_ERROR;
		for (i = 0; i < n; i++) {
			if (f->kind == PGS_OP || rcs[i] == STORE_OK)
				rcs[i] = frc;
		}
		free(pp.sent);
		return (frc);
	}
	if (PQexitPipelineMode(ps->conn) != 1) {
		/* Committed, but the connection is in a strange state. */
		pg_drop(ps, PQerrorMessage(ps->conn));
	}
	free(pp.sent);
	worst = STORE_OK;
	for (i = 0; i < n; i++) {
		if (rcs[i] > worst)
			worst = rcs[i];
	}
	return (worst);

lost:
	free(pp.sent);
	pp_free(&p);
	pg_drop(ps, ps->conn != NULL ? PQerrorMessage(ps->conn) : NULL);
	if (!commit_sent || xid == -1) {
		/* COMMIT never sent, or the server never got past BEGIN. */
		store_set_error(s, "commit: database unavailable: %s",
		    ps->lost);
		rc = STORE_UNAVAILABLE;
	} else {
		switch (pg_resolve(ps, xid)) {
		case 1:
			/* All change sets not already failed are in. */
			worst = STORE_OK;
			for (i = 0; i < n; i++) {
				if (rcs[i] > worst)
					worst = rcs[i];
			}
			return (worst);
		case 0:
			store_set_error(s, "commit: connection lost and "
			    "transaction %lld did not commit (%s)",
			    (long long)xid, ps->lost);
			rc = STORE_UNAVAILABLE;
			break;
		default:
			rc = STORE_ERROR;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (rcs[i] == STORE_OK)
			rcs[i] = rc;
	}
	return (rc);

fail_all:
	for (i = 0; i < n; i++)
		rcs[i] = rc;
	return (rc);
}

/* ---- definitions ------------------------------------------------- */

/* Save a new version of (kind, name). */
static enum store_rc
pg_def_save(struct store *s, const char *kind, const char *name,
    const char *text, const char *source, int create_only, int deleted,
    struct store_def **out)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	char			 id[UUID_STRLEN];
	int64_t			 xid;
	int			 version = 0, last_deleted = 1;
	struct store_def	*d = NULL;

	if ((rc = pg_begin(ps, &xid)) != STORE_OK)
		return (rc);
	/* The counter's row lock serializes saves: versions cannot race. */
	if ((rc = pg_simple(ps, PG_DEF_BUMP, "definition generation")) !=
	    STORE_OK)
		goto out;
	pp_str(&p, kind);
	pp_str(&p, name);
	if ((res = pg_run(ps, PG_DEF_LAST, &p, "definition", &rc)) == NULL)
		goto out;
	if (PQntuples(res) > 0) {
		version = (int)col_int(res, 0, 0);
		last_deleted = (int)col_int(res, 0, 1);
	}
	PQclear(res);
	if (create_only && !last_deleted) {
		store_set_error(s, "%s %s already exists", kind, name);
		rc = STORE_CONFLICT;
		goto out;
	}
	if (deleted && last_deleted) {
		store_set_error(s, "%s %s not found", kind, name);
		rc = STORE_NOTFOUND;
		goto out;
	}
	uuid_make(id);
	pp_str(&p, id);
	pp_str(&p, kind);
	pp_str(&p, name);
	pp_int(&p, version + 1);
	pp_str(&p, text != NULL ? text : "");
	pp_str(&p, source);
	pp_int(&p, deleted != 0);
	if ((res = pg_run(ps, PG_DEF_INSERT, &p, "insert definition",
	    &rc)) == NULL)
		goto out;
	d = read_def(res, 0);
	PQclear(res);
	rc = pg_commit(ps, xid);

out:
	if (rc != STORE_OK) {
		pg_rollback(ps);
		store_def_free(d);
	} else if (out != NULL)
		*out = d;
	else
		store_def_free(d);
	return (rc);
}

/* Load one row by a text key; NOTFOUND when there is none. */
static PGresult *
pg_load_one(struct pg_store *ps, enum pg_stmt stmt, const char *key,
    const char *what, enum store_rc *rc)
{
	struct pg_params	 p = { 0 };
	PGresult		*res;

	if ((*rc = pg_ready(ps)) != STORE_OK)
		return (NULL);
	pp_str(&p, key);
	if ((res = pg_run(ps, stmt, &p, what, rc)) == NULL)
		return (NULL);
	if (PQntuples(res) == 0) {
		PQclear(res);
		store_set_error(&ps->s, "%s %s not found", what, key);
		*rc = STORE_NOTFOUND;
		return (NULL);
	}
	return (res);
}

/* Load every row for a text key. */
static PGresult *
pg_load_rows(struct pg_store *ps, enum pg_stmt stmt, const char *key,
    const char *what, enum store_rc *rc)
{
	struct pg_params	 p = { 0 };

	if ((*rc = pg_ready(ps)) != STORE_OK)
		return (NULL);
	pp_str(&p, key);
	return (pg_run(ps, stmt, &p, what, rc));
}

/* Load one definition version by id. */
static enum store_rc
pg_def_load(struct store *s, const char *id, struct store_def **out)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_one(PG(s), PG_DEF_LOAD, id, "definition",
	    &rc)) == NULL)
		return (rc);
	*out = read_def(res, 0);
	PQclear(res);
	return (STORE_OK);
}

/* The current (newest, not deleted) version of (kind, name). */
static enum store_rc
pg_def_load_current(struct store *s, const char *kind, const char *name,
    struct store_def **out)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	int			 found;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, kind);
	pp_str(&p, name);
	if ((res = pg_run(ps, PG_DEF_CURRENT, &p, "definition", &rc)) == NULL)
		return (rc);
	found = PQntuples(res) > 0 && col_int(res, 0, 6) == 0;
	if (found)
		*out = read_def(res, 0);
	PQclear(res);
	if (!found) {
		store_set_error(s, "%s %s not found", kind, name);
		return (STORE_NOTFOUND);
	}
	return (STORE_OK);
}

/* Every current definition, oldest first. */
static enum store_rc
pg_def_list_current(struct store *s, struct store_def ***out, size_t *n)
{
	struct pg_store	*ps = PG(s);
	PGresult	*res;
	enum store_rc	 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	if ((res = pg_run(ps, PG_DEF_LIST, NULL, "definitions", &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_def, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* The definition change counter; -1 when it cannot be read. */
static int64_t
pg_def_generation(struct store *s)
{
	struct pg_store	*ps = PG(s);
	PGresult	*res;
	enum store_rc	 rc;
	int64_t		 v = -1;

	if (pg_ready(ps) != STORE_OK)
		return (-1);
	if ((res = pg_run(ps, PG_DEF_GENERATION, NULL, "generation",
	    &rc)) == NULL)
		return (-1);
	if (PQntuples(res) > 0)
		v = col_int(res, 0, 0);
	PQclear(res);
	return (v);
}

/* Create or move a workflow identity to def_id. */
static enum store_rc
pg_workflow_save(struct store *s, const char *name, const char *def_id,
    struct store_workflow **out)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	struct store_workflow	*w = NULL;
	PGresult		*res;
	enum store_rc		 rc;
	char			 id[UUID_STRLEN];
	int64_t			 xid;

	if ((rc = pg_begin(ps, &xid)) != STORE_OK)
		return (rc);
	uuid_make(id);
	pp_str(&p, id);
	pp_str(&p, name);
	pp_str(&p, def_id);
	if ((res = pg_run(ps, PG_WORKFLOW_SAVE, &p, "save workflow",
	    &rc)) == NULL)
		goto out;
	w = read_workflow(res, 0);
	PQclear(res);
	if ((rc = pg_simple(ps, PG_DEF_BUMP, "definition generation")) !=
	    STORE_OK)
		goto out;
	rc = pg_commit(ps, xid);

out:
	if (rc != STORE_OK) {
		pg_rollback(ps);
		store_workflow_free(w);
	} else if (out != NULL)
		*out = w;
	else
		store_workflow_free(w);
	return (rc);
}

/* Load a workflow identity by id or name. */
static enum store_rc
pg_workflow_load(struct store *s, const char *name_or_id,
    struct store_workflow **out)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_one(PG(s), PG_WORKFLOW_LOAD, name_or_id,
	    "workflow", &rc)) == NULL)
		return (rc);
	*out = read_workflow(res, 0);
	PQclear(res);
	return (STORE_OK);
}

/* Remove a workflow identity by name (or id). */
static enum store_rc
pg_workflow_delete(struct store *s, const char *name)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	int64_t			 xid;

	if ((rc = pg_begin(ps, &xid)) != STORE_OK)
		return (rc);
	pp_str(&p, name);
	if ((res = pg_run(ps, PG_WORKFLOW_DELETE, &p, "delete workflow",
	    &rc)) == NULL)
		goto out;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		store_set_error(s, "workflow %s not found", name);
		rc = STORE_NOTFOUND;
	}
	PQclear(res);
	if (rc != STORE_OK)
		goto out;
	if ((rc = pg_simple(ps, PG_DEF_BUMP, "definition generation")) !=
	    STORE_OK)
		goto out;
	rc = pg_commit(ps, xid);

out:
	if (rc != STORE_OK)
		pg_rollback(ps);
	return (rc);
}

/* ---- reads ------------------------------------------------------- */

/* Load one execution. */
static enum store_rc
pg_exec_load(struct store *s, const char *id, struct store_exec **out)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_one(PG(s), PG_EXEC_LOAD, id, "execution",
	    &rc)) == NULL)
		return (rc);
	*out = read_exec(res, 0);
	PQclear(res);
	return (STORE_OK);
}

/* Every task of an execution in creation order. */
static enum store_rc
pg_tasks_load(struct store *s, const char *execution_id,
    struct store_task ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_rows(PG(s), PG_TASKS_LOAD, execution_id, "tasks",
	    &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_task, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* A text[] literal of ids (uuids: no quoting needed). */
static char *
pg_id_array(char *const *ids, size_t n)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	buf_puts(&b, "{");
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s\"%s\"", i > 0 ? "," : "", ids[i]);
	buf_puts(&b, "}");
	return (buf_take(&b));
}

/* Several executions in one query. */
static enum store_rc
pg_execs_load(struct store *s, char *const *ids, size_t n,
    struct store_exec ***out, size_t *nout)
{
	PGresult	*res;
	enum store_rc	 rc;
	char		*arr = pg_id_array(ids, n);

	res = pg_load_rows(PG(s), PG_EXECS_LOAD, arr, "executions", &rc);
	free(arr);
	if (res == NULL)
		return (rc);
	PG_ROWS(res, read_exec, out, nout);
	PQclear(res);
	return (STORE_OK);
}

/* The tasks of several executions in one query. */
static enum store_rc
pg_tasks_load_many(struct store *s, char *const *ids, size_t n,
    struct store_task ***out, size_t *nout)
{
	PGresult	*res;
	enum store_rc	 rc;
	char		*arr = pg_id_array(ids, n);

	res = pg_load_rows(PG(s), PG_TASKS_LOAD_MANY, arr, "tasks", &rc);
	free(arr);
	if (res == NULL)
		return (rc);
	PG_ROWS(res, read_task, out, nout);
	PQclear(res);
	return (STORE_OK);
}

/* Load one task. */
static enum store_rc
pg_task_load(struct store *s, const char *id, struct store_task **out)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_one(PG(s), PG_TASK_LOAD, id, "task", &rc)) == NULL)
		return (rc);
	*out = read_task(res, 0);
	PQclear(res);
	return (STORE_OK);
}

/* Action executions of a task in (attempt, item) order. */
static enum store_rc
pg_actions_load(struct store *s, const char *task_id,
    struct store_action ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_rows(PG(s), PG_ACTIONS_LOAD, task_id,
	    "action executions", &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_action, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* Load one action execution. */
static enum store_rc
pg_action_load(struct store *s, const char *id, struct store_action **out)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_one(PG(s), PG_ACTION_LOAD, id, "action execution",
	    &rc)) == NULL)
		return (rc);
	*out = read_action(res, 0);
	PQclear(res);
	return (STORE_OK);
}

/* Events of an execution in time order. */
static enum store_rc
pg_events_load(struct store *s, const char *execution_id,
    struct store_event ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_rows(PG(s), PG_EVENTS_LOAD, execution_id,
	    "events", &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_event, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* Child executions of a task (sub-workflows). */
static enum store_rc
pg_exec_children(struct store *s, const char *task_id,
    struct store_exec ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_rows(PG(s), PG_EXEC_CHILDREN, task_id,
	    "executions", &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_exec, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* Who holds a named lock. */
static enum store_rc
pg_lock_owner(struct store *s, const char *name, char **execution_id)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_one(PG(s), PG_LOCK_OWNER, name, "lock",
	    &rc)) == NULL)
		return (rc);
	*execution_id = col_str(res, 0, 0);
	PQclear(res);
	return (STORE_OK);
}

/* ---- lists ------------------------------------------------------- */

/* List query parameters: texts, grown as filters are added. */
struct pg_list_params {
	char	**v;
	size_t	  n;
};

/* Add a parameter; its number ($n) is returned. */
static size_t
lp_add(struct pg_list_params *lp, const char *s)
{
	lp->v = xreallocarray(lp->v, lp->n + 1, sizeof *lp->v);
	lp->v[lp->n++] = s != NULL ? xstrdup(s) : NULL;
	return (lp->n);
}

/* A "$n::type" placeholder and its parameter. */
static void
pg_sql_value(void *arg, struct buf *b, int is_int, int64_t i, const char *s)
{
	struct pg_list_params	*lp = arg;
	char			 num[32];

	if (is_int) {
		snprintf(num, sizeof num, "%lld", (long long)i);
		buf_printf(b, "$%zu::bigint", lp_add(lp, num));
	} else
		buf_printf(b, "$%zu::text", lp_add(lp, s));
}

/* "contains": strpos, no pattern characters to escape. */
static void
pg_sql_has(void *arg, struct buf *b, const char *column, const char *value)
{
	struct pg_list_params	*lp = arg;

	buf_printf(b, " AND strpos(%s, $%zu::text) > 0", column,
	    lp_add(lp, value));
}

/* Append one filter's condition to the WHERE clause. */
static int
pg_filter(struct pg_store *ps, const char *resource,
    const struct store_filter *f, struct buf *b, struct pg_list_params *lp)
{
	struct store_sql_dialect	 d = { "IS DISTINCT FROM",
					    pg_sql_value, pg_sql_has, lp };

	return (store_list_filter_sql(&ps->s, resource, f, b, &d));
}

/* Does the marker row of a list exist?  NOTFOUND when it does not. */
static enum store_rc
pg_marker_check(struct pg_store *ps, const char *resource,
    const char *marker)
{
	PGresult	*res;
	enum store_rc	 rc;
	char		*sql;
	const char	*v[1] = { marker };

	xasprintf(&sql, "SELECT 1 FROM %s WHERE id = $1", resource);
	res = PQexecParams(ps->conn, sql, 1, NULL, v, NULL, NULL, 0);
	free(sql);
	if ((rc = pg_result_rc(ps, res, "marker")) == STORE_OK &&
	    PQntuples(res) == 0) {
		store_set_error(&ps->s, "marker %s not found", marker);
		rc = STORE_NOTFOUND;
	}
	PQclear(res);
	return (rc);
}

/*
 * Run a list query on a resource: whitelisted filters, sort keys then
 * id, keyset pagination after the marker row, limit; values are always
 * parameters.  NULLs sort first ascending and last descending, as in the
 * SQLite backend, and the marker condition is "comes after the marker
 * in this order": k1 after m1, or k1 = m1 and k2 after m2, and so on.
 */
static PGresult *
pg_list(struct pg_store *ps, const char *resource, const char *cols,
    const struct store_query *q, enum store_rc *rc)
{
	const struct store_column	*key;
	const char			*kcol[17];
	int				 kdesc[17], desc;
	struct pg_list_params		 lp = { NULL, 0 };
	struct buf			 b;
	PGresult			*res = NULL;
	size_t				 nkeys = 0, i, j, m = 0;
	char				 num[32];

	*rc = STORE_ERROR;
	buf_init(&b, 0);
	if (q->nsort > nitems(kcol) - 1) {
		store_set_error(&ps->s, "too many sort keys");
		goto out;
	}
	for (i = 0; i < q->nsort; i++) {
		key = store_list_field(resource, q->sort_keys[i]);
		if (key == NULL) {
			store_set_error(&ps->s, "unknown sort key \"%s\" for "
			    "%s", q->sort_keys[i], resource);
			goto out;
		}
		if (strcmp(key->column, "id") == 0)
			break;
		kcol[nkeys] = key->column;
		kdesc[nkeys] = q->sort_desc != NULL && q->sort_desc[i];
		nkeys++;
	}
	if (q->nsort == 0) {
		kcol[nkeys] = "created_at";
		kdesc[nkeys++] = 0;
	}
	/* The tie-break follows the direction of the last key. */
	desc = i < q->nsort ? (q->sort_desc != NULL && q->sort_desc[i]) :
	    nkeys > 0 ? kdesc[nkeys - 1] : 0;
	kcol[nkeys] = "id";
	kdesc[nkeys] = desc;

	if (q->marker != NULL) {
		m = lp_add(&lp, q->marker);
		buf_puts(&b, "WITH m AS (SELECT ");
		for (i = 0; i <= nkeys; i++)
			buf_printf(&b, "%s%s AS m%zu", i ? ", " : "", kcol[i],
			    i);
		buf_printf(&b, " FROM %s WHERE id = $%zu) ", resource, m);
	}
	buf_printf(&b, "SELECT %s FROM %s%s WHERE true", cols, resource,
	    q->marker != NULL ? ", m" : "");
	for (i = 0; i < q->nfilters; i++) {
		if (pg_filter(ps, resource, &q->filters[i], &b, &lp) != 0)
			goto out;
	}
	if (q->marker != NULL) {
		buf_puts(&b, " AND (");
		for (i = 0; i <= nkeys; i++) {
			buf_puts(&b, i ? " OR (" : "(");
			for (j = 0; j < i; j++)
				buf_printf(&b, "%s IS NOT DISTINCT FROM m%zu "
				    "AND ", kcol[j], j);
			if (kdesc[i])
				buf_printf(&b, "(%s < m%zu OR (%s IS NULL AND "
				    "m%zu IS NOT NULL)))", kcol[i], i, kcol[i],
				    i);
			else
				buf_printf(&b, "(%s > m%zu OR (m%zu IS NULL "
				    "AND %s IS NOT NULL)))", kcol[i], i, i,
				    kcol[i]);
		}
		buf_puts(&b, ")");
	}
	buf_puts(&b, " ORDER BY ");
	for (i = 0; i <= nkeys; i++)
		buf_printf(&b, "%s%s%s", i ? ", " : "", kcol[i],
		    kdesc[i] ? " DESC NULLS LAST" : " ASC NULLS FIRST");
	if (q->limit > 0) {
		snprintf(num, sizeof num, "%zu", q->limit);
		buf_printf(&b, " LIMIT $%zu::bigint", lp_add(&lp, num));
	}

	if ((*rc = pg_ready(ps)) != STORE_OK)
		goto out;
	res = PQexecParams(ps->conn, b.data, (int)lp.n, NULL,
	    (const char *const *)lp.v, NULL, NULL, 0);
	if ((*rc = pg_result_rc(ps, res, "list")) != STORE_OK) {
		PQclear(res);
		res = NULL;
		goto out;
	}
	if (q->marker != NULL && PQntuples(res) == 0 &&
	    (*rc = pg_marker_check(ps, resource, q->marker)) != STORE_OK) {
		/* An empty page: was the marker there at all? */
		PQclear(res);
		res = NULL;
	}

out:
	for (i = 0; i < lp.n; i++)
		free(lp.v[i]);
	free(lp.v);
	buf_free(&b);
	return (res);
}

/* List executions for the API. */
static enum store_rc
pg_exec_list(struct store *s, const struct store_query *q,
    struct store_exec ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_list(PG(s), "executions", EXEC_COLS, q, &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_exec, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* List tasks for the API. */
static enum store_rc
pg_task_list(struct store *s, const struct store_query *q,
    struct store_task ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_list(PG(s), "tasks", TASK_COLS, q, &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_task, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* List action executions for the API. */
static enum store_rc
pg_action_list(struct store *s, const struct store_query *q,
    struct store_action ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_list(PG(s), "action_executions", ACTION_COLS, q,
	    &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_action, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* List messages for the API. */
static enum store_rc
pg_message_list(struct store *s, const struct store_query *q,
    struct store_message ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_list(PG(s), "messages", MESSAGE_COLS, q, &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_message, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* Delete one message; NOTFOUND when there is none. */
static enum store_rc
pg_message_delete(struct store *s, const char *id)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, id);
	if ((res = pg_run(ps, PG_MESSAGE_DELETE, &p, "delete message",
	    &rc)) == NULL)
		return (rc);
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		store_set_error(s, "message %s not found", id);
		rc = STORE_NOTFOUND;
	}
	PQclear(res);
	return (rc);
}

/* Delete up to batch messages expired at now (0: no limit). */
static enum store_rc
pg_message_reap(struct store *s, int64_t now, size_t batch, size_t *n)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_int(&p, now);
	if (batch > 0)
		pp_int(&p, (int64_t)batch);
	else
		pp_str(&p, NULL);
	if ((res = pg_run(ps, PG_MESSAGE_REAP, &p, "reap messages",
	    &rc)) == NULL)
		return (rc);
	*n = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return (STORE_OK);
}

/*
 * Delete a finished execution with its sub-executions (found through
 * their parent tasks, recursively) and every row under them, in one
 * statement.  When it deletes nothing, say why: missing or unfinished.
 */
static enum store_rc
pg_exec_delete(struct store *s, const char *id)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	int			 none;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, id);
	if ((res = pg_run(ps, PG_EXEC_DELETE, &p, "delete execution",
	    &rc)) == NULL)
		return (rc);
	none = strcmp(PQcmdTuples(res), "0") == 0;
	PQclear(res);
	if (!none)
		return (STORE_OK);
	if ((res = pg_load_one(ps, PG_EXEC_STATE, id, "execution",
	    &rc)) == NULL)
		return (rc);
	store_set_error(s, "execution %s is %s, not finished", id,
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	return (STORE_CONFLICT);
}

/* ---- leases and due work ----------------------------------------- */

/*
 * Claim unfinished executions: never claimed ones, released ones with
 * work due, and any whose lease expired (their engine died).  Rows
 * another engine is claiming at the same moment are skipped, not
 * waited for; lease times are the database's.
 */
static enum store_rc
pg_exec_claim(struct store *s, const char *owner, int64_t lease_ms,
    size_t limit, char ***ids, size_t *n)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	int			 i, nt;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, owner);
	pp_int(&p, lease_ms);
	if (limit > 0)
		pp_int(&p, (int64_t)limit);
	else
		pp_str(&p, NULL);
	if ((res = pg_run(ps, PG_EXEC_CLAIM, &p, "claim", &rc)) == NULL)
		return (rc);
	nt = PQntuples(res);
	if (nt > 0) {
		*ids = xreallocarray(NULL, nt, sizeof **ids);
		for (i = 0; i < nt; i++)
			(*ids)[i] = col_str(res, i, 0);
	}
	*n = (size_t)nt;
	PQclear(res);
	return (STORE_OK);
}

/* Extend every lease owner holds. */
static enum store_rc
pg_exec_renew(struct store *s, const char *owner, int64_t lease_ms)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, owner);
	pp_int(&p, lease_ms);
	if ((res = pg_run(ps, PG_EXEC_RENEW, &p, "renew", &rc)) == NULL)
		return (rc);
	PQclear(res);
	return (STORE_OK);
}

/* Give up one lease; CONFLICT when owner does not hold it. */
static enum store_rc
pg_exec_release(struct store *s, const char *id, const char *owner)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, id);
	pp_str(&p, owner);
	if ((res = pg_run(ps, PG_EXEC_RELEASE, &p, "release", &rc)) == NULL)
		return (rc);
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		store_set_error(s, "execution %s is not leased by %s", id,
		    owner);
		rc = STORE_CONFLICT;
	}
	PQclear(res);
	return (rc);
}

/* Due work of one execution, due by now, oldest first. */
static enum store_rc
pg_work_due(struct store *s, const char *execution_id, int64_t now,
    struct store_work ***out, size_t *n)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pp_str(&p, execution_id);
	pp_int(&p, now);
	if ((res = pg_run(ps, PG_WORK_DUE, &p, "due work", &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_work, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* All work rows of an execution. */
static enum store_rc
pg_work_load(struct store *s, const char *execution_id,
    struct store_work ***out, size_t *n)
{
	PGresult	*res;
	enum store_rc	 rc;

	if ((res = pg_load_rows(PG(s), PG_WORK_LOAD, execution_id, "work",
	    &rc)) == NULL)
		return (rc);
	PG_ROWS(res, read_work, out, n);
	PQclear(res);
	return (STORE_OK);
}

/* Earliest due work of executions owner holds or could claim; 0: none. */
static int64_t
pg_work_next_due(struct store *s, const char *owner)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;
	int64_t			 v = 0;

	if (pg_ready(ps) != STORE_OK)
		return (0);
	pp_str(&p, owner);
	if ((res = pg_run(ps, PG_WORK_NEXT, &p, "next due", &rc)) == NULL)
		return (0);
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = col_int(res, 0, 0);
	PQclear(res);
	return (v);
}

/* Wake up engines waiting on channel (default bora_work). */
static void
pg_notify(struct store *s, const char *channel)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p = { 0 };
	PGresult		*res;
	enum store_rc		 rc;

	if (pg_ready(ps) != STORE_OK)
		return;
	pp_str(&p, channel != NULL ? channel : PG_CHANNEL);
	if ((res = pg_run(ps, PG_NOTIFY, &p, "notify", &rc)) != NULL)
		PQclear(res);
}

/* Consume pending notifications; 1 if one came from another session. */
static int
pg_drain(struct pg_store *ps)
{
	PGnotify	*nt;
	int		 got = 0, self;

	self = PQbackendPID(ps->conn);
	while ((nt = PQnotifies(ps->conn)) != NULL) {
		if (nt->be_pid != self)
			got = 1;
		PQfreemem(nt);
	}
	return (got);
}

/*
 * Wait up to timeout_ms for a notification from another engine.  When
 * the database is unreachable, sleep instead: the caller polls.
 */
static int
pg_wait(struct store *s, int timeout_ms)
{
	struct pg_store	*ps = PG(s);
	struct pollfd	 pfd;
	int64_t		 deadline, left;
	int		 r;

	if (pg_ready(ps) != STORE_OK) {
		if (timeout_ms > 0)
			pg_sleep(timeout_ms);
		return (0);
	}
	if (PQconsumeInput(ps->conn) == 0) {
		pg_drop(ps, PQerrorMessage(ps->conn));
		return (0);
	}
	if (pg_drain(ps))
		return (1);
	deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		left = deadline - time_mono_ms();
		if (left <= 0)
			return (0);
		pfd.fd = PQsocket(ps->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)left);
		if (r == -1 && errno == EINTR)
			return (0);	/* a signal: let the caller look */
		if (r <= 0)
			return (0);
		if (PQconsumeInput(ps->conn) == 0) {
			pg_drop(ps, PQerrorMessage(ps->conn));
			return (0);
		}
		if (pg_drain(ps))
			return (1);
	}
}

/* Rows by state of executions, tasks or action_executions. */
static enum store_rc
pg_count_by_state(struct store *s, const char *table, json_t **out)
{
	struct pg_store	*ps = PG(s);
	PGresult	*res;
	enum store_rc	 rc;
	json_t		*o;
	const char	*sql;
	int		 i;

	if (strcmp(table, "executions") == 0)
		sql = "SELECT state, count(*) FROM executions GROUP BY state";
	else if (strcmp(table, "tasks") == 0)
		sql = "SELECT state, count(*) FROM tasks GROUP BY state";
	else if (strcmp(table, "action_executions") == 0)
		sql = "SELECT state, count(*) FROM action_executions "
		    "GROUP BY state";
	else {
		store_set_error(s, "cannot count %s", table);
		return (STORE_ERROR);
	}
	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	res = PQexecParams(ps->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if ((rc = pg_result_rc(ps, res, "count")) != STORE_OK) {
		PQclear(res);
		return (rc);
	}
	o = json_object();
	for (i = 0; i < PQntuples(res); i++) {
		json_object_set_new(o, PQgetvalue(res, i, 0),
		    json_integer(col_int(res, i, 1)));
	}
	PQclear(res);
	*out = o;
	return (STORE_OK);
}

const struct store_methods store_pg_methods = {
	.version = 1,
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.ping = pg_ping,
	.now = pg_now,
	.commit_many = pg_commit_many,
	.def_save = pg_def_save,
	.def_load = pg_def_load,
	.def_load_current = pg_def_load_current,
	.def_list_current = pg_def_list_current,
	.def_generation = pg_def_generation,
	.workflow_save = pg_workflow_save,
	.workflow_load = pg_workflow_load,
	.workflow_delete = pg_workflow_delete,
	.exec_load = pg_exec_load,
	.tasks_load = pg_tasks_load,
	.task_load = pg_task_load,
	.actions_load = pg_actions_load,
	.action_load = pg_action_load,
	.events_load = pg_events_load,
	.exec_children = pg_exec_children,
	.lock_owner = pg_lock_owner,
	.exec_list = pg_exec_list,
	.task_list = pg_task_list,
	.action_list = pg_action_list,
	.message_list = pg_message_list,
	.message_delete = pg_message_delete,
	.message_reap = pg_message_reap,
	.exec_delete = pg_exec_delete,
	.exec_claim = pg_exec_claim,
	.exec_renew = pg_exec_renew,
	.exec_release = pg_exec_release,
	.work_due = pg_work_due,
	.work_load = pg_work_load,
	.work_next_due = pg_work_next_due,
	.notify = pg_notify,
	.wait = pg_wait,
	.count_by_state = pg_count_by_state,
	.execs_load = pg_execs_load,
	.tasks_load_many = pg_tasks_load_many
};
