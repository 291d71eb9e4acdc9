/*
 * actions-io.c -- the I/O loop: one thread that drives a curl multi
 * handle and a heap of timers, so that actions waiting on the network or
 * on a delay hold no engine worker.
 *
 * Any thread may submit work: it is queued under the mutex and the loop
 * is woken.  libcurl is loaded only for the first transfer (std.http
 * loads it before making its easy handle): until then the loop has no
 * multi handle and sleeps on a condition variable, signalled by
 * submitters; once the loop has made the multi handle (on its thread),
 * it waits in curl_multi_poll and is woken with curl_multi_wakeup().
 * Only the loop thread touches the multi handle and the easy handles
 * added to it, and only it calls completion callbacks, always without
 * the mutex held (a callback may submit more work).  Connections stay in
 * the multi handle's cache, so requests to the same host reuse them
 * (keep-alive).
 */
#include "config.h"

#include <sys/queue.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

#define ACTION_IO_STOPPING	"engine stopping"
/* Longest poll without a timer due; wakeups cut it short anyway. */
#define ACTION_IO_MAX_WAIT	1000

/* A pending completion: fires at due (monotonic ms). */
struct action_timer {
	int64_t			 due;
	uint64_t		 seq;		/* FIFO among equal dues */
	int			 ok;
	json_t			*result;	/* owned until fired */
	action_done_cb		 done;
	void			*arg;
};

TAILQ_HEAD(action_xfers, action_xfer);

/*
 * The loop.  Under mutex: queue, timers, ntimers, seq, stopping and
 * inflight.  Loop thread only: active, and multi, which it sets under
 * the mutex so that submitters know how to wake it (cond while multi is
 * NULL, curl_multi_wakeup after).  inflight counts queued and active
 * transfers plus timers; nactive <= max_inflight.
 */
struct action_io {
	pthread_t		  thread;
	pthread_mutex_t		  mutex;
	pthread_cond_t		  cond;		/* wakes a loop without multi */
	CURLM			 *multi;	/* NULL until the first transfer */
	size_t			  max_inflight;
	size_t			  max_body;

	struct action_xfers	  queue;	/* submitted, not added */
	struct action_xfers	  active;	/* in the multi handle */
	size_t			  nactive;

	struct action_timer	**timers;	/* min-heap on (due, seq) */
	size_t			  ntimers;
	size_t			  timers_cap;
	uint64_t		  seq;

	size_t			  inflight;
	int			  stopping;
};

static void	*action_io_main(void *);
static int	 action_io_timer_before(struct action_timer *,
		     struct action_timer *);
static void	 action_io_timer_push(struct action_io *,
		     struct action_timer *);
static struct action_timer *action_io_timer_pop(struct action_io *);
static void	 action_io_drain(struct action_io *);
static void	 action_io_wake(struct action_io *, CURLM *);
static int	 action_io_multi(struct action_io *, struct action_xfers *);
static void	 action_io_wait(struct action_io *);

/* Start the loop thread; libcurl is not loaded until a transfer comes. */
struct action_io *
action_io_start(size_t max_inflight, char **cause)
{
	struct action_io	*io;
	pthread_condattr_t	 attr;
	int			 error;

	*cause = NULL;
	io = xcalloc(1, sizeof *io);
	io->max_inflight = max_inflight == 0 ? ACTION_IO_MAX_INFLIGHT :
	    max_inflight;
	io->max_body = ACTION_HTTP_MAX_BODY;
	TAILQ_INIT(&io->queue);
	TAILQ_INIT(&io->active);
	pthread_mutex_init(&io->mutex, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&io->cond, &attr);
	pthread_condattr_destroy(&attr);
	if ((error = pthread_create(&io->thread, NULL, action_io_main,
	    io)) != 0) {
		xasprintf(cause, "pthread_create: %s", strerror(error));
		pthread_cond_destroy(&io->cond);
		pthread_mutex_destroy(&io->mutex);
		free(io);
		return (NULL);
	}
	return (io);
}

/*
 * Wake the loop after a change made under the mutex; multi is io->multi
 * as read under it.  A NULL multi means the loop will see the change
 * under the mutex before it sleeps on the condition variable.
 */
static void
action_io_wake(struct action_io *io, CURLM *multi)
{
	if (multi != NULL)
		curl_multi_wakeup(multi);
	else
		pthread_cond_signal(&io->cond);
}

/*
 * Stop the loop: it completes everything still pending with "engine
 * stopping" on its own thread, then exits; free it all.
 */
void
action_io_stop(struct action_io *io)
{
	CURLM	*multi;

	if (io == NULL)
		return;
	pthread_mutex_lock(&io->mutex);
	io->stopping = 1;
	multi = io->multi;
	pthread_cond_signal(&io->cond);
	pthread_mutex_unlock(&io->mutex);
	if (multi != NULL)
		curl_multi_wakeup(multi);
	pthread_join(io->thread, NULL);

	if (io->multi != NULL)
		curl_multi_cleanup(io->multi);
	pthread_cond_destroy(&io->cond);
	pthread_mutex_destroy(&io->mutex);
	free(io->timers);
	free(io);
}

/* Number of transfers and timers not yet completed. */
size_t
action_io_inflight(struct action_io *io)
{
	size_t	n;

	if (io == NULL)
		return (0);
	pthread_mutex_lock(&io->mutex);
	n = io->inflight;
	pthread_mutex_unlock(&io->mutex);
	return (n);
}

/* Set the response body cap for transfers submitted from now on. */
void
action_io_set_max_body(struct action_io *io, size_t max)
{
	pthread_mutex_lock(&io->mutex);
	io->max_body = max == 0 ? ACTION_HTTP_MAX_BODY : max;
	pthread_mutex_unlock(&io->mutex);
}

/* The response body cap. */
size_t
action_io_max_body(struct action_io *io)
{
	size_t	max;

	pthread_mutex_lock(&io->mutex);
	max = io->max_body;
	pthread_mutex_unlock(&io->mutex);
	return (max);
}

/* TLS checks from a "verify" input: true, false or a CA file. */
void
action_xfer_verify(CURL *e, json_t *v)
{
	if (json_is_string(v) && action_arg_bool(v, -1) == -1)
		curl_easy_setopt(e, CURLOPT_CAINFO, json_string_value(v));
	else if (!action_arg_bool(v, 1)) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* Queue a transfer for the loop; it finishes at once if stopping. */
void
action_io_submit(struct action_io *io, struct action_xfer *x)
{
	CURLM	*multi;

	x->io = io;
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	pthread_mutex_lock(&io->mutex);
	if (io->stopping) {
		pthread_mutex_unlock(&io->mutex);
		x->finish(x, CURLE_ABORTED_BY_CALLBACK, 1);
		return;
	}
	TAILQ_INSERT_TAIL(&io->queue, x, entry);
	io->inflight++;
	multi = io->multi;
	pthread_mutex_unlock(&io->mutex);
	action_io_wake(io, multi);
}

/* Complete (ok, result) after ms milliseconds on the loop thread. */
void
action_io_after(struct action_io *io, int64_t ms, int ok, json_t *result,
    action_done_cb done, void *arg)
{
	struct action_timer	*t;
	CURLM			*multi;

	if (io == NULL) {
		json_decref(result);
		done(arg, 0, json_string("no I/O loop to wait in"));
		return;
	}
	t = xcalloc(1, sizeof *t);
	t->due = time_mono_ms() + (ms > 0 ? ms : 0);
	t->ok = ok;
	t->result = result;
	t->done = done;
	t->arg = arg;

	pthread_mutex_lock(&io->mutex);
	if (io->stopping) {
		pthread_mutex_unlock(&io->mutex);
		json_decref(result);
		free(t);
		done(arg, 0, json_string(ACTION_IO_STOPPING));
		return;
	}
	t->seq = io->seq++;
	action_io_timer_push(io, t);
	io->inflight++;
	multi = io->multi;
	pthread_mutex_unlock(&io->mutex);
	action_io_wake(io, multi);
}

/* Heap order: earlier due first, then submission order. */
static int
action_io_timer_before(struct action_timer *a, struct action_timer *b)
{
	if (a->due != b->due)
		return (a->due < b->due);
	return (a->seq < b->seq);
}

/* Add a timer to the heap (mutex held). */
static void
action_io_timer_push(struct action_io *io, struct action_timer *t)
{
	struct action_timer	*tmp;
	size_t			 i, parent;

	if (io->ntimers == io->timers_cap) {
		io->timers_cap = io->timers_cap == 0 ? 64 : io->timers_cap * 2;
		io->timers = xreallocarray(io->timers, io->timers_cap,
		    sizeof *io->timers);
	}
	i = io->ntimers++;
	io->timers[i] = t;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!action_io_timer_before(io->timers[i], io->timers[parent]))
			break;
		tmp = io->timers[i];
		io->timers[i] = io->timers[parent];
		io->timers[parent] = tmp;
		i = parent;
	}
}

/* Remove and return the earliest timer (mutex held); NULL if none. */
static struct action_timer *
action_io_timer_pop(struct action_io *io)
{
	struct action_timer	*top, *tmp;
	size_t			 i, l, r, m;

	if (io->ntimers == 0)
		return (NULL);
	top = io->timers[0];
	io->timers[0] = io->timers[--io->ntimers];
	i = 0;
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < io->ntimers &&
		    action_io_timer_before(io->timers[l], io->timers[m]))
			m = l;
		if (r < io->ntimers &&
		    action_io_timer_before(io->timers[r], io->timers[m]))
			m = r;
		if (m == i)
			break;
		tmp = io->timers[i];
		io->timers[i] = io->timers[m];
		io->timers[m] = tmp;
		i = m;
	}
	return (top);
}

/*
 * The loop thread.  Each turn: under the mutex, move queued transfers
 * into the multi handle while there is room and collect due timers;
 * without it, fire the timers, make the multi handle for the first
 * transfer, let curl work and finish what is done; then poll until the
 * next timer, a socket event or a wakeup (or, before the first
 * transfer, wait on the condition variable).
 */
static void *
action_io_main(void *arg)
{
	struct action_io	*io = arg;
	struct action_xfers	 add;
	struct action_xfer	*x;
	struct action_timer	*t, *fired = NULL, **fv = NULL;
	size_t			 nfired, fcap = 0, i;
	int64_t			 now, wait;
	int			 running, left, busy;
	CURLMsg			*msg;
	CURLcode		 rc;

	for (;;) {
		TAILQ_INIT(&add);
		nfired = 0;
		busy = 0;

		pthread_mutex_lock(&io->mutex);
		if (io->stopping) {
			pthread_mutex_unlock(&io->mutex);
			break;
		}
		while (io->nactive < io->max_inflight &&
		    (x = TAILQ_FIRST(&io->queue)) != NULL) {
			TAILQ_REMOVE(&io->queue, x, entry);
			TAILQ_INSERT_TAIL(&add, x, entry);
			io->nactive++;
		}
		now = time_mono_ms();
		while (io->ntimers > 0 && io->timers[0]->due <= now) {
			t = action_io_timer_pop(io);
			if (nfired == fcap) {
				fcap = fcap == 0 ? 64 : fcap * 2;
				fv = xreallocarray(fv, fcap, sizeof *fv);
			}
			fv[nfired++] = t;
			io->inflight--;
		}
		wait = ACTION_IO_MAX_WAIT;
		if (io->ntimers > 0 && io->timers[0]->due - now < wait)
			wait = io->timers[0]->due - now;
		pthread_mutex_unlock(&io->mutex);

		/* Fire due timers, in order. */
		for (i = 0; i < nfired; i++) {
			fired = fv[i];
			fired->done(fired->arg, fired->ok, fired->result);
			free(fired);
		}
		if (nfired != 0)
			busy = 1;

		/* Start new transfers. */
		if (!TAILQ_EMPTY(&add) && io->multi == NULL &&
		    action_io_multi(io, &add) != 0)
			busy = 1;
		while ((x = TAILQ_FIRST(&add)) != NULL) {
			TAILQ_REMOVE(&add, x, entry);
			TAILQ_INSERT_TAIL(&io->active, x, entry);
			if (curl_multi_add_handle(io->multi, x->easy) !=
			    CURLM_OK) {
				TAILQ_REMOVE(&io->active, x, entry);
				pthread_mutex_lock(&io->mutex);
				io->nactive--;
				io->inflight--;
				pthread_mutex_unlock(&io->mutex);
				x->finish(x, CURLE_FAILED_INIT, 0);
			}
			busy = 1;
		}

		/* No multi handle (no transfer yet): wait on the cond. */
		if (io->multi == NULL) {
			if (!busy)
				action_io_wait(io);
			continue;
		}

		/* Let curl work, then finish completed transfers. */
		curl_multi_perform(io->multi, &running);
		while ((msg = curl_multi_info_read(io->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			rc = msg->data.result;
			x = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			curl_multi_remove_handle(io->multi, msg->easy_handle);
			TAILQ_REMOVE(&io->active, x, entry);
			pthread_mutex_lock(&io->mutex);
			io->nactive--;
			io->inflight--;
			pthread_mutex_unlock(&io->mutex);
			x->finish(x, rc, 0);
			busy = 1;
		}

		/* Something changed: go round again before sleeping. */
		if (busy)
			wait = 0;
		if (wait < 0)
			wait = 0;
		curl_multi_poll(io->multi, NULL, 0, (int)wait, NULL);
	}

	action_io_drain(io);
	free(fv);
	return (NULL);
}

/*
 * Make the multi handle for the first transfers (libcurl is loaded:
 * their easy handles come from it).  If curl_multi_init fails, finish
 * them with CURLE_FAILED_INIT and return -1; the next transfer retries.
 */
static int
action_io_multi(struct action_io *io, struct action_xfers *add)
{
	struct action_xfer	*x;
	CURLM			*multi;

	if ((multi = curl_multi_init()) != NULL) {
		pthread_mutex_lock(&io->mutex);
		io->multi = multi;
		pthread_mutex_unlock(&io->mutex);
		return (0);
	}
	log_warnx("I/O loop: curl_multi_init failed");
	while ((x = TAILQ_FIRST(add)) != NULL) {
		TAILQ_REMOVE(add, x, entry);
		pthread_mutex_lock(&io->mutex);
		io->nactive--;
		io->inflight--;
		pthread_mutex_unlock(&io->mutex);
		x->finish(x, CURLE_FAILED_INIT, 0);
	}
	return (-1);
}

/*
 * Wait without a multi handle: until the next timer is due, a transfer
 * is queued or the loop is stopping, at most ACTION_IO_MAX_WAIT ms.
 * The conditions are checked under the mutex, so no signal is lost.
 */
static void
action_io_wait(struct action_io *io)
{
	struct timespec	ts;
	int64_t		now, until;

	pthread_mutex_lock(&io->mutex);
	now = time_mono_ms();
	until = now + ACTION_IO_MAX_WAIT;
	if (io->ntimers > 0 && io->timers[0]->due < until)
		until = io->timers[0]->due;
	if (!io->stopping && TAILQ_EMPTY(&io->queue) && until > now) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (until - now) / 1000;
		ts.tv_nsec += ((until - now) % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&io->cond, &io->mutex, &ts);
	}
	pthread_mutex_unlock(&io->mutex);
}

/*
 * Stopping (on the loop thread): complete everything still pending with
 * "engine stopping".  Nothing more can be queued since stopping is set.
 */
static void
action_io_drain(struct action_io *io)
{
	struct action_xfers	 queue;
	struct action_xfer	*x;
	struct action_timer	*t;

	while ((x = TAILQ_FIRST(&io->active)) != NULL) {
		TAILQ_REMOVE(&io->active, x, entry);
		if (io->multi != NULL)
			curl_multi_remove_handle(io->multi, x->easy);
		x->finish(x, CURLE_ABORTED_BY_CALLBACK, 1);
	}

	pthread_mutex_lock(&io->mutex);
	TAILQ_INIT(&queue);
	TAILQ_CONCAT(&queue, &io->queue, entry);
	pthread_mutex_unlock(&io->mutex);
	while ((x = TAILQ_FIRST(&queue)) != NULL) {
		TAILQ_REMOVE(&queue, x, entry);
		x->finish(x, CURLE_ABORTED_BY_CALLBACK, 1);
	}

	for (;;) {
		pthread_mutex_lock(&io->mutex);
		t = action_io_timer_pop(io);
		pthread_mutex_unlock(&io->mutex);
		if (t == NULL)
			break;
		json_decref(t->result);
		t->done(t->arg, 0, json_string(ACTION_IO_STOPPING));
		free(t);
	}

	pthread_mutex_lock(&io->mutex);
	io->nactive = 0;
	io->inflight = 0;
	pthread_mutex_unlock(&io->mutex);
}
