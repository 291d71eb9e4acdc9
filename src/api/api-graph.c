/*
 * api-graph.c -- the planned task graph of a workflow, computed by the
 * dsl module from the stored definition, alone (GET
 * /v2/workflows/{id}/graph) or with the state of an execution laid
 * over it (GET /v2/executions/{id}/graph): the console draws the
 * whole graph at once, not only the tasks that have started.
 *
 * An execution's graph comes from the definition version it runs, so
 * an update of the workflow does not redraw a running execution.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "dsl/dsl.h"
#include "api/api-int.h"

/* Parse definition def_id and compute the graph of workflow name. */
static json_t *
api_graph_load(struct api_req *req, const char *def_id, const char *name,
    struct store_def **def)
{
	struct dsl_workbook		*wb;
	const struct dsl_workflow	*wf;
	struct dsl_errors		 errs;
	struct store_def		*d;
	enum store_rc			 rc;
	json_t				*g = NULL;
	char				*what;

	*def = NULL;
	if ((rc = store_def_load(req->store, def_id, &d)) != STORE_OK) {
		xasprintf(&what, "Definition [id=%s]", def_id);
		api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
		    store_error(req->store));
		free(what);
		return (NULL);
	}
	dsl_errors_init(&errs);
	wb = dsl_parse(d->source != NULL ? d->source : d->name, d->text,
	    strlen(d->text), NULL, &errs);
	if (wb == NULL || (wf = dsl_workflow_find(wb, name)) == NULL)
		api_error(req, 500, "Workflow %s is not in its definition %s "
		    "(version %d)", name, d->name, d->version);
	else
		g = dsl_workflow_graph(wf);
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	if (g == NULL)
		store_def_free(d);
	else
		*def = d;
	return (g);
}

/* Where the graph came from. */
static void
api_graph_source(json_t *g, const struct store_def *d)
{
	json_object_set_new(g, "definition", json_pack("{s:s, s:s, s:i, s:o}",
	    "id", d->id, "name", d->name, "version", d->version, "source",
	    api_strornull(d->source)));
}

/* GET /v2/workflows/{id}/graph: by workflow id or name. */
void
api_workflow_graph(struct api_req *req)
{
	struct store_workflow	*w;
	struct store_def	*d;
	json_t			*g;

	if (store_workflow_load(req->store, req->params[0], &w) !=
	    STORE_OK) {
		api_error(req, 404, "Workflow not found [workflow_identifier="
		    "%s]", req->params[0]);
		return;
	}
	if ((g = api_graph_load(req, w->def_id, w->name, &d)) != NULL) {
		json_object_set_new(g, "workflow_id", json_string(w->id));
		api_graph_source(g, d);
		store_def_free(d);
		api_reply(req, 200, g);
	}
	store_workflow_free(w);
}

/*
 * A task row in brief, as the graph's overlay and the live stream
 * carry it: no input, result or published values, which can be large
 * (the task panel loads them on demand).
 */
json_t *
api_task_brief(const struct store_task *t)
{
	json_t	*o, *v;

	o = json_object();
	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", api_strornull(t->name));
	json_object_set_new(o, "workflow_execution_id",
	    json_string(t->execution_id));
	json_object_set_new(o, "type", json_string(t->type != NULL ?
	    t->type : "ACTION"));
	json_object_set_new(o, "state", api_strornull(api_state_out(t->state)));
	json_object_set_new(o, "state_info", api_strornull(t->state_info));
	json_object_set_new(o, "retry_no", json_integer(json_integer_value(
	    json_object_get(t->runtime, "retry_no"))));
	if ((v = json_object_get(t->runtime, "items")) != NULL &&
	    json_is_integer(v))
		json_object_set_new(o, "items_total", json_copy(v));
	json_object_set_new(o, "created_at", api_time(t->created_at));
	json_object_set_new(o, "started_at", api_time(t->started_at));
	json_object_set_new(o, "finished_at", api_time(t->finished_at));
	json_object_set_new(o, "updated_at", api_time(t->updated_at));
	return (o);
}

/*
 * The with-items counter of a task from its action executions: items
 * of the latest attempt done, failed and running, of total.  The total
 * is the count the engine recorded when the items were evaluated, else
 * the size of a final result list, else the items seen so far.
 */
json_t *
api_task_items(struct store *st, const struct store_task *t)
{
	struct store_action	**a = NULL;
	size_t			  n = 0, i, seen = 0;
	int			  attempt = 0;
	json_int_t		  done = 0, failed = 0, running = 0, total;
	json_t			 *v;

	if (store_actions_load(st, t->id, &a, &n) != STORE_OK)
		n = 0;
	for (i = 0; i < n; i++) {
		if (a[i]->attempt > attempt)
			attempt = a[i]->attempt;
	}
	for (i = 0; i < n; i++) {
		if (a[i]->attempt == attempt) {
			seen++;
			if (strcmp(a[i]->state, ST_SUCCESS) == 0)
				done++;
			else if (strcmp(a[i]->state, ST_ERROR) == 0 ||
			    strcmp(a[i]->state, ST_CANCELLED) == 0)
				failed++;
			else
				running++;
		}
		store_action_free(a[i]);
	}
	free(a);
	if ((v = json_object_get(t->runtime, "items")) != NULL &&
	    json_is_integer(v))
		total = json_integer_value(v);
	else if (store_state_final(t->state) && json_is_array(t->result))
		total = (json_int_t)json_array_size(t->result);
	else
		total = (json_int_t)seen;
	return (json_pack("{s:I, s:I, s:I, s:I, s:i}", "total", total,
	    "done", done, "failed", failed, "running", running, "attempt",
	    attempt));
}

/* Is node name a with-items task of graph g? */
static int
api_graph_with_items(const json_t *g, const char *name)
{
	json_t	*n;
	size_t	 i;

	json_array_foreach(json_object_get(g, "nodes"), i, n) {
		if (strcmp(json_string_value(json_object_get(n, "id")),
		    name) == 0)
			return (json_object_get(n, "with_items") != NULL);
	}
	return (0);
}

/*
 * GET /v2/executions/{id}/graph: the graph of the definition version
 * the execution runs, and per task name its latest task row in brief
 * (runs: how many rows the name has, for loops), with-items counters
 * and the sub-workflow executions a workflow task started.
 */
void
api_exec_graph(struct api_req *req)
{
	struct store_exec	 *e = NULL, **c = NULL;
	struct store_task	**t = NULL;
	struct store_def	 *d = NULL;
	size_t			  nt = 0, nc, i, j;
	enum store_rc		  rc;
	json_t			 *g, *tasks, *o, *prev, *kids;
	char			 *what;

	if ((rc = store_exec_load(req->store, req->params[0], &e)) !=
	    STORE_OK) {
		xasprintf(&what, "WorkflowExecution [id=%s]", req->params[0]);
		api_store_error(req, rc, 0, what, rc == STORE_NOTFOUND ? NULL :
		    store_error(req->store));
		free(what);
		return;
	}
	if ((g = api_graph_load(req, e->def_id, e->workflow_name, &d)) ==
	    NULL)
		goto out;
	api_graph_source(g, d);
	if ((rc = store_tasks_load(req->store, e->id, &t, &nt)) != STORE_OK) {
		api_store_error(req, rc, 0, "Tasks", store_error(req->store));
		json_decref(g);
		goto out;
	}
	tasks = json_object();
	for (i = 0; i < nt; i++) {
		o = api_task_brief(t[i]);
		prev = json_object_get(tasks, t[i]->name);
		json_object_set_new(o, "runs", json_integer(prev == NULL ? 1 :
		    json_integer_value(json_object_get(prev, "runs")) + 1));
		if (t[i]->type != NULL && strcmp(t[i]->type, "WORKFLOW") == 0) {
			kids = json_array();
			nc = 0;
			if (store_exec_children(req->store, t[i]->id, &c,
			    &nc) == STORE_OK) {
				for (j = 0; j < nc; j++) {
					json_array_append_new(kids, json_pack(
					    "{s:s, s:s, s:o}", "id", c[j]->id,
					    "workflow_name",
					    c[j]->workflow_name, "state",
					    api_strornull(c[j]->state)));
					store_exec_free(c[j]);
				}
				free(c);
				c = NULL;
			}
			json_object_set_new(o, "executions", kids);
		}
		json_object_set_new(tasks, t[i]->name, o);
	}
	/* Counters of the latest row of each with-items task. */
	for (i = nt; i-- > 0; ) {
		o = json_object_get(tasks, t[i]->name);
		if (json_object_get(o, "items") == NULL &&
		    strcmp(json_string_value(json_object_get(o, "id")),
		    t[i]->id) == 0 && api_graph_with_items(g, t[i]->name))
			json_object_set_new(o, "items",
			    api_task_items(req->store, t[i]));
	}
	json_object_set_new(g, "execution", api_exec_json(e));
	json_object_set_new(g, "tasks", tasks);
	api_reply(req, 200, g);
out:
	for (i = 0; i < nt; i++)
		store_task_free(t[i]);
	free(t);
	store_def_free(d);
	store_exec_free(e);
}
