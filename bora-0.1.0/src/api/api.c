/*
 * api.c -- the HTTP server: libmicrohttpd with an epoll thread pool,
 * request limits, routing, request ids and one store connection per
 * HTTP thread.
 *
 * A request goes through api_access() several times: first with its
 * headers (route, auth and Content-Length are checked, and a request
 * that fails there is answered at once), then once per body chunk
 * (appended to a capped buffer), then a last time to run the handler.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "lib/lib.h"
#include "engine/engine.h"
#include "api/api-int.h"

static enum MHD_Result	api_access(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static void		api_completed(void *, struct MHD_Connection *,
			    void **, enum MHD_RequestTerminationCode);
static int		api_route_match(const char *, const char *,
			    char **, size_t *);
static void		api_route(struct api_req *);
static enum MHD_Result	api_send(struct api_req *);
static void		api_req_free(struct api_req *);
static struct store	*api_thread_store(struct api *, char **);
static void		api_store_destroy(void *);
static void		api_request_id(struct api_req *);
static int		api_authorized(struct api_req *);

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

/* Bind and start serving. */
struct api *
api_open(struct engine *engine, const struct api_config *cfg, char **cause)
{
	struct api		*api;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const union MHD_DaemonInfo *info;
	unsigned int		 flags;

	*cause = NULL;
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
	api->started_ms = time_now_ms();
	api->counts = xcalloc((api_nroutes + 1) * (API_NCODES + 1),
	    sizeof *api->counts);
	pthread_mutex_init(&api->mtx, NULL);
	if (pthread_key_create(&api->store_key, api_store_destroy) != 0)
		fatalx("pthread_key_create");

	/* ITC: MHD_quiesce_daemon() needs it with a thread pool. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	api->mhd = MHD_start_daemon(flags, 0, NULL, NULL, api_access, api,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)api->cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)api->cfg.max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)((api->cfg.timeout_ms + 999) / 1000),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)api->cfg.max_header,
	    MHD_OPTION_NOTIFY_COMPLETED, api_completed, api,
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
	if (engine != NULL) {
		struct engine_observer	obs = {
			.task = api_observe_task, .exec = NULL, .arg = api
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
	__atomic_store_n(&api->ready, ready, __ATOMIC_RELAXED);
}

/* Stop accepting connections; those in progress finish. */
void
api_quiesce(struct api *api)
{
	MHD_socket	s;

	if (api == NULL || api->mhd == NULL)
		return;
	s = MHD_quiesce_daemon(api->mhd);
	if (s != MHD_INVALID_SOCKET)
		close(s);
}

/* Stop serving and release everything. */
void
api_close(struct api *api)
{
	size_t	i;

	if (api == NULL)
		return;
	if (api->mhd != NULL)
		MHD_stop_daemon(api->mhd);
	if (api->engine != NULL) {
		struct engine_observer	none = { NULL, NULL, NULL };

		engine_set_observer(api->engine, &none);
	}
	/* Threads have ended; close connections their keys did not. */
	pthread_mutex_lock(&api->mtx);
	for (i = 0; i < api->nstores; i++)
		store_close(api->stores[i]);
	free(api->stores);
	api->stores = NULL;
	api->nstores = 0;
	pthread_mutex_unlock(&api->mtx);
	pthread_key_delete(api->store_key);
	pthread_mutex_destroy(&api->mtx);
	free(api->counts);
	free(api->listen);
	free(api->db_url);
	free(api->token);
	free(api);
}

/* Key destructor: a thread is exiting; its connection goes with it. */
static void
api_store_destroy(void *arg)
{
	(void)arg;
	/* Connections are closed by api_close(), which knows them all. */
}

/* This thread's store connection, opened on first use. */
static struct store *
api_thread_store(struct api *api, char **cause)
{
	struct store	*st;

	if ((st = pthread_getspecific(api->store_key)) != NULL)
		return (st);
	if (api->db_url == NULL) {
		*cause = xstrdup("no store configured");
		return (NULL);
	}
	if ((st = store_open(api->db_url, cause)) == NULL)
		return (NULL);
	pthread_setspecific(api->store_key, st);
	pthread_mutex_lock(&api->mtx);
	api->stores = xreallocarray(api->stores, api->nstores + 1,
	    sizeof *api->stores);
	api->stores[api->nstores++] = st;
	pthread_mutex_unlock(&api->mtx);
	return (st);
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
static int
api_authorized(struct api_req *req)
{
	const char	*h;

	if (req->api->token == NULL || (req->route != NULL &&
	    (req->route->flags & API_PUBLIC)))
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

/* Body limit for the route. */
static size_t
api_body_max(struct api_req *req)
{
	if (req->route != NULL && req->route->body == API_BODY_TEXT)
		return (req->api->cfg.max_definition);
	return (req->api->cfg.max_body);
}

/* First call: request id, route, auth, Content-Length. */
static void
api_begin(struct api_req *req, const char *url)
{
	const char	*cl;
	char		*end;
	unsigned long long n;
	size_t		 len;

	api_request_id(req);
	req->path = xstrdup(url);
	len = strlen(req->path);
	while (len > 1 && req->path[len - 1] == '/')
		req->path[--len] = '\0';
	buf_init(&req->body, 0);
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

	if (req->too_big) {
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
		req->store = api_thread_store(req->api, &cause);
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
	if (req->status == 0)
		api_error(req, 500, "Handler gave no answer");
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
	if (req->status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	MHD_add_response_header(resp, "X-Request-Id", req->rid);
	MHD_add_response_header(resp, "X-Openstack-Request-Id", req->rid);
	api_status_headers(req, resp);
	ret = MHD_queue_response(req->conn, req->status, resp);
	MHD_destroy_response(resp);

	api_metrics_count(req->api, req->route_idx, req->status);
	if (req->status >= 500)
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
	struct api	*api = cls;
	struct api_req	*req = *con_cls;

	if (req == NULL) {
		req = xcalloc(1, sizeof *req);
		req->api = api;
		req->conn = conn;
		req->method = method;
		req->start_ms = time_mono_ms();
		*con_cls = req;
		api_begin(req, url);
		if (req->status != 0) {
			/* Answer now; the body, if any, is not read. */
			req->answered = 1;
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
	api_dispatch(req);
	req->answered = 1;
	return (api_send(req));
}

/* The request is over (answered, or the client went away). */
static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	api_req_free(*con_cls);
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
	buf_free(&req->body);
	json_decref(req->json);
	json_decref(req->out);
	free(req->text);
	free(req->allow);
	free(req);
}
