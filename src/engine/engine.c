/*
 * engine.c -- the engine's loop: claim executions (leases), take action
 * completions from the I/O thread, run due work and ready tasks, renew
 * leases, and sleep until the next thing is due.  One loop thread owns
 * the loaded executions, their Lua sandbox and its store connection;
 * other threads talk to it through the store (work rows) and a poke.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine-int.h"

#define ENGINE_CLAIM_BATCH	128	/* executions per claim */
#define ENGINE_MAX_LOADED	4096	/* executions held at once */
#define ENGINE_DUE_CLAIM_MS	10	/* claims for due work, at most
					   this often */
#define ENGINE_READY_BURST	1024	/* tasks run between two commits */
#define ENGINE_POOL_MAX		16	/* other threads' connections */
#define ENGINE_IDLE_MS		1000	/* idle this long: the store tidies */

static void	*engine_thread(void *);

void
engine_set_observer(struct engine *e, const struct engine_observer *o)
{
	if (o == NULL)
		memset(&e->obs, 0, sizeof e->obs);
	else
		e->obs = *o;
}

/* The road to the store of every thread but the loop (see engine.h). */
struct store_pool *
engine_pool(struct engine *e)
{
	return (e->pool);
}

/* The I/O loop of the engine's actions (see engine.h). */
struct action_io *
engine_io(struct engine *e)
{
	return (e->io);
}

/* An in-process engine's connection (see engine.h). */
struct store *
engine_store(struct engine *e)
{
	return (e->cfg.in_process ? e->st : NULL);
}

static uint64_t		 engine_gen_next = 1;
static pthread_mutex_t	 engine_gen_mtx = PTHREAD_MUTEX_INITIALIZER;
/* 1 when url names an in-memory database (one connection only). */
static int
engine_url_memory(const char *url)
{
	return (strstr(url, ":memory:") != NULL);
}

/*
 * The settings of the reapers and the outbox, defaults filled; the
 * default receivers and the secret are the engine's own copies.
 */
static void
engine_open_notify(struct engine *e, const struct engine_config *cfg)
{
	struct engine_config	*c = &e->cfg;

	if (c->message_reap_batch == 0)
		c->message_reap_batch = 1000;
	if (c->exec_reap_batch == 0)
		c->exec_reap_batch = 100;
	if (c->alarm_reap_batch == 0)
		c->alarm_reap_batch = 500;
	if (c->notify_max_attempts <= 0)
		c->notify_max_attempts = 12;
	if (c->notify_backoff_ms <= 0)
		c->notify_backoff_ms = 1000;
	if (c->notify_backoff_max_ms <= 0)
		c->notify_backoff_max_ms = 600000;
	if (c->notify_timeout_ms <= 0)
		c->notify_timeout_ms = 10000;
	if (c->notify_concurrency == 0)
		c->notify_concurrency = 16;
	if (cfg->notify != NULL && json_array_size(cfg->notify) > 0)
		e->notify_default = json_deep_copy(cfg->notify);
	if (cfg->notify_secret != NULL)
		e->notify_secret = xstrdup(cfg->notify_secret);
	c->notify = NULL;
	c->notify_secret = NULL;
}

/* What the reapers and the sender did (see engine.h). */
json_t *
engine_stats(struct engine *e)
{
#define S(k)	json_integer((json_int_t)atomic_load(&e->stats[k]))
	return (json_pack("{s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o}, s:{s:o, s:o, s:o}}", "reaped", "messages",
	    S(ENGINE_REAPED_MESSAGES), "executions",
	    S(ENGINE_REAPED_EXECUTIONS), "tasks", S(ENGINE_REAPED_TASKS),
	    "action_executions", S(ENGINE_REAPED_ACTIONS), "events",
	    S(ENGINE_REAPED_EVENTS), "notifications",
	    S(ENGINE_REAPED_NOTIFICATIONS), "alarms",
	    S(ENGINE_REAPED_ALARMS), "alarm_events",
	    S(ENGINE_REAPED_ALARM_EVENTS), "alarm_decisions",
	    S(ENGINE_REAPED_ALARM_DECISIONS), "alarm_holds",
	    S(ENGINE_REAPED_ALARM_HOLDS), "alarm_limits",
	    S(ENGINE_REAPED_ALARM_LIMITS), "alarm_auth_failures",
	    S(ENGINE_REAPED_ALARM_AUTH), "notifications", "sent",
	    S(ENGINE_NOTIFY_SENT), "retried", S(ENGINE_NOTIFY_RETRIED),
	    "dead", S(ENGINE_NOTIFY_DEAD)));
#undef S
}

/* Open an engine: store, sandbox, I/O loop, definitions. */
struct engine *
engine_open(const struct engine_config *cfg, char **cause)
{
	struct engine		*e;
	struct expr_limits	 lim;

	e = xcalloc(1, sizeof *e);
	e->cfg = *cfg;
	if (e->cfg.db_url == NULL)
		e->cfg.db_url = "sqlite:bora.db";
	if (e->cfg.lease_ms <= 0)
		e->cfg.lease_ms = 15000;
	if (e->cfg.poll_ms <= 0)
		e->cfg.poll_ms = 1000;
	if (e->cfg.max_inflight == 0)
		e->cfg.max_inflight = 1024;
	if (cfg->engine_id != NULL)
		snprintf(e->id, sizeof e->id, "%s", cfg->engine_id);
	else
		engine_owner_make(e->id, sizeof e->id);
	e->locks = json_object();
	if (pipe2(e->outbox_wake, O_NONBLOCK | O_CLOEXEC) == -1)
		e->outbox_wake[0] = e->outbox_wake[1] = -1;
	pthread_mutex_lock(&engine_gen_mtx);
	e->gen = engine_gen_next++;
	pthread_mutex_unlock(&engine_gen_mtx);
	pthread_mutex_init(&e->api_mtx, NULL);
	pthread_mutex_init(&e->inbox_mtx, NULL);
	pthread_cond_init(&e->inbox_cond, NULL);
	if ((e->st = store_open(e->cfg.db_url, cause)) == NULL)
		goto fail;
	/*
	 * In-process use (bora run) has one thread and one connection; a
	 * daemon's other threads borrow from a pool of their own.  An
	 * in-memory database has a single connection.
	 */
	if (cfg->in_process || engine_url_memory(e->cfg.db_url)) {
		e->cfg.in_process = 1;
		e->pool = store_pool_wrap(e->st);
	} else
		e->pool = store_pool_create(e->cfg.db_url, e->cfg.pool_max > 0 ?
		    e->cfg.pool_max : ENGINE_POOL_MAX);
	e->starts = store_group_create();
	memset(&lim, 0, sizeof lim);
	lim.max_instructions = cfg->expr_max_instructions;
	lim.max_memory = cfg->expr_max_memory;
	lim.max_time_ms = cfg->expr_max_time_ms;
	/*
	 * A daemon runs its Lua library at once, so that a file that does
	 * not load stops it at start; a process that runs one workflow
	 * loads it when an expression first needs it.
	 */
	if ((e->ex = cfg->in_process ? expr_create_lazy(&lim, cfg->lua_dir,
	    cause) : expr_create(&lim, cfg->lua_dir, cause)) == NULL)
		goto fail;
	/* Validation from other threads needs a sandbox of its own. */
	if (e->cfg.in_process)
		e->api_ex = e->ex;
	else if ((e->api_ex = expr_create_lazy(&lim, cfg->lua_dir,
	    cause)) == NULL)
		goto fail;
	if ((e->io = action_io_start(e->cfg.max_inflight, cause)) == NULL)
		goto fail;
	engine_alarms_open(e, &lim);
	if (cfg->callback_base != NULL)
		snprintf(e->callback_base, sizeof e->callback_base, "%s",
		    cfg->callback_base);
	engine_open_notify(e, cfg);
	if (engine_defs_load_all(e, cause) != 0)
		goto fail;
	return (e);
fail:
	engine_close(e);
	return (NULL);
}

/* Close: stop the loop, give back leases, free everything. */
void
engine_close(struct engine *e)
{
	struct engine_done	*d, *next;
	size_t			 i;

	if (e == NULL)
		return;
	if (e->running)
		engine_stop(e, 0);
	if (e->io != NULL)
		action_io_stop(e->io);
	e->io = NULL;
	/* Completions that came in during the stop. */
	for (d = e->inbox; d != NULL; d = next) {
		next = d->next;
		json_decref(d->result);
		free(d);
	}
	e->inbox = e->inbox_tail = NULL;
	while ((d = e->async) != NULL) {
		engine_async_unlink(e, d);
		free(d);
	}
	engine_flush(e);
	engine_pending_drop(e);
	while (e->loaded != NULL)
		engine_exec_unload(e, e->loaded);
	engine_alarms_close(e);
	for (i = 0; i < e->nadopt; i++)
		free(e->adopt[i]);
	free(e->adopt);
	engine_defs_free(e);
	free(e->pending);
	json_decref(e->notify_default);
	if (e->outbox_wake[0] != -1) {
		close(e->outbox_wake[0]);
		close(e->outbox_wake[1]);
	}
	if (e->notify_secret != NULL)
		explicit_bzero(e->notify_secret, strlen(e->notify_secret));
	free(e->notify_secret);
	json_decref(e->locks);
	json_decref(e->ctx_exec);
	json_decref(e->ctx_task);
	if (e->api_ex != e->ex)
		expr_free(e->api_ex);
	expr_free(e->ex);
	store_pool_free(e->pool);
	store_group_free(e->starts);
	if (e->st != NULL)
		store_close(e->st);
	free(e->ready_q);
	pthread_mutex_destroy(&e->api_mtx);
	pthread_mutex_destroy(&e->inbox_mtx);
	pthread_cond_destroy(&e->inbox_cond);
	free(e);
}

/* Release the lease of an execution whose owner died on this host. */
int
engine_takeover(struct engine *e, const char *id)
{
	struct store_exec	*ex = NULL;
	int			 rc = 0;

	if (store_exec_load(e->st, id, &ex) != STORE_OK)
		return (-1);
	if (ex->owner != NULL && engine_owner_dead(ex->owner)) {
		log_info("execution %s: owner %s is gone, taking over", id,
		    ex->owner);
		rc = store_exec_release(e->st, id, ex->owner) == STORE_OK ?
		    0 : -1;
	}
	store_exec_free(ex);
	return (rc);
}

/*
 * Load claimed executions in two reads (their rows, then all their
 * tasks) and continue each where it stood.
 */
static void
engine_claim_load(struct engine *e, char **ids, size_t n)
{
	struct store_exec	**ex = NULL;
	struct store_task	**ts = NULL;
	struct exec_rt		*rt;
	char			**want, *cause = NULL;
	size_t			 nwant = 0, nex = 0, nts = 0, i, k;

	want = xcalloc(n == 0 ? 1 : n, sizeof *want);
	for (i = 0; i < n; i++)
		if (engine_exec_find(e, ids[i]) == NULL)
			want[nwant++] = ids[i];
	if (store_execs_load(e->st, want, nwant, &ex, &nex) != STORE_OK ||
	    store_tasks_load_many(e->st, want, nwant, &ts, &nts) != STORE_OK) {
		log_warnx("loading claimed executions: %s",
		    store_error(e->st));
		for (i = 0; i < nex; i++)
			store_exec_free(ex[i]);
		for (i = 0; i < nwant; i++)
			(void)store_exec_release(e->st, want[i], e->id);
		free(ex);
		free(want);
		return;
	}
	for (i = 0; i < nex; i++) {
		/* Its tasks: one run of rows, grouped by execution. */
		struct store_task **mine = xcalloc(nts == 0 ? 1 : nts,
		    sizeof *mine);
		size_t nmine = 0;

		for (k = 0; k < nts; k++) {
			if (ts[k] != NULL &&
			    strcmp(ts[k]->execution_id, ex[i]->id) == 0) {
				mine[nmine++] = ts[k];
				ts[k] = NULL;
			}
		}
		rt = engine_exec_build(e, ex[i], mine, nmine, &cause);
		free(mine);
		if (rt == NULL) {
			log_warnx("%s", cause);
			free(cause);
			cause = NULL;
			continue;
		}
		engine_exec_recover(e, rt);
	}
	for (k = 0; k < nts; k++)
		store_task_free(ts[k]);
	free(ts);
	free(ex);
	free(want);
}

/* Load the executions handed over by engine_adopt(). */
static void
engine_adopt_load(struct engine *e)
{
	char	**ids;
	size_t	  n, i;

	pthread_mutex_lock(&e->inbox_mtx);
	ids = e->adopt;
	n = e->nadopt;
	e->adopt = NULL;
	e->nadopt = 0;
	pthread_mutex_unlock(&e->inbox_mtx);
	if (n > 0)
		engine_claim_load(e, ids, n);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Claim executions with work for this engine and load them. */
static void
engine_claim(struct engine *e)
{
	char		**ids = NULL;
	size_t		 n = 0, i;
	int64_t		 sent;

	if (atomic_load(&e->stopping))
		return;
	engine_adopt_load(e);
again:
	ids = NULL;
	n = 0;
	sent = time_mono_ms();
	if (e->nloaded >= ENGINE_MAX_LOADED ||
	    store_exec_claim(e->st, e->id, e->cfg.lease_ms, ENGINE_CLAIM_BATCH,
	    &ids, &n) != STORE_OK)
		return;
	/* Alone in memory, the new leases are all there is to hold. */
	if (n > 0 && e->nloaded == 0)
		engine_lease_granted(e, sent);
	engine_claim_load(e, ids, n);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	/*
	 * A full batch: there is a backlog, take more.  On PostgreSQL, in
	 * the next turn, at once: this turn commits the beginnings of the
	 * batch first, rather than after thousands of claims.
	 */
	if (n == ENGINE_CLAIM_BATCH) {
		if (strcmp(store_backend(e->st), "sqlite") != 0) {
			e->claim_more = 1;
			return;
		}
		goto again;
	}
}

/* Run every queued ready task. */
static int
engine_run_ready(struct engine *e)
{
	struct ready_ent	 r;
	struct exec_rt		*rt;
	struct task_rt		*t;
	int			 did = 0;
	size_t			 n;

	for (n = 0; n < ENGINE_READY_BURST; n++) {
		if (e->ready_head >= e->ready_n) {
			e->ready_head = e->ready_n = 0;
			break;
		}
		r = e->ready_q[e->ready_head++];
		did = 1;
		if ((rt = engine_exec_find(e, r.exec_id)) == NULL ||
		    rt->finished)
			continue;
		if ((t = engine_task_find_id(rt, r.task_id)) == NULL)
			continue;
		engine_task_run(e, rt, t);
	}
	return (did);
}

/*
 * One turn of the loop: claims, completions, due work, ready tasks,
 * lease renewal; then wait up to max_wait_ms for something to do.
 */
void
engine_loop_once(struct engine *e, int64_t max_wait_ms)
{
	struct engine_done	*d, *next;
	struct exec_rt		*rt, *rnext;
	int64_t			 now, mono, wait, due;
	int			 poked, did = 0;
	struct timespec		 ts;

	mono = time_mono_ms();
	pthread_mutex_lock(&e->inbox_mtx);
	poked = e->poked;
	e->poked = 0;
	d = e->inbox;
	e->inbox = e->inbox_tail = NULL;
	pthread_mutex_unlock(&e->inbox_mtx);

	if (store_wait(e->st, 0) > 0)
		poked = 1;
	/* A daemon fires cron triggers (bora run does not). */
	if (!e->cfg.in_process && mono >= e->cron_check) {
		e->cron_check = mono + CRON_CHECK_MS;
		engine_cron_run(e);
	}
	/* Steps of this turn commit together (engine_flush). */
	e->batching = 1;
	/* Work of parked executions comes due: claim it on time. */
	due = e->store_due != 0 && time_now_ms() >= e->store_due &&
	    mono - e->last_claim >= ENGINE_DUE_CLAIM_MS;
	if (poked || due || e->claim_more ||
	    mono - e->last_claim >= e->cfg.poll_ms) {
		e->last_claim = mono;
		e->claim_more = 0;
		engine_claim(e);
		e->store_due = e->cfg.in_process ? 0 :
		    store_work_next_due(e->st, e->id);
		if (poked) {
			for (rt = e->loaded; rt != NULL; rt = rt->next_loaded)
				rt->next_due = 1;
		}
		engine_flush(e);
	}
	for (; d != NULL; d = next) {
		next = d->next;
		engine_exec_done_one(e, d);
		json_decref(d->result);
		free(d);
		did = 1;
	}
	engine_flush(e);
	now = time_now_ms();
	for (rt = e->loaded; rt != NULL; rt = rt->next_loaded) {
		if (!rt->finished && rt->next_due != 0 && rt->next_due <= now) {
			engine_exec_work(e, rt);
			did = 1;
		}
	}
	engine_flush(e);
	/* Ready tasks, turn after turn, until nothing more is ready. */
	while (engine_run_ready(e)) {
		did = 1;
		engine_flush(e);
	}
	e->batching = 0;
	now = time_now_ms();
	for (rt = e->loaded; rt != NULL; rt = rnext) {
		rnext = rt->next_loaded;
		/* Steps waiting for the store keep their execution loaded. */
		if (rt->finished && rt->npending == 0)
			engine_exec_unload(e, rt);
		else if (e->npending == 0 && !atomic_load(&e->stopping))
			(void)engine_exec_park(e, rt, now);
	}
	engine_alarms_tick(e, mono);
	if (e->nloaded > 0 && mono - e->last_renew >= e->cfg.lease_ms / 3) {
		e->last_renew = mono;
		(void)engine_lease_renew(e, 1);
	}
	if (e->npending > 0) {
		/* The store is unavailable: retry the steps shortly. */
		did = 0;
		if (max_wait_ms > 200)
			max_wait_ms = 200;
	}
	if (did) {
		e->busy_at = mono;
		e->tidied = 0;
	} else if (!e->tidied && e->npending == 0 &&
	    mono - e->busy_at >= ENGINE_IDLE_MS) {
		/* Once per idle spell: SQLite cuts its log. */
		store_idle(e->st);
		e->tidied = 1;
	}
	if (did || e->claim_more || max_wait_ms <= 0)
		return;

	/* Sleep until the next due work, a poke or a completion. */
	wait = max_wait_ms;
	if (!e->cfg.in_process && e->cron_check - time_mono_ms() < wait)
		wait = e->cron_check - time_mono_ms();
	now = time_now_ms();
	for (rt = e->loaded; rt != NULL; rt = rt->next_loaded) {
		if (rt->next_due != 0) {
			due = rt->next_due - now;
			if (due < wait)
				wait = due < 0 ? 0 : due;
		}
	}
	if (e->store_due != 0) {
		due = e->store_due - now;
		if (due < ENGINE_DUE_CLAIM_MS)
			due = ENGINE_DUE_CLAIM_MS;
		if (due < wait)
			wait = due;
	}
	if (wait <= 0)
		return;
	if (strcmp(store_backend(e->st), "sqlite") != 0) {
		/* Listen for other engines while waiting. */
		if (wait > 50)
			wait = 50;
		if (store_wait(e->st, (int)wait) > 0) {
			engine_poke(e);
			return;
		}
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += wait / 1000;
	ts.tv_nsec += (wait % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&e->inbox_mtx);
	if (e->inbox == NULL && !e->poked)
		pthread_cond_timedwait(&e->inbox_cond, &e->inbox_mtx, &ts);
	pthread_mutex_unlock(&e->inbox_mtx);
}

/* The loop thread of a daemon. */
static void *
engine_thread(void *arg)
{
	struct engine	*e = arg;

	while (!atomic_load(&e->stopping))
		engine_loop_once(e, e->cfg.poll_ms);
	return (NULL);
}

/*
 * At start, executions left by a dead engine on this host (kill -9, a
 * crash) are taken over at once instead of after their lease expires.
 */
static void
engine_takeover_dead(struct engine *e)
{
	char	**owners = NULL;
	size_t	  n = 0, i, got;

	/* By owner, one statement each: however many it held. */
	if (store_exec_owners(e->st, &owners, &n) != STORE_OK)
		return;
	for (i = 0; i < n; i++) {
		if (engine_owner_dead(owners[i]) &&
		    store_exec_release_all(e->st, owners[i], &got) ==
		    STORE_OK && got > 0)
			log_info("%zu executions: owner %s is gone, taking "
			    "over", got, owners[i]);
		free(owners[i]);
	}
	free(owners);
}

int
engine_start(struct engine *e, char **cause)
{
	atomic_store(&e->stopping, 0);
	if (e->cfg.in_process) {
		xasprintf(cause, "an engine opened for in-process use cannot "
		    "start threads%s", engine_url_memory(e->cfg.db_url) ?
		    " (an in-memory database has one connection; use "
		    "sqlite:PATH)" : "");
		return (-1);
	}
	if (e->cfg.resume)
		engine_takeover_dead(e);
	if (pthread_create(&e->thread, NULL, engine_thread, e) != 0) {
		xasprintf(cause, "pthread_create: %s", strerror(errno));
		return (-1);
	}
	e->running = 1;
	/* The outbox's sender and the reapers, each a thread. */
	if (engine_outbox_start(e, cause) != 0 ||
	    engine_reap_start(e, cause) != 0) {
		engine_stop(e, 0);
		return (-1);
	}
	return (0);
}

/*
 * Stop: no new claims; in-flight actions get up to grace_ms to finish
 * and have their results recorded; then leases are given back so
 * another engine can continue at once.
 */
void
engine_stop(struct engine *e, int64_t grace_ms)
{
	int64_t	 end = time_mono_ms() + grace_ms;

	if (!e->running)
		return;
	atomic_store(&e->stopping, 1);
	engine_reap_stop(e);
	engine_poke(e);
	pthread_join(e->thread, NULL);
	e->running = 0;
	while (e->io != NULL && action_io_inflight(e->io) > 0 &&
	    time_mono_ms() < end)
		engine_loop_once(e, 20);
	/* A last pass over completions already queued. */
	engine_loop_once(e, 0);
	engine_pending_drop(e);
	/* Then the sender, which may have been told of those. */
	engine_outbox_stop(e);
	while (e->loaded != NULL)
		engine_exec_unload(e, e->loaded);
}

/* See engine.h. */
enum store_rc
engine_run_until(struct engine *e, const char *id, int64_t timeout_ms,
    struct store_exec **out)
{
	struct exec_rt		*rt;
	struct store_exec	*ex = NULL;
	int64_t			 end = time_mono_ms() + timeout_ms;
	enum store_rc		 rc;
	enum store_state	 st;

	if (out != NULL)
		*out = NULL;
	(void)engine_takeover(e, id);
	engine_poke(e);
	for (;;) {
		engine_loop_once(e, 100);
		rt = engine_exec_find(e, id);
		if (rt != NULL && !rt->finished && rt->state != STATE_PAUSED)
			goto next;
		if (rt != NULL && rt->state == STATE_PAUSED) {
			/* Paused: wait for running actions to settle. */
			size_t i;
			int busy = 0;
			for (i = 0; i < rt->ntasks; i++)
				if (rt->tasks[i]->state == STATE_RUNNING)
					busy = 1;
			if (busy)
				goto next;
		}
		rc = store_exec_load(e->st, id, &ex);
		if (rc != STORE_OK)
			return (rc);
		st = store_state_parse(ex->state);
		if (STATE_FINAL(st) || st == STATE_PAUSED) {
			/* Let completions of this pass be recorded. */
			engine_loop_once(e, 0);
			if (out != NULL)
				*out = ex;
			else
				store_exec_free(ex);
			return (STORE_OK);
		}
		store_exec_free(ex);
		ex = NULL;
next:
		if (timeout_ms > 0 && time_mono_ms() >= end)
			break;
	}
	if (out != NULL)
		(void)store_exec_load(e->st, id, out);
	return (STORE_UNAVAILABLE);
}
