/*
 * dsl-validate.c -- semantic checks of a parsed workbook: transitions
 * and requires that name missing tasks, unknown actions and workflows,
 * join counts, start tasks, unreachable tasks, cycles in requires, and
 * expressions that do not compile.  Also the graph queries the engine
 * uses (start tasks, inbound counts).
 *
 * Shape errors (types, unknown keys, policy values) are found by the
 * parser, which knows where each value was written.  Everything here is
 * linear in the number of tasks and transitions: task names are looked
 * up through a hash table.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl-int.h"

/* Task name -> index of one workflow (open addressing). */
struct dsl_tindex {
	const char	**name;
	size_t		 *idx;
	size_t		  cap;		/* power of two */
};

/* State of one validation. */
struct dsl_vctx {
	const struct dsl_workbook	*wb;
	const struct dsl_resolver	*res;
	struct dsl_errors		*errs;
};

static void	dsl_verr(struct dsl_vctx *, const struct dsl_pos *,
		    const char *, const char *, const char *, ...)
		    printflike(5, 6);

#define DSL_NOTASK ((size_t)-1)

/* FNV-1a of a string. */
static size_t
dsl_vhash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

/* Index a workflow's tasks by name. */
static void
dsl_tindex_build(struct dsl_tindex *ti, const struct dsl_workflow *wf)
{
	size_t	i, h;

	ti->cap = 16;
	while (ti->cap < wf->ntasks * 2 + 1)
		ti->cap *= 2;
	ti->name = xcalloc(ti->cap, sizeof *ti->name);
	ti->idx = xcalloc(ti->cap, sizeof *ti->idx);
	for (i = 0; i < wf->ntasks; i++) {
		h = dsl_vhash(wf->tasks[i].name) & (ti->cap - 1);
		while (ti->name[h] != NULL &&
		    strcmp(ti->name[h], wf->tasks[i].name) != 0)
			h = (h + 1) & (ti->cap - 1);
		if (ti->name[h] == NULL) {
			ti->name[h] = wf->tasks[i].name;
			ti->idx[h] = i;
		}
	}
}

/* Index of a task name, or DSL_NOTASK. */
static size_t
dsl_tindex_get(const struct dsl_tindex *ti, const char *name)
{
	size_t	h;

	h = dsl_vhash(name) & (ti->cap - 1);
	while (ti->name[h] != NULL) {
		if (strcmp(ti->name[h], name) == 0)
			return (ti->idx[h]);
		h = (h + 1) & (ti->cap - 1);
	}
	return (DSL_NOTASK);
}

/* Free a task index. */
static void
dsl_tindex_free(struct dsl_tindex *ti)
{
	free(ti->name);
	free(ti->idx);
}

/* The three transition clauses of a task, with their key names. */
static const struct dsl_trans *
dsl_clause(const struct dsl_task *t, int c, const char **key)
{
	switch (c) {
	case 0:
		*key = "on-success";
		return (&t->on_success);
	case 1:
		*key = "on-error";
		return (&t->on_error);
	default:
		*key = "on-complete";
		return (&t->on_complete);
	}
}

/*
 * Count the distinct tasks leading to each task (into inb, ntasks long).
 * Targets that do not exist are skipped.
 */
static void
dsl_inbound_all(const struct dsl_workflow *wf, const struct dsl_tindex *ti,
    size_t *inb)
{
	const struct dsl_trans	*tr;
	const char		*key;
	size_t			*last, i, j, k;
	int			 c;

	last = xreallocarray(NULL, wf->ntasks + 1, sizeof *last);
	for (i = 0; i < wf->ntasks; i++) {
		inb[i] = 0;
		last[i] = DSL_NOTASK;
	}
	for (i = 0; i < wf->ntasks; i++) {
		for (c = 0; c < 3; c++) {
			tr = dsl_clause(&wf->tasks[i], c, &key);
			for (j = 0; j < tr->n; j++) {
				if (tr->v[j].kind != DSL_NEXT_TASK)
					continue;
				k = dsl_tindex_get(ti, tr->v[j].task);
				if (k == DSL_NOTASK || last[k] == i)
					continue;
				last[k] = i;
				inb[k]++;
			}
		}
	}
	free(last);
}

/*
 * Start tasks, in definition order: for a direct workflow the tasks no
 * transition points to, for a reverse one the tasks without requires.
 */
size_t
dsl_start_tasks(const struct dsl_workflow *wf, size_t **out)
{
	struct dsl_tindex	 ti;
	size_t			*inb, *v, i, n = 0;

	v = xreallocarray(NULL, wf->ntasks + 1, sizeof *v);
	if (wf->type == DSL_WF_REVERSE) {
		for (i = 0; i < wf->ntasks; i++) {
			if (wf->tasks[i].nrequires == 0)
				v[n++] = i;
		}
		*out = v;
		return (n);
	}
	dsl_tindex_build(&ti, wf);
	inb = xreallocarray(NULL, wf->ntasks + 1, sizeof *inb);
	dsl_inbound_all(wf, &ti, inb);
	for (i = 0; i < wf->ntasks; i++) {
		if (inb[i] == 0)
			v[n++] = i;
	}
	free(inb);
	dsl_tindex_free(&ti);
	*out = v;
	return (n);
}

/* Number of distinct tasks with a transition to task index t. */
size_t
dsl_inbound_count(const struct dsl_workflow *wf, size_t t)
{
	const struct dsl_trans	*tr;
	const char		*key, *name;
	size_t			 i, j, n = 0;
	int			 c, found;

	if (t >= wf->ntasks)
		return (0);
	name = wf->tasks[t].name;
	for (i = 0; i < wf->ntasks; i++) {
		found = 0;
		for (c = 0; c < 3 && !found; c++) {
			tr = dsl_clause(&wf->tasks[i], c, &key);
			for (j = 0; j < tr->n && !found; j++) {
				if (tr->v[j].kind == DSL_NEXT_TASK &&
				    strcmp(tr->v[j].task, name) == 0)
					found = 1;
			}
		}
		n += found;
	}
	return (n);
}

/* Report an error at pos with "base.key" as path. */
static void
dsl_verr(struct dsl_vctx *v, const struct dsl_pos *pos, const char *base,
    const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	*path, *msg;

	if (key != NULL)
		xasprintf(&path, "%s.%s", base, key);
	else
		path = xstrdup(base != NULL ? base : "");
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	dsl_errors_add(v->errs, pos, path, "%s", msg);
	free(msg);
	free(path);
}

/* 1 if an action name is known: ad-hoc here or through the resolver. */
static int
dsl_action_known(struct dsl_vctx *v, const char *name)
{
	if (strstr(name, "<%") != NULL)
		return (1);	/* chosen at run time */
	if (dsl_action_find(v->wb, name) != NULL)
		return (1);
	if (v->res == NULL || v->res->action_exists == NULL)
		return (1);
	return (v->res->action_exists(v->res->arg, name));
}

/* 1 if a workflow name is known: in this workbook or through the resolver. */
static int
dsl_workflow_known(struct dsl_vctx *v, const char *name)
{
	if (strstr(name, "<%") != NULL)
		return (1);
	if (dsl_workflow_find(v->wb, name) != NULL)
		return (1);
	if (v->res == NULL || v->res->workflow_exists == NULL)
		return (1);
	return (v->res->workflow_exists(v->res->arg, name));
}

/* Closest task name to a missing one, or NULL. */
static const char *
dsl_task_closest(const struct dsl_workflow *wf, const char *name)
{
	const char	**cands, *best;
	size_t		  i;

	cands = xreallocarray(NULL, wf->ntasks + 1, sizeof *cands);
	for (i = 0; i < wf->ntasks; i++)
		cands[i] = wf->tasks[i].name;
	best = lib_closest(name, cands, wf->ntasks);
	free(cands);
	return (best);
}

/* Report a task name that does not exist. */
static void
dsl_task_missing(struct dsl_vctx *v, const struct dsl_workflow *wf,
    const struct dsl_pos *pos, const char *base, const char *key,
    const char *name)
{
	const char	*near;

	if ((near = dsl_task_closest(wf, name)) != NULL)
		dsl_verr(v, pos, base, key, "task '%s' not found (did you "
		    "mean '%s'?)", name, near);
	else
		dsl_verr(v, pos, base, key, "task '%s' not found", name);
}

/* Reachability from the start tasks of a direct workflow. */
static void
dsl_check_direct(struct dsl_vctx *v, const struct dsl_workflow *wf,
    const struct dsl_tindex *ti, const size_t *inb)
{
	const struct dsl_trans	*tr;
	const char		*key;
	size_t			*queue, qh = 0, qt = 0, i, j, k;
	char			*seen;
	int			 c;

	if (wf->ntasks == 0)
		return;
	queue = xreallocarray(NULL, wf->ntasks, sizeof *queue);
	seen = xcalloc(wf->ntasks, 1);
	for (i = 0; i < wf->ntasks; i++) {
		if (inb[i] == 0) {
			seen[i] = 1;
			queue[qt++] = i;
		}
	}
	if (qt == 0) {
		dsl_verr(v, &wf->pos, wf->path, NULL, "workflow '%s' has no "
		    "start task (every task is the target of a transition)",
		    wf->short_name);
		goto out;
	}
	while (qh < qt) {
		i = queue[qh++];
		for (c = 0; c < 3; c++) {
			tr = dsl_clause(&wf->tasks[i], c, &key);
			for (j = 0; j < tr->n; j++) {
				if (tr->v[j].kind != DSL_NEXT_TASK)
					continue;
				k = dsl_tindex_get(ti, tr->v[j].task);
				if (k != DSL_NOTASK && !seen[k]) {
					seen[k] = 1;
					queue[qt++] = k;
				}
			}
		}
	}
	for (i = 0; i < wf->ntasks; i++) {
		if (!seen[i])
			dsl_verr(v, &wf->tasks[i].pos, wf->tasks[i].path, NULL,
			    "task '%s' is unreachable from the start tasks",
			    wf->tasks[i].name);
	}
out:
	free(seen);
	free(queue);
}

/* requires of a reverse workflow: missing tasks and cycles. */
static void
dsl_check_reverse(struct dsl_vctx *v, const struct dsl_workflow *wf,
    const struct dsl_task_pos *tp, const struct dsl_tindex *ti)
{
	const struct dsl_task	*t;
	struct buf		 b;
	size_t			**req, *stack, *edge, *spos, sp, i, j, u, w;
	char			*color;

	req = xcalloc(wf->ntasks + 1, sizeof *req);
	for (i = 0; i < wf->ntasks; i++) {
		t = &wf->tasks[i];
		req[i] = xreallocarray(NULL, t->nrequires + 1, sizeof **req);
		for (j = 0; j < t->nrequires; j++) {
			req[i][j] = dsl_tindex_get(ti, t->requires[j]);
			if (req[i][j] == DSL_NOTASK)
				dsl_task_missing(v, wf, tp != NULL ?
				    &tp[i].requires : &t->pos, t->path,
				    "requires", t->requires[j]);
		}
	}

	/* Iterative depth-first search; grey nodes are on the stack. */
	color = xcalloc(wf->ntasks + 1, 1);
	stack = xreallocarray(NULL, wf->ntasks + 1, sizeof *stack);
	edge = xcalloc(wf->ntasks + 1, sizeof *edge);
	spos = xcalloc(wf->ntasks + 1, sizeof *spos);
	for (i = 0; i < wf->ntasks; i++) {
		if (color[i] != 0)
			continue;
		sp = 0;
		stack[sp++] = i;
		color[i] = 1;
		spos[i] = 0;
		edge[i] = 0;
		while (sp > 0) {
			u = stack[sp - 1];
			if (edge[u] == wf->tasks[u].nrequires) {
				color[u] = 2;
				sp--;
				continue;
			}
			w = req[u][edge[u]++];
			if (w == DSL_NOTASK || color[w] == 2)
				continue;
			if (color[w] == 1) {
				buf_init(&b, 0);
				for (j = spos[w]; j < sp; j++)
					buf_printf(&b, "%s -> ",
					    wf->tasks[stack[j]].name);
				buf_puts(&b, wf->tasks[w].name);
				dsl_verr(v, tp != NULL ? &tp[u].requires :
				    &wf->tasks[u].pos, wf->tasks[u].path,
				    "requires", "cycle in requires: %s",
				    b.data);
				buf_free(&b);
				continue;
			}
			color[w] = 1;
			edge[w] = 0;
			spos[w] = sp;
			stack[sp++] = w;
		}
	}
	free(spos);
	free(edge);
	free(stack);
	free(color);
	for (i = 0; i < wf->ntasks; i++)
		free(req[i]);
	free(req);
}

/* Check one workflow. */
static void
dsl_check_workflow(struct dsl_vctx *v, const struct dsl_workflow *wf,
    const struct dsl_task_pos *tp)
{
	const struct dsl_task	*t;
	const struct dsl_trans	*tr;
	const struct dsl_pos	*pos;
	struct dsl_tindex	 ti;
	const char		*key;
	size_t			*inb, i, j;
	int			 c;

	dsl_tindex_build(&ti, wf);
	inb = xreallocarray(NULL, wf->ntasks + 1, sizeof *inb);
	dsl_inbound_all(wf, &ti, inb);

	for (i = 0; i < wf->ntasks; i++) {
		t = &wf->tasks[i];
		pos = tp != NULL ? &tp[i].action : &t->pos;
		if (t->action != NULL && !dsl_action_known(v, t->action))
			dsl_verr(v, pos, t->path, "action", "action '%s' not "
			    "found", t->action);
		if (t->workflow != NULL && !dsl_workflow_known(v, t->workflow))
			dsl_verr(v, pos, t->path, "workflow", "workflow '%s' "
			    "not found", t->workflow);
		for (c = 0; c < 3; c++) {
			tr = dsl_clause(t, c, &key);
			for (j = 0; j < tr->n; j++) {
				if (tr->v[j].kind == DSL_NEXT_TASK &&
				    dsl_tindex_get(&ti, tr->v[j].task) ==
				    DSL_NOTASK)
					dsl_task_missing(v, wf, &tr->v[j].pos,
					    t->path, key, tr->v[j].task);
			}
		}
		if (t->join == DSL_JOIN_N && (size_t)t->join_n > inb[i]) {
			dsl_verr(v, tp != NULL ? &tp[i].join : &t->pos, t->path,
			    "join", "join %d is more than the number of tasks "
			    "leading here (%zu)", t->join_n, inb[i]);
		}
	}
	if (wf->type == DSL_WF_DIRECT)
		dsl_check_direct(v, wf, &ti, inb);
	else
		dsl_check_reverse(v, wf, tp, &ti);
	free(inb);
	dsl_tindex_free(&ti);
}

/* Check every recorded expression: closed, non-empty, compiles. */
static void
dsl_check_exprs(struct dsl_vctx *v, const struct dsl_wb_int *wi)
{
	const struct dsl_expr_ref	*r;
	const char			*s;
	char				*lua, *cause, *shown;
	size_t				 i;
	int				 rc;

	for (i = 0; i < wi->nex; i++) {
		r = &wi->ex[i];
		s = json_string_value(r->str);
		while ((rc = dsl_expr_next(&s, &lua)) != 0) {
			if (rc == -1) {
				dsl_verr(v, &r->pos, r->path, NULL,
				    "unterminated expression (missing '%%>')");
				break;
			}
			if (*lua == '\0')
				dsl_verr(v, &r->pos, r->path, NULL,
				    "empty expression <%% %%>");
			else if (v->res != NULL && v->res->expr_check != NULL &&
			    v->res->expr_check(v->res->arg, lua, &cause) != 0) {
				if (strlen(lua) > 60)
					shown = xstrcat(xstrndup(lua, 57),
					    "...");
				else
					shown = xstrdup(lua);
				/* The sandbox's cause may name it already. */
				if (cause != NULL &&
				    strncmp(cause, "expression ", 11) == 0)
					dsl_verr(v, &r->pos, r->path, NULL,
					    "invalid %s", cause);
				else
					dsl_verr(v, &r->pos, r->path, NULL,
					    "invalid expression \"<%% %s %%>\": %s",
					    shown, cause != NULL ? cause :
					    "does not compile");
				free(shown);
				free(cause);
			}
			free(lua);
		}
	}
}

/*
 * Semantic checks of a whole workbook.  Returns the number of errors
 * added to errs.
 */
size_t
dsl_validate(const struct dsl_workbook *wb, const struct dsl_resolver *res,
    struct dsl_errors *errs)
{
	struct dsl_vctx			 v;
	const struct dsl_wb_int		*wi = wb->priv;
	const struct dsl_action		*a, *b;
	const struct dsl_trigger	*g;
	char				*path;
	size_t				 n0 = errs->n, i, hops;

	v.wb = wb;
	v.res = res;
	v.errs = errs;

	for (i = 0; i < wb->nworkflows; i++)
		dsl_check_workflow(&v, &wb->workflows[i],
		    wi != NULL && wi->tpos != NULL ? wi->tpos[i] : NULL);

	for (i = 0; i < wb->nactions; i++) {
		a = &wb->actions[i];
		if (a->base == NULL)
			continue;
		/* Follow ad-hoc bases within the workbook to catch loops. */
		for (b = a, hops = 0; b != NULL && b->base != NULL &&
		    hops <= wb->nactions; hops++)
			b = dsl_action_find(wb, b->base);
		if (hops > wb->nactions)
			dsl_verr(&v, wi != NULL ? &wi->act_base[i] : &a->pos,
			    a->path, "base", "action '%s' is based on itself",
			    a->name);
		else if (!dsl_action_known(&v, a->base))
			dsl_verr(&v, wi != NULL ? &wi->act_base[i] : &a->pos,
			    a->path, "base", "base action '%s' not found",
			    a->base);
	}

	for (i = 0; i < wb->ntriggers; i++) {
		g = &wb->triggers[i];
		if (g->workflow == NULL || dsl_workflow_known(&v, g->workflow))
			continue;
		xasprintf(&path, "triggers.%s", g->name);
		dsl_verr(&v, wi != NULL ? &wi->trig_wf[i] : &g->pos, path,
		    "workflow", "workflow '%s' not found", g->workflow);
		free(path);
	}

	if (wi != NULL)
		dsl_check_exprs(&v, wi);
	return (errs->n - n0);
}
