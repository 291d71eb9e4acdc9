/*
 * engine-exec.c -- executions: loading one into memory when this engine
 * takes its lease, committing its steps, due work (timers, results,
 * state changes asked through the API), recovery after a crash, the
 * completion rule, and the public execution calls.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

static void	 exec_action_done(void *, int, json_t *);

/* Find a loaded execution. */
struct exec_rt *
engine_exec_find(struct engine *e, const char *id)
{
	struct exec_rt	*rt;

	for (rt = e->loaded; rt != NULL; rt = rt->next_loaded) {
		if (strcmp(rt->row->id, id) == 0)
			return (rt);
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
}

/* Add due work to the step; delay 0 means due now. */
void
engine_add_work(struct engine *e, struct exec_rt *rt, struct step *s,
    const char *kind, const char *task_id, int64_t delay_ms, json_t *payload)
{
	struct store_work	 w;

	memset(&w, 0, sizeof w);
	memcpy(w.execution_id, rt->row->id, UUID_STRLEN);
	w.task_id = (char *)task_id;
	w.kind = (char *)kind;
	w.due_at = time_now_ms() + delay_ms;
	w.payload = payload;
	store_tx_work_insert(s->tx, &w);
	json_decref(payload);
	if (rt->next_due == 0 || w.due_at < rt->next_due)
		rt->next_due = w.due_at;
	(void)e;
}

/* Record a progress event of a task (or the execution when t is NULL). */
void
engine_event(struct exec_rt *rt, struct task_rt *t, struct step *s,
    const char *level, double progress, const char *fmt, ...)
{
	struct store_event	 ev;
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof ev);
	memcpy(ev.execution_id, rt->row->id, UUID_STRLEN);
	ev.task_id = t != NULL ? t->row->id : NULL;
	ev.task_name = t != NULL ? t->row->name : NULL;
	ev.time = time_now_ms();
	ev.progress = progress;
	ev.message = msg;
	ev.level = (char *)level;
	ev.request_id = rt->row->request_id;
	store_tx_event_insert(s->tx, &ev);
	free(msg);
}

/* Release a step's memory (not the rows it points to). */
static void
step_free(struct step *s)
{
	size_t	 i;

	for (i = 0; i < s->nstarts; i++)
		json_decref(s->starts[i].input);
	free(s->starts);
	free(s->ready);
	free(s->changed);
	store_tx_free(s->tx);
	memset(s, 0, sizeof *s);
}

/* What a step does once committed: start actions, queue tasks, tell. */
static void
step_after_commit(struct engine *e, struct exec_rt *rt, struct step *s)
{
	struct step_start	*st;
	struct engine_done	*d;
	struct action_ctx	 actx;
	size_t			 i;

	for (i = 0; i < s->nstarts; i++) {
		st = &s->starts[i];
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
		if (st->entry->kind == ACTION_ASYNC) {
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
			pthread_mutex_unlock(&e->inbox_mtx);
		}
		st->entry->run(st->entry, st->input, &actx, e->io,
		    exec_action_done, d);
	}
	if (!s->ready_pushed)
		for (i = 0; i < s->nready; i++)
			engine_ready_push(e, rt, s->ready[i]);
	for (i = 0; i < s->nchanged; i++)
		engine_notify_task(e, rt, s->changed[i]);
	if (s->exec_changed)
		engine_notify_exec(e, rt);
	if (s->poke)
		engine_poke(e);
}

/*
 * A change set of this execution did not apply: another engine moved it
 * on, or the store failed.  Forget what is in memory; the execution is
 * given back and loaded again from its rows.
 */
static void
exec_drop(struct engine *e, struct exec_rt *rt, enum store_rc rc)
{
	log_warnx("execution %s: commit failed: %s (%s); reloading",
	    rt->row->id, store_rc_name(rc), store_error(e->st));
	rt->finished = 1;
	engine_locks_forget(e, rt->row->id);
	engine_poke(e);
}

/* Forget the locks this engine took for an execution. */
void
engine_locks_forget(struct engine *e, const char *exec_id)
{
	const char	*key;
	json_t		*v;
	void		*tmp;

	json_object_foreach_safe(e->locks, tmp, key, v) {
		if (strcmp(json_string_value(v), exec_id) == 0)
			json_object_del(e->locks, key);
	}
}

/*
 * Commit a step.  While the loop batches, the step waits for
 * engine_flush(); otherwise it commits now.  On success the actions it
 * recorded start, the tasks it made ready are queued and observers are
 * told.  Returns 0, or -1 when the step did not apply.
 */
int
engine_commit(struct engine *e, struct exec_rt *rt, struct step *s)
{
	enum store_rc	 rc;
	size_t		 i;

	if (store_tx_size(s->tx) == 0) {
		step_after_commit(e, rt, s);
		step_free(s);
		return (0);
	}
	if (e->batching) {
		/*
		 * Tasks this step made ready run in this turn already, on
		 * state not yet committed: what they do stays in the process
		 * until the flush (actions that leave it start only after
		 * commit), and if the flush fails the execution is reloaded
		 * from the store.  A chain of inline tasks then costs one
		 * commit, not one per task.
		 */
		for (i = 0; i < s->nready; i++)
			engine_ready_push(e, rt, s->ready[i]);
		s->ready_pushed = 1;
		if (e->npending == e->pending_cap) {
			e->pending_cap = e->pending_cap == 0 ? 64 :
			    e->pending_cap * 2;
			e->pending = xreallocarray(e->pending, e->pending_cap,
			    sizeof *e->pending);
		}
		e->pending[e->npending].rt = rt;
		e->pending[e->npending].s = *s;
		e->npending++;
		rt->npending++;
		memset(s, 0, sizeof *s);
		return (0);
	}
	rc = store_tx_commit(e->st, s->tx);
	if (rc == STORE_UNAVAILABLE) {
		/* Retried by the next flush; see engine_flush(). */
		e->batching = 1;
		rc = engine_commit(e, rt, s) == 0 ? STORE_OK : STORE_ERROR;
		e->batching = 0;
		return (rc == STORE_OK ? 0 : -1);
	}
	if (rc != STORE_OK) {
		exec_drop(e, rt, rc);
		step_free(s);
		return (-1);
	}
	step_after_commit(e, rt, s);
	step_free(s);
	return (0);
}

/*
 * Group commit: the steps queued during a turn of the loop go to the
 * store in one transaction.  The steps of one execution are merged into
 * one change set, so an execution moves all or nothing, and a conflict
 * on one execution does not hold back the others.
 */
void
engine_flush(struct engine *e)
{
	struct store_tx		**txs;
	struct exec_rt		**rts;
	enum store_rc		*rcs;
	size_t			 ng = 0, i, g, kept;

	if (e->npending == 0)
		return;
	txs = xcalloc(e->npending, sizeof *txs);
	rts = xcalloc(e->npending, sizeof *rts);
	rcs = xcalloc(e->npending, sizeof *rcs);
	for (i = 0; i < e->npending; i++) {
		for (g = 0; g < ng; g++)
			if (rts[g] == e->pending[i].rt)
				break;
		if (g == ng) {
			rts[ng] = e->pending[i].rt;
			txs[ng++] = store_tx_create();
		}
		store_tx_append(txs[g], e->pending[i].s.tx);
	}
	(void)store_tx_commit_many(e->st, txs, ng, rcs);
	/*
	 * Unavailable means nothing applied (the store resolves a commit
	 * whose outcome was lost): the steps stay queued, in order, and go
	 * again with the next flush.  The execution stays in memory, so its
	 * actions in flight are not mistaken for interrupted ones.
	 */
	kept = 0;
	for (i = 0; i < e->npending; i++) {
		for (g = 0; g < ng; g++)
			if (rts[g] == e->pending[i].rt)
				break;
		if (rcs[g] == STORE_UNAVAILABLE && !rts[g]->dropped) {
			if (txs[g] != NULL) {
				/* The merged change set rides on the first. */
				store_tx_free(e->pending[i].s.tx);
				e->pending[i].s.tx = txs[g];
				txs[g] = NULL;
			}
			e->pending[kept++] = e->pending[i];
			continue;
		}
		if (rcs[g] == STORE_OK && !rts[g]->dropped)
			step_after_commit(e, rts[g], &e->pending[i].s);
		step_free(&e->pending[i].s);
		rts[g]->npending--;
	}
	for (g = 0; g < ng; g++) {
		if (rcs[g] != STORE_OK && rcs[g] != STORE_UNAVAILABLE &&
		    !rts[g]->dropped) {
			rts[g]->dropped = 1;
			exec_drop(e, rts[g], rcs[g]);
		}
		store_tx_free(txs[g]);
	}
	if (kept > 0 && kept != e->npending)
		log_debug("store unavailable: %zu steps wait", kept);
	e->npending = kept;
	free(txs);
	free(rts);
	free(rcs);
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
static void
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

/* Completion of a waiting action, on the I/O thread: queue it. */
static void
exec_action_done(void *arg, int ok, json_t *result)
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

/* Handle one completion from the inbox on the loop thread. */
void
engine_exec_done_one(struct engine *e, struct engine_done *d)
{
	struct exec_rt	*rt;
	struct task_rt	*t;
	json_t		*res;
	int		 ok = d->ok;

	rt = engine_exec_find(e, d->exec_id);
	if (rt == NULL || (t = engine_task_find_id(rt, d->task_id)) == NULL) {
		/* Not ours any more: record the action outcome only. */
		struct store_tx		*tx = store_tx_create();
		struct store_action	 a;

		memset(&a, 0, sizeof a);
		memcpy(a.id, d->action_id, UUID_STRLEN);
		a.state = (char *)(ok ? ST_SUCCESS : ST_ERROR);
		a.output = d->result;
		store_tx_action_update(tx, &a, SF_STATE | SF_OUTPUT,
		    ST_RUNNING);
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

/*
 * Take an execution into memory from its rows (this engine holds its
 * lease): ex and rows[0..n) are stolen.  Derived state is rebuilt from
 * the rows.  NULL + *cause when its definition cannot be had.
 */
struct exec_rt *
engine_exec_build(struct engine *e, struct store_exec *ex,
    struct store_task **rows, size_t n, char **cause)
{
	struct exec_rt		*rt;
	struct engine_def	*def;
	const struct dsl_workflow *wf;
	struct task_rt		*t;
	size_t			 i;
	json_t			*v;

	def = engine_defs_get(e, e->st, ex->def_id, cause);
	wf = def != NULL ? dsl_workflow_find(def->wb, ex->workflow_name) :
	    NULL;
	if (def != NULL && wf == NULL)
		xasprintf(cause, "execution %s: workflow '%s' not in its "
		    "definition", ex->id, ex->workflow_name);
	if (wf == NULL) {
		for (i = 0; i < n; i++)
			store_task_free(rows[i]);
		store_exec_free(ex);
		return (NULL);
	}
	rt = xcalloc(1, sizeof *rt);
	rt->row = ex;
	if (rt->row->context == NULL)
		rt->row->context = json_object();
	if (rt->row->params == NULL)
		rt->row->params = json_object();
	if (rt->row->input == NULL)
		rt->row->input = json_object();
	rt->def = def;
	def->refs++;
	rt->wf = wf;
	rt->tasks = xcalloc(n == 0 ? 1 : n, sizeof *rt->tasks);
	rt->next_seq = 1;	/* seq 0 means "next" to the store */
	for (i = 0; i < n; i++) {
		t = xcalloc(1, sizeof *t);
		t->row = rows[i];
		t->spec = dsl_task_find(wf, rows[i]->name);
		if (t->row->runtime == NULL)
			t->row->runtime = json_object();
		if (t->row->in_context == NULL)
			t->row->in_context = json_object();
		if (t->row->published == NULL)
			t->row->published = json_object();
		t->keep_result = 1;
		v = json_object_get(t->row->runtime, "retry_no");
		t->attempt = v != NULL ? (int)json_integer_value(v) : 0;
		v = json_object_get(t->row->runtime, "fired");
		t->fired_to = v != NULL ? json_incref(v) : json_array();
		t->fired = v != NULL;
		if (rows[i]->seq >= rt->next_seq)
			rt->next_seq = rows[i]->seq + 1;
		rt->tasks[rt->ntasks++] = t;
	}
	/* Look at due work at once, unless it was never begun (no work). */
	rt->next_due = rt->ntasks > 0 ? 1 : 0;
	rt->next_loaded = e->loaded;
	e->loaded = rt;
	e->nloaded++;
	return (rt);
}

/* Load one execution and its tasks into memory. */
struct exec_rt *
engine_exec_load(struct engine *e, const char *id, char **cause)
{
	struct store_exec	*ex = NULL;
	struct store_task	**rows = NULL;
	struct exec_rt		*rt;
	size_t			 n = 0;

	if (store_exec_load(e->st, id, &ex) != STORE_OK) {
		xasprintf(cause, "execution %s: %s", id, store_error(e->st));
		return (NULL);
	}
	if (store_tasks_load(e->st, id, &rows, &n) != STORE_OK) {
		xasprintf(cause, "execution %s: %s", id, store_error(e->st));
		store_exec_free(ex);
		return (NULL);
	}
	rt = engine_exec_build(e, ex, rows, n, cause);
	free(rows);
	return (rt);
}

/*
 * Forget the steps still waiting for a flush (the engine closes while
 * the store is unreachable): nothing of them was applied, and the
 * executions are continued from their rows by whoever claims them.
 */
void
engine_pending_drop(struct engine *e)
{
	size_t	 i;

	if (e->npending > 0)
		log_warnx("store unavailable: %zu steps not committed; their "
		    "executions will continue from the store", e->npending);
	for (i = 0; i < e->npending; i++) {
		step_free(&e->pending[i].s);
		e->pending[i].rt->npending--;
	}
	e->npending = 0;
}

/* Drop an execution from memory and give up its lease. */
void
engine_exec_unload(struct engine *e, struct exec_rt *rt)
{
	struct exec_rt	**pp;
	size_t		 i;

	for (pp = &e->loaded; *pp != NULL; pp = &(*pp)->next_loaded) {
		if (*pp == rt) {
			*pp = rt->next_loaded;
			e->nloaded--;
			break;
		}
	}
	/* A finished execution is never claimed: its lease can stay. */
	if (!store_state_final(rt->row->state) || rt->dropped)
		(void)store_exec_release(e->st, rt->row->id, e->id);
	for (i = 0; i < rt->ntasks; i++)
		engine_task_rt_free(rt->tasks[i]);
	free(rt->tasks);
	if (rt->def != NULL)
		rt->def->refs--;
	json_decref(rt->data_base);
	store_exec_free(rt->row);
	free(rt);
}

/* Begin an execution: vars, then its start tasks. */
static void
exec_begin(struct engine *e, struct exec_rt *rt, struct step *s)
{
	struct expr_ctx	 ctx;
	json_t		*vars, *data;
	size_t		*starts = NULL, n, i;
	char		*err = NULL, *info;
	const char	*target;

	if (rt->ntasks > 0)
		return;		/* begun already */
	if (rt->wf->vars != NULL) {
		data = engine_task_data(rt, NULL, 0);
		engine_expr_ctx(e, rt, NULL, data, &ctx);
		vars = expr_eval(e->ex, rt->wf->vars, &ctx, &err);
		json_decref(data);
		if (vars == NULL) {
			xasprintf(&info, "workflow '%s', vars: %s",
			    rt->wf->name, err);
			free(err);
			engine_exec_finish(e, rt, ST_ERROR, info, s);
			free(info);
			return;
		}
		json_object_update(rt->row->context, vars);
		json_decref(vars);
		json_decref(rt->data_base);
		rt->data_base = NULL;
		store_tx_exec_update(s->tx, rt->row, SF_CONTEXT, NULL);
	}
	engine_event(rt, NULL, s, "info", 0, "workflow %s started",
	    rt->wf->name);
	if (rt->wf->type == DSL_WF_REVERSE) {
		target = json_string_value(json_object_get(rt->row->params,
		    "task_name"));
		if (engine_task_reverse_start(e, rt, target, s, &err) != 0) {
			engine_exec_finish(e, rt, ST_ERROR, err, s);
			free(err);
		}
		engine_exec_check_done(e, rt, s);
		return;
	}
	n = dsl_start_tasks(rt->wf, &starts);
	for (i = 0; i < n && !rt->finished; i++)
		engine_task_create(e, rt, &rt->wf->tasks[starts[i]], NULL, s);
	free(starts);
	engine_exec_check_done(e, rt, s);
}

/* Resume a paused execution: IDLE tasks run. */
static void
exec_resume(struct engine *e, struct exec_rt *rt, struct step *s)
{
	struct task_rt	*t;
	size_t		 i;

	free(rt->row->state);
	rt->row->state = xstrdup(ST_RUNNING);
	free(rt->row->state_info);
	rt->row->state_info = NULL;
	store_tx_exec_update(s->tx, rt->row, SF_STATE | SF_STATE_INFO,
	    ST_PAUSED);
	s->exec_changed = 1;
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (strcmp(t->row->state, ST_IDLE) != 0)
			continue;
		free(t->row->state);
		t->row->state = xstrdup(ST_RUNNING);
		t->row->started_at = time_now_ms();
		store_tx_task_update(s->tx, t->row, SF_STATE | SF_STARTED,
		    ST_IDLE);
		s->ready = xreallocarray(s->ready, s->nready + 1,
		    sizeof *s->ready);
		s->ready[s->nready++] = t;
		s->changed = xreallocarray(s->changed, s->nchanged + 1,
		    sizeof *s->changed);
		s->changed[s->nchanged++] = t;
	}
	engine_exec_check_done(e, rt, s);
}

/* Re-run a failed task (reset: every item; else failed items only). */
static void
exec_rerun(struct engine *e, struct exec_rt *rt, struct task_rt *t,
    int reset, struct step *s)
{
	(void)e;
	(void)reset;
	if (strcmp(t->row->state, ST_ERROR) != 0)
		return;
	free(t->row->state);
	t->row->state = xstrdup(ST_RUNNING);
	free(t->row->state_info);
	t->row->state_info = NULL;
	t->row->finished_at = 0;
	t->attempt++;
	json_object_set_new(t->row->runtime, "retry_no",
	    json_integer(t->attempt));
	json_array_clear(t->fired_to);
	t->fired = 0;
	json_object_del(t->row->runtime, "fired");
	store_tx_task_update(s->tx, t->row, SF_STATE | SF_STATE_INFO |
	    SF_RUNTIME | SF_FINISHED, ST_ERROR);
	free(t->done);
	t->done = NULL;
	t->cancelled = 0;
	s->ready = xreallocarray(s->ready, s->nready + 1, sizeof *s->ready);
	s->ready[s->nready++] = t;
	s->changed = xreallocarray(s->changed, s->nchanged + 1,
	    sizeof *s->changed);
	s->changed[s->nchanged++] = t;
}

/*
 * Close the action executions of a task still RUNNING (the task timed
 * out or was cancelled): their late results are ignored, and nothing is
 * left RUNNING.  Async actions waiting for a callback are closed too.
 */
void
engine_task_close_actions(struct engine *e, struct task_rt *t,
    const char *state, const char *info, struct step *s)
{
	struct store_action	**acts = NULL;
	struct store_action	 a;
	size_t			 n = 0, i;

	if (store_actions_load(e->st, t->row->id, &acts, &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(acts[i]->state, ST_RUNNING) == 0) {
			a = *acts[i];
			a.state = (char *)state;
			a.state_info = (char *)info;
			a.updated_at = time_now_ms();
			store_tx_action_update(s->tx, &a, SF_STATE |
			    SF_STATE_INFO, ST_RUNNING);
		}
		store_action_free(acts[i]);
	}
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
	char		*msg;
	double		 tmo;

	if (w->task_id != NULL)
		t = engine_task_find_id(rt, w->task_id);
	if (strcmp(w->kind, WK_START) == 0) {
		exec_begin(e, rt, s);
	} else if (strcmp(w->kind, WK_RUN) == 0 ||
	    strcmp(w->kind, WK_RETRY) == 0) {
		if (t == NULL || strcmp(t->row->state, ST_DELAYED) != 0)
			return;
		if (strcmp(rt->row->state, ST_PAUSED) == 0) {
			free(t->row->state);
			t->row->state = xstrdup(ST_IDLE);
			store_tx_task_update(s->tx, t->row, SF_STATE,
			    ST_DELAYED);
			return;
		}
		free(t->row->state);
		t->row->state = xstrdup(ST_RUNNING);
		if (t->row->started_at == 0)
			t->row->started_at = time_now_ms();
		store_tx_task_update(s->tx, t->row, SF_STATE | SF_STARTED,
		    ST_DELAYED);
		s->ready = xreallocarray(s->ready, s->nready + 1,
		    sizeof *s->ready);
		s->ready[s->nready++] = t;
		s->changed = xreallocarray(s->changed, s->nchanged + 1,
		    sizeof *s->changed);
		s->changed[s->nchanged++] = t;
	} else if (strcmp(w->kind, WK_WAIT_AFTER) == 0) {
		if (t == NULL || strcmp(t->row->state, ST_DELAYED) != 0)
			return;
		free(t->row->state);
		t->row->state = xstrdup(ST_RUNNING);
		store_tx_task_update(s->tx, t->row, SF_STATE, ST_DELAYED);
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
		if (t == NULL || store_state_final(t->row->state))
			return;
		tmo = json_number_value(json_object_get(p, "timeout"));
		xasprintf(&msg, "Task timed out [timeout(s)=%g].", tmo);
		t->cancelled = 1;
		engine_task_close_actions(e, t, ST_ERROR, msg, s);
		engine_task_fail(e, rt, t, msg, s);
		free(msg);
	} else if (strcmp(w->kind, WK_RESULT) == 0) {
		struct store_action *a = NULL;

		if (store_action_load(e->st, json_string_value(
		    json_object_get(p, "action_id")), &a) != STORE_OK)
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
			d.ok = state != NULL && strcmp(state, ST_SUCCESS) == 0;
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
		ok = state != NULL && strcmp(state, ST_SUCCESS) == 0;
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
		state = json_string_value(json_object_get(p, "state"));
		info = json_string_value(json_object_get(p, "state_info"));
		if (state == NULL || store_state_final(rt->row->state))
			return;
		if (strcmp(state, ST_PAUSED) == 0) {
			if (strcmp(rt->row->state, ST_RUNNING) != 0)
				return;
			free(rt->row->state);
			rt->row->state = xstrdup(ST_PAUSED);
			free(rt->row->state_info);
			rt->row->state_info = info != NULL ? xstrdup(info) :
			    NULL;
			store_tx_exec_update(s->tx, rt->row, SF_STATE |
			    SF_STATE_INFO, ST_RUNNING);
			s->exec_changed = 1;
		} else if (strcmp(state, ST_RUNNING) == 0) {
			if (strcmp(rt->row->state, ST_PAUSED) == 0)
				exec_resume(e, rt, s);
		} else
			engine_exec_finish(e, rt, state, info, s);
	} else if (strcmp(w->kind, WK_RERUN) == 0) {
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

/*
 * Continue an execution this engine just took over (after a crash or an
 * expired lease).  RUNNING tasks are rebuilt from their action rows: an
 * interrupted action is re-run when it has no side effects or its task
 * is safe-rerun, otherwise the task fails with a clear reason.
 */
void
engine_exec_recover(struct engine *e, struct exec_rt *rt)
{
	struct store_action	**acts;
	struct task_rt		*t;
	struct step		 s;
	const struct action_entry *entry;
	size_t			 i, k, n, nt;
	int			 safe, lost;
	char			*cause = NULL, *info;

	if (strcmp(rt->row->state, ST_RUNNING) != 0)
		return;
	if (rt->ntasks == 0) {
		/*
		 * A RUNNING execution without tasks has not begun: this is
		 * how a new one (from the API or a parent task) is started,
		 * exactly once since only the lease holder gets here.
		 */
		memset(&s, 0, sizeof s);
		s.tx = store_tx_create();
		exec_begin(e, rt, &s);
		engine_commit(e, rt, &s);
		return;
	}
	nt = rt->ntasks;
	for (i = 0; i < nt && !rt->finished; i++) {
		t = rt->tasks[i];
		if (t->spec == NULL || strcmp(t->row->state, ST_RUNNING) != 0)
			continue;
		memset(&s, 0, sizeof s);
		s.tx = store_tx_create();
		acts = NULL;
		n = 0;
		(void)store_actions_load(e->st, t->row->id, &acts, &n);
		safe = 0;
		(void)engine_policy_bool(e, rt, t, t->spec->safe_rerun, 0,
		    &safe, &cause);
		free(cause);
		cause = NULL;
		lost = 0;
		if (n == 0 && json_array_size(json_object_get(t->row->runtime,
		    "children")) == 0) {
			/* Nothing started yet: start afresh (lock, items). */
			s.ready = xreallocarray(s.ready, s.nready + 1,
			    sizeof *s.ready);
			s.ready[s.nready++] = t;
		} else if (engine_task_items_rebuild(e, rt, t, acts, n,
		    &cause) != 0) {
			engine_task_fail(e, rt, t, cause, &s);
			free(cause);
			cause = NULL;
		} else {
			for (k = 0; k < n; k++) {
				if (acts[k]->attempt != t->attempt ||
				    strcmp(acts[k]->state, ST_RUNNING) != 0 ||
				    acts[k]->is_async)
					continue;
				entry = action_find(acts[k]->name);
				if ((entry != NULL && entry->pure) || safe) {
					struct store_action a = *acts[k];
					a.state = (char *)ST_ERROR;
					a.state_info = (char *)"interrupted by "
					    "an engine stop; run again";
					store_tx_action_update(s.tx, &a,
					    SF_STATE | SF_STATE_INFO,
					    ST_RUNNING);
					engine_task_item_reset(t, acts[k]->item);
				} else {
					struct store_action a = *acts[k];
					a.state = (char *)ST_ERROR;
					a.state_info = (char *)"interrupted by "
					    "an engine stop";
					store_tx_action_update(s.tx, &a,
					    SF_STATE | SF_STATE_INFO,
					    ST_RUNNING);
					lost = 1;
				}
			}
			if (lost) {
				xasprintf(&info, "task '%s': its action was "
				    "interrupted by an engine stop and the task "
				    "is not safe-rerun, so it was not run again",
				    t->row->name);
				engine_task_fail(e, rt, t, info, &s);
				free(info);
			} else if (t->ndone == engine_task_count(t)) {
				json_t *res = t->spec->nitems == 0 ?
				    json_incref(json_array_get(t->results,
				    0)) : json_incref(t->results);
				engine_task_attempt_end(e, rt, t,
				    t->nfailed == 0, res, &s);
				json_decref(res);
			} else {
				s.ready = xreallocarray(s.ready, s.nready + 1,
				    sizeof *s.ready);
				s.ready[s.nready++] = t;
			}
		}
		for (k = 0; k < n; k++)
			store_action_free(acts[k]);
		free(acts);
		engine_commit(e, rt, &s);
	}
	/* IDLE tasks of a running execution were never started. */
	memset(&s, 0, sizeof s);
	s.tx = store_tx_create();
	for (i = 0; i < rt->ntasks && !rt->finished; i++) {
		t = rt->tasks[i];
		if (strcmp(t->row->state, ST_IDLE) == 0 && t->spec != NULL &&
		    !json_is_true(json_object_get(t->row->runtime,
		    "pause_before"))) {
			free(t->row->state);
			t->row->state = xstrdup(ST_RUNNING);
			store_tx_task_update(s.tx, t->row, SF_STATE, ST_IDLE);
			s.ready = xreallocarray(s.ready, s.nready + 1,
			    sizeof *s.ready);
			s.ready[s.nready++] = t;
		}
	}
	/* Completion is decided here only when no work is pending (a rerun
	 * or a result may be queued for a task that looks finished). */
	if (!rt->finished && rt->ntasks > 0) {
		struct store_work	**w = NULL;
		size_t			 nw = 0;

		if (store_work_load(e->st, rt->row->id, &w, &nw) == STORE_OK &&
		    nw == 0)
			engine_exec_check_done(e, rt, &s);
		for (k = 0; k < nw; k++)
			store_work_free(w[k]);
		free(w);
	}
	engine_commit(e, rt, &s);
}

/* 1 when a failed task had a handler (on-error or on-complete). */
static int
exec_task_handled(struct task_rt *t)
{
	return (t->spec != NULL && (t->spec->on_error.set ||
	    t->spec->on_complete.set));
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

	if (rt->finished || strcmp(rt->row->state, ST_RUNNING) != 0)
		return;
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (strcmp(t->row->state, ST_RUNNING) == 0 ||
		    strcmp(t->row->state, ST_DELAYED) == 0 ||
		    strcmp(t->row->state, ST_IDLE) == 0)
			return;
		if (strcmp(t->row->state, ST_WAITING) == 0)
			waiting = 1;
	}
	if (waiting) {
		for (i = 0; i < rt->ntasks && !rt->finished; i++) {
			t = rt->tasks[i];
			if (strcmp(t->row->state, ST_WAITING) == 0) {
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
		if (strcmp(t->row->state, ST_ERROR) != 0 ||
		    exec_task_handled(t))
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
		engine_exec_finish(e, rt, ST_ERROR, b.data, s);
	else
		engine_exec_finish(e, rt, ST_SUCCESS, NULL, s);
	buf_free(&b);
}

/* The output of an ending execution. */
static json_t *
exec_output(struct engine *e, struct exec_rt *rt, const char *state,
    char **cause)
{
	json_t		*tmpl, *data, *out;
	struct expr_ctx	 ctx;
	size_t		 i;
	char		*err = NULL;

	tmpl = strcmp(state, ST_SUCCESS) == 0 ? rt->wf->output :
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
		    strcmp(state, ST_SUCCESS) == 0 ? "output" :
		    "output-on-error", err);
		free(err);
	}
	return (out);
}

/*
 * End the execution: live tasks are cancelled, the output evaluated,
 * locks released and, for a sub-workflow, the parent told.
 */
void
engine_exec_finish(struct engine *e, struct exec_rt *rt, const char *state,
    const char *info, struct step *s)
{
	struct task_rt	*t;
	json_t		*out, *payload, *v;
	char		*cause = NULL, *expect;
	size_t		 i, k;

	if (rt->finished)
		return;
	for (i = 0; i < rt->ntasks; i++) {
		t = rt->tasks[i];
		if (store_state_final(t->row->state))
			continue;
		expect = xstrdup(t->row->state);
		free(t->row->state);
		t->row->state = xstrdup(ST_CANCELLED);
		t->row->finished_at = time_now_ms();
		t->cancelled = 1;
		store_tx_task_update(s->tx, t->row, SF_STATE | SF_FINISHED,
		    expect);
		store_tx_work_delete_task(s->tx, t->row->id);
		if (strcmp(expect, ST_RUNNING) == 0)
			engine_task_close_actions(e, t, ST_CANCELLED,
			    "the execution ended", s);
		free(expect);
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
			    ST_CANCELLED, "state_info", "parent ended");
			store_tx_work_insert(s->tx, &w);
			json_decref(w.payload);
			s->poke = 1;
		}
	}
	out = exec_output(e, rt, state, &cause);
	if (out == NULL) {
		state = ST_ERROR;
		info = cause;
		out = json_object();
	}
	expect = xstrdup(rt->row->state);
	free(rt->row->state);
	rt->row->state = xstrdup(state);
	free(rt->row->state_info);
	rt->row->state_info = info != NULL ? xstrndup(info, 4096) : NULL;
	json_decref(rt->row->output);
	rt->row->output = out;
	store_tx_exec_update(s->tx, rt->row, SF_STATE | SF_STATE_INFO |
	    SF_OUTPUT, expect);
	free(expect);
	store_tx_lock_release_all(s->tx, rt->row->id);
	engine_locks_forget(e, rt->row->id);
	engine_event(rt, NULL, s, strcmp(state, ST_SUCCESS) == 0 ? "info" :
	    "error", 1, "workflow %s ended %s%s%s", rt->wf->name, state,
	    info != NULL ? ": " : "", info != NULL ? info : "");
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
		payload = json_pack("{s:s,s:O,s:s?,s:O?,s:O?}", "state", state,
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

/* ---- public calls (any thread) ----------------------------------- */

/* Check input against the workflow's declaration; apply defaults. */
static json_t *
exec_input(const struct dsl_workflow *wf, json_t *input, char **cause)
{
	json_t		*in, *v;
	const char	*key;
	size_t		 i, nmiss = 0;
	struct buf	 miss;
	int		 known;

	in = json_object();
	buf_init(&miss, 0);
	for (i = 0; i < wf->ninputs; i++) {
		v = input != NULL ? json_object_get(input,
		    wf->inputs[i].name) : NULL;
		if (v == NULL)
			v = wf->inputs[i].def;
		if (v == NULL) {
			buf_printf(&miss, "%s'%s'", nmiss++ ? ", " : "",
			    wf->inputs[i].name);
			continue;
		}
		json_object_set(in, wf->inputs[i].name, v);
	}
	if (nmiss > 0) {
		xasprintf(cause, "Invalid input [name=%s, missing=[%s]]",
		    wf->name, miss.data);
		buf_free(&miss);
		json_decref(in);
		return (NULL);
	}
	buf_free(&miss);
	if (input != NULL) {
		json_object_foreach(input, key, v) {
			known = 0;
			for (i = 0; i < wf->ninputs; i++)
				if (strcmp(wf->inputs[i].name, key) == 0)
					known = 1;
			if (!known) {
				xasprintf(cause, "Invalid input [name=%s, "
				    "unexpected=['%s']]", wf->name, key);
				json_decref(in);
				return (NULL);
			}
		}
	}
	return (in);
}

/*
 * Commit from another thread's connection, once more if the store was
 * unavailable: nothing was applied then, and a connection the database
 * closed while it sat idle is only noticed on use; the retry reconnects.
 */
static enum store_rc
exec_commit_retry(struct store *st, struct store_tx *tx)
{
	enum store_rc	 rc;

	if ((rc = store_tx_commit(st, tx)) == STORE_UNAVAILABLE)
		rc = store_tx_commit(st, tx);
	return (rc);
}

/* The execution of a client-supplied id, when it exists (1). */
static int
exec_existing(struct store *st, const char *id, struct store_exec **out)
{
	struct store_exec	*ex = NULL;

	if (id == NULL || store_exec_load(st, id, &ex) != STORE_OK)
		return (0);
	if (out != NULL)
		*out = ex;
	else
		store_exec_free(ex);
	return (1);
}

/* A workflow's stable id, cached on its parsed definition. */
static void
exec_workflow_id(struct engine *e, struct store *st, struct engine_def *def,
    const char *name, char *out)
{
	struct store_workflow	*w = NULL;
	json_t			*v;

	out[0] = '\0';
	pthread_mutex_lock(&e->api_mtx);
	if (def->wf_ids == NULL)
		def->wf_ids = json_object();
	v = json_object_get(def->wf_ids, name);
	if (v != NULL)
		snprintf(out, UUID_STRLEN, "%s", json_string_value(v));
	pthread_mutex_unlock(&e->api_mtx);
	if (out[0] != '\0' || store_workflow_load(st, name, &w) != STORE_OK)
		return;
	memcpy(out, w->id, UUID_STRLEN);
	pthread_mutex_lock(&e->api_mtx);
	json_object_set_new(def->wf_ids, name, json_string(w->id));
	pthread_mutex_unlock(&e->api_mtx);
	store_workflow_free(w);
}

/* Create an execution (see engine.h). */
enum store_rc
engine_exec_start(struct engine *e, const struct engine_start_opts *o,
    struct store_exec **out, char **cause)
{
	struct engine_def		*def;
	const struct dsl_workflow	*wf = NULL;
	struct store_exec		 row;
	struct store_workflow		*wfid = NULL;
	struct store_tx			*tx;
	struct store			*st;
	json_t				*input, *params;
	enum store_rc			 rc;

	if (out != NULL)
		*out = NULL;
	if ((st = engine_thread_store(e, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	/*
	 * A client-supplied id that exists returns that execution unchanged
	 * (idempotent create).  The common case, a new id, costs no read:
	 * the insert itself finds a duplicate (see below).
	 */
	/* Parsed definitions are never freed while the engine lives. */
	pthread_mutex_lock(&e->api_mtx);
	def = engine_defs_workflow(e, o->workflow, &wf);
	pthread_mutex_unlock(&e->api_mtx);
	if (def == NULL && uuid_valid(o->workflow) &&
	    store_workflow_load(st, o->workflow, &wfid) == STORE_OK) {
		pthread_mutex_lock(&e->api_mtx);
		def = engine_defs_workflow(e, wfid->name, &wf);
		pthread_mutex_unlock(&e->api_mtx);
		store_workflow_free(wfid);
		wfid = NULL;
	}
	if (def == NULL) {
		if (exec_existing(st, o->id, out)) {
			engine_thread_store_done(e);
			return (STORE_OK);
		}
		engine_thread_store_done(e);
		xasprintf(cause, "Workflow not found [workflow_identifier=%s]",
		    o->workflow);
		return (STORE_NOTFOUND);
	}
	if ((input = exec_input(wf, o->input, cause)) == NULL) {
		if (exec_existing(st, o->id, out)) {
			free(*cause);
			*cause = NULL;
			engine_thread_store_done(e);
			return (STORE_OK);
		}
		engine_thread_store_done(e);
		return (STORE_ERROR);
	}
	params = o->params != NULL ? json_deep_copy(o->params) :
	    json_object();
	if (o->task_target != NULL)
		json_object_set_new(params, "task_name",
		    json_string(o->task_target));
	if (wf->type == DSL_WF_REVERSE) {
		const char *tn = json_string_value(json_object_get(params,
		    "task_name"));
		if (tn == NULL || dsl_task_find(wf, tn) == NULL) {
			engine_thread_store_done(e);
			xasprintf(cause, "reverse workflow '%s' needs a target "
			    "task (params.task_name): %s", wf->name,
			    tn == NULL ? "none given" : "no such task");
			json_decref(input);
			json_decref(params);
			return (STORE_ERROR);
		}
	}
	memset(&row, 0, sizeof row);
	if (o->id != NULL) {
		if (!uuid_valid(o->id)) {
			engine_thread_store_done(e);
			xasprintf(cause, "invalid execution id '%s' (expected "
			    "a UUID)", o->id);
			json_decref(input);
			json_decref(params);
			return (STORE_ERROR);
		}
		snprintf(row.id, UUID_STRLEN, "%s", o->id);
	} else
		uuid_make(row.id);
	row.workflow_name = wf->name;
	exec_workflow_id(e, st, def, wf->name, row.workflow_id);
	memcpy(row.def_id, def->id, UUID_STRLEN);
	row.state = (char *)ST_RUNNING;
	row.input = input;
	row.output = json_object();
	row.params = params;
	row.context = json_object();
	row.description = (char *)(o->description != NULL ?
	    o->description : "");
	row.request_id = (char *)o->request_id;
	row.created_at = row.updated_at = time_now_ms();
	tx = store_tx_create();
	/* A new execution needs no work row: see engine_exec_recover(). */
	store_tx_exec_insert(tx, &row);
	rc = exec_commit_retry(st, tx);
	store_tx_free(tx);
	if (rc == STORE_CONFLICT && exec_existing(st, o->id, out)) {
		engine_thread_store_done(e);
		json_decref(input);
		json_decref(params);
		json_decref(row.output);
		json_decref(row.context);
		return (STORE_OK);
	}
	if (rc == STORE_OK && out != NULL)
		*out = store_exec_dup(&row);
	if (rc != STORE_OK) {
		xasprintf(cause, "%s", store_error(st));
		/*
		 * The input was fine; the store failed.  The caller may try
		 * again (with the same id, a start is idempotent).
		 */
		if (rc == STORE_ERROR)
			rc = STORE_UNAVAILABLE;
	}
	else
		store_notify(st, "bora_work");
	engine_thread_store_done(e);
	json_decref(input);
	json_decref(params);
	json_decref(row.output);
	json_decref(row.context);
	if (rc == STORE_OK)
		engine_poke(e);
	return (rc);
}

/* Insert a work row for an execution from another thread. */
static enum store_rc
exec_post_work(struct engine *e, const char *exec_id, const char *task_id,
    const char *kind, json_t *payload, const char *expect_state,
    const char *new_state, char **cause)
{
	struct store_tx		*tx;
	struct store_work	 w;
	struct store_exec	 ex;
	struct store		*st;
	enum store_rc		 rc;

	tx = store_tx_create();
	if (expect_state != NULL) {
		memset(&ex, 0, sizeof ex);
		snprintf(ex.id, UUID_STRLEN, "%s", exec_id);
		ex.state = (char *)new_state;
		store_tx_exec_update(tx, &ex, SF_STATE, expect_state);
	}
	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, UUID_STRLEN, "%s", exec_id);
	w.task_id = (char *)task_id;
	w.kind = (char *)kind;
	w.due_at = time_now_ms();
	w.payload = payload;
	store_tx_work_insert(tx, &w);
	if ((st = engine_thread_store(e, cause)) == NULL) {
		store_tx_free(tx);
		return (STORE_UNAVAILABLE);
	}
	rc = exec_commit_retry(st, tx);
	if (rc != STORE_OK)
		xasprintf(cause, "%s", store_error(st));
	else
		store_notify(st, "bora_work");
	engine_thread_store_done(e);
	store_tx_free(tx);
	if (rc == STORE_OK)
		engine_poke(e);
	return (rc);
}

/* Ask for a state change of an execution (applied by its owner). */
enum store_rc
engine_exec_set_state(struct engine *e, const char *id, const char *state,
    const char *state_info, char **cause)
{
	struct store_exec	*ex = NULL;
	struct store		*st;
	json_t			*p;
	enum store_rc		 rc;

	if ((st = engine_thread_store(e, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = store_exec_load(st, id, &ex)) == STORE_UNAVAILABLE)
		rc = store_exec_load(st, id, &ex);
	engine_thread_store_done(e);
	if (rc != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			xasprintf(cause, "WorkflowExecution not found [id=%s]",
			    id);
		else
			xasprintf(cause, "%s", store_error(st));
		return (rc);
	}
	if (strcmp(state, ST_PAUSED) != 0 && strcmp(state, ST_RUNNING) != 0 &&
	    strcmp(state, ST_CANCELLED) != 0 && strcmp(state, ST_ERROR) != 0 &&
	    strcmp(state, ST_SUCCESS) != 0) {
		xasprintf(cause, "invalid state '%s' (expected PAUSED, RUNNING, "
		    "CANCELLED, ERROR or SUCCESS)", state);
		store_exec_free(ex);
		return (STORE_ERROR);
	}
	if (store_state_final(ex->state)) {
		xasprintf(cause, "execution %s is already %s", id, ex->state);
		store_exec_free(ex);
		return (STORE_CONFLICT);
	}
	store_exec_free(ex);
	p = json_pack("{s:s,s:s?}", "state", state, "state_info", state_info);
	rc = exec_post_work(e, id, NULL, WK_STATE, p, NULL, NULL, cause);
	json_decref(p);
	return (rc);
}

/* Re-run a failed task. */
enum store_rc
engine_task_rerun(struct engine *e, const char *task_id, int reset,
    json_t *env, char **cause)
{
	struct store_task	*t = NULL;
	struct store_exec	*ex = NULL;
	struct store		*st;
	json_t			*p;
	enum store_rc		 rc;

	if ((st = engine_thread_store(e, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = store_task_load(st, task_id, &t)) == STORE_UNAVAILABLE)
		rc = store_task_load(st, task_id, &t);
	if (rc == STORE_OK)
		rc = store_exec_load(st, t->execution_id, &ex);
	engine_thread_store_done(e);
	if (rc == STORE_UNAVAILABLE) {
		store_task_free(t);
		xasprintf(cause, "store unavailable");
		return (rc);
	}
	if (rc != STORE_OK) {
		xasprintf(cause, "TaskExecution not found [id=%s]", task_id);
		store_task_free(t);
		return (STORE_NOTFOUND);
	}
	if (strcmp(t->state, ST_ERROR) != 0) {
		xasprintf(cause, "task '%s' is %s: only a task in ERROR can "
		    "be re-run", t->name, t->state);
		store_task_free(t);
		store_exec_free(ex);
		return (STORE_CONFLICT);
	}
	p = json_pack("{s:b,s:O?}", "reset", reset, "env", env);
	rc = exec_post_work(e, t->execution_id, task_id, WK_RERUN, p,
	    strcmp(ex->state, ST_RUNNING) != 0 ? ex->state : NULL,
	    ST_RUNNING, cause);
	json_decref(p);
	/*
	 * A finished execution keeps the lease of the engine that ended it;
	 * now running again, it must be claimable at once.
	 */
	if (rc == STORE_OK && ex->owner != NULL &&
	    store_state_final(ex->state) &&
	    (st = engine_thread_store(e, cause)) != NULL) {
		(void)store_exec_release(st, t->execution_id, ex->owner);
		engine_thread_store_done(e);
		engine_poke(e);
	}
	store_task_free(t);
	store_exec_free(ex);
	return (rc);
}

/* An async action's result arrived. */
enum store_rc
engine_action_complete(struct engine *e, const char *id, const char *state,
    json_t *output, char **cause)
{
	struct store_action	*a = NULL;
	struct store		*st;
	json_t			*p;
	enum store_rc		 rc;

	if ((st = engine_thread_store(e, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = store_action_load(st, id, &a)) == STORE_UNAVAILABLE)
		rc = store_action_load(st, id, &a);
	engine_thread_store_done(e);
	if (rc == STORE_UNAVAILABLE) {
		xasprintf(cause, "store unavailable");
		return (rc);
	}
	if (rc != STORE_OK) {
		xasprintf(cause, "ActionExecution not found [id=%s]", id);
		return (STORE_NOTFOUND);
	}
	if (strcmp(a->state, ST_RUNNING) != 0) {
		xasprintf(cause, "action execution %s is already %s", id,
		    a->state);
		store_action_free(a);
		return (STORE_CONFLICT);
	}
	if (a->task_id == NULL) {
		/* Outside a workflow: just record it. */
		struct store_tx		*tx = store_tx_create();
		struct store_action	 u = *a;

		u.state = (char *)state;
		u.output = output;
		store_tx_action_update(tx, &u, SF_STATE | SF_OUTPUT,
		    ST_RUNNING);
		if ((st = engine_thread_store(e, cause)) == NULL)
			rc = STORE_UNAVAILABLE;
		else {
			rc = exec_commit_retry(st, tx);
			engine_thread_store_done(e);
		}
		store_tx_free(tx);
		store_action_free(a);
		return (rc);
	}
	p = json_pack("{s:s,s:s,s:O?}", "action_id", id, "state", state,
	    "output", output);
	rc = exec_post_work(e, a->execution_id, a->task_id, WK_RESULT, p,
	    NULL, NULL, cause);
	json_decref(p);
	store_action_free(a);
	return (rc);
}

/* The execution and its tasks as JSON (bora run -f json). */
json_t *
engine_exec_json(struct engine *e, const char *id)
{
	struct store_exec	*ex = NULL;
	struct store_task	**ts = NULL;
	size_t			 n = 0, i;
	json_t			*o, *tasks, *t;
	char			 c[20], u[20], s1[20], s2[20];

	if (store_exec_load(e->st, id, &ex) != STORE_OK)
		return (NULL);
	(void)store_tasks_load(e->st, id, &ts, &n);
	tasks = json_array();
	for (i = 0; i < n; i++) {
		if (ts[i]->started_at != 0)
			time_format(ts[i]->started_at, s1);
		if (ts[i]->finished_at != 0)
			time_format(ts[i]->finished_at, s2);
		t = json_pack("{s:s,s:s,s:s,s:s?,s:O?,s:O?,s:s?,s:s?,s:I}",
		    "id", ts[i]->id, "name", ts[i]->name, "state",
		    ts[i]->state, "state_info", ts[i]->state_info, "result",
		    ts[i]->result != NULL ? ts[i]->result : json_null(),
		    "published", ts[i]->published != NULL ?
		    ts[i]->published : json_object(), "started_at",
		    ts[i]->started_at != 0 ? s1 : NULL, "finished_at",
		    ts[i]->finished_at != 0 ? s2 : NULL, "duration_ms",
		    (json_int_t)(ts[i]->finished_at != 0 &&
		    ts[i]->started_at != 0 ? ts[i]->finished_at -
		    ts[i]->started_at : 0));
		json_array_append_new(tasks, t);
		store_task_free(ts[i]);
	}
	free(ts);
	time_format(ex->created_at, c);
	time_format(ex->updated_at, u);
	o = json_pack("{s:s,s:s,s:s,s:s?,s:O?,s:O?,s:s,s:s,s:o}", "id",
	    ex->id, "workflow_name", ex->workflow_name, "state", ex->state,
	    "state_info", ex->state_info, "input", ex->input != NULL ?
	    ex->input : json_object(), "output", ex->output != NULL ?
	    ex->output : json_object(), "created_at", c, "updated_at", u,
	    "tasks", tasks);
	store_exec_free(ex);
	return (o);
}
