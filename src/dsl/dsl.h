/*
 * dsl.h -- the workflow language: YAML workbooks and workflow files
 * parsed into a tree of workflows, tasks and ad-hoc actions that keeps
 * file:line:col, and their validation.
 *
 * Ownership: a struct dsl_workbook owns everything reachable from it,
 * including its json_t values; callers borrow them and must
 * json_incref() what they keep past dsl_workbook_free().
 *
 * Values that may hold expressions (task input, publish, policies,
 * conditions, ...) are kept as json_t "templates": strings containing
 * "<% ... %>" are evaluated by the expr module at run time.  A YAML
 * scalar becomes a JSON string when quoted, otherwise a number, boolean
 * or null when it reads as one (YAML 1.2 core schema).
 */
#ifndef DSL_H
#define DSL_H

#include <stddef.h>
#include <jansson.h>

/* Where a node was written. */
struct dsl_pos {
	const char	*file;		/* borrowed from the workbook */
	int		 line;		/* 1-based */
	int		 col;		/* 1-based */
};

/* One diagnostic, printed as "FILE:LINE:COL: message (path)". */
struct dsl_diag {
	struct dsl_pos	 pos;
	char		*msg;
	char		*path;		/* workflows.x.tasks.y.retry.count */
};

/*
 * Paths: in a workbook they start at the top-level key
 * ("workflows.wf.tasks.t1.retry.count", "actions.a.base",
 * "triggers.t.when"); in a workflow file the workflow name comes first
 * ("wf.tasks.t1.retry.count").  List elements are "[i]".  An error
 * about a whole file has line 0 and prints as "FILE: message".
 */

struct dsl_errors {
	struct dsl_diag	*v;
	size_t		 n;
	char		*file;		/* owned copy of file names used */
};

void	 dsl_errors_init(struct dsl_errors *);
void	 dsl_errors_free(struct dsl_errors *);
/* Append one formatted error. */
void	 dsl_errors_add(struct dsl_errors *, const struct dsl_pos *,
	     const char *path, const char *fmt, ...)
	     __attribute__((format(printf, 4, 5)));
/* All errors, one per line, "FILE:LINE:COL: message (path)\n". */
char	*dsl_errors_format(const struct dsl_errors *);

enum dsl_wf_type { DSL_WF_DIRECT = 0, DSL_WF_REVERSE };

/* Targets of on-success/on-error/on-complete. */
enum dsl_next_kind {
	DSL_NEXT_TASK = 0,
	DSL_NEXT_FAIL,
	DSL_NEXT_SUCCEED,
	DSL_NEXT_PAUSE,
	DSL_NEXT_NOOP
};

struct dsl_next {
	enum dsl_next_kind	 kind;
	char			*task;		/* DSL_NEXT_TASK */
	json_t			*cond;		/* NULL: always */
	json_t			*msg;		/* engine commands: msg=... */
	struct dsl_pos		 pos;
};

struct dsl_trans {
	struct dsl_next	*v;
	size_t		 n;
	json_t		*publish;		/* advanced form: publish.branch */
	json_t		*publish_global;	/* advanced form: publish.global */
	int		 set;			/* clause was written */
};

enum dsl_join { DSL_JOIN_NONE = 0, DSL_JOIN_ALL, DSL_JOIN_N };

/* One with-items clause: "var in <% expr %>" or "var in [1, 2]". */
struct dsl_item {
	char		*var;
	json_t		*list;		/* template: expression or array */
};

/* A workflow input: required when def is NULL. */
struct dsl_input {
	char		*name;
	json_t		*def;
};

/*
 * A task.  Policy fields are templates (a number, boolean or an
 * expression string) or NULL when not written and not defaulted.
 * task-defaults are already merged in by the parser.
 */
struct dsl_task {
	char			*name;
	struct dsl_pos		 pos;
	char			*path;		/* workflows.w.tasks.t */
	char			*description;

	char			*action;	/* NULL with workflow: std.noop */
	char			*workflow;	/* sub-workflow name */
	json_t			*input;		/* object (inline params merged)
						   or an expression string;
						   never NULL ({} by default) */
	json_t			*publish;
	json_t			*publish_on_error;
	struct dsl_trans	 on_success;
	struct dsl_trans	 on_error;
	struct dsl_trans	 on_complete;

	enum dsl_join		 join;
	int			 join_n;	/* DSL_JOIN_N; "one" is 1 */

	struct dsl_item		*items;		/* with-items */
	size_t			 nitems;
	json_t			*concurrency;

	json_t			*retry_count;
	json_t			*retry_delay;
	json_t			*retry_break_on;
	json_t			*retry_continue_on;
	json_t			*timeout;
	json_t			*wait_before;
	json_t			*wait_after;
	json_t			*pause_before;
	json_t			*fail_on;
	json_t			*safe_rerun;
	json_t			*keep_result;

	char			**requires;	/* reverse workflows */
	size_t			 nrequires;

	json_t			*progress;	/* {start, success, error} */
	json_t			*lock;		/* lock name template */
};

struct dsl_workflow {
	char			*name;		/* full: "wb.name" in a workbook */
	char			*short_name;	/* as written */
	struct dsl_pos		 pos;
	char			*path;		/* workflows.name */
	enum dsl_wf_type	 type;
	char			*description;
	char			**tags;
	size_t			 ntags;
	struct dsl_input	*inputs;
	size_t			 ninputs;
	json_t			*vars;		/* object or NULL */
	json_t			*output;	/* NULL: bora returns {} */
	json_t			*output_on_error;
	struct dsl_task		*tasks;
	size_t			 ntasks;
};

/* An ad-hoc action. */
struct dsl_action {
	char			*name;		/* full: "wb.name" in a workbook */
	struct dsl_pos		 pos;
	char			*path;
	char			*description;
	char			**tags;
	size_t			 ntags;
	char			*base;		/* base action name */
	json_t			*base_input;	/* object of templates over _ */
	struct dsl_input	*inputs;
	size_t			 ninputs;
	json_t			*output;	/* template over the base result */
};

/* What a trigger does with a resolved alarm. */
enum dsl_on_resolved {
	DSL_RESOLVED_IGNORE = 0,	/* record it, start nothing */
	DSL_RESOLVED_CANCEL,		/* cancel the key's running execution */
	DSL_RESOLVED_START		/* match it like a firing alarm */
};

/*
 * An alarm trigger (bora's addition): which alarms (source, when) start
 * which workflow with what input, and how repeats and storms are held
 * back (key, once-within, until-resolved, limit).  Templates are
 * evaluated over "alert", the normalized alarm event.
 */
struct dsl_trigger {
	char			*name;		/* as written */
	struct dsl_pos		 pos;
	char			*path;		/* triggers.name */
	char			*description;
	char			**sources;	/* source: one or a list */
	size_t			 nsources;
	json_t			*when;		/* NULL: every alarm */
	char			*workflow;
	json_t			*input;		/* object or expression;
						   NULL: {} */
	json_t			*key;		/* NULL: the source's key */
	int64_t			 once_within_ms; /* 0: not set */
	int			 until_resolved;
	int64_t			 limit_count;	/* 0: no limit */
	int64_t			 limit_window_ms;
	json_t			*limit_by;	/* NULL: one count per trigger */
	enum dsl_on_resolved	 on_resolved;
	char			*cloud;		/* clouds.yaml entry its
						   executions act with */
};

struct dsl_wb_int;

struct dsl_workbook {
	char			*file;		/* file name used in positions */
	char			*name;		/* NULL for a workflow file */
	char			*description;
	char			*version;	/* "2.0" */
	char			**tags;
	size_t			 ntags;
	int			 actions_file;	/* ad-hoc actions at the top
						   level (Mistral's action
						   file) */
	struct dsl_workflow	*workflows;
	size_t			 nworkflows;
	struct dsl_action	*actions;
	size_t			 nactions;
	struct dsl_trigger	*triggers;
	size_t			 ntriggers;
	/*
	 * Masakari's failover segments declared here (dsl-segment.c), or
	 * NULL: [{name, recovery_method, service_type, description,
	 * enabled, cloud, options, hosts: [{name, type,
	 * control_attributes, reserved, on_maintenance}]}], each key
	 * present only when written.
	 */
	json_t			*segments;
	struct dsl_wb_int	*priv;		/* module-private: where things
						   were written, for validation */
};

/* Masakari's recovery methods (NULL-terminated). */
extern const char *const dsl_recovery_methods[];

/*
 * The options of Masakari's flows (its configuration file's, as the
 * shipped workflows take them as input), and the notification types
 * whose flows take each.
 */
enum dsl_opt_type { DSL_OPT_SECONDS, DSL_OPT_COUNT, DSL_OPT_BOOL,
	DSL_OPT_STRING };
#define DSL_FLOW_HOST		0x1
#define DSL_FLOW_INSTANCE	0x2
#define DSL_FLOW_PROCESS	0x4
struct dsl_flow_option {
	const char		*name;
	enum dsl_opt_type	 type;
	unsigned		 flows;
};
extern const struct dsl_flow_option dsl_flow_options[];	/* name NULL ends */
const struct dsl_flow_option *dsl_flow_option_find(const char *name);
/* 0 if the value suits the option, else -1 and *cause. */
int	 dsl_flow_option_check(const struct dsl_flow_option *, json_t *,
	     char **cause);

/* Limits applied while parsing; zeroes mean the defaults below. */
struct dsl_limits {
	size_t		 max_bytes;	/* default 4 MiB */
	int		 max_depth;	/* default 64 */
	size_t		 max_nodes;	/* default 200,000 incl. alias expansion */
};

/*
 * Parse a workbook or workflow file from memory.  Returns NULL when the
 * text cannot be used at all; errors (syntax, shape, unknown keys) are
 * appended to errs either way.  A returned workbook may still carry
 * errors in errs: check errs->n.
 */
struct dsl_workbook *dsl_parse(const char *file, const char *text,
	     size_t len, const struct dsl_limits *, struct dsl_errors *errs);
struct dsl_workbook *dsl_parse_file(const char *path,
	     const struct dsl_limits *, struct dsl_errors *errs);
void	 dsl_workbook_free(struct dsl_workbook *);

/*
 * A workflow file or an ad-hoc actions file cut into one text per
 * top-level entry (dsl-split.c), each "version: '2.0'" and the entry as
 * written.  -1 when it cannot be cut (a workbook, an entry that needs
 * another's anchor).
 */
struct dsl_part {
	char	*name;
	char	*text;
};
int	 dsl_split(const char *text, size_t len, struct dsl_part **parts,
	     size_t *n);
void	 dsl_parts_free(struct dsl_part *, size_t);

/*
 * What validation needs from outside the dsl module.  Any callback may
 * be NULL, which skips that check.
 */
struct dsl_resolver {
	/* 1 if an action of that name exists (std.*, catalogs, ad-hoc). */
	int	(*action_exists)(void *arg, const char *name);
	/* 1 if a workflow of that name exists outside this workbook. */
	int	(*workflow_exists)(void *arg, const char *name);
	/* 0 if the Lua expression compiles, else -1 and *cause. */
	int	(*expr_check)(void *arg, const char *lua, char **cause);
	void	*arg;
	/* 0 if an alarm source of that name exists, else -1 and *cause. */
	int	(*source_check)(void *arg, const char *name, char **cause);
};

/*
 * Semantic checks: transitions to missing tasks, unknown actions and
 * workflows, unknown alarm sources, bad policy values, expressions that do not compile,
 * unreachable tasks, cycles in requires, no start task.  Returns the
 * number of errors added.
 */
size_t	 dsl_validate(const struct dsl_workbook *,
	     const struct dsl_resolver *, struct dsl_errors *errs);

/*
 * Lookups; NULL when absent.  Workflows and ad-hoc actions are found by
 * full name ("wb.x") or by the name written in the workbook ("x").
 */
const struct dsl_workflow *dsl_workflow_find(const struct dsl_workbook *,
	     const char *name);
const struct dsl_task	*dsl_task_find(const struct dsl_workflow *,
	     const char *name);
const struct dsl_action	*dsl_action_find(const struct dsl_workbook *,
	     const char *name);

/*
 * Start tasks of a direct workflow (tasks no transition points to), in
 * definition order.  Returns the count; *out is malloc'd indexes.  For a
 * reverse workflow: the tasks without requires.
 */
size_t	 dsl_start_tasks(const struct dsl_workflow *, size_t **out);
/* Number of distinct tasks with a transition to task index t. */
size_t	 dsl_inbound_count(const struct dsl_workflow *, size_t t);

/*
 * Parse "name a=1 b='x' c=<% _.y %>" or "name(a=1, b=2)" into a name
 * and a params object.  Used for action:, workflow:, engine commands.
 */
int	 dsl_parse_inline(const char *s, char **name, json_t **params,
	     char **cause);

/*
 * Extract the Lua source of every <% %> in a template, calling fn on
 * each (used by validation and expression precompilation).
 */
void	 dsl_template_walk(json_t *tmpl,
	     void (*fn)(void *arg, const char *lua), void *arg);

/*
 * The planned task graph of a workflow (dsl-graph.c): {name, type,
 * nodes: [{id, name, kind: task|command, type, action|workflow, start,
 * with_items, concurrency, retry, join, ...}], edges: [{from, to,
 * kind: success|error|complete|condition|requires, on, label}]}.
 */
json_t	*dsl_workflow_graph(const struct dsl_workflow *);

#endif /* DSL_H */
