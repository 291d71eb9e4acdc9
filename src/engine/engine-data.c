/*
 * engine-data.c -- what a task's expressions see: the data table _, the
 * execution() and task() functions, and a task found by id or name;
 * and what they say: events, progress() messages among them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

/* The task execution of that id. */
struct task_rt *
engine_task_find_id(struct exec_rt *rt, const char *id)
{
	size_t	 i;

	for (i = rt->ntasks; i > 0; i--) {
		if (strcmp(rt->tasks[i - 1]->row->id, id) == 0)
			return (rt->tasks[i - 1]);
	}
	return (NULL);
}

/* The latest task execution of that name. */
struct task_rt *
engine_task_find_name(struct exec_rt *rt, const char *name)
{
	size_t	 i;

	for (i = rt->ntasks; i > 0; i--) {
		if (strcmp(rt->tasks[i - 1]->row->name, name) == 0)
			return (rt->tasks[i - 1]);
	}
	return (NULL);
}

/* JSON of a task row as task() shows it. */
json_t *
engine_task_json(const struct store_task *t)
{
	return (json_pack("{s:s,s:s,s:s,s:s?,s:O?,s:O?}", "id", t->id,
	    "name", t->name, "state", t->state, "state_info", t->state_info,
	    "result", t->result != NULL ? t->result : json_null(),
	    "published", t->published != NULL ? t->published :
	    json_object()));
}

/* task(name) from an expression: the latest execution of that task. */
static json_t *
exec_task_lookup(void *arg, const char *name)
{
	struct exec_rt	*rt = arg;
	struct task_rt	*t;

	if ((t = engine_task_find_name(rt, name)) == NULL)
		return (NULL);
	return (engine_task_json(t->row));
}

/* What a task runs, for its events: its action or sub-workflow name. */
static char *
event_action(struct task_rt *t)
{
	const char	*a;

	if (t == NULL || t->spec == NULL)
		return (NULL);
	a = t->spec->action != NULL ? t->spec->action : t->spec->workflow;
	if (a == NULL)
		a = "std.noop";
	return (xstrndup(a, strcspn(a, " \t\n")));
}

/* Record an event of kind (see store_event) with its message. */
void
engine_event_record(struct store_tx *tx, struct exec_rt *rt, struct task_rt *t,
    const char *kind, const char *level, double progress, const char *msg)
{
	struct store_event	 ev;

	/* Messages emitted since the last event come first. */
	if (tx != rt->progress && rt->progress != NULL &&
	    store_tx_size(rt->progress) > 0)
		store_tx_append(tx, rt->progress);
	memset(&ev, 0, sizeof ev);
	memcpy(ev.execution_id, rt->row->id, UUID_STRLEN);
	ev.task_id = t != NULL ? t->row->id : NULL;
	ev.task_name = t != NULL ? t->row->name : NULL;
	ev.time = time_now_ms();
	ev.progress = progress;
	ev.message = (char *)msg;
	ev.level = (char *)level;
	ev.request_id = rt->row->request_id;
	ev.kind = (char *)kind;
	ev.action = event_action(t);
	store_tx_event_insert(tx, &ev);
	free(ev.action);
}

/*
 * A message of a task's own (declared by its progress map or emitted by
 * progress()): recorded in s, or when s is NULL kept with the execution
 * for its next commit.
 */
void
engine_progress(struct exec_rt *rt, struct task_rt *t, struct step *s,
    const char *level, double progress, const char *msg)
{
	if (s == NULL) {
		if (rt->progress == NULL)
			rt->progress = store_tx_create();
		engine_event_record(rt->progress, rt, t, "progress", level, progress,
		    msg);
	} else
		engine_event_record(s->tx, rt, t, "progress", level, progress, msg);
}

/*
 * progress(msg[, fraction]) from an expression or a Lua action: arg is
 * the execution, the task its ctx_task (the evaluation's).
 */
void
engine_progress_emit(void *arg, const char *msg, double fraction)
{
	struct exec_rt	*rt = arg;

	engine_progress(rt, rt->ctx_task, NULL, "info", fraction, msg);
}

/*
 * The data table _ of a task: workflow input, then vars and global
 * publishes, then the published values flowing into the task, then the
 * with-items variables of the item.  Later layers win.
 */
json_t *
engine_task_data(struct exec_rt *rt, struct task_rt *t, size_t item)
{
	json_t	*d, *iv;

	if (rt->data_base == NULL) {
		rt->data_base = json_copy(rt->row->input);
		if (rt->data_base == NULL)
			rt->data_base = json_object();
		if (rt->row->context != NULL)
			json_object_update(rt->data_base, rt->row->context);
	}
	d = json_copy(rt->data_base);
	if (t != NULL) {
		if (t->row->in_context != NULL)
			json_object_update(d, t->row->in_context);
		if (t->item_vals != NULL &&
		    (iv = json_array_get(t->item_vals, item)) != NULL)
			json_object_update(d, iv);
	}
	return (d);
}

/* Fill an expression context for a task (t may be NULL). */
void
engine_expr_ctx(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    json_t *data, struct expr_ctx *ctx)
{
	char	 created[20];

	memset(ctx, 0, sizeof *ctx);
	ctx->data = data;
	ctx->env = json_object_get(rt->row->params, "env");
	/* Kept on the engine (loop thread) until the next evaluation. */
	json_decref(e->ctx_exec);
	time_format(rt->row->created_at, created);
	e->ctx_exec = json_pack("{s:s,s:s,s:O,s:s,s:s}", "id", rt->row->id,
	    "name", rt->row->workflow_name, "input", rt->row->input != NULL ?
	    rt->row->input : json_null(), "state", rt->row->state,
	    "created_at", created);
	ctx->execution = e->ctx_exec;
	json_decref(e->ctx_task);
	e->ctx_task = t != NULL ? engine_task_json(t->row) : NULL;
	ctx->cur_task = e->ctx_task;
	ctx->task_lookup = exec_task_lookup;
	ctx->arg = rt;
	/* progress() in an expression: a message of this task. */
	rt->ctx_task = t;
	ctx->progress = engine_progress_emit;
}
