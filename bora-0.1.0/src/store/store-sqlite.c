/*
 * store-sqlite.c -- SQLite backend of the store interface (embedded).
 *
 * URL: "sqlite:PATH", "sqlite::memory:" (a private database per open)
 * with an optional "?sync=full" (or "?sync=normal", the default).  The
 * database runs in WAL mode; synchronous=NORMAL survives a crash or kill
 * of the process, synchronous=FULL also survives a power loss at the
 * price of an fsync per commit.
 *
 * Statements are prepared once per connection and kept in a small cache
 * keyed by their text.  Every write takes the database lock with BEGIN
 * IMMEDIATE; change sets committed together each run inside a SAVEPOINT
 * so that a failed guard undoes only its own change set.
 *
 * Leases are kept in the executions rows (owner, lease_until) and use the
 * local clock.  lease_until = 0 with no owner means "never claimed": a new
 * execution is claimed at once; a released one (lease_until > 0) only
 * when it has due work; one held under an expired lease (a dead engine)
 * is taken over whatever its work.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store-int.h"

#define SL_BUCKETS	256
#define SL_MAXSTMTS	1024

/* One cached prepared statement. */
struct sl_stmt {
	char		*sql;
	sqlite3_stmt	*st;
	struct sl_stmt	*next;
};

struct store_sqlite {
	struct store	 s;		/* first: struct store * casts here */
	sqlite3		*db;
	struct sl_stmt	*cache[SL_BUCKETS];
	size_t		 ncached;
};

/* Rows collected by a select, before conversion to a typed array. */
struct sl_rows {
	void	**v;
	size_t	  n;
	size_t	  cap;
};

/* A value bound to a list query. */
struct sl_bind {
	int	 is_int;
	int64_t	 i;
	char	*s;
};

typedef void	*(*sl_read_fn)(sqlite3_stmt *);

static struct store	*sl_open(const char *, char **);
static void		 sl_close(struct store *);
static enum store_rc	 sl_error(struct store_sqlite *, int, const char *);
static sqlite3_stmt	*sl_prepare(struct store_sqlite *, const char *);
static void		 sl_flush(struct store_sqlite *);
static int		 sl_simple(struct store_sqlite *, const char *);
static enum store_rc	 sl_begin(struct store_sqlite *);
static enum store_rc	 sl_commit(struct store_sqlite *);
static void		 sl_rollback(struct store_sqlite *);
static int		 sl_migrate(struct store_sqlite *, char **);
static enum store_rc	 sl_select(struct store_sqlite *, sqlite3_stmt *,
			     sl_read_fn, struct sl_rows *);
static enum store_rc	 sl_select_one(struct store_sqlite *, sqlite3_stmt *,
			     sl_read_fn, void **);
static void		 sl_rows_free(struct sl_rows *, void (*)(void *));
static enum store_rc	 sl_apply(struct store_sqlite *, struct store_tx *);
static enum store_rc	 sl_apply_op(struct store_sqlite *,
			     struct store_op *);

#define SL(s) ((struct store_sqlite *)(s))

static pthread_once_t	 sl_once = PTHREAD_ONCE_INIT;

/* ---- columns ----------------------------------------------------- */

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

/* Copy a text column (NULL stays NULL). */
static char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char	*s;

	s = sqlite3_column_text(st, i);
	return (s == NULL ? NULL : xstrdup((const char *)s));
}

/* Copy a text column into a fixed identifier buffer. */
static void
col_id(sqlite3_stmt *st, int i, char *out)
{
	const unsigned char	*s;

	s = sqlite3_column_text(st, i);
	if (s == NULL)
		out[0] = '\0';
	else
		snprintf(out, UUID_STRLEN, "%s", (const char *)s);
}

/* Parse a JSON text column. */
static json_t *
col_json(sqlite3_stmt *st, int i)
{
	return (store_json_parse((const char *)sqlite3_column_text(st, i)));
}

/* Bind text that may be NULL. */
static void
bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Bind an identifier; "" is NULL. */
static void
bind_id(sqlite3_stmt *st, int i, const char *s)
{
	bind_str(st, i, (s == NULL || *s == '\0') ? NULL : s);
}

/* Bind a JSON value as text (NULL stays NULL). */
static void
bind_json(sqlite3_stmt *st, int i, json_t *j)
{
	char	*s;

	s = store_json_text(j);
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, free);
}

/*
 * Row readers: one per table, each copying the columns of its *_COLS
 * list, in order, into a new row owned by the caller.
 */
static void *
read_def(sqlite3_stmt *st)
{
	struct store_def	*d;

	d = xcalloc(1, sizeof *d);
	col_id(st, 0, d->id);
	d->kind = col_str(st, 1);
	d->name = col_str(st, 2);
	d->version = sqlite3_column_int(st, 3);
	d->text = col_str(st, 4);
	d->source = col_str(st, 5);
	d->deleted = sqlite3_column_int(st, 6);
	d->created_at = sqlite3_column_int64(st, 7);
	d->updated_at = sqlite3_column_int64(st, 8);
	return (d);
}

static void *
read_workflow(sqlite3_stmt *st)
{
	struct store_workflow	*w;

	w = xcalloc(1, sizeof *w);
	col_id(st, 0, w->id);
	w->name = col_str(st, 1);
	col_id(st, 2, w->def_id);
	w->created_at = sqlite3_column_int64(st, 3);
	w->updated_at = sqlite3_column_int64(st, 4);
	return (w);
}

static void *
read_exec(sqlite3_stmt *st)
{
	struct store_exec	*e;

	e = xcalloc(1, sizeof *e);
	col_id(st, 0, e->id);
	e->workflow_name = col_str(st, 1);
	col_id(st, 2, e->workflow_id);
	col_id(st, 3, e->def_id);
	e->parent_task_id = col_str(st, 4);
	e->root_id = col_str(st, 5);
	e->state = col_str(st, 6);
	e->state_info = col_str(st, 7);
	e->input = col_json(st, 8);
	e->output = col_json(st, 9);
	e->params = col_json(st, 10);
	e->context = col_json(st, 11);
	e->description = col_str(st, 12);
	e->request_id = col_str(st, 13);
	e->owner = col_str(st, 14);
	e->lease_until = sqlite3_column_int64(st, 15);
	e->created_at = sqlite3_column_int64(st, 16);
	e->updated_at = sqlite3_column_int64(st, 17);
	return (e);
}

static void *
read_task(sqlite3_stmt *st)
{
	struct store_task	*t;

	t = xcalloc(1, sizeof *t);
	col_id(st, 0, t->id);
	col_id(st, 1, t->execution_id);
	t->name = col_str(st, 2);
	t->state = col_str(st, 3);
	t->state_info = col_str(st, 4);
	t->type = col_str(st, 5);
	t->in_context = col_json(st, 6);
	t->published = col_json(st, 7);
	t->result = col_json(st, 8);
	t->runtime = col_json(st, 9);
	t->seq = sqlite3_column_int64(st, 10);
	t->created_at = sqlite3_column_int64(st, 11);
	t->started_at = sqlite3_column_int64(st, 12);
	t->finished_at = sqlite3_column_int64(st, 13);
	t->updated_at = sqlite3_column_int64(st, 14);
	return (t);
}

static void *
read_action(sqlite3_stmt *st)
{
	struct store_action	*a;

	a = xcalloc(1, sizeof *a);
	col_id(st, 0, a->id);
	a->task_id = col_str(st, 1);
	a->execution_id = col_str(st, 2);
	a->name = col_str(st, 3);
	a->state = col_str(st, 4);
	a->state_info = col_str(st, 5);
	a->input = col_json(st, 6);
	a->output = col_json(st, 7);
	a->attempt = sqlite3_column_int(st, 8);
	a->item = sqlite3_column_int(st, 9);
	a->is_async = sqlite3_column_int(st, 10);
	a->request_id = col_str(st, 11);
	a->created_at = sqlite3_column_int64(st, 12);
	a->updated_at = sqlite3_column_int64(st, 13);
	return (a);
}

static void *
read_work(sqlite3_stmt *st)
{
	struct store_work	*w;

	w = xcalloc(1, sizeof *w);
	w->id = sqlite3_column_int64(st, 0);
	col_id(st, 1, w->execution_id);
	w->task_id = col_str(st, 2);
	w->kind = col_str(st, 3);
	w->due_at = sqlite3_column_int64(st, 4);
	w->payload = col_json(st, 5);
	return (w);
}

static void *
read_event(sqlite3_stmt *st)
{
	struct store_event	*ev;

	ev = xcalloc(1, sizeof *ev);
	ev->id = sqlite3_column_int64(st, 0);
	col_id(st, 1, ev->execution_id);
	ev->task_id = col_str(st, 2);
	ev->task_name = col_str(st, 3);
	ev->time = sqlite3_column_int64(st, 4);
	ev->progress = sqlite3_column_double(st, 5);
	ev->message = col_str(st, 6);
	ev->level = col_str(st, 7);
	ev->request_id = col_str(st, 8);
	return (ev);
}

static void *
read_message(sqlite3_stmt *st)
{
	struct store_message	*m;

	m = xcalloc(1, sizeof *m);
	col_id(st, 0, m->id);
	m->event_id = col_str(st, 1);
	m->message = col_str(st, 2);
	m->request_id = col_str(st, 3);
	m->resource_type = col_str(st, 4);
	m->resource_uuid = col_str(st, 5);
	m->level = col_str(st, 6);
	m->created_at = sqlite3_column_int64(st, 7);
	m->expires_at = sqlite3_column_int64(st, 8);
	return (m);
}

static void *
read_text(sqlite3_stmt *st)
{
	return (col_str(st, 0));
}

/* ---- connection, statements, transactions ------------------------ */

/* Record an SQLite error and map it to a store result. */
static enum store_rc
sl_error(struct store_sqlite *sl, int rc, const char *what)
{
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
	int		 rc;

	h = sl_hash(sql);
	for (c = sl->cache[h]; c != NULL; c = c->next) {
		if (strcmp(c->sql, sql) == 0) {
			sqlite3_reset(c->st);
			sqlite3_clear_bindings(c->st);
			return (c->st);
		}
	}
	if (sl->ncached >= SL_MAXSTMTS) {
		sl_flush(sl);
		h = sl_hash(sql);
	}
	rc = sqlite3_prepare_v3(sl->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL);
	if (rc != SQLITE_OK) {
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

/* Run a statement without parameters or rows; an SQLite code. */
static int
sl_simple(struct store_sqlite *sl, const char *sql)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = sl_prepare(sl, sql)) == NULL)
		return (SQLITE_ERROR);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return (SQLITE_OK);
	return (rc);
}

/* Start a write transaction. */
static enum store_rc
sl_begin(struct store_sqlite *sl)
{
	int	 rc;

	if ((rc = sl_simple(sl, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return (sl_error(sl, rc, "begin"));
	return (STORE_OK);
}

/* Commit the write transaction; rolled back on failure. */
static enum store_rc
sl_commit(struct store_sqlite *sl)
{
	enum store_rc	 src;
	int		 rc;

	if ((rc = sl_simple(sl, "COMMIT")) != SQLITE_OK) {
		src = sl_error(sl, rc, "commit");
		sl_rollback(sl);
		return (src == STORE_CONFLICT ? STORE_ERROR : src);
	}
	return (STORE_OK);
}

/* Roll back the write transaction, if one is open. */
static void
sl_rollback(struct store_sqlite *sl)
{
	if (!sqlite3_get_autocommit(sl->db))
		sl_simple(sl, "ROLLBACK");
}

/* Step a select to the end, reading each row. */
static enum store_rc
sl_select(struct store_sqlite *sl, sqlite3_stmt *st, sl_read_fn read,
    struct sl_rows *rows)
{
	int	 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows->n == rows->cap) {
			rows->cap = rows->cap == 0 ? 16 : rows->cap * 2;
			rows->v = xreallocarray(rows->v, rows->cap,
			    sizeof *rows->v);
		}
		rows->v[rows->n++] = read(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (sl_error(sl, rc, "select"));
	return (STORE_OK);
}

/* Step a select for one row; NOTFOUND when there is none. */
static enum store_rc
sl_select_one(struct store_sqlite *sl, sqlite3_stmt *st, sl_read_fn read,
    void **out)
{
	int	 rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = read(st);
		sqlite3_reset(st);
		return (STORE_OK);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		store_set_error(&sl->s, "not found");
		return (STORE_NOTFOUND);
	}
	return (sl_error(sl, rc, "select"));
}

/* Free collected rows. */
static void
sl_rows_free(struct sl_rows *rows, void (*fn)(void *))
{
	size_t	 i;

	for (i = 0; i < rows->n; i++)
		fn(rows->v[i]);
	free(rows->v);
	rows->v = NULL;
	rows->n = rows->cap = 0;
}

/*
 * Typed arrays from collected rows: the caller owns the array and the
 * rows.  A macro per row type keeps the conversions identical.
 */
#define SL_ROWS_TAKE(type, rows, out, n) do {				\
	size_t	 i_;							\
									\
	*(out) = NULL;							\
	if ((rows)->n > 0) {						\
		*(out) = xreallocarray(NULL, (rows)->n, sizeof **(out));\
		for (i_ = 0; i_ < (rows)->n; i_++)			\
			(*(out))[i_] = (type *)(rows)->v[i_];		\
	}								\
	*(n) = (rows)->n;						\
	free((rows)->v);						\
} while (0)

/* Row frees with the signature sl_rows_free() takes. */
static void	sl_free_def(void *p) { store_def_free(p); }
static void	sl_free_exec(void *p) { store_exec_free(p); }
static void	sl_free_task(void *p) { store_task_free(p); }
static void	sl_free_action(void *p) { store_action_free(p); }
static void	sl_free_message(void *p) { store_message_free(p); }

/*
 * Process-wide SQLite settings, before its first use: no memory
 * statistics (they take a global mutex on every allocation).
 */
static void
sl_init_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * Another connection holds the write lock (the API's and the engine's
 * connections share one file).  SQLite's own busy timeout sleeps in
 * steps of up to 100 ms, which stalls a busy daemon; retry every 100 us
 * instead, for up to 5 s.
 */
#define SL_BUSY_SLEEP_US	100
#define SL_BUSY_MAX_TRIES	(5000000 / SL_BUSY_SLEEP_US)

static int
sl_busy(void *arg, int tries)
{
	(void)arg;
	if (tries >= SL_BUSY_MAX_TRIES)
		return (0);
	usleep(SL_BUSY_SLEEP_US);
	return (1);
}

/* Parse the URL, open the database, set it up and migrate it. */
static struct store *
sl_open(const char *url, char **cause)
{
	struct store_sqlite	*sl = NULL;
	char			*path = NULL, *q;
	const char		*sync = "NORMAL", *p;
	char			 sql[64];
	int			 rc;

	p = url + strlen("sqlite:");
	if (strncmp(p, "//", 2) == 0)
		p += 2;
	path = xstrdup(p);
	if ((q = strchr(path, '?')) != NULL) {
		*q++ = '\0';
		if (strcmp(q, "sync=full") == 0)
			sync = "FULL";
		else if (strcmp(q, "sync=normal") == 0)
			sync = "NORMAL";
		else {
			xasprintf(cause, "%s: unknown option \"%s\" (want "
			    "sync=full or sync=normal)", url, q);
			goto fail;
		}
	}
	if (*path == '\0') {
		xasprintf(cause, "%s: no database path", url);
		goto fail;
	}

	pthread_once(&sl_once, sl_init_once);
	sl = xcalloc(1, sizeof *sl);
	rc = sqlite3_open_v2(path, &sl->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sl->db == NULL ?
		    sqlite3_errstr(rc) : sqlite3_errmsg(sl->db));
		goto fail;
	}
	sqlite3_extended_result_codes(sl->db, 1);
	sqlite3_busy_handler(sl->db, sl_busy, NULL);
	/*
	 * The last connection to close would checkpoint the WAL into the
	 * database with fsyncs, which is most of what a short bora run
	 * costs; the WAL stays instead (committed data in it is read by the
	 * next open) and is checkpointed as it grows.
	 */
	(void)sqlite3_db_config(sl->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
	    (int *)NULL);
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s", sync);
	if (sqlite3_exec(sl->db, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(sl->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(sl->db, "PRAGMA foreign_keys = OFF", NULL, NULL,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(sl->db));
		goto fail;
	}
	if (sl_migrate(sl, cause) != 0)
		goto fail;
	free(path);
	return (&sl->s);

fail:
	if (sl != NULL) {
		sl_flush(sl);
		sqlite3_close(sl->db);
		free(sl);
	}
	free(path);
	return (NULL);
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

/*
 * Apply the migrations the database lacks, in one transaction.  A
 * database whose schema is newer than this binary knows is refused.
 */
static int
sl_migrate(struct store_sqlite *sl, char **cause)
{
	const struct store_migration	*mg;
	sqlite3_stmt			*st;
	char				*err = NULL;
	int				 cur = 0, known = 0, rc;

	for (mg = store_sqlite_migrations; mg->sql != NULL; mg++)
		known = mg->version;

	if (sl_begin(sl) != STORE_OK) {
		xasprintf(cause, "schema: %s", store_error(&sl->s));
		return (-1);
	}
	if (sqlite3_exec(sl->db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
	    "applied_at INTEGER NOT NULL)", NULL, NULL, &err) != SQLITE_OK) {
		xasprintf(cause, "schema: %s", err);
		goto fail;
	}
	if ((st = sl_prepare(sl, "SELECT COALESCE(MAX(version), 0) "
	    "FROM schema_version")) == NULL) {
		xasprintf(cause, "schema: %s", store_error(&sl->s));
		goto fail;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cur = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		xasprintf(cause, "schema: %s", sqlite3_errmsg(sl->db));
		goto fail;
	}
	if (cur > known) {
		xasprintf(cause, "database schema version %d is newer than "
		    "this version of bora knows (%d): upgrade bora", cur,
		    known);
		goto fail;
	}

	for (mg = store_sqlite_migrations; mg->sql != NULL; mg++) {
		if (mg->version <= cur)
			continue;
		if (sqlite3_exec(sl->db, mg->sql, NULL, NULL, &err) !=
		    SQLITE_OK) {
			xasprintf(cause, "schema migration %s: %s", mg->name,
			    err);
			goto fail;
		}
		if ((st = sl_prepare(sl, "INSERT INTO schema_version "
		    "(version, name, applied_at) VALUES (?, ?, ?)")) == NULL) {
			xasprintf(cause, "schema: %s", store_error(&sl->s));
			goto fail;
		}
		sqlite3_bind_int(st, 1, mg->version);
		sqlite3_bind_text(st, 2, mg->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, time_now_ms());
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			xasprintf(cause, "schema: %s", sqlite3_errmsg(sl->db));
			goto fail;
		}
	}
	if (sl_commit(sl) != STORE_OK) {
		xasprintf(cause, "schema: %s", store_error(&sl->s));
		return (-1);
	}
	return (0);

fail:
	sqlite3_free(err);
	sl_rollback(sl);
	return (-1);
}

static enum store_rc
sl_ping(struct store *s)
{
	struct store_sqlite	*sl = SL(s);
	int			 rc;

	if ((rc = sl_simple(sl, "SELECT 1")) != SQLITE_OK)
		return (sl_error(sl, rc, "ping"));
	return (STORE_OK);
}

static int64_t
sl_now(struct store *s)
{
	return (time_now_ms());
}

/* ---- change sets ------------------------------------------------- */

/* Append "col = ?N, " for each masked field to an update statement. */
static void
sl_set(struct buf *b, unsigned mask, unsigned bit, const char *col, int *n)
{
	if (mask & bit)
		buf_printf(b, "%s = ?%d, ", col, ++*n);
}

/* Run a write statement; its SQLite code mapped, *changes set. */
static enum store_rc
sl_write(struct store_sqlite *sl, sqlite3_stmt *st, const char *what,
    int *changes)
{
	int	 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (sl_error(sl, rc, what));
	if (changes != NULL)
		*changes = sqlite3_changes(sl->db);
	return (STORE_OK);
}

/* Outcome of a guarded update that changed no row. */
static enum store_rc
sl_guard_failed(struct store_sqlite *sl, const char *table, const char *id,
    const char *expect)
{
	if (expect != NULL) {
		store_set_error(&sl->s, "%s %s is not in state %s", table, id,
		    expect);
		return (STORE_CONFLICT);
	}
	store_set_error(&sl->s, "%s %s not found", table, id);
	return (STORE_NOTFOUND);
}

/* Update an execution's masked fields. */
static enum store_rc
sl_exec_update(struct store_sqlite *sl, struct store_op *op)
{
	struct store_exec	*e = op->u.exec;
	struct buf		 b;
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	unsigned		 m = op->mask;
	int			 n = 0, changes = 0;

	buf_init(&b, 0);
	buf_puts(&b, "UPDATE executions SET ");
	sl_set(&b, m, SF_STATE, "state", &n);
	sl_set(&b, m, SF_STATE_INFO, "state_info", &n);
	sl_set(&b, m, SF_INPUT, "input", &n);
	sl_set(&b, m, SF_OUTPUT, "output", &n);
	sl_set(&b, m, SF_PARAMS, "params", &n);
	sl_set(&b, m, SF_CONTEXT, "context", &n);
	sl_set(&b, m, SF_DESCRIPTION, "description", &n);
	buf_printf(&b, "updated_at = ?%d WHERE id = ?%d", n + 1, n + 2);
	if (op->expect != NULL)
		buf_printf(&b, " AND state = ?%d", n + 3);
	st = sl_prepare(sl, b.data);
	buf_free(&b);
	if (st == NULL)
		return (STORE_ERROR);

	n = 0;
	if (m & SF_STATE)
		bind_str(st, ++n, e->state);
	if (m & SF_STATE_INFO)
		bind_str(st, ++n, e->state_info);
	if (m & SF_INPUT)
		bind_json(st, ++n, e->input);
	if (m & SF_OUTPUT)
		bind_json(st, ++n, e->output);
	if (m & SF_PARAMS)
		bind_json(st, ++n, e->params);
	if (m & SF_CONTEXT)
		bind_json(st, ++n, e->context);
	if (m & SF_DESCRIPTION)
		bind_str(st, ++n, e->description);
	sqlite3_bind_int64(st, ++n, time_now_ms());
	bind_str(st, ++n, e->id);
	if (op->expect != NULL)
		bind_str(st, ++n, op->expect);
	if ((rc = sl_write(sl, st, "update execution", &changes)) != STORE_OK)
		return (rc);
	if (changes == 0)
		return (sl_guard_failed(sl, "execution", e->id, op->expect));
	return (STORE_OK);
}

/* Update a task's masked fields. */
static enum store_rc
sl_task_update(struct store_sqlite *sl, struct store_op *op)
{
	struct store_task	*t = op->u.task;
	struct buf		 b;
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	unsigned		 m = op->mask;
	int			 n = 0, changes = 0;

	buf_init(&b, 0);
	buf_puts(&b, "UPDATE tasks SET ");
	sl_set(&b, m, SF_STATE, "state", &n);
	sl_set(&b, m, SF_STATE_INFO, "state_info", &n);
	sl_set(&b, m, SF_IN_CONTEXT, "in_context", &n);
	sl_set(&b, m, SF_PUBLISHED, "published", &n);
	sl_set(&b, m, SF_RESULT, "result", &n);
	sl_set(&b, m, SF_RUNTIME, "runtime", &n);
	sl_set(&b, m, SF_STARTED, "started_at", &n);
	sl_set(&b, m, SF_FINISHED, "finished_at", &n);
	buf_printf(&b, "updated_at = ?%d WHERE id = ?%d", n + 1, n + 2);
	if (op->expect != NULL)
		buf_printf(&b, " AND state = ?%d", n + 3);
	st = sl_prepare(sl, b.data);
	buf_free(&b);
	if (st == NULL)
		return (STORE_ERROR);

	n = 0;
	if (m & SF_STATE)
		bind_str(st, ++n, t->state);
	if (m & SF_STATE_INFO)
		bind_str(st, ++n, t->state_info);
	if (m & SF_IN_CONTEXT)
		bind_json(st, ++n, t->in_context);
	if (m & SF_PUBLISHED)
		bind_json(st, ++n, t->published);
	if (m & SF_RESULT)
		bind_json(st, ++n, t->result);
	if (m & SF_RUNTIME)
		bind_json(st, ++n, t->runtime);
	if (m & SF_STARTED)
		sqlite3_bind_int64(st, ++n, t->started_at);
	if (m & SF_FINISHED)
		sqlite3_bind_int64(st, ++n, t->finished_at);
	sqlite3_bind_int64(st, ++n, time_now_ms());
	bind_str(st, ++n, t->id);
	if (op->expect != NULL)
		bind_str(st, ++n, op->expect);
	if ((rc = sl_write(sl, st, "update task", &changes)) != STORE_OK)
		return (rc);
	if (changes == 0)
		return (sl_guard_failed(sl, "task", t->id, op->expect));
	return (STORE_OK);
}

/* Update an action execution's masked fields. */
static enum store_rc
sl_action_update(struct store_sqlite *sl, struct store_op *op)
{
	struct store_action	*a = op->u.action;
	struct buf		 b;
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	unsigned		 m = op->mask;
	int			 n = 0, changes = 0;

	buf_init(&b, 0);
	buf_puts(&b, "UPDATE action_executions SET ");
	sl_set(&b, m, SF_STATE, "state", &n);
	sl_set(&b, m, SF_STATE_INFO, "state_info", &n);
	sl_set(&b, m, SF_INPUT, "input", &n);
	sl_set(&b, m, SF_OUTPUT, "output", &n);
	buf_printf(&b, "updated_at = ?%d WHERE id = ?%d", n + 1, n + 2);
	if (op->expect != NULL)
		buf_printf(&b, " AND state = ?%d", n + 3);
	st = sl_prepare(sl, b.data);
	buf_free(&b);
	if (st == NULL)
		return (STORE_ERROR);

	n = 0;
	if (m & SF_STATE)
		bind_str(st, ++n, a->state);
	if (m & SF_STATE_INFO)
		bind_str(st, ++n, a->state_info);
	if (m & SF_INPUT)
		bind_json(st, ++n, a->input);
	if (m & SF_OUTPUT)
		bind_json(st, ++n, a->output);
	sqlite3_bind_int64(st, ++n, time_now_ms());
	bind_str(st, ++n, a->id);
	if (op->expect != NULL)
		bind_str(st, ++n, op->expect);
	if ((rc = sl_write(sl, st, "update action execution", &changes)) !=
	    STORE_OK)
		return (rc);
	if (changes == 0)
		return (sl_guard_failed(sl, "action execution", a->id,
		    op->expect));
	return (STORE_OK);
}

/* Apply one recorded operation. */
static enum store_rc
sl_apply_op(struct store_sqlite *sl, struct store_op *op)
{
	sqlite3_stmt		*st;
	struct store_exec	*e;
	struct store_task	*t;
	struct store_action	*a;
	struct store_work	*w;
	struct store_event	*ev;
	struct store_message	*msg;
	enum store_rc		 rc;
	int64_t			 now = time_now_ms();
	int			 changes = 0;

	switch (op->kind) {
	case STORE_OP_EXEC_INSERT:
		e = op->u.exec;
		st = sl_prepare(sl, "INSERT INTO executions (" EXEC_COLS ") "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		    "?12, ?13, ?14, ?15, ?16, ?17, ?18)");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, e->id);
		bind_str(st, 2, e->workflow_name);
		bind_id(st, 3, e->workflow_id);
		bind_id(st, 4, e->def_id);
		bind_str(st, 5, e->parent_task_id);
		bind_str(st, 6, e->root_id);
		bind_str(st, 7, e->state != NULL ? e->state : ST_IDLE);
		bind_str(st, 8, e->state_info);
		bind_json(st, 9, e->input);
		bind_json(st, 10, e->output);
		bind_json(st, 11, e->params);
		bind_json(st, 12, e->context);
		bind_str(st, 13, e->description);
		bind_str(st, 14, e->request_id);
		bind_str(st, 15, e->owner);
		sqlite3_bind_int64(st, 16, e->lease_until);
		sqlite3_bind_int64(st, 17, e->created_at ? e->created_at : now);
		sqlite3_bind_int64(st, 18, e->updated_at ? e->updated_at :
		    e->created_at ? e->created_at : now);
		return (sl_write(sl, st, "insert execution", NULL));
	case STORE_OP_EXEC_UPDATE:
		return (sl_exec_update(sl, op));
	case STORE_OP_TASK_INSERT:
		t = op->u.task;
		st = sl_prepare(sl, "INSERT INTO tasks (" TASK_COLS ") "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		    "CASE WHEN ?11 > 0 THEN ?11 ELSE (SELECT COALESCE(MAX(seq),"
		    " 0) + 1 FROM tasks WHERE execution_id = ?2) END, "
		    "?12, ?13, ?14, ?15)");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, t->id);
		bind_str(st, 2, t->execution_id);
		bind_str(st, 3, t->name);
		bind_str(st, 4, t->state != NULL ? t->state : ST_IDLE);
		bind_str(st, 5, t->state_info);
		bind_str(st, 6, t->type);
		bind_json(st, 7, t->in_context);
		bind_json(st, 8, t->published);
		bind_json(st, 9, t->result);
		bind_json(st, 10, t->runtime);
		sqlite3_bind_int64(st, 11, t->seq);
		sqlite3_bind_int64(st, 12, t->created_at ? t->created_at : now);
		sqlite3_bind_int64(st, 13, t->started_at);
		sqlite3_bind_int64(st, 14, t->finished_at);
		sqlite3_bind_int64(st, 15, t->updated_at ? t->updated_at :
		    t->created_at ? t->created_at : now);
		return (sl_write(sl, st, "insert task", NULL));
	case STORE_OP_TASK_UPDATE:
		return (sl_task_update(sl, op));
	case STORE_OP_ACTION_INSERT:
		a = op->u.action;
		st = sl_prepare(sl, "INSERT INTO action_executions ("
		    ACTION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		    "?9, ?10, ?11, ?12, ?13, ?14)");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, a->id);
		bind_str(st, 2, a->task_id);
		bind_str(st, 3, a->execution_id);
		bind_str(st, 4, a->name);
		bind_str(st, 5, a->state != NULL ? a->state : ST_RUNNING);
		bind_str(st, 6, a->state_info);
		bind_json(st, 7, a->input);
		bind_json(st, 8, a->output);
		sqlite3_bind_int(st, 9, a->attempt);
		sqlite3_bind_int(st, 10, a->item);
		sqlite3_bind_int(st, 11, a->is_async);
		bind_str(st, 12, a->request_id);
		sqlite3_bind_int64(st, 13, a->created_at ? a->created_at : now);
		sqlite3_bind_int64(st, 14, a->updated_at ? a->updated_at :
		    a->created_at ? a->created_at : now);
		return (sl_write(sl, st, "insert action execution", NULL));
	case STORE_OP_ACTION_UPDATE:
		return (sl_action_update(sl, op));
	case STORE_OP_WORK_INSERT:
		w = op->u.work;
		st = sl_prepare(sl, "INSERT INTO work (execution_id, task_id, "
		    "kind, due_at, payload) VALUES (?1, ?2, ?3, ?4, ?5)");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, w->execution_id);
		bind_str(st, 2, w->task_id);
		bind_str(st, 3, w->kind != NULL ? w->kind : "");
		sqlite3_bind_int64(st, 4, w->due_at);
		bind_json(st, 5, w->payload);
		return (sl_write(sl, st, "insert work", NULL));
	case STORE_OP_WORK_DELETE:
		st = sl_prepare(sl, "DELETE FROM work WHERE id = ?1");
		if (st == NULL)
			return (STORE_ERROR);
		sqlite3_bind_int64(st, 1, op->u.id);
		if ((rc = sl_write(sl, st, "delete work", &changes)) !=
		    STORE_OK)
			return (rc);
		if (changes == 0) {
			store_set_error(&sl->s, "work %lld is gone",
			    (long long)op->u.id);
			return (STORE_CONFLICT);
		}
		return (STORE_OK);
	case STORE_OP_WORK_DELETE_TASK:
		st = sl_prepare(sl, "DELETE FROM work WHERE task_id = ?1");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, op->u.task_id);
		return (sl_write(sl, st, "delete work", NULL));
	case STORE_OP_LOCK_ACQUIRE:
		st = sl_prepare(sl, "INSERT INTO locks (name, execution_id, "
		    "created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO "
		    "UPDATE SET execution_id = excluded.execution_id WHERE "
		    "locks.execution_id = excluded.execution_id");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, op->u.lock.name);
		bind_str(st, 2, op->u.lock.execution_id);
		sqlite3_bind_int64(st, 3, now);
		if ((rc = sl_write(sl, st, "lock", &changes)) != STORE_OK)
			return (rc);
		if (changes == 0) {
			store_set_error(&sl->s, "lock %s is held by another "
			    "execution", op->u.lock.name);
			return (STORE_CONFLICT);
		}
		return (STORE_OK);
	case STORE_OP_LOCK_RELEASE_ALL:
		st = sl_prepare(sl, "DELETE FROM locks WHERE "
		    "execution_id = ?1");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, op->u.lock.execution_id);
		return (sl_write(sl, st, "unlock", NULL));
	case STORE_OP_EVENT_INSERT:
		ev = op->u.event;
		st = sl_prepare(sl, "INSERT INTO events (execution_id, "
		    "task_id, task_name, time, progress, message, level, "
		    "request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, ev->execution_id);
		bind_str(st, 2, ev->task_id);
		bind_str(st, 3, ev->task_name);
		sqlite3_bind_int64(st, 4, ev->time ? ev->time : now);
		sqlite3_bind_double(st, 5, ev->progress);
		bind_str(st, 6, ev->message);
		bind_str(st, 7, ev->level);
		bind_str(st, 8, ev->request_id);
		return (sl_write(sl, st, "insert event", NULL));
	case STORE_OP_MESSAGE_INSERT:
		msg = op->u.message;
		st = sl_prepare(sl, "INSERT INTO messages (" MESSAGE_COLS ") "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
		if (st == NULL)
			return (STORE_ERROR);
		bind_str(st, 1, msg->id);
		bind_str(st, 2, msg->event_id);
		bind_str(st, 3, msg->message);
		bind_str(st, 4, msg->request_id);
		bind_str(st, 5, msg->resource_type);
		bind_str(st, 6, msg->resource_uuid);
		bind_str(st, 7, msg->level);
		sqlite3_bind_int64(st, 8, msg->created_at ? msg->created_at :
		    now);
		sqlite3_bind_int64(st, 9, msg->expires_at);
		return (sl_write(sl, st, "insert message", NULL));
	}
	store_set_error(&sl->s, "unknown change kind %d", (int)op->kind);
	return (STORE_ERROR);
}

/* Apply every operation of a change set; stop at the first failure. */
static enum store_rc
sl_apply(struct store_sqlite *sl, struct store_tx *tx)
{
	enum store_rc	 rc;
	size_t		 i;

	for (i = 0; i < tx->n; i++) {
		if ((rc = sl_apply_op(sl, &tx->ops[i])) != STORE_OK)
			return (rc);
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
sl_commit_many(struct store *s, struct store_tx **txs, size_t n,
    enum store_rc *rcs)
{
	struct store_sqlite	*sl = SL(s);
	enum store_rc		 rc, worst = STORE_OK;
	size_t			 i, j;
	int			 sp = n > 1, src;

	if ((rc = sl_begin(sl)) != STORE_OK)
		goto fail_all;
	for (i = 0; i < n; i++) {
		if (sp && (src = sl_simple(sl, "SAVEPOINT cs")) != SQLITE_OK) {
			rc = sl_error(sl, src, "savepoint");
			goto fail_all;
		}
		rc = sl_apply(sl, txs[i]);
		if (rc == STORE_UNAVAILABLE)
			goto fail_all;
		if (rc != STORE_OK && !sp) {
			sl_rollback(sl);
			rcs[0] = rc;
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
	if ((rc = sl_commit(sl)) != STORE_OK)
		goto fail_all;
	return (worst);

fail_all:
	sl_rollback(sl);
	for (j = 0; j < n; j++)
		rcs[j] = rc;
	return (rc);
}

/* ---- definitions ------------------------------------------------- */

/* Bump the definition change counter (inside a transaction). */
static enum store_rc
sl_def_bump(struct store_sqlite *sl)
{
	sqlite3_stmt	*st;

	st = sl_prepare(sl, "UPDATE def_generation SET value = value + 1 "
	    "WHERE id = 1");
	if (st == NULL)
		return (STORE_ERROR);
	return (sl_write(sl, st, "definition generation", NULL));
}

/* Save a new version of (kind, name). */
static enum store_rc
sl_def_save(struct store *s, const char *kind, const char *name,
    const char *text, const char *source, int create_only, int deleted,
    struct store_def **out)
{
	struct store_sqlite	*sl = SL(s);
	struct store_def	*d = NULL;
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	int			 version = 0, last_deleted = 1, src;
	int64_t			 now = time_now_ms();

	if ((rc = sl_begin(sl)) != STORE_OK)
		return (rc);
	st = sl_prepare(sl, "SELECT version, deleted FROM definitions "
	    "WHERE kind = ?1 AND name = ?2 ORDER BY version DESC LIMIT 1");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	bind_str(st, 1, kind);
	bind_str(st, 2, name);
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		version = sqlite3_column_int(st, 0);
		last_deleted = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = sl_error(sl, src, "definition");
		goto out;
	}
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

	d = xcalloc(1, sizeof *d);
	uuid_make(d->id);
	d->kind = xstrdup(kind);
	d->name = xstrdup(name);
	d->version = version + 1;
	d->text = xstrdup(text != NULL ? text : "");
	d->source = source != NULL ? xstrdup(source) : NULL;
	d->deleted = deleted != 0;
	d->created_at = d->updated_at = now;

	st = sl_prepare(sl, "INSERT INTO definitions (" DEF_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	bind_str(st, 1, d->id);
	bind_str(st, 2, d->kind);
	bind_str(st, 3, d->name);
	sqlite3_bind_int(st, 4, d->version);
	bind_str(st, 5, d->text);
	bind_str(st, 6, d->source);
	sqlite3_bind_int(st, 7, d->deleted);
	sqlite3_bind_int64(st, 8, d->created_at);
	sqlite3_bind_int64(st, 9, d->updated_at);
	if ((rc = sl_write(sl, st, "insert definition", NULL)) != STORE_OK)
		goto out;
	if ((rc = sl_def_bump(sl)) != STORE_OK)
		goto out;
	rc = sl_commit(sl);

out:
	if (rc != STORE_OK) {
		sl_rollback(sl);
		store_def_free(d);
	} else if (out != NULL)
		*out = d;
	else
		store_def_free(d);
	return (rc);
}

/* Load one definition version by id. */
static enum store_rc
sl_def_load(struct store *s, const char *id, struct store_def **out)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	void			*p = NULL;
	enum store_rc		 rc;

	st = sl_prepare(sl, "SELECT " DEF_COLS " FROM definitions "
	    "WHERE id = ?1");
	if (st == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, id);
	if ((rc = sl_select_one(sl, st, read_def, &p)) == STORE_OK)
		*out = p;
	return (rc);
}

/* Load the current version of (kind, name). */
static enum store_rc
sl_def_load_current(struct store *s, const char *kind, const char *name,
    struct store_def **out)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	void			*p = NULL;
	enum store_rc		 rc;

	st = sl_prepare(sl, "SELECT " DEF_COLS " FROM definitions "
	    "WHERE kind = ?1 AND name = ?2 ORDER BY version DESC LIMIT 1");
	if (st == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, kind);
	bind_str(st, 2, name);
	if ((rc = sl_select_one(sl, st, read_def, &p)) != STORE_OK)
		return (rc);
	if (((struct store_def *)p)->deleted) {
		store_def_free(p);
		store_set_error(s, "%s %s not found", kind, name);
		return (STORE_NOTFOUND);
	}
	*out = p;
	return (STORE_OK);
}

/* Every current definition, oldest first. */
static enum store_rc
sl_def_list_current(struct store *s, struct store_def ***out, size_t *n)
{
	struct store_sqlite	*sl = SL(s);
	struct sl_rows		 rows = { NULL, 0, 0 };
	sqlite3_stmt		*st;
	enum store_rc		 rc;

	st = sl_prepare(sl, "SELECT " DEF_COLS " FROM definitions d "
	    "WHERE deleted = 0 AND version = (SELECT MAX(version) FROM "
	    "definitions x WHERE x.kind = d.kind AND x.name = d.name) "
	    "ORDER BY created_at, rowid");
	if (st == NULL)
		return (STORE_ERROR);
	if ((rc = sl_select(sl, st, read_def, &rows)) != STORE_OK) {
		sl_rows_free(&rows, sl_free_def);
		return (rc);
	}
	SL_ROWS_TAKE(struct store_def, &rows, out, n);
	return (STORE_OK);
}

/* The definition change counter. */
static int64_t
sl_def_generation(struct store *s)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	int64_t			 v = -1;

	st = sl_prepare(sl, "SELECT value FROM def_generation WHERE id = 1");
	if (st == NULL)
		return (-1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return (v);
}

/* Load a workflow identity by id or name. */
static enum store_rc
sl_workflow_load(struct store *s, const char *name_or_id,
    struct store_workflow **out)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	void			*p = NULL;
	enum store_rc		 rc;

	st = sl_prepare(sl, "SELECT " WORKFLOW_COLS " FROM workflows "
	    "WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1");
	if (st == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, name_or_id);
	if ((rc = sl_select_one(sl, st, read_workflow, &p)) == STORE_OK)
		*out = p;
	else if (rc == STORE_NOTFOUND)
		store_set_error(s, "workflow %s not found", name_or_id);
	return (rc);
}

/* Create or move a workflow identity to def_id. */
static enum store_rc
sl_workflow_save(struct store *s, const char *name, const char *def_id,
    struct store_workflow **out)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	char			 id[UUID_STRLEN];
	int64_t			 now = time_now_ms();
	int			 changes = 0;

	if ((rc = sl_begin(sl)) != STORE_OK)
		return (rc);
	st = sl_prepare(sl, "UPDATE workflows SET def_id = ?1, "
	    "updated_at = ?2 WHERE name = ?3");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	bind_str(st, 1, def_id);
	sqlite3_bind_int64(st, 2, now);
	bind_str(st, 3, name);
	if ((rc = sl_write(sl, st, "update workflow", &changes)) != STORE_OK)
		goto out;
	if (changes == 0) {
		st = sl_prepare(sl, "INSERT INTO workflows (" WORKFLOW_COLS
		    ") VALUES (?1, ?2, ?3, ?4, ?4)");
		if (st == NULL) {
			rc = STORE_ERROR;
			goto out;
		}
		uuid_make(id);
		bind_str(st, 1, id);
		bind_str(st, 2, name);
		bind_str(st, 3, def_id);
		sqlite3_bind_int64(st, 4, now);
		if ((rc = sl_write(sl, st, "insert workflow", NULL)) !=
		    STORE_OK)
			goto out;
	}
	if ((rc = sl_def_bump(sl)) != STORE_OK)
		goto out;
	rc = sl_commit(sl);

out:
	if (rc != STORE_OK) {
		sl_rollback(sl);
		return (rc);
	}
	if (out != NULL)
		return (sl_workflow_load(s, name, out));
	return (STORE_OK);
}

/* Remove a workflow identity by name (or id). */
static enum store_rc
sl_workflow_delete(struct store *s, const char *name)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	int			 changes = 0;

	if ((rc = sl_begin(sl)) != STORE_OK)
		return (rc);
	st = sl_prepare(sl, "DELETE FROM workflows WHERE name = ?1 OR "
	    "id = ?1");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	bind_str(st, 1, name);
	if ((rc = sl_write(sl, st, "delete workflow", &changes)) != STORE_OK)
		goto out;
	if (changes == 0) {
		store_set_error(s, "workflow %s not found", name);
		rc = STORE_NOTFOUND;
		goto out;
	}
	if ((rc = sl_def_bump(sl)) != STORE_OK)
		goto out;
	rc = sl_commit(sl);

out:
	if (rc != STORE_OK)
		sl_rollback(sl);
	return (rc);
}

/* ---- reads ------------------------------------------------------- */

/* Load one row by a text key with a prepared select. */
static enum store_rc
sl_load_one(struct store_sqlite *sl, const char *sql, const char *key,
    sl_read_fn read, const char *what, void **out)
{
	sqlite3_stmt	*st;
	enum store_rc	 rc;

	if ((st = sl_prepare(sl, sql)) == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, key);
	rc = sl_select_one(sl, st, read, out);
	if (rc == STORE_NOTFOUND)
		store_set_error(&sl->s, "%s %s not found", what, key);
	return (rc);
}

/* Load every row for a text key with a prepared select. */
static enum store_rc
sl_load_rows(struct store_sqlite *sl, const char *sql, const char *key,
    sl_read_fn read, struct sl_rows *rows)
{
	sqlite3_stmt	*st;

	if ((st = sl_prepare(sl, sql)) == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, key);
	return (sl_select(sl, st, read, rows));
}

static enum store_rc
sl_exec_load(struct store *s, const char *id, struct store_exec **out)
{
	void		*p = NULL;
	enum store_rc	 rc;

	rc = sl_load_one(SL(s), "SELECT " EXEC_COLS " FROM executions "
	    "WHERE id = ?1", id, read_exec, "execution", &p);
	if (rc == STORE_OK)
		*out = p;
	return (rc);
}

static enum store_rc
sl_tasks_load(struct store *s, const char *execution_id,
    struct store_task ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	rc = sl_load_rows(SL(s), "SELECT " TASK_COLS " FROM tasks "
	    "WHERE execution_id = ?1 ORDER BY seq, created_at, id",
	    execution_id, read_task, &rows);
	if (rc != STORE_OK) {
		sl_rows_free(&rows, sl_free_task);
		return (rc);
	}
	SL_ROWS_TAKE(struct store_task, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_task_load(struct store *s, const char *id, struct store_task **out)
{
	void		*p = NULL;
	enum store_rc	 rc;

	rc = sl_load_one(SL(s), "SELECT " TASK_COLS " FROM tasks "
	    "WHERE id = ?1", id, read_task, "task", &p);
	if (rc == STORE_OK)
		*out = p;
	return (rc);
}

static enum store_rc
sl_actions_load(struct store *s, const char *task_id,
    struct store_action ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	rc = sl_load_rows(SL(s), "SELECT " ACTION_COLS " FROM "
	    "action_executions WHERE task_id = ?1 ORDER BY attempt, item, "
	    "created_at, id", task_id, read_action, &rows);
	if (rc != STORE_OK) {
		sl_rows_free(&rows, sl_free_action);
		return (rc);
	}
	SL_ROWS_TAKE(struct store_action, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_action_load(struct store *s, const char *id, struct store_action **out)
{
	void		*p = NULL;
	enum store_rc	 rc;

	rc = sl_load_one(SL(s), "SELECT " ACTION_COLS " FROM "
	    "action_executions WHERE id = ?1", id, read_action,
	    "action execution", &p);
	if (rc == STORE_OK)
		*out = p;
	return (rc);
}

static void	sl_free_event(void *p) { store_event_free(p); }
static void	sl_free_work(void *p) { store_work_free(p); }

static enum store_rc
sl_events_load(struct store *s, const char *execution_id,
    struct store_event ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	rc = sl_load_rows(SL(s), "SELECT " EVENT_COLS " FROM events "
	    "WHERE execution_id = ?1 ORDER BY time, id", execution_id,
	    read_event, &rows);
	if (rc != STORE_OK) {
		sl_rows_free(&rows, sl_free_event);
		return (rc);
	}
	SL_ROWS_TAKE(struct store_event, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_exec_children(struct store *s, const char *task_id,
    struct store_exec ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	rc = sl_load_rows(SL(s), "SELECT " EXEC_COLS " FROM executions "
	    "WHERE parent_task_id = ?1 ORDER BY created_at, id", task_id,
	    read_exec, &rows);
	if (rc != STORE_OK) {
		sl_rows_free(&rows, sl_free_exec);
		return (rc);
	}
	SL_ROWS_TAKE(struct store_exec, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_lock_owner(struct store *s, const char *name, char **execution_id)
{
	void		*p = NULL;
	enum store_rc	 rc;

	rc = sl_load_one(SL(s), "SELECT execution_id FROM locks "
	    "WHERE name = ?1", name, read_text, "lock", &p);
	if (rc == STORE_OK)
		*execution_id = p;
	return (rc);
}

/* ---- lists ------------------------------------------------------- */

/* A list resource: its table, columns and row reader. */
struct sl_resource {
	const char	*resource;
	const char	*table;
	const char	*cols;
	sl_read_fn	 read;
	void		 (*free)(void *);
};
static const struct sl_resource sl_res_exec = {
	"executions", "executions", EXEC_COLS, read_exec, sl_free_exec
};
static const struct sl_resource sl_res_task = {
	"tasks", "tasks", TASK_COLS, read_task, sl_free_task
};
static const struct sl_resource sl_res_action = {
	"action_executions", "action_executions", ACTION_COLS, read_action,
	sl_free_action
};
static const struct sl_resource sl_res_message = {
	"messages", "messages", MESSAGE_COLS, read_message, sl_free_message
};

/* Add a bind value to a list query. */
static void
sl_bind_add(struct sl_bind **v, size_t *n, int is_int, int64_t i,
    const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[*n].is_int = is_int;
	(*v)[*n].i = i;
	(*v)[*n].s = s != NULL ? xstrdup(s) : NULL;
	(*n)++;
}

/* Where sl_filter's dialect callbacks add their bind values. */
struct sl_binds {
	struct sl_bind	**v;
	size_t		 *n;
};

/* A "?" placeholder and its bind value. */
static void
sl_sql_value(void *arg, struct buf *b, int is_int, int64_t i, const char *s)
{
	struct sl_binds	*sb = arg;

	buf_puts(b, "?");
	sl_bind_add(sb->v, sb->n, is_int, i, s);
}

/* "contains": LIKE with % and _ escaped. */
static void
sl_sql_has(void *arg, struct buf *b, const char *column, const char *value)
{
	struct sl_binds	*sb = arg;
	struct buf	 esc;
	const char	*p;
	char		*pat;

	buf_init(&esc, 0);
	buf_puts(&esc, "%");
	for (p = value; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_add(&esc, "\\", 1);
		buf_add(&esc, p, 1);
	}
	buf_puts(&esc, "%");
	pat = buf_take(&esc);
	buf_printf(b, " AND %s LIKE ? ESCAPE '\\'", column);
	sl_bind_add(sb->v, sb->n, 0, 0, pat);
	free(pat);
}

/* Append one filter's condition to the WHERE clause. */
static int
sl_filter(struct store_sqlite *sl, const char *resource,
    const struct store_filter *f, struct buf *b, struct sl_bind **v,
    size_t *n)
{
	struct sl_binds			 sb = { v, n };
	struct store_sql_dialect	 d = { "IS NOT", sl_sql_value,
					    sl_sql_has, &sb };

	return (store_list_filter_sql(&sl->s, resource, f, b, &d));
}

/*
 * Run a list query: whitelisted filters, sort keys then id, keyset
 * pagination after the marker row, limit.  Values are always bound.
 *
 * The marker condition is "comes after the marker in this order": for
 * keys k1..kn (then id) it is k1 after m1, or k1 = m1 and k2 after m2,
 * and so on, with SQLite's NULL ordering (NULLs first ascending, last
 * descending).
 */
static enum store_rc
sl_list(struct store_sqlite *sl, const struct sl_resource *r,
    const struct store_query *q, struct sl_rows *rows)
{
	const struct store_column	*keys[16];
	const char			*kcol[17];
	int				 kdesc[17];
	struct sl_bind			*binds = NULL;
	size_t				 nbinds = 0, nkeys = 0, i, j;
	struct buf			 b;
	sqlite3_stmt			*st = NULL;
	enum store_rc			 rc = STORE_ERROR;
	int				 desc, src;
	const char			*op;

	buf_init(&b, 0);
	if (q->nsort > nitems(keys)) {
		store_set_error(&sl->s, "too many sort keys");
		goto out;
	}
	for (i = 0; i < q->nsort; i++) {
		keys[i] = store_list_field(r->resource, q->sort_keys[i]);
		if (keys[i] == NULL) {
			store_set_error(&sl->s, "unknown sort key \"%s\" for "
			    "%s", q->sort_keys[i], r->resource);
			goto out;
		}
		if (strcmp(keys[i]->column, "id") == 0)
			break;
		kcol[nkeys] = keys[i]->column;
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
		buf_puts(&b, "WITH m AS (SELECT ");
		for (i = 0; i <= nkeys; i++)
			buf_printf(&b, "%s%s AS m%zu", i ? ", " : "", kcol[i],
			    i);
		buf_printf(&b, " FROM %s WHERE id = ?) ", r->table);
		sl_bind_add(&binds, &nbinds, 0, 0, q->marker);
	}
	buf_printf(&b, "SELECT %s FROM %s%s WHERE 1 = 1", r->cols, r->table,
	    q->marker != NULL ? ", m" : "");
	for (i = 0; i < q->nfilters; i++) {
		if (sl_filter(sl, r->resource, &q->filters[i], &b, &binds,
		    &nbinds) != 0)
			goto out;
	}
	if (q->marker != NULL) {
		buf_puts(&b, " AND (");
		for (i = 0; i <= nkeys; i++) {
			buf_puts(&b, i ? " OR (" : "(");
			for (j = 0; j < i; j++)
				buf_printf(&b, "%s IS m%zu AND ", kcol[j], j);
			op = kdesc[i] ? "<" : ">";
			if (kdesc[i])
				buf_printf(&b, "(%s %s m%zu OR (%s IS NULL AND "
				    "m%zu IS NOT NULL)))", kcol[i], op, i,
				    kcol[i], i);
			else
				buf_printf(&b, "(%s %s m%zu OR (m%zu IS NULL "
				    "AND %s IS NOT NULL)))", kcol[i], op, i, i,
				    kcol[i]);
		}
		buf_puts(&b, ")");
	}
	buf_puts(&b, " ORDER BY ");
	for (i = 0; i <= nkeys; i++)
		buf_printf(&b, "%s%s%s", i ? ", " : "", kcol[i],
		    kdesc[i] ? " DESC" : "");
	if (q->limit > 0) {
		buf_puts(&b, " LIMIT ?");
		sl_bind_add(&binds, &nbinds, 1, (int64_t)q->limit, NULL);
	}

	if (q->marker != NULL) {
		st = sl_prepare(sl, r->table[0] == 'e' ?
		    "SELECT 1 FROM executions WHERE id = ?1" :
		    r->table[0] == 't' ? "SELECT 1 FROM tasks WHERE id = ?1" :
		    r->table[0] == 'a' ?
		    "SELECT 1 FROM action_executions WHERE id = ?1" :
		    "SELECT 1 FROM messages WHERE id = ?1");
		if (st == NULL)
			goto out;
		bind_str(st, 1, q->marker);
		src = sqlite3_step(st);
		sqlite3_reset(st);
		if (src == SQLITE_DONE) {
			store_set_error(&sl->s, "marker %s not found",
			    q->marker);
			rc = STORE_NOTFOUND;
			goto out;
		}
		if (src != SQLITE_ROW) {
			rc = sl_error(sl, src, "marker");
			goto out;
		}
	}

	if ((st = sl_prepare(sl, b.data)) == NULL)
		goto out;
	for (i = 0; i < nbinds; i++) {
		if (binds[i].is_int)
			sqlite3_bind_int64(st, (int)i + 1, binds[i].i);
		else
			bind_str(st, (int)i + 1, binds[i].s);
	}
	rc = sl_select(sl, st, r->read, rows);
	/* Bindings point into binds: clear them before freeing. */
	sqlite3_clear_bindings(st);

out:
	for (i = 0; i < nbinds; i++)
		free(binds[i].s);
	free(binds);
	buf_free(&b);
	if (rc != STORE_OK)
		sl_rows_free(rows, r->free);
	return (rc);
}

static enum store_rc
sl_exec_list(struct store *s, const struct store_query *q,
    struct store_exec ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	if ((rc = sl_list(SL(s), &sl_res_exec, q, &rows)) != STORE_OK)
		return (rc);
	SL_ROWS_TAKE(struct store_exec, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_task_list(struct store *s, const struct store_query *q,
    struct store_task ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	if ((rc = sl_list(SL(s), &sl_res_task, q, &rows)) != STORE_OK)
		return (rc);
	SL_ROWS_TAKE(struct store_task, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_action_list(struct store *s, const struct store_query *q,
    struct store_action ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	if ((rc = sl_list(SL(s), &sl_res_action, q, &rows)) != STORE_OK)
		return (rc);
	SL_ROWS_TAKE(struct store_action, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_message_list(struct store *s, const struct store_query *q,
    struct store_message ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	if ((rc = sl_list(SL(s), &sl_res_message, q, &rows)) != STORE_OK)
		return (rc);
	SL_ROWS_TAKE(struct store_message, &rows, out, n);
	return (STORE_OK);
}

/* Run a one-key delete in its own statement; NOTFOUND if none. */
static enum store_rc
sl_delete_one(struct store_sqlite *sl, const char *sql, const char *key,
    const char *what)
{
	sqlite3_stmt	*st;
	enum store_rc	 rc;
	int		 changes = 0;

	if ((st = sl_prepare(sl, sql)) == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, key);
	if ((rc = sl_write(sl, st, what, &changes)) != STORE_OK)
		return (rc);
	if (changes == 0) {
		store_set_error(&sl->s, "%s %s not found", what, key);
		return (STORE_NOTFOUND);
	}
	return (STORE_OK);
}

static enum store_rc
sl_message_delete(struct store *s, const char *id)
{
	return (sl_delete_one(SL(s), "DELETE FROM messages WHERE id = ?1", id,
	    "message"));
}

/* Delete up to batch messages expired at now. */
static enum store_rc
sl_message_reap(struct store *s, int64_t now, size_t batch, size_t *n)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	int			 changes = 0;

	st = sl_prepare(sl, "DELETE FROM messages WHERE id IN (SELECT id "
	    "FROM messages WHERE expires_at > 0 AND expires_at <= ?1 "
	    "ORDER BY expires_at LIMIT ?2)");
	if (st == NULL)
		return (STORE_ERROR);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, batch > 0 ? (int64_t)batch : -1);
	if ((rc = sl_write(sl, st, "reap messages", &changes)) != STORE_OK)
		return (rc);
	*n = (size_t)changes;
	return (STORE_OK);
}

/*
 * Delete a finished execution with its sub-executions (found through
 * their parent tasks, recursively) and every row under them.
 */
static enum store_rc
sl_exec_delete(struct store *s, const char *id)
{
	static const char *const deletes[] = {
		"DELETE FROM action_executions WHERE execution_id = ?1 OR "
		    "task_id IN (SELECT t.id FROM tasks t WHERE "
		    "t.execution_id = ?1)",
		"DELETE FROM tasks WHERE execution_id = ?1",
		"DELETE FROM work WHERE execution_id = ?1",
		"DELETE FROM locks WHERE execution_id = ?1",
		"DELETE FROM events WHERE execution_id = ?1",
		"DELETE FROM executions WHERE id = ?1"
	};
	struct store_sqlite	*sl = SL(s);
	struct store_exec	*e = NULL;
	struct sl_rows		 tree = { NULL, 0, 0 };
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	size_t			 i, j;

	if ((rc = sl_begin(sl)) != STORE_OK)
		return (rc);
	if ((rc = sl_exec_load(s, id, &e)) != STORE_OK)
		goto out;
	if (!store_state_final(e->state)) {
		store_set_error(s, "execution %s is %s, not finished", id,
		    e->state);
		rc = STORE_CONFLICT;
		goto out;
	}
	st = sl_prepare(sl, "WITH RECURSIVE tree(id) AS (SELECT ?1 UNION "
	    "SELECT e.id FROM executions e, tasks t, tree WHERE "
	    "t.execution_id = tree.id AND e.parent_task_id = t.id) "
	    "SELECT id FROM tree");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	bind_str(st, 1, id);
	if ((rc = sl_select(sl, st, read_text, &tree)) != STORE_OK)
		goto out;
	for (i = 0; i < tree.n; i++) {
		for (j = 0; j < nitems(deletes); j++) {
			if ((st = sl_prepare(sl, deletes[j])) == NULL) {
				rc = STORE_ERROR;
				goto out;
			}
			bind_str(st, 1, tree.v[i]);
			if ((rc = sl_write(sl, st, "delete execution",
			    NULL)) != STORE_OK)
				goto out;
		}
	}
	rc = sl_commit(sl);

out:
	if (rc != STORE_OK)
		sl_rollback(sl);
	sl_rows_free(&tree, free);
	store_exec_free(e);
	return (rc);
}

/* ---- leases and due work ----------------------------------------- */

/*
 * Claim unfinished executions: never claimed ones, released ones with
 * work due, and any whose lease expired (their engine died).
 */
static enum store_rc
sl_exec_claim(struct store *s, const char *owner, int64_t lease_ms,
    size_t limit, char ***ids, size_t *n)
{
	struct store_sqlite	*sl = SL(s);
	struct sl_rows		 rows = { NULL, 0, 0 };
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	int64_t			 now = time_now_ms();
	size_t			 i;

	if ((rc = sl_begin(sl)) != STORE_OK)
		return (rc);
	st = sl_prepare(sl, "SELECT id FROM executions e WHERE state NOT IN "
	    "('SUCCESS', 'ERROR', 'CANCELLED') AND ((owner IS NULL AND "
	    "(lease_until = 0 OR EXISTS (SELECT 1 FROM work w WHERE "
	    "w.execution_id = e.id AND w.due_at <= ?1))) OR (owner IS NOT "
	    "NULL AND lease_until <= ?1)) ORDER BY created_at, id LIMIT ?2");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, limit > 0 ? (int64_t)limit : -1);
	if ((rc = sl_select(sl, st, read_text, &rows)) != STORE_OK)
		goto out;
	st = sl_prepare(sl, "UPDATE executions SET owner = ?1, "
	    "lease_until = ?2 WHERE id = ?3");
	if (st == NULL) {
		rc = STORE_ERROR;
		goto out;
	}
	for (i = 0; i < rows.n; i++) {
		bind_str(st, 1, owner);
		sqlite3_bind_int64(st, 2, now + lease_ms);
		bind_str(st, 3, rows.v[i]);
		if ((rc = sl_write(sl, st, "claim", NULL)) != STORE_OK)
			goto out;
	}
	rc = sl_commit(sl);

out:
	if (rc != STORE_OK) {
		sl_rollback(sl);
		sl_rows_free(&rows, free);
		return (rc);
	}
	SL_ROWS_TAKE(char, &rows, ids, n);
	return (STORE_OK);
}

/* Extend every lease owner holds. */
static enum store_rc
sl_exec_renew(struct store *s, const char *owner, int64_t lease_ms)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;

	st = sl_prepare(sl, "UPDATE executions SET lease_until = ?1 "
	    "WHERE owner = ?2");
	if (st == NULL)
		return (STORE_ERROR);
	sqlite3_bind_int64(st, 1, time_now_ms() + lease_ms);
	bind_str(st, 2, owner);
	return (sl_write(sl, st, "renew", NULL));
}

/* Give up one lease; CONFLICT when owner does not hold it. */
static enum store_rc
sl_exec_release(struct store *s, const char *id, const char *owner)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	enum store_rc		 rc;
	int			 changes = 0;

	/*
	 * A running execution given back is claimed again at once (as if
	 * never claimed); a paused one only when work comes for it.
	 */
	st = sl_prepare(sl, "UPDATE executions SET owner = NULL, "
	    "lease_until = CASE WHEN state = 'RUNNING' THEN 0 ELSE ?1 END "
	    "WHERE id = ?2 AND owner = ?3");
	if (st == NULL)
		return (STORE_ERROR);
	sqlite3_bind_int64(st, 1, time_now_ms());
	bind_str(st, 2, id);
	bind_str(st, 3, owner);
	if ((rc = sl_write(sl, st, "release", &changes)) != STORE_OK)
		return (rc);
	if (changes == 0) {
		store_set_error(s, "execution %s is not leased by %s", id,
		    owner);
		return (STORE_CONFLICT);
	}
	return (STORE_OK);
}

static enum store_rc
sl_work_rows(struct store_sqlite *sl, sqlite3_stmt *st,
    struct store_work ***out, size_t *n)
{
	struct sl_rows	 rows = { NULL, 0, 0 };
	enum store_rc	 rc;

	if ((rc = sl_select(sl, st, read_work, &rows)) != STORE_OK) {
		sl_rows_free(&rows, sl_free_work);
		return (rc);
	}
	SL_ROWS_TAKE(struct store_work, &rows, out, n);
	return (STORE_OK);
}

static enum store_rc
sl_work_due(struct store *s, const char *execution_id, int64_t now,
    struct store_work ***out, size_t *n)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;

	st = sl_prepare(sl, "SELECT " WORK_COLS " FROM work WHERE "
	    "execution_id = ?1 AND due_at <= ?2 ORDER BY due_at, id");
	if (st == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, execution_id);
	sqlite3_bind_int64(st, 2, now);
	return (sl_work_rows(sl, st, out, n));
}

static enum store_rc
sl_work_load(struct store *s, const char *execution_id,
    struct store_work ***out, size_t *n)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;

	st = sl_prepare(sl, "SELECT " WORK_COLS " FROM work WHERE "
	    "execution_id = ?1 ORDER BY due_at, id");
	if (st == NULL)
		return (STORE_ERROR);
	bind_str(st, 1, execution_id);
	return (sl_work_rows(sl, st, out, n));
}

/* Earliest due work of executions owner holds or could claim. */
static int64_t
sl_work_next_due(struct store *s, const char *owner)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	int64_t			 v = 0;

	st = sl_prepare(sl, "SELECT MIN(w.due_at) FROM work w, executions e "
	    "WHERE e.id = w.execution_id AND (e.owner IS NULL OR "
	    "e.owner = ?1 OR e.lease_until <= ?2)");
	if (st == NULL)
		return (0);
	bind_str(st, 1, owner);
	sqlite3_bind_int64(st, 2, time_now_ms());
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return (v);
}

static void
sl_notify(struct store *s, const char *channel)
{
}

static int
sl_wait(struct store *s, int timeout_ms)
{
	return (0);
}

/* Rows by state of executions, tasks or action_executions. */
static enum store_rc
sl_count_by_state(struct store *s, const char *table, json_t **out)
{
	struct store_sqlite	*sl = SL(s);
	sqlite3_stmt		*st;
	json_t			*o;
	const char		*sql;
	int			 rc;

	if (strcmp(table, "executions") == 0)
		sql = "SELECT state, COUNT(*) FROM executions GROUP BY state";
	else if (strcmp(table, "tasks") == 0)
		sql = "SELECT state, COUNT(*) FROM tasks GROUP BY state";
	else if (strcmp(table, "action_executions") == 0)
		sql = "SELECT state, COUNT(*) FROM action_executions "
		    "GROUP BY state";
	else {
		store_set_error(s, "cannot count %s", table);
		return (STORE_ERROR);
	}
	if ((st = sl_prepare(sl, sql)) == NULL)
		return (STORE_ERROR);
	o = json_object();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
		    json_integer(sqlite3_column_int64(st, 1)));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(o);
		return (sl_error(sl, rc, "count"));
	}
	*out = o;
	return (STORE_OK);
}

const struct store_methods store_sqlite_methods = {
	.version = 1,
	.name = "sqlite",
	.open = sl_open,
	.close = sl_close,
	.ping = sl_ping,
	.now = sl_now,
	.commit_many = sl_commit_many,
	.def_save = sl_def_save,
	.def_load = sl_def_load,
	.def_load_current = sl_def_load_current,
	.def_list_current = sl_def_list_current,
	.def_generation = sl_def_generation,
	.workflow_save = sl_workflow_save,
	.workflow_load = sl_workflow_load,
	.workflow_delete = sl_workflow_delete,
	.exec_load = sl_exec_load,
	.tasks_load = sl_tasks_load,
	.task_load = sl_task_load,
	.actions_load = sl_actions_load,
	.action_load = sl_action_load,
	.events_load = sl_events_load,
	.exec_children = sl_exec_children,
	.lock_owner = sl_lock_owner,
	.exec_list = sl_exec_list,
	.task_list = sl_task_list,
	.action_list = sl_action_list,
	.message_list = sl_message_list,
	.message_delete = sl_message_delete,
	.message_reap = sl_message_reap,
	.exec_delete = sl_exec_delete,
	.exec_claim = sl_exec_claim,
	.exec_renew = sl_exec_renew,
	.exec_release = sl_exec_release,
	.work_due = sl_work_due,
	.work_load = sl_work_load,
	.work_next_due = sl_work_next_due,
	.notify = sl_notify,
	.wait = sl_wait,
	.count_by_state = sl_count_by_state
};
