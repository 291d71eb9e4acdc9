/*
 * engine-task.c -- the task state machine: creating tasks, starting
 * their actions or sub-workflows, with-items, policies (retry, timeout,
 * wait-before/after, pause-before, fail-on, keep-result), publishing,
 * transitions and joins, and the completion rule that ends the execution
 * once no task is active.
 *
 * Task states and their legal moves are engine-state.c's; every move
 * goes through engine_task_move().
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "engine/engine-int.h"

#define INFO_MAX	2048

static int	 task_set_state(struct task_rt *, enum store_state,
		     const char *, struct step *);
static int	 task_items_prepare(struct engine *, struct exec_rt *,
		     struct task_rt *, char **);
static void	 task_start_item(struct engine *, struct exec_rt *,
		     struct task_rt *, size_t, struct step *);
static void	 task_item_done(struct engine *, struct exec_rt *,
		     struct task_rt *, size_t, int, json_t *, struct step *);
static void	 task_complete(struct engine *, struct exec_rt *,
		     struct task_rt *, int, json_t *, const char *,
		     struct step *);
static void	 task_transitions(struct engine *, struct exec_rt *,
		     struct task_rt *, int, struct step *);
static void	 task_arrive(struct engine *, struct exec_rt *,
		     const struct dsl_task *, struct task_rt *, json_t *,
		     struct step *);
static char	*task_error_text(json_t *);
static char	*task_http_error_text(json_t *);
static void	 task_reverse_next(struct engine *, struct exec_rt *,
		     struct step *);
static int	 task_lock_wait(struct engine *, struct exec_rt *,
		     struct task_rt *, struct step *);
static void	 task_progress(struct engine *, struct exec_rt *,
		     struct task_rt *, const char *, struct step *);
static int	 task_arm_timeout(struct engine *, struct exec_rt *,
		     struct task_rt *, struct step *);

/* Free a task's runtime (the row too). */
void
engine_task_rt_free(struct task_rt *t)
{
	if (t == NULL)
		return;
	store_task_free(t->row);
	json_decref(t->item_vals);
	json_decref(t->results);
	json_decref(t->input);
	json_decref(t->fired_to);
	free(t->done);
	free(t);
}

/* Move a task with info as state_info, stamping its start and end. */
static int
task_set_state(struct task_rt *t, enum store_state to, const char *info,
    struct step *s)
{
	return (engine_task_move(t, to, info, SF_STATE_INFO | SF_STARTED |
	    SF_FINISHED, s));
}

/* Evaluate a policy to a number; def when not written. */
int
engine_policy_num(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    json_t *tmpl, double def, double *out, char **cause)
{
	json_t		*v, *data;
	struct expr_ctx	 ctx;
	char		*err = NULL;
	int64_t		 ms;

	*out = def;
	if (tmpl == NULL || json_is_null(tmpl))
		return (0);
	if (json_is_number(tmpl)) {
		*out = json_number_value(tmpl);
		return (0);
	}
	data = engine_task_data(rt, t, 0);
	engine_expr_ctx(e, rt, t, data, &ctx);
	v = expr_eval(e->ex, tmpl, &ctx, &err);
	json_decref(data);
	if (v == NULL) {
		*cause = err;
		return (-1);
	}
	if (json_is_number(v))
		*out = json_number_value(v);
	else if (json_is_string(v) &&
	    time_parse_duration(json_string_value(v), &ms, NULL) == 0)
		*out = (double)ms / 1000.0;
	else if (json_is_null(v))
		*out = def;
	else {
		xasprintf(cause, "expected a number, got %s",
		    json_is_string(v) ? json_string_value(v) : "a non-number");
		json_decref(v);
		return (-1);
	}
	json_decref(v);
	return (0);
}

/* Evaluate a policy to a boolean (Lua truthiness). */
int
engine_policy_bool(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    json_t *tmpl, int def, int *out, char **cause)
{
	json_t		*v, *data;
	struct expr_ctx	 ctx;
	char		*err = NULL;

	*out = def;
	if (tmpl == NULL)
		return (0);
	if (json_is_boolean(tmpl)) {
		*out = json_is_true(tmpl);
		return (0);
	}
	data = engine_task_data(rt, t, 0);
	engine_expr_ctx(e, rt, t, data, &ctx);
	v = expr_eval(e->ex, tmpl, &ctx, &err);
	json_decref(data);
	if (v == NULL) {
		*cause = err;
		return (-1);
	}
	*out = expr_truthy(v);
	json_decref(v);
	return (0);
}

/* "task 't', field 'f': cause" for state_info. */
static char *
task_expr_error(struct task_rt *t, const char *field, const char *cause)
{
	char	*s;

	xasprintf(&s, "task '%s', %s: %s", t->row->name, field, cause);
	return (s);
}

/*
 * Create a task execution for spec with the published values that flow
 * into it.  Its first state follows the policies: IDLE when the
 * workflow is paused or pause-before holds, WAITING for a join,
 * RUNNING_DELAYED for wait-before, else RUNNING (and ready to run).
 */
struct task_rt *
engine_task_create(struct engine *e, struct exec_rt *rt,
    const struct dsl_task *spec, json_t *in_context, struct step *s)
{
	struct task_rt	*t;
	struct store_task *row;
	int64_t		 now = time_now_ms();
	double		 wait = 0;
	int		 pause = 0;
	char		*cause = NULL, *info;

	t = xcalloc(1, sizeof *t);
	t->exec = rt;
	row = xcalloc(1, sizeof *row);
	uuid_make(row->id);
	memcpy(row->execution_id, rt->row->id, UUID_STRLEN);
	row->name = xstrdup(spec->name);
	row->type = xstrdup(spec->workflow != NULL ? "WORKFLOW" : "ACTION");
	row->in_context = in_context != NULL ? json_incref(in_context) :
	    json_object();
	row->published = json_object();
	row->runtime = json_object();
	row->seq = rt->next_seq++;
	row->created_at = row->updated_at = now;
	t->row = row;
	t->spec = spec;
	t->keep_result = 1;
	t->fired_to = json_array();
	rt->tasks = xreallocarray(rt->tasks, rt->ntasks + 1,
	    sizeof *rt->tasks);
	rt->tasks[rt->ntasks++] = t;

	if (spec->join != DSL_JOIN_NONE)
		t->state = STATE_WAITING;
	else if (rt->state == STATE_PAUSED)
		t->state = STATE_IDLE;
	else {
		if (engine_policy_bool(e, rt, t, spec->pause_before, 0,
		    &pause, &cause) != 0 ||
		    engine_policy_num(e, rt, t, spec->wait_before, 0, &wait,
		    &cause) != 0) {
			info = task_expr_error(t, "policy", cause);
			free(cause);
			t->state = STATE_RUNNING;
			row->state = xstrdup(store_state_name(t->state));
			store_tx_task_insert(s->tx, row);
			engine_step_changed(s, t);
			engine_tell_task(t, STATE_NONE, t->state, 0, s);
			engine_task_fail(e, rt, t, info, s);
			free(info);
			return (t);
		}
		if (pause) {
			t->state = STATE_IDLE;
			json_object_set_new(row->runtime, "pause_before",
			    json_true());
			xasprintf(&info, "paused before task '%s'", spec->name);
			(void)engine_exec_move(rt, STATE_PAUSED, info,
			    SF_STATE_INFO, s);
			free(info);
		} else if (wait > 0) {
			t->state = STATE_DELAYED;
			engine_add_work(e, rt, s, WK_RUN, row->id,
			    (int64_t)(wait * 1000), NULL);
		} else {
			t->state = STATE_RUNNING;
			row->started_at = now;
			engine_step_ready(s, t);
		}
	}
	/* A new row: its first state is written, not moved to. */
	row->state = xstrdup(store_state_name(t->state));
	store_tx_task_insert(s->tx, row);
	engine_step_changed(s, t);
	engine_tell_task(t, STATE_NONE, t->state, 0, s);
	engine_event(rt, t, s, "info", 0, "task %s created (%s)",
	    spec->name, row->state);
	return (t);
}

/* Evaluate with-items lists (or one implicit item) for a new attempt. */
static int
task_items_prepare(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    char **cause)
{
	const struct dsl_task	*spec = t->spec;
	json_t			*lists[16], *data, *o;
	struct expr_ctx		 ctx;
	size_t			 i, j, n = 0;
	double			 conc = 0;
	char			*err = NULL;

	json_decref(t->item_vals);
	t->item_vals = NULL;
	if (spec->nitems == 0) {
		t->nitems = 0;
		n = 1;
	} else {
		if (spec->nitems > nitems(lists)) {
			xasprintf(cause, "with-items: too many lists");
			return (-1);
		}
		data = engine_task_data(rt, t, 0);
		engine_expr_ctx(e, rt, t, data, &ctx);
		for (i = 0; i < spec->nitems; i++) {
			lists[i] = expr_eval(e->ex, spec->items[i].list, &ctx,
			    &err);
			if (lists[i] == NULL || !json_is_array(lists[i])) {
				if (lists[i] == NULL) {
					*cause = task_expr_error(t,
					    "with-items", err);
					free(err);
				} else
					xasprintf(cause, "task '%s', "
					    "with-items: '%s' is not a list",
					    t->row->name, spec->items[i].var);
				for (j = 0; j <= i; j++)
					json_decref(lists[j]);
				json_decref(data);
				return (-1);
			}
			if (i > 0 && json_array_size(lists[i]) !=
			    json_array_size(lists[0])) {
				xasprintf(cause, "task '%s', with-items: lists "
				    "have different lengths (%zu and %zu)",
				    t->row->name, json_array_size(lists[0]),
				    json_array_size(lists[i]));
				for (j = 0; j <= i; j++)
					json_decref(lists[j]);
				json_decref(data);
				return (-1);
			}
		}
		json_decref(data);
		n = json_array_size(lists[0]);
		t->item_vals = json_array();
		for (j = 0; j < n; j++) {
			o = json_object();
			for (i = 0; i < spec->nitems; i++)
				json_object_set(o, spec->items[i].var,
				    json_array_get(lists[i], j));
			json_array_append_new(t->item_vals, o);
		}
		for (i = 0; i < spec->nitems; i++)
			json_decref(lists[i]);
		t->nitems = n;
	}
	if (engine_policy_num(e, rt, t, spec->concurrency, 0, &conc,
	    &err) != 0) {
		*cause = task_expr_error(t, "concurrency", err);
		free(err);
		return (-1);
	}
	t->concurrency = conc > 0 ? (size_t)conc : 0;
	free(t->done);
	t->done = xcalloc(n == 0 ? 1 : n, 1);
	json_decref(t->results);
	t->results = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(t->results, json_null());
	t->ndone = t->nfailed = t->nrunning = t->next = 0;
	t->cancelled = 0;
	return (0);
}

/*
 * Named locks: a task with "lock: NAME" takes NAME for its execution
 * before it starts, and waits (RUNNING_DELAYED, checked again every
 * LOCK_POLL_MS) while another execution holds it.  Locks are released
 * when the execution ends, whatever its end state.  Returns 0 when the
 * task may start (the acquisition is in the step), 1 when it waits or
 * failed.
 */
#define LOCK_POLL_MS	500

static int
task_lock_wait(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    struct step *s)
{
	struct expr_ctx	 ctx;
	json_t		*data, *v;
	char		*err = NULL, *info, *owner = NULL;
	const char	*name;

	data = engine_task_data(rt, t, 0);
	engine_expr_ctx(e, rt, t, data, &ctx);
	v = expr_eval(e->ex, t->spec->lock, &ctx, &err);
	json_decref(data);
	if (v == NULL || !json_is_string(v) ||
	    json_string_length(v) == 0) {
		info = v == NULL ? task_expr_error(t, "lock", err) :
		    task_expr_error(t, "lock", "expected a non-empty string");
		free(err);
		json_decref(v);
		engine_task_fail(e, rt, t, info, s);
		free(info);
		return (1);
	}
	name = json_string_value(v);
	/* Locks taken by this engine in steps not yet committed count. */
	if (json_object_get(e->locks, name) != NULL)
		owner = xstrdup(json_string_value(json_object_get(e->locks,
		    name)));
	else if (store_lock_owner(e->st, name, &owner) != STORE_OK)
		owner = NULL;
	if (owner != NULL && strcmp(owner, rt->row->id) != 0) {
		if (!json_is_true(json_object_get(t->row->runtime,
		    "lock_wait"))) {
			engine_event(rt, t, s, "info", 0, "task %s waits for "
			    "lock '%s' held by execution %s", t->row->name,
			    name, owner);
			engine_message(rt, t, s, MSG_LOCK_WAIT, "task",
			    t->row->name, "workflow", rt->row->workflow_name,
			    "lock", name, "holder", owner, (char *)NULL);
		}
		json_object_set_new(t->row->runtime, "lock_wait",
		    json_true());
		json_object_set_new(t->row->runtime, "lock_name",
		    json_string(name));
		json_object_set_new(t->row->runtime, "lock_holder",
		    json_string(owner));
		task_set_state(t, STATE_DELAYED, NULL, s);
		store_tx_task_update(s->tx, t->row, SF_RUNTIME, NULL);
		engine_add_work(e, rt, s, WK_RUN, t->row->id, LOCK_POLL_MS,
		    NULL);
		free(owner);
		json_decref(v);
		return (1);
	}
	free(owner);
	store_tx_lock_acquire(s->tx, name, rt->row->id);
	json_object_set_new(e->locks, name, json_string(rt->row->id));
	json_object_set_new(t->row->runtime, "lock", json_string(name));
	json_object_del(t->row->runtime, "lock_wait");
	json_object_del(t->row->runtime, "lock_name");
	json_object_del(t->row->runtime, "lock_holder");
	store_tx_task_update(s->tx, t->row, SF_RUNTIME, NULL);
	engine_event(rt, t, s, "info", 0, "task %s holds lock '%s'",
	    t->row->name, name);
	json_decref(v);
	return (0);
}

/*
 * A named lock tried for an inline action, without waiting: free or
 * already the execution's, it is taken in the step (and noted in
 * e->locks so that steps of this turn not yet committed see it); held
 * by another execution, 0.  See struct action_ctx.
 */
struct lock_try {
	struct engine	*e;
	struct exec_rt	*rt;
	struct task_rt	*t;
	struct step	*s;
};

static int
task_lock_try(void *arg, const char *name)
{
	struct lock_try	*lt = arg;
	struct engine	*e = lt->e;
	struct exec_rt	*rt = lt->rt;
	json_t		*held;
	char		*owner = NULL;
	int		 free_now;

	if ((held = json_object_get(e->locks, name)) != NULL)
		owner = xstrdup(json_string_value(held));
	else if (store_lock_owner(e->st, name, &owner) != STORE_OK)
		owner = NULL;
	free_now = owner == NULL || strcmp(owner, rt->row->id) == 0;
	if (free_now) {
		store_tx_lock_acquire(lt->s->tx, name, rt->row->id);
		json_object_set_new(e->locks, name, json_string(rt->row->id));
		engine_event(rt, lt->t, lt->s, "info", -1, "task %s holds lock "
		    "'%s'", lt->t->row->name, name);
	} else
		engine_event(rt, lt->t, lt->s, "info", -1, "task %s: lock '%s' "
		    "is held by execution %s", lt->t->row->name, name, owner);
	free(owner);
	return (free_now);
}

/*
 * A message the task declares in its progress map for which ("start",
 * "success" or "error"): evaluated over the task's data and what it
 * published, recorded with progress 0 at the start and 1 at the end,
 * or the value of its own when it is a map {message, progress}; null
 * or empty says nothing.  A message that cannot be evaluated is
 * recorded as a warning; it never fails the task.
 */
static void
task_progress(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    const char *which, struct step *s)
{
	struct expr_ctx	 ctx;
	json_t		*tmpl, *data, *v, *p, *m;
	char		*err = NULL, *msg;
	double		 value;
	int		 start = strcmp(which, "start") == 0;

	if (t->spec->progress == NULL ||
	    (tmpl = json_object_get(t->spec->progress, which)) == NULL ||
	    json_is_null(tmpl))
		return;
	data = engine_task_data(rt, t, 0);
	if (!start)
		json_object_update(data, t->row->published);
	engine_expr_ctx(e, rt, t, data, &ctx);
	v = expr_eval(e->ex, tmpl, &ctx, &err);
	json_decref(data);
	if (v == NULL) {
		xasprintf(&msg, "task '%s', progress.%s: %s", t->row->name,
		    which, err);
		free(err);
		engine_progress(rt, t, s, "warning", -1, msg);
	} else if (json_is_null(v) || (json_is_string(v) &&
	    json_string_length(v) == 0)) {
		/* Nothing to say this time. */
		json_decref(v);
		return;
	} else {
		/* A text, or {message, progress} with a value of its own. */
		value = start ? 0 : 1;
		p = json_object_get(v, "progress");
		if (json_is_object(v) && json_is_number(p) &&
		    json_number_value(p) >= 0 && json_number_value(p) <= 1)
			value = json_number_value(p);
		m = json_is_object(v) ? json_object_get(v, "message") : v;
		msg = json_is_string(m) ? xstrdup(json_string_value(m)) :
		    json_dumps(m != NULL ? m : v, JSON_ENCODE_ANY |
		    JSON_COMPACT);
		engine_progress(rt, t, s, strcmp(which, "error") == 0 ?
		    "error" : "info", value, msg != NULL ? msg : "");
		json_decref(v);
	}
	free(msg);
}

/*
 * Arm the timeout of a task's first attempt, once (runtime.timeout_armed
 * says it is): -1 when the task failed because its timeout cannot be
 * evaluated.
 */
static int
task_arm_timeout(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    struct step *s)
{
	double	 timeout = 0;
	char	*cause = NULL, *info;

	if (t->attempt != 0 || t->spec->timeout == NULL ||
	    json_is_true(json_object_get(t->row->runtime, "timeout_armed")))
		return (0);
	if (engine_policy_num(e, rt, t, t->spec->timeout, 0, &timeout,
	    &cause) != 0) {
		info = task_expr_error(t, "timeout", cause);
		engine_task_fail(e, rt, t, info, s);
		free(info);
		free(cause);
		return (-1);
	}
	if (timeout > 0) {
		engine_add_work(e, rt, s, WK_TIMEOUT, t->row->id,
		    (int64_t)(timeout * 1000), json_pack("{s:f}", "timeout",
		    timeout));
		json_object_set_new(t->row->runtime, "timeout_armed",
		    json_true());
		store_tx_task_update(s->tx, t->row, SF_RUNTIME, NULL);
	}
	return (0);
}

/* Number of items of the current attempt (1 for a plain task). */
static size_t
task_count(struct task_rt *t)
{
	return (t->spec->nitems == 0 ? 1 : t->nitems);
}

static void	 task_rebuild_item(struct task_rt *, size_t, enum store_state,
		     json_t *);

/*
 * The items a re-run without reset keeps (runtime "kept": {index:
 * result}, see engine-exec.c): done already, with their results.
 */
static void
task_items_keep(struct task_rt *t)
{
	json_t		*kept, *v;
	const char	*key;
	char		*end;
	unsigned long	 idx;

	kept = json_object_get(t->row->runtime, "kept");
	if (t->spec->nitems == 0 || !json_is_object(kept))
		return;
	json_object_foreach(kept, key, v) {
		idx = strtoul(key, &end, 10);
		if (*end == '\0' && idx < task_count(t) &&
		    t->done[idx] == STATE_IDLE)
			task_rebuild_item(t, idx, STATE_SUCCESS, v);
	}
}

/*
 * Run a RUNNING task: on its first attempt evaluate items and arm the
 * timeout; then start items up to the concurrency limit.  Inline
 * actions finish within this step; the rest start after it commits.
 */
void
engine_task_run(struct engine *e, struct exec_rt *rt, struct task_rt *t)
{
	struct step	 s;
	char		*cause = NULL;
	size_t		 n;

	if (t->state != STATE_RUNNING || rt->finished)
		return;
	memset(&s, 0, sizeof s);
	s.tx = store_tx_create();
	/* The timeout counts from the first run, a wait for a lock too. */
	if (t->done == NULL && task_arm_timeout(e, rt, t, &s) != 0)
		goto commit;
	if (t->done == NULL && t->attempt == 0 && t->spec->lock != NULL &&
	    task_lock_wait(e, rt, t, &s) != 0)
		goto commit;
	if (t->done == NULL) {
		if (task_items_prepare(e, rt, t, &cause) != 0) {
			engine_task_fail(e, rt, t, cause, &s);
			free(cause);
			goto commit;
		}
		if (t->spec->nitems > 0) {
			/* The count of items, for the console's counter. */
			json_object_set_new(t->row->runtime, "items",
			    json_integer((json_int_t)t->nitems));
			store_tx_task_update(s.tx, t->row, SF_RUNTIME, NULL);
			engine_step_changed(&s, t);
		}
		t->started_mono = time_mono_ms();
		engine_event(rt, t, &s, "info", 0, "task %s started%s",
		    t->row->name, t->attempt > 0 ? " (retry)" : "");
		task_items_keep(t);
		if (t->attempt == 0)
			task_progress(e, rt, t, "start", &s);
	}
	n = task_count(t);
	if (n > 0 && t->ndone == n) {
		/* A re-run that kept every item: nothing left to run. */
		json_t *res = json_incref(t->results);
		engine_task_attempt_decide(e, rt, t, t->nfailed == 0, res, &s);
		json_decref(res);
		goto commit;
	}
	if (n == 0) {
		/* with-items over an empty list */
		json_t *empty = json_array();
		engine_task_attempt_decide(e, rt, t, 1, empty, &s);
		json_decref(empty);
		goto commit;
	}
	while (t->next < n && t->state == STATE_RUNNING && !rt->finished &&
	    (t->concurrency == 0 || t->nrunning < t->concurrency)) {
		if (t->done[t->next] != STATE_IDLE) {
			t->next++;
			continue;
		}
		task_start_item(e, rt, t, t->next++, &s);
	}
commit:
	engine_commit(e, rt, &s);
}

/*
 * The done callback of an action started inline.  Most inline actions
 * call it before run() returns; some (std.echo with a delay) call it
 * later from the I/O thread, which then queues it like any completion.
 */
static void
inline_done(void *arg, int ok, json_t *result)
{
	struct engine_done	*d = arg;
	struct engine		*e = d->engine;

	pthread_mutex_lock(&e->inbox_mtx);
	d->ok = ok;
	d->result = result;
	if (d->sync_phase)
		d->sync_called = 1;
	else
		engine_inbox_push(e, d);
	pthread_mutex_unlock(&e->inbox_mtx);
}

/*
 * The ad-hoc action of that name for rc: the workbook's own (by its
 * short name, then as written), else the registry's in rc's namespace,
 * then the default one.  NULL when there is none.
 */
static const struct dsl_action *
adhoc_find(struct engine *e, const struct engine_resolve *rc,
    const char *name)
{
	const struct dsl_action	*a = NULL;
	char			*full;

	pthread_mutex_lock(&e->api_mtx);
	if (rc->wb != NULL && rc->wb->name != NULL &&
	    strchr(name, '.') == NULL) {
		xasprintf(&full, "%s.%s", rc->wb->name, name);
		a = dsl_action_find(rc->wb, full);
		free(full);
	}
	if (a == NULL && rc->wb != NULL)
		a = dsl_action_find(rc->wb, name);
	if (a == NULL)
		engine_defs_action_ns(e, name, rc->ns, &a);
	pthread_mutex_unlock(&e->api_mtx);
	return (a);
}

/*
 * Resolve an action name through ad-hoc definitions down to a built-in
 * entry, turning the input into the base action's input.  Returns the
 * entry, and *adhoc the outermost ad-hoc action (for its output).
 * Names are looked up in rc->wb (a workbook's own actions), then in the
 * registry in rc->ns, then the default namespace.
 */
static const struct action_entry *
resolve_level(struct engine *e, const struct engine_resolve *rc,
    const char *name, json_t **input, const struct dsl_action **adhoc,
    char **owned, char **cause)
{
	const struct action_entry	*entry;
	const struct dsl_action		*a;
	struct expr_ctx			 ctx;
	json_t				*data, *base_input, *v;
	char				*bname, *err = NULL;
	size_t				 depth, i;

	*adhoc = NULL;
	for (depth = 0; depth < 8; depth++) {
		if ((entry = action_find(name)) != NULL)
			return (entry);
		if ((a = adhoc_find(e, rc, name)) == NULL) {
			xasprintf(cause, "action '%s' not found", name);
			return (NULL);
		}
		if (*adhoc == NULL)
			*adhoc = a;
		/* Defaults of the ad-hoc action's own inputs. */
		for (i = 0; i < a->ninputs; i++) {
			if (json_object_get(*input, a->inputs[i].name) ==
			    NULL) {
				if (a->inputs[i].def == NULL) {
					xasprintf(cause, "action '%s': missing "
					    "required input '%s'", a->name,
					    a->inputs[i].name);
					return (NULL);
				}
				json_object_set(*input, a->inputs[i].name,
				    a->inputs[i].def);
			}
		}
		data = json_deep_copy(*input);
		rc->fill(rc->arg, data, &ctx);
		base_input = NULL;
		if (dsl_parse_inline(a->base, &bname, &v, &err) != 0) {
			json_decref(data);
			*cause = err;
			return (NULL);
		}
		if (a->base_input != NULL) {
			json_t *bi = expr_eval(rc->ex, a->base_input, &ctx,
			    &err);
			if (bi == NULL) {
				xasprintf(cause, "action '%s', base-input: %s",
				    a->name, err);
				free(err);
				free(bname);
				json_decref(v);
				json_decref(data);
				return (NULL);
			}
			json_object_update(v, bi);
			json_decref(bi);
		} else if (json_object_size(v) > 0) {
			json_t *bi = expr_eval(rc->ex, v, &ctx, &err);
			if (bi == NULL) {
				xasprintf(cause, "action '%s', base: %s",
				    a->name, err);
				free(err);
				free(bname);
				json_decref(v);
				json_decref(data);
				return (NULL);
			}
			json_decref(v);
			v = bi;
		}
		base_input = v;
		json_decref(data);
		json_decref(*input);
		*input = base_input;
		/* The next level resolves the base by name. */
		free(*owned);
		*owned = bname;
		name = bname;
	}
	xasprintf(cause, "action '%s': ad-hoc actions nested too deeply",
	    name);
	return (NULL);
}

/* See engine-int.h. */
const struct action_entry *
engine_action_resolve(struct engine *e, const struct engine_resolve *rc,
    const char *name, json_t **input, const struct dsl_action **adhoc,
    char **cause)
{
	const struct action_entry	*entry;
	char				*owned = NULL;

	entry = resolve_level(e, rc, name, input, adhoc, &owned, cause);
	free(owned);
	return (entry);
}

/* What a task's expressions see, for resolve_level(). */
struct task_resolve {
	struct engine	*e;
	struct exec_rt	*rt;
	struct task_rt	*t;
};

static void
task_resolve_ctx(void *arg, json_t *data, struct expr_ctx *ctx)
{
	struct task_resolve	*tr = arg;

	engine_expr_ctx(tr->e, tr->rt, tr->t, data, ctx);
}

/* Resolution for a task of a loaded execution (tr is filled too). */
static void
task_resolve_init(struct engine_resolve *rc, struct task_resolve *tr,
    struct engine *e, struct exec_rt *rt, struct task_rt *t)
{
	tr->e = e;
	tr->rt = rt;
	tr->t = t;
	rc->e = e;
	rc->ex = e->ex;
	rc->wb = rt->def->wb;
	rc->ns = rt->row->workflow_namespace;
	rc->fill = task_resolve_ctx;
	rc->arg = tr;
}

/* engine_action_resolve() for a task of a loaded execution. */
static const struct action_entry *
task_resolve_action(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    const char *name, json_t **input, const struct dsl_action **adhoc,
    char **cause)
{
	struct engine_resolve	 rc;
	struct task_resolve	 tr;

	task_resolve_init(&rc, &tr, e, rt, t);
	return (engine_action_resolve(e, &rc, name, input, adhoc, cause));
}

/* The ad-hoc action a's base names, if it is ad-hoc too; or NULL. */
static const struct dsl_action *
adhoc_base(const struct engine_resolve *rc, const struct dsl_action *a)
{
	const struct dsl_action	*b = NULL;
	json_t			*v = NULL;
	char			*bname = NULL, *err = NULL;

	if (rc->e == NULL || dsl_parse_inline(a->base, &bname, &v,
	    &err) != 0) {
		free(err);
		return (NULL);
	}
	json_decref(v);
	if (action_find(bname) == NULL)
		b = adhoc_find(rc->e, rc, bname);
	free(bname);
	return (b);
}

/* See engine-int.h. */
json_t *
engine_adhoc_output_rc(const struct engine_resolve *rc,
    const struct dsl_action *a, json_t *result, int *ok)
{
	const struct dsl_action	*chain[8];
	struct expr_ctx		 ctx;
	json_t			*v, *cur;
	char			*err = NULL;
	size_t			 n = 0;

	for (; a != NULL && n < nitems(chain); a = adhoc_base(rc, a))
		chain[n++] = a;
	cur = json_incref(result);
	while (n > 0 && *ok) {
		a = chain[--n];
		if (a->output == NULL)
			continue;
		rc->fill(rc->arg, cur, &ctx);
		if ((v = expr_eval(rc->ex, a->output, &ctx, &err)) == NULL) {
			*ok = 0;
			v = json_sprintf("action '%s', output: %s", a->name,
			    err);
			free(err);
		}
		json_decref(cur);
		cur = v;
	}
	return (cur);
}

/* Apply an ad-hoc action's output template to its base result. */
json_t *
engine_adhoc_output(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    const struct dsl_action *a, json_t *result, int *ok)
{
	struct engine_resolve	 rc;
	struct task_resolve	 tr;

	task_resolve_init(&rc, &tr, e, rt, t);
	return (engine_adhoc_output_rc(&rc, a, result, ok));
}

/* Start the sub-workflow of one item: a child execution. */
static void
task_start_child(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    size_t item, json_t *input, struct step *s)
{
	struct store_exec		*c;
	const struct dsl_workflow	*wf = NULL;
	struct engine_def		*def = NULL;
	char				*full = NULL, *name = NULL, *cause = NULL;
	json_t				*params, *params0, *in, *v;
	size_t				 i;

	if (dsl_parse_inline(t->spec->workflow, &name, &v, &cause) != 0) {
		task_item_done(e, rt, t, item, 0, json_string(cause), s);
		free(cause);
		return;
	}
	json_object_update_missing(input, v);
	json_decref(v);
	pthread_mutex_lock(&e->api_mtx);
	if (rt->def->wb->name != NULL && strchr(name, '.') == NULL) {
		xasprintf(&full, "%s.%s", rt->def->wb->name, name);
		if ((wf = dsl_workflow_find(rt->def->wb, full)) != NULL)
			def = rt->def;
	}
	if (wf == NULL && (wf = dsl_workflow_find(rt->def->wb, name)) != NULL)
		def = rt->def;
	if (wf == NULL)
		def = engine_defs_workflow_ns(e, name,
		    rt->row->workflow_namespace, &wf);
	pthread_mutex_unlock(&e->api_mtx);
	if (def == NULL) {
		/* Committed by another engine a moment ago? */
		engine_defs_sync(e, e->st);
		pthread_mutex_lock(&e->api_mtx);
		def = engine_defs_workflow_ns(e, name,
		    rt->row->workflow_namespace, &wf);
		pthread_mutex_unlock(&e->api_mtx);
	}
	free(full);
	if (def == NULL) {
		v = json_sprintf("workflow '%s' not found", name);
		free(name);
		task_item_done(e, rt, t, item, 0, v, s);
		return;
	}
	free(name);
	in = json_object();
	for (i = 0; i < wf->ninputs; i++) {
		v = json_object_get(input, wf->inputs[i].name);
		if (v == NULL)
			v = wf->inputs[i].def;
		if (v == NULL) {
			json_decref(in);
			v = json_sprintf("workflow '%s': missing required "
			    "input '%s'", wf->name, wf->inputs[i].name);
			task_item_done(e, rt, t, item, 0, v, s);
			return;
		}
		json_object_set(in, wf->inputs[i].name, v);
	}
	c = xcalloc(1, sizeof *c);
	uuid_make(c->id);
	c->workflow_name = xstrdup(wf->name);
	c->workflow_namespace = xstrdup(def->namespace);
	engine_workflow_id(e, e->st, def, wf->name, c->workflow_id);
	memcpy(c->def_id, def->id, UUID_STRLEN);
	c->parent_task_id = xstrdup(t->row->id);
	c->root_id = xstrdup(rt->row->root_id != NULL ? rt->row->root_id :
	    rt->row->id);
	c->state = xstrdup(store_state_name(STATE_RUNNING));
	c->input = in;
	c->output = json_object();
	c->context = json_object();
	params0 = rt->row->params;
	params = json_object();
	if ((v = json_object_get(params0, "env")) != NULL)
		json_object_set(params, "env", v);
	json_object_set_new(params, "namespace", json_string(def->namespace));
	/* A sub-workflow acts with its parent's credentials. */
	if ((v = json_object_get(params0, "cloud")) != NULL)
		json_object_set(params, "cloud", v);
	/* Sub-workflows tell the same receivers, as in Mistral. */
	if ((v = json_object_get(params0, "notify")) != NULL)
		json_object_set(params, "notify", v);
	json_object_set_new(params, "item", json_integer((json_int_t)item));
	json_object_set_new(params, "attempt", json_integer(t->attempt));
	c->params = params;
	c->request_id = rt->row->request_id != NULL ?
	    xstrdup(rt->row->request_id) : NULL;
	c->created_at = c->updated_at = time_now_ms();
	/* Claimed and begun like any new execution (engine_exec_recover). */
	store_tx_exec_insert(s->tx, c);
	if (engine_tell_row(e, s->tx, c, STATE_NONE, STATE_RUNNING) > 0)
		s->notified = 1;
	v = json_object_get(t->row->runtime, "children");
	if (v == NULL) {
		v = json_array();
		json_object_set_new(t->row->runtime, "children", v);
	}
	json_array_append_new(v, json_string(c->id));
	store_tx_task_update(s->tx, t->row, SF_RUNTIME, NULL);
	store_exec_free(c);
	s->poke = 1;
}

/* Start one item: an inline action finishes here, others after commit. */
static void
task_start_item(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    size_t item, struct step *s)
{
	const struct action_entry	*entry;
	const struct dsl_action		*adhoc = NULL;
	struct store_action		 a;
	struct action_ctx		 actx;
	struct lock_try			 lt;
	struct engine_done		*d;
	struct expr_ctx			 ctx;
	json_t				*data, *input, *prepared, *out, *result;
	char				*err = NULL, *cause = NULL;
	const char			*name;
	int				 ok, called;

	if (engine_item_move(t, item, STATE_RUNNING) != 0)
		return;
	t->nrunning++;
	data = engine_task_data(rt, t, item);
	engine_expr_ctx(e, rt, t, data, &ctx);
	if (t->spec->input == NULL)
		input = json_object();
	else if ((input = expr_eval(e->ex, t->spec->input, &ctx,
	    &err)) == NULL) {
		cause = task_expr_error(t, "input", err);
		free(err);
		json_decref(data);
		task_item_done(e, rt, t, item, 0, json_string(cause), s);
		free(cause);
		return;
	} else if (!json_is_object(input)) {
		json_decref(input);
		json_decref(data);
		xasprintf(&cause, "task '%s', input: expected an object",
		    t->row->name);
		task_item_done(e, rt, t, item, 0, json_string(cause), s);
		free(cause);
		return;
	}
	json_decref(data);
	if (t->spec->workflow != NULL) {
		task_start_child(e, rt, t, item, input, s);
		json_decref(input);
		return;
	}
	name = t->spec->action != NULL ? t->spec->action : "std.noop";
	entry = task_resolve_action(e, rt, t, name, &input, &adhoc, &cause);
	if (entry == NULL) {
		json_decref(input);
		task_item_done(e, rt, t, item, 0, json_string(cause), s);
		free(cause);
		return;
	}
	if ((prepared = action_input_prepare(entry, input, &cause)) == NULL) {
		json_decref(input);
		out = json_sprintf("task '%s', action '%s': %s",
		    t->row->name, name, cause);
		free(cause);
		task_item_done(e, rt, t, item, 0, out, s);
		return;
	}
	json_decref(input);

	memset(&a, 0, sizeof a);
	uuid_make(a.id);
	a.task_id = t->row->id;
	a.execution_id = rt->row->id;
	a.name = (char *)name;
	a.input = prepared;
	a.attempt = t->attempt;
	a.item = t->spec->nitems == 0 ? -1 : (int)item;
	a.is_async = entry->kind == ACTION_ASYNC;
	a.request_id = rt->row->request_id;
	a.created_at = a.updated_at = time_now_ms();

	if (entry->kind == ACTION_INLINE) {
		memset(&actx, 0, sizeof actx);
		actx.execution_id = rt->row->id;
		actx.workflow_name = rt->row->workflow_name;
		actx.task_id = t->row->id;
		actx.task_name = t->row->name;
		actx.action_id = a.id;
		actx.expr = e->ex;
		/* progress() of a Lua action: a message of this task. */
		actx.progress = engine_progress_emit;
		actx.progress_arg = rt;
		rt->ctx_task = t;
		/* What it writes goes with this step. */
		actx.cloud = json_string_value(json_object_get(
		    rt->row->params, "cloud"));
		actx.store = e->st;
		actx.tx = s->tx;
		lt.e = e;
		lt.rt = rt;
		lt.t = t;
		lt.s = s;
		actx.lock_try = task_lock_try;
		actx.lock_arg = &lt;
		d = xcalloc(1, sizeof *d);
		memcpy(d->exec_id, rt->row->id, UUID_STRLEN);
		memcpy(d->task_id, t->row->id, UUID_STRLEN);
		memcpy(d->action_id, a.id, UUID_STRLEN);
		d->attempt = t->attempt;
		d->item = (int)item;
		d->engine = e;
		d->adhoc = adhoc;
		d->sync_phase = 1;
		entry->run(entry, prepared, &actx, e->io, inline_done, d);
		pthread_mutex_lock(&e->inbox_mtx);
		d->sync_phase = 0;
		called = d->sync_called;
		pthread_mutex_unlock(&e->inbox_mtx);
		if (!called) {
			/* It finishes later, like an I/O action. */
			rt->ninflight++;	/* no parking meanwhile */
			a.state = (char *)store_state_name(STATE_RUNNING);
			store_tx_action_insert(s->tx, &a);
			json_decref(prepared);
			return;
		}
		ok = d->ok;
		result = d->result;
		free(d);
		out = engine_adhoc_output(e, rt, t, adhoc, result, &ok);
		a.state = (char *)store_state_name(ok ? STATE_SUCCESS :
		    STATE_ERROR);
		a.output = result;
		if (!ok)
			a.state_info = task_error_text(result);
		store_tx_action_insert(s->tx, &a);
		free(a.state_info);
		json_decref(result);
		json_decref(prepared);
		task_item_done(e, rt, t, item, ok, out, s);
		return;
	}
	a.state = (char *)store_state_name(STATE_RUNNING);
	store_tx_action_insert(s->tx, &a);
	s->starts = xreallocarray(s->starts, s->nstarts + 1,
	    sizeof *s->starts);
	{
		struct step_start *st = &s->starts[s->nstarts++];

		memset(st, 0, sizeof *st);
		st->entry = entry;
		st->input = prepared;
		memcpy(st->action_id, a.id, UUID_STRLEN);
		memcpy(st->task_id, t->row->id, UUID_STRLEN);
		snprintf(st->task_name, sizeof st->task_name, "%s",
		    t->row->name);
		st->attempt = t->attempt;
		st->item = (int)item;
		st->adhoc = adhoc;
	}
}

/*
 * An action or child of a task finished: the entry point for results
 * coming back from the I/O thread, callbacks and child executions.
 * Late results (the attempt moved on, the task ended) are ignored.
 */
void
engine_task_done(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    int attempt, int item, const char *action_id, int ok, json_t *result)
{
	struct step		 s;
	struct store_action	 a;
	size_t			 idx = item < 0 ? 0 : (size_t)item;

	memset(&s, 0, sizeof s);
	s.tx = store_tx_create();
	if (action_id != NULL) {
		memset(&a, 0, sizeof a);
		memcpy(a.id, action_id, UUID_STRLEN);
		a.output = result;
		a.state_info = ok ? NULL : task_error_text(result);
		a.updated_at = time_now_ms();
		(void)engine_row_move(s.tx, ENGINE_ACTION, &a, STATE_RUNNING,
		    ok ? STATE_SUCCESS : STATE_ERROR, SF_STATE_INFO |
		    SF_OUTPUT);
		free(a.state_info);
	}
	if (rt->finished || t->cancelled || attempt != t->attempt ||
	    t->state != STATE_RUNNING || t->done == NULL ||
	    idx >= task_count(t) || t->done[idx] != STATE_RUNNING) {
		/* Only the action row is updated. */
		engine_commit(e, rt, &s);
		return;
	}
	task_item_done(e, rt, t, idx, ok, json_incref(result), &s);
	/* Start further items freed by the concurrency limit. */
	while (t->next < task_count(t) && t->state == STATE_RUNNING &&
	    !rt->finished &&
	    (t->concurrency == 0 || t->nrunning < t->concurrency)) {
		if (t->done[t->next] != STATE_IDLE) {
			t->next++;
			continue;
		}
		task_start_item(e, rt, t, t->next++, &s);
	}
	engine_commit(e, rt, &s);
}

/* One item ended (result is stolen); decide the attempt when all have. */
static void
task_item_done(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    size_t item, int ok, json_t *result, struct step *s)
{
	json_t	*res;
	size_t	 n = task_count(t);

	if (engine_item_move(t, item, ok ? STATE_SUCCESS : STATE_ERROR) != 0) {
		json_decref(result);
		return;
	}
	if (t->nrunning > 0)
		t->nrunning--;
	t->ndone++;
	if (!ok)
		t->nfailed++;
	json_array_set_new(t->results, item, result);
	if (t->spec->nitems > 0 && n > 1 && t->ndone < n)
		engine_event(rt, t, s, ok ? "info" : "warning",
		    (double)t->ndone / (double)n, "task %s: item %zu %s",
		    t->row->name, item, ok ? "done" : "failed");
	if (t->ndone < n)
		return;
	if (t->spec->nitems == 0)
		res = json_incref(json_array_get(t->results, 0));
	else
		res = json_incref(t->results);
	engine_task_attempt_end(e, rt, t, t->nfailed == 0, res, s);
	json_decref(res);
}

/*
 * An attempt's outcome is known: apply fail-on, then wait-after, then
 * retry or completion.
 */
void
engine_task_attempt_end(struct engine *e, struct exec_rt *rt,
    struct task_rt *t, int ok, json_t *result, struct step *s)
{
	double	 wait = 0;
	int	 failon = 0;
	char	*cause = NULL, *info;
	json_t	*saved;

	saved = t->row->result;
	t->row->result = json_incref(result);
	if (ok && t->spec->fail_on != NULL) {
		if (engine_policy_bool(e, rt, t, t->spec->fail_on, 0, &failon,
		    &cause) != 0) {
			info = task_expr_error(t, "fail-on", cause);
			free(cause);
			json_decref(saved);
			task_complete(e, rt, t, 0, result, info, s);
			free(info);
			return;
		}
		if (failon) {
			ok = 0;
		}
	}
	json_decref(saved);
	if (engine_policy_num(e, rt, t, t->spec->wait_after, 0, &wait,
	    &cause) != 0) {
		info = task_expr_error(t, "wait-after", cause);
		free(cause);
		task_complete(e, rt, t, 0, result, info, s);
		free(info);
		return;
	}
	if (wait > 0) {
		task_set_state(t, STATE_DELAYED, NULL, s);
		engine_add_work(e, rt, s, WK_WAIT_AFTER, t->row->id,
		    (int64_t)(wait * 1000), json_pack("{s:b,s:O,s:i,s:b}",
		    "ok", ok, "result", result, "attempt", t->attempt,
		    "fail_on", failon));
		return;
	}
	if (failon) {
		task_complete(e, rt, t, 0, result,
		    "task failed by its fail-on policy", s);
		return;
	}
	engine_task_attempt_decide(e, rt, t, ok, result, s);
}

/* Retry or complete (after any wait-after). */
void
engine_task_attempt_decide(struct engine *e, struct exec_rt *rt,
    struct task_rt *t, int ok, json_t *result, struct step *s)
{
	const struct dsl_task	*spec = t->spec;
	double			 count = 0, delay = 0;
	int			 brk = 0, cont = 0, retry = 0;
	char			*cause = NULL, *info;
	json_t			*saved_state;

	if (spec->retry_count != NULL) {
		/* break-on and continue-on see this attempt through task(). */
		saved_state = json_string(store_state_name(ok ?
		    STATE_SUCCESS : STATE_ERROR));
		free(t->row->state_info);
		t->row->state_info = NULL;
		json_decref(t->row->result);
		t->row->result = json_incref(result);
		if (engine_policy_num(e, rt, t, spec->retry_count, 0, &count,
		    &cause) != 0 ||
		    engine_policy_num(e, rt, t, spec->retry_delay, 0, &delay,
		    &cause) != 0 ||
		    (!ok && engine_policy_bool(e, rt, t, spec->retry_break_on,
		    0, &brk, &cause) != 0) ||
		    (ok && engine_policy_bool(e, rt, t,
		    spec->retry_continue_on, 0, &cont, &cause) != 0)) {
			json_decref(saved_state);
			info = task_expr_error(t, "retry", cause);
			free(cause);
			task_complete(e, rt, t, 0, result, info, s);
			free(info);
			return;
		}
		json_decref(saved_state);
		if (t->attempt < (int)count) {
			if (!ok && !brk)
				retry = 1;
			if (ok && spec->retry_continue_on != NULL && cont)
				retry = 1;
		}
	}
	if (!retry) {
		task_complete(e, rt, t, ok, result, NULL, s);
		return;
	}
	t->attempt++;
	json_object_set_new(t->row->runtime, "retry_no",
	    json_integer(t->attempt));
	/* A retry runs every item again, kept ones too. */
	json_object_del(t->row->runtime, "kept");
	free(t->done);
	t->done = NULL;		/* items are evaluated again */
	/* The attempts made of those the policy allows, short of the end. */
	engine_event(rt, t, s, ok ? "info" : "warning",
	    (double)t->attempt / (count + 1),
	    "task %s: attempt %d %s, retrying (%d of %d)", t->row->name,
	    t->attempt, ok ? "succeeded" : "failed", t->attempt, (int)count);
	if (delay > 0) {
		task_set_state(t, STATE_DELAYED, NULL, s);
		store_tx_task_update(s->tx, t->row, SF_RUNTIME | SF_RESULT,
		    NULL);
		engine_add_work(e, rt, s, WK_RETRY, t->row->id,
		    (int64_t)(delay * 1000), NULL);
	} else {
		store_tx_task_update(s->tx, t->row, SF_RUNTIME | SF_RESULT,
		    NULL);
		engine_step_ready(s, t);
	}
}

/* Error text for state_info from an action's error result. */
static char *
task_error_text(json_t *v)
{
	char	*s;

	if (v == NULL || json_is_null(v))
		return (xstrdup("action failed"));
	if (json_is_string(v))
		return (xstrndup(json_string_value(v), INFO_MAX));
	/* An error that says what went wrong (os.request) is shown so. */
	if (json_is_object(v) && json_is_string(json_object_get(v, "message")))
		return (xstrndup(json_string_value(json_object_get(v,
		    "message")), INFO_MAX));
	if (json_is_object(v) && json_is_integer(json_object_get(v, "status")) &&
	    json_object_get(v, "content") != NULL)
		return (task_http_error_text(v));
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		return (xstrdup("action failed"));
	if (strlen(s) > INFO_MAX)
		s[INFO_MAX] = '\0';
	return (s);
}

#define HTTP_EXCERPT	200	/* characters of an error page kept */

/*
 * The state_info of a failed HTTP call ({status, reason, url, content}):
 * the status and a short excerpt of the body as text, tags of an HTML
 * page and runs of blanks dropped, never the whole page.  The result
 * keeps the full body.
 */
static char *
task_http_error_text(json_t *v)
{
	const char	*reason, *url, *p;
	json_t		*content = json_object_get(v, "content");
	struct buf	 b;
	char		*body, *out;
	size_t		 n = 0;
	int		 tag = 0, blank = 1;

	reason = json_string_value(json_object_get(v, "reason"));
	url = json_string_value(json_object_get(v, "url"));
	body = json_is_string(content) ? xstrdup(json_string_value(content)) :
	    json_dumps(content, JSON_COMPACT | JSON_ENCODE_ANY);
	buf_init(&b, 0);
	buf_puts(&b, "");
	for (p = body != NULL ? body : ""; *p != '\0' && n < HTTP_EXCERPT;
	    p++) {
		if (json_is_string(content) && *p == '<') {
			tag = 1;
			continue;
		}
		if (tag) {
			if (*p == '>') {
				tag = 0;
				if (!blank) {
					buf_puts(&b, " ");
					blank = 1;
				}
			}
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			if (!blank)
				buf_puts(&b, " ");
			blank = 1;
			continue;
		}
		buf_printf(&b, "%c", *p);
		blank = 0;
		n++;
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	xasprintf(&out, "HTTP %lld%s%s%s%s%s%s%s", (long long)
	    json_integer_value(json_object_get(v, "status")),
	    reason != NULL && *reason != '\0' ? " " : "",
	    reason != NULL ? reason : "", url != NULL ? " from " : "",
	    url != NULL ? url : "", b.len > 0 ? ": " : "",
	    b.data != NULL ? b.data : "", *p != '\0' ? " ..." : "");
	buf_free(&b);
	free(body);
	return (out);
}

/* Evaluate a publish template into obj; -1 + *cause on error. */
static int
task_publish_eval(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    json_t *tmpl, const char *field, json_t *obj, char **cause)
{
	struct expr_ctx	 ctx;
	json_t		*data, *v;
	char		*err = NULL;

	if (tmpl == NULL)
		return (0);
	data = engine_task_data(rt, t, 0);
	json_object_update(data, obj);
	engine_expr_ctx(e, rt, t, data, &ctx);
	v = expr_eval(e->ex, tmpl, &ctx, &err);
	json_decref(data);
	if (v == NULL) {
		*cause = task_expr_error(t, field, err);
		free(err);
		return (-1);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		xasprintf(cause, "task '%s', %s: expected a mapping",
		    t->row->name, field);
		return (-1);
	}
	json_object_update(obj, v);
	json_decref(v);
	return (0);
}

/* Fail a task now with info as state_info; transitions follow. */
void
engine_task_fail(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    const char *info, struct step *s)
{
	json_t	*r = json_string(info);

	t->cancelled = 1;
	switch (t->state) {
	case STATE_IDLE:
	case STATE_WAITING:
	case STATE_RUNNING:
	case STATE_DELAYED:
		task_complete(e, rt, t, 0, r, info, s);
		break;
	default:
		break;		/* it ended already */
	}
	json_decref(r);
}

/*
 * Complete a task: publish, record the end state, then fire its
 * transitions and see whether the execution is done.
 */
static void
task_complete(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    int ok, json_t *result, const char *info, struct step *s)
{
	const struct dsl_task	*spec = t->spec;
	json_t			*pub, *glob;
	char			*cause = NULL, *einfo = NULL, *prev;
	int			 keep = 1;
	unsigned		 mask;
	enum store_state	 end = t->state;

	/* A task that cannot end so is a bug: nothing of it is written. */
	if (engine_state_move(ENGINE_TASK, t->row->id, &end, ok ?
	    STATE_SUCCESS : STATE_ERROR) != 0)
		return;
	json_decref(t->row->result);
	t->row->result = json_incref(result != NULL ? result : json_null());
	pub = json_object();
	glob = json_object();
	/*
	 * Publishing sees the task in its end state through task(): the
	 * row shows it for a while, which is not a move (that follows).
	 */
	prev = t->row->state;
	t->row->state = xstrdup(store_state_name(end));
	if (ok && info == NULL) {
		if (task_publish_eval(e, rt, t, spec->publish, "publish", pub,
		    &cause) != 0 ||
		    task_publish_eval(e, rt, t, spec->on_success.publish,
		    "on-success.publish", pub, &cause) != 0 ||
		    task_publish_eval(e, rt, t,
		    spec->on_success.publish_global,
		    "on-success.publish.global", glob, &cause) != 0) {
			ok = 0;
			einfo = cause;
			free(t->row->state);
			t->row->state = xstrdup(store_state_name(STATE_ERROR));
		}
	}
	if (!ok) {
		free(t->row->state_info);
		t->row->state_info = einfo != NULL ? xstrdup(einfo) :
		    info != NULL ? xstrdup(info) : task_error_text(result);
		if (task_publish_eval(e, rt, t, spec->publish_on_error,
		    "publish-on-error", pub, &cause) != 0 ||
		    task_publish_eval(e, rt, t, spec->on_error.publish,
		    "on-error.publish", pub, &cause) != 0 ||
		    task_publish_eval(e, rt, t, spec->on_error.publish_global,
		    "on-error.publish.global", glob, &cause) != 0) {
			if (einfo == NULL)
				einfo = cause;
			else
				free(cause);
		}
	}
	if (task_publish_eval(e, rt, t, spec->on_complete.publish,
	    "on-complete.publish", pub, &cause) != 0 ||
	    task_publish_eval(e, rt, t, spec->on_complete.publish_global,
	    "on-complete.publish.global", glob, &cause) != 0) {
		ok = 0;
		if (einfo == NULL)
			einfo = cause;
		else
			free(cause);
	}
	free(t->row->state);
	t->row->state = prev;
	json_decref(t->row->published);
	t->row->published = pub;
	if (json_object_size(glob) > 0) {
		json_object_update(rt->row->context, glob);
		json_decref(rt->data_base);
		rt->data_base = NULL;
		store_tx_exec_update(s->tx, rt->row, SF_CONTEXT, NULL);
	}
	json_decref(glob);

	if (spec->keep_result != NULL &&
	    engine_policy_bool(e, rt, t, spec->keep_result, 1, &keep,
	    &cause) != 0) {
		free(cause);
		keep = 1;
	}
	if (!keep) {
		json_decref(t->row->result);
		t->row->result = json_null();
	}
	{
		char	*text = NULL;

		if (!ok && einfo == NULL && info == NULL)
			text = task_error_text(result);
		end = ok ? STATE_SUCCESS : STATE_ERROR;
		if (task_set_state(t, end, einfo != NULL ? einfo :
		    info != NULL ? info : text, s) != 0) {
			free(text);
			free(einfo);
			return;
		}
		free(text);
	}
	free(einfo);
	mask = SF_PUBLISHED | SF_RESULT | SF_RUNTIME;
	store_tx_task_update(s->tx, t->row, mask, NULL);
	store_tx_work_delete_task(s->tx, t->row->id);
	free(t->done);
	t->done = NULL;
	task_progress(e, rt, t, ok ? "success" : "error", s);
	if (ok)
		engine_event(rt, t, s, "info", 1, "task %s succeeded",
		    t->row->name);
	else
		engine_event(rt, t, s, "error", 1, "task %s failed: %s",
		    t->row->name, t->row->state_info != NULL ?
		    t->row->state_info : "error");
	/* What the user is told, unless a message said why already. */
	if (!ok && !engine_task_handled(t) && !t->told)
		engine_message(rt, t, s, MSG_TASK_UNHANDLED, "task",
		    t->row->name, "workflow", rt->row->workflow_name,
		    "reason", t->row->state_info, "task_id", t->row->id,
		    "execution", rt->row->id, (char *)NULL);
	t->told = 0;
	task_transitions(e, rt, t, ok, s);
	if (rt->def->wb != NULL && rt->wf->type == DSL_WF_REVERSE)
		task_reverse_next(e, rt, s);
	engine_task_join_check(e, rt, s);
	engine_exec_check_done(e, rt, s);
}

/* Evaluate one transition clause and fire what holds. */
static void
task_fire(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    const struct dsl_trans *tr, const char *field, struct step *s)
{
	const struct dsl_next	*nx;
	const struct dsl_task	*target;
	struct expr_ctx		 ctx;
	json_t			*data, *v, *out;
	char			*err = NULL, *info, *msg;
	size_t			 i;
	int			 yes;

	for (i = 0; i < tr->n && !rt->finished; i++) {
		nx = &tr->v[i];
		data = engine_task_data(rt, t, 0);
		json_object_update(data, t->row->published);
		engine_expr_ctx(e, rt, t, data, &ctx);
		yes = 1;
		if (nx->cond != NULL) {
			v = expr_eval(e->ex, nx->cond, &ctx, &err);
			if (v == NULL) {
				/*
				 * The task cannot say where to go: it fails,
				 * and so does the workflow (its handlers are
				 * what failed).
				 */
				json_decref(data);
				info = task_expr_error(t, field, err);
				free(err);
				(void)task_set_state(t, STATE_ERROR, info, s);
				free(info);
				xasprintf(&info, "Failure caused by error in "
				    "tasks: %s (%s)", t->row->name,
				    t->row->state_info);
				engine_exec_finish(e, rt, STATE_ERROR, info, s);
				free(info);
				return;
			}
			yes = expr_truthy(v);
			json_decref(v);
		}
		if (!yes) {
			json_decref(data);
			continue;
		}
		msg = NULL;
		if (nx->msg != NULL) {
			v = expr_eval(e->ex, nx->msg, &ctx, &err);
			if (v == NULL) {
				msg = task_expr_error(t, field, err);
				free(err);
			} else {
				msg = json_is_string(v) ?
				    xstrdup(json_string_value(v)) :
				    json_dumps(v, JSON_ENCODE_ANY);
				json_decref(v);
			}
		}
		json_decref(data);
		switch (nx->kind) {
		case DSL_NEXT_TASK:
			json_array_append_new(t->fired_to,
			    json_string(nx->task));
			target = dsl_task_find(rt->wf, nx->task);
			if (target == NULL)
				break;
			out = json_copy(t->row->in_context);
			json_object_update(out, t->row->published);
			if (target->join != DSL_JOIN_NONE)
				task_arrive(e, rt, target, t, out, s);
			else
				engine_task_create(e, rt, target, out, s);
			json_decref(out);
			break;
		case DSL_NEXT_FAIL:
			if (msg == NULL)
				xasprintf(&msg, "workflow failed by the 'fail' "
				    "command of task '%s'", t->row->name);
			engine_exec_finish(e, rt, STATE_ERROR, msg, s);
			break;
		case DSL_NEXT_SUCCEED:
			engine_exec_finish(e, rt, STATE_SUCCESS, msg, s);
			break;
		case DSL_NEXT_PAUSE:
			if (rt->state == STATE_RUNNING)
				(void)engine_exec_move(rt, STATE_PAUSED, msg,
				    SF_STATE_INFO, s);
			break;
		case DSL_NEXT_NOOP:
			break;
		}
		free(msg);
	}
}

/* Fire on-success or on-error, then on-complete. */
static void
task_transitions(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    int ok, struct step *s)
{
	if (ok)
		task_fire(e, rt, t, &t->spec->on_success, "on-success", s);
	else
		task_fire(e, rt, t, &t->spec->on_error, "on-error", s);
	task_fire(e, rt, t, &t->spec->on_complete, "on-complete", s);
	json_object_set(t->row->runtime, "fired", t->fired_to);
	store_tx_task_update(s->tx, t->row, SF_RUNTIME, NULL);
	t->fired = 1;
}

/* A transition reached a join task: record the arrival. */
static void
task_arrive(struct engine *e, struct exec_rt *rt, const struct dsl_task *spec,
    struct task_rt *from, json_t *ctx, struct step *s)
{
	struct task_rt	*j;
	json_t		*arrived;

	j = engine_task_find_name(rt, spec->name);
	if (j != NULL && j->state != STATE_WAITING)
		j = NULL;
	if (j == NULL) {
		/* A join task runs once per execution. */
		if (engine_task_find_name(rt, spec->name) != NULL)
			return;
		j = engine_task_create(e, rt, spec, ctx, s);
	} else {
		json_object_update(j->row->in_context, ctx);
		store_tx_task_update(s->tx, j->row, SF_IN_CONTEXT, NULL);
	}
	arrived = json_object_get(j->row->runtime, "arrived");
	if (arrived == NULL) {
		arrived = json_array();
		json_object_set_new(j->row->runtime, "arrived", arrived);
	}
	json_array_append_new(arrived, json_string(from->row->name));
	store_tx_task_update(s->tx, j->row, SF_RUNTIME, NULL);
}

/* 1 if name is in the JSON array of strings. */
static int
json_strs_has(json_t *arr, const char *name)
{
	size_t	 i;
	json_t	*v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v),
		    name) == 0)
			return (1);
	}
	return (0);
}

/*
 * Re-evaluate every waiting join: run it when enough inbound branches
 * arrived, fail it when that can no longer happen.  An inbound task is
 * dead when it ended without firing to the join.
 */
void
engine_task_join_check(struct engine *e, struct exec_rt *rt, struct step *s)
{
	struct task_rt	*j, *in;
	const struct dsl_task *spec;
	size_t		 i, k, m, inbound, arrived, dead, need;
	json_t		*arr;
	char		*info;
	int		 fires;

	for (i = 0; i < rt->ntasks && !rt->finished; i++) {
		j = rt->tasks[i];
		if (j->state != STATE_WAITING)
			continue;
		arr = json_object_get(j->row->runtime, "arrived");
		inbound = arrived = dead = 0;
		for (k = 0; k < rt->wf->ntasks; k++) {
			spec = &rt->wf->tasks[k];
			fires = 0;
			for (m = 0; m < spec->on_success.n; m++)
				if (spec->on_success.v[m].task != NULL &&
				    strcmp(spec->on_success.v[m].task,
				    j->row->name) == 0)
					fires = 1;
			for (m = 0; m < spec->on_error.n; m++)
				if (spec->on_error.v[m].task != NULL &&
				    strcmp(spec->on_error.v[m].task,
				    j->row->name) == 0)
					fires = 1;
			for (m = 0; m < spec->on_complete.n; m++)
				if (spec->on_complete.v[m].task != NULL &&
				    strcmp(spec->on_complete.v[m].task,
				    j->row->name) == 0)
					fires = 1;
			if (!fires)
				continue;
			inbound++;
			if (arr != NULL && json_strs_has(arr, spec->name)) {
				arrived++;
				continue;
			}
			in = engine_task_find_name(rt, spec->name);
			if (in != NULL && store_state_final(in->row->state) &&
			    in->fired)
				dead++;
		}
		need = j->spec->join == DSL_JOIN_ALL ? inbound :
		    (size_t)j->spec->join_n;
		if (arrived >= need) {
			if (task_set_state(j, STATE_RUNNING, NULL, s) == 0)
				engine_step_ready(s, j);
		} else if (arrived + (inbound - arrived - dead) < need) {
			xasprintf(&info, "join of task '%s' cannot be "
			    "satisfied: %zu of %zu inbound tasks arrived",
			    j->row->name, arrived, need);
			engine_task_fail(e, rt, j, info, s);
			free(info);
		}
	}
}

/*
 * Reverse workflows: create every task of the target's closure whose
 * requirements have all succeeded.
 */
static void
task_reverse_next(struct engine *e, struct exec_rt *rt, struct step *s)
{
	json_t			*closure, *ctx;
	const struct dsl_task	*spec;
	struct task_rt		*r;
	size_t			 i, k;
	int			 ready;

	closure = json_object_get(rt->row->params, "closure");
	for (i = 0; i < rt->wf->ntasks && !rt->finished; i++) {
		spec = &rt->wf->tasks[i];
		if (closure != NULL && !json_strs_has(closure, spec->name))
			continue;
		if (engine_task_find_name(rt, spec->name) != NULL)
			continue;
		ready = 1;
		ctx = json_object();
		for (k = 0; k < spec->nrequires && ready; k++) {
			r = engine_task_find_name(rt, spec->requires[k]);
			if (r == NULL || r->state != STATE_SUCCESS)
				ready = 0;
			else {
				json_object_update(ctx, r->row->in_context);
				json_object_update(ctx, r->row->published);
			}
		}
		if (ready)
			engine_task_create(e, rt, spec, ctx, s);
		json_decref(ctx);
	}
}

/* Start a reverse workflow: compute the target's closure. */
int
engine_task_reverse_start(struct engine *e, struct exec_rt *rt,
    const char *target, struct step *s, char **cause)
{
	json_t			*closure;
	const struct dsl_task	*t;
	size_t			 i, k;
	int			 grew;

	if (target == NULL || dsl_task_find(rt->wf, target) == NULL) {
		xasprintf(cause, "reverse workflow '%s' needs a target task "
		    "(params.task_name / --task): %s", rt->wf->name,
		    target == NULL ? "none given" : "no such task");
		return (-1);
	}
	closure = json_array();
	json_array_append_new(closure, json_string(target));
	do {
		grew = 0;
		for (i = 0; i < json_array_size(closure); i++) {
			t = dsl_task_find(rt->wf, json_string_value(
			    json_array_get(closure, i)));
			for (k = 0; t != NULL && k < t->nrequires; k++) {
				if (!json_strs_has(closure, t->requires[k])) {
					json_array_append_new(closure,
					    json_string(t->requires[k]));
					grew = 1;
				}
			}
		}
	} while (grew);
	json_object_set_new(rt->row->params, "closure", closure);
	store_tx_exec_update(s->tx, rt->row, SF_PARAMS, NULL);
	task_reverse_next(e, rt, s);
	return (0);
}

size_t
engine_task_count(struct task_rt *t)
{
	return (task_count(t));
}

/* Put an interrupted item back to "not started". */
void
engine_task_item_reset(struct task_rt *t, int item)
{
	size_t	 idx = item < 0 ? 0 : (size_t)item;

	if (t->done == NULL || idx >= task_count(t) ||
	    t->done[idx] != STATE_RUNNING)
		return;
	if (engine_item_move(t, idx, STATE_IDLE) == 0 && t->nrunning > 0)
		t->nrunning--;
}

/*
 * Record what the rows say of an item while rebuilding: loading state,
 * not a move.  A CANCELLED run (interrupted and run again by an earlier
 * recovery) says nothing: the item is IDLE until a later row says more.
 */
static void
task_rebuild_item(struct task_rt *t, size_t idx, enum store_state st,
    json_t *result)
{
	if (idx >= task_count(t) || t->done[idx] == STATE_SUCCESS)
		return;
	if (st == STATE_SUCCESS || st == STATE_ERROR) {
		t->done[idx] = (unsigned char)st;
		t->ndone++;
		if (st == STATE_ERROR)
			t->nfailed++;
		json_array_set(t->results, idx, result != NULL ? result :
		    json_null());
	} else if (st == STATE_RUNNING) {
		t->done[idx] = (unsigned char)st;
		t->nrunning++;
	}
}

/*
 * Rebuild the items of a RUNNING task after a restart: evaluate the
 * items again, then mark what the current attempt's action rows (or
 * child executions) say happened.  -1 + *cause when the items cannot be
 * evaluated (the task fails), -2 + *cause when the store failed.
 */
int
engine_task_items_rebuild(struct engine *e, struct exec_rt *rt,
    struct task_rt *t, struct store_action **acts, size_t n, char **cause)
{
	json_t			*children, *v;
	struct store_exec	*c;
	enum store_state	 cs;
	enum store_rc		 rc;
	size_t			 i, idx;

	if (task_items_prepare(e, rt, t, cause) != 0)
		return (-1);
	task_items_keep(t);
	if (t->spec->workflow != NULL) {
		children = json_object_get(t->row->runtime, "children");
		json_array_foreach(children, i, v) {
			c = NULL;
			rc = store_exec_load(e->st, json_string_value(v), &c);
			if (rc == STORE_NOTFOUND)
				continue;
			if (rc != STORE_OK) {
				/* Read as missing, it would start again. */
				xasprintf(cause, "task '%s': %s", t->row->name,
				    store_error(e->st));
				return (-2);
			}
			if ((int)json_integer_value(json_object_get(c->params,
			    "attempt")) == t->attempt) {
				idx = (size_t)json_integer_value(
				    json_object_get(c->params, "item"));
				/* A child still running or paused runs. */
				cs = store_state_parse(c->state);
				task_rebuild_item(t, idx, cs == STATE_SUCCESS ?
				    cs : cs == STATE_RUNNING ||
				    cs == STATE_PAUSED ? STATE_RUNNING :
				    STATE_ERROR, cs == STATE_SUCCESS ?
				    c->output : NULL);
			}
			store_exec_free(c);
		}
		return (0);
	}
	for (i = 0; i < n; i++) {
		if (acts[i]->attempt != t->attempt)
			continue;
		idx = acts[i]->item < 0 ? 0 : (size_t)acts[i]->item;
		task_rebuild_item(t, idx, store_state_parse(acts[i]->state),
		    acts[i]->output);
	}
	return (0);
}

/*
 * The completion rule: when no task is active any more, the execution
 * is SUCCESS if every failed task had a handler, else ERROR naming the
 * failed tasks.  Joins still waiting then can never run: they fail.
 */
void
engine_exec_check_done(struct engine *e, struct exec_rt *rt, struct step *s)
{
	struct task_rt	*t;
	struct buf	 b;
	size_t		 i, nfail = 0;
	int		 waiting = 0;

	if (rt->finished || rt->state != STATE_RUNNING)
		return;
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (t->state == STATE_RUNNING || t->state == STATE_DELAYED ||
		    t->state == STATE_IDLE)
			return;
		if (t->state == STATE_WAITING)
			waiting = 1;
	}
	if (waiting) {
		for (i = 0; i < rt->ntasks && !rt->finished; i++) {
			t = rt->tasks[i];
			if (t->state == STATE_WAITING) {
				char *info;
				xasprintf(&info, "join of task '%s' cannot be "
				    "satisfied: its inbound tasks ended",
				    t->row->name);
				engine_task_fail(e, rt, t, info, s);
				free(info);
			}
		}
		return;		/* failing them re-checked completion */
	}
	buf_init(&b, 4096);
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (t->state != STATE_ERROR || engine_task_handled(t))
			continue;
		/* A later successful run of the same task clears it. */
		if (engine_task_find_name(rt, t->row->name) != t)
			continue;
		buf_printf(&b, "%s%s", nfail++ == 0 ?
		    "Failure caused by error in tasks: " : ", ",
		    t->row->name);
		if (t->row->state_info != NULL)
			buf_printf(&b, " (%.300s)", t->row->state_info);
	}
	if (nfail > 0)
		engine_exec_finish(e, rt, STATE_ERROR, b.data, s);
	else
		engine_exec_finish(e, rt, STATE_SUCCESS, NULL, s);
	buf_free(&b);
}
