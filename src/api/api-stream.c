/*
 * api-stream.c -- live updates as Server-Sent Events: GET /v2/stream
 * (every execution's transitions) and GET /v2/stream?execution_id=X
 * (X's and its sub-workflows' execution, task and with-items changes).
 *
 * One broadcaster per server.  The engine's observer, called after each
 * commit, formats the change once into a ring of recent events, marks
 * the streams it concerns and wakes the ticker thread, which resumes
 * them: the engine's thread never calls into libmicrohttpd.  A stream
 * with nothing to send is a suspended libmicrohttpd connection: it
 * holds no thread and costs no poll, so many open pages cost memory
 * only.  The ticker also sends a comment every STREAM_PING_MS (which
 * finds clients that left) and, for with-items tasks that someone
 * watches, counts items done once per tick, whatever the number of
 * pages.
 *
 * A reader that falls more than STREAM_RING events behind gets a
 * "reset" event and reloads what it shows.  Last-Event-ID resumes a
 * stream where a reconnecting client left it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "api/api-int.h"

#define STREAM_RING	4096		/* events kept for readers */
#define STREAM_BLOCK	(64 * 1024)	/* most bytes per write */
#define STREAM_EV_MAX	8192		/* larger events are cut */
#define STREAM_TICK_MS	500		/* with-items counters */
#define STREAM_PING_MS	15000		/* comment to idle streams */
#define STREAM_RETRY_MS	2000		/* client reconnect delay */
#define STREAM_WATCH_MAX 256		/* with-items tasks counted */

enum stream_kind { EV_EXEC, EV_TASK, EV_ITEMS };

/* One formatted event of the ring. */
struct stream_ev {
	uint64_t	 seq;
	enum stream_kind kind;
	char		 exec[UUID_STRLEN];	/* its execution */
	char		 root[UUID_STRLEN];	/* root execution, or "" */
	char		*text;			/* "id: ...\n\n" */
	size_t		 len;
};

/* One open stream. */
struct stream_sub {
	struct api_streams	*s;
	struct MHD_Connection	*conn;
	char			 filter[UUID_STRLEN];	/* "": all executions */
	uint64_t		 next;		/* next seq to send */
	int			 suspended;
	int			 due;		/* to resume: something to send */
	int			 ping;		/* a comment is due */
	int			 hello;		/* first lines sent */
	struct stream_sub	*prev, *nextsub;
};

/* A running with-items task whose counter the ticker keeps. */
struct stream_watch {
	char		 task[UUID_STRLEN];
	char		 exec[UUID_STRLEN];
	char		 root[UUID_STRLEN];
	char		 counts[128];		/* last counter sent */
	int		 final;			/* count once more, drop */
};

struct api_streams {
	struct api		*api;
	pthread_mutex_t		 mtx;		/* guards all below */
	pthread_cond_t		 cond;
	struct stream_ev	 ring[STREAM_RING];
	uint64_t		 seq;		/* next event's number */
	struct stream_sub	*subs;
	size_t			 nsubs;
	struct stream_watch	 watch[STREAM_WATCH_MAX];
	size_t			 nwatch;
	int			 stopping;
	int			 started;	/* ticker running */
	pthread_t		 ticker;
};

static void	*stream_tick(void *);
static json_t	*stream_exec_brief(const struct store_exec *);

/* Is the event for this stream? Lock held. */
static int
stream_match(const struct stream_sub *sub, const struct stream_ev *ev)
{
	if (sub->filter[0] == '\0')
		return (ev->kind == EV_EXEC);
	return (strcmp(sub->filter, ev->exec) == 0 ||
	    strcmp(sub->filter, ev->root) == 0);
}

/* Is someone reading events of exec or root? Lock held. */
static int
stream_watched(struct api_streams *s, const char *exec, const char *root)
{
	struct stream_sub	*sub;

	for (sub = s->subs; sub != NULL; sub = sub->nextsub) {
		if (sub->filter[0] != '\0' && (strcmp(sub->filter, exec) ==
		    0 || strcmp(sub->filter, root) == 0))
			return (1);
	}
	return (0);
}

/*
 * Resume the suspended streams that have something due (all: every
 * one).  Lock held on entry and on return; it is let go while
 * libmicrohttpd is called, which is safe: a suspended connection is
 * never closed, and only the one that marks it resumed resumes it.
 */
static void
stream_resume(struct api_streams *s, int all)
{
	struct stream_sub	 *sub;
	struct MHD_Connection	**v = NULL;
	size_t			  n = 0, cap = 0, i;

	for (sub = s->subs; sub != NULL; sub = sub->nextsub) {
		if (!sub->suspended || (!sub->due && !all))
			continue;
		sub->suspended = 0;
		sub->due = 0;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n++] = sub->conn;
	}
	if (n == 0)
		return;
	pthread_mutex_unlock(&s->mtx);
	for (i = 0; i < n; i++)
		MHD_resume_connection(v[i]);
	free(v);
	pthread_mutex_lock(&s->mtx);
}

/* Add an event (o is stolen) and wake the streams it concerns. */
static void
stream_publish(struct api_streams *s, enum stream_kind kind,
    const char *exec, const char *root, json_t *o)
{
	static const char *const names[] = { "execution", "task", "items" };
	struct stream_ev	*ev;
	struct stream_sub	*sub;
	char			*data;
	int			 wake = 0;

	data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (data == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	ev = &s->ring[s->seq % STREAM_RING];
	free(ev->text);
	ev->seq = s->seq++;
	ev->kind = kind;
	snprintf(ev->exec, sizeof ev->exec, "%s", exec);
	snprintf(ev->root, sizeof ev->root, "%s", root != NULL ? root : "");
	if (strlen(data) > STREAM_EV_MAX) {
		free(data);
		data = xstrdup("{\"truncated\":true}");
	}
	ev->len = (size_t)xasprintf(&ev->text, "id: %" PRIu64 "\nevent: %s\n"
	    "data: %s\n\n", ev->seq, names[kind], data);
	free(data);
	if (!s->stopping) {
		for (sub = s->subs; sub != NULL; sub = sub->nextsub) {
			if (sub->suspended && stream_match(sub, ev)) {
				sub->due = 1;
				wake = 1;
			}
		}
	}
	if (wake)
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mtx);
}

/* Keep (or drop) the counter of a with-items task.  Lock held. */
static void
stream_watch_task(struct api_streams *s, const struct store_exec *e,
    const struct store_task *t)
{
	size_t	i;
	int	final = store_state_final(t->state);

	for (i = 0; i < s->nwatch; i++) {
		if (strcmp(s->watch[i].task, t->id) == 0) {
			s->watch[i].final = final;
			return;
		}
	}
	if (final)
		return;
	if (s->nwatch == STREAM_WATCH_MAX) {
		/* Full: take the place of one nobody looks at. */
		for (i = 0; i < s->nwatch; i++) {
			if (!stream_watched(s, s->watch[i].exec,
			    s->watch[i].root))
				break;
		}
		if (i == s->nwatch)
			return;
		s->nwatch--;
	}
	memset(&s->watch[i], 0, sizeof s->watch[i]);
	memcpy(s->watch[i].task, t->id, UUID_STRLEN);
	memcpy(s->watch[i].exec, e->id, UUID_STRLEN);
	snprintf(s->watch[i].root, sizeof s->watch[i].root, "%s",
	    e->root_id != NULL ? e->root_id : "");
	s->nwatch++;
}

/* Engine observer: a task changed (after commit). */
void
api_stream_task(void *arg, const struct store_exec *e,
    const struct store_task *t)
{
	struct api		*api = arg;
	struct api_streams	*s = api->streams;
	json_t			*o;

	api_observe_task(arg, e, t);
	if (s == NULL || t == NULL || e == NULL)
		return;
	if (json_object_get(t->runtime, "items") != NULL) {
		/* Kept even unwatched: a page may open while it runs. */
		pthread_mutex_lock(&s->mtx);
		stream_watch_task(s, e, t);
		if (s->nsubs > 0)
			pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->mtx);
	}
	if (__atomic_load_n(&s->nsubs, __ATOMIC_RELAXED) == 0)
		return;
	o = api_task_brief(t);
	json_object_set_new(o, "root_execution_id",
	    api_strornull(e->root_id));
	stream_publish(s, EV_TASK, e->id, e->root_id, o);
	/*
	 * An execution has no transition of its own when it starts: its
	 * first task tells the lists that it exists and runs.
	 */
	if (t->seq == 1 && !store_state_final(t->state))
		stream_publish(s, EV_EXEC, e->id, e->root_id,
		    stream_exec_brief(e));
}

/* An execution in brief: no input, output or params. */
static json_t *
stream_exec_brief(const struct store_exec *e)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "workflow_name",
	    api_strornull(e->workflow_name));
	json_object_set_new(o, "state", api_strornull(api_state_out(e->state)));
	json_object_set_new(o, "state_info", api_strornull(e->state_info));
	json_object_set_new(o, "description", json_string(
	    e->description != NULL ? e->description : ""));
	json_object_set_new(o, "task_execution_id",
	    api_strornull(e->parent_task_id));
	json_object_set_new(o, "root_execution_id",
	    api_strornull(e->root_id));
	json_object_set_new(o, "created_at", api_time(e->created_at));
	json_object_set_new(o, "updated_at", api_time(e->updated_at));
	return (o);
}

/* Engine observer: an execution changed (after commit). */
void
api_stream_exec(void *arg, const struct store_exec *e)
{
	struct api		*api = arg;
	struct api_streams	*s = api->streams;

	if (s == NULL || e == NULL ||
	    __atomic_load_n(&s->nsubs, __ATOMIC_RELAXED) == 0)
		return;
	stream_publish(s, EV_EXEC, e->id, e->root_id, stream_exec_brief(e));
}

/* Create the broadcaster and start its ticker. */
struct api_streams *
api_streams_open(struct api *api)
{
	struct api_streams	*s;

	s = xcalloc(1, sizeof *s);
	s->api = api;
	s->seq = 1;
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->ticker, NULL, stream_tick, s) == 0)
		s->started = 1;
	else
		log_warnx("api: cannot start the stream ticker");
	return (s);
}

/*
 * End every stream (they are resumed and end at their next read) and
 * stop the ticker: before the HTTP server stops, since libmicrohttpd
 * must not stop with suspended connections.  Idempotent.
 */
void
api_streams_stop(struct api_streams *s)
{
	int	join;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	s->stopping = 1;
	stream_resume(s, 1);
	join = s->started;
	s->started = 0;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mtx);
	if (join)
		pthread_join(s->ticker, NULL);
}

/* Free the broadcaster, after the HTTP server has stopped. */
void
api_streams_free(struct api_streams *s)
{
	size_t	i;

	if (s == NULL)
		return;
	api_streams_stop(s);
	for (i = 0; i < STREAM_RING; i++)
		free(s->ring[i].text);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

/* libmicrohttpd's content reader: what the stream has to send. */
static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_sub	*sub = cls;
	struct api_streams	*s = sub->s;
	struct stream_ev	*ev;
	uint64_t		 oldest;
	size_t			 off = 0;
	int			 n;

	(void)pos;
	pthread_mutex_lock(&s->mtx);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mtx);
		return (MHD_CONTENT_READER_END_OF_STREAM);
	}
	if (!sub->hello) {
		n = snprintf(buf, max, "retry: %d\nevent: hello\ndata: "
		    "{\"seq\":%" PRIu64 "}\n\n", STREAM_RETRY_MS, s->seq - 1);
		if (n > 0 && (size_t)n < max) {
			off = (size_t)n;
			sub->hello = 1;
		}
	}
	oldest = s->seq > STREAM_RING ? s->seq - STREAM_RING : 1;
	if (sub->next < oldest) {
		n = snprintf(buf + off, max - off, "id: %" PRIu64 "\nevent: "
		    "reset\ndata: {}\n\n", oldest - 1);
		if (n > 0 && (size_t)n < max - off) {
			off += (size_t)n;
			sub->next = oldest;
		}
	}
	while (sub->next < s->seq) {
		ev = &s->ring[sub->next % STREAM_RING];
		if (stream_match(sub, ev)) {
			if (ev->len > max - off && off > 0)
				break;
			if (ev->len > max - off) {
				/* Never fits: skip it, the reader reloads. */
				n = snprintf(buf, max, "id: %" PRIu64 "\nevent: "
				    "reset\ndata: {}\n\n", ev->seq);
				off = n > 0 && (size_t)n < max ? (size_t)n : 0;
				sub->next++;
				break;
			}
			memcpy(buf + off, ev->text, ev->len);
			off += ev->len;
		}
		sub->next++;
	}
	if (off == 0 && sub->ping && max > 8) {
		memcpy(buf, ": ping\n\n", 8);
		off = 8;
	}
	sub->ping = 0;
	if (off == 0) {
		/* Nothing to say: hold no thread until there is. */
		sub->suspended = 1;
		sub->due = 0;
		MHD_suspend_connection(sub->conn);
	}
	pthread_mutex_unlock(&s->mtx);
	return ((ssize_t)off);
}

/* The stream's connection is gone. */
static void
stream_free(void *cls)
{
	struct stream_sub	*sub = cls;
	struct api_streams	*s = sub->s;

	pthread_mutex_lock(&s->mtx);
	if (sub->prev != NULL)
		sub->prev->nextsub = sub->nextsub;
	else
		s->subs = sub->nextsub;
	if (sub->nextsub != NULL)
		sub->nextsub->prev = sub->prev;
	__atomic_store_n(&s->nsubs, s->nsubs - 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->mtx);
	free(sub);
}

/*
 * GET /v2/stream[?execution_id=X]: an event stream.  Last-Event-ID (or
 * last_event_id=) continues after that event when it is still kept.
 */
void
api_stream_get(struct api_req *req)
{
	struct api_streams	*s = req->api->streams;
	struct stream_sub	*sub;
	struct MHD_Response	*resp;
	const char		*filter, *last;
	char			*end;
	unsigned long long	 n;

	filter = api_query(req, "execution_id");
	if (filter != NULL && !uuid_valid(filter)) {
		api_error(req, 400, "execution_id must be a UUID, not '%s'",
		    filter);
		return;
	}
	if (s == NULL || s->stopping) {
		api_error(req, 503, "The server is stopping");
		return;
	}
	sub = xcalloc(1, sizeof *sub);
	sub->s = s;
	sub->conn = req->conn;
	if (filter != NULL)
		memcpy(sub->filter, filter, UUID_STRLEN);
	last = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    "Last-Event-ID");
	if (last == NULL)
		last = api_query(req, "last_event_id");
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    STREAM_BLOCK, stream_read, sub, stream_free);
	if (resp == NULL) {
		free(sub);
		api_error(req, 500, "Cannot create the stream");
		return;
	}
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	pthread_mutex_lock(&s->mtx);
	sub->next = s->seq;
	if (last != NULL) {
		/*
		 * An id this server never sent (one from before a restart)
		 * gets a reset: what happened in between is not kept.
		 */
		errno = 0;
		n = strtoull(last, &end, 10);
		if (errno == 0 && *end == '\0' && *last != '\0' && n < s->seq)
			sub->next = n + 1;
		else
			sub->next = 0;
	}
	sub->nextsub = s->subs;
	if (s->subs != NULL)
		s->subs->prev = sub;
	s->subs = sub;
	__atomic_store_n(&s->nsubs, s->nsubs + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->mtx);
	api_reply_response(req, 200, "text/event-stream", resp);
}

/* Count the items of watched with-items tasks; publish what changed. */
static void
stream_count(struct api_streams *s)
{
	struct stream_watch	 w;
	struct store_task	*t;
	struct store		*st;
	json_t			*c, *o;
	char			*cause = NULL, *text;
	size_t			 i;

	for (i = 0; ; i++) {
		pthread_mutex_lock(&s->mtx);
		while (i < s->nwatch && !stream_watched(s, s->watch[i].exec,
		    s->watch[i].root)) {
			/* Nobody looks: skip it, or forget it once ended. */
			if (s->watch[i].final)
				s->watch[i] = s->watch[--s->nwatch];
			else
				i++;
		}
		if (i >= s->nwatch || s->stopping) {
			pthread_mutex_unlock(&s->mtx);
			return;
		}
		w = s->watch[i];
		pthread_mutex_unlock(&s->mtx);

		if (s->api->pool == NULL ||
		    (st = store_pool_get(s->api->pool, &cause)) == NULL) {
			log_warnx("api: stream counters: %s", cause != NULL ?
			    cause : "no store configured");
			free(cause);
			return;
		}
		if (store_task_load(st, w.task, &t) != STORE_OK) {
			store_pool_put(s->api->pool);
			continue;
		}
		c = api_task_items(st, t);
		store_pool_put(s->api->pool);
		json_object_set_new(c, "state", api_strornull(
		    api_state_out(t->state)));
		text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
		pthread_mutex_lock(&s->mtx);
		if (i < s->nwatch && strcmp(s->watch[i].task, w.task) == 0) {
			if (text != NULL && strcmp(text, s->watch[i].counts) !=
			    0) {
				snprintf(s->watch[i].counts,
				    sizeof s->watch[i].counts, "%s", text);
				o = json_pack("{s:s, s:s, s:s, s:O}", "task_id",
				    t->id, "name", t->name,
				    "workflow_execution_id", w.exec, "items",
				    c);
				pthread_mutex_unlock(&s->mtx);
				stream_publish(s, EV_ITEMS, w.exec, w.root, o);
				pthread_mutex_lock(&s->mtx);
			}
			if (store_state_final(t->state) && i < s->nwatch &&
			    strcmp(s->watch[i].task, w.task) == 0)
				s->watch[i--] = s->watch[--s->nwatch];
		}
		pthread_mutex_unlock(&s->mtx);
		free(text);
		json_decref(c);
		store_task_free(t);
	}
}

/* The ticker: with-items counters, and pings to idle streams. */
static void *
stream_tick(void *arg)
{
	struct api_streams	*s = arg;
	struct stream_sub	*sub;
	struct timespec		 ts;
	int64_t			 next_ping = time_mono_ms() + STREAM_PING_MS;
	int64_t			 next_count = 0;

	pthread_mutex_lock(&s->mtx);
	while (!s->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += STREAM_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cond, &s->mtx, &ts);
		if (s->stopping)
			break;
		if (time_mono_ms() >= next_ping) {
			next_ping = time_mono_ms() + STREAM_PING_MS;
			for (sub = s->subs; sub != NULL; sub = sub->nextsub)
				sub->ping = sub->due = 1;
		}
		stream_resume(s, 0);
		/* Count at most once a tick, however often woken. */
		if (s->nwatch > 0 && time_mono_ms() >= next_count) {
			next_count = time_mono_ms() + STREAM_TICK_MS;
			pthread_mutex_unlock(&s->mtx);
			stream_count(s);
			pthread_mutex_lock(&s->mtx);
		}
	}
	pthread_mutex_unlock(&s->mtx);
	return (NULL);
}
