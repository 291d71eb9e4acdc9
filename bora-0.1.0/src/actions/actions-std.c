/*
 * actions-std.c -- the small std.* actions: noop, echo, fail, sleep,
 * lua, async_noop and test_dict.  std.http lives in actions-http.c.
 *
 * Each action is its run function plus a const entry; the registry in
 * actions.c lists the entries.  Input arrives checked and with defaults
 * filled in (action_input_prepare), and is borrowed.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "expr/expr.h"
#include "actions/actions-int.h"

/* Largest dictionary std.test_dict builds. */
#define ACTION_TEST_DICT_MAX	1000000

static void	action_std_noop_run(const struct action_entry *, json_t *,
		    const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);
static void	action_std_echo_run(const struct action_entry *, json_t *,
		    const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);
static void	action_std_fail_run(const struct action_entry *, json_t *,
		    const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);
static void	action_std_sleep_run(const struct action_entry *, json_t *,
		    const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);
static void	action_std_lua_run(const struct action_entry *, json_t *,
		    const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);
static void	action_std_async_noop_run(const struct action_entry *,
		    json_t *, const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);
static void	action_std_test_dict_run(const struct action_entry *,
		    json_t *, const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);

static const struct action_param action_std_noop_params[] = {
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_noop_entry = {
	.name = "std.noop",
	.description = "Does nothing; the result is null.",
	.params = action_std_noop_params,
	.kind = ACTION_INLINE,
	.pure = 1,
	.run = action_std_noop_run
};

static const struct action_param action_std_echo_params[] = {
	{ "output", NULL, 1 },
	{ "delay", "0", 0 },
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_echo_entry = {
	.name = "std.echo",
	.description = "Returns its output, after delay seconds when given.",
	.params = action_std_echo_params,
	.kind = ACTION_INLINE,
	.pure = 1,
	.run = action_std_echo_run
};

static const struct action_param action_std_fail_params[] = {
	{ "error_data", "null", 0 },
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_fail_entry = {
	.name = "std.fail",
	.description = "Always fails, with error_data as the error.",
	.params = action_std_fail_params,
	.kind = ACTION_INLINE,
	.pure = 1,
	.run = action_std_fail_run
};

static const struct action_param action_std_sleep_params[] = {
	{ "seconds", "1", 0 },
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_sleep_entry = {
	.name = "std.sleep",
	.description = "Waits for seconds (fractions allowed); the result "
	    "is null.",
	.params = action_std_sleep_params,
	.kind = ACTION_IO,
	.pure = 1,
	.run = action_std_sleep_run
};

static const struct action_param action_std_lua_params[] = {
	{ "script", NULL, 1 },
	{ "input", "null", 0 },
	{ "context", "null", 0 },
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_lua_entry = {
	.name = "std.lua",
	.description = "Runs a Lua script in the expression sandbox with "
	    "input (over context) as _; the result is what it returns.",
	.params = action_std_lua_params,
	.kind = ACTION_INLINE,
	.pure = 1,		/* the sandbox has no I/O */
	.run = action_std_lua_run
};

static const struct action_param action_std_async_noop_params[] = {
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_async_noop_entry = {
	.name = "std.async_noop",
	.description = "Does nothing and stays running until its result "
	    "arrives through the API.",
	.params = action_std_async_noop_params,
	.kind = ACTION_ASYNC,
	.pure = 0,
	.run = action_std_async_noop_run
};

static const struct action_param action_std_test_dict_params[] = {
	{ "size", "0", 0 },
	{ "key_prefix", "\"\"", 0 },
	{ "val", "\"\"", 0 },
	{ NULL, NULL, 0 }
};
const struct action_entry action_std_test_dict_entry = {
	.name = "std.test_dict",
	.description = "Builds {key_prefix0: val, ...} with size keys "
	    "(for tests).",
	.params = action_std_test_dict_params,
	.kind = ACTION_INLINE,
	.pure = 1,
	.run = action_std_test_dict_run
};

/* std.noop: null. */
static void
action_std_noop_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	done(arg, 1, json_null());
}

/* std.echo: the output, at once or after delay seconds. */
static void
action_std_echo_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	json_t	*output;
	int64_t	 ms;
	char	*cause, *msg;

	if (action_arg_seconds(input, "delay", &ms, &cause) != 0) {
		xasprintf(&msg, "%s: %s", ae->name, cause);
		free(cause);
		action_fail_new(done, arg, msg);
		return;
	}
	output = json_deep_copy(json_object_get(input, "output"));
	if (ms == 0)
		done(arg, 1, output);
	else
		action_io_after(io, ms, 1, output, done, arg);
}

/* std.fail: error_data, or Mistral's message when it is null. */
static void
action_std_fail_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	json_t	*err;

	err = json_object_get(input, "error_data");
	if (err == NULL || json_is_null(err))
		done(arg, 0, json_string("Fail action expected exception."));
	else
		done(arg, 0, json_deep_copy(err));
}

/* std.sleep: null after seconds, waiting in the I/O loop. */
static void
action_std_sleep_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	int64_t	 ms;
	char	*cause, *msg;

	if (action_arg_seconds(input, "seconds", &ms, &cause) != 0) {
		xasprintf(&msg, "%s: %s", ae->name, cause);
		free(cause);
		action_fail_new(done, arg, msg);
		return;
	}
	action_io_after(io, ms, 1, json_null(), done, arg);
}

/*
 * std.lua: run script in the calling thread's sandbox.  _ is input;
 * when both input and context are objects, _ is context with input's
 * keys over it; when only context is given, _ is context.
 */
static void
action_std_lua_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	struct expr_ctx	 ectx;
	json_t		*in, *context, *data, *result;
	const char	*script;
	char		*cause, *msg;

	script = action_arg_string(input, "script");
	if (script == NULL) {
		action_fail_new(done, arg,
		    xstrdup("std.lua: 'script' must be a string"));
		return;
	}
	if (ctx == NULL || ctx->expr == NULL) {
		action_fail_new(done, arg,
		    xstrdup("std.lua: no Lua sandbox to run in"));
		return;
	}
	in = json_object_get(input, "input");
	context = json_object_get(input, "context");
	if (json_is_object(in) && json_is_object(context)) {
		data = json_deep_copy(context);
		json_object_update(data, in);
	} else if (in != NULL && !json_is_null(in))
		data = json_incref(in);
	else
		data = json_incref(context);

	memset(&ectx, 0, sizeof ectx);
	ectx.data = data;
	ectx.progress = ctx->progress;
	ectx.arg = ctx->progress_arg;
	result = expr_run_script(ctx->expr, script, data, &ectx, &cause);
	json_decref(data);
	if (result == NULL) {
		xasprintf(&msg, "std.lua: %s", cause);
		free(cause);
		action_fail_new(done, arg, msg);
		return;
	}
	done(arg, 1, result);
}

/* std.async_noop: nothing; the result comes through the API. */
static void
action_std_async_noop_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
}

/* std.test_dict: {key_prefix0: val, key_prefix1: val, ...}. */
static void
action_std_test_dict_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	json_t		*v, *val, *out;
	const char	*prefix;
	double		 d;
	json_int_t	 size, i;
	char		*key, *msg;

	v = json_object_get(input, "size");
	if (json_is_string(v))
		d = strtod(json_string_value(v), NULL);
	else if (json_is_number(v))
		d = json_number_value(v);
	else
		d = -1;
	if (!isfinite(d) || d < 0 || d > ACTION_TEST_DICT_MAX ||
	    d != floor(d)) {
		xasprintf(&msg, "std.test_dict: 'size' must be an integer "
		    "from 0 to %d", ACTION_TEST_DICT_MAX);
		action_fail_new(done, arg, msg);
		return;
	}
	size = (json_int_t)d;
	v = json_object_get(input, "key_prefix");
	if (json_is_string(v))
		prefix = json_string_value(v);
	else if (v == NULL || json_is_null(v))
		prefix = "";
	else {
		action_fail_new(done, arg,
		    xstrdup("std.test_dict: 'key_prefix' must be a string"));
		return;
	}
	val = json_object_get(input, "val");
	out = json_object();
	for (i = 0; i < size; i++) {
		xasprintf(&key, "%s%lld", prefix, (long long)i);
		json_object_set_new(out, key, json_deep_copy(val));
		free(key);
	}
	done(arg, 1, out);
}
