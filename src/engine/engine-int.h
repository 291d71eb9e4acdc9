/*
 * engine-int.h -- shared by the engine's own files: the registry of
 * parsed definitions, executions held in memory while this engine owns
 * their lease, and the steps of the task state machine.
 */
#ifndef ENGINE_INT_H
#define ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "actions/actions.h"
#include "dsl/dsl.h"
#include "engine/engine.h"
#include "expr/expr.h"
#include "store/store.h"

/* One parsed definition version, shared by the executions using it. */
struct engine_def {
	char			 id[UUID_STRLEN];
	char			*kind;
	char			*name;
	char			*namespace;	/* "" by default */
	char			*scope;		/* "private", "public" */
	char			*source;
	int			 version;
	int64_t			 created_at;
	int64_t			 updated_at;
	char			*text;
	struct dsl_workbook	*wb;		/* NULL: not parsed yet (an
						   actions file), or
						   unparsable */
	int			 unparsable;	/* its text does not parse */
	int			 current;	/* newest of its (kind, name) */
	int			 refs;		/* executions in memory using it */
	json_t			*wf_ids;	/* workflow name -> stable id */
};

/* Work kinds (store_work.kind). */
#define WK_START	"start"		/* begin an execution (older rows;
					   new executions need none) */
#define WK_RUN		"run"		/* run a task (wait-before, lock) */
#define WK_RETRY	"retry"		/* next attempt after delay */
#define WK_WAIT_AFTER	"wait-after"	/* finish an attempt after delay */
#define WK_TIMEOUT	"timeout"	/* task timeout */
#define WK_RESULT	"result"	/* async action result arrived */
#define WK_CHILD	"child"		/* a sub-workflow ended */
#define WK_STATE	"state"		/* pause/resume/cancel/end asked */
#define WK_RERUN	"rerun"		/* re-run a failed task */

/*
 * A task execution in memory.  row is the persisted state; the rest is
 * derived and rebuilt from rows when an execution is loaded.
 *
 * Invariants: state is row->state as an enum, and both change only by
 * engine_task_move(); row->state is the committed state, except while
 * a step is building its change set.
 */
struct task_rt {
	struct store_task	*row;
	enum store_state	 state;
	const struct dsl_task	*spec;
	int			 attempt;	/* current retry number */
	/* with-items (nitems == 0 for a plain task: one implicit item) */
	size_t			 nitems;
	json_t			*item_vals;	/* array of item var objects */
	json_t			*results;	/* array, item order */
	unsigned char		*done;		/* per item: IDLE (not started),
						   RUNNING, SUCCESS or ERROR;
						   see engine_item_move() */
	size_t			 ndone;
	size_t			 nfailed;
	size_t			 nrunning;
	size_t			 next;		/* next item to start */
	size_t			 concurrency;	/* 0: all */
	json_t			*input;		/* evaluated input (plain) */
	int			 keep_result;
	int			 cancelled;	/* ignore late results */
	int			 fired;		/* transitions evaluated */
	json_t			*fired_to;	/* names its transitions fired to */
	int64_t			 started_mono;
	struct exec_rt		*exec;		/* its execution */
	int			 told;		/* a user message says why it
						   failed (no BORA-TSK-001) */
};

/* Counters of what the reapers and the outbox did, for /metrics. */
enum engine_stat {
	ENGINE_REAPED_MESSAGES,
	ENGINE_REAPED_EXECUTIONS,
	ENGINE_REAPED_TASKS,
	ENGINE_REAPED_ACTIONS,
	ENGINE_REAPED_EVENTS,
	ENGINE_REAPED_NOTIFICATIONS,
	ENGINE_REAPED_ALARMS,
	ENGINE_REAPED_ALARM_EVENTS,
	ENGINE_REAPED_ALARM_DECISIONS,
	ENGINE_REAPED_ALARM_HOLDS,
	ENGINE_REAPED_ALARM_LIMITS,
	ENGINE_REAPED_ALARM_AUTH,
	ENGINE_NOTIFY_SENT,
	ENGINE_NOTIFY_RETRIED,
	ENGINE_NOTIFY_DEAD,
	ENGINE_NSTATS
};
struct engine_outbox;
struct engine_reaper;

/* An execution in memory; state is row->state (engine_exec_move()). */
struct exec_rt {
	struct store_exec	*row;
	enum store_state	 state;
	struct engine_def	*def;
	const struct dsl_workflow *wf;
	struct task_rt		**tasks;	/* creation order */
	size_t			 ntasks;
	int64_t			 next_seq;
	int64_t			 next_due;	/* earliest work due; 0 none */
	json_t			*data_base;	/* input + context, cached */
	int			 finished;	/* final: drop after commit */
	int			 dropped;	/* a step failed: reload */
	size_t			 npending;	/* steps waiting for a flush */
	size_t			 ninflight;	/* actions running in this
						   process (not async) */
	int			 parked;	/* given back as waiting */
	struct exec_rt		*next_loaded;	/* engine list */
	/* progress() messages of evaluations, for the next commit. */
	struct store_tx		*progress;
	struct task_rt		*ctx_task;	/* task of the last evaluation */
	json_t			*notify;	/* receivers of its events
						   (engine_tell_targets) */
};

/* An action to start once the step that recorded it has committed. */
struct step_start {
	const struct action_entry *entry;
	json_t			*input;
	char			 action_id[UUID_STRLEN];
	char			 task_id[UUID_STRLEN];
	char			 task_name[128];
	int			 attempt;
	int			 item;
	const struct dsl_action	*adhoc;
};

/*
 * One step of one execution: the change set that makes it durable, and
 * what to do once it has committed (start actions, run the next tasks,
 * tell observers).  Nothing outside the process happens before commit.
 */
struct step {
	struct store_tx		*tx;
	struct step_start	*starts;
	size_t			 nstarts;
	struct task_rt		**ready;
	size_t			 nready;
	struct task_rt		**changed;
	size_t			 nchanged;
	int			 exec_changed;
	int			 poke;		/* new executions to claim */
	int			 ready_pushed;	/* ready queued at record time */
	int			 notified;	/* outbox rows recorded */
};

/* A task to run in this turn of the loop. */
struct ready_ent {
	char			 exec_id[UUID_STRLEN];
	char			 task_id[UUID_STRLEN];
};

struct pending_step {
	struct exec_rt		*rt;
	struct step		 s;
};

/* An action completion coming back from the I/O thread. */
struct engine_done {
	char			 exec_id[UUID_STRLEN];
	char			 task_id[UUID_STRLEN];
	char			 action_id[UUID_STRLEN];
	int			 attempt;
	int			 item;
	int			 ok;
	json_t			*result;
	struct engine		*engine;
	const struct dsl_action	*adhoc;		/* output transform */
	struct engine_def	*adhoc_def;
	int			 is_async;	/* an async action's failure */
	int			 in_async;	/* on engine->async */
	struct engine_done	*async_prev;
	struct engine_done	*async_next;
	int			 sync_phase;	/* inside run() */
	int			 sync_called;	/* done came inside run() */
	struct engine_done	*next;
};

struct engine {
	struct engine_config	 cfg;
	char			 id[64];
	struct store		*st;		/* the loop's connection */
	struct store_pool	*pool;		/* every other thread's road */
	struct store_group	*starts;	/* the API's starts, committed
						   together */
	pthread_mutex_t		 api_mtx;	/* guards defs; taken after a
						   connection of the pool */
	uint64_t		 gen;		/* tells engines apart */
	struct action_io	*io;
	struct expr		*ex;		/* the loop's sandbox */
	struct expr		*api_ex;	/* validation from other threads */

	struct engine_def	**defs;
	size_t			 ndefs;
	int64_t			 defs_gen;	/* store generation seen */
	const char		*resolve_ns;	/* namespace validated in */

	struct exec_rt		*loaded;	/* executions owned here */
	size_t			 nloaded;

	/* Completions from the I/O thread, and wake-ups. */
	pthread_mutex_t		 inbox_mtx;
	pthread_cond_t		 inbox_cond;
	struct engine_done	*inbox;
	struct engine_done	*inbox_tail;
	struct engine_done	*async;		/* async actions awaiting */
	int			 poked;
	/* Executions other threads inserted leased to this engine. */
	char			**adopt;
	size_t			 nadopt;

	pthread_t		 thread;
	int			 running;
	atomic_int		 stopping;	/* set by engine_stop() */
	int64_t			 last_renew;
	int64_t			 last_claim;
	int			 claim_more;	/* a backlog: claim next turn */
	int64_t			 store_due;	/* earliest due work of
						   executions not in memory
						   (parked), wall ms; 0 none */
	/*
	 * Until when (monotonic ms) the leases of every loaded execution
	 * are known to hold: a renewal sent at t holds them until t plus a
	 * lease, less a margin.  Past it nothing is committed before a
	 * renewal says which are still this engine's.
	 */
	int64_t			 lease_ok_until;
	int64_t			 busy_at;	/* last turn that did work */
	int			 tidied;	/* store_idle() this idle spell */
	int64_t			 cron_check;	/* next check (mono ms) */

	/*
	 * Group commit: while the loop runs a turn, committed steps wait
	 * here and engine_flush() applies them in one transaction, each
	 * execution's steps all or nothing.
	 */
	struct ready_ent	*ready_q;	/* loop thread only */
	size_t			 ready_n;
	size_t			 ready_cap;
	size_t			 ready_head;

	struct pending_step	*pending;
	size_t			 npending;
	size_t			 pending_cap;
	int			 batching;
	int			 store_down;	/* steps wait for the store */

	json_t			*locks;		/* lock name -> execution id */
	json_t			*ctx_exec;	/* execution() of the last eval */
	json_t			*ctx_task;	/* task() of the last eval */

	struct engine_observer	 obs;
	void			*watch;		/* engine-watch.c */
	struct engine_alarms	*alarms;	/* engine-alarms.c */
	/*
	 * Called (api_mtx held) when the current definitions change, so
	 * that what is built from them (the triggers) is built again.
	 */
	void			(*defs_changed)(struct engine *);
	char			 callback_base[256];

	/* What users are told, and what is kept. */
	json_t			*notify_default; /* borad's receivers */
	char			*notify_secret;
	struct engine_outbox	*outbox;	/* engine-outbox.c; set and
						   cleared by its owner */
	int			 outbox_wake[2]; /* pokes it, engine-long */
	struct engine_reaper	*reaper;	/* engine-reap.c */
	_Atomic uint64_t	 stats[ENGINE_NSTATS];
};

/*
 * The files of the engine, each calling only the files listed before it
 * (no circle: see the call graph):
 *
 *	engine-inbox.c	actions in flight, their completions, executions
 *			handed to the loop
 *	engine-owner.c	engine ids, and whether an owner is gone
 *	engine-outbox.c	the sender of the outbox (its own thread)
 *	engine-data.c	what a task's expressions see
 *	engine-commit.c	steps: recording, committing, what follows
 *	engine-tell.c	Mistral's notify: events as outbox rows of moves
 *	engine-state.c	the legal moves of states, and moving
 *	engine-end.c	the end of an execution
 *	engine-defs.c	the registry of parsed definitions; what is built
 *			from them is told through e->defs_changed
 *	engine-task.c	the task state machine and the completion rule
 *	engine-load.c	executions into memory; beginning and recovery
 *	engine-exec.c	due work and completions of a loaded execution
 *	engine-calls.c	calls from other threads
 *	engine-cron.c	cron triggers
 *	engine-alarms.c	the triggers in force and the alarms' decisions
 *	engine-reap.c	the reapers: messages, old executions and alarms
 *			(a thread)
 *	engine.c	the loop: claims, turns, start and stop
 *	engine-watch.c	watched definition folders
 *	engine-conf.c	borad's engine from its configuration
 *
 * User messages (src/msg) are recorded by engine_message() in the steps
 * that fail an execution or a task (engine-end.c, engine-task.c,
 * engine-exec.c).
 */

/* engine-defs.c */
struct engine_def *engine_defs_find_id(struct engine *, const char *id);
/*
 * The parsed text of a definition, parsed now if it was not (an actions
 * file); NULL when it does not parse (logged once).  api_mtx held.
 */
const struct dsl_workbook *engine_def_wb(struct engine_def *);
/* The current def holding a workflow of that name, and the workflow. */
struct engine_def *engine_defs_workflow(struct engine *, const char *name,
		     const struct dsl_workflow **);
/* The current def holding an ad-hoc action of that name. */
struct engine_def *engine_defs_action(struct engine *, const char *name,
		     const struct dsl_action **);
/*
 * The same in a namespace: the definitions of ns first, then of the
 * default namespace "" (Mistral's lookup).
 */
struct engine_def *engine_defs_workflow_ns(struct engine *, const char *name,
		     const char *ns, const struct dsl_workflow **);
struct engine_def *engine_defs_action_ns(struct engine *, const char *name,
		     const char *ns, const struct dsl_action **);
/*
 * Catch up with definitions other engines committed (PostgreSQL): the
 * store's generation is read through st and the registry reloaded when
 * it moved.  Called before answering from the registry.
 */
void		 engine_defs_sync(struct engine *, struct store *st);
/* A workflow's stable id (UUID_STRLEN into out; "" when unknown),
 * cached on its parsed definition. */
void		 engine_workflow_id(struct engine *, struct store *,
		     struct engine_def *, const char *name, char *out);
/* A def version from the store by id (loads and parses when needed). */
struct engine_def *engine_defs_get(struct engine *, struct store *,
		     const char *id, char **cause);
int		 engine_defs_load_all(struct engine *, char **cause);
void		 engine_defs_free(struct engine *);

/* engine-owner.c */
/* This process's engine id, "host:pid:x", into id. */
void		 engine_owner_make(char *id, size_t size);
/* Is owner an engine of this host whose process is gone? */
int		 engine_owner_dead(const char *owner);

/* engine-inbox.c */
/* Wake the loop (from any thread). */
void		 engine_poke(struct engine *);
/*
 * Load an execution another thread committed with this engine as its
 * owner (and a lease): the loop takes it without claiming it.
 */
void		 engine_adopt(struct engine *, const char *id);
/* Start an action of a committed step. */
void		 engine_action_start(struct engine *, struct exec_rt *,
		     const struct step_start *);
/* Queue a completion for the loop and wake it (inbox_mtx held). */
void		 engine_inbox_push(struct engine *, struct engine_done *);
/* Take an async action's record off the list (inbox_mtx held). */
void		 engine_async_unlink(struct engine *, struct engine_done *);
/* Forget the record of an async action whose result came. */
void		 engine_async_forget(struct engine *, const char *action_id);

/* engine-data.c */
struct task_rt	*engine_task_find_id(struct exec_rt *, const char *id);
struct task_rt	*engine_task_find_name(struct exec_rt *, const char *name);
/* The data table _ for a task (new reference). */
json_t		*engine_task_data(struct exec_rt *, struct task_rt *,
		     size_t item);
void		 engine_expr_ctx(struct engine *, struct exec_rt *,
		     struct task_rt *, json_t *data, struct expr_ctx *);
json_t		*engine_task_json(const struct store_task *);
/* Record an event of a kind ("task", "execution", "progress") in tx. */
void		 engine_event_record(struct store_tx *, struct exec_rt *,
		     struct task_rt *, const char *kind, const char *level,
		     double progress, const char *msg);
/* progress() of expressions and inline actions (arg: the exec_rt). */
void		 engine_progress_emit(void *arg, const char *msg,
		     double fraction);
/* A task's own progress message (s NULL: with the next commit). */
void		 engine_progress(struct exec_rt *, struct task_rt *,
		     struct step *, const char *level, double progress,
		     const char *msg);

/* engine-commit.c */
/* Note a task changed (observers are told), or ready to run, in s. */
void		 engine_step_changed(struct step *, struct task_rt *);
void		 engine_step_ready(struct step *, struct task_rt *);
void		 engine_add_work(struct engine *, struct exec_rt *,
		     struct step *, const char *kind, const char *task_id,
		     int64_t delay_ms, json_t *payload);
void		 engine_event(struct exec_rt *, struct task_rt *,
		     struct step *, const char *level, double progress,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Post-commit queue: ready tasks to run in this loop iteration. */
void		 engine_ready_push(struct engine *, struct exec_rt *,
		     struct task_rt *);
void		 engine_notify_task(struct engine *, struct exec_rt *,
		     struct task_rt *);
void		 engine_notify_exec(struct engine *, struct exec_rt *);
void		 engine_locks_forget(struct engine *, const char *exec_id);
int		 engine_exec_park(struct engine *, struct exec_rt *,
		     int64_t now);
/*
 * Record a user message of the catalog (msg.h) in step s, about the
 * execution, or its task t when the entry is about a task: the pairs
 * name, value, ..., NULL fill its placeholders.
 */
void		 engine_message(struct exec_rt *, struct task_rt *,
		     struct step *, const char *event_id, ...);
/*
 * No reserved host could be taken to recover host of segment (the
 * recovery flows of reserved hosts call it in the step that fails).
 */
void		 engine_reserved_host_failed(struct exec_rt *, struct step *,
		     const char *host, const char *segment,
		     const char *reason);
/* Commit a step (or queue it while batching); on conflict the
 * execution is dropped and reloaded from the store. */
int		 engine_commit(struct engine *, struct exec_rt *,
		     struct step *);
/* Commit the queued steps together. */
void		 engine_flush(struct engine *);
void		 engine_pending_drop(struct engine *);
/*
 * Renew the leases of the loaded executions (force: now; else only when
 * they may have run out) and let go those another engine took over:
 * 0 when the rest are known held, -1 when that cannot be known now.
 */
int		 engine_lease_renew(struct engine *, int force);
/* The leases of every loaded execution were granted at sent (mono ms). */
void		 engine_lease_granted(struct engine *, int64_t sent);

/* engine-state.c */
enum engine_machine {
	ENGINE_EXEC,		/* executions */
	ENGINE_TASK,		/* task executions */
	ENGINE_ACTION,		/* action executions */
	ENGINE_ITEM,		/* with-items items of an attempt */
	ENGINE_NMACHINES
};
/* Is from -> to a legal move of machine m? */
int		 engine_state_legal(enum engine_machine, enum store_state from,
		     enum store_state to);
/*
 * The one function that applies a move: *cur becomes to when legal (0);
 * an illegal move is logged as a bug (log_warnx "BUG: ...") and refused
 * (-1), and nothing of it may be written.
 */
int		 engine_state_move(enum engine_machine, const char *id,
		     enum store_state *cur, enum store_state to);
/*
 * Move a task, an execution, in step s: its state, state_info (info,
 * with SF_STATE_INFO in mask), start and end times of a task (with
 * SF_STARTED, SF_FINISHED), and the other fields in mask as the caller
 * set them, written guarded by the state it had.  -1 when refused.
 */
int		 engine_task_move(struct task_rt *, enum store_state to,
		     const char *info, unsigned mask, struct step *);
int		 engine_exec_move(struct exec_rt *, enum store_state to,
		     const char *info, unsigned mask, struct step *);
/* Record moving a copy of an execution or action execution row. */
int		 engine_row_move(struct store_tx *, enum engine_machine,
		     void *row, enum store_state from, enum store_state to,
		     unsigned mask);
/* Move an item of a task's current attempt (memory only). */
int		 engine_item_move(struct task_rt *, size_t item,
		     enum store_state to);

/* engine-end.c */
/* Did a failed task have a handler (on-error or on-complete)? */
int		 engine_task_handled(struct task_rt *);
void		 engine_task_close_actions(struct engine *, struct task_rt *,
		     enum store_state, const char *info, struct step *);
/* End the execution in state with info; cancels live tasks. */
void		 engine_exec_finish(struct engine *, struct exec_rt *,
		     enum store_state, const char *info, struct step *);

/* engine-task.c */
/*
 * How an action name is resolved to a built-in entry through ad-hoc
 * actions: the sandbox evaluating base-input and output (the caller's
 * thread's), a workbook whose own actions come first (or NULL), the
 * namespace, and what the expressions see besides the input (fill sets
 * ctx->data to data and the rest).
 */
struct engine_resolve {
	struct engine			*e;
	struct expr			*ex;
	const struct dsl_workbook	*wb;
	const char			*ns;
	void				(*fill)(void *, json_t *data,
					    struct expr_ctx *);
	void				*arg;
};
const struct action_entry *engine_action_resolve(struct engine *,
		     const struct engine_resolve *, const char *name,
		     json_t **input, const struct dsl_action **adhoc,
		     char **cause);
/* Apply the outputs of an ad-hoc action and its ad-hoc bases, the
 * innermost first. */
json_t		*engine_adhoc_output_rc(const struct engine_resolve *,
		     const struct dsl_action *, json_t *result, int *ok);
struct task_rt	*engine_task_create(struct engine *, struct exec_rt *,
		     const struct dsl_task *, json_t *in_context,
		     struct step *);
/* Run (or continue) a RUNNING task: start its action(s). */
void		 engine_task_run(struct engine *, struct exec_rt *,
		     struct task_rt *);
/* An action or sub-workflow of a task finished. */
void		 engine_task_done(struct engine *, struct exec_rt *,
		     struct task_rt *, int attempt, int item,
		     const char *action_id, int ok, json_t *result);
/* The attempt outcome decided (after wait-after): retry or complete. */
void		 engine_task_attempt_decide(struct engine *, struct exec_rt *,
		     struct task_rt *, int ok, json_t *result, struct step *);
void		 engine_task_attempt_end(struct engine *, struct exec_rt *,
		     struct task_rt *, int ok, json_t *result,
		     struct step *);
/* Fail a task now (expression error, timeout, interrupted action). */
void		 engine_task_fail(struct engine *, struct exec_rt *,
		     struct task_rt *, const char *info, struct step *);
/* A join target may be ready: re-evaluate. */
void		 engine_task_join_check(struct engine *, struct exec_rt *,
		     struct step *);
void		 engine_task_rt_free(struct task_rt *);
json_t		*engine_adhoc_output(struct engine *, struct exec_rt *,
		     struct task_rt *, const struct dsl_action *, json_t *result,
		     int *ok);
int		 engine_task_reverse_start(struct engine *, struct exec_rt *,
		     const char *target, struct step *, char **cause);
size_t		 engine_task_count(struct task_rt *);
void		 engine_task_item_reset(struct task_rt *, int item);
/* -1: the items cannot be evaluated; -2: the store failed. */
int		 engine_task_items_rebuild(struct engine *, struct exec_rt *,
		     struct task_rt *, struct store_action **, size_t,
		     char **cause);
/* Evaluate a policy template to a number/bool. */
int		 engine_policy_num(struct engine *, struct exec_rt *,
		     struct task_rt *, json_t *tmpl, double def, double *out,
		     char **cause);
int		 engine_policy_bool(struct engine *, struct exec_rt *,
		     struct task_rt *, json_t *tmpl, int def, int *out,
		     char **cause);
/* Decide whether the execution is complete; adds to the step. */
void		 engine_exec_check_done(struct engine *, struct exec_rt *,
		     struct step *);

/* engine-load.c */
struct exec_rt	*engine_exec_find(struct engine *, const char *id);
struct exec_rt	*engine_exec_load(struct engine *, const char *id,
		     char **cause);
struct exec_rt	*engine_exec_build(struct engine *, struct store_exec *,
		     struct store_task **, size_t, char **cause);
void		 engine_exec_unload(struct engine *, struct exec_rt *);
/* Begin an execution: vars, then its start tasks. */
void		 engine_exec_begin(struct engine *, struct exec_rt *,
		     struct step *);
/* Resume an execution loaded after a crash or takeover. */
void		 engine_exec_recover(struct engine *, struct exec_rt *);

/* engine-alarms.c */
struct engine_alarms;
struct alarm_batch;
struct store_alarm;
void		 engine_alarms_open(struct engine *, const struct expr_limits *);
void		 engine_alarms_close(struct engine *);
/* Rebuild the triggers in force as a new version (e->api_mtx held). */
void		 engine_alarms_rebuild(struct engine *);
/* Lost alarms and expired nonces, now and then (the loop). */
void		 engine_alarms_tick(struct engine *, int64_t mono);
/* engine_alarm_decide() from the loop (its sandbox) when loop is 1. */
enum store_rc	 engine_alarm_decide_in(struct engine *, struct store *,
		     const struct store_alarm *, const struct alarm_batch *,
		     int dry, int loop, json_t **events, char **cause);
size_t		 engine_alarm_recover_in(struct engine *, struct store *,
		     int64_t older_ms, int loop);

/* engine-exec.c */
/* Handle one completion from the inbox. */
void		 engine_exec_done_one(struct engine *, struct engine_done *);
/* Process due work of a loaded execution. */
void		 engine_exec_work(struct engine *, struct exec_rt *);


/* engine-cron.c */
#define CRON_CHECK_MS	250
/* Fire the cron triggers that are due (the loop, every CRON_CHECK_MS). */
void		 engine_cron_run(struct engine *);
/* engine-tell.c */
/* Check params.notify; -1 + *cause naming what is wrong. */
int		 engine_tell_check(json_t *notify, char **cause);
/* A receiver from borad.conf's "URL [events=..] [header=N:V]..". */
json_t		*engine_tell_parse(const char *spec, char **cause);
/* The receivers of an execution's events; NULL when none. */
json_t		*engine_tell_targets(struct engine *,
		     const struct store_exec *);
/* Record event for each receiver that wants it; how many. */
int		 engine_tell_add(struct store_tx *, json_t *targets,
		     const struct store_exec *, const struct store_task *,
		     const char *event);
/* The events of moves (called by engine-state.c's moves). */
void		 engine_tell_exec(struct exec_rt *, enum store_state from,
		     enum store_state to, struct step *);
void		 engine_tell_task(struct task_rt *, enum store_state from,
		     enum store_state to, int started, struct step *);
/* The event of an execution row's move outside the loop (a start, a
 * re-run from another thread); how many rows were recorded. */
int		 engine_tell_row(struct engine *, struct store_tx *,
		     const struct store_exec *, enum store_state from,
		     enum store_state to);

/* engine-outbox.c */
int		 engine_outbox_start(struct engine *, char **cause);
void		 engine_outbox_stop(struct engine *);

/* engine-reap.c */
int		 engine_reap_start(struct engine *, char **cause);
void		 engine_reap_stop(struct engine *);

/* engine.c */
int		 engine_takeover(struct engine *, const char *id);
void		 engine_loop_once(struct engine *, int64_t max_wait_ms);

#endif /* ENGINE_INT_H */
