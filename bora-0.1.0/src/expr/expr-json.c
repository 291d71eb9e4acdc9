/*
 * expr-json.c -- JSON <-> Lua conversion for the expression sandbox.
 *
 * Objects become tables with string keys; arrays become sequences whose
 * metatable marks them as arrays, so an empty array comes back as [] and
 * an empty object as {}.  Integers stay lua_Integer, floats stay floats
 * and JSON null is the light userdata EXPR_NULL, never a hole.
 *
 * Data handed to an evaluation (_, task(), env(), ...) is converted
 * lazily: a container becomes an empty "lazy" table whose __index
 * converts one field at a time (and keeps it in the table), so an
 * expression reading _.vm_id from a large context costs one field, not
 * the whole context.  The table holds the borrowed json_t and the call's
 * generation under two hidden light-userdata keys; a lazy table kept
 * past its call sees another generation and can no longer reach freed
 * JSON.  Writing a new key, pairs(), next() and the raw functions first
 * fill the whole table in ("materialise" it), which drops the hidden
 * keys and turns it into an ordinary table.
 *
 * The way back never raises a Lua error: it only reads the stack (no
 * lua_tolstring on numbers, no metamethods), so it runs outside
 * protected mode without leaking the json_t it builds.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr-int.h"

static void	 expr_json_push_depth(lua_State *, json_t *, int);
static int	 expr_json_lazy_kind(lua_State *, int);
static json_t	*expr_json_lazy_get(lua_State *, int);
static json_t	*expr_json_lazy_find(lua_State *, int);
static int	 expr_lazy_index(lua_State *);
static int	 expr_lazy_newindex(lua_State *);
static int	 expr_lazy_len(lua_State *);
static int	 expr_lazy_pairs(lua_State *);
static const char	 expr_lazy_json_key, expr_lazy_gen_key;

static json_t	*expr_json_conv_lazy(lua_State *, int, int, const void **,
		     char **);
static json_t	*expr_json_conv(lua_State *, int, int, const void **,
		     char **);
static json_t	*expr_json_conv_table(lua_State *, int, int, const void **,
		     char **);
static int	 expr_json_key(lua_State *, int, char *, size_t, const char **,
		     size_t *, char **);
static void	 expr_json_dump_string(struct buf *, const char *, size_t);
static int	 expr_json_keycmp(const void *, const void *);

/* Push v, refusing nesting deeper than the JSON parser would produce. */
static void
expr_json_push_depth(lua_State *L, json_t *v, int depth)
{
	struct expr	*e;
	void		*it;
	const char	*key;
	size_t		 i, n;

	if (depth > 2 * EXPR_MAX_DEPTH)
		luaL_error(L, "JSON value nested too deeply");
	luaL_checkstack(L, 4, "JSON value nested too deeply");
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		lua_createtable(L, 0, (int)json_object_size(v));
		for (it = json_object_iter(v); it != NULL;
		    it = json_object_iter_next(v, it)) {
			key = json_object_iter_key(it);
			lua_pushlstring(L, key, json_object_iter_key_len(it));
			expr_json_push_depth(L, json_object_iter_value(it),
			    depth + 1);
			/* Stack now: table, key, value */
			lua_rawset(L, -3);
		}
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		lua_createtable(L, (int)n, 0);
		e = expr_get(L);
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_array_mt);
		lua_setmetatable(L, -2);
		for (i = 0; i < n; i++) {
			expr_json_push_depth(L, json_array_get(v, i),
			    depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_NULL:
		lua_pushlightuserdata(L, EXPR_NULL);
		break;
	}
}

/* 1 for a lazy object, 2 for a lazy array, 0 otherwise. */
static int
expr_json_lazy_kind(lua_State *L, int idx)
{
	struct expr	*e = expr_get(L);
	int		 kind = 0;

	if (!lua_getmetatable(L, idx))
		return (0);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_lazy_obj);
	if (lua_rawequal(L, -1, -2))
		kind = 1;
	else {
		lua_pop(L, 1);
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_lazy_arr);
		if (lua_rawequal(L, -1, -2))
			kind = 2;
	}
	lua_pop(L, 2);
	return (kind);
}

/* The JSON behind a lazy table, or NULL when its call is over. */
static json_t *
expr_json_lazy_find(lua_State *L, int idx)
{
	struct expr	*e = expr_get(L);
	json_t		*j;
	lua_Integer	 gen;

	idx = lua_absindex(L, idx);
	lua_rawgetp(L, idx, &expr_lazy_json_key);
	lua_rawgetp(L, idx, &expr_lazy_gen_key);
	j = lua_touserdata(L, -2);
	gen = lua_tointeger(L, -1);
	lua_pop(L, 2);
	return (gen == (lua_Integer)e->gen ? j : NULL);
}

/* Same, raising when the call that made the table is over. */
static json_t *
expr_json_lazy_get(lua_State *L, int idx)
{
	json_t	*j;

	if ((j = expr_json_lazy_find(L, idx)) == NULL)
		luaL_error(L, "data from an earlier evaluation is no longer "
		    "available");
	return (j);
}

/* Push v, containers as lazy tables over v (v must outlive the call). */
void
expr_json_push_lazy(lua_State *L, json_t *v)
{
	struct expr	*e = expr_get(L);
	int		 arr;

	if (v == NULL) {
		lua_pushlightuserdata(L, EXPR_NULL);
		return;
	}
	arr = json_is_array(v);
	if ((!arr && !json_is_object(v)) ||
	    (arr ? json_array_size(v) : json_object_size(v)) == 0) {
		expr_json_push_depth(L, v, 0);
		return;
	}
	luaL_checkstack(L, 4, NULL);
	lua_createtable(L, 0, 4);	/* the hidden keys and two fields */
	lua_pushlightuserdata(L, v);
	lua_rawsetp(L, -2, &expr_lazy_json_key);
	lua_pushinteger(L, (lua_Integer)e->gen);
	lua_rawsetp(L, -2, &expr_lazy_gen_key);
	lua_rawgeti(L, LUA_REGISTRYINDEX,
	    arr ? e->ref_lazy_arr : e->ref_lazy_obj);
	lua_setmetatable(L, -2);
}

/* __index of lazy tables: convert one field and keep it.  Stack: t, k. */
static int
expr_lazy_index(lua_State *L)
{
	json_t		*j, *v = NULL;
	const char	*k;
	size_t		 len;
	lua_Integer	 i;

	j = expr_json_lazy_get(L, 1);
	if (json_is_object(j)) {
		if (lua_type(L, 2) == LUA_TSTRING) {
			k = lua_tolstring(L, 2, &len);
			v = json_object_getn(j, k, len);
		}
	} else if (lua_isinteger(L, 2)) {
		i = lua_tointeger(L, 2);
		if (i >= 1 && (size_t)i <= json_array_size(j))
			v = json_array_get(j, (size_t)i - 1);
	}
	if (v == NULL) {
		lua_pushnil(L);
		return (1);
	}
	expr_json_push_lazy(L, v);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, -2);
	/* Stack now: t, k, value, k, value */
	lua_rawset(L, 1);
	return (1);
}

/* Fill a lazy table in and make it an ordinary one (protected mode). */
void
expr_json_materialize(lua_State *L, int idx)
{
	struct expr	*e = expr_get(L);
	json_t		*j;
	void		*it;
	const char	*k;
	size_t		 i, n, len;
	int		 kind;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE ||
	    (kind = expr_json_lazy_kind(L, idx)) == 0)
		return;
	j = expr_json_lazy_get(L, idx);
	luaL_checkstack(L, 4, NULL);
	if (kind == 1) {
		for (it = json_object_iter(j); it != NULL;
		    it = json_object_iter_next(j, it)) {
			k = json_object_iter_key(it);
			len = json_object_iter_key_len(it);
			lua_pushlstring(L, k, len);
			if (lua_rawget(L, idx) == LUA_TNIL) {
				lua_pushlstring(L, k, len);
				expr_json_push_lazy(L,
				    json_object_iter_value(it));
				lua_rawset(L, idx);
			}
			lua_pop(L, 1);
		}
		lua_pushnil(L);
	} else {
		n = json_array_size(j);
		for (i = 1; i <= n; i++) {
			if (lua_rawgeti(L, idx, (lua_Integer)i) == LUA_TNIL) {
				expr_json_push_lazy(L, json_array_get(j,
				    i - 1));
				lua_rawseti(L, idx, (lua_Integer)i);
			}
			lua_pop(L, 1);
		}
		lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_array_mt);
	}
	lua_setmetatable(L, idx);
	lua_pushnil(L);
	lua_rawsetp(L, idx, &expr_lazy_json_key);
	lua_pushnil(L);
	lua_rawsetp(L, idx, &expr_lazy_gen_key);
}

/* __newindex of lazy tables: fill in, then write.  Stack: t, k, v. */
static int
expr_lazy_newindex(lua_State *L)
{
	expr_json_materialize(L, 1);
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return (0);
}

/* __len of lazy arrays. */
static int
expr_lazy_len(lua_State *L)
{
	json_t	*j = expr_json_lazy_get(L, 1);

	lua_pushinteger(L, (lua_Integer)json_array_size(j));
	return (1);
}

/* __pairs of lazy tables: fill in, then walk with next. */
static int
expr_lazy_pairs(lua_State *L)
{
	struct expr	*e = expr_get(L);

	expr_json_materialize(L, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_globals);
	lua_pushliteral(L, "next");
	lua_rawget(L, -2);
	lua_remove(L, -2);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	/* Stack now: t, next, t, nil */
	return (3);
}

/* Create the lazy metatables (protected mode, at setup). */
void
expr_json_setup(lua_State *L)
{
	struct expr	*e = expr_get(L);
	int		 i;

	for (i = 0; i < 2; i++) {
		lua_createtable(L, 0, 5);
		lua_pushcfunction(L, expr_lazy_index);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, expr_lazy_newindex);
		lua_setfield(L, -2, "__newindex");
		lua_pushcfunction(L, expr_lazy_pairs);
		lua_setfield(L, -2, "__pairs");
		if (i == 1) {
			lua_pushcfunction(L, expr_lazy_len);
			lua_setfield(L, -2, "__len");
		}
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		if (i == 0)
			e->ref_lazy_obj = luaL_ref(L, LUA_REGISTRYINDEX);
		else
			e->ref_lazy_arr = luaL_ref(L, LUA_REGISTRYINDEX);
	}
}

/* Push v as a Lua value; NULL pushes null. */
void
expr_json_push(lua_State *L, json_t *v)
{
	if (v == NULL)
		lua_pushlightuserdata(L, EXPR_NULL);
	else
		expr_json_push_depth(L, v, 0);
}

/* 1 if the table at idx is marked as an array (or a lazy one). */
int
expr_json_is_array(lua_State *L, int idx)
{
	struct expr	*e = expr_get(L);
	int		 rc;

	if (!lua_getmetatable(L, idx))
		return (0);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_array_mt);
	rc = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return (rc || expr_json_lazy_kind(L, idx) == 2);
}

/* Give the table at idx the array metatable. */
void
expr_json_mark_array(lua_State *L, int idx)
{
	struct expr	*e = expr_get(L);

	idx = lua_absindex(L, idx);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref_array_mt);
	lua_setmetatable(L, idx);
}

/* Shortest %g text of d that reads back as d. */
void
expr_json_fmtnum(double d, char *out)
{
	int	 prec;

	if (isnan(d)) {
		snprintf(out, 32, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(out, 32, "%s", d < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, 32, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
	snprintf(out, 32, "%.17g", d);
}

/*
 * Text of a table key for a JSON object.  String keys are used as they
 * are; numbers and booleans are written out like tostring does.
 */
static int
expr_json_key(lua_State *L, int idx, char *tmp, size_t tmplen,
    const char **key, size_t *len, char **cause)
{
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		*key = lua_tolstring(L, idx, len);
		return (0);
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			snprintf(tmp, tmplen, "%lld",
			    (long long)lua_tointeger(L, idx));
		else
			expr_json_fmtnum(lua_tonumber(L, idx), tmp);
		break;
	case LUA_TBOOLEAN:
		snprintf(tmp, tmplen, "%s",
		    lua_toboolean(L, idx) ? "true" : "false");
		break;
	default:
		xasprintf(cause, "cannot convert a table key of type %s to "
		    "JSON", luaL_typename(L, idx));
		return (-1);
	}
	*key = tmp;
	*len = strlen(tmp);
	return (0);
}

/*
 * Convert a lazy table: a copy of the JSON behind it, with the fields the
 * table holds (read, and maybe changed since) converted over it.
 */
static json_t *
expr_json_conv_lazy(lua_State *L, int idx, int depth, const void **seen,
    char **cause)
{
	json_t		*j, *out, *v;
	const char	*key;
	size_t		 keylen;
	lua_Integer	 k;
	int		 top = lua_gettop(L);

	if ((j = expr_json_lazy_find(L, idx)) == NULL) {
		xasprintf(cause, "data from an earlier evaluation is no longer "
		    "available");
		return (NULL);
	}
	out = json_deep_copy(j);
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		/* Stack now: key, value */
		if (lua_type(L, -2) == LUA_TLIGHTUSERDATA) {
			lua_pop(L, 1);		/* a hidden key */
			continue;
		}
		v = expr_json_conv(L, lua_gettop(L), depth + 1, seen, cause);
		if (v == NULL)
			goto fail;
		if (json_is_object(out) && lua_type(L, -2) == LUA_TSTRING) {
			key = lua_tolstring(L, -2, &keylen);
			json_object_setn_new(out, key, keylen, v);
		} else if (json_is_array(out) && lua_isinteger(L, -2) &&
		    (k = lua_tointeger(L, -2)) >= 1 &&
		    (size_t)k <= json_array_size(out))
			json_array_set_new(out, (size_t)k - 1, v);
		else
			json_decref(v);
		lua_pop(L, 1);
	}
	return (out);

fail:
	json_decref(out);
	lua_settop(L, top);
	return (NULL);
}

/*
 * Convert a table.  It is an array when its keys are exactly 1..n with
 * n > 0, or when it is empty and marked as an array; else an object.
 */
static json_t *
expr_json_conv_table(lua_State *L, int idx, int depth, const void **seen,
    char **cause)
{
	json_t		*out = NULL, *v;
	const void	*p;
	const char	*key;
	char		 tmp[64];
	size_t		 keylen;
	lua_Integer	 n, k, count, i;
	int		 top, seq, d;

	top = lua_gettop(L);
	if (depth >= EXPR_MAX_DEPTH) {
		xasprintf(cause, "cannot convert to JSON: tables nested deeper "
		    "than %d", EXPR_MAX_DEPTH);
		return (NULL);
	}
	p = lua_topointer(L, idx);
	for (d = 0; d < depth; d++) {
		if (seen[d] == p) {
			xasprintf(cause, "cannot convert a table that contains "
			    "itself to JSON");
			return (NULL);
		}
	}
	seen[depth] = p;
	if (!lua_checkstack(L, 4)) {
		xasprintf(cause, "cannot convert to JSON: out of stack");
		return (NULL);
	}
	if (expr_json_lazy_kind(L, idx) != 0)
		return (expr_json_conv_lazy(L, idx, depth, seen, cause));

	n = (lua_Integer)lua_rawlen(L, idx);
	count = 0;
	seq = 1;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		/* Stack now: key, value */
		count++;
		if (!lua_isinteger(L, -2))
			seq = 0;
		else {
			k = lua_tointeger(L, -2);
			if (k < 1 || k > n)
				seq = 0;
		}
		lua_pop(L, 1);
		if (!seq) {
			lua_pop(L, 1);
			break;
		}
	}
	if (seq && count == n && (n > 0 || expr_json_is_array(L, idx))) {
		out = json_array();
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, i);
			v = expr_json_conv(L, lua_gettop(L), depth + 1, seen,
			    cause);
			lua_pop(L, 1);
			if (v == NULL)
				goto fail;
			json_array_append_new(out, v);
		}
		return (out);
	}

	out = json_object();
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		/* Stack now: key, value */
		if (expr_json_key(L, -2, tmp, sizeof tmp, &key, &keylen,
		    cause) != 0)
			goto fail;
		v = expr_json_conv(L, lua_gettop(L), depth + 1, seen, cause);
		if (v == NULL)
			goto fail;
		if (json_object_setn_new(out, key, keylen, v) != 0) {
			xasprintf(cause, "cannot convert a table key that is "
			    "not valid UTF-8 to JSON");
			goto fail;
		}
		lua_pop(L, 1);
	}
	return (out);

fail:
	json_decref(out);
	lua_settop(L, top);
	return (NULL);
}

/* Convert the value at the absolute index idx. */
static json_t *
expr_json_conv(lua_State *L, int idx, int depth, const void **seen,
    char **cause)
{
	json_t		*v;
	const char	*s;
	size_t		 len;
	double		 d;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return (json_null());
	case LUA_TBOOLEAN:
		return (json_boolean(lua_toboolean(L, idx)));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return (json_integer(
			    (json_int_t)lua_tointeger(L, idx)));
		d = lua_tonumber(L, idx);
		if (!isfinite(d)) {
			xasprintf(cause, "cannot convert %s to JSON",
			    isnan(d) ? "nan" : (d < 0 ? "-inf" : "inf"));
			return (NULL);
		}
		return (json_real(d));
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if ((v = json_stringn(s, len)) == NULL) {
			xasprintf(cause, "cannot convert a string that is not "
			    "valid UTF-8 to JSON");
			return (NULL);
		}
		return (v);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == EXPR_NULL)
			return (json_null());
		break;
	case LUA_TTABLE:
		return (expr_json_conv_table(L, idx, depth, seen, cause));
	}
	xasprintf(cause, "cannot convert %s to JSON", luaL_typename(L, idx));
	return (NULL);
}

/* Convert the Lua value at idx to a new JSON value. */
json_t *
expr_json_from_lua(lua_State *L, int idx, char **cause)
{
	const void	*seen[EXPR_MAX_DEPTH];

	*cause = NULL;
	return (expr_json_conv(L, lua_absindex(L, idx), 0, seen, cause));
}

/* Append a JSON string literal. */
static void
expr_json_dump_string(struct buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*start = s, *end = s + len;
	char			 esc[7];
	unsigned char		 c;

	buf_add(b, "\"", 1);
	for (; s < end; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, start, (size_t)(s - start));
		start = s + 1;
		switch (c) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		case '\b':
			buf_add(b, "\\b", 2);
			break;
		case '\f':
			buf_add(b, "\\f", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			buf_add(b, esc, 6);
			break;
		}
	}
	buf_add(b, start, (size_t)(s - start));
	buf_add(b, "\"", 1);
}

/* Order object keys bytewise. */
static int
expr_json_keycmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * Write v as JSON text with sorted keys and shortest floats; indent 0 is
 * compact, else pretty with that many spaces per level.  b should have no
 * maximum (a refused piece would leave broken text).
 */
void
expr_json_dump(json_t *v, struct buf *b, int indent, int level)
{
	const char	**keys;
	char		  tmp[32];
	size_t		  i, n;
	int		  j;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		n = json_is_object(v) ? json_object_size(v) :
		    json_array_size(v);
		buf_add(b, json_is_object(v) ? "{" : "[", 1);
		if (n == 0) {
			buf_add(b, json_is_object(v) ? "}" : "]", 1);
			break;
		}
		keys = NULL;
		if (json_is_object(v)) {
			const char	*k;
			json_t		*x;

			keys = xreallocarray(NULL, n, sizeof *keys);
			i = 0;
			json_object_foreach(v, k, x)
				keys[i++] = k;
			qsort(keys, n, sizeof *keys, expr_json_keycmp);
		}
		for (i = 0; i < n; i++) {
			if (i != 0)
				buf_add(b, ",", 1);
			if (indent > 0) {
				buf_add(b, "\n", 1);
				for (j = 0; j < indent * (level + 1); j++)
					buf_add(b, " ", 1);
			}
			if (keys != NULL) {
				expr_json_dump_string(b, keys[i],
				    strlen(keys[i]));
				buf_add(b, indent > 0 ? ": " : ":",
				    indent > 0 ? 2 : 1);
				expr_json_dump(json_object_get(v, keys[i]), b,
				    indent, level + 1);
			} else
				expr_json_dump(json_array_get(v, i), b, indent,
				    level + 1);
		}
		free(keys);
		if (indent > 0) {
			buf_add(b, "\n", 1);
			for (j = 0; j < indent * level; j++)
				buf_add(b, " ", 1);
		}
		buf_add(b, json_is_object(v) ? "}" : "]", 1);
		break;
	case JSON_STRING:
		expr_json_dump_string(b, json_string_value(v),
		    json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		expr_json_fmtnum(json_real_value(v), tmp);
		buf_puts(b, tmp);
		/* Keep a float a float when read back. */
		if (strpbrk(tmp, ".eEn") == NULL)
			buf_add(b, ".0", 2);
		break;
	case JSON_TRUE:
		buf_add(b, "true", 4);
		break;
	case JSON_FALSE:
		buf_add(b, "false", 5);
		break;
	case JSON_NULL:
		buf_add(b, "null", 4);
		break;
	}
}

/*
 * Append the text an interpolated expression shows: strings as they
 * are, numbers in shortest form (integral floats without ".0"),
 * booleans, nil and null as "null", tables as compact JSON.
 */
int
expr_json_text(lua_State *L, int idx, struct buf *b, char **cause)
{
	json_t		*v;
	struct buf	 tb;
	const char	*s;
	char		 tmp[32];
	size_t		 len, before;
	int		 rc;

	before = b->len;
	*cause = NULL;
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if (buf_add(b, s, len) != 0)
			goto toolong;
		return (0);
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			snprintf(tmp, sizeof tmp, "%lld",
			    (long long)lua_tointeger(L, idx));
		else
			expr_json_fmtnum(lua_tonumber(L, idx), tmp);
		break;
	case LUA_TBOOLEAN:
		snprintf(tmp, sizeof tmp, "%s",
		    lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNIL:
		snprintf(tmp, sizeof tmp, "null");
		break;
	default:
		if ((v = expr_json_from_lua(L, idx, cause)) == NULL)
			return (-1);
		buf_init(&tb, 0);
		expr_json_dump(v, &tb, 0, 0);
		json_decref(v);
		rc = buf_add(b, tb.data, tb.len);
		buf_free(&tb);
		if (rc != 0)
			goto toolong;
		return (0);
	}
	if (buf_puts(b, tmp) != 0)
		goto toolong;
	return (0);

toolong:
	b->len = before;
	if (b->data != NULL)
		b->data[before] = '\0';
	xasprintf(cause, "result is longer than the string limit (%zu bytes)",
	    b->max);
	return (-1);
}
