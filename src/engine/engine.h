/*
 * engine.h -- the interpreter: definitions registry, executions, the
 * task state machine, policies, timers and recovery.
 *
 * An engine runs one loop thread with its own store connection and Lua
 * sandbox, and an I/O thread for actions that wait.  Work on one
 * execution is serialised on the engine holding its lease, so joins and
 * completion are decided on a consistent view; executions spread over
 * engines (processes sharing one PostgreSQL).
 *
 * Ownership: arguments are borrowed; returned json_t and strings are
 * owned by the caller.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "dsl/dsl.h"
#include "store/store.h"

struct engine;
struct conf;
struct action_io;

struct engine_config {
	const char	*db_url;		/* store URL */
	const char	*engine_id;		/* NULL: generated */
	int64_t		 lease_ms;		/* default 15000 */
	int64_t		 poll_ms;		/* default 1000 */
	size_t		 max_inflight;		/* I/O actions, default 1024 */
	const char	*lua_dir;		/* expression library, or NULL */
	const char	*callback_base;		/* "http://host:port" */
	uint64_t	 expr_max_instructions;
	size_t		 expr_max_memory;
	int64_t		 expr_max_time_ms;	/* default 1000 */
	int		 resume;		/* claim unfinished at start */
	int		 in_process;		/* one thread, one connection
						   (bora run, tests) */
	size_t		 pool_max;		/* other threads' connections
						   at most, default 16 */
	/*
	 * What is kept (engine-reap.c): an interval <= 0 stops that
	 * reaper; retention 0 keeps finished executions (alarms) forever.
	 */
	int64_t		 message_reap_interval_ms;
	size_t		 message_reap_batch;	/* default 1000 */
	int64_t		 exec_retention_ms;
	int64_t		 exec_reap_interval_ms;
	size_t		 exec_reap_batch;	/* default 100 */
	int64_t		 alarm_retention_ms;
	int64_t		 alarm_reap_interval_ms;
	size_t		 alarm_reap_batch;	/* default 500 */
	/* Notifications (engine-tell.c, engine-outbox.c). */
	json_t		*notify;		/* default receivers, copied:
						   [{url, headers,
						   event_types}] */
	const char	*notify_secret;		/* HMAC key, or NULL */
	int		 notify_max_attempts;	/* default 12 */
	int64_t		 notify_backoff_ms;	/* default 1000, doubling */
	int64_t		 notify_backoff_max_ms;	/* default 600000 */
	int64_t		 notify_timeout_ms;	/* default 10000 */
	size_t		 notify_concurrency;	/* default 16 */
	/*
	 * Masakari's notifications (engine-reap.c): a recovery that ended
	 * in error this long ago runs once more (0: never); one still new
	 * or in error this long after it came is failed (0: never).
	 */
	int64_t		 masakari_retry_ms;
	int64_t		 masakari_expire_ms;
};

/* Called on every task and execution transition (may be NULL). */
struct engine_observer {
	void	(*task)(void *arg, const struct store_exec *,
		    const struct store_task *);
	void	(*exec)(void *arg, const struct store_exec *);
	void	*arg;
};

struct engine	*engine_open(const struct engine_config *, char **cause);
/* Start the worker threads (daemon); bora run uses engine_run_until. */
int		 engine_start(struct engine *, char **cause);
/* Stop taking work; wait up to grace_ms for in-flight actions. */
void		 engine_stop(struct engine *, int64_t grace_ms);
void		 engine_close(struct engine *);
/*
 * The road to the store of every thread but the engine loop (HTTP
 * handlers, streams, watchers, reapers): a bounded pool, borrowed by
 * store_pool_get() and given back by store_pool_put().
 */
struct store_pool *engine_pool(struct engine *);
/*
 * The loop's own connection of an in-process engine (bora run, tests),
 * for its one thread between turns of the loop; NULL for a daemon's.
 */
struct store	*engine_store(struct engine *);
/*
 * The I/O loop the engine's actions wait on, for other threads that run
 * an action and wait for it (Keystone checks of the API); NULL before
 * engine_start().
 */
struct action_io *engine_io(struct engine *);
void		 engine_set_observer(struct engine *,
		     const struct engine_observer *);
/*
 * What this engine's reapers and sender did since it opened, for
 * /metrics: {"reaped": {messages, executions, tasks, action_executions,
 * events, notifications, alarms, alarm_events, alarm_decisions,
 * alarm_holds, alarm_limits, alarm_auth_failures}, "notifications":
 * {sent, retried, dead}}.
 */
json_t		*engine_stats(struct engine *);
/* New rows are in the outbox (a notification sent again): send now. */
void		 engine_outbox_poke(struct engine *);
/*
 * borad's engine (engine-conf.c): opened with conf's settings, then its
 * watched folders loaded.  check (borad -n): on an in-memory store, to
 * report every definition's errors (engine_watch_errors).  NULL and
 * *cause ("engine: ..." or "watch: ...") on failure.
 */
struct engine	*engine_open_conf(const struct conf *, int check,
		     char **cause);

/* ---- definitions ------------------------------------------------- */

/*
 * Load (create or update) a definition text: a workbook, a workflow
 * file or an actions file.  Validated first; on error nothing changes
 * and errs holds every problem.  kind is "workbook", "workflows" or
 * "actions"; name NULL means take it from the text (workbooks) or from
 * source.  create_only: STORE_CONFLICT when it exists.
 */
enum store_rc	 engine_def_load(struct engine *, const char *kind,
		     const char *name, const char *text, const char *source,
		     int create_only, struct dsl_errors *errs,
		     struct store_def **out);
enum store_rc	 engine_def_delete(struct engine *, const char *kind,
		     const char *name);
/*
 * Is text from source (a file's path) already the current definition
 * of that kind in the default namespace?  1, with its name in *name
 * (the caller frees it; name may be NULL), or 0.  Loading it again
 * would only save the same text as a new version.
 */
int		 engine_def_current(struct engine *, const char *kind,
		     const char *source, const char *text, char **name);
/*
 * The same in namespace ns ("": the default) with a scope ("private",
 * "public"; NULL: private).
 */
enum store_rc	 engine_def_load_ns(struct engine *, const char *kind,
		     const char *name, const char *ns, const char *scope,
		     const char *text, const char *source, int create_only,
		     struct dsl_errors *errs, struct store_def **out);
enum store_rc	 engine_def_delete_ns(struct engine *, const char *kind,
		     const char *name, const char *ns);
/*
 * An upload through the API of a workflow file ("workflows") or an
 * ad-hoc actions file ("actions"): validated whole, then each workflow
 * or action saved as its own definition, named after it, as Mistral
 * stores them (so one can be updated or deleted alone).  A workbook is
 * saved whole, under its name.
 */
enum store_rc	 engine_def_upload(struct engine *, const char *kind,
		     const char *ns, const char *scope, const char *text,
		     int create_only, struct dsl_errors *errs);
/* Re-read definitions changed in the store by other engines. */
void		 engine_defs_refresh(struct engine *);
/*
 * Validate a text against the engine's actions and workflows without
 * saving it.  Returns the number of errors.
 */
size_t		 engine_def_validate(struct engine *, const char *file,
		     const char *text, struct dsl_errors *errs);

/*
 * Watched definition folders (engine-watch.c): load every *.yaml under
 * the workflows/ and actions/ folders now, then reload on change
 * (inotify) until engine_watch_stop.  A file that fails validation is
 * reported (log and engine_watch_errors) and its previous version
 * stays in force.  engine_watch_reload rescans at once (SIGHUP).
 */
int		 engine_watch_start(struct engine *, const char *const *dirs,
		     size_t ndirs, char **cause);
void		 engine_watch_reload(struct engine *);
void		 engine_watch_stop(struct engine *);
/* Load errors of watched files: [{file, errors: ["F:L:C: msg (path)"]}] */
json_t		*engine_watch_errors(struct engine *);

/* Current workflows: [{id, name, input, interface, definition, tags,
 * created_at, updated_at, workbook}] */
json_t		*engine_workflows(struct engine *);
/* Current ad-hoc and built-in actions: [{name, input, is_system,
 * description, definition}] */
json_t		*engine_actions(struct engine *);
/* A resolver for dsl_validate() over this engine's registry. */
void		 engine_resolver(struct engine *, struct dsl_resolver *);

/* ---- executions -------------------------------------------------- */

struct engine_start_opts {
	const char	*workflow;	/* name or id */
	json_t		*input;		/* object or NULL */
	json_t		*params;	/* {env, task_name} or NULL */
	const char	*id;		/* client-supplied id, or NULL */
	const char	*description;
	const char	*request_id;
	const char	*task_target;	/* reverse workflows */
	const char	*namespace;	/* the workflow's; NULL: "" */
	/*
	 * More writes committed with the new execution, all or nothing
	 * (a guard of theirs failing is the result), or NULL.  Moved
	 * out of the change set.
	 */
	struct store_tx	*also;
};

/*
 * Create an execution and schedule its start.  Input is checked against
 * the workflow's declaration (missing or unexpected keys: STORE_ERROR
 * with *cause).  With an existing id, the existing execution is
 * returned unchanged.  *out gets the row (may be NULL).
 */
enum store_rc	 engine_exec_start(struct engine *,
		     const struct engine_start_opts *, struct store_exec **out,
		     char **cause);
/*
 * The row of a new execution as engine_exec_start() would insert it,
 * not written: the workflow found (STORE_NOTFOUND), its input checked
 * and defaulted (STORE_ERROR with *cause), params set.  For callers
 * that start an execution in a change set of their own.  *out is
 * freed with store_exec_free().
 */
enum store_rc	 engine_exec_prepare(struct engine *, struct store *,
		     const struct engine_start_opts *, struct store_exec **out,
		     char **cause);
/*
 * Would an execution start with these options (the workflow found,
 * the input right)?  STORE_OK, or as engine_exec_start() fails; nothing
 * is saved.
 */
enum store_rc	 engine_exec_check(struct engine *,
		     const struct engine_start_opts *, char **cause);
/* Pause, resume, cancel, or force an end state (with a message). */
enum store_rc	 engine_exec_set_state(struct engine *, const char *id,
		     const char *state, const char *state_info, char **cause);
/* Re-run a failed task (reset: all items, else failed items only). */
enum store_rc	 engine_task_rerun(struct engine *, const char *task_id,
		     int reset, json_t *env, char **cause);
/* An async action's result arrived (PUT /v2/action_executions/{id}). */
enum store_rc	 engine_action_complete(struct engine *, const char *id,
		     const char *state, json_t *output, char **cause);
/* Run one action outside any workflow; sync waits for the result. */
enum store_rc	 engine_action_run(struct engine *, const char *name,
		     json_t *input, int sync, struct store_action **out,
		     char **cause);
/*
 * The same for an action of any kind: a built-in one, or an ad-hoc one
 * (a catalog's, an upload's, a workbook's by its full name) resolved in
 * namespace ns (then the default one) as a workflow's task would.
 */
enum store_rc	 engine_action_run_ns(struct engine *, const char *name,
		     const char *ns, json_t *input, int sync,
		     struct store_action **out, char **cause);

/*
 * In-process use (bora run, tests): process work on the calling thread
 * until execution id reaches a final state or PAUSED, or timeout_ms
 * passes (0: no limit).  Returns the final row's state.
 */
enum store_rc	 engine_run_until(struct engine *, const char *id,
		     int64_t timeout_ms, struct store_exec **out);

/* The execution and its tasks as bora run -f json prints them. */
json_t		*engine_exec_json(struct engine *, const char *id);

/* ---- alarms (engine-alarms.c) ------------------------------------ */

struct alarm_batch;
struct store_alarm;

/*
 * Decide a stored alarm (state "received") on st, a connection the
 * calling thread holds: match its events (batch; NULL: parsed again
 * from the stored body) against the triggers in force, in the thread's
 * own sandbox, and write in one transaction its events, each trigger's
 * verdict, the executions it starts (params.alarm names the alarm, its
 * trigger and key), the holds of their keys and their limit counters,
 * and the alarm marked decided.  A duplicate or a limit is what the
 * store's unique keys and counters say, so engines sharing a database
 * agree.  dry: decide, write nothing (a replay's preview).  *events
 * gets [{key, status, name, verdicts: [{trigger, verdict, workflow,
 * execution_id, until, reason, input}]}].  STORE_UNAVAILABLE: nothing
 * was written, the alarm stays received and is decided later;
 * STORE_CONFLICT: another engine decided it; STORE_ERROR: its body
 * cannot be read.
 */
enum store_rc	 engine_alarm_decide(struct engine *, struct store *,
		     const struct store_alarm *, const struct alarm_batch *,
		     int dry, json_t **events, char **cause);
/*
 * Decide the alarms received older_ms ago or more and still undecided;
 * the loop does it every few seconds.  Returns how many it decided.
 */
size_t		 engine_alarm_recover(struct engine *, int64_t older_ms);
/*
 * Commit a change set of the alarm intake on st, in one transaction
 * with those of other threads arriving meanwhile (group commit).
 */
enum store_rc	 engine_alarm_commit(struct engine *, struct store *,
		     struct store_tx *);
/* The triggers in force, as JSON, and their version. */
json_t		*engine_alarm_triggers(struct engine *, uint64_t *version);
/* Verdicts reached by this process, by enum alarm_verdict (n of them). */
void		 engine_alarm_counts(struct engine *, uint64_t *out, size_t n);

#endif /* ENGINE_H */
