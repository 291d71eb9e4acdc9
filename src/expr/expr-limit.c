/*
 * expr-limit.c -- what one evaluation may spend: memory, work and time.
 *
 * Memory: the state's allocator refuses to grow past lim.max_memory.
 * Work: a count hook charges the instructions that run, the allocator
 * charges the bytes it hands out, and library functions that work in C
 * charge that work before they start (the table expr_costs below, the
 * pattern functions and the function library); past lim.max_instructions
 * units the evaluation fails.  Time: the same checks compare the clock
 * with the deadline of the public call (lim.max_time_ms), and a charge
 * too large for the time left fails at once.  Between two checks an
 * instruction can only scan memory that exists, and the hook's period
 * shrinks as memory grows (EXPR_SCAN_BYTES), so nothing inside the state
 * runs long past the deadline.
 *
 * A limit once hit stays hit until the next evaluation: the hook fires
 * at every instruction and raises again, and every charge raises, so
 * pcall cannot carry on.  Code that Lua would run with hooks off may not
 * exist: __gc metamethods are refused (expr.c) and xpcall runs its
 * message handler as ordinary code, after the error.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "expr/expr-int.h"

#define EXPR_HOOK_MAX		1000	/* instructions between hook calls */
#define EXPR_SCAN_BYTES		((size_t)256 << 20) /* per hook period */
#define EXPR_CHECK_EVERY	10000	/* units between clock reads */
#define EXPR_UNITS_PER_MS	20000	/* the slowest pace work may have */
#define EXPR_ALLOC_SHIFT	5	/* a unit per 32 bytes allocated */
#define EXPR_ALLOC_BATCH	4096	/* bytes gathered before charging */

/*
 * A library function whose work is charged: cost says how many units a
 * call with the arguments on the stack will take, from the arguments
 * only (it may not raise but where the function itself would).
 */
struct expr_cost {
	const char	*lib;
	const char	*name;
	uint64_t	(*cost)(lua_State *);
};

static void	 expr_hook(lua_State *, lua_Debug *);
static void	 expr_limit_period(struct expr *);
static int	 expr_limit_over(struct expr *, uint64_t);
static void	 expr_limit_next(struct expr *);
static void	 expr_limit_raise(lua_State *);
static int	 expr_xpcall(lua_State *);
static int	 expr_costed(lua_State *);
static lua_Integer cost_int(lua_State *, int, lua_Integer, int *);
static lua_Integer cost_len(lua_State *, int, int *);
static uint64_t	 cost_span(lua_Integer, lua_Integer, uint64_t);
static uint64_t	 cost_strspan(lua_State *, lua_Integer, int *);
static uint64_t	 cost_nargs(lua_State *);
static uint64_t	 cost_bytes(lua_State *);
static uint64_t	 cost_byte(lua_State *);
static uint64_t	 cost_format(lua_State *);
static uint64_t	 cost_pack(lua_State *);
static uint64_t	 cost_concat(lua_State *);
static uint64_t	 cost_insert(lua_State *);
static uint64_t	 cost_remove(lua_State *);
static uint64_t	 cost_move(lua_State *);
static uint64_t	 cost_unpack(lua_State *);
static uint64_t	 cost_sort(lua_State *);
static uint64_t	 cost_utf8len(lua_State *);
static uint64_t	 cost_offset(lua_State *);

static const struct expr_cost expr_costs[] = {
	{ LUA_STRLIBNAME, "byte", cost_byte },
	{ LUA_STRLIBNAME, "char", cost_nargs },
	{ LUA_STRLIBNAME, "format", cost_format },
	{ LUA_STRLIBNAME, "lower", cost_bytes },
	{ LUA_STRLIBNAME, "pack", cost_pack },
	{ LUA_STRLIBNAME, "packsize", cost_pack },
	{ LUA_STRLIBNAME, "reverse", cost_bytes },
	{ LUA_STRLIBNAME, "unpack", cost_pack },
	{ LUA_STRLIBNAME, "upper", cost_bytes },
	{ LUA_TABLIBNAME, "concat", cost_concat },
	{ LUA_TABLIBNAME, "insert", cost_insert },
	{ LUA_TABLIBNAME, "move", cost_move },
	{ LUA_TABLIBNAME, "pack", cost_nargs },
	{ LUA_TABLIBNAME, "remove", cost_remove },
	{ LUA_TABLIBNAME, "sort", cost_sort },
	{ LUA_TABLIBNAME, "unpack", cost_unpack },
	{ LUA_UTF8LIBNAME, "char", cost_nargs },
	{ LUA_UTF8LIBNAME, "codepoint", cost_byte },
	{ LUA_UTF8LIBNAME, "len", cost_utf8len },
	{ LUA_UTF8LIBNAME, "offset", cost_offset },
};

/* Lua allocator: refuses to grow past lim.max_memory, charges growth. */
void *
expr_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct expr	*e = ud;
	void		*np;
	size_t		 grow;

	if (ptr == NULL)
		osize = 0;	/* osize is then the kind of object */
	if (nsize == 0) {
		free(ptr);
		e->mem_used -= osize;
		return (NULL);
	}
	if (nsize > osize &&
	    nsize - osize > e->lim.max_memory - e->mem_used)
		return (NULL);
	if ((np = realloc(ptr, nsize)) == NULL)
		return (NULL);
	e->mem_used = e->mem_used - osize + nsize;
	if (nsize > osize && e->running) {
		/* Cannot raise here: a limit passed stops the next step. */
		grow = nsize - osize;
		e->alloc_bytes += grow;
		if (e->alloc_bytes >= EXPR_ALLOC_BATCH) {
			grow = e->alloc_bytes >> EXPR_ALLOC_SHIFT;
			e->alloc_bytes &= (1 << EXPR_ALLOC_SHIFT) - 1;
			if (grow < e->next_check - e->used)
				e->used += grow;
			else
				expr_limit_over(e, grow);
		}
		if (e->hit == EXPR_HIT_NONE && e->mem_used / 2 > e->hook_mem)
			expr_limit_period(e);
	}
	return (np);
}

/*
 * Count hook: charge the instructions run since the last call and read
 * the clock (a period's instructions may have scanned much memory).
 */
static void
expr_hook(lua_State *L, lua_Debug *ar)
{
	struct expr	*e = expr_get(L);

	if (expr_limit_over(e, (uint64_t)e->hook_count))
		expr_limit_raise(L);
	expr_limit_period(e);
}

/*
 * Choose the hook's period: at most EXPR_HOOK_MAX instructions, fewer
 * as memory grows, so that instructions which scan strings or tables in
 * C (comparisons, conversions) cannot together pass EXPR_SCAN_BYTES
 * between two readings of the clock.
 */
static void
expr_limit_period(struct expr *e)
{
	size_t	 mem = e->mem_used > 0 ? e->mem_used : 1;
	uint64_t n;

	n = EXPR_SCAN_BYTES / mem;
	if (n > EXPR_HOOK_MAX)
		n = EXPR_HOOK_MAX;
	if (n > e->lim.max_instructions)
		n = e->lim.max_instructions;
	if (n < 1)
		n = 1;
	e->hook_mem = mem;
	if ((int)n != e->hook_count) {
		e->hook_count = (int)n;
		lua_sethook(e->L, expr_hook, LUA_MASKCOUNT, e->hook_count);
	}
}

/* Where the next charge is checked: at most EXPR_CHECK_EVERY ahead. */
static void
expr_limit_next(struct expr *e)
{
	uint64_t	 left = e->lim.max_instructions - e->used;

	e->next_check = e->used + (left < EXPR_CHECK_EVERY ? left + 1 :
	    EXPR_CHECK_EVERY);
}

/*
 * Charge n units and check the limits; 1 when one is passed (e->hit set,
 * the hook armed to raise at the next instruction).  Never raises.
 */
static int
expr_limit_over(struct expr *e, uint64_t n)
{
	int64_t	 left;

	if (e->hit != EXPR_HIT_NONE)
		return (1);
	if (n > e->lim.max_instructions - e->used)
		e->hit = EXPR_HIT_BUDGET;
	else {
		e->used += n;
		left = e->deadline - time_mono_ms();
		/* Work that cannot be done in the time left fails now. */
		if (left <= 0 || n / EXPR_UNITS_PER_MS >= (uint64_t)left)
			e->hit = EXPR_HIT_TIME;
	}
	if (e->hit == EXPR_HIT_NONE) {
		expr_limit_next(e);
		return (0);
	}
	e->next_check = e->used;
	lua_sethook(e->L, expr_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
	e->hook_count = 1;
	return (1);
}

/* Raise the error of the limit that was hit. */
static void
expr_limit_raise(lua_State *L)
{
	struct expr	*e = expr_get(L);

	/* The message shown is expr_limit_cause's; this one is for pcall. */
	if (e->hit == EXPR_HIT_TIME)
		luaL_error(L, "expression exceeded the time limit (%I ms)",
		    (lua_Integer)e->lim.max_time_ms);
	luaL_error(L, "expression exceeded the instruction limit (%I)",
	    (lua_Integer)e->lim.max_instructions);
}

/* Charge n units; raise when a limit is passed. */
void
expr_limit_check(lua_State *L, uint64_t n)
{
	if (expr_limit_over(expr_get(L), n))
		expr_limit_raise(L);
}

/* The message of the limit that was hit, or NULL. */
char *
expr_limit_cause(struct expr *e)
{
	char	*s;

	switch (e->hit) {
	case EXPR_HIT_BUDGET:
		xasprintf(&s, "expression exceeded the instruction limit "
		    "(%llu)", (unsigned long long)e->lim.max_instructions);
		return (s);
	case EXPR_HIT_TIME:
		xasprintf(&s, "expression exceeded the time limit (%lld ms)",
		    (long long)e->lim.max_time_ms);
		return (s);
	default:
		return (NULL);
	}
}

/* A public call starts: its deadline holds for all it evaluates. */
void
expr_limit_start(struct expr *e)
{
	e->call_deadline = time_mono_ms() + e->lim.max_time_ms;
}

/* A public call ends. */
void
expr_limit_stop(struct expr *e)
{
	e->call_deadline = 0;
}

/* Reset the budget before running Lua code. */
void
expr_limit_arm(struct expr *e)
{
	e->used = 0;
	e->hit = EXPR_HIT_NONE;
	e->alloc_bytes = 0;
	e->pat_steps = 0;
	e->deadline = e->call_deadline != 0 ? e->call_deadline :
	    time_mono_ms() + e->lim.max_time_ms;
	expr_limit_next(e);
	e->hook_count = 0;
	expr_limit_period(e);
}

/*
 * xpcall(f, msgh, ...) running msgh after the error has unwound, as
 * ordinary code under the budget.  Lua runs a message handler inside the
 * error, with hooks off when the error comes from the budget's hook, so
 * a handler that loops would never stop.  The handler still gets the
 * error object and its result is what xpcall returns; only the stack of
 * the error is gone, which the sandbox cannot inspect anyway.
 */
static int
expr_xpcall(lua_State *L)
{
	int	 n = lua_gettop(L);

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 1);
	/* Stack now: f, msgh, f, args... */
	if (lua_pcall(L, n - 2, LUA_MULTRET, 0) == LUA_OK) {
		lua_pushboolean(L, 1);
		lua_replace(L, 2);
		return (lua_gettop(L) - 1);
	}
	/* Stack now: f, msgh, error */
	lua_pushvalue(L, 2);
	lua_insert(L, 3);
	lua_pcall(L, 1, 1, 0);
	/* Stack now: f, msgh, result (or the handler's own error) */
	lua_pushboolean(L, 0);
	lua_replace(L, 2);
	return (2);
}

/*
 * A library function with a cost: charge, then run the original on the
 * same stack (so its errors name the function as the caller wrote it).
 * Upvalues: the expr_cost entry, the original function.
 */
static int
expr_costed(lua_State *L)
{
	const struct expr_cost	*c = lua_touserdata(L, lua_upvalueindex(1));
	lua_CFunction		 f = lua_tocfunction(L, lua_upvalueindex(2));

	expr_charge(L, c->cost(L));
	return (f(L));
}

/* Integer argument idx, def when absent; *ok = 0 when not an integer. */
static lua_Integer
cost_int(lua_State *L, int idx, lua_Integer def, int *ok)
{
	lua_Integer	 v;
	int		 isnum;

	if (lua_isnoneornil(L, idx))
		return (def);
	v = lua_tointegerx(L, idx, &isnum);
	if (!isnum)
		*ok = 0;
	return (v);
}

/* The length the table functions see (__len included). */
static lua_Integer
cost_len(lua_State *L, int idx, int *ok)
{
	if (lua_type(L, idx) != LUA_TTABLE) {
		*ok = 0;
		return (0);
	}
	return (luaL_len(L, idx));
}

/* Number of integers from i to j, plus more (saturating). */
static uint64_t
cost_span(lua_Integer i, lua_Integer j, uint64_t more)
{
	uint64_t	 n;

	if (j < i)
		return (more);
	n = (uint64_t)j - (uint64_t)i;
	if (n >= UINT64_MAX - more)
		return (UINT64_MAX);
	return (n + 1 + more);
}

/*
 * Bytes of the string argument 1 from argument 2 (default 1) to argument
 * 3 (default dj), positions relative to the end when negative.
 */
static uint64_t
cost_strspan(lua_State *L, lua_Integer dj, int *ok)
{
	size_t		 len;
	lua_Integer	 i, j, l;

	if (lua_type(L, 1) != LUA_TSTRING) {
		*ok = 0;
		return (0);
	}
	lua_tolstring(L, 1, &len);
	l = (lua_Integer)len;
	i = cost_int(L, 2, 1, ok);
	j = cost_int(L, 3, dj == 0 ? i : dj, ok);
	if (i < 0)
		i = i < -l ? 1 : l + i + 1;
	if (j < 0)
		j = j < -l ? 0 : l + j + 1;
	if (i < 1)
		i = 1;
	if (j > l)
		j = l;
	return (cost_span(i, j, 0));
}

/* A unit per argument. */
static uint64_t
cost_nargs(lua_State *L)
{
	return ((uint64_t)lua_gettop(L));
}

/* Bytes of the string argument handled one by one. */
static uint64_t
cost_bytes(lua_State *L)
{
	size_t	 len = 0;

	if (lua_type(L, 1) == LUA_TSTRING)
		lua_tolstring(L, 1, &len);
	return (EXPR_COST_BYTES(len));
}

/* string.byte, utf8.codepoint (s, i, j): a unit per byte position. */
static uint64_t
cost_byte(lua_State *L)
{
	int	 ok = 1;

	return (cost_strspan(L, 0, &ok));
}

/* string.format: the format and the strings it formats, byte by byte. */
static uint64_t
cost_format(lua_State *L)
{
	size_t	 len, total = 0;
	int	 i, n = lua_gettop(L);

	for (i = 1; i <= n; i++) {
		if (lua_type(L, i) == LUA_TSTRING) {
			lua_tolstring(L, i, &len);
			total += len;
		}
	}
	return ((uint64_t)n + EXPR_COST_BYTES(total));
}

/* string.pack, packsize, unpack: a unit per format byte, and the data. */
static uint64_t
cost_pack(lua_State *L)
{
	size_t	 len = 0;

	if (lua_type(L, 1) == LUA_TSTRING)
		lua_tolstring(L, 1, &len);
	return ((uint64_t)len + cost_format(L));
}

/* table.concat(t, sep, i, j): a unit per element, and the separators. */
static uint64_t
cost_concat(lua_State *L)
{
	lua_Integer	 i, j;
	uint64_t	 n, copy;
	size_t		 lsep = 0;
	int		 ok = 1;

	if (lua_type(L, 2) == LUA_TSTRING)
		lua_tolstring(L, 2, &lsep);
	i = cost_int(L, 3, 1, &ok);
	j = lua_isnoneornil(L, 4) ? cost_len(L, 1, &ok) :
	    cost_int(L, 4, 0, &ok);
	if (!ok)
		return (0);
	n = cost_span(i, j, 0);
	if (lsep != 0 && n > UINT64_MAX / lsep)
		return (UINT64_MAX);
	copy = EXPR_COST_COPY(n * lsep);
	return (n > UINT64_MAX - copy ? UINT64_MAX : n + copy);
}

/* table.insert(t, [pos,] v): a unit per element moved up. */
static uint64_t
cost_insert(lua_State *L)
{
	lua_Integer	 n, pos;
	int		 ok = 1;

	if (lua_gettop(L) != 3)
		return (1);
	n = cost_len(L, 1, &ok);
	pos = cost_int(L, 2, 0, &ok);
	return (ok ? cost_span(pos, n, 1) : 0);
}

/* table.remove(t[, pos]): a unit per element moved down. */
static uint64_t
cost_remove(lua_State *L)
{
	lua_Integer	 n, pos;
	int		 ok = 1;

	n = cost_len(L, 1, &ok);
	pos = cost_int(L, 2, n, &ok);
	return (ok ? cost_span(pos, n, 1) : 0);
}

/* table.move(a1, f, e, t[, a2]): a unit per element. */
static uint64_t
cost_move(lua_State *L)
{
	lua_Integer	 f, e;
	int		 ok = 1;

	f = cost_int(L, 2, 0, &ok);
	e = cost_int(L, 3, 0, &ok);
	return (ok ? cost_span(f, e, 0) : 0);
}

/* table.unpack(t, i, j): a unit per value. */
static uint64_t
cost_unpack(lua_State *L)
{
	lua_Integer	 i, j;
	int		 ok = 1;

	i = cost_int(L, 2, 1, &ok);
	j = lua_isnoneornil(L, 3) ? cost_len(L, 1, &ok) :
	    cost_int(L, 3, 0, &ok);
	return (ok ? cost_span(i, j, 0) : 0);
}

/* table.sort(t[, lt]): n log n comparisons. */
static uint64_t
cost_sort(lua_State *L)
{
	lua_Integer	 n;
	uint64_t	 log = 1;
	int		 ok = 1;

	n = cost_len(L, 1, &ok);
	if (!ok || n < 2)
		return (1);
	while (((uint64_t)1 << log) < (uint64_t)n && log < 63)
		log++;
	if ((uint64_t)n > UINT64_MAX / log)
		return (UINT64_MAX);
	return ((uint64_t)n * log);
}

/* utf8.len(s, i, j): the bytes it decodes. */
static uint64_t
cost_utf8len(lua_State *L)
{
	int	 ok = 1;

	return (EXPR_COST_BYTES(cost_strspan(L, -1, &ok)));
}

/* utf8.offset(s, n, i): at most the characters it walks over. */
static uint64_t
cost_offset(lua_State *L)
{
	size_t		 len = 0;
	lua_Integer	 n;
	uint64_t	 walk;
	int		 ok = 1;

	if (lua_type(L, 1) == LUA_TSTRING)
		lua_tolstring(L, 1, &len);
	n = cost_int(L, 2, 0, &ok);
	if (!ok)
		return (0);
	walk = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	if (walk > len / 4)
		walk = len / 4;
	return (EXPR_COST_BYTES(walk * 4));
}

/*
 * Wrap the library functions of expr_costs in the state's own library
 * tables (which the sandbox's read-only tables and the function library
 * read), and give G the xpcall above.  Protected mode, at setup.
 */
void
expr_limit_open(lua_State *L, int g)
{
	const struct expr_cost	*c;
	size_t			 i;

	g = lua_absindex(L, g);
	for (i = 0; i < nitems(expr_costs); i++) {
		c = &expr_costs[i];
		lua_getglobal(L, c->lib);
		lua_pushlightuserdata(L, (void *)c);
		lua_getfield(L, -2, c->name);
		if (!lua_iscfunction(L, -1))
			luaL_error(L, "%s.%s is not a C function", c->lib,
			    c->name);
		lua_pushcclosure(L, expr_costed, 2);
		lua_setfield(L, -2, c->name);
		lua_pop(L, 1);
	}
	lua_pushcfunction(L, expr_xpcall);
	lua_setfield(L, g, "xpcall");
}
