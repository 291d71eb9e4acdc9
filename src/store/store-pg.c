/*
 * store-pg.c -- PostgreSQL backend of the store interface (libpq).
 *
 * URL: any libpq URI, "postgresql://user@host:port/db?..." or
 * "postgresql:///db?host=/run/postgresql" for a Unix socket.
 *
 * This file knows no table: it binds values as text, reads cells and
 * runs the store's statements (their PostgreSQL texts).  One connection
 * per struct store (one per thread).  A registered statement is
 * prepared on a connection when it is first used there, its Parse sent
 * in the same round trip as its first execution: a short-lived
 * connection (a bora run) parses the few it uses, not all of them.
 * PostgreSQL's own few (BEGIN, COMMIT, ...) are prepared when the
 * connection is made, together with LISTEN bora_work once the
 * connection has waited for a notification (an engine's loop): the
 * others never read theirs, and libpq would keep every one in memory.
 *
 * Change sets are sent in libpq pipeline mode: BEGIN, the connection's
 * commit mark, every change set's statements, COMMIT, all in one round
 * trip (several change sets share the commit).  A guarded
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
 * the outcome is not guessed: every transaction first writes its
 * number into this connection's row of commit_marks, and that row is
 * read on a new connection (waiting while the old transaction still
 * holds it).  Its number is there if and only if the transaction
 * committed.  A transaction id looked up with txid_status() would not
 * do: after a crash of the server, the ids of transactions whose log
 * never reached the disk are handed out again, and a later transaction
 * would answer "committed" for the lost one.
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
#define PG_BACKOFF_MIN	100		/* ms before the first retry */
#define PG_BACKOFF_MAX	5000
#define PG_RESOLVE_MS	15000		/* to resolve a lost commit */
#define PG_CHUNK	256		/* statements per pipeline flush */
#define PG_MARKS_KEEP	"604800000"	/* ms a commit mark is kept unused */

/* Migrations run under an advisory lock: engines may start together. */
#define PG_MIGRATE_BEGIN "BEGIN; SET LOCAL client_min_messages = warning; " \
	"SELECT pg_advisory_xact_lock(7139062515311)"

#define PG_GUARD(stmt) "WITH u AS (" stmt ") SELECT bora_guard(count(*), " \
	"$%d::text, $%d::text) FROM u"

/*
 * The fields in the order of struct store_dialect (store-int.h).  Claim
 * candidates come from three indexed sources (never claimed, by age:
 * executions_unclaimed; expired leases: executions_leased; due work of
 * executions given back: work_due, their owner looked up row by row,
 * not joined, which could walk every execution), each an ordered scan
 * that stops at the claim's limit, so that a claim reads about the rows
 * it takes, not every live or waiting execution; the conditions are
 * checked again on the row, which is locked: rows other engines are
 * claiming are skipped, not waited for.
 */
const struct store_dialect store_pg_dialect = {
	STORE_PG, '$', 1, 1, " FOR UPDATE SKIP LOCKED",
	"(SELECT json_array_elements_text($1::json))", "id",
	"SELECT x.id FROM executions x WHERE x.id IN ((SELECT c.id FROM "
	    "executions c WHERE c.owner IS NULL AND c.lease_until = 0 AND "
	    "c.state NOT IN " STORE_FINAL " ORDER BY c.created_at, c.id "
	    "LIMIT $3::bigint) UNION ALL (SELECT c.id FROM executions c "
	    "WHERE c.owner IS NOT NULL AND c.lease_until <= bora_now_ms() AND "
	    "c.state NOT IN " STORE_FINAL " ORDER BY c.lease_until LIMIT "
	    "$3::bigint) UNION ALL (SELECT w.execution_id FROM work w WHERE "
	    "w.due_at <= bora_now_ms() AND (SELECT c.owner IS NULL FROM "
	    "executions c WHERE c.id = w.execution_id AND c.state NOT IN "
	    STORE_FINAL ") ORDER BY w.due_at LIMIT $3::bigint)) AND "
	    STORE_CLAIMABLE("x.") " ORDER BY x.created_at, x.id LIMIT "
	    "$3::bigint FOR UPDATE SKIP LOCKED",
	PG_GUARD("%s RETURNING 1"), PG_GUARD("%s"), "IS DISTINCT FROM",
	"IS NOT DISTINCT FROM", "strpos(%s, %s) > 0"
};

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
	int		 waits;		/* store_wait() was called */
	int		 listening;	/* LISTEN on this conn */
	char		 client[UUID_STRLEN];	/* its row of commit_marks */
	int64_t		 mark;		/* the last transaction's number */
	unsigned char	*prep;		/* PG_PREP_* of each store statement */
	size_t		 nprep;
};

/* Is a store statement prepared on the connection? */
#define PG_PREP_NONE	0
#define PG_PREP_SENT	1		/* Parse sent, its result not read */
#define PG_PREP_DONE	2

#define PG(s) ((struct pg_store *)(s))

#ifdef STORE_PG_FAULTS
/*
 * Fault injection, compiled into the tests only: 1 drops the connection
 * right after a change set's COMMIT was sent, 2 sends ROLLBACK in its
 * place and then drops the connection, 3 does as 2 and then calls
 * store_pg_fault_hook (say, to crash the server) before the outcome is
 * looked up.
 */
int	 store_pg_fault;
void	(*store_pg_fault_hook)(void);
#define PG_FAULT	store_pg_fault
#define PG_FAULT_HOOK()	do {						\
	if (store_pg_fault_hook != NULL)				\
		store_pg_fault_hook();					\
} while (0)
#else
#define PG_FAULT	0
#define PG_FAULT_HOOK()	do { } while (0)
#endif

/* PostgreSQL's own statements, prepared with the store's. */
enum pg_stmt {
	PG_BEGIN,
	PG_COMMIT,
	PG_ROLLBACK,
	PG_SAVEPOINT,
	PG_RELEASE,
	PG_ROLLBACK_TO,
	PG_MARK,
	PG_MARK_READ,
	PG_NOTIFY,
	PG_NSTMTS
};
static const char *const pg_sql[PG_NSTMTS] = {
	[PG_BEGIN] = "BEGIN",
	[PG_COMMIT] = "COMMIT",
	[PG_ROLLBACK] = "ROLLBACK",
	[PG_SAVEPOINT] = "SAVEPOINT cs",
	[PG_RELEASE] = "RELEASE SAVEPOINT cs",
	[PG_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT cs",
	[PG_MARK] = "INSERT INTO commit_marks (client, mark, at) VALUES ($1, "
	    "$2::bigint, bora_now_ms()) ON CONFLICT (client) DO UPDATE SET "
	    "mark = excluded.mark, at = excluded.at",
	/* NOWAIT: a transaction still holding the row is in progress. */
	[PG_MARK_READ] = "SELECT mark FROM commit_marks WHERE client = $1 "
	    "FOR SHARE NOWAIT",
	[PG_NOTIFY] = "SELECT pg_notify($1, '')"
};

/* Prepared statement names: PostgreSQL's own, then the store's by id. */
#define PG_NAME(buf, stmt)	snprintf(buf, sizeof buf, "bora%d", (stmt))
#define PG_OWN(stmt)		(-1 - (int)(stmt))

/* Parameters of one statement, as text. */
struct pg_params {
	int		  n;
	const char	**v;
	char		**own;		/* what to free */
};

static int		 pg_prepare_all(PGconn *, int, char **);
static enum store_rc	 pg_ready(struct pg_store *);
static void		 pg_drop(struct pg_store *, const char *);
static enum store_rc	 pg_result_rc(struct pg_store *, PGresult *,
			     const char *);
static int		 pg_resolve(struct pg_store *, int64_t);

/* ---- values and cells ---------------------------------------------- */

/*
 * The texts of values, then (for a guarded operation) its error code and
 * message: the two parameters the guard wrapper takes.
 */
static void
pg_params(struct pg_params *p, const struct store_value *v, size_t nv,
    struct store_op *op)
{
	size_t	 i;

	p->v = xcalloc(nv + 2, sizeof *p->v);
	p->own = xcalloc(nv + 2, sizeof *p->own);
	for (i = 0; i < nv; i++) {
		if (v[i].null)
			continue;
		if (v[i].type == STORE_INT)
			xasprintf(&p->own[i], "%lld", (long long)v[i].u.i);
		else if (v[i].type == STORE_REAL)
			xasprintf(&p->own[i], "%.17g", v[i].u.r);
		else if (v[i].type == STORE_JSON)
			p->own[i] = store_json_text(v[i].u.j);
		p->v[i] = p->own[i] != NULL ? p->own[i] : v[i].u.s;
	}
	p->n = (int)nv;
	if (op != NULL && (op->sql->flags & STORE_GUARD)) {
		p->v[p->n++] = op->guard == STORE_CONFLICT ? "BG001" : "BG002";
		p->v[p->n++] = store_op_gmsg(op);
	}
}

/* Free what parameters own. */
static void
pg_params_free(struct pg_params *p)
{
	int	 i;

	for (i = 0; i < p->n; i++)
		free(p->own[i]);
	free(p->own);
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* A row of a result. */
struct pg_cell {
	PGresult	*res;
	int		 row;
};

static int
pg_null(void *arg, int i)
{
	struct pg_cell	*c = arg;

	return (PQgetisnull(c->res, c->row, i));
}

static const char *
pg_text(void *arg, int i)
{
	struct pg_cell	*c = arg;

	return (PQgetvalue(c->res, c->row, i));
}

static int64_t
pg_integer(void *arg, int i)
{
	return (strtoll(pg_text(arg, i), NULL, 10));
}

static double
pg_real(void *arg, int i)
{
	return (strtod(pg_text(arg, i), NULL));
}

/* ---- connection ---------------------------------------------------- */

/* Close the connection. */
static void
pg_close(struct store *s)
{
	struct pg_store	*ps = PG(s);

	if (ps->conn != NULL)
		PQfinish(ps->conn);
	free(ps->prep);
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

/* Run SQL text outside the verbs (migrations); -1 + *cause. */
static int
pg_script(struct store *s, const char *sql, int64_t *value, char **cause)
{
	PGconn		*conn = PG(s)->conn;
	PGresult	*res;
	char		*msg, *nl;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		msg = xstrdup(*PQresultErrorMessage(res) != '\0' ?
		    PQresultErrorMessage(res) : PQerrorMessage(conn));
		if ((nl = strrchr(msg, '\n')) != NULL && nl[1] == '\0')
			*nl = '\0';
		*cause = msg;
		PQclear(res);
		return (-1);
	}
	if (value != NULL && PQntuples(res) > 0)
		*value = strtoll(PQgetvalue(res, PQntuples(res) - 1, 0), NULL,
		    10);
	PQclear(res);
	return (0);
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

/*
 * Whether store statement id is prepared on this connection (PG_PREP_*);
 * a new connection has none.
 */
static int
pg_prep_state(struct pg_store *ps, int id)
{
	size_t	 n;

	if ((size_t)id >= ps->nprep) {
		n = (size_t)store_nsqls > (size_t)id ? (size_t)store_nsqls :
		    (size_t)id + 1;
		ps->prep = xreallocarray(ps->prep, n, 1);
		memset(ps->prep + ps->nprep, PG_PREP_NONE, n - ps->nprep);
		ps->nprep = n;
	}
	return (ps->prep[id]);
}

/* Send the Parse of store statement id (pipeline mode or not); 1. */
static int
pg_send_prepare(struct pg_store *ps, int id)
{
	char	 name[16];

	PG_NAME(name, id);
	return (PQsendPrepare(ps->conn, name, store_sql_text(store_sqls[id],
	    &store_pg_dialect), 0, NULL) == 1);
}

/*
 * Prepare PostgreSQL's own statements, and LISTEN (the store's are
 * prepared when first used: see pg_prep_state()).
 */
static int
pg_prepare_all(PGconn *conn, int listen, char **cause)
{
	PGresult	*res;
	char		 name[16];
	int		 i, n = PG_NSTMTS, bad = -1, ok;

	if (PQenterPipelineMode(conn) != 1) {
		xasprintf(cause, "pipeline mode: %s", PQerrorMessage(conn));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		PG_NAME(name, PG_OWN(i));
		if (PQsendPrepare(conn, name, pg_sql[i], 0, NULL) != 1)
			goto lost;
	}
	if ((listen && PQsendQueryParams(conn, "LISTEN " PG_CHANNEL, 0, NULL,
	    NULL, NULL, NULL, 0) != 1) || PQpipelineSync(conn) != 1)
		goto lost;
	for (i = 0; i < n + (listen ? 1 : 0); i++) {
		if ((res = pg_pipe_next(conn)) == NULL)
			goto lost;
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok && bad == -1) {
			bad = i;
			xasprintf(cause, "prepare %s: %s", i == n ? "LISTEN" :
			    pg_sql[i], PQresultErrorMessage(res));
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
	ps->listening = 0;
	/* A new connection prepares its statements again. */
	if (ps->nprep > 0)
		memset(ps->prep, PG_PREP_NONE, ps->nprep);
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
		/*
		 * A server that stopped or restarted closed this idle
		 * connection: read what it sent (a non-blocking read) so
		 * that the close is seen now, before a transaction is sent
		 * on it, not as a commit whose outcome must be looked up.
		 */
		if (PQstatus(ps->conn) == CONNECTION_OK &&
		    PQtransactionStatus(ps->conn) == PQTRANS_IDLE &&
		    PQconsumeInput(ps->conn) == 1 &&
		    PQconsumeInput(ps->conn) == 1 &&
		    PQstatus(ps->conn) == CONNECTION_OK)
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
	if (conn != NULL && pg_prepare_all(conn, ps->waits, &cause) != 0) {
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
	ps->listening = ps->waits;
	ps->backoff = 0;
	ps->retry_at = 0;
	return (STORE_OK);
}

/*
 * The store result for a SQLSTATE.  Every error the server sends has
 * one; an error without is libpq's own, about the connection ("server
 * closed the connection unexpectedly", "no connection to the server"),
 * and libpq does not always mark the connection bad for it (a write
 * that failed is reported by the next read).  Either way that
 * connection cannot be trusted: the store is unavailable until a fresh
 * one is made.
 */
static enum store_rc
pg_sqlstate_rc(const char *code)
{
	if (code == NULL)
		return (STORE_UNAVAILABLE);
	if (strcmp(code, "BG001") == 0)
		return (STORE_CONFLICT);
	if (strcmp(code, "BG002") == 0)
		return (STORE_NOTFOUND);
	if (strncmp(code, "23", 2) == 0 ||	/* integrity constraint */
	    strcmp(code, "40001") == 0 ||	/* serialization failure */
	    strcmp(code, "40P01") == 0 ||	/* deadlock */
	    strcmp(code, "55P03") == 0)		/* lock not available */
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
 * The first run of store statement stmt on this connection: its Parse
 * and its execution in one round trip (pipeline mode); as pg_exec(),
 * the parameters left to the caller.
 */
static PGresult *
pg_exec_first(struct pg_store *ps, int stmt, struct pg_params *p,
    const char *what, enum store_rc *rc)
{
	PGresult	*pres = NULL, *res = NULL, *sync = NULL;
	char		 name[16];

	PG_NAME(name, stmt);
	if (PQenterPipelineMode(ps->conn) != 1 ||
	    !pg_send_prepare(ps, stmt) ||
	    PQsendQueryPrepared(ps->conn, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(ps->conn) != 1 ||
	    (pres = pg_pipe_next(ps->conn)) == NULL ||
	    (res = pg_pipe_next(ps->conn)) == NULL ||
	    (sync = pg_pipe_next(ps->conn)) == NULL ||
	    PQresultStatus(sync) != PGRES_PIPELINE_SYNC ||
	    PQexitPipelineMode(ps->conn) != 1) {
		store_set_error(&ps->s, "%s: database unavailable: %s", what,
		    PQerrorMessage(ps->conn));
		*rc = STORE_UNAVAILABLE;
		PQclear(pres);
		PQclear(res);
		PQclear(sync);
		pg_drop(ps, PQerrorMessage(ps->conn));
		return (NULL);
	}
	PQclear(sync);
	if (PQresultStatus(pres) != PGRES_COMMAND_OK) {
		/* The execution was aborted: the Parse's error tells why. */
		PQclear(res);
		res = pres;
	} else {
		ps->prep[stmt] = PG_PREP_DONE;
		PQclear(pres);
	}
	if ((*rc = pg_result_rc(ps, res, what)) != STORE_OK) {
		PQclear(res);
		res = NULL;
	}
	return (res);
}

/*
 * Run a prepared statement (PG_OWN() for PostgreSQL's own) with
 * parameters, which are freed; the result (caller clears it) or NULL
 * with *rc and store_error() set.
 */
static PGresult *
pg_exec(struct pg_store *ps, int stmt, struct pg_params *p,
    const char *what, enum store_rc *rc)
{
	PGresult	*res = NULL;
	char		 name[16];

	if (ps->conn == NULL) {
		store_set_error(&ps->s, "%s: database unavailable: %s", what,
		    ps->lost);
		*rc = STORE_UNAVAILABLE;
	} else if (stmt >= 0 && pg_prep_state(ps, stmt) != PG_PREP_DONE)
		res = pg_exec_first(ps, stmt, p, what, rc);
	else {
		PG_NAME(name, stmt);
		res = PQexecPrepared(ps->conn, name, p != NULL ? p->n : 0,
		    p != NULL ? p->v : NULL, NULL, NULL, 0);
		if ((*rc = pg_result_rc(ps, res, what)) != STORE_OK) {
			PQclear(res);
			res = NULL;
		}
	}
	if (p != NULL)
		pg_params_free(p);
	return (res);
}

/* Run one of PostgreSQL's own statements, with one text parameter. */
static enum store_rc
pg_simple(struct pg_store *ps, enum pg_stmt stmt, const char *arg)
{
	struct store_value	 v;
	struct pg_params	 p;
	PGresult		*res;
	enum store_rc		 rc;

	store_value_text(&v, arg);
	pg_params(&p, &v, arg != NULL ? 1 : 0, NULL);
	res = pg_exec(ps, PG_OWN(stmt), &p, pg_sql[stmt], &rc);
	store_values_free(&v, 1);
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
	pg_simple(ps, PG_ROLLBACK, NULL);
	memcpy(ps->s.errbuf, errbuf, sizeof errbuf);
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
 * Find out whether the transaction numbered mark committed, after its
 * connection was lost during COMMIT: 1 committed, 0 not, -1 still
 * unknown after PG_RESOLVE_MS (then store_error() says so).  This
 * connection's row of commit_marks holds mark if and only if it did; a
 * row still locked belongs to a transaction whose backend has not ended.
 * Reconnects as needed.
 */
static int
pg_resolve(struct pg_store *ps, int64_t mark)
{
	struct store_value	 c;
	struct pg_params	 p;
	PGresult		*res;
	enum store_rc		 rc;
	int64_t			 deadline, got;
	int			 pause = 10;

	deadline = time_mono_ms() + PG_RESOLVE_MS;
	for (;;) {
		ps->retry_at = 0;
		if (pg_ready(ps) == STORE_OK) {
			store_value_text(&c, ps->client);
			pg_params(&p, &c, 1, NULL);
			res = pg_exec(ps, PG_OWN(PG_MARK_READ), &p,
			    "commit mark", &rc);
			store_values_free(&c, 1);
			if (res != NULL) {
				got = PQntuples(res) == 0 ? -1 :
				    strtoll(PQgetvalue(res, 0, 0), NULL, 10);
				PQclear(res);
				ps->backoff = 0;
				return (got == mark);
			}
			/* CONFLICT: still locked, the backend lives on. */
		}
		if (time_mono_ms() >= deadline)
			break;
		pg_sleep(pause);
		pause = pause * 2 > 500 ? 500 : pause * 2;
	}
	ps->backoff = 0;
	store_set_error(&ps->s, "commit outcome unknown: transaction %lld "
	    "of %s could not be checked (%s)", (long long)mark, ps->client,
	    ps->lost);
	return (-1);
}

/* ---- statements ---------------------------------------------------- */

/* Run one statement (registered: prepared) and collect its rows. */
static enum store_rc
pg_load(struct store *s, const struct store_sql *q,
    const struct store_value *v, size_t nv, const struct store_table *shape,
    struct store_rows *rows)
{
	struct pg_store		*ps = PG(s);
	struct pg_params	 p;
	struct pg_cell		 cell;
	struct store_cells	 cells = { pg_null, pg_text, pg_integer,
				    pg_real, &cell };
	PGresult		*res;
	enum store_rc		 rc;

	if ((rc = pg_ready(ps)) != STORE_OK)
		return (rc);
	pg_params(&p, v, nv, NULL);
	if (q->id >= 0)
		res = pg_exec(ps, q->id, &p, q->what, &rc);
	else {
		res = PQexecParams(ps->conn, q->text[STORE_PG], p.n, NULL,
		    p.v, NULL, NULL, 0);
		pg_params_free(&p);
		if ((rc = pg_result_rc(ps, res, q->what)) != STORE_OK) {
			PQclear(res);
			res = NULL;
		}
	}
	if (res == NULL)
		return (rc);
	cell.res = res;
	for (cell.row = 0; cell.row < PQntuples(res); cell.row++)
		store_rows_add(rows, store_row_read(shape, &cells));
	PQclear(res);
	return (STORE_OK);
}

/* ---- change sets ------------------------------------------------- */

/* What a statement sent in a pipeline was for. */
enum pg_sent_kind {
	PGS_BEGIN,
	PGS_MARK,
	PGS_NOTIFY,
	PGS_UNDO,		/* ROLLBACK TO / RELEASE after a failure */
	PGS_SAVEPOINT,
	PGS_OP,
	PGS_RELEASE,
	PGS_COMMIT,
	PGS_PREPARE		/* Parse of store statement cs */
};
struct pg_sent {
	enum pg_sent_kind	 kind;
	size_t			 cs;		/* change set, or statement */
	const char		*what;
};

/* A pipeline being filled: the statements sent and not yet read. */
struct pg_pipe {
	struct pg_sent	*sent;
	size_t		 n;
	size_t		 cap;
};

/* Note what the next result of a pipeline is for; 1. */
static int
pg_pipe_add(struct pg_pipe *pp, enum pg_sent_kind kind, size_t cs,
    const char *what)
{
	if (pp->n == pp->cap) {
		pp->cap = pp->cap == 0 ? 64 : pp->cap * 2;
		pp->sent = xreallocarray(pp->sent, pp->cap, sizeof *pp->sent);
	}
	pp->sent[pp->n].kind = kind;
	pp->sent[pp->n].cs = cs;
	pp->sent[pp->n].what = what;
	pp->n++;
	return (1);
}

/*
 * Queue a prepared statement (PG_OWN() for PostgreSQL's own) in the
 * pipeline, its parameters freed, preceded by its Parse when it is not
 * prepared on this connection yet; 0 when the pipeline broke.
 */
static int
pg_pipe_send(struct pg_store *ps, struct pg_pipe *pp, int stmt,
    struct pg_params *p, enum pg_sent_kind kind, size_t cs, const char *what)
{
	char	 name[16];
	int	 ok;

	if (stmt >= 0 && pg_prep_state(ps, stmt) == PG_PREP_NONE) {
		/* First use on this connection: Parse it in this trip. */
		if (!pg_pipe_add(pp, PGS_PREPARE, stmt, what) ||
		    !pg_send_prepare(ps, stmt)) {
			if (p != NULL)
				pg_params_free(p);
			return (0);
		}
		ps->prep[stmt] = PG_PREP_SENT;
	}
	PG_NAME(name, stmt);
	ok = PQsendQueryPrepared(ps->conn, name, p != NULL ? p->n : 0,
	    p != NULL ? p->v : NULL, NULL, NULL, 0);
	if (p != NULL)
		pg_params_free(p);
	(void)pg_pipe_add(pp, kind, cs, what);
	return (ok == 1);
}

/* Send the statements of one change set; 0 when the pipeline broke. */
static int
pg_send_tx(struct pg_store *ps, struct pg_pipe *pp, struct store_tx *tx,
    size_t cs, int sp)
{
	struct store_value	 buf[STORE_MAXVALUES];
	const struct store_value *v;
	struct pg_params	 p;
	struct store_op		*op;
	size_t			 i, nv;

	if (sp && !pg_pipe_send(ps, pp, PG_OWN(PG_SAVEPOINT), NULL,
	    PGS_SAVEPOINT, cs, "savepoint"))
		return (0);
	for (i = 0; i < tx->n; i++) {
		op = &tx->ops[i];
		v = store_op_values(op, buf, &nv);
		pg_params(&p, v, nv, op);
		if (!pg_pipe_send(ps, pp, op->sql->id, &p, PGS_OP, cs,
		    op->sql->what))
			return (0);
	}
	if (sp && !pg_pipe_send(ps, pp, PG_OWN(PG_RELEASE), NULL,
	    PGS_RELEASE, cs, "release savepoint"))
		return (0);
	return (1);
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
pg_apply(struct store *s, struct store_tx **txs, size_t n,
    enum store_rc *rcs)
{
	struct pg_store		*ps = PG(s);
	struct pg_pipe		 pp = { NULL, 0, 0 };
	struct store_value	 chan, mv[2];
	struct pg_params	 p;
	struct pg_sent		*f;
	PGresult		*res;
	ExecStatusType		 st;
	enum store_rc		 rc, frc = STORE_OK, worst;
	size_t			 pos = 0, first, i, failed;
	int			 sp = 0, started = 0, undo = 0;
	int			 final = 0, commit_sent = 0, fault = 0;

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
			/* Each transaction a new number: see pg_resolve(). */
			mv[0].type = STORE_TEXT;
			mv[0].null = 0;
			mv[0].u.s = ps->client;
			store_value_int(&mv[1], ++ps->mark);
			pg_params(&p, mv, 2, NULL);
			if (!pg_pipe_send(ps, &pp, PG_OWN(PG_BEGIN), NULL, PGS_BEGIN,
			    0, "begin") ||
			    !pg_pipe_send(ps, &pp, PG_OWN(PG_MARK), &p, PGS_MARK, 0,
			    "commit mark"))
				goto lost;
			if (store_tx_wakes(txs, n)) {
				chan.type = STORE_TEXT;
				chan.null = 0;
				chan.u.s = (char *)PG_CHANNEL;
				pg_params(&p, &chan, 1, NULL);
				if (!pg_pipe_send(ps, &pp, PG_OWN(PG_NOTIFY),
				    &p, PGS_NOTIFY, 0, "notify"))
					goto lost;
			}
		}
		if (undo) {
			undo = 0;
			if (!pg_pipe_send(ps, &pp, PG_OWN(PG_ROLLBACK_TO), NULL,
			    PGS_UNDO, 0, "rollback to savepoint") ||
			    !pg_pipe_send(ps, &pp, PG_OWN(PG_RELEASE), NULL, PGS_UNDO,
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
			fault = PG_FAULT;
			commit_sent = 1;
			if (!pg_pipe_send(ps, &pp, PG_OWN(fault >= 2 ?
			    PG_ROLLBACK : PG_COMMIT), NULL, PGS_COMMIT, 0,
			    "commit") ||
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
			if (pp.sent[i].kind == PGS_PREPARE)
				ps->prep[pp.sent[i].cs] =
				    st == PGRES_COMMAND_OK ? PG_PREP_DONE :
				    PG_PREP_NONE;
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
			PQclear(res);
			if (final && fault != 0 &&
			    pp.sent[i].kind == PGS_MARK) {
				/* Test: the connection dies during COMMIT. */
				shutdown(PQsocket(ps->conn), SHUT_RDWR);
				if (fault == 3)
					PG_FAULT_HOOK();
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
	pg_drop(ps, ps->conn != NULL ? PQerrorMessage(ps->conn) : NULL);
	if (!commit_sent) {
		/* Without COMMIT the server rolls it back. */
		store_set_error(s, "commit: database unavailable: %s",
		    ps->lost);
		rc = STORE_UNAVAILABLE;
	} else {
		switch (pg_resolve(ps, ps->mark)) {
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
			    "transaction %lld of %s did not commit (%s)",
			    (long long)ps->mark, ps->client, ps->lost);
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

/* ---- wake-ups ------------------------------------------------------ */

/* Wake up engines waiting on channel (default bora_work). */
static void
pg_notify(struct store *s, const char *channel)
{
	struct pg_store		*ps = PG(s);

	if (pg_ready(ps) == STORE_OK)
		pg_simple(ps, PG_NOTIFY, channel != NULL ? channel :
		    PG_CHANNEL);
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
	PGresult	*res;
	int64_t		 deadline, left;

	ps->waits = 1;
	if (pg_ready(ps) != STORE_OK) {
		if (timeout_ms > 0)
			pg_sleep(timeout_ms);
		return (0);
	}
	if (!ps->listening) {
		/* The first wait on this connection. */
		res = PQexec(ps->conn, "LISTEN " PG_CHANNEL);
		if (pg_result_rc(ps, res, "listen") != STORE_OK) {
			PQclear(res);
			return (0);
		}
		PQclear(res);
		ps->listening = 1;
	}
	deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if (PQconsumeInput(ps->conn) == 0) {
			pg_drop(ps, PQerrorMessage(ps->conn));
			return (0);
		}
		if (pg_drain(ps))
			return (1);
		if ((left = deadline - time_mono_ms()) <= 0)
			return (0);
		pfd.fd = PQsocket(ps->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* A signal (EINTR) returns too: let the caller look. */
		if (poll(&pfd, 1, (int)left) <= 0)
			return (0);
	}
}

/* ---- opening ------------------------------------------------------- */

/* Load libpq, connect, migrate and prepare the statements. */
static struct store *
pg_open(const char *url, char **cause)
{
	struct pg_store	*ps;
	char		*msg;

	if (dl_pq_load(cause) != 0)
		return (NULL);
	ps = xcalloc(1, sizeof *ps);
	ps->s.m = &store_pg_methods;
	ps->url = xstrdup(url);
	uuid_make(ps->client);
	if ((ps->conn = pg_connect(ps, cause)) == NULL)
		goto fail;
	if (store_migrate(&ps->s, store_pg_migrations, PG_MIGRATE_BEGIN,
	    cause) != 0 || pg_prepare_all(ps->conn, 0, cause) != 0) {
		PQfinish(ps->conn);
		goto fail;
	}
	/* Marks of connections gone for a week (a failure changes nothing). */
	if (pg_script(&ps->s, "DELETE FROM commit_marks WHERE at < "
	    "bora_now_ms() - " PG_MARKS_KEEP, NULL, &msg) != 0)
		free(msg);
	return (&ps->s);

fail:
	free(ps->url);
	free(ps);
	return (NULL);
}

const struct store_methods store_pg_methods = {
	3, "postgresql", &store_pg_dialect, pg_open, pg_close, pg_script,
	pg_load, pg_apply, pg_notify, pg_wait, NULL
};
