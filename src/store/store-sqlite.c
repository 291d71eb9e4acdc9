/*
 * store-sqlite.c -- SQLite backend of the store interface (embedded).
 *
 * URL: "sqlite:PATH", "sqlite::memory:" (a private database per open)
 * with an optional "?sync=full" (or "?sync=normal", the default).  The
 * database runs in WAL mode; synchronous=NORMAL survives a crash or kill
 * of the process, synchronous=FULL also survives a power loss at the
 * price of an fsync per commit.
 *
 * This file knows no table: it binds values, reads cells and runs the
 * store's statements (their SQLite texts, see store_sqlite_dialect),
 * each prepared once per connection and kept in a small cache keyed by
 * its text; a row update is prepared per field mask, setting only those
 * columns (store_update_text).  Change sets take the database lock with
 * BEGIN IMMEDIATE; committed together, each runs inside a SAVEPOINT so
 * that a failed guard undoes only its own.  A guarded statement fails
 * when it changes (or returns) no row.
 *
 * SQLite has no row locks to skip: one connection writes at a time, so
 * a claim (one UPDATE) is atomic in the process and across processes.
 * bora_now_ms() is the local clock.
 *
 * The write-ahead log is kept small whatever the load.  A passive
 * checkpoint (SQLite's own, after a commit) copies frames back into the
 * database but cannot start the log again while a reader still uses
 * older frames, and under steady load readers always overlap: the log
 * would grow without bound.  So past SL_WAL_RESTART frames a commit
 * runs a checkpoint that waits, briefly, for those readers (new ones
 * read the database file meanwhile) and starts the log again; the file
 * is then cut back to SL_WAL_KEEP bytes (journal_size_limit).  A reader
 * that outlasts the wait (a count over a large table) would make every
 * commit after it wait as long: so after a restart that could not be
 * done, the process waits for readers again only SL_RESTART_BACKOFF_MS
 * later, and commits meanwhile run passive checkpoints, which never
 * wait.  When the engine is idle (store_idle()), and at open, the log
 * is cut to nothing.
 * No statement stays open between calls (each is reset after use), so
 * no connection, the pool's idle ones included, holds an old snapshot.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store-int.h"

#define SL_BUCKETS	256
#define SL_MAXSTMTS	1024
#define SL_MAXUPD	64
#define SL_BUSY_SLEEP_US 100		/* between two tries of a lock */
#define SL_BUSY_MAX_TRIES (5000000 / SL_BUSY_SLEEP_US)	/* 5 s */
#define SL_WAL_PASSIVE	1000		/* frames: a passive checkpoint */
#define SL_WAL_RESTART	4096		/* frames: start the log again */
#define SL_WAL_KEEP	(16 << 20)	/* bytes of log kept: the limit */
#define SL_CKPT_TRIES	(100000 / SL_BUSY_SLEEP_US)	/* 100 ms */
#define SL_RESTART_BACKOFF_MS 1000	/* after a restart readers held up */

/*
 * The fields in the order of struct store_dialect (store-int.h): no row
 * locks, rows of several ids loaded one by one, claims from the indexed
 * candidates of store-pg.c (never claimed, expired leases, due work), so
 * that executions that only wait, however many, are not walked; no
 * guard wrapper (sl_step counts rows), "contains" as LIKE with its
 * pattern characters escaped.
 */
const struct store_dialect store_sqlite_dialect = {
	STORE_SQLITE, '?', 0, 0, "", "(SELECT value FROM json_each($1))",
	"rowid",
	"SELECT e.id FROM executions e WHERE e.id IN (SELECT c.id FROM "
	    "executions c WHERE c.owner IS NULL AND c.lease_until = 0 UNION "
	    "ALL SELECT c.id FROM executions c WHERE c.owner IS NOT NULL AND "
	    "c.lease_until <= bora_now_ms() AND c.state NOT IN " STORE_FINAL
	    " UNION ALL SELECT w.execution_id FROM work w WHERE w.due_at <= "
	    "bora_now_ms()) AND " STORE_CLAIMABLE("e.") " ORDER BY "
	    "e.created_at, e.id LIMIT $3",
	NULL, NULL, "IS NOT", "IS", "%s LIKE '%%' || replace(replace(replace("
	    "%s, '\\', '\\\\'), '%%', '\\%%'), '_', '\\_') || '%%' "
	    "ESCAPE '\\'"
};

/* One cached prepared statement. */
struct sl_stmt {
	char		*sql;
	sqlite3_stmt	*st;
	struct sl_stmt	*next;
};

/* A row update of one mask (store_update_text), by table, mask, guard. */
struct sl_upd {
	const struct store_table	*t;
	unsigned			 mask;
	int				 guard;
	sqlite3_stmt			*st;
};

struct store_sqlite {
	struct store	 s;		/* first: struct store * casts here */
	sqlite3		*db;
	struct sl_stmt	*cache[SL_BUCKETS];	/* by text */
	size_t		 ncached;
	sqlite3_stmt	**byid;			/* registered, by id */
	int		  nbyid;
	struct sl_upd	 upd[SL_MAXUPD];	/* also in the text cache */
	int		 nupd;
	int		  ckpt;		/* in a checkpoint: wait less */
};

#define SL(s) ((struct store_sqlite *)(s))

static pthread_once_t	 sl_once = PTHREAD_ONCE_INIT;
/*
 * One checkpoint at a time in the process: SQLite refuses a second one
 * at once (SQLITE_BUSY, no busy handler), so a restart would almost
 * always find a passive one of another connection running.
 */
static pthread_mutex_t	 sl_ckpt_mtx = PTHREAD_MUTEX_INITIALIZER;
/* time_mono_ms() before which no restart waits for readers (ckpt_mtx). */
static int64_t		 sl_restart_after;

/*
 * Record an SQLite error and map it to a store result.  Out of space (a
 * full disk, a quota, a file size limit) says so: the database is only
 * unavailable, nothing committed is lost, and writes succeed again once
 * there is room.
 */
static enum store_rc
sl_error(struct store_sqlite *sl, int rc, const char *what)
{
	int	 err = errno;

	/* SQLite keeps the errno of some failures only: else errno's. */
	if (sqlite3_system_errno(sl->db) != 0)
		err = sqlite3_system_errno(sl->db);

	if ((rc & 0xff) == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR &&
	    (err == ENOSPC || err == EDQUOT || err == EFBIG))) {
		store_set_error(&sl->s, "%s: no space left for the database "
		    "(%s)", what, err != 0 ? strerror(err) :
		    sqlite3_errmsg(sl->db));
		return (STORE_UNAVAILABLE);
	}
	store_set_error(&sl->s, "%s: %s", what, sqlite3_errmsg(sl->db));
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return (STORE_CONFLICT);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		return (STORE_UNAVAILABLE);
	default:
		return (STORE_ERROR);
	}
}

/* FNV-1a hash of a statement's text. */
static unsigned
sl_hash(const char *s)
{
	unsigned	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h % SL_BUCKETS);
}

/* Finalize every cached statement. */
static void
sl_flush(struct store_sqlite *sl)
{
	struct sl_stmt	*c, *next;
	size_t		 i;

	free(sl->byid);
	sl->byid = NULL;
	sl->nbyid = 0;
	sl->nupd = 0;
	for (i = 0; i < SL_BUCKETS; i++) {
		for (c = sl->cache[i]; c != NULL; c = next) {
			next = c->next;
			sqlite3_finalize(c->st);
			free(c->sql);
			free(c);
		}
		sl->cache[i] = NULL;
	}
	sl->ncached = 0;
}

/* A cached statement, reset with no bindings. */
static sqlite3_stmt *
sl_reuse(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (st);
}

/*
 * The prepared statement for sql, from the cache or prepared now; reset
 * with no bindings.  NULL on error (store_error() says why).  Callers
 * reset it after use so that no read transaction stays open.
 */
static sqlite3_stmt *
sl_prepare(struct store_sqlite *sl, const char *sql)
{
	struct sl_stmt	*c;
	sqlite3_stmt	*st;
	unsigned	 h;

	h = sl_hash(sql);
	for (c = sl->cache[h]; c != NULL; c = c->next) {
		if (strcmp(c->sql, sql) == 0)
			return (sl_reuse(c->st));
	}
	if (sl->ncached >= SL_MAXSTMTS)
		sl_flush(sl);
	if (sqlite3_prepare_v3(sl->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL) != SQLITE_OK) {
		store_set_error(&sl->s, "prepare: %s: %s",
		    sqlite3_errmsg(sl->db), sql);
		return (NULL);
	}
	c = xmalloc(sizeof *c);
	c->sql = xstrdup(sql);
	c->st = st;
	c->next = sl->cache[h];
	sl->cache[h] = c;
	sl->ncached++;
	return (st);
}

/*
 * Keep a registered statement by its id as well: no hashing of its text
 * on the next run.  The text cache still owns it.
 */
static void
sl_keep(struct store_sqlite *sl, int id, sqlite3_stmt *st)
{
	if (id >= sl->nbyid) {
		sl->byid = xreallocarray(sl->byid, store_nsqls,
		    sizeof *sl->byid);
		memset(sl->byid + sl->nbyid, 0, (store_nsqls - sl->nbyid) *
		    sizeof *sl->byid);
		sl->nbyid = store_nsqls;
	}
	sl->byid[id] = st;
}

/* Run a statement without values or rows; an SQLite code. */
static int
sl_simple(struct store_sqlite *sl, const char *sql)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = sl_prepare(sl, sql)) == NULL)
		return (SQLITE_ERROR);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc);
}

/* Roll back the write transaction, if one is open. */
static void
sl_rollback(struct store_sqlite *sl)
{
	if (!sqlite3_get_autocommit(sl->db))
		sl_simple(sl, "ROLLBACK");
}

/* Bind values to a statement (JSON as text, owned by SQLite). */
static void
sl_bind(sqlite3_stmt *st, const struct store_value *v, size_t n)
{
	size_t	 i;
	int	 k, max = sqlite3_bind_parameter_count(st);

	/* A row update of one mask may use fewer values than it is given. */
	for (i = 0, k = 1; i < n && k <= max; i++, k++) {
		if (v[i].null)
			sqlite3_bind_null(st, k);
		else if (v[i].type == STORE_INT)
			sqlite3_bind_int64(st, k, v[i].u.i);
		else if (v[i].type == STORE_REAL)
			sqlite3_bind_double(st, k, v[i].u.r);
		else if (v[i].type == STORE_JSON)
			sqlite3_bind_text(st, k, store_json_text(v[i].u.j), -1,
			    free);
		else
			sqlite3_bind_text(st, k, v[i].u.s, -1, SQLITE_STATIC);
	}
}

/* Cells of the current row of a statement. */
static int
sl_null(void *st, int i)
{
	return (sqlite3_column_type(st, i) == SQLITE_NULL);
}

static const char *
sl_text(void *st, int i)
{
	return ((const char *)sqlite3_column_text(st, i));
}

static int64_t
sl_integer(void *st, int i)
{
	return (sqlite3_column_int64(st, i));
}

static double
sl_real(void *st, int i)
{
	return (sqlite3_column_double(st, i));
}

/* The prepared statement of q, reset with no bindings; NULL on error. */
static sqlite3_stmt *
sl_stmt(struct store_sqlite *sl, const struct store_sql *q)
{
	sqlite3_stmt	*st;

	if (q->id >= 0 && q->id < sl->nbyid && sl->byid[q->id] != NULL)
		return (sl_reuse(sl->byid[q->id]));
	st = sl_prepare(sl, store_sql_text(q, &store_sqlite_dialect));
	if (st != NULL && q->id >= 0)
		sl_keep(sl, q->id, st);
	return (st);
}

/*
 * The statement of an operation.  A row update sets only the columns of
 * its mask, guarded only when it expects a state: one statement each,
 * cheaper to prepare and to run than the table's own, which sets every
 * column.
 */
static sqlite3_stmt *
sl_op_stmt(struct store_sqlite *sl, const struct store_op *op)
{
	sqlite3_stmt	*st;
	char		*text;
	int		 i, guard = op->expect != NULL;

	if (op->table == NULL || op->sql != &op->table->sql->update)
		return (sl_stmt(sl, op->sql));
	for (i = 0; i < sl->nupd; i++) {
		if (sl->upd[i].t == op->table && sl->upd[i].mask == op->mask &&
		    sl->upd[i].guard == guard)
			return (sl_reuse(sl->upd[i].st));
	}
	if ((text = store_update_text(op->table, op->mask, guard,
	    &store_sqlite_dialect)) == NULL)
		return (sl_stmt(sl, op->sql));
	st = sl_prepare(sl, text);
	free(text);
	if (st != NULL && sl->nupd < SL_MAXUPD) {
		sl->upd[sl->nupd].t = op->table;
		sl->upd[sl->nupd].mask = op->mask;
		sl->upd[sl->nupd].guard = guard;
		sl->upd[sl->nupd++].st = st;
	}
	return (st);
}

/*
 * Bind and step st (of what) to its end, reading its rows as shape
 * (NULL: only count them); *count gets how many rows it returned, or
 * changed when it returns none.
 */
static enum store_rc
sl_step(struct store_sqlite *sl, sqlite3_stmt *st, const char *what,
    const struct store_value *v, size_t nv, const struct store_table *shape,
    struct store_rows *rows, size_t *count)
{
	struct store_cells	 cells = { sl_null, sl_text, sl_integer,
				    sl_real, NULL };
	int			 rc;

	*count = 0;
	if (st == NULL)
		return (STORE_ERROR);
	sl_bind(st, v, nv);
	cells.arg = st;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (shape != NULL)
			store_rows_add(rows, store_row_read(shape, &cells));
		(*count)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (sl_error(sl, rc, what));
	if (*count == 0 && !sqlite3_stmt_readonly(st))
		*count = (size_t)sqlite3_changes(sl->db);
	return (STORE_OK);
}

/* Run one statement and collect its rows. */
static enum store_rc
sl_load(struct store *s, const struct store_sql *q,
    const struct store_value *v, size_t nv, const struct store_table *shape,
    struct store_rows *rows)
{
	size_t	 n;

	return (sl_step(SL(s), sl_stmt(SL(s), q), q->what, v, nv, shape,
	    rows, &n));
}

/* Apply every operation of a change set; stop at the first failure. */
static enum store_rc
sl_apply_tx(struct store_sqlite *sl, struct store_tx *tx)
{
	struct store_value	 buf[STORE_MAXVALUES];
	const struct store_value *v;
	struct store_op		*op;
	enum store_rc		 rc;
	size_t			 i, n, nv;

	for (i = 0; i < tx->n; i++) {
		op = &tx->ops[i];
		v = store_op_values(op, buf, &nv);
		if ((rc = sl_step(sl, sl_op_stmt(sl, op), op->sql->what, v,
		    nv, NULL, NULL, &n)) != STORE_OK)
			return (rc);
		if ((op->sql->flags & STORE_GUARD) && n == 0) {
			store_set_error(&sl->s, "%s", store_op_gmsg(op));
			return (op->guard);
		}
	}
	return (STORE_OK);
}

/*
 * Apply change sets in one transaction.  With several, each runs in a
 * savepoint: a failed guard rolls back that one only.  When the database
 * itself fails (busy, I/O), everything is rolled back and every change
 * set reports STORE_UNAVAILABLE (or the error).
 */
static enum store_rc
sl_apply(struct store *s, struct store_tx **txs, size_t n,
    enum store_rc *rcs)
{
	struct store_sqlite	*sl = SL(s);
	enum store_rc		 rc, worst = STORE_OK;
	size_t			 i;
	int			 sp = n > 1, src;

	if ((src = sl_simple(sl, "BEGIN IMMEDIATE")) != SQLITE_OK) {
		rc = sl_error(sl, src, "begin");
		goto fail_all;
	}
	for (i = 0; i < n; i++) {
		if (sp && (src = sl_simple(sl, "SAVEPOINT cs")) != SQLITE_OK) {
			rc = sl_error(sl, src, "savepoint");
			goto fail_all;
		}
		rc = sl_apply_tx(sl, txs[i]);
		if (rc == STORE_UNAVAILABLE || (rc != STORE_OK && !sp)) {
			sl_rollback(sl);
			rcs[i] = rc;
			if (rc == STORE_UNAVAILABLE)
				goto fail_all;
			return (rc);
		}
		if (rc != STORE_OK)
			sl_simple(sl, "ROLLBACK TO cs");
		if (sp && (src = sl_simple(sl, "RELEASE cs")) != SQLITE_OK) {
			rc = sl_error(sl, src, "release");
			goto fail_all;
		}
		rcs[i] = rc;
		if (rc > worst)
			worst = rc;
	}
	if ((src = sl_simple(sl, "COMMIT")) != SQLITE_OK) {
		rc = sl_error(sl, src, "commit");
		if (rc == STORE_CONFLICT)
			rc = STORE_ERROR;
		goto fail_all;
	}
	return (worst);

fail_all:
	sl_rollback(sl);
	for (i = 0; i < n; i++)
		rcs[i] = rc;
	return (rc);
}

/* The first column of the last row sqlite3_exec saw. */
static int
sl_script_row(void *arg, int n, char **v, char **names)
{
	int64_t	*value = arg;

	if (value != NULL && n > 0 && v[0] != NULL)
		*value = strtoll(v[0], NULL, 10);
	return (0);
}

/* Run SQL text (several statements maybe), for migrations. */
static int
sl_script(struct store *s, const char *sql, int64_t *value, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(SL(s)->db, sql, sl_script_row, value, &err) ==
	    SQLITE_OK)
		return (0);
	xasprintf(cause, "%s", err != NULL ? err : "failed");
	sqlite3_free(err);
	return (-1);
}

/* bora_now_ms(): the local clock in ms, as PostgreSQL's schema has it. */
static void
sl_now_ms(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_result_int64(ctx, time_now_ms());
}

/*
 * bora_try_lock(name), bora_unlock(name): the reapers' lock.  One
 * process writes an SQLite database at a time, so it is always had.
 */
static void
sl_lock(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_result_int(ctx, 1);
}

/*
 * Process-wide SQLite settings, before its first use: no memory
 * statistics (they take a global mutex on every allocation), and page
 * caches that take pages as they need them rather than 20 at once:
 * every temporary table of a statement (a claim's subquery, RETURNING)
 * has a cache of its own, and a short bora run would spend more on
 * those bulk allocations than on its work.
 */
static void
sl_init_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0);
}

/*
 * Another connection holds the write lock (the API's and the engine's
 * connections share one file).  SQLite's own busy timeout sleeps in
 * steps of up to 100 ms, which stalls a busy daemon; retry every 100 us
 * instead, for up to 5 s (a checkpoint, which can wait for another
 * commit, gives up sooner).
 */
static int
sl_busy(void *arg, int tries)
{
	struct store_sqlite	*sl = arg;

	if (tries >= (sl->ckpt ? SL_CKPT_TRIES : SL_BUSY_MAX_TRIES))
		return (0);
	usleep(SL_BUSY_SLEEP_US);
	return (1);
}

/*
 * A checkpoint of mode; one that must wait for readers or writers gives
 * up after SL_CKPT_TRIES (a later commit tries again).  SQLite's result:
 * SQLITE_BUSY when it had to give up waiting.
 */
static int
sl_checkpoint(struct store_sqlite *sl, int mode)
{
	int	 rc;

	sl->ckpt = 1;
	rc = sqlite3_wal_checkpoint_v2(sl->db, NULL, mode, NULL, NULL);
	sl->ckpt = 0;
	return (rc);
}

/*
 * After every commit (its write lock released), with the log's size in
 * frames: a passive checkpoint as SQLite would do, unless another is
 * running; past SL_WAL_RESTART, one that starts the log again (see the
 * top), after the one running, or a passive one while the last restart
 * is backing off.
 */
static int
sl_wal_hook(void *arg, sqlite3 *db, const char *name, int nframes)
{
	struct store_sqlite	*sl = arg;
	int64_t			 now;

	if (nframes >= SL_WAL_RESTART) {
		pthread_mutex_lock(&sl_ckpt_mtx);
		now = time_mono_ms();
		if (now < sl_restart_after)
			(void)sl_checkpoint(sl, SQLITE_CHECKPOINT_PASSIVE);
		else if (sl_checkpoint(sl, SQLITE_CHECKPOINT_RESTART) ==
		    SQLITE_BUSY)
			sl_restart_after = now + SL_RESTART_BACKOFF_MS;
		pthread_mutex_unlock(&sl_ckpt_mtx);
	} else if (nframes >= SL_WAL_PASSIVE &&
	    pthread_mutex_trylock(&sl_ckpt_mtx) == 0) {
		(void)sl_checkpoint(sl, SQLITE_CHECKPOINT_PASSIVE);
		pthread_mutex_unlock(&sl_ckpt_mtx);
	}
	return (SQLITE_OK);
}

/* Idle: the log checkpointed and cut to nothing, if nobody is busy. */
static void
sl_idle(struct store *s)
{
	pthread_mutex_lock(&sl_ckpt_mtx);
	(void)sl_checkpoint(SL(s), SQLITE_CHECKPOINT_TRUNCATE);
	pthread_mutex_unlock(&sl_ckpt_mtx);
}

/* Close the connection and its statements. */
static void
sl_close(struct store *s)
{
	struct store_sqlite	*sl = SL(s);

	sl_flush(sl);
	sqlite3_close(sl->db);
	free(sl);
}

/* Parse the URL, open the database, set it up and migrate it. */
static struct store *
sl_open(const char *url, char **cause)
{
	struct store_sqlite	*sl;
	struct stat		 sb;
	char			*path, *q, *wal, sql[64], limit[64];
	const char		*sync = "NORMAL", *p;
	int			 rc;

	p = url + strlen("sqlite:");
	if (strncmp(p, "//", 2) == 0)
		p += 2;
	path = xstrdup(p);
	if ((q = strchr(path, '?')) != NULL) {
		*q++ = '\0';
		if (strcmp(q, "sync=full") == 0)
			sync = "FULL";
		else if (strcmp(q, "sync=normal") != 0) {
			xasprintf(cause, "%s: unknown option \"%s\" (want "
			    "sync=full or sync=normal)", url, q);
			free(path);
			return (NULL);
		}
	}
	if (*path == '\0') {
		xasprintf(cause, "%s: no database path", url);
		free(path);
		return (NULL);
	}

	pthread_once(&sl_once, sl_init_once);
	sl = xcalloc(1, sizeof *sl);
	sl->s.m = &store_sqlite_methods;
	rc = sqlite3_open_v2(path, &sl->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sl->db == NULL ?
		    sqlite3_errstr(rc) : sqlite3_errmsg(sl->db));
		goto fail;
	}
	sqlite3_extended_result_codes(sl->db, 1);
	sqlite3_busy_handler(sl->db, sl_busy, sl);
	/*
	 * The last connection to close checkpoints the WAL into the
	 * database and removes it (SQLite's default): a bora run leaves
	 * one file of its true size, not a database beside a WAL that only
	 * grows.  It costs a few fsyncs once, when the process ends.
	 */
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s", sync);
	snprintf(limit, sizeof limit, "PRAGMA journal_size_limit = %d",
	    SL_WAL_KEEP);
	if (sqlite3_exec(sl->db, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(sl->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(sl->db, limit, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(sl->db, "PRAGMA foreign_keys = OFF; "
	    "PRAGMA temp_store = MEMORY", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(sl->db, "bora_now_ms", 0, SQLITE_UTF8,
	    NULL, sl_now_ms, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(sl->db, "bora_try_lock", 1, SQLITE_UTF8,
	    NULL, sl_lock, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(sl->db, "bora_unlock", 1, SQLITE_UTF8,
	    NULL, sl_lock, NULL, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(sl->db));
		goto fail;
	}
	sqlite3_wal_hook(sl->db, sl_wal_hook, sl);
	if (store_migrate(&sl->s, store_sqlite_migrations, "BEGIN IMMEDIATE",
	    cause) != 0)
		goto fail;
	/* A log left large (by an older bora, or a crash) is cut now. */
	xasprintf(&wal, "%s-wal", path);
	if (stat(wal, &sb) == 0 && sb.st_size > SL_WAL_KEEP)
		sl_idle(&sl->s);
	free(wal);
	free(path);
	return (&sl->s);

fail:
	sqlite3_close(sl->db);
	free(sl);
	free(path);
	return (NULL);
}

const struct store_methods store_sqlite_methods = {
	3, "sqlite", &store_sqlite_dialect, sl_open, sl_close, sl_script,
	sl_load, sl_apply, NULL, NULL, sl_idle
};
