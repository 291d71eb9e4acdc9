/*
 * engine-load.c -- executions taken into memory when this engine holds
 * their lease, and given back; each is continued where its rows left it:
 * a new one begins, one interrupted by a crash or a takeover recovers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

#define ENGINE_PARK_MS	2000	/* a wait at least this long: parked */

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
	rt->state = store_state_parse(ex->state);
	if (rt->row->context == NULL)
		rt->row->context = json_object();
	if (rt->row->params == NULL)
		rt->row->params = json_object();
	if (rt->row->input == NULL)
		rt->row->input = json_object();
	rt->def = def;
	def->refs++;
	rt->wf = wf;
	rt->notify = engine_tell_targets(e, ex);
	rt->tasks = xcalloc(n == 0 ? 1 : n, sizeof *rt->tasks);
	rt->next_seq = 1;	/* seq 0 means "next" to the store */
	for (i = 0; i < n; i++) {
		t = xcalloc(1, sizeof *t);
		t->exec = rt;
		t->row = rows[i];
		t->state = store_state_parse(rows[i]->state);
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
	if (!rt->parked && (!STATE_FINAL(rt->state) || rt->dropped))
		(void)store_exec_release(e->st, rt->row->id, e->id);
	for (i = 0; i < rt->ntasks; i++)
		engine_task_rt_free(rt->tasks[i]);
	free(rt->tasks);
	if (rt->def != NULL)
		rt->def->refs--;
	json_decref(rt->data_base);
	store_tx_free(rt->progress);
	json_decref(rt->notify);
	store_exec_free(rt->row);
	free(rt);
}

/*
 * Park a running execution that only waits: nothing of it in flight in
 * this process, no step waiting for the store, and its next due work
 * (a timer) at least ENGINE_PARK_MS away or none (a callback).  Its
 * lease is given back so that it is claimed again when work of it is
 * due (the timer, or the row a callback or an API request writes), and
 * it leaves memory: an engine holds only the executions that move,
 * however many wait.  Not in bora run, which follows its one execution
 * in memory.  1 when parked.
 */
int
engine_exec_park(struct engine *e, struct exec_rt *rt, int64_t now)
{
	size_t	 i;

	/*
	 * Not while a sub-workflow runs: a recovery reads a child that
	 * ended as its task's end, without the child's reason.
	 */
	for (i = 0; i < rt->ntasks; i++) {
		if (rt->tasks[i]->state == STATE_RUNNING &&
		    rt->tasks[i]->spec != NULL &&
		    rt->tasks[i]->spec->workflow != NULL)
			return (0);
	}
	if (e->cfg.in_process || rt->finished || rt->dropped ||
	    rt->state != STATE_RUNNING ||
	    rt->ntasks == 0 || rt->npending > 0 || rt->ninflight > 0 ||
	    (rt->next_due != 0 && rt->next_due - now < ENGINE_PARK_MS) ||
	    (rt->progress != NULL && store_tx_size(rt->progress) > 0))
		return (0);
	if (store_exec_park(e->st, rt->row->id, e->id) != STORE_OK)
		return (0);
	rt->parked = 1;
	/* The loop claims it back when that is due. */
	if (rt->next_due != 0 && (e->store_due == 0 ||
	    rt->next_due < e->store_due))
		e->store_due = rt->next_due;
	engine_exec_unload(e, rt);
	return (1);
}

/* Begin an execution: vars, then its start tasks. */
void
engine_exec_begin(struct engine *e, struct exec_rt *rt, struct step *s)
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
			engine_exec_finish(e, rt, STATE_ERROR, info, s);
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
	/* A Masakari notification's recovery is running. */
	if ((target = json_string_value(json_object_get(rt->row->params,
	    "notification_uuid"))) != NULL)
		store_tx_notification_run(s->tx, target);
	if (rt->wf->type == DSL_WF_REVERSE) {
		target = json_string_value(json_object_get(rt->row->params,
		    "task_name"));
		if (engine_task_reverse_start(e, rt, target, s, &err) != 0) {
			engine_exec_finish(e, rt, STATE_ERROR, err, s);
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

/*
 * A recovery that cannot read what it needs (the store failed): the
 * execution is let go as it stands, to be claimed and recovered again.
 */
static void
recover_let_go(struct engine *e, struct exec_rt *rt, const char *why)
{
	log_warnx("execution %s: recovery: %s; let go, to be taken again",
	    rt->row->id, why);
	rt->dropped = 1;
	rt->finished = 1;
	engine_locks_forget(e, rt->row->id);
}

/*
 * Continue an execution this engine just took over (after a crash or an
 * expired lease).  RUNNING tasks are rebuilt from their action rows: an
 * interrupted action is re-run when it has no side effects or its task
 * is safe-rerun (its row CANCELLED, a new run in a new row), otherwise
 * the task fails with a clear reason (its row ERROR).  Nothing here
 * assumes the previous owner got further than its last commit: the
 * same execution may be taken over again at any point of this.
 */
void
engine_exec_recover(struct engine *e, struct exec_rt *rt)
{
	struct store_action	**acts, a;
	struct task_rt		*t;
	struct step		 s;
	const struct action_entry *entry;
	enum store_state	 to;
	size_t			 i, k, n, nt;
	int			 safe, lost, rc;
	char			*cause = NULL, *info;

	if (rt->state != STATE_RUNNING)
		return;
	if (rt->ntasks == 0) {
		/*
		 * A RUNNING execution without tasks has not begun: this is
		 * how a new one (from the API or a parent task) is started,
		 * exactly once since only the lease holder gets here.
		 */
		memset(&s, 0, sizeof s);
		s.tx = store_tx_create();
		engine_exec_begin(e, rt, &s);
		engine_commit(e, rt, &s);
		return;
	}
	nt = rt->ntasks;
	for (i = 0; i < nt && !rt->finished; i++) {
		t = rt->tasks[i];
		if (t->spec == NULL || t->state != STATE_RUNNING)
			continue;
		memset(&s, 0, sizeof s);
		s.tx = store_tx_create();
		acts = NULL;
		n = 0;
		if (store_actions_load(e->st, t->row->id, &acts, &n) !=
		    STORE_OK) {
			/* Read as none, a running action would run twice. */
			recover_let_go(e, rt, store_error(e->st));
			store_tx_free(s.tx);
			return;
		}
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
		} else if ((rc = engine_task_items_rebuild(e, rt, t, acts, n,
		    &cause)) == -2) {
			recover_let_go(e, rt, cause);
			free(cause);
			for (k = 0; k < n; k++)
				store_action_free(acts[k]);
			free(acts);
			store_tx_free(s.tx);
			return;
		} else if (rc != 0) {
			engine_task_fail(e, rt, t, cause, &s);
			free(cause);
			cause = NULL;
		} else {
			for (k = 0; k < n; k++) {
				if (acts[k]->attempt != t->attempt ||
				    store_state_parse(acts[k]->state) !=
				    STATE_RUNNING || acts[k]->is_async)
					continue;
				entry = action_find(acts[k]->name);
				a = *acts[k];
				/*
				 * A run given up to be run again is
				 * CANCELLED, not ERROR: it is no result of
				 * its item, and a later takeover, before or
				 * after the new run begins, must not count
				 * it as one.
				 */
				if ((entry != NULL && entry->pure) || safe) {
					a.state_info = (char *)"interrupted by "
					    "an engine stop; run again";
					to = STATE_CANCELLED;
					engine_task_item_reset(t, acts[k]->item);
				} else {
					a.state_info = (char *)"interrupted by "
					    "an engine stop";
					to = STATE_ERROR;
					lost = 1;
				}
				(void)engine_row_move(s.tx, ENGINE_ACTION, &a,
				    STATE_RUNNING, to, SF_STATE_INFO);
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
		if (t->state == STATE_IDLE && t->spec != NULL &&
		    !json_is_true(json_object_get(t->row->runtime,
		    "pause_before")) &&
		    engine_task_move(t, STATE_RUNNING, NULL, 0, &s) == 0)
			engine_step_ready(&s, t);
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
