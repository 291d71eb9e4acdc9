/*
 * engine-end.c -- the end of an execution: live tasks cancelled and their
 * actions closed, the output evaluated, locks released, the parent told.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "engine/engine-int.h"

/* 1 when a failed task had a handler (on-error or on-complete). */
int
engine_task_handled(struct task_rt *t)
{
	return (t->spec != NULL && (t->spec->on_error.set ||
	    t->spec->on_complete.set));
}

/*
 * Close the action executions of a task still RUNNING (the task timed
 * out or was cancelled): their late results are ignored, and nothing is
 * left RUNNING.  Async actions waiting for a callback are closed too.
 */
void
engine_task_close_actions(struct engine *e, struct task_rt *t,
    enum store_state state, const char *info, struct step *s)
{
	struct store_action	**acts = NULL;
	struct store_action	 a;
	size_t			 n = 0, i;

	if (store_actions_load(e->st, t->row->id, &acts, &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (store_state_parse(acts[i]->state) == STATE_RUNNING) {
			a = *acts[i];
			a.state_info = (char *)info;
			a.updated_at = time_now_ms();
			(void)engine_row_move(s->tx, ENGINE_ACTION, &a,
			    STATE_RUNNING, state, SF_STATE_INFO);
		}
		store_action_free(acts[i]);
	}
	free(acts);
}

/* The output of an ending execution. */
static json_t *
exec_output(struct engine *e, struct exec_rt *rt, enum store_state state,
    char **cause)
{
	json_t		*tmpl, *data, *out;
	struct expr_ctx	 ctx;
	size_t		 i;
	char		*err = NULL;

	tmpl = state == STATE_SUCCESS ? rt->wf->output :
	    rt->wf->output_on_error;
	if (tmpl == NULL)
		return (json_object());
	data = engine_task_data(rt, NULL, 0);
	for (i = 0; i < rt->ntasks; i++) {
		if (rt->tasks[i]->row->published != NULL)
			json_object_update(data, rt->tasks[i]->row->published);
	}
	engine_expr_ctx(e, rt, NULL, data, &ctx);
	out = expr_eval(e->ex, tmpl, &ctx, &err);
	json_decref(data);
	if (out == NULL) {
		xasprintf(cause, "workflow '%s', %s: %s", rt->wf->name,
		    state == STATE_SUCCESS ? "output" : "output-on-error",
		    err);
		free(err);
	}
	return (out);
}

#define EXEC_MSG_TASKS	5	/* failed tasks named in a message */

/*
 * Tell the user why a root execution ended in ERROR: the failed tasks
 * nothing handled (the last run of each name) and the first one's
 * reason; or, with none (a fail command, a forced end, an output that
 * cannot be evaluated), the execution's reason.
 */
static void
exec_message(struct exec_rt *rt, const char *info, struct step *s)
{
	struct task_rt	*t, *first = NULL;
	struct buf	 b;
	size_t		 i, n = 0;

	if (rt->row->parent_task_id != NULL)
		return;		/* its parent's task tells */
	buf_init(&b, 0);
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (t->state != STATE_ERROR || engine_task_find_name(rt,
		    t->row->name) != t || engine_task_handled(t))
			continue;
		if (first == NULL)
			first = t;
		if (n < EXEC_MSG_TASKS)
			buf_printf(&b, "%s%s", n > 0 ? ", " : "", t->row->name);
		n++;
	}
	if (n > EXEC_MSG_TASKS)
		buf_printf(&b, " and %zu more", n - EXEC_MSG_TASKS);
	if (first != NULL)
		engine_message(rt, NULL, s, MSG_EXE_FAILED, "workflow",
		    rt->row->workflow_name, "tasks", b.data, "reason",
		    first->row->state_info, "execution", rt->row->id,
		    (char *)NULL);
	else
		engine_message(rt, NULL, s, MSG_EXE_ENDED, "workflow",
		    rt->row->workflow_name, "reason", info, "execution",
		    rt->row->id, (char *)NULL);
	buf_free(&b);
}

/*
 * The execution of a Masakari notification ends it with Masakari's
 * status: finished (or ignored, when the flow's output says so), error.
 */
static void
exec_notification_end(struct exec_rt *rt, enum store_state state,
    const char *info, struct step *s)
{
	const char	*uuid, *status;

	uuid = json_string_value(json_object_get(rt->row->params,
	    "notification_uuid"));
	if (uuid == NULL)
		return;
	status = json_string_value(json_object_get(rt->row->output,
	    "status"));
	if (state != STATE_SUCCESS)
		status = "error";
	else if (status == NULL || strcmp(status, "ignored") != 0)
		status = "finished";
	store_tx_notification_end(s->tx, uuid, status, info);
}

/*
 * End the execution: live tasks are cancelled, the output evaluated,
 * locks released and, for a sub-workflow, the parent told.
 */
void
engine_exec_finish(struct engine *e, struct exec_rt *rt,
    enum store_state state, const char *info, struct step *s)
{
	struct task_rt	*t;
	json_t		*out, *payload, *v;
	char		*cause = NULL;
	enum store_state from;
	size_t		 i, k;

	if (rt->finished)
		return;
	/* An end the execution cannot reach is a bug: nothing is written. */
	from = rt->state;
	if (engine_state_move(ENGINE_EXEC, rt->row->id, &from, state) != 0)
		return;
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (STATE_FINAL(t->state))
			continue;
		from = t->state;
		t->cancelled = 1;
		if (engine_task_move(t, STATE_CANCELLED, NULL, SF_FINISHED,
		    s) != 0)
			continue;
		store_tx_work_delete_task(s->tx, t->row->id);
		if (from == STATE_RUNNING)
			engine_task_close_actions(e, t, STATE_CANCELLED,
			    "the execution ended", s);
		/* Children of a cancelled task are cancelled too. */
		v = json_object_get(t->row->runtime, "children");
		for (k = 0; k < json_array_size(v); k++) {
			struct store_work w;

			memset(&w, 0, sizeof w);
			snprintf(w.execution_id, UUID_STRLEN, "%s",
			    json_string_value(json_array_get(v, k)));
			w.kind = (char *)WK_STATE;
			w.due_at = time_now_ms();
			w.payload = json_pack("{s:s,s:s}", "state",
			    store_state_name(STATE_CANCELLED), "state_info",
			    "parent ended");
			store_tx_work_insert(s->tx, &w);
			json_decref(w.payload);
			s->poke = 1;
		}
	}
	out = exec_output(e, rt, state, &cause);
	if (out == NULL) {
		state = STATE_ERROR;
		info = cause;
		out = json_object();
	}
	json_decref(rt->row->output);
	rt->row->output = out;
	if (engine_exec_move(rt, state, info, SF_STATE_INFO | SF_OUTPUT,
	    s) == 0 && state == STATE_ERROR)
		exec_message(rt, info, s);
	exec_notification_end(rt, state, info, s);
	store_tx_lock_release_all(s->tx, rt->row->id);
	engine_locks_forget(e, rt->row->id);
	engine_event(rt, NULL, s, state == STATE_SUCCESS ? "info" : "error",
	    1, "workflow %s ended %s%s%s", rt->wf->name,
	    store_state_name(state), info != NULL ? ": " : "",
	    info != NULL ? info : "");
	if (rt->row->parent_task_id != NULL) {
		struct store_work	 w;
		struct store_exec	*parent_ex = NULL;
		const char		*pid;

		/* The parent execution is the task's execution. */
		pid = json_string_value(json_object_get(rt->row->params,
		    "parent_execution_id"));
		if (pid == NULL) {
			struct store_task *pt = NULL;
			if (store_task_load(e->st, rt->row->parent_task_id,
			    &pt) == STORE_OK) {
				memset(&w, 0, sizeof w);
				memcpy(w.execution_id, pt->execution_id,
				    UUID_STRLEN);
				store_task_free(pt);
			} else
				goto parent_done;
		} else {
			memset(&w, 0, sizeof w);
			snprintf(w.execution_id, UUID_STRLEN, "%s", pid);
		}
		w.task_id = rt->row->parent_task_id;
		w.kind = (char *)WK_CHILD;
		w.due_at = time_now_ms();
		payload = json_pack("{s:s,s:O,s:s?,s:O?,s:O?}", "state",
		    store_state_name(state),
		    "output", rt->row->output, "state_info",
		    rt->row->state_info, "item",
		    json_object_get(rt->row->params, "item"), "attempt",
		    json_object_get(rt->row->params, "attempt"));
		w.payload = payload;
		store_tx_work_insert(s->tx, &w);
		json_decref(payload);
		s->poke = 1;
		(void)parent_ex;
	}
parent_done:
	free(cause);
	s->exec_changed = 1;
	rt->finished = 1;
}
