/*
 * api-cron.c -- cron triggers, as Mistral's /v2/cron_triggers: a
 * workflow started with a stored input and params at each tick of a
 * pattern (UTC), from first_execution_time on, remaining_executions
 * times (or for ever).  The engine loop fires them (engine-cron.c).
 *
 * Creation checks what Mistral checks: a pattern or a first time, a
 * first time at least a minute ahead, a pattern for more than one
 * execution, a pattern that parses, a workflow that exists with an
 * input it takes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "engine/engine.h"
#include "api/api-int.h"

static const struct api_field api_cron_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "pattern", "pattern" },
	{ "workflow_name", "workflow_name" },
	{ "workflow_id", "workflow_id" },
	{ "workflow_namespace", "workflow_namespace" },
	{ "workflow_input", "workflow_input" },
	{ "workflow_params", "workflow_params" },
	{ "scope", "scope" },
	{ "remaining_executions", "remaining_executions" },
	{ "first_execution_time", "first_execution_time" },
	{ "next_execution_time", "next_execution_time" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ NULL, NULL }
};

/* A cron trigger as Mistral shows it. */
static json_t *
api_cron_json(const struct store_cron *c)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_string(c->id));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "pattern", api_strornull(c->pattern));
	json_object_set_new(o, "workflow_name", json_string(c->workflow_name));
	json_object_set_new(o, "workflow_id", api_strornull(c->workflow_id));
	json_object_set_new(o, "workflow_namespace", json_string(
	    c->workflow_namespace != NULL ? c->workflow_namespace : ""));
	json_object_set_new(o, "workflow_input", api_jstr(c->workflow_input,
	    "{}"));
	json_object_set_new(o, "workflow_params", api_jstr(c->workflow_params,
	    "{}"));
	json_object_set_new(o, "scope", json_string(c->scope != NULL ?
	    c->scope : "private"));
	json_object_set_new(o, "first_execution_time",
	    c->first_execution_time > 0 ? api_time(c->first_execution_time) :
	    json_null());
	json_object_set_new(o, "next_execution_time",
	    api_time(c->next_execution_time));
	json_object_set_new(o, "remaining_executions",
	    c->remaining_executions >= 0 ?
	    json_integer(c->remaining_executions) : json_null());
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	json_object_set_new(o, "created_at", api_time(c->created_at));
	json_object_set_new(o, "updated_at", c->updated_at != c->created_at ?
	    api_time(c->updated_at) : json_null());
	return (o);
}

/*
 * "YYYY-MM-DD HH:MM" (Mistral's form), with ":SS" or as ISO 8601, UTC,
 * into ms; -1 when it does not read.
 */
static int
api_cron_time(const char *s, int64_t *ms)
{
	struct tm	 tm;
	int		 n = 0, sec = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d%*[ T]%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &n) != 5)
		return (-1);
	if (s[n] == ':' && sscanf(s + n + 1, "%2d", &sec) == 1) {
		n += 3;
		if (s[n] == '.')
			while (s[++n] >= '0' && s[n] <= '9')
				;
	}
	if (s[n] == 'Z')
		n++;
	if (s[n] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || sec > 59)
		return (-1);
	tm.tm_year -= 1900;
	tm.tm_mon--;
	tm.tm_sec = sec;
	*ms = (int64_t)timegm(&tm) * 1000;
	return (0);
}

void
api_cron_list(struct api_req *req)
{
	struct api_list		  l;
	struct store_cron	**v = NULL;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items;
	char			 *cause;

	if (api_list_parse(req, api_cron_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	rc = store_cron_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, "Cron trigger list",
		    store_error(req->store));
		goto out;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(items, api_cron_json(v[i]));
		store_cron_free(v[i]);
	}
	api_list_reply(req, &l, "cron_triggers", items);
out:
	free(v);
	api_list_free(&l);
}

/* Answer a failed load or delete: Mistral's 404, or the store's error. */
static void
api_cron_fail(struct api_req *req, enum store_rc rc, const char *name)
{
	if (rc == STORE_NOTFOUND)
		api_error(req, 404, "Cron trigger not found [name=%s]", name);
	else
		api_store_error(req, rc, 0, "Cron trigger",
		    store_error(req->store));
}

void
api_cron_get(struct api_req *req)
{
	struct store_cron	*c;
	enum store_rc		 rc;

	if ((rc = store_cron_load(req->store, req->params[0], &c)) !=
	    STORE_OK) {
		api_cron_fail(req, rc, req->params[0]);
		return;
	}
	api_reply(req, 200, api_cron_json(c));
	store_cron_free(c);
}

void
api_cron_delete(struct api_req *req)
{
	enum store_rc	 rc;

	if ((rc = store_cron_delete(req->store, req->params[0])) != STORE_OK) {
		api_cron_fail(req, rc, req->params[0]);
		return;
	}
	log_info("api: cron trigger %s deleted [%s]", req->params[0],
	    req->rid);
	api_reply(req, 204, NULL);
}

/* The workflow's name and id as the engine finds them (o's namespace). */
static int
api_cron_workflow(struct api_req *req, struct engine_start_opts *o,
    struct store_cron *c)
{
	struct store_workflow	*w = NULL;
	json_t			*params;
	char			*cause = NULL;
	enum store_rc		 rc;

	/* Checked without the env: it may be created later. */
	params = json_deep_copy(c->workflow_params);
	json_object_del(params, "env");
	o->params = params;
	rc = engine_exec_check(req->api->engine, o, &cause);
	json_decref(params);
	o->params = NULL;
	if (rc != STORE_OK) {
		api_store_error(req, rc, 1, "Invalid cron trigger", cause);
		free(cause);
		return (-1);
	}
	if (store_workflow_load_ns(req->store, o->workflow, o->namespace,
	    &w) == STORE_OK) {
		c->workflow_name = xstrdup(w->name);
		c->workflow_id = xstrdup(w->id);
		store_workflow_free(w);
	} else
		c->workflow_name = xstrdup(o->workflow);
	return (0);
}

/* POST /v2/cron_triggers. */
void
api_cron_create(struct api_req *req)
{
	struct engine_start_opts	 o;
	struct store_cron		 c, *got = NULL;
	struct store_tx			*tx;
	struct cron			*cr = NULL;
	json_t				*b = req->json, *input = NULL;
	json_t				*params = NULL, *count;
	const char			*name, *pattern, *first, *wf;
	char				*cause = NULL;
	enum store_rc			 rc;
	int64_t				 now;

	memset(&c, 0, sizeof c);
	name = json_string_value(json_object_get(b, "name"));
	wf = json_string_value(json_object_get(b, "workflow_id"));
	if (wf == NULL)
		wf = json_string_value(json_object_get(b, "workflow_name"));
	if (name == NULL || *name == '\0' || wf == NULL || *wf == '\0') {
		api_error(req, 400, "The body must be a JSON object with the "
		    "trigger's name and workflow_name (or workflow_id)");
		return;
	}
	pattern = json_string_value(json_object_get(b, "pattern"));
	if (pattern != NULL && *pattern == '\0')
		pattern = NULL;
	first = json_string_value(json_object_get(b, "first_execution_time"));
	count = json_object_get(b, "remaining_executions");
	if (count != NULL && !json_is_null(count) &&
	    (!json_is_integer(count) || json_integer_value(count) < 1)) {
		api_error(req, 400, "remaining_executions must be a positive "
		    "integer");
		return;
	}
	if (pattern == NULL && first == NULL) {
		api_error(req, 400, "Pattern or first_execution_time must be "
		    "specified.");
		return;
	}
	now = time_now_ms();
	if (first != NULL) {
		if (api_cron_time(first, &c.first_execution_time) != 0) {
			api_error(req, 400, "first_execution_time '%s' does not "
			    "match format 'YYYY-MM-DD HH:MM' (UTC)", first);
			return;
		}
		if (c.first_execution_time < now + 60 * 1000) {
			api_error(req, 400, "first_execution_time must be at "
			    "least 1 minute in the future.");
			return;
		}
		if (pattern == NULL && json_integer_value(count) > 1) {
			api_error(req, 400, "Pattern must be provided if count "
			    "is superior to 1.");
			return;
		}
	}
	if (pattern != NULL && (cr = cron_parse(pattern, &cause)) == NULL) {
		api_error(req, 400, "The specified pattern is not valid: %s",
		    cause);
		free(cause);
		return;
	}
	if (api_json_value(json_object_get(b, "workflow_input"), &input,
	    &cause) != 0 || (input != NULL && !json_is_object(input)) ||
	    api_json_value(json_object_get(b, "workflow_params"), &params,
	    &cause) != 0 || (params != NULL && !json_is_object(params))) {
		api_error(req, 400, "workflow_input and workflow_params must "
		    "be JSON objects%s%s", cause != NULL ? ": " : "",
		    cause != NULL ? cause : "");
		goto out;
	}
	c.workflow_input = input != NULL ? json_incref(input) : json_object();
	c.workflow_params = params != NULL ? json_incref(params) :
	    json_object();
	memset(&o, 0, sizeof o);
	o.workflow = wf;
	o.input = c.workflow_input;
	o.namespace = json_string_value(json_object_get(b,
	    "workflow_namespace"));
	if (o.namespace == NULL)
		o.namespace = json_string_value(json_object_get(params,
		    "namespace"));
	if (o.namespace == NULL)
		o.namespace = "";
	if (api_cron_workflow(req, &o, &c) != 0)
		goto out;
	uuid_make(c.id);
	c.name = (char *)name;
	c.pattern = (char *)pattern;
	c.workflow_namespace = (char *)o.namespace;
	/* Without a first time, the first tick of the pattern from now. */
	c.next_execution_time = c.first_execution_time > 0 ?
	    c.first_execution_time : cron_next(cr, now);
	if (c.next_execution_time < 0) {
		api_error(req, 400, "The specified pattern is not valid: it "
		    "has no tick in the next ten years");
		goto out;
	}
	c.remaining_executions = count != NULL && json_is_integer(count) ?
	    json_integer_value(count) : pattern == NULL ? 1 : -1;
	c.scope = (char *)"private";
	tx = store_tx_create();
	store_tx_cron_insert(tx, &c);
	rc = store_tx_commit(req->store, tx);
	store_tx_free(tx);
	if (rc == STORE_CONFLICT) {
		api_error(req, 409, "Duplicate entry for cron trigger ['name', "
		    "'project_id']: %s, <default-project>", name);
		goto out;
	}
	if (rc != STORE_OK || store_cron_load(req->store, c.id, &got) !=
	    STORE_OK) {
		api_store_error(req, rc != STORE_OK ? rc : STORE_ERROR, 0,
		    "Cron trigger", store_error(req->store));
		goto out;
	}
	log_info("api: cron trigger %s created [%s]", name, req->rid);
	api_reply(req, 201, api_cron_json(got));
out:
	free(cause);
	store_cron_free(got);
	free(c.workflow_name);
	free(c.workflow_id);
	json_decref(c.workflow_input);
	json_decref(c.workflow_params);
	json_decref(input);
	json_decref(params);
	cron_free(cr);
}
