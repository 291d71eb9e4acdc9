/*
 * expr.c -- the Lua sandbox: state, limits, compile cache, templates.
 *
 * One struct expr is one lua_State with a capped allocator and an
 * instruction budget.  Expressions see a read-only proxy as _ENV whose
 * __index is the table of globals G (allowed base functions, read-only
 * library tables, the function library and _, then the call's vars);
 * reading an undeclared name and assigning any global raise.  Each expression source is
 * compiled once ("return <expr>", text only) and kept in a registry
 * table keyed by its source.  Every call into Lua goes through
 * expr_docall(), which arms the budget, runs in protected mode and turns
 * failures into a one-line cause.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "expr/expr-int.h"

#define EXPR_DEF_INSTRUCTIONS	1000000
#define EXPR_DEF_MEMORY		((size_t)32 * 1024 * 1024)
#define EXPR_DEF_STRING		((size_t)1024 * 1024)
#define EXPR_DEF_TIME_MS	1000
#define EXPR_CACHE_MAX		10000	/* compiled sources kept */
#define EXPR_CAUSE_MAX		300	/* bytes of an error message */
#define EXPR_SRC_SHOWN		120	/* bytes of source in a message */
#define EXPR_LIBFILE_MAX	(1024 * 1024)

const char	 expr_null_tag;

/* What expr_docall runs. */
enum expr_job_kind {
	EXPR_JOB_EVAL,		/* expression: push its value */
	EXPR_JOB_CHECK,		/* expression: compile only */
	EXPR_JOB_SCRIPT,	/* statements with a private global table */
	EXPR_JOB_LIBRARY	/* the lua/ files of e->libdir */
};

struct expr_job {
	enum expr_job_kind	 kind;
	const char		*src;
	size_t			 len;
};

static const luaL_Reg expr_libs[] = {
	{ LUA_GNAME, luaopen_base },
	{ LUA_STRLIBNAME, luaopen_string },
	{ LUA_TABLIBNAME, luaopen_table },
	{ LUA_MATHLIBNAME, luaopen_math },
	{ LUA_UTF8LIBNAME, luaopen_utf8 },	/* no io, os, package, debug */
	{ NULL, NULL }
};

/*
 * Base functions copied into the sandbox.  Everything else is left out:
 * dofile, loadfile, load, require, collectgarbage, print, warn.  next,
 * rawget, rawlen, rawset and setmetatable are replaced by versions that
 * know lazy data and read-only tables, xpcall by one that keeps its
 * message handler under the budget (expr-limit.c).
 */
static const char *expr_base_allow[] = { "assert", "error", "getmetatable",
	"ipairs", "pairs", "pcall", "rawequal", "select", "tonumber",
	"tostring", "type", "_VERSION", NULL };

/* Library tables offered read-only. */
static const char *expr_lib_tables[] = { LUA_STRLIBNAME, LUA_TABLIBNAME,
	LUA_MATHLIBNAME, LUA_UTF8LIBNAME, NULL };

static int	 expr_panic(lua_State *);
static int	 expr_g_index(lua_State *);
static int	 expr_env_newindex(lua_State *);
static int	 expr_lib_newindex(lua_State *);
static int	 expr_ro_newindex(lua_State *);
static int	 expr_ro_pairs(lua_State *);
static int	 expr_next(lua_State *);
static int	 expr_rawget(lua_State *);
static int	 expr_rawlen(lua_State *);
static int	 expr_rawset(lua_State *);
static int	 expr_setmetatable(lua_State *);
static int	 expr_null_tostring(lua_State *);
static int	 expr_null_concat(lua_State *);
static void	 expr_newref(lua_State *, int *);
static void	 expr_lock(lua_State *, int, lua_CFunction);
static int	 expr_setup(lua_State *);
static char	*expr_rewrite(const char *, size_t, size_t *);
static int	 expr_compile(lua_State *, struct expr_job *);
static int	 expr_protected(lua_State *);
static void	 expr_memtext(size_t, char *, size_t);
static void	 expr_cause(struct expr *, struct expr_job *, int,
		     const char *, char **);
static int	 expr_docall(struct expr *, struct expr_job *, char **);
static int	 expr_lib_file(lua_State *, const char *, const char *);
static int	 expr_lib_run(lua_State *);
static void	 expr_lib_use(lua_State *);
static struct expr *expr_open(const struct expr_limits *, const char *,
		     int, char **);
static void	 expr_begin(struct expr *, const struct expr_ctx *, json_t *);
static void	 expr_end(struct expr *);
static json_t	*expr_eval_one(struct expr *, const char *, size_t, char **);
static int	 expr_interp_one(struct expr *, const char *, size_t,
		     struct buf *, char **);
static void	 expr_trim(const char **, size_t *);
static json_t	*expr_eval_string(struct expr *, const char *, int, char **);
static int	 expr_walk(struct expr *, json_t *, json_t **, char **);

/* An error outside protected mode is a bug in this file. */
static int
expr_panic(lua_State *L)
{
	const char	*msg = lua_tostring(L, -1);

	fatalx("lua: unprotected error: %s", msg != NULL ? msg : "?");
}

/*
 * __index of G: converts _ on its first use in a call, loads a library
 * not loaded yet and looks again, then looks in the call's vars, else
 * the name is undeclared.  Stack: G, key.  A var is not kept in G (the
 * next call may not have it): each use pushes a new lazy table over the
 * same JSON, which costs one small table.  Library names come before
 * vars, loaded now or at creation alike.
 */
static int
expr_g_index(lua_State *L)
{
	struct expr	*e = expr_get(L);
	const char	*k;
	json_t		*v;

	if (lua_type(L, 2) == LUA_TSTRING) {
		k = lua_tostring(L, 2);
		if (k[0] == '_' && k[1] == '\0' && e->data_pending) {
			if (e->data != NULL)
				expr_json_push_lazy(L, e->data);
			else
				lua_newtable(L);
			lua_pushvalue(L, -1);
			lua_setfield(L, 1, "_");  /* G has no __newindex */
			e->data_pending = 0;
			e->data_set = 1;
			return (1);
		}
		if (e->lib_pending || e->lib_cause != NULL) {
			expr_lib_use(L);
			lua_pushvalue(L, 2);
			if (lua_rawget(L, 1) != LUA_TNIL)
				return (1);
			lua_pop(L, 1);
		}
		if (e->ctx != NULL && e->ctx->vars != NULL &&
		    (v = json_object_get(e->ctx->vars, k)) != NULL) {
			expr_json_push_lazy(L, v);
			return (1);
		}
		return (luaL_error(L, "undefined variable '%s'", k));
	}
	return (luaL_error(L, "undefined variable of type %s",
	    luaL_typename(L, 2)));
}

/* __newindex of the expression environment. */
static int
expr_env_newindex(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TSTRING)
		return (luaL_error(L, "cannot assign global variable '%s' "
		    "(use local)", lua_tostring(L, 2)));
	return (luaL_error(L, "cannot assign a global variable"));
}

/* __newindex while loading lua/ files: globals go to G, later refused. */
static int
expr_lib_newindex(lua_State *L)
{
	struct expr	*e = expr_get(L);

	if (!e->loading)
		return (expr_env_newindex(L));
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_globals);
	lua_insert(L, 2);
	/* Stack now: env, G, key, value */
	lua_rawset(L, 2);
	return (0);
}

/* __newindex of read-only library tables. */
static int
expr_ro_newindex(lua_State *L)
{
	return (luaL_error(L, "cannot modify a read-only table"));
}

/* __pairs of read-only library tables: walk the table behind. */
static int
expr_ro_pairs(lua_State *L)
{
	struct expr	*e = expr_get(L);

	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_globals);
	lua_pushliteral(L, "next");
	lua_rawget(L, -2);
	lua_remove(L, -2);
	if (!lua_getmetatable(L, 1))
		return (0);
	lua_getfield(L, -1, "__index");
	lua_remove(L, -2);
	lua_pushnil(L);
	/* Stack now: proxy, next, table, nil */
	return (3);
}

/* next, seeing every field of lazily converted data. */
static int
expr_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	expr_json_materialize(L, 1);
	if (lua_next(L, 1))
		return (2);
	lua_pushnil(L);
	return (1);
}

/* rawget, seeing every field of lazily converted data. */
static int
expr_rawget(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	lua_settop(L, 2);
	expr_json_materialize(L, 1);
	lua_rawget(L, 1);
	return (1);
}

/* rawlen, seeing every element of lazily converted data. */
static int
expr_rawlen(lua_State *L)
{
	int	 t = lua_type(L, 1);

	luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1,
	    "table or string");
	expr_json_materialize(L, 1);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
	return (1);
}

/* rawset that refuses the sandbox's read-only tables. */
static int
expr_rawset(lua_State *L)
{
	struct expr	*e = expr_get(L);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	expr_json_materialize(L, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_readonly);
	lua_pushvalue(L, 1);
	if (lua_rawget(L, -2) != LUA_TNIL)
		return (luaL_error(L, "cannot modify a read-only table"));
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return (1);
}

/* setmetatable without finalizers: no code runs outside the budget. */
static int
expr_setmetatable(lua_State *L)
{
	int	 t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2,
	    "nil or table");
	if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
		return (luaL_error(L, "__gc metamethods are not allowed"));
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return (luaL_error(L, "cannot change a protected metatable"));
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return (1);
}

/* __tostring of null. */
static int
expr_null_tostring(lua_State *L)
{
	lua_pushliteral(L, "null");
	return (1);
}

/* __concat of null: it reads "null" next to strings and numbers. */
static int
expr_null_concat(lua_State *L)
{
	int	 i;

	for (i = 1; i <= 2; i++) {
		if (lua_type(L, i) == LUA_TLIGHTUSERDATA &&
		    lua_touserdata(L, i) == EXPR_NULL) {
			lua_pushliteral(L, "null");
			lua_replace(L, i);
		} else if (!lua_isstring(L, i))
			return (luaL_error(L, "attempt to concatenate a %s "
			    "value", luaL_typename(L, i)));
	}
	lua_concat(L, 2);
	return (1);
}

/* Pop the top value into a new registry reference. */
static void
expr_newref(lua_State *L, int *ref)
{
	*ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/*
 * Give the table at idx a locked metatable whose __index is the table on
 * top of the stack (popped) and whose __newindex is newindex.
 */
static void
expr_lock(lua_State *L, int idx, lua_CFunction newindex)
{
	idx = lua_absindex(L, idx);
	lua_createtable(L, 0, 4);
	lua_insert(L, -2);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, idx);
}

/*
 * Build the sandbox (protected mode).  The standard libraries go into
 * the state's own global table, which expressions never see; G gets the
 * allowed parts.
 */
static int
expr_setup(lua_State *L)
{
	struct expr	*e = expr_get(L);
	const luaL_Reg	*lib;
	const char	**name;
	int		 real, g, ro;

	for (lib = expr_libs; lib->func != NULL; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L);
	real = lua_gettop(L);

	expr_json_setup(L);
	lua_newtable(L);
	g = lua_gettop(L);
	for (name = expr_base_allow; *name != NULL; name++) {
		lua_getfield(L, real, *name);
		lua_setfield(L, g, *name);
	}
	lua_pushcfunction(L, expr_rawset);
	lua_setfield(L, g, "rawset");
	lua_pushcfunction(L, expr_rawget);
	lua_setfield(L, g, "rawget");
	lua_pushcfunction(L, expr_rawlen);
	lua_setfield(L, g, "rawlen");
	lua_pushcfunction(L, expr_next);
	lua_setfield(L, g, "next");
	lua_pushcfunction(L, expr_setmetatable);
	lua_setfield(L, g, "setmetatable");
	expr_limit_open(L, g);
	lua_pushlightuserdata(L, EXPR_NULL);
	lua_setfield(L, g, "null");
	/* null prints as "null"; it is the only light userdata in sight. */
	lua_pushlightuserdata(L, EXPR_NULL);
	lua_createtable(L, 0, 4);
	lua_pushcfunction(L, expr_null_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushcfunction(L, expr_null_concat);
	lua_setfield(L, -2, "__concat");
	lua_pushliteral(L, "null");
	lua_setfield(L, -2, "__name");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_pop(L, 1);

	/* Weak set of tables rawset must not touch. */
	lua_newtable(L);
	ro = lua_gettop(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, ro);
	lua_pushvalue(L, ro);
	expr_newref(L, &e->ref_readonly);

	/* Array marker. */
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "array");
	lua_setfield(L, -2, "__name");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	expr_newref(L, &e->ref_array_mt);

	/* Library tables behind read-only proxies; no string.dump. */
	lua_getfield(L, real, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	for (name = expr_lib_tables; *name != NULL; name++) {
		lua_newtable(L);
		lua_getfield(L, real, *name);
		expr_lock(L, -2, expr_ro_newindex);
		lua_getmetatable(L, -1);
		lua_pushcfunction(L, expr_ro_pairs);
		lua_setfield(L, -2, "__pairs");
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_pushboolean(L, 1);
		lua_rawset(L, ro);
		lua_setfield(L, g, *name);
	}
	/* The string metatable cannot be fetched or changed. */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);

	expr_lib_open(L, g);

	/* G raises on undeclared names. */
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, expr_g_index);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, g);

	/* The expression environment: an empty read-only proxy of G. */
	lua_newtable(L);
	lua_pushvalue(L, g);
	expr_lock(L, -2, expr_env_newindex);
	lua_pushvalue(L, -1);
	lua_setfield(L, g, "_G");
	lua_pushvalue(L, -1);
	lua_pushboolean(L, 1);
	lua_rawset(L, ro);
	/* Scripts get a private table of globals over the environment. */
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	expr_newref(L, &e->ref_script_mt);
	expr_newref(L, &e->ref_env);

	/* Environment of lua/ files: writes go to G while loading. */
	lua_newtable(L);
	lua_pushvalue(L, g);
	expr_lock(L, -2, expr_lib_newindex);
	expr_newref(L, &e->ref_libenv);

	lua_newtable(L);
	expr_newref(L, &e->ref_cache);
	lua_newtable(L);
	expr_newref(L, &e->ref_scripts);

	lua_pushvalue(L, g);
	expr_newref(L, &e->ref_globals);
	return (0);
}

/*
 * Rewrite $ outside string literals and comments to _, so "$.vm_id"
 * reads "_.vm_id".  Returns a new string; *outlen is its length.
 */
static char *
expr_rewrite(const char *s, size_t len, size_t *outlen)
{
	char	*out;
	size_t	 i, j, level;
	char	 q;

	out = xmalloc(len + 1);
	memcpy(out, s, len);
	out[len] = '\0';
	*outlen = len;
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '$':
			out[i] = '_';
			break;
		case '\'':
		case '"':
			q = s[i];
			for (i++; i < len && s[i] != q; i++) {
				if (s[i] == '\\')
					i++;
			}
			break;
		case '-':
			if (i + 1 >= len || s[i + 1] != '-')
				break;
			i += 2;
			if (i < len && s[i] == '[') {
				j = i + 1;
				while (j < len && s[j] == '=')
					j++;
				if (j < len && s[j] == '[') {
					i--;	/* a long comment: next case */
					goto longbracket;
				}
			}
			while (i < len && s[i] != '\n')
				i++;
			break;
		case '[':
		longbracket:
			i++;
			for (j = i, level = 0; j < len && s[j] == '='; j++)
				level++;
			if (j >= len || s[j] != '[') {
				i--;
				break;
			}
			/* Skip to "]" level*"=" "]". */
			for (i = j + 1; i < len; i++) {
				if (s[i] != ']')
					continue;
				for (j = i + 1; j < len && s[j] == '=' &&
				    j - i - 1 < level; j++)
					;
				if (j < len && s[j] == ']' &&
				    j - i - 1 == level) {
					i = j;
					break;
				}
			}
			break;
		}
	}
	return (out);
}

/*
 * Compile the job's source and push the function (protected mode).
 * Expressions become "return <expr>".
 */
static int
expr_compile(lua_State *L, struct expr_job *job)
{
	char		*src, *text;
	const char	*chunk;
	size_t		 len;
	int		 rc;

	src = expr_rewrite(job->src, job->len, &len);
	if (job->kind == EXPR_JOB_SCRIPT) {
		text = src;
		chunk = "=script";
	} else {
		xasprintf(&text, "return %s", src);
		len += 7;
		free(src);
		chunk = "=expr";
	}
	rc = luaL_loadbufferx(L, text, len, chunk, "t");
	free(text);
	return (rc);
}

/*
 * The body of every call into Lua, in protected mode.  Stack: the job.
 * Finds or compiles the function, points its _ENV at the sandbox and
 * runs it; leaves one result.
 */
static int
expr_protected(lua_State *L)
{
	struct expr	*e = expr_get(L);
	struct expr_job	*job = lua_touserdata(L, 1);
	int		 ref;

	if (e->clear_data) {
		if (e->data_set) {
			lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_globals);
			lua_pushnil(L);
			lua_setfield(L, -2, "_");
			lua_pop(L, 1);
			e->data_set = 0;
		}
		e->clear_data = 0;
	}

	if (job->kind == EXPR_JOB_LIBRARY) {
		lua_pushcfunction(L, expr_lib_run);
		lua_call(L, 0, 0);
		return (0);
	}

	ref = job->kind == EXPR_JOB_SCRIPT ? e->ref_scripts : e->ref_cache;
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	lua_pushlstring(L, job->src, job->len);
	lua_pushvalue(L, 3);
	/* Stack now: job, cache, source, source */
	if (lua_rawget(L, 2) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		if (expr_compile(L, job) != LUA_OK)
			return (lua_error(L));
		if (e->ncache >= EXPR_CACHE_MAX ||
		    e->mem_used > e->lim.max_memory / 2) {
			/*
			 * Start both caches again rather than grow, or
			 * leave evaluations no memory to run in.
			 */
			lua_newtable(L);
			lua_rawseti(L, LUA_REGISTRYINDEX, e->ref_cache);
			lua_newtable(L);
			lua_rawseti(L, LUA_REGISTRYINDEX, e->ref_scripts);
			e->ncache = 0;
		}
		lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
		lua_pushvalue(L, 3);
		lua_pushvalue(L, -3);
		/* Stack now: job, cache, source, function, cache, source,
		   function */
		lua_rawset(L, -3);
		lua_pop(L, 1);
		e->ncache++;
	}
	if (job->kind == EXPR_JOB_CHECK)
		return (0);

	/* Stack now: job, cache, source, function */
	if (job->kind == EXPR_JOB_SCRIPT) {
		lua_newtable(L);
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_script_mt);
		lua_setmetatable(L, -2);
	} else
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_env);
	lua_setupvalue(L, 4, 1);
	lua_call(L, 0, 1);
	return (1);
}

/* "32 MiB", "512 KiB" or "1000 bytes". */
static void
expr_memtext(size_t n, char *out, size_t len)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		snprintf(out, len, "%zu MiB", n / (1024 * 1024));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, len, "%zu KiB", n / 1024);
	else
		snprintf(out, len, "%zu bytes", n);
}

/*
 * Build the cause of a failed call: which expression, then msg or else
 * the error on top of the stack (Lua's message without its "expr:1:"
 * prefix), at most EXPR_CAUSE_MAX bytes.  Only reads the stack.
 */
static void
expr_cause(struct expr *e, struct expr_job *job, int rc, const char *why,
    char **cause)
{
	lua_State	*L = e->L;
	struct buf	 b;
	json_t		*v;
	const char	*msg;
	char		*tmp = NULL, mem[32];
	size_t		 n;

	if (why != NULL)
		tmp = xstrdup(why);
	else if (e->hit != EXPR_HIT_NONE)
		tmp = expr_limit_cause(e);
	else if (rc == LUA_ERRMEM || (lua_type(L, -1) == LUA_TSTRING &&
	    strcmp(lua_tostring(L, -1), "not enough memory") == 0)) {
		expr_memtext(e->lim.max_memory, mem, sizeof mem);
		xasprintf(&tmp, "expression exceeded the memory limit (%s)",
		    mem);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		msg = lua_tostring(L, -1);
		if (strncmp(msg, "expr:1: ", 8) == 0)
			msg += 8;
		tmp = xstrdup(msg);
	} else if (lua_type(L, -1) == LUA_TTABLE &&
	    (v = expr_json_from_lua(L, -1, &tmp)) != NULL) {
		/* Long enough for the cut below. */
		buf_init(&b, 2 * EXPR_CAUSE_MAX);
		expr_json_dump(v, &b, 0, 0);
		json_decref(v);
		tmp = buf_take(&b);
		buf_free(&b);
	} else {
		free(tmp);
		xasprintf(&tmp, "(error object is a %s value)",
		    luaL_typename(L, -1));
	}

	buf_init(&b, 0);
	switch (job->kind) {
	case EXPR_JOB_SCRIPT:
		buf_puts(&b, "Lua script: ");
		break;
	case EXPR_JOB_LIBRARY:
		break;
	default:
		n = job->len > EXPR_SRC_SHOWN ? EXPR_SRC_SHOWN : job->len;
		while (n > 0 && n < job->len &&
		    (job->src[n] & 0xc0) == 0x80)
			n--;
		buf_puts(&b, "expression \"<% ");
		buf_add(&b, job->src, n);
		buf_puts(&b, n < job->len ? "... %>\": " : " %>\": ");
		break;
	}
	buf_puts(&b, tmp);
	free(tmp);
	if (b.len > EXPR_CAUSE_MAX) {
		n = EXPR_CAUSE_MAX - 3;
		while (n > 0 && (b.data[n] & 0xc0) == 0x80)
			n--;
		b.len = n;
		buf_puts(&b, "...");
	}
	*cause = buf_take(&b);
	buf_free(&b);
}

/*
 * Run a job under the budget.  On success the result is on top of the
 * stack (the caller pops it); on failure the stack is restored, the
 * state collected if memory ran out, and *cause set.
 */
static int
expr_docall(struct expr *e, struct expr_job *job, char **cause)
{
	lua_State	*L = e->L;
	int		 base, rc;

	base = lua_gettop(L);
	expr_limit_arm(e);
	lua_pushcfunction(L, expr_protected);
	lua_pushlightuserdata(L, job);
	e->running = 1;
	rc = lua_pcall(L, 1, 1, 0);
	e->running = 0;

	/* Values library functions were handing over when an error hit. */
	free(e->held_str);
	e->held_str = NULL;
	json_decref(e->held_json);
	e->held_json = NULL;

	if (rc == LUA_OK && e->hit == EXPR_HIT_NONE)
		return (0);
	expr_cause(e, job, rc, NULL, cause);
	lua_settop(L, base);
	if (rc == LUA_ERRMEM || e->hit != EXPR_HIT_NONE)
		lua_gc(L, LUA_GCCOLLECT, 0);
	return (-1);
}

/*
 * Run one library file with writes going to G (protected mode); 0, or
 * -1 with "PATH: message" pushed.
 */
static int
expr_lib_file(lua_State *L, const char *path, const char *name)
{
	struct expr	*e = expr_get(L);
	char		*text, *why = NULL, *chunk;
	size_t		 len;
	int		 rc;

	if ((text = file_read(path, EXPR_LIBFILE_MAX, &len, &why)) == NULL) {
		lua_pushfstring(L, "%s: %s", path, why);
		free(why);
		return (-1);
	}
	xasprintf(&chunk, "@%s", name);
	rc = luaL_loadbufferx(L, text, len, chunk, "t");
	free(chunk);
	free(text);
	if (rc == LUA_OK) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_libenv);
		lua_setupvalue(L, -2, 1);
		e->loading = 1;
		rc = lua_pcall(L, 0, 0, 0);
		e->loading = 0;
	}
	if (rc == LUA_OK)
		return (0);
	lua_pushfstring(L, "%s: %s", path, lua_type(L, -1) == LUA_TSTRING ?
	    lua_tostring(L, -1) : "(error object is not a string)");
	return (-1);
}

/*
 * Run every *.lua file of e->libdir, in name order (protected mode, as
 * the body of a call or from G's __index).  Raises "PATH: message" on
 * the first that fails.
 */
static int
expr_lib_run(lua_State *L)
{
	struct expr	 *e = expr_get(L);
	struct dirent	**names = NULL;
	char		 *path;
	size_t		  nlen;
	int		  n, i, rc = 0;

	if ((n = scandir(e->libdir, &names, NULL, alphasort)) < 0)
		return (luaL_error(L, "%s: %s", e->libdir, strerror(errno)));
	for (i = 0; i < n && rc == 0; i++) {
		nlen = strlen(names[i]->d_name);
		if (nlen < 5 || names[i]->d_name[0] == '.' ||
		    strcmp(names[i]->d_name + nlen - 4, ".lua") != 0)
			continue;
		xasprintf(&path, "%s/%s", e->libdir, names[i]->d_name);
		rc = expr_lib_file(L, path, names[i]->d_name);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return (rc == 0 ? 0 : lua_error(L));
}

/*
 * A name G lacks, in a sandbox whose library is not loaded: load it now,
 * within the running call's limits (its files only define functions).
 * A file that does not load fails this call and every later one that
 * needs the library, with the same message; running out of budget,
 * time or memory meanwhile does not, and the next call tries again.
 */
static void
expr_lib_use(lua_State *L)
{
	struct expr	*e = expr_get(L);
	int		 rc;

	if (e->lib_cause != NULL)
		luaL_error(L, "%s", e->lib_cause);
	e->lib_pending = 0;
	lua_pushcfunction(L, expr_lib_run);
	if ((rc = lua_pcall(L, 0, 0, 0)) == LUA_OK)
		return;
	if (rc != LUA_ERRMEM && e->hit == EXPR_HIT_NONE &&
	    lua_type(L, -1) == LUA_TSTRING)
		e->lib_cause = xstrdup(lua_tostring(L, -1));
	else
		e->lib_pending = 1;
	lua_error(L);
}

/* The sandbox; its library is run now unless lazy. */
static struct expr *
expr_open(const struct expr_limits *lim, const char *libdir, int lazy,
    char **cause)
{
	struct expr	*e;
	struct expr_job	 job;
	char		*why;
	int		 rc;

	e = xcalloc(1, sizeof *e);
	if (lim != NULL)
		e->lim = *lim;
	if (e->lim.max_instructions == 0)
		e->lim.max_instructions = EXPR_DEF_INSTRUCTIONS;
	if (e->lim.max_memory == 0)
		e->lim.max_memory = EXPR_DEF_MEMORY;
	if (e->lim.max_string == 0)
		e->lim.max_string = EXPR_DEF_STRING;
	if (e->lim.max_time_ms <= 0)
		e->lim.max_time_ms = EXPR_DEF_TIME_MS;
	if (libdir != NULL)
		e->libdir = xstrdup(libdir);

	if ((e->L = lua_newstate(expr_alloc, e)) == NULL) {
		xasprintf(cause, "cannot create a Lua state within the memory "
		    "limit");
		free(e->libdir);
		free(e);
		return (NULL);
	}
	*(struct expr **)lua_getextraspace(e->L) = e;
	lua_atpanic(e->L, expr_panic);

	expr_limit_arm(e);
	lua_pushcfunction(e->L, expr_setup);
	memset(&job, 0, sizeof job);
	job.kind = EXPR_JOB_LIBRARY;
	if ((rc = lua_pcall(e->L, 0, 0, 0)) != LUA_OK) {
		expr_cause(e, &job, rc, NULL, &why);
		xasprintf(cause, "cannot set up the Lua sandbox: %s", why);
		free(why);
		expr_free(e);
		return (NULL);
	}
	if (libdir != NULL && lazy)
		e->lib_pending = 1;
	else if (libdir != NULL) {
		if (expr_docall(e, &job, cause) != 0) {
			expr_free(e);
			return (NULL);
		}
		lua_pop(e->L, 1);
	}
	lua_settop(e->L, 0);
	lua_gc(e->L, LUA_GCCOLLECT, 0);
	*cause = NULL;
	return (e);
}

/* See expr.h. */
struct expr *
expr_create(const struct expr_limits *lim, const char *libdir, char **cause)
{
	return (expr_open(lim, libdir, 0, cause));
}

/* See expr.h. */
struct expr *
expr_create_lazy(const struct expr_limits *lim, const char *libdir,
    char **cause)
{
	return (expr_open(lim, libdir, 1, cause));
}

/* Close the Lua state. */
void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	if (e->L != NULL)
		lua_close(e->L);
	free(e->libdir);
	free(e->lib_cause);
	free(e);
}

/* 1 if s contains an expression opener. */
int
expr_has(const char *s)
{
	return (s != NULL && strstr(s, "<%") != NULL);
}

/* Lua truthiness of a JSON value. */
int
expr_truthy(json_t *v)
{
	return (v != NULL && !json_is_null(v) && !json_is_false(v));
}

/* Start a public call: what _ and the library functions see. */
static void
expr_begin(struct expr *e, const struct expr_ctx *ctx, json_t *data)
{
	e->ctx = ctx;
	e->data = data;
	e->data_pending = 1;
	e->clear_data = 1;
	e->gen++;
	expr_limit_start(e);
}

/* End a public call: nothing borrowed stays reachable. */
static void
expr_end(struct expr *e)
{
	e->ctx = NULL;
	e->data = NULL;
	e->data_pending = 0;
	json_decref(e->keep);
	e->keep = NULL;
	expr_limit_stop(e);
}

/* Strip surrounding whitespace from (*s, *len). */
static void
expr_trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Evaluate one expression and convert its value to JSON. */
static json_t *
expr_eval_one(struct expr *e, const char *src, size_t len, char **cause)
{
	struct expr_job	 job;
	json_t		*v;
	char		*why;

	memset(&job, 0, sizeof job);
	job.kind = EXPR_JOB_EVAL;
	job.src = src;
	job.len = len;
	if (len == 0) {
		xasprintf(cause, "expression \"<%% %%>\": empty expression");
		return (NULL);
	}
	if (expr_docall(e, &job, cause) != 0)
		return (NULL);
	v = expr_json_from_lua(e->L, -1, &why);
	if (v == NULL)
		goto fail;
	if (json_is_string(v) && json_string_length(v) > e->lim.max_string) {
		json_decref(v);
		v = NULL;
		xasprintf(&why, "result is longer than the string limit (%zu "
		    "bytes)", e->lim.max_string);
		goto fail;
	}
	lua_pop(e->L, 1);
	return (v);

fail:
	lua_pop(e->L, 1);
	expr_cause(e, &job, LUA_ERRRUN, why, cause);
	free(why);
	return (NULL);
}

/* Evaluate one expression and append its text form to b. */
static int
expr_interp_one(struct expr *e, const char *src, size_t len, struct buf *b,
    char **cause)
{
	struct expr_job	 job;
	char		*why;

	memset(&job, 0, sizeof job);
	job.kind = EXPR_JOB_EVAL;
	job.src = src;
	job.len = len;
	if (len == 0) {
		xasprintf(cause, "expression \"<%% %%>\": empty expression");
		return (-1);
	}
	if (expr_docall(e, &job, cause) != 0)
		return (-1);
	if (expr_json_text(e->L, -1, b, &why) != 0) {
		lua_pop(e->L, 1);
		expr_cause(e, &job, LUA_ERRRUN, why, cause);
		free(why);
		return (-1);
	}
	lua_pop(e->L, 1);
	return (0);
}

/*
 * Evaluate a string holding expressions.  Exactly one "<% e %>" (with
 * whitespace around) keeps e's type unless force_text is set; anything
 * else is interpolated.
 */
static json_t *
expr_eval_string(struct expr *e, const char *s, int force_text, char **cause)
{
	struct buf	 b;
	const char	*t, *p, *q, *in;
	size_t		 tlen, inlen;
	json_t		*v;

	t = s;
	tlen = strlen(s);
	expr_trim(&t, &tlen);
	if (!force_text && tlen >= 4 && strncmp(t, "<%", 2) == 0 &&
	    (q = strstr(t + 2, "%>")) != NULL && q == t + tlen - 2) {
		in = t + 2;
		inlen = (size_t)(q - in);
		expr_trim(&in, &inlen);
		return (expr_eval_one(e, in, inlen, cause));
	}

	buf_init(&b, e->lim.max_string);
	p = s;
	while ((t = strstr(p, "<%")) != NULL) {
		if (buf_add(&b, p, (size_t)(t - p)) != 0)
			goto toolong;
		if ((q = strstr(t + 2, "%>")) == NULL) {
			xasprintf(cause, "unterminated \"<%%\" in \"%.60s%s\"",
			    t, strlen(t) > 60 ? "..." : "");
			goto fail;
		}
		in = t + 2;
		inlen = (size_t)(q - in);
		expr_trim(&in, &inlen);
		if (expr_interp_one(e, in, inlen, &b, cause) != 0)
			goto fail;
		p = q + 2;
	}
	if (buf_puts(&b, p) != 0)
		goto toolong;
	v = json_stringn(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	if (v == NULL)
		xasprintf(cause, "interpolated text is not valid UTF-8");
	return (v);

toolong:
	xasprintf(cause, "interpolated text is longer than the string limit "
	    "(%zu bytes)", e->lim.max_string);
fail:
	buf_free(&b);
	return (NULL);
}

/*
 * Walk a template.  *out is a new reference; subtrees without
 * expressions are shared with the template rather than copied.
 */
static int
expr_walk(struct expr *e, json_t *t, json_t **out, char **cause)
{
	json_t		*res = NULL, *c, *v, *k;
	const char	*key;
	void		*it;
	size_t		 i, j, n;

	switch (json_typeof(t)) {
	case JSON_STRING:
		if (strstr(json_string_value(t), "<%") == NULL)
			break;
		if ((*out = expr_eval_string(e, json_string_value(t), 0,
		    cause)) == NULL)
			return (-1);
		return (0);
	case JSON_ARRAY:
		n = json_array_size(t);
		for (i = 0; i < n; i++) {
			c = json_array_get(t, i);
			if (expr_walk(e, c, &v, cause) != 0)
				goto fail;
			if (res == NULL && v != c) {
				res = json_array();
				for (j = 0; j < i; j++)
					json_array_append(res,
					    json_array_get(t, j));
			}
			if (res != NULL)
				json_array_append_new(res, v);
			else
				json_decref(v);
		}
		*out = res != NULL ? res : json_incref(t);
		return (0);
	case JSON_OBJECT:
		i = 0;
		for (it = json_object_iter(t); it != NULL;
		    it = json_object_iter_next(t, it), i++) {
			key = json_object_iter_key(it);
			c = json_object_iter_value(it);
			k = NULL;
			if (strstr(key, "<%") != NULL &&
			    (k = expr_eval_string(e, key, 1, cause)) == NULL)
				goto fail;
			if (expr_walk(e, c, &v, cause) != 0) {
				json_decref(k);
				goto fail;
			}
			if (res == NULL && (v != c || k != NULL)) {
				void	*it2;

				res = json_object();
				for (it2 = json_object_iter(t), j = 0; j < i;
				    it2 = json_object_iter_next(t, it2), j++)
					json_object_set(res,
					    json_object_iter_key(it2),
					    json_object_iter_value(it2));
			}
			if (res != NULL)
				json_object_set_new(res, k != NULL ?
				    json_string_value(k) : key, v);
			else
				json_decref(v);
			json_decref(k);
		}
		*out = res != NULL ? res : json_incref(t);
		return (0);
	default:
		break;
	}
	*out = json_incref(t);
	return (0);

fail:
	json_decref(res);
	return (-1);
}

/* Evaluate a template (see expr.h). */
json_t *
expr_eval(struct expr *e, json_t *tmpl, const struct expr_ctx *ctx,
    char **cause)
{
	json_t	*out;

	*cause = NULL;
	if (tmpl == NULL)
		return (json_null());
	expr_begin(e, ctx, ctx != NULL ? ctx->data : NULL);
	if (expr_walk(e, tmpl, &out, cause) != 0)
		out = NULL;
	expr_end(e);
	return (out);
}

/* Evaluate one Lua expression without <% %>. */
json_t *
expr_eval_lua(struct expr *e, const char *lua, const struct expr_ctx *ctx,
    char **cause)
{
	json_t		*out;
	const char	*s = lua;
	size_t		 len = strlen(lua);

	*cause = NULL;
	expr_trim(&s, &len);
	expr_begin(e, ctx, ctx != NULL ? ctx->data : NULL);
	out = expr_eval_one(e, s, len, cause);
	expr_end(e);
	return (out);
}

/* Check that one Lua expression compiles (and cache it). */
int
expr_check(struct expr *e, const char *lua, char **cause)
{
	struct expr_job	 job;
	const char	*s = lua;
	size_t		 len = strlen(lua);

	*cause = NULL;
	expr_trim(&s, &len);
	if (len == 0) {
		xasprintf(cause, "expression \"<%% %%>\": empty expression");
		return (-1);
	}
	memset(&job, 0, sizeof job);
	job.kind = EXPR_JOB_CHECK;
	job.src = s;
	job.len = len;
	expr_begin(e, NULL, NULL);
	if (expr_docall(e, &job, cause) != 0) {
		expr_end(e);
		return (-1);
	}
	lua_pop(e->L, 1);
	expr_end(e);
	return (0);
}

/* Check every <% %> of a string. */
int
expr_check_string(struct expr *e, const char *s, char **cause)
{
	const char	*t, *q;
	char		*in;
	int		 rc;

	*cause = NULL;
	while ((t = strstr(s, "<%")) != NULL) {
		if ((q = strstr(t + 2, "%>")) == NULL) {
			xasprintf(cause, "unterminated \"<%%\" in \"%.60s%s\"",
			    t, strlen(t) > 60 ? "..." : "");
			return (-1);
		}
		in = xstrndup(t + 2, (size_t)(q - t - 2));
		rc = expr_check(e, in, cause);
		free(in);
		if (rc != 0)
			return (-1);
		s = q + 2;
	}
	return (0);
}

/* Run a Lua chunk with input as _; its first return value is the result. */
json_t *
expr_run_script(struct expr *e, const char *script, json_t *input,
    const struct expr_ctx *ctx, char **cause)
{
	struct expr_job	 job;
	json_t		*v;
	char		*why;

	*cause = NULL;
	memset(&job, 0, sizeof job);
	job.kind = EXPR_JOB_SCRIPT;
	job.src = script;
	job.len = strlen(script);
	expr_begin(e, ctx, input);
	if (expr_docall(e, &job, cause) != 0) {
		expr_end(e);
		return (NULL);
	}
	if ((v = expr_json_from_lua(e->L, -1, &why)) == NULL) {
		expr_cause(e, &job, LUA_ERRRUN, why, cause);
		free(why);
	}
	lua_pop(e->L, 1);
	expr_end(e);
	return (v);
}

/* Number of compiled expressions and scripts kept. */
size_t
expr_cache_count(struct expr *e)
{
	return (e->ncache);
}
