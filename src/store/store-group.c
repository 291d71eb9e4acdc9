/*
 * store-group.c -- group commit for threads that each commit a small
 * change set at about the same time (the alarm intake's HTTP threads):
 * a thread queues its change set; when no commit of the group is under
 * way it leads, taking every change set queued and applying them in one
 * transaction on its own connection, each all or nothing
 * (store_tx_commit_many); the others wait for their outcome.  While one
 * leads, the next change sets gather for the next one, so a busy group
 * pays one transaction (one WAL write, one fsync) for many.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

#define GROUP_MAX	256	/* change sets in one transaction */

/* One change set waiting for its outcome. */
struct group_wait {
	struct store_tx		*tx;
	enum store_rc		 rc;
	int			 done;
	char			 err[256];	/* the leader's error text */
	struct group_wait	*next;
};

struct store_group {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;		/* a batch was committed */
	struct group_wait	*head;
	struct group_wait	*tail;
	int			 leading;	/* a commit is under way */
	uint64_t		 commits;	/* transactions, for tests */
	uint64_t		 sets;		/* change sets in them */
};

struct store_group *
store_group_create(void)
{
	struct store_group	*g;

	g = xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->mtx, NULL);
	pthread_cond_init(&g->cond, NULL);
	return (g);
}

void
store_group_free(struct store_group *g)
{
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mtx);
	free(g);
}

/* Commit the queued change sets on st (g->mtx held, then released). */
static void
group_lead(struct store_group *g, struct store *st)
{
	struct group_wait	*batch[GROUP_MAX], *w;
	struct store_tx		*txs[GROUP_MAX];
	enum store_rc		 rcs[GROUP_MAX];
	size_t			 n = 0, i;

	g->leading = 1;
	while ((w = g->head) != NULL && n < GROUP_MAX) {
		g->head = w->next;
		batch[n] = w;
		txs[n++] = w->tx;
	}
	if (g->head == NULL)
		g->tail = NULL;
	pthread_mutex_unlock(&g->mtx);

	(void)store_tx_commit_many(st, txs, n, rcs);

	pthread_mutex_lock(&g->mtx);
	for (i = 0; i < n; i++) {
		batch[i]->rc = rcs[i];
		if (rcs[i] != STORE_OK)
			snprintf(batch[i]->err, sizeof batch[i]->err, "%s",
			    store_error(st));
		batch[i]->done = 1;
	}
	g->commits++;
	g->sets += n;
	g->leading = 0;
	pthread_cond_broadcast(&g->cond);
}

/*
 * Commit tx with the change sets of other threads arriving meanwhile,
 * each all or nothing; returns its own outcome (see store_tx_commit()),
 * its error text on st.
 */
enum store_rc
store_group_commit(struct store_group *g, struct store *st,
    struct store_tx *tx)
{
	struct group_wait	 me;

	memset(&me, 0, sizeof me);
	me.tx = tx;
	pthread_mutex_lock(&g->mtx);
	if (g->tail != NULL)
		g->tail->next = &me;
	else
		g->head = &me;
	g->tail = &me;
	while (!me.done) {
		if (!g->leading)
			group_lead(g, st);
		else
			pthread_cond_wait(&g->cond, &g->mtx);
	}
	pthread_mutex_unlock(&g->mtx);
	if (me.rc != STORE_OK)
		store_set_error(st, "%s", me.err);
	return (me.rc);
}

/* Transactions made and change sets they held, since the start. */
void
store_group_stats(struct store_group *g, uint64_t *commits, uint64_t *sets)
{
	pthread_mutex_lock(&g->mtx);
	*commits = g->commits;
	*sets = g->sets;
	pthread_mutex_unlock(&g->mtx);
}
