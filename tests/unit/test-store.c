/*
 * test-store.c -- the store's guarantees, run against the database named
 * by BORA_TEST_DB (default "sqlite::memory:").  The tests use fresh
 * identifiers and names, so the same file runs against a shared
 * PostgreSQL database ("postgresql://...") as well.
 */
#include "config.h"

#include <sys/stat.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store-int.h"

static const char *
test_url(void)
{
	const char	*url = getenv("BORA_TEST_DB");

	return (url != NULL && *url != '\0' ? url : "sqlite::memory:");
}

static int
is_sqlite(void)
{
	return (strncmp(test_url(), "sqlite:", 7) == 0);
}

/* Open the test database for one test. */
static int
setup(void **state)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(test_url(), &cause);
	if (s == NULL) {
		fprintf(stderr, "store_open %s: %s\n", test_url(), cause);
		free(cause);
		return (-1);
	}
	*state = s;
	return (0);
}

static int
teardown(void **state)
{
	store_close(*state);
	return (0);
}

/* A fresh execution row with every field set. */
static struct store_exec *
make_exec(const char *state)
{
	struct store_exec	*e;

	e = xcalloc(1, sizeof *e);
	uuid_make(e->id);
	e->workflow_name = xstrdup("wf_test");
	uuid_make(e->workflow_id);
	uuid_make(e->def_id);
	e->state = xstrdup(state);
	return (e);
}

static struct store_task *
make_task(const char *execution_id, const char *name, const char *state)
{
	struct store_task	*t;

	t = xcalloc(1, sizeof *t);
	uuid_make(t->id);
	snprintf(t->execution_id, sizeof t->execution_id, "%s", execution_id);
	t->name = xstrdup(name);
	t->state = xstrdup(state);
	t->type = xstrdup("ACTION");
	return (t);
}

static struct store_action *
make_action(const char *execution_id, const char *task_id, const char *name)
{
	struct store_action	*a;

	a = xcalloc(1, sizeof *a);
	uuid_make(a->id);
	a->task_id = task_id != NULL ? xstrdup(task_id) : NULL;
	a->execution_id = xstrdup(execution_id);
	a->name = xstrdup(name);
	a->state = xstrdup(ST_RUNNING);
	a->item = -1;
	return (a);
}

/* Commit one change set and free it; returns the result. */
static enum store_rc
commit(struct store *s, struct store_tx *tx)
{
	enum store_rc	 rc;

	rc = store_tx_commit(s, tx);
	store_tx_free(tx);
	return (rc);
}

static void
insert_exec(struct store *s, struct store_exec *e)
{
	struct store_tx	*tx = store_tx_create();

	store_tx_exec_insert(tx, e);
	assert_int_equal(commit(s, tx), STORE_OK);
}

static void
insert_task(struct store *s, struct store_task *t)
{
	struct store_tx	*tx = store_tx_create();

	store_tx_task_insert(tx, t);
	assert_int_equal(commit(s, tx), STORE_OK);
}

static void
assert_json_same(json_t *a, json_t *b)
{
	if (a == NULL || b == NULL) {
		assert_null(a);
		assert_null(b);
		return;
	}
	assert_true(json_equal(a, b));
}

/* ---- opening and schema ------------------------------------------ */

static void
test_open_unknown_scheme_is_refused(void **state)
{
	char	*cause = NULL;

	assert_null(store_open("mysql://x", &cause));
	assert_non_null(strstr(cause, "unknown store URL scheme"));
	free(cause);
	assert_null(store_open("sqlite:/tmp/x?sync=sometimes", &cause));
	assert_non_null(strstr(cause, "sync=full"));
	free(cause);
}

static void
test_reopen_is_idempotent(void **state)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(test_url(), &cause);
	assert_non_null(s);
	assert_int_equal(store_ping(s), STORE_OK);
	assert_true(store_now(s) > 0);
	store_close(s);
}

static int
count_migrations(void)
{
	const struct store_migration	*m;
	int				 n = 0;

	for (m = store_sqlite_migrations; m->sql != NULL; m++)
		n++;
	return (n);
}

static void
test_sqlite_file_migrations_and_newer_schema_refused(void **state)
{
	struct store	*s;
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 path[] = "/tmp/bora-test-store-XXXXXX";
	char		*url, *cause = NULL, *wal;
	int		 fd, n;

	if (!is_sqlite())
		skip();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	xasprintf(&url, "sqlite:%s", path);

	s = store_open(url, &cause);
	assert_non_null(s);
	store_close(s);
	s = store_open(url, &cause);
	assert_non_null(s);
	assert_string_equal(store_backend(s), "sqlite");
	store_close(s);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*), "
	    "MAX(version) FROM schema_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	assert_int_equal(n, count_migrations());
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES "
	    "(9999, '9999-future', 0)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_null(store_open(url, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "newer"));
	assert_non_null(strstr(cause, "9999"));
	free(cause);

	free(url);
	unlink(path);
	xasprintf(&wal, "%s-wal", path);
	unlink(wal);
	free(wal);
	xasprintf(&wal, "%s-shm", path);
	unlink(wal);
	free(wal);
}

/*
 * A reader that outlasts a log restart's wait makes one commit wait for
 * it, not every commit after it (each would wait 100 ms: 3 s for 30);
 * once the reader is gone and the back-off over, the log starts again
 * and its file is cut back to the limit.
 */
static void
test_sqlite_long_reader_does_not_stall_commits(void **state)
{
	struct store		*s;
	struct store_exec	*e;
	sqlite3			*w, *r;
	sqlite3_stmt		*st;
	struct stat		 sb;
	char			 path[] = "/tmp/bora-test-store-XXXXXX";
	char			*url, *cause = NULL, *wal;
	int64_t			 t0;
	int			 fd, i;

	(void)state;
	if (!is_sqlite())
		skip();
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	xasprintf(&url, "sqlite:%s", path);
	xasprintf(&wal, "%s-wal", path);
	assert_non_null(s = store_open(url, &cause));

	/* A reader holding an old snapshot, then 24 MB of log after it. */
	assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, "PRAGMA wal_autocheckpoint = 0; "
	    "CREATE TABLE filler (x blob)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_open(path, &r), SQLITE_OK);
	assert_int_equal(sqlite3_exec(r, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(r, "SELECT count(*) FROM filler",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(w, "WITH RECURSIVE n(i) AS (SELECT 1 "
	    "UNION ALL SELECT i + 1 FROM n WHERE i < 6000) INSERT INTO filler "
	    "SELECT randomblob(4000) FROM n", NULL, NULL, NULL), SQLITE_OK);

	t0 = time_mono_ms();
	for (i = 0; i < 30; i++) {
		e = make_exec(ST_RUNNING);
		insert_exec(s, e);
		store_exec_free(e);
	}
	if (time_mono_ms() - t0 >= 1500)
		fail_msg("30 commits took %lld ms behind a long reader",
		    (long long)(time_mono_ms() - t0));

	/* The reader gone and the back-off over: the log starts again. */
	assert_int_equal(sqlite3_exec(r, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(r);
	sqlite3_close(w);
	usleep(1100 * 1000);
	/* One commit restarts the log, the next writes from its start. */
	for (i = 0; i < 2; i++) {
		e = make_exec(ST_RUNNING);
		insert_exec(s, e);
		store_exec_free(e);
	}
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size <= 16 * 1024 * 1024);
	store_close(s);
	unlink(path);
	free(wal);
	free(url);
}

/*
 * An up-to-date database is not migrated again (a migration run twice
 * would fail: its table exists); one added later is applied, and so is
 * one numbered below the newest applied.
 */
static void
test_migrations_only_what_is_missing(void **state)
{
	struct store			*s = *state;
	const struct store_migration	*all = is_sqlite() ?
					    store_sqlite_migrations :
					    store_pg_migrations;
	const char			*begin = is_sqlite() ?
					    "BEGIN IMMEDIATE" : "BEGIN";
	struct store_migration		*mg;
	size_t				 n = 0, i;
	char				*cause = NULL;
	int64_t				 v = 0;

	while (all[n].sql != NULL)
		n++;
	mg = xcalloc(n + 3, sizeof *mg);
	for (i = 0; i < n; i++)
		mg[i] = all[i];
	mg[n].version = 998;
	mg[n].name = "998-test";
	mg[n].sql = "CREATE TABLE test_998 (x integer)";
	assert_int_equal(store_migrate(s, mg, begin, &cause), 0);
	assert_int_equal(store_migrate(s, mg, begin, &cause), 0);
	mg[n + 1] = mg[n];
	mg[n].version = 997;
	mg[n].name = "997-test";
	mg[n].sql = "CREATE TABLE test_997 (x integer)";
	assert_int_equal(store_migrate(s, mg, begin, &cause), 0);
	assert_int_equal(s->m->script(s, "SELECT count(*) FROM schema_version "
	    "WHERE version IN (997, 998)", &v, &cause), 0);
	assert_int_equal(v, 2);
	assert_int_equal(s->m->script(s, "SELECT count(*) FROM test_997",
	    &v, &cause), 0);
	assert_int_equal(store_migrate(s, mg, begin, &cause), 0);
	free(mg);
	/* The database is shared with the next tests. */
	assert_int_equal(s->m->script(s, "DELETE FROM schema_version WHERE "
	    "version IN (997, 998); DROP TABLE test_997; DROP TABLE test_998",
	    NULL, &cause), 0);
}

/* ---- rows round-trip -------------------------------------------- */

static void
test_exec_roundtrips_every_field(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e, *l;

	e = make_exec(ST_RUNNING);
	e->parent_task_id = xstrdup("parent-task");
	e->root_id = xstrdup("root-exec");
	e->state_info = xstrdup("héllo wörld ☃ \"quoted\" 'single'");
	e->input = json_null();			/* JSON null, not absent */
	e->output = NULL;			/* absent */
	e->params = json_pack("{s:s,s:{s:i}}", "task_name", "ünïcode ✓",
	    "env", "x", 1);
	e->context = json_pack("[i,f,b,n,s]", 1, 2.5, 1, "text\nnewline");
	e->description = xstrdup("desc");
	e->request_id = xstrdup("req-1");
	e->owner = xstrdup("engine-a");
	e->lease_until = 1234567;
	e->created_at = 1700000000123;
	e->updated_at = 1700000000456;
	insert_exec(s, e);

	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->id, e->id);
	assert_string_equal(l->workflow_name, e->workflow_name);
	assert_string_equal(l->workflow_id, e->workflow_id);
	assert_string_equal(l->def_id, e->def_id);
	assert_string_equal(l->parent_task_id, e->parent_task_id);
	assert_string_equal(l->root_id, e->root_id);
	assert_string_equal(l->state, e->state);
	assert_string_equal(l->state_info, e->state_info);
	assert_non_null(l->input);
	assert_true(json_is_null(l->input));
	assert_null(l->output);
	assert_json_same(l->params, e->params);
	assert_json_same(l->context, e->context);
	assert_string_equal(l->description, e->description);
	assert_string_equal(l->request_id, e->request_id);
	assert_string_equal(l->owner, e->owner);
	assert_int_equal(l->lease_until, e->lease_until);
	assert_int_equal(l->created_at, e->created_at);
	assert_int_equal(l->updated_at, e->updated_at);
	store_exec_free(l);

	assert_int_equal(store_exec_load(s, "no-such-id", &l), STORE_NOTFOUND);
	assert_null(l);
	store_exec_free(e);
}

static void
test_task_action_work_event_message_roundtrip(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e;
	struct store_task	*t, *lt, **tv;
	struct store_action	*a, *la, **av;
	struct store_work	 w, **wv;
	struct store_event	 ev, **evv;
	struct store_message	 m, **mv;
	struct store_tx		*tx;
	struct store_filter	 f;
	struct store_query	 q;
	size_t			 n;

	e = make_exec(ST_RUNNING);
	insert_exec(s, e);

	t = make_task(e->id, "tâsk", ST_RUNNING);
	t->state_info = xstrdup("info");
	t->in_context = json_pack("{s:s}", "k", "v");
	t->published = json_null();
	t->result = json_pack("{s:[i,i]}", "r", 1, 2);
	t->runtime = json_pack("{s:i}", "retry_no", 2);
	t->seq = 7;
	t->created_at = 1000;
	t->started_at = 1100;
	t->finished_at = 0;
	t->updated_at = 1200;

	a = make_action(e->id, t->id, "std.echo");
	a->state_info = xstrdup("a-info");
	a->input = json_pack("{s:s}", "output", "✓");
	a->output = json_null();
	a->attempt = 2;
	a->item = 3;
	a->is_async = 1;
	a->request_id = xstrdup("req-a");
	a->created_at = 2000;
	a->updated_at = 2001;

	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, sizeof w.execution_id, "%s", e->id);
	w.task_id = t->id;
	w.kind = "retry";
	w.due_at = 5000;
	w.payload = json_pack("{s:b}", "x", 0);

	memset(&ev, 0, sizeof ev);
	snprintf(ev.execution_id, sizeof ev.execution_id, "%s", e->id);
	ev.task_id = t->id;
	ev.task_name = t->name;
	ev.time = 3000;
	ev.progress = 0.5;
	ev.message = "half way ½";
	ev.level = "info";
	ev.request_id = "req-e";

	memset(&m, 0, sizeof m);
	uuid_make(m.id);
	m.event_id = "EXECUTION_FAILED";
	m.message = "it failed ✗";
	m.request_id = "req-m";
	m.resource_type = "EXECUTION";
	m.resource_uuid = e->id;
	m.level = "ERROR";
	m.created_at = 4000;
	m.expires_at = 0;

	tx = store_tx_create();
	store_tx_task_insert(tx, t);
	store_tx_action_insert(tx, a);
	store_tx_work_insert(tx, &w);
	store_tx_event_insert(tx, &ev);
	store_tx_message_insert(tx, &m);
	assert_int_equal(store_tx_size(tx), 5);
	json_decref(w.payload);		/* the change set holds its own */
	w.payload = NULL;
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_task_load(s, t->id, &lt), STORE_OK);
	assert_string_equal(lt->execution_id, e->id);
	assert_string_equal(lt->name, "tâsk");
	assert_string_equal(lt->state, t->state);
	assert_string_equal(lt->state_info, t->state_info);
	assert_string_equal(lt->type, "ACTION");
	assert_json_same(lt->in_context, t->in_context);
	assert_true(json_is_null(lt->published));
	assert_json_same(lt->result, t->result);
	assert_json_same(lt->runtime, t->runtime);
	assert_int_equal(lt->seq, 7);
	assert_int_equal(lt->created_at, 1000);
	assert_int_equal(lt->started_at, 1100);
	assert_int_equal(lt->finished_at, 0);
	assert_int_equal(lt->updated_at, 1200);
	store_task_free(lt);

	assert_int_equal(store_tasks_load(s, e->id, &tv, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(tv[0]->id, t->id);
	store_task_free(tv[0]);
	free(tv);

	assert_int_equal(store_action_load(s, a->id, &la), STORE_OK);
	assert_string_equal(la->task_id, t->id);
	assert_string_equal(la->execution_id, e->id);
	assert_string_equal(la->name, "std.echo");
	assert_string_equal(la->state, ST_RUNNING);
	assert_string_equal(la->state_info, "a-info");
	assert_json_same(la->input, a->input);
	assert_true(json_is_null(la->output));
	assert_int_equal(la->attempt, 2);
	assert_int_equal(la->item, 3);
	assert_int_equal(la->is_async, 1);
	assert_string_equal(la->request_id, "req-a");
	assert_int_equal(la->created_at, 2000);
	assert_int_equal(la->updated_at, 2001);
	store_action_free(la);

	assert_int_equal(store_work_load(s, e->id, &wv, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_true(wv[0]->id > 0);
	assert_string_equal(wv[0]->execution_id, e->id);
	assert_string_equal(wv[0]->task_id, t->id);
	assert_string_equal(wv[0]->kind, "retry");
	assert_int_equal(wv[0]->due_at, 5000);
	assert_true(json_is_false(json_object_get(wv[0]->payload, "x")));
	store_work_free(wv[0]);
	free(wv);

	assert_int_equal(store_events_load(s, e->id, &evv, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(evv[0]->execution_id, e->id);
	assert_string_equal(evv[0]->task_id, t->id);
	assert_string_equal(evv[0]->task_name, "tâsk");
	assert_int_equal(evv[0]->time, 3000);
	assert_true(evv[0]->progress == 0.5);
	assert_string_equal(evv[0]->message, "half way ½");
	assert_string_equal(evv[0]->level, "info");
	assert_string_equal(evv[0]->request_id, "req-e");
	store_event_free(evv[0]);
	free(evv);

	f.field = "resource_uuid";
	f.op = NULL;
	f.value = e->id;
	memset(&q, 0, sizeof q);
	q.filters = &f;
	q.nfilters = 1;
	assert_int_equal(store_message_list(s, &q, &mv, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(mv[0]->id, m.id);
	assert_string_equal(mv[0]->event_id, m.event_id);
	assert_string_equal(mv[0]->message, m.message);
	assert_string_equal(mv[0]->request_id, m.request_id);
	assert_string_equal(mv[0]->resource_type, m.resource_type);
	assert_string_equal(mv[0]->level, m.level);
	assert_int_equal(mv[0]->created_at, 4000);
	assert_int_equal(mv[0]->expires_at, 0);
	store_message_free(mv[0]);
	free(mv);

	/* Actions of a task come in (attempt, item) order. */
	la = make_action(e->id, t->id, "std.echo");
	la->attempt = 0;
	la->item = 5;
	tx = store_tx_create();
	store_tx_action_insert(tx, la);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_actions_load(s, t->id, &av, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(av[0]->id, la->id);
	assert_string_equal(av[1]->id, a->id);
	store_action_free(av[0]);
	store_action_free(av[1]);
	free(av);
	store_action_free(la);

	store_action_free(a);
	store_task_free(t);
	store_exec_free(e);
}

static void
test_tasks_get_creation_order(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e;
	struct store_task	*t, **tv;
	struct store_tx		*tx;
	size_t			 n, i;
	char			 name[32];

	e = make_exec(ST_RUNNING);
	insert_exec(s, e);
	tx = store_tx_create();
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "t%zu", i);
		t = make_task(e->id, name, ST_IDLE);
		t->created_at = 5000 - (int64_t)i;	/* seq wins over time */
		store_tx_task_insert(tx, t);
		store_task_free(t);
	}
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_tasks_load(s, e->id, &tv, &n), STORE_OK);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "t%zu", i);
		assert_string_equal(tv[i]->name, name);
		assert_int_equal(tv[i]->seq, (int64_t)i + 1);
		store_task_free(tv[i]);
	}
	free(tv);
	store_exec_free(e);
}

/* ---- change sets ------------------------------------------------- */

static void
test_update_writes_only_masked_fields(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e, *u, *l;
	struct store_tx		*tx;

	e = make_exec(ST_RUNNING);
	e->description = xstrdup("keep me");
	e->output = json_pack("{s:i}", "old", 1);
	e->created_at = 1000;
	e->updated_at = 1000;
	insert_exec(s, e);

	u = make_exec(ST_SUCCESS);
	memcpy(u->id, e->id, sizeof u->id);
	u->description = xstrdup("must not be written");
	u->output = json_pack("{s:i}", "new", 2);
	tx = store_tx_create();
	store_tx_exec_update(tx, u, SF_STATE | SF_OUTPUT, ST_RUNNING);
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->state, ST_SUCCESS);
	assert_string_equal(l->description, "keep me");
	assert_json_same(l->output, u->output);
	assert_int_equal(l->created_at, 1000);
	assert_true(l->updated_at > 1000);
	store_exec_free(l);

	/* Unguarded update of a missing row: not found. */
	uuid_make(u->id);
	tx = store_tx_create();
	store_tx_exec_update(tx, u, SF_STATE, NULL);
	assert_int_equal(commit(s, tx), STORE_NOTFOUND);

	store_exec_free(u);
	store_exec_free(e);
}

/*
 * Two updates of one row in one change set are one statement: the
 * first's guard, the fields of both; one that expects another state
 * than the first set stays apart (and fails).
 */
static void
test_updates_of_one_row_fold(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e, *u, *l;
	struct store_tx		*tx;

	e = make_exec(ST_RUNNING);
	insert_exec(s, e);
	u = make_exec(ST_PAUSED);
	memcpy(u->id, e->id, sizeof u->id);
	u->output = json_pack("{s:i}", "a", 1);
	tx = store_tx_create();
	store_tx_exec_update(tx, u, SF_STATE | SF_OUTPUT, ST_RUNNING);
	free(u->state);
	u->state = xstrdup(ST_SUCCESS);
	u->description = xstrdup("second");
	store_tx_exec_update(tx, u, SF_STATE | SF_DESCRIPTION, ST_PAUSED);
	assert_int_equal(tx->n, 1);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->state, ST_SUCCESS);
	assert_string_equal(l->description, "second");
	assert_json_same(l->output, u->output);
	store_exec_free(l);

	/* The first guard fails: nothing is written, its state named. */
	tx = store_tx_create();
	store_tx_exec_update(tx, u, SF_STATE, ST_RUNNING);
	store_tx_exec_update(tx, u, SF_DESCRIPTION, ST_SUCCESS);
	assert_int_equal(tx->n, 1);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	assert_non_null(strstr(store_error(s), ST_RUNNING));

	/* Not the state the first one set: two statements, a conflict. */
	free(u->state);
	u->state = xstrdup(ST_ERROR);
	tx = store_tx_create();
	store_tx_exec_update(tx, u, SF_STATE, ST_SUCCESS);
	store_tx_exec_update(tx, u, SF_DESCRIPTION, ST_PAUSED);
	assert_int_equal(tx->n, 2);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->state, ST_SUCCESS);
	store_exec_free(l);

	store_exec_free(u);
	store_exec_free(e);
}

static void
test_guard_conflict_rolls_back_whole_change_set(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e, *l;
	struct store_task	*t, *t2, *lt;
	struct store_tx		*tx;
	struct store_work	 w, **wv;
	size_t			 n;

	e = make_exec(ST_RUNNING);
	insert_exec(s, e);
	t = make_task(e->id, "a", ST_RUNNING);
	insert_task(s, t);

	/* A new task, a work row, then a guard that fails. */
	t2 = make_task(e->id, "b", ST_IDLE);
	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, sizeof w.execution_id, "%s", e->id);
	w.kind = "start";
	free(e->state);
	e->state = xstrdup(ST_SUCCESS);
	free(t->state);
	t->state = xstrdup(ST_SUCCESS);
	tx = store_tx_create();
	store_tx_task_insert(tx, t2);
	store_tx_work_insert(tx, &w);
	store_tx_task_update(tx, t, SF_STATE, ST_RUNNING);	/* passes */
	store_tx_exec_update(tx, e, SF_STATE, ST_PAUSED);	/* fails */
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	assert_non_null(strstr(store_error(s), "PAUSED"));

	assert_int_equal(store_task_load(s, t2->id, &lt), STORE_NOTFOUND);
	assert_int_equal(store_task_load(s, t->id, &lt), STORE_OK);
	assert_string_equal(lt->state, ST_RUNNING);
	store_task_free(lt);
	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->state, ST_RUNNING);
	store_exec_free(l);
	assert_int_equal(store_work_load(s, e->id, &wv, &n), STORE_OK);
	assert_int_equal(n, 0);
	free(wv);

	/* A duplicate insert is a conflict too. */
	tx = store_tx_create();
	store_tx_task_insert(tx, t);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);

	store_task_free(t2);
	store_task_free(t);
	store_exec_free(e);
}

static void
test_commit_many_rolls_back_only_the_failed_set(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e[3], *l;
	struct store_tx		*txs[3];
	enum store_rc		 rcs[3];
	size_t			 i;

	for (i = 0; i < 3; i++) {
		e[i] = make_exec(ST_RUNNING);
		insert_exec(s, e[i]);
		txs[i] = store_tx_create();
		free(e[i]->state);
		e[i]->state = xstrdup(ST_SUCCESS);
		/* The middle one expects the wrong state. */
		store_tx_exec_update(txs[i], e[i], SF_STATE,
		    i == 1 ? ST_IDLE : ST_RUNNING);
		store_tx_lock_acquire(txs[i], "many-lock-shared", e[i]->id);
		store_tx_lock_release_all(txs[i], e[i]->id);
	}
	assert_int_equal(store_tx_commit_many(s, txs, 3, rcs), STORE_CONFLICT);
	assert_int_equal(rcs[0], STORE_OK);
	assert_int_equal(rcs[1], STORE_CONFLICT);
	assert_int_equal(rcs[2], STORE_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(store_exec_load(s, e[i]->id, &l), STORE_OK);
		assert_string_equal(l->state, i == 1 ? ST_RUNNING : ST_SUCCESS);
		store_exec_free(l);
		store_tx_free(txs[i]);
		store_exec_free(e[i]);
	}
}

static void
test_locks_exclusive_reentrant_released_with_execution(void **state)
{
	struct store	*s = *state;
	struct store_tx	*tx;
	char		 a[UUID_STRLEN], b[UUID_STRLEN], name[64], name2[64];
	char		*owner;

	uuid_make(a);
	uuid_make(b);
	snprintf(name, sizeof name, "reserved-host:%.8s", a);
	snprintf(name2, sizeof name2, "other:%.8s", a);

	assert_int_equal(store_lock_owner(s, name, &owner), STORE_NOTFOUND);
	tx = store_tx_create();
	store_tx_lock_acquire(tx, name, a);
	store_tx_lock_acquire(tx, name2, a);
	assert_int_equal(commit(s, tx), STORE_OK);

	tx = store_tx_create();
	store_tx_lock_acquire(tx, name, b);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);

	tx = store_tx_create();			/* re-entrant */
	store_tx_lock_acquire(tx, name, a);
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_lock_owner(s, name, &owner), STORE_OK);
	assert_string_equal(owner, a);
	free(owner);

	tx = store_tx_create();
	store_tx_lock_release_all(tx, a);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_lock_owner(s, name2, &owner), STORE_NOTFOUND);

	tx = store_tx_create();
	store_tx_lock_acquire(tx, name, b);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_lock_owner(s, name, &owner), STORE_OK);
	assert_string_equal(owner, b);
	free(owner);

	tx = store_tx_create();
	store_tx_lock_release_all(tx, b);
	assert_int_equal(commit(s, tx), STORE_OK);
}

static void
test_work_due_order_and_delete_conflict(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e;
	struct store_work	 w, **wv;
	struct store_tx		*tx;
	int64_t			 dues[] = { 300, 100, 200, 900000 }, id;
	size_t			 i, n;
	char			 task[UUID_STRLEN];

	e = make_exec(ST_RUNNING);
	insert_exec(s, e);
	uuid_make(task);
	tx = store_tx_create();
	for (i = 0; i < nitems(dues); i++) {
		memset(&w, 0, sizeof w);
		snprintf(w.execution_id, sizeof w.execution_id, "%s", e->id);
		w.kind = "timer";
		w.due_at = dues[i];
		w.task_id = i == 3 ? task : NULL;
		store_tx_work_insert(tx, &w);
	}
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_work_due(s, e->id, 250, &wv, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(wv[0]->due_at, 100);
	assert_int_equal(wv[1]->due_at, 200);
	id = wv[0]->id;
	for (i = 0; i < n; i++)
		store_work_free(wv[i]);
	free(wv);

	tx = store_tx_create();
	store_tx_work_delete(tx, id);
	assert_int_equal(commit(s, tx), STORE_OK);
	tx = store_tx_create();			/* someone else took it */
	store_tx_work_delete(tx, id);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);

	tx = store_tx_create();
	store_tx_work_delete_task(tx, task);
	store_tx_work_delete_task(tx, task);	/* none left: fine */
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_work_load(s, e->id, &wv, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(wv[0]->due_at, 200);
	assert_int_equal(wv[1]->due_at, 300);
	for (i = 0; i < n; i++)
		store_work_free(wv[i]);
	free(wv);
	store_exec_free(e);
}

/* ---- definitions ------------------------------------------------- */

static void
test_definitions_versions_current_deleted_generation(void **state)
{
	struct store		*s = *state;
	struct store_def	*d1, *d2, *l, **dv;
	char			 name[64];
	int64_t			 g0, g1;
	size_t			 n, i;
	int			 found;

	snprintf(name, sizeof name, "wb-%ld", (long)random());
	g0 = store_def_generation(s);
	assert_int_equal(store_def_save(s, "workbook", name, "v: 1", "api", 1,
	    0, &d1), STORE_OK);
	assert_int_equal(d1->version, 1);
	g1 = store_def_generation(s);
	assert_true(g1 > g0);

	assert_int_equal(store_def_save(s, "workbook", name, "v: x", "api", 1,
	    0, &l), STORE_CONFLICT);
	assert_null(l);
	assert_int_equal(store_def_save(s, "workbook", name, "v: 2",
	    "/etc/bora/x.yaml", 0, 0, &d2), STORE_OK);
	assert_int_equal(d2->version, 2);
	assert_true(store_def_generation(s) > g1);

	assert_int_equal(store_def_load_current(s, "workbook", name, &l),
	    STORE_OK);
	assert_string_equal(l->id, d2->id);
	assert_string_equal(l->text, "v: 2");
	assert_string_equal(l->source, "/etc/bora/x.yaml");
	assert_string_equal(l->kind, "workbook");
	assert_int_equal(l->deleted, 0);
	store_def_free(l);

	/* The old version stays loadable: running executions use it. */
	assert_int_equal(store_def_load(s, d1->id, &l), STORE_OK);
	assert_string_equal(l->text, "v: 1");
	assert_int_equal(l->version, 1);
	store_def_free(l);

	assert_int_equal(store_def_list_current(s, &dv, &n), STORE_OK);
	for (found = 0, i = 0; i < n; i++) {
		if (strcmp(dv[i]->id, d2->id) == 0)
			found++;
		assert_string_not_equal(dv[i]->id, d1->id);
		store_def_free(dv[i]);
	}
	free(dv);
	assert_int_equal(found, 1);

	assert_int_equal(store_def_save(s, "workbook", name, NULL, "api", 0, 1,
	    NULL), STORE_OK);
	assert_int_equal(store_def_load_current(s, "workbook", name, &l),
	    STORE_NOTFOUND);
	assert_int_equal(store_def_save(s, "workbook", name, NULL, "api", 0, 1,
	    NULL), STORE_NOTFOUND);
	assert_int_equal(store_def_list_current(s, &dv, &n), STORE_OK);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(dv[i]->name, name);
		store_def_free(dv[i]);
	}
	free(dv);

	/* Re-created after deletion: version 4, create_only allowed. */
	assert_int_equal(store_def_save(s, "workbook", name, "v: 4", "api", 1,
	    0, &l), STORE_OK);
	assert_int_equal(l->version, 4);
	store_def_free(l);

	store_def_free(d1);
	store_def_free(d2);
}

static void
test_workflow_identity_stable_across_versions(void **state)
{
	struct store		*s = *state;
	struct store_workflow	*w1, *w2, *l;
	char			 name[64], d1[UUID_STRLEN], d2[UUID_STRLEN];

	snprintf(name, sizeof name, "wf-%ld", (long)random());
	uuid_make(d1);
	uuid_make(d2);
	assert_int_equal(store_workflow_save(s, name, d1, &w1), STORE_OK);
	assert_string_equal(w1->def_id, d1);
	assert_string_equal(w1->name, name);
	assert_int_equal(store_workflow_save(s, name, d2, &w2), STORE_OK);
	assert_string_equal(w2->id, w1->id);
	assert_string_equal(w2->def_id, d2);

	assert_int_equal(store_workflow_load(s, w1->id, &l), STORE_OK);
	assert_string_equal(l->name, name);
	store_workflow_free(l);
	assert_int_equal(store_workflow_load(s, name, &l), STORE_OK);
	assert_string_equal(l->id, w1->id);
	assert_string_equal(l->def_id, d2);
	store_workflow_free(l);

	assert_int_equal(store_workflow_delete(s, name), STORE_OK);
	assert_int_equal(store_workflow_load(s, name, &l), STORE_NOTFOUND);
	assert_int_equal(store_workflow_delete(s, name), STORE_NOTFOUND);
	store_workflow_free(w1);
	store_workflow_free(w2);
}

/* ---- leases ------------------------------------------------------ */

/* Is id among the n of ids? */
static int
among(char **ids, size_t n, const char *id)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return (1);
	return (0);
}

static void
free_ids(char **ids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Claim for owner; 1 when id was among the claimed. */
static int
claimed(struct store *s, const char *owner, int64_t lease_ms, const char *id)
{
	char	**ids;
	size_t	  n;
	int	  found;

	assert_int_equal(store_exec_claim(s, owner, lease_ms, 0, &ids, &n),
	    STORE_OK);
	found = among(ids, n, id);
	free_ids(ids, n);
	return (found);
}

/* Did owner's renewal of its lease on id say it still holds it? */
static int
renewed(struct store *s, const char *owner, const char *id,
    int64_t lease_ms)
{
	char	**held = NULL, *ids[1];
	size_t	  n = 0, i;
	int	  found = 0;

	ids[0] = (char *)id;
	assert_int_equal(store_exec_renew(s, owner, ids, 1, lease_ms, &held,
	    &n), STORE_OK);
	for (i = 0; i < n; i++) {
		if (strcmp(held[i], id) == 0)
			found = 1;
		free(held[i]);
	}
	free(held);
	return (found);
}

static void
test_leases_claim_renew_release_takeover(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e, *done, *l;
	struct store_work	 w;
	struct store_tx		*tx;
	char			 a[UUID_STRLEN], b[UUID_STRLEN];
	int64_t			 next;

	uuid_make(a);
	uuid_make(b);
	/* A running execution given back is claimed again at once. */
	e = make_exec(ST_RUNNING);
	insert_exec(s, e);
	assert_true(claimed(s, a, 60000, e->id));
	assert_int_equal(store_exec_release(s, e->id, a), STORE_OK);
	assert_true(claimed(s, b, 60000, e->id));
	assert_int_equal(store_exec_release(s, e->id, b), STORE_OK);
	store_exec_free(e);

	/* A paused one waits for work; that is what follows. */
	e = make_exec(ST_PAUSED);
	insert_exec(s, e);
	done = make_exec(ST_SUCCESS);
	insert_exec(s, done);

	/* A new execution is claimed once; a finished one never. */
	assert_true(claimed(s, a, 60000, e->id));
	assert_false(claimed(s, b, 60000, e->id));
	assert_false(claimed(s, a, 60000, done->id));
	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->owner, a);
	assert_true(l->lease_until > store_now(s));
	store_exec_free(l);
	assert_true(renewed(s, a, e->id, 120000));
	assert_false(claimed(s, b, 60000, e->id));
	/* b holds nothing: its renewal keeps nothing. */
	assert_false(renewed(s, b, e->id, 120000));

	/* Released with nothing due: nobody claims it. */
	assert_int_equal(store_exec_release(s, e->id, b), STORE_CONFLICT);
	assert_int_equal(store_exec_release(s, e->id, a), STORE_OK);
	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_null(l->owner);
	store_exec_free(l);
	assert_false(claimed(s, b, 60000, e->id));

	/* Work due later: not yet; work due now: claimed. */
	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, sizeof w.execution_id, "%s", e->id);
	w.kind = "timer";
	w.due_at = store_now(s) + 3600000;
	tx = store_tx_create();
	store_tx_work_insert(tx, &w);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_false(claimed(s, b, 60000, e->id));
	next = store_work_next_due(s, b);
	assert_true(next > 0 && next <= w.due_at);
	w.due_at = store_now(s) - 1;
	tx = store_tx_create();
	store_tx_work_insert(tx, &w);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_true(claimed(s, b, 60000, e->id));

	/* b dies: once its lease expires, a takes over. */
	assert_false(claimed(s, a, 60000, e->id));
	assert_true(renewed(s, b, e->id, -1000));
	assert_true(claimed(s, a, 60000, e->id));
	/* b comes back: its renewal says it lost the execution. */
	assert_false(renewed(s, b, e->id, 60000));
	assert_int_equal(store_exec_load(s, e->id, &l), STORE_OK);
	assert_string_equal(l->owner, a);
	store_exec_free(l);
	assert_int_equal(store_exec_release(s, e->id, a), STORE_OK);

	/* Clean up so that other tests' claims do not see it. */
	tx = store_tx_create();
	free(e->state);
	e->state = xstrdup(ST_CANCELLED);
	store_tx_exec_update(tx, e, SF_STATE, NULL);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_exec_delete(s, e->id), STORE_OK);
	assert_int_equal(store_exec_delete(s, done->id), STORE_OK);
	store_exec_free(e);
	store_exec_free(done);
}

static void
test_two_connections_never_claim_the_same_execution(void **state)
{
	struct store		*s = *state, *s2;
	struct store_exec	*e[6];
	char			 a[UUID_STRLEN], b[UUID_STRLEN];
	char			**ia, **ib, *cause = NULL;
	size_t			 na, nb, i, j, mine;

	if (strstr(test_url(), ":memory:") != NULL)
		skip();
	s2 = store_open(test_url(), &cause);
	assert_non_null(s2);
	uuid_make(a);
	uuid_make(b);
	for (i = 0; i < nitems(e); i++) {
		e[i] = make_exec(ST_RUNNING);
		insert_exec(s, e[i]);
	}
	assert_int_equal(store_exec_claim(s, a, 60000, 0, &ia, &na), STORE_OK);
	assert_int_equal(store_exec_claim(s2, b, 60000, 0, &ib, &nb),
	    STORE_OK);
	for (mine = 0, i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			assert_string_not_equal(ia[i], ib[j]);
		for (j = 0; j < nitems(e); j++)
			mine += strcmp(ia[i], e[j]->id) == 0;
	}
	assert_int_equal(mine, nitems(e));
	for (i = 0; i < na; i++)
		free(ia[i]);
	for (i = 0; i < nb; i++)
		free(ib[i]);
	free(ia);
	free(ib);
	for (i = 0; i < nitems(e); i++) {
		assert_int_equal(store_exec_release(s2, e[i]->id, a), STORE_OK);
		store_exec_free(e[i]);
	}
	store_close(s2);
}

/* Claim at most limit for owner; *ids gets them, the count returned. */
static size_t
claim_some(struct store *s, const char *owner, size_t limit, char ***ids)
{
	size_t	 n;

	assert_int_equal(store_exec_claim(s, owner, 60000, limit, ids, &n),
	    STORE_OK);
	return (n);
}

/*
 * More to claim than one batch: the oldest first, never-claimed ones
 * and executions given back whose work is due alike, batch after batch,
 * and a parked one whose work is not due yet never.
 */
static void
test_claim_batches_oldest_first_with_due_parked_work(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e[300], *due, *later;
	struct store_work	 w;
	struct store_tx		*tx;
	char			 a[UUID_STRLEN], b[UUID_STRLEN], **ids;
	size_t			 i, n, batch = 128;

	uuid_make(a);
	uuid_make(b);
	/* Two executions claimed, then parked: the oldest of all. */
	due = make_exec(ST_RUNNING);
	due->created_at = 1;
	later = make_exec(ST_RUNNING);
	later->created_at = 2;
	insert_exec(s, due);
	insert_exec(s, later);
	assert_true(claimed(s, a, 60000, due->id));
	assert_int_equal(store_exec_park(s, due->id, a), STORE_OK);
	assert_int_equal(store_exec_park(s, later->id, a), STORE_OK);
	memset(&w, 0, sizeof w);
	w.kind = "timer";
	tx = store_tx_create();
	snprintf(w.execution_id, sizeof w.execution_id, "%s", later->id);
	w.due_at = store_now(s) + 3600000;
	store_tx_work_insert(tx, &w);
	snprintf(w.execution_id, sizeof w.execution_id, "%s", due->id);
	w.due_at = store_now(s) - 1;
	store_tx_work_insert(tx, &w);
	assert_int_equal(commit(s, tx), STORE_OK);
	/* More never-claimed executions than two batches, by age. */
	tx = store_tx_create();
	for (i = 0; i < nitems(e); i++) {
		e[i] = make_exec(ST_RUNNING);
		e[i]->created_at = 1000 + (int64_t)i;
		store_tx_exec_insert(tx, e[i]);
	}
	assert_int_equal(commit(s, tx), STORE_OK);

	/* The due parked one and the 127 oldest new ones. */
	n = claim_some(s, b, batch, &ids);
	assert_int_equal(n, batch);
	assert_true(among(ids, n, due->id));
	assert_false(among(ids, n, later->id));
	for (i = 0; i < nitems(e); i++)
		assert_int_equal(among(ids, n, e[i]->id), i < batch - 1);
	free_ids(ids, n);
	/* Then the next 128, by age. */
	n = claim_some(s, b, batch, &ids);
	assert_int_equal(n, batch);
	assert_false(among(ids, n, later->id));
	for (i = 0; i < nitems(e); i++)
		assert_int_equal(among(ids, n, e[i]->id),
		    i >= batch - 1 && i < 2 * batch - 1);
	free_ids(ids, n);
	/* Then the rest. */
	n = claim_some(s, b, batch, &ids);
	assert_false(among(ids, n, later->id));
	for (i = 2 * batch - 1; i < nitems(e); i++)
		assert_true(among(ids, n, e[i]->id));
	free_ids(ids, n);
	n = claim_some(s, b, 0, &ids);
	assert_false(among(ids, n, later->id));
	free_ids(ids, n);

	/* Clean up so that other tests' claims do not see them. */
	tx = store_tx_create();
	for (i = 0; i < nitems(e); i++) {
		free(e[i]->state);
		e[i]->state = xstrdup(ST_CANCELLED);
		store_tx_exec_update(tx, e[i], SF_STATE, NULL);
	}
	free(due->state);
	due->state = xstrdup(ST_CANCELLED);
	store_tx_exec_update(tx, due, SF_STATE, NULL);
	free(later->state);
	later->state = xstrdup(ST_CANCELLED);
	store_tx_exec_update(tx, later, SF_STATE, NULL);
	assert_int_equal(commit(s, tx), STORE_OK);
	for (i = 0; i < nitems(e); i++) {
		assert_int_equal(store_exec_delete(s, e[i]->id), STORE_OK);
		store_exec_free(e[i]);
	}
	assert_int_equal(store_exec_delete(s, due->id), STORE_OK);
	assert_int_equal(store_exec_delete(s, later->id), STORE_OK);
	store_exec_free(due);
	store_exec_free(later);
}

/* ---- lists ------------------------------------------------------- */

/* Collect ids of an exec list into a "," separated string. */
static char *
exec_ids(struct store_exec **v, size_t n, char **pos, size_t npos)
{
	char	*out = NULL;
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < npos; j++) {
			if (strcmp(v[i]->id, pos[j]) == 0)
				break;
		}
		out = xstrcat(out, j < npos ? (char[]){ '0' + (char)j, 0 } :
		    "?");
		store_exec_free(v[i]);
	}
	free(v);
	return (out != NULL ? out : xstrdup(""));
}

static void
test_list_filters_sort_marker_limit(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e[5], **v;
	struct store_filter	 f[3];
	struct store_query	 q;
	const char		*keys[2];
	int			 desc[2];
	char			*ids[5], wf[64], *got, *marker, *page;
	char			 when[32];
	size_t			 n, i;
	static const char	*states[] = { ST_RUNNING, ST_SUCCESS,
	    ST_ERROR, ST_SUCCESS, ST_RUNNING };

	snprintf(wf, sizeof wf, "list-%ld", (long)random());
	for (i = 0; i < 5; i++) {
		e[i] = make_exec(states[i]);
		free(e[i]->workflow_name);
		e[i]->workflow_name = xstrdup(wf);
		e[i]->created_at = 1600000000000 + (int64_t)i * 1000;
		if (i != 2)
			e[i]->description = xstrdup(i == 4 ? "50% done" :
			    "plain");
		insert_exec(s, e[i]);
		ids[i] = e[i]->id;
	}

	memset(&q, 0, sizeof q);
	f[0].field = "workflow_name";
	f[0].op = "eq";
	f[0].value = wf;
	q.filters = f;
	q.nfilters = 1;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "01234");		/* created_at asc */
	free(got);

	/* Descending by created_at, pages of two through the marker. */
	keys[0] = "created_at";
	desc[0] = 1;
	q.sort_keys = keys;
	q.sort_desc = desc;
	q.nsort = 1;
	q.limit = 2;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	marker = xstrdup(v[n - 1]->id);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "43");
	free(got);
	q.marker = marker;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	free(marker);
	marker = xstrdup(v[n - 1]->id);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "21");
	free(got);
	q.marker = marker;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "0");
	free(got);
	free(marker);

	/* Sort on a column with ties and NULLs, paged one by one. */
	keys[0] = "state";
	desc[0] = 0;
	keys[1] = "description";
	desc[1] = 1;
	q.nsort = 2;
	q.limit = 1;
	q.marker = NULL;
	got = NULL;
	marker = NULL;
	for (i = 0; i < 6; i++) {
		assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
		if (n == 0) {
			free(v);
			break;
		}
		free(marker);
		marker = xstrdup(v[0]->id);
		q.marker = marker;
		page = exec_ids(v, n, ids, 5);
		got = xstrcat(got, page);
		free(page);
	}
	free(marker);
	assert_int_equal(strlen(got), 5);
	assert_int_equal(got[0], '2');			/* ERROR */
	assert_true(strchr("04", got[1]) && strchr("04", got[2]));
	assert_true(strchr("13", got[3]) && strchr("13", got[4]));
	free(got);

	/* Operators. */
	q.nsort = 0;
	q.limit = 0;
	q.marker = NULL;
	f[1].field = "state";
	f[1].op = "in";
	f[1].value = "ERROR,SUCCESS";
	q.nfilters = 2;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "123");
	free(got);
	f[1].op = "nin";
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "04");
	free(got);
	f[1].field = "description";
	f[1].op = "eq";
	f[1].value = NULL;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "2");
	free(got);
	f[1].op = "neq";
	f[1].value = "plain";
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "24");
	free(got);
	f[1].op = "has";
	f[1].value = "0%";			/* % is literal */
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "4");
	free(got);
	time_format(1600000000000 + 2000, when);
	f[1].field = "created_at";
	f[1].op = "gte";
	f[1].value = when;
	f[2].field = "created_at";
	f[2].op = "lt";
	f[2].value = "2020-09-13T12:26:44.000Z";	/* = 1600000004000 */
	q.nfilters = 3;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_OK);
	got = exec_ids(v, n, ids, 5);
	assert_string_equal(got, "23");
	free(got);

	/* Unknown fields, operators and markers are refused clearly. */
	f[2].field = "password";
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_ERROR);
	assert_non_null(strstr(store_error(s), "password"));
	f[2].field = "state";
	f[2].op = "like";
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_ERROR);
	assert_non_null(strstr(store_error(s), "like"));
	f[2].op = "eq";
	f[1].value = "yesterday";
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_ERROR);
	assert_non_null(strstr(store_error(s), "yesterday"));
	q.nfilters = 1;
	keys[0] = "owner";
	q.nsort = 1;
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_ERROR);
	assert_non_null(strstr(store_error(s), "owner"));
	q.nsort = 0;
	q.marker = "no-such-execution";
	assert_int_equal(store_exec_list(s, &q, &v, &n), STORE_NOTFOUND);

	for (i = 0; i < 5; i++)
		store_exec_free(e[i]);
}

static void
test_task_and_action_lists_filter_by_joined_names(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e;
	struct store_task	*t1, *t2, **tv;
	struct store_action	*a1, *a2, **av;
	struct store_tx		*tx;
	struct store_filter	 f[2];
	struct store_query	 q;
	char			 wf[64];
	size_t			 n;

	snprintf(wf, sizeof wf, "joined-%ld", (long)random());
	e = make_exec(ST_RUNNING);
	free(e->workflow_name);
	e->workflow_name = xstrdup(wf);
	insert_exec(s, e);
	t1 = make_task(e->id, "first", ST_SUCCESS);
	t2 = make_task(e->id, "second", ST_RUNNING);
	a1 = make_action(e->id, t1->id, "std.noop");
	a2 = make_action(e->id, t2->id, "std.echo");
	tx = store_tx_create();
	store_tx_task_insert(tx, t1);
	store_tx_task_insert(tx, t2);
	store_tx_action_insert(tx, a1);
	store_tx_action_insert(tx, a2);
	assert_int_equal(commit(s, tx), STORE_OK);

	memset(&q, 0, sizeof q);
	f[0].field = "workflow_name";
	f[0].op = NULL;
	f[0].value = wf;
	f[1].field = "state";
	f[1].op = "eq";
	f[1].value = ST_RUNNING;
	q.filters = f;
	q.nfilters = 2;
	assert_int_equal(store_task_list(s, &q, &tv, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(tv[0]->id, t2->id);
	store_task_free(tv[0]);
	free(tv);

	f[0].field = "workflow_execution_id";
	f[0].value = e->id;
	f[1].field = "task_name";
	f[1].value = "first";
	assert_int_equal(store_action_list(s, &q, &av, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(av[0]->id, a1->id);
	store_action_free(av[0]);
	free(av);

	f[1].field = "task_execution_id";
	f[1].value = t2->id;
	assert_int_equal(store_action_list(s, &q, &av, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(av[0]->id, a2->id);
	store_action_free(av[0]);
	free(av);

	assert_string_equal(store_list_column("executions",
	    "task_execution_id"), "parent_task_id");
	assert_null(store_list_column("executions", "owner"));
	assert_null(store_list_column("nothing", "id"));

	store_action_free(a1);
	store_action_free(a2);
	store_task_free(t1);
	store_task_free(t2);
	store_exec_free(e);
}

/* ---- messages and deletion --------------------------------------- */

static void
test_message_reap_and_delete(void **state)
{
	struct store		*s = *state;
	struct store_message	 m, **mv;
	struct store_tx		*tx;
	struct store_filter	 f;
	struct store_query	 q;
	char			 res[UUID_STRLEN], ids[4][UUID_STRLEN];
	int64_t			 expires[] = { 10, 20, 0, 4000000000000 };
	size_t			 n, i, reaped, total;

	uuid_make(res);
	tx = store_tx_create();
	for (i = 0; i < 4; i++) {
		memset(&m, 0, sizeof m);
		uuid_make(ids[i]);
		memcpy(m.id, ids[i], sizeof m.id);
		m.event_id = "EVENT";
		m.message = "msg";
		m.resource_uuid = res;
		m.level = "ERROR";
		m.created_at = 5;
		m.expires_at = expires[i];
		store_tx_message_insert(tx, &m);
	}
	assert_int_equal(commit(s, tx), STORE_OK);

	memset(&q, 0, sizeof q);
	f.field = "resource_uuid";
	f.op = "eq";
	f.value = res;
	q.filters = &f;
	q.nfilters = 1;

	/* Reap in batches of one until nothing expired is left. */
	total = 0;
	do {
		assert_int_equal(store_message_reap(s, 1000, 1, &reaped),
		    STORE_OK);
		assert_true(reaped <= 1);
		total += reaped;
	} while (reaped > 0);
	assert_true(total >= 2);
	assert_int_equal(store_message_list(s, &q, &mv, &n), STORE_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_true(strcmp(mv[i]->id, ids[2]) == 0 ||
		    strcmp(mv[i]->id, ids[3]) == 0);
		store_message_free(mv[i]);
	}
	free(mv);

	assert_int_equal(store_message_delete(s, ids[2]), STORE_OK);
	assert_int_equal(store_message_delete(s, ids[2]), STORE_NOTFOUND);
	assert_int_equal(store_message_delete(s, ids[3]), STORE_OK);
}

static void
test_exec_delete_cascades_to_everything_under_it(void **state)
{
	struct store		*s = *state;
	struct store_exec	*p, *c, *l;
	struct store_task	*pt, *ct, *lt;
	struct store_action	*a, *la;
	struct store_work	 w, **wv;
	struct store_event	 ev, **evv;
	struct store_tx		*tx;
	char			*owner, lock[64];
	size_t			 n;

	p = make_exec(ST_RUNNING);
	pt = make_task(p->id, "sub", ST_RUNNING);
	c = make_exec(ST_SUCCESS);
	c->parent_task_id = xstrdup(pt->id);
	c->root_id = xstrdup(p->id);
	ct = make_task(c->id, "leaf", ST_SUCCESS);
	a = make_action(c->id, ct->id, "std.noop");
	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, sizeof w.execution_id, "%s", c->id);
	w.kind = "timeout";
	memset(&ev, 0, sizeof ev);
	snprintf(ev.execution_id, sizeof ev.execution_id, "%s", c->id);
	ev.message = "m";
	ev.progress = -1;
	snprintf(lock, sizeof lock, "lock-%.8s", c->id);

	tx = store_tx_create();
	store_tx_exec_insert(tx, p);
	store_tx_task_insert(tx, pt);
	store_tx_exec_insert(tx, c);
	store_tx_task_insert(tx, ct);
	store_tx_action_insert(tx, a);
	store_tx_work_insert(tx, &w);
	store_tx_event_insert(tx, &ev);
	store_tx_lock_acquire(tx, lock, c->id);
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_exec_delete(s, p->id), STORE_CONFLICT);
	assert_int_equal(store_exec_delete(s, "missing"), STORE_NOTFOUND);

	free(p->state);
	p->state = xstrdup(ST_ERROR);
	tx = store_tx_create();
	store_tx_exec_update(tx, p, SF_STATE, ST_RUNNING);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_exec_delete(s, p->id), STORE_OK);

	assert_int_equal(store_exec_load(s, p->id, &l), STORE_NOTFOUND);
	assert_int_equal(store_exec_load(s, c->id, &l), STORE_NOTFOUND);
	assert_int_equal(store_task_load(s, pt->id, &lt), STORE_NOTFOUND);
	assert_int_equal(store_task_load(s, ct->id, &lt), STORE_NOTFOUND);
	assert_int_equal(store_action_load(s, a->id, &la), STORE_NOTFOUND);
	assert_int_equal(store_lock_owner(s, lock, &owner), STORE_NOTFOUND);
	assert_int_equal(store_work_load(s, c->id, &wv, &n), STORE_OK);
	assert_int_equal(n, 0);
	free(wv);
	assert_int_equal(store_events_load(s, c->id, &evv, &n), STORE_OK);
	assert_int_equal(n, 0);
	free(evv);

	store_action_free(a);
	store_task_free(ct);
	store_task_free(pt);
	store_exec_free(c);
	store_exec_free(p);
}

/* A cron tick fires once: a second change set firing it conflicts. */
static void
test_cron_tick_fires_once_then_last_deletes(void **state)
{
	struct store		*s = *state;
	struct store_cron	 c, *l = NULL, **due = NULL;
	struct store_exec	 e, *x = NULL;
	struct store_tx		*t1, *t2;
	size_t			 n = 0, i;
	int			 mine;

	memset(&c, 0, sizeof c);
	uuid_make(c.id);
	c.name = c.id;
	c.pattern = (char *)"* * * * * *";
	c.next_execution_time = 1000;
	c.remaining_executions = 2;
	c.workflow_name = (char *)"wf";
	c.workflow_input = json_pack("{s:i}", "a", 1);
	c.workflow_params = json_object();
	t1 = store_tx_create();
	store_tx_cron_insert(t1, &c);
	assert_int_equal(store_tx_commit(s, t1), STORE_OK);
	store_tx_free(t1);
	assert_int_equal(store_cron_load(s, c.name, &l), STORE_OK);
	assert_int_equal(l->next_execution_time, 1000);
	assert_int_equal(json_integer_value(json_object_get(
	    l->workflow_input, "a")), 1);
	assert_string_equal(l->scope, "private");
	store_cron_free(l);
	assert_int_equal(store_cron_due(s, 1000, 0, &due, &n), STORE_OK);
	for (i = 0, mine = 0; i < n; i++) {
		mine += strcmp(due[i]->id, c.id) == 0;
		store_cron_free(due[i]);
	}
	free(due);
	assert_int_equal(mine, 1);

	/* Two engines fire the tick 1000 with an execution each. */
	memset(&e, 0, sizeof e);
	uuid_make(e.id);
	e.workflow_name = (char *)"wf";
	e.state = (char *)ST_RUNNING;
	t1 = store_tx_create();
	store_tx_exec_insert(t1, &e);
	store_tx_cron_fire(t1, &c, 2000, 1);
	uuid_make(e.id);
	t2 = store_tx_create();
	store_tx_exec_insert(t2, &e);
	store_tx_cron_fire(t2, &c, 2000, 1);
	assert_int_equal(store_tx_commit(s, t1), STORE_OK);
	assert_int_equal(store_tx_commit(s, t2), STORE_CONFLICT);
	store_tx_free(t1);
	store_tx_free(t2);
	/* The loser's execution was not kept. */
	assert_int_equal(store_exec_load(s, e.id, &x), STORE_NOTFOUND);
	assert_int_equal(store_cron_load(s, c.id, &l), STORE_OK);
	assert_int_equal(l->next_execution_time, 2000);
	assert_int_equal(l->remaining_executions, 1);
	store_cron_free(l);
	assert_int_equal(store_cron_due(s, 1500, 0, &due, &n), STORE_OK);
	for (i = 0, mine = 0; i < n; i++) {
		mine += strcmp(due[i]->id, c.id) == 0;
		store_cron_free(due[i]);
	}
	free(due);
	assert_int_equal(mine, 0);

	/* The last firing deletes the trigger. */
	c.next_execution_time = 2000;
	t1 = store_tx_create();
	store_tx_cron_fire(t1, &c, -1, 0);
	assert_int_equal(store_tx_commit(s, t1), STORE_OK);
	store_tx_free(t1);
	assert_int_equal(store_cron_load(s, c.id, &l), STORE_NOTFOUND);
	assert_int_equal(store_cron_delete(s, c.id), STORE_NOTFOUND);
	json_decref(c.workflow_input);
	json_decref(c.workflow_params);
}

/* Environments: by name, updated by mask, deleted, names unique. */
static void
test_env_roundtrip_update_unique(void **state)
{
	struct store		*s = *state;
	struct store_env	 v, *l = NULL;
	struct store_tx		*tx;
	char			 name[64];

	snprintf(name, sizeof name, "env-%ld", (long)random());
	memset(&v, 0, sizeof v);
	uuid_make(v.id);
	v.name = name;
	v.description = (char *)"d1";
	v.variables = json_pack("{s:s}", "region", "north");
	tx = store_tx_create();
	store_tx_env_insert(tx, &v);
	assert_int_equal(store_tx_commit(s, tx), STORE_OK);
	assert_int_equal(store_tx_commit(s, tx), STORE_CONFLICT);
	store_tx_free(tx);
	assert_int_equal(store_env_load(s, name, &l), STORE_OK);
	assert_string_equal(l->description, "d1");
	assert_string_equal(json_string_value(json_object_get(l->variables,
	    "region")), "north");
	json_object_set_new(l->variables, "region", json_string("south"));
	free(l->description);
	l->description = xstrdup("d2");
	tx = store_tx_create();
	store_tx_env_update(tx, l, SF_VARIABLES, NULL);
	assert_int_equal(store_tx_commit(s, tx), STORE_OK);
	store_tx_free(tx);
	store_env_free(l);
	assert_int_equal(store_env_load(s, v.id, &l), STORE_OK);
	assert_string_equal(json_string_value(json_object_get(l->variables,
	    "region")), "south");
	assert_string_equal(l->description, "d1");	/* not masked */
	store_env_free(l);
	assert_int_equal(store_env_delete(s, name), STORE_OK);
	assert_int_equal(store_env_load(s, name, &l), STORE_NOTFOUND);
	json_decref(v.variables);
}

/* ---- retention and the outbox ------------------------------------ */

/* An outbox row of execution ex for target, due at next_at. */
static void
add_outbox(struct store_tx *tx, const char *ex, const char *target,
    const char *event, char *id)
{
	struct store_outbox	 o;

	memset(&o, 0, sizeof o);
	uuid_make(o.id);
	if (id != NULL)
		memcpy(id, o.id, UUID_STRLEN);
	snprintf(o.execution_id, sizeof o.execution_id, "%s", ex);
	o.event = (char *)event;
	o.target = (char *)target;
	o.headers = json_pack("{s:s}", "X-Test", "1");
	o.body = json_pack("{s:s}", "event", event);
	store_tx_insert(tx, &store_outbox_table, &o);
	json_decref(o.headers);
	json_decref(o.body);
}

/* Claim what is due for owner; the events claimed, in a string. */
static size_t
claim(struct store *s, const char *owner, struct store_outbox ***v)
{
	size_t	 n;

	assert_int_equal(store_outbox_claim(s, owner, 60000, 100, v, &n),
	    STORE_OK);
	return (n);
}

static void
test_outbox_in_order_per_stream_claims_and_dead_letters(void **state)
{
	struct store		*s = *state, *s2;
	struct store_outbox	**v, **v2;
	struct store_tx		*tx;
	struct store_query	 q;
	struct store_filter	 f;
	char			 ex[UUID_STRLEN], first[UUID_STRLEN];
	char			 a[64], b[64];
	char			*cause = NULL, **owners;
	size_t			 n, i, mine;

	uuid_make(ex);
	snprintf(a, sizeof a, "http://a.test/%.8s", ex);
	snprintf(b, sizeof b, "http://b.test/%.8s", ex);
	tx = store_tx_create();
	add_outbox(tx, ex, a, "WORKFLOW_LAUNCHED", first);
	add_outbox(tx, ex, b, "WORKFLOW_LAUNCHED", NULL);
	add_outbox(tx, ex, a, "TASK_LAUNCHED", NULL);
	add_outbox(tx, ex, a, "WORKFLOW_SUCCEEDED", NULL);
	assert_int_equal(commit(s, tx), STORE_OK);

	/* The first of each stream only; seq numbers its execution's. */
	n = claim(s, "eng-1", &v);
	for (i = mine = 0; i < n; i++) {
		if (strcmp(v[i]->execution_id, ex) == 0) {
			mine++;
			assert_string_equal(v[i]->event, "WORKFLOW_LAUNCHED");
			assert_string_equal(v[i]->owner, "eng-1");
			assert_string_equal(v[i]->state, ST_PENDING);
			assert_true(v[i]->seq >= 1 && v[i]->seq <= 2);
			assert_string_equal(json_string_value(json_object_get(
			    v[i]->headers, "X-Test")), "1");
		}
	}
	assert_int_equal(mine, 2);
	/* Nobody else gets them while claimed. */
	s2 = is_sqlite() ? s : store_open(test_url(), &cause);
	assert_non_null(s2);
	n = claim(s2, "eng-2", &v2);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(v2[i]->execution_id, ex);
		store_outbox_free(v2[i]);
	}
	free(v2);
	assert_int_equal(store_outbox_owners(s, &owners, &n), STORE_OK);
	for (i = mine = 0; i < n; i++) {
		mine += strcmp(owners[i], "eng-1") == 0;
		free(owners[i]);
	}
	free(owners);
	assert_int_equal(mine, 1);

	/* Sent: the next of stream a comes; b's is given up. */
	for (i = 0; i < 2; i++) {
		tx = store_tx_create();
		if (strcmp(v[i]->target, a) == 0)
			store_tx_outbox_sent(tx, v[i]->id, "eng-1");
		else
			store_tx_outbox_dead(tx, v[i]->id, "eng-1", "HTTP 500");
		assert_int_equal(commit(s, tx), STORE_OK);
	}
	/* A claim lost is a conflict. */
	tx = store_tx_create();
	store_tx_outbox_sent(tx, v[0]->id, "eng-1");
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	for (i = 0; i < 2; i++)
		store_outbox_free(v[i]);
	free(v);
	n = claim(s2, "eng-2", &v);
	for (i = mine = 0; i < n; i++) {
		if (strcmp(v[i]->execution_id, ex) == 0) {
			mine++;
			assert_string_equal(v[i]->event, "TASK_LAUNCHED");
			/* Retried later: not due now, and it holds the rest. */
			tx = store_tx_create();
			store_tx_outbox_retry(tx, v[i]->id, "eng-2",
			    time_now_ms() + 600000, "connection refused");
			assert_int_equal(commit(s2, tx), STORE_OK);
		}
		store_outbox_free(v[i]);
	}
	free(v);
	assert_int_equal(mine, 1);
	assert_int_equal(store_outbox_release(s2, "eng-2", &n), STORE_OK);
	n = claim(s2, "eng-2", &v);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(v[i]->execution_id, ex);
		store_outbox_free(v[i]);
	}
	free(v);

	/* The list: by execution, state; the dead one goes again. */
	memset(&q, 0, sizeof q);
	f.field = "execution_id";
	f.op = "eq";
	f.value = ex;
	q.filters = &f;
	q.nfilters = 1;
	assert_int_equal(store_outbox_list(s, &q, &v, &n), STORE_OK);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->target, b) == 0) {
			assert_string_equal(v[i]->state, ST_DEAD);
			assert_string_equal(v[i]->last_error, "HTTP 500");
			assert_int_equal(v[i]->attempts, 1);
			assert_int_equal(store_outbox_requeue(s, v[i]->id),
			    STORE_OK);
			assert_int_equal(store_outbox_requeue(s, v[i]->id),
			    STORE_NOTFOUND);
		} else if (strcmp(v[i]->id, first) == 0) {
			assert_string_equal(v[i]->state, ST_SENT);
			assert_true(v[i]->sent_at > 0);
		} else if (strcmp(v[i]->event, "TASK_LAUNCHED") == 0) {
			assert_string_equal(v[i]->last_error,
			    "connection refused");
			assert_int_equal(v[i]->attempts, 1);
		}
		store_outbox_free(v[i]);
	}
	free(v);
	if (s2 != s)
		store_close(s2);
}

static void
test_purge_old_finished_roots_and_reap_lock(void **state)
{
	struct store		*s = *state, *s2;
	struct store_exec	*old, *sub, *recent, *running, *l;
	struct store_task	*t, *st;
	struct store_action	*act, *la;
	struct store_event	 ev;
	struct store_purged	 p;
	struct store_tx		*tx;
	char			*cause = NULL;
	int			 got, got2;

	old = make_exec(ST_SUCCESS);
	old->created_at = 1;
	t = make_task(old->id, "call", ST_SUCCESS);
	sub = make_exec(ST_SUCCESS);
	sub->parent_task_id = xstrdup(t->id);
	sub->root_id = xstrdup(old->id);
	sub->created_at = 1;
	st = make_task(sub->id, "leaf", ST_SUCCESS);
	act = make_action(sub->id, st->id, "std.noop");
	memset(&ev, 0, sizeof ev);
	snprintf(ev.execution_id, sizeof ev.execution_id, "%s", sub->id);
	ev.message = "m";
	ev.progress = -1;
	recent = make_exec(ST_ERROR);
	recent->created_at = 5000;
	running = make_exec(ST_RUNNING);
	running->created_at = 1;
	tx = store_tx_create();
	store_tx_exec_insert(tx, old);
	store_tx_task_insert(tx, t);
	store_tx_exec_insert(tx, sub);
	store_tx_task_insert(tx, st);
	store_tx_action_insert(tx, act);
	store_tx_event_insert(tx, &ev);
	store_tx_exec_insert(tx, recent);
	store_tx_exec_insert(tx, running);
	assert_int_equal(commit(s, tx), STORE_OK);

	/* One reaper at a time, cluster-wide (one process on SQLite). */
	assert_int_equal(store_reap_lock(s, "test", &got), STORE_OK);
	assert_true(got);
	if (!is_sqlite()) {
		s2 = store_open(test_url(), &cause);
		assert_non_null(s2);
		assert_int_equal(store_reap_lock(s2, "test", &got2), STORE_OK);
		assert_false(got2);
		store_reap_unlock(s, "test");
		assert_int_equal(store_reap_lock(s2, "test", &got2), STORE_OK);
		assert_true(got2);
		store_reap_unlock(s2, "test");
		store_close(s2);
	} else
		store_reap_unlock(s, "test");

	do {
		assert_int_equal(store_exec_purge(s, 2000, 1, &p), STORE_OK);
		assert_true(p.executions <= 2);
	} while (p.executions > 0 &&
	    store_exec_load(s, old->id, &l) == STORE_OK &&
	    (store_exec_free(l), 1));
	assert_int_equal(store_exec_load(s, old->id, &l), STORE_NOTFOUND);
	assert_int_equal(store_exec_load(s, sub->id, &l), STORE_NOTFOUND);
	assert_int_equal(store_action_load(s, act->id, &la), STORE_NOTFOUND);
	assert_int_equal(store_exec_load(s, recent->id, &l), STORE_OK);
	store_exec_free(l);
	assert_int_equal(store_exec_load(s, running->id, &l), STORE_OK);
	store_exec_free(l);

	store_action_free(act);
	store_task_free(st);
	store_task_free(t);
	store_exec_free(old);
	store_exec_free(sub);
	store_exec_free(recent);
	store_exec_free(running);
}

/* What a purge counts is what it deleted. */
static void
test_purge_counts_rows_by_kind(void **state)
{
	struct store		*s = *state;
	struct store_exec	*e;
	struct store_task	*t1, *t2;
	struct store_action	*a1, *a2, *a3;
	struct store_event	 ev;
	struct store_purged	 p, sum;
	struct store_tx		*tx;
	int			 i;

	e = make_exec(ST_CANCELLED);
	e->created_at = 2;
	t1 = make_task(e->id, "a", ST_SUCCESS);
	t2 = make_task(e->id, "b", ST_ERROR);
	a1 = make_action(e->id, t1->id, "std.noop");
	a2 = make_action(e->id, t2->id, "std.noop");
	a3 = make_action(e->id, t2->id, "std.noop");
	memset(&ev, 0, sizeof ev);
	snprintf(ev.execution_id, sizeof ev.execution_id, "%s", e->id);
	ev.message = "m";
	ev.progress = -1;
	tx = store_tx_create();
	store_tx_exec_insert(tx, e);
	store_tx_task_insert(tx, t1);
	store_tx_task_insert(tx, t2);
	store_tx_action_insert(tx, a1);
	store_tx_action_insert(tx, a2);
	store_tx_action_insert(tx, a3);
	for (i = 0; i < 3; i++)
		store_tx_event_insert(tx, &ev);
	assert_int_equal(commit(s, tx), STORE_OK);
	memset(&sum, 0, sizeof sum);
	do {
		assert_int_equal(store_exec_purge(s, 3, 100, &p), STORE_OK);
		sum.executions += p.executions;
		sum.tasks += p.tasks;
		sum.actions += p.actions;
		sum.events += p.events;
	} while (p.executions > 0);
	/* Others' rows as old may go too on a shared database. */
	assert_true(sum.executions >= 1);
	assert_true(sum.tasks >= 2);
	assert_true(sum.actions >= 3);
	assert_true(sum.events >= 3);
	if (is_sqlite()) {
		assert_int_equal(sum.executions, 1);
		assert_int_equal(sum.tasks, 2);
		assert_int_equal(sum.actions, 3);
		assert_int_equal(sum.events, 3);
	}
	store_action_free(a1);
	store_action_free(a2);
	store_action_free(a3);
	store_task_free(t1);
	store_task_free(t2);
	store_exec_free(e);
}

static void
test_exec_children_and_counts(void **state)
{
	struct store		*s = *state;
	struct store_exec	*p, *c1, *c2, **cv;
	json_t			*counts;
	size_t			 n;
	char			 task[UUID_STRLEN];

	uuid_make(task);
	p = make_exec(ST_RUNNING);
	c1 = make_exec(ST_RUNNING);
	c1->parent_task_id = xstrdup(task);
	c1->created_at = 10;
	c2 = make_exec(ST_IDLE);
	c2->parent_task_id = xstrdup(task);
	c2->created_at = 20;
	insert_exec(s, p);
	insert_exec(s, c2);
	insert_exec(s, c1);
	assert_int_equal(store_exec_children(s, task, &cv, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cv[0]->id, c1->id);
	assert_string_equal(cv[1]->id, c2->id);
	store_exec_free(cv[0]);
	store_exec_free(cv[1]);
	free(cv);

	assert_int_equal(store_count_by_state(s, "executions", &counts),
	    STORE_OK);
	assert_true(json_integer_value(json_object_get(counts, ST_RUNNING))
	    >= 2);
	json_decref(counts);
	assert_int_equal(store_count_by_state(s, "secrets", &counts),
	    STORE_ERROR);
	assert_null(counts);

	store_exec_free(p);
	store_exec_free(c1);
	store_exec_free(c2);
}

/* ---- helpers ----------------------------------------------------- */

static void
test_json_columns_and_time_values(void **state)
{
	const struct store_column	*c;
	json_t				*j;
	char				*t, *cause;
	int64_t				 v;

	assert_null(store_json_text(NULL));
	j = json_null();
	t = store_json_text(j);
	assert_string_equal(t, "null");
	free(t);
	json_decref(j);
	assert_null(store_json_parse(NULL));
	j = store_json_parse("{not json");
	assert_string_equal(json_string_value(j), "{not json");
	json_decref(j);
	j = store_json_parse("\"ü\"");
	assert_string_equal(json_string_value(j), "ü");
	json_decref(j);

	c = store_list_field("executions", "created_at");
	assert_non_null(c);
	assert_int_equal(store_list_int(c, "2020-09-13 12:26:40", &v, &cause),
	    0);
	assert_int_equal(v, 1600000000000);
	assert_int_equal(store_list_int(c, "2020-09-13T12:26:40.250Z", &v,
	    &cause), 0);
	assert_int_equal(v, 1600000000250);
	assert_int_equal(store_list_int(c, "1600000000000", &v, &cause), 0);
	assert_int_equal(v, 1600000000000);
	assert_int_equal(store_list_int(c, "2020-13-45", &v, &cause), -1);
	assert_non_null(strstr(cause, "created_at"));
	free(cause);

	assert_string_equal(store_rc_name(STORE_CONFLICT), "conflict");
	assert_true(store_state_final(ST_CANCELLED));
	assert_false(store_state_final(ST_PAUSED));
	assert_false(store_state_final(NULL));
}

/* ---- the pool ---------------------------------------------------- */

struct borrower {
	struct store_pool	*p;
	struct store		*got;
	char			*cause;		/* when got is NULL */
	atomic_int		 done;
};

/* Borrow from the pool, say so, then give it back. */
static void *
borrower_run(void *arg)
{
	struct borrower	*b = arg;
	char		*cause = NULL;
	struct store	*st;

	st = store_pool_get(b->p, &cause);
	b->got = st;
	b->cause = cause;
	atomic_store(&b->done, 1);
	if (st != NULL)
		store_pool_put(b->p);
	return (NULL);
}

/*
 * A thread borrowing again gets the connection it holds (never two);
 * at most max are open, and a borrower waits for one to come back, but
 * not for ever.
 */
static void
test_pool_one_connection_per_thread_bounded(void **state)
{
	struct store_pool	*p;
	struct store		*a, *b;
	struct borrower		 w;
	pthread_t		 th;
	char			*cause = NULL;
	int			 i;

	p = store_pool_create(test_url(), 1);
	assert_int_equal(store_pool_size(p), 0);
	a = store_pool_get(p, &cause);
	assert_non_null(a);
	b = store_pool_get(p, &cause);
	assert_ptr_equal(a, b);
	assert_int_equal(store_ping(b), STORE_OK);
	assert_int_equal(store_pool_size(p), 1);

	memset(&w, 0, sizeof w);
	w.p = p;
	pthread_create(&th, NULL, borrower_run, &w);
	store_pool_put(p);		/* still held: one borrow left */
	usleep(100000);
	assert_false(atomic_load(&w.done));
	store_pool_put(p);		/* now it comes back */
	for (i = 0; i < 100 && !atomic_load(&w.done); i++)
		usleep(20000);
	pthread_join(th, NULL);
	assert_ptr_equal(w.got, a);
	assert_int_equal(store_pool_size(p), 1);
	store_pool_free(p);

	/*
	 * One never given back (a thread stuck on a dead database): a
	 * borrower is told the store is unavailable, not left waiting.
	 */
	p = store_pool_create(test_url(), 1);
	a = store_pool_get(p, &cause);
	assert_non_null(a);
	memset(&w, 0, sizeof w);
	w.p = p;
	pthread_create(&th, NULL, borrower_run, &w);
	pthread_join(th, NULL);
	assert_null(w.got);
	assert_non_null(strstr(w.cause, "came free within"));
	free(w.cause);
	store_pool_put(p);
	store_pool_free(p);

	/* A connection that cannot be opened leaves no slot taken. */
	p = store_pool_create("sqlite:", 1);
	assert_null(store_pool_get(p, &cause));
	assert_non_null(cause);
	free(cause);
	assert_int_equal(store_pool_size(p), 0);
	store_pool_free(p);
}

/* A wrapped connection is lent, not closed by the pool. */
static void
test_pool_wrap_lends_the_callers_connection(void **state)
{
	struct store		*s = *state;
	struct store_pool	*p;
	char			*cause = NULL;

	p = store_pool_wrap(s);
	assert_ptr_equal(store_pool_get(p, &cause), s);
	store_pool_put(p);
	store_pool_free(p);
	assert_int_equal(store_ping(s), STORE_OK);
}

/* ---- lists of objects in memory ----------------------------------- */

/* Names of a list's objects, "a,b". */
static char *
item_names(json_t *arr)
{
	json_t	*v;
	size_t	 i;
	char	*out = xstrdup("");

	json_array_foreach(arr, i, v) {
		out = xstrcat(out, i > 0 ? "," : "");
		out = xstrcat(out, json_string_value(json_object_get(v,
		    "name")));
	}
	json_decref(arr);
	return (out);
}

/* List items with q: rc, and (when STORE_OK) the names want. */
static void
expect_items(const struct store_query *q, json_t *items, enum store_rc rc,
    const char *want)
{
	json_t	*out;
	char	*cause = NULL, *got;

	assert_int_equal(store_list_items("definitions", q, items, &out,
	    &cause), rc);
	if (rc != STORE_OK) {
		assert_non_null(strstr(cause, want));
		free(cause);
		return;
	}
	got = item_names(out);
	assert_string_equal(got, want);
	free(got);
}

/* Definitions in memory follow the store's list rules. */
static void
test_list_items_follow_the_store_rules(void **state)
{
	struct store_filter	 f[2];
	struct store_query	 q;
	const char		*keys[1];
	int			 desc[1];
	json_t			*items;

	items = json_loads("["
	    "{\"id\": \"3\", \"name\": \"c\", \"is_system\": true, "
	    "\"created_at\": \"2024-01-02 00:00:00\", \"source\": null},"
	    "{\"id\": \"1\", \"name\": \"a\", \"is_system\": false, "
	    "\"created_at\": \"2024-01-01 00:00:00\", \"source\": \"x.yaml\"},"
	    "{\"id\": \"2\", \"name\": \"b\", \"is_system\": false, "
	    "\"created_at\": \"2024-01-02 00:00:00\", \"source\": \"api\"}"
	    "]", 0, NULL);
	assert_non_null(items);
	memset(&q, 0, sizeof q);
	expect_items(&q, items, STORE_OK, "a,b,c");	/* created_at, then id */

	/* Descending: ties go by id in the same direction. */
	keys[0] = "created_at";
	desc[0] = 1;
	q.sort_keys = keys;
	q.sort_desc = desc;
	q.nsort = 1;
	expect_items(&q, items, STORE_OK, "c,b,a");

	/* Pages after a marker, in that order. */
	q.marker = "3";
	q.limit = 1;
	expect_items(&q, items, STORE_OK, "b");
	q.marker = "9";
	expect_items(&q, items, STORE_NOTFOUND, "9");
	q.marker = NULL;
	q.limit = 0;
	q.nsort = 0;

	/* Operators, NULLs, booleans and times as in SQL. */
	q.filters = f;
	q.nfilters = 1;
	f[0].field = "source";
	f[0].op = "neq";
	f[0].value = "api";
	expect_items(&q, items, STORE_OK, "a,c");	/* NULL is distinct */
	f[0].op = "nin";
	f[0].value = "api,zzz";
	expect_items(&q, items, STORE_OK, "a");	/* NULL is in nothing */
	f[0].op = "eq";
	f[0].value = NULL;
	expect_items(&q, items, STORE_OK, "c");
	f[0].field = "is_system";
	f[0].value = "true";
	expect_items(&q, items, STORE_OK, "c");
	f[0].field = "created_at";
	f[0].op = "gte";
	f[0].value = "2024-01-01T12:00:00Z";
	f[1].field = "name";
	f[1].op = "has";
	f[1].value = "b";
	q.nfilters = 2;
	expect_items(&q, items, STORE_OK, "b");

	/* The store's errors, word for word. */
	f[1].field = "password";
	expect_items(&q, items, STORE_ERROR,
	    "unknown filter field \"password\"");
	f[1].field = "name";
	f[1].op = "like";
	expect_items(&q, items, STORE_ERROR, "unknown operator \"like\"");
	q.nfilters = 1;
	f[0].value = "yesterday";
	expect_items(&q, items, STORE_ERROR, "bad time \"yesterday\"");
	json_decref(items);
}

/* ---- the alarm intake's decision log ------------------------------- */

/* A received alarm row with a fresh id, received at received_at. */
static void
alarm_row(struct store_alarm *a, int64_t received_at)
{
	memset(a, 0, sizeof *a);
	uuid_make(a->id);
	a->source = (char *)"generic";
	a->route = (char *)"/v1/alarms/generic";
	a->headers = json_pack("{s:s}", "User-Agent", "test");
	a->body = (char *)"{\"key\": \"k\"}";
	a->encoding = (char *)"text";
	a->size = 12;
	a->state = (char *)ST_ALARM_RECEIVED;
	a->status = (char *)"firing";
	a->events = 1;
	a->received_at = received_at;
}

/* A hold of (trigger, key) for an execution. */
static void
hold_row(struct store_alarm_hold *h, char *id, const char *trigger,
    const char *key, const char *exec, int until_resolved)
{
	memset(h, 0, sizeof *h);
	h->id = id;
	h->trigger_name = (char *)trigger;
	h->key = (char *)key;
	h->execution_id = (char *)exec;
	h->alarm_id = (char *)"a";
	h->until_resolved = until_resolved;
}

/* Take hold h for hold_ms; with an event row in the same change set. */
static enum store_rc
take_hold(struct store *s, const struct store_alarm_hold *h, int64_t hold_ms,
    const char *event_id)
{
	struct store_alarm_event	 ev;
	struct store_tx			*tx = store_tx_create();

	memset(&ev, 0, sizeof ev);
	ev.id = (char *)event_id;
	uuid_make(ev.alarm_id);
	ev.source = (char *)"generic";
	ev.key = (char *)"k";
	ev.status = (char *)"firing";
	store_tx_insert(tx, &store_alarm_event_table, &ev);
	store_tx_alarm_hold(tx, h, hold_ms);
	return (commit(s, tx));
}

/*
 * Alarms round-trip and are decided once; a hold of (trigger, key) is
 * taken by one execution until resolved or until its time is over, and
 * a refused one rolls back its whole change set; limit counters count
 * per value within a window; a nonce is accepted once; undecided alarms
 * are found.
 */
static void
test_alarm_log_holds_limits_nonces(void **state)
{
	struct store			*s = *state;
	struct store_alarm		 a, up, *back = NULL, **list = NULL;
	struct store_alarm_hold		 h, **hs = NULL;
	struct store_alarm_limit	 l;
	struct store_alarm_event	*ev = NULL;
	struct store_tx			*tx;
	struct store_filter		 f[2];
	struct store_query		 q;
	char				 trig[32], ev1[64], ev2[64], *hid, *lid;
	char				 nonce[64], **ids = NULL;
	size_t				 n, i, found;

	/* An alarm, stored then decided once. */
	alarm_row(&a, time_now_ms() - 60000);
	tx = store_tx_create();
	store_tx_insert(tx, &store_alarm_table, &a);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_row_load(s, &store_alarm_table, a.id, &back),
	    STORE_OK);
	assert_string_equal(back->state, ST_ALARM_RECEIVED);
	assert_string_equal(back->body, a.body);
	assert_string_equal(json_string_value(json_object_get(back->headers,
	    "User-Agent")), "test");
	assert_int_equal(back->received_at, a.received_at);
	store_row_free(&store_alarm_table, back);
	assert_int_equal(store_alarms_pending(s, time_now_ms() - 1000, 1000,
	    &ids, &n), STORE_OK);
	for (found = 0, i = 0; i < n; i++) {
		found += strcmp(ids[i], a.id) == 0;
		free(ids[i]);
	}
	free(ids);
	assert_int_equal(found, 1);
	memset(&up, 0, sizeof up);
	memcpy(up.id, a.id, UUID_STRLEN);
	up.state = (char *)ST_ALARM_DECIDED;
	up.verdicts = (char *)" started duplicate ";
	up.decided_at = time_now_ms();
	tx = store_tx_create();
	store_tx_update(tx, &store_alarm_table, &up, SF_STATE |
	    SF_ALARM_DECIDED, ST_ALARM_RECEIVED);
	assert_int_equal(commit(s, tx), STORE_OK);
	tx = store_tx_create();
	store_tx_update(tx, &store_alarm_table, &up, SF_STATE |
	    SF_ALARM_DECIDED, ST_ALARM_RECEIVED);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	assert_int_equal(store_alarms_pending(s, time_now_ms(), 1000, &ids,
	    &n), STORE_OK);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(ids[i], a.id);
		free(ids[i]);
	}
	free(ids);
	/* Listed by a verdict it reached, not by one it did not. */
	memset(f, 0, sizeof f);
	f[0].field = "id";
	f[0].value = a.id;
	f[1].field = "verdict";
	f[1].op = "has";
	f[1].value = "duplicate";
	memset(&q, 0, sizeof q);
	q.filters = f;
	q.nfilters = 2;
	assert_int_equal(store_rows_list(s, &store_alarm_table, &q, &list,
	    &n), STORE_OK);
	assert_int_equal(n, 1);
	store_row_free(&store_alarm_table, list[0]);
	free(list);
	f[1].value = "limited";
	assert_int_equal(store_rows_list(s, &store_alarm_table, &q, &list,
	    &n), STORE_OK);
	assert_int_equal(n, 0);
	free(list);
	json_decref(a.headers);

	/* A hold until resolved: one execution, whatever comes next. */
	snprintf(trig, sizeof trig, "t-%08lx", (unsigned long)random());
	hid = store_alarm_hold_id(trig, "host \"1\"");
	assert_string_equal(strchr(hid, ','), ",\"host \\\"1\\\"\"]");
	snprintf(ev1, sizeof ev1, "%s/ev1", trig);
	snprintf(ev2, sizeof ev2, "%s/ev2", trig);
	hold_row(&h, hid, trig, "host \"1\"", "exec-1", 1);
	assert_int_equal(take_hold(s, &h, 0, ev1), STORE_OK);
	h.execution_id = (char *)"exec-2";
	assert_int_equal(take_hold(s, &h, 0, ev2), STORE_CONFLICT);
	/* Nothing of the refused change set was applied. */
	assert_int_equal(store_row_load(s, &store_alarm_event_table, ev2, &ev),
	    STORE_NOTFOUND);
	assert_int_equal(store_alarm_holds_load(s, &hid, 1, &hs, &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(hs[0]->execution_id, "exec-1");
	assert_int_equal(hs[0]->resolved_at, 0);
	store_row_free(&store_alarm_hold_table, hs[0]);
	free(hs);
	/* Resolved: free again, taken by the next execution. */
	tx = store_tx_create();
	store_tx_alarm_release(tx, hid);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(take_hold(s, &h, 0, ev2), STORE_OK);
	/* A time hold: taken for 60 s, refused meanwhile. */
	h.until_resolved = 0;
	h.execution_id = (char *)"exec-3";
	tx = store_tx_create();
	store_tx_alarm_release(tx, hid);
	assert_int_equal(commit(s, tx), STORE_OK);
	snprintf(ev1, sizeof ev1, "%s/ev3", trig);
	assert_int_equal(take_hold(s, &h, 60000, ev1), STORE_OK);
	snprintf(ev1, sizeof ev1, "%s/ev4", trig);
	assert_int_equal(take_hold(s, &h, 0, ev1), STORE_CONFLICT);
	free(hid);
	/* A hold of neither kind never refuses: it names the latest. */
	hid = store_alarm_hold_id(trig, "other");
	hold_row(&h, hid, trig, "other", "exec-5", 0);
	snprintf(ev1, sizeof ev1, "%s/ev5", trig);
	assert_int_equal(take_hold(s, &h, 0, ev1), STORE_OK);
	h.execution_id = (char *)"exec-6";
	snprintf(ev1, sizeof ev1, "%s/ev6", trig);
	assert_int_equal(take_hold(s, &h, 0, ev1), STORE_OK);
	assert_int_equal(store_alarm_holds_load(s, &hid, 1, &hs, &n),
	    STORE_OK);
	assert_string_equal(hs[0]->execution_id, "exec-6");
	store_row_free(&store_alarm_hold_table, hs[0]);
	free(hs);
	free(hid);

	/* A limit of 2 per window for each value. */
	memset(&l, 0, sizeof l);
	lid = store_alarm_hold_id(trig, "compute-1");
	l.id = lid;
	l.trigger_name = trig;
	l.by_value = (char *)"compute-1";
	l.window_ms = 600000;
	for (i = 0; i < 3; i++) {
		tx = store_tx_create();
		store_tx_alarm_limit(tx, &l, 2);
		assert_int_equal(commit(s, tx), i < 2 ? STORE_OK :
		    STORE_CONFLICT);
	}
	free(lid);
	lid = store_alarm_hold_id(trig, "compute-2");
	l.id = lid;
	tx = store_tx_create();
	store_tx_alarm_limit(tx, &l, 2);
	assert_int_equal(commit(s, tx), STORE_OK);
	/* A window that is over opens another. */
	l.window_ms = 1;
	tx = store_tx_create();
	store_tx_alarm_limit(tx, &l, 1);
	store_tx_alarm_limit(tx, &l, 1);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	usleep(20000);
	tx = store_tx_create();
	store_tx_alarm_limit(tx, &l, 1);
	assert_int_equal(commit(s, tx), STORE_OK);
	free(lid);

	/* A nonce once, until it expires. */
	snprintf(nonce, sizeof nonce, "grafana:%08lx", (unsigned long)random());
	tx = store_tx_create();
	store_tx_alarm_nonce(tx, nonce, time_now_ms() + 60000);
	assert_int_equal(commit(s, tx), STORE_OK);
	tx = store_tx_create();
	store_tx_alarm_nonce(tx, nonce, time_now_ms() + 60000);
	assert_int_equal(commit(s, tx), STORE_CONFLICT);
	snprintf(nonce, sizeof nonce, "grafana:%08lx", (unsigned long)random());
	tx = store_tx_create();
	store_tx_alarm_nonce(tx, nonce, time_now_ms() - 1);
	assert_int_equal(commit(s, tx), STORE_OK);
	tx = store_tx_create();
	store_tx_alarm_nonce(tx, nonce, time_now_ms() + 60000);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_alarm_nonces_reap(s), STORE_OK);
}

/* One thread of the group commit test: n inserts of its own. */
struct grouper {
	const char		*url;
	struct store_group	*g;
	const char		*source;
	int			 n;
	int			 ok;
};

static void *
grouper_run(void *arg)
{
	struct grouper			*w = arg;
	struct store_alarm_auth_failure	 f;
	struct store_tx			*tx;
	struct store			*st;
	char				*cause = NULL;
	int				 i;

	if ((st = store_open(w->url, &cause)) == NULL) {
		free(cause);
		return (NULL);
	}
	memset(&f, 0, sizeof f);
	f.source = (char *)w->source;
	for (i = 0; i < w->n; i++) {
		tx = store_tx_create();
		store_tx_insert(tx, &store_alarm_auth_failure_table, &f);
		if (store_group_commit(w->g, st, tx) == STORE_OK)
			w->ok++;
		store_tx_free(tx);
	}
	store_close(st);
	return (NULL);
}

/*
 * Group commit: the change sets of threads committing at once all land,
 * in fewer transactions than change sets under contention; a change set
 * whose guard fails fails alone.
 */
static void
test_group_commit_batches_each_all_or_nothing(void **state)
{
	struct store		*s = *state;
	struct store_group	*g;
	struct grouper		 w[8];
	pthread_t		 th[8];
	struct store_tx		*tx;
	struct store_alarm	 up;
	struct store_filter	 f;
	struct store_query	 q;
	struct store_alarm_auth_failure **rows = NULL;
	char			 path[] = "/tmp/bora-test-group-XXXXXX", *url;
	char			 source[32], *cause = NULL;
	uint64_t		 commits, sets;
	size_t			 i, n;
	int			 fd;

	url = NULL;
	if (strstr(test_url(), ":memory:") != NULL) {
		/* Several connections need one database: a file. */
		assert_true((fd = mkstemp(path)) >= 0);
		close(fd);
		xasprintf(&url, "sqlite:%s", path);
		s = store_open(url, &cause);
		assert_non_null(s);
	} else
		url = xstrdup(test_url());
	snprintf(source, sizeof source, "group-%08lx", (unsigned long)random());
	g = store_group_create();
	for (i = 0; i < nitems(w); i++) {
		w[i].url = url;
		w[i].g = g;
		w[i].source = source;
		w[i].n = 40;
		w[i].ok = 0;
		pthread_create(&th[i], NULL, grouper_run, &w[i]);
	}
	for (i = 0; i < nitems(w); i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 40);
	}
	store_group_stats(g, &commits, &sets);
	assert_int_equal(sets, 320);
	assert_true(commits <= sets);
	memset(&f, 0, sizeof f);
	f.field = "source";
	f.value = source;
	memset(&q, 0, sizeof q);
	q.filters = &f;
	q.nfilters = 1;
	assert_int_equal(store_rows_list(s, &store_alarm_auth_failure_table,
	    &q, &rows, &n), STORE_OK);
	assert_int_equal(n, 320);
	for (i = 0; i < n; i++)
		store_row_free(&store_alarm_auth_failure_table, rows[i]);
	free(rows);

	/* A failed guard is that change set's outcome only. */
	memset(&up, 0, sizeof up);
	uuid_make(up.id);
	up.state = (char *)ST_ALARM_DECIDED;
	tx = store_tx_create();
	store_tx_update(tx, &store_alarm_table, &up, SF_STATE,
	    ST_ALARM_RECEIVED);
	assert_int_equal(store_group_commit(g, s, tx), STORE_CONFLICT);
	assert_non_null(strstr(store_error(s), up.id));
	store_tx_free(tx);
	store_group_free(g);
	if (strstr(test_url(), ":memory:") != NULL) {
		store_close(s);
		unlink(path);
	}
	free(url);
}

/* An alarm of state st received at t, with n events and n verdicts. */
static void
old_alarm(struct store *s, struct store_alarm *a, const char *st, int64_t t,
    int n)
{
	struct store_alarm_event	 ev;
	struct store_alarm_decision	 d;
	struct store_tx			*tx = store_tx_create();
	char				 id[64];
	int				 i;

	alarm_row(a, t);
	a->state = (char *)st;
	store_tx_insert(tx, &store_alarm_table, a);
	for (i = 0; i < n; i++) {
		memset(&ev, 0, sizeof ev);
		snprintf(id, sizeof id, "%s/%d", a->id, i);
		ev.id = id;
		memcpy(ev.alarm_id, a->id, UUID_STRLEN);
		ev.seq = i;
		ev.source = (char *)"generic";
		ev.key = (char *)"k";
		ev.status = (char *)"firing";
		store_tx_insert(tx, &store_alarm_event_table, &ev);
		memset(&d, 0, sizeof d);
		snprintf(id, sizeof id, "%s/%d/0", a->id, i);
		d.id = id;
		memcpy(d.alarm_id, a->id, UUID_STRLEN);
		d.seq = i;
		d.trigger_name = (char *)"t";
		d.verdict = (char *)"when_false";
		store_tx_insert(tx, &store_alarm_decision_table, &d);
	}
	assert_int_equal(commit(s, tx), STORE_OK);
	json_decref(a->headers);
	a->headers = NULL;
}

/* 1 if a row of t is still stored. */
static int
row_kept(struct store *s, const struct store_table *t, const char *id)
{
	void		*row = NULL;
	enum store_rc	 rc;

	rc = store_row_load(s, t, id, &row);
	store_row_free(t, row);
	return (rc == STORE_OK);
}
#define alarm_kept(s, id)	row_kept(s, &store_alarm_table, id)
#define message_kept(s, id)	row_kept(s, &store_message_table, id)

/*
 * Retention of alarms: old decided and invalid ones go in batches with
 * their events and verdicts; one not decided yet, one whose hold is in
 * force and a recent one stay; released, the held one goes.  (Times
 * of 1970, so that rows of other tests on a shared database stay.)
 */
static void
test_alarm_purge_batches_keeps_pending_held_recent(void **state)
{
	struct store			*s = *state;
	struct store_alarm		 a[6];
	struct store_alarm_hold		 h;
	struct store_alarm_purged	 p;
	struct store_tx			*tx;
	char				 trig[32], *hid;

	old_alarm(s, &a[0], ST_ALARM_DECIDED, 1000, 2);
	old_alarm(s, &a[1], ST_ALARM_INVALID, 1001, 0);
	old_alarm(s, &a[2], ST_ALARM_RECEIVED, 1002, 0);
	old_alarm(s, &a[3], ST_ALARM_DECIDED, 1003, 1);
	old_alarm(s, &a[4], ST_ALARM_DECIDED, 1004, 1);
	old_alarm(s, &a[5], ST_ALARM_DECIDED, time_now_ms(), 1);
	snprintf(trig, sizeof trig, "p-%08lx", (unsigned long)random());
	hid = store_alarm_hold_id(trig, "k");
	hold_row(&h, hid, trig, "k", "exec-1", 1);
	h.alarm_id = a[3].id;
	tx = store_tx_create();
	store_tx_alarm_hold(tx, &h, 0);
	assert_int_equal(commit(s, tx), STORE_OK);

	assert_int_equal(store_alarm_purge(s, 10000, 2, &p), STORE_OK);
	assert_int_equal(p.alarms, 2);
	assert_int_equal(p.events, 2);
	assert_int_equal(p.decisions, 2);
	assert_false(alarm_kept(s, a[0].id));
	assert_false(alarm_kept(s, a[1].id));
	assert_int_equal(store_alarm_purge(s, 10000, 2, &p), STORE_OK);
	assert_int_equal(p.alarms, 1);
	assert_int_equal(p.events, 1);
	assert_false(alarm_kept(s, a[4].id));
	assert_int_equal(store_alarm_purge(s, 10000, 2, &p), STORE_OK);
	assert_int_equal(p.alarms, 0);
	assert_true(alarm_kept(s, a[2].id));	/* not decided */
	assert_true(alarm_kept(s, a[3].id));	/* held */
	assert_true(alarm_kept(s, a[5].id));	/* recent */
	/* Resolved, the hold is over: its alarm goes. */
	tx = store_tx_create();
	store_tx_alarm_release(tx, hid);
	assert_int_equal(commit(s, tx), STORE_OK);
	assert_int_equal(store_alarm_purge(s, 10000, 2, &p), STORE_OK);
	assert_int_equal(p.alarms, 1);
	assert_false(alarm_kept(s, a[3].id));
	assert_true(alarm_kept(s, a[2].id));
	free(hid);
}

/* Record limit l's storm message m (a fresh id) in a change set. */
static enum store_rc
limit_message(struct store *s, const struct store_alarm_limit *l,
    int take, struct store_message *m)
{
	struct store_tx	*tx = store_tx_create();

	uuid_make(m->id);
	if (take)
		store_tx_alarm_limit(tx, l, 100);
	store_tx_alarm_limit_message(tx, l->id, m);
	return (commit(s, tx));
}

/*
 * A limit's storm message is recorded once per window, whatever the
 * number of alarms turned away (in one change set or several); a new
 * window has one of its own.
 */
static void
test_alarm_limit_message_once_per_window(void **state)
{
	struct store		*s = *state;
	struct store_alarm_limit l;
	struct store_message	 m;
	char			 trig[32], first[UUID_STRLEN], *lid;

	snprintf(trig, sizeof trig, "m-%08lx", (unsigned long)random());
	lid = store_alarm_hold_id(trig, "compute-1");
	memset(&l, 0, sizeof l);
	l.id = lid;
	l.trigger_name = trig;
	l.by_value = (char *)"compute-1";
	l.window_ms = 600000;
	memset(&m, 0, sizeof m);
	m.event_id = (char *)"BORA-ALM-002";
	m.message = (char *)"storm";
	m.request_id = (char *)"req-1";
	m.resource_type = (char *)"trigger";
	m.resource_uuid = trig;
	m.level = (char *)"WARNING";
	m.project_id = (char *)"p";
	/* The window opened in the same change set counts. */
	assert_int_equal(limit_message(s, &l, 1, &m), STORE_OK);
	assert_true(message_kept(s, m.id));
	memcpy(first, m.id, UUID_STRLEN);
	assert_int_equal(limit_message(s, &l, 0, &m), STORE_OK);
	assert_false(message_kept(s, m.id));
	assert_int_equal(limit_message(s, &l, 1, &m), STORE_OK);
	assert_false(message_kept(s, m.id));
	assert_true(message_kept(s, first));
	/* A window that is over: the next one tells again, once. */
	l.window_ms = 1;
	usleep(20000);
	assert_int_equal(limit_message(s, &l, 1, &m), STORE_OK);
	assert_true(message_kept(s, m.id));
	memcpy(first, m.id, UUID_STRLEN);
	assert_int_equal(limit_message(s, &l, 0, &m), STORE_OK);
	assert_false(message_kept(s, m.id));
	/* Without a counter there is nothing to tell. */
	free(lid);
	lid = store_alarm_hold_id(trig, "no-counter");
	l.id = lid;
	assert_int_equal(limit_message(s, &l, 0, &m), STORE_OK);
	assert_false(message_kept(s, m.id));
	free(lid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_unknown_scheme_is_refused),
		cmocka_unit_test(test_reopen_is_idempotent),
		cmocka_unit_test(
		    test_sqlite_file_migrations_and_newer_schema_refused),
		cmocka_unit_test_setup_teardown(
		    test_migrations_only_what_is_missing, setup, teardown),
		cmocka_unit_test(test_sqlite_long_reader_does_not_stall_commits),
		cmocka_unit_test(test_json_columns_and_time_values),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_exec_roundtrips_every_field),
		T(test_task_action_work_event_message_roundtrip),
		T(test_tasks_get_creation_order),
		T(test_update_writes_only_masked_fields),
		T(test_updates_of_one_row_fold),
		T(test_guard_conflict_rolls_back_whole_change_set),
		T(test_commit_many_rolls_back_only_the_failed_set),
		T(test_locks_exclusive_reentrant_released_with_execution),
		T(test_work_due_order_and_delete_conflict),
		T(test_definitions_versions_current_deleted_generation),
		T(test_workflow_identity_stable_across_versions),
		T(test_leases_claim_renew_release_takeover),
		T(test_two_connections_never_claim_the_same_execution),
		T(test_claim_batches_oldest_first_with_due_parked_work),
		T(test_list_filters_sort_marker_limit),
		T(test_task_and_action_lists_filter_by_joined_names),
		T(test_message_reap_and_delete),
		T(test_exec_delete_cascades_to_everything_under_it),
		T(test_exec_children_and_counts),
		T(test_cron_tick_fires_once_then_last_deletes),
		T(test_env_roundtrip_update_unique),
		T(test_outbox_in_order_per_stream_claims_and_dead_letters),
		T(test_purge_old_finished_roots_and_reap_lock),
		T(test_purge_counts_rows_by_kind),
		T(test_pool_wrap_lends_the_callers_connection),
		T(test_alarm_log_holds_limits_nonces),
		T(test_alarm_purge_batches_keeps_pending_held_recent),
		T(test_alarm_limit_message_once_per_window),
		T(test_group_commit_batches_each_all_or_nothing),
#undef T
		cmocka_unit_test(test_pool_one_connection_per_thread_bounded),
		cmocka_unit_test(test_list_items_follow_the_store_rules),
	};

	srandom((unsigned)time_now_ms() ^ (unsigned)getpid());
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
