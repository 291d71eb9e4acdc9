/*
 * test-dsl.c -- unit tests of the workflow language: parsing of every
 * keyword, inline parameters, transitions, task-defaults, scalar typing,
 * positions, validation errors, limits and error formatting.
 */

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsl/dsl.h"
#include "expr/expr.h"
#include "lib/lib.h"

/* ---- helpers ------------------------------------------------------- */

static struct expr	*test_expr;

/* Resolver: std.* actions we name here exist. */
static int
test_action_exists(void *arg, const char *name)
{
	static const char *const known[] = { "std.echo", "std.noop",
	    "std.fail", "std.http", "std.sleep" };
	size_t	i;

	(void)arg;
	for (i = 0; i < nitems(known); i++) {
		if (strcmp(known[i], name) == 0)
			return (1);
	}
	return (0);
}

/* Resolver: one outside workflow exists. */
static int
test_workflow_exists(void *arg, const char *name)
{
	(void)arg;
	return (strcmp(name, "other.wf") == 0);
}

/* Resolver: expressions compile in the real sandbox. */
static int
test_expr_check(void *arg, const char *lua, char **cause)
{
	(void)arg;
	if (test_expr == NULL && (test_expr = expr_create(NULL, NULL,
	    cause)) == NULL)
		return (-1);
	return (expr_check(test_expr, lua, cause));
}

static const struct dsl_resolver test_res = {
	test_action_exists, test_workflow_exists, test_expr_check, NULL
};

/* Parse text that must be valid. */
static struct dsl_workbook *
parse_ok(const char *text)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	char			*s;

	dsl_errors_init(&errs);
	wb = dsl_parse("t.yaml", text, strlen(text), NULL, &errs);
	if (errs.n != 0) {
		s = dsl_errors_format(&errs);
		print_error("unexpected errors:\n%s", s);
		free(s);
	}
	assert_int_equal(errs.n, 0);
	assert_non_null(wb);
	dsl_validate(wb, &test_res, &errs);
	if (errs.n != 0) {
		s = dsl_errors_format(&errs);
		print_error("unexpected validation errors:\n%s", s);
		free(s);
	}
	assert_int_equal(errs.n, 0);
	dsl_errors_free(&errs);
	return (wb);
}

/* Parse and validate; return all errors formatted (caller frees). */
static char *
parse_errs(const char *text, const struct dsl_limits *lim)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	char			*s;

	dsl_errors_init(&errs);
	wb = dsl_parse("t.yaml", text, strlen(text), lim, &errs);
	if (wb != NULL)
		dsl_validate(wb, &test_res, &errs);
	s = dsl_errors_format(&errs);
	dsl_errors_free(&errs);
	dsl_workbook_free(wb);
	return (s);
}

/* Check that the errors of text contain want. */
static void
expect_err(const char *text, const char *want)
{
	char	*s;

	s = parse_errs(text, NULL);
	if (strstr(s, want) == NULL)
		print_error("wanted: %s\ngot:\n%s", want, s);
	assert_non_null(strstr(s, want));
	free(s);
}

#define WF(body) "version: '2.0'\nwf:\n  tasks:\n" body

/* ---- parsing --------------------------------------------------------- */

/* A workbook: names, actions, workflows, triggers. */
static void
test_workbook(void **state)
{
	struct dsl_workbook		*wb;
	const struct dsl_workflow	*wf;
	const struct dsl_action		*a;
	const struct dsl_trigger	*g;

	(void)state;
	wb = parse_ok(
	    "version: '2.0'\n"
	    "name: wb\n"
	    "description: a book\n"
	    "tags: [a, b]\n"
	    "actions:\n"
	    "  greet:\n"
	    "    description: say hi\n"
	    "    base: std.echo output=\"x\" delay=1\n"
	    "    base-input:\n"
	    "      output: <% 'Hi ' .. _.who %>\n"
	    "    input:\n"
	    "      - who\n"
	    "      - how: loud\n"
	    "    output: <% _ %>\n"
	    "workflows:\n"
	    "  main:\n"
	    "    description: d\n"
	    "    tags: [x]\n"
	    "    input: [a, {b: 2}, {c: null}]\n"
	    "    vars: {v: 1}\n"
	    "    output: {r: <% _.a %>}\n"
	    "    output-on-error: {e: 1}\n"
	    "    tasks:\n"
	    "      say:\n"
	    "        action: greet who=<% _.a %>\n"
	    "        on-success: sub\n"
	    "      sub:\n"
	    "        workflow: helper x=1\n"
	    "  helper:\n"
	    "    input: [x]\n"
	    "    tasks:\n"
	    "      t: {action: wb.greet}\n"
	    "triggers:\n"
	    "  host_down:\n"
	    "    source: alertmanager\n"
	    "    when: <% alert.status == 'firing' %>\n"
	    "    workflow: main\n"
	    "    input: {a: <% alert.labels.instance %>}\n"
	    "    key: <% alert.fingerprint %>\n"
	    "    once-within: 10m\n");
	assert_string_equal(wb->name, "wb");
	assert_string_equal(wb->version, "2.0");
	assert_string_equal(wb->description, "a book");
	assert_int_equal(wb->nworkflows, 2);
	wf = dsl_workflow_find(wb, "wb.main");
	assert_non_null(wf);
	assert_ptr_equal(wf, dsl_workflow_find(wb, "main"));
	assert_string_equal(wf->short_name, "main");
	assert_string_equal(wf->path, "workflows.main");
	assert_string_equal(wf->description, "d");
	assert_int_equal(wf->ntags, 1);
	assert_int_equal(wf->ninputs, 3);
	assert_string_equal(wf->inputs[0].name, "a");
	assert_null(wf->inputs[0].def);
	assert_int_equal(json_integer_value(wf->inputs[1].def), 2);
	assert_true(json_is_null(wf->inputs[2].def));
	assert_int_equal(json_integer_value(json_object_get(wf->vars, "v")),
	    1);
	assert_string_equal(json_string_value(json_object_get(wf->output,
	    "r")), "<% _.a %>");
	assert_non_null(wf->output_on_error);
	assert_string_equal(wf->tasks[1].workflow, "helper");
	assert_int_equal(json_integer_value(json_object_get(
	    wf->tasks[1].input, "x")), 1);

	a = dsl_action_find(wb, "wb.greet");
	assert_non_null(a);
	assert_ptr_equal(a, dsl_action_find(wb, "greet"));
	assert_string_equal(a->base, "std.echo");
	assert_string_equal(a->description, "say hi");
	/* base-input wins over inline parameters of base. */
	assert_string_equal(json_string_value(json_object_get(a->base_input,
	    "output")), "<% 'Hi ' .. _.who %>");
	assert_int_equal(json_integer_value(json_object_get(a->base_input,
	    "delay")), 1);
	assert_int_equal(a->ninputs, 2);
	assert_string_equal(json_string_value(a->inputs[1].def), "loud");
	assert_string_equal(json_string_value(a->output), "<% _ %>");

	assert_int_equal(wb->ntriggers, 1);
	g = &wb->triggers[0];
	assert_string_equal(g->name, "host_down");
	assert_string_equal(g->source, "alertmanager");
	assert_string_equal(g->workflow, "main");
	assert_int_equal(g->once_within_ms, 600000);
	assert_true(json_is_string(g->when));
	assert_true(json_is_object(g->input));
	assert_true(json_is_string(g->key));
	assert_null(dsl_workflow_find(wb, "nope"));
	dsl_workbook_free(wb);
}

/* A workflow file: several workflows, names as written. */
static void
test_workflow_file(void **state)
{
	struct dsl_workbook		*wb;
	const struct dsl_workflow	*wf;

	(void)state;
	wb = parse_ok(
	    "version: '2.0'\n"
	    "first:\n"
	    "  tasks:\n"
	    "    a: {action: std.noop}\n"
	    "second:\n"
	    "  type: reverse\n"
	    "  tasks:\n"
	    "    x: {action: std.noop}\n"
	    "    y: {action: std.noop, requires: x}\n"
	    "    z: {requires: [x, y]}\n");
	assert_null(wb->name);
	assert_int_equal(wb->nworkflows, 2);
	wf = &wb->workflows[1];
	assert_string_equal(wf->name, "second");
	assert_string_equal(wf->path, "second");
	assert_int_equal(wf->type, DSL_WF_REVERSE);
	assert_int_equal(wf->tasks[2].nrequires, 2);
	assert_string_equal(wf->tasks[2].requires[1], "y");
	assert_int_equal(wf->tasks[1].nrequires, 1);
	assert_null(wf->tasks[2].action);	/* std.noop */
	assert_string_equal(wf->tasks[1].path, "second.tasks.y");
	assert_int_equal(wb->workflows[0].type, DSL_WF_DIRECT);
	dsl_workbook_free(wb);
}

/* Every task keyword lands in its field. */
static void
test_task_keywords(void **state)
{
	struct dsl_workbook	*wb;
	const struct dsl_task	*t;

	(void)state;
	wb = parse_ok(WF(
	    "    t:\n"
	    "      description: the task\n"
	    "      tags: [a]\n"
	    "      action: std.echo output=1\n"
	    "      input: {delay: 2, output: 3}\n"
	    "      publish: {p: <% task().result %>}\n"
	    "      publish-on-error: {e: <% task().state_info %>}\n"
	    "      with-items: x in <% _.list %>\n"
	    "      concurrency: 2\n"
	    "      retry: {count: 3, delay: 1.5, break-on: <% false %>,"
	    " continue-on: <% true %>}\n"
	    "      timeout: 30\n"
	    "      wait-before: 1\n"
	    "      wait-after: 2\n"
	    "      pause-before: true\n"
	    "      fail-on: <% _.x %>\n"
	    "      safe-rerun: true\n"
	    "      keep-result: false\n"
	    "      target: somehost\n"
	    "      progress: {start: go, success: <% 'ok' %>, error: bad}\n"
	    "      lock: <% 'host:' .. _.h %>\n"
	    "      on-complete: u\n"
	    "    u:\n"
	    "      join: all\n"));
	t = dsl_task_find(&wb->workflows[0], "t");
	assert_non_null(t);
	assert_string_equal(t->description, "the task");
	assert_string_equal(t->action, "std.echo");
	/* input wins over inline parameters. */
	assert_int_equal(json_integer_value(json_object_get(t->input,
	    "output")), 3);
	assert_int_equal(json_integer_value(json_object_get(t->input,
	    "delay")), 2);
	assert_non_null(json_object_get(t->publish, "p"));
	assert_non_null(json_object_get(t->publish_on_error, "e"));
	assert_int_equal(t->nitems, 1);
	assert_string_equal(t->items[0].var, "x");
	assert_string_equal(json_string_value(t->items[0].list),
	    "<% _.list %>");
	assert_int_equal(json_integer_value(t->concurrency), 2);
	assert_int_equal(json_integer_value(t->retry_count), 3);
	assert_true(json_real_value(t->retry_delay) == 1.5);
	assert_string_equal(json_string_value(t->retry_break_on),
	    "<% false %>");
	assert_string_equal(json_string_value(t->retry_continue_on),
	    "<% true %>");
	assert_int_equal(json_integer_value(t->timeout), 30);
	assert_int_equal(json_integer_value(t->wait_before), 1);
	assert_int_equal(json_integer_value(t->wait_after), 2);
	assert_true(json_is_true(t->pause_before));
	assert_true(json_is_string(t->fail_on));
	assert_true(json_is_true(t->safe_rerun));
	assert_true(json_is_false(t->keep_result));
	assert_string_equal(json_string_value(json_object_get(t->progress,
	    "start")), "go");
	assert_string_equal(json_string_value(t->lock), "<% 'host:' .. _.h %>");
	assert_int_equal(t->on_complete.n, 1);
	t = dsl_task_find(&wb->workflows[0], "u");
	assert_int_equal(t->join, DSL_JOIN_ALL);
	assert_true(json_is_object(t->input));
	assert_int_equal(json_object_size(t->input), 0);
	assert_null(t->retry_count);
	assert_null(t->timeout);
	dsl_workbook_free(wb);
}

/* with-items forms, join forms, retry one-liner, input expression. */
static void
test_task_forms(void **state)
{
	struct dsl_workbook	*wb;
	const struct dsl_workflow *wf;

	(void)state;
	wb = parse_ok(WF(
	    "    a:\n"
	    "      with-items:\n"
	    "        - x in [1, 2]\n"
	    "        - y in <% _.ys %>\n"
	    "      retry: count=3 delay=<% _.d %>\n"
	    "      input: <% _.params %>\n"
	    "      on-success: [b, c, d]\n"
	    "    b:\n"
	    "      on-success: d\n"
	    "    c:\n"
	    "      on-success: d\n"
	    "    d:\n"
	    "      join: 2\n"
	    "      on-success: e\n"
	    "    e:\n"
	    "      join: one\n"));
	wf = &wb->workflows[0];
	assert_int_equal(wf->tasks[0].nitems, 2);
	assert_true(json_is_array(wf->tasks[0].items[0].list));
	assert_int_equal(json_array_size(wf->tasks[0].items[0].list), 2);
	assert_string_equal(wf->tasks[0].items[1].var, "y");
	assert_int_equal(json_integer_value(wf->tasks[0].retry_count), 3);
	assert_string_equal(json_string_value(wf->tasks[0].retry_delay),
	    "<% _.d %>");
	assert_string_equal(json_string_value(wf->tasks[0].input),
	    "<% _.params %>");
	assert_int_equal(wf->tasks[3].join, DSL_JOIN_N);
	assert_int_equal(wf->tasks[3].join_n, 2);
	assert_int_equal(wf->tasks[4].join, DSL_JOIN_N);
	assert_int_equal(wf->tasks[4].join_n, 1);
	assert_int_equal(dsl_inbound_count(wf, 3), 3);
	assert_int_equal(dsl_inbound_count(wf, 0), 0);
	dsl_workbook_free(wb);
}

/* All four transition forms and engine commands. */
static void
test_transitions(void **state)
{
	struct dsl_workbook	*wb;
	const struct dsl_task	*t;
	const struct dsl_trans	*tr;

	(void)state;
	wb = parse_ok(WF(
	    "    a:\n"
	    "      on-success: b\n"
	    "      on-error:\n"
	    "        - c: <% _.x > 1 %>\n"
	    "        - d\n"
	    "        - fail msg=\"it broke\": <% _.y %>\n"
	    "      on-complete:\n"
	    "        publish:\n"
	    "          branch: {p: 1}\n"
	    "          global: {g: <% _.z %>}\n"
	    "        next:\n"
	    "          - e\n"
	    "          - noop\n"
	    "    b: {on-success: 'fail(msg=<% \"bad: \" .. _.x %>)'}\n"
	    "    c: {on-success: succeed msg='done'}\n"
	    "    d: {on-success: pause}\n"
	    "    e: {on-error: fail}\n"));
	t = &wb->workflows[0].tasks[0];
	tr = &t->on_success;
	assert_true(tr->set);
	assert_int_equal(tr->n, 1);
	assert_int_equal(tr->v[0].kind, DSL_NEXT_TASK);
	assert_string_equal(tr->v[0].task, "b");
	assert_null(tr->v[0].cond);
	tr = &t->on_error;
	assert_int_equal(tr->n, 3);
	assert_string_equal(tr->v[0].task, "c");
	assert_string_equal(json_string_value(tr->v[0].cond), "<% _.x > 1 %>");
	assert_null(tr->v[1].cond);
	assert_int_equal(tr->v[2].kind, DSL_NEXT_FAIL);
	assert_string_equal(json_string_value(tr->v[2].msg), "it broke");
	assert_string_equal(json_string_value(tr->v[2].cond), "<% _.y %>");
	tr = &t->on_complete;
	assert_int_equal(tr->n, 2);
	assert_int_equal(tr->v[1].kind, DSL_NEXT_NOOP);
	assert_int_equal(json_integer_value(json_object_get(tr->publish,
	    "p")), 1);
	assert_non_null(json_object_get(tr->publish_global, "g"));
	tr = &wb->workflows[0].tasks[1].on_success;
	assert_int_equal(tr->v[0].kind, DSL_NEXT_FAIL);
	assert_string_equal(json_string_value(tr->v[0].msg),
	    "<% \"bad: \" .. _.x %>");
	tr = &wb->workflows[0].tasks[2].on_success;
	assert_int_equal(tr->v[0].kind, DSL_NEXT_SUCCEED);
	assert_string_equal(json_string_value(tr->v[0].msg), "done");
	assert_int_equal(wb->workflows[0].tasks[3].on_success.v[0].kind,
	    DSL_NEXT_PAUSE);
	assert_null(wb->workflows[0].tasks[4].on_error.v[0].msg);
	assert_false(wb->workflows[0].tasks[4].on_success.set);
	dsl_workbook_free(wb);
}

/* task-defaults: merged, overridden, self-transitions dropped. */
static void
test_task_defaults(void **state)
{
	struct dsl_workbook		*wb;
	const struct dsl_workflow	*wf;

	(void)state;
	wb = parse_ok(
	    "version: '2.0'\n"
	    "wf:\n"
	    "  task-defaults:\n"
	    "    retry: {count: 2, delay: 1}\n"
	    "    timeout: 10\n"
	    "    on-error: [cleanup]\n"
	    "  tasks:\n"
	    "    a:\n"
	    "      timeout: 5\n"
	    "      on-success: b\n"
	    "    b:\n"
	    "      retry: count=7 delay=0\n"
	    "      on-error: [cleanup, fail]\n"
	    "    cleanup: {}\n");
	wf = &wb->workflows[0];
	assert_int_equal(json_integer_value(wf->tasks[0].timeout), 5);
	assert_int_equal(json_integer_value(wf->tasks[0].retry_count), 2);
	assert_int_equal(json_integer_value(wf->tasks[1].retry_count), 7);
	assert_int_equal(json_integer_value(wf->tasks[1].timeout), 10);
	assert_int_equal(wf->tasks[0].on_error.n, 1);
	assert_string_equal(wf->tasks[0].on_error.v[0].task, "cleanup");
	assert_int_equal(wf->tasks[1].on_error.n, 2);
	assert_int_equal(wf->tasks[1].on_error.v[1].kind, DSL_NEXT_FAIL);
	/* The default pointing at cleanup itself is dropped there. */
	assert_true(wf->tasks[2].on_error.set);
	assert_int_equal(wf->tasks[2].on_error.n, 0);
	dsl_workbook_free(wb);
}

/* YAML 1.2 core schema: plain scalars are typed, quoted ones are not. */
static void
test_scalar_typing(void **state)
{
	struct dsl_workbook	*wb;
	json_t			*in;

	(void)state;
	wb = parse_ok(WF(
	    "    t:\n"
	    "      input:\n"
	    "        i: 42\n"
	    "        n: -7\n"
	    "        h: 0x1F\n"
	    "        o: 0o17\n"
	    "        f: 1.5e3\n"
	    "        t: true\n"
	    "        F: False\n"
	    "        z: null\n"
	    "        tilde: ~\n"
	    "        empty:\n"
	    "        qi: '42'\n"
	    "        qt: \"true\"\n"
	    "        yes: yes\n"
	    "        inf: .inf\n"
	    "        ver: 1.2.3\n"
	    "        tagged: !!str 12\n"
	    "        list: [1, 'a', b]\n"));
	in = wb->workflows[0].tasks[0].input;
	assert_int_equal(json_integer_value(json_object_get(in, "i")), 42);
	assert_int_equal(json_integer_value(json_object_get(in, "n")), -7);
	assert_int_equal(json_integer_value(json_object_get(in, "h")), 31);
	assert_int_equal(json_integer_value(json_object_get(in, "o")), 15);
	assert_true(json_real_value(json_object_get(in, "f")) == 1500.0);
	assert_true(json_is_true(json_object_get(in, "t")));
	assert_true(json_is_false(json_object_get(in, "F")));
	assert_true(json_is_null(json_object_get(in, "z")));
	assert_true(json_is_null(json_object_get(in, "tilde")));
	assert_true(json_is_null(json_object_get(in, "empty")));
	assert_string_equal(json_string_value(json_object_get(in, "qi")), "42");
	assert_string_equal(json_string_value(json_object_get(in, "qt")),
	    "true");
	assert_string_equal(json_string_value(json_object_get(in, "yes")),
	    "yes");
	assert_string_equal(json_string_value(json_object_get(in, "inf")),
	    ".inf");
	assert_string_equal(json_string_value(json_object_get(in, "ver")),
	    "1.2.3");
	assert_string_equal(json_string_value(json_object_get(in, "tagged")),
	    "12");
	assert_int_equal(json_array_size(json_object_get(in, "list")), 3);
	dsl_workbook_free(wb);
}

/* YAML merge keys: "<<: *anchor" and "<<: [a, b]", own keys win. */
static void
test_merge_keys(void **state)
{
	struct dsl_workbook		*wb;
	const struct dsl_workflow	*wf;

	(void)state;
	wb = parse_ok(WF(
	    "    a: &base\n"
	    "      action: std.echo output=1\n"
	    "      timeout: 5\n"
	    "      on-success: b\n"
	    "    b:\n"
	    "      <<: *base\n"
	    "      timeout: 7\n"
	    "      on-success: c\n"
	    "    c:\n"
	    "      <<: [{retry: {count: 1, delay: 2}}, *base]\n"
	    "      on-success: []\n"));
	wf = &wb->workflows[0];
	assert_string_equal(wf->tasks[1].action, "std.echo");
	assert_int_equal(json_integer_value(wf->tasks[1].timeout), 7);
	assert_string_equal(wf->tasks[1].on_success.v[0].task, "c");
	assert_int_equal(json_integer_value(wf->tasks[2].retry_count), 1);
	assert_int_equal(json_integer_value(wf->tasks[2].timeout), 5);
	assert_int_equal(wf->tasks[2].on_success.n, 0);
	dsl_workbook_free(wb);
}

/* Positions of workflows, tasks and transitions. */
static void
test_positions(void **state)
{
	struct dsl_workbook		*wb;
	const struct dsl_workflow	*wf;

	(void)state;
	wb = parse_ok(
	    "version: '2.0'\n"		/* 1 */
	    "wf:\n"			/* 2 */
	    "  tasks:\n"		/* 3 */
	    "    one:\n"		/* 4 */
	    "      on-success:\n"	/* 5 */
	    "        - two\n"		/* 6 */
	    "    two: {on-error: [{three: <% true %>}]}\n"	/* 7 */
	    "    three: {}\n");
	wf = &wb->workflows[0];
	assert_string_equal(wf->pos.file, "t.yaml");
	assert_int_equal(wf->pos.line, 2);
	assert_int_equal(wf->pos.col, 1);
	assert_int_equal(wf->tasks[0].pos.line, 4);
	assert_int_equal(wf->tasks[0].pos.col, 5);
	assert_int_equal(wf->tasks[0].on_success.v[0].pos.line, 6);
	assert_int_equal(wf->tasks[0].on_success.v[0].pos.col, 11);
	assert_int_equal(wf->tasks[1].on_error.v[0].pos.line, 7);
	assert_int_equal(wf->tasks[1].on_error.v[0].pos.col, 23);
	dsl_workbook_free(wb);
}

/* dsl_parse_inline in all its forms. */
static void
test_inline(void **state)
{
	json_t	*p;
	char	*name, *cause;

	(void)state;
	assert_int_equal(dsl_parse_inline("std.echo output=\"a b\" delay=1 "
	    "x=<% _.a + 1 %> l=[1, 2] o={\"k\": 1} w=word f=1.5 n=null",
	    &name, &p, &cause), 0);
	assert_string_equal(name, "std.echo");
	assert_string_equal(json_string_value(json_object_get(p, "output")),
	    "a b");
	assert_int_equal(json_integer_value(json_object_get(p, "delay")), 1);
	assert_string_equal(json_string_value(json_object_get(p, "x")),
	    "<% _.a + 1 %>");
	assert_int_equal(json_array_size(json_object_get(p, "l")), 2);
	assert_true(json_is_object(json_object_get(p, "o")));
	assert_string_equal(json_string_value(json_object_get(p, "w")), "word");
	assert_true(json_is_real(json_object_get(p, "f")));
	assert_true(json_is_null(json_object_get(p, "n")));
	free(name);
	json_decref(p);

	assert_int_equal(dsl_parse_inline("act(a=1, b='x y', c=<% f(1, 2) %>)",
	    &name, &p, &cause), 0);
	assert_string_equal(name, "act");
	assert_int_equal(json_integer_value(json_object_get(p, "a")), 1);
	assert_string_equal(json_string_value(json_object_get(p, "b")), "x y");
	assert_string_equal(json_string_value(json_object_get(p, "c")),
	    "<% f(1, 2) %>");
	free(name);
	json_decref(p);

	assert_int_equal(dsl_parse_inline("  t2  ", &name, &p, &cause), 0);
	assert_string_equal(name, "t2");
	assert_int_equal(json_object_size(p), 0);
	free(name);
	json_decref(p);

	assert_int_equal(dsl_parse_inline("fail msg=\"say \\\"hi\\\"\"", &name,
	    &p, &cause), 0);
	assert_string_equal(json_string_value(json_object_get(p, "msg")),
	    "say \"hi\"");
	free(name);
	json_decref(p);

	assert_int_equal(dsl_parse_inline("x a=\"open", &name, &p, &cause),
	    -1);
	assert_non_null(strstr(cause, "unterminated string"));
	free(cause);
	assert_int_equal(dsl_parse_inline("x a=<% 1", &name, &p, &cause), -1);
	assert_non_null(strstr(cause, "unterminated expression"));
	free(cause);
	assert_int_equal(dsl_parse_inline("x junk", &name, &p, &cause), -1);
	assert_non_null(strstr(cause, "expected name=value"));
	free(cause);
	assert_int_equal(dsl_parse_inline("x(a=1", &name, &p, &cause), -1);
	free(cause);
	assert_int_equal(dsl_parse_inline("", &name, &p, &cause), -1);
	free(cause);
}

/* Collect expressions for test_template_walk. */
static void
walk_collect(void *arg, const char *lua)
{
	struct buf	*b = arg;

	buf_printf(b, "[%s]", lua);
}

/* dsl_template_walk visits every <% %> of nested values. */
static void
test_template_walk(void **state)
{
	struct buf	 b;
	json_t		*j;

	(void)state;
	j = json_pack("{s:s, s:[s, i, {s:s}]}", "a", "x <% _.a %> y <%b%>",
	    "l", "<%  c  %>", 1, "k", "no expression");
	buf_init(&b, 0);
	buf_puts(&b, "");
	dsl_template_walk(j, walk_collect, &b);
	assert_non_null(strstr(b.data, "[_.a][b]"));
	assert_non_null(strstr(b.data, "[c]"));
	assert_int_equal(strlen(b.data), strlen("[_.a][b][c]"));
	buf_free(&b);
	json_decref(j);
}

/* Start tasks in definition order; self-loops are inbound. */
static void
test_start_tasks(void **state)
{
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	size_t			*v, n;
	const char		*text = WF(
	    "    a: {on-success: c}\n"
	    "    b: {on-success: c}\n"
	    "    c: {on-error: c}\n"
	    "    d: {}\n");

	(void)state;
	dsl_errors_init(&errs);
	wb = dsl_parse("t.yaml", text, strlen(text), NULL, &errs);
	assert_int_equal(errs.n, 0);
	n = dsl_start_tasks(&wb->workflows[0], &v);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[1], 1);
	assert_int_equal(v[2], 3);
	free(v);
	assert_int_equal(dsl_inbound_count(&wb->workflows[0], 2), 3);
	dsl_workbook_free(wb);
}

/* ---- errors ---------------------------------------------------------- */

/* Shape errors found by the parser, with paths. */
static void
test_parse_errors(void **state)
{
	(void)state;
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {on-sucess: b}\n",
	    "t.yaml:4:9: unknown key 'on-sucess' (did you mean 'on-success'?)"
	    " (wf.tasks.a.on-sucess)");
	expect_err("version: '2.0'\nwf:\n  tasks: [a]\n",
	    "t.yaml:3:10: expected a mapping, got a list (wf.tasks)");
	expect_err("version: '2.0'\nwf:\n  input: a\n  tasks: {a: {}}\n",
	    "expected a list, got a scalar (wf.input)");
	expect_err("version: '2.0'\nwf:\n  description: x\n",
	    "t.yaml:2:1: missing required key 'tasks' (wf)");
	expect_err("wf:\n  tasks: {a: {}}\n",
	    "missing required key 'version'");
	expect_err("version: '1.0'\nwf:\n  tasks: {a: {}}\n",
	    "unsupported version '1.0'");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {}\n    a: {}\n",
	    "t.yaml:5:5: duplicate key 'a' (wf.tasks.a)");
	expect_err("version: '2.0'\nname: wb\nworkflows:\n  w:\n    tasks:\n"
	    "      a: {retry: {count: 1, delay: 1, delya: 2}}\n",
	    "unknown key 'delya' (did you mean 'delay'?) "
	    "(workflows.w.tasks.a.retry.delya)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {retry: {count: 1}}\n",
	    "missing required key 'delay' (wf.tasks.a.retry)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {retry: count=x delay=1}\n",
	    "expected a non-negative integer or an expression, got \"x\"");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {timeout: soon}\n",
	    "expected a non-negative number of seconds or an expression, got "
	    "\"soon\" (wf.tasks.a.timeout)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {wait-before: -1}\n",
	    "got -1 (wf.tasks.a.wait-before)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {pause-before: 1}\n",
	    "expected true or false or an expression");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {join: some}\n",
	    "expected 'all', 'one' or a positive integer, got 'some'");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {with-items: x of y}\n",
	    "expected 'VAR in <% expression %>' or 'VAR in [...]', got "
	    "'x of y' (wf.tasks.a.with-items)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {with-items: x in 5}\n",
	    "with-items list must be an expression or a JSON list");
	expect_err("version: '2.0'\nwf:\n  tasks:\n"
	    "    a: {action: std.noop, workflow: w}\n",
	    "'action' and 'workflow' cannot both be set (wf.tasks.a.workflow)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {requires: [b]}\n"
	    "    b: {}\n",
	    "'requires' is only allowed in reverse workflows "
	    "(wf.tasks.a.requires)");
	expect_err("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n"
	    "    a: {on-success: b}\n    b: {}\n",
	    "'on-success' is only allowed in direct workflows");
	expect_err("version: '2.0'\nwf:\n  type: sideways\n  tasks: {a: {}}\n",
	    "unknown workflow type 'sideways'");
	expect_err("version: '2.0'\nwf:\n  task-defaults: {action: std.noop}\n"
	    "  tasks: {a: {}}\n",
	    "'action' is not allowed in task-defaults "
	    "(wf.task-defaults.action)");
	expect_err("version: '2.0'\nbad-name:\n  tasks: {a: {}}\n",
	    "invalid workflow name 'bad-name'");
	expect_err("version: '2.0'\n"
	    "123e4567-e89b-42d3-a456-426614174000:\n  tasks: {a: {}}\n",
	    "looks like a UUID");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    fail: {}\n",
	    "task name 'fail' is reserved for an engine command");
	expect_err("version: '2.0'\nwf:\n  tasks:\n    a: {on-success: b x=1}\n"
	    "    b: {}\n", "unexpected parameters after task name 'b'");
	expect_err("version: '2.0'\nwf:\n  tasks:\n"
	    "    a: {on-success: fail why=1}\n",
	    "unexpected parameter 'why' for 'fail' (expected msg)");
	expect_err("version: '2.0'\nwf:\n  tasks:\n"
	    "    a: {action: 'std.echo output=\"x'}\n",
	    "unterminated string");
	expect_err("version: '2.0'\nwf:\n  tasks:\n"
	    "    a: {action: std.echo x=1, input: <% _.y %>}\n",
	    "an input expression cannot be combined with inline parameters");
	expect_err("version: '2.0'\nname: wb\nactions:\n  a: {input: [x]}\n",
	    "missing required key 'base' (actions.a)");
	expect_err("version: '2.0'\nname: wb\ntriggers:\n"
	    "  t: {source: generic, workflow: w, once-within: soon}\n"
	    "workflows:\n  w: {tasks: {a: {}}}\n",
	    "invalid duration: soon");
	expect_err("version: '2.0'\nname: wb\ntriggers:\n  t: {when: x}\n",
	    "missing required key 'source' (triggers.t)");
	expect_err("- a\n- b\n", "expected a mapping at the top level");
	expect_err("", "t.yaml: empty document");
}

/* YAML syntax errors carry line and column. */
static void
test_syntax_error(void **state)
{
	(void)state;
	expect_err("version: '2.0'\nwf:\n  tasks: {a: [}\n",
	    "t.yaml:3:15: YAML syntax error:");
	expect_err("a: b\n c: d\n  - e\n", "YAML syntax error");
	expect_err("version: '2.0'\nwf: *nope\n", "unknown alias '*nope'");
	expect_err("a: 1\n---\nb: 2\n", "only one YAML document");
}

/* Semantic errors from dsl_validate. */
static void
test_validate_errors(void **state)
{
	(void)state;
	expect_err(WF("    a: {on-success: nope}\n"),
	    "t.yaml:4:21: task 'nope' not found (wf.tasks.a.on-success)");
	expect_err(WF("    a: {on-success: [bb]}\n    b: {}\n"),
	    "task 'bb' not found (did you mean 'b'?)");
	expect_err(WF("    a: {action: std.ecoh}\n"),
	    "t.yaml:4:17: action 'std.ecoh' not found (wf.tasks.a.action)");
	expect_err(WF("    a: {workflow: nowhere}\n"),
	    "workflow 'nowhere' not found (wf.tasks.a.workflow)");
	expect_err(WF("    a: {on-success: b}\n    b: {join: 2}\n"),
	    "join 2 is more than the number of tasks leading here (1) "
	    "(wf.tasks.b.join)");
	expect_err(WF("    a: {on-success: b}\n    b: {on-success: a}\n"),
	    "t.yaml:2:1: workflow 'wf' has no start task");
	expect_err(WF("    a: {}\n    b: {on-success: c}\n"
	    "    c: {on-success: b}\n"),
	    "t.yaml:5:5: task 'b' is unreachable from the start tasks "
	    "(wf.tasks.b)");
	expect_err("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n"
	    "    a: {requires: b}\n    b: {requires: [c]}\n"
	    "    c: {requires: a}\n",
	    "cycle in requires: a -> b -> c -> a");
	expect_err("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n"
	    "    a: {requires: zz}\n",
	    "t.yaml:5:19: task 'zz' not found (wf.tasks.a.requires)");
	expect_err(WF("    a: {publish: {x: <% 1 + %>}}\n"),
	    "t.yaml:4:22: invalid expression \"<% 1 + %>\"");
	expect_err(WF("    a: {publish: {x: <% 1 + %>}}\n"),
	    "(wf.tasks.a.publish.x)");
	expect_err(WF("    a: {action: std.echo output=<% ) %>}\n"),
	    "invalid expression \"<% ) %>\"");
	expect_err(WF("    a: {publish: {x: '<% open'}}\n"),
	    "unterminated expression (missing '%>') (wf.tasks.a.publish.x)");
	expect_err(WF("    a: {publish: {x: '<%  %>'}}\n"),
	    "empty expression <% %>");
	expect_err("version: '2.0'\nname: wb\nactions:\n"
	    "  a: {base: std.nothing}\n",
	    "base action 'std.nothing' not found (actions.a.base)");
	expect_err("version: '2.0'\nname: wb\nactions:\n"
	    "  a: {base: b}\n  b: {base: a}\n",
	    "is based on itself");
	expect_err("version: '2.0'\nname: wb\ntriggers:\n"
	    "  t: {source: generic, workflow: gone}\n",
	    "workflow 'gone' not found (triggers.t.workflow)");
}

/* Errors are all collected, not just the first. */
static void
test_errors_collected(void **state)
{
	char	*s;
	size_t	 n = 0;
	char	*p;

	(void)state;
	s = parse_errs(WF(
	    "    a: {on-sucess: b, timeout: x}\n"
	    "    b: {action: std.ecoh, on-success: [zz]}\n"
	    "    c: {publish: {x: <% ( %>}}\n"), NULL);
	for (p = s; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	assert_true(n >= 5);
	free(s);
}

/* Error formatting: file:line:col, path, and whole-file errors. */
static void
test_error_format(void **state)
{
	struct dsl_errors	errs;
	struct dsl_pos		pos = { "f.yaml", 3, 7 };
	struct dsl_pos		whole = { "g.yaml", 0, 0 };
	char			*s, *file;

	(void)state;
	dsl_errors_init(&errs);
	file = xstrdup("f.yaml");
	pos.file = file;
	dsl_errors_add(&errs, &pos, "wf.tasks.a", "bad %s %d", "thing", 2);
	free(file);	/* diagnostics keep their own copy */
	pos.file = "f.yaml";
	dsl_errors_add(&errs, &pos, NULL, "no path");
	dsl_errors_add(&errs, &whole, NULL, "cannot read");
	dsl_errors_add(&errs, NULL, "name", "no position");
	s = dsl_errors_format(&errs);
	assert_string_equal(s, "f.yaml:3:7: bad thing 2 (wf.tasks.a)\n"
	    "f.yaml:3:7: no path\n"
	    "g.yaml: cannot read\n"
	    "f.yaml: no position (name)\n");
	free(s);
	dsl_errors_free(&errs);
	assert_int_equal(errs.n, 0);
	dsl_errors_add(&errs, NULL, "x", "nowhere");
	s = dsl_errors_format(&errs);
	assert_string_equal(s, "nowhere (x)\n");
	free(s);
	dsl_errors_free(&errs);
}

/* ---- limits ---------------------------------------------------------- */

/* A billion laughs fails fast, naming the limit and where. */
static void
test_billion_laughs(void **state)
{
	const char	*text =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	int64_t		 t0;
	char		*s;

	(void)state;
	t0 = time_mono_ms();
	s = parse_errs(text, NULL);
	assert_true(time_mono_ms() - t0 < 500);
	assert_non_null(strstr(s, "t.yaml:6:14: "));
	assert_non_null(strstr(s, "more than 200000 nodes with aliases "
	    "expanded (limit max_nodes)"));
	free(s);
}

/* Deep nesting stops at max_depth. */
static void
test_deep_nesting(void **state)
{
	struct dsl_limits	 lim = { 0, 10, 0 };
	struct buf		 b;
	char			*s;
	int			 i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "[");
	s = parse_errs(b.data, NULL);
	assert_non_null(strstr(s, "t.yaml:1:65: nesting is deeper than 64 "
	    "levels (limit max_depth)"));
	free(s);
	s = parse_errs("a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: 1}}}}}}}}}}\n",
	    &lim);
	assert_non_null(strstr(s, "deeper than 10 levels"));
	free(s);
	/* An alias counts with the depth of what it names. */
	s = parse_errs("x: &x {a: {b: {c: {d: {e: {f: {g: 1}}}}}}}\n"
	    "y: {a: {b: {c: *x}}}\n", &lim);
	assert_non_null(strstr(s, "t.yaml:2:16: nesting is deeper"));
	free(s);
	buf_free(&b);
}

/* A file over max_bytes is refused before parsing. */
static void
test_huge_file(void **state)
{
	struct dsl_limits	 lim = { 1024, 0, 0 };
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	char			*text, *s;
	size_t			 len = 5 * 1024 * 1024;

	(void)state;
	text = xmalloc(len + 1);
	memset(text, '#', len);
	text[len] = '\0';
	dsl_errors_init(&errs);
	wb = dsl_parse("big.yaml", text, len, NULL, &errs);
	assert_null(wb);
	s = dsl_errors_format(&errs);
	assert_string_equal(s, "big.yaml: file is 5242880 bytes, more than "
	    "4194304 (limit max_bytes)\n");
	free(s);
	dsl_errors_free(&errs);
	wb = dsl_parse("big.yaml", text, 2000, &lim, &errs);
	assert_null(wb);
	assert_int_equal(errs.n, 1);
	dsl_errors_free(&errs);
	free(text);
}

/* A smaller node limit applies to plain documents too. */
static void
test_node_limit(void **state)
{
	struct dsl_limits	 lim = { 0, 0, 50 };
	struct buf		 b;
	char			*s;
	int			 i;

	(void)state;
	buf_init(&b, 0);
	buf_puts(&b, "version: '2.0'\nwf:\n  tasks:\n");
	for (i = 0; i < 30; i++)
		buf_printf(&b, "    t%d: {action: std.noop}\n", i);
	s = parse_errs(b.data, &lim);
	assert_non_null(strstr(s, "(limit max_nodes)"));
	free(s);
	buf_free(&b);
}

/* 300 tasks parse and validate quickly. */
static void
test_speed(void **state)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	struct buf		 b;
	int64_t			 t0, t1;
	int			 i, rounds = 20;

	(void)state;
	buf_init(&b, 0);
	buf_puts(&b, "version: '2.0'\nwf:\n  tasks:\n");
	for (i = 0; i < 300; i++)
		buf_printf(&b, "    t%d:\n      action: std.echo output=%d\n"
		    "      publish: {r%d: <%% task().result %%>}\n"
		    "      on-success: [t%d]\n", i, i, i, i + 1);
	buf_puts(&b, "    t300: {}\n");
	t0 = time_mono_ms();
	for (i = 0; i < rounds; i++) {
		dsl_errors_init(&errs);
		wb = dsl_parse("t.yaml", b.data, b.len, NULL, &errs);
		assert_int_equal(errs.n, 0);
		dsl_validate(wb, NULL, &errs);
		assert_int_equal(errs.n, 0);
		dsl_workbook_free(wb);
		dsl_errors_free(&errs);
	}
	t1 = time_mono_ms();
	print_message("300 tasks: %.2f ms per parse+validate\n",
	    (double)(t1 - t0) / rounds);
	/* Generous: sanitizer builds are slow. */
	assert_true((t1 - t0) / rounds < 100);
	buf_free(&b);
}

/* Bad bytes and odd shapes never crash. */
static void
test_garbage(void **state)
{
	static const char *const inputs[] = {
		"\x01\x02\x03", "\xff\xfe", "{", "[[[", "? [a]\n: b\n",
		"version: '2.0'\nwf: {tasks: {a: {on-success: {}}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {on-success: [[]]}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {retry: []}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {with-items: []}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {input: 5}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {action: [x]}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {requires: {}}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {progress: x}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {lock: [1]}}}\n",
		"version: '2.0'\nwf: {tasks: {}}\n",
		"version: '2.0'\nwf: {tasks: {[a]: {}}}\n",
		"version: '2.0'\nwf: 5\n",
		"version: [2]\nname: [x]\nworkflows: 1\nactions: 2\n",
		"version: '2.0'\nname: wb\ntriggers: {t: 1}\n",
		"version: '2.0'\nname: wb\nactions: {a: {base: '<% x'}}\n",
		"version: '2.0'\nwf: {input: [[a]], tasks: {a: {}}}\n",
		"version: '2.0'\nwf: {task-defaults: 1, tasks: {a: {}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {on-success: {next: {}}}}}\n",
		"version: '2.0'\nwf: {tasks: {a: {on-success: {publish: 1}}}}\n",
	};
	size_t	i;
	char	*s;

	(void)state;
	for (i = 0; i < nitems(inputs); i++) {
		s = parse_errs(inputs[i], NULL);
		if (*s == '\0')
			print_error("no error for: %s\n", inputs[i]);
		assert_true(*s != '\0');
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workbook),
		cmocka_unit_test(test_workflow_file),
		cmocka_unit_test(test_task_keywords),
		cmocka_unit_test(test_task_forms),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_task_defaults),
		cmocka_unit_test(test_scalar_typing),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_template_walk),
		cmocka_unit_test(test_start_tasks),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_validate_errors),
		cmocka_unit_test(test_errors_collected),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_garbage),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	expr_free(test_expr);
	return (rc);
}
