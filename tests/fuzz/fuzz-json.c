/*
 * fuzz-json.c -- libFuzzer target of JSON request bodies, through the
 * real API: an engine on a temporary SQLite store and the HTTP server on
 * a loopback port are set up once, with a workflow, an execution, its
 * task and an action execution to point at.  An input is one request:
 * its first line "METHOD PATH" picks one of the routes that read a JSON
 * body ("{id}" in the path stands for the object set up for it), the
 * rest is the body, sent on a kept-alive connection.  Every request must
 * get a whole HTTP answer, and never a 500.
 *
 * FUZZ-SEEDS: tests/data/api/bodies:.http
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "dsl/dsl.h"
#include "engine/engine.h"
#include "api/api.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The routes with a JSON body; id names what "{id}" stands for. */
enum fuzz_id { FUZZ_NONE, FUZZ_EXEC, FUZZ_TASK, FUZZ_ACTION };
static const struct fuzz_route {
	const char	*method;
	const char	*path;
	enum fuzz_id	 id;
} fuzz_routes[] = {
	{ "POST", "/v2/executions", FUZZ_NONE },
	{ "PUT", "/v2/executions/{id}", FUZZ_EXEC },
	{ "PUT", "/v2/tasks/{id}", FUZZ_TASK },
	{ "POST", "/v2/action_executions", FUZZ_NONE },
	{ "PUT", "/v2/action_executions/{id}", FUZZ_ACTION },
};

static const char fuzz_workflow[] =
    "version: '2.0'\n"
    "fuzz_wf:\n"
    "  input: [name, {n: 1}]\n"
    "  tasks:\n"
    "    t1:\n"
    "      action: std.echo output=<% _.name %>\n"
    "      publish: {out: <% task().result %>}\n"
    "      on-success: t2\n"
    "    t2:\n"
    "      action: std.fail\n";

static char		 fuzz_dir[] = "/tmp/fuzz-json-XXXXXX";
static struct engine	*fuzz_engine;
static struct api	*fuzz_api;
static int		 fuzz_port, fuzz_fd = -1;
static char		*fuzz_ids[4];

/*
 * Actions a synchronous run may wait on for as long as the body asks
 * (std.sleep, std.http, async ones): an honest wait, not a fault, so
 * such requests are left out.
 */
static int
fuzz_waits(const struct fuzz_route *r, const uint8_t *data, size_t size)
{
	static const char	*quick[] = { "std.echo", "std.noop",
	    "std.fail", "std.lua", NULL };
	const char		*name, **q;
	json_t			*v;
	int			 waits = 0;

	if (strcmp(r->path, "/v2/action_executions") != 0)
		return (0);
	if ((v = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return (0);
	name = json_string_value(json_object_get(v, "name"));
	if (name != NULL && strncmp(name, "std.", 4) == 0) {
		waits = 1;
		for (q = quick; *q != NULL; q++)
			if (strcmp(name, *q) == 0)
				waits = 0;
	}
	json_decref(v);
	return (waits);
}

/* Remove the store at exit. */
static void
fuzz_cleanup(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", fuzz_dir);
	if (system(cmd) != 0)
		return;
}

/* Connect to the API (kept alive between inputs). */
static int
fuzz_connect(void)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 30, 0 };

	if (fuzz_fd != -1)
		return (fuzz_fd);
	if ((fuzz_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		fatal("socket");
	setsockopt(fuzz_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fuzz_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fuzz_fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		fatal("connect");
	return (fuzz_fd);
}

/* Drop the connection (the server closed it, or answered early). */
static void
fuzz_disconnect(void)
{
	if (fuzz_fd != -1)
		close(fuzz_fd);
	fuzz_fd = -1;
}

/*
 * Send one request and read the whole answer; its status, or -1 when
 * the connection broke before any answer (then sent again once).
 */
static int
fuzz_request(const char *method, const char *path, const char *body,
    size_t len, char **out)
{
	struct buf	 b;
	char		*end, *cl;
	size_t		 want;
	ssize_t		 n;
	int		 status = -1, attempt;
	char		 tmp[4096];

	*out = NULL;
	for (attempt = 0; attempt < 2 && status == -1; attempt++) {
		/* One write: two would wait for Nagle's delayed ACK. */
		buf_init(&b, 0);
		buf_printf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n", method, path, len);
		buf_add(&b, body, len);
		fuzz_connect();
		for (want = 0; want < b.len; want += (size_t)n) {
			if ((n = write(fuzz_fd, b.data + want,
			    b.len - want)) <= 0)
				break;
		}
		buf_free(&b);
		if (n <= 0) {
			fuzz_disconnect();
			continue;
		}
		buf_init(&b, 0);
		end = NULL;
		want = 0;
		for (;;) {
			if (end != NULL && b.len >= want)
				break;
			if ((n = read(fuzz_fd, tmp, sizeof tmp)) <= 0) {
				if (n == -1 && errno == EAGAIN)
					fatalx("%s %s: no answer in 30 s",
					    method, path);
				break;
			}
			buf_add(&b, tmp, (size_t)n);
			if (end == NULL &&
			    (end = strstr(b.data, "\r\n\r\n")) != NULL) {
				want = (size_t)(end - b.data) + 4;
				cl = strcasestr(b.data, "\r\nContent-Length:");
				if (cl != NULL && cl < end)
					want += strtoul(cl + 17, NULL, 10);
			}
		}
		if (end != NULL && b.len >= want &&
		    sscanf(b.data, "HTTP/1.%*d %d", &status) == 1) {
			if (strcasestr(b.data, "\r\nConnection: close") !=
			    NULL)
				fuzz_disconnect();
			*out = xstrdup(end + 4);
		} else {
			if (b.len != 0)
				fatalx("%s %s: broken answer: %.200s", method,
				    path, b.data);
			fuzz_disconnect();
		}
		buf_free(&b);
	}
	if (status == -1)
		fatalx("%s %s: the connection broke without an answer",
		    method, path);
	return (status);
}

/* The "id" field of a JSON answer, or fail. */
static char *
fuzz_id(const char *what, const char *text)
{
	json_t	*v;
	char	*id;

	if ((v = json_loads(text, 0, NULL)) == NULL ||
	    json_string_value(json_object_get(v, "id")) == NULL)
		fatalx("%s: no id in %.200s", what, text);
	id = xstrdup(json_string_value(json_object_get(v, "id")));
	json_decref(v);
	return (id);
}

/* Engine, server and the objects the routes point at, once. */
static void
fuzz_init(void)
{
	struct engine_config	 ec;
	struct api_config	 ac;
	struct dsl_errors	 errs;
	struct store_def	*def = NULL;
	json_t			*v;
	char			*url, *cause, *out, *path;
	const char		*body;
	int			 status;

	if (mkdtemp(fuzz_dir) == NULL)
		fatal("mkdtemp");
	atexit(fuzz_cleanup);
	log_init(1, LOG_LVL_WARN, "fuzz-json");
	xasprintf(&url, "sqlite:%s/bora.db", fuzz_dir);
	memset(&ec, 0, sizeof ec);
	ec.db_url = url;
	ec.expr_max_time_ms = 200;
	if ((fuzz_engine = engine_open(&ec, &cause)) == NULL)
		fatalx("engine: %s", cause);
	dsl_errors_init(&errs);
	if (engine_def_load(fuzz_engine, "workflows", NULL, fuzz_workflow,
	    "fuzz.yaml", 0, &errs, &def) != STORE_OK)
		fatalx("workflow: %s", dsl_errors_format(&errs));
	dsl_errors_free(&errs);
	store_def_free(def);
	memset(&ac, 0, sizeof ac);
	ac.listen = "127.0.0.1:0";
	ac.db_url = url;
	ac.threads = 2;
	if ((fuzz_api = api_open(fuzz_engine, &ac, &cause)) == NULL)
		fatalx("api: %s", cause);
	api_set_ready(fuzz_api, 1);
	fuzz_port = api_port(fuzz_api);
	if (engine_start(fuzz_engine, &cause) != 0)
		fatalx("engine: %s", cause);

	body = "{\"workflow_name\": \"fuzz_wf\", \"input\": {\"name\": \"x\"}}";
	status = fuzz_request("POST", "/v2/executions", body, strlen(body),
	    &out);
	if (status != 201)
		fatalx("execution: %d %s", status, out);
	fuzz_ids[FUZZ_EXEC] = fuzz_id("execution", out);
	free(out);
	xasprintf(&path, "/v2/executions/%s/tasks", fuzz_ids[FUZZ_EXEC]);
	do {
		usleep(10000);
		fuzz_request("GET", path, "", 0, &out);
		v = json_loads(out, 0, NULL);
		free(out);
		out = NULL;
		if (json_array_size(json_object_get(v, "tasks")) > 0)
			out = json_dumps(json_array_get(json_object_get(v,
			    "tasks"), 0), 0);
		json_decref(v);
	} while (out == NULL);
	fuzz_ids[FUZZ_TASK] = fuzz_id("task", out);
	free(out);
	free(path);
	body = "{\"name\": \"std.echo\", \"input\": {\"output\": 1}, "
	    "\"params\": {\"save_result\": true}}";
	status = fuzz_request("POST", "/v2/action_executions", body,
	    strlen(body), &out);
	if (status != 201)
		fatalx("action execution: %d %s", status, out);
	fuzz_ids[FUZZ_ACTION] = fuzz_id("action execution", out);
	free(out);
	/* url stays: the engine and the server keep it. */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_route	*r = NULL;
	const uint8_t		*nl;
	char			*line, *path, *out, *p;
	size_t			 i, llen, sum = 0;
	int			 status;

	if (fuzz_engine == NULL)
		fuzz_init();
	nl = memchr(data, '\n', size);
	llen = nl != NULL ? (size_t)(nl - data) : 0;
	line = xstrndup((const char *)data, llen);
	for (i = 0; i < nitems(fuzz_routes); i++) {
		p = line + strlen(fuzz_routes[i].method);
		if (strncmp(line, fuzz_routes[i].method,
		    strlen(fuzz_routes[i].method)) == 0 && *p == ' ' &&
		    strcmp(p + 1, fuzz_routes[i].path) == 0) {
			r = &fuzz_routes[i];
			break;
		}
	}
	if (r == NULL) {
		for (i = 0; i < llen; i++)
			sum += data[i];
		r = &fuzz_routes[sum % nitems(fuzz_routes)];
	}
	free(line);
	path = xstrdup(r->path);
	if ((p = strstr(path, "{id}")) != NULL) {
		*p = '\0';
		xasprintf(&line, "%s%s", path, fuzz_ids[r->id]);
		free(path);
		path = line;
	}
	if (nl != NULL) {
		data = nl + 1;
		size -= llen + 1;
	}
	if (fuzz_waits(r, data, size)) {
		free(path);
		return (0);
	}
	status = fuzz_request(r->method, path, (const char *)data, size,
	    &out);
	if (status >= 500 && status != 503)
		fatalx("%s %s: %d %s", r->method, path, status, out);
	free(out);
	free(path);
	return (0);
}
