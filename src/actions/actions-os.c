/*
 * actions-os.c -- os.request, the base action of every OpenStack call:
 * a service type, a method, a path under the service's endpoint, query,
 * body, microversion and the expected status codes.
 *
 * The request takes a token from its credential's Keystone session
 * (actions-os-auth.c), then runs as a std.http transfer on the I/O loop:
 * while it waits for Keystone, the service or a Retry-After delay it
 * holds no engine thread.  A 401 drops the token and the request is
 * sent once more with a new one; a 413, 429 or 503 with Retry-After is
 * sent again after the delay it asks for (at most a minute, three
 * times).  Redirects are not followed, so the token goes nowhere else.
 *
 * The result is {status, reason, content, headers, request_id, url};
 * a status not expected (2xx by default) fails the action with the same
 * object led by a message that quotes the service's error.  Token
 * headers are masked in it and no token or password appears anywhere.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

/* Retry-After: waits per request, and the longest wait (ms). */
#define OS_RETRY_TRIES		3
#define OS_RETRY_MAX_MS		(60 * 1000)
/* Longest service error message quoted in a failure. */
#define OS_MESSAGE_MAX		512

/*
 * Microversion headers by catalog type: OpenStack-API-Version with the
 * service's name, and the older per-service header where there is one.
 */
static const struct os_mv {
	const char	*type;
	const char	*name;
	const char	*legacy;
} os_mvs[] = {
	{ "compute", "compute", "X-OpenStack-Nova-API-Version" },
	{ "volume", "volume", NULL },
	{ "volumev3", "volume", NULL },
	{ "block-storage", "volume", NULL },
	{ "baremetal", "baremetal", "X-OpenStack-Ironic-API-Version" },
	{ "shared-file-system", "shared-file-system",
	  "X-OpenStack-Manila-API-Version" },
	{ "sharev2", "shared-file-system", "X-OpenStack-Manila-API-Version" },
	{ "placement", "placement", NULL },
	{ "instance-ha", "instance-ha", NULL },
};

/* One os.request, from its start to its one completion. */
struct os_req {
	struct os_session	*s;
	struct action_io	*io;
	char			*service;
	char			*method;
	char			*path;
	char			*iface;
	char			*region;
	char			*mv;		/* microversion or NULL */
	char			*reqid;		/* X-OpenStack-Request-ID */
	char			*what;		/* "compute GET /servers" */
	json_t			*query;
	json_t			*body;
	json_t			*headers;
	json_t			*expected;
	json_t			*timeout;
	char			*token;		/* of the last attempt */
	uint64_t		 gen;
	int			 reauth;	/* sent again after a 401 */
	int			 waits;		/* Retry-After waits */
	action_done_cb		 done;
	void			*arg;
};

static void	 os_request_run(const struct action_entry *, json_t *,
		     const struct action_ctx *, struct action_io *,
		     action_done_cb, void *);
static int	 os_req_setup(struct os_req *, json_t *, char **);
static void	 os_req_free(struct os_req *);
static void	 os_req_fail(struct os_req *, char *);
static void	 os_req_granted(void *, struct os_grant *);
static json_t	*os_req_input(struct os_req *, struct os_grant *, char **);
static void	 os_req_answered(void *, int, json_t *);
static void	 os_req_wake(void *, int, json_t *);
static int	 os_req_expected(struct os_req *, long long);
static int64_t	 os_retry_after(const char *);
static char	*os_error_text(json_t *);

static const struct action_param os_request_params[] = {
	{ "service", NULL, 1 },
	{ "method", "\"GET\"", 0 },
	{ "path", "\"\"", 0 },
	{ "query", "null", 0 },
	{ "body", "null", 0 },
	{ "microversion", "null", 0 },
	{ "expected", "null", 0 },
	{ "headers", "null", 0 },
	{ "cloud", "null", 0 },
	{ "interface", "null", 0 },
	{ "region", "null", 0 },
	{ "timeout", "60", 0 },
	{ NULL, NULL, 0 }
};

const struct action_entry action_os_request_entry = {
	.name = "os.request",
	.description = "Calls an OpenStack service found in the Keystone "
	    "catalog; the result is {status, content, headers, request_id}.",
	.params = os_request_params,
	.kind = ACTION_IO,
	.pure = 0,
	.run = os_request_run
};

/* Check the input, find the credential's session and ask for a token. */
static void
os_request_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	struct os_req	*r;
	char		*cause, *msg;
	const char	*cloud;

	if (io == NULL) {
		action_fail_new(done, arg, xstrdup("os.request: no I/O loop to "
		    "run in"));
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->io = io;
	r->done = done;
	r->arg = arg;
	if (os_req_setup(r, input, &cause) != 0) {
		os_req_free(r);
		xasprintf(&msg, "os.request: %s", cause);
		free(cause);
		action_fail_new(done, arg, msg);
		return;
	}
	/* The input's credentials, else the execution's, else borad's. */
	cloud = action_arg_string(input, "cloud");
	if (cloud == NULL && ctx != NULL)
		cloud = ctx->cloud;
	if ((r->s = os_session_find(cloud, &cause)) == NULL) {
		os_req_fail(r, cause);
		return;
	}
	os_session_use(r->s, io, r->service, r->iface, r->region,
	    os_req_granted, r);
}

/* Read and check the input into r; -1 + *cause. */
static int
os_req_setup(struct os_req *r, json_t *in, char **cause)
{
	json_t		*v, *c;
	const char	*s;
	char		 uuid[UUID_STRLEN];
	size_t		 i;
	long long	 code;

	s = action_arg_string(in, "service");
	if (s == NULL || *s == '\0' || strpbrk(s, " /?#") != NULL) {
		xasprintf(cause, "'service' must be a catalog service type "
		    "such as compute or identity");
		return (-1);
	}
	r->service = xstrdup(s);

	s = action_arg_string(in, "method");
	if (s == NULL || *s == '\0') {
		xasprintf(cause, "'method' must be a non-empty string");
		return (-1);
	}
	r->method = xstrdup(s);
	for (i = 0; r->method[i] != '\0'; i++) {
		if (!isalpha((u_char)r->method[i])) {
			xasprintf(cause, "bad method: %s", s);
			return (-1);
		}
		r->method[i] = toupper((u_char)r->method[i]);
	}

	v = json_object_get(in, "path");
	if (!json_is_string(v)) {
		xasprintf(cause, "'path' must be a string");
		return (-1);
	}
	s = json_string_value(v);
	if (strpbrk(s, "\r\n ") != NULL) {
		xasprintf(cause, "'path' has a space or a line break");
		return (-1);
	}
	r->path = xstrdup(s);
	xasprintf(&r->what, "%s %s%s%.*s", r->service, r->method,
	    *s != '\0' ? " " : "", (int)strcspn(s, "?"), s);

	v = json_object_get(in, "query");
	if (!json_is_null(v) && !json_is_object(v) && !json_is_string(v)) {
		xasprintf(cause, "'query' must be an object or a string");
		return (-1);
	}
	r->query = json_incref(v);
	r->body = json_incref(json_object_get(in, "body"));

	v = json_object_get(in, "microversion");
	if (json_is_string(v) && *json_string_value(v) != '\0')
		r->mv = xstrdup(json_string_value(v));
	else if (json_is_real(v) || json_is_integer(v))
		r->mv = json_dumps(v, JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(6));
	else if (!json_is_null(v) && !json_is_string(v)) {
		xasprintf(cause, "'microversion' must be a string such as "
		    "\"2.53\"");
		return (-1);
	}
	if (r->mv != NULL && strpbrk(r->mv, "\r\n") != NULL) {
		xasprintf(cause, "'microversion' has a line break");
		return (-1);
	}

	v = json_object_get(in, "expected");
	if (json_is_integer(v))
		r->expected = json_pack("[O]", v);
	else if (json_is_array(v))
		r->expected = json_incref(v);
	else if (!json_is_null(v)) {
		xasprintf(cause, "'expected' must be a status code or a list "
		    "of them");
		return (-1);
	}
	json_array_foreach(r->expected, i, c) {
		code = json_integer_value(c);
		if (!json_is_integer(c) || code < 100 || code > 599) {
			xasprintf(cause, "'expected': not a status code: %s",
			    json_is_string(c) ? json_string_value(c) : "?");
			return (-1);
		}
	}

	v = json_object_get(in, "headers");
	if (!json_is_null(v) && !json_is_object(v)) {
		xasprintf(cause, "'headers' must be an object");
		return (-1);
	}
	r->headers = json_is_object(v) ? json_deep_copy(v) : json_object();

	v = json_object_get(in, "cloud");
	if (!json_is_null(v) && !json_is_string(v)) {
		xasprintf(cause, "'cloud' must be the name of a clouds.yaml "
		    "entry");
		return (-1);
	}
	v = json_object_get(in, "interface");
	if (json_is_string(v))
		r->iface = xstrdup(json_string_value(v));
	else if (!json_is_null(v)) {
		xasprintf(cause, "'interface' must be public, internal or "
		    "admin");
		return (-1);
	}
	v = json_object_get(in, "region");
	if (json_is_string(v))
		r->region = xstrdup(json_string_value(v));
	else if (!json_is_null(v)) {
		xasprintf(cause, "'region' must be a string");
		return (-1);
	}
	r->timeout = json_incref(json_object_get(in, "timeout"));
	uuid_make(uuid);
	xasprintf(&r->reqid, "req-%s", uuid);
	return (0);
}

/* Free a request; NULL is a no-op. */
static void
os_req_free(struct os_req *r)
{
	if (r == NULL)
		return;
	free(r->service);
	free(r->method);
	free(r->path);
	free(r->iface);
	free(r->region);
	free(r->mv);
	free(r->reqid);
	free(r->what);
	free(r->token);
	json_decref(r->query);
	json_decref(r->body);
	json_decref(r->headers);
	json_decref(r->expected);
	json_decref(r->timeout);
	free(r);
}

/* Complete with "os.request compute GET /x: why" (why freed). */
static void
os_req_fail(struct os_req *r, char *why)
{
	const char	*secrets[] = { r->token, NULL };
	action_done_cb	 done = r->done;
	void		*arg = r->arg;
	char		*msg, *clean;

	xasprintf(&msg, "os.request %s: %s", r->what, why);
	free(why);
	clean = os_scrub(msg, secrets);
	free(msg);
	os_req_free(r);
	action_fail_new(done, arg, clean);
}

/* A token came (or the reason there is none): send the request. */
static void
os_req_granted(void *arg, struct os_grant *g)
{
	struct os_req	*r = arg;
	json_t		*in;
	char		*cause;

	if (g->error != NULL) {
		cause = g->error;
		g->error = NULL;
		os_grant_free(g);
		os_req_fail(r, cause);
		return;
	}
	free(r->token);
	r->token = g->token;
	g->token = NULL;
	r->gen = g->gen;
	in = os_req_input(r, g, &cause);
	os_grant_free(g);
	if (in == NULL) {
		os_req_fail(r, cause);
		return;
	}
	action_http_start(&action_os_request_entry, in, r->io,
	    os_req_answered, r);
	json_decref(in);
}

/* std.http's input for this attempt; NULL + *cause. */
static json_t *
os_req_input(struct os_req *r, struct os_grant *g, char **cause)
{
	const struct os_mv	*mv = NULL;
	json_t			*in, *h, *v;
	const char		*key, *p;
	char			*url, *hv, *origin;
	size_t			 i, len;
	void			*tmp;

	/* The URL: the endpoint and the path, or a URL on the endpoint. */
	if (strncmp(r->path, "http://", 7) == 0 ||
	    strncmp(r->path, "https://", 8) == 0) {
		p = strstr(g->url, "://");
		p = p != NULL ? p + 3 : g->url;
		len = strcspn(p, "/");
		origin = xstrndup(g->url, (p - g->url) + len);
		len = strlen(origin);
		if (strncmp(r->path, origin, len) != 0 ||
		    (r->path[len] != '\0' && r->path[len] != '/' &&
		    r->path[len] != '?')) {
			xasprintf(cause, "%s is not on the %s endpoint %s",
			    r->path, r->service, origin);
			free(origin);
			return (NULL);
		}
		free(origin);
		url = xstrdup(r->path);
	} else {
		len = strlen(g->url);
		while (len > 0 && g->url[len - 1] == '/')
			len--;
		xasprintf(&url, "%.*s%s%s", (int)len, g->url,
		    *r->path != '\0' && *r->path != '/' ? "/" : "", r->path);
	}

	/* Headers: the caller's, then ours, which win. */
	h = json_deep_copy(r->headers);
	tmp = NULL;
	json_object_foreach_safe(h, tmp, key, v) {
		if (strcasecmp(key, "X-Auth-Token") == 0 ||
		    strcasecmp(key, "X-OpenStack-Request-ID") == 0 ||
		    strcasecmp(key, "OpenStack-API-Version") == 0 ||
		    (r->mv != NULL && strcasecmp(key,
		    "X-OpenStack-Nova-API-Version") == 0))
			json_object_del(h, key);
	}
	if (os_header(h, "Accept") == NULL)
		json_object_set_new(h, "Accept",
		    json_string("application/json"));
	json_object_set_new(h, "X-Auth-Token", json_string(r->token));
	json_object_set_new(h, "X-OpenStack-Request-ID",
	    json_string(r->reqid));
	if (r->mv != NULL) {
		for (i = 0; i < nitems(os_mvs); i++) {
			if (strcmp(os_mvs[i].type, r->service) == 0) {
				mv = &os_mvs[i];
				break;
			}
		}
		xasprintf(&hv, "%s %s", mv != NULL ? mv->name : r->service,
		    r->mv);
		json_object_set_new(h, "OpenStack-API-Version",
		    json_string(hv));
		free(hv);
		if (mv != NULL && mv->legacy != NULL)
			json_object_set_new(h, mv->legacy,
			    json_string(r->mv));
	}

	in = json_pack("{s:s,s:s,s:O,s:o,s:b,s:O}", "url", url, "method",
	    r->method, "params", r->query, "headers", h, "allow_redirects", 0,
	    "timeout", r->timeout);
	free(url);
	if (g->cacert != NULL)
		json_object_set_new(in, "verify", json_string(g->cacert));
	else
		json_object_set_new(in, "verify", json_boolean(g->verify));
	if (json_is_string(r->body))
		json_object_set(in, "body", r->body);
	else if (!json_is_null(r->body))
		json_object_set(in, "json", r->body);
	return (in);
}

/* Retry-After as ms: seconds, or an HTTP date; -1 when unreadable. */
static int64_t
os_retry_after(const char *v)
{
	struct tm	 tm;
	char		*end;
	double		 d;
	int64_t		 ms;

	if (v == NULL)
		return (-1);
	d = strtod(v, &end);
	if (end != v && *end == '\0' && d >= 0)
		ms = (int64_t)(d * 1000);
	else {
		memset(&tm, 0, sizeof tm);
		end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end == NULL || *end != '\0')
			return (-1);
		ms = (int64_t)timegm(&tm) * 1000 - time_now_ms();
		if (ms < 0)
			ms = 0;
	}
	return (ms > OS_RETRY_MAX_MS ? OS_RETRY_MAX_MS : ms);
}

/* Whether status is one the caller expects (2xx when not said). */
static int
os_req_expected(struct os_req *r, long long status)
{
	json_t	*c;
	size_t	 i;

	if (r->expected == NULL)
		return (status >= 200 && status < 300);
	json_array_foreach(r->expected, i, c) {
		if (json_integer_value(c) == status)
			return (1);
	}
	return (0);
}

/*
 * The service's own words from an error body: Keystone's error.message,
 * Nova's {"conflictingRequest": {"message": ...}}, Heat's explanation,
 * a plain message, or the text itself; cut to OS_MESSAGE_MAX.
 */
static char *
os_error_text(json_t *content)
{
	const char	*msg = NULL, *key;
	json_t		*v;
	char		*s;

	if (json_is_string(content))
		msg = json_string_value(content);
	else if (json_is_object(content)) {
		msg = json_string_value(json_object_get(json_object_get(
		    content, "error"), "message"));
		if (msg == NULL)
			msg = json_string_value(json_object_get(content,
			    "message"));
		if (msg == NULL)
			msg = json_string_value(json_object_get(content,
			    "explanation"));
		if (msg == NULL)
			msg = json_string_value(json_object_get(content,
			    "faultstring"));
		if (msg == NULL && json_object_size(content) == 1) {
			json_object_foreach(content, key, v)
				msg = json_string_value(json_object_get(v,
				    "message"));
		}
	}
	if (msg == NULL || *msg == '\0')
		return (NULL);
	s = xstrndup(msg, OS_MESSAGE_MAX);
	s[strcspn(s, "\r\n")] = '\0';
	return (s);
}

/*
 * The service answered, or the transfer failed (on the I/O thread).
 * Retry once with a new token after a 401, wait out a Retry-After, or
 * complete with the result.
 */
static void
os_req_answered(void *arg, int ok, json_t *res)
{
	struct os_req	*r = arg;
	const char	*secrets[] = { r->token, NULL };
	json_t		*out, *headers;
	const char	*reason, *rid;
	char		*msg, *etext;
	long long	 status;
	int64_t		 wait;
	action_done_cb	 done;
	void		*darg;

	if (!json_is_object(res)) {
		/* A transport error: "os.request GET URL: why" from std.http. */
		msg = xstrdup(json_is_string(res) ? json_string_value(res) :
		    "request failed");
		if (strncmp(msg, "os.request ", 11) == 0)
			memmove(msg, msg + 11, strlen(msg + 11) + 1);
		json_decref(res);
		os_req_fail(r, msg);
		return;
	}
	status = json_integer_value(json_object_get(res, "status"));
	headers = json_object_get(res, "headers");
	log_debug("os.request %s: %lld", r->what, status);

	if (status == 401 && !r->reauth) {
		r->reauth = 1;
		json_decref(res);
		os_session_reject(r->s, r->gen);
		os_session_use(r->s, r->io, r->service, r->iface, r->region,
		    os_req_granted, r);
		return;
	}
	if ((status == 413 || status == 429 || status == 503) &&
	    r->waits < OS_RETRY_TRIES &&
	    (wait = os_retry_after(os_header(headers, "Retry-After"))) >=
	    0) {
		r->waits++;
		log_info("os.request %s: %lld, again in %lld ms as "
		    "Retry-After asks", r->what, status, (long long)wait);
		json_decref(res);
		action_io_after(r->io, wait, 1, NULL, os_req_wake, r);
		return;
	}

	ok = os_req_expected(r, status);
	os_redact_headers(headers);
	rid = os_header(headers, "X-OpenStack-Request-ID");
	if (rid == NULL)
		rid = os_header(headers, "X-Compute-Request-ID");
	reason = json_string_value(json_object_get(res, "reason"));
	out = json_object();
	if (!ok) {
		etext = os_error_text(json_object_get(res, "content"));
		xasprintf(&msg, "os.request %s: %lld%s%s%s%s%s", r->what,
		    status, reason != NULL && *reason != '\0' ? " " : "",
		    reason != NULL ? reason : "", etext != NULL ? ": " : "",
		    etext != NULL ? etext : "", status == 401 ?
		    " (refused again with a new token)" : "");
		json_object_set_new(out, "message", json_string(msg));
		free(msg);
		free(etext);
	}
	json_object_set_new(out, "status", json_integer(status));
	json_object_set_new(out, "reason", json_string(reason != NULL ?
	    reason : ""));
	json_object_set(out, "content", json_object_get(res, "content"));
	json_object_set(out, "headers", headers);
	json_object_set_new(out, "request_id", rid != NULL ?
	    json_string(rid) : json_string(r->reqid));
	json_object_set(out, "url", json_object_get(res, "url"));
	json_decref(res);
	os_scrub_json(out, secrets);
	done = r->done;
	darg = r->arg;
	os_req_free(r);
	done(darg, ok, out);
}

/* A Retry-After delay is over: send again (with a fresh token). */
static void
os_req_wake(void *arg, int ok, json_t *res)
{
	struct os_req	*r = arg;
	char		*msg;

	if (!ok) {
		msg = xstrdup(json_is_string(res) ? json_string_value(res) :
		    "stopped while waiting for Retry-After");
		json_decref(res);
		os_req_fail(r, msg);
		return;
	}
	json_decref(res);
	os_session_use(r->s, r->io, r->service, r->iface, r->region,
	    os_req_granted, r);
}
