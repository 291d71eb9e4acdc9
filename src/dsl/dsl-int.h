/*
 * dsl-int.h -- shared by the dsl module's own files: the YAML node tree,
 * the parse context and the bookkeeping kept for validation.
 *
 * Paths name where a value is, for diagnostics.  In a workbook they start
 * at the top-level key ("workflows.wf.tasks.t1.retry.count",
 * "actions.greet.base", "triggers.host_down.when"); in a workflow file the
 * workflow name is the first element ("wf.tasks.t1.retry.count").  List
 * elements are written "[i]" ("wf.input[1]", "wf.tasks.t.on-success[0]").
 */
#ifndef DSL_INT_H
#define DSL_INT_H

#include "dsl/dsl.h"
#include "lib/lib.h"

#define DSL_DEFAULT_MAX_BYTES	(4 * 1024 * 1024)
#define DSL_DEFAULT_MAX_DEPTH	64
#define DSL_DEFAULT_MAX_NODES	200000

enum dsl_ntype { DSL_NSCALAR = 0, DSL_NSEQ, DSL_NMAP };

/*
 * A YAML node.  Aliases share the anchored node, so the tree is a DAG;
 * every node is on the parse's allocation list and freed with it.
 * weight counts the nodes of the subtree with aliases expanded and
 * height its depth, so an alias costs what it would cost copied.
 */
struct dsl_node {
	enum dsl_ntype	 type;
	int		 line;		/* 1-based */
	int		 col;		/* 1-based */
	char		*s;		/* scalar text, NUL-terminated */
	size_t		 len;
	int		 plain;		/* plain, untagged: typed by value */
	int		 dup;		/* map key seen before in its map */
	int		 recorded;	/* its expressions were recorded */
	struct dsl_node	**v;		/* seq: items; map: key, value, ... */
	size_t		 n;		/* entries in v */
	size_t		 cap;
	size_t		 weight;
	int		 height;
	struct dsl_node	*next_alloc;
};

/* A string template holding "<% %>", where it was written. */
struct dsl_expr_ref {
	json_t		*str;		/* a reference we hold */
	struct dsl_pos	 pos;
	char		*path;
};

/* Positions of task keys that validation reports on. */
struct dsl_task_pos {
	struct dsl_pos	 action;	/* action: or workflow: */
	struct dsl_pos	 join;
	struct dsl_pos	 requires;
};

/* Positions of trigger values that validation reports on. */
struct dsl_trig_pos {
	struct dsl_pos	 workflow;
	struct dsl_pos	*source;	/* [i] of dsl_trigger.sources */
};

/* Module-private part of a workbook (struct dsl_workbook.priv). */
struct dsl_wb_int {
	struct dsl_expr_ref	 *ex;
	size_t			  nex;
	size_t			  exn_cap;
	struct dsl_task_pos	**tpos;		/* [workflow][task] */
	struct dsl_pos		 *act_base;	/* [action] base: */
	struct dsl_trig_pos	 *tgpos;	/* [trigger] */
};

/* State of one parse. */
struct dsl_pctx {
	struct dsl_workbook	*wb;
	struct dsl_wb_int	*wi;
	struct dsl_errors	*errs;
	struct buf		 path;
	int			 is_workbook;
	enum dsl_wf_type	 wftype;	/* of the workflow being read */
	const char		*wbname;	/* workbook name or NULL */
};

/* dsl-parse.c */
void	 dsl_perr(struct dsl_pctx *, const struct dsl_node *,
	     const char *fmt, ...) printflike(3, 4);
size_t	 dsl_path_push(struct dsl_pctx *, const char *key);
size_t	 dsl_path_pushi(struct dsl_pctx *, size_t);
void	 dsl_path_pop(struct dsl_pctx *, size_t);
int	 dsl_key_find(struct dsl_pctx *, const struct dsl_node *key,
	     const char *const *keys, size_t nkeys);
struct dsl_node *dsl_map_get(const struct dsl_node *, const char *);
int	 dsl_node_null(const struct dsl_node *);
int	 dsl_expect(struct dsl_pctx *, const struct dsl_node *,
	     enum dsl_ntype);
char	*dsl_node_str(struct dsl_pctx *, const struct dsl_node *);
char   **dsl_node_strlist(struct dsl_pctx *, const struct dsl_node *,
	     size_t *);
json_t	*dsl_node_json(struct dsl_pctx *, struct dsl_node *);
void	 dsl_record_expr(struct dsl_pctx *, json_t *,
	     const struct dsl_node *);
void	 dsl_record_walk(struct dsl_pctx *, json_t *,
	     const struct dsl_node *);
json_t	*dsl_scalar_json(const char *, size_t, int plain);
int	 dsl_inputs_parse(struct dsl_pctx *, const struct dsl_node *,
	     struct dsl_input **, size_t *);
void	 dsl_inputs_free(struct dsl_input *, size_t);
int	 dsl_name_valid(const char *, int dots);
void	 dsl_strv_free(char **, size_t);

/* dsl-task.c */
void	 dsl_tasks_parse(struct dsl_pctx *, struct dsl_workflow *,
	     struct dsl_task_pos **, struct dsl_node *tasks,
	     struct dsl_node *defaults);
void	 dsl_task_clear(struct dsl_task *);
int	 dsl_is_command(const char *);

/* dsl-trigger.c */
void	 dsl_triggers_parse(struct dsl_pctx *, struct dsl_node *);
void	 dsl_triggers_free(struct dsl_workbook *);

/* dsl-segment.c */
void	 dsl_segments_parse(struct dsl_pctx *, struct dsl_node *);

/* dsl-inline.c */
int	 dsl_inline_params(const char *, json_t *, char **cause);
int	 dsl_expr_next(const char **, char **lua);

#endif /* DSL_INT_H */
