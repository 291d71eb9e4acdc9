/*
 * engine-inbox.c -- actions in flight: starting one whose completion
 * comes back, the inbox the I/O thread fills with completions, the list
 * of async actions awaiting their callback, executions other threads
 * hand to the loop, and waking the loop.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

static void	 inbox_action_done(void *, int, json_t *);

/* Wake the loop (from any thread). */
void
engine_poke(struct engine *e)
{
	pthread_mutex_lock(&e->inbox_mtx);
	e->poked = 1;
	pthread_cond_signal(&e->inbox_cond);
	pthread_mutex_unlock(&e->inbox_mtx);
}

/* See engine-int.h. */
void
engine_adopt(struct engine *e, const char *id)
{
	pthread_mutex_lock(&e->inbox_mtx);
	e->adopt = xreallocarray(e->adopt, e->nadopt + 1, sizeof *e->adopt);
	e->adopt[e->nadopt++] = xstrdup(id);
	e->poked = 1;
	pthread_cond_signal(&e->inbox_cond);
	pthread_mutex_unlock(&e->inbox_mtx);
}

/*
 * Start an action a committed step recorded; its completion comes back
 * through the inbox (or, for an async action, as due work).
 */
void
engine_action_start(struct engine *e, struct exec_rt *rt,
    const struct step_start *st)
{
	struct engine_done	*d;
	struct action_ctx	 actx;

	d = xcalloc(1, sizeof *d);
	memcpy(d->exec_id, rt->row->id, UUID_STRLEN);
	memcpy(d->task_id, st->task_id, UUID_STRLEN);
	memcpy(d->action_id, st->action_id, UUID_STRLEN);
	d->attempt = st->attempt;
	d->item = st->item;
	d->engine = e;
	d->adhoc = st->adhoc;
	memset(&actx, 0, sizeof actx);
	actx.execution_id = rt->row->id;
	actx.workflow_name = rt->row->workflow_name;
	actx.task_id = st->task_id;
	actx.task_name = st->task_name;
	actx.action_id = st->action_id;
	actx.callback_url = e->callback_base[0] != '\0' ?
	    e->callback_base : NULL;
	actx.expr = NULL;
	actx.cloud = json_string_value(json_object_get(rt->row->params,
	    "cloud"));
	if (st->entry->kind != ACTION_ASYNC)
		rt->ninflight++;	/* it comes back here: no parking */
	else {
		/*
		 * An async action calls back only on failure; its
		 * result comes as WK_RESULT.  Keep the record so it
		 * is freed either way.
		 */
		pthread_mutex_lock(&e->inbox_mtx);
		d->async_next = e->async;
		if (e->async != NULL)
			e->async->async_prev = d;
		e->async = d;
		d->in_async = 1;
		d->is_async = 1;
		pthread_mutex_unlock(&e->inbox_mtx);
	}
	st->entry->run(st->entry, st->input, &actx, e->io,
	    inbox_action_done, d);
}

/* Completion of a waiting action, on the I/O thread: queue it. */
static void
inbox_action_done(void *arg, int ok, json_t *result)
{
	struct engine_done	*d = arg;
	struct engine		*e = d->engine;

	pthread_mutex_lock(&e->inbox_mtx);
	d->ok = ok;
	d->result = result;
	engine_async_unlink(e, d);
	engine_inbox_push(e, d);
	pthread_mutex_unlock(&e->inbox_mtx);
}

/* Queue a completion for the loop and wake it (inbox_mtx held). */
void
engine_inbox_push(struct engine *e, struct engine_done *d)
{
	if (e->inbox_tail != NULL)
		e->inbox_tail->next = d;
	else
		e->inbox = d;
	e->inbox_tail = d;
	pthread_cond_signal(&e->inbox_cond);
}

/* Take an async action's record off the list (inbox_mtx held). */
void
engine_async_unlink(struct engine *e, struct engine_done *d)
{
	if (!d->in_async)
		return;
	if (d->async_prev != NULL)
		d->async_prev->async_next = d->async_next;
	else
		e->async = d->async_next;
	if (d->async_next != NULL)
		d->async_next->async_prev = d->async_prev;
	d->async_prev = d->async_next = NULL;
	d->in_async = 0;
}

/* Forget the record of an async action whose result came (WK_RESULT). */
void
engine_async_forget(struct engine *e, const char *action_id)
{
	struct engine_done	*d;

	pthread_mutex_lock(&e->inbox_mtx);
	for (d = e->async; d != NULL; d = d->async_next) {
		if (strcmp(d->action_id, action_id) == 0) {
			engine_async_unlink(e, d);
			free(d);
			break;
		}
	}
	pthread_mutex_unlock(&e->inbox_mtx);
}
