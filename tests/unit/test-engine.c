/*
 * test-engine.c -- the interpreter through its public calls, on a private
 * in-memory store: definitions, data flow, failures, retries, items,
 * joins, input checks, pause and resume, re-runs, sub-workflows and
 * asynchronous actions; and the state machines' tables of legal moves.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "lib/lib.h"
#include "dsl/dsl.h"
#include "engine/engine-int.h"
#include "store/store.h"

/* Upper bound for any run in these tests. */
#define RUN_LIMIT_MS	20000

/* Open an engine on a fresh in-memory database. */
static int
setup(void **state)
{
	struct engine_config	 cfg;
	struct engine		*e;
	char			*cause = NULL;

	memset(&cfg, 0, sizeof cfg);
	cfg.db_url = "sqlite::memory:";
#ifdef BORA_SRCDIR
	cfg.lua_dir = BORA_SRCDIR "/lua";
#endif
	if ((e = engine_open(&cfg, &cause)) == NULL) {
		fprintf(stderr, "engine_open: %s\n", cause);
		free(cause);
		return (-1);
	}
	*state = e;
	return (0);
}

static int
teardown(void **state)
{
	engine_close(*state);
	return (0);
}

/* Load a workflow text that must be valid. */
static void
load(struct engine *e, const char *text)
{
	struct dsl_errors	 errs;
	char			*msg;

	dsl_errors_init(&errs);
	if (engine_def_load(e, "workflows", NULL, text, NULL, 0, &errs,
	    NULL) != STORE_OK) {
		msg = dsl_errors_format(&errs);
		fail_msg("definition refused:\n%s", msg);
	}
	assert_int_equal(errs.n, 0);
	dsl_errors_free(&errs);
}

/* Start a workflow with a JSON input text (or NULL); id into out. */
static void
start(struct engine *e, const char *wf, const char *input, char *out)
{
	struct engine_start_opts so;
	struct store_exec	*ex = NULL;
	json_error_t		 jerr;
	char			*cause = NULL;

	memset(&so, 0, sizeof so);
	so.workflow = wf;
	if (input != NULL && (so.input = json_loads(input, 0, &jerr)) == NULL)
		fail_msg("bad test input %s: %s", input, jerr.text);
	if (engine_exec_start(e, &so, &ex, &cause) != STORE_OK)
		fail_msg("start %s: %s", wf, cause);
	assert_non_null(ex);
	assert_string_equal(ex->state, "RUNNING");
	snprintf(out, UUID_STRLEN, "%s", ex->id);
	store_exec_free(ex);
	json_decref(so.input);
}

/*
 * Run until a final or PAUSED state (or timeout_ms); returns the
 * engine_run_until code and the state in st.
 */
static enum store_rc
run(struct engine *e, const char *id, int64_t timeout_ms, char *st,
    size_t stlen)
{
	struct store_exec	*ex = NULL;
	enum store_rc		 rc;

	rc = engine_run_until(e, id, timeout_ms, &ex);
	assert_non_null(ex);
	snprintf(st, stlen, "%s", ex->state);
	store_exec_free(ex);
	return (rc);
}

/* Run to the end and return the execution as JSON. */
static json_t *
run_json(struct engine *e, const char *id)
{
	char	 st[32];
	json_t	*o;

	if (run(e, id, RUN_LIMIT_MS, st, sizeof st) != STORE_OK)
		fail_msg("execution %s did not finish: still %s", id, st);
	o = engine_exec_json(e, id);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    st);
	return (o);
}

static const char *
jstr(json_t *o, const char *key)
{
	return (json_string_value(json_object_get(o, key)));
}

/* The last task row named name, or NULL. */
static json_t *
task_get(json_t *o, const char *name)
{
	json_t	*t, *found = NULL;
	size_t	 i;

	json_array_foreach(json_object_get(o, "tasks"), i, t)
		if (strcmp(jstr(t, "name"), name) == 0)
			found = t;
	return (found);
}

/* The number of task rows named name. */
static size_t
task_count(json_t *o, const char *name)
{
	json_t	*t;
	size_t	 i, n = 0;

	json_array_foreach(json_object_get(o, "tasks"), i, t)
		if (strcmp(jstr(t, "name"), name) == 0)
			n++;
	return (n);
}

/* The task named name, which must exist. */
static json_t *
task_must(json_t *o, const char *name)
{
	json_t	*t;
	char	*dump;

	if ((t = task_get(o, name)) == NULL) {
		dump = json_dumps(o, JSON_INDENT(1));
		fail_msg("no task %s in\n%s", name, dump);
	}
	return (t);
}

/* Assert that a JSON value equals a JSON text. */
static void
assert_json(json_t *v, const char *text)
{
	json_t	*want;
	char	*got;

	want = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(want);
	if (v == NULL || !json_equal(v, want)) {
		got = v != NULL ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		fail_msg("got %s, expected %s", got != NULL ? got : "(none)",
		    text);
	}
	json_decref(want);
}

/* Assert that a string contains a piece. */
static void
assert_contains(const char *s, const char *piece)
{
	if (s == NULL || strstr(s, piece) == NULL)
		fail_msg("'%s' does not contain '%s'", s != NULL ? s :
		    "(null)", piece);
}

/* The action executions of a task row. */
static size_t
actions_of(struct engine *e, json_t *task, struct store_action ***acts)
{
	size_t	 n = 0;

	*acts = NULL;
	assert_int_equal(store_actions_load(engine_store(e), jstr(task, "id"),
	    acts, &n), STORE_OK);
	return (n);
}

static void
actions_free(struct store_action **acts, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		store_action_free(acts[i]);
	free(acts);
}

/* ---- tests --------------------------------------------------------- */

/* A chain: published data flows forward, output is built from it. */
static void
test_chain(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN];
	json_t		*o;

	load(e, "version: '2.0'\n"
	    "chain:\n"
	    "  input:\n"
	    "    - who\n"
	    "  output:\n"
	    "    greeting: <% _.greeting %>\n"
	    "    n: <% _.n %>\n"
	    "  tasks:\n"
	    "    t1:\n"
	    "      action: std.echo output=\"hello <% _.who %>\"\n"
	    "      publish:\n"
	    "        greeting: <% task().result %>\n"
	    "      on-success: t2\n"
	    "    t2:\n"
	    "      action: std.echo\n"
	    "      input:\n"
	    "        output: <% string.len(_.greeting) %>\n"
	    "      publish:\n"
	    "        n: <% task().result + 1 %>\n"
	    "      on-success: t3\n"
	    "    t3:\n"
	    "      action: std.noop\n");
	start(e, "chain", "{\"who\": \"bob\"}", id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_json(json_object_get(o, "output"),
	    "{\"greeting\": \"hello bob\", \"n\": 10}");
	assert_int_equal(json_array_size(json_object_get(o, "tasks")), 3);
	assert_json(json_object_get(task_must(o, "t1"), "result"),
	    "\"hello bob\"");
	assert_json(json_object_get(task_must(o, "t1"), "published"),
	    "{\"greeting\": \"hello bob\"}");
	assert_json(json_object_get(task_must(o, "t2"), "result"), "9");
	assert_string_equal(jstr(task_must(o, "t3"), "state"), "SUCCESS");
	/* Creation order follows the chain. */
	assert_string_equal(jstr(json_array_get(json_object_get(o, "tasks"),
	    0), "name"), "t1");
	assert_string_equal(jstr(json_array_get(json_object_get(o, "tasks"),
	    2), "name"), "t3");
	json_decref(o);
}

/* A failing publish expression fails the task and the execution. */
static void
test_publish_error(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN];
	json_t		*o, *t;

	load(e, "version: '2.0'\n"
	    "pub_err:\n"
	    "  tasks:\n"
	    "    t1:\n"
	    "      action: std.echo output=1\n"
	    "      publish:\n"
	    "        bad_field: <% task().result.nope.deeper %>\n"
	    "      on-success: t2\n"
	    "    t2:\n"
	    "      action: std.noop\n");
	start(e, "pub_err", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	t = task_must(o, "t1");
	assert_string_equal(jstr(t, "state"), "ERROR");
	assert_contains(jstr(t, "state_info"), "t1");
	assert_contains(jstr(t, "state_info"), "publish");
	assert_contains(jstr(t, "state_info"), "task().result.nope.deeper");
	assert_int_equal(task_count(o, "t2"), 0);
	assert_contains(jstr(o, "state_info"), "t1");
	json_decref(o);
}

/* retry count 3 delay 0 on std.fail: four attempts, then ERROR. */
static void
test_retry(void **state)
{
	struct engine		*e = *state;
	struct store_action	**acts;
	char			 id[UUID_STRLEN];
	json_t			*o, *t;
	size_t			 n, i;

	load(e, "version: '2.0'\n"
	    "retry_wf:\n"
	    "  tasks:\n"
	    "    flaky:\n"
	    "      action: std.fail error_data=boom\n"
	    "      retry:\n"
	    "        count: 3\n"
	    "        delay: 0\n");
	start(e, "retry_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_int_equal(task_count(o, "flaky"), 1);
	t = task_must(o, "flaky");
	assert_string_equal(jstr(t, "state"), "ERROR");
	assert_contains(jstr(t, "state_info"), "boom");
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_int_equal(acts[i]->attempt, (int)i);
		assert_string_equal(acts[i]->state, "ERROR");
		assert_string_equal(acts[i]->name, "std.fail");
	}
	actions_free(acts, n);
	json_decref(o);
}

/* Nothing stays RUNNING: a timeout closes the action it interrupts,
 * and an execution cancelled mid-action closes its actions too. */
static void
test_timeout_closes_actions(void **state)
{
	struct engine		*e = *state;
	struct store_action	**acts;
	char			 id[UUID_STRLEN], st[32], *cause = NULL;
	json_t			*o, *t;
	size_t			 n;

	load(e, "version: '2.0'\n"
	    "slow_wf:\n"
	    "  tasks:\n"
	    "    slow:\n"
	    "      action: std.sleep seconds=30\n"
	    "      timeout: 0.2\n");
	start(e, "slow_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	t = task_must(o, "slow");
	assert_contains(jstr(t, "state_info"), "timed out");
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 1);
	assert_string_equal(acts[0]->state, "ERROR");
	assert_contains(acts[0]->state_info, "timed out");
	actions_free(acts, n);
	json_decref(o);

	load(e, "version: '2.0'\n"
	    "wait_wf:\n"
	    "  tasks:\n"
	    "    hold:\n"
	    "      action: std.async_noop\n");
	start(e, "wait_wf", NULL, id);
	assert_int_equal(run(e, id, 200, st, sizeof st), STORE_UNAVAILABLE);
	assert_string_equal(st, "RUNNING");
	assert_int_equal(engine_exec_set_state(e, id, "CANCELLED", "enough",
	    &cause), STORE_OK);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "CANCELLED");
	t = task_must(o, "hold");
	assert_string_equal(jstr(t, "state"), "CANCELLED");
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 1);
	assert_string_equal(acts[0]->state, "CANCELLED");
	actions_free(acts, n);
	json_decref(o);
}

/* with-items: one result per item, in item order, even when the items
 * finish out of order. */
static void
test_with_items(void **state)
{
	struct engine		*e = *state;
	struct store_action	**acts;
	char			 id[UUID_STRLEN];
	json_t			*o, *t;
	size_t			 n;

	load(e, "version: '2.0'\n"
	    "items_wf:\n"
	    "  input:\n"
	    "    - nums: [3, 1, 2]\n"
	    "  tasks:\n"
	    "    work:\n"
	    "      with-items: x in <% _.nums %>\n"
	    "      action: std.echo output=<% _.x * 10 %> "
	    "delay=<% _.x / 10 %>\n"
	    "  output:\n"
	    "    r: <% task('work').result %>\n");
	start(e, "items_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_int_equal(task_count(o, "work"), 1);
	t = task_must(o, "work");
	assert_json(json_object_get(t, "result"), "[30, 10, 20]");
	assert_json(json_object_get(o, "output"), "{\"r\": [30, 10, 20]}");
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 3);
	actions_free(acts, n);
	json_decref(o);
}

/* join: all waits for both branches and sees what each published. */
static void
test_join(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN];
	json_t		*o, *tasks;

	load(e, "version: '2.0'\n"
	    "join_wf:\n"
	    "  tasks:\n"
	    "    start:\n"
	    "      action: std.noop\n"
	    "      on-success: [a, b]\n"
	    "    a:\n"
	    "      action: std.echo output=1\n"
	    "      publish:\n"
	    "        va: <% task().result %>\n"
	    "      on-success: j\n"
	    "    b:\n"
	    "      action: std.echo output=2 delay=0.2\n"
	    "      publish:\n"
	    "        vb: <% task().result %>\n"
	    "      on-success: j\n"
	    "    j:\n"
	    "      join: all\n"
	    "      action: std.echo output=<% _.va + _.vb %>\n"
	    "  output:\n"
	    "    total: <% task('j').result %>\n");
	start(e, "join_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_int_equal(task_count(o, "j"), 1);
	assert_json(json_object_get(task_must(o, "j"), "result"), "3");
	assert_json(json_object_get(o, "output"), "{\"total\": 3}");
	tasks = json_object_get(o, "tasks");
	/* j comes after the slower branch. */
	assert_string_equal(jstr(json_array_get(tasks,
	    json_array_size(tasks) - 1), "name"), "j");
	json_decref(o);
}

/* Input: missing and unexpected keys are refused; defaults apply. */
static void
test_input_validation(void **state)
{
	struct engine		*e = *state;
	struct engine_start_opts so;
	struct store_exec	*ex = NULL;
	char			*cause = NULL, id[UUID_STRLEN];
	json_t			*o;

	load(e, "version: '2.0'\n"
	    "in_wf:\n"
	    "  input:\n"
	    "    - need_me\n"
	    "    - opt: 5\n"
	    "  output:\n"
	    "    sum: <% _.need_me + _.opt %>\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.noop\n");

	memset(&so, 0, sizeof so);
	so.workflow = "in_wf";
	so.input = json_object();
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause), STORE_ERROR);
	assert_null(ex);
	assert_contains(cause, "missing");
	assert_contains(cause, "need_me");
	free(cause);
	cause = NULL;

	json_object_set_new(so.input, "need_me", json_integer(1));
	json_object_set_new(so.input, "surprise", json_integer(2));
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause), STORE_ERROR);
	assert_null(ex);
	assert_contains(cause, "unexpected");
	assert_contains(cause, "surprise");
	free(cause);
	cause = NULL;
	json_decref(so.input);

	/* An unknown workflow. */
	so.workflow = "no_such_wf";
	so.input = NULL;
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause),
	    STORE_NOTFOUND);
	assert_contains(cause, "no_such_wf");
	free(cause);

	start(e, "in_wf", "{\"need_me\": 10}", id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_json(json_object_get(o, "input"),
	    "{\"need_me\": 10, \"opt\": 5}");
	assert_json(json_object_get(o, "output"), "{\"sum\": 15}");
	json_decref(o);
}

/* A start with a client id given twice gives the same execution. */
static void
test_idempotent_start(void **state)
{
	struct engine		*e = *state;
	struct engine_start_opts so;
	struct store_exec	*a = NULL, *b = NULL;
	struct store_task	**ts = NULL;
	char			*cause = NULL, cid[UUID_STRLEN];
	size_t			 n = 0, i;

	load(e, "version: '2.0'\n"
	    "idem_wf:\n"
	    "  input:\n"
	    "    - v\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.echo output=<% _.v %>\n");
	uuid_make(cid);
	memset(&so, 0, sizeof so);
	so.workflow = "idem_wf";
	so.id = cid;
	so.input = json_pack("{s:i}", "v", 1);
	assert_int_equal(engine_exec_start(e, &so, &a, &cause), STORE_OK);
	assert_string_equal(a->id, cid);
	json_decref(so.input);

	/* Different input the second time: ignored, same row back. */
	so.input = json_pack("{s:i}", "v", 2);
	assert_int_equal(engine_exec_start(e, &so, &b, &cause), STORE_OK);
	assert_string_equal(b->id, cid);
	assert_int_equal(a->created_at, b->created_at);
	assert_json(b->input, "{\"v\": 1}");
	json_decref(so.input);
	store_exec_free(b);
	b = NULL;

	assert_int_equal(engine_run_until(e, cid, RUN_LIMIT_MS, &b), STORE_OK);
	assert_string_equal(b->state, "SUCCESS");
	/* Once again after the end: still that one, nothing new runs. */
	store_exec_free(b);
	b = NULL;
	so.input = NULL;
	assert_int_equal(engine_exec_start(e, &so, &b, &cause), STORE_OK);
	assert_string_equal(b->state, "SUCCESS");
	assert_int_equal(store_tasks_load(engine_store(e), cid, &ts, &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	assert_json(ts[0]->result, "1");
	for (i = 0; i < n; i++)
		store_task_free(ts[i]);
	free(ts);

	/* A client id that is not a UUID is refused. */
	so.id = "not-a-uuid";
	so.input = json_pack("{s:i}", "v", 3);
	store_exec_free(b);
	b = NULL;
	assert_int_equal(engine_exec_start(e, &so, &b, &cause), STORE_ERROR);
	assert_contains(cause, "not-a-uuid");
	free(cause);
	json_decref(so.input);
	store_exec_free(a);
}

/* Pause while a task runs: nothing new starts until resumed. */
static void
test_pause_resume(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN], st[32], *cause = NULL;
	json_t		*o, *t2;

	load(e, "version: '2.0'\n"
	    "pause_wf:\n"
	    "  tasks:\n"
	    "    t1:\n"
	    "      action: std.sleep seconds=0.5\n"
	    "      on-success: t2\n"
	    "    t2:\n"
	    "      action: std.echo output=done\n");
	start(e, "pause_wf", NULL, id);
	/* Let t1 start, then pause. */
	assert_int_equal(run(e, id, 150, st, sizeof st), STORE_UNAVAILABLE);
	assert_string_equal(st, "RUNNING");
	assert_int_equal(engine_exec_set_state(e, id, "PAUSED", "by test",
	    &cause), STORE_OK);
	assert_int_equal(run(e, id, RUN_LIMIT_MS, st, sizeof st), STORE_OK);
	assert_string_equal(st, "PAUSED");

	o = engine_exec_json(e, id);
	assert_string_equal(jstr(o, "state"), "PAUSED");
	assert_string_equal(jstr(task_must(o, "t1"), "state"), "SUCCESS");
	t2 = task_get(o, "t2");
	if (t2 != NULL && strcmp(jstr(t2, "state"), "IDLE") != 0)
		fail_msg("t2 is %s while paused", jstr(t2, "state"));
	json_decref(o);

	/* Staying paused: a short run returns at once, still PAUSED. */
	assert_int_equal(run(e, id, 300, st, sizeof st), STORE_OK);
	assert_string_equal(st, "PAUSED");

	/* A bad state is refused. */
	assert_int_equal(engine_exec_set_state(e, id, "BOGUS", NULL, &cause),
	    STORE_ERROR);
	assert_contains(cause, "BOGUS");
	free(cause);
	cause = NULL;

	assert_int_equal(engine_exec_set_state(e, id, "RUNNING", NULL,
	    &cause), STORE_OK);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_int_equal(task_count(o, "t2"), 1);
	assert_json(json_object_get(task_must(o, "t2"), "result"), "\"done\"");
	json_decref(o);

	/* A finished execution cannot change state. */
	assert_int_equal(engine_exec_set_state(e, id, "PAUSED", NULL, &cause),
	    STORE_CONFLICT);
	assert_contains(cause, "SUCCESS");
	free(cause);
}

/* Re-run of a failed task: a new attempt, the execution runs again. */
static void
test_task_rerun(void **state)
{
	struct engine		*e = *state;
	struct store_action	**acts;
	char			 id[UUID_STRLEN], tid[UUID_STRLEN];
	char			*cause = NULL;
	json_t			*o, *t;
	size_t			 n;

	load(e, "version: '2.0'\n"
	    "rerun_wf:\n"
	    "  tasks:\n"
	    "    bad:\n"
	    "      action: std.fail error_data=nope\n"
	    "      on-success: after\n"
	    "    after:\n"
	    "      action: std.noop\n");
	start(e, "rerun_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	t = task_must(o, "bad");
	snprintf(tid, sizeof tid, "%s", jstr(t, "id"));
	json_decref(o);

	/* Only a task in ERROR can be re-run. */
	assert_int_equal(engine_task_rerun(e, "00000000-0000-4000-8000-"
	    "000000000000", 0, NULL, &cause), STORE_NOTFOUND);
	free(cause);
	cause = NULL;

	assert_int_equal(engine_task_rerun(e, tid, 1, NULL, &cause),
	    STORE_OK);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_int_equal(task_count(o, "bad"), 1);
	t = task_must(o, "bad");
	assert_string_equal(jstr(t, "id"), tid);
	assert_string_equal(jstr(t, "state"), "ERROR");
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 2);
	assert_int_equal(acts[0]->attempt, 0);
	assert_int_equal(acts[1]->attempt, 1);
	actions_free(acts, n);
	assert_int_equal(task_count(o, "after"), 0);
	json_decref(o);
}

/* Re-run that succeeds: an async task failed by its callback, then
 * re-run and completed; the workflow goes on and ends SUCCESS. */
static void
test_task_rerun_success(void **state)
{
	struct engine		*e = *state;
	struct store_action	**acts;
	char			 id[UUID_STRLEN], tid[UUID_STRLEN], st[32];
	char			 aid[UUID_STRLEN], *cause = NULL;
	json_t			*o, *t, *out;
	size_t			 n;

	load(e, "version: '2.0'\n"
	    "rerun_ok_wf:\n"
	    "  tasks:\n"
	    "    ext:\n"
	    "      action: std.async_noop\n"
	    "      on-success: after\n"
	    "    after:\n"
	    "      action: std.echo output=<% task('ext').result.v %>\n"
	    "  output:\n"
	    "    v: <% task('after').result %>\n");
	start(e, "rerun_ok_wf", NULL, id);
	assert_int_equal(run(e, id, 200, st, sizeof st), STORE_UNAVAILABLE);
	assert_string_equal(st, "RUNNING");
	o = engine_exec_json(e, id);
	t = task_must(o, "ext");
	snprintf(tid, sizeof tid, "%s", jstr(t, "id"));
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 1);
	snprintf(aid, sizeof aid, "%s", acts[0]->id);
	actions_free(acts, n);
	json_decref(o);

	out = json_string("remote failure");
	assert_int_equal(engine_action_complete(e, aid, "ERROR", out, &cause),
	    STORE_OK);
	json_decref(out);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_string_equal(jstr(task_must(o, "ext"), "state"), "ERROR");
	json_decref(o);

	assert_int_equal(engine_task_rerun(e, tid, 0, NULL, &cause),
	    STORE_OK);
	assert_int_equal(run(e, id, 200, st, sizeof st), STORE_UNAVAILABLE);
	assert_string_equal(st, "RUNNING");
	o = engine_exec_json(e, id);
	n = actions_of(e, task_must(o, "ext"), &acts);
	json_decref(o);
	assert_int_equal(n, 2);
	assert_string_equal(acts[0]->state, "ERROR");
	assert_string_equal(acts[1]->state, "RUNNING");
	assert_int_equal(acts[1]->attempt, 1);
	snprintf(aid, sizeof aid, "%s", acts[1]->id);
	actions_free(acts, n);

	out = json_pack("{s:i}", "v", 7);
	assert_int_equal(engine_action_complete(e, aid, "SUCCESS", out,
	    &cause), STORE_OK);
	json_decref(out);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_json(json_object_get(task_must(o, "ext"), "result"),
	    "{\"v\": 7}");
	assert_json(json_object_get(o, "output"), "{\"v\": 7}");
	json_decref(o);
}

/* An invalid new version is refused and the old one stays in force. */
static void
test_def_invalid_keeps_old(void **state)
{
	struct engine		*e = *state;
	struct dsl_errors	 errs;
	struct store_def	*d = NULL;
	char			 id[UUID_STRLEN], *msg;
	json_t			*o;

	load(e, "version: '2.0'\n"
	    "keep_wf:\n"
	    "  output:\n"
	    "    v: 1\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.noop\n");

	dsl_errors_init(&errs);
	assert_int_not_equal(engine_def_load(e, "workflows", NULL,
	    "version: '2.0'\n"
	    "keep_wf:\n"
	    "  output:\n"
	    "    v: 2\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.noop\n"
	    "      on-success: missing_task\n", NULL, 0, &errs, &d), STORE_OK);
	assert_null(d);
	assert_true(errs.n > 0);
	msg = dsl_errors_format(&errs);
	assert_contains(msg, "missing_task");
	free(msg);
	dsl_errors_free(&errs);

	/* Not even YAML. */
	dsl_errors_init(&errs);
	assert_int_not_equal(engine_def_load(e, "workflows", NULL,
	    "keep_wf: [unclosed\n", NULL, 0, &errs, NULL), STORE_OK);
	assert_true(errs.n > 0);
	dsl_errors_free(&errs);

	/* An unknown action. */
	dsl_errors_init(&errs);
	assert_int_not_equal(engine_def_load(e, "workflows", NULL,
	    "version: '2.0'\n"
	    "keep_wf:\n"
	    "  output:\n"
	    "    v: 3\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.ecko output=1\n", NULL, 0, &errs, NULL),
	    STORE_OK);
	assert_true(errs.n > 0);
	msg = dsl_errors_format(&errs);
	assert_contains(msg, "std.ecko");
	free(msg);
	dsl_errors_free(&errs);

	start(e, "keep_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	assert_json(json_object_get(o, "output"), "{\"v\": 1}");
	json_decref(o);

	/* A valid update does take effect. */
	load(e, "version: '2.0'\n"
	    "keep_wf:\n"
	    "  output:\n"
	    "    v: 4\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.noop\n");
	start(e, "keep_wf", NULL, id);
	o = run_json(e, id);
	assert_json(json_object_get(o, "output"), "{\"v\": 4}");
	json_decref(o);
}

/* A sub-workflow's output is the result of the task that called it. */
static void
test_subworkflow(void **state)
{
	struct engine		*e = *state;
	struct store_exec	**kids = NULL;
	char			 id[UUID_STRLEN];
	json_t			*o, *t;
	size_t			 n = 0, i;

	load(e, "version: '2.0'\n"
	    "parent_wf:\n"
	    "  input:\n"
	    "    - n: 7\n"
	    "  tasks:\n"
	    "    call:\n"
	    "      workflow: child_wf x=<% _.n %>\n"
	    "      publish:\n"
	    "        r: <% task().result.doubled %>\n"
	    "  output:\n"
	    "    r: <% _.r %>\n"
	    "\n"
	    "child_wf:\n"
	    "  input:\n"
	    "    - x\n"
	    "  tasks:\n"
	    "    c1:\n"
	    "      action: std.echo output=<% _.x * 2 %>\n"
	    "      publish:\n"
	    "        d: <% task().result %>\n"
	    "  output:\n"
	    "    doubled: <% _.d %>\n");
	start(e, "parent_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	t = task_must(o, "call");
	assert_string_equal(jstr(t, "state"), "SUCCESS");
	assert_json(json_object_get(t, "result"), "{\"doubled\": 14}");
	assert_json(json_object_get(o, "output"), "{\"r\": 14}");

	assert_int_equal(store_exec_children(engine_store(e), jstr(t, "id"),
	    &kids, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(kids[0]->workflow_name, "child_wf");
	assert_string_equal(kids[0]->state, "SUCCESS");
	assert_json(kids[0]->input, "{\"x\": 7}");
	assert_json(kids[0]->output, "{\"doubled\": 14}");
	assert_string_equal(kids[0]->parent_task_id, jstr(t, "id"));
	for (i = 0; i < n; i++)
		store_exec_free(kids[i]);
	free(kids);
	json_decref(o);
}

/* A failing sub-workflow fails the calling task. */
static void
test_subworkflow_error(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN];
	json_t		*o, *t;

	load(e, "version: '2.0'\n"
	    "parent_err_wf:\n"
	    "  tasks:\n"
	    "    call:\n"
	    "      workflow: child_err_wf\n"
	    "      on-error: handled\n"
	    "    handled:\n"
	    "      action: std.noop\n"
	    "\n"
	    "child_err_wf:\n"
	    "  tasks:\n"
	    "    c1:\n"
	    "      action: std.fail error_data=deep_trouble\n");
	start(e, "parent_err_wf", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	t = task_must(o, "call");
	assert_string_equal(jstr(t, "state"), "ERROR");
	assert_contains(jstr(t, "state_info"), "deep_trouble");
	assert_string_equal(jstr(task_must(o, "handled"), "state"),
	    "SUCCESS");
	json_decref(o);
}

/* An async action stays RUNNING until its result is delivered. */
static void
test_async_complete(void **state)
{
	struct engine		*e = *state;
	struct store_action	**acts, *a = NULL;
	char			 id[UUID_STRLEN], aid[UUID_STRLEN], st[32];
	char			*cause = NULL;
	json_t			*o, *t, *out;
	size_t			 n;
	int			 i;

	load(e, "version: '2.0'\n"
	    "async_wf:\n"
	    "  tasks:\n"
	    "    wait_ext:\n"
	    "      action: std.async_noop\n"
	    "      publish:\n"
	    "        got: <% task().result.answer %>\n"
	    "  output:\n"
	    "    got: <% _.got %>\n");
	start(e, "async_wf", NULL, id);
	/* Several turns: still waiting. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(run(e, id, 200, st, sizeof st),
		    STORE_UNAVAILABLE);
		assert_string_equal(st, "RUNNING");
	}
	o = engine_exec_json(e, id);
	t = task_must(o, "wait_ext");
	assert_string_equal(jstr(t, "state"), "RUNNING");
	n = actions_of(e, t, &acts);
	assert_int_equal(n, 1);
	assert_string_equal(acts[0]->state, "RUNNING");
	assert_true(acts[0]->is_async);
	snprintf(aid, sizeof aid, "%s", acts[0]->id);
	actions_free(acts, n);
	json_decref(o);

	/* Unknown action id. */
	assert_int_equal(engine_action_complete(e, "00000000-0000-4000-8000-"
	    "000000000000", "SUCCESS", NULL, &cause), STORE_NOTFOUND);
	free(cause);
	cause = NULL;

	out = json_pack("{s:i}", "answer", 42);
	assert_int_equal(engine_action_complete(e, aid, "SUCCESS", out,
	    &cause), STORE_OK);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	t = task_must(o, "wait_ext");
	assert_string_equal(jstr(t, "state"), "SUCCESS");
	assert_json(json_object_get(t, "result"), "{\"answer\": 42}");
	assert_json(json_object_get(o, "output"), "{\"got\": 42}");
	json_decref(o);

	assert_int_equal(store_action_load(engine_store(e), aid, &a),
	    STORE_OK);
	assert_string_equal(a->state, "SUCCESS");
	assert_true(json_equal(a->output, out));
	store_action_free(a);

	/* A second delivery is refused. */
	assert_int_equal(engine_action_complete(e, aid, "SUCCESS", out,
	    &cause), STORE_CONFLICT);
	assert_contains(cause, "SUCCESS");
	free(cause);
	json_decref(out);
}

/* ---- what users are told ---------------------------------------- */

/* A query of field a = va and, when vb is not NULL, field b = vb. */
static void
query2(struct store_query *q, struct store_filter *f, const char *a,
    const char *va, const char *b, const char *vb)
{
	memset(q, 0, sizeof *q);
	memset(f, 0, 2 * sizeof *f);
	f[0].field = a;
	f[0].value = va;
	f[1].field = b;
	f[1].value = vb;
	q->filters = f;
	q->nfilters = vb != NULL ? 2 : 1;
}

/* The messages of event id about resource (NULL: any), how many. */
static size_t
messages_of(struct engine *e, const char *event, const char *resource,
    char **text)
{
	struct store_message	**v = NULL;
	struct store_filter	 f[2];
	struct store_query	 q;
	size_t			 n = 0, i;

	query2(&q, f, "event_id", event, "resource_uuid", resource);
	assert_int_equal(store_message_list(engine_store(e), &q, &v, &n),
	    STORE_OK);
	for (i = 0; i < n; i++) {
		if (i == 0 && text != NULL)
			*text = xstrdup(v[i]->message);
		store_message_free(v[i]);
	}
	free(v);
	return (n);
}

/* The id of a task of a run's JSON. */
static const char *
task_id_of(json_t *o, const char *name)
{
	return (jstr(task_must(o, name), "id"));
}

/*
 * A failing workflow: one message for the execution naming the failed
 * task, one for the task nothing handles; none for a handled failure.
 */
static void
test_messages_failing_workflow(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN], *text = NULL;
	json_t		*o;

	load(e, "version: '2.0'\n"
	    "failing:\n"
	    "  tasks:\n"
	    "    ok1:\n"
	    "      action: std.noop\n"
	    "      on-success: [boom]\n"
	    "    boom:\n"
	    "      action: std.fail\n"
	    "      input:\n"
	    "        error_data: 'disk full; password=hunter2'\n"
	    "    handled:\n"
	    "      action: std.fail\n"
	    "      on-error: [cleanup]\n"
	    "    cleanup:\n"
	    "      action: std.noop\n");
	start(e, "failing", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_int_equal(messages_of(e, "BORA-EXE-001", id, &text), 1);
	assert_contains(text, "Workflow failing failed in task boom: ");
	assert_contains(text, "disk full");
	assert_null(strstr(text, "hunter2"));
	assert_contains(text, "bora execution tasks ");
	free(text);
	assert_int_equal(messages_of(e, "BORA-TSK-001", task_id_of(o, "boom"),
	    &text), 1);
	assert_contains(text, "Task boom of workflow failing failed and "
	    "nothing handles it");
	assert_contains(text, task_id_of(o, "boom"));
	free(text);
	/* The handled failure and the others tell nothing. */
	assert_int_equal(messages_of(e, "BORA-TSK-001", NULL, NULL), 1);
	assert_int_equal(messages_of(e, "BORA-EXE-002", NULL, NULL), 0);
	json_decref(o);
}

/* A forced end in ERROR says why, without tasks. */
static void
test_messages_forced_end(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN], st[32], *text = NULL, *cause = NULL;

	load(e, "version: '2.0'\n"
	    "slow:\n"
	    "  tasks:\n"
	    "    wait_ext:\n"
	    "      action: std.async_noop\n");
	start(e, "slow", NULL, id);
	assert_int_equal(run(e, id, 200, st, sizeof st), STORE_UNAVAILABLE);
	assert_int_equal(engine_exec_set_state(e, id, "ERROR", "stopped by "
	    "the operator", &cause), STORE_OK);
	assert_int_equal(run(e, id, RUN_LIMIT_MS, st, sizeof st), STORE_OK);
	assert_string_equal(st, "ERROR");
	assert_int_equal(messages_of(e, "BORA-EXE-002", id, &text), 1);
	assert_contains(text, "Workflow slow ended in ERROR: stopped by the "
	    "operator.");
	free(text);
	assert_int_equal(messages_of(e, "BORA-EXE-001", NULL, NULL), 0);
}

/*
 * A task waiting for a lock says so once; past its timeout it fails
 * saying which lock and who holds it, not that "a task failed".
 */
static void
test_messages_lock(void **state)
{
	struct engine	*e = *state;
	char		 a[UUID_STRLEN], b[UUID_STRLEN], st[32], *text = NULL;
	json_t		*o;

	load(e, "version: '2.0'\n"
	    "holder:\n"
	    "  tasks:\n"
	    "    hold:\n"
	    "      action: std.async_noop\n"
	    "      lock: host-7\n"
	    "waiter:\n"
	    "  tasks:\n"
	    "    take:\n"
	    "      action: std.noop\n"
	    "      lock: host-7\n"
	    "      timeout: 1\n");
	start(e, "holder", NULL, a);
	assert_int_equal(run(e, a, 300, st, sizeof st), STORE_UNAVAILABLE);
	start(e, "waiter", NULL, b);
	o = run_json(e, b);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_int_equal(messages_of(e, "BORA-LCK-001", task_id_of(o, "take"),
	    &text), 1);
	assert_contains(text, "waits for lock 'host-7', held by execution ");
	assert_contains(text, a);
	free(text);
	assert_int_equal(messages_of(e, "BORA-LCK-002", task_id_of(o, "take"),
	    &text), 1);
	assert_contains(text, "could not take lock 'host-7' within 1 s");
	free(text);
	assert_int_equal(messages_of(e, "BORA-TSK-001", NULL, NULL), 0);
	assert_int_equal(messages_of(e, "BORA-EXE-001", b, &text), 1);
	assert_contains(text, "waiting for lock 'host-7'");
	free(text);
	json_decref(o);
}

/* An async action whose callback never comes. */
static void
test_messages_async_timeout(void **state)
{
	struct engine	*e = *state;
	char		 id[UUID_STRLEN], *text = NULL;
	json_t		*o;

	load(e, "version: '2.0'\n"
	    "callback:\n"
	    "  tasks:\n"
	    "    wait_ext:\n"
	    "      action: std.async_noop\n"
	    "      timeout: 1\n");
	start(e, "callback", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_int_equal(messages_of(e, "BORA-ASY-001",
	    task_id_of(o, "wait_ext"), &text), 1);
	assert_contains(text, "waited 1 s for the result of async action "
	    "std.async_noop and none came");
	assert_contains(text, "PUT /v2/action_executions/");
	free(text);
	assert_int_equal(messages_of(e, "BORA-TSK-001", NULL, NULL), 0);
	json_decref(o);
}

/* The outbox rows of an execution, their events in order. */
static char *
outbox_events(struct engine *e, const char *exec_id, const char *target)
{
	struct store_outbox	**v = NULL;
	struct store_filter	 f[2];
	struct store_query	 q;
	const char		*keys[] = { "seq" };
	int			 desc[] = { 0 };
	struct buf		 b;
	size_t			 n = 0, i;

	query2(&q, f, "execution_id", exec_id, "target", target);
	q.sort_keys = keys;
	q.sort_desc = desc;
	q.nsort = 1;
	assert_int_equal(store_outbox_list(engine_store(e), &q, &v, &n),
	    STORE_OK);
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i]->state, "PENDING");
		assert_string_equal(json_string_value(json_object_get(
		    v[i]->body, "event")), v[i]->event);
		buf_printf(&b, "%s%s", i > 0 ? " " : "", v[i]->event);
		store_outbox_free(v[i]);
	}
	free(v);
	return (buf_take(&b));
}

/*
 * notify: each receiver gets Mistral's events of the execution and of
 * its sub-workflows, in order, filtered by event_types; a bad notify is
 * refused at start.
 */
static void
test_notify_records_events(void **state)
{
	struct engine			*e = *state;
	struct engine_start_opts	 so;
	struct store_exec		*ex = NULL, **kids = NULL;
	char				*cause = NULL, *ev, st[32];
	json_t				*o;
	size_t				 n = 0;

	load(e, "version: '2.0'\n"
	    "child:\n"
	    "  tasks:\n"
	    "    leaf:\n"
	    "      action: std.noop\n"
	    "parent:\n"
	    "  tasks:\n"
	    "    one:\n"
	    "      action: std.noop\n"
	    "      on-success: [sub]\n"
	    "    sub:\n"
	    "      workflow: child\n");
	memset(&so, 0, sizeof so);
	so.workflow = "parent";
	so.params = json_loads("{\"notify\": [{\"type\": \"webhook\", "
	    "\"url\": \"http://all.test/\"}, {\"type\": \"webhook\", \"url\": "
	    "\"http://ends.test/\", \"headers\": {\"X-Key\": \"k\"}, "
	    "\"event_types\": [\"WORKFLOW_SUCCEEDED\", \"TASK_FAILED\"]}, "
	    "{\"type\": \"noop\"}]}", 0, NULL);
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause), STORE_OK);
	o = run_json(e, ex->id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	json_decref(o);
	ev = outbox_events(e, ex->id, "http://all.test/");
	assert_string_equal(ev, "WORKFLOW_LAUNCHED TASK_LAUNCHED "
	    "TASK_SUCCEEDED TASK_LAUNCHED TASK_SUCCEEDED WORKFLOW_SUCCEEDED");
	free(ev);
	ev = outbox_events(e, ex->id, "http://ends.test/");
	assert_string_equal(ev, "WORKFLOW_SUCCEEDED");
	free(ev);
	/* The sub-workflow tells the same receivers. */
	o = engine_exec_json(e, ex->id);
	assert_int_equal(store_exec_children(engine_store(e), task_id_of(o,
	    "sub"), &kids, &n), STORE_OK);
	assert_int_equal(n, 1);
	ev = outbox_events(e, kids[0]->id, "http://all.test/");
	assert_string_equal(ev, "WORKFLOW_LAUNCHED TASK_LAUNCHED "
	    "TASK_SUCCEEDED WORKFLOW_SUCCEEDED");
	free(ev);
	store_exec_free(kids[0]);
	free(kids);
	json_decref(o);
	store_exec_free(ex);
	json_decref(so.params);

	/* Wrong receivers: nothing starts. */
	so.params = json_loads("{\"notify\": [{\"type\": \"webhook\", "
	    "\"url\": \"ftp://x/\"}]}", 0, NULL);
	ex = NULL;
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause),
	    STORE_ERROR);
	assert_contains(cause, "notify[0].url");
	free(cause);
	cause = NULL;
	json_decref(so.params);
	so.params = json_loads("{\"notify\": [{\"url\": \"http://x/\", "
	    "\"events\": [\"TASK_EXPLODED\"]}]}", 0, NULL);
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause),
	    STORE_ERROR);
	assert_contains(cause, "notify[0].events[0]: unknown event");
	free(cause);
	json_decref(so.params);
	assert_null(ex);
	(void)st;
}

/* A re-run is told: the workflow's and the task's, then their ends. */
static void
test_notify_rerun(void **state)
{
	struct engine			*e = *state;
	struct engine_start_opts	 so;
	struct store_exec		*ex = NULL;
	char				*cause = NULL, *ev;
	json_t				*o;

	load(e, "version: '2.0'\n"
	    "flaky:\n"
	    "  tasks:\n"
	    "    bad:\n"
	    "      action: std.fail\n");
	memset(&so, 0, sizeof so);
	so.workflow = "flaky";
	so.params = json_loads("{\"notify\": [{\"url\": \"http://r.test/\"}]}",
	    0, NULL);
	assert_int_equal(engine_exec_start(e, &so, &ex, &cause), STORE_OK);
	o = run_json(e, ex->id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	assert_int_equal(engine_task_rerun(e, task_id_of(o, "bad"), 1, NULL,
	    &cause), STORE_OK);
	json_decref(o);
	o = run_json(e, ex->id);
	assert_string_equal(jstr(o, "state"), "ERROR");
	json_decref(o);
	ev = outbox_events(e, ex->id, "http://r.test/");
	assert_string_equal(ev, "WORKFLOW_LAUNCHED TASK_LAUNCHED TASK_FAILED "
	    "WORKFLOW_FAILED WORKFLOW_RERUN TASK_RERUN TASK_FAILED "
	    "WORKFLOW_FAILED");
	free(ev);
	/* Each failure is told to the user again. */
	assert_int_equal(messages_of(e, "BORA-EXE-001", ex->id, NULL), 2);
	store_exec_free(ex);
	json_decref(so.params);
}

/* A default receiver from borad.conf, as the notify option writes it. */
static void
test_notify_parse_default(void **state)
{
	json_t	*t;
	char	*cause = NULL;

	(void)state;
	t = engine_tell_parse("https://hooks.test/bora events=TASK_FAILED,"
	    "WORKFLOW_FAILED header='Authorization:Bearer 9f2c' header=X-A:b",
	    &cause);
	assert_non_null(t);
	assert_json(t, "{\"url\": \"https://hooks.test/bora\", \"type\": "
	    "\"webhook\", \"headers\": {\"Authorization\": \"Bearer 9f2c\", "
	    "\"X-A\": \"b\"}, \"event_types\": [\"TASK_FAILED\", "
	    "\"WORKFLOW_FAILED\"]}");
	json_decref(t);
	/* Errors name what is wrong, never a header's value. */
	assert_null(engine_tell_parse("http://x/ hdr=Authorization:s3cret",
	    &cause));
	assert_contains(cause, "unexpected 'hdr...'");
	assert_null(strstr(cause, "s3cret"));
	free(cause);
	assert_null(engine_tell_parse("http://x/ events=NOPE", &cause));
	assert_contains(cause, "event_types[0]: unknown event");
	free(cause);
}

/* One action outside any workflow, run synchronously. */
static void
test_action_run(void **state)
{
	struct engine		*e = *state;
	struct store_action	*a = NULL;
	char			*cause = NULL;
	json_t			*in;

	in = json_pack("{s:s}", "output", "solo");
	assert_int_equal(engine_action_run(e, "std.echo", in, 1, &a, &cause),
	    STORE_OK);
	assert_non_null(a);
	assert_string_equal(a->state, "SUCCESS");
	assert_null(a->task_id);
	assert_json(a->output, "\"solo\"");
	store_action_free(a);
	a = NULL;
	json_decref(in);

	in = json_object();
	assert_int_equal(engine_action_run(e, "std.nothing", in, 1, &a,
	    &cause), STORE_NOTFOUND);
	assert_contains(cause, "std.nothing");
	free(cause);
	cause = NULL;
	/* Missing required input. */
	assert_int_not_equal(engine_action_run(e, "std.echo", in, 1, &a,
	    &cause), STORE_OK);
	assert_contains(cause, "output");
	free(cause);
	json_decref(in);
	store_action_free(a);
}

/* ---- state machines ---------------------------------------------- */

/*
 * The legal moves, as engine-state.c documents them: for each machine,
 * "FROM:TO,TO;FROM:TO" (I IDLE, W WAITING, R RUNNING, D RUNNING_DELAYED,
 * P PAUSED, S SUCCESS, E ERROR, C CANCELLED).
 */
static const char *const legal_moves[ENGINE_NMACHINES] = {
	[ENGINE_EXEC] = "I:RSEC;R:PSEC;P:RSEC;S:R;E:R;C:R",
	[ENGINE_TASK] = "I:REC;W:REC;R:DSEC;D:RIEC;S:E;E:RE",
	[ENGINE_ACTION] = "R:SEC",
	[ENGINE_ITEM] = "I:R;R:SEI"
};

static enum store_state
state_letter(char c)
{
	return ((enum store_state)(strchr("IWRDPSEC", c) - "IWRDPSEC"));
}

/* 1 when from -> to is in the documented moves of machine m. */
static int
documented(enum engine_machine m, enum store_state from,
    enum store_state to)
{
	const char	*p = legal_moves[m];

	while (*p != '\0') {
		if (state_letter(*p) == from) {
			for (p += 2; *p != '\0' && *p != ';'; p++) {
				if (state_letter(*p) == to)
					return (1);
			}
			return (0);
		}
		p = strchr(p, ';');
		if (p == NULL)
			break;
		p++;
	}
	return (0);
}

/* Run fn with stderr captured; what it wrote (caller frees). */
static char *
capture_stderr(void (*fn)(void *), void *arg)
{
	char	 path[] = "/tmp/bora-test-stderr-XXXXXX";
	int	 fd, saved;
	char	*text, *cause = NULL;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	text = file_read(path, 0, NULL, &cause);
	unlink(path);
	assert_non_null(text);
	free(cause);
	return (text);
}

/* The registry entry of (kind, name), current or not; NULL if none. */
static struct engine_def *
def_named(struct engine *e, const char *kind, const char *name)
{
	size_t	i;

	for (i = 0; i < e->ndefs; i++) {
		if (strcmp(e->defs[i]->kind, kind) == 0 &&
		    strcmp(e->defs[i]->name, name) == 0)
			return (e->defs[i]);
	}
	return (NULL);
}

/* An engine on a SQLite file, its Lua library loaded at start. */
static struct engine *
open_file(const char *url)
{
	struct engine_config	 cfg;
	struct engine		*e;
	char			*cause = NULL;

	memset(&cfg, 0, sizeof cfg);
	cfg.db_url = url;
	cfg.lua_dir = BORA_SRCDIR "/lua";
	if ((e = engine_open(&cfg, &cause)) == NULL)
		fail_msg("engine_open %s: %s", url, cause);
	return (e);
}

/*
 * An actions file holds actions only.  Loaded from the store, it is
 * parsed when one of its actions is first looked up: a run of built-in
 * actions leaves it unparsed; an action of it runs, and is listed.
 */
static void
test_actions_file_parsed_on_use(void **state)
{
	struct engine		*e;
	struct engine_def	*d;
	struct dsl_errors	 errs;
	char			 path[] = "/tmp/bora-test-defs-XXXXXX";
	char			 id[UUID_STRLEN], *url, *msg, *wal;
	json_t			*o, *all;
	size_t			 i;
	int			 fd, listed = 0;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	xasprintf(&url, "sqlite:%s", path);
	e = open_file(url);
	dsl_errors_init(&errs);
	assert_int_equal(engine_def_load(e, "actions", "cat",
	    "version: '2.0'\n"
	    "name: cat\n"
	    "actions:\n"
	    "  greet:\n"
	    "    base: std.echo\n"
	    "    base-input:\n"
	    "      output: hi\n", "cat.yaml", 0, &errs, NULL), STORE_OK);
	dsl_errors_free(&errs);
	dsl_errors_init(&errs);
	assert_int_not_equal(engine_def_load(e, "actions", "mixed",
	    "version: '2.0'\n"
	    "name: mixed\n"
	    "actions:\n"
	    "  a:\n"
	    "    base: std.noop\n"
	    "workflows:\n"
	    "  w:\n"
	    "    tasks:\n"
	    "      t:\n"
	    "        action: std.noop\n", "mixed.yaml", 0, &errs, NULL),
	    STORE_OK);
	msg = dsl_errors_format(&errs);
	assert_contains(msg, "an actions file holds actions only");
	assert_contains(msg, "workflows");
	free(msg);
	dsl_errors_free(&errs);
	engine_close(e);

	e = open_file(url);
	assert_non_null(d = def_named(e, "actions", "cat"));
	assert_null(d->wb);
	load(e, "version: '2.0'\n"
	    "plain:\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: std.noop\n");
	start(e, "plain", NULL, id);
	o = run_json(e, id);
	assert_string_equal(jstr(o, "state"), "SUCCESS");
	json_decref(o);
	assert_null(d->wb);

	load(e, "version: '2.0'\n"
	    "greeting:\n"
	    "  tasks:\n"
	    "    t:\n"
	    "      action: cat.greet\n"
	    "      publish:\n"
	    "        said: <% task().result %>\n"
	    "  output:\n"
	    "    said: <% _.said %>\n");
	assert_non_null(d->wb);
	start(e, "greeting", NULL, id);
	o = run_json(e, id);
	if (strcmp(jstr(o, "state"), "SUCCESS") != 0)
		fail_msg("greeting: %s", jstr(o, "state_info"));
	assert_string_equal(jstr(json_object_get(o, "output"), "said"), "hi");
	json_decref(o);
	all = engine_actions(e);
	for (i = 0; i < json_array_size(all); i++)
		listed += strcmp(jstr(json_array_get(all, i), "name"),
		    "cat.greet") == 0;
	assert_int_equal(listed, 1);
	json_decref(all);
	/* The last connection closed leaves one file: no -wal, no -shm. */
	engine_close(e);
	xasprintf(&wal, "%s-wal", path);
	assert_int_equal(access(wal, F_OK), -1);
	free(wal);
	unlink(path);
	free(url);
}

/* Every pair of every machine: legal exactly when documented. */
static void
test_state_moves_follow_the_tables(void **state)
{
	enum engine_machine	 m;
	enum store_state	 from, to, cur;
	int			 legal;

	for (m = 0; m < ENGINE_NMACHINES; m++) {
		for (from = 0; from <= STATE_NONE; from++) {
			for (to = 0; to <= STATE_NONE; to++) {
				legal = documented(m, from, to);
				assert_int_equal(engine_state_legal(m, from,
				    to), legal);
				if (!legal)
					continue;
				cur = from;
				assert_int_equal(engine_state_move(m, "x",
				    &cur, to), 0);
				assert_int_equal(cur, to);
			}
		}
	}
	assert_string_equal(store_state_name(STATE_DELAYED),
	    "RUNNING_DELAYED");
	assert_int_equal(store_state_parse("CANCELLED"), STATE_CANCELLED);
	assert_int_equal(store_state_parse("cancelled"), STATE_NONE);
	assert_int_equal(store_state_parse(NULL), STATE_NONE);
}

struct bad_move {
	struct task_rt	*t;
	struct exec_rt	*rt;
	struct step	*s;
	int		 rc[4];
};

/* Illegal moves of each kind. */
static void
bad_moves(void *arg)
{
	struct bad_move		*b = arg;
	struct store_action	 a;
	enum store_state	 cur = STATE_SUCCESS;

	b->rc[0] = engine_task_move(b->t, STATE_DELAYED, "no", SF_STATE_INFO,
	    b->s);
	b->rc[1] = engine_exec_move(b->rt, STATE_PAUSED, "no", SF_STATE_INFO,
	    b->s);
	memset(&a, 0, sizeof a);
	snprintf(a.id, sizeof a.id, "a1");
	b->rc[2] = engine_row_move(b->s->tx, ENGINE_ACTION, &a,
	    STATE_SUCCESS, STATE_RUNNING, 0);
	b->rc[3] = engine_state_move(ENGINE_ITEM, "t1[0]", &cur,
	    STATE_RUNNING);
}

/*
 * A legal move is written in the step's change set and reaches the
 * store; an illegal one is refused, logged as a bug, and neither the
 * row in memory nor the store changes.
 */
static void
test_state_illegal_moves_are_refused_not_written(void **state)
{
	struct store		*st;
	struct store_exec	 ex, *lex;
	struct store_task	*row, *lt;
	struct exec_rt		 rt;
	struct task_rt		 t;
	struct step		 s;
	struct bad_move		 b;
	char			*cause = NULL, *log;

	st = store_open("sqlite::memory:", &cause);
	assert_non_null(st);
	memset(&ex, 0, sizeof ex);
	snprintf(ex.id, sizeof ex.id, "e1");
	ex.state = (char *)ST_RUNNING;
	row = xcalloc(1, sizeof *row);
	snprintf(row->id, sizeof row->id, "t1");
	snprintf(row->execution_id, sizeof row->execution_id, "e1");
	row->name = xstrdup("t1");
	row->state = xstrdup(ST_RUNNING);
	memset(&s, 0, sizeof s);
	s.tx = store_tx_create();
	store_tx_exec_insert(s.tx, &ex);
	store_tx_task_insert(s.tx, row);
	assert_int_equal(store_tx_commit(st, s.tx), STORE_OK);
	store_tx_free(s.tx);

	memset(&rt, 0, sizeof rt);
	rt.row = store_exec_dup(&ex);
	rt.state = STATE_RUNNING;
	memset(&t, 0, sizeof t);
	t.row = row;
	t.state = STATE_RUNNING;

	/* Legal: RUNNING -> SUCCESS, written, with its end time. */
	memset(&s, 0, sizeof s);
	s.tx = store_tx_create();
	assert_int_equal(engine_task_move(&t, STATE_SUCCESS, "done",
	    SF_STATE_INFO | SF_FINISHED, &s), 0);
	assert_int_equal(t.state, STATE_SUCCESS);
	assert_string_equal(t.row->state, ST_SUCCESS);
	assert_true(t.row->finished_at > 0);
	assert_int_equal(s.nchanged, 1);
	assert_int_equal(engine_exec_move(&rt, STATE_SUCCESS, NULL, 0, &s), 0);
	assert_int_equal(store_tx_commit(st, s.tx), STORE_OK);
	assert_int_equal(store_tx_size(s.tx), 2);
	store_tx_free(s.tx);
	free(s.changed);

	/* Illegal: nothing recorded, nothing changed, a bug logged. */
	memset(&s, 0, sizeof s);
	s.tx = store_tx_create();
	memset(&b, 0, sizeof b);
	b.t = &t;
	b.rt = &rt;
	b.s = &s;
	log = capture_stderr(bad_moves, &b);
	assert_int_equal(b.rc[0], -1);
	assert_int_equal(b.rc[1], -1);
	assert_int_equal(b.rc[2], -1);
	assert_int_equal(b.rc[3], -1);
	assert_non_null(strstr(log, "BUG: task t1: illegal move SUCCESS -> "
	    "RUNNING_DELAYED"));
	assert_non_null(strstr(log, "BUG: execution e1: illegal move SUCCESS "
	    "-> PAUSED"));
	assert_non_null(strstr(log, "BUG: action execution a1"));
	assert_non_null(strstr(log, "BUG: item t1[0]"));
	free(log);
	assert_int_equal(store_tx_size(s.tx), 0);
	assert_int_equal(s.nchanged, 0);
	assert_int_equal(t.state, STATE_SUCCESS);
	assert_string_equal(t.row->state, ST_SUCCESS);
	assert_string_equal(t.row->state_info, "done");
	assert_int_equal(rt.state, STATE_SUCCESS);
	assert_string_equal(rt.row->state, ST_SUCCESS);
	store_tx_free(s.tx);

	assert_int_equal(store_task_load(st, "t1", &lt), STORE_OK);
	assert_string_equal(lt->state, ST_SUCCESS);
	assert_string_equal(lt->state_info, "done");
	store_task_free(lt);
	assert_int_equal(store_exec_load(st, "e1", &lex), STORE_OK);
	assert_string_equal(lex->state, ST_SUCCESS);
	store_exec_free(lex);

	store_task_free(t.row);
	store_exec_free(rt.row);
	store_close(st);
}

/*
 * An engine that could not renew its lease for longer than a lease (the
 * store was out of reach) and finds another engine holding it lets the
 * execution go: what it did meanwhile is never written, so the new
 * owner alone moves it on.
 */
static void
test_lease_lost_lets_go(void **state)
{
	struct engine		*e = *state;
	struct store		*st = engine_store(e);
	struct store_exec	*ex = NULL;
	struct store_task	**ts = NULL;
	struct store_action	**acts = NULL;
	char			 id[UUID_STRLEN], st_name[32];
	char			**held = NULL, **ids = NULL, *want[1];
	size_t			 n = 0, nts = 0, nacts = 0, i;

	load(e, "version: '2.0'\n"
	    "napper:\n"
	    "  tasks:\n"
	    "    t1:\n"
	    "      action: std.sleep seconds=0.4\n"
	    "      on-success: t2\n"
	    "    t2:\n"
	    "      action: std.noop\n");
	start(e, "napper", NULL, id);
	/* t1's sleep is running. */
	assert_int_equal(run(e, id, 100, st_name, sizeof st_name),
	    STORE_UNAVAILABLE);
	assert_string_equal(st_name, ST_RUNNING);
	/* Its lease runs out unrenewed; another engine claims it. */
	want[0] = id;
	assert_int_equal(store_exec_renew(st, e->id, want, 1, -1000, &held,
	    &n), STORE_OK);
	for (i = 0; i < n; i++)
		free(held[i]);
	free(held);
	assert_int_equal(store_exec_claim(st, "other", 60000, 0, &ids, &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	free(ids[0]);
	free(ids);
	e->lease_ok_until = 0;
	/* The sleep ends: nothing of it is written by this engine. */
	assert_int_equal(run(e, id, 1000, st_name, sizeof st_name),
	    STORE_UNAVAILABLE);
	assert_null(engine_exec_find(e, id));
	assert_int_equal(store_exec_load(st, id, &ex), STORE_OK);
	assert_string_equal(ex->owner, "other");
	assert_string_equal(ex->state, ST_RUNNING);
	store_exec_free(ex);
	assert_int_equal(store_tasks_load(st, id, &ts, &nts), STORE_OK);
	assert_int_equal(nts, 1);
	assert_string_equal(ts[0]->state, ST_RUNNING);
	assert_int_equal(store_actions_load(st, ts[0]->id, &acts, &nacts),
	    STORE_OK);
	assert_int_equal(nacts, 1);
	assert_string_equal(acts[0]->state, ST_RUNNING);
	store_action_free(acts[0]);
	free(acts);
	store_task_free(ts[0]);
	free(ts);
}

/* Items move through the item table only. */
static void
test_state_items(void **state)
{
	struct task_rt		 t;
	struct store_task	 row;
	unsigned char		 done[2] = { STATE_IDLE, STATE_IDLE };

	memset(&t, 0, sizeof t);
	memset(&row, 0, sizeof row);
	snprintf(row.id, sizeof row.id, "t1");
	t.row = &row;
	t.done = done;
	assert_int_equal(engine_item_move(&t, 0, STATE_RUNNING), 0);
	assert_int_equal(engine_item_move(&t, 0, STATE_ERROR), 0);
	assert_int_equal(done[0], STATE_ERROR);
	assert_int_equal(engine_item_move(&t, 1, STATE_RUNNING), 0);
	assert_int_equal(engine_item_move(&t, 1, STATE_IDLE), 0);
	assert_int_equal(done[1], STATE_IDLE);
}

/* ---- alarms --------------------------------------------------------- */

static const char alarm_book[] =
    "version: '2.0'\n"
    "name: al\n"
    "workflows:\n"
    "  recover:\n"
    "    input: [host]\n"
    "    tasks:\n"
    "      t: {action: std.noop}\n"
    "  slow:\n"
    "    input: [host]\n"
    "    tasks:\n"
    "      t: {action: std.sleep seconds=30}\n"
    "triggers:\n"
    "  held:\n"
    "    source: generic\n"
    "    when: <% alert.name == 'Held' %>\n"
    "    workflow: recover\n"
    "    input: {host: <% alert.resource.host %>}\n"
    "    until-resolved: true\n"
    "  storm:\n"
    "    source: generic\n"
    "    when: <% alert.name == 'Storm' %>\n"
    "    workflow: recover\n"
    "    input: {host: <% alert.resource.host %>}\n"
    "    limit: {count: 2, window: 10m, by: <% alert.resource.host %>}\n"
    "  broken:\n"
    "    source: generic\n"
    "    when: <% alert.name == 'Broken' %>\n"
    "    workflow: recover\n"
    "    input: {}\n"
    "  cancel:\n"
    "    source: generic\n"
    "    when: <% alert.name == 'Slow' %>\n"
    "    workflow: slow\n"
    "    input: {host: <% alert.resource.host %>}\n"
    "    on-resolved: cancel\n";

/* Load the alarm workbook. */
static void
alarm_load(struct engine *e, const char *text)
{
	struct dsl_errors	 errs;
	char			*msg;

	dsl_errors_init(&errs);
	if (engine_def_load(e, "workbook", NULL, text, NULL, 0, &errs,
	    NULL) != STORE_OK) {
		msg = dsl_errors_format(&errs);
		fail_msg("workbook refused:\n%s", msg);
	}
	dsl_errors_free(&errs);
}

/* Store a generic alarm with that body, received age_ms ago. */
static struct store_alarm *
alarm_store(struct engine *e, const char *body, int64_t age_ms)
{
	struct store_alarm	 a, *out = NULL;
	struct store_tx		*tx;

	memset(&a, 0, sizeof a);
	uuid_make(a.id);
	a.source = (char *)"generic";
	a.route = (char *)"/v1/alarms/generic";
	a.headers = json_object();
	a.body = (char *)body;
	a.encoding = (char *)"text";
	a.size = (int64_t)strlen(body);
	a.state = (char *)ST_ALARM_RECEIVED;
	a.status = (char *)"firing";
	a.received_at = time_now_ms() - age_ms;
	tx = store_tx_create();
	store_tx_insert(tx, &store_alarm_table, &a);
	assert_int_equal(store_tx_commit(engine_store(e), tx), STORE_OK);
	store_tx_free(tx);
	json_decref(a.headers);
	assert_int_equal(store_row_load(engine_store(e), &store_alarm_table,
	    a.id, &out), STORE_OK);
	return (out);
}

/* Store and decide an alarm; its events, [{key, status, verdicts}]. */
static json_t *
alarm_send(struct engine *e, const char *body, int dry)
{
	struct store_alarm	*a;
	json_t			*events = NULL;
	char			*cause = NULL;

	a = alarm_store(e, body, 0);
	if (engine_alarm_decide(e, engine_store(e), a, NULL, dry, &events,
	    &cause) != STORE_OK)
		fail_msg("alarm not decided: %s", cause);
	store_row_free(&store_alarm_table, a);
	return (events);
}

/* The decision of trigger on event i. */
static json_t *
alarm_verdict(json_t *events, size_t i, const char *trigger)
{
	json_t	*d;
	size_t	 k;
	char	*dump;

	json_array_foreach(json_object_get(json_array_get(events, i),
	    "verdicts"), k, d) {
		if (strcmp(jstr(d, "trigger"), trigger) == 0)
			return (d);
	}
	dump = json_dumps(events, JSON_INDENT(1));
	fail_msg("no verdict of %s on event %zu in\n%s", trigger, i, dump);
	return (NULL);
}

/*
 * until-resolved: one execution per key, its params naming the alarm,
 * the repeats duplicates of it until a resolution; then a new one.
 */
static void
test_alarm_until_resolved(void **state)
{
	struct engine		*e = *state;
	struct store_exec	*row = NULL;
	json_t			*ev, *d, *x;
	char			 first[UUID_STRLEN];

	alarm_load(e, alarm_book);
	ev = alarm_send(e, "{\"key\": \"h1\", \"name\": \"Held\", "
	    "\"resource\": {\"host\": \"compute-1\"}}", 0);
	d = alarm_verdict(ev, 0, "al.held");
	assert_string_equal(jstr(d, "verdict"), "started");
	assert_json(json_object_get(d, "input"), "{\"host\": \"compute-1\"}");
	snprintf(first, sizeof first, "%s", jstr(d, "execution_id"));
	x = run_json(e, first);
	assert_string_equal(jstr(x, "state"), "SUCCESS");
	json_decref(x);
	assert_int_equal(store_exec_load(engine_store(e), first, &row),
	    STORE_OK);
	x = json_object_get(row->params, "alarm");
	assert_string_equal(jstr(x, "trigger"), "al.held");
	assert_string_equal(jstr(x, "key"), "h1");
	assert_string_equal(jstr(x, "source"), "generic");
	store_exec_free(row);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.storm"), "verdict"),
	    "when_false");
	json_decref(ev);

	ev = alarm_send(e, "{\"key\": \"h1\", \"name\": \"Held\"}", 0);
	d = alarm_verdict(ev, 0, "al.held");
	assert_string_equal(jstr(d, "verdict"), "duplicate");
	assert_string_equal(jstr(d, "execution_id"), first);
	assert_string_equal(jstr(d, "until"), "resolved");
	json_decref(ev);
	/* Two events of one key in one alarm: the second a duplicate. */
	ev = alarm_send(e, "[{\"key\": \"h2\", \"name\": \"Held\"}, {\"key\": "
	    "\"h2\", \"name\": \"Held\"}]", 0);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.held"), "verdict"),
	    "started");
	assert_string_equal(jstr(alarm_verdict(ev, 1, "al.held"), "verdict"),
	    "duplicate");
	json_decref(ev);

	ev = alarm_send(e, "{\"key\": \"h1\", \"status\": \"resolved\", "
	    "\"name\": \"Held\"}", 0);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.held"), "verdict"),
	    "resolved_ignored");
	json_decref(ev);
	ev = alarm_send(e, "{\"key\": \"h1\", \"name\": \"Held\"}", 0);
	d = alarm_verdict(ev, 0, "al.held");
	assert_string_equal(jstr(d, "verdict"), "started");
	assert_string_not_equal(jstr(d, "execution_id"), first);
	json_decref(ev);
}

/*
 * limit: two per host and window, the third limited, within one alarm
 * and across alarms; another host counts apart.  A trigger whose
 * workflow refuses its input fails alone, with the reason.
 */
static void
test_alarm_limit_and_failed_start(void **state)
{
	struct engine	*e = *state;
	json_t		*ev;
	size_t		 i;
	const char	*want[] = { "started", "started", "limited" };

	alarm_load(e, alarm_book);
	ev = alarm_send(e, "[{\"key\": \"s1\", \"name\": \"Storm\", "
	    "\"resource\": {\"host\": \"c1\"}}, {\"key\": \"s2\", \"name\": "
	    "\"Storm\", \"resource\": {\"host\": \"c1\"}}, {\"key\": \"s3\", "
	    "\"name\": \"Storm\", \"resource\": {\"host\": \"c1\"}}]", 0);
	for (i = 0; i < 3; i++)
		assert_string_equal(jstr(alarm_verdict(ev, i, "al.storm"),
		    "verdict"), want[i]);
	assert_contains(jstr(alarm_verdict(ev, 2, "al.storm"), "reason"),
	    "limit of 2 executions per 600 s for c1 reached");
	json_decref(ev);
	ev = alarm_send(e, "{\"key\": \"s4\", \"name\": \"Storm\", "
	    "\"resource\": {\"host\": \"c1\"}}", 0);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.storm"), "verdict"),
	    "limited");
	json_decref(ev);
	ev = alarm_send(e, "{\"key\": \"s5\", \"name\": \"Storm\", "
	    "\"resource\": {\"host\": \"c2\"}}", 0);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.storm"), "verdict"),
	    "started");
	json_decref(ev);

	ev = alarm_send(e, "{\"key\": \"b1\", \"name\": \"Broken\"}", 0);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.broken"),
	    "verdict"), "failed");
	assert_contains(jstr(alarm_verdict(ev, 0, "al.broken"), "reason"),
	    "cannot start al.recover: Invalid input [name=al.recover, "
	    "missing=['host']]");
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.held"), "verdict"),
	    "when_false");
	json_decref(ev);
}

/*
 * A dry run writes nothing; an alarm is decided once; one stored but
 * never decided is decided by the recovery.
 */
static void
test_alarm_dry_once_recover(void **state)
{
	struct engine		*e = *state;
	struct store_alarm	*a, *b = NULL;
	json_t			*ev = NULL, *d;
	char			*cause = NULL;

	alarm_load(e, alarm_book);
	a = alarm_store(e, "{\"key\": \"d1\", \"name\": \"Held\"}", 0);
	assert_int_equal(engine_alarm_decide(e, engine_store(e), a, NULL, 1,
	    &ev, &cause), STORE_OK);
	d = alarm_verdict(ev, 0, "al.held");
	assert_string_equal(jstr(d, "verdict"), "started");
	assert_true(json_is_null(json_object_get(d, "execution_id")));
	assert_contains(jstr(d, "reason"), "would start");
	json_decref(ev);
	assert_int_equal(store_row_load(engine_store(e), &store_alarm_table,
	    a->id, &b), STORE_OK);
	assert_string_equal(b->state, ST_ALARM_RECEIVED);
	store_row_free(&store_alarm_table, b);

	assert_int_equal(engine_alarm_decide(e, engine_store(e), a, NULL, 0,
	    &ev, &cause), STORE_OK);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.held"), "verdict"),
	    "started");
	json_decref(ev);
	assert_int_equal(engine_alarm_decide(e, engine_store(e), a, NULL, 0,
	    &ev, &cause), STORE_CONFLICT);
	assert_contains(cause, "was decided meanwhile");
	free(cause);
	store_row_free(&store_alarm_table, a);

	/* Too fresh to be lost; then old enough. */
	a = alarm_store(e, "{\"key\": \"lost\", \"name\": \"Held\"}", 0);
	assert_int_equal(engine_alarm_recover(e, 60000), 0);
	store_row_free(&store_alarm_table, a);
	a = alarm_store(e, "{\"key\": \"lost2\", \"name\": \"Held\"}", 120000);
	assert_int_equal(engine_alarm_recover(e, 60000), 1);
	assert_int_equal(store_row_load(engine_store(e), &store_alarm_table,
	    a->id, &b), STORE_OK);
	assert_string_equal(b->state, ST_ALARM_DECIDED);
	assert_string_equal(b->verdicts, " started when_false ");
	store_row_free(&store_alarm_table, b);
	store_row_free(&store_alarm_table, a);
}

/* on-resolved cancel: the key's running execution ends CANCELLED. */
static void
test_alarm_resolved_cancels(void **state)
{
	struct engine	*e = *state;
	json_t		*ev, *d;
	char		 id[UUID_STRLEN], st[32];

	alarm_load(e, alarm_book);
	ev = alarm_send(e, "{\"key\": \"w1\", \"name\": \"Slow\"}", 0);
	d = alarm_verdict(ev, 0, "al.cancel");
	assert_string_equal(jstr(d, "verdict"), "started");
	snprintf(id, sizeof id, "%s", jstr(d, "execution_id"));
	json_decref(ev);
	assert_int_equal(run(e, id, 300, st, sizeof st), STORE_UNAVAILABLE);
	assert_string_equal(st, "RUNNING");
	ev = alarm_send(e, "{\"key\": \"w1\", \"status\": \"resolved\", "
	    "\"name\": \"Slow\"}", 0);
	d = alarm_verdict(ev, 0, "al.cancel");
	assert_string_equal(jstr(d, "verdict"), "cancelled");
	assert_string_equal(jstr(d, "execution_id"), id);
	json_decref(ev);
	assert_int_equal(run(e, id, RUN_LIMIT_MS, st, sizeof st), STORE_OK);
	assert_string_equal(st, "CANCELLED");
	ev = alarm_send(e, "{\"key\": \"w1\", \"status\": \"resolved\", "
	    "\"name\": \"Slow\"}", 0);
	d = alarm_verdict(ev, 0, "al.cancel");
	assert_string_equal(jstr(d, "verdict"), "resolved_ignored");
	assert_contains(jstr(d, "reason"), "already ended (CANCELLED)");
	json_decref(ev);
}

/*
 * The triggers in force follow the definitions, each change a new
 * version: a new workbook version changes the next verdicts, a deleted
 * one takes its triggers away; an unknown source is refused.
 */
static void
test_alarm_triggers_versioned(void **state)
{
	struct engine		*e = *state;
	struct dsl_errors	 errs;
	json_t			*t, *ev;
	uint64_t		 v1, v2, v3;
	char			*text, *at;

	t = engine_alarm_triggers(e, &v1);
	assert_int_equal(json_array_size(t), 0);
	json_decref(t);
	alarm_load(e, alarm_book);
	t = engine_alarm_triggers(e, &v2);
	assert_true(v2 > v1);
	assert_int_equal(json_array_size(t), 4);
	assert_string_equal(jstr(json_array_get(t, 0), "name"), "al.held");
	json_decref(t);
	text = xstrdup(alarm_book);
	at = strstr(text, "alert.name == 'Held'");
	memcpy(at + 15, "Gone", 4);
	alarm_load(e, text);
	free(text);
	json_decref(engine_alarm_triggers(e, &v3));
	assert_true(v3 > v2);
	ev = alarm_send(e, "{\"key\": \"v1\", \"name\": \"Held\"}", 0);
	assert_string_equal(jstr(alarm_verdict(ev, 0, "al.held"), "verdict"),
	    "when_false");
	json_decref(ev);
	assert_int_equal(engine_def_delete(e, "workbook", "al"), STORE_OK);
	t = engine_alarm_triggers(e, &v1);
	assert_int_equal(json_array_size(t), 0);
	json_decref(t);

	dsl_errors_init(&errs);
	text = xstrdup(alarm_book);
	at = strstr(text, "source: generic");
	memcpy(at + 8, "genetic", 7);
	assert_int_not_equal(engine_def_load(e, "workbook", NULL, text, NULL,
	    0, &errs, NULL), STORE_OK);
	at = dsl_errors_format(&errs);
	assert_contains(at, "unknown alarm source 'genetic' (did you mean "
	    "'generic'?)");
	free(at);
	free(text);
	dsl_errors_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_closes_actions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_with_items, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_validation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_start, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_task_rerun, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_task_rerun_success, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_def_invalid_keeps_old,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_subworkflow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_subworkflow_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_async_complete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_action_run, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lease_lost_lets_go, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_messages_failing_workflow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_forced_end,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_messages_async_timeout,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_records_events,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_rerun, setup,
		    teardown),
		cmocka_unit_test(test_notify_parse_default),
		cmocka_unit_test_setup_teardown(test_alarm_until_resolved,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_alarm_limit_and_failed_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_dry_once_recover,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_resolved_cancels,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_triggers_versioned,
		    setup, teardown),
		cmocka_unit_test(test_state_moves_follow_the_tables),
		cmocka_unit_test(test_actions_file_parsed_on_use),
		cmocka_unit_test(
		    test_state_illegal_moves_are_refused_not_written),
		cmocka_unit_test(test_state_items),
	};

	log_init(1, LOG_LVL_WARN, "test-engine");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
