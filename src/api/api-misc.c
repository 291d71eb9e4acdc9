/*
 * api-misc.c -- the API's own resources: version documents (/ and /v2),
 * health (/healthz, /readyz), Prometheus metrics (/metrics) and the
 * OpenAPI document, generated from the routing table so it cannot drift
 * from what the server answers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "engine/engine.h"
#include "api/api-int.h"

const unsigned api_codes[API_NCODES] = {
	200, 201, 204, 400, 401, 403, 404, 405, 406, 409, 413, 414, 415,
	422, 429, 431, 500, 503
};

const double api_buckets[API_NBUCKETS] = {
	0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600
};

/* Count one answer for /metrics. */
void
api_metrics_count(struct api *api, size_t route, unsigned status)
{
	size_t	c;

	for (c = 0; c < API_NCODES; c++) {
		if (api_codes[c] == status)
			break;
	}
	if (route > api_nroutes)
		route = api_nroutes;
	atomic_fetch_add_explicit(&api->counts[route * (API_NCODES + 1) + c],
	    1, memory_order_relaxed);
}

/* Engine observer: a task reached a final state; record its duration. */
void
api_observe_task(void *arg, const struct store_exec *e,
    const struct store_task *t)
{
	struct api	*api = arg;
	double		 secs;
	size_t		 b;

	if (t == NULL || t->state == NULL || !store_state_final(t->state) ||
	    t->started_at <= 0 || t->finished_at < t->started_at)
		return;
	secs = (double)(t->finished_at - t->started_at) / 1000.0;
	for (b = 0; b < API_NBUCKETS; b++) {
		if (secs <= api_buckets[b])
			break;
	}
	pthread_mutex_lock(&api->mtx);
	api->hist[b]++;
	api->hist_sum += secs;
	api->hist_count++;
	pthread_mutex_unlock(&api->mtx);
}

static json_t *
api_version_doc(struct api_req *req)
{
	char	*base, *href;
	json_t	*v;

	base = api_base_url(req);
	xasprintf(&href, "%s/v2", base);
	v = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "id", "v2.0",
	    "status", "CURRENT", "links", "href", href, "target", "v2",
	    "rel", "self");
	free(href);
	free(base);
	return (v);
}

void
api_root(struct api_req *req)
{
	api_reply(req, 200, json_pack("{s:[o]}", "versions",
	    api_version_doc(req)));
}

void
api_v2(struct api_req *req)
{
	char	*base, *u;
	json_t	*o;

	base = api_base_url(req);
	o = json_pack("{s:s, s:o}", "uri", "", "version",
	    api_version_doc(req));
	xasprintf(&u, "%s/v2", base);
	json_object_set_new(o, "uri", json_string(u));
	free(u);
	free(base);
	api_reply(req, 200, o);
}

void
api_healthz(struct api_req *req)
{
	api_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready when the store answers and the watched folders are loaded. */
void
api_readyz(struct api_req *req)
{
	enum store_rc	 rc;
	int		 ready;
	json_t		*errs;

	rc = req->store != NULL ? store_ping(req->store) : STORE_UNAVAILABLE;
	ready = atomic_load(&req->api->ready);
	errs = req->api->engine != NULL ?
	    engine_watch_errors(req->api->engine) : NULL;
	if (errs == NULL)
		errs = json_array();
	if (rc != STORE_OK || !ready) {
		api_reply(req, 503, json_pack("{s:s, s:s, s:b, s:o}",
		    "status", "unavailable", "store", store_rc_name(rc),
		    "definitions_loaded", ready, "definition_errors", errs));
		return;
	}
	api_reply(req, 200, json_pack("{s:s, s:s, s:s, s:b, s:o}", "status",
	    "ok", "store", "ok", "backend", store_backend(req->store),
	    "definitions_loaded", 1, "definition_errors", errs));
}

/* One gauge family of rows by state. */
static void
api_metrics_states(struct api_req *req, struct buf *b, const char *table,
    const char *metric, const char *help)
{
	json_t		*counts = NULL, *v;
	const char	*key;
	size_t		 i;

	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", metric, help,
	    metric);
	if (store_count_by_state(req->store, table, &counts) != STORE_OK ||
	    counts == NULL)
		return;
	if (json_is_object(counts)) {
		json_object_foreach(counts, key, v)
			buf_printf(b, "%s{state=\"%s\"} %lld\n", metric,
			    api_state_out(key),
			    (long long)json_integer_value(v));
	} else if (json_is_array(counts)) {
		json_array_foreach(counts, i, v) {
			key = json_string_value(json_object_get(v, "state"));
			if (key != NULL)
				buf_printf(b, "%s{state=\"%s\"} %lld\n",
				    metric, api_state_out(key),
				    (long long)json_integer_value(
				    json_object_get(v, "count")));
		}
	}
	json_decref(counts);
}

/* What this engine's reapers deleted and its sender did (counters). */
static void
api_metrics_told(struct api *api, struct buf *b)
{
	json_t		*st, *v;
	const char	*k;

	if (api->engine == NULL)
		return;
	st = engine_stats(api->engine);
	buf_printf(b, "# HELP bora_reaped_rows_total Rows deleted by this "
	    "engine's reapers, by kind.\n# TYPE bora_reaped_rows_total "
	    "counter\n");
	json_object_foreach(json_object_get(st, "reaped"), k, v)
		buf_printf(b, "bora_reaped_rows_total{kind=\"%s\"} %lld\n", k,
		    (long long)json_integer_value(v));
	buf_printf(b, "# HELP bora_notification_attempts_total Deliveries "
	    "this engine made, by outcome: sent, retried (to be tried "
	    "again), dead (given up).\n# TYPE "
	    "bora_notification_attempts_total counter\n");
	json_object_foreach(json_object_get(st, "notifications"), k, v)
		buf_printf(b, "bora_notification_attempts_total{outcome="
		    "\"%s\"} %lld\n", k, (long long)json_integer_value(v));
	json_decref(st);
}

/* GET /metrics: Prometheus text format 0.0.4. */
void
api_metrics(struct api_req *req)
{
	struct api	*api = req->api;
	struct buf	 b;
	size_t		 r, c;
	uint64_t	 n, cum;
	int64_t		 t0;
	double		 ping;
	enum store_rc	 rc;
	json_t		*errs;

	buf_init(&b, 0);
	buf_printf(&b, "# HELP bora_up The daemon answers.\n"
	    "# TYPE bora_up gauge\nbora_up 1\n");
	buf_printf(&b, "# HELP bora_uptime_seconds Time since the API "
	    "started.\n# TYPE bora_uptime_seconds gauge\n"
	    "bora_uptime_seconds %.3f\n",
	    (double)(time_now_ms() - api->started_ms) / 1000.0);

	t0 = time_mono_ms();
	rc = store_ping(req->store);
	ping = (double)(time_mono_ms() - t0) / 1000.0;
	buf_printf(&b, "# HELP bora_store_up The store answers a ping.\n"
	    "# TYPE bora_store_up gauge\nbora_store_up %d\n",
	    rc == STORE_OK);
	buf_printf(&b, "# HELP bora_store_ping_seconds Latency of one store "
	    "round trip.\n# TYPE bora_store_ping_seconds gauge\n"
	    "bora_store_ping_seconds %.6f\n", ping);

	api_metrics_states(req, &b, "executions", "bora_executions",
	    "Executions by state.");
	api_metrics_states(req, &b, "tasks", "bora_tasks",
	    "Task executions by state.");
	api_metrics_states(req, &b, "action_executions",
	    "bora_action_executions", "Action executions by state.");

	api_metrics_states(req, &b, "outbox", "bora_notifications",
	    "Notifications by state: PENDING, SENT, DEAD (given up).");
	api_metrics_told(api, &b);

	errs = api->engine != NULL ? engine_watch_errors(api->engine) : NULL;
	buf_printf(&b, "# HELP bora_definition_errors Watched files that "
	    "failed to load.\n# TYPE bora_definition_errors gauge\n"
	    "bora_definition_errors %zu\n", json_array_size(errs));
	json_decref(errs);

	buf_printf(&b, "# HELP bora_http_requests_total HTTP requests by "
	    "route and status.\n# TYPE bora_http_requests_total counter\n");
	for (r = 0; r <= api_nroutes; r++) {
		for (c = 0; c <= API_NCODES; c++) {
			n = atomic_load_explicit(&api->counts[r *
			    (API_NCODES + 1) + c], memory_order_relaxed);
			if (n == 0)
				continue;
			if (r < api_nroutes)
				buf_printf(&b, "bora_http_requests_total{method="
				    "\"%s\",route=\"%s\",", api_routes[r].method,
				    api_routes[r].pattern);
			else
				buf_printf(&b, "bora_http_requests_total{method="
				    "\"\",route=\"unmatched\",");
			if (c < API_NCODES)
				buf_printf(&b, "code=\"%u\"} %llu\n",
				    api_codes[c], (unsigned long long)n);
			else
				buf_printf(&b, "code=\"other\"} %llu\n",
				    (unsigned long long)n);
		}
	}

	buf_printf(&b, "# HELP bora_task_duration_seconds Time from a task's"
	    " start to its end.\n# TYPE bora_task_duration_seconds "
	    "histogram\n");
	pthread_mutex_lock(&api->mtx);
	cum = 0;
	for (c = 0; c < API_NBUCKETS; c++) {
		cum += api->hist[c];
		buf_printf(&b, "bora_task_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", api_buckets[c], (unsigned long long)cum);
	}
	buf_printf(&b, "bora_task_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "bora_task_duration_seconds_sum %.6f\n"
	    "bora_task_duration_seconds_count %llu\n",
	    (unsigned long long)api->hist_count, api->hist_sum,
	    (unsigned long long)api->hist_count);
	pthread_mutex_unlock(&api->mtx);

	buf_add(&b, "", 0);
	api_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    buf_take(&b));
}

/* The OpenAPI 3 document, from the routing table. */
json_t *
api_openapi(void)
{
	json_t			*doc, *paths, *path, *op, *params, *resp;
	const struct api_route	*r;
	const char		*p, *e;
	char			*name, mth[16];
	size_t			 i, j;

	paths = json_object();
	for (i = 0; i < api_nroutes; i++) {
		r = &api_routes[i];
		if ((path = json_object_get(paths, r->pattern)) == NULL) {
			path = json_object();
			json_object_set_new(paths, r->pattern, path);
		}
		for (j = 0; r->method[j] != '\0' && j < sizeof mth - 1; j++)
			mth[j] = (char)(r->method[j] | 0x20);
		mth[j] = '\0';
		op = json_pack("{s:s}", "summary", r->summary);
		params = json_array();
		for (p = strchr(r->pattern, '{'); p != NULL;
		    p = strchr(e, '{')) {
			e = strchr(p, '}');
			name = xstrndup(p + 1, (size_t)(e - p - 1));
			json_array_append_new(params, json_pack("{s:s, s:s, "
			    "s:b, s:{s:s}}", "name", name, "in", "path",
			    "required", 1, "schema", "type", "string"));
			free(name);
		}
		if (json_array_size(params) > 0)
			json_object_set_new(op, "parameters", params);
		else
			json_decref(params);
		if (r->body == API_BODY_TEXT)
			json_object_set_new(op, "requestBody", json_pack(
			    "{s:b, s:{s:{s:{s:s}}}}", "required", 1, "content",
			    "text/plain", "schema", "type", "string"));
		else if (r->body == API_BODY_JSON)
			json_object_set_new(op, "requestBody", json_pack(
			    "{s:{s:{s:{s:s}}}}", "content", "application/json",
			    "schema", "type", "object"));
		resp = json_object();
		json_object_set_new(resp, strcmp(r->method, "POST") == 0 &&
		    strstr(r->pattern, "validate") == NULL ? "201" :
		    strcmp(r->method, "DELETE") == 0 ? "204" : "200",
		    json_pack("{s:s}", "description", "success"));
		json_object_set_new(resp, "default", json_pack("{s:s}",
		    "description", "error: {faultcode, faultstring, "
		    "debuginfo}"));
		json_object_set_new(op, "responses", resp);
		json_object_set_new(path, mth, op);
	}
	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o}", "openapi", "3.0.3",
	    "info", "title", "bora REST API (Mistral v2 compatible)",
	    "version", PACKAGE_VERSION, "description", "Definitions are "
	    "YAML text; JSON-typed fields of Mistral resources are JSON "
	    "strings; times are \"YYYY-MM-DD HH:MM:SS\" UTC.",
	    "paths", paths);
	return (doc);
}

void
api_openapi_get(struct api_req *req)
{
	api_reply(req, 200, api_openapi());
}

void
api_services(struct api_req *req)
{
	api_error(req, 406, "Service API is not supported.");
}
