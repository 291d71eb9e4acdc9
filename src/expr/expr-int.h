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
 * Work done in C is charged in units of about one Lua instruction:
 * bytes handled one at a time (case, reversal, decoding, escaping) cost
 * one unit per 8, bytes copied or scanned in bulk one per 64, each table
 * element visited one, and each value made (string, table) four.
 */
#define EXPR_COST_BYTES(n)	((uint64_t)(n) >> 3)
#define EXPR_COST_COPY(n)	((uint64_t)(n) >> 6)
#define EXPR_COST_VALUE		4	/* a value made in C */

/* Which limit stopped the running call. */
enum expr_hit {
	EXPR_HIT_NONE = 0,
	EXPR_HIT_BUDGET,	/* lim.max_instructions */
	EXPR_HIT_TIME		/* lim.max_time_ms */
};

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
	int			 loading;	/* lua/ files may set globals */
	char			*libdir;	/* the lua/ files, or NULL */
	int			 lib_pending;	/* not run yet (lazy) */
	char			*lib_cause;	/* why they failed to load */

	/*
	 * What the running call has spent (expr-limit.c).  used counts
	 * instructions and charged work since the budget was armed and
	 * never passes lim.max_instructions; charges only add up below
	 * next_check, and at it the budget and the clock are checked.
	 * Once hit is set it stays set until the next arming: next_check
	 * is then used (every charge raises) and the hook fires at every
	 * instruction.  deadline is the time_mono_ms() of the call's end
	 * (call_deadline: of the public call, 0 outside one).
	 */
	uint64_t		 used;
	uint64_t		 next_check;
	int64_t			 deadline;
	int64_t			 call_deadline;
	enum expr_hit		 hit;
	int			 running;	/* Lua code runs now */
	int			 hook_count;	/* instructions per hook call */
	size_t			 hook_mem;	/* mem_used it was chosen for */
	size_t			 alloc_bytes;	/* allocated, not yet charged */
	unsigned int		 pat_steps;	/* pattern steps not charged */

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

/* expr-limit.c */
/* The state's allocator: capped at lim.max_memory, charges growth. */
void	*expr_alloc(void *, void *, size_t, size_t);
/* Start the clock of a public call; expr_limit_stop ends it. */
void	 expr_limit_start(struct expr *);
void	 expr_limit_stop(struct expr *);
/* Reset the budget (and the clock outside public calls) before Lua runs. */
void	 expr_limit_arm(struct expr *);
/* Slow path of expr_charge: charge n units, raise past a limit. */
void	 expr_limit_check(lua_State *, uint64_t n);
/* The message of the limit that was hit (new string), or NULL. */
char	*expr_limit_cause(struct expr *);
/* Charge library functions' work, and give G an xpcall (at setup). */
void	 expr_limit_open(lua_State *, int g);

/*
 * Charge n units of work done in C, before doing it; raises when the
 * budget or the time left cannot cover it (protected mode only).
 */
static inline void
expr_charge(lua_State *L, uint64_t n)
{
	struct expr	*e = expr_get(L);

	if (n < e->next_check - e->used)
		e->used += n;
	else
		expr_limit_check(L, n);
}

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
/*
 * JSON text, keys sorted; indent 0 is compact.  -1 when b's maximum
 * refused a piece: the text is then incomplete.
 */
int	 expr_json_dump(json_t *, struct buf *, int indent, int level);
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
