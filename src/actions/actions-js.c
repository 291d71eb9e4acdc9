/*
 * actions-js.c -- std.javascript and std.js, Mistral's JavaScript
 * actions.  bora has no JavaScript engine (Mistral needs pyv8, v8eval
 * or py_mini_racer, none of which Debian ships): both names are known,
 * so a workflow moved from Mistral finds them, and each fails at once
 * with an error that says how to write the same step with std.lua.
 */
#include "config.h"

#include <stdlib.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

static void	action_js_run(const struct action_entry *, json_t *,
		    const struct action_ctx *, struct action_io *,
		    action_done_cb, void *);

/* Mistral's parameters, so that its input is not refused first. */
static const struct action_param action_js_params[] = {
	{ "script", NULL, 1 },
	{ "context", "null", 0 },
	{ NULL, NULL, 0 }
};

/* One entry for each of Mistral's two names. */
#define ACTION_JS_ENTRY(n) {						\
	.name = n,							\
	.description = "Not available in bora (no JavaScript engine): "	\
	    "use std.lua, with the same script and context parameters.",\
	.params = action_js_params,					\
	.kind = ACTION_INLINE,						\
	.pure = 1,							\
	.run = action_js_run						\
}
const struct action_entry action_std_javascript_entry =
    ACTION_JS_ENTRY("std.javascript");
const struct action_entry action_std_js_entry = ACTION_JS_ENTRY("std.js");

/* Fail with the way to the same step in Lua. */
static void
action_js_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	char	*msg;

	xasprintf(&msg, "%s is not available in bora: it has no JavaScript "
	    "engine.  Write the script in Lua and run it with std.lua, which "
	    "takes the same 'script' and 'context' parameters (the context "
	    "is _ in the script, and the result is what the script returns)",
	    ae->name);
	action_fail_new(done, arg, msg);
}
