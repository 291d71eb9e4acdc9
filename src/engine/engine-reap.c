/*
 * engine-reap.c -- the reapers: user messages past their expiry
 * (message-ttl), and finished executions with everything under them,
 * and notifications sent or given up, once older than
 * execution-retention.  One thread runs them all, each at its interval.
 *
 * A round of a reaper borrows a connection of the engine's pool (never
 * the loop's), takes the reapers' lock of its kind, cluster-wide (a
 * PostgreSQL advisory lock: on several engines one reaps at a time, the
 * others skip the round, so turning reapers on everywhere is safe), and
 * deletes batch after batch, each a short transaction of its own, until
 * a batch comes back short or the engine stops.  Neither the engine's
 * loop nor the store is held for long.
 *
 * Stored alarms go the same way after alarm-retention, with their
 * events and verdicts, batch by batch (alarm-reap-batch-size per
 * transaction): not those still waiting for a decision, nor those whose
 * hold is in force (a key held until resolved, or once-within not yet
 * over); holds and limit counters long over, and refused requests as
 * old, with them.
 *
 * Masakari's periodic tasks ride along (masakari-retry-interval): a
 * notification whose recovery ended in error is recovered once more
 * (the whole flow, as Masakari's process_unfinished_notifications
 * does; if it fails again it is "failed"), and one still new or in
 * error after masakari-expire is "failed".
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine-int.h"

/*
 * A reaper: the name of its lock, its interval and batch in the
 * engine's settings (an interval <= 0: it does not run), and one batch
 * (*more: another may follow).
 */
struct reap_job {
	const char	*name;
	int64_t		 (*interval)(const struct engine_config *);
	enum store_rc	 (*batch)(struct engine *, struct store *, int *more);
};

struct engine_reaper {
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	int			 stop;		/* mtx */
};

static int64_t	 reap_messages_every(const struct engine_config *);
static int64_t	 reap_old_every(const struct engine_config *);
static enum store_rc reap_messages(struct engine *, struct store *, int *);
static enum store_rc reap_executions(struct engine *, struct store *,
		     int *);
static enum store_rc reap_notifications(struct engine *, struct store *,
		     int *);
static int64_t	 reap_alarms_every(const struct engine_config *);
static enum store_rc reap_alarms(struct engine *, struct store *, int *);
static int64_t	 reap_masakari_every(const struct engine_config *);
static enum store_rc reap_masakari(struct engine *, struct store *, int *);

#define REAP_MASAKARI_BATCH	20

static const struct reap_job reap_jobs[] = {
	{ "reap-messages", reap_messages_every, reap_messages },
	{ "reap-executions", reap_old_every, reap_executions },
	{ "reap-notifications", reap_old_every, reap_notifications },
	{ "reap-alarms", reap_alarms_every, reap_alarms },
	{ "masakari-notifications", reap_masakari_every, reap_masakari },
};

static int64_t
reap_messages_every(const struct engine_config *c)
{
	return (c->message_reap_interval_ms);
}

/* Old executions and notifications: only with a retention. */
static int64_t
reap_old_every(const struct engine_config *c)
{
	return (c->exec_retention_ms > 0 ? c->exec_reap_interval_ms : 0);
}

/* Messages expired by the database's clock. */
static enum store_rc
reap_messages(struct engine *e, struct store *st, int *more)
{
	enum store_rc	 rc;
	size_t		 n = 0;

	rc = store_message_reap(st, store_now(st), e->cfg.message_reap_batch,
	    &n);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_MESSAGES], n);
	*more = rc == STORE_OK && n == e->cfg.message_reap_batch;
	if (n > 0)
		log_debug("reaper: %zu expired messages deleted", n);
	return (rc);
}

static enum store_rc
reap_executions(struct engine *e, struct store *st, int *more)
{
	struct store_purged	 p;
	enum store_rc		 rc;

	rc = store_exec_purge(st, store_now(st) - e->cfg.exec_retention_ms,
	    e->cfg.exec_reap_batch, &p);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_EXECUTIONS], p.executions);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_TASKS], p.tasks);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ACTIONS], p.actions);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_EVENTS], p.events);
	*more = rc == STORE_OK && p.executions > 0;
	if (p.executions > 0)
		log_info("reaper: %zu finished executions deleted (%zu tasks, "
		    "%zu action executions, %zu events)", p.executions,
		    p.tasks, p.actions, p.events);
	return (rc);
}

static enum store_rc
reap_notifications(struct engine *e, struct store *st, int *more)
{
	enum store_rc	 rc;
	size_t		 n = 0;

	rc = store_outbox_purge(st, store_now(st) - e->cfg.exec_retention_ms,
	    e->cfg.exec_reap_batch, &n);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_NOTIFICATIONS], n);
	*more = rc == STORE_OK && n == e->cfg.exec_reap_batch;
	return (rc);
}

/* Old alarms: only with a retention. */
static int64_t
reap_alarms_every(const struct engine_config *c)
{
	return (c->alarm_retention_ms > 0 ? c->alarm_reap_interval_ms : 0);
}

static enum store_rc
reap_alarms(struct engine *e, struct store *st, int *more)
{
	struct store_alarm_purged	 p;
	enum store_rc			 rc;
	size_t				 b = e->cfg.alarm_reap_batch;

	rc = store_alarm_purge(st, store_now(st) - e->cfg.alarm_retention_ms,
	    b, &p);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ALARMS], p.alarms);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ALARM_EVENTS], p.events);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ALARM_DECISIONS],
	    p.decisions);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ALARM_HOLDS], p.holds);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ALARM_LIMITS], p.limits);
	atomic_fetch_add(&e->stats[ENGINE_REAPED_ALARM_AUTH],
	    p.auth_failures);
	*more = rc == STORE_OK && (p.alarms == b || p.holds == b ||
	    p.limits == b || p.auth_failures == b);
	if (p.alarms > 0)
		log_info("reaper: %zu old alarms deleted (%zu events, %zu "
		    "verdicts)", p.alarms, p.events, p.decisions);
	return (rc);
}

static int64_t
reap_masakari_every(const struct engine_config *c)
{
	return (c->masakari_retry_ms);
}

/* Start the flow of a notification whose recovery failed once more. */
static void
reap_masakari_retry(struct engine *e, struct store *st,
    const struct store_notification *n)
{
	struct engine_start_opts	 o;
	struct store_exec		*ex = NULL;
	struct store_tx			*tx;
	enum store_rc			 rc;
	char				 id[UUID_STRLEN], *cause = NULL, *desc;

	if (store_exec_load(st, n->execution_id, &ex) != STORE_OK)
		return;
	uuid_make(id);
	tx = store_tx_create();
	store_tx_notification_retry(tx, n->notification_uuid, id);
	xasprintf(&desc, "Masakari notification %s (%s of %s), tried again",
	    n->notification_uuid, n->type, n->hostname);
	memset(&o, 0, sizeof o);
	o.workflow = ex->workflow_name;
	o.input = ex->input;
	o.params = ex->params;
	o.id = id;
	o.description = desc;
	o.request_id = n->request_id;
	o.also = tx;
	rc = engine_exec_start(e, &o, NULL, &cause);
	if (rc == STORE_OK)
		log_info("notification %s: its recovery failed; running %s "
		    "again (execution %s)", n->notification_uuid,
		    ex->workflow_name, id);
	else if (rc != STORE_CONFLICT)
		log_warnx("notification %s: cannot run its recovery again: %s",
		    n->notification_uuid, cause != NULL ? cause : "?");
	free(cause);
	free(desc);
	store_tx_free(tx);
	store_exec_free(ex);
}

/* Masakari's periodic tasks (see the top of the file). */
static enum store_rc
reap_masakari(struct engine *e, struct store *st, int *more)
{
	struct store_notification	**v = NULL;
	enum store_rc			 rc;
	int64_t				 now = store_now(st);
	size_t				 n = 0, i, k = 0;

	rc = store_notifications_to_retry(st, now - e->cfg.masakari_retry_ms,
	    REAP_MASAKARI_BATCH, &v, &n);
	for (i = 0; i < n; i++) {
		reap_masakari_retry(e, st, v[i]);
		store_notification_free(v[i]);
	}
	free(v);
	if (rc == STORE_OK && e->cfg.masakari_expire_ms > 0) {
		rc = store_notifications_expire(st, now -
		    e->cfg.masakari_expire_ms, &k);
		if (k > 0)
			log_info("%zu notifications expired (failed)", k);
	}
	*more = rc == STORE_OK && n == REAP_MASAKARI_BATCH;
	return (rc);
}

/* Has the engine asked the reapers to stop? */
static int
reap_stopping(struct engine_reaper *r)
{
	int	 stop;

	pthread_mutex_lock(&r->mtx);
	stop = r->stop;
	pthread_mutex_unlock(&r->mtx);
	return (stop);
}

/* One round of a reaper, under its lock. */
static void
reap_round(struct engine *e, const struct reap_job *j)
{
	struct store	*st;
	char		*cause = NULL;
	enum store_rc	 rc = STORE_OK;
	int		 got = 0, more = 1;

	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		log_debug("reaper %s: %s", j->name, cause);
		free(cause);
		return;
	}
	if (store_reap_lock(st, j->name, &got) != STORE_OK || !got) {
		log_debug("reaper %s: %s", j->name, got ? store_error(st) :
		    "another engine reaps");
		store_pool_put(e->pool);
		return;
	}
	while (more && rc == STORE_OK && !reap_stopping(e->reaper))
		rc = j->batch(e, st, &more);
	if (rc != STORE_OK)
		log_warnx("reaper %s: %s", j->name, store_error(st));
	store_reap_unlock(st, j->name);
	store_pool_put(e->pool);
}

/* The reapers' thread: each runs at its interval until stopped. */
static void *
reap_thread(void *arg)
{
	struct engine		*e = arg;
	struct engine_reaper	*r = e->reaper;
	int64_t			 next[nitems(reap_jobs)], every, now, wake;
	struct timespec		 ts;
	size_t			 i;

	now = time_mono_ms();
	for (i = 0; i < nitems(reap_jobs); i++)
		next[i] = now + reap_jobs[i].interval(&e->cfg);
	for (;;) {
		now = time_mono_ms();
		wake = now + 3600000;
		for (i = 0; i < nitems(reap_jobs); i++) {
			if ((every = reap_jobs[i].interval(&e->cfg)) <= 0)
				continue;
			if (next[i] <= now) {
				reap_round(e, &reap_jobs[i]);
				next[i] = time_mono_ms() + every;
			}
			if (next[i] < wake)
				wake = next[i];
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		wake -= time_mono_ms();
		if (wake < 0)
			wake = 0;
		ts.tv_sec += wake / 1000;
		ts.tv_nsec += (wake % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&r->mtx);
		if (!r->stop)
			pthread_cond_timedwait(&r->cond, &r->mtx, &ts);
		if (r->stop) {
			pthread_mutex_unlock(&r->mtx);
			break;
		}
		pthread_mutex_unlock(&r->mtx);
	}
	return (NULL);
}

/* Start the reapers' thread when any reaper runs (see engine-int.h). */
int
engine_reap_start(struct engine *e, char **cause)
{
	struct engine_reaper	*r;
	size_t			 i;
	int			 any = 0;

	for (i = 0; i < nitems(reap_jobs); i++)
		any |= reap_jobs[i].interval(&e->cfg) > 0;
	if (!any || e->reaper != NULL)
		return (0);
	r = xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mtx, NULL);
	pthread_cond_init(&r->cond, NULL);
	e->reaper = r;
	if (pthread_create(&r->thread, NULL, reap_thread, e) != 0) {
		xasprintf(cause, "reaper: pthread_create: %s",
		    strerror(errno));
		e->reaper = NULL;
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->mtx);
		free(r);
		return (-1);
	}
	return (0);
}

/* Stop the reapers: a round in progress ends after its batch. */
void
engine_reap_stop(struct engine *e)
{
	struct engine_reaper	*r = e->reaper;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mtx);
	r->stop = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mtx);
	pthread_join(r->thread, NULL);
	e->reaper = NULL;
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mtx);
	free(r);
}
