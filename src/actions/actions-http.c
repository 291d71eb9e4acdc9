/*
 * actions-http.c -- std.http and std.mistral_http: an HTTP request built
 * from the action input as a curl easy handle, run by the I/O loop.
 *
 * The result follows Mistral (python-requests):
 * {content, status, headers, url, reason, elapsed}, content decoded
 * from JSON when it parses and the text otherwise.  A status outside
 * 200..399 fails the action with that same object; a transport error
 * fails it with a string naming the method, URL and curl's message.
 * std.mistral_http adds the Mistral-* headers and, once the request
 * succeeded, stays pending: its result comes through the API callback,
 * PUT /v2/action_executions/{id}, whose full URL it sends as
 * Mistral-Callback-URL.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/lib.h"
#include "actions/actions-int.h"

/* Cap on the response headers of one transfer. */
#define ACTION_HTTP_MAX_HEADERS	(1024 * 1024)
#define ACTION_HTTP_MAX_REDIRS	30

/*
 * One request in flight.  xfer comes first so the loop's pointer is
 * ours.  resp holds the body up to the loop's cap (toobig is set when a
 * write went past it); hdrs holds the headers of the last response seen
 * (reset at each status line, so redirects leave only the final one).
 */
struct action_http {
	struct action_xfer	 xfer;
	const struct action_entry *ae;
	int			 async;
	char			*method;
	char			*url;	/* with the query string */
	struct curl_slist	*headers;
	struct buf		 resp;
	int			 toobig;
	json_t			*hdrs;
	size_t			 hdrs_len;
	char			*reason;
	char			 errbuf[CURL_ERROR_SIZE];
	action_done_cb		 done;
	void			*arg;
};

static void	 action_http_run(const struct action_entry *, json_t *,
		     const struct action_ctx *, struct action_io *,
		     action_done_cb, void *);
static void	 action_http_free(struct action_http *);
static void	 action_http_finish(struct action_xfer *, CURLcode, int);
static int	 action_http_setup(struct action_http *, json_t *,
		     const struct action_ctx *, char **);
static char	*action_http_callback(const struct action_ctx *);
static char	*action_http_value(json_t *);
static int	 action_http_query(CURL *, struct buf *, const char *,
		     json_t *, char **);
static int	 action_http_header(struct action_http *, const char *,
		     const char *, char **);
static size_t	 action_http_write_cb(char *, size_t, size_t, void *);
static size_t	 action_http_header_cb(char *, size_t, size_t, void *);

static const struct action_param action_http_params[] = {
	{ "url", NULL, 1 },
	{ "method", "\"GET\"", 0 },
	{ "params", "null", 0 },
	{ "body", "null", 0 },
	{ "json", "null", 0 },
	{ "headers", "null", 0 },
	{ "cookies", "null", 0 },
	{ "auth", "null", 0 },
	{ "timeout", "null", 0 },
	{ "allow_redirects", "true", 0 },
	{ "proxies", "null", 0 },
	{ "verify", "true", 0 },
	{ NULL, NULL, 0 }
};

const struct action_entry action_std_http_entry = {
	.name = "std.http",
	.description = "Sends an HTTP request; the result is {content, "
	    "status, headers, url}.",
	.params = action_http_params,
	.kind = ACTION_IO,
	.pure = 0,
	.run = action_http_run
};

const struct action_entry action_std_mistral_http_entry = {
	.name = "std.mistral_http",
	.description = "Sends an HTTP request with the Mistral-* headers; "
	    "the result comes back through the callback URL.",
	.params = action_http_params,
	.kind = ACTION_ASYNC,
	.pure = 0,
	.run = action_http_run
};

/* Build the request (loading libcurl first) and hand it to the loop. */
static void
action_http_run(const struct action_entry *ae, json_t *input,
    const struct action_ctx *ctx, struct action_io *io, action_done_cb done,
    void *arg)
{
	struct action_http	*h;
	char			*cause;

	if (!action_can_start(ae, io, dl_curl_load, done, arg))
		return;
	h = xcalloc(1, sizeof *h);
	h->ae = ae;
	h->async = (ae->kind == ACTION_ASYNC);
	h->done = done;
	h->arg = arg;
	h->hdrs = json_object();
	buf_init(&h->resp, action_io_max_body(io));
	h->xfer.finish = action_http_finish;
	if ((h->xfer.easy = curl_easy_init()) == NULL)
		cause = xstrdup("curl_easy_init failed");
	if (h->xfer.easy == NULL ||
	    action_http_setup(h, input, ctx, &cause) != 0) {
		action_http_free(h);
		action_fail_cause(ae, done, arg, cause);
		return;
	}
	action_io_submit(io, &h->xfer);
}

/* std.http on behalf of another action, named as in its messages. */
void
action_http_start(const struct action_entry *as, json_t *input,
    struct action_io *io, action_done_cb done, void *arg)
{
	json_t	*in;
	char	*cause;

	if ((in = action_input_prepare(&action_std_http_entry, input,
	    &cause)) == NULL) {
		action_fail_new(done, arg, cause);
		return;
	}
	action_http_run(as, in, NULL, io, done, arg);
	json_decref(in);
}

/* Free a request and its easy handle. */
static void
action_http_free(struct action_http *h)
{
	if (h->xfer.easy != NULL)
		curl_easy_cleanup(h->xfer.easy);
	curl_slist_free_all(h->headers);
	buf_free(&h->resp);
	json_decref(h->hdrs);
	free(h->reason);
	free(h->method);
	free(h->url);
	free(h);
}

/*
 * Set up the easy handle from the input.  Every option is checked here,
 * so a bad input fails before anything is sent.
 */
static int
action_http_setup(struct action_http *h, json_t *input,
    const struct action_ctx *ctx, char **cause)
{
	CURL		*e = h->xfer.easy;
	struct buf	 url, cookies;
	json_t		*v, *body = NULL, *js;
	const char	*s, *key, *frag;
	char		*val, *text = NULL, *callback = NULL;
	size_t		 i;
	int64_t		 ms;
	int		 have_ctype = 0, rc = -1;

	*cause = NULL;
	buf_init(&url, 0);
	buf_init(&cookies, 0);

	/* URL and query string. */
	s = action_arg_string(input, "url");
	if (s == NULL || *s == '\0') {
		xasprintf(cause, "'url' must be a non-empty string");
		goto out;
	}
	frag = strchr(s, '#');
	buf_add(&url, s, frag != NULL ? (size_t)(frag - s) : strlen(s));
	v = json_object_get(input, "params");
	if (json_is_object(v)) {
		json_object_foreach(v, key, js) {
			if (action_http_query(e, &url, key, js, cause) != 0)
				goto out;
		}
	} else if (json_is_string(v) && *json_string_value(v) != '\0') {
		buf_puts(&url, strchr(url.data, '?') == NULL ? "?" : "&");
		buf_puts(&url, json_string_value(v));
	} else if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		xasprintf(cause, "'params' must be an object or a string");
		goto out;
	}
	h->url = buf_take(&url);
	curl_easy_setopt(e, CURLOPT_URL, h->url);

	/* Method. */
	s = action_arg_string(input, "method");
	if (s == NULL || *s == '\0') {
		xasprintf(cause, "'method' must be a non-empty string");
		goto out;
	}
	h->method = xstrdup(s);
	for (i = 0; h->method[i] != '\0'; i++) {
		if (!isalpha((u_char)h->method[i])) {
			xasprintf(cause, "bad method: %s", s);
			goto out;
		}
		h->method[i] = toupper((u_char)h->method[i]);
	}

	/* Headers given by the caller. */
	v = json_object_get(input, "headers");
	if (json_is_object(v)) {
		json_object_foreach(v, key, js) {
			if (json_is_null(js))
				continue;
			val = action_http_value(js);
			if (strcasecmp(key, "Content-Type") == 0)
				have_ctype = 1;
			if (action_http_header(h, key, val, cause) != 0) {
				free(val);
				goto out;
			}
			free(val);
		}
	} else if (v != NULL && !json_is_null(v)) {
		xasprintf(cause, "'headers' must be an object");
		goto out;
	}

	/* Mistral's headers for an async callback. */
	if (h->async && ctx != NULL)
		callback = action_http_callback(ctx);
	if (h->async && ctx != NULL) {
		const struct {
			const char	*name;
			const char	*value;
		} mh[] = {
			{ "Mistral-Workflow-Name", ctx->workflow_name },
			{ "Mistral-Workflow-Execution-Id", ctx->execution_id },
			{ "Mistral-Execution-Id", ctx->execution_id },
			{ "Mistral-Task-Id", ctx->task_id },
			{ "Mistral-Action-Execution-Id", ctx->action_id },
			{ "Mistral-Callback-URL", callback }
		};
		for (i = 0; i < nitems(mh); i++) {
			if (mh[i].value == NULL)
				continue;
			if (action_http_header(h, mh[i].name, mh[i].value,
			    cause) != 0)
				goto out;
		}
	}

	/* Body: json (as JSON) or body (text as is, other JSON encoded). */
	js = json_object_get(input, "json");
	body = json_object_get(input, "body");
	if (js != NULL && json_is_null(js))
		js = NULL;
	if (body != NULL && json_is_null(body))
		body = NULL;
	if (js != NULL && body != NULL) {
		xasprintf(cause, "give 'body' or 'json', not both");
		goto out;
	}
	if (js != NULL) {
		text = json_dumps(js, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!have_ctype && action_http_header(h, "Content-Type",
		    "application/json", cause) != 0)
			goto out;
		have_ctype = 1;
	} else if (json_is_string(body))
		text = xstrndup(json_string_value(body),
		    json_string_length(body));
	else if (body != NULL)
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text != NULL ||
	    strcmp(h->method, "POST") == 0 || strcmp(h->method, "PUT") == 0 ||
	    strcmp(h->method, "PATCH") == 0) {
		/* curl would add a form content type: requests does not. */
		if (!have_ctype)
			h->headers = curl_slist_append(h->headers,
			    "Content-Type:");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(text != NULL ? strlen(text) : 0));
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    text != NULL ? text : "");
	}
	if (strcmp(h->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(h->method, "GET") == 0 && text == NULL)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(h->method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
	h->headers = curl_slist_append(h->headers, "Expect:");

	/* Basic authentication: "user:pass" or [user, pass]. */
	v = json_object_get(input, "auth");
	if (json_is_string(v)) {
		if (strchr(json_string_value(v), ':') == NULL) {
			xasprintf(cause, "'auth' must be \"user:password\" "
			    "or [user, password]");
			goto out;
		}
		curl_easy_setopt(e, CURLOPT_USERPWD, json_string_value(v));
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	} else if (json_is_array(v) && json_array_size(v) == 2 &&
	    json_is_string(json_array_get(v, 0)) &&
	    json_is_string(json_array_get(v, 1))) {
		curl_easy_setopt(e, CURLOPT_USERNAME,
		    json_string_value(json_array_get(v, 0)));
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    json_string_value(json_array_get(v, 1)));
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	} else if (v != NULL && !json_is_null(v)) {
		xasprintf(cause, "'auth' must be \"user:password\" or "
		    "[user, password]");
		goto out;
	}

	/* Timeout in seconds; null or 0 for none. */
	v = json_object_get(input, "timeout");
	if (v != NULL && !json_is_null(v)) {
		if (action_arg_seconds(input, "timeout", &ms, cause) != 0)
			goto out;
		if (ms == 0 && json_number_value(v) > 0)
			ms = 1;
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ms);
	}

	/* Redirects and TLS verification. */
	if (action_arg_bool(json_object_get(input, "allow_redirects"), 1)) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS,
		    (long)ACTION_HTTP_MAX_REDIRS);
	}
	action_xfer_verify(e, json_object_get(input, "verify"));

	/* Proxies: {"http": url, "https": url}, as requests takes them. */
	v = json_object_get(input, "proxies");
	if (json_is_object(v)) {
		s = json_string_value(json_object_get(v,
		    strncasecmp(h->url, "https:", 6) == 0 ? "https" : "http"));
		if (s != NULL)
			curl_easy_setopt(e, CURLOPT_PROXY, s);
	}

	/* Cookies: {"name": "value"}. */
	v = json_object_get(input, "cookies");
	if (json_is_object(v)) {
		json_object_foreach(v, key, js) {
			val = action_http_value(js);
			buf_printf(&cookies, "%s%s=%s",
			    cookies.len != 0 ? "; " : "", key, val);
			free(val);
		}
		if (strpbrk(cookies.data != NULL ? cookies.data : "",
		    "\r\n") != NULL) {
			xasprintf(cause, "'cookies' has a line break");
			goto out;
		}
		if (cookies.len != 0)
			curl_easy_setopt(e, CURLOPT_COOKIE, cookies.data);
	}

	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE "/" VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, action_http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, action_http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	rc = 0;

out:
	free(callback);
	free(text);
	buf_free(&cookies);
	buf_free(&url);
	return (rc);
}

/*
 * The URL where the result of this action is PUT: the API's base URL
 * and /v2/action_executions/<id> (caller frees); NULL when either is
 * unknown.
 */
static char *
action_http_callback(const struct action_ctx *ctx)
{
	char	*url;
	size_t	 len;

	if (ctx->callback_url == NULL || ctx->action_id == NULL)
		return (NULL);
	len = strlen(ctx->callback_url);
	while (len > 0 && ctx->callback_url[len - 1] == '/')
		len--;
	xasprintf(&url, "%.*s/v2/action_executions/%s", (int)len,
	    ctx->callback_url, ctx->action_id);
	return (url);
}

/* A value as text for a query, header or cookie: strings as they are. */
static char *
action_http_value(json_t *v)
{
	char	*s;

	if (json_is_string(v))
		return (xstrndup(json_string_value(v), json_string_length(v)));
	if (json_is_true(v))
		return (xstrdup("True"));	/* as Python prints it */
	if (json_is_false(v))
		return (xstrdup("False"));
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return (s != NULL ? s : xstrdup(""));
}

/* Append key=value (each item of a list, none for null) to the URL. */
static int
action_http_query(CURL *e, struct buf *url, const char *key, json_t *v,
    char **cause)
{
	json_t	*item;
	size_t	 i;
	char	*ek, *ev, *s;

	if (json_is_null(v))
		return (0);
	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (action_http_query(e, url, key, item, cause) != 0)
				return (-1);
		}
		return (0);
	}
	s = action_http_value(v);
	ek = curl_easy_escape(e, key, 0);
	ev = curl_easy_escape(e, s, 0);
	free(s);
	if (ek == NULL || ev == NULL) {
		curl_free(ek);
		curl_free(ev);
		xasprintf(cause, "cannot encode parameter '%s'", key);
		return (-1);
	}
	buf_puts(url, strchr(url->data, '?') == NULL ? "?" : "&");
	buf_printf(url, "%s=%s", ek, ev);
	curl_free(ek);
	curl_free(ev);
	return (0);
}

/* Add "Name: value"; names must be tokens and values one line. */
static int
action_http_header(struct action_http *h, const char *name,
    const char *value, char **cause)
{
	const char	*p;
	char		*line;

	if (*name == '\0') {
		xasprintf(cause, "empty header name");
		return (-1);
	}
	for (p = name; *p != '\0'; p++) {
		if ((u_char)*p <= ' ' || *p == ':' || (u_char)*p >= 0x7f) {
			xasprintf(cause, "bad header name: %s", name);
			return (-1);
		}
	}
	if (strpbrk(value, "\r\n") != NULL) {
		xasprintf(cause, "header %s: value has a line break", name);
		return (-1);
	}
	if (*value == '\0')
		xasprintf(&line, "%s;", name);	/* curl's empty header */
	else
		xasprintf(&line, "%s: %s", name, value);
	h->headers = curl_slist_append(h->headers, line);
	free(line);
	return (0);
}

/* Collect the body up to the cap. */
static size_t
action_http_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct action_http	*h = arg;
	size_t			 len = size * nmemb;

	if (buf_add(&h->resp, ptr, len) != 0) {
		h->toobig = 1;
		return (0);
	}
	return (len);
}

/* Collect the headers of the last response (each status line resets). */
static size_t
action_http_header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct action_http	*h = arg;
	size_t			 len = size * nmemb, nlen;
	const char		*colon, *v, *end, *sp, *key;
	json_t			*old, *val, *name;
	char			*joined;

	h->hdrs_len += len;
	if (h->hdrs_len > ACTION_HTTP_MAX_HEADERS)
		return (0);
	end = ptr + len;
	while (end > ptr && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end == ptr)
		return (len);
	if (len > 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		json_object_clear(h->hdrs);
		free(h->reason);
		h->reason = NULL;
		/* "HTTP/1.1 200 OK": the reason follows the second space. */
		sp = memchr(ptr, ' ', end - ptr);
		if (sp != NULL)
			sp = memchr(sp + 1, ' ', end - (sp + 1));
		if (sp != NULL)
			h->reason = xstrndup(sp + 1, end - (sp + 1));
		return (len);
	}
	colon = memchr(ptr, ':', end - ptr);
	if (colon == NULL || colon == ptr)
		return (len);
	nlen = colon - ptr;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	name = action_text(ptr, nlen);	/* keys must be UTF-8 */
	key = json_string_value(name);
	val = action_text(v, end - v);
	if ((old = json_object_get(h->hdrs, key)) == NULL)
		json_object_set_new(h->hdrs, key, val);
	else {
		/* Repeated header: join the values, as requests does. */
		xasprintf(&joined, "%s, %s", json_string_value(old),
		    json_string_value(val));
		json_object_set_new(h->hdrs, key, json_string(joined));
		free(joined);
		json_decref(val);
	}
	json_decref(name);
	return (len);
}

/*
 * The transfer is over (on the I/O thread): build the result and
 * complete the action, or for std.mistral_http complete only a failure.
 */
static void
action_http_finish(struct action_xfer *x, CURLcode rc, int stopping)
{
	struct action_http	*h = (struct action_http *)x;
	json_t			*res, *content;
	long			 status = 0;
	char			*eff = NULL, *msg;
	double			 elapsed = 0;
	int			 ok;

	if (stopping) {
		h->done(h->arg, 0, json_string("engine stopping"));
		goto out;
	}
	if (rc != CURLE_OK) {
		if (h->toobig)
			xasprintf(&msg, "%s %s %s: response body exceeds %zu "
			    "bytes", h->ae->name, h->method, h->url,
			    h->resp.max);
		else
			xasprintf(&msg, "%s %s %s: %s", h->ae->name, h->method,
			    h->url, h->errbuf[0] != '\0' ? h->errbuf :
			    curl_easy_strerror(rc));
		action_fail_new(h->done, h->arg, msg);
		goto out;
	}

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &elapsed);
	ok = (status >= 200 && status < 400);
	if (ok && h->async)
		goto out;	/* the result comes through the callback */

	content = NULL;
	if (h->resp.len != 0)
		content = json_loadb(h->resp.data, h->resp.len,
		    JSON_DECODE_ANY, NULL);
	if (content == NULL)
		content = action_text(h->resp.data != NULL ?
		    h->resp.data : "", h->resp.len);
	res = json_object();
	json_object_set_new(res, "content", content);
	json_object_set_new(res, "status", json_integer(status));
	json_object_set_new(res, "headers", h->hdrs);	/* no sharing */
	h->hdrs = NULL;
	json_object_set_new(res, "url", action_text(eff != NULL ? eff :
	    h->url, strlen(eff != NULL ? eff : h->url)));
	json_object_set_new(res, "reason", h->reason != NULL ?
	    action_text(h->reason, strlen(h->reason)) : json_string(""));
	json_object_set_new(res, "elapsed", json_real(elapsed));
	h->done(h->arg, ok, res);

out:
	action_http_free(h);
}
