/*
 * engine-exec.c -- the due work of a loaded execution: timers, results of
 * actions, state changes and re-runs asked from other threads; and the
 * completions of actions taken from the inbox.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "engine/engine-int.h"

#define ENGINE_RETRY_MS	200	/* work the store could not serve, again */

/* Handle one completion from the inbox on the loop thread. */
void
engine_exec_done_one(struct engine *e, struct engine_done *d)
{
	struct exec_rt	*rt;
	struct task_rt	*t;
	json_t		*res;
	int		 ok = d->ok;

	rt = engine_exec_find(e, d->exec_id);
	if (rt != NULL && !d->is_async && rt->ninflight > 0)
		rt->ninflight--;
	if (rt == NULL && d->is_async) {
		char	*cause = NULL;

		/*
		 * An async action that failed after its execution was
		 * parked (engine_exec_park()): its result becomes due
		 * work, as a callback's does, and wakes the execution.
		 */
		if (engine_action_complete(e, d->action_id, ok ? "SUCCESS" :
		    "ERROR", d->result, &cause) != STORE_OK) {
			log_warnx("action execution %s: %s", d->action_id,
			    cause);
			free(cause);
		}
		return;
	}
	if (rt == NULL || (t = engine_task_find_id(rt, d->task_id)) == NULL) {
		/* Not ours any more: record the action outcome only. */
		struct store_tx		*tx = store_tx_create();
		struct store_action	 a;

		memset(&a, 0, sizeof a);
		memcpy(a.id, d->action_id, UUID_STRLEN);
		a.output = d->result;
		if (engine_row_move(tx, ENGINE_ACTION, &a, STATE_RUNNING, ok ?
		    STATE_SUCCESS : STATE_ERROR, SF_OUTPUT) == 0)
			(void)store_tx_commit(e->st, tx);
		store_tx_free(tx);
		return;
	}
	res = engine_adhoc_output(e, rt, t, d->adhoc, d->result != NULL ?
	    d->result : json_null(), &ok);
	engine_task_done(e, rt, t, d->attempt, d->item, d->action_id, ok,
	    res);
	json_decref(res);
}

/* Resume a paused execution: IDLE tasks run. */
static void
exec_resume(struct engine *e, struct exec_rt *rt, struct step *s)
{
	struct task_rt	*t;
	size_t		 i;

	if (engine_exec_move(rt, STATE_RUNNING, NULL, SF_STATE_INFO, s) != 0)
		return;
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (t->state == STATE_IDLE &&
		    engine_task_move(t, STATE_RUNNING, NULL, SF_STARTED,
		    s) == 0)
			engine_step_ready(s, t);
	}
	engine_exec_check_done(e, rt, s);
}

/*
 * The items of a failed with-items task that succeeded, into runtime
 * "kept" ({index: result}): a re-run without reset runs the others
 * only.  From memory when the items are there, else from the attempt's
 * action rows (or child executions) and the task's result.
 */
static void
rerun_keep(struct engine *e, struct task_rt *t)
{
	struct store_action	**a = NULL;
	struct store_exec	*c;
	json_t			*kept, *res = t->row->result, *v;
	size_t			 n = 0, i;
	char			 key[32];
	int			 idx;

	if (t->spec->nitems == 0)
		return;
	if ((kept = json_object_get(t->row->runtime, "kept")) == NULL) {
		kept = json_object();
		json_object_set_new(t->row->runtime, "kept", kept);
	}
	if (t->done != NULL) {
		for (i = 0; i < engine_task_count(t); i++) {
			if (t->done[i] != STATE_SUCCESS)
				continue;
			snprintf(key, sizeof key, "%zu", i);
			json_object_set(kept, key, json_array_get(t->results,
			    i));
		}
		return;
	}
	if (t->spec->workflow != NULL) {
		json_array_foreach(json_object_get(t->row->runtime,
		    "children"), i, v) {
			c = NULL;
			if (store_exec_load(e->st, json_string_value(v),
			    &c) != STORE_OK)
				continue;
			idx = (int)json_integer_value(json_object_get(
			    c->params, "item"));
			if ((int)json_integer_value(json_object_get(c->params,
			    "attempt")) == t->attempt &&
			    store_state_parse(c->state) == STATE_SUCCESS) {
				snprintf(key, sizeof key, "%d", idx);
				json_object_set(kept, key, c->output);
			}
			store_exec_free(c);
		}
		return;
	}
	if (store_actions_load(e->st, t->row->id, &a, &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (a[i]->attempt == t->attempt && a[i]->item >= 0 &&
		    store_state_parse(a[i]->state) == STATE_SUCCESS) {
			snprintf(key, sizeof key, "%d", a[i]->item);
			v = json_is_array(res) ? json_array_get(res,
			    (size_t)a[i]->item) : NULL;
			json_object_set(kept, key, v != NULL ? v :
			    a[i]->output);
		}
		store_action_free(a[i]);
	}
	free(a);
}

/* Re-run a failed task (reset: every item; else failed items only). */
static void
exec_rerun(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    int reset, struct step *s)
{
	if (t->state != STATE_ERROR)
		return;
	if (reset)
		json_object_del(t->row->runtime, "kept");
	else
		rerun_keep(e, t);
	t->attempt++;
	json_object_set_new(t->row->runtime, "retry_no",
	    json_integer(t->attempt));
	json_array_clear(t->fired_to);
	t->fired = 0;
	json_object_del(t->row->runtime, "fired");
	if (engine_task_move(t, STATE_RUNNING, NULL, SF_STATE_INFO |
	    SF_RUNTIME | SF_FINISHED, s) != 0)
		return;
	free(t->done);
	t->done = NULL;
	t->cancelled = 0;
	engine_step_ready(s, t);
}

/*
 * A task timed out: when it was waiting for a lock, or for the callback
 * of an async action, the user is told that (and *info says it), rather
 * than that a task failed.
 */
static void
exec_timeout_message(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    double tmo, char **info, struct step *s)
{
	struct store_action	**acts = NULL, *a = NULL;
	const char		*lock, *holder;
	char			 secs[32];
	size_t			 n = 0, i;

	snprintf(secs, sizeof secs, "%g", tmo);
	lock = json_string_value(json_object_get(t->row->runtime,
	    "lock_name"));
	holder = json_string_value(json_object_get(t->row->runtime,
	    "lock_holder"));
	if (t->state == STATE_DELAYED && lock != NULL && json_is_true(
	    json_object_get(t->row->runtime, "lock_wait"))) {
		free(*info);
		xasprintf(info, "Task timed out [timeout(s)=%g] waiting for "
		    "lock '%s' held by execution %s.", tmo, lock,
		    holder != NULL ? holder : "?");
		engine_message(rt, t, s, MSG_LOCK_TIMEOUT, "task", t->row->name,
		    "workflow", rt->row->workflow_name, "lock", lock, "holder",
		    holder, "timeout", secs, "task_id", t->row->id,
		    (char *)NULL);
		t->told = 1;
		return;
	}
	if (t->state != STATE_RUNNING ||
	    store_actions_load(e->st, t->row->id, &acts, &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (a == NULL && acts[i]->is_async &&
		    store_state_parse(acts[i]->state) == STATE_RUNNING)
			a = acts[i];
	}
	if (a != NULL) {
		engine_message(rt, t, s, MSG_ASYNC_TIMEOUT, "task",
		    t->row->name, "workflow", rt->row->workflow_name, "action",
		    a->name, "action_id", a->id, "timeout", secs, "task_id",
		    t->row->id, (char *)NULL);
		t->told = 1;
	}
	for (i = 0; i < n; i++)
		store_action_free(acts[i]);
	free(acts);
}

/* Handle one due work row (the step deletes it). */
static void
exec_work_one(struct engine *e, struct exec_rt *rt, struct store_work *w,
    struct step *s)
{
	struct task_rt	*t = NULL;
	json_t		*p = w->payload;
	const char	*state, *info;
	enum store_state want;
	enum store_rc	 rc;
	char		*msg;
	double		 tmo;

	if (w->task_id != NULL)
		t = engine_task_find_id(rt, w->task_id);
	if (strcmp(w->kind, WK_START) == 0) {
		engine_exec_begin(e, rt, s);
	} else if (strcmp(w->kind, WK_RUN) == 0 ||
	    strcmp(w->kind, WK_RETRY) == 0) {
		if (t == NULL || t->state != STATE_DELAYED)
			return;
		if (rt->state == STATE_PAUSED) {
			(void)engine_task_move(t, STATE_IDLE, NULL, 0, s);
			return;
		}
		if (engine_task_move(t, STATE_RUNNING, NULL, SF_STARTED,
		    s) == 0)
			engine_step_ready(s, t);
	} else if (strcmp(w->kind, WK_WAIT_AFTER) == 0) {
		if (t == NULL || t->state != STATE_DELAYED ||
		    engine_task_move(t, STATE_RUNNING, NULL, 0, s) != 0)
			return;
		if (json_is_true(json_object_get(p, "fail_on"))) {
			engine_task_fail(e, rt, t, "task failed by its "
			    "fail-on policy", s);
			return;
		}
		/* The wait is over: retry or complete. */
		engine_task_attempt_decide(e, rt, t,
		    json_is_true(json_object_get(p, "ok")),
		    json_object_get(p, "result"), s);
	} else if (strcmp(w->kind, WK_TIMEOUT) == 0) {
		if (t == NULL || STATE_FINAL(t->state))
			return;
		tmo = json_number_value(json_object_get(p, "timeout"));
		xasprintf(&msg, "Task timed out [timeout(s)=%g].", tmo);
		exec_timeout_message(e, rt, t, tmo, &msg, s);
		t->cancelled = 1;
		engine_task_close_actions(e, t, STATE_ERROR, msg, s);
		engine_task_fail(e, rt, t, msg, s);
		free(msg);
	} else if (strcmp(w->kind, WK_RESULT) == 0) {
		struct store_action *a = NULL;

		rc = store_action_load(e->st, json_string_value(
		    json_object_get(p, "action_id")), &a);
		if (rc != STORE_OK && rc != STORE_NOTFOUND) {
			/* Not read, not lost: the result waits for a retry. */
			store_tx_free(s->tx);
			s->tx = store_tx_create();
			rt->next_due = time_now_ms() + ENGINE_RETRY_MS;
			return;
		}
		if (rc != STORE_OK)
			return;
		if (a->task_id == NULL ||
		    (t = engine_task_find_id(rt, a->task_id)) == NULL) {
			store_action_free(a);
			return;
		}
		state = json_string_value(json_object_get(p, "state"));
		{
			struct engine_done d;

			memset(&d, 0, sizeof d);
			memcpy(d.exec_id, rt->row->id, UUID_STRLEN);
			memcpy(d.task_id, t->row->id, UUID_STRLEN);
			memcpy(d.action_id, a->id, UUID_STRLEN);
			d.attempt = a->attempt;
			d.item = a->item;
			d.ok = store_state_parse(state) == STATE_SUCCESS;
			d.result = json_object_get(p, "output");
			d.engine = e;
			engine_async_forget(e, a->id);
			store_action_free(a);
			/* the work row goes with this step */
			engine_commit(e, rt, s);
			memset(s, 0, sizeof *s);
			s->tx = store_tx_create();
			engine_exec_done_one(e, &d);
		}
	} else if (strcmp(w->kind, WK_CHILD) == 0) {
		int	 item, attempt, ok;
		json_t	*res;

		if (t == NULL)
			return;
		state = json_string_value(json_object_get(p, "state"));
		ok = store_state_parse(state) == STATE_SUCCESS;
		item = (int)json_integer_value(json_object_get(p, "item"));
		attempt = (int)json_integer_value(json_object_get(p,
		    "attempt"));
		res = ok ? json_incref(json_object_get(p, "output")) :
		    json_incref(json_object_get(p, "state_info"));
		if (res == NULL)
			res = json_null();
		engine_commit(e, rt, s);
		memset(s, 0, sizeof *s);
		s->tx = store_tx_create();
		engine_task_done(e, rt, t, attempt, t->spec->nitems == 0 ?
		    -1 : item, NULL, ok, res);
		json_decref(res);
	} else if (strcmp(w->kind, WK_STATE) == 0) {
		want = store_state_parse(json_string_value(json_object_get(p,
		    "state")));
		info = json_string_value(json_object_get(p, "state_info"));
		if (want == STATE_NONE || STATE_FINAL(rt->state))
			return;
		if (want == STATE_PAUSED) {
			if (rt->state == STATE_RUNNING)
				(void)engine_exec_move(rt, STATE_PAUSED, info,
				    SF_STATE_INFO, s);
		} else if (want == STATE_RUNNING) {
			if (rt->state == STATE_PAUSED)
				exec_resume(e, rt, s);
		} else
			engine_exec_finish(e, rt, want, info, s);
	} else if (strcmp(w->kind, WK_RERUN) == 0) {
		json_t	*env = json_object_get(p, "env");

		/* task-rerun -e: the execution's env gets these keys. */
		if (t != NULL && json_is_object(env) &&
		    json_object_size(env) > 0) {
			if (!json_is_object(json_object_get(rt->row->params,
			    "env")))
				json_object_set_new(rt->row->params, "env",
				    json_object());
			json_object_update(json_object_get(rt->row->params,
			    "env"), env);
			store_tx_exec_update(s->tx, rt->row, SF_PARAMS, NULL);
		}
		if (t != NULL)
			exec_rerun(e, rt, t, json_is_true(json_object_get(p,
			    "reset")), s);
	}
}

/* Process the due work of a loaded execution. */
void
engine_exec_work(struct engine *e, struct exec_rt *rt)
{
	struct store_work	**w = NULL;
	struct step		 s;
	size_t			 n = 0, i;
	int64_t			 now = time_now_ms(), next;

	/* One read: what is due runs now, the rest sets the next due. */
	if (store_work_load(e->st, rt->row->id, &w, &n) != STORE_OK)
		return;
	rt->next_due = 0;
	for (i = 0; i < n; i++) {
		if (w[i]->due_at > now || rt->finished) {
			next = w[i]->due_at;
			if (rt->next_due == 0 || next < rt->next_due)
				rt->next_due = next;
			continue;
		}
		memset(&s, 0, sizeof s);
		s.tx = store_tx_create();
		store_tx_work_delete(s.tx, w[i]->id);
		exec_work_one(e, rt, w[i], &s);
		engine_commit(e, rt, &s);
	}
	for (i = 0; i < n; i++)
		store_work_free(w[i]);
	free(w);
}
