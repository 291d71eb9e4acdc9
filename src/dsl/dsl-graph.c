/*
 * dsl-graph.c -- the planned task graph of a workflow, as the console
 * draws it: one node per task (what it runs, with-items, retry, join)
 * and one edge per transition, kind and condition included.
 *
 * The graph is computed from the parsed definition only, so it holds
 * every task a run may reach, not only those that have started.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl-int.h"

/* The transition clauses, in the order edges are listed. */
static const struct {
	const char	*kind;
	size_t		 off;
} dsl_graph_clauses[] = {
	{ "success", offsetof(struct dsl_task, on_success) },
	{ "error", offsetof(struct dsl_task, on_error) },
	{ "complete", offsetof(struct dsl_task, on_complete) },
};

static const char *const dsl_graph_commands[] = {
	[DSL_NEXT_FAIL] = "fail",
	[DSL_NEXT_SUCCEED] = "succeed",
	[DSL_NEXT_PAUSE] = "pause",
	[DSL_NEXT_NOOP] = "noop",
};

/* A template as text: strings as written, other values as JSON. */
static json_t *
dsl_graph_text(const json_t *v)
{
	char	*s;
	json_t	*o;

	if (v == NULL)
		return (json_null());
	if (json_is_string(v))
		return (json_string(json_string_value(v)));
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return (json_null());
	o = json_string(s);
	free(s);
	return (o);
}

/* A policy value: numbers stay numbers, expressions stay text. */
static json_t *
dsl_graph_value(const json_t *v)
{
	if (v == NULL)
		return (json_null());
	if (json_is_number(v) || json_is_boolean(v))
		return (json_copy((json_t *)v));
	return (dsl_graph_text(v));
}

/* The node of one task. */
static json_t *
dsl_graph_node(const struct dsl_task *t, int start)
{
	json_t	*o, *items, *retry;
	size_t	 i;
	char	*s;

	o = json_object();
	json_object_set_new(o, "id", json_string(t->name));
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "kind", json_string("task"));
	if (t->workflow != NULL) {
		json_object_set_new(o, "type", json_string("workflow"));
		json_object_set_new(o, "workflow", json_string(t->workflow));
	} else {
		json_object_set_new(o, "type", json_string("action"));
		json_object_set_new(o, "action", json_string(t->action !=
		    NULL ? t->action : "std.noop"));
	}
	if (t->description != NULL)
		json_object_set_new(o, "description",
		    json_string(t->description));
	json_object_set_new(o, "start", json_boolean(start));
	if (t->nitems > 0) {
		items = json_array();
		for (i = 0; i < t->nitems; i++) {
			xasprintf(&s, "%s in %s", t->items[i].var,
			    json_is_string(t->items[i].list) ?
			    json_string_value(t->items[i].list) : "[...]");
			json_array_append_new(items, json_string(s));
			free(s);
		}
		json_object_set_new(o, "with_items", items);
		if (t->concurrency != NULL)
			json_object_set_new(o, "concurrency",
			    dsl_graph_value(t->concurrency));
	}
	if (t->retry_count != NULL) {
		retry = json_object();
		json_object_set_new(retry, "count",
		    dsl_graph_value(t->retry_count));
		if (t->retry_delay != NULL)
			json_object_set_new(retry, "delay",
			    dsl_graph_value(t->retry_delay));
		json_object_set_new(o, "retry", retry);
	}
	switch (t->join) {
	case DSL_JOIN_ALL:
		json_object_set_new(o, "join", json_string("all"));
		break;
	case DSL_JOIN_N:
		json_object_set_new(o, "join", json_integer(t->join_n));
		break;
	default:
		break;
	}
	if (t->timeout != NULL)
		json_object_set_new(o, "timeout", dsl_graph_value(t->timeout));
	if (t->pause_before != NULL)
		json_object_set_new(o, "pause_before",
		    dsl_graph_value(t->pause_before));
	if (t->lock != NULL)
		json_object_set_new(o, "lock", dsl_graph_text(t->lock));
	json_object_set_new(o, "line", json_integer(t->pos.line));
	return (o);
}

/* One edge; cond may be NULL. */
static void
dsl_graph_edge(json_t *edges, const char *from, const char *to,
    const char *on, const json_t *cond)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "from", json_string(from));
	json_object_set_new(o, "to", json_string(to));
	json_object_set_new(o, "kind", json_string(cond != NULL ?
	    "condition" : on));
	json_object_set_new(o, "on", json_string(on));
	if (cond != NULL)
		json_object_set_new(o, "label", dsl_graph_text(cond));
	else
		json_object_set_new(o, "label", json_string(on));
	json_array_append_new(edges, o);
}

/*
 * The task graph of a workflow: {name, type, nodes, edges}.  An engine
 * command (fail, succeed, pause) reached from a task is a node of kind
 * "command" of its own, so the end a transition leads to is visible.
 * Reverse workflows have "requires" edges, from the required task.
 */
json_t *
dsl_workflow_graph(const struct dsl_workflow *wf)
{
	const struct dsl_task	*t;
	const struct dsl_trans	*tr;
	const struct dsl_next	*nx;
	json_t			*g, *nodes, *edges, *cmd;
	size_t			*starts, nstarts, i, j, c, k;
	char			*id;
	unsigned char		*is_start;

	nodes = json_array();
	edges = json_array();
	nstarts = dsl_start_tasks(wf, &starts);
	is_start = xcalloc(wf->ntasks + 1, 1);
	for (i = 0; i < nstarts; i++)
		is_start[starts[i]] = 1;
	free(starts);
	for (i = 0; i < wf->ntasks; i++)
		json_array_append_new(nodes, dsl_graph_node(&wf->tasks[i],
		    is_start[i]));
	free(is_start);

	for (i = 0; i < wf->ntasks; i++) {
		t = &wf->tasks[i];
		for (j = 0; j < t->nrequires; j++)
			dsl_graph_edge(edges, t->requires[j], t->name,
			    "requires", NULL);
		for (c = 0; c < nitems(dsl_graph_clauses); c++) {
			tr = (const struct dsl_trans *)((const char *)t +
			    dsl_graph_clauses[c].off);
			for (k = 0; k < tr->n; k++) {
				nx = &tr->v[k];
				if (nx->kind == DSL_NEXT_TASK) {
					if (dsl_task_find(wf, nx->task) == NULL)
						continue;
					dsl_graph_edge(edges, t->name,
					    nx->task,
					    dsl_graph_clauses[c].kind,
					    nx->cond);
					continue;
				}
				xasprintf(&id, "%s/%s/%zu", t->name,
				    dsl_graph_commands[nx->kind],
				    (size_t)json_array_size(nodes));
				cmd = json_pack("{s:s, s:s, s:s}", "id", id,
				    "name", dsl_graph_commands[nx->kind],
				    "kind", "command");
				if (nx->msg != NULL)
					json_object_set_new(cmd, "message",
					    dsl_graph_text(nx->msg));
				json_array_append_new(nodes, cmd);
				dsl_graph_edge(edges, t->name, id,
				    dsl_graph_clauses[c].kind, nx->cond);
				free(id);
			}
		}
	}
	g = json_object();
	json_object_set_new(g, "name", json_string(wf->name));
	json_object_set_new(g, "type", json_string(wf->type ==
	    DSL_WF_REVERSE ? "reverse" : "direct"));
	json_object_set_new(g, "nodes", nodes);
	json_object_set_new(g, "edges", edges);
	return (g);
}
