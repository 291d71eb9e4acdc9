/*
 * expr-lib.c -- the functions expressions call: the workflow context
 * (task, execution, env, progress), JSON, and small helpers over strings
 * and tables.  the files of lua/ add more, written in Lua.
 *
 * Every function here runs in protected mode.  Owned C memory that is
 * being pushed goes through e->held_str / e->held_json so that a memory
 * error raised in the middle does not leak it.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "expr/expr-int.h"

static void	 lib_push_json(lua_State *, json_t *);
static void	 lib_push_str(lua_State *, char *, size_t);
static int	 lib_raise(lua_State *, char *, struct buf *);
static int	 lib_is_seq(lua_State *, int);
static int	 lib_truthy(lua_State *, int);
static void	 lib_sort(lua_State *, int);
static int	 lib_keycmp(lua_State *);
static int	 lib_task(lua_State *);
static int	 lib_execution(lua_State *);
static int	 lib_env(lua_State *);
static int	 lib_json_encode(lua_State *);
static int	 lib_json_decode(lua_State *);
static int	 lib_uuid(lua_State *);
static int	 lib_is_null(lua_State *);
static int	 lib_truthy_fn(lua_State *);
static int	 lib_progress(lua_State *);
static int	 lib_len(lua_State *);
static int	 lib_keys(lua_State *);
static int	 lib_values(lua_State *);
static int	 lib_map(lua_State *);
static int	 lib_filter(lua_State *);
static int	 lib_contains(lua_State *);
static int	 lib_join(lua_State *);
static int	 lib_split(lua_State *);
static int	 lib_starts_with(lua_State *);
static int	 lib_ends_with(lua_State *);
static int	 lib_trim(lua_State *);
static int	 lib_to_number(lua_State *);
static int	 lib_to_string(lua_State *);
static int	 lib_merge(lua_State *);
static int	 lib_now(lua_State *);
static int	 lib_array(lua_State *);
static int	 lib_is_array(lua_State *);

static const luaL_Reg expr_lib_funcs[] = {
	{ "task", lib_task },
	{ "execution", lib_execution },
	{ "env", lib_env },
	{ "json_encode", lib_json_encode },
	{ "json_decode", lib_json_decode },
	{ "uuid", lib_uuid },
	{ "is_null", lib_is_null },
	{ "truthy", lib_truthy_fn },
	{ "progress", lib_progress },
	{ "len", lib_len },
	{ "keys", lib_keys },
	{ "values", lib_values },
	{ "map", lib_map },
	{ "filter", lib_filter },
	{ "contains", lib_contains },
	{ "join", lib_join },
	{ "split", lib_split },
	{ "starts_with", lib_starts_with },
	{ "ends_with", lib_ends_with },
	{ "trim", lib_trim },
	{ "to_number", lib_to_number },
	{ "to_string", lib_to_string },
	{ "merge", lib_merge },
	{ "now", lib_now },
	{ "array", lib_array },
	{ "is_array", lib_is_array },
	{ NULL, NULL }
};

/* Push an owned JSON value as Lua and release it. */
static void
lib_push_json(lua_State *L, json_t *v)
{
	struct expr	*e = expr_get(L);

	e->held_json = v;
	expr_json_push(L, v);
	e->held_json = NULL;
	json_decref(v);
}

/* Push an owned C string and free it. */
static void
lib_push_str(lua_State *L, char *s, size_t len)
{
	struct expr	*e = expr_get(L);

	e->held_str = s;
	lua_pushlstring(L, s, len);
	e->held_str = NULL;
	free(s);
}

/* Raise an owned message, freeing it and b (may be NULL) first. */
static int
lib_raise(lua_State *L, char *why, struct buf *b)
{
	char	 msg[256];

	snprintf(msg, sizeof msg, "%s", why);
	free(why);
	if (b != NULL)
		buf_free(b);
	return (luaL_error(L, "%s", msg));
}

/* 1 if the table at idx is a JSON array: marked, or keys 1..n, n > 0. */
static int
lib_is_seq(lua_State *L, int idx)
{
	lua_Integer	 n, count = 0;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE)
		return (0);
	expr_json_materialize(L, idx);
	if (expr_json_is_array(L, idx))
		return (1);
	if ((n = (lua_Integer)lua_rawlen(L, idx)) == 0)
		return (0);
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		if (++count > n) {
			lua_pop(L, 1);
			return (0);
		}
	}
	return (count == n);
}

/* Truth as workflows see it: nil, false and null are false. */
static int
lib_truthy(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA &&
	    lua_touserdata(L, idx) == EXPR_NULL)
		return (0);
	return (lua_toboolean(L, idx));
}

/* Order for keys: numbers, then strings, then the rest by type name. */
static int
lib_keycmp(lua_State *L)
{
	int	 ta = lua_type(L, 1), tb = lua_type(L, 2);

	if (ta == tb && (ta == LUA_TNUMBER || ta == LUA_TSTRING))
		lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
	else if (ta == LUA_TNUMBER || tb == LUA_TNUMBER)
		lua_pushboolean(L, ta == LUA_TNUMBER);
	else if (ta == LUA_TSTRING || tb == LUA_TSTRING)
		lua_pushboolean(L, ta == LUA_TSTRING);
	else
		lua_pushboolean(L, strcmp(lua_typename(L, ta),
		    lua_typename(L, tb)) < 0);
	return (1);
}

/* Sort the sequence at idx with lib_keycmp. */
static void
lib_sort(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_getglobal(L, LUA_TABLIBNAME);	/* the state's own globals */
	lua_getfield(L, -1, "sort");
	lua_remove(L, -2);
	lua_pushvalue(L, idx);
	lua_pushcfunction(L, lib_keycmp);
	lua_call(L, 2, 0);
}

/* task() is the current task; task(name) another one, or nil. */
static int
lib_task(lua_State *L)
{
	struct expr		*e = expr_get(L);
	const struct expr_ctx	*ctx = e->ctx;
	const char		*name;
	json_t			*v;

	if (lua_isnoneornil(L, 1)) {
		if (ctx == NULL || ctx->cur_task == NULL)
			return (luaL_error(L, "task() is not available here"));
		expr_json_push_lazy(L, ctx->cur_task);
		return (1);
	}
	name = luaL_checkstring(L, 1);
	if (ctx == NULL || ctx->task_lookup == NULL ||
	    (v = ctx->task_lookup(ctx->arg, name)) == NULL) {
		lua_pushnil(L);
		return (1);
	}
	/* Kept until the call ends: lazy tables point into it. */
	if (e->keep == NULL)
		e->keep = json_array();
	json_array_append_new(e->keep, v);
	expr_json_push_lazy(L, v);
	return (1);
}

/* execution(): the running workflow execution. */
static int
lib_execution(lua_State *L)
{
	struct expr	*e = expr_get(L);

	if (e->ctx == NULL || e->ctx->execution == NULL)
		return (luaL_error(L, "execution() is not available here"));
	expr_json_push_lazy(L, e->ctx->execution);
	return (1);
}

/* env(): the execution's environment, {} when there is none. */
static int
lib_env(lua_State *L)
{
	struct expr	*e = expr_get(L);

	if (e->ctx == NULL || e->ctx->env == NULL)
		lua_newtable(L);
	else
		expr_json_push_lazy(L, e->ctx->env);
	return (1);
}

/* json_encode(v[, indent]): JSON text, keys sorted. */
static int
lib_json_encode(lua_State *L)
{
	struct expr	*e = expr_get(L);
	struct buf	 b;
	json_t		*v;
	char		*why;
	lua_Integer	 indent;
	size_t		 len;

	luaL_checkany(L, 1);
	indent = luaL_optinteger(L, 2, 0);
	if (indent < 0 || indent > 16)
		return (luaL_argerror(L, 2, "indent must be 0 to 16"));
	if ((v = expr_json_from_lua(L, 1, &why)) == NULL)
		return (lib_raise(L, why, NULL));
	buf_init(&b, 0);
	expr_json_dump(v, &b, (int)indent, 0);
	json_decref(v);
	if (b.len > e->lim.max_string) {
		buf_free(&b);
		return (luaL_error(L, "json_encode: result is longer than the "
		    "string limit (%zu bytes)", e->lim.max_string));
	}
	len = b.len;
	lib_push_str(L, buf_take(&b), len);
	buf_free(&b);
	return (1);
}

/* json_decode(s): the value of JSON text. */
static int
lib_json_decode(lua_State *L)
{
	json_error_t	 err;
	const char	*s;
	json_t		*v;
	size_t		 len;

	s = luaL_checklstring(L, 1, &len);
	v = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (v == NULL)
		return (luaL_error(L, "json_decode: %s (line %d, column %d)",
		    err.text, err.line, err.column));
	lib_push_json(L, v);
	return (1);
}

/* uuid(): a new random identifier. */
static int
lib_uuid(lua_State *L)
{
	char	 id[UUID_STRLEN];

	uuid_make(id);
	lua_pushstring(L, id);
	return (1);
}

/* is_null(v): true for null and nil. */
static int
lib_is_null(lua_State *L)
{
	lua_pushboolean(L, lua_isnoneornil(L, 1) ||
	    (lua_type(L, 1) == LUA_TLIGHTUSERDATA &&
	    lua_touserdata(L, 1) == EXPR_NULL));
	return (1);
}

/* truthy(v): false for nil, false and null. */
static int
lib_truthy_fn(lua_State *L)
{
	lua_pushboolean(L, lib_truthy(L, 1));
	return (1);
}

/* progress(msg[, fraction]): report progress of a Lua action. */
static int
lib_progress(lua_State *L)
{
	struct expr	*e = expr_get(L);
	const char	*msg;
	double		 f;

	msg = luaL_checkstring(L, 1);
	f = luaL_optnumber(L, 2, -1.0);
	if (f != -1.0 && (f < 0.0 || f > 1.0))
		return (luaL_argerror(L, 2, "fraction must be 0 to 1"));
	if (e->ctx != NULL && e->ctx->progress != NULL)
		e->ctx->progress(e->ctx->arg, msg, f);
	return (0);
}

/* len(x): characters of a string, elements of an array, keys of an object. */
static int
lib_len(lua_State *L)
{
	const char	*s;
	size_t		 len, i;
	lua_Integer	 n = 0;

	switch (lua_type(L, 1)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, 1, &len);
		for (i = 0; i < len; i++) {
			if (((unsigned char)s[i] & 0xc0) != 0x80)
				n++;
		}
		break;
	case LUA_TTABLE:
		if (lib_is_seq(L, 1))
			n = (lua_Integer)lua_rawlen(L, 1);
		else {
			lua_pushnil(L);
			while (lua_next(L, 1) != 0) {
				lua_pop(L, 1);
				n++;
			}
		}
		break;
	case LUA_TNIL:
	case LUA_TNONE:
		break;
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, 1) == EXPR_NULL)
			break;
		/* FALLTHROUGH */
	default:
		return (luaL_error(L, "len: expected a string or a table, got "
		    "%s", luaL_typename(L, 1)));
	}
	lua_pushinteger(L, n);
	return (1);
}

/* keys(t): the keys of t, sorted, as an array. */
static int
lib_keys(lua_State *L)
{
	lua_Integer	 n = 0;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	expr_json_materialize(L, 1);
	lua_newtable(L);
	expr_json_mark_array(L, 2);
	lua_pushnil(L);
	while (lua_next(L, 1) != 0) {
		/* Stack now: t, res, key, value */
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_rawseti(L, 2, ++n);
	}
	lib_sort(L, 2);
	return (1);
}

/* values(t): the values of t in the order of keys(t). */
static int
lib_values(lua_State *L)
{
	lua_Integer	 i, n;

	lib_keys(L);
	/* Stack now: t, keys */
	n = (lua_Integer)lua_rawlen(L, 2);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 2, i);
		lua_rawget(L, 1);
		lua_rawseti(L, 2, i);
	}
	return (1);
}

/* map(t, f): f(v, k) over an array (an array) or an object (an object). */
static int
lib_map(lua_State *L)
{
	lua_Integer	 i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	lua_newtable(L);
	if (lib_is_seq(L, 1)) {
		expr_json_mark_array(L, 3);
		n = (lua_Integer)lua_rawlen(L, 1);
		for (i = 1; i <= n; i++) {
			lua_pushvalue(L, 2);
			lua_rawgeti(L, 1, i);
			lua_pushinteger(L, i);
			lua_call(L, 2, 1);
			if (lua_isnil(L, -1)) {
				lua_pop(L, 1);
				lua_pushlightuserdata(L, EXPR_NULL);
			}
			lua_rawseti(L, 3, i);
		}
		return (1);
	}
	lua_pushnil(L);
	while (lua_next(L, 1) != 0) {
		/* Stack now: t, f, res, key, value */
		lua_pushvalue(L, 2);
		lua_insert(L, -2);
		lua_pushvalue(L, -3);
		lua_call(L, 2, 1);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			lua_pushlightuserdata(L, EXPR_NULL);
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, 3);
	}
	return (1);
}

/* filter(t, f): the elements (or entries) for which f(v, k) is true. */
static int
lib_filter(lua_State *L)
{
	lua_Integer	 i, n, j = 0;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	lua_newtable(L);
	if (lib_is_seq(L, 1)) {
		expr_json_mark_array(L, 3);
		n = (lua_Integer)lua_rawlen(L, 1);
		for (i = 1; i <= n; i++) {
			lua_pushvalue(L, 2);
			lua_rawgeti(L, 1, i);
			lua_pushinteger(L, i);
			lua_call(L, 2, 1);
			if (lib_truthy(L, -1)) {
				lua_rawgeti(L, 1, i);
				lua_rawseti(L, 3, ++j);
			}
			lua_pop(L, 1);
		}
		return (1);
	}
	lua_pushnil(L);
	while (lua_next(L, 1) != 0) {
		/* Stack now: t, f, res, key, value */
		lua_pushvalue(L, 2);
		lua_pushvalue(L, -2);
		lua_pushvalue(L, -4);
		lua_call(L, 2, 1);
		if (lib_truthy(L, -1)) {
			lua_pushvalue(L, -3);
			lua_pushvalue(L, -3);
			lua_rawset(L, 3);
		}
		lua_pop(L, 2);
	}
	return (1);
}

/*
 * contains(x, v): substring of a string, element of an array, key of an
 * object; false for nil and null.
 */
static int
lib_contains(lua_State *L)
{
	const char	*s, *sub;
	size_t		 len, sublen;
	lua_Integer	 i, n;
	int		 found = 0;

	luaL_checkany(L, 2);
	switch (lua_type(L, 1)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, 1, &len);
		sub = luaL_checklstring(L, 2, &sublen);
		found = memmem(s, len, sub, sublen) != NULL;
		break;
	case LUA_TTABLE:
		if (lib_is_seq(L, 1)) {
			n = (lua_Integer)lua_rawlen(L, 1);
			for (i = 1; i <= n && !found; i++) {
				lua_rawgeti(L, 1, i);
				found = lua_compare(L, -1, 2, LUA_OPEQ);
				lua_pop(L, 1);
			}
		} else if (!lua_isnil(L, 2)) {
			lua_pushvalue(L, 2);
			found = lua_rawget(L, 1) != LUA_TNIL;
		}
		break;
	case LUA_TNIL:
	case LUA_TLIGHTUSERDATA:
		if (lua_isnil(L, 1) || lua_touserdata(L, 1) == EXPR_NULL)
			break;
		/* FALLTHROUGH */
	default:
		return (luaL_error(L, "contains: expected a string or a table, "
		    "got %s", luaL_typename(L, 1)));
	}
	lua_pushboolean(L, found);
	return (1);
}

/* join(list, sep): the elements' text joined by sep. */
static int
lib_join(lua_State *L)
{
	struct expr	*e = expr_get(L);
	struct buf	 b;
	const char	*sep;
	char		*why;
	size_t		 seplen, len;
	lua_Integer	 i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	sep = luaL_optlstring(L, 2, "", &seplen);
	expr_json_materialize(L, 1);
	n = (lua_Integer)lua_rawlen(L, 1);
	buf_init(&b, e->lim.max_string);
	buf_add(&b, "", 0);
	for (i = 1; i <= n; i++) {
		if (i > 1 && buf_add(&b, sep, seplen) != 0) {
			buf_free(&b);
			return (luaL_error(L, "join: result is longer than "
			    "the string limit"));
		}
		lua_rawgeti(L, 1, i);
		if (expr_json_text(L, -1, &b, &why) != 0)
			return (lib_raise(L, why, &b));
		lua_pop(L, 1);
	}
	len = b.len;
	lib_push_str(L, buf_take(&b), len);
	buf_free(&b);
	return (1);
}

/* split(s[, sep]): pieces between sep, or words when sep is not given. */
static int
lib_split(lua_State *L)
{
	const char	*s, *sep, *end, *p, *q;
	size_t		 len, seplen;
	lua_Integer	 n = 0;

	s = luaL_checklstring(L, 1, &len);
	sep = luaL_optlstring(L, 2, NULL, &seplen);
	if (sep != NULL && seplen == 0)
		return (luaL_argerror(L, 2, "empty separator"));
	lua_newtable(L);
	expr_json_mark_array(L, -1);
	end = s + len;
	if (sep == NULL) {
		for (p = s; p < end; p = q) {
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p == end)
				break;
			for (q = p; q < end && !isspace((unsigned char)*q); q++)
				;
			lua_pushlstring(L, p, (size_t)(q - p));
			lua_rawseti(L, -2, ++n);
		}
		return (1);
	}
	for (p = s;; p = q + seplen) {
		q = memmem(p, (size_t)(end - p), sep, seplen);
		if (q == NULL)
			q = end;
		lua_pushlstring(L, p, (size_t)(q - p));
		lua_rawseti(L, -2, ++n);
		if (q == end)
			break;
	}
	return (1);
}

/* starts_with(s, prefix). */
static int
lib_starts_with(lua_State *L)
{
	const char	*s, *p;
	size_t		 len, plen;

	s = luaL_checklstring(L, 1, &len);
	p = luaL_checklstring(L, 2, &plen);
	lua_pushboolean(L, plen <= len && memcmp(s, p, plen) == 0);
	return (1);
}

/* ends_with(s, suffix). */
static int
lib_ends_with(lua_State *L)
{
	const char	*s, *p;
	size_t		 len, plen;

	s = luaL_checklstring(L, 1, &len);
	p = luaL_checklstring(L, 2, &plen);
	lua_pushboolean(L, plen <= len &&
	    memcmp(s + len - plen, p, plen) == 0);
	return (1);
}

/* trim(s): s without surrounding whitespace. */
static int
lib_trim(lua_State *L)
{
	const char	*s;
	size_t		 len;

	s = luaL_checklstring(L, 1, &len);
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	lua_pushlstring(L, s, len);
	return (1);
}

/* to_number(x): a number, or nil when x does not read as one. */
static int
lib_to_number(lua_State *L)
{
	const char	*s;
	size_t		 len;

	switch (lua_type(L, 1)) {
	case LUA_TNUMBER:
		lua_settop(L, 1);
		return (1);
	case LUA_TSTRING:
		lua_settop(L, 1);
		lib_trim(L);
		s = lua_tolstring(L, -1, &len);
		if (len > 0 && strlen(s) == len &&
		    lua_stringtonumber(L, s) != 0)
			return (1);
		break;
	}
	lua_pushnil(L);
	return (1);
}

/* to_string(x): the text an interpolation would show. */
static int
lib_to_string(lua_State *L)
{
	struct expr	*e = expr_get(L);
	struct buf	 b;
	char		*why;
	size_t		 len;

	luaL_checkany(L, 1);
	buf_init(&b, e->lim.max_string);
	buf_add(&b, "", 0);
	if (expr_json_text(L, 1, &b, &why) != 0)
		return (lib_raise(L, why, &b));
	len = b.len;
	lib_push_str(L, buf_take(&b), len);
	buf_free(&b);
	return (1);
}

/* merge(t1, t2, ...): a new object with the keys of all, later wins. */
static int
lib_merge(lua_State *L)
{
	int	 i, n = lua_gettop(L);

	lua_newtable(L);
	for (i = 1; i <= n; i++) {
		if (lua_isnil(L, i) || (lua_type(L, i) == LUA_TLIGHTUSERDATA &&
		    lua_touserdata(L, i) == EXPR_NULL))
			continue;
		if (lua_type(L, i) != LUA_TTABLE)
			return (luaL_error(L, "merge: argument %d is a %s, not "
			    "a table", i, luaL_typename(L, i)));
		expr_json_materialize(L, i);
		lua_pushnil(L);
		while (lua_next(L, i) != 0) {
			/* Stack now: ..., res, key, value */
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, n + 1);
		}
	}
	return (1);
}

/* now(): the current UTC time, ISO 8601 with milliseconds. */
static int
lib_now(lua_State *L)
{
	char	 out[32];

	time_format_iso(time_now_ms(), out);
	lua_pushstring(L, out);
	return (1);
}

/* array(...): an array of the arguments (empty ones encode as []). */
static int
lib_array(lua_State *L)
{
	int	 i, n = lua_gettop(L);

	lua_createtable(L, n, 0);
	for (i = 1; i <= n; i++) {
		lua_pushvalue(L, i);
		lua_rawseti(L, -2, i);
	}
	expr_json_mark_array(L, -1);
	return (1);
}

/* is_array(x): whether x converts to a JSON array. */
static int
lib_is_array(lua_State *L)
{
	lua_pushboolean(L, lib_is_seq(L, 1));
	return (1);
}

/*
 * ---------------------------------------------------------------------
 * Pattern matching with a step budget.
 *
 * Lua's own string.find/match/gmatch/gsub backtrack in C, where the
 * instruction hook never fires: "(.-)%s*$" over a long run of spaces
 * would hold a worker for minutes.  These versions implement the same
 * patterns (classes, sets, quantifiers * + - ?, anchors, captures and
 * position captures, %b, %f and back-references) and charge every step
 * to the evaluation: past 4 steps per allowed instruction they raise.
 * ---------------------------------------------------------------------
 */

#define PAT_MAXCAPTURES	32
#define PAT_MAXDEPTH	200
#define PAT_UNFINISHED	(-1)
#define PAT_POSITION	(-2)
#define PAT_SPECIALS	"^$*+?.([%-"

struct pat_state {
	lua_State	*L;
	struct expr	*e;
	const char	*src_init;
	const char	*src_end;
	const char	*p_end;
	int		 level;
	int		 depth;
	struct {
		const char	*init;
		ptrdiff_t	 len;
	}		 capture[PAT_MAXCAPTURES];
};

static const char	*pat_match(struct pat_state *, const char *,
			     const char *);

/* Charge one step; raise when the evaluation has used them all. */
static void
pat_step(struct pat_state *ms)
{
	struct expr	*e = ms->e;

	if (++e->pat_steps > 4 * e->lim.max_instructions)
		expr_budget_exceeded(ms->L);
}

/* The end of the single-character class starting at p. */
static const char *
pat_class_end(struct pat_state *ms, const char *p)
{
	switch (*p++) {
	case '%':
		if (p == ms->p_end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return (p + 1);
	case '[':
		if (p < ms->p_end && *p == '^')
			p++;
		do {
			if (p == ms->p_end)
				luaL_error(ms->L, "malformed pattern (missing "
				    "']')");
			if (*(p++) == '%' && p < ms->p_end)
				p++;
		} while (*p != ']');
		return (p + 1);
	default:
		return (p);
	}
}

/* Whether c is in the class letter cl (%a, %d, ... and complements). */
static int
pat_match_class(int c, int cl)
{
	int	 res;

	switch (tolower(cl)) {
	case 'a':
		res = isalpha(c);
		break;
	case 'c':
		res = iscntrl(c);
		break;
	case 'd':
		res = isdigit(c);
		break;
	case 'g':
		res = isgraph(c);
		break;
	case 'l':
		res = islower(c);
		break;
	case 'p':
		res = ispunct(c);
		break;
	case 's':
		res = isspace(c);
		break;
	case 'u':
		res = isupper(c);
		break;
	case 'w':
		res = isalnum(c);
		break;
	case 'x':
		res = isxdigit(c);
		break;
	case 'z':
		res = (c == 0);		/* deprecated in Lua, still accepted */
		break;
	default:
		return (cl == c);
	}
	if (isupper(cl))
		res = !res;
	return (res != 0);
}

/* Whether c is in the set [..] from p (at '[') to ec (at ']'). */
static int
pat_match_set(int c, const char *p, const char *ec)
{
	int	 sig = 1;

	if (*(p + 1) == '^') {
		sig = 0;
		p++;
	}
	while (++p < ec) {
		if (*p == '%') {
			p++;
			if (pat_match_class(c, (unsigned char)*p))
				return (sig);
		} else if (*(p + 1) == '-' && p + 2 < ec) {
			p += 2;
			if ((unsigned char)*(p - 2) <= c &&
			    c <= (unsigned char)*p)
				return (sig);
		} else if ((unsigned char)*p == c)
			return (sig);
	}
	return (!sig);
}

/* Whether the character at s matches the class from p to ep. */
static int
pat_single(struct pat_state *ms, const char *s, const char *p,
    const char *ep)
{
	int	 c;

	if (s >= ms->src_end)
		return (0);
	c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return (1);
	case '%':
		return (pat_match_class(c, (unsigned char)*(p + 1)));
	case '[':
		return (pat_match_set(c, p, ep - 1));
	default:
		return ((unsigned char)*p == c);
	}
}

/* %bxy: a balanced run from x to y. */
static const char *
pat_balance(struct pat_state *ms, const char *s, const char *p)
{
	int	 cont = 1;

	if (p >= ms->p_end - 1)
		luaL_error(ms->L, "malformed pattern (missing arguments to "
		    "'%%b')");
	if (s >= ms->src_end || *s != *p)
		return (NULL);
	while (++s < ms->src_end) {
		pat_step(ms);
		if (*s == *(p + 1)) {
			if (--cont == 0)
				return (s + 1);
		} else if (*s == *p)
			cont++;
	}
	return (NULL);
}

/* The longest run of the class, then back off until the rest matches. */
static const char *
pat_max_expand(struct pat_state *ms, const char *s, const char *p,
    const char *ep)
{
	const char	*res;
	ptrdiff_t	 i = 0;

	while (pat_single(ms, s + i, p, ep)) {
		pat_step(ms);
		i++;
	}
	while (i >= 0) {
		if ((res = pat_match(ms, s + i, ep + 1)) != NULL)
			return (res);
		i--;
	}
	return (NULL);
}

/* The shortest run of the class after which the rest matches. */
static const char *
pat_min_expand(struct pat_state *ms, const char *s, const char *p,
    const char *ep)
{
	const char	*res;

	for (;;) {
		if ((res = pat_match(ms, s, ep + 1)) != NULL)
			return (res);
		if (!pat_single(ms, s, p, ep))
			return (NULL);
		s++;
	}
}

/* Open capture number level at s and match the rest. */
static const char *
pat_start_capture(struct pat_state *ms, const char *s, const char *p,
    ptrdiff_t what)
{
	const char	*res;

	if (ms->level >= PAT_MAXCAPTURES)
		luaL_error(ms->L, "too many captures");
	ms->capture[ms->level].init = s;
	ms->capture[ms->level].len = what;
	ms->level++;
	if ((res = pat_match(ms, s, p)) == NULL)
		ms->level--;
	return (res);
}

/* Close the innermost open capture at s and match the rest. */
static const char *
pat_end_capture(struct pat_state *ms, const char *s, const char *p)
{
	const char	*res;
	int		 l;

	for (l = ms->level - 1; l >= 0; l--) {
		if (ms->capture[l].len == PAT_UNFINISHED)
			break;
	}
	if (l < 0)
		luaL_error(ms->L, "invalid pattern capture");
	ms->capture[l].len = s - ms->capture[l].init;
	if ((res = pat_match(ms, s, p + 1)) == NULL)
		ms->capture[l].len = PAT_UNFINISHED;
	return (res);
}

/* %1..%9: the text of an earlier capture again. */
static const char *
pat_backref(struct pat_state *ms, const char *s, int l)
{
	size_t	 len;

	l -= '1';
	if (l < 0 || l >= ms->level || ms->capture[l].len == PAT_UNFINISHED)
		luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	len = (size_t)ms->capture[l].len;
	if ((size_t)(ms->src_end - s) >= len &&
	    memcmp(ms->capture[l].init, s, len) == 0)
		return (s + len);
	return (NULL);
}

/* Match pattern p at s: the end of the match, or NULL. */
static const char *
pat_match(struct pat_state *ms, const char *s, const char *p)
{
	const char	*ep, *res = NULL;
	int		 prev, cur;

	if (++ms->depth > PAT_MAXDEPTH)
		luaL_error(ms->L, "pattern too complex");
	for (;;) {
		pat_step(ms);
		if (p == ms->p_end) {
			res = s;
			break;
		}
		if (*p == '(') {
			if (p + 1 < ms->p_end && *(p + 1) == ')')
				res = pat_start_capture(ms, s, p + 2,
				    PAT_POSITION);
			else
				res = pat_start_capture(ms, s, p + 1,
				    PAT_UNFINISHED);
			break;
		}
		if (*p == ')') {
			res = pat_end_capture(ms, s, p);
			break;
		}
		if (*p == '$' && p + 1 == ms->p_end) {
			res = s == ms->src_end ? s : NULL;
			break;
		}
		if (*p == '%' && p + 1 < ms->p_end) {
			if (*(p + 1) == 'b') {
				if ((s = pat_balance(ms, s, p + 2)) == NULL)
					break;
				p += 4;
				continue;
			}
			if (*(p + 1) == 'f') {
				p += 2;
				if (p >= ms->p_end || *p != '[')
					luaL_error(ms->L, "missing '[' after "
					    "'%%f' in pattern");
				ep = pat_class_end(ms, p);
				prev = s == ms->src_init ? 0 :
				    (unsigned char)*(s - 1);
				cur = s < ms->src_end ? (unsigned char)*s : 0;
				if (pat_match_set(prev, p, ep - 1) ||
				    !pat_match_set(cur, p, ep - 1))
					break;
				p = ep;
				continue;
			}
			if (isdigit((unsigned char)*(p + 1))) {
				if ((s = pat_backref(ms, s,
				    (unsigned char)*(p + 1))) == NULL)
					break;
				p += 2;
				continue;
			}
		}
		/* A single-character class, maybe with a quantifier. */
		ep = pat_class_end(ms, p);
		if (!pat_single(ms, s, p, ep)) {
			if (ep < ms->p_end &&
			    (*ep == '*' || *ep == '?' || *ep == '-')) {
				p = ep + 1;
				continue;
			}
			break;
		}
		if (ep < ms->p_end && *ep == '?') {
			if ((res = pat_match(ms, s + 1, ep + 1)) != NULL)
				break;
			p = ep + 1;
			continue;
		}
		if (ep < ms->p_end && *ep == '+') {
			res = pat_max_expand(ms, s + 1, p, ep);
			break;
		}
		if (ep < ms->p_end && *ep == '*') {
			res = pat_max_expand(ms, s, p, ep);
			break;
		}
		if (ep < ms->p_end && *ep == '-') {
			res = pat_min_expand(ms, s, p, ep);
			break;
		}
		s++;
		p = ep;
	}
	ms->depth--;
	return (res);
}

/* Push capture i of a match from s to e (the whole match if none). */
static void
pat_push_one(struct pat_state *ms, int i, const char *s, const char *e)
{
	ptrdiff_t	 len;

	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(ms->L, s, (size_t)(e - s));
		return;
	}
	len = ms->capture[i].len;
	if (len == PAT_UNFINISHED)
		luaL_error(ms->L, "unfinished capture");
	if (len == PAT_POSITION)
		lua_pushinteger(ms->L,
		    (ms->capture[i].init - ms->src_init) + 1);
	else
		lua_pushlstring(ms->L, ms->capture[i].init, (size_t)len);
}

/* Push all captures (or the whole match when s is not NULL). */
static int
pat_push_all(struct pat_state *ms, const char *s, const char *e)
{
	int	 i, n;

	n = (ms->level == 0 && s != NULL) ? 1 : ms->level;
	luaL_checkstack(ms->L, n, "too many captures");
	for (i = 0; i < n; i++)
		pat_push_one(ms, i, s, e);
	return (n);
}

/* Set up a match state over s (len bytes) for pattern p (plen bytes). */
static void
pat_init(struct pat_state *ms, lua_State *L, const char *s, size_t len,
    const char *p, size_t plen)
{
	ms->L = L;
	ms->e = expr_get(L);
	ms->src_init = s;
	ms->src_end = s + len;
	ms->p_end = p + plen;
	ms->level = 0;
	ms->depth = 0;
}

/* A 1-based start position from a relative one (as string.find). */
static size_t
pat_start(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return ((size_t)pos);
	if (pos == 0)
		return (1);
	if (pos < -(lua_Integer)len)
		return (1);
	return (len + (size_t)pos + 1);
}

/* string.find (find = 1) and string.match (find = 0). */
static int
pat_find_aux(lua_State *L, int find)
{
	struct pat_state	 ms;
	const char		*s, *p, *s1, *e, *q;
	size_t			 ls, lp, init;
	int			 anchor;

	s = luaL_checklstring(L, 1, &ls);
	p = luaL_checklstring(L, 2, &lp);
	init = pat_start(luaL_optinteger(L, 3, 1), ls);
	if (init > ls + 1) {
		lua_pushnil(L);
		return (1);
	}
	if (find && (lua_toboolean(L, 4) ||
	    (strpbrk(p, PAT_SPECIALS) == NULL && strlen(p) == lp))) {
		q = lp == 0 ? s + init - 1 :
		    memmem(s + init - 1, ls - init + 1, p, lp);
		if (q == NULL) {
			lua_pushnil(L);
			return (1);
		}
		lua_pushinteger(L, (q - s) + 1);
		lua_pushinteger(L, (q - s) + (lua_Integer)lp);
		return (2);
	}
	anchor = lp > 0 && *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	pat_init(&ms, L, s, ls, p, lp);
	s1 = s + init - 1;
	do {
		ms.level = 0;
		ms.depth = 0;
		if ((e = pat_match(&ms, s1, p)) != NULL) {
			if (find) {
				lua_pushinteger(L, (s1 - s) + 1);
				lua_pushinteger(L, e - s);
				return (2 + pat_push_all(&ms, NULL, NULL));
			}
			return (pat_push_all(&ms, s1, e));
		}
	} while (s1++ < ms.src_end && !anchor);
	lua_pushnil(L);
	return (1);
}

/* string.find(s, p[, init[, plain]]). */
static int
pat_find(lua_State *L)
{
	return (pat_find_aux(L, 1));
}

/* string.match(s, p[, init]). */
static int
pat_match_fn(lua_State *L)
{
	return (pat_find_aux(L, 0));
}

/* The iterator of gmatch.  Upvalues: s, p, next position, last end. */
static int
pat_gmatch_aux(lua_State *L)
{
	struct pat_state	 ms;
	const char		*s, *p, *src, *e;
	size_t			 ls, lp;
	lua_Integer		 pos, last;

	s = lua_tolstring(L, lua_upvalueindex(1), &ls);
	p = lua_tolstring(L, lua_upvalueindex(2), &lp);
	pos = lua_tointeger(L, lua_upvalueindex(3));
	last = lua_tointeger(L, lua_upvalueindex(4));
	pat_init(&ms, L, s, ls, p, lp);
	for (src = s + pos; src <= ms.src_end; src++) {
		ms.level = 0;
		ms.depth = 0;
		if ((e = pat_match(&ms, src, p)) != NULL &&
		    e - s != last) {
			lua_pushinteger(L, e - s);
			lua_pushvalue(L, -1);
			lua_replace(L, lua_upvalueindex(3));
			lua_replace(L, lua_upvalueindex(4));
			return (pat_push_all(&ms, src, e));
		}
	}
	lua_pushinteger(L, (lua_Integer)ls + 1);
	lua_replace(L, lua_upvalueindex(3));
	return (0);
}

/* string.gmatch(s, p[, init]). */
static int
pat_gmatch(lua_State *L)
{
	size_t	 ls, init;

	luaL_checklstring(L, 1, &ls);
	luaL_checkstring(L, 2);
	init = pat_start(luaL_optinteger(L, 3, 1), ls);
	if (init > ls + 1)
		init = ls + 1;
	lua_settop(L, 2);
	lua_pushinteger(L, (lua_Integer)init - 1);
	lua_pushinteger(L, -1);
	lua_pushcclosure(L, pat_gmatch_aux, 4);
	return (1);
}

/* Add the replacement string for a match from s to e to b. */
static void
pat_add_s(struct pat_state *ms, luaL_Buffer *b, const char *s,
    const char *e, int repl)
{
	lua_State	*L = ms->L;
	const char	*news, *p, *end;
	size_t		 l;

	news = lua_tolstring(L, repl, &l);
	end = news + l;
	while (news < end) {
		if ((p = memchr(news, '%', (size_t)(end - news))) == NULL) {
			luaL_addlstring(b, news, (size_t)(end - news));
			break;
		}
		luaL_addlstring(b, news, (size_t)(p - news));
		p++;
		if (p == end || (*p != '%' && !isdigit((unsigned char)*p)))
			luaL_error(L, "invalid use of '%%' in replacement "
			    "string");
		if (*p == '%')
			luaL_addchar(b, '%');
		else {
			if (*p == '0')
				lua_pushlstring(L, s, (size_t)(e - s));
			else
				pat_push_one(ms, *p - '1', s, e);
			luaL_tolstring(L, -1, NULL);
			lua_remove(L, -2);
			luaL_addvalue(b);
		}
		news = p + 1;
	}
}

/* Add the replacement of a match from s to e to b (gsub). */
static void
pat_add_value(struct pat_state *ms, luaL_Buffer *b, const char *s,
    const char *e, int tr, int repl)
{
	lua_State	*L = ms->L;
	int		 n;

	switch (tr) {
	case LUA_TFUNCTION:
		lua_pushvalue(L, repl);
		n = pat_push_all(ms, s, e);
		lua_call(L, n, 1);
		break;
	case LUA_TTABLE:
		pat_push_one(ms, 0, s, e);
		lua_gettable(L, repl);
		break;
	default:
		pat_add_s(ms, b, s, e, repl);
		return;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
	} else if (!lua_isstring(L, -1))
		luaL_error(L, "invalid replacement value (a %s)",
		    luaL_typename(L, -1));
	else
		luaL_addvalue(b);
}

/* string.gsub(s, p, repl[, n]). */
static int
pat_gsub(lua_State *L)
{
	struct pat_state	 ms;
	luaL_Buffer		 b;
	const char		*src, *p, *e, *last = NULL;
	size_t			 srcl, lp;
	lua_Integer		 max_s, n = 0;
	int			 tr, anchor;

	src = luaL_checklstring(L, 1, &srcl);
	p = luaL_checklstring(L, 2, &lp);
	tr = lua_type(L, 3);
	max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
	luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING ||
	    tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
	    "string/function/table");
	anchor = lp > 0 && *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	luaL_buffinit(L, &b);
	pat_init(&ms, L, src, srcl, p, lp);
	while (n < max_s) {
		ms.level = 0;
		ms.depth = 0;
		if ((e = pat_match(&ms, src, p)) != NULL && e != last) {
			n++;
			pat_add_value(&ms, &b, src, e, tr, 3);
			src = last = e;
		} else if (src < ms.src_end) {
			pat_step(&ms);
			luaL_addchar(&b, *src++);
		} else
			break;
		if (anchor)
			break;
	}
	luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
	luaL_pushresult(&b);
	lua_pushinteger(L, n);
	return (2);
}

static const luaL_Reg expr_pat_funcs[] = {
	{ "find", pat_find },
	{ "match", pat_match_fn },
	{ "gmatch", pat_gmatch },
	{ "gsub", pat_gsub },
	{ NULL, NULL }
};

/* Register the library into the table at index g. */
void
expr_lib_open(lua_State *L, int g)
{
	g = lua_absindex(L, g);
	lua_pushvalue(L, g);
	luaL_setfuncs(L, expr_lib_funcs, 0);
	lua_pop(L, 1);
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_getfield(L, -1, "format");
	lua_setfield(L, g, "format");
	/* Pattern functions that count their steps (see above). */
	luaL_setfuncs(L, expr_pat_funcs, 0);
	lua_pop(L, 1);
}
