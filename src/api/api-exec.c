/*
 * api-exec.c -- executions, tasks and action executions: Mistral v2's
 * /v2/executions, /v2/tasks and /v2/action_executions, plus bora's
 * /v2/executions/{id}/events.
 *
 * Reads use this HTTP thread's own store connection; every change goes
 * through the engine, which owns the state machine.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "engine/engine.h"
#include "api/api-int.h"

#define API_STATE_WAIT_MS	3000

/* Filter and sort fields: Mistral's names, as the store's whitelist. */
static const struct api_field api_exec_fields[] = {
	{ "id", "id" },
	{ "workflow_name", "workflow_name" },
	{ "workflow_id", "workflow_id" },
	{ "workflow_namespace", "workflow_namespace" },
	{ "description", "description" },
	{ "state", "state" },
	{ "state_info", "state_info" },
	{ "input", "input" },
	{ "output", "output" },
	{ "params", "params" },
	{ "task_execution_id", "task_execution_id" },
	{ "root_execution_id", "root_execution_id" },
	{ "request_id", "request_id" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ NULL, NULL }
};

static const struct api_field api_task_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "state", "state" },
	{ "state_info", "state_info" },
	{ "type", "type" },
	{ "workflow_execution_id", "workflow_execution_id" },
	{ "workflow_name", "workflow_name" },
	{ "workflow_id", "workflow_id" },
	{ "workflow_namespace", "workflow_namespace" },
	{ "result", "result" },
	{ "published", "published" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ "started_at", "started_at" },
	{ "finished_at", "finished_at" },
	{ NULL, NULL }
};

static const struct api_field api_actex_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "state", "state" },
	{ "state_info", "state_info" },
	{ "task_execution_id", "task_execution_id" },
	{ "workflow_execution_id", "workflow_execution_id" },
	{ "task_name", "task_name" },
	{ "workflow_name", "workflow_name" },
	{ "workflow_namespace", "workflow_namespace" },
	{ "input", "input" },
	{ "output", "output" },
	{ "accepted", "accepted" },
	{ "request_id", "request_id" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ NULL, NULL }
};

/* Rows loaded while answering one request, by id. */
struct api_cache {
	struct store_exec	**execs;
	size_t			  nexecs;
	struct store_task	**tasks;
	size_t			  ntasks;
};

static struct store_exec *
api_cache_exec(struct api_req *req, struct api_cache *c, const char *id)
{
	struct store_exec	*e;
	size_t			 i;

	if (id == NULL || *id == '\0')
		return (NULL);
	for (i = 0; i < c->nexecs; i++) {
		if (strcmp(c->execs[i]->id, id) == 0)
			return (c->execs[i]);
	}
	if (store_exec_load(req->store, id, &e) != STORE_OK)
		return (NULL);
	c->execs = xreallocarray(c->execs, c->nexecs + 1, sizeof *c->execs);
	c->execs[c->nexecs++] = e;
	return (e);
}

static struct store_task *
api_cache_task(struct api_req *req, struct api_cache *c, const char *id)
{
	struct store_task	*t;
	size_t			 i;

	if (id == NULL || *id == '\0')
		return (NULL);
	for (i = 0; i < c->ntasks; i++) {
		if (strcmp(c->tasks[i]->id, id) == 0)
			return (c->tasks[i]);
	}
	if (store_task_load(req->store, id, &t) != STORE_OK)
		return (NULL);
	c->tasks = xreallocarray(c->tasks, c->ntasks + 1, sizeof *c->tasks);
	c->tasks[c->ntasks++] = t;
	return (t);
}

static void
api_cache_free(struct api_cache *c)
{
	size_t	i;

	for (i = 0; i < c->nexecs; i++)
		store_exec_free(c->execs[i]);
	for (i = 0; i < c->ntasks; i++)
		store_task_free(c->tasks[i]);
	free(c->execs);
	free(c->tasks);
}

/* An execution as Mistral shows it. */
json_t *
api_exec_json(const struct store_exec *e)
{
	json_t	*o, *params;

	params = e->params != NULL && json_is_object(e->params) ?
	    json_deep_copy(e->params) : json_object();
	if (json_object_get(params, "namespace") == NULL)
		json_object_set_new(params, "namespace", json_string(""));
	o = json_object();
	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "workflow_id", api_strornull(
	    e->workflow_id[0] != '\0' ? e->workflow_id : NULL));
	json_object_set_new(o, "workflow_name",
	    api_strornull(e->workflow_name));
	json_object_set_new(o, "workflow_namespace", json_string(
	    e->workflow_namespace != NULL ? e->workflow_namespace : ""));
	json_object_set_new(o, "description", json_string(
	    e->description != NULL ? e->description : ""));
	json_object_set_new(o, "tags", json_array());
	json_object_set_new(o, "params", api_jstr(params, "{}"));
	json_object_set_new(o, "task_execution_id",
	    api_strornull(e->parent_task_id));
	json_object_set_new(o, "root_execution_id",
	    api_strornull(e->root_id));
	json_object_set_new(o, "source_execution_id", json_null());
	json_object_set_new(o, "state", api_strornull(api_state_out(e->state)));
	json_object_set_new(o, "state_info", api_strornull(e->state_info));
	json_object_set_new(o, "input", api_jstr(e->input, "{}"));
	json_object_set_new(o, "output", api_jstr(e->output, "{}"));
	json_object_set_new(o, "published_global", json_string("{}"));
	json_object_set_new(o, "request_id", api_strornull(e->request_id));
	json_object_set_new(o, "created_at", api_time(e->created_at));
	json_object_set_new(o, "updated_at", api_time(e->updated_at));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	/* Started by an alarm: which one (GET /v1/alarms/{id}). */
	if (json_is_string(json_object_get(json_object_get(params, "alarm"),
	    "id")))
		json_object_set(o, "alarm_id", json_object_get(json_object_get(
		    params, "alarm"), "id"));
	json_decref(params);
	return (o);
}

/* A task as Mistral shows it; e may be NULL. */
json_t *
api_task_json(const struct store_task *t, const struct store_exec *e)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", api_strornull(t->name));
	json_object_set_new(o, "type", json_string(t->type != NULL ?
	    t->type : "ACTION"));
	json_object_set_new(o, "workflow_name", api_strornull(e != NULL ?
	    e->workflow_name : NULL));
	json_object_set_new(o, "workflow_namespace", json_string(e != NULL &&
	    e->workflow_namespace != NULL ? e->workflow_namespace : ""));
	json_object_set_new(o, "workflow_id", api_strornull(e != NULL &&
	    e->workflow_id[0] != '\0' ? e->workflow_id : NULL));
	json_object_set_new(o, "workflow_execution_id",
	    json_string(t->execution_id));
	json_object_set_new(o, "tags", json_null());
	json_object_set_new(o, "state", api_strornull(api_state_out(t->state)));
	json_object_set_new(o, "state_info", api_strornull(t->state_info));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	json_object_set_new(o, "runtime_context", api_jstr(t->runtime, "{}"));
	json_object_set_new(o, "result", api_jstr(t->result, "null"));
	json_object_set_new(o, "published", api_jstr(t->published, "{}"));
	json_object_set_new(o, "published_global", json_string("{}"));
	json_object_set_new(o, "processed", json_boolean(t->state != NULL &&
	    store_state_final(t->state)));
	json_object_set_new(o, "created_at", api_time(t->created_at));
	json_object_set_new(o, "updated_at", api_time(t->updated_at));
	json_object_set_new(o, "started_at", api_time(t->started_at));
	json_object_set_new(o, "finished_at", api_time(t->finished_at));
	return (o);
}

/* An action execution as Mistral shows it; t and e may be NULL. */
json_t *
api_action_json(const struct store_action *a, const struct store_task *t,
    const struct store_exec *e, int with_output)
{
	json_t	*o, *out;

	o = json_object();
	json_object_set_new(o, "id", json_string(a->id));
	json_object_set_new(o, "name", api_strornull(a->name));
	json_object_set_new(o, "workflow_name", api_strornull(e != NULL ?
	    e->workflow_name : NULL));
	json_object_set_new(o, "workflow_namespace", json_string(e != NULL &&
	    e->workflow_namespace != NULL ? e->workflow_namespace : ""));
	json_object_set_new(o, "task_name", api_strornull(t != NULL ?
	    t->name : NULL));
	json_object_set_new(o, "task_execution_id", api_strornull(a->task_id));
	json_object_set_new(o, "state", api_strornull(api_state_out(a->state)));
	json_object_set_new(o, "state_info", api_strornull(a->state_info));
	json_object_set_new(o, "tags", json_null());
	json_object_set_new(o, "description", json_string(""));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	json_object_set_new(o, "accepted", json_boolean(a->state != NULL &&
	    store_state_final(a->state)));
	json_object_set_new(o, "input", api_jstr(a->input, "{}"));
	if (with_output) {
		/* Mistral wraps every action result: {"result": ...}. */
		out = a->output == NULL ? json_object() :
		    json_is_object(a->output) && json_object_size(a->output) ==
		    1 && json_object_get(a->output, "result") != NULL ?
		    json_incref(a->output) : json_pack("{s:O}", "result",
		    a->output);
		json_object_set_new(o, "output", api_jstr(out, "{}"));
		json_decref(out);
	}
	json_object_set_new(o, "params", json_string("{}"));
	json_object_set_new(o, "attempt", json_integer(a->attempt));
	if (a->item >= 0)
		json_object_set_new(o, "item", json_integer(a->item));
	json_object_set_new(o, "is_async", json_boolean(a->is_async));
	json_object_set_new(o, "created_at", api_time(a->created_at));
	json_object_set_new(o, "updated_at", api_time(a->updated_at));
	return (o);
}

/* Load the execution named by the path, or answer 404. */
static struct store_exec *
api_exec_param(struct api_req *req)
{
	struct store_exec	*e;
	enum store_rc		 rc;
	char			*what;

	rc = store_exec_load(req->store, req->params[0], &e);
	if (rc == STORE_OK)
		return (e);
	xasprintf(&what, "WorkflowExecution [id=%s]", req->params[0]);
	api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
	    store_error(req->store));
	free(what);
	return (NULL);
}

/* Add one equality filter to a parsed list. */
static void
api_list_add(struct api_list *l, const char *field, const char *value)
{
	l->filters = xreallocarray(l->filters, l->nfilters + 1,
	    sizeof *l->filters);
	l->filters[l->nfilters].field = field;
	l->filters[l->nfilters].op = "eq";
	l->filters[l->nfilters].value = value;
	l->nfilters++;
	l->q.filters = l->filters;
	l->q.nfilters = l->nfilters;
}

/* ---- executions -------------------------------------------------- */

void
api_exec_list(struct api_req *req)
{
	struct api_list		  l;
	struct store_exec	**v = NULL;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items;
	char			 *cause;
	int			  out;

	if (api_list_parse(req, api_exec_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	rc = store_exec_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, "Execution list",
		    store_error(req->store));
		goto out;
	}
	out = api_query_bool(req, "include_output");
	items = json_array();
	for (i = 0; i < n; i++) {
		json_t	*o = api_exec_json(v[i]);

		if (!out && l.nfields == 0)
			json_object_del(o, "output");
		json_array_append_new(items, o);
		store_exec_free(v[i]);
	}
	api_list_reply(req, &l, "executions", items);
out:
	free(v);
	api_list_free(&l);
}

void
api_exec_get(struct api_req *req)
{
	struct store_exec	*e;

	if ((e = api_exec_param(req)) == NULL)
		return;
	api_reply(req, 200, api_exec_json(e));
	store_exec_free(e);
}

/* POST /v2/executions: start one (idempotent when the id is given). */
void
api_exec_create(struct api_req *req)
{
	struct engine_start_opts	 o;
	struct store_exec		*e = NULL, *src = NULL;
	json_t				*b = req->json, *input = NULL;
	json_t				*params = NULL;
	const char			*wf, *id;
	char				*cause = NULL, *what;
	enum store_rc			 rc;

	if (b == NULL || !json_is_object(b)) {
		api_error(req, 400, "The body must be a JSON object with "
		    "workflow_name or workflow_id");
		return;
	}
	memset(&o, 0, sizeof o);
	if ((id = json_string_value(json_object_get(b,
	    "source_execution_id"))) != NULL) {
		rc = store_exec_load(req->store, id, &src);
		if (rc != STORE_OK) {
			xasprintf(&what, "Source execution [id=%s]", id);
			api_store_error(req, rc, 0, what, NULL);
			free(what);
			return;
		}
	}
	wf = json_string_value(json_object_get(b, "workflow_id"));
	if (wf == NULL)
		wf = json_string_value(json_object_get(b, "workflow_name"));
	if (wf == NULL && src != NULL)
		wf = src->workflow_name;
	if (wf == NULL || *wf == '\0') {
		api_error(req, 400, "workflow_name or workflow_id is required");
		goto out;
	}
	if (api_json_value(json_object_get(b, "input"), &input, &cause) != 0) {
		api_error(req, 400, "input: %s", cause);
		goto out;
	}
	if (api_json_value(json_object_get(b, "params"), &params,
	    &cause) != 0) {
		api_error(req, 400, "params: %s", cause);
		goto out;
	}
	if (input == NULL && src != NULL && src->input != NULL)
		input = json_incref(src->input);
	if (params == NULL && src != NULL && src->params != NULL)
		params = json_incref(src->params);
	if ((input != NULL && !json_is_object(input)) ||
	    (params != NULL && !json_is_object(params))) {
		api_error(req, 400, "input and params must be JSON objects");
		goto out;
	}
	o.workflow = wf;
	o.input = input;
	o.params = params;
	o.id = json_string_value(json_object_get(b, "id"));
	if (o.id != NULL && !uuid_valid(o.id)) {
		api_error(req, 400, "id must be a UUID, not '%s'", o.id);
		goto out;
	}
	o.description = json_string_value(json_object_get(b, "description"));
	o.request_id = req->rid;
	o.namespace = json_string_value(json_object_get(b,
	    "workflow_namespace"));
	if (o.namespace == NULL && params != NULL)
		o.namespace = json_string_value(json_object_get(params,
		    "namespace"));
	if (o.namespace == NULL && src != NULL)
		o.namespace = src->workflow_namespace;
	if (params != NULL)
		o.task_target = json_string_value(json_object_get(params,
		    "task_name"));
	rc = engine_exec_start(req->api->engine, &o, &e, &cause);
	if (rc == STORE_NOTFOUND) {
		api_error(req, 404, "%s", cause != NULL ? cause :
		    "Workflow not found");
		goto out;
	}
	if (rc != STORE_OK) {
		api_store_error(req, rc, 1, "Invalid execution", cause);
		goto out;
	}
	if (e == NULL && o.id != NULL)
		store_exec_load(req->store, o.id, &e);
	if (e == NULL) {
		api_error(req, 500, "Execution started but not found");
		goto out;
	}
	log_info("api: execution %s of %s started [%s]", e->id, wf, req->rid);
	api_reply(req, 201, api_exec_json(e));
out:
	free(cause);
	json_decref(input);
	json_decref(params);
	store_exec_free(e);
	store_exec_free(src);
}

/*
 * The engine applies a state change on its own thread: wait a little
 * (API_STATE_WAIT_MS) for it, so the answer shows the new state as
 * Mistral's does.  Returns the row as it is then, or NULL.
 */
static struct store_exec *
api_exec_wait(struct api_req *req, const char *id, const char *state)
{
	struct store_exec	*e = NULL;
	int64_t			 until = time_mono_ms() + API_STATE_WAIT_MS;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };

	for (;;) {
		if (store_exec_load(req->store, id, &e) != STORE_OK)
			return (NULL);
		if (state == NULL || strcmp(e->state, state) == 0 ||
		    store_state_final(e->state) || time_mono_ms() >= until)
			return (e);
		store_exec_free(e);
		e = NULL;
		nanosleep(&ts, NULL);
	}
}

/* PUT /v2/executions/{id}: state, description or params.env. */
void
api_exec_update(struct api_req *req)
{
	static const char *const states[] = { ST_PAUSED, ST_RUNNING,
	    ST_CANCELLED, ST_ERROR, ST_SUCCESS };
	struct store_exec	*e;
	struct store_tx		*tx;
	json_t			*b = req->json, *params = NULL, *env, *p;
	const char		*state, *desc, *info;
	char			*cause = NULL;
	unsigned		 mask = 0;
	enum store_rc		 rc;
	size_t			 i;
	int			 resumed;

	if (b == NULL || !json_is_object(b)) {
		api_error(req, 400, "The body must be a JSON object with "
		    "state, description or params");
		return;
	}
	if ((e = api_exec_param(req)) == NULL)
		return;
	state = json_string_value(json_object_get(b, "state"));
	desc = json_string_value(json_object_get(b, "description"));
	info = json_string_value(json_object_get(b, "state_info"));
	if (state != NULL) {
		for (i = 0; i < nitems(states); i++) {
			if (strcmp(state, states[i]) == 0)
				break;
		}
		if (i == nitems(states)) {
			api_error(req, 400, "state must be one of PAUSED, "
			    "RUNNING, CANCELLED, ERROR, SUCCESS, not '%s'",
			    state);
			goto out;
		}
	}
	if (api_json_value(json_object_get(b, "params"), &params,
	    &cause) != 0 || (params != NULL && !json_is_object(params))) {
		api_error(req, 400, "params: %s", cause != NULL ? cause :
		    "must be an object");
		goto out;
	}
	if (state == NULL && desc == NULL && params == NULL) {
		api_error(req, 400, "Nothing to update: give state, "
		    "description or params");
		goto out;
	}
	if (state != NULL && store_state_final(e->state)) {
		api_error(req, 409, "Execution %s is already %s: a finished "
		    "execution cannot be set to %s%s", e->id, e->state, state,
		    strcmp(e->state, ST_ERROR) == 0 ? " (re-run a failed task "
		    "with PUT /v2/tasks/ID instead)" : "");
		goto out;
	}
	resumed = state != NULL && strcmp(state, ST_RUNNING) == 0 &&
	    strcmp(e->state, ST_PAUSED) == 0;
	if (desc != NULL) {
		free(e->description);
		e->description = xstrdup(desc);
		mask |= SF_DESCRIPTION;
	}
	if (params != NULL && (env = json_object_get(params, "env")) != NULL) {
		p = e->params != NULL && json_is_object(e->params) ?
		    json_deep_copy(e->params) : json_object();
		json_object_set(p, "env", env);
		json_decref(e->params);
		e->params = p;
		mask |= SF_PARAMS;
	}
	if (mask != 0) {
		tx = store_tx_create();
		store_tx_exec_update(tx, e, mask, NULL);
		rc = store_tx_commit(req->store, tx);
		store_tx_free(tx);
		if (rc != STORE_OK) {
			api_store_error(req, rc, 0, "Execution update",
			    store_error(req->store));
			goto out;
		}
	}
	if (state != NULL) {
		rc = engine_exec_set_state(req->api->engine, e->id, state,
		    info, &cause);
		if (rc != STORE_OK) {
			if (rc == STORE_CONFLICT && cause == NULL)
				xasprintf(&cause, "Cannot change the state of "
				    "execution %s from %s to %s", e->id,
				    e->state, state);
			api_store_error(req, rc, 1, "Execution update", cause);
			goto out;
		}
		log_info("api: execution %s -> %s [%s]", e->id, state,
		    req->rid);
	}
	store_exec_free(e);
	if ((e = api_exec_wait(req, req->params[0], state)) == NULL) {
		api_error(req, 500, "Execution %s vanished", req->params[0]);
		goto out;
	}
	/*
	 * The engine applies the change in its own time: the execution may
	 * have ended first, and then nothing changed (a resumed execution
	 * may also have ended, after it resumed).
	 */
	if (state != NULL && store_state_final(e->state) &&
	    strcmp(e->state, state) != 0 && !resumed) {
		api_error(req, 409, "Execution %s ended %s before it could be "
		    "set to %s", e->id, e->state, state);
		goto out;
	}
	api_reply(req, 200, api_exec_json(e));
out:
	free(cause);
	json_decref(params);
	store_exec_free(e);
}

/*
 * DELETE /v2/executions/{id}[?force=true].  Force on an unfinished
 * execution cancels it (its actions and sub-workflows with it), waits
 * for the engine to apply that, then deletes: one call.
 */
void
api_exec_delete(struct api_req *req)
{
	struct store_exec	*e, *now = NULL;
	enum store_rc		 rc;
	char			*cause = NULL;

	if ((e = api_exec_param(req)) == NULL)
		return;
	if (!store_state_final(e->state)) {
		if (!api_query_bool(req, "force")) {
			api_error(req, 400, "Only completed executions can be "
			    "deleted; execution %s is %s (use force=true)",
			    e->id, e->state);
			goto out;
		}
		rc = engine_exec_set_state(req->api->engine, e->id,
		    ST_CANCELLED, "deleted", &cause);
		if (rc != STORE_OK && rc != STORE_CONFLICT) {
			api_store_error(req, rc, 1, "Execution cancel", cause);
			goto out;
		}
		now = api_exec_wait(req, e->id, ST_CANCELLED);
		if (now != NULL && !store_state_final(now->state)) {
			api_error(req, 503, "Execution %s is being cancelled; "
			    "delete it again in a moment", e->id);
			goto out;
		}
	}
	rc = store_exec_delete(req->store, e->id);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, "Execution",
		    store_error(req->store));
		goto out;
	}
	log_info("api: execution %s deleted [%s]", e->id, req->rid);
	api_reply(req, 204, NULL);
out:
	free(cause);
	store_exec_free(now);
	store_exec_free(e);
}

/* Tasks (or action executions) listed with the query, one more filter. */
static void
api_tasks_reply(struct api_req *req, const char *field, const char *value)
{
	struct api_list		  l;
	struct store_task	**v = NULL;
	struct api_cache	  c;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items;
	char			 *cause;

	memset(&c, 0, sizeof c);
	if (api_list_parse(req, api_task_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	if (field != NULL)
		api_list_add(&l, field, value);
	rc = store_task_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, "Task list",
		    store_error(req->store));
		goto out;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(items, api_task_json(v[i],
		    api_cache_exec(req, &c, v[i]->execution_id)));
		store_task_free(v[i]);
	}
	api_list_reply(req, &l, "tasks", items);
out:
	free(v);
	api_list_free(&l);
	api_cache_free(&c);
}

void
api_exec_tasks(struct api_req *req)
{
	struct store_exec	*e;

	if ((e = api_exec_param(req)) == NULL)
		return;
	store_exec_free(e);
	api_tasks_reply(req, "workflow_execution_id", req->params[0]);
}

/* The report tree of one execution; stats counts tasks. */
static json_t *
api_report_exec(struct api_req *req, const struct store_exec *e,
    json_t *stats, int errors_only, int depth, int max_depth)
{
	struct store_task	**t = NULL;
	struct store_action	**a = NULL;
	struct store_exec	**c = NULL;
	size_t			  nt = 0, na, nc, i, j;
	json_t			 *o, *tasks, *to, *acts, *subs, *ao;
	const char		 *key;

	o = json_object();
	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "name", api_strornull(e->workflow_name));
	json_object_set_new(o, "state", api_strornull(api_state_out(e->state)));
	json_object_set_new(o, "state_info", api_strornull(e->state_info));
	tasks = json_array();
	if (store_tasks_load(req->store, e->id, &t, &nt) != STORE_OK)
		nt = 0;
	for (i = 0; i < nt; i++) {
		key = strcmp(t[i]->state, ST_RUNNING) == 0 ||
		    strcmp(t[i]->state, ST_DELAYED) == 0 ?
		    "running_tasks_count" :
		    strcmp(t[i]->state, ST_SUCCESS) == 0 ?
		    "success_tasks_count" :
		    strcmp(t[i]->state, ST_ERROR) == 0 ? "error_tasks_count" :
		    strcmp(t[i]->state, ST_PAUSED) == 0 ?
		    "paused_tasks_count" : "idle_tasks_count";
		json_object_set_new(stats, key, json_integer(
		    json_integer_value(json_object_get(stats, key)) + 1));
		json_object_set_new(stats, "total_tasks_count", json_integer(
		    json_integer_value(json_object_get(stats,
		    "total_tasks_count")) + 1));
		if (errors_only && strcmp(t[i]->state, ST_ERROR) != 0) {
			store_task_free(t[i]);
			continue;
		}
		to = json_object();
		json_object_set_new(to, "id", json_string(t[i]->id));
		json_object_set_new(to, "name", api_strornull(t[i]->name));
		json_object_set_new(to, "type", api_strornull(t[i]->type));
		json_object_set_new(to, "state", api_strornull(
		    api_state_out(t[i]->state)));
		json_object_set_new(to, "state_info",
		    api_strornull(t[i]->state_info));
		json_object_set_new(to, "retry_count", json_integer(
		    json_integer_value(json_object_get(t[i]->runtime,
		    "retry_no"))));
		acts = json_array();
		na = 0;
		if (store_actions_load(req->store, t[i]->id, &a, &na) !=
		    STORE_OK)
			na = 0;
		for (j = 0; j < na; j++) {
			ao = json_object();
			json_object_set_new(ao, "id", json_string(a[j]->id));
			json_object_set_new(ao, "name",
			    api_strornull(a[j]->name));
			json_object_set_new(ao, "state", api_strornull(
			    api_state_out(a[j]->state)));
			json_object_set_new(ao, "state_info",
			    api_strornull(a[j]->state_info));
			json_object_set_new(ao, "last_heartbeat", json_null());
			json_array_append_new(acts, ao);
			store_action_free(a[j]);
		}
		free(a);
		a = NULL;
		json_object_set_new(to, "action_executions", acts);
		subs = json_array();
		nc = 0;
		if ((max_depth < 0 || depth < max_depth) &&
		    store_exec_children(req->store, t[i]->id, &c, &nc) ==
		    STORE_OK) {
			for (j = 0; j < nc; j++) {
				json_array_append_new(subs, api_report_exec(req,
				    c[j], stats, errors_only, depth + 1,
				    max_depth));
				store_exec_free(c[j]);
			}
			free(c);
			c = NULL;
		}
		json_object_set_new(to, "workflow_executions", subs);
		json_array_append_new(tasks, to);
		store_task_free(t[i]);
	}
	free(t);
	json_object_set_new(o, "task_executions", tasks);
	return (o);
}

/* GET /v2/executions/{id}/report. */
void
api_exec_report(struct api_req *req)
{
	struct store_exec	*e;
	json_t			*stats, *tree, *out;
	const char		*s;
	int			 max_depth = -1;

	if ((e = api_exec_param(req)) == NULL)
		return;
	if ((s = api_query(req, "max_depth")) != NULL)
		max_depth = atoi(s);
	stats = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}",
	    "total_tasks_count", 0, "running_tasks_count", 0,
	    "success_tasks_count", 0, "error_tasks_count", 0,
	    "idle_tasks_count", 0, "paused_tasks_count", 0);
	tree = api_report_exec(req, e, stats,
	    api_query_bool(req, "errors_only"), 0, max_depth);
	out = json_object();
	if (api_query_bool(req, "statistics_only"))
		json_decref(tree);
	else
		json_object_set_new(out, "root_workflow_execution", tree);
	json_object_set_new(out, "statistics", stats);
	api_reply(req, 200, out);
	store_exec_free(e);
}

/*
 * GET /v2/executions/{id}/events: progress events (bora); with
 * include_children=true those of its sub-workflows too.
 */
void
api_exec_events(struct api_req *req)
{
	struct store_exec	 *e;
	struct store_event	**v = NULL;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items, *o;

	if ((e = api_exec_param(req)) == NULL)
		return;
	store_exec_free(e);
	if (api_query_bool(req, "include_children"))
		rc = store_events_load_tree(req->store, req->params[0], &v, &n);
	else
		rc = store_events_load(req->store, req->params[0], &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, "Events", store_error(req->store));
		return;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		o = json_object();
		json_object_set_new(o, "id", json_integer(v[i]->id));
		json_object_set_new(o, "execution_id",
		    json_string(v[i]->execution_id));
		json_object_set_new(o, "task_id", api_strornull(v[i]->task_id));
		json_object_set_new(o, "task_name",
		    api_strornull(v[i]->task_name));
		json_object_set_new(o, "action", api_strornull(v[i]->action));
		json_object_set_new(o, "kind", api_strornull(v[i]->kind));
		json_object_set_new(o, "time", api_time(v[i]->time));
		json_object_set_new(o, "time_ms", json_integer(v[i]->time));
		json_object_set_new(o, "progress", v[i]->progress < 0 ?
		    json_null() : json_real(v[i]->progress));
		json_object_set_new(o, "message", api_strornull(v[i]->message));
		json_object_set_new(o, "level", api_strornull(v[i]->level));
		json_object_set_new(o, "request_id",
		    api_strornull(v[i]->request_id));
		json_array_append_new(items, o);
		store_event_free(v[i]);
	}
	free(v);
	api_reply(req, 200, json_pack("{s:o}", "events", items));
}

/*
 * The sub-workflow executions under a task, depth first, down to
 * max_depth levels below the first (-1: all); only those in ERROR with
 * errors_only.
 */
static void
api_subs_of_task(struct api_req *req, const char *task_id, json_t *items,
    int errors_only, int depth, int max_depth)
{
	struct store_exec	**c = NULL;
	struct store_task	**t = NULL;
	size_t			  nc = 0, nt, i, j;

	if (store_exec_children(req->store, task_id, &c, &nc) != STORE_OK)
		return;
	for (i = 0; i < nc; i++) {
		if (!errors_only || strcmp(c[i]->state, ST_ERROR) == 0)
			json_array_append_new(items, api_exec_json(c[i]));
		nt = 0;
		if ((max_depth < 0 || depth < max_depth) &&
		    store_tasks_load(req->store, c[i]->id, &t, &nt) ==
		    STORE_OK) {
			for (j = 0; j < nt; j++) {
				api_subs_of_task(req, t[j]->id, items,
				    errors_only, depth + 1, max_depth);
				store_task_free(t[j]);
			}
			free(t);
			t = NULL;
		}
		store_exec_free(c[i]);
	}
	free(c);
}

/* A query flag that is on only when it says so ("errors_only=" is off,
 * as the client sends it). */
static int
api_query_on(struct api_req *req, const char *key)
{
	const char	*v = api_query(req, key);

	return (v != NULL && *v != '\0' && api_query_bool(req, key));
}

/* max_depth of the query (-1: no limit). */
static int
api_max_depth(struct api_req *req)
{
	const char	*s = api_query(req, "max_depth");

	return (s != NULL && *s != '\0' ? atoi(s) : -1);
}

/* GET /v2/executions/{id}/executions: sub-workflow executions. */
void
api_exec_children(struct api_req *req)
{
	struct store_exec	 *e;
	struct store_task	**t = NULL;
	size_t			  nt = 0, i;
	json_t			 *items;

	if ((e = api_exec_param(req)) == NULL)
		return;
	items = json_array();
	if (store_tasks_load(req->store, e->id, &t, &nt) != STORE_OK)
		nt = 0;
	for (i = 0; i < nt; i++) {
		api_subs_of_task(req, t[i]->id, items,
		    api_query_on(req, "errors_only"), 0,
		    api_max_depth(req));
		store_task_free(t[i]);
	}
	free(t);
	store_exec_free(e);
	api_reply(req, 200, json_pack("{s:o}", "executions", items));
}

/* ---- tasks ------------------------------------------------------- */

void
api_task_list(struct api_req *req)
{
	api_tasks_reply(req, NULL, NULL);
}

/* Load the task named by the path, or answer 404. */
static struct store_task *
api_task_param(struct api_req *req)
{
	struct store_task	*t;
	enum store_rc		 rc;
	char			*what;

	rc = store_task_load(req->store, req->params[0], &t);
	if (rc == STORE_OK)
		return (t);
	xasprintf(&what, "TaskExecution [id=%s]", req->params[0]);
	api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
	    store_error(req->store));
	free(what);
	return (NULL);
}

/* GET /v2/tasks/{id}/executions: the task's sub-workflow executions. */
void
api_task_children(struct api_req *req)
{
	struct store_task	*t;
	json_t			*items;

	if ((t = api_task_param(req)) == NULL)
		return;
	items = json_array();
	api_subs_of_task(req, t->id, items, api_query_on(req,
	    "errors_only"), 0, api_max_depth(req));
	store_task_free(t);
	api_reply(req, 200, json_pack("{s:o}", "executions", items));
}

void
api_task_get(struct api_req *req)
{
	struct store_task	*t;
	struct store_exec	*e = NULL;

	if ((t = api_task_param(req)) == NULL)
		return;
	if (store_exec_load(req->store, t->execution_id, &e) != STORE_OK)
		e = NULL;
	api_reply(req, 200, api_task_json(t, e));
	store_exec_free(e);
	store_task_free(t);
}

/* A task's attempt number (runtime retry_no). */
static json_int_t
api_task_attempt(const struct store_task *t)
{
	return (json_integer_value(json_object_get(t->runtime, "retry_no")));
}

/*
 * Wait a little (API_STATE_WAIT_MS) for the engine to begin a new
 * attempt of the task of the path (a re-run applied); the task as it
 * is then (answered 404 when it is gone).
 */
static struct store_task *
api_task_wait(struct api_req *req, json_int_t attempt)
{
	struct store_task	*t;
	int64_t			 until = time_mono_ms() + API_STATE_WAIT_MS;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };

	for (;;) {
		if ((t = api_task_param(req)) == NULL)
			return (NULL);
		if (api_task_attempt(t) > attempt || time_mono_ms() >= until)
			return (t);
		store_task_free(t);
		nanosleep(&ts, NULL);
	}
}

/* PUT /v2/tasks/{id}: re-run a failed task. */
void
api_task_rerun(struct api_req *req)
{
	struct store_task	*t;
	struct store_exec	*e = NULL;
	json_t			*b = req->json, *env = NULL, *reset;
	const char		*state;
	char			*cause = NULL;
	enum store_rc		 rc;
	json_int_t		 attempt;

	if (b == NULL || !json_is_object(b)) {
		api_error(req, 400, "The body must be a JSON object: "
		    "{\"state\": \"RUNNING\", \"reset\": true}");
		return;
	}
	state = json_string_value(json_object_get(b, "state"));
	if (state == NULL || strcmp(state, ST_RUNNING) != 0) {
		api_error(req, 400, "Only state RUNNING (re-run) is supported "
		    "for a task");
		return;
	}
	if (api_json_value(json_object_get(b, "env"), &env, &cause) != 0) {
		api_error(req, 400, "env: %s", cause);
		free(cause);
		return;
	}
	if ((t = api_task_param(req)) == NULL) {
		json_decref(env);
		return;
	}
	reset = json_object_get(b, "reset");
	attempt = api_task_attempt(t);
	rc = engine_task_rerun(req->api->engine, t->id,
	    reset == NULL || json_is_true(reset), env, &cause);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 1, "Task re-run", cause);
		goto out;
	}
	store_task_free(t);
	/* The answer shows the task re-run, as Mistral's does. */
	if ((t = api_task_wait(req, attempt)) == NULL)
		goto out;
	if (store_exec_load(req->store, t->execution_id, &e) != STORE_OK)
		e = NULL;
	api_reply(req, 200, api_task_json(t, e));
out:
	free(cause);
	json_decref(env);
	store_exec_free(e);
	store_task_free(t);
}

/* ---- action executions ------------------------------------------- */

static void
api_actex_reply(struct api_req *req, const char *field, const char *value)
{
	struct api_list		  l;
	struct store_action	**v = NULL;
	struct store_task	 *t;
	struct api_cache	  c;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items;
	char			 *cause;
	int			  out;

	memset(&c, 0, sizeof c);
	if (api_list_parse(req, api_actex_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	if (field != NULL)
		api_list_add(&l, field, value);
	rc = store_action_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR,
		    "Action execution list", store_error(req->store));
		goto out;
	}
	out = api_query_bool(req, "include_output");
	items = json_array();
	for (i = 0; i < n; i++) {
		t = api_cache_task(req, &c, v[i]->task_id);
		json_array_append_new(items, api_action_json(v[i], t,
		    api_cache_exec(req, &c, v[i]->execution_id), out));
		store_action_free(v[i]);
	}
	api_list_reply(req, &l, "action_executions", items);
out:
	free(v);
	api_list_free(&l);
	api_cache_free(&c);
}

void
api_task_actions(struct api_req *req)
{
	struct store_task	*t;

	if ((t = api_task_param(req)) == NULL)
		return;
	store_task_free(t);
	api_actex_reply(req, "task_execution_id", req->params[0]);
}

void
api_actex_list(struct api_req *req)
{
	api_actex_reply(req, NULL, NULL);
}

/* Answer one action execution, loaded again. */
static void
api_actex_show(struct api_req *req, const char *id, unsigned status)
{
	struct store_action	*a;
	struct api_cache	 c;
	enum store_rc		 rc;
	char			*what;

	memset(&c, 0, sizeof c);
	rc = store_action_load(req->store, id, &a);
	if (rc != STORE_OK) {
		xasprintf(&what, "ActionExecution [id=%s]", id);
		api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
		    store_error(req->store));
		free(what);
		return;
	}
	api_reply(req, status, api_action_json(a, api_cache_task(req, &c,
	    a->task_id), api_cache_exec(req, &c, a->execution_id), 1));
	store_action_free(a);
	api_cache_free(&c);
}

/* Wait a little for an action execution to leave state from. */
static void
api_actex_wait(struct api_req *req, const char *id, const char *from)
{
	struct store_action	*a;
	int64_t			 until = time_mono_ms() + API_STATE_WAIT_MS;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };
	int			 moved;

	for (;;) {
		if (store_action_load(req->store, id, &a) != STORE_OK)
			return;
		moved = strcmp(a->state, from) != 0;
		store_action_free(a);
		if (moved || time_mono_ms() >= until)
			return;
		nanosleep(&ts, NULL);
	}
}

void
api_actex_get(struct api_req *req)
{
	api_actex_show(req, req->params[0], 200);
}

/* POST /v2/action_executions: run an action outside a workflow. */
void
api_actex_run(struct api_req *req)
{
	struct store_action	*a = NULL;
	json_t			*b = req->json, *input = NULL, *params = NULL;
	json_t			*o;
	const char		*name;
	char			*cause = NULL;
	int			 sync, save;
	enum store_rc		 rc;

	if (b == NULL || !json_is_object(b) ||
	    (name = json_string_value(json_object_get(b, "name"))) == NULL) {
		api_error(req, 400, "The body must be a JSON object with the "
		    "action's name");
		return;
	}
	if (api_json_value(json_object_get(b, "input"), &input, &cause) != 0 ||
	    (input != NULL && !json_is_object(input))) {
		api_error(req, 400, "input: %s", cause != NULL ? cause :
		    "must be an object");
		goto out;
	}
	if (api_json_value(json_object_get(b, "params"), &params,
	    &cause) != 0 || (params != NULL && !json_is_object(params))) {
		api_error(req, 400, "params: %s", cause != NULL ? cause :
		    "must be an object");
		goto out;
	}
	save = json_is_true(json_object_get(params, "save_result"));
	sync = json_is_true(json_object_get(params, "run_sync")) || !save;
	rc = engine_action_run_ns(req->api->engine, name,
	    json_string_value(json_object_get(b, "workflow_namespace")), input,
	    sync, &a, &cause);
	if (rc == STORE_NOTFOUND) {
		api_error(req, 404, "Action not found [name=%s]", name);
		goto out;
	}
	if (rc != STORE_OK || a == NULL) {
		api_store_error(req, rc == STORE_OK ? STORE_ERROR : rc, 1,
		    "Action run", cause);
		goto out;
	}
	o = api_action_json(a, NULL, NULL, 1);
	if (!save)
		json_object_set_new(o, "id", json_null());
	json_object_set_new(o, "params", api_jstr(params, "{}"));
	api_reply(req, 201, o);
out:
	free(cause);
	json_decref(input);
	json_decref(params);
	store_action_free(a);
}

/* DELETE /v2/action_executions/{id}: one run outside a workflow. */
void
api_actex_delete(struct api_req *req)
{
	struct store_action	*a;
	enum store_rc		 rc;
	char			*what;

	rc = store_action_load(req->store, req->params[0], &a);
	if (rc != STORE_OK) {
		xasprintf(&what, "ActionExecution [id=%s]", req->params[0]);
		api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
		    store_error(req->store));
		free(what);
		return;
	}
	if (a->task_id != NULL)
		api_error(req, 400, "Only ad-hoc action execution can be "
		    "deleted: %s belongs to task %s (delete its execution)",
		    a->id, a->task_id);
	else if (!store_state_final(a->state))
		api_error(req, 400, "Only completed action execution can be "
		    "deleted: %s is %s", a->id, a->state);
	else if ((rc = store_action_delete(req->store, a->id)) != STORE_OK)
		api_store_error(req, rc, 0, "Action execution",
		    store_error(req->store));
	else {
		log_info("api: action execution %s deleted [%s]", a->id,
		    req->rid);
		api_reply(req, 204, NULL);
	}
	store_action_free(a);
}

/* PUT /v2/action_executions/{id}: the async action's result. */
void
api_actex_update(struct api_req *req)
{
	static const char *const states[] = { ST_SUCCESS, ST_ERROR,
	    ST_CANCELLED, ST_PAUSED, ST_RUNNING };
	json_t		*b = req->json, *output;
	const char	*state;
	char		*cause = NULL;
	enum store_rc	 rc;
	size_t		 i;

	if (b == NULL || !json_is_object(b) ||
	    (state = json_string_value(json_object_get(b, "state"))) == NULL) {
		api_error(req, 400, "The body must be a JSON object with state "
		    "(SUCCESS, ERROR, CANCELLED, PAUSED, RUNNING) and output");
		return;
	}
	for (i = 0; i < nitems(states); i++) {
		if (strcmp(state, states[i]) == 0)
			break;
	}
	if (i == nitems(states)) {
		api_error(req, 400, "state must be one of SUCCESS, ERROR, "
		    "CANCELLED, PAUSED, RUNNING, not '%s'", state);
		return;
	}
	output = json_object_get(b, "output");
	rc = engine_action_complete(req->api->engine, req->params[0], state,
	    output, &cause);
	if (rc != STORE_OK) {
		char	*what;

		xasprintf(&what, "ActionExecution [id=%s]", req->params[0]);
		api_store_error(req, rc, 1, what, cause);
		free(what);
		free(cause);
		return;
	}
	log_info("api: action execution %s -> %s [%s]", req->params[0], state,
	    req->rid);
	/* The engine records the result in its turn: show it recorded. */
	api_actex_wait(req, req->params[0], ST_RUNNING);
	api_actex_show(req, req->params[0], 200);
}
