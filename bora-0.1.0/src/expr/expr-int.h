/*
 * expr-int.h -- shared by the expr module's own files: the sandbox state,
 * the null sentinel, JSON <-> Lua conversion and the function library.
 */
#ifndef EXPR_INT_H
#define EXPR_INT_H

#include <lua.h>
#include <lauxlib.h>

#include "lib/lib.h"
#include "expr/expr.h"

/* JSON null inside Lua: one light userdata, equal to itself. */
extern const char	 expr_null_tag;
#define EXPR_NULL	 ((void *)&expr_null_tag)

/* Deepest table nesting converted to JSON (cycles stop here too). */
#define EXPR_MAX_DEPTH	 100

/*
 * One sandbox.  Invariants: L belongs to the thread that created it;
 * mem_used never exceeds lim.max_memory (the allocator refuses); ctx and
 * data are only valid during one public call and are NULL outside it
 * (gen counts calls, so lazy tables can tell they outlived theirs);
 * data_pending is set when _ has not yet been converted for the current
 * call (the globals' __index converts it on first use).
 */
struct expr {
	lua_State		*L;
	struct expr_limits	 lim;
	size_t			 mem_used;
	int			 budget_hit;	/* count hook fired */
	uint64_t		 pat_steps;	/* pattern steps so far */
	int			 loading;	/* lua/ files may set globals */

	const struct expr_ctx	*ctx;
	json_t			*data;
	int			 data_pending;
	int			 clear_data;	/* drop the last call's _ */

	/* Owned values being pushed by the library; freed after a call. */
	char			*held_str;
	json_t			*held_json;

	size_t			 ncache;	/* compiled sources */

	/* Registry references. */
	int			 ref_globals;	/* G: the library and _ */
	int			 ref_env;	/* read-only _ENV proxy */
	int			 ref_cache;	/* expression -> function */
	int			 ref_scripts;	/* script -> function */
	int			 ref_array_mt;	/* marks JSON arrays */
	int			 ref_script_mt;	/* script globals' mt */
	int			 ref_libenv;	/* _ENV of lua/ files */
	int			 ref_readonly;	/* weak set: read-only */
	int			 ref_lazy_obj;	/* lazy object mt */
	int			 ref_lazy_arr;	/* lazy array mt */
	uint64_t		 gen;		/* public calls so far */
	int			 data_set;	/* G._ holds converted data */
	json_t			*keep;		/* JSON kept for this call */
};

/* The sandbox of a Lua state (kept in its extra space). */
static inline struct expr *
expr_get(lua_State *L)
{
	return (*(struct expr **)lua_getextraspace(L));
}

/* expr.c */
/* Raise the instruction-limit error and keep raising it (never returns). */
void	 expr_budget_exceeded(lua_State *);

/* expr-json.c */
/*
 * Push v as a Lua value (raises on memory errors: protected mode only).
 * _lazy converts containers on first use and needs v for the whole call.
 */
void	 expr_json_push(lua_State *, json_t *);
void	 expr_json_push_lazy(lua_State *, json_t *);
/* Turn a lazy table at idx into an ordinary one (no-op otherwise). */
void	 expr_json_materialize(lua_State *, int idx);
/* Create the lazy tables' metatables (at setup). */
void	 expr_json_setup(lua_State *);
/* Convert the value at idx; never raises.  NULL + *cause on failure. */
json_t	*expr_json_from_lua(lua_State *, int idx, char **cause);
/* Append the text form used by interpolation; -1 + *cause on failure. */
int	 expr_json_text(lua_State *, int idx, struct buf *, char **cause);
/* JSON text, keys sorted; indent 0 is compact (b without maximum). */
void	 expr_json_dump(json_t *, struct buf *, int indent, int level);
/* Shortest text of a float that reads back the same; out holds 32. */
void	 expr_json_fmtnum(double, char *out);
/* 1 if the table at idx is marked as an array. */
int	 expr_json_is_array(lua_State *, int idx);
/* Mark the table at idx as an array. */
void	 expr_json_mark_array(lua_State *, int idx);

/* expr-lib.c */
/* Register the C function library into the table at index g. */
void	 expr_lib_open(lua_State *, int g);

#endif /* EXPR_INT_H */
