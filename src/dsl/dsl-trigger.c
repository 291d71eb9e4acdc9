/*
 * dsl-trigger.c -- the "triggers:" section of a workbook: which alarms
 * start which workflow, with what input, and how repeats and storms are
 * held back.
 *
 *	triggers:
 *	  host_down:
 *	    source: [alertmanager, grafana]
 *	    when: <% alert.name == 'HostDown' %>
 *	    workflow: evacuate_host
 *	    input: {host: <% alert.resource.host %>}
 *	    key: <% alert.key %>
 *	    once-within: 10m
 *	    until-resolved: true
 *	    limit: {count: 3, window: 10m, by: <% alert.resource.host %>}
 *	    on-resolved: cancel
 *	    cloud: production		# credentials the flow acts with
 *
 * Shapes and values are checked here, where each was written; whether a
 * source and a workflow exist is checked by dsl_validate() through the
 * resolver.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dsl/dsl-int.h"

#define DSL_LIMIT_MAX	1000000		/* limit.count */

static const char *const dsl_trigger_keys[] = {
	"source", "when", "workflow", "input", "key", "once-within",
	"until-resolved", "limit", "on-resolved", "description", "cloud"
};
enum { GK_SOURCE, GK_WHEN, GK_WORKFLOW, GK_INPUT, GK_KEY, GK_ONCE_WITHIN,
	GK_UNTIL_RESOLVED, GK_LIMIT, GK_ON_RESOLVED, GK_DESCRIPTION,
	GK_CLOUD };

static const char *const dsl_limit_keys[] = { "count", "window", "by" };
enum { LK_COUNT, LK_WINDOW, LK_BY };

/* on-resolved values, in enum dsl_on_resolved order. */
static const char *const dsl_on_resolved_names[] = {
	"ignore", "cancel", "start"
};

/* A duration greater than zero into *ms; reported when it is not. */
static void
dsl_trigger_duration(struct dsl_pctx *ctx, const struct dsl_node *n,
    int64_t *ms)
{
	char	*cause;

	if (n->type != DSL_NSCALAR || dsl_node_null(n)) {
		dsl_perr(ctx, n, "expected a duration");
		return;
	}
	if (time_parse_duration(n->s, ms, &cause) != 0) {
		dsl_perr(ctx, n, "%s", cause);
		free(cause);
	} else if (*ms == 0)
		dsl_perr(ctx, n, "expected a duration greater than 0");
}

/* A plain true or false; -1 (reported) otherwise. */
static int
dsl_trigger_bool(struct dsl_pctx *ctx, const struct dsl_node *n)
{
	json_t	*j;
	int	 v = -1;

	if (n->type == DSL_NSCALAR) {
		j = dsl_scalar_json(n->s, n->len, n->plain);
		if (json_is_boolean(j))
			v = json_is_true(j);
		json_decref(j);
	}
	if (v == -1)
		dsl_perr(ctx, n, "expected true or false");
	return (v);
}

/*
 * A scalar template: an expression, or a value of the kinds in "ok"
 * ('s' strings, 'b' booleans, 'n' numbers).  NULL (reported) otherwise.
 */
static json_t *
dsl_trigger_tmpl(struct dsl_pctx *ctx, struct dsl_node *n, const char *ok,
    const char *what)
{
	json_t	*j;
	int	 good;

	if (n->type != DSL_NSCALAR || dsl_node_null(n)) {
		dsl_perr(ctx, n, "expected %s", what);
		return (NULL);
	}
	j = dsl_node_json(ctx, n);
	if (json_is_string(j))
		good = strstr(json_string_value(j), "<%") != NULL ||
		    strchr(ok, 's') != NULL;
	else if (json_is_boolean(j))
		good = strchr(ok, 'b') != NULL;
	else
		good = json_is_number(j) && strchr(ok, 'n') != NULL;
	if (!good) {
		dsl_perr(ctx, n, "expected %s", what);
		json_decref(j);
		return (NULL);
	}
	return (j);
}

/* source: one name or a list of names, no repeats. */
static void
dsl_trigger_sources(struct dsl_pctx *ctx, struct dsl_node *n,
    struct dsl_trigger *g, struct dsl_trig_pos *tp)
{
	struct dsl_node	*item;
	size_t		 i, j, cnt, old;
	char		*s;

	cnt = n->type == DSL_NSEQ ? n->n : 1;
	if (n->type == DSL_NMAP || (n->type == DSL_NSEQ && n->n == 0)) {
		dsl_perr(ctx, n, "expected a source name or a list of them");
		return;
	}
	g->sources = xcalloc(cnt, sizeof *g->sources);
	tp->source = xcalloc(cnt, sizeof *tp->source);
	for (i = 0; i < cnt; i++) {
		item = n->type == DSL_NSEQ ? n->v[i] : n;
		old = n->type == DSL_NSEQ ? dsl_path_pushi(ctx, i) :
		    ctx->path.len;
		if ((s = dsl_node_str(ctx, item)) == NULL)
			goto next;
		for (j = 0; j < g->nsources; j++) {
			if (strcmp(g->sources[j], s) == 0)
				break;
		}
		if (j < g->nsources) {
			dsl_perr(ctx, item, "source '%s' is listed twice", s);
			free(s);
			goto next;
		}
		tp->source[g->nsources].file = ctx->wb->file;
		tp->source[g->nsources].line = item->line;
		tp->source[g->nsources].col = item->col;
		g->sources[g->nsources++] = s;
next:
		dsl_path_pop(ctx, old);
	}
}

/* limit: {count: N, window: DURATION, by: TEMPLATE}. */
static void
dsl_trigger_limit(struct dsl_pctx *ctx, struct dsl_node *n,
    struct dsl_trigger *g)
{
	struct dsl_node	*val;
	json_t		*j;
	size_t		 i, old;

	if (dsl_expect(ctx, n, DSL_NMAP) != 0)
		return;
	for (i = 0; i + 1 < n->n; i += 2) {
		val = n->v[i + 1];
		switch (dsl_key_find(ctx, n->v[i], dsl_limit_keys,
		    nitems(dsl_limit_keys))) {
		case LK_COUNT:
			old = dsl_path_push(ctx, "count");
			j = val->type == DSL_NSCALAR ?
			    dsl_scalar_json(val->s, val->len, val->plain) :
			    NULL;
			if (!json_is_integer(j) || json_integer_value(j) < 1 ||
			    json_integer_value(j) > DSL_LIMIT_MAX)
				dsl_perr(ctx, val, "expected a whole number "
				    "from 1 to %d", DSL_LIMIT_MAX);
			else
				g->limit_count = json_integer_value(j);
			json_decref(j);
			dsl_path_pop(ctx, old);
			break;
		case LK_WINDOW:
			old = dsl_path_push(ctx, "window");
			dsl_trigger_duration(ctx, val, &g->limit_window_ms);
			dsl_path_pop(ctx, old);
			break;
		case LK_BY:
			old = dsl_path_push(ctx, "by");
			json_decref(g->limit_by);
			g->limit_by = dsl_trigger_tmpl(ctx, val, "sn",
			    "an expression or a string");
			dsl_path_pop(ctx, old);
			break;
		default:
			break;
		}
	}
	if (dsl_map_get(n, "count") == NULL)
		dsl_perr(ctx, n, "missing required key 'count'");
	if (dsl_map_get(n, "window") == NULL)
		dsl_perr(ctx, n, "missing required key 'window'");
}

/* on-resolved: ignore, cancel or start. */
static void
dsl_trigger_on_resolved(struct dsl_pctx *ctx, struct dsl_node *n,
    struct dsl_trigger *g)
{
	size_t	i;

	if (n->type == DSL_NSCALAR && !dsl_node_null(n)) {
		for (i = 0; i < nitems(dsl_on_resolved_names); i++) {
			if (strcmp(n->s, dsl_on_resolved_names[i]) == 0) {
				g->on_resolved = (enum dsl_on_resolved)i;
				return;
			}
		}
	}
	dsl_perr(ctx, n, "expected ignore, cancel or start");
}

/* Read one alarm trigger. */
static void
dsl_trigger_parse(struct dsl_pctx *ctx, struct dsl_node *k,
    struct dsl_node *v, struct dsl_trigger *g, struct dsl_trig_pos *tp)
{
	struct dsl_node	*val;
	json_t		*j;
	char		*s;
	size_t		 i, old;

	g->name = xstrdup(k->s);
	g->path = xstrdup(ctx->path.data);
	g->pos.file = ctx->wb->file;
	g->pos.line = k->line;
	g->pos.col = k->col;
	tp->workflow = g->pos;
	if (!dsl_name_valid(k->s, 0))
		dsl_perr(ctx, k, "invalid trigger name '%s' (expected "
		    "letters, digits and _)", k->s);
	if (dsl_expect(ctx, v, DSL_NMAP) != 0)
		return;
	for (i = 0; i + 1 < v->n; i += 2) {
		val = v->v[i + 1];
		switch (dsl_key_find(ctx, v->v[i], dsl_trigger_keys,
		    nitems(dsl_trigger_keys))) {
		case GK_SOURCE:
			old = dsl_path_push(ctx, "source");
			dsl_trigger_sources(ctx, val, g, tp);
			break;
		case GK_WHEN:
			old = dsl_path_push(ctx, "when");
			g->when = dsl_trigger_tmpl(ctx, val, "b",
			    "an expression or a boolean");
			break;
		case GK_WORKFLOW:
			old = dsl_path_push(ctx, "workflow");
			tp->workflow.line = val->line;
			tp->workflow.col = val->col;
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(g->workflow);
				g->workflow = s;
			}
			break;
		case GK_INPUT:
			old = dsl_path_push(ctx, "input");
			j = dsl_node_json(ctx, val);
			if (!json_is_object(j) && !(json_is_string(j) &&
			    strstr(json_string_value(j), "<%") != NULL)) {
				dsl_perr(ctx, val, "expected a mapping or an "
				    "expression");
				json_decref(j);
			} else
				g->input = j;
			break;
		case GK_KEY:
			old = dsl_path_push(ctx, "key");
			g->key = dsl_trigger_tmpl(ctx, val, "sn",
			    "an expression or a string");
			break;
		case GK_ONCE_WITHIN:
			old = dsl_path_push(ctx, "once-within");
			dsl_trigger_duration(ctx, val, &g->once_within_ms);
			break;
		case GK_UNTIL_RESOLVED:
			old = dsl_path_push(ctx, "until-resolved");
			g->until_resolved = dsl_trigger_bool(ctx, val) == 1;
			break;
		case GK_LIMIT:
			old = dsl_path_push(ctx, "limit");
			dsl_trigger_limit(ctx, val, g);
			break;
		case GK_ON_RESOLVED:
			old = dsl_path_push(ctx, "on-resolved");
			dsl_trigger_on_resolved(ctx, val, g);
			break;
		case GK_CLOUD:
			old = dsl_path_push(ctx, "cloud");
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(g->cloud);
				g->cloud = s;
			}
			break;
		case GK_DESCRIPTION:
			old = dsl_path_push(ctx, "description");
			if ((s = dsl_node_str(ctx, val)) != NULL) {
				free(g->description);
				g->description = s;
			}
			break;
		default:
			continue;
		}
		dsl_path_pop(ctx, old);
	}
	if (dsl_map_get(v, "source") == NULL)
		dsl_perr(ctx, k, "missing required key 'source'");
	if (dsl_map_get(v, "workflow") == NULL)
		dsl_perr(ctx, k, "missing required key 'workflow'");
}

/* Read the "triggers:" section of a workbook. */
void
dsl_triggers_parse(struct dsl_pctx *ctx, struct dsl_node *m)
{
	struct dsl_workbook	*wb = ctx->wb;
	struct dsl_node		*k;
	size_t			 i, old;

	if (dsl_expect(ctx, m, DSL_NMAP) != 0)
		return;
	wb->triggers = xcalloc(m->n / 2 + 1, sizeof *wb->triggers);
	ctx->wi->tgpos = xcalloc(m->n / 2 + 1, sizeof *ctx->wi->tgpos);
	for (i = 0; i + 1 < m->n; i += 2) {
		k = m->v[i];
		if (k->type != DSL_NSCALAR || k->dup) {
			dsl_key_find(ctx, k, NULL, 0);
			continue;
		}
		old = dsl_path_push(ctx, k->s);
		dsl_trigger_parse(ctx, k, m->v[i + 1],
		    &wb->triggers[wb->ntriggers],
		    &ctx->wi->tgpos[wb->ntriggers]);
		wb->ntriggers++;
		dsl_path_pop(ctx, old);
	}
}

/* Free a workbook's triggers and their positions. */
void
dsl_triggers_free(struct dsl_workbook *wb)
{
	struct dsl_trigger	*g;
	size_t			 i, j;

	for (i = 0; i < wb->ntriggers; i++) {
		g = &wb->triggers[i];
		free(g->name);
		free(g->path);
		free(g->description);
		for (j = 0; j < g->nsources; j++)
			free(g->sources[j]);
		free(g->sources);
		free(g->workflow);
		free(g->cloud);
		json_decref(g->when);
		json_decref(g->input);
		json_decref(g->key);
		json_decref(g->limit_by);
		if (wb->priv != NULL && wb->priv->tgpos != NULL)
			free(wb->priv->tgpos[i].source);
	}
	free(wb->triggers);
	wb->triggers = NULL;
	if (wb->priv != NULL) {
		free(wb->priv->tgpos);
		wb->priv->tgpos = NULL;
	}
	wb->ntriggers = 0;
}
