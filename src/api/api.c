/*
 * api.c -- the HTTP server: libmicrohttpd with an epoll thread pool,
 * request limits, routing, request ids and one store connection per
 * HTTP thread.
 *
 * A request starts in api_uri(), called with the request target before
 * libmicrohttpd parses the query and reads the headers.  It then goes
 * through api_access() several times: first with its headers (sizes,
 * route, auth and Content-Length are checked, and a request that fails
 * there is answered at once), then once per body chunk (appended to a
 * capped buffer), then a last time to run the handler.  Which
 * connections are accepted, and how long a request may take to arrive,
 * is api-gate.c's business.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include "lib/lib.h"
#include "dl/dl.h"
#include "engine/engine.h"
#include "api/api-int.h"

#define API_DEFER_S	2	/* TCP_DEFER_ACCEPT, seconds */
#define API_MHD_LOGS	10	/* libmicrohttpd messages a minute */

static void		*api_uri(void *, const char *, struct MHD_Connection *);
static enum MHD_Result	api_access(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static void		api_completed(void *, struct MHD_Connection *,
			    void **, enum MHD_RequestTerminationCode);
static int		api_route_match(const char *, const char *,
			    char **, size_t *);
static void		api_route(struct api_req *);
static void		api_dispatch(struct api_req *);
static enum MHD_Result	api_send(struct api_req *);
static void		api_req_free(struct api_req *);
static void		api_request_id(struct api_req *);
static int		api_authorized(struct api_req *);

/*
 * libmicrohttpd's messages are mostly about one connection a client
 * broke (thousands under a flood, which api-gate.c sums up): a few a
 * minute go to the log, the rest only with -vv.
 */
static void
api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct api	*api = cls;
	char		*msg;
	size_t		 len;
	uint64_t	 dropped = 0;
	int64_t		 now = time_mono_ms();
	int		 show;

	xvasprintf(&msg, fmt, ap);
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '.'))
		msg[--len] = '\0';
	pthread_mutex_lock(&api->mtx);
	if (now - api->mhd_log_ms >= 60000) {
		dropped = api->mhd_dropped;
		api->mhd_log_ms = now;
		api->mhd_logged = 0;
		api->mhd_dropped = 0;
	}
	if ((show = api->mhd_logged < API_MHD_LOGS))
		api->mhd_logged++;
	else
		api->mhd_dropped++;
	pthread_mutex_unlock(&api->mtx);
	if (dropped > 0)
		log_info("api: %llu more messages from libmicrohttpd in the "
		    "last minute (-vv shows them)", (unsigned long long)dropped);
	if (show)
		log_info("api: libmicrohttpd: %s", msg);
	else
		log_debug("api: libmicrohttpd: %s", msg);
	free(msg);
}

/* Bind "HOST:PORT" to a socket address. */
static int
api_resolve(const char *listen, struct sockaddr_storage *ss,
    socklen_t *len, char **cause)
{
	struct addrinfo	 hints, *res;
	char		*host, *port;
	int		 error;

	host = xstrdup(listen);
	if ((port = strrchr(host, ':')) == NULL) {
		xasprintf(cause, "listen: expected HOST:PORT, not '%s'",
		    listen);
		free(host);
		return (-1);
	}
	*port++ = '\0';
	if (host[0] == '[' && port - host > 2 && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	error = getaddrinfo(*host == '\0' ? NULL : host, port, &hints, &res);
	if (error != 0) {
		xasprintf(cause, "listen %s: %s", listen, gai_strerror(error));
		free(host);
		return (-1);
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	free(host);
	return (0);
}

/*
 * Each connection is a descriptor: raise the soft limit towards the hard
 * one if the connections would not fit (systemd's default soft limit is
 * 1024), or say that they will not.
 */
static void
api_nofile(size_t conns)
{
	struct rlimit	rl;
	rlim_t		need = (rlim_t)conns + 256;	/* store, logs, watch */

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ?
	    need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
		log_warnx("api: %llu file descriptors (RLIMIT_NOFILE) are too "
		    "few for %zu connections", (unsigned long long)rl.rlim_cur,
		    conns);
}

/* Bind and start serving. */
struct api *
api_open(struct engine *engine, const struct api_config *cfg, char **cause)
{
	struct api		*api;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const union MHD_DaemonInfo *info;
	unsigned int		 flags, limit;

	*cause = NULL;
	/* Handlers hash tokens and encode bodies with it, unchecked. */
	if (dl_crypto_load(cause) != 0)
		return (NULL);
	if (api_resolve(cfg->listen, &ss, &sslen, cause) != 0)
		return (NULL);

	api = xcalloc(1, sizeof *api);
	api->engine = engine;
	api->cfg = *cfg;
	api->listen = xstrdup(cfg->listen);
	api->db_url = cfg->db_url != NULL ? xstrdup(cfg->db_url) : NULL;
	api->token = cfg->token != NULL ? xstrdup(cfg->token) : NULL;
	api->cfg.listen = api->listen;
	api->cfg.db_url = api->db_url;
	api->cfg.token = api->token;
	api->cfg.keystone_roles = NULL;
	if (cfg->nkeystone_roles > 0) {
		char	**roles;
		size_t	  i;

		roles = xcalloc(cfg->nkeystone_roles, sizeof *roles);
		for (i = 0; i < cfg->nkeystone_roles; i++)
			roles[i] = xstrdup(cfg->keystone_roles[i]);
		api->cfg.keystone_roles = roles;
	}
	if (api->cfg.threads == 0)
		api->cfg.threads = 4;
	if (api->cfg.max_connections == 0)
		api->cfg.max_connections = 1024;
	if (api->cfg.timeout_ms <= 0)
		api->cfg.timeout_ms = 30000;
	if (api->cfg.max_body == 0)
		api->cfg.max_body = 1024 * 1024;
	if (api->cfg.max_definition == 0)
		api->cfg.max_definition = 4 * 1024 * 1024;
	if (api->cfg.max_header == 0)
		api->cfg.max_header = 64 * 1024;
	if (api->cfg.request_timeout_ms <= 0)
		api->cfg.request_timeout_ms = 30000;
	if (api->cfg.masakari_dup_ms <= 0)
		api->cfg.masakari_dup_ms = 180 * 1000;
	/*
	 * libmicrohttpd keeps a request's line, headers and one record per
	 * query parameter and header field (about 50 bytes each) in one
	 * pool of max_header bytes, half of it first taken for reading.
	 * With these limits every request within them fits with room for
	 * the answer, and one over them is answered 414 or 431 by us.
	 */
	api->max_uri = api->cfg.max_header / 4;
	api->max_args = api->cfg.max_header / 256;
	api->max_hbytes = api->cfg.max_header / 4;
	api->max_hfields = api->cfg.max_header / 256;
	api->started_ms = time_now_ms();
	api->streams = api_streams_open(api);
	api->counts = xcalloc((api_nroutes + 1) * (API_NCODES + 1),
	    sizeof *api->counts);
	api->alarms = api_alarms_create();
	pthread_mutex_init(&api->mtx, NULL);
	/* Handlers borrow from the engine's pool, or one of their own. */
	if (engine != NULL)
		api->pool = engine_pool(engine);
	else if (api->db_url != NULL) {
		api->pool = store_pool_create(api->db_url, api->cfg.threads + 1);
		api->own_pool = 1;
	}
	api->gate = api_gate_create(&api->cfg);
	if (api_gate_start(api->gate, cause) != 0) {
		api_close(api);
		return (NULL);
	}
	/*
	 * The gate counts connections; libmicrohttpd's own limit, which it
	 * splits between its threads, only has to stay out of the way.
	 */
	limit = (unsigned int)(2 * (api->cfg.max_connections +
	    api->cfg.reserve_connections) + api->cfg.threads);
	api_nofile(api->cfg.max_connections + api->cfg.reserve_connections);

	/*
	 * ITC: MHD_quiesce_daemon() needs it with a thread pool.  Live
	 * streams wait as suspended connections (api-stream.c).
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	api->mhd = MHD_start_daemon(flags, 0, NULL, NULL, api_access, api,
	    MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, api,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)api->cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)((api->cfg.timeout_ms + 999) / 1000),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)api->cfg.max_header,
	    MHD_OPTION_NOTIFY_COMPLETED, api_completed, api,
	    MHD_OPTION_NOTIFY_CONNECTION, api_gate_notify, api->gate,
	    MHD_OPTION_URI_LOG_CALLBACK, api_uri, api,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
	    MHD_OPTION_END);
	if (api->mhd == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", cfg->listen,
		    errno != 0 ? strerror(errno) : "libmicrohttpd failed");
		api_close(api);
		return (NULL);
	}
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
	api->port = info != NULL ? info->port : 0;
#ifdef TCP_DEFER_ACCEPT
	/*
	 * A connection is accepted once its first bytes are there (or
	 * after API_DEFER_S): the gate sees what a connection over the
	 * limits asks for, and one that sends nothing takes no slot.
	 */
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	if (info != NULL && setsockopt(info->listen_fd, IPPROTO_TCP,
	    TCP_DEFER_ACCEPT, &(int){ API_DEFER_S }, sizeof (int)) != 0)
		log_warn("api: TCP_DEFER_ACCEPT");
#endif
	if (engine != NULL) {
		struct engine_observer	obs = {
			.task = api_stream_task, .exec = api_stream_exec,
			.arg = api
		};
		engine_set_observer(engine, &obs);
	}
	log_info("api: listening on %s (port %d)", cfg->listen, api->port);
	return (api);
}

int
api_port(struct api *api)
{
	return (api->port);
}

/* Definitions are loaded: /readyz may say so. */
void
api_set_ready(struct api *api, int ready)
{
	atomic_store(&api->ready, ready);
}

/* Stop accepting connections; those in progress finish. */
void
api_quiesce(struct api *api)
{
	MHD_socket	s;

	if (api == NULL || api->mhd == NULL)
		return;
	api_streams_stop(api->streams);
	s = MHD_quiesce_daemon(api->mhd);
	if (s != MHD_INVALID_SOCKET)
		close(s);
}

/* Stop serving and release everything. */
void
api_close(struct api *api)
{
	size_t	 i;

	if (api == NULL)
		return;
	/* libmicrohttpd must not stop with suspended connections. */
	api_streams_stop(api->streams);
	if (api->mhd != NULL)
		MHD_stop_daemon(api->mhd);
	api_gate_free(api->gate);
	if (api->engine != NULL) {
		struct engine_observer	none = { NULL, NULL, NULL };

		engine_set_observer(api->engine, &none);
	}
	api_streams_free(api->streams);
	if (api->own_pool)
		store_pool_free(api->pool);
	pthread_mutex_destroy(&api->mtx);
	api_alarms_free(api->alarms);
	free(api->counts);
	free(api->listen);
	free(api->db_url);
	free(api->token);
	for (i = 0; i < api->cfg.nkeystone_roles; i++)
		free(api->cfg.keystone_roles[i]);
	free((char **)api->cfg.keystone_roles);
	free(api);
}

/*
 * Match a path against a pattern; "{x}" takes one non-empty segment.
 * Captured segments are malloc'd into params.
 */
static int
api_route_match(const char *pattern, const char *path, char **params,
    size_t *nparams)
{
	const char	*p = pattern, *s = path, *pe, *se;
	size_t		 n = 0, i;

	for (;;) {
		if (*p == '\0' && *s == '\0')
			break;
		if (*p != '/' || *s != '/')
			goto fail;
		p++;
		s++;
		pe = strchr(p, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		se = strchr(s, '/');
		if (se == NULL)
			se = s + strlen(s);
		if (*p == '{') {
			if (se == s || n == API_MAX_PARAMS)
				goto fail;
			params[n++] = xstrndup(s, (size_t)(se - s));
		} else if (pe - p != se - s ||
		    strncmp(p, s, (size_t)(pe - p)) != 0)
			goto fail;
		p = pe;
		s = se;
	}
	*nparams = n;
	return (1);
fail:
	for (i = 0; i < n; i++) {
		free(params[i]);
		params[i] = NULL;
	}
	return (0);
}

/* Find the route; 404 or 405 (with Allow) when there is none. */
static void
api_route(struct api_req *req)
{
	const struct api_route	*r;
	size_t			 i, j, n;
	char			*tmp[API_MAX_PARAMS];
	char			*allow = NULL;

	req->route_idx = api_nroutes;
	for (i = 0; i < api_nroutes; i++) {
		r = &api_routes[i];
		if (!api_route_match(r->pattern, req->path, tmp, &n))
			continue;
		if (strcmp(r->method, req->method) == 0) {
			req->route = r;
			req->route_idx = i;
			for (j = 0; j < n; j++)
				req->params[j] = tmp[j];
			req->nparams = n;
			free(allow);
			return;
		}
		for (j = 0; j < n; j++)
			free(tmp[j]);
		if (allow == NULL || strstr(allow, r->method) == NULL) {
			if (allow != NULL)
				allow = xstrcat(allow, ", ");
			allow = xstrcat(allow, r->method);
		}
	}
	if (allow != NULL) {
		req->allow = allow;
		api_error(req, 405, "Method %s is not allowed on %s (allowed:"
		    " %s)", req->method, req->path, allow);
	} else
		api_error(req, 404, "No such resource: %s", req->path);
}

/* Take the client's request id, or make one. */
static void
api_request_id(struct api_req *req)
{
	const char	*h;
	char		 u[UUID_STRLEN];
	size_t		 i;

	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    "X-Request-Id");
	if (h == NULL)
		h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
		    "X-Openstack-Request-Id");
	if (h != NULL && *h != '\0' && strlen(h) <= API_RID_MAX) {
		for (i = 0; h[i] != '\0'; i++) {
			if (!isgraph((unsigned char)h[i]))
				break;
		}
		if (h[i] == '\0') {
			snprintf(req->rid, sizeof req->rid, "%s", h);
			return;
		}
	}
	uuid_make(u);
	snprintf(req->rid, sizeof req->rid, "req-%s", u);
}

/* Compare in constant time. */
static int
api_token_equal(const char *a, const char *b)
{
	size_t		 la = strlen(a), lb = strlen(b), i;
	unsigned char	 d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return (d == 0);
}

/* Bearer token check (Authorization: Bearer T, or X-Auth-Token: T). */
int
api_token_ok(struct api_req *req)
{
	const char	*h;

	if (req->api->token == NULL)
		return (1);
	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		return (api_token_equal(h + 7, req->api->token));
	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    "X-Auth-Token");
	if (h != NULL)
		return (api_token_equal(h, req->api->token));
	return (0);
}

/*
 * Public routes need no token; the others need the right one: the API
 * token, or with keystone-auth an X-Auth-Token Keystone vouches for.
 */
static int
api_authorized(struct api_req *req)
{
	const char	*h;
	char		*why = NULL;
	int		 ok;

	if (req->route != NULL && (req->route->flags & API_PUBLIC))
		return (1);
	if (!req->api->cfg.keystone_auth)
		return (api_token_ok(req));
	if (req->api->token != NULL && api_token_ok(req))
		return (1);
	h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    "X-Auth-Token");
	if (h == NULL || *h == '\0')
		return (0);
	if (!(ok = api_keystone_check(req->api, h, &why)))
		log_warnx("%s %s: %s: Keystone token refused: %s", req->method,
		    req->path, req->rid, why != NULL ? why : "?");
	free(why);
	return (ok);
}

/* Body limit for the route. */
static size_t
api_body_max(struct api_req *req)
{
	if (req->route != NULL && req->route->body == API_BODY_TEXT)
		return (req->api->cfg.max_definition);
	return (req->api->cfg.max_body);
}

/*
 * libmicrohttpd's first word on a request: the request target, before
 * it parses the query into one record per parameter in the connection's
 * memory pool.  Version 0.9.75 cannot answer when that pool runs out
 * there (the connection hangs until the idle timeout), so the target's
 * limits are checked here and the query of a request over them is cut
 * off in libmicrohttpd's own buffer, which it parses next.  api_begin()
 * answers such a request 414.
 */
static void *
api_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct api	*api = cls;
	struct api_req	*req;
	char		*q;
	size_t		 len, nargs = 0;

	req = xcalloc(1, sizeof *req);
	req->api = api;
	req->conn = conn;
	req->gconn = api_gate_conn(conn);
	req->start_ms = time_mono_ms();
	len = strlen(uri);
	if ((q = strchr(uri, '?')) != NULL && q[1] != '\0') {
		nargs = 1;
		for (q++; *q != '\0'; q++)
			nargs += *q == '&';
	}
	if (len > api->max_uri)
		xasprintf(&req->too_long, "Request-URI of %zu bytes is longer "
		    "than the limit of %zu bytes", len, api->max_uri);
	else if (nargs > api->max_args)
		xasprintf(&req->too_long, "Query string of %zu parameters is "
		    "over the limit of %zu", nargs, api->max_args);
	if (req->too_long != NULL && (q = strchr(uri, '?')) != NULL)
		q[1] = '\0';
	return (req);
}

/* Count the header fields and their bytes. */
static enum MHD_Result
api_header_size(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	size_t	*n = arg;

	(void)kind;
	n[0]++;
	n[1] += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;
	return (MHD_YES);
}

/* GET of a route served over the connection limits. */
static int
api_route_reserved(const char *method, const char *path)
{
	const struct api_route	*r;
	size_t			 i;

	for (i = 0; i < api_nroutes; i++) {
		r = &api_routes[i];
		if ((r->flags & API_RESERVED) && strcmp(r->method, method) ==
		    0 && strcmp(r->pattern, path) == 0)
			return (1);
	}
	return (0);
}

/* First call: request id, sizes, connection, route, auth, Content-Length. */
static void
api_begin(struct api_req *req, const char *url)
{
	const char	*cl;
	char		*end, *why;
	unsigned long long n;
	size_t		 len, hs[2] = { 0, 0 };

	req->begun = 1;
	api_request_id(req);
	req->path = xstrdup(url);
	len = strlen(req->path);
	while (len > 1 && req->path[len - 1] == '/')
		req->path[--len] = '\0';
	buf_init(&req->body, 0);
	req->route_idx = api_nroutes;
	if (req->too_long != NULL) {
		api_error(req, 414, "%s", req->too_long);
		return;
	}
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, api_header_size,
	    hs);
	if (hs[0] > req->api->max_hfields || hs[1] > req->api->max_hbytes) {
		api_error(req, 431, "Request headers of %zu bytes in %zu fields "
		    "are over the limit of %zu bytes and %zu fields", hs[1],
		    hs[0], req->api->max_hbytes, req->api->max_hfields);
		return;
	}
	if ((why = api_gate_over(req->api->gate, req->gconn)) != NULL &&
	    !api_route_reserved(req->method, req->path)) {
		api_error(req, 503, "Too many connections: %s; over it only "
		    "GET /healthz and /readyz are served", why);
		free(why);
		return;
	}
	free(why);
	api_route(req);
	if (req->status != 0)
		return;
	if (!api_authorized(req)) {
		api_error(req, 401, "Authentication required: send "
		    "'Authorization: Bearer TOKEN'");
		return;
	}
	req->body.max = api_body_max(req);
	cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno == 0 && *end == '\0' && n > req->body.max &&
		    (req->route->flags & API_BODYCAP)) {
			/* Its handler answers, without reading the body. */
			req->too_big = 1;
			api_dispatch(req);
			return;
		}
		if (errno == 0 && *end == '\0' && n > req->body.max) {
			api_error(req, 413, "Request body of %llu bytes is "
			    "larger than the limit of %zu bytes", n,
			    req->body.max);
			return;
		}
	}
}

/* Run the route's handler on the complete request. */
static void
api_dispatch(struct api_req *req)
{
	json_error_t	 jerr;
	char		*cause = NULL;
	size_t		 i;

	if (req->too_big && !(req->route->flags & API_BODYCAP)) {
		api_error(req, 413, "Request body is larger than the limit "
		    "of %zu bytes", req->body.max);
		return;
	}
	if (req->route->body == API_BODY_NONE && req->body.len > 0) {
		/* Tolerated: some clients send "{}" with DELETE. */
	}
	if (req->route->body == API_BODY_JSON && req->body.len > 0) {
		for (i = 0; i < req->body.len; i++) {
			if (!isspace((unsigned char)req->body.data[i]))
				break;
		}
		if (i < req->body.len) {
			req->json = json_loadb(req->body.data, req->body.len,
			    0, &jerr);
			if (req->json == NULL) {
				api_error(req, 400, "Malformed JSON at line %d,"
				    " column %d: %s", jerr.line, jerr.column,
				    jerr.text);
				return;
			}
		}
	}
	if (!(req->route->flags & API_NOSTORE)) {
		if (req->api->pool == NULL)
			cause = xstrdup("no store configured");
		else
			req->store = store_pool_get(req->api->pool, &cause);
		if (req->store == NULL && (req->route->flags & API_STOREOPT))
			free(cause);
		else if (req->store == NULL) {
			api_store_error(req, STORE_UNAVAILABLE, 0, "Store",
			    cause);
			free(cause);
			return;
		}
	}
	req->route->handler(req);
	if (req->status == 503 && req->store != NULL &&
	    strcmp(req->method, "GET") == 0) {
		/*
		 * A connection that broke while idle is only found out by
		 * its first use, and the store reconnects on the next call:
		 * a read is safe to try once more.
		 */
		json_decref(req->out);
		req->out = NULL;
		free(req->text);
		req->text = NULL;
		req->status = 0;
		req->route->handler(req);
	}
	if (req->store != NULL) {
		store_pool_put(req->api->pool);
		req->store = NULL;
	}
	if (req->status == 0)
		api_error(req, 500, "Handler gave no answer");
}

/* Answer with a response the handler built; it is taken. */
void
api_reply_response(struct api_req *req, unsigned status, const char *ctype,
    struct MHD_Response *resp)
{
	if (req->resp != NULL)
		MHD_destroy_response(req->resp);
	req->status = status;
	req->content_type = ctype;
	req->resp = resp;
}

/* Send the answer with the request id headers; count and log it. */
static enum MHD_Result
api_send(struct api_req *req)
{
	struct MHD_Response	*resp;
	char			*body;
	size_t			 len;
	enum MHD_Result		 ret;
	const char		*ctype = req->content_type;
	char			*over;
	int			 reserve = 0;

	if (req->resp != NULL) {
		resp = req->resp;
		req->resp = NULL;
		goto send;
	}
	if (req->out != NULL) {
		body = json_dumps(req->out, JSON_COMPACT | JSON_ENCODE_ANY);
		if (body == NULL)
			body = xstrdup("{}");
		ctype = "application/json";
	} else if (req->text != NULL) {
		body = req->text;
		req->text = NULL;
	} else {
		body = xstrdup("");
		if (ctype == NULL)
			ctype = "application/json";
	}
	len = strlen(body);
	resp = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return (MHD_NO);
	}
send:
	if (req->status != 204 && req->status != 304 && ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	MHD_add_response_header(resp, "X-Request-Id", req->rid);
	MHD_add_response_header(resp, "X-Openstack-Request-Id", req->rid);
	api_status_headers(req, resp);
	if ((over = api_gate_over(req->api->gate, req->gconn)) != NULL) {
		/* A reserve connection serves one request. */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
		free(over);
		reserve = 1;
	}
	ret = MHD_queue_response(req->conn, req->status, resp);
	MHD_destroy_response(resp);

	api_metrics_count(req->api, req->route_idx, req->status);
	/* A 503 over the connection limits is the client's doing. */
	if (req->status >= 500 && !reserve)
		log_warnx("api: %s %s -> %u (%lld ms) [%s]", req->method,
		    req->path, req->status,
		    (long long)(time_mono_ms() - req->start_ms), req->rid);
	else
		log_debug("api: %s %s -> %u (%lld ms) [%s]", req->method,
		    req->path, req->status,
		    (long long)(time_mono_ms() - req->start_ms), req->rid);
	return (ret);
}

/* libmicrohttpd's access handler: see the comment at the top. */
static enum MHD_Result
api_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct api_req	*req = *con_cls;

	if (req == NULL)
		*con_cls = req = api_uri(cls, url, conn);
	if (!req->begun) {
		req->method = method;
		api_begin(req, url);
		if (req->status != 0) {
			/* Answer now; the body, if any, is not read. */
			req->answered = 1;
			api_gate_received(req->api->gate, req->gconn);
			return (api_send(req));
		}
		return (MHD_YES);
	}
	if (req->answered) {
		*upload_data_size = 0;
		return (MHD_YES);
	}
	if (*upload_data_size > 0) {
		if (!req->too_big && buf_add(&req->body, upload_data,
		    *upload_data_size) != 0) {
			req->too_big = 1;
			buf_free(&req->body);
		}
		*upload_data_size = 0;
		return (MHD_YES);
	}
	api_gate_received(req->api->gate, req->gconn);
	api_dispatch(req);
	req->answered = 1;
	return (api_send(req));
}

/* The request is over (answered, or the client went away). */
static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api	*api = cls;
	struct api_req	*req = *con_cls;

	(void)conn;
	if (req != NULL && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		api_gate_answered(api->gate, req->gconn);
	api_req_free(req);
	*con_cls = NULL;
}

static void
api_req_free(struct api_req *req)
{
	size_t	i;

	if (req == NULL)
		return;
	for (i = 0; i < req->nparams; i++)
		free(req->params[i]);
	free(req->path);
	free(req->too_long);
	buf_free(&req->body);
	json_decref(req->json);
	json_decref(req->out);
	free(req->text);
	free(req->allow);
	free(req->challenge);
	json_decref(req->headers);
	if (req->resp != NULL)
		MHD_destroy_response(req->resp);
	free(req);
}
