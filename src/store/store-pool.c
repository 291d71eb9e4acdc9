/*
 * store-pool.c -- the one road to the store for every thread that is not
 * the engine loop (HTTP handlers, live streams, watchers, reapers, the
 * alarm intake): a bounded pool of connections, opened when first
 * needed and kept.  A thread borrows one connection at a time; borrowing
 * again while it holds one gives the same one, so no thread ever holds
 * two.  When every connection is lent, a borrower waits for one, at most
 * POOL_WAIT_S: a store that holds every connection (a database that
 * stopped answering) is then "unavailable", never a hang.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store-int.h"

#define POOL_WAIT_S	5	/* a borrower waits at most this long */

/*
 * What a thread holds of a pool, while it holds one: its connection and
 * how many borrows are not given back yet.
 */
struct pool_loan {
	struct store	*st;
	int		 depth;
};

struct store_pool {
	char		*url;
	size_t		 max;		/* connections at most */
	struct store	*wrapped;	/* the caller's, not closed here */
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;		/* a connection came back */
	struct store	**idle;
	size_t		 nidle;
	size_t		 nopen;		/* idle and lent, and being opened */
	pthread_key_t	 loan;		/* this thread's pool_loan */
};

/* A pool with no connection open yet. */
static struct store_pool *
pool_new(const char *url, size_t max)
{
	struct store_pool	*p;
	pthread_condattr_t	 ca;

	p = xcalloc(1, sizeof *p);
	p->url = url != NULL ? xstrdup(url) : NULL;
	p->max = max > 0 ? max : 1;
	p->idle = xcalloc(p->max, sizeof *p->idle);
	pthread_mutex_init(&p->mtx, NULL);
	/* A borrower's deadline is on the monotonic clock (store_pool_get). */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_key_create(&p->loan, free) != 0)
		fatalx("%s: pthread_key_create", __func__);
	return (p);
}

/* A pool of at most max connections to url (see above). */
struct store_pool *
store_pool_create(const char *url, size_t max)
{
	return (pool_new(url, max));
}

/*
 * A pool lending one connection the caller keeps (an in-memory database
 * has only one; so has in-process use): borrowers take turns.
 */
struct store_pool *
store_pool_wrap(struct store *st)
{
	struct store_pool	*p;

	p = pool_new(NULL, 1);
	p->wrapped = st;
	p->idle[p->nidle++] = st;
	p->nopen = 1;
	return (p);
}

/* Close the pool's connections; none may be lent.  NULL: no-op. */
void
store_pool_free(struct store_pool *p)
{
	if (p == NULL)
		return;
	while (p->nidle > 0) {
		if (p->idle[--p->nidle] != p->wrapped)
			store_close(p->idle[p->nidle]);
	}
	pthread_key_delete(p->loan);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mtx);
	free(p->idle);
	free(p->url);
	free(p);
}

/*
 * Borrow a connection: this thread's own if it holds one, else an idle
 * one, else a new one while fewer than max are open, else wait.  NULL +
 * *cause when a new one cannot be opened, or none came free in time.
 */
struct store *
store_pool_get(struct store_pool *p, char **cause)
{
	struct pool_loan	*l;
	struct store		*st = NULL;
	struct timespec		 until;

	if ((l = pthread_getspecific(p->loan)) != NULL) {
		l->depth++;
		return (l->st);
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += POOL_WAIT_S;
	pthread_mutex_lock(&p->mtx);
	while (p->nidle == 0 && p->nopen >= p->max) {
		if (pthread_cond_timedwait(&p->cond, &p->mtx, &until) ==
		    ETIMEDOUT && p->nidle == 0 && p->nopen >= p->max) {
			pthread_mutex_unlock(&p->mtx);
			xasprintf(cause, "database unavailable: none of the "
			    "%zu connections came free within %d s", p->max,
			    POOL_WAIT_S);
			return (NULL);
		}
	}
	if (p->nidle > 0)
		st = p->idle[--p->nidle];
	else
		p->nopen++;
	pthread_mutex_unlock(&p->mtx);
	if (st == NULL && (st = store_open(p->url, cause)) == NULL) {
		pthread_mutex_lock(&p->mtx);
		p->nopen--;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->mtx);
		return (NULL);
	}
	l = xmalloc(sizeof *l);
	l->st = st;
	l->depth = 1;
	(void)pthread_setspecific(p->loan, l);
	return (st);
}

/* Give back what this thread borrowed last. */
void
store_pool_put(struct store_pool *p)
{
	struct pool_loan	*l;

	if ((l = pthread_getspecific(p->loan)) == NULL)
		fatalx("%s: nothing borrowed", __func__);
	if (--l->depth > 0)
		return;
	(void)pthread_setspecific(p->loan, NULL);
	pthread_mutex_lock(&p->mtx);
	p->idle[p->nidle++] = l->st;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mtx);
	free(l);
}

/* How many connections are open (idle or lent). */
size_t
store_pool_size(struct store_pool *p)
{
	size_t	 n;

	pthread_mutex_lock(&p->mtx);
	n = p->nopen;
	pthread_mutex_unlock(&p->mtx);
	return (n);
}
