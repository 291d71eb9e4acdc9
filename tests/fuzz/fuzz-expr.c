/*
 * fuzz-expr.c -- libFuzzer target of the expression sandbox.
 *
 * The input's first line is a template (JSON when it reads as JSON,
 * else the text itself), the second the data (JSON, else none); the
 * whole input is also checked and run as a Lua script.  One sandbox with
 * the shipped lua/ library and small limits serves every input, as the
 * engine's does: nothing may crash, leak, or run past the time limit.
 *
 * FUZZ-SEEDS: tests/data/expr:.test tests/data/valid:.yaml
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "expr/expr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct expr	*fuzz_expr;
static json_t		*fuzz_env, *fuzz_exec, *fuzz_task;

/* task(name): the current task for any name but "none". */
static json_t *
fuzz_lookup(void *arg, const char *name)
{
	if (strcmp(name, "none") == 0)
		return (NULL);
	return (json_deep_copy(fuzz_task));
}

/* The sandbox and the context, once. */
static void
fuzz_init(void)
{
	struct expr_limits	 lim;
	const char		*src;
	char			*dir, *cause;

	memset(&lim, 0, sizeof lim);
	lim.max_instructions = 100000;
	lim.max_memory = 16 * 1024 * 1024;
	lim.max_time_ms = 200;
	if ((src = getenv("SRCDIR")) == NULL)
		src = BORA_SRCDIR;
	xasprintf(&dir, "%s/lua", src);
	if ((fuzz_expr = expr_create(&lim, dir, &cause)) == NULL)
		fatalx("expr_create: %s", cause);
	free(dir);
	fuzz_env = json_pack("{s:s, s:i}", "region", "r1", "n", 3);
	fuzz_exec = json_pack("{s:s, s:s, s:{s:i}, s:s}", "id", "ex-1",
	    "name", "wf", "input", "a", 1, "state", "RUNNING");
	fuzz_task = json_pack("{s:s, s:s, s:s, s:[i, i], s:{}}", "id",
	    "t-1", "name", "t1", "state", "SUCCESS", "result", 1, 2,
	    "published");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expr_ctx	 ctx;
	json_t		*tmpl, *d = NULL, *v;
	char		*text, *nl, *cause = NULL;

	if (fuzz_expr == NULL)
		fuzz_init();
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	/* Line 1: the template; line 2: the data. */
	if ((nl = strchr(text, '\n')) != NULL) {
		*nl = '\0';
		d = json_loads(nl + 1, JSON_DECODE_ANY |
		    JSON_DISABLE_EOF_CHECK, NULL);
	}
	if ((tmpl = json_loads(text, JSON_DECODE_ANY, NULL)) == NULL)
		tmpl = json_string(text);
	if (nl != NULL)
		*nl = '\n';

	memset(&ctx, 0, sizeof ctx);
	ctx.data = d;
	ctx.env = fuzz_env;
	ctx.execution = fuzz_exec;
	ctx.cur_task = fuzz_task;
	ctx.task_lookup = fuzz_lookup;
	if (tmpl != NULL) {
		v = expr_eval(fuzz_expr, tmpl, &ctx, &cause);
		json_decref(v);
		free(cause);
		cause = NULL;
	}

	/* The whole input as a check and as a script. */
	if (expr_check_string(fuzz_expr, text, &cause) != 0)
		free(cause);
	cause = NULL;
	v = expr_run_script(fuzz_expr, text, d, &ctx, &cause);
	json_decref(v);
	free(cause);

	json_decref(tmpl);
	json_decref(d);
	free(text);
	return (0);
}
