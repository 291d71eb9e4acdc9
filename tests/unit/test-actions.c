/*
 * test-actions.c -- unit tests of the actions module: the registry,
 * input checking, the std.* actions and the I/O loop, with std.http
 * against a real libmicrohttpd server on 127.0.0.1; the OpenStack
 * client's parts that need no cloud (credentials from clouds.yaml and
 * the environment, the catalog, keeping secrets out of what it says).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <microhttpd.h>

#include "lib/lib.h"
#include "conf/conf.h"
#include "expr/expr.h"
#include "actions/actions.h"
#include "actions/actions-int.h"

/* ------------------------------------------------------------------ */
/* The test server.                                                    */

struct srv_req {
	struct buf	 body;
};

static struct MHD_Daemon	*srv;
static int			 srv_port;
static pthread_mutex_t		 srv_mutex = PTHREAD_MUTEX_INITIALIZER;
static int			 srv_connections;
static json_t			*srv_last_headers;
static struct action_io		*io;

/* Add one key/value to a JSON object; repeats become a list. */
static enum MHD_Result
srv_collect(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	json_t	*obj = arg, *old, *list;

	old = json_object_get(obj, key);
	if (old == NULL)
		json_object_set_new(obj, key, json_string(value ? value : ""));
	else if (json_is_array(old))
		json_array_append_new(old, json_string(value ? value : ""));
	else {
		list = json_array();
		json_array_append(list, old);
		json_array_append_new(list, json_string(value ? value : ""));
		json_object_set_new(obj, key, list);
	}
	return (MHD_YES);
}

/* Queue a response with a content type and status. */
static enum MHD_Result
srv_reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
    const char *body, size_t len)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return (ret);
}

/* Routes: /json /text /404 /500 /redirect /slow /big /echo. */
static enum MHD_Result
srv_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct srv_req		*req = *con_cls;
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	const char		*v;
	json_t			*o, *h, *q;
	char			*text, *big;
	long			 n;

	if (req == NULL) {
		req = xcalloc(1, sizeof *req);
		buf_init(&req->body, 0);
		*con_cls = req;
		return (MHD_YES);
	}
	if (*upload_size != 0) {
		buf_add(&req->body, upload, *upload_size);
		*upload_size = 0;
		return (MHD_YES);
	}

	if (strcmp(url, "/json") == 0)
		return (srv_reply(c, 200, "application/json",
		    "{\"a\": 1, \"b\": [1, 2]}", 21));
	if (strcmp(url, "/text") == 0)
		return (srv_reply(c, 200, "text/plain", "hello", 5));
	if (strcmp(url, "/latin1") == 0)
		return (srv_reply(c, 200, "text/plain", "caf\xe9", 4));
	if (strcmp(url, "/404") == 0)
		return (srv_reply(c, 404, "text/plain", "not here", 8));
	if (strcmp(url, "/500") == 0)
		return (srv_reply(c, 500, "application/json",
		    "{\"error\": \"boom\"}", 17));
	if (strcmp(url, "/redirect") == 0) {
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Location", "/json");
		ret = MHD_queue_response(c, 302, r);
		MHD_destroy_response(r);
		return (ret);
	}
	if (strcmp(url, "/slow") == 0) {
		v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ms");
		n = v != NULL ? atol(v) : 500;
		usleep((useconds_t)n * 1000);
		return (srv_reply(c, 200, "text/plain", "slow", 4));
	}
	if (strcmp(url, "/big") == 0) {
		v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
		n = v != NULL ? atol(v) : 1000;
		big = xmalloc(n);
		memset(big, 'x', n);
		ret = srv_reply(c, 200, "text/plain", big, n);
		free(big);
		return (ret);
	}
	if (strcmp(url, "/echo") == 0 || strcmp(url, "/echo404") == 0) {
		o = json_object();
		h = json_object();
		q = json_object();
		MHD_get_connection_values(c, MHD_HEADER_KIND, srv_collect, h);
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
		    srv_collect, q);
		json_object_set_new(o, "method", json_string(method));
		json_object_set_new(o, "headers", h);
		json_object_set_new(o, "query", q);
		json_object_set_new(o, "body", json_stringn(
		    req->body.data != NULL ? req->body.data : "",
		    req->body.len));
		pthread_mutex_lock(&srv_mutex);
		json_decref(srv_last_headers);
		srv_last_headers = json_incref(h);
		pthread_mutex_unlock(&srv_mutex);
		text = json_dumps(o, JSON_COMPACT);
		ret = srv_reply(c, url[5] == '4' ? 404 : 200,
		    "application/json", text, strlen(text));
		free(text);
		json_decref(o);
		return (ret);
	}
	return (srv_reply(c, 404, "text/plain", "no route", 8));
}

/* Free per-request state. */
static void
srv_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv_req	*req = *con_cls;

	if (req != NULL) {
		buf_free(&req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* Count new connections (to see keep-alive at work). */
static void
srv_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		pthread_mutex_lock(&srv_mutex);
		srv_connections++;
		pthread_mutex_unlock(&srv_mutex);
	}
}

static int
srv_start(void)
{
	struct sockaddr_in		 sin;
	const union MHD_DaemonInfo	*info;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL,
	    srv_handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, srv_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, srv_notify, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_END);
	if (srv == NULL)
		return (-1);
	info = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return (-1);
	srv_port = info->port;
	return (0);
}

static char *
srv_url(const char *path)
{
	char	*s;

	xasprintf(&s, "http://127.0.0.1:%d%s", srv_port, path);
	return (s);
}

static int
group_setup(void **state)
{
	char	*cause;

	if (srv_start() != 0)
		return (-1);
	io = action_io_start(0, &cause);
	if (io == NULL) {
		fprintf(stderr, "action_io_start: %s\n", cause);
		return (-1);
	}
	return (0);
}

static int
group_teardown(void **state)
{
	action_io_stop(io);
	MHD_stop_daemon(srv);
	json_decref(srv_last_headers);
	return (0);
}

/* ------------------------------------------------------------------ */
/* Waiting for completions.                                            */

struct waiter {
	pthread_mutex_t	 mutex;
	pthread_cond_t	 cond;
	int		 calls;
	int		 ok;
	json_t		*result;
	int64_t		 done_at;
};

static void
waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->mutex, NULL);
	pthread_cond_init(&w->cond, NULL);
}

static void
waiter_free(struct waiter *w)
{
	json_decref(w->result);
	pthread_mutex_destroy(&w->mutex);
	pthread_cond_destroy(&w->cond);
}

/* The completion callback: record and signal. */
static void
waiter_done(void *arg, int ok, json_t *result)
{
	struct waiter	*w = arg;

	pthread_mutex_lock(&w->mutex);
	w->calls++;
	w->ok = ok;
	json_decref(w->result);
	w->result = result;
	w->done_at = time_mono_ms();
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mutex);
}

/* Wait until calls >= n or ms pass; returns calls. */
static int
waiter_wait(struct waiter *w, int n, int64_t ms)
{
	struct timespec	 ts;
	int64_t		 end = time_mono_ms() + ms;
	int		 calls;

	pthread_mutex_lock(&w->mutex);
	while (w->calls < n && time_mono_ms() < end) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &w->mutex, &ts);
	}
	calls = w->calls;
	pthread_mutex_unlock(&w->mutex);
	return (calls);
}

/* Run an action with JSON text input and wait for it. */
static void
run_wait(const char *name, const char *input, const struct action_ctx *ctx,
    struct action_io *aio, struct waiter *w)
{
	const struct action_entry	*ae;
	json_t				*in;
	json_error_t			 err;

	ae = action_find(name);
	assert_non_null(ae);
	in = json_loads(input, 0, &err);
	if (in == NULL)
		fail_msg("bad test input %s: %s", input, err.text);
	waiter_init(w);
	action_run(ae, in, ctx, aio, waiter_done, w);
	json_decref(in);
	assert_int_equal(waiter_wait(w, 1, 10000), 1);
}

/* std.http on a path with extra input fields (JSON text, may be ""). */
static void
http_wait(const char *path, const char *extra, struct waiter *w)
{
	char	*url, *input;

	url = srv_url(path);
	xasprintf(&input, "{\"url\": \"%s\"%s%s}", url,
	    *extra != '\0' ? ", " : "", extra);
	run_wait("std.http", input, NULL, io, w);
	free(input);
	free(url);
}

static void
assert_json_eq(json_t *got, const char *want)
{
	json_t	*w;
	char	*g;

	w = json_loads(want, JSON_DECODE_ANY, NULL);
	assert_non_null(w);
	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("got %s, want %s", g ? g : "NULL", want);
	}
	json_decref(w);
}

/* ------------------------------------------------------------------ */
/* Registry and input.                                                 */

static void
registry_lists_every_std_action(void **state)
{
	const struct action_entry *const	*all;
	const char	*want[] = { "std.noop", "std.echo", "std.fail",
	    "std.sleep", "std.http", "std.mistral_http", "std.lua",
	    "std.async_noop", "std.test_dict", "os.request", "std.javascript",
	    "std.js", "std.email", "std.ssh", "masakari.reserved_host_take" };
	size_t		 i, n = 0;

	for (i = 0; i < nitems(want); i++)
		assert_non_null(action_find(want[i]));
	assert_null(action_find("std.nope"));
	assert_null(action_find(NULL));
	for (all = action_all(); *all != NULL; all++) {
		assert_ptr_equal(action_find((*all)->name), *all);
		assert_non_null((*all)->run);
		n++;
	}
	assert_int_equal(n, nitems(want));
	assert_true(action_find("std.echo")->pure);
	assert_true(action_find("std.sleep")->pure);
	assert_false(action_find("std.http")->pure);
	assert_false(action_find("std.email")->pure);
	assert_int_equal(action_find("std.email")->kind, ACTION_IO);
	assert_false(action_find("std.ssh")->pure);
	assert_int_equal(action_find("std.ssh")->kind, ACTION_IO);
	assert_int_equal(action_find("std.async_noop")->kind, ACTION_ASYNC);
	assert_int_equal(action_find("std.mistral_http")->kind, ACTION_ASYNC);
	assert_int_equal(action_find("std.sleep")->kind, ACTION_IO);
	assert_false(action_find("masakari.reserved_host_take")->pure);
	assert_int_equal(action_find("masakari.reserved_host_take")->kind,
	    ACTION_INLINE);
}

static void
params_string_shows_defaults_like_mistral(void **state)
{
	char	*s;

	s = action_params_string(action_find("std.echo"));
	assert_string_equal(s, "output, delay=0");
	free(s);
	s = action_params_string(action_find("std.noop"));
	assert_string_equal(s, "");
	free(s);
	s = action_params_string(action_find("std.fail"));
	assert_string_equal(s, "error_data=null");
	free(s);
	s = action_params_string(action_find("std.http"));
	assert_non_null(strstr(s, "url, method=\"GET\", params=null"));
	assert_non_null(strstr(s, "allow_redirects=true"));
	free(s);
}

static void
input_unknown_parameter_is_named(void **state)
{
	json_t	*in, *out;
	char	*cause;

	in = json_loads("{\"output\": 1, \"bogus\": 2}", 0, NULL);
	out = action_input_prepare(action_find("std.echo"), in, &cause);
	assert_null(out);
	assert_string_equal(cause, "unexpected parameter 'bogus' for "
	    "std.echo (expected: output, delay)");
	free(cause);
	json_decref(in);
}

static void
input_missing_required_is_named(void **state)
{
	json_t	*in, *out;
	char	*cause;

	in = json_object();
	out = action_input_prepare(action_find("std.echo"), in, &cause);
	assert_null(out);
	assert_non_null(strstr(cause, "missing required parameter 'output'"));
	free(cause);
	json_decref(in);

	in = json_array();
	out = action_input_prepare(action_find("std.echo"), in, &cause);
	assert_null(out);
	assert_non_null(strstr(cause, "must be an object"));
	free(cause);
	json_decref(in);
}

static void
input_defaults_are_filled(void **state)
{
	json_t	*in, *out;
	char	*cause;

	in = json_loads("{\"url\": \"http://x\"}", 0, NULL);
	out = action_input_prepare(action_find("std.http"), in, &cause);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "method")),
	    "GET");
	assert_true(json_is_true(json_object_get(out, "allow_redirects")));
	assert_true(json_is_null(json_object_get(out, "params")));
	json_decref(out);
	json_decref(in);

	/* No input at all is an empty object. */
	out = action_input_prepare(action_find("std.sleep"), NULL, &cause);
	assert_non_null(out);
	assert_int_equal(json_integer_value(json_object_get(out, "seconds")),
	    1);
	json_decref(out);
}

static void
run_with_bad_input_fails_at_once(void **state)
{
	struct waiter	w;

	run_wait("std.echo", "{\"nope\": 1}", NULL, NULL, &w);
	assert_int_equal(w.ok, 0);
	assert_true(json_is_string(w.result));
	assert_non_null(strstr(json_string_value(w.result), "'nope'"));
	waiter_free(&w);
}

/* ------------------------------------------------------------------ */
/* Inline actions.                                                     */

static void
noop_echo_fail_finish_inline(void **state)
{
	struct waiter	w;

	/* io is NULL: inline actions must not need it. */
	run_wait("std.noop", "{}", NULL, NULL, &w);
	assert_int_equal(w.ok, 1);
	assert_true(json_is_null(w.result));
	waiter_free(&w);

	run_wait("std.echo", "{\"output\": {\"x\": [1, \"a\"]}}", NULL, NULL,
	    &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(w.result, "{\"x\": [1, \"a\"]}");
	waiter_free(&w);

	run_wait("std.fail", "{}", NULL, NULL, &w);
	assert_int_equal(w.ok, 0);
	assert_json_eq(w.result, "\"Fail action expected exception.\"");
	waiter_free(&w);

	run_wait("std.fail", "{\"error_data\": {\"code\": 7}}", NULL, NULL,
	    &w);
	assert_int_equal(w.ok, 0);
	assert_json_eq(w.result, "{\"code\": 7}");
	waiter_free(&w);
}

static void
test_dict_builds_keys(void **state)
{
	struct waiter	w;

	run_wait("std.test_dict", "{\"size\": 3, \"key_prefix\": \"k\", "
	    "\"val\": \"v\"}", NULL, NULL, &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(w.result, "{\"k0\": \"v\", \"k1\": \"v\", "
	    "\"k2\": \"v\"}");
	waiter_free(&w);

	run_wait("std.test_dict", "{\"size\": -1}", NULL, NULL, &w);
	assert_int_equal(w.ok, 0);
	waiter_free(&w);
}

static void
echo_with_delay_completes_later(void **state)
{
	struct waiter	w;
	json_t		*in;
	int64_t		 t0;

	waiter_init(&w);
	in = json_loads("{\"output\": \"late\", \"delay\": 0.15}", 0, NULL);
	t0 = time_mono_ms();
	action_run(action_find("std.echo"), in, NULL, io, waiter_done, &w);
	json_decref(in);
	assert_int_equal(w.calls, 0);
	assert_int_equal(waiter_wait(&w, 1, 5000), 1);
	assert_true(w.done_at - t0 >= 150);
	assert_int_equal(w.ok, 1);
	assert_json_eq(w.result, "\"late\"");
	waiter_free(&w);

	run_wait("std.echo", "{\"output\": 1, \"delay\": \"soon\"}", NULL, io,
	    &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result), "delay"));
	waiter_free(&w);
}

static void
async_noop_never_completes_by_itself(void **state)
{
	struct waiter	w;
	json_t		*in = json_object();

	waiter_init(&w);
	action_run(action_find("std.async_noop"), in, NULL, io, waiter_done,
	    &w);
	json_decref(in);
	assert_int_equal(waiter_wait(&w, 1, 100), 0);
	waiter_free(&w);
}

/* ------------------------------------------------------------------ */
/* Sleep and the loop.                                                 */

static void
sleep_waits_without_blocking(void **state)
{
	struct waiter	w[8];
	json_t		*in;
	int64_t		 t0, ret;
	int		 i;

	in = json_loads("{\"seconds\": 0.2}", 0, NULL);
	t0 = time_mono_ms();
	for (i = 0; i < 8; i++) {
		waiter_init(&w[i]);
		action_run(action_find("std.sleep"), in, NULL, io,
		    waiter_done, &w[i]);
	}
	ret = time_mono_ms() - t0;
	json_decref(in);
	assert_true(ret < 100);		/* action_run did not block */
	for (i = 0; i < 8; i++) {
		assert_int_equal(waiter_wait(&w[i], 1, 5000), 1);
		assert_int_equal(w[i].ok, 1);
		assert_true(json_is_null(w[i].result));
		assert_true(w[i].done_at - t0 >= 200);
	}
	/* In parallel: about 0.2 s in all, not 8 x 0.2 s. */
	assert_true(time_mono_ms() - t0 < 800);
	for (i = 0; i < 8; i++)
		waiter_free(&w[i]);
}

static void
stop_completes_pending_actions(void **state)
{
	struct action_io	*aio;
	struct waiter		 w[3];
	json_t			*in;
	char			*cause, *url, *text;
	int64_t			 t0;
	int			 i;

	aio = action_io_start(4, &cause);
	assert_non_null(aio);
	for (i = 0; i < 3; i++)
		waiter_init(&w[i]);
	in = json_loads("{\"seconds\": 30}", 0, NULL);
	action_run(action_find("std.sleep"), in, NULL, aio, waiter_done,
	    &w[0]);
	json_decref(in);
	in = json_loads("{\"output\": 1, \"delay\": 30}", 0, NULL);
	action_run(action_find("std.echo"), in, NULL, aio, waiter_done,
	    &w[1]);
	json_decref(in);
	url = srv_url("/slow?ms=600");
	xasprintf(&text, "{\"url\": \"%s\"}", url);
	in = json_loads(text, 0, NULL);
	action_run(action_find("std.http"), in, NULL, aio, waiter_done,
	    &w[2]);
	json_decref(in);
	free(text);
	free(url);
	assert_int_equal(action_io_inflight(aio), 3);
	usleep(50 * 1000);

	t0 = time_mono_ms();
	action_io_stop(aio);
	assert_true(time_mono_ms() - t0 < 500);
	for (i = 0; i < 3; i++) {
		assert_int_equal(w[i].calls, 1);
		assert_int_equal(w[i].ok, 0);
		assert_json_eq(w[i].result, "\"engine stopping\"");
		waiter_free(&w[i]);
	}
}

/* ------------------------------------------------------------------ */
/* std.http.                                                           */

static void
http_get_json_is_decoded(void **state)
{
	struct waiter	 w;
	char		*url;

	http_wait("/json", "", &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(json_object_get(w.result, "content"),
	    "{\"a\": 1, \"b\": [1, 2]}");
	assert_int_equal(json_integer_value(json_object_get(w.result,
	    "status")), 200);
	assert_json_eq(json_object_get(json_object_get(w.result, "headers"),
	    "Content-Type"), "\"application/json\"");
	url = srv_url("/json");
	assert_string_equal(json_string_value(json_object_get(w.result,
	    "url")), url);
	free(url);
	waiter_free(&w);
}

static void
http_text_stays_a_string(void **state)
{
	struct waiter	w;

	http_wait("/text", "", &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(json_object_get(w.result, "content"), "\"hello\"");
	waiter_free(&w);

	/* Not UTF-8: the bad byte becomes U+FFFD, never a crash. */
	http_wait("/latin1", "", &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(json_object_get(w.result, "content"),
	    "\"caf\\ufffd\"");
	waiter_free(&w);
}

static void
http_error_status_fails_with_the_response(void **state)
{
	struct waiter	w;

	http_wait("/404", "", &w);
	assert_int_equal(w.ok, 0);
	assert_int_equal(json_integer_value(json_object_get(w.result,
	    "status")), 404);
	assert_json_eq(json_object_get(w.result, "content"), "\"not here\"");
	waiter_free(&w);

	http_wait("/500", "", &w);
	assert_int_equal(w.ok, 0);
	assert_int_equal(json_integer_value(json_object_get(w.result,
	    "status")), 500);
	assert_json_eq(json_object_get(w.result, "content"),
	    "{\"error\": \"boom\"}");
	waiter_free(&w);
}

static void
http_transport_error_names_the_url(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	struct waiter		 w;
	char			*input;
	int			 fd;

	/* A port nobody listens on: bind one, then close it. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);

	xasprintf(&input, "{\"url\": \"http://127.0.0.1:%d/x\"}",
	    ntohs(sin.sin_port));
	run_wait("std.http", input, NULL, io, &w);
	assert_int_equal(w.ok, 0);
	assert_true(json_is_string(w.result));
	assert_non_null(strstr(json_string_value(w.result),
	    "std.http GET http://127.0.0.1:"));
	assert_non_null(strstr(json_string_value(w.result), "/x: "));
	waiter_free(&w);
	free(input);

	/* Only http and https. */
	run_wait("std.http", "{\"url\": \"file:///etc/passwd\"}", NULL, io,
	    &w);
	assert_int_equal(w.ok, 0);
	assert_true(json_is_string(w.result));
	waiter_free(&w);
}

static void
http_params_are_urlencoded(void **state)
{
	struct waiter	w;
	json_t		*q;

	http_wait("/echo", "\"params\": {\"q\": \"a b&c=d/\\u00e9?\", "
	    "\"n\": 5, \"t\": true, \"l\": [1, 2], \"skip\": null}", &w);
	assert_int_equal(w.ok, 1);
	q = json_object_get(json_object_get(w.result, "content"), "query");
	assert_json_eq(q, "{\"q\": \"a b&c=d/\\u00e9?\", \"n\": \"5\", "
	    "\"t\": \"True\", \"l\": [\"1\", \"2\"]}");
	waiter_free(&w);
}

static void
http_json_body_sets_content_type(void **state)
{
	struct waiter	 w;
	json_t		*c;

	http_wait("/echo", "\"method\": \"post\", \"json\": {\"x\": [1, 2]}",
	    &w);
	assert_int_equal(w.ok, 1);
	c = json_object_get(w.result, "content");
	assert_json_eq(json_object_get(c, "method"), "\"POST\"");
	assert_json_eq(json_object_get(c, "body"), "\"{\\\"x\\\":[1,2]}\"");
	assert_json_eq(json_object_get(json_object_get(c, "headers"),
	    "Content-Type"), "\"application/json\"");
	waiter_free(&w);

	http_wait("/echo", "\"method\": \"PUT\", \"body\": \"raw text\"", &w);
	assert_int_equal(w.ok, 1);
	c = json_object_get(w.result, "content");
	assert_json_eq(json_object_get(c, "method"), "\"PUT\"");
	assert_json_eq(json_object_get(c, "body"), "\"raw text\"");
	waiter_free(&w);

	http_wait("/echo", "\"method\": \"POST\", \"body\": {\"k\": 1}", &w);
	c = json_object_get(w.result, "content");
	assert_json_eq(json_object_get(c, "body"), "\"{\\\"k\\\":1}\"");
	waiter_free(&w);

	http_wait("/echo", "\"body\": \"a\", \"json\": {}", &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result), "not both"));
	waiter_free(&w);
}

static void
http_headers_and_auth_are_sent(void **state)
{
	struct waiter	 w;
	json_t		*h;

	/* "user:pass" is dXNlcjpwYXNz in base64. */
	http_wait("/echo", "\"headers\": {\"X-Test\": \"yes\", \"X-Num\": 5}, "
	    "\"auth\": \"user:pass\"", &w);
	assert_int_equal(w.ok, 1);
	h = json_object_get(json_object_get(w.result, "content"), "headers");
	assert_json_eq(json_object_get(h, "X-Test"), "\"yes\"");
	assert_json_eq(json_object_get(h, "X-Num"), "\"5\"");
	assert_json_eq(json_object_get(h, "Authorization"),
	    "\"Basic dXNlcjpwYXNz\"");
	waiter_free(&w);

	http_wait("/echo", "\"auth\": [\"user\", \"pass\"]", &w);
	h = json_object_get(json_object_get(w.result, "content"), "headers");
	assert_json_eq(json_object_get(h, "Authorization"),
	    "\"Basic dXNlcjpwYXNz\"");
	waiter_free(&w);

	/* A line break in a header value is refused before sending. */
	http_wait("/echo", "\"headers\": {\"X-Bad\": \"a\\r\\nX-Evil: 1\"}",
	    &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result), "X-Bad"));
	waiter_free(&w);
}

static void
http_timeout_fails_clearly(void **state)
{
	struct waiter	w;
	int64_t		t0 = time_mono_ms();

	http_wait("/slow?ms=800", "\"timeout\": 0.2", &w);
	assert_int_equal(w.ok, 0);
	assert_true(time_mono_ms() - t0 < 700);
	assert_non_null(strstr(json_string_value(w.result), "timed out"));
	waiter_free(&w);
}

static void
http_redirects_follow_unless_disabled(void **state)
{
	struct waiter	 w;
	char		*url;

	http_wait("/redirect", "", &w);
	assert_int_equal(w.ok, 1);
	assert_int_equal(json_integer_value(json_object_get(w.result,
	    "status")), 200);
	url = srv_url("/json");
	assert_string_equal(json_string_value(json_object_get(w.result,
	    "url")), url);
	free(url);
	assert_json_eq(json_object_get(w.result, "content"),
	    "{\"a\": 1, \"b\": [1, 2]}");
	/* Only the final response's headers. */
	assert_null(json_object_get(json_object_get(w.result, "headers"),
	    "Location"));
	waiter_free(&w);

	http_wait("/redirect", "\"allow_redirects\": false", &w);
	assert_int_equal(w.ok, 1);
	assert_int_equal(json_integer_value(json_object_get(w.result,
	    "status")), 302);
	assert_json_eq(json_object_get(json_object_get(w.result, "headers"),
	    "Location"), "\"/json\"");
	waiter_free(&w);
}

static void
http_body_is_capped(void **state)
{
	struct action_io	*aio;
	struct waiter		 w;
	char			*cause, *url, *input;

	aio = action_io_start(0, &cause);
	assert_non_null(aio);
	action_io_set_max_body(aio, 1000);

	url = srv_url("/big?n=5000");
	xasprintf(&input, "{\"url\": \"%s\"}", url);
	run_wait("std.http", input, NULL, aio, &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result),
	    "response body exceeds 1000 bytes"));
	waiter_free(&w);
	free(input);
	free(url);

	url = srv_url("/big?n=1000");
	xasprintf(&input, "{\"url\": \"%s\"}", url);
	run_wait("std.http", input, NULL, aio, &w);
	assert_int_equal(w.ok, 1);
	assert_int_equal(json_string_length(json_object_get(w.result,
	    "content")), 1000);
	waiter_free(&w);
	free(input);
	free(url);

	action_io_stop(aio);
}

static void
http_waiting_holds_no_caller(void **state)
{
	struct waiter	 w;
	json_t		*in;
	char		*url, *text;
	int64_t		 t0;

	url = srv_url("/slow?ms=300");
	xasprintf(&text, "{\"url\": \"%s\"}", url);
	in = json_loads(text, 0, NULL);
	waiter_init(&w);
	t0 = time_mono_ms();
	action_run(action_find("std.http"), in, NULL, io, waiter_done, &w);
	assert_true(time_mono_ms() - t0 < 100);
	assert_int_equal(w.calls, 0);
	assert_true(action_io_inflight(io) >= 1);
	assert_int_equal(waiter_wait(&w, 1, 5000), 1);
	assert_int_equal(w.ok, 1);
	assert_int_equal(action_io_inflight(io), 0);
	waiter_free(&w);
	json_decref(in);
	free(text);
	free(url);
}

/* Shared state of many concurrent requests. */
struct many {
	pthread_mutex_t	 mutex;
	int		 done;
	int		 ok;
};

static void
many_done(void *arg, int ok, json_t *result)
{
	struct many	*m = arg;

	pthread_mutex_lock(&m->mutex);
	m->done++;
	if (ok && json_integer_value(json_object_get(result, "status")) == 200)
		m->ok++;
	pthread_mutex_unlock(&m->mutex);
	json_decref(result);
}

static void
http_200_concurrent_requests_complete(void **state)
{
	struct many	 m;
	json_t		*in;
	char		*url, *text;
	int64_t		 end;
	int		 i, n;

	memset(&m, 0, sizeof m);
	pthread_mutex_init(&m.mutex, NULL);
	url = srv_url("/slow?ms=100");
	xasprintf(&text, "{\"url\": \"%s\"}", url);
	in = json_loads(text, 0, NULL);
	for (i = 0; i < 200; i++)
		action_run(action_find("std.http"), in, NULL, io, many_done,
		    &m);
	json_decref(in);
	end = time_mono_ms() + 20000;
	do {
		usleep(10 * 1000);
		pthread_mutex_lock(&m.mutex);
		n = m.done;
		pthread_mutex_unlock(&m.mutex);
	} while (n < 200 && time_mono_ms() < end);
	assert_int_equal(m.done, 200);
	assert_int_equal(m.ok, 200);
	assert_int_equal(action_io_inflight(io), 0);
	pthread_mutex_destroy(&m.mutex);
	free(text);
	free(url);
}

static void
http_max_inflight_queues_the_rest(void **state)
{
	struct action_io	*aio;
	struct many		 m;
	json_t			*in;
	char			*url, *text, *cause;
	int64_t			 t0, end;
	int			 i, n;

	aio = action_io_start(2, &cause);
	assert_non_null(aio);
	memset(&m, 0, sizeof m);
	pthread_mutex_init(&m.mutex, NULL);
	url = srv_url("/slow?ms=150");
	xasprintf(&text, "{\"url\": \"%s\"}", url);
	in = json_loads(text, 0, NULL);
	t0 = time_mono_ms();
	for (i = 0; i < 6; i++)
		action_run(action_find("std.http"), in, NULL, aio, many_done,
		    &m);
	assert_int_equal(action_io_inflight(aio), 6);
	json_decref(in);
	end = t0 + 10000;
	do {
		usleep(5 * 1000);
		pthread_mutex_lock(&m.mutex);
		n = m.done;
		pthread_mutex_unlock(&m.mutex);
	} while (n < 6 && time_mono_ms() < end);
	assert_int_equal(m.ok, 6);
	/* Two at a time: three rounds of 150 ms. */
	assert_true(time_mono_ms() - t0 >= 450);
	action_io_stop(aio);
	pthread_mutex_destroy(&m.mutex);
	free(text);
	free(url);
}

static void
http_connections_are_reused(void **state)
{
	struct action_io	*aio;
	struct waiter		 w;
	char			*cause, *url, *input;
	int			 i, before, after;

	aio = action_io_start(0, &cause);
	assert_non_null(aio);
	url = srv_url("/json");
	xasprintf(&input, "{\"url\": \"%s\"}", url);
	pthread_mutex_lock(&srv_mutex);
	before = srv_connections;
	pthread_mutex_unlock(&srv_mutex);
	for (i = 0; i < 10; i++) {
		run_wait("std.http", input, NULL, aio, &w);
		assert_int_equal(w.ok, 1);
		waiter_free(&w);
	}
	pthread_mutex_lock(&srv_mutex);
	after = srv_connections;
	pthread_mutex_unlock(&srv_mutex);
	assert_int_equal(after - before, 1);
	free(input);
	free(url);
	action_io_stop(aio);
}

static void
mistral_http_sends_headers_and_stays_pending(void **state)
{
	struct action_ctx	 ctx;
	struct waiter		 w;
	json_t			*in, *h;
	char			*url, *text;
	int			 i;

	memset(&ctx, 0, sizeof ctx);
	ctx.execution_id = "exec-1";
	ctx.workflow_name = "wf";
	ctx.task_id = "task-1";
	ctx.action_id = "act-1";
	ctx.callback_url = "http://127.0.0.1:8989/";

	url = srv_url("/echo");
	xasprintf(&text, "{\"url\": \"%s\"}", url);
	in = json_loads(text, 0, NULL);
	waiter_init(&w);
	action_run(action_find("std.mistral_http"), in, &ctx, io,
	    waiter_done, &w);
	json_decref(in);
	free(text);
	free(url);
	/* The request is made, but success completes nothing. */
	for (i = 0; i < 200 && action_io_inflight(io) != 0; i++)
		usleep(10 * 1000);
	assert_int_equal(action_io_inflight(io), 0);
	assert_int_equal(waiter_wait(&w, 1, 100), 0);
	waiter_free(&w);
	pthread_mutex_lock(&srv_mutex);
	h = json_incref(srv_last_headers);
	pthread_mutex_unlock(&srv_mutex);
	assert_json_eq(json_object_get(h, "Mistral-Workflow-Name"), "\"wf\"");
	assert_json_eq(json_object_get(h, "Mistral-Execution-Id"),
	    "\"exec-1\"");
	assert_json_eq(json_object_get(h, "Mistral-Workflow-Execution-Id"),
	    "\"exec-1\"");
	assert_json_eq(json_object_get(h, "Mistral-Task-Id"), "\"task-1\"");
	assert_json_eq(json_object_get(h, "Mistral-Action-Execution-Id"),
	    "\"act-1\"");
	assert_json_eq(json_object_get(h, "Mistral-Callback-URL"),
	    "\"http://127.0.0.1:8989/v2/action_executions/act-1\"");
	json_decref(h);

	/* An HTTP failure does complete it, with ok = 0. */
	url = srv_url("/echo404");
	xasprintf(&text, "{\"url\": \"%s\"}", url);
	in = json_loads(text, 0, NULL);
	waiter_init(&w);
	action_run(action_find("std.mistral_http"), in, &ctx, io,
	    waiter_done, &w);
	json_decref(in);
	assert_int_equal(waiter_wait(&w, 1, 5000), 1);
	assert_int_equal(w.ok, 0);
	assert_int_equal(json_integer_value(json_object_get(w.result,
	    "status")), 404);
	waiter_free(&w);
	free(text);
	free(url);
}

/* ------------------------------------------------------------------ */
/* Socket jobs and offloaded work of the I/O loop.                     */

/* Append one mark to a step log. */
static void
tjob_mark(char *log, size_t size, char c)
{
	size_t	 len = strlen(log);

	if (len + 1 < size) {
		log[len] = c;
		log[len + 1] = '\0';
	}
}

/*
 * A test job on one end of a socket pair: its first step waits for a
 * byte, the next reads it and asks to be stepped again 50 ms later,
 * and that one ends the job.  Each step is recorded in order.
 */
struct tjob {
	struct action_job	 job;
	struct waiter		*w;
	int			 stage;
	char			 log[64];
	int64_t			 read_at;
};

static int
tjob_step(struct action_job *j, short revents, int stopping)
{
	struct tjob	*t = (struct tjob *)j;
	char		 c;

	if (stopping) {
		tjob_mark(t->log, sizeof t->log, 'S');
		waiter_done(t->w, 0, json_string(t->log));
		free(t);
		return (0);
	}
	switch (t->stage) {
	case 0:
		tjob_mark(t->log, sizeof t->log, revents == 0 ? '0' : '?');
		t->stage = 1;
		t->job.events = POLLIN;
		t->job.due = 0;
		return (1);
	case 1:
		if ((revents & POLLIN) == 0) {
			tjob_mark(t->log, sizeof t->log, '!');
			return (1);
		}
		assert_int_equal(read(t->job.fd, &c, 1), 1);
		tjob_mark(t->log, sizeof t->log, 'R');
		t->read_at = time_mono_ms();
		t->stage = 2;
		t->job.fd = -1;
		t->job.due = t->read_at + 50;
		return (1);
	default:
		tjob_mark(t->log, sizeof t->log,
		    time_mono_ms() >= t->read_at + 50 ? 'T' : 't');
		waiter_done(t->w, 1, json_string(t->log));
		free(t);
		return (0);
	}
}

/* Submit a test job on fd. */
static void
tjob_submit(struct action_io *aio, int fd, struct waiter *w)
{
	struct tjob	*t;

	t = xcalloc(1, sizeof *t);
	t->job.fd = fd;
	t->job.step = tjob_step;
	t->w = w;
	action_io_submit_job(aio, &t->job);
}

/* Run the socket job through a loop; with or without a multi handle. */
static void
tjob_run(struct action_io *aio)
{
	struct waiter	 w;
	int		 sv[2], i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	waiter_init(&w);
	tjob_submit(aio, sv[0], &w);
	usleep(100 * 1000);
	assert_int_equal(w.calls, 0);
	assert_int_equal(action_io_inflight(aio), 1);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(waiter_wait(&w, 1, 5000), 1);
	assert_int_equal(w.ok, 1);
	assert_json_eq(w.result, "\"0RT\"");
	/* The loop counts it out once its last step has returned. */
	for (i = 0; i < 500 && action_io_inflight(aio) != 0; i++)
		usleep(10 * 1000);
	assert_int_equal(action_io_inflight(aio), 0);
	waiter_free(&w);
	close(sv[0]);
	close(sv[1]);
}

static void
io_jobs_step_on_socket_readiness_and_on_time(void **state)
{
	struct action_io	*aio;
	struct waiter		 w;
	char			*cause, *url, *input;

	/* A loop that never made a transfer: it waits with poll(2). */
	aio = action_io_start(0, &cause);
	assert_non_null(aio);
	tjob_run(aio);

	/* After a transfer, it waits in curl_multi_poll. */
	url = srv_url("/json");
	xasprintf(&input, "{\"url\": \"%s\"}", url);
	run_wait("std.http", input, NULL, aio, &w);
	assert_int_equal(w.ok, 1);
	waiter_free(&w);
	free(input);
	free(url);
	tjob_run(aio);
	action_io_stop(aio);
}

/* Offloaded work: stopping waits for it. */
static void
offload_sleep(void *arg)
{
	int	*flag = arg;

	usleep(200 * 1000);
	*flag = 1;
}

static void
io_stop_ends_jobs_and_waits_for_offloaded_work(void **state)
{
	struct action_io	*aio;
	struct waiter		 w;
	char			*cause;
	int			 sv[2], flag = 0;

	aio = action_io_start(0, &cause);
	assert_non_null(aio);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	waiter_init(&w);
	tjob_submit(aio, sv[0], &w);
	assert_int_equal(action_io_offload(aio, offload_sleep, &flag, &cause),
	    0);
	usleep(50 * 1000);
	action_io_stop(aio);
	assert_int_equal(flag, 1);
	assert_int_equal(waiter_wait(&w, 1, 0), 1);
	assert_int_equal(w.ok, 0);
	assert_json_eq(w.result, "\"0S\"");
	waiter_free(&w);
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------------------------ */
/* std.lua.                                                            */

static void
lua_progress(void *arg, const char *msg, double frac)
{
	json_t	*events = arg;

	json_array_append_new(events, json_pack("{s:s, s:f}", "msg", msg,
	    "frac", frac));
}

static void
lua_runs_script_with_input(void **state)
{
	struct expr_limits	 lim;
	struct action_ctx	 ctx;
	struct waiter		 w;
	struct expr		*e;
	json_t			*events;
	char			*cause;

	memset(&lim, 0, sizeof lim);
	lim.max_instructions = 1000000;
	lim.max_memory = 32 * 1024 * 1024;
	lim.max_string = 1024 * 1024;
	e = expr_create(&lim, NULL, &cause);
	if (e == NULL)
		fail_msg("expr_create: %s", cause);
	events = json_array();
	memset(&ctx, 0, sizeof ctx);
	ctx.expr = e;
	ctx.progress = lua_progress;
	ctx.progress_arg = events;

	run_wait("std.lua", "{\"script\": \"progress('half', 0.5) "
	    "return _.a + 1\", \"input\": {\"a\": 2}}", &ctx, NULL, &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(w.result, "3");
	waiter_free(&w);
	assert_int_equal(json_array_size(events), 1);
	assert_json_eq(json_object_get(json_array_get(events, 0), "msg"),
	    "\"half\"");

	/* Context under input. */
	run_wait("std.lua", "{\"script\": \"return _.a .. _.b\", "
	    "\"input\": {\"a\": \"x\"}, \"context\": {\"a\": \"no\", "
	    "\"b\": \"y\"}}", &ctx, NULL, &w);
	assert_int_equal(w.ok, 1);
	assert_json_eq(w.result, "\"xy\"");
	waiter_free(&w);

	/* A Lua error fails the action with the message. */
	run_wait("std.lua", "{\"script\": \"error('bad thing')\"}", &ctx,
	    NULL, &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result), "bad thing"));
	waiter_free(&w);

	/* The sandbox has no io library. */
	run_wait("std.lua", "{\"script\": \"return io.open('/etc/passwd')\"}",
	    &ctx, NULL, &w);
	assert_int_equal(w.ok, 0);
	waiter_free(&w);

	json_decref(events);
	expr_free(e);
}


/* ------------------------------------------------------------------ */
/* OpenStack: credentials, catalog, secrets.                           */

/* The OS_* variables the client reads, cleared between tests. */
static const char *const os_env[] = { "OS_CLOUD", "OS_AUTH_URL",
	"OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_TENANT_NAME",
	"OS_PROJECT_ID", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME",
	"OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_SECRET",
	"OS_REGION_NAME", "OS_INTERFACE", "OS_CACERT", "OS_INSECURE",
	"OS_AUTH_TYPE", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE",
	"OS_USER_ID", "OS_USER_DOMAIN_ID", "OS_PROJECT_DOMAIN_ID",
	"OS_APPLICATION_CREDENTIAL_NAME", "OS_ENDPOINT_TYPE", NULL };

static void
os_env_clear(void)
{
	size_t	i;

	for (i = 0; os_env[i] != NULL; i++)
		unsetenv(os_env[i]);
}

/* Write text to dir/name; returns the path (caller frees). */
static char *
os_write(const char *dir, const char *name, const char *text)
{
	FILE	*f;
	char	*path;

	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return (path);
}

static const char os_catalog_text[] =
	"[{\"type\": \"identity\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region_id\": \"RegionOne\","
	"   \"url\": \"http://ks/identity\"}]},"
	" {\"type\": \"compute\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region\": \"RegionOne\","
	"   \"region_id\": \"RegionOne\", \"url\": \"http://c1:8774/v2.1\"},"
	"  {\"interface\": \"internal\", \"region_id\": \"RegionOne\","
	"   \"url\": \"http://c1-int:8774/v2.1\"},"
	"  {\"interface\": \"public\", \"region_id\": \"RegionTwo\","
	"   \"url\": \"http://c2:8774/v2.1\"}]}]";

static void
os_catalog_picks_type_interface_and_region(void **state)
{
	json_t	*cat;
	char	*url, *cause;

	cat = json_loads(os_catalog_text, 0, NULL);
	assert_non_null(cat);
	url = os_catalog_url(cat, "compute", NULL, NULL, &cause);
	assert_string_equal(url, "http://c1:8774/v2.1");
	free(url);
	url = os_catalog_url(cat, "compute", "internal", NULL, &cause);
	assert_string_equal(url, "http://c1-int:8774/v2.1");
	free(url);
	/* The v2 names of interfaces are understood. */
	url = os_catalog_url(cat, "compute", "internalURL", "RegionOne",
	    &cause);
	assert_string_equal(url, "http://c1-int:8774/v2.1");
	free(url);
	url = os_catalog_url(cat, "compute", "public", "RegionTwo", &cause);
	assert_string_equal(url, "http://c2:8774/v2.1");
	free(url);
	json_decref(cat);
}

static void
os_catalog_says_what_it_has(void **state)
{
	json_t	*cat;
	char	*cause;

	cat = json_loads(os_catalog_text, 0, NULL);
	assert_null(os_catalog_url(cat, "image", NULL, NULL, &cause));
	assert_string_equal(cause, "the catalog has no service of type "
	    "'image' (it has: identity, compute)");
	free(cause);
	assert_null(os_catalog_url(cat, "compute", "admin", "RegionOne",
	    &cause));
	assert_string_equal(cause, "the catalog has no admin endpoint of "
	    "'compute' in region RegionOne (it has: public in RegionOne, "
	    "internal in RegionOne, public in RegionTwo)");
	free(cause);
	assert_null(os_catalog_url(NULL, "compute", NULL, NULL, &cause));
	assert_non_null(strstr(cause, "(it has: nothing)"));
	free(cause);
	json_decref(cat);
}

static void
os_clouds_yaml_entry_is_read_with_secure_yaml(void **state)
{
	struct os_cred	*c;
	char		 dir[] = "/tmp/bora-os-XXXXXX";
	char		*clouds, *secure, *cause;
	json_t		*body;

	os_env_clear();
	assert_non_null(mkdtemp(dir));
	clouds = os_write(dir, "clouds.yaml",
	    "clouds:\n"
	    "  prod:\n"
	    "    auth:\n"
	    "      auth_url: https://ks.example.org:5000/v3/\n"
	    "      username: ops\n"
	    "      project_name: infra\n"
	    "      user_domain_name: Corp\n"
	    "    region_name: RegionTwo\n"
	    "    interface: internal\n"
	    "    verify: false\n"
	    "  app:\n"
	    "    auth_type: v3applicationcredential\n"
	    "    auth:\n"
	    "      auth_url: http://ks/identity\n"
	    "      application_credential_id: 1234abcd\n"
	    "      application_credential_secret: s3cr3t-app\n"
	    "    cacert: /etc/ssl/ca.pem\n");
	secure = os_write(dir, "secure.yaml",
	    "clouds:\n  prod:\n    auth:\n      password: 12345678\n");
	setenv("OS_CLIENT_SECURE_FILE", secure, 1);

	c = os_cred_cloud(clouds, "prod", &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->auth_type, "password");
	assert_string_equal(c->username, "ops");
	assert_string_equal(c->password, "12345678");	/* secure.yaml */
	assert_string_equal(c->region_name, "RegionTwo");
	assert_string_equal(c->interface, "internal");
	assert_int_equal(c->insecure, 1);
	assert_non_null(strstr(c->origin, "cloud 'prod' of"));
	body = os_cred_auth_body(c);
	assert_json_eq(body, "{\"auth\": {\"identity\": {\"methods\": "
	    "[\"password\"], \"password\": {\"user\": {\"name\": \"ops\", "
	    "\"domain\": {\"name\": \"Corp\"}, \"password\": \"12345678\"}}},"
	    " \"scope\": {\"project\": {\"name\": \"infra\", \"domain\": "
	    "{\"id\": \"default\"}}}}}");
	json_decref(body);
	free(cause = os_cred_token_url(c));
	os_cred_free(c);

	c = os_cred_cloud(clouds, "app", &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->auth_type, "v3applicationcredential");
	assert_string_equal(c->cacert, "/etc/ssl/ca.pem");
	assert_int_equal(c->insecure, 0);
	body = os_cred_auth_body(c);
	assert_json_eq(body, "{\"auth\": {\"identity\": {\"methods\": "
	    "[\"application_credential\"], \"application_credential\": "
	    "{\"id\": \"1234abcd\", \"secret\": \"s3cr3t-app\"}}}}");
	json_decref(body);
	os_cred_free(c);

	/* A missing cloud names the ones there are. */
	assert_null(os_cred_cloud(clouds, "nope", &cause));
	assert_non_null(strstr(cause, "no cloud 'nope' under clouds: (it has "
	    "prod, app)"));
	free(cause);

	unsetenv("OS_CLIENT_SECURE_FILE");
	unlink(secure);
	unlink(clouds);
	rmdir(dir);
	free(secure);
	free(clouds);
}

static void
os_clouds_yaml_errors_name_the_place(void **state)
{
	char	 dir[] = "/tmp/bora-os-XXXXXX";
	char	*clouds, *cause;

	os_env_clear();
	assert_non_null(mkdtemp(dir));
	clouds = os_write(dir, "clouds.yaml",
	    "clouds:\n"
	    "  nourl: {auth: {username: a, password: b}}\n"
	    "  token: {auth_type: token, auth: {auth_url: http://x}}\n"
	    "  nopw: {auth: {auth_url: http://x, username: a}}\n"
	    "  v2: {identity_api_version: 2, auth: {auth_url: http://x}}\n"
	    "  ftp: {auth: {auth_url: ftp://x, username: a, password: b}}\n");
	assert_null(os_cred_cloud(clouds, "nourl", &cause));
	assert_non_null(strstr(cause, "no auth URL (auth_url)"));
	free(cause);
	assert_null(os_cred_cloud(clouds, "token", &cause));
	assert_non_null(strstr(cause, "auth_type 'token' is not supported"));
	free(cause);
	assert_null(os_cred_cloud(clouds, "nopw", &cause));
	assert_non_null(strstr(cause, "cloud 'nopw' of"));
	assert_non_null(strstr(cause, "no password"));
	free(cause);
	assert_null(os_cred_cloud(clouds, "v2", &cause));
	assert_non_null(strstr(cause, "only 3 is supported"));
	free(cause);
	assert_null(os_cred_cloud(clouds, "ftp", &cause));
	assert_non_null(strstr(cause, "http:// or https://"));
	free(cause);
	unlink(clouds);
	free(clouds);

	/* A YAML error has its line and column. */
	clouds = os_write(dir, "clouds.yaml", "clouds:\n  a: [1,\n");
	assert_null(os_cred_cloud(clouds, "a", &cause));
	assert_non_null(strstr(cause, "clouds.yaml:3:1: "));
	free(cause);
	unlink(clouds);
	free(clouds);
	rmdir(dir);

	/* No file at all. */
	setenv("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml", 1);
	assert_null(os_cred_cloud(NULL, "x", &cause));
	assert_non_null(strstr(cause, "/nonexistent/clouds.yaml"));
	free(cause);
	os_env_clear();
}

static void
os_environment_credentials(void **state)
{
	struct os_cred	*c;
	char		*cause, *url;
	json_t		*body;

	os_env_clear();
	assert_null(os_cred_env(&cause));
	assert_non_null(strstr(cause, "no OpenStack credentials"));
	free(cause);

	setenv("OS_AUTH_URL", "http://ctl/identity/", 1);
	setenv("OS_USERNAME", "admin", 1);
	setenv("OS_PASSWORD", "pw-from-env", 1);
	setenv("OS_TENANT_NAME", "admin", 1);	/* the old name */
	setenv("OS_PROJECT_DOMAIN_NAME", "Default", 1);
	setenv("OS_INSECURE", "true", 1);
	c = os_cred_env(&cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->project_name, "admin");
	assert_int_equal(c->insecure, 1);
	url = os_cred_token_url(c);
	assert_string_equal(url, "http://ctl/identity/v3/auth/tokens");
	free(url);
	body = os_cred_auth_body(c);
	assert_json_eq(json_object_get(json_object_get(body, "auth"),
	    "scope"), "{\"project\": {\"name\": \"admin\", \"domain\": "
	    "{\"name\": \"Default\"}}}");
	json_decref(body);
	os_cred_free(c);

	setenv("OS_INSECURE", "maybe", 1);
	assert_null(os_cred_env(&cause));
	assert_non_null(strstr(cause, "OS_INSECURE"));
	free(cause);
	os_env_clear();
}

static void
os_token_url_adds_v3_once(void **state)
{
	struct os_cred	 c;
	char		*url;
	size_t		 i;
	const char	*cases[][2] = {
		{ "http://ks:5000", "http://ks:5000/v3/auth/tokens" },
		{ "http://ks:5000/v3", "http://ks:5000/v3/auth/tokens" },
		{ "http://ks:5000/v3/", "http://ks:5000/v3/auth/tokens" },
		{ "http://ks/identity/v2.0", "http://ks/identity/v3/auth/tokens" },
	};

	memset(&c, 0, sizeof c);
	for (i = 0; i < nitems(cases); i++) {
		c.auth_url = (char *)cases[i][0];
		url = os_cred_token_url(&c);
		assert_string_equal(url, cases[i][1]);
		free(url);
	}
}

static void
os_secrets_are_scrubbed(void **state)
{
	const char	*secrets[] = { "gAAAAABtoken", "hunter22", NULL };
	json_t		*h, *v;
	char		*s;

	h = json_pack("{s:s,s:s,s:s,s:s}", "x-subject-token", "gAAAAABtoken",
	    "X-Auth-Token", "gAAAAABtoken", "Content-Type",
	    "application/json", "authorization", "Bearer x");
	os_redact_headers(h);
	assert_json_eq(h, "{\"x-subject-token\": \"***\", \"X-Auth-Token\": "
	    "\"***\", \"Content-Type\": \"application/json\", "
	    "\"authorization\": \"***\"}");
	json_decref(h);

	s = os_scrub("token gAAAAABtoken and hunter22, hunter22.", secrets);
	assert_string_equal(s, "token *** and ***, ***.");
	free(s);
	s = os_scrub("nothing secret", secrets);
	assert_string_equal(s, "nothing secret");
	free(s);

	v = json_pack("{s:[s,{s:s}],s:i}", "a", "x hunter22 y", "b",
	    "gAAAAABtoken", "n", 1);
	os_scrub_json(v, secrets);
	assert_json_eq(v, "{\"a\": [\"x *** y\", {\"b\": \"***\"}], "
	    "\"n\": 1}");
	json_decref(v);
}

static void
os_conf_gives_the_default_credentials(void **state)
{
	struct conf	 conf;
	char		*cause;

	os_env_clear();
	conf_init(&conf);
	assert_int_equal(action_os_configure(&conf, &cause), 0);
	/* os-auth-url without a user is not a credential. */
	assert_int_equal(conf_set(&conf, "os-auth-url", "http://ks/identity",
	    CONF_SRC_FILE, &cause), 0);
	assert_int_equal(action_os_configure(&conf, &cause), -1);
	assert_string_equal(cause, "borad.conf: no username nor user_id");
	free(cause);
	assert_int_equal(conf_set(&conf, "os-username", "bora",
	    CONF_SRC_FILE, &cause), 0);
	assert_int_equal(conf_set(&conf, "os-password", "conf-pw",
	    CONF_SRC_FILE, &cause), 0);
	assert_int_equal(action_os_configure(&conf, &cause), 0);
	/* A missing clouds.yaml entry is an error at start. */
	assert_int_equal(conf_set(&conf, "os-cloud", "nope", CONF_SRC_FILE,
	    &cause), 0);
	assert_int_equal(conf_set(&conf, "os-clouds-file",
	    "/nonexistent/clouds.yaml", CONF_SRC_FILE, &cause), 0);
	assert_int_equal(action_os_configure(&conf, &cause), -1);
	assert_non_null(strstr(cause, "/nonexistent/clouds.yaml"));
	free(cause);
	conf_free(&conf);
	/* Back to no default. */
	conf_init(&conf);
	assert_int_equal(action_os_configure(&conf, &cause), 0);
	conf_free(&conf);
}

static void
os_request_bad_input_fails_at_once(void **state)
{
	struct waiter	 w;
	size_t		 i;
	const char	*cases[][2] = {
		{ "{\"service\": \"\"}", "'service' must be" },
		{ "{\"service\": \"compute\", \"method\": \"G T\"}",
		  "bad method" },
		{ "{\"service\": \"compute\", \"expected\": [\"ok\"]}",
		  "'expected': not a status code" },
		{ "{\"service\": \"compute\", \"query\": 3}",
		  "'query' must be" },
		{ "{\"service\": \"compute\", \"path\": \"/a b\"}",
		  "'path' has a space" },
		{ "{\"service\": \"compute\", \"microversion\": [2]}",
		  "'microversion' must be" },
		{ "{\"service\": \"compute\", \"cloud\": 1}",
		  "'cloud' must be" },
		{ "{\"service\": \"compute\", \"bogus\": 1}",
		  "unexpected parameter 'bogus' for os.request" },
	};

	os_env_clear();
	for (i = 0; i < nitems(cases); i++) {
		run_wait("os.request", cases[i][0], NULL, io, &w);
		assert_int_equal(w.ok, 0);
		if (strstr(json_string_value(w.result), cases[i][1]) == NULL)
			fail_msg("%s: got %s", cases[i][0],
			    json_string_value(w.result));
		waiter_free(&w);
	}
	/* No credentials anywhere: say where they can come from. */
	run_wait("os.request", "{\"service\": \"compute\"}", NULL, io, &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result),
	    "os.request compute GET: no OpenStack credentials: set "
	    "os-cloud or os-auth-url in borad.conf, OS_CLOUD"));
	waiter_free(&w);
}

static void
os_request_keystone_down_fails_without_the_password(void **state)
{
	struct waiter	 w;
	char		*url;
	int		 fd, port;
	struct sockaddr_in sin;
	socklen_t	 len = sizeof sin;

	/* A port nobody listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	close(fd);

	os_env_clear();
	xasprintf(&url, "http://127.0.0.1:%d/identity", port);
	setenv("OS_AUTH_URL", url, 1);
	setenv("OS_USERNAME", "admin", 1);
	setenv("OS_PASSWORD", "do-not-show-me", 1);
	setenv("OS_PROJECT_NAME", "admin", 1);
	run_wait("os.request", "{\"service\": \"compute\", \"path\": "
	    "\"/servers\"}", NULL, io, &w);
	assert_int_equal(w.ok, 0);
	assert_non_null(strstr(json_string_value(w.result),
	    "os.request compute GET /servers: cannot authenticate the OS_* "
	    "environment: keystone POST http://127.0.0.1:"));
	assert_null(strstr(json_string_value(w.result), "do-not-show-me"));
	waiter_free(&w);
	free(url);
	os_env_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registry_lists_every_std_action),
		cmocka_unit_test(params_string_shows_defaults_like_mistral),
		cmocka_unit_test(input_unknown_parameter_is_named),
		cmocka_unit_test(input_missing_required_is_named),
		cmocka_unit_test(input_defaults_are_filled),
		cmocka_unit_test(run_with_bad_input_fails_at_once),
		cmocka_unit_test(noop_echo_fail_finish_inline),
		cmocka_unit_test(test_dict_builds_keys),
		cmocka_unit_test(echo_with_delay_completes_later),
		cmocka_unit_test(async_noop_never_completes_by_itself),
		cmocka_unit_test(sleep_waits_without_blocking),
		cmocka_unit_test(stop_completes_pending_actions),
		cmocka_unit_test(http_get_json_is_decoded),
		cmocka_unit_test(http_text_stays_a_string),
		cmocka_unit_test(http_error_status_fails_with_the_response),
		cmocka_unit_test(http_transport_error_names_the_url),
		cmocka_unit_test(http_params_are_urlencoded),
		cmocka_unit_test(http_json_body_sets_content_type),
		cmocka_unit_test(http_headers_and_auth_are_sent),
		cmocka_unit_test(http_timeout_fails_clearly),
		cmocka_unit_test(http_redirects_follow_unless_disabled),
		cmocka_unit_test(http_body_is_capped),
		cmocka_unit_test(http_waiting_holds_no_caller),
		cmocka_unit_test(http_200_concurrent_requests_complete),
		cmocka_unit_test(http_max_inflight_queues_the_rest),
		cmocka_unit_test(http_connections_are_reused),
		cmocka_unit_test(mistral_http_sends_headers_and_stays_pending),
		cmocka_unit_test(io_jobs_step_on_socket_readiness_and_on_time),
		cmocka_unit_test(
		    io_stop_ends_jobs_and_waits_for_offloaded_work),
		cmocka_unit_test(lua_runs_script_with_input),
		cmocka_unit_test(os_catalog_picks_type_interface_and_region),
		cmocka_unit_test(os_catalog_says_what_it_has),
		cmocka_unit_test(os_clouds_yaml_entry_is_read_with_secure_yaml),
		cmocka_unit_test(os_clouds_yaml_errors_name_the_place),
		cmocka_unit_test(os_environment_credentials),
		cmocka_unit_test(os_token_url_adds_v3_once),
		cmocka_unit_test(os_secrets_are_scrubbed),
		cmocka_unit_test(os_conf_gives_the_default_credentials),
		cmocka_unit_test(os_request_bad_input_fails_at_once),
		cmocka_unit_test(
		    os_request_keystone_down_fails_without_the_password),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
