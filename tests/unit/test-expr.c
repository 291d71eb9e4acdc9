/*
 * test-expr.c -- unit tests of the expression sandbox: templates, the
 * function library, JSON <-> Lua, the sandbox guarantees, and the
 * data-driven triplets of tests/data/expr/NAME.test.
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/lib.h"
#include "expr/expr.h"

static const char	*srcdir(void);
static struct expr	*mk(void);
static json_t		*js(const char *);
static json_t		*ev(struct expr *, const char *, const char *, char **);
static void		 check(struct expr *, const char *, const char *,
			     const char *);
static void		 check_err(struct expr *, const char *, const char *,
			     const char *);
static struct expr	*mk_limits(uint64_t, size_t, int64_t);
static void		 check_err_within(struct expr *, const char *,
			     const char *, int64_t);

/* Where the source tree is: $SRCDIR or the current folder. */
static const char *
srcdir(void)
{
	const char	*s = getenv("SRCDIR");

	return (s != NULL && *s != '\0' ? s : ".");
}

/*
 * mk()'s time limit: long, so that on a busy machine only the budget
 * stops the tests that expect the budget to (the time limit has tests
 * of its own).
 */
#define TEST_TIME_MS	60000

/* A sandbox with the shipped lua/ library. */
static struct expr *
mk(void)
{
	return (mk_limits(0, 0, TEST_TIME_MS));
}

/* A sandbox with the lua/ library and these limits (0: default). */
static struct expr *
mk_limits(uint64_t instructions, size_t memory, int64_t ms)
{
	struct expr_limits	 lim;
	struct expr		*e;
	char			*dir, *cause = NULL;

	memset(&lim, 0, sizeof lim);
	lim.max_instructions = instructions;
	lim.max_memory = memory;
	lim.max_time_ms = ms;
	xasprintf(&dir, "%s/lua", srcdir());
	e = expr_create(&lim, dir, &cause);
	if (e == NULL)
		fail_msg("expr_create: %s", cause);
	free(dir);
	return (e);
}

/* Parse JSON text (any value) or fail the test. */
static json_t *
js(const char *text)
{
	json_error_t	 err;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY, &err);
	if (v == NULL)
		fail_msg("bad JSON in test: %s: %s", text, err.text);
	return (v);
}

/* Context used by the tests: task t1 exists, env and execution set. */
static json_t *
test_task_lookup(void *arg, const char *name)
{
	if (strcmp(name, "t1") == 0)
		return (js("{\"id\": \"id-t1\", \"name\": \"t1\", "
		    "\"state\": \"SUCCESS\", \"result\": {\"n\": 7}, "
		    "\"published\": {}}"));
	return (NULL);
}

struct progress_seen {
	char	msg[64];
	double	frac;
	int	calls;
};

/* Record what progress() reported. */
static void
test_progress(void *arg, const char *msg, double frac)
{
	struct progress_seen	*p = arg;

	snprintf(p->msg, sizeof p->msg, "%s", msg);
	p->frac = frac;
	p->calls++;
}

static json_t			*t_env, *t_exec, *t_cur;
static struct progress_seen	 t_prog;

/* Fill ctx with data and the fixed test context. */
static void
test_ctx(struct expr_ctx *ctx, json_t *data)
{
	memset(ctx, 0, sizeof *ctx);
	if (t_env == NULL) {
		t_env = js("{\"region\": \"r1\", \"n\": 3}");
		t_exec = js("{\"id\": \"ex-1\", \"name\": \"wf\", "
		    "\"input\": {\"a\": 1}, \"state\": \"RUNNING\"}");
		t_cur = js("{\"id\": \"id-cur\", \"name\": \"cur\", "
		    "\"state\": \"RUNNING\", \"result\": [1, 2]}");
	}
	ctx->data = data;
	ctx->env = t_env;
	ctx->execution = t_exec;
	ctx->cur_task = t_cur;
	ctx->task_lookup = test_task_lookup;
	ctx->arg = &t_prog;
	ctx->progress = test_progress;
}

/* Evaluate template text over data text. */
static json_t *
ev(struct expr *e, const char *tmpl, const char *data, char **cause)
{
	struct expr_ctx	 ctx;
	json_t		*t, *d, *v;

	t = js(tmpl);
	d = data != NULL ? js(data) : NULL;
	test_ctx(&ctx, d);
	*cause = NULL;
	v = expr_eval(e, t, &ctx, cause);
	json_decref(t);
	json_decref(d);
	return (v);
}

/* The template evaluates to the expected JSON (integer != float). */
static void
check(struct expr *e, const char *tmpl, const char *data, const char *want)
{
	json_t	*v, *w;
	char	*cause, *got;

	v = ev(e, tmpl, data, &cause);
	if (v == NULL)
		fail_msg("%s: unexpected error: %s", tmpl, cause);
	w = js(want);
	if (!json_equal(v, w)) {
		got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("%s: got %s, want %s", tmpl, got, want);
	}
	json_decref(v);
	json_decref(w);
}

/* The template fails with a cause containing sub. */
static void
check_err(struct expr *e, const char *tmpl, const char *data,
    const char *sub)
{
	json_t	*v;
	char	*cause, *got;

	v = ev(e, tmpl, data, &cause);
	if (v != NULL) {
		got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("%s: got %s, want an error with \"%s\"", tmpl, got,
		    sub);
	}
	assert_non_null(cause);
	if (strstr(cause, sub) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", tmpl, cause, sub);
	assert_true(strlen(cause) <= 310);
	free(cause);
}

/*
 * The template fails with a cause containing sub, and took at most ms
 * milliseconds to do so.
 */
static void
check_err_within(struct expr *e, const char *tmpl, const char *sub,
    int64_t ms)
{
	int64_t	 t0, took;

	t0 = time_mono_ms();
	check_err(e, tmpl, NULL, sub);
	took = time_mono_ms() - t0;
	print_message("%lld ms: %s\n", (long long)took, tmpl);
	if (took > ms)
		fail_msg("%s: failed after %lld ms, more than %lld", tmpl,
		    (long long)took, (long long)ms);
}

/* One "<% e %>" keeps the type; text around it interpolates. */
static void
test_typed_vs_interpolated(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% 1 + 1 %>\"", NULL, "2");
	check(e, "\"  <% _.a %>\\n\"", "{\"a\": [1, {\"b\": true}]}",
	    "[1, {\"b\": true}]");
	check(e, "\"<% _.a %>\"", "{\"a\": null}", "null");
	check(e, "\"n=<% 1 + 1 %>\"", NULL, "\"n=2\"");
	check(e, "\"<% 1 %><% 2 %>\"", NULL, "\"12\"");
	check(e, "\"x <% 7 / 2 %> <% 4 / 2 %> <% 0.1 + 0.2 %>\"", NULL,
	    "\"x 3.5 2 0.30000000000000004\"");
	check(e, "\"<% true %>/<% null %>/<% nil %>\"", NULL,
	    "\"true/null/null\"");
	check(e, "\"t=<% _.t %>\"", "{\"t\": {\"b\": [1, 2], \"a\": {}}}",
	    "\"t={\\\"a\\\":{},\\\"b\\\":[1,2]}\"");
	check(e, "\"no expression %> here\"", NULL,
	    "\"no expression %> here\"");
	check_err(e, "\"a <% 1\"", NULL, "unterminated");
	check_err(e, "\"<% %>\"", NULL, "empty expression");
	expr_free(e);
}

/* Arrays and objects are walked; other values come back as they are. */
static void
test_walk(void **state)
{
	struct expr	*e = mk();
	struct expr_ctx	 ctx;
	json_t		*t, *v;
	char		*cause;

	check(e, "{\"a\": [\"<% _.x %>\", 2, \"s\"], \"b\": {\"c\": "
	    "\"<% _.x * 2 %>\"}, \"d\": false}", "{\"x\": 5}",
	    "{\"a\": [5, 2, \"s\"], \"b\": {\"c\": 10}, \"d\": false}");
	check(e, "{\"<% _.k %>\": 1, \"k<% 1 %>\": \"<% _.k %>\"}",
	    "{\"k\": \"key\"}", "{\"key\": 1, \"k1\": \"key\"}");
	check(e, "[]", NULL, "[]");
	check(e, "3.5", NULL, "3.5");

	/* Values without expressions are shared, not copied. */
	t = js("{\"a\": [1, 2], \"b\": \"<% 1 %>\"}");
	test_ctx(&ctx, NULL);
	v = expr_eval(e, t, &ctx, &cause);
	assert_non_null(v);
	assert_ptr_equal(json_object_get(v, "a"), json_object_get(t, "a"));
	json_decref(v);
	json_decref(t);
	expr_free(e);
}

/* $ is _ outside string literals and comments. */
static void
test_dollar_alias(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% $.vm_id %>\"", "{\"vm_id\": \"v1\"}", "\"v1\"");
	check(e, "\"<% $ %>\"", "{\"a\": 1}", "{\"a\": 1}");
	check(e, "\"<% '$' .. \\\"$\\\" .. [[$]] .. $.a %>\"", "{\"a\": 1}",
	    "\"$$$1\"");
	check(e, "\"<% $.a --[[ $ ]] %>\"", "{\"a\": 2}", "2");
	expr_free(e);
}

/* task(), task(name), execution(), env() and progress(). */
static void
test_context_functions(void **state)
{
	struct expr	*e = mk();
	struct expr_ctx	 ctx;
	json_t		*v;
	char		*cause;

	check(e, "\"<% task().name %>\"", NULL, "\"cur\"");
	check(e, "\"<% task().result[2] %>\"", NULL, "2");
	check(e, "\"<% task('t1').result.n %>\"", NULL, "7");
	check(e, "\"<% task('nope') == nil %>\"", NULL, "true");
	check(e, "\"<% execution().input.a %>\"", NULL, "1");
	check(e, "\"<% env().region %>\"", NULL, "\"r1\"");

	memset(&t_prog, 0, sizeof t_prog);
	check(e, "\"<% progress('half way', 0.5) %>\"", NULL, "null");
	assert_int_equal(t_prog.calls, 1);
	assert_string_equal(t_prog.msg, "half way");
	assert_true(t_prog.frac == 0.5);
	check(e, "\"<% progress('no fraction') %>\"", NULL, "null");
	assert_true(t_prog.frac == -1.0);
	check_err(e, "\"<% progress('x', 2) %>\"", NULL, "fraction");

	/* Without a context: env() is empty, task() says why it fails. */
	v = expr_eval_lua(e, "len(env())", NULL, &cause);
	assert_non_null(v);
	assert_int_equal(json_integer_value(v), 0);
	json_decref(v);
	assert_null(expr_eval_lua(e, "task()", NULL, &cause));
	assert_non_null(strstr(cause, "task() is not available"));
	free(cause);
	memset(&ctx, 0, sizeof ctx);
	assert_null(expr_eval_lua(e, "execution()", &ctx, &cause));
	assert_non_null(strstr(cause, "execution() is not available"));
	free(cause);
	expr_free(e);
}

/* null is one value, equal to itself, kept in tables, JSON null again. */
static void
test_null_round_trip(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% _.a %>\"", "{\"a\": [null, 1, null]}",
	    "[null, 1, null]");
	check(e, "\"<% #_.a %>\"", "{\"a\": [null, 1, null]}", "3");
	check(e, "\"<% _.o %>\"", "{\"o\": {\"k\": null}}", "{\"k\": null}");
	check(e, "\"<% _.o.k == null %>\"", "{\"o\": {\"k\": null}}", "true");
	check(e, "\"<% null == null %>\"", NULL, "true");
	check(e, "\"<% is_null(_.o.k) and is_null(nil) and not is_null(0) %>\"",
	    "{\"o\": {\"k\": null}}", "true");
	check(e, "\"<% truthy(null) %>\"", NULL, "false");
	check(e, "\"<% null %>\"", NULL, "null");
	check(e, "\"<% tostring(null) .. '/' .. null .. 1 .. format('/%s', null) %>\"",
	    NULL, "\"null/null1/null\"");
	check_err(e, "\"<% null .. {} %>\"", NULL, "concatenate a table");
	assert_false(expr_truthy(json_null()));
	assert_false(expr_truthy(json_false()));
	assert_true(expr_truthy(json_true()));
	assert_false(expr_truthy(NULL));
	expr_free(e);
}

/* [] stays [] and {} stays {}; Lua tables become arrays or objects. */
static void
test_empty_round_trip(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% _.a %>\"", "{\"a\": []}", "[]");
	check(e, "\"<% _.o %>\"", "{\"o\": {}}", "{}");
	check(e, "\"<% {} %>\"", NULL, "{}");
	check(e, "\"<% array() %>\"", NULL, "[]");
	check(e, "\"<% {1, 2, 3} %>\"", NULL, "[1, 2, 3]");
	check(e, "\"<% {[1] = 'a', [3] = 'c'} %>\"", NULL,
	    "{\"1\": \"a\", \"3\": \"c\"}");
	check(e, "\"<% {1, x = 2} %>\"", NULL, "{\"1\": 1, \"x\": 2}");
	check(e, "\"<% json_encode(_) %>\"", "{\"a\": [], \"o\": {}}",
	    "\"{\\\"a\\\":[],\\\"o\\\":{}}\"");
	expr_free(e);
}

/* Integers stay integers and floats stay floats, both ways. */
static void
test_integer_float(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% _.i %>\"", "{\"i\": 3}", "3");
	check(e, "\"<% _.f %>\"", "{\"f\": 3.0}", "3.0");
	check(e, "\"<% math.type(_.i) .. math.type(_.f) %>\"",
	    "{\"i\": 3, \"f\": 3.0}", "\"integerfloat\"");
	check(e, "\"<% 10 // 3 %>\"", NULL, "3");
	check(e, "\"<% 10 / 2 %>\"", NULL, "5.0");
	check(e, "\"<% 9007199254740993 %>\"", NULL, "9007199254740993");
	check(e, "\"<% json_encode({2.0, 2, 0.1}) %>\"", NULL,
	    "\"[2.0,2,0.1]\"");
	check_err(e, "\"<% 0/0 %>\"", NULL, "cannot convert nan to JSON");
	check_err(e, "\"<% math.huge %>\"", NULL, "cannot convert inf");
	expr_free(e);
}

/* json_encode, json_decode, uuid, now and format. */
static void
test_json_and_misc_functions(void **state)
{
	struct expr	*e = mk();
	json_t		*v;
	char		*cause;

	check(e, "\"<% json_decode('{\\\"a\\\": [1, 2.5, null, \\\"x\\\"]}') %>\"",
	    NULL, "{\"a\": [1, 2.5, null, \"x\"]}");
	check(e, "\"<% json_encode({b = 1, a = {true, 'x\\\\n'}}) %>\"", NULL,
	    "\"{\\\"a\\\":[true,\\\"x\\\\n\\\"],\\\"b\\\":1}\"");
	check(e, "\"<% json_encode({a = 1}, 2) %>\"", NULL,
	    "\"{\\n  \\\"a\\\": 1\\n}\"");
	check(e, "\"<% json_decode(json_encode(_)) %>\"",
	    "{\"x\": [1, {\"y\": null}], \"e\": []}",
	    "{\"x\": [1, {\"y\": null}], \"e\": []}");
	check_err(e, "\"<% json_decode('{bad') %>\"", NULL, "json_decode:");
	check_err(e, "\"<% json_encode(print) %>\"", NULL,
	    "undefined variable 'print'");
	check_err(e, "\"<% json_encode(len) %>\"", NULL,
	    "cannot convert function to JSON");
	check(e, "\"<% format('%05.1f|%s', 3.14159, 'x') %>\"", NULL,
	    "\"003.1|x\"");

	v = expr_eval_lua(e, "uuid()", NULL, &cause);
	assert_non_null(v);
	assert_true(uuid_valid(json_string_value(v)));
	json_decref(v);
	v = expr_eval_lua(e, "now()", NULL, &cause);
	assert_non_null(v);
	assert_int_equal(strlen(json_string_value(v)), 24);
	assert_int_equal(json_string_value(v)[23], 'Z');
	json_decref(v);
	expr_free(e);
}

/* The table and string helpers, one assertion or more each. */
static void
test_library_functions(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% len('héllo') %>\"", NULL, "5");
	check(e, "\"<% len({1, 2}) + len({a = 1}) + len(null) %>\"", NULL,
	    "3");
	check(e, "\"<% keys({b = 1, a = 2}) %>\"", NULL, "[\"a\", \"b\"]");
	check(e, "\"<% values({b = 1, a = 2}) %>\"", NULL, "[2, 1]");
	check(e, "\"<% map({1, 2}, function(v) return v * 10 end) %>\"", NULL,
	    "[10, 20]");
	check(e, "\"<% map({a = 1}, function(v, k) return k .. v end) %>\"",
	    NULL, "{\"a\": \"a1\"}");
	check(e, "\"<% filter({1, 2, 3, 4}, function(v) return v % 2 == 0 end) %>\"",
	    NULL, "[2, 4]");
	check(e, "\"<% filter({1}, function(v) return false end) %>\"", NULL,
	    "[]");
	check(e, "\"<% contains({1, 2}, 2) and contains('abc', 'b') and "
	    "contains({a = 1}, 'a') and not contains(null, 1) %>\"", NULL,
	    "true");
	check(e, "\"<% join({1, 'a', true, 2.5}, ',') %>\"", NULL,
	    "\"1,a,true,2.5\"");
	check(e, "\"<% split('a,b,,c', ',') %>\"", NULL,
	    "[\"a\", \"b\", \"\", \"c\"]");
	check(e, "\"<% split('  a  b ') %>\"", NULL, "[\"a\", \"b\"]");
	check(e, "\"<% starts_with('compute-1', 'comp') and "
	    "ends_with('compute-1', '-1') and not starts_with('a', 'ab') %>\"",
	    NULL, "true");
	check(e, "\"<% trim('  x y \\\\n') %>\"", NULL, "\"x y\"");
	check(e, "\"<% {to_number(' 42 '), to_number('1.5'), to_number('x')} %>\"",
	    NULL, "[42, 1.5]");
	check(e, "\"<% to_string({a = 1}) .. to_string(2.0) %>\"", NULL,
	    "\"{\\\"a\\\":1}2\"");
	check(e, "\"<% merge({a = 1, b = 1}, {b = 2}, null) %>\"", NULL,
	    "{\"a\": 1, \"b\": 2}");
	check(e, "\"<% is_array(array()) and is_array({1}) and "
	    "not is_array({}) %>\"", NULL, "true");
	/* lua/bora.lua */
	check(e, "\"<% default(_.x, 5) + default(_.y, 5) %>\"",
	    "{\"x\": null, \"y\": 1}", "6");
	check(e, "\"<% coalesce(nil, null, 'z') %>\"", NULL, "\"z\"");
	check(e, "\"<% get(_, 'a.b.2', 'd') .. get(_, 'a.zz', 'd') %>\"",
	    "{\"a\": {\"b\": [\"p\", \"q\"]}}", "\"qd\"");
	check(e, "\"<% sum({1, 2, 3.5}) %>\"", NULL, "6.5");
	check(e, "\"<% range(3) %>\"", NULL, "[1, 2, 3]");
	check(e, "\"<% sorted({3, 1, 2}) %>\"", NULL, "[1, 2, 3]");
	check(e, "\"<% unique({1, 2, 1, 3, 2}) %>\"", NULL, "[1, 2, 3]");
	check(e, "\"<% reduce({1, 2, 3}, function(a, v) return a * v end, 1) %>\"",
	    NULL, "6");
	check(e, "\"<% any({1, 5}, function(v) return v > 4 end) and "
	    "all({1, 5}, function(v) return v > 0 end) and "
	    "not any({null, false}) %>\"", NULL, "true");
	expr_free(e);
}

/* Sandbox: infinite loop stops at the instruction budget. */
static void
test_infinite_loop_stops_at_the_instruction_budget(void **state)
{
	struct expr	*e = mk();

	check_err(e, "\"<% (function() while true do end end)() %>\"", NULL,
	    "expression exceeded the instruction limit (1000000)");
	/* The budget is reset: the next evaluation runs normally. */
	check(e, "\"<% 1 + 1 %>\"", NULL, "2");
	check(e, "\"<% reduce(range(10000), function(a, v) return a + v end, 0) %>\"",
	    NULL, "50005000");
	expr_free(e);
}

/* Sandbox: pcall cannot swallow the budget kill. */
static void
test_pcall_cannot_swallow_the_budget_kill(void **state)
{
	struct expr	*e = mk();

	check_err(e, "\"<% pcall(function() while true do end end) %>\"",
	    NULL, "instruction limit");
	check_err(e, "\"<% (function() for i = 1, 100 do "
	    "pcall(function() while true do end end) end return 1 end)() %>\"",
	    NULL, "instruction limit");
	check_err(e, "\"<% select(2, xpcall(function() while true do end end, "
	    "function(m) return 'caught' end)) %>\"", NULL,
	    "instruction limit");
	check(e, "\"<% 3 %>\"", NULL, "3");
	expr_free(e);
}

/* Sandbox: memory bomb fails only the evaluation. */
static void
test_memory_bomb_fails_only_the_evaluation(void **state)
{
	struct expr		*e;
	struct expr_limits	 lim = { 0, 4 * 1024 * 1024, 0, 0 };
	char			*cause, *dir;
	json_t			*v;

	xasprintf(&dir, "%s/lua", srcdir());
	e = expr_create(&lim, dir, &cause);
	free(dir);
	assert_non_null(e);
	check_err(e, "\"<% string.rep('x', 64 * 1024 * 1024) %>\"", NULL,
	    "expression exceeded the memory limit (4 MiB)");
	check_err(e, "\"<% (function() local t = {} for i = 1, 1e7 do "
	    "t[i] = i end return #t end)() %>\"", NULL,
	    "expression exceeded the memory limit (4 MiB)");
	check_err(e, "\"<% (function() local ok = pcall(string.rep, 'x', 1e8) "
	    "return string.rep('y', 1e8) end)() %>\"", NULL, "memory limit");
	v = expr_eval_lua(e, "#string.rep('x', 1000)", NULL, &cause);
	assert_non_null(v);
	assert_int_equal(json_integer_value(v), 1000);
	json_decref(v);
	expr_free(e);
}

/* Sandbox: pattern backtracking stops at the instruction budget. */
static void
test_pattern_backtracking_stops_at_the_instruction_budget(void **state)
{
	struct expr	*e = mk();

	check_err(e, "\"<% string.find(string.rep('a', 5000), '.-.-.-b') %>\"",
	    NULL, "instruction limit");
	check_err(e, "\"<% pcall(string.find, string.rep('a', 5000), "
	    "'.-.-.-b') and string.find('x', 'x') %>\"", NULL,
	    "instruction limit");
	check_err(e, "\"<% (string.rep('a', 5000)):gsub('(.-)(.-)(.-)b', 'x') %>\"",
	    NULL, "instruction limit");
	/* Ordinary patterns, even over long text, stay cheap. */
	check(e, "\"<% #(string.rep(' ', 100000) .. 'x'):match('^%s*(.-)%s*$') %>\"",
	    NULL, "1");
	check(e, "\"<% select(2, string.rep('a b ', 10000):gsub('%s+', '_')) %>\"",
	    NULL, "20000");
	check(e, "\"<% ('key=val'):match('(%w+)=(%w+)') %>\"", NULL, "\"key\"");
	check(e, "\"<% ({('x=1, y=2'):gsub('(%w+)=(%w+)', '%2=%1')})[1] %>\"",
	    NULL, "\"1=x, 2=y\"");
	check(e, "\"<% (function() local t = array() for k, v in "
	    "('a=1,b=2'):gmatch('(%a)=(%d)') do t[#t + 1] = k .. v end "
	    "return t end)() %>\"", NULL, "[\"a1\", \"b2\"]");
	check(e, "\"<% {('f(a(b)c)d'):find('%b()')} %>\"", NULL, "[2, 8]");
	check(e, "\"<% ('THE (quick) fox'):match('%f[%a]%a+', 5) %>\"", NULL,
	    "\"quick\"");
	check(e, "\"<% ('abcabc'):match('(abc)%1') %>\"", NULL, "\"abc\"");
	check(e, "\"<% ('hello'):match('()ll()') %>\"", NULL, "3");
	check_err(e, "\"<% ('x'):match('(') %>\"", NULL, "unfinished capture");
	check_err(e, "\"<% ('x'):match('[a') %>\"", NULL, "missing ']'");
	expr_free(e);
}

/*
 * Slack over a limit for the tests below: the machine may be busy and
 * this build is instrumented; what matters is that nothing runs on.
 */
#define LIMIT_SLACK_MS	1500

/* How soon a test stopped by the budget must end, busy machine or not. */
#define PROMPT_MS	10000

/*
 * Sandbox: code Lua would run with hooks off stays under the budget: the
 * message handler of xpcall, __close handlers during an error, __gc
 * (refused), and coroutines (not there).
 */
static void
test_code_outside_the_hook_cannot_run_unbounded(void **state)
{
	struct expr	*e = mk();
	int64_t		 ms = PROMPT_MS;

	check_err_within(e, "\"<% xpcall(function() error('x') end, "
	    "function() while true do end end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% xpcall(function() while true do end end, "
	    "function() while true do end end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% xpcall(function() error('x') end, "
	    "function() pcall(function() while true do end end) "
	    "while true do end end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% xpcall(function() xpcall(function() "
	    "while true do end end, function() while true do end end) end, "
	    "function() while true do end end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% (function() local x <close> = "
	    "setmetatable({}, {__close = function() while true do end end}) "
	    "end)() %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% (function() local x <close> = "
	    "setmetatable({}, {__close = function() while true do end end}) "
	    "while true do end end)() %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% pcall(function() local x <close> = "
	    "setmetatable({}, {__close = function() while true do end end}) "
	    "error('x') end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% setmetatable({}, {__gc = function() "
	    "while true do end end}) %>\"", "__gc metamethods are not allowed",
	    ms);
	check_err_within(e, "\"<% coroutine.wrap(function() while true do end "
	    "end)() %>\"", "undefined variable 'coroutine'", ms);
	/* Lua called back from C functions runs under the same hook. */
	check_err_within(e, "\"<% ('abc'):gsub('.', function() "
	    "while true do end end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% table.sort({3, 2, 1}, function(a, b) "
	    "while true do end end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% map({1, 2}, function() while true do end "
	    "end) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% tostring(setmetatable({}, {__tostring = "
	    "function() while true do end end})) %>\"", "instruction limit",
	    ms);
	check_err_within(e, "\"<% setmetatable({}, {__index = function() "
	    "while true do end end}).x %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% error(setmetatable({}, {__tostring = "
	    "function() while true do end end})) %>\"", "{}", ms);

	/* xpcall keeps its meaning. */
	check(e, "\"<% {xpcall(function(a, b) return a + b end, "
	    "function(m) return 'no' end, 1, 2)} %>\"", NULL, "[true, 3]");
	check(e, "\"<% {xpcall(function() error({code = 7}) end, "
	    "function(m) return m.code end)} %>\"", NULL, "[false, 7]");
	check(e, "\"<% select(2, xpcall(function() error('boom') end, "
	    "function(m) return 'seen: ' .. m end)) %>\"", NULL,
	    "\"seen: expr:1: boom\"");
	check(e, "\"<% {xpcall(function() error('a') end, "
	    "function(m) error('b', 0) end)} %>\"", NULL, "[false, \"b\"]");
	check_err(e, "\"<% xpcall(error) %>\"", NULL,
	    "bad argument #2 to 'xpcall' (function expected");
	/* And the sandbox is as good as new. */
	check(e, "\"<% 1 + 1 %>\"", NULL, "2");
	expr_free(e);
}

/*
 * Sandbox: work done inside library functions counts against the
 * instruction budget, before it is done.
 */
static void
test_library_work_counts_against_the_budget(void **state)
{
	struct expr	*e = mk();
	int64_t		 ms = PROMPT_MS;

	check_err_within(e, "\"<% table.move({1}, 1, 2^31, 2) %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% table.move({1}, 1, 2^40, 2) %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% (function() for i = 1, 3000 do "
	    "local s = string.rep('x', 2^23) end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% string.rep('x', 2^20):rep(2^20) %>\"",
	    "limit", ms);
	check_err_within(e, "\"<% string.rep(string.rep('x', 2^10), 2^20, "
	    "'y') %>\"", "memory limit", ms);
	check_err_within(e, "\"<% (function() local s = string.rep('x', 2^22) "
	    "for i = 1, 1e6 do s:upper() end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% (function() local s = string.rep('x', 2^22) "
	    "for i = 1, 1e6 do s:reverse() end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% (function() local s = string.rep('x', 2^22) "
	    "for i = 1, 1e6 do s:lower() end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% string.rep('x', 1e5):gsub('', "
	    "string.rep('%0', 1e4)) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% string.rep('x', 2^20):gsub('x', "
	    "string.rep('y', 2^10)) %>\"", "limit", ms);
	check_err_within(e, "\"<% table.concat(setmetatable({}, {__len = "
	    "function() return 2^40 end, __index = function() return 'x' "
	    "end})) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% table.concat({}, ',', 1, 2^40) %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% table.concat(setmetatable({}, {__index = "
	    "function() return 'x' end}), '', math.mininteger, "
	    "math.maxinteger) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% table.unpack({}, math.mininteger, "
	    "math.maxinteger) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% table.insert(setmetatable({}, {__len = "
	    "function() return 2^40 end}), 1, 'x') %>\"", "instruction limit",
	    ms);
	check_err_within(e, "\"<% table.remove(setmetatable({}, {__len = "
	    "function() return 2^40 end}), 1) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% table.unpack({}, 1, 2^40) %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% table.sort({string.byte(string.rep('x', "
	    "2e5), 1, -1)}) %>\"", "instruction limit", ms);
	check_err_within(e, "\"<% (function() local s = '' for i = 1, 1e7 do "
	    "s = s .. utf8.char(0x10FFFF, 0x10FFFF) end return #s end)() %>\"",
	    "limit", ms);
	check_err_within(e, "\"<% (function() local s = string.rep('x', 2^20) "
	    "for i = 1, 1e6 do utf8.len(s) end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% string.format('%99999d', 1) %>\"",
	    "invalid conversion", ms);
	check_err_within(e, "\"<% (function() local s = string.rep('x', 2^20) "
	    "for i = 1, 1e6 do local t = string.format('%q', s) end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% (function() local t = {} for i = 1, 1e6 do "
	    "t[#t + 1] = json_encode(_) end end)() %>\"", "instruction limit",
	    ms);
	check_err_within(e, "\"<% (function() local s = string.rep('ab', 2^12) "
	    "for i = 1, 1e6 do split(s, 'a') end end)() %>\"",
	    "instruction limit", ms);
	check_err_within(e, "\"<% (function() local s = string.rep(' ', 2^20) "
	    "for i = 1, 1e6 do s:find('x', 1, true) end end)() %>\"",
	    "instruction limit", ms);

	/* What these functions give is unchanged. */
	check(e, "\"<% string.rep('ab', 3, ',') %>\"", NULL,
	    "\"ab,ab,ab\"");
	check(e, "\"<% string.rep('abc', 5) %>\"", NULL,
	    "\"abcabcabcabcabc\"");
	check(e, "\"<% string.rep('x', 1) .. string.rep('x', 0) .. "
	    "string.rep('x', -1) %>\"", NULL, "\"x\"");
	check(e, "\"<% #string.rep('', 2^40) + #string.rep('', 2^40, '') %>\"",
	    NULL, "0");
	check(e, "\"<% #string.rep('abc', 100000, '--') %>\"", NULL,
	    "499998");
	check(e, "\"<% string.rep('ab', 2^20):sub(-3) %>\"", NULL, "\"bab\"");
	check(e, "\"<% table.concat(table.move({1, 2, 3}, 1, 3, 2), ',') %>\"",
	    NULL, "\"1,1,2,3\"");
	check(e, "\"<% {table.unpack({1, 2, 3})} %>\"", NULL, "[1, 2, 3]");
	check(e, "\"<% {string.byte('abc', -2, -1)} %>\"", NULL, "[98, 99]");
	check(e, "\"<% utf8.len('h\\u00e9') %>\"", NULL, "2");
	check(e, "\"<% utf8.offset('h\\u00e9llo', 3) %>\"", NULL, "4");
	check(e, "\"<% (function() local t = {3, 1, 2} table.sort(t) "
	    "table.insert(t, 1, 0) table.remove(t) return t end)() %>\"",
	    NULL, "[0, 1, 2]");
	check_err(e, "\"<% string.rep() %>\"", NULL,
	    "bad argument #1 to 'rep'");
	check_err(e, "\"<% ('x'):rep('y') %>\"", NULL,
	    "bad argument #1 to 'rep' (number expected");
	check_err(e, "\"<% table.concat(1) %>\"", NULL,
	    "bad argument #1 to 'concat'");
	expr_free(e);
}

/* Lua that runs for 90 ms by the clock of now() (seconds of the day). */
#define SPIN_90MS "(function() local function ms() local s = now() " \
    "return (s:sub(12, 13) * 3600 + s:sub(15, 16) * 60 + s:sub(18, 19)) " \
    "* 1000 + s:sub(21, 23) end local t = ms() " \
    "while (ms() - t) % 86400000 < 90 do end return 1 end)()"

/*
 * Sandbox: the time limit bounds each call as a whole, library calls
 * included, whatever the instruction budget allows.
 */
static void
test_time_limit_bounds_every_call(void **state)
{
	struct expr	*e = mk_limits(UINT64_C(1000000000000), 0, 200);
	json_t		*v;
	char		*cause, *tmpl;
	int64_t		 t0, took;

	t0 = time_mono_ms();
	check_err(e, "\"<% (function() while true do end end)() %>\"", NULL,
	    "expression exceeded the time limit (200 ms)");
	took = time_mono_ms() - t0;
	assert_true(took >= 190);
	assert_true(took <= 200 + LIMIT_SLACK_MS);
	/* Work that cannot be done in the time left fails at once. */
	check_err_within(e, "\"<% table.move({1}, 1, 2^38, 2) %>\"",
	    "time limit (200 ms)", 190);
	check_err_within(e, "\"<% string.rep('x', 2^20):rep(2^12) %>\"",
	    "limit", 200 + LIMIT_SLACK_MS);
	/* Long strings compared over and over: no call, no allocation. */
	check_err_within(e, "\"<% (function() local a = string.rep('x', 2^23) "
	    "local b = string.rep('x', 2^23 - 1) .. 'x' local n = 0 "
	    "while a == b do n = n + 1 end return n end)() %>\"",
	    "time limit (200 ms)", 200 + LIMIT_SLACK_MS);
	check_err_within(e, "\"<% (function() local a = string.rep('x', 2^23) "
	    "local n = 0 while tonumber(a) == nil do n = n + 1 end end)() %>\"",
	    "time limit (200 ms)", 200 + LIMIT_SLACK_MS);
	check_err_within(e, "\"<% xpcall(function() error('x') end, "
	    "function() while true do end end) %>\"", "time limit",
	    200 + LIMIT_SLACK_MS);
	/*
	 * The limit covers a whole template: three expressions of 90 ms
	 * each (by the clock of now()) do not fit.
	 */
	xasprintf(&tmpl, "\"<%% %s %%>\"", SPIN_90MS);
	check(e, tmpl, NULL, "1");
	free(tmpl);
	xasprintf(&tmpl, "[\"<%% %s %%>\", \"<%% %s %%>\", \"<%% %s %%>\"]",
	    SPIN_90MS, SPIN_90MS, SPIN_90MS);
	check_err_within(e, tmpl, "time limit", 200 + LIMIT_SLACK_MS);
	free(tmpl);
	/* Scripts too; and the sandbox works on. */
	v = expr_run_script(e, "while true do end", NULL, NULL, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "time limit (200 ms)"));
	free(cause);
	check(e, "\"<% 6 * 7 %>\"", NULL, "42");
	expr_free(e);

	/* By default the limit is a second. */
	e = mk_limits(UINT64_C(1000000000000), 0, 0);
	check_err_within(e, "\"<% (function() while true do end end)() %>\"",
	    "expression exceeded the time limit (1000 ms)",
	    1000 + LIMIT_SLACK_MS);
	expr_free(e);
}

/* Sandbox: compiled expressions never take the memory evaluations need. */
static void
test_compile_cache_leaves_memory_to_evaluations(void **state)
{
	struct expr	*e = mk_limits(0, 4 * 1024 * 1024, 0);
	json_t		*v;
	char		 src[256], *cause;
	int		 i;

	for (i = 0; i < 9000; i++) {
		snprintf(src, sizeof src, "(function(a, b, c) local t = "
		    "{a, b, c, %d} return #t + a * b - c end)(1, 2, 3) + %d",
		    i, i);
		v = expr_eval_lua(e, src, NULL, &cause);
		if (v == NULL)
			fail_msg("expression %d: %s", i, cause);
		assert_int_equal(json_integer_value(v), 3 + i);
		json_decref(v);
	}
	assert_true(expr_cache_count(e) < 9000);
	expr_free(e);
}

/* Sandbox: deep recursion ends in an error. */
static void
test_deep_recursion_ends_in_an_error(void **state)
{
	struct expr	*e = mk();
	int64_t		 ms = PROMPT_MS;
	json_t		*v;
	char		*src, *cause;
	size_t		 i, n = 100000;

	check_err_within(e, "\"<% (function() local function f() "
	    "return 1 + f() end return f() end)() %>\"", "", ms);
	check_err_within(e, "\"<% (function() local function f(n) "
	    "return f(n + 1) end return f(1) end)() %>\"", "instruction limit",
	    ms);
	check_err_within(e, "\"<% (function() local mt = {} mt.__index = "
	    "function(t, k) return t[k] end return setmetatable({}, mt).x "
	    "end)() %>\"", "stack overflow", ms);
	check_err_within(e, "\"<% (function() local mt = {} mt.__tostring = "
	    "function(t) return tostring(t) end return "
	    "tostring(setmetatable({}, mt)) end)() %>\"", "stack overflow", ms);
	/* Recursion through pcall ends at the C stack's limit. */
	check(e, "\"<% (function() local function f() "
	    "return pcall(f) end return f() end)() %>\"", NULL, "true");
	check(e, "\"<% (function() local function f() "
	    "return xpcall(f, f) end return f() end)() %>\"", NULL, "true");
	check_err_within(e, "\"<% string.gsub('x', '.', function(c) "
	    "return string.gsub(c, '.', debug) end) %>\"",
	    "undefined variable 'debug'", ms);
	/* Nesting in the source itself. */
	src = xmalloc(2 * n + 2);
	for (i = 0; i < n; i++)
		src[i] = '(';
	src[n] = '1';
	for (i = 0; i < n; i++)
		src[n + 1 + i] = ')';
	src[2 * n + 1] = '\0';
	v = expr_eval_lua(e, src, NULL, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "overflow"));
	free(cause);
	free(src);
	expr_free(e);
}

/*
 * Sandbox: a value built in a few steps but huge as JSON (tables shared
 * many times over) fails to convert rather than exhaust memory.
 */
static void
test_json_conversion_is_bounded(void **state)
{
	struct expr	*e = mk();
	int64_t		 ms = PROMPT_MS;
	json_t		*v;
	char		*cause;
	const char	*dag = "(function() local t = {} for i = 1, 60 do "
	    "t = {t, t} end return t end)()";
	char		*tmpl;

	xasprintf(&tmpl, "\"<%% %s %%>\"", dag);
	check_err_within(e, tmpl, "larger than the memory limit", ms);
	free(tmpl);
	xasprintf(&tmpl, "\"x <%% %s %%>\"", dag);
	check_err_within(e, tmpl, "larger than the memory limit", ms);
	free(tmpl);
	xasprintf(&tmpl, "\"<%% json_encode(%s) %%>\"", dag);
	check_err_within(e, tmpl, "larger than the memory limit", ms);
	free(tmpl);
	xasprintf(&tmpl, "\"<%% error(%s) %%>\"", dag);
	check_err_within(e, tmpl, "error object is a table value", ms);
	free(tmpl);
	check_err_within(e, "\"<% (function() local s = string.rep('x', 2^23) "
	    "return {s, s, s, s, s} end)() %>\"", "larger than the memory "
	    "limit", ms);
	check_err_within(e, "\"<% (function() local t = {} for i = 1, 12 do "
	    "t = {t, t} end return json_encode(t, 16) end)() %>\"",
	    "json_encode: result is longer than the string limit", ms);
	check_err_within(e, "\"<% json_decode(string.rep('[],', 2^19) .. "
	    "'[]') %>\"", "json_decode: text is longer than the string limit",
	    ms);
	/* Shared data converts fine while it is small. */
	v = expr_eval_lua(e, "(function() local t = {a = 1} return {t, t} "
	    "end)()", NULL, &cause);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
	expr_free(e);
}

/* Sandbox: os/io/package/debug unreachable. */
static void
test_os_io_package_debug_unreachable(void **state)
{
	struct expr	*e = mk();

	check_err(e, "\"<% os.execute('true') %>\"", NULL,
	    "undefined variable 'os'");
	check_err(e, "\"<% io.open('/etc/passwd') %>\"", NULL,
	    "undefined variable 'io'");
	check_err(e, "\"<% package.loaded %>\"", NULL,
	    "undefined variable 'package'");
	check_err(e, "\"<% debug.getinfo(1) %>\"", NULL,
	    "undefined variable 'debug'");
	check_err(e, "\"<% require('os') %>\"", NULL,
	    "undefined variable 'require'");
	check_err(e, "\"<% dofile('/etc/passwd') %>\"", NULL,
	    "undefined variable 'dofile'");
	check_err(e, "\"<% collectgarbage() %>\"", NULL,
	    "undefined variable 'collectgarbage'");
	check_err(e, "\"<% _G.os %>\"", NULL, "undefined variable 'os'");
	check(e, "\"<% rawget(_G, 'os') == nil %>\"", NULL, "true");
	expr_free(e);
}

/* Sandbox: bytecode load refused. */
static void
test_bytecode_load_refused(void **state)
{
	struct expr	*e = mk();

	check_err(e, "\"<% load('return 1') %>\"", NULL,
	    "undefined variable 'load'");
	check_err(e, "\"<% loadfile('/x') %>\"", NULL,
	    "undefined variable 'loadfile'");
	check_err(e, "\"<% string.dump(len) %>\"", NULL,
	    "attempt to call a nil value (field 'dump')");
	check_err(e, "\"<% ('').dump(len) %>\"", NULL, "attempt to call");
	/* A precompiled chunk given as an expression does not compile. */
	check_err(e, "\"<% \\u001bLua %>\"", NULL, "expression");
	expr_free(e);
}

/* Sandbox: string metatable cannot be changed. */
static void
test_string_metatable_cannot_be_changed(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% getmetatable('') %>\"", NULL, "false");
	check_err(e, "\"<% setmetatable('', {}) %>\"", NULL, "table expected");
	check_err(e, "\"<% (function() string.upper = nil end)() %>\"", NULL,
	    "read-only");
	check_err(e, "\"<% rawset(string, 'upper', 1) %>\"", NULL,
	    "read-only");
	check(e, "\"<% ('abc'):upper() %>\"", NULL, "\"ABC\"");
	check(e, "\"<% (function() local n = 0 for k in pairs(math) do "
	    "n = n + 1 end return n > 10 end)() %>\"", NULL, "true");
	expr_free(e);
}

/* Sandbox: undeclared global read raises; assignments raise. */
static void
test_undeclared_global_read_raises(void **state)
{
	struct expr	*e = mk();

	check_err(e, "\"<% x %>\"", NULL, "undefined variable 'x'");
	check_err(e, "\"<% _ENV.nope %>\"", NULL, "undefined variable 'nope'");
	check_err(e, "\"<% (function() x = 1 end)() %>\"", NULL,
	    "cannot assign global variable 'x'");
	check_err(e, "\"<% rawset(_ENV, 'x', 1) %>\"", NULL, "read-only");
	check_err(e, "\"<% setmetatable(_ENV, nil) %>\"", NULL,
	    "protected metatable");
	check(e, "\"<% getmetatable(_ENV) %>\"", NULL, "false");
	/* Nothing leaked into the next evaluation. */
	check_err(e, "\"<% x %>\"", NULL, "undefined variable 'x'");
	expr_free(e);
}

/* Sandbox: no state carries over from one evaluation to the next. */
static void
test_evaluations_are_isolated(void **state)
{
	struct expr	*e = mk();

	check(e, "\"<% (function() _.a = 99; return 1 end)() %>\"",
	    "{\"a\": 1}", "1");
	check(e, "\"<% _.a %>\"", "{\"a\": 1}", "1");
	check(e, "\"<% (function() _ENV = {} end)() %>\"", NULL, "null");
	check(e, "\"<% (function() _ENV = {} end)() %>\"", NULL, "null");
	check_err(e, "\"<% x %>\"", NULL, "undefined variable 'x'");
	check_err(e, "\"<% setmetatable({}, {__gc = function() end}) %>\"",
	    NULL, "__gc");
	check_err(e, "\"<% (function() getmetatable(array()).x = 1 end)() %>\"",
	    NULL, "attempt to index a boolean value");
	/* Without data, _ is an empty table. */
	check(e, "\"<% _.a == nil %>\"", NULL, "true");
	expr_free(e);
}

/* Data is converted on use, yet behaves like ordinary tables. */
static void
test_lazy_data_behaves_like_tables(void **state)
{
	struct expr	*e = mk();
	const char	*d = "{\"vm\": {\"id\": \"v1\", \"tags\": [\"a\", \"b\"], "
	    "\"n\": null}, \"list\": [3, 1, 2], \"o\": {\"k\": 1}}";

	check(e, "\"<% _.vm.tags[2] .. #_.vm.tags .. #_.list %>\"", d,
	    "\"b23\"");
	check(e, "\"<% (function() local n = 0 for k, v in pairs(_) do "
	    "n = n + 1 end return n end)() %>\"", d, "3");
	check(e, "\"<% (function() local s = 0 for i, v in ipairs(_.list) do "
	    "s = s + v end return s end)() %>\"", d, "6");
	check(e, "\"<% next(_.o) %>\"", d, "\"k\"");
	check(e, "\"<% rawget(_.o, 'k') + rawlen(_.list) %>\"", d, "4");
	check(e, "\"<% table.concat(_.vm.tags, ',') %>\"", d, "\"a,b\"");
	check(e, "\"<% table.unpack(_.list) %>\"", d, "3");
	check(e, "\"<% (function() table.sort(_.list) return _.list end)() %>\"",
	    d, "[1, 2, 3]");
	check(e, "\"<% (function() table.insert(_.list, 9) return _.list end)() %>\"",
	    d, "[3, 1, 2, 9]");
	check(e, "\"<% (function() local id = _.vm.id; _.vm.id = 'v2'; "
	    "_.vm.new = true; return _ end)() %>\"", d,
	    "{\"vm\": {\"id\": \"v2\", \"tags\": [\"a\", \"b\"], \"n\": null, "
	    "\"new\": true}, \"list\": [3, 1, 2], \"o\": {\"k\": 1}}");
	check(e, "\"<% (function() _.vm.tags[1] = 'z' return _.vm end)() %>\"",
	    d, "{\"id\": \"v1\", \"tags\": [\"z\", \"b\"], \"n\": null}");
	check(e, "\"<% json_encode(_.vm) %>\"", d,
	    "\"{\\\"id\\\":\\\"v1\\\",\\\"n\\\":null,\\\"tags\\\":[\\\"a\\\",\\\"b\\\"]}\"");
	check(e, "\"<% keys(_.vm) %>\"", d, "[\"id\", \"n\", \"tags\"]");
	check(e, "\"<% len(_.vm) + len(_.list) %>\"", d, "6");
	check(e, "\"<% is_array(_.list) and not is_array(_.o) %>\"", d, "true");
	check(e, "\"<% merge(_.o, {j = 2}) %>\"", d, "{\"k\": 1, \"j\": 2}");
	check(e, "\"<% map(_.list, function(v) return v + 1 end) %>\"", d,
	    "[4, 2, 3]");
	check(e, "\"<% _.vm == _.vm and _.vm.n == null %>\"", d, "true");
	check(e, "\"<% getmetatable(_) %>\"", d, "false");
	check_err(e, "\"<% setmetatable(_, {}) %>\"", d, "protected metatable");
	/* task() results are converted on use too. */
	check(e, "\"<% task().result[1] + task('t1').result.n %>\"", NULL, "8");
	expr_free(e);
}

/* A table of data kept past its call cannot reach freed JSON. */
static void
test_kept_data_cannot_outlive_its_call(void **state)
{
	struct expr	*e;
	char		 dir[] = "/tmp/test-expr-XXXXXX";
	char		*path, *cause;
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/keep.lua", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("local saved\n"
	    "function save(t) saved = t return true end\n"
	    "function saved_x() return saved.x end\n", f);
	fclose(f);
	e = expr_create(NULL, dir, &cause);
	assert_non_null(e);
	check(e, "\"<% save(_.o) %>\"", "{\"o\": {\"x\": {\"y\": 1}}}", "true");
	check_err(e, "\"<% saved_x() %>\"", "{}", "no longer available");
	expr_free(e);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* Errors name the expression and Lua's message, never the context. */
static void
test_error_messages(void **state)
{
	struct expr	*e = mk();
	char		*cause, *big, *tmpl;
	json_t		*v;
	size_t		 i;

	v = ev(e, "\"<% _.vm.status %>\"", "{\"a\": 1}", &cause);
	assert_null(v);
	assert_string_equal(cause, "expression \"<% _.vm.status %>\": "
	    "attempt to index a nil value (field 'vm')");
	free(cause);

	v = ev(e, "\"<% 1 + %>\"", NULL, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "expression \"<% 1 + %>\": "));
	assert_null(strstr(cause, "expr:1:"));
	free(cause);

	v = ev(e, "\"<% error({code = 3}) %>\"", NULL, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "{\"code\":3}"));
	free(cause);

	/* A big context never shows up; long messages are cut. */
	big = xmalloc(5001);
	for (i = 0; i < 5000; i++)
		big[i] = 'a' + (i % 26);
	big[5000] = '\0';
	xasprintf(&tmpl, "{\"s\": \"%s\"}", big);
	v = ev(e, "\"<% _.s + 1 %>\"", tmpl, &cause);
	assert_null(v);
	assert_null(strstr(cause, "abcdefghijklmnop"));
	free(cause);
	v = ev(e, "\"<% error(_.s) %>\"", tmpl, &cause);
	assert_null(v);
	assert_true(strlen(cause) <= 300);
	free(cause);
	free(tmpl);
	free(big);
	expr_free(e);
}

/* Each distinct source is compiled once. */
static void
test_compile_cache(void **state)
{
	struct expr	*e = mk();
	size_t		 n0;
	int		 i;
	char		*cause;

	n0 = expr_cache_count(e);
	for (i = 0; i < 5; i++)
		check(e, "\"<% _.a + 1 %> <% _.a + 2 %>\"", "{\"a\": 1}",
		    "\"2 3\"");
	assert_int_equal(expr_cache_count(e), n0 + 2);
	assert_int_equal(expr_check(e, "_.a + 1", &cause), 0);
	assert_int_equal(expr_cache_count(e), n0 + 2);
	assert_int_equal(expr_check(e, "_.a + 3", &cause), 0);
	assert_int_equal(expr_cache_count(e), n0 + 3);
	expr_free(e);
}

/* expr_check and expr_check_string report what does not compile. */
static void
test_check(void **state)
{
	struct expr	*e = mk();
	char		*cause;

	assert_int_equal(expr_check(e, "$.a and task('x')", &cause), 0);
	assert_int_equal(expr_check(e, "1 +", &cause), -1);
	assert_non_null(strstr(cause, "expression \"<% 1 + %>\""));
	free(cause);
	assert_int_equal(expr_check(e, "  ", &cause), -1);
	free(cause);
	assert_int_equal(expr_check_string(e, "a <% 1 %> b <% _.x %>",
	    &cause), 0);
	assert_int_equal(expr_check_string(e, "a <% 1 %> b <% ) %>", &cause),
	    -1);
	assert_non_null(strstr(cause, "<% ) %>"));
	free(cause);
	assert_int_equal(expr_check_string(e, "a <% 1", &cause), -1);
	assert_non_null(strstr(cause, "unterminated"));
	free(cause);
	assert_int_equal(expr_has("x <% y"), 1);
	assert_int_equal(expr_has("x y %>"), 0);
	expr_free(e);
}

/* expr_run_script: statements, _ is the input, locals and globals. */
static void
test_run_script(void **state)
{
	struct expr	*e = mk();
	struct expr_ctx	 ctx;
	json_t		*in, *v;
	char		*cause;
	const char	*script =
	    "local s = 0\n"
	    "for _, v in ipairs(_.list) do s = s + v end\n"
	    "total = s\n"
	    "progress('summed', 1)\n"
	    "return {total = total, n = #_.list}\n";

	in = js("{\"list\": [1, 2, 3]}");
	test_ctx(&ctx, NULL);
	memset(&t_prog, 0, sizeof t_prog);
	v = expr_run_script(e, script, in, &ctx, &cause);
	if (v == NULL)
		fail_msg("%s", cause);
	assert_int_equal(json_integer_value(json_object_get(v, "total")), 6);
	assert_int_equal(t_prog.calls, 1);
	json_decref(v);
	/* Script globals do not survive the run. */
	v = expr_run_script(e, "return total", in, &ctx, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "undefined variable 'total'"));
	free(cause);
	/* No return value is null. */
	v = expr_run_script(e, "local x = 1", in, &ctx, &cause);
	assert_true(json_is_null(v));
	json_decref(v);
	v = expr_run_script(e, "while true do end", in, &ctx, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "instruction limit"));
	free(cause);
	v = expr_run_script(e, "local t = nil\nreturn t.x", in, &ctx, &cause);
	assert_null(v);
	assert_non_null(strstr(cause, "script:2:"));
	free(cause);
	json_decref(in);
	expr_free(e);
}

/* A lazy sandbox over dir whose only library file, path, holds text. */
static struct expr *
lazy_over(const char *dir, const char *path, const char *text)
{
	struct expr	*e;
	FILE		*f;
	char		*cause = NULL;

	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	e = expr_create_lazy(NULL, dir, &cause);
	assert_non_null(e);
	return (e);
}

/*
 * A lazy sandbox runs its library when an expression first reads a name
 * it lacks: expressions that read none work even with a broken file,
 * those that do fail with the file's name, every time; once loaded,
 * library names come before a call's vars, as in an eager sandbox.
 */
static void
test_library_lazy(void **state)
{
	struct expr	*e;
	struct expr_ctx	 ctx;
	json_t		*vars, *t, *v;
	char		 dir[] = "/tmp/test-expr-XXXXXX";
	char		*path, *cause = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/lib.lua", dir);
	e = lazy_over(dir, path, "function f( end\n");
	check(e, "\"<% 1 + 2 %>\"", NULL, "3");
	check(e, "\"<% string.upper(_.x) %>\"", "{\"x\": \"a\"}", "\"A\"");
	check_err(e, "\"<% double(2) %>\"", NULL, "lib.lua:1:");
	check_err(e, "\"<% double(2) %>\"", NULL, "lib.lua:1:");
	check_err(e, "\"<% y %>\"", NULL, "lib.lua:1:");
	expr_free(e);

	/* A good file: its functions, then vars, then undefined names. */
	e = lazy_over(dir, path, "function double(x) return 2 * x end\n"
	    "limit = 7\n");
	memset(&ctx, 0, sizeof ctx);
	vars = js("{\"limit\": 1, \"host\": \"c1\"}");
	ctx.vars = vars;
	t = js("\"<% host .. double(limit) %>\"");
	v = expr_eval(e, t, &ctx, &cause);
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "c114");
	json_decref(v);
	json_decref(t);
	json_decref(vars);
	check(e, "\"<% double(21) %>\"", NULL, "42");
	check_err(e, "\"<% nothing %>\"", NULL, "undefined variable "
	    "'nothing'");
	expr_free(e);

	/* A library that reads an undefined name while it loads. */
	e = lazy_over(dir, path, "local y = missing_name\n");
	check_err(e, "\"<% z %>\"", NULL, "undefined variable "
	    "'missing_name'");
	expr_free(e);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* A library folder with a broken file fails creation, naming it. */
static void
test_library_folder_errors(void **state)
{
	struct expr	*e;
	char		 dir[] = "/tmp/test-expr-XXXXXX";
	char		*path, *cause;
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/bad.lua", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("function f( end\n", f);
	fclose(f);
	e = expr_create(NULL, dir, &cause);
	assert_null(e);
	assert_non_null(strstr(cause, "bad.lua"));
	free(cause);
	f = fopen(path, "w");
	fputs("function double(x) return 2 * x end\n", f);
	fclose(f);
	e = expr_create(NULL, dir, &cause);
	assert_non_null(e);
	check(e, "\"<% double(21) %>\"", NULL, "42");
	check_err(e, "\"<% len %>\"", NULL, "cannot convert function");
	expr_free(e);
	unlink(path);
	rmdir(dir);
	free(path);
	e = expr_create(NULL, "/nonexistent/lua", &cause);
	assert_null(e);
	assert_non_null(strstr(cause, "/nonexistent/lua"));
	free(cause);
}

/*
 * The triplets of tests/data/expr/NAME.test: groups of three lines
 * (template JSON, data JSON, expected JSON or "error: text"), separated
 * by blank lines; lines starting with # are comments.
 */
static int
run_test_file(struct expr *e, const char *path)
{
	FILE	*f;
	char	*line = NULL, *l[3];
	size_t	 size = 0, len;
	ssize_t	 n;
	int	 nl = 0, count = 0, lineno = 0, start = 0;

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	while ((n = getline(&line, &size, f)) != -1) {
		lineno++;
		len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (nl == 0)
			start = lineno;
		l[nl++] = xstrdup(line);
		if (nl < 3)
			continue;
		print_message("%s:%d: %s\n", path, start, l[0]);
		if (strncmp(l[2], "error: ", 7) == 0)
			check_err(e, l[0], l[1], l[2] + 7);
		else
			check(e, l[0], l[1], l[2]);
		free(l[0]);
		free(l[1]);
		free(l[2]);
		nl = 0;
		count++;
	}
	if (nl != 0)
		fail_msg("%s: incomplete group at line %d", path, start);
	free(line);
	fclose(f);
	return (count);
}

/* Run every data-driven triplet. */
static void
test_data_files(void **state)
{
	struct expr	*e = mk();
	char		*path;
	int		 n;

	xasprintf(&path, "%s/tests/data/expr/basic.test", srcdir());
	n = run_test_file(e, path);
	free(path);
	xasprintf(&path, "%s/tests/data/expr/library.test", srcdir());
	n += run_test_file(e, path);
	free(path);
	assert_true(n >= 40);
	expr_free(e);
}

/*
 * Named variables of a call (alarm triggers' "alert") are read-only
 * globals of that call only; library names and _ come first.
 */
static void
test_call_vars(void **state)
{
	struct expr	*e = mk();
	struct expr_ctx	 ctx;
	json_t		*vars, *v, *t;
	char		*cause = NULL;

	(void)state;
	vars = js("{\"alert\": {\"status\": \"firing\", \"labels\": "
	    "{\"host\": \"c1\"}}, \"_\": 5, \"len\": 1}");
	test_ctx(&ctx, js("{\"x\": 2}"));
	ctx.vars = vars;
	t = js("\"<% alert.labels.host .. '/' .. alert.status .. _.x .. "
	    "len({1, 2}) %>\"");
	v = expr_eval(e, t, &ctx, &cause);
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "c1/firing22");
	json_decref(v);
	json_decref(t);
	t = js("\"<% (function() alert = 1 end)() %>\"");
	assert_null(expr_eval(e, t, &ctx, &cause));
	assert_non_null(strstr(cause, "cannot assign global variable "
	    "'alert'"));
	free(cause);
	json_decref(t);
	json_decref(ctx.data);

	/* The next call without vars does not see them. */
	check_err(e, "\"<% alert.status %>\"", NULL,
	    "undefined variable 'alert'");
	json_decref(vars);
	expr_free(e);
}

/* Run every test of the expr module. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_vars),
		cmocka_unit_test(test_typed_vs_interpolated),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_dollar_alias),
		cmocka_unit_test(test_context_functions),
		cmocka_unit_test(test_null_round_trip),
		cmocka_unit_test(test_empty_round_trip),
		cmocka_unit_test(test_integer_float),
		cmocka_unit_test(test_json_and_misc_functions),
		cmocka_unit_test(test_library_functions),
		cmocka_unit_test(test_infinite_loop_stops_at_the_instruction_budget),
		cmocka_unit_test(test_pcall_cannot_swallow_the_budget_kill),
		cmocka_unit_test(test_memory_bomb_fails_only_the_evaluation),
		cmocka_unit_test(test_pattern_backtracking_stops_at_the_instruction_budget),
		cmocka_unit_test(test_code_outside_the_hook_cannot_run_unbounded),
		cmocka_unit_test(test_library_work_counts_against_the_budget),
		cmocka_unit_test(test_time_limit_bounds_every_call),
		cmocka_unit_test(test_compile_cache_leaves_memory_to_evaluations),
		cmocka_unit_test(test_deep_recursion_ends_in_an_error),
		cmocka_unit_test(test_json_conversion_is_bounded),
		cmocka_unit_test(test_os_io_package_debug_unreachable),
		cmocka_unit_test(test_bytecode_load_refused),
		cmocka_unit_test(test_string_metatable_cannot_be_changed),
		cmocka_unit_test(test_undeclared_global_read_raises),
		cmocka_unit_test(test_evaluations_are_isolated),
		cmocka_unit_test(test_lazy_data_behaves_like_tables),
		cmocka_unit_test(test_kept_data_cannot_outlive_its_call),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_compile_cache),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_run_script),
		cmocka_unit_test(test_library_folder_errors),
		cmocka_unit_test(test_library_lazy),
		cmocka_unit_test(test_data_files),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
