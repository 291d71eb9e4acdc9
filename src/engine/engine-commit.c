/*
 * engine-commit.c -- steps: what a step records (due work, events), its
 * commit alone or grouped with the other steps of a turn of the loop,
 * and what follows a commit (actions start, ready tasks are queued,
 * observers are told); the leases that allow committing at all.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "engine/engine-int.h"

/* Note that a task changed in the step (once): observers are told. */
void
engine_step_changed(struct step *s, struct task_rt *t)
{
	size_t	 i;

	for (i = 0; i < s->nchanged; i++) {
		if (s->changed[i] == t)
			return;
	}
	s->changed = xreallocarray(s->changed, s->nchanged + 1,
	    sizeof *s->changed);
	s->changed[s->nchanged++] = t;
}

/* Note a task to run once the step has committed. */
void
engine_step_ready(struct step *s, struct task_rt *t)
{
	s->ready = xreallocarray(s->ready, s->nready + 1, sizeof *s->ready);
	s->ready[s->nready++] = t;
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
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	engine_event_record(s->tx, rt, t, t != NULL ? "task" : "execution", level,
	    progress, msg);
	free(msg);
}

/* See engine-int.h. */
void
engine_message(struct exec_rt *rt, struct task_rt *t, struct step *s,
    const char *event_id, ...)
{
	struct msg_about	 about;
	const char		*type;
	va_list			 ap;

	type = msg_resource_type(event_id);
	about.resource_uuid = t != NULL && type != NULL &&
	    strcmp(type, "task") == 0 ? t->row->id : rt->row->id;
	about.request_id = rt->row->request_id;
	about.project_id = json_string_value(json_object_get(rt->row->params,
	    "project_id"));
	va_start(ap, event_id);
	msg_tx_addv(s->tx, event_id, &about, ap);
	va_end(ap);
}

/* See engine-int.h. */
void
engine_reserved_host_failed(struct exec_rt *rt, struct step *s,
    const char *host, const char *segment, const char *reason)
{
	engine_message(rt, NULL, s, MSG_RESERVED_HOST, "host", host,
	    "segment", segment, "reason", reason, "workflow",
	    rt->row->workflow_name, (char *)NULL);
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

/* Queue a task to run in this loop iteration (after its commit). */
void
engine_ready_push(struct engine *e, struct exec_rt *rt, struct task_rt *t)
{
	if (e->ready_n == e->ready_cap) {
		e->ready_cap = e->ready_cap == 0 ? 64 : e->ready_cap * 2;
		e->ready_q = xreallocarray(e->ready_q, e->ready_cap,
		    sizeof *e->ready_q);
	}
	memcpy(e->ready_q[e->ready_n].exec_id, rt->row->id, UUID_STRLEN);
	memcpy(e->ready_q[e->ready_n].task_id, t->row->id, UUID_STRLEN);
	e->ready_n++;
}

void
engine_notify_task(struct engine *e, struct exec_rt *rt, struct task_rt *t)
{
	if (e->obs.task != NULL)
		e->obs.task(e->obs.arg, rt->row, t->row);
}

void
engine_notify_exec(struct engine *e, struct exec_rt *rt)
{
	if (e->obs.exec != NULL)
		e->obs.exec(e->obs.arg, rt->row);
}

/* What a step does once committed: start actions, queue tasks, tell. */
static void
step_after_commit(struct engine *e, struct exec_rt *rt, struct step *s)
{
	size_t	 i;

	for (i = 0; i < s->nstarts; i++)
		engine_action_start(e, rt, &s->starts[i]);
	if (!s->ready_pushed)
		for (i = 0; i < s->nready; i++)
			engine_ready_push(e, rt, s->ready[i]);
	for (i = 0; i < s->nchanged; i++)
		engine_notify_task(e, rt, s->changed[i]);
	if (s->exec_changed)
		engine_notify_exec(e, rt);
	if (s->poke)
		engine_poke(e);
	if (s->notified)
		engine_outbox_poke(e);
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

/*
 * Leases.  Steps of an execution are committed only while this engine
 * holds its lease: when the store was out of reach for longer than a
 * lease, another engine may have taken the execution over, and steps
 * written by both would run its actions twice.  So once the last
 * renewal is older than a lease less ENGINE_LEASE_MARGIN, a commit
 * waits for a renewal, which says which executions are still held; the
 * others are let go with their steps, never written.
 */
#define ENGINE_LEASE_MARGIN(e)	((e)->cfg.lease_ms / 5)

/* The leases of every loaded execution were granted at sent (mono ms). */
void
engine_lease_granted(struct engine *e, int64_t sent)
{
	e->last_renew = sent;
	e->lease_ok_until = sent + e->cfg.lease_ms - ENGINE_LEASE_MARGIN(e);
}

int
engine_lease_renew(struct engine *e, int force)
{
	struct exec_rt	 *rt;
	char		**ids, **held = NULL;
	size_t		  n = 0, nheld = 0, i;
	int64_t		  now = time_mono_ms();
	enum store_rc	  rc;

	if (!force && now < e->lease_ok_until)
		return (0);
	ids = xcalloc(e->nloaded + 1, sizeof *ids);
	for (rt = e->loaded; rt != NULL; rt = rt->next_loaded) {
		if (!rt->dropped)
			ids[n++] = rt->row->id;
	}
	rc = store_exec_renew(e->st, e->id, ids, n, e->cfg.lease_ms, &held,
	    &nheld);
	free(ids);
	if (rc != STORE_OK)
		return (now < e->lease_ok_until ? 0 : -1);
	engine_lease_granted(e, now);
	for (rt = e->loaded; rt != NULL; rt = rt->next_loaded) {
		if (rt->dropped)
			continue;
		for (i = 0; i < nheld; i++) {
			if (strcmp(held[i], rt->row->id) == 0)
				break;
		}
		if (i < nheld)
			continue;
		log_warnx("execution %s: taken over by another engine while "
		    "the store was out of reach; let go", rt->row->id);
		rt->dropped = 1;
		rt->finished = 1;
		engine_locks_forget(e, rt->row->id);
	}
	for (i = 0; i < nheld; i++)
		free(held[i]);
	free(held);
	return (0);
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

	/* Messages emitted by expressions and Lua actions go with it. */
	if (rt->progress != NULL && store_tx_size(rt->progress) > 0)
		store_tx_append(s->tx, rt->progress);
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
	if (engine_lease_renew(e, 0) != 0)
		rc = STORE_UNAVAILABLE;
	else if (rt->dropped) {
		step_free(s);
		return (-1);
	} else
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

	if (e->npending == 0 || engine_lease_renew(e, 0) != 0)
		return;
	/* Steps of executions let go are never written. */
	kept = 0;
	for (i = 0; i < e->npending; i++) {
		if (e->pending[i].rt->dropped) {
			step_free(&e->pending[i].s);
			e->pending[i].rt->npending--;
		} else
			e->pending[kept++] = e->pending[i];
	}
	if ((e->npending = kept) == 0)
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
	/* Said once when the store goes away and once when it is back. */
	if (kept > 0 && !e->store_down)
		log_warnx("store unavailable: %s; %zu steps wait",
		    store_error(e->st), kept);
	else if (kept == 0 && e->store_down)
		log_info("store available again: the steps that waited are "
		    "committed");
	e->store_down = kept > 0;
	e->npending = kept;
	free(txs);
	free(rts);
	free(rcs);
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
