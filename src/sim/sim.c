/*
 * sim.c -- the simulated cloud's front: the routing table, answers and
 * errors in each service's shape, the JSON line logged per call, and
 * `bora sim` itself on libmicrohttpd.
 *
 * A call goes: lock the cloud, bring it up to now (operations that are
 * due finish, scenario events fire), find the route, read the body and
 * Nova's microversion, apply an injected fault if one matches, check
 * the token (and the admin role where Nova's policy wants it), run the
 * handler.  Every route is one row of sim_routes[].
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sim/sim-int.h"

#define SIM_MAX_BODY		(1024 * 1024)
#define SIM_DEFAULT_LISTEN	"127.0.0.1:8774"

/* Who may call a route. */
enum sim_auth {
	SIM_OPEN = 0,		/* no token */
	SIM_TOKEN,		/* a valid token */
	SIM_ADMIN		/* a valid token with the admin role */
};

static const struct sim_route {
	const char	*method;
	const char	*path;		/* "{}" matches one segment */
	enum sim_auth	 auth;
	int		 nova;		/* Nova: microversion headers */
	const char	*policy;	/* named in a 403 */
	void		(*fn)(struct sim_call *);
} sim_routes[] = {
	{ "GET", "/identity", SIM_OPEN, 0, NULL, sim_ks_versions },
	{ "GET", "/identity/v3", SIM_OPEN, 0, NULL, sim_ks_version },
	{ "POST", "/identity/v3/auth/tokens", SIM_OPEN, 0, NULL,
	  sim_ks_issue },
	{ "GET", "/identity/v3/auth/tokens", SIM_TOKEN, 0, NULL,
	  sim_ks_validate },
	{ "HEAD", "/identity/v3/auth/tokens", SIM_TOKEN, 0, NULL,
	  sim_ks_validate },
	{ "DELETE", "/identity/v3/auth/tokens", SIM_TOKEN, 0, NULL,
	  sim_ks_revoke },
	{ "POST", "/identity/v3/users/{}/application_credentials", SIM_TOKEN,
	  0, NULL, sim_ks_appcred_create },
	{ "GET", "/identity/v3/users/{}/application_credentials", SIM_TOKEN,
	  0, NULL, sim_ks_appcred_list },

	{ "GET", "/compute/v2.1", SIM_OPEN, 1, NULL, sim_nova_version },
	{ "GET", "/compute/v2.1/servers", SIM_TOKEN, 1, NULL,
	  sim_nova_servers },
	{ "GET", "/compute/v2.1/servers/detail", SIM_TOKEN, 1, NULL,
	  sim_nova_servers_detail },
	{ "GET", "/compute/v2.1/servers/{}", SIM_TOKEN, 1, NULL,
	  sim_nova_server },
	{ "POST", "/compute/v2.1/servers/{}/action", SIM_TOKEN, 1, NULL,
	  sim_nova_action },
	{ "GET", "/compute/v2.1/servers/{}/os-instance-actions", SIM_TOKEN,
	  1, NULL, sim_nova_instance_actions },
	{ "GET", "/compute/v2.1/servers/{}/migrations", SIM_ADMIN, 1,
	  "os_compute_api:servers:migrations:index",
	  sim_nova_server_migrations },
	{ "GET", "/compute/v2.1/os-services", SIM_ADMIN, 1,
	  "os_compute_api:os-services:list", sim_nova_services },
	{ "PUT", "/compute/v2.1/os-services/{}", SIM_ADMIN, 1,
	  "os_compute_api:os-services:update", sim_nova_service_update },
	{ "GET", "/compute/v2.1/os-hypervisors", SIM_ADMIN, 1,
	  "os_compute_api:os-hypervisors:list", sim_nova_hypervisors },
	{ "GET", "/compute/v2.1/os-hypervisors/detail", SIM_ADMIN, 1,
	  "os_compute_api:os-hypervisors:list-detail",
	  sim_nova_hypervisors_detail },
	{ "GET", "/compute/v2.1/os-hypervisors/{}", SIM_ADMIN, 1,
	  "os_compute_api:os-hypervisors:show", sim_nova_hypervisor },
	{ "GET", "/compute/v2.1/os-aggregates", SIM_ADMIN, 1,
	  "os_compute_api:os-aggregates:index", sim_nova_aggregates },
	{ "GET", "/compute/v2.1/os-aggregates/{}", SIM_ADMIN, 1,
	  "os_compute_api:os-aggregates:show", sim_nova_aggregate },
	{ "POST", "/compute/v2.1/os-aggregates/{}/action", SIM_ADMIN, 1,
	  "os_compute_api:os-aggregates:add_host", sim_nova_aggregate_action },
	{ "GET", "/compute/v2.1/os-migrations", SIM_ADMIN, 1,
	  "os_compute_api:os-migrations:index", sim_nova_migrations },

	{ "GET", "/_sim/state", SIM_OPEN, 0, NULL, sim_ctl_state },
	{ "POST", "/_sim/hosts/{}", SIM_OPEN, 0, NULL, sim_ctl_host },
	{ "POST", "/_sim/faults", SIM_OPEN, 0, NULL, sim_ctl_fault },
	{ "POST", "/_sim/reset", SIM_OPEN, 0, NULL, sim_ctl_reset },
};

/* Nova's error keys by status. */
static const struct {
	int		 status;
	const char	*key;
	const char	*title;
} sim_errors[] = {
	{ 400, "badRequest", "Bad Request" },
	{ 401, "unauthorized", "Unauthorized" },
	{ 403, "forbidden", "Forbidden" },
	{ 404, "itemNotFound", "Not Found" },
	{ 405, "badMethod", "Method Not Allowed" },
	{ 406, "notAcceptable", "Not Acceptable" },
	{ 409, "conflictingRequest", "Conflict" },
	{ 413, "overLimit", "Request Entity Too Large" },
	{ 429, "overLimit", "Too Many Requests" },
	{ 500, "computeFault", "Internal Server Error" },
	{ 501, "notImplemented", "Not Implemented" },
	{ 503, "serviceUnavailable", "Service Unavailable" },
};

/* Request headers worth a place in the log. */
static const char *const sim_logged_headers[] = {
	"openstack-api-version", "x-openstack-nova-api-version",
	"x-openstack-request-id", "content-type"
};

/* Body keys whose values are secrets, masked in the log. */
static const char *const sim_secret_keys[] = {
	"password", "secret", "adminPass"
};

static int	 sim_match(const char *, const char *, const char **);
static int	 sim_mv_parse(struct sim_call *);
static int	 sim_fault_apply(struct sim_call *);
static void	 sim_mask(json_t *);

/* ------------------------------------------------------------------ */
/* The cloud.                                                          */

/* A cloud from a scenario, or the built-in one. */
struct sim *
sim_create(const char *scenario, double delay_s, char **cause)
{
	struct sim	*s;

	*cause = NULL;
	s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->mtx, NULL);
	s->scenario = scenario != NULL ? xstrdup(scenario) : NULL;
	s->delay_override = delay_s;
	if (sim_scenario_load(s, scenario, cause) != 0) {
		sim_free(s);
		return (NULL);
	}
	return (s);
}

/* Free the cloud; NULL is a no-op. */
void
sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	sim_state_clear(s);
	pthread_mutex_destroy(&s->mtx);
	free(s->scenario);
	free(s);
}

/* Release a response's references. */
void
sim_response_clear(struct sim_response *r)
{
	json_decref(r->body);
	json_decref(r->headers);
	r->body = NULL;
	r->headers = NULL;
}

/* Match path against a route pattern; arg[] gets the {} segments. */
static int
sim_match(const char *pat, const char *path, const char **arg)
{
	static _Thread_local char seg[2][256];
	size_t			 n = 0, len;

	while (*pat != '\0' || *path != '\0') {
		if (strncmp(pat, "{}", 2) == 0) {
			len = strcspn(path, "/");
			if (len == 0 || len >= sizeof seg[0] || n >= 2)
				return (0);
			memcpy(seg[n], path, len);
			seg[n][len] = '\0';
			arg[n] = seg[n];
			n++;
			pat += 2;
			path += len;
			continue;
		}
		if (*pat != *path)
			return (0);
		pat++;
		path++;
	}
	return (1);
}

/* Answer with status and body (taken). */
void
sim_reply(struct sim_call *c, int status, json_t *body)
{
	json_decref(c->resp->body);
	c->resp->status = status;
	c->resp->body = body;
}

/* An error in the shape of the service the path belongs to. */
void
sim_error(struct sim_call *c, int status, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*key = "computeFault", *title = "Error";
	size_t		 i;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	for (i = 0; i < nitems(sim_errors); i++) {
		if (sim_errors[i].status == status) {
			key = sim_errors[i].key;
			title = sim_errors[i].title;
		}
	}
	if (status == 401 || strncmp(c->req->path, "/identity", 9) == 0)
		sim_reply(c, status, json_pack("{s:{s:i,s:s,s:s}}", "error",
		    "code", status, "title", title, "message", msg));
	else
		sim_reply(c, status, json_pack("{s:{s:i,s:s}}", key, "code",
		    status, "message", msg));
	free(msg);
}

/*
 * Nova's microversion from OpenStack-API-Version ("compute 2.53") or
 * X-OpenStack-Nova-API-Version; none is 2.1, "latest" the maximum.
 * Echoed in the answer.  -1 after answering 400 or 406.
 */
static int
sim_mv_parse(struct sim_call *c)
{
	const char	*h, *v = NULL, *p;
	char		*end, buf[16];
	long		 major, minor;

	h = json_string_value(json_object_get(c->req->headers,
	    "openstack-api-version"));
	if (h != NULL) {
		/* "compute 2.53", maybe among other services. */
		for (p = h; (p = strstr(p, "compute")) != NULL; p += 7) {
			if ((p == h || p[-1] == ' ' || p[-1] == ',') &&
			    p[7] == ' ') {
				v = p + 8;
				break;
			}
		}
	}
	if (v == NULL)
		v = json_string_value(json_object_get(c->req->headers,
		    "x-openstack-nova-api-version"));
	if (v == NULL)
		c->mv = SIM_MV_MIN;
	else if (strncmp(v, "latest", 6) == 0)
		c->mv = SIM_MV_MAX;
	else {
		major = strtol(v, &end, 10);
		if (*end != '.') {
			sim_error(c, 400, "Invalid API version request: %.20s",
			    v);
			return (-1);
		}
		minor = strtol(end + 1, &end, 10);
		if ((*end != '\0' && *end != ',' && *end != ' ') ||
		    major < 0 || major > 99 || minor < 0 || minor > 999) {
			sim_error(c, 400, "Invalid API version request: %.20s",
			    v);
			return (-1);
		}
		c->mv = SIM_MV(major, minor);
		if (c->mv < SIM_MV_MIN || c->mv > SIM_MV_MAX) {
			sim_error(c, 406, "Version %ld.%ld is not supported "
			    "by the API. Minimum is 2.1 and maximum is 2.93.",
			    major, minor);
			return (-1);
		}
	}
	snprintf(buf, sizeof buf, "%d.%d", c->mv / 1000, c->mv % 1000);
	json_object_set_new(c->resp->headers, "X-OpenStack-Nova-API-Version",
	    json_string(buf));
	json_object_set_new(c->resp->headers, "OpenStack-API-Version",
	    json_sprintf("compute %s", buf));
	json_object_set_new(c->resp->headers, "Vary",
	    json_string("OpenStack-API-Version, X-OpenStack-Nova-API-Version"));
	return (0);
}

/* A scenario fault that matches this call answers it; 1 if one did. */
static int
sim_fault_apply(struct sim_call *c)
{
	struct sim_fault	*f;
	const char		*key;
	json_t			*v;
	size_t			 i;
	int			 has;
	char			 ra[32];

	for (i = 0; i < c->sim->nfaults; i++) {
		f = c->sim->faults[i];
		if (f->times == 0)
			continue;
		if (f->method != NULL && strcasecmp(f->method,
		    c->req->method) != 0)
			continue;
		if (f->path != NULL && fnmatch(f->path, c->req->path, 0) != 0)
			continue;
		if (f->action != NULL) {
			has = 0;
			json_object_foreach(c->body, key, v) {
				if (strcmp(key, f->action) == 0)
					has = 1;
			}
			if (!has)
				continue;
		}
		if (f->skip > 0) {
			f->skip--;
			continue;
		}
		if (f->times > 0)
			f->times--;
		sim_error(c, f->status, "%s", f->message != NULL ? f->message :
		    "Injected by the scenario.");
		if (f->retry_after >= 0) {
			snprintf(ra, sizeof ra, "%g", f->retry_after);
			json_object_set_new(c->resp->headers, "Retry-After",
			    json_string(ra));
		}
		return (1);
	}
	return (0);
}

/* Answer one request. */
void
sim_handle(struct sim *s, const struct sim_request *req,
    struct sim_response *resp)
{
	const struct sim_route	*rt = NULL;
	struct sim_call		 c;
	json_error_t		 jerr;
	const char		*tok;
	char			 path[1024], uuid[UUID_STRLEN], rid[48];
	size_t			 i, len;
	int			 path_found = 0;

	memset(resp, 0, sizeof *resp);
	resp->headers = json_object();
	memset(&c, 0, sizeof c);
	c.sim = s;
	c.req = req;
	c.resp = resp;

	len = strlen(req->path);
	if (len >= sizeof path)
		len = sizeof path - 1;
	memcpy(path, req->path, len);
	while (len > 1 && path[len - 1] == '/')
		len--;
	path[len] = '\0';

	pthread_mutex_lock(&s->mtx);
	c.now = time_mono_ms();
	sim_tick(s, c.now);
	resp->latency_ms = s->latency_ms;
	uuid_make(uuid);
	snprintf(rid, sizeof rid, "req-%s", uuid);
	json_object_set_new(resp->headers, "X-OpenStack-Request-ID",
	    json_string(rid));

	for (i = 0; i < nitems(sim_routes); i++) {
		if (!sim_match(sim_routes[i].path, path, c.arg))
			continue;
		path_found = 1;
		if (strcmp(sim_routes[i].method, req->method) == 0) {
			rt = &sim_routes[i];
			break;
		}
	}
	if (rt == NULL) {
		if (path_found)
			sim_error(&c, 405, "The method %s is not allowed on "
			    "%s.", req->method, path);
		else
			sim_error(&c, 404, "The resource could not be found.");
		goto out;
	}
	/* The route's {} segments were copied by sim_match. */
	sim_match(rt->path, path, c.arg);
	if (rt->nova) {
		json_object_set_new(resp->headers, "X-Compute-Request-ID",
		    json_string(rid));
		if (sim_mv_parse(&c) != 0)
			goto out;
	}
	if (req->body_len > 0) {
		c.body = json_loadb(req->body, req->body_len, 0, &jerr);
		if (c.body == NULL) {
			sim_error(&c, 400, "Malformed request body: %s",
			    jerr.text);
			goto out;
		}
	}
	if (sim_fault_apply(&c))
		goto out;
	if (rt->auth != SIM_OPEN) {
		tok = json_string_value(json_object_get(req->headers,
		    "x-auth-token"));
		if ((c.token = sim_ks_token(s, tok, c.now)) == NULL) {
			sim_error(&c, 401, "The request you have made requires "
			    "authentication.");
			goto out;
		}
		if (rt->auth == SIM_ADMIN && !sim_ks_admin(c.token)) {
			sim_error(&c, 403, "Policy doesn't allow %s to be "
			    "performed.", rt->policy);
			goto out;
		}
	}
	rt->fn(&c);
	if (resp->status == 0)
		sim_error(&c, 500, "The simulator gave no answer.");

out:
	s->seq++;
	pthread_mutex_unlock(&s->mtx);
	json_decref(c.body);
}

/* Mask the values of secret keys, at any depth. */
static void
sim_mask(json_t *v)
{
	const char	*key;
	json_t		*item;
	size_t		 i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			for (i = 0; i < nitems(sim_secret_keys); i++) {
				if (strcmp(key, sim_secret_keys[i]) == 0 &&
				    json_is_string(item))
					break;
			}
			if (i < nitems(sim_secret_keys))
				json_object_set_new(v, key,
				    json_string("***"));
			else
				sim_mask(item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			sim_mask(item);
	}
}

/*
 * The log line of a call: time, method, path, query, chosen headers,
 * the caller's token as its audit id, the body and the answer with
 * secrets masked, status and elapsed time.
 */
char *
sim_log_line(struct sim *s, const struct sim_request *req,
    const struct sim_response *resp, int64_t elapsed_ms)
{
	json_t		*line, *h, *v;
	const char	*tok, *sub;
	char		*text, ts[32];
	size_t		 i;

	sim_time(time_now_ms(), 1, ts);
	line = json_pack("{s:s,s:s,s:s}", "time", ts, "method", req->method,
	    "path", req->path);
	json_object_set_new(line, "query", req->query != NULL ?
	    json_deep_copy(req->query) : json_object());
	h = json_object();
	for (i = 0; i < nitems(sim_logged_headers); i++) {
		v = json_object_get(req->headers, sim_logged_headers[i]);
		if (v != NULL)
			json_object_set(h, sim_logged_headers[i], v);
	}
	json_object_set_new(line, "headers", h);

	tok = json_string_value(json_object_get(req->headers,
	    "x-auth-token"));
	sub = json_string_value(json_object_get(req->headers,
	    "x-subject-token"));
	pthread_mutex_lock(&s->mtx);
	for (i = 0; i < s->ntokens; i++) {
		if (tok != NULL && strcmp(s->tokens[i]->token, tok) == 0)
			json_object_set_new(line, "token",
			    json_string(s->tokens[i]->audit));
		if (sub != NULL && strcmp(s->tokens[i]->token, sub) == 0)
			json_object_set_new(line, "subject",
			    json_string(s->tokens[i]->audit));
	}
	pthread_mutex_unlock(&s->mtx);
	if (tok != NULL && json_object_get(line, "token") == NULL)
		json_object_set_new(line, "token", json_string("unknown"));
	if (sub != NULL && json_object_get(line, "subject") == NULL)
		json_object_set_new(line, "subject", json_string("unknown"));

	v = NULL;
	if (req->body_len > 0) {
		v = json_loadb(req->body, req->body_len, 0, NULL);
		if (v == NULL)
			v = json_stringn(req->body, req->body_len);
		if (v == NULL)
			v = json_string("(not UTF-8)");
		sim_mask(v);
	}
	json_object_set_new(line, "body", v != NULL ? v : json_null());
	json_object_set_new(line, "status", json_integer(resp->status));
	v = resp->body != NULL ? json_deep_copy(resp->body) : json_null();
	sim_mask(v);
	json_object_set_new(line, "response", v);
	json_object_set_new(line, "ms", json_integer(elapsed_ms));
	text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	return (text);
}

/* ------------------------------------------------------------------ */
/* bora sim: the HTTP server.                                          */

/* What a connection has read so far. */
struct sim_conn {
	struct buf	 body;
	int		 toobig;
	int64_t		 start;
};

static struct sim	*sim_cloud;
static FILE		*sim_logf;
static pthread_mutex_t	 sim_log_mtx = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result	sim_collect(void *, enum MHD_ValueKind, const char *,
			    const char *);
static enum MHD_Result	sim_access(void *, struct MHD_Connection *,
			    const char *, const char *, const char *,
			    const char *, size_t *, void **);
static void		sim_completed(void *, struct MHD_Connection *,
			    void **, enum MHD_RequestTerminationCode);
static int		sim_usage(FILE *, int);

/* Collect headers (names in lower case) or query arguments. */
static enum MHD_Result
sim_collect(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	json_t	*obj = arg;
	char	*k;
	size_t	 i;

	k = xstrdup(key);
	if (kind == MHD_HEADER_KIND) {
		for (i = 0; k[i] != '\0'; i++)
			if (k[i] >= 'A' && k[i] <= 'Z')
				k[i] += 'a' - 'A';
	}
	json_object_set_new(obj, k, json_string(value != NULL ? value : ""));
	free(k);
	return (MHD_YES);
}

/* libmicrohttpd's handler: read the body, answer, log. */
static enum MHD_Result
sim_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct sim_conn		*sc = *con_cls;
	struct sim_request	 req;
	struct sim_response	 resp;
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	json_t			*headers, *query, *v;
	const char		*host, *key;
	char			*text, *base, *line;
	int64_t			 now;

	if (sc == NULL) {
		sc = xcalloc(1, sizeof *sc);
		buf_init(&sc->body, SIM_MAX_BODY);
		sc->start = time_mono_ms();
		*con_cls = sc;
		return (MHD_YES);
	}
	if (*upload_size != 0) {
		if (buf_add(&sc->body, upload, *upload_size) != 0)
			sc->toobig = 1;
		*upload_size = 0;
		return (MHD_YES);
	}

	headers = json_object();
	query = json_object();
	MHD_get_connection_values(conn, MHD_HEADER_KIND, sim_collect,
	    headers);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, sim_collect,
	    query);
	host = json_string_value(json_object_get(headers, "host"));
	xasprintf(&base, "http://%s", host != NULL ? host : "127.0.0.1");
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = url;
	req.query = query;
	req.headers = headers;
	req.body = sc->body.data;
	req.body_len = sc->body.len;
	req.base_url = base;
	if (sc->toobig) {
		memset(&resp, 0, sizeof resp);
		resp.status = 413;
		resp.headers = json_object();
		resp.body = json_pack("{s:{s:i,s:s}}", "overLimit", "code", 413,
		    "message", "Request is too large.");
	} else
		sim_handle(sim_cloud, &req, &resp);
	if (resp.latency_ms > 0)
		usleep((useconds_t)resp.latency_ms * 1000);

	text = resp.body != NULL ? json_dumps(resp.body, JSON_COMPACT) : NULL;
	r = MHD_create_response_from_buffer(text != NULL ? strlen(text) : 0,
	    text != NULL ? text : (char *)"", MHD_RESPMEM_MUST_COPY);
	if (text != NULL)
		MHD_add_response_header(r, "Content-Type", "application/json");
	json_object_foreach(resp.headers, key, v)
		MHD_add_response_header(r, key, json_string_value(v));
	ret = MHD_queue_response(conn, (unsigned int)resp.status, r);
	MHD_destroy_response(r);
	free(text);

	now = time_mono_ms();
	line = sim_log_line(sim_cloud, &req, &resp, now - sc->start);
	pthread_mutex_lock(&sim_log_mtx);
	fprintf(sim_logf, "%s\n", line);
	fflush(sim_logf);
	pthread_mutex_unlock(&sim_log_mtx);
	free(line);

	sim_response_clear(&resp);
	json_decref(headers);
	json_decref(query);
	free(base);
	return (ret);
}

/* A request is over: free what its connection read. */
static void
sim_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode code)
{
	struct sim_conn	*sc = *con_cls;

	if (sc == NULL)
		return;
	buf_free(&sc->body);
	free(sc);
	*con_cls = NULL;
}

static int
sim_usage(FILE *f, int rc)
{
	fprintf(f,
"usage: bora sim [--listen HOST:PORT] [--scenario FILE] [--log FILE]\n"
"                [--delay SECONDS] [--port-file FILE]\n"
"\n"
"A simulated OpenStack cloud to rehearse recovery workflows on: Keystone\n"
"v3 at /identity and Nova (2.1 to 2.93) at /compute/v2.1, stateful, with\n"
"operations that take time and failures injected from a scenario file.\n"
"Each call is logged as one JSON line.  Without a scenario the cloud has\n"
"four compute hosts, three servers on compute-1 and the users\n"
"admin/secret (project admin) and demo/demo (project demo).\n"
"\n"
"Options:\n"
"  --listen HOST:PORT  where to listen (default " SIM_DEFAULT_LISTEN ");\n"
"                      port 0 picks a free one\n"
"  --scenario FILE     the cloud and its failures (YAML; see bora-sim(1))\n"
"  --log FILE          append the JSON lines to FILE (default: stdout)\n"
"  --delay SECONDS     every operation takes this long (0: done at the\n"
"                      next call); default the scenario's delays\n"
"  --port-file FILE    write the port to FILE once listening\n"
"\n"
"Control: GET /_sim/state, POST /_sim/hosts/NAME {\"alive\": false},\n"
"POST /_sim/faults {...}, POST /_sim/reset.  Stop with SIGINT or SIGTERM.\n");
	return (rc);
}

/* bora sim [options]: serve until SIGINT or SIGTERM. */
int
sim_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "scenario", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'L' },
		{ "delay", required_argument, NULL, 'd' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const union MHD_DaemonInfo	*info;
	struct MHD_Daemon		*d;
	struct sockaddr_in		 sa;
	sigset_t			 set;
	const char			*listen = SIM_DEFAULT_LISTEN;
	const char			*scenario = NULL, *logpath = NULL;
	const char			*portfile = NULL, *colon;
	char				*cause, *end, host[64];
	double				 delay = -1;
	long				 port;
	int				 ch, sig;
	FILE				*pf;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen = optarg;
			break;
		case 's':
			scenario = optarg;
			break;
		case 'L':
			logpath = optarg;
			break;
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || delay < 0 ||
			    delay > 86400) {
				fprintf(stderr, "bora sim: --delay: not a "
				    "number of seconds: %s\n", optarg);
				return (2);
			}
			break;
		case 'p':
			portfile = optarg;
			break;
		case 'h':
			return (sim_usage(stdout, 0));
		default:
			return (sim_usage(stderr, 2));
		}
	}
	if (optind != argc)
		return (sim_usage(stderr, 2));

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	colon = strrchr(listen, ':');
	port = colon != NULL ? strtol(colon + 1, &end, 10) : -1;
	if (colon == NULL || *end != '\0' || colon[1] == '\0' || port < 0 ||
	    port > 65535 || (size_t)(colon - listen) >= sizeof host) {
		fprintf(stderr, "bora sim: --listen: want HOST:PORT, not "
		    "'%s'\n", listen);
		return (2);
	}
	memcpy(host, listen, colon - listen);
	host[colon - listen] = '\0';
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" :
	    host, &sa.sin_addr) != 1) {
		fprintf(stderr, "bora sim: --listen: not an IPv4 address: "
		    "%s\n", host);
		return (2);
	}
	sa.sin_port = htons((uint16_t)port);

	if ((sim_cloud = sim_create(scenario, delay, &cause)) == NULL) {
		fprintf(stderr, "bora sim: %s\n", cause);
		free(cause);
		return (1);
	}
	if (logpath == NULL || strcmp(logpath, "-") == 0)
		sim_logf = stdout;
	else if ((sim_logf = fopen(logpath, "a")) == NULL) {
		fprintf(stderr, "bora sim: %s: %s\n", logpath,
		    strerror(errno));
		sim_free(sim_cloud);
		return (1);
	}

	/* Signals are taken by sigwait below, not by the server threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    sim_access, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, sim_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bora sim: cannot listen on %s: %s\n", listen,
		    errno != 0 ? strerror(errno) : "libmicrohttpd failed");
		sim_free(sim_cloud);
		return (1);
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	port = info != NULL ? info->port : port;
	fprintf(stderr, "bora sim: Keystone http://%s:%ld/identity, Nova "
	    "http://%s:%ld/compute/v2.1%s%s\n", host, port, host, port,
	    scenario != NULL ? ", scenario " : "", scenario != NULL ?
	    scenario : "");
	if (portfile != NULL) {
		if ((pf = fopen(portfile, "w")) == NULL) {
			fprintf(stderr, "bora sim: %s: %s\n", portfile,
			    strerror(errno));
			MHD_stop_daemon(d);
			sim_free(sim_cloud);
			return (1);
		}
		fprintf(pf, "%ld\n", port);
		fclose(pf);
	}

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
	MHD_stop_daemon(d);
	if (sim_logf != stdout)
		fclose(sim_logf);
	sim_free(sim_cloud);
	return (0);
}
