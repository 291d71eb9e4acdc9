/*
 * actions-io.c -- the I/O loop: one thread that drives a curl multi
 * handle, sockets of other protocols (jobs: std.ssh) and a heap of
 * timers, so that actions waiting on the network or on a delay hold no
 * engine worker.
 *
 * Any thread may submit work: it is queued under the mutex and the loop
 * is woken by a byte on its wake pipe.  libcurl is loaded only for the
 * first transfer (std.http loads it before making its easy handle):
 * until then the loop has no multi handle and waits with poll(2) on the
 * wake pipe and the jobs' sockets; once the loop has made the multi
 * handle (on its thread), it waits in curl_multi_poll, given the same
 * descriptors as extra ones.  Only the loop thread touches the multi
 * handle, the easy handles added to it and the active jobs, and only it
 * calls completion callbacks, always without the mutex held (a callback
 * may submit more work).  Connections stay in the multi handle's cache,
 * so requests to the same host reuse them (keep-alive).
 *
 * What must block (a name lookup) is offloaded to a short-lived thread
 * of its own, counted so that stopping waits for it.
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
TAILQ_HEAD(action_jobs, action_job);

/* Work offloaded to a thread of its own. */
struct action_offload {
	struct action_io	*io;
	void			(*fn)(void *);
	void			*arg;
};

/*
 * The loop.  Under mutex: queue, jobq, timers, ntimers, seq, stopping,
 * inflight and noffload.  Loop thread only: active, jobs, and multi,
 * which it sets under the mutex.  inflight counts queued and active
 * transfers and jobs plus timers; nactive <= max_inflight.  wake[1] is
 * written (one byte, non-blocking) by whoever changes what the loop
 * waits for; the loop drains wake[0].
 */
struct action_io {
	pthread_t		  thread;
	pthread_mutex_t		  mutex;
	pthread_cond_t		  offload_done;	/* noffload went down */
	int			  wake[2];
	CURLM			 *multi;	/* NULL until the first transfer */
	size_t			  max_inflight;
	size_t			  max_body;

	struct action_xfers	  queue;	/* submitted, not added */
	struct action_xfers	  active;	/* in the multi handle */
	size_t			  nactive;

	struct action_jobs	  jobq;		/* submitted, not started */
	struct action_jobs	  jobs;		/* started */

	struct action_timer	**timers;	/* min-heap on (due, seq) */
	size_t			  ntimers;
	size_t			  timers_cap;
	uint64_t		  seq;

	size_t			  inflight;
	size_t			  noffload;
	int			  stopping;
};

static void	*action_io_main(void *);
static int	 action_io_timer_before(struct action_timer *,
		     struct action_timer *);
static void	 action_io_timer_push(struct action_io *,
		     struct action_timer *);
static struct action_timer *action_io_timer_pop(struct action_io *);
static void	 action_io_drain(struct action_io *);
static void	 action_io_wake(struct action_io *);
static int	 action_io_multi(struct action_io *, struct action_xfers *);
static void	 action_io_wait(struct action_io *, int64_t);
static int	 action_io_job_step(struct action_io *, struct action_job *,
		     short, int);
static void	*action_io_offload_main(void *);

/* Start the loop thread; libcurl is not loaded until a transfer comes. */
struct action_io *
action_io_start(size_t max_inflight, char **cause)
{
	struct action_io	*io;
	int			 error;

	*cause = NULL;
	io = xcalloc(1, sizeof *io);
	io->max_inflight = max_inflight == 0 ? ACTION_IO_MAX_INFLIGHT :
	    max_inflight;
	io->max_body = ACTION_HTTP_MAX_BODY;
	TAILQ_INIT(&io->queue);
	TAILQ_INIT(&io->active);
	TAILQ_INIT(&io->jobq);
	TAILQ_INIT(&io->jobs);
	if (pipe2(io->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		free(io);
		return (NULL);
	}
	pthread_mutex_init(&io->mutex, NULL);
	pthread_cond_init(&io->offload_done, NULL);
	if ((error = pthread_create(&io->thread, NULL, action_io_main,
	    io)) != 0) {
		xasprintf(cause, "pthread_create: %s", strerror(error));
		pthread_cond_destroy(&io->offload_done);
		pthread_mutex_destroy(&io->mutex);
		close(io->wake[0]);
		close(io->wake[1]);
		free(io);
		return (NULL);
	}
	return (io);
}

/*
 * Wake the loop after a change made under the mutex: one byte on the
 * wake pipe (a full pipe already means the loop will wake).
 */
static void
action_io_wake(struct action_io *io)
{
	ssize_t	n;

	do
		n = write(io->wake[1], "", 1);
	while (n == -1 && errno == EINTR);
}

/*
 * Stop the loop: offloaded work finishes first (what it submits then
 * completes at once with "engine stopping"); then the loop completes
 * everything still pending the same way on its own thread, and exits;
 * free it all.
 */
void
action_io_stop(struct action_io *io)
{
	if (io == NULL)
		return;
	pthread_mutex_lock(&io->mutex);
	io->stopping = 1;
	while (io->noffload > 0)
		pthread_cond_wait(&io->offload_done, &io->mutex);
	pthread_mutex_unlock(&io->mutex);
	action_io_wake(io);
	pthread_join(io->thread, NULL);

	if (io->multi != NULL)
		curl_multi_cleanup(io->multi);
	pthread_cond_destroy(&io->offload_done);
	pthread_mutex_destroy(&io->mutex);
	close(io->wake[0]);
	close(io->wake[1]);
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
	pthread_mutex_unlock(&io->mutex);
	action_io_wake(io);
}

/* Queue a job for the loop; it finishes at once if stopping. */
void
action_io_submit_job(struct action_io *io, struct action_job *j)
{
	j->io = io;
	pthread_mutex_lock(&io->mutex);
	if (io->stopping) {
		pthread_mutex_unlock(&io->mutex);
		j->step(j, 0, 1);
		return;
	}
	TAILQ_INSERT_TAIL(&io->jobq, j, entry);
	io->inflight++;
	pthread_mutex_unlock(&io->mutex);
	action_io_wake(io);
}

/* The body of an offload thread: run, then count it out. */
static void *
action_io_offload_main(void *arg)
{
	struct action_offload	*o = arg;
	struct action_io	*io = o->io;

	o->fn(o->arg);
	free(o);
	pthread_mutex_lock(&io->mutex);
	if (--io->noffload == 0)
		pthread_cond_broadcast(&io->offload_done);
	pthread_mutex_unlock(&io->mutex);
	return (NULL);
}

/* Run fn(arg) on a thread of its own; action_io_stop waits for it. */
int
action_io_offload(struct action_io *io, void (*fn)(void *), void *arg,
    char **cause)
{
	struct action_offload	*o;
	pthread_attr_t		 attr;
	pthread_t		 t;
	int			 error;

	o = xcalloc(1, sizeof *o);
	o->io = io;
	o->fn = fn;
	o->arg = arg;
	pthread_mutex_lock(&io->mutex);
	if (io->stopping) {
		pthread_mutex_unlock(&io->mutex);
		free(o);
		xasprintf(cause, "%s", ACTION_IO_STOPPING);
		return (-1);
	}
	io->noffload++;
	pthread_mutex_unlock(&io->mutex);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	error = pthread_create(&t, &attr, action_io_offload_main, o);
	pthread_attr_destroy(&attr);
	if (error != 0) {
		free(o);
		pthread_mutex_lock(&io->mutex);
		if (--io->noffload == 0)
			pthread_cond_broadcast(&io->offload_done);
		pthread_mutex_unlock(&io->mutex);
		xasprintf(cause, "pthread_create: %s", strerror(error));
		return (-1);
	}
	return (0);
}

/* Complete (ok, result) after ms milliseconds on the loop thread. */
void
action_io_after(struct action_io *io, int64_t ms, int ok, json_t *result,
    action_done_cb done, void *arg)
{
	struct action_timer	*t;

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
	pthread_mutex_unlock(&io->mutex);
	action_io_wake(io);
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
 * Step a job: 1 when it waits again (in its place in the list), 0 when
 * it is over (it completed its action and freed itself).  Only a job's
 * own step takes it off the list, so the next one stays valid.
 */
static int
action_io_job_step(struct action_io *io, struct action_job *j,
    short revents, int stopping)
{
	struct action_job	*next;

	/* Off the list while it runs: a job that ends frees itself. */
	next = TAILQ_NEXT(j, entry);
	TAILQ_REMOVE(&io->jobs, j, entry);
	if (j->step(j, revents, stopping)) {
		if (next != NULL)
			TAILQ_INSERT_BEFORE(next, j, entry);
		else
			TAILQ_INSERT_TAIL(&io->jobs, j, entry);
		return (1);
	}
	pthread_mutex_lock(&io->mutex);
	io->inflight--;
	pthread_mutex_unlock(&io->mutex);
	return (0);
}

/*
 * The loop thread.  Each turn: under the mutex, move queued transfers
 * into the multi handle while there is room, take new jobs and collect
 * due timers; without it, fire the timers, start the new jobs, make the
 * multi handle for the first transfer, let curl work and finish what is
 * done, step the jobs whose socket is ready or whose time has come;
 * then wait until the next timer or job time, a socket event or a
 * wakeup.
 */
static void *
action_io_main(void *arg)
{
	struct action_io	*io = arg;
	struct action_xfers	 add;
	struct action_jobs	 newjobs;
	struct action_xfer	*x;
	struct action_job	*j, *jn;
	struct action_timer	*t, *fired = NULL, **fv = NULL;
	size_t			 nfired, fcap = 0, i;
	int64_t			 now, wait;
	int			 running, left, busy;
	CURLMsg			*msg;
	CURLcode		 rc;

	for (;;) {
		TAILQ_INIT(&add);
		TAILQ_INIT(&newjobs);
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
		TAILQ_CONCAT(&newjobs, &io->jobq, entry);
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

		/* Start new jobs: their first step says what they wait for. */
		while ((j = TAILQ_FIRST(&newjobs)) != NULL) {
			TAILQ_REMOVE(&newjobs, j, entry);
			TAILQ_INSERT_TAIL(&io->jobs, j, entry);
			action_io_job_step(io, j, 0, 0);
			busy = 1;
		}

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

		/* Let curl work, then finish completed transfers. */
		if (io->multi != NULL) {
			curl_multi_perform(io->multi, &running);
			while ((msg = curl_multi_info_read(io->multi,
			    &left)) != NULL) {
				if (msg->msg != CURLMSG_DONE)
					continue;
				rc = msg->data.result;
				x = NULL;
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, (char **)&x);
				curl_multi_remove_handle(io->multi,
				    msg->easy_handle);
				TAILQ_REMOVE(&io->active, x, entry);
				pthread_mutex_lock(&io->mutex);
				io->nactive--;
				io->inflight--;
				pthread_mutex_unlock(&io->mutex);
				x->finish(x, rc, 0);
				busy = 1;
			}
		}

		/* Jobs whose time has come; the next job time bounds the wait. */
		now = time_mono_ms();
		for (j = TAILQ_FIRST(&io->jobs); j != NULL; j = jn) {
			jn = TAILQ_NEXT(j, entry);
			if (j->due != 0 && j->due <= now) {
				action_io_job_step(io, j, 0, 0);
				busy = 1;
			}
		}
		TAILQ_FOREACH(j, &io->jobs, entry) {
			if (j->due != 0 && j->due - now < wait)
				wait = j->due - now;
		}

		/* Something changed: go round again before sleeping. */
		if (busy)
			wait = 0;
		if (wait < 0)
			wait = 0;
		action_io_wait(io, wait);
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
 * Wait at most ms milliseconds for the wake pipe or a job's socket: in
 * curl_multi_poll (which also waits for the transfers) once there is a
 * multi handle, with poll(2) before.  Then drain the wake pipe and step
 * the jobs whose socket is ready.
 */
static void
action_io_wait(struct action_io *io, int64_t ms)
{
	struct curl_waitfd	*wfd;
	struct pollfd		*pfd;
	struct action_job	*j, **jv;
	size_t			 n = 1, i;
	short			 rev;
	char			 drain[64];

	TAILQ_FOREACH(j, &io->jobs, entry) {
		if (j->fd != -1)
			n++;
	}
	wfd = xcalloc(n, sizeof *wfd);
	pfd = xcalloc(n, sizeof *pfd);
	jv = xcalloc(n, sizeof *jv);
	wfd[0].fd = pfd[0].fd = io->wake[0];
	wfd[0].events = CURL_WAIT_POLLIN;
	pfd[0].events = POLLIN;
	i = 1;
	TAILQ_FOREACH(j, &io->jobs, entry) {
		if (j->fd == -1)
			continue;
		jv[i] = j;
		wfd[i].fd = pfd[i].fd = j->fd;
		if (j->events & POLLIN)
			wfd[i].events |= CURL_WAIT_POLLIN;
		if (j->events & POLLOUT)
			wfd[i].events |= CURL_WAIT_POLLOUT;
		pfd[i].events = j->events;
		i++;
	}

	if (io->multi != NULL) {
		curl_multi_poll(io->multi, wfd, (unsigned int)n, (int)ms,
		    NULL);
		for (i = 0; i < n; i++) {
			pfd[i].revents = 0;
			if (wfd[i].revents & CURL_WAIT_POLLIN)
				pfd[i].revents |= POLLIN;
			if (wfd[i].revents & CURL_WAIT_POLLOUT)
				pfd[i].revents |= POLLOUT;
			if (wfd[i].revents & CURL_WAIT_POLLPRI)
				pfd[i].revents |= POLLPRI;
		}
	} else if (poll(pfd, n, (int)ms) == -1) {
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
	}

	if (pfd[0].revents != 0) {
		while (read(io->wake[0], drain, sizeof drain) > 0)
			/* nothing */;
	}
	/*
	 * Step the ready jobs.  A job leaves only by its own step, so each
	 * polled one is still there.
	 */
	for (i = 1; i < n; i++) {
		if ((rev = pfd[i].revents) != 0)
			action_io_job_step(io, jv[i], rev, 0);
	}
	free(jv);
	free(pfd);
	free(wfd);
}

/*
 * Stopping (on the loop thread): complete everything still pending with
 * "engine stopping".  Nothing more can be queued since stopping is set.
 */
static void
action_io_drain(struct action_io *io)
{
	struct action_xfers	 queue;
	struct action_jobs	 jobq;
	struct action_xfer	*x;
	struct action_job	*j;
	struct action_timer	*t;

	while ((x = TAILQ_FIRST(&io->active)) != NULL) {
		TAILQ_REMOVE(&io->active, x, entry);
		if (io->multi != NULL)
			curl_multi_remove_handle(io->multi, x->easy);
		x->finish(x, CURLE_ABORTED_BY_CALLBACK, 1);
	}
	while ((j = TAILQ_FIRST(&io->jobs)) != NULL) {
		TAILQ_REMOVE(&io->jobs, j, entry);
		j->step(j, 0, 1);
	}
	pthread_mutex_lock(&io->mutex);
	TAILQ_INIT(&jobq);
	TAILQ_CONCAT(&jobq, &io->jobq, entry);
	pthread_mutex_unlock(&io->mutex);
	while ((j = TAILQ_FIRST(&jobq)) != NULL) {
		TAILQ_REMOVE(&jobq, j, entry);
		j->step(j, 0, 1);
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
