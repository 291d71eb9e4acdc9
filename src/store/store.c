/*
 * store.c -- the store's generic verbs, the same for every table and
 * backend: open by URL and migrate, run a statement and collect its
 * rows, list with filters and pages, apply change sets, notify, wait,
 * close.  Also errors and JSON columns.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

/* Name of a result code, for logs and errors. */
const char *
store_rc_name(enum store_rc rc)
{
	static const char *const names[] = {
		[STORE_OK] = "ok", [STORE_NOTFOUND] = "not found",
		[STORE_CONFLICT] = "conflict",
		[STORE_UNAVAILABLE] = "unavailable", [STORE_ERROR] = "error"
	};

	if ((size_t)rc >= nitems(names))
		return ("unknown");
	return (names[rc]);
}

/* Set the connection's last error text. */
void
store_set_error(struct store *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->errbuf, sizeof s->errbuf, fmt, ap);
	va_end(ap);
}

/* Last error text of this connection (borrowed). */
const char *
store_error(struct store *s)
{
	return (s->errbuf);
}

/* Name of the backend. */
const char *
store_backend(struct store *s)
{
	return (s->m->name);
}

/* ---- opening --------------------------------------------------------- */

/* Open a store by URL scheme. */
struct store *
store_open(const char *url, char **cause)
{
	const struct store_methods	*m;
	struct store			*s;

	*cause = NULL;
	if (url == NULL || *url == '\0') {
		xasprintf(cause, "empty store URL");
		return (NULL);
	}
	if (strncmp(url, "sqlite:", 7) == 0)
		m = &store_sqlite_methods;
	else if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		m = &store_pg_methods;
	else {
		xasprintf(cause, "unknown store URL scheme: %s (use sqlite:PATH"
		    " or postgresql://...)", url);
		return (NULL);
	}
	if (m->version < 2) {
		xasprintf(cause, "store backend %s: method table version %d",
		    m->name, m->version);
		return (NULL);
	}
	store_init();
	if ((s = m->open(url, cause)) == NULL)
		return (NULL);
	s->errbuf[0] = '\0';
	return (s);
}

/* Close a store; NULL is a no-op. */
void
store_close(struct store *s)
{
	if (s != NULL)
		s->m->close(s);
}

/* One step of a migration; its error prefixed with what. */
static int
store_migrate_step(struct store *s, const char *sql, int64_t *value,
    const char *what, char **cause)
{
	char	*err = NULL;

	if (s->m->script(s, sql, value, &err) == 0)
		return (0);
	xasprintf(cause, "%s: %s", what, err);
	free(err);
	return (-1);
}

#define STORE_MIGRATION_MAX	100000	/* versions are below */
#define STORE_SCHEMA_TABLE	"CREATE TABLE IF NOT EXISTS schema_version " \
	"(version integer PRIMARY KEY, name text NOT NULL, applied_at bigint " \
	"NOT NULL)"

/*
 * Whether the database has every migration of mg and none newer than
 * known: one read, no lock, as at almost every start.  0 when one is
 * due or the read fails; the caller then takes the lock and looks at
 * each.
 */
static int
store_migrated(struct store *s, const struct store_migration *mg, int known)
{
	const struct store_migration	*m;
	struct buf			 b;
	int64_t				 v = -1;
	char				*err = NULL;
	size_t				 n = 0;
	int				 ok;

	buf_init(&b, 0);
	buf_puts(&b, "SELECT (SELECT count(*) FROM schema_version WHERE "
	    "version IN (");
	for (m = mg; m->sql != NULL; m++)
		buf_printf(&b, "%s%d", n++ > 0 ? ", " : "", m->version);
	buf_printf(&b, ")) * %d + (SELECT COALESCE(max(version), 0) FROM "
	    "schema_version)", STORE_MIGRATION_MAX);
	ok = s->m->script(s, STORE_SCHEMA_TABLE, NULL, &err) == 0 &&
	    s->m->script(s, b.data, &v, &err) == 0 &&
	    v / STORE_MIGRATION_MAX == (int64_t)n &&
	    v % STORE_MIGRATION_MAX <= known;
	free(err);
	buf_free(&b);
	return (ok);
}

/*
 * Apply the migrations the database lacks, in one transaction that begin
 * opens (and locks, so that engines starting together do not race).  A
 * database whose schema is newer than this binary knows is refused.
 * Each migration is applied unless its version is recorded, so one
 * numbered below the newest applied (merged later) is applied too.
 */
int
store_migrate(struct store *s, const struct store_migration *mg,
    const char *begin, char **cause)
{
	const struct store_migration	*m;
	int64_t				 cur = 0, done;
	char				*sql, *what;
	int				 known = 0, rc;

	for (m = mg; m->sql != NULL; m++)
		known = m->version;
	if (store_migrated(s, mg, known))
		return (0);
	if (store_migrate_step(s, begin, NULL, "schema", cause) != 0)
		return (-1);
	if (store_migrate_step(s, STORE_SCHEMA_TABLE, NULL, "schema",
	    cause) != 0 ||
	    store_migrate_step(s, "SELECT COALESCE(max(version), 0) FROM "
	    "schema_version", &cur, "schema", cause) != 0)
		goto fail;
	if (cur > known) {
		xasprintf(cause, "database schema version %lld is newer than "
		    "this version of bora knows (%d): upgrade bora",
		    (long long)cur, known);
		goto fail;
	}
	for (m = mg; m->sql != NULL; m++) {
		xasprintf(&sql, "SELECT count(*) FROM schema_version WHERE "
		    "version = %d", m->version);
		rc = store_migrate_step(s, sql, &done, "schema", cause);
		free(sql);
		if (rc != 0)
			goto fail;
		if (done > 0)
			continue;
		/* The names come from our own files: no quotes in them. */
		xasprintf(&sql, "%s;\nINSERT INTO schema_version (version, "
		    "name, applied_at) VALUES (%d, '%s', bora_now_ms())",
		    m->sql, m->version, m->name);
		xasprintf(&what, "schema migration %s", m->name);
		rc = store_migrate_step(s, sql, NULL, what, cause);
		free(what);
		free(sql);
		if (rc != 0)
			goto fail;
	}
	return (store_migrate_step(s, "COMMIT", NULL, "schema", cause));

fail:
	sql = NULL;
	(void)s->m->script(s, "ROLLBACK", NULL, &sql);
	free(sql);
	return (-1);
}

/* ---- running statements ---------------------------------------------- */

/* Values from a format: 's' text, 'i' int64_t, 'n' NULL. */
static size_t
store_vargs(struct store_value *v, size_t max, const char *fmt, va_list ap)
{
	size_t	 n;

	for (n = 0; fmt[n] != '\0'; n++) {
		if (n == max)
			fatalx("%s: too many values", __func__);
		if (fmt[n] == 's')
			store_value_text(&v[n], va_arg(ap, const char *));
		else if (fmt[n] == 'i')
			store_value_int(&v[n], va_arg(ap, int64_t));
		else
			store_value_null(&v[n]);
	}
	return (n);
}

/*
 * Run a statement with values given by fmt (see store_vargs) and add the
 * rows it returns, of shape (NULL: the statement's table), to rows.
 */
enum store_rc
store_run(struct store *s, const struct store_sql *q,
    const struct store_table *shape, struct store_rows *rows,
    const char *fmt, ...)
{
	struct store_value	 v[8];
	enum store_rc		 rc;
	va_list			 ap;
	size_t			 n;

	va_start(ap, fmt);
	n = store_vargs(v, nitems(v), fmt, ap);
	va_end(ap);
	rc = s->m->load(s, q, v, n, shape != NULL ? shape : q->from, rows);
	store_values_free(v, n);
	if (rc != STORE_OK)
		store_rows_free(rows, shape != NULL ? shape : q->from);
	return (rc);
}

/* Hand collected rows to a typed out-parameter (T ***out). */
void
store_rows_take(struct store_rows *rows, void *out, size_t *n)
{
	memcpy(out, &rows->v, sizeof rows->v);
	*n = rows->n;
	memset(rows, 0, sizeof *rows);
}

/*
 * The first row a statement returns into *out (T **), the rest freed;
 * NOTFOUND and "<what> <key> not found" when it returns none.
 */
enum store_rc
store_run_one(struct store *s, const struct store_sql *q, void *out,
    const char *key, const char *fmt, ...)
{
	struct store_value	 v[8];
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;
	va_list			 ap;
	size_t			 n, i;

	va_start(ap, fmt);
	n = store_vargs(v, nitems(v), fmt, ap);
	va_end(ap);
	rc = s->m->load(s, q, v, n, q->from, &rows);
	store_values_free(v, n);
	if (rc == STORE_OK && rows.n == 0) {
		store_set_error(s, "%s %s not found", q->what, key);
		rc = STORE_NOTFOUND;
	}
	if (rc == STORE_OK) {
		memcpy(out, &rows.v[0], sizeof rows.v[0]);
		for (i = 1; i < rows.n; i++)
			store_row_free(q->from, rows.v[i]);
		free(rows.v);
	} else
		store_rows_free(&rows, q->from);
	return (rc);
}

/* A statement returning one integer (NULL: 0); -1 when it fails. */
int64_t
store_run_int(struct store *s, const struct store_sql *q, const char *fmt,
    ...)
{
	struct store_value	 v[8];
	struct store_rows	 rows = { NULL, 0, 0 };
	va_list			 ap;
	size_t			 n;
	int64_t			 r = -1;

	va_start(ap, fmt);
	n = store_vargs(v, nitems(v), fmt, ap);
	va_end(ap);
	if (s->m->load(s, q, v, n, &store_int_shape, &rows) == STORE_OK)
		r = rows.n > 0 ? ((struct store_int *)rows.v[0])->v : 0;
	store_values_free(v, n);
	store_rows_free(&rows, &store_int_shape);
	return (r);
}

/*
 * List rows of table t for the API (see store.h).  An empty page after a
 * marker says whether the marker row exists at all.
 */
enum store_rc
store_rows_list(struct store *s, const struct store_table *t,
    const struct store_query *q, void *out, size_t *n)
{
	const struct store_dialect	*d = s->m->dialect;
	struct store_sql		 sql = STORE_SQL(NULL, 0, "list");
	struct store_sql		 mk = STORE_SQL(NULL, 0, "marker");
	struct store_rows		 rows = { NULL, 0, 0 };
	struct store_value		*v = NULL;
	struct buf			 b;
	enum store_rc			 rc = STORE_ERROR;
	size_t				 nv = 0;
	char				*text;

	memset(out, 0, sizeof rows.v);
	*n = 0;
	buf_init(&b, 0);
	if (store_list_sql(s, t, q, d, &b, &v, &nv) != 0)
		goto out;
	sql.text[d->index] = b.data;
	if ((rc = s->m->load(s, &sql, v, nv, t, &rows)) != STORE_OK)
		goto out;
	if (rows.n == 0 && q->marker != NULL) {
		xasprintf(&text, "SELECT 1 FROM %s WHERE id = %c1", t->name,
		    d->param);
		mk.text[d->index] = text;
		rc = s->m->load(s, &mk, v, 1, &store_int_shape, &rows);
		free(text);
		if (rc == STORE_OK && rows.n == 0) {
			store_set_error(s, "marker %s not found", q->marker);
			rc = STORE_NOTFOUND;
		}
		store_rows_free(&rows, &store_int_shape);
	}
	if (rc == STORE_OK)
		store_rows_take(&rows, out, n);

out:
	store_rows_free(&rows, t);
	store_values_free(v, nv);
	free(v);
	buf_free(&b);
	return (rc);
}

/* ---- change sets ----------------------------------------------------- */

/* Create an empty change set. */
struct store_tx *
store_tx_create(void)
{
	return (xcalloc(1, sizeof(struct store_tx)));
}

/* Free a change set and the values it holds. */
void
store_tx_free(struct store_tx *tx)
{
	size_t	 i;

	if (tx == NULL)
		return;
	for (i = 0; i < tx->n; i++) {
		store_values_free(tx->ops[i].v, tx->ops[i].nv);
		free(tx->ops[i].v);
		if (tx->ops[i].table != NULL)
			store_row_free(tx->ops[i].table, tx->ops[i].row);
		free(tx->ops[i].expect);
		free(tx->ops[i].gmsg);
	}
	free(tx->ops);
	free(tx);
}

/* Number of operations recorded. */
size_t
store_tx_size(const struct store_tx *tx)
{
	return (tx->n);
}

/*
 * Move every operation of src to the end of dst, in order; src is left
 * empty.  Several steps of one execution then commit all or nothing.
 */
void
store_tx_append(struct store_tx *dst, struct store_tx *src)
{
	if (src->n == 0)
		return;
	if (dst->n + src->n > dst->cap) {
		dst->cap = dst->n + src->n;
		dst->ops = xreallocarray(dst->ops, dst->cap, sizeof *dst->ops);
	}
	memcpy(dst->ops + dst->n, src->ops, src->n * sizeof *src->ops);
	dst->n += src->n;
	src->n = 0;
}

/* Record a statement with text values a and b (b NULL: one value). */
struct store_op *
store_tx_text(struct store_tx *tx, const struct store_sql *q, const char *a,
    const char *b)
{
	struct store_op	*op;

	op = store_tx_add(tx, q, b != NULL ? 2 : 1);
	store_value_text(&op->v[0], a);
	if (b != NULL)
		store_value_text(&op->v[1], b);
	return (op);
}

/*
 * Every row a statement returns for one text key (NULL: a statement
 * without parameters), into *out (T ***).
 */
enum store_rc
store_load_rows(struct store *s, const struct store_sql *q, const char *key,
    void *out, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	memset(out, 0, sizeof(void *));
	*n = 0;
	if (key != NULL)
		rc = store_run(s, q, NULL, &rows, "s", key);
	else
		rc = store_run(s, q, NULL, &rows, "");
	if (rc == STORE_OK)
		store_rows_take(&rows, out, n);
	return (rc);
}

/* Append an operation running q with nv zeroed values. */
struct store_op *
store_tx_add(struct store_tx *tx, const struct store_sql *q, size_t nv)
{
	struct store_op	*op;

	if (tx->n == tx->cap) {
		tx->cap = tx->cap == 0 ? 8 : tx->cap * 2;
		tx->ops = xreallocarray(tx->ops, tx->cap, sizeof *tx->ops);
	}
	op = &tx->ops[tx->n++];
	memset(op, 0, sizeof *op);
	op->sql = q;
	op->nv = nv;
	op->v = nv > 0 ? xcalloc(nv, sizeof *op->v) : NULL;
	return (op);
}

/* Does any change set write rows other engines should hear about? */
int
store_tx_wakes(struct store_tx **txs, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < txs[i]->n; j++) {
			if (txs[i]->ops[j].sql->flags & STORE_WAKE)
				return (1);
		}
	}
	return (0);
}

/* Apply one change set: commit_many of one. */
enum store_rc
store_tx_commit(struct store *s, struct store_tx *tx)
{
	enum store_rc	 rc;

	return (store_tx_commit_many(s, &tx, 1, &rc));
}

/* Apply several change sets in one transaction, each all-or-nothing. */
enum store_rc
store_tx_commit_many(struct store *s, struct store_tx **txs, size_t n,
    enum store_rc *rcs)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		rcs[i] = STORE_OK;
	for (i = 0; i < n && txs[i]->n == 0; i++)
		;
	if (i == n)
		return (STORE_OK);	/* nothing to write */
	return (s->m->apply(s, txs, n, rcs));
}

/* ---- wake-ups -------------------------------------------------------- */

/* Wake up engines waiting on channel (NULL: the default one). */
void
store_notify(struct store *s, const char *channel)
{
	if (s->m->notify != NULL)
		s->m->notify(s, channel);
}

/* Wait up to timeout_ms for a notification; 1 when notified. */
int
store_wait(struct store *s, int timeout_ms)
{
	return (s->m->wait != NULL ? s->m->wait(s, timeout_ms) : 0);
}

/* The caller has had nothing to do for a while (see store.h). */
void
store_idle(struct store *s)
{
	if (s->m->version >= 3 && s->m->idle != NULL)
		s->m->idle(s);
}

/* ---- JSON columns ---------------------------------------------------- */

/* JSON value to column text; NULL for NULL (json null gives "null"). */
char *
store_json_text(json_t *j)
{
	char	*s;

	if (j == NULL)
		return (NULL);
	s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (s == NULL)
		fatalx("%s: cannot encode JSON", __func__);
	return (s);
}

/* Column text to JSON value; text that does not parse stays a string. */
json_t *
store_json_parse(const char *s)
{
	json_t		*j;
	json_error_t	 err;

	if (s == NULL)
		return (NULL);
	j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (j == NULL)
		j = json_string(s);
	return (j);
}
