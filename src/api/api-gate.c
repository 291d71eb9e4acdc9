/*
 * api-gate.c -- who may hold an HTTP connection, and for how long.
 *
 * libmicrohttpd tells us of every connection it accepts and closes
 * (MHD_OPTION_NOTIFY_CONNECTION).  A new connection is ordinary while
 * its client address (an IPv6 client is its /64) holds fewer than
 * http-max-client-connections ordinary ones and the server fewer than
 * http-max-connections.  Past either limit it takes one of the
 * http-reserve-connections: a reserve connection serves one request,
 * to a route marked API_RESERVED (/healthz, /readyz), which must arrive
 * within API_RESERVE_MS.  When the reserve is full, a connection makes
 * room by closing the oldest one still waiting for its request, with a
 * preference: a connection whose first bytes, already there when it is
 * accepted (api.c sets TCP_DEFER_ACCEPT), ask for a reserved route is
 * "proven".  An unproven one is closed to make room for anyone; a
 * proven one only for a proven one, and only after it has waited
 * API_RESERVE_GRACE_MS.  So a health check gets in even while a flood
 * from its own address keeps reconnecting into the reserve.  A
 * connection that finds no room is closed at once.
 *
 * libmicrohttpd's timeout counts idle time only: a client that sends a
 * header line now and then keeps its connection for ever.  So every
 * connection receiving a request has a deadline, counted from its
 * opening or from its previous answer, and a thread closes those that
 * pass it.  The lists are in deadline order because a deadline is
 * always now plus the list's own timeout.
 *
 * Closing is shutdown(2): libmicrohttpd then reads the end of the
 * stream and closes the connection itself.  The descriptor is valid
 * while we may touch it, because libmicrohttpd closes it only after its
 * close notification (api_gate_notify()), which takes our lock.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "api/api-int.h"

#define API_RESERVE_MS		2000	/* for a reserve connection's request */
#define API_RESERVE_GRACE_MS	250	/* before it may make room */
#define API_GATE_LOG_MS		10000	/* between summaries in the log */
#define API_GATE_TICK_MS	1000	/* longest sleep of the thread */
#define API_KEYLEN		9	/* family, then 4 or 8 address bytes */

/* One client address and the ordinary connections it holds. */
struct api_client {
	struct api_client	*next;		/* hash chain */
	unsigned char		 key[API_KEYLEN];
	size_t			 nconns;
};

/* Why a connection is in the reserve. */
enum api_over {
	API_OVER_NONE = 0,	/* it is not: an ordinary connection */
	API_OVER_CLIENT,	/* its address was at its limit */
	API_OVER_SERVER		/* the server was at its limit */
};

/*
 * An accepted connection.  It is in its deadline list (listed) while a
 * request is being received, and in none while one is handled and
 * answered.  over is set at its admission and never changes, so the
 * connection's own thread reads it unlocked; the rest is under the
 * gate's lock.  closed: shut down by the gate, it is on its way out;
 * gone: it made room in the reserve and counts no more.
 */
struct api_conn {
	TAILQ_ENTRY(api_conn)	 entry;
	struct api_client	*client;	/* ordinary ones only */
	enum api_over		 over;
	int			 fd;
	int			 listed;
	int			 closed;
	int			 gone;
	int			 proven;	/* asks for a reserved route */
	int64_t			 since_ms;	/* opened, or last answered */
	int64_t			 deadline_ms;
	char			 addr[INET6_ADDRSTRLEN];
};
TAILQ_HEAD(api_conns, api_conn);

struct api_gate {
	pthread_mutex_t		 mtx;		/* guards all below */
	pthread_cond_t		 cond;
	pthread_t		 thread;
	int			 running;
	int			 stop;

	int64_t			 timeout_ms;	/* ordinary requests */
	int64_t			 reserve_ms;	/* reserve requests */
	size_t			 max_conns;
	size_t			 max_client;	/* 0: no limit */
	size_t			 max_reserve;

	struct api_conns	 waiting;	/* ordinary, receiving */
	struct api_conns	 reserve;	/* reserve, receiving */
	size_t			 nconns;	/* ordinary */
	size_t			 nreserve;
	struct api_client	**buckets;
	size_t			 nbuckets;	/* a power of two */

	/* Since the last summary in the log. */
	uint64_t		 refused;
	uint64_t		 evicted;
	uint64_t		 expired;
	char			 refused_addr[INET6_ADDRSTRLEN];
	int64_t			 logged_ms;
};

static void	*api_gate_main(void *);
static void	 api_gate_log(struct api_gate *, int64_t);

/* A gate for the configuration; api_gate_start() starts its thread. */
struct api_gate *
api_gate_create(const struct api_config *cfg)
{
	struct api_gate		*g;
	pthread_condattr_t	 ca;

	g = xcalloc(1, sizeof *g);
	g->timeout_ms = cfg->request_timeout_ms > 0 ?
	    cfg->request_timeout_ms : 30000;
	g->reserve_ms = g->timeout_ms < API_RESERVE_MS ? g->timeout_ms :
	    API_RESERVE_MS;
	g->max_conns = cfg->max_connections;
	g->max_client = cfg->max_client_connections;
	g->max_reserve = cfg->reserve_connections;
	TAILQ_INIT(&g->waiting);
	TAILQ_INIT(&g->reserve);
	g->nbuckets = 64;
	while (g->nbuckets < g->max_conns + g->max_reserve)
		g->nbuckets <<= 1;
	g->buckets = xcalloc(g->nbuckets, sizeof *g->buckets);
	g->logged_ms = time_mono_ms();
	pthread_mutex_init(&g->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &ca);
	pthread_condattr_destroy(&ca);
	return (g);
}

/* Start the thread that closes connections past their deadline. */
int
api_gate_start(struct api_gate *g, char **cause)
{
	int	error;

	if ((error = pthread_create(&g->thread, NULL, api_gate_main,
	    g)) != 0) {
		xasprintf(cause, "api: deadline thread: %s", strerror(error));
		return (-1);
	}
	g->running = 1;
	return (0);
}

/*
 * Stop the thread and free the gate.  libmicrohttpd has stopped, so
 * every connection has had its close notification.
 */
void
api_gate_free(struct api_gate *g)
{
	struct api_client	*c, *next;
	size_t			 i;

	if (g == NULL)
		return;
	if (g->running) {
		pthread_mutex_lock(&g->mtx);
		g->stop = 1;
		pthread_cond_signal(&g->cond);
		pthread_mutex_unlock(&g->mtx);
		pthread_join(g->thread, NULL);
	}
	pthread_mutex_lock(&g->mtx);
	api_gate_log(g, time_mono_ms());
	pthread_mutex_unlock(&g->mtx);
	for (i = 0; i < g->nbuckets; i++) {
		for (c = g->buckets[i]; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(g->buckets);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mtx);
	free(g);
}

/*
 * The client's key: an IPv4 address (also when mapped into IPv6) or the
 * /64 network of an IPv6 one; its text goes to addr.
 */
static void
api_gate_key(const struct sockaddr *sa, unsigned char *key, char *addr,
    size_t addrlen)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(key, 0, API_KEYLEN);
	snprintf(addr, addrlen, "?");
	if (sa == NULL)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
		inet_ntop(AF_INET, &sin->sin_addr, addr, addrlen);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
			inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12,
			    addr, addrlen);
		} else {
			key[0] = 6;
			memcpy(key + 1, sin6->sin6_addr.s6_addr, 8);
			inet_ntop(AF_INET6, &sin6->sin6_addr, addr, addrlen);
		}
		break;
	}
}

/* The bucket of a key (FNV-1a). */
static struct api_client **
api_gate_bucket(struct api_gate *g, const unsigned char *key)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < API_KEYLEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return (&g->buckets[h & (g->nbuckets - 1)]);
}

/* The client of a key, made on first sight. */
static struct api_client *
api_gate_client(struct api_gate *g, const unsigned char *key)
{
	struct api_client	**b, *c;

	b = api_gate_bucket(g, key);
	for (c = *b; c != NULL; c = c->next) {
		if (memcmp(c->key, key, API_KEYLEN) == 0)
			return (c);
	}
	c = xcalloc(1, sizeof *c);
	memcpy(c->key, key, API_KEYLEN);
	c->next = *b;
	*b = c;
	return (c);
}

/* Forget a client that holds nothing. */
static void
api_gate_client_drop(struct api_gate *g, struct api_client *c)
{
	struct api_client	**p;

	if (c == NULL || c->nconns > 0)
		return;
	for (p = api_gate_bucket(g, c->key); *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			free(c);
			return;
		}
	}
}

/* The deadline list of a connection. */
static struct api_conns *
api_gate_list(struct api_gate *g, struct api_conn *c)
{
	return (c->over == API_OVER_NONE ? &g->waiting : &g->reserve);
}

/* Start the clock of a connection that waits for a request. */
static void
api_gate_wait(struct api_gate *g, struct api_conn *c, int64_t now)
{
	struct api_conns	*l;

	if (c->listed || c->closed)
		return;
	l = api_gate_list(g, c);
	c->since_ms = now;
	c->deadline_ms = now + (c->over == API_OVER_NONE ?
	    g->timeout_ms : g->reserve_ms);
	if (TAILQ_EMPTY(l))
		pthread_cond_signal(&g->cond);
	TAILQ_INSERT_TAIL(l, c, entry);
	c->listed = 1;
}

/* Stop the clock. */
static void
api_gate_unlist(struct api_gate *g, struct api_conn *c)
{
	if (!c->listed)
		return;
	TAILQ_REMOVE(api_gate_list(g, c), c, entry);
	c->listed = 0;
}

/* Close a connection: libmicrohttpd sees the end of the stream. */
static void
api_gate_shut(struct api_gate *g, struct api_conn *c)
{
	api_gate_unlist(g, c);
	if (!c->closed) {
		shutdown(c->fd, SHUT_RDWR);
		c->closed = 1;
	}
}

/*
 * Whether the first bytes of a connection, if they are there, ask for a
 * reserved route ("GET /healthz HTTP/1.1", "GET /readyz?x").
 */
static int
api_gate_proven(int fd)
{
	const struct api_route	*r;
	char			 buf[64];
	ssize_t			 n;
	size_t			 i, len;

	if ((n = recv(fd, buf, sizeof buf - 1, MSG_PEEK | MSG_DONTWAIT)) <= 0)
		return (0);
	buf[n] = '\0';
	for (i = 0; i < api_nroutes; i++) {
		r = &api_routes[i];
		if (!(r->flags & API_RESERVED))
			continue;
		len = strlen(r->method);
		if (strncmp(buf, r->method, len) != 0 || buf[len] != ' ')
			continue;
		len++;
		if (strncmp(buf + len, r->pattern, strlen(r->pattern)) != 0)
			continue;
		len += strlen(r->pattern);
		if (buf[len] == ' ' || buf[len] == '?')
			return (1);
	}
	return (0);
}

/*
 * Make room in the full reserve for a connection, proven or not: close
 * the oldest unproven connection waiting for its request, or for a
 * proven one the oldest proven one that has waited long enough.
 */
static int
api_gate_evict(struct api_gate *g, int proven, int64_t now)
{
	struct api_conn	*c, *old = NULL;

	TAILQ_FOREACH(c, &g->reserve, entry) {
		if (!c->proven)
			break;
		if (old == NULL)
			old = c;
	}
	if (c == NULL) {
		if (!proven || old == NULL ||
		    now - old->since_ms < API_RESERVE_GRACE_MS)
			return (0);
		c = old;
	}
	api_gate_shut(g, c);
	c->gone = 1;
	g->nreserve--;
	g->evicted++;
	return (1);
}

/* Admit a connection over a limit to the reserve, if there is room. */
static int
api_gate_reserve(struct api_gate *g, struct api_conn *c, int64_t now)
{
	if (g->max_reserve == 0)
		return (-1);
	c->proven = api_gate_proven(c->fd);
	if (g->nreserve >= g->max_reserve &&
	    !api_gate_evict(g, c->proven, now))
		return (-1);
	c->over = g->nconns >= g->max_conns ? API_OVER_SERVER :
	    API_OVER_CLIENT;
	g->nreserve++;
	return (0);
}

/* A connection was accepted: admit it, or close it. */
static void
api_gate_open(struct api_gate *g, struct MHD_Connection *mc, void **ctx)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa = NULL;
	struct api_conn			*c;
	struct api_client		*cl;
	unsigned char			 key[API_KEYLEN];
	int64_t				 now = time_mono_ms();

	*ctx = NULL;
	if ((ci = MHD_get_connection_info(mc,
	    MHD_CONNECTION_INFO_CONNECTION_FD)) == NULL)
		return;
	c = xcalloc(1, sizeof *c);
	c->fd = ci->connect_fd;
	if ((ci = MHD_get_connection_info(mc,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS)) != NULL)
		sa = ci->client_addr;
	api_gate_key(sa, key, c->addr, sizeof c->addr);

	pthread_mutex_lock(&g->mtx);
	cl = api_gate_client(g, key);
	if ((g->max_client == 0 || cl->nconns < g->max_client) &&
	    g->nconns < g->max_conns) {
		c->client = cl;
		cl->nconns++;
		g->nconns++;
	} else if (api_gate_reserve(g, c, now) != 0) {
		g->refused++;
		memcpy(g->refused_addr, c->addr, sizeof g->refused_addr);
		api_gate_client_drop(g, cl);
		shutdown(c->fd, SHUT_RDWR);
		pthread_mutex_unlock(&g->mtx);
		free(c);
		return;
	} else
		api_gate_client_drop(g, cl);
	api_gate_wait(g, c, now);
	pthread_mutex_unlock(&g->mtx);
	*ctx = c;
}

/* A connection is closed: it counts no more. */
static void
api_gate_close(struct api_gate *g, struct api_conn *c)
{
	pthread_mutex_lock(&g->mtx);
	api_gate_unlist(g, c);
	if (c->over == API_OVER_NONE) {
		c->client->nconns--;
		g->nconns--;
		api_gate_client_drop(g, c->client);
	} else if (!c->gone)
		g->nreserve--;
	pthread_mutex_unlock(&g->mtx);
	free(c);
}

/* libmicrohttpd's notification of a connection's start and end. */
void
api_gate_notify(void *cls, struct MHD_Connection *mc, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct api_gate	*g = cls;

	switch (code) {
	case MHD_CONNECTION_NOTIFY_STARTED:
		api_gate_open(g, mc, ctx);
		break;
	case MHD_CONNECTION_NOTIFY_CLOSED:
		if (*ctx != NULL)
			api_gate_close(g, *ctx);
		*ctx = NULL;
		break;
	}
}

/* The gate's record of a connection, or NULL. */
struct api_conn *
api_gate_conn(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return (ci != NULL ? ci->socket_context : NULL);
}

/*
 * NULL for an ordinary connection; for a reserve one, why it is one
 * (the caller frees).
 */
char *
api_gate_over(struct api_gate *g, const struct api_conn *c)
{
	char	*why = NULL;

	if (c == NULL)
		return (NULL);
	switch (c->over) {
	case API_OVER_NONE:
		break;
	case API_OVER_CLIENT:
		xasprintf(&why, "%s holds %zu connections, the limit of one "
		    "client", c->addr, g->max_client);
		break;
	case API_OVER_SERVER:
		xasprintf(&why, "the server holds %zu connections, its limit",
		    g->max_conns);
		break;
	}
	return (why);
}

/* The request has arrived: handling and answering it are not timed. */
void
api_gate_received(struct api_gate *g, struct api_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mtx);
	api_gate_unlist(g, c);
	pthread_mutex_unlock(&g->mtx);
}

/* The answer is out: the connection waits for its next request. */
void
api_gate_answered(struct api_gate *g, struct api_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mtx);
	api_gate_wait(g, c, time_mono_ms());
	pthread_mutex_unlock(&g->mtx);
}

/* Close the connections of a list that are past their deadline. */
static void
api_gate_expire(struct api_gate *g, struct api_conns *l, int64_t now,
    int64_t *next)
{
	struct api_conn	*c;

	while ((c = TAILQ_FIRST(l)) != NULL) {
		if (c->deadline_ms > now) {
			if (c->deadline_ms < *next)
				*next = c->deadline_ms;
			return;
		}
		api_gate_shut(g, c);
		g->expired++;
	}
}

/*
 * Say in the log what the gate did since the last time (called locked;
 * unlocks while it writes).
 */
static void
api_gate_log(struct api_gate *g, int64_t now)
{
	uint64_t	refused = g->refused, evicted = g->evicted;
	uint64_t	expired = g->expired;
	long long	secs = (now - g->logged_ms + 500) / 1000;
	char		addr[INET6_ADDRSTRLEN];

	g->refused = g->evicted = g->expired = 0;
	g->logged_ms = now;
	memcpy(addr, g->refused_addr, sizeof addr);
	pthread_mutex_unlock(&g->mtx);
	if (refused > 0)
		log_warnx("api: %llu connections refused in %lld s, the last "
		    "from %s: client or server at its limit and reserve full "
		    "(http-max-client-connections, http-max-connections, "
		    "http-reserve-connections)", (unsigned long long)refused,
		    secs, addr);
	if (expired > 0)
		log_info("api: %llu connections closed in %lld s: no whole "
		    "request within %lld ms (http-request-timeout)",
		    (unsigned long long)expired, secs,
		    (long long)g->timeout_ms);
	if (evicted > 0)
		log_info("api: %llu reserve connections closed in %lld s to "
		    "make room for newer ones", (unsigned long long)evicted,
		    secs);
	pthread_mutex_lock(&g->mtx);
}

/* The deadline thread. */
static void *
api_gate_main(void *arg)
{
	struct api_gate	*g = arg;
	struct timespec	 ts;
	int64_t		 now, next;

	pthread_mutex_lock(&g->mtx);
	while (!g->stop) {
		now = time_mono_ms();
		next = now + API_GATE_TICK_MS;
		api_gate_expire(g, &g->waiting, now, &next);
		api_gate_expire(g, &g->reserve, now, &next);
		if (now - g->logged_ms >= API_GATE_LOG_MS)
			api_gate_log(g, now);
		if (g->stop)
			break;
		ts.tv_sec = next / 1000;
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		pthread_cond_timedwait(&g->cond, &g->mtx, &ts);
	}
	pthread_mutex_unlock(&g->mtx);
	return (NULL);
}
