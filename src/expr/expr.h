/*
 * expr.h -- Lua 5.4 expressions in a sandbox: "<% ... %>" evaluation
 * over JSON data, the function library, and Lua scripts for std.lua.
 *
 * One struct expr is one Lua state and belongs to one thread.  Each
 * expression source is compiled once and cached in its state.
 * Ownership: arguments are borrowed; returned json_t are new references.
 */
#ifndef EXPR_H
#define EXPR_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct expr;

/*
 * What one evaluation may spend.  Work done inside library functions
 * counts against max_instructions; max_time_ms bounds each public call
 * (expr_eval, expr_eval_lua, expr_run_script, ...) as a whole, library
 * calls included, so no call holds its thread much longer.
 */
struct expr_limits {
	uint64_t	 max_instructions;	/* per expression; default 1e6 */
	size_t		 max_memory;		/* bytes per state; default 32 MiB */
	size_t		 max_string;		/* result text cap; default 1 MiB */
	int64_t		 max_time_ms;		/* per call; default 1000 */
};

/*
 * What an evaluation sees besides _ (all borrowed, any may be NULL).
 * task() with no argument returns cur_task; task(name) calls task_lookup.
 */
struct expr_ctx {
	json_t	*data;		/* the _ / $ table: input+vars+published+item */
	json_t	*env;		/* env() */
	json_t	*execution;	/* execution(): {id, name, input, created_at,
				   state} */
	json_t	*cur_task;	/* task(): {id, name, state, state_info,
				   result, published} */
	/* task(name): new reference or NULL when there is no such task. */
	json_t	*(*task_lookup)(void *arg, const char *name);
	void	*arg;
	/*
	 * Emitted by progress(msg[, fraction]) in Lua actions; may be NULL.
	 * fraction is 0..1, or -1 when the script gave none.
	 */
	void	(*progress)(void *arg, const char *msg, double fraction);
	/*
	 * More read-only variables by name, or NULL: an object whose
	 * members are globals ({"alert": {...}} for alarm triggers).
	 * Library names and _ come first.
	 */
	json_t	*vars;
};

/*
 * Create a sandbox.  libdir, when not NULL, is a folder of *.lua files
 * loaded into the sandbox as the function library (each file's globals
 * become visible to expressions).  NULL + *cause on failure, a file
 * that does not load included.
 */
struct expr	*expr_create(const struct expr_limits *, const char *libdir,
		     char **cause);
/*
 * The same, but the library is loaded when an expression first reads a
 * name the sandbox does not hold (most short runs never do; a sandbox
 * that only checks syntax never does).  A file that does not load then
 * fails the expressions that read such names, with its path and
 * Lua's message.
 */
struct expr	*expr_create_lazy(const struct expr_limits *,
		     const char *libdir, char **cause);
void		 expr_free(struct expr *);

/* 1 if s contains "<%". */
int		 expr_has(const char *s);

/* Check that one Lua expression (without <% %>) compiles. */
int		 expr_check(struct expr *, const char *lua, char **cause);
/* Check every <% %> in a string; -1 + *cause naming the first bad one. */
int		 expr_check_string(struct expr *, const char *s, char **cause);

/*
 * Evaluate a template: strings that are exactly one "<% e %>" keep the
 * value's type; strings mixing text and expressions are interpolated
 * (tables as JSON, null as "null"); arrays and objects are walked;
 * other values are returned as they are.  NULL + *cause on error, where
 * cause names the expression and Lua's message (truncated).
 */
json_t		*expr_eval(struct expr *, json_t *tmpl,
		     const struct expr_ctx *, char **cause);
/* Evaluate one Lua expression (no <% %>). */
json_t		*expr_eval_lua(struct expr *, const char *lua,
		     const struct expr_ctx *, char **cause);
/* Lua truthiness of a JSON value: false for null, false; true else. */
int		 expr_truthy(json_t *);

/*
 * Run a Lua chunk (statements; its return value is the result) with
 * input as _ (std.lua).  Same budget and memory cap.
 */
json_t		*expr_run_script(struct expr *, const char *script,
		     json_t *input, const struct expr_ctx *, char **cause);

/* Compiled-expression cache size (for tests and metrics). */
size_t		 expr_cache_count(struct expr *);

#endif /* EXPR_H */
