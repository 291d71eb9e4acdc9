/*
 * store.h -- persistence of definitions, executions, tasks, action
 * executions, due work, locks, events and messages.
 *
 * Two backends sit behind one versioned method table (store-int.h):
 * "sqlite:PATH" (embedded, the default) and "postgresql://..." (libpq).
 * The engine never knows which one it talks to, and the backends know
 * no table: each table is declared once, column by column, in
 * store-table.c, and its SQL, binding, reading and copying come from
 * that declaration.
 *
 * Adding a table, say "alarms":
 *  1. A migration per backend: sql/pg/NNN-alarms.sql and
 *     sql/sqlite/NNN-alarms.sql (the next number; the same columns, with
 *     each database's types: text, bigint/INTEGER milliseconds, JSON as
 *     text).  They are compiled in and applied at start.
 *  2. The row struct below: struct store_alarm, one member per column,
 *     named like it; text is char * (or char id[UUID_STRLEN] for an
 *     identifier), times int64_t ms, JSON json_t *.
 *  3. The descriptor in store-table.c: a store_col array (STORE_KEY on
 *     the key, which comes first; STORE_NOW on created_at; STORE_TOUCH on
 *     updated_at; an SF_* mask on each column an update may write, and a
 *     "state" column then guards updates), an optional store_column
 *     array of the fields lists may filter and sort on, and
 *     TABLE(store_alarm_table, "alarms", "alarm", ...) added to
 *     store_tables[]; its extern declaration goes below.
 * Then store_tx_insert(tx, &store_alarm_table, row), store_tx_update(),
 * store_row_load(), store_rows_list() and store_row_free() work on it;
 * queries of its own are a STORE_SELECT() statement in store-ops.c.
 *
 * Writes go through a change set (struct store_tx): the engine records
 * every row it inserts or updates for one transition, and
 * store_tx_commit() applies them all in one database transaction.  An
 * update carries the state the row is expected to be in; if any guard
 * fails, nothing is applied and STORE_CONFLICT is returned, so two
 * engines can never both apply a transition.
 *
 * Ownership: rows returned by _load functions are owned by the caller
 * and freed with their _free function.  Values passed to store_tx_*
 * are copied (json_t are increfed), so the caller keeps its own.
 * A struct store is used by one thread at a time: the engine loop opens
 * its own; every other thread borrows one from a store_pool.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/lib.h"

struct store;
struct store_tx;

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,
	STORE_CONFLICT,		/* a guard failed or a unique key exists */
	STORE_UNAVAILABLE,	/* database unreachable: retry later */
	STORE_ERROR
};
const char	*store_rc_name(enum store_rc);

/* States, as text in rows and on the wire: Mistral's names. */
#define ST_IDLE		"IDLE"
#define ST_WAITING	"WAITING"
#define ST_RUNNING	"RUNNING"
#define ST_DELAYED	"RUNNING_DELAYED"
#define ST_PAUSED	"PAUSED"
#define ST_SUCCESS	"SUCCESS"
#define ST_ERROR	"ERROR"
#define ST_CANCELLED	"CANCELLED"
/* 1 for SUCCESS, ERROR and CANCELLED. */
int		 store_state_final(const char *);

/*
 * The same states in code.  The final ones come last, so that
 * STATE_FINAL() is one comparison; STATE_NONE is an unknown name.  The
 * legal moves between them are the engine's (engine-state.c).
 */
enum store_state {
	STATE_IDLE,
	STATE_WAITING,
	STATE_RUNNING,
	STATE_DELAYED,
	STATE_PAUSED,
	STATE_SUCCESS,
	STATE_ERROR,
	STATE_CANCELLED,
	STATE_NONE
};
#define STATE_FINAL(s)	((s) >= STATE_SUCCESS && (s) <= STATE_CANCELLED)
/* The name of a state ("?" for STATE_NONE); the state of a name. */
const char	*store_state_name(enum store_state);
enum store_state store_state_parse(const char *);

/* A stored definition text: one version of a workbook or file. */
struct store_def {
	char	 id[UUID_STRLEN];
	char	*kind;		/* "workbook", "workflows", "actions" */
	char	*name;		/* workbook name or source name */
	char	*namespace;	/* "" by default */
	char	*scope;		/* "private" or "public" */
	int	 version;	/* 1, 2, ... per (kind, name) */
	char	*text;		/* YAML */
	char	*source;	/* "api" or a file path */
	int	 deleted;	/* this version marks a deletion */
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* A workflow's stable identity (id kept across versions). */
struct store_workflow {
	char	 id[UUID_STRLEN];
	char	*name;
	char	*namespace;
	char	 def_id[UUID_STRLEN];	/* current definition version */
	int64_t	 created_at;
	int64_t	 updated_at;
};

struct store_exec {
	char	 id[UUID_STRLEN];
	char	*workflow_name;
	char	 workflow_id[UUID_STRLEN];
	char	 def_id[UUID_STRLEN];	/* definition version it runs */
	char	*parent_task_id;	/* sub-workflow: the task; or NULL */
	char	*root_id;		/* root execution; NULL for a root */
	char	*state;
	char	*state_info;
	json_t	*input;
	json_t	*output;
	json_t	*params;		/* {env, task_name, ...} */
	json_t	*context;		/* vars + global publishes */
	char	*description;
	char	*request_id;
	char	*owner;			/* engine holding the lease */
	int64_t	 lease_until;
	int64_t	 created_at;
	int64_t	 updated_at;
	char	*workflow_namespace;	/* where the workflow was found */
};

struct store_task {
	char	 id[UUID_STRLEN];
	char	 execution_id[UUID_STRLEN];
	char	*name;
	char	*state;
	char	*state_info;
	char	*type;			/* "ACTION" or "WORKFLOW" */
	json_t	*in_context;		/* published values flowing in */
	json_t	*published;
	json_t	*result;
	json_t	*runtime;		/* retry_no, items, join, ... */
	int64_t	 seq;			/* creation order in its execution */
	int64_t	 created_at;
	int64_t	 started_at;		/* 0: not yet */
	int64_t	 finished_at;
	int64_t	 updated_at;
};

struct store_action {
	char	 id[UUID_STRLEN];
	char	*task_id;		/* NULL when run outside a workflow */
	char	*execution_id;
	char	*name;
	char	*state;
	char	*state_info;
	json_t	*input;
	json_t	*output;
	int	 attempt;		/* 0-based retry number */
	int	 item;			/* with-items index; -1 if none */
	int	 is_async;		/* result comes by callback */
	char	*request_id;
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* Due work: a timer or a deferred step. */
struct store_work {
	int64_t	 id;
	char	 execution_id[UUID_STRLEN];
	char	*task_id;		/* may be NULL */
	char	*kind;			/* "retry", "wait-before", ... */
	int64_t	 due_at;		/* ms since the epoch */
	json_t	*payload;
};

struct store_event {
	int64_t	 id;
	char	 execution_id[UUID_STRLEN];
	char	*task_id;
	char	*task_name;
	int64_t	 time;
	double	 progress;		/* 0..1, or -1 when not given */
	char	*message;
	char	*level;			/* "info", "warning", "error" */
	char	*request_id;
	char	*kind;			/* "task", "execution", "progress" */
	char	*action;		/* of the task: action or workflow */
};

struct store_message {
	char	 id[UUID_STRLEN];
	char	*event_id;
	char	*message;		/* the user_message */
	char	*request_id;
	char	*resource_type;
	char	*resource_uuid;
	char	*level;
	int64_t	 created_at;
	int64_t	 expires_at;		/* 0: never */
	char	*project_id;
};

/*
 * An event to deliver to one receiver (a notification): its state is
 * PENDING until sent (SENT) or given up (DEAD).  Rows of one execution
 * and target go out in seq order; owner and lease_until are a sender's
 * claim, next_at when the next attempt is due.
 */
#define ST_PENDING	"PENDING"
#define ST_SENT		"SENT"
#define ST_DEAD		"DEAD"
struct store_outbox {
	char	 id[UUID_STRLEN];	/* also the idempotency key */
	char	 execution_id[UUID_STRLEN];
	int64_t	 seq;			/* 0 on insert: next of its execution */
	char	*event;			/* "TASK_SUCCEEDED", ... */
	char	*target;		/* the receiver's URL */
	json_t	*headers;		/* {name: value} sent with it */
	json_t	*body;
	char	*state;
	int	 attempts;
	int64_t	 next_at;
	char	*owner;
	int64_t	 lease_until;
	char	*last_error;
	int64_t	 sent_at;
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* A named set of variables (Mistral's environments). */
struct store_env {
	char	 id[UUID_STRLEN];
	char	*name;
	char	*description;
	json_t	*variables;		/* object */
	char	*scope;
	int64_t	 created_at;
	int64_t	 updated_at;
};

/*
 * Masakari's failover segments, their hosts, and the notifications
 * masakari-monitors send (store-recovery.c has their queries).  id is
 * Masakari's integer id; the API names rows by uuid.  source is "api"
 * or the YAML file declaring the row.
 */
struct store_segment {
	int64_t	 id;
	char	 uuid[UUID_STRLEN];
	char	*name;
	char	*description;
	char	*recovery_method;	/* auto, reserved_host, ... */
	char	*service_type;
	int	 enabled;
	char	*cloud;			/* clouds.yaml entry its flows use */
	json_t	*options;		/* flow options (Masakari's config) */
	char	*source;
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* A cron trigger: starts workflow_name at each tick of pattern. */
struct store_cron {
	char	 id[UUID_STRLEN];
	char	*name;
	char	*pattern;		/* NULL: fires once */
	int64_t	 first_execution_time;	/* ms; 0: none */
	int64_t	 next_execution_time;	/* ms, the next tick */
	int64_t	 remaining_executions;	/* -1: no limit */
	char	*workflow_name;
	char	*workflow_id;
	char	*workflow_namespace;
	json_t	*workflow_input;
	json_t	*workflow_params;
	char	*scope;
	int64_t	 created_at;
	int64_t	 updated_at;
};

struct store_host {
	int64_t	 id;
	char	 uuid[UUID_STRLEN];
	char	*name;			/* unique across segments */
	char	 segment_uuid[UUID_STRLEN];
	char	*type;
	char	*control_attributes;
	int	 reserved;
	int	 on_maintenance;
	char	*source;
	int64_t	 created_at;
	int64_t	 updated_at;
};

struct store_notification {
	int64_t	 id;
	char	 notification_uuid[UUID_STRLEN];
	char	*type;			/* COMPUTE_HOST, VM, PROCESS */
	char	*hostname;
	char	*source_host_uuid;
	int64_t	 generated_time;	/* ms, as the monitor wrote it */
	json_t	*payload;
	char	*dedup;			/* type, host and payload */
	char	*state;			/* new, running, finished, ... */
	char	*state_info;		/* why, in words */
	char	*workflow;		/* the flow it runs, or NULL */
	char	*execution_id;		/* its execution, or NULL */
	int	 retries;		/* flows run again after an error */
	char	*request_id;
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* The tables, for the generic row functions below (store-table.c). */
struct store_table;
extern const struct store_table store_def_table, store_workflow_table;
extern const struct store_table store_exec_table, store_task_table;
extern const struct store_table store_action_table, store_work_table;
extern const struct store_table store_event_table, store_message_table;
extern const struct store_table store_env_table, store_cron_table;
extern const struct store_table store_segment_table, store_host_table;
extern const struct store_table store_notification_table;
extern const struct store_table store_outbox_table;

/* Free a row of a table (NULL: no-op); a deep copy (json increfed). */
void	 store_row_free(const struct store_table *, void *);
void	*store_row_dup(const struct store_table *, const void *);

/* A deep copy of an execution row (json values increfed). */
struct store_exec	*store_exec_dup(const struct store_exec *);

void	 store_def_free(struct store_def *);
void	 store_workflow_free(struct store_workflow *);
void	 store_exec_free(struct store_exec *);
void	 store_task_free(struct store_task *);
void	 store_action_free(struct store_action *);
void	 store_work_free(struct store_work *);
void	 store_event_free(struct store_event *);
void	 store_message_free(struct store_message *);
void	 store_env_free(struct store_env *);
void	 store_cron_free(struct store_cron *);
void	 store_outbox_free(struct store_outbox *);

/*
 * Open "sqlite:PATH", "sqlite::memory:" or "postgresql://...".  SQLite
 * takes "?sync=full" (fsync every commit: survives power loss) after the
 * path; the default, "?sync=normal", survives a crash of the process.
 * Each "sqlite::memory:" open is a private database.
 */
struct store	*store_open(const char *url, char **cause);
void		 store_close(struct store *);
/* "sqlite" or "postgresql". */
const char	*store_backend(struct store *);
/* Cheap liveness check. */
enum store_rc	 store_ping(struct store *);
/* The database's clock in ms (PostgreSQL: now(); SQLite: local). */
int64_t		 store_now(struct store *);
/* Last error text of this connection (borrowed). */
const char	*store_error(struct store *);

/*
 * The one road to the store for threads that are not the engine loop
 * (HTTP handlers, streams, watchers, reapers, the alarm intake): a
 * bounded pool.  A thread borrows one connection at a time, and
 * borrowing again while it holds one gives the same one (each get is
 * matched by a put), so no thread ever holds two.  When all max are
 * lent, a borrower waits.  store_pool_wrap() lends one connection the
 * caller keeps (an in-memory database, in-process use).
 */
struct store_pool;
struct store_pool *store_pool_create(const char *url, size_t max);
struct store_pool *store_pool_wrap(struct store *);
void		 store_pool_free(struct store_pool *);
/* NULL + *cause when a connection cannot be opened. */
struct store	*store_pool_get(struct store_pool *, char **cause);
void		 store_pool_put(struct store_pool *);
/* Connections open (idle or lent). */
size_t		 store_pool_size(struct store_pool *);

/* ---- change sets ------------------------------------------------- */

/* Field masks for updates: only the named fields are written. */
#define SF_STATE	0x0001
#define SF_STATE_INFO	0x0002
#define SF_OUTPUT	0x0004	/* exec output / action output */
#define SF_CONTEXT	0x0008	/* exec context */
#define SF_PUBLISHED	0x0010
#define SF_RESULT	0x0020
#define SF_RUNTIME	0x0040
#define SF_STARTED	0x0080
#define SF_FINISHED	0x0100
#define SF_PARAMS	0x0200	/* exec params */
#define SF_DESCRIPTION	0x0400
#define SF_INPUT	0x0800	/* action input */
#define SF_IN_CONTEXT	0x1000
#define SF_VARIABLES	0x2000	/* environment variables */
#define SF_SCOPE	0x4000
#define SF_ROW		0x8000	/* segments, hosts: every field set by
				   the API or a file */
#define SF_EXEC		0x10000	/* notification: workflow, execution,
				   retries */

/*
 * Record inserting a row of any table; updating the fields of a row in
 * mask, guarded by the state it is expected in (NULL: none, then a
 * missing row is STORE_NOTFOUND).
 */
void	 store_tx_insert(struct store_tx *, const struct store_table *,
	     const void *row);
void	 store_tx_update(struct store_tx *, const struct store_table *,
	     const void *row, unsigned mask, const char *expect_state);

struct store_tx	*store_tx_create(void);
void		 store_tx_free(struct store_tx *);
/* Number of operations recorded. */
size_t		 store_tx_size(const struct store_tx *);
/* Move src's operations to the end of dst (src is left empty). */
void		 store_tx_append(struct store_tx *dst, struct store_tx *src);

/* owner and lease_until are written as given: an execution inserted
 * with an owner must carry its lease_until (db now + lease). */
void	 store_tx_exec_insert(struct store_tx *, const struct store_exec *);
/* Update the fields in mask; expect_state NULL means no guard. */
void	 store_tx_exec_update(struct store_tx *, const struct store_exec *,
	     unsigned mask, const char *expect_state);
void	 store_tx_task_insert(struct store_tx *, const struct store_task *);
void	 store_tx_task_update(struct store_tx *, const struct store_task *,
	     unsigned mask, const char *expect_state);
void	 store_tx_action_insert(struct store_tx *,
	     const struct store_action *);
void	 store_tx_action_update(struct store_tx *,
	     const struct store_action *, unsigned mask,
	     const char *expect_state);
/* Insert due work; w->id is ignored. */
void	 store_tx_work_insert(struct store_tx *, const struct store_work *);
/* Delete due work; a missing row is a conflict (someone else took it). */
void	 store_tx_work_delete(struct store_tx *, int64_t id);
/* Delete every due work row of a task (timeouts left behind). */
void	 store_tx_work_delete_task(struct store_tx *, const char *task_id);
/* Take a named lock for an execution; held by another: conflict. */
void	 store_tx_lock_acquire(struct store_tx *, const char *name,
	     const char *execution_id);
/* Release every lock an execution holds. */
void	 store_tx_lock_release_all(struct store_tx *,
	     const char *execution_id);
void	 store_tx_event_insert(struct store_tx *, const struct store_event *);
void	 store_tx_message_insert(struct store_tx *,
	     const struct store_message *);

/*
 * Apply a change set in one transaction.  STORE_CONFLICT when a guard
 * failed (nothing applied), STORE_UNAVAILABLE when the database could
 * not be reached (nothing applied, or the outcome was checked and found
 * not applied).  The change set is not freed.
 */
enum store_rc	 store_tx_commit(struct store *, struct store_tx *);
/* Apply several change sets in one transaction, each all-or-nothing:
 * rcs[i] gets each one's outcome.  Returns the worst. */
enum store_rc	 store_tx_commit_many(struct store *, struct store_tx **,
		     size_t n, enum store_rc *rcs);

/*
 * Group commit (store-group.c), for threads that each commit a small
 * change set at about the same time: one of them applies every change
 * set queued in one transaction, each all or nothing, on its own
 * connection; each thread gets its own outcome, its error text on its
 * connection.
 */
struct store_group;
struct store_group *store_group_create(void);
void		 store_group_free(struct store_group *);
enum store_rc	 store_group_commit(struct store_group *, struct store *,
		     struct store_tx *);
/* Transactions made and the change sets they held. */
void		 store_group_stats(struct store_group *, uint64_t *commits,
		     uint64_t *sets);

/* ---- definitions ------------------------------------------------- */

/*
 * Save a new version of (kind, name); deleted marks a removal.  *out,
 * when not NULL, receives the new row.  STORE_CONFLICT if create_only
 * and a current version exists.
 */
enum store_rc	 store_def_save(struct store *, const char *kind,
		     const char *name, const char *text, const char *source,
		     int create_only, int deleted, struct store_def **out);
enum store_rc	 store_def_load(struct store *, const char *id,
		     struct store_def **out);
/* The current (newest, not deleted) version of (kind, name). */
enum store_rc	 store_def_load_current(struct store *, const char *kind,
		     const char *name, struct store_def **out);
/*
 * The same in a namespace ("" is the default one, where the functions
 * above work) with a scope ("private" or "public"; NULL: private).
 */
enum store_rc	 store_def_save_ns(struct store *, const char *kind,
		     const char *name, const char *ns, const char *scope,
		     const char *text, const char *source, int create_only,
		     int deleted, struct store_def **out);
enum store_rc	 store_def_load_current_ns(struct store *, const char *kind,
		     const char *name, const char *ns, struct store_def **out);
/* The first version since the last deletion: its id and created_at
 * are the definition's, kept across updates. */
enum store_rc	 store_def_load_first(struct store *, const char *kind,
		     const char *name, const char *ns, struct store_def **out);
/* Every current definition, oldest first. */
enum store_rc	 store_def_list_current(struct store *,
		     struct store_def ***out, size_t *n);
/* Highest definition change counter (to notice changes by others). */
int64_t		 store_def_generation(struct store *);

/* Create or update a workflow identity to point at def_id. */
enum store_rc	 store_workflow_save(struct store *, const char *name,
		     const char *def_id, struct store_workflow **out);
enum store_rc	 store_workflow_load(struct store *, const char *name_or_id,
		     struct store_workflow **out);
enum store_rc	 store_workflow_delete(struct store *, const char *name);
/* The same in a namespace (by id whatever the namespace). */
enum store_rc	 store_workflow_save_ns(struct store *, const char *name,
		     const char *ns, const char *def_id,
		     struct store_workflow **out);
enum store_rc	 store_workflow_load_ns(struct store *, const char *name_or_id,
		     const char *ns, struct store_workflow **out);
enum store_rc	 store_workflow_delete_ns(struct store *, const char *name,
		     const char *ns);

/* ---- reads ------------------------------------------------------- */

enum store_rc	 store_exec_load(struct store *, const char *id,
		     struct store_exec **out);
/*
 * Several executions at once (ids not found are left out), and every
 * task of several executions, grouped by execution and in creation
 * order within one.  One query each where the backend can.
 */
enum store_rc	 store_execs_load(struct store *, char *const *ids, size_t n,
		     struct store_exec ***out, size_t *nout);
enum store_rc	 store_tasks_load_many(struct store *, char *const *ids,
		     size_t n, struct store_task ***out, size_t *nout);
/* Every task row of an execution in creation order. */
enum store_rc	 store_tasks_load(struct store *, const char *execution_id,
		     struct store_task ***out, size_t *n);
enum store_rc	 store_task_load(struct store *, const char *id,
		     struct store_task **out);
/* Action executions of a task in (attempt, item) order. */
enum store_rc	 store_actions_load(struct store *, const char *task_id,
		     struct store_action ***out, size_t *n);
enum store_rc	 store_action_load(struct store *, const char *id,
		     struct store_action **out);
/* Events of an execution in time order. */
enum store_rc	 store_events_load(struct store *, const char *execution_id,
		     struct store_event ***out, size_t *n);
/* The same of an execution and its sub-workflows, at any depth. */
enum store_rc	 store_events_load_tree(struct store *,
		     const char *execution_id, struct store_event ***out,
		     size_t *n);
/* Child executions of a task (sub-workflows). */
enum store_rc	 store_exec_children(struct store *, const char *task_id,
		     struct store_exec ***out, size_t *n);
/* Who holds a lock: *execution_id is malloc'd, or NOTFOUND. */
enum store_rc	 store_lock_owner(struct store *, const char *name,
		     char **execution_id);

/*
 * Lists for the API.  Filters use whitelisted field names per resource
 * and Mistral's operators (eq, neq, in, nin, gt, gte, lt, lte, has);
 * values are text.  Sorting by whitelisted fields, then id.  marker is
 * the id of the last row of the previous page.  Unknown fields give
 * STORE_ERROR with store_error() saying which.
 */
struct store_filter {
	const char	*field;
	const char	*op;		/* "eq" if NULL */
	const char	*value;		/* NULL means IS NULL */
};
struct store_query {
	const struct store_filter	*filters;
	size_t				 nfilters;
	const char			*const *sort_keys;
	const int			*sort_desc;	/* per key */
	size_t				 nsort;
	const char			*marker;
	size_t				 limit;		/* 0: none */
};
/* A row of any table by its key, into *out (a struct store_x **). */
enum store_rc	 store_row_load(struct store *, const struct store_table *,
		     const char *key, void *out);
/* A list of any listed table, into *out (a struct store_x ***). */
enum store_rc	 store_rows_list(struct store *, const struct store_table *,
		     const struct store_query *, void *out, size_t *n);
enum store_rc	 store_exec_list(struct store *, const struct store_query *,
		     struct store_exec ***out, size_t *n);
enum store_rc	 store_task_list(struct store *, const struct store_query *,
		     struct store_task ***out, size_t *n);
enum store_rc	 store_action_list(struct store *, const struct store_query *,
		     struct store_action ***out, size_t *n);
enum store_rc	 store_message_list(struct store *,
		     const struct store_query *, struct store_message ***out,
		     size_t *n);
/*
 * The same rules over JSON objects that live in memory, for resource
 * "definitions" (workbooks, workflows, actions): *out gets a new array.
 * STORE_ERROR + *cause for a wrong filter or sort key, STORE_NOTFOUND
 * (+ *cause) when the marker is not one of the objects.
 */
enum store_rc	 store_list_items(const char *resource,
		     const struct store_query *, json_t *items, json_t **out,
		     char **cause);
enum store_rc	 store_message_delete(struct store *, const char *id);
/* Delete up to batch messages expired at now; *n gets the count. */
enum store_rc	 store_message_reap(struct store *, int64_t now,
		     size_t batch, size_t *n);
/* ---- environments and cron triggers ------------------------------ */

/* By name or id; STORE_NOTFOUND when there is none. */
enum store_rc	 store_env_load(struct store *, const char *name,
		     struct store_env **out);
enum store_rc	 store_env_delete(struct store *, const char *name);
enum store_rc	 store_env_list(struct store *, const struct store_query *,
		     struct store_env ***out, size_t *n);
void		 store_tx_env_insert(struct store_tx *,
		     const struct store_env *);
/* Update description, variables, scope (SF_DESCRIPTION, SF_VARIABLES,
 * SF_SCOPE) of the row of that id. */
void		 store_tx_env_update(struct store_tx *,
		     const struct store_env *, unsigned mask,
		     const char *expect_state);
enum store_rc	 store_cron_load(struct store *, const char *name,
		     struct store_cron **out);
enum store_rc	 store_cron_delete(struct store *, const char *name);
enum store_rc	 store_cron_list(struct store *, const struct store_query *,
		     struct store_cron ***out, size_t *n);
void		 store_tx_cron_insert(struct store_tx *,
		     const struct store_cron *);
/* Triggers due by now (ms), at most limit (0: all), oldest tick first. */
enum store_rc	 store_cron_due(struct store *, int64_t now, size_t limit,
		     struct store_cron ***out, size_t *n);
/* The earliest next tick of any trigger (ms); 0 when none. */
int64_t		 store_cron_next(struct store *);
/*
 * Record firing trigger c's tick (c->next_execution_time): it moves on
 * to next with remaining executions left (-1: no limit; 0: the trigger
 * is deleted), guarded by the tick it had, so that of several engines
 * only one fires it (the others' change sets fail with STORE_CONFLICT).
 * The execution it starts goes in the same change set.
 */
void		 store_tx_cron_fire(struct store_tx *,
		     const struct store_cron *, int64_t next,
		     int64_t remaining);

/* Delete a finished action execution run outside a workflow. */
enum store_rc	 store_action_delete(struct store *, const char *id);
/* Delete a finished execution and everything under it. */
enum store_rc	 store_exec_delete(struct store *, const char *id);

/* ---- retention ---------------------------------------------------- */

/*
 * The reapers' lock: *got is 1 when this connection now holds the lock
 * name, cluster-wide (PostgreSQL: a session advisory lock, let go when
 * the connection ends), 0 when another holds it.  Unlock what was got.
 */
enum store_rc	 store_reap_lock(struct store *, const char *name, int *got);
void		 store_reap_unlock(struct store *, const char *name);
/* Rows a purge deleted, by kind. */
struct store_purged {
	size_t	 executions;
	size_t	 tasks;
	size_t	 actions;
	size_t	 events;
};
/*
 * Delete up to batch finished root executions last changed before
 * before (ms), each with its sub-executions, tasks, action executions,
 * events, due work and locks, each in a transaction of its own; *out
 * gets what went.  Running executions and those changed since stay.
 */
enum store_rc	 store_exec_purge(struct store *, int64_t before,
		     size_t batch, struct store_purged *out);
/* Delete up to batch SENT or DEAD notifications changed before before. */
enum store_rc	 store_outbox_purge(struct store *, int64_t before,
		     size_t batch, size_t *n);

/* ---- the outbox -------------------------------------------------- */

/*
 * Claim up to limit notifications due now for owner, for lease_ms: the
 * first pending one of each execution and target only (they go out in
 * order), unclaimed or under an expired claim.  *out gets them by
 * execution and seq.
 */
enum store_rc	 store_outbox_claim(struct store *, const char *owner,
		     int64_t lease_ms, size_t limit,
		     struct store_outbox ***out, size_t *n);
/*
 * The end of an attempt by owner, guarded by its claim (a claim lost
 * fails the change set with STORE_CONFLICT): sent; to be tried again at
 * next_at; given up (DEAD).  error is kept as last_error.
 */
void		 store_tx_outbox_sent(struct store_tx *, const char *id,
		     const char *owner);
void		 store_tx_outbox_retry(struct store_tx *, const char *id,
		     const char *owner, int64_t next_at, const char *error);
void		 store_tx_outbox_dead(struct store_tx *, const char *id,
		     const char *owner, const char *error);
/* A DEAD notification is PENDING again, its attempts reset. */
enum store_rc	 store_outbox_requeue(struct store *, const char *id);
/* Give back the claims owner holds; *n gets how many. */
enum store_rc	 store_outbox_release(struct store *, const char *owner,
		     size_t *n);
/* The owners holding claims on pending notifications (malloc'd). */
enum store_rc	 store_outbox_owners(struct store *, char ***owners,
		     size_t *n);
enum store_rc	 store_outbox_list(struct store *, const struct store_query *,
		     struct store_outbox ***out, size_t *n);

/* ---- leases and due work ---------------------------------------- */

/*
 * Claim up to limit executions for owner: unfinished ones whose lease is
 * free or expired and that have work due by now (or were never claimed).
 * Sets owner and lease_until = db now + lease_ms.  *ids is malloc'd.
 * In detail: no owner and lease_until 0 (new) -> claimed; no owner after
 * a release -> claimed when work is due; an owner whose lease expired (a
 * dead engine) -> taken over whatever its work.  limit 0: no limit.
 */
enum store_rc	 store_exec_claim(struct store *, const char *owner,
		     int64_t lease_ms, size_t limit, char ***ids, size_t *n);
/*
 * Extend owner's leases on the executions ids (those it has in memory);
 * *held (malloc'd) gets the ids it still holds: any other was taken over
 * by another engine after its lease expired, and must be let go without
 * a further write.  An execution not named is not renewed: one given up
 * without a release (the store failed) expires and is claimed again.
 */
enum store_rc	 store_exec_renew(struct store *, const char *owner,
		     char *const *ids, size_t n, int64_t lease_ms,
		     char ***held, size_t *nheld);
/* Give up the lease of one execution (it finished or was handed off). */
enum store_rc	 store_exec_release(struct store *, const char *id,
		     const char *owner);
/* The engines holding leases on running or paused executions. */
enum store_rc	 store_exec_owners(struct store *, char ***owners,
		     size_t *n);
/*
 * Give up every lease owner holds (it died), as store_exec_release()
 * does one; *n: how many.
 */
enum store_rc	 store_exec_release_all(struct store *, const char *owner,
		     size_t *n);
/*
 * Give up the lease of a running execution that only waits (on a timer
 * or a callback): it is claimed again when work of it is due, not at
 * once.  STORE_CONFLICT when owner does not hold it or it is not
 * RUNNING any more.
 */
enum store_rc	 store_exec_park(struct store *, const char *id,
		     const char *owner);
/* Due work of one execution, due by now, oldest first. */
enum store_rc	 store_work_due(struct store *, const char *execution_id,
		     int64_t now, struct store_work ***out, size_t *n);
/* All work rows of an execution (any due time). */
enum store_rc	 store_work_load(struct store *, const char *execution_id,
		     struct store_work ***out, size_t *n);
/* Earliest due_at over unfinished executions unleased or owner's (or
 * whose lease expired); 0 if none. */
int64_t		 store_work_next_due(struct store *, const char *owner);

/*
 * Wake-ups between engines: notify after commit; wait up to timeout_ms
 * for a notification (PostgreSQL LISTEN/NOTIFY; SQLite: returns at
 * once).  Returns 1 when notified, 0 on timeout.
 */
void		 store_notify(struct store *, const char *channel);
int		 store_wait(struct store *, int timeout_ms);
/*
 * The caller (the engine loop) has had nothing to do for a while: the
 * backend may tidy up.  SQLite checkpoints its write-ahead log and cuts
 * it to nothing, so that an idle database is one file.
 */
void		 store_idle(struct store *);

/* Counters for /metrics: rows by state. */
enum store_rc	 store_count_by_state(struct store *, const char *table,
		     json_t **out);

/* ---- the alarm intake's decision log (store-alarms.c) ------------ */

/* States of an alarm row. */
#define ST_ALARM_RECEIVED	"received"	/* stored, not decided yet */
#define ST_ALARM_DECIDED	"decided"
#define ST_ALARM_INVALID	"invalid"

/* Update mask of an alarm row (alarm rows only): its decisions. */
#define SF_ALARM_DECIDED	0x0004

/*
 * A request received on an alarm route.  body is the text sent when it
 * is UTF-8 (encoding "text"), else its base64 ("base64"); NULL when
 * it was not read (too large).  status is "firing" when any event
 * fires, "resolved" when all are resolved, NULL when invalid.
 * verdicts lists the verdicts reached, " started duplicate ".
 */
struct store_alarm {
	char	 id[UUID_STRLEN];
	char	*source;
	char	*route;
	json_t	*headers;		/* {name: value}, no secrets */
	char	*body;
	char	*encoding;
	int64_t	 size;
	char	*remote;
	char	*request_id;
	char	*state;
	char	*status;
	char	*error;			/* invalid: what is wrong */
	int64_t	 events;
	char	*verdicts;
	char	*replay_of;		/* the alarm replayed, or NULL */
	int64_t	 triggers_version;
	int64_t	 received_at;
	int64_t	 decided_at;
};

/* A normalized event of an alarm (id "ALARM/SEQ"). */
struct store_alarm_event {
	char	*id;
	char	 alarm_id[UUID_STRLEN];
	int64_t	 seq;
	char	*source;
	char	*key;
	char	*status;
	char	*name;
	char	*severity;
	char	*resource_kind;
	char	*resource_id;
	char	*resource_host;
	json_t	*labels;
	json_t	*annotations;
	char	*starts_at;
	int64_t	 created_at;
};

/*
 * One trigger's verdict on one event (id "ALARM/SEQ/ORD": an alarm is
 * decided once).  execution_id: the one started, the one a duplicate
 * is held by, or the one cancelled; until_at (0: none) and
 * until_resolved say how long a duplicate is held.
 */
struct store_alarm_decision {
	char	*id;
	char	 alarm_id[UUID_STRLEN];
	int64_t	 seq;
	int64_t	 ord;
	char	*trigger_name;
	char	*verdict;
	char	*workflow;
	json_t	*input;
	char	*key;
	char	*execution_id;
	int64_t	 until_at;
	int	 until_resolved;
	char	*limit_by;
	char	*reason;
	int64_t	 created_at;
};

/* The execution a (trigger, key) started, and how long it holds. */
struct store_alarm_hold {
	char	*id;			/* store_alarm_hold_id() */
	char	*trigger_name;
	char	*key;
	char	*execution_id;
	char	*alarm_id;
	int64_t	 until_at;		/* 0: no time hold */
	int	 until_resolved;
	int64_t	 resolved_at;		/* 0: not resolved */
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* Executions a trigger started in the window opened at window_start. */
struct store_alarm_limit {
	char	*id;			/* store_alarm_hold_id(trigger, by) */
	char	*trigger_name;
	char	*by_value;
	int64_t	 window_start;
	int64_t	 window_ms;
	int64_t	 n;
	int64_t	 updated_at;
};

/* A request refused by an alarm source's authentication. */
struct store_alarm_auth_failure {
	int64_t	 id;
	int64_t	 time;
	char	*source;
	char	*route;
	char	*remote;
	int64_t	 size;
	char	*reason;
	char	*request_id;
};

extern const struct store_table store_alarm_table, store_alarm_event_table;
extern const struct store_table store_alarm_decision_table;
extern const struct store_table store_alarm_hold_table;
extern const struct store_table store_alarm_limit_table;
extern const struct store_table store_alarm_auth_failure_table;

/* The key of a hold or a limit counter: ["trigger","key"] (malloc'd). */
char		*store_alarm_hold_id(const char *trigger, const char *key);
/* Is an alarm row still to be decided (neither decided nor invalid)? */
int		 store_alarm_undecided(const struct store_alarm *);
/* The holds and counters of several ids ((trigger, key) pairs). */
enum store_rc	 store_alarm_holds_load(struct store *, char *const *ids,
		     size_t n, struct store_alarm_hold ***out, size_t *nout);
enum store_rc	 store_alarm_limits_load(struct store *, char *const *ids,
		     size_t n, struct store_alarm_limit ***out, size_t *nout);
/*
 * Take a hold for an execution: fails the change set (STORE_CONFLICT)
 * when another execution still holds it (until_resolved and not
 * resolved, or until_at not past, by the database's clock).
 * hold_ms > 0 holds for that long from now.
 */
void		 store_tx_alarm_hold(struct store_tx *,
		     const struct store_alarm_hold *, int64_t hold_ms);
/* Mark the hold id resolved, if it waits for it. */
void		 store_tx_alarm_release(struct store_tx *, const char *id);
/*
 * Count one more execution in a limit: fails the change set when count
 * are counted in the current window; a window over starts another.
 */
void		 store_tx_alarm_limit(struct store_tx *,
		     const struct store_alarm_limit *, int64_t count);
/* Accept a signature once until expires_at; a replay fails the set. */
void		 store_tx_alarm_nonce(struct store_tx *, const char *id,
		     int64_t expires_at);
/* Events and decisions of an alarm, in order. */
enum store_rc	 store_alarm_events_load(struct store *, const char *alarm_id,
		     struct store_alarm_event ***out, size_t *n);
enum store_rc	 store_alarm_decisions_load(struct store *,
		     const char *alarm_id, struct store_alarm_decision ***out,
		     size_t *n);
/* Ids of alarms received before `before` and not decided, oldest first. */
enum store_rc	 store_alarms_pending(struct store *, int64_t before,
		     size_t limit, char ***ids, size_t *n);
/* Delete the nonces that expired. */
enum store_rc	 store_alarm_nonces_reap(struct store *);
/*
 * Record message m (BORA-ALM-002) unless the current window of the
 * limit counter limit_id has had one: one per trigger, limit.by value
 * and window, however many alarms the limit turns away, on any number
 * of engines.  After store_tx_alarm_limit() in the same change set,
 * the window it opened counts.
 */
void		 store_tx_alarm_limit_message(struct store_tx *,
		     const char *limit_id, const struct store_message *m);
/* Rows a purge of alarms deleted, by kind. */
struct store_alarm_purged {
	size_t	 alarms;
	size_t	 events;
	size_t	 decisions;
	size_t	 holds;
	size_t	 limits;
	size_t	 auth_failures;
};
/*
 * Delete up to batch alarms received before before (ms) with their
 * events and decisions, in one transaction; alarms not decided yet
 * and alarms whose hold is still in force stay.  Then up to batch each
 * of holds no longer in force and unchanged since before, limit
 * counters whose window ended before it, and refused requests older.
 * *out gets what went.
 */
enum store_rc	 store_alarm_purge(struct store *, int64_t before,
		     size_t batch, struct store_alarm_purged *out);
/* ---- Masakari's segments, hosts and notifications ----------------- */

/* A segment by uuid or name; a host by uuid or name; NOTFOUND else. */
enum store_rc	 store_segment_find(struct store *, const char *uuid_or_name,
		     struct store_segment **out);
enum store_rc	 store_host_find(struct store *, const char *uuid_or_name,
		     struct store_host **out);
/* The hosts of a segment, newest first (Masakari's reserved order). */
enum store_rc	 store_hosts_of(struct store *, const char *segment_uuid,
		     struct store_host ***out, size_t *n);
/* Every segment, oldest first. */
enum store_rc	 store_segments_all(struct store *,
		     struct store_segment ***out, size_t *n);
enum store_rc	 store_notification_find(struct store *, const char *uuid,
		     struct store_notification **out);
void		 store_segment_free(struct store_segment *);
void		 store_host_free(struct store_host *);
void		 store_notification_free(struct store_notification *);
/* Delete a segment with its hosts; a host.  Missing: NOTFOUND. */
void		 store_tx_segment_delete(struct store_tx *, const char *uuid);
void		 store_tx_host_delete(struct store_tx *, const char *uuid);
/*
 * Take a reserved host: reserved becomes 0 if it was 1 and the host is
 * not on maintenance, else the change set fails with STORE_CONFLICT.
 */
void		 store_tx_host_take(struct store_tx *, const char *name);
/*
 * Put a host on maintenance (and no longer reserved when unreserve is
 * set); a host already on maintenance: STORE_CONFLICT.
 */
void		 store_tx_host_maintain(struct store_tx *, const char *name,
		     int unreserve);
/*
 * Serialise the notifications of one host (a row lock held to the end
 * of the change set) and refuse a duplicate: STORE_CONFLICT when a
 * notification with the same dedup text was generated at or after
 * since_ms.
 */
void		 store_tx_notification_unique(struct store_tx *,
		     const char *hostname, const char *dedup,
		     int64_t since_ms);
/*
 * The recovery of a notification began (new -> running), ended (status
 * finished, ignored or error, with why; an error after a retry is
 * "failed").  Notifications already past them are left as they are.
 */
void		 store_tx_notification_run(struct store_tx *, const char *uuid);
/*
 * Masakari's periodic work: notifications whose recovery ended in error
 * at or before before_ms and was not tried again (at most limit); one
 * marked tried again with a new execution (running; a notification
 * tried again already: STORE_CONFLICT); those still new or in error
 * created at or before before_ms marked failed (*n of them).
 */
enum store_rc	 store_notifications_to_retry(struct store *,
		     int64_t before_ms, size_t limit,
		     struct store_notification ***out, size_t *n);
void		 store_tx_notification_retry(struct store_tx *,
		     const char *uuid, const char *execution_id);
enum store_rc	 store_notifications_expire(struct store *,
		     int64_t before_ms, size_t *n);
void		 store_tx_notification_end(struct store_tx *, const char *uuid,
		     const char *status, const char *info);

#endif /* STORE_H */
