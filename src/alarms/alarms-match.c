/*
 * alarms-match.c -- the triggers in force and what each makes of one
 * normalized event.
 *
 * For every trigger listening to the event's source, in order:
 *	- a resolved event is ignored (on-resolved: ignore, the default),
 *	  cancels the key's execution (cancel), or goes on (start);
 *	- when, an expression over "alert", must be true;
 *	- key (default: the source's), input and limit.by are evaluated.
 * Each step that fails makes the verdict "failed" with the expression's
 * error, and the other triggers still run.  Whether a started key is a
 * duplicate or over its limit is the store's to say, later.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl.h"
#include "expr/expr.h"
#include "alarms/alarms-int.h"

/* Names of enum alarm_verdict, in order. */
static const char *const alarm_verdict_names[] = {
	"started", "duplicate", "when_false", "limited", "resolved_ignored",
	"cancelled", "failed"
};

/*
 * One trigger as it runs: a copy of the workbook's, its templates held
 * by reference, its workflow by full name.
 */
struct alarm_trig {
	char			*name;		/* "wb.trigger" */
	char			**sources;
	size_t			 nsources;
	json_t			*when;
	char			*workflow;
	json_t			*input;
	json_t			*key;
	int64_t			 once_within_ms;
	int			 until_resolved;
	int64_t			 limit_count;
	int64_t			 limit_window_ms;
	json_t			*limit_by;
	enum dsl_on_resolved	 on_resolved;
	char			*description;
	char			*file;		/* where it was written */
	char			*cloud;
};

struct alarm_triggers {
	struct alarm_trig	*v;
	size_t			 n;
};

const char *
alarm_verdict_name(enum alarm_verdict v)
{
	return ((size_t)v < nitems(alarm_verdict_names) ?
	    alarm_verdict_names[v] : NULL);
}

int
alarm_verdict_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(alarm_verdict_names); i++) {
		if (strcmp(alarm_verdict_names[i], name) == 0)
			return ((int)i);
	}
	return (-1);
}

/* ---- the set ---------------------------------------------------------- */

struct alarm_triggers *
alarm_triggers_create(void)
{
	return (xcalloc(1, sizeof (struct alarm_triggers)));
}

void
alarm_triggers_free(struct alarm_triggers *ts)
{
	struct alarm_trig	*t;
	size_t			 i, j;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->n; i++) {
		t = &ts->v[i];
		free(t->name);
		for (j = 0; j < t->nsources; j++)
			free(t->sources[j]);
		free(t->sources);
		free(t->workflow);
		free(t->cloud);
		json_decref(t->when);
		json_decref(t->input);
		json_decref(t->key);
		json_decref(t->limit_by);
		free(t->description);
		free(t->file);
	}
	free(ts->v);
	free(ts);
}

/* A reference to a template, or NULL. */
static json_t *
alarm_hold(json_t *j)
{
	return (j != NULL ? json_incref(j) : NULL);
}

/* Add the triggers of a workbook. */
void
alarm_triggers_add(struct alarm_triggers *ts, const struct dsl_workbook *wb)
{
	const struct dsl_trigger	*g;
	const struct dsl_workflow	*wf;
	struct alarm_trig		*t;
	size_t				 i, j;

	if (wb->ntriggers == 0)
		return;
	ts->v = xreallocarray(ts->v, ts->n + wb->ntriggers, sizeof *ts->v);
	for (i = 0; i < wb->ntriggers; i++) {
		g = &wb->triggers[i];
		t = &ts->v[ts->n++];
		memset(t, 0, sizeof *t);
		if (wb->name != NULL)
			xasprintf(&t->name, "%s.%s", wb->name, g->name);
		else
			t->name = xstrdup(g->name);
		t->sources = xcalloc(g->nsources + 1, sizeof *t->sources);
		for (j = 0; j < g->nsources; j++)
			t->sources[j] = xstrdup(g->sources[j]);
		t->nsources = g->nsources;
		if (g->workflow != NULL) {
			wf = dsl_workflow_find(wb, g->workflow);
			t->workflow = xstrdup(wf != NULL ? wf->name :
			    g->workflow);
		}
		t->when = alarm_hold(g->when);
		t->input = alarm_hold(g->input);
		t->key = alarm_hold(g->key);
		t->limit_by = alarm_hold(g->limit_by);
		t->once_within_ms = g->once_within_ms;
		t->until_resolved = g->until_resolved;
		t->limit_count = g->limit_count;
		t->limit_window_ms = g->limit_window_ms;
		t->on_resolved = g->on_resolved;
		t->description = alarm_strdup(g->description);
		t->file = alarm_strdup(wb->file);
		t->cloud = g->cloud != NULL ? xstrdup(g->cloud) : NULL;
	}
}

size_t
alarm_triggers_count(const struct alarm_triggers *ts)
{
	return (ts->n);
}

const char *
alarm_trigger_name(const struct alarm_triggers *ts, size_t i)
{
	return (i < ts->n ? ts->v[i].name : NULL);
}

/* 1 if trigger i listens to source. */
int
alarm_trigger_listens(const struct alarm_triggers *ts, size_t i,
    const char *source)
{
	size_t	j;

	if (i >= ts->n)
		return (0);
	for (j = 0; j < ts->v[i].nsources; j++) {
		if (strcmp(ts->v[i].sources[j], source) == 0)
			return (1);
	}
	return (0);
}

/* ---- matching --------------------------------------------------------- */

/* Mark a decision failed: "what: cause". */
static void
alarm_fail(struct alarm_decision *d, const char *what, char *cause)
{
	d->verdict = ALARM_V_FAILED;
	free(d->reason);
	xasprintf(&d->reason, "%s: %s", what, cause != NULL ? cause :
	    "evaluation failed");
	free(cause);
}

/*
 * A template that must give a string (numbers become their text) of at
 * most ALARM_KEY_MAX bytes: key and limit.by.  NULL after alarm_fail().
 */
static char *
alarm_eval_text(struct expr *ex, json_t *tmpl, const struct expr_ctx *ctx,
    struct alarm_decision *d, const char *what)
{
	json_t	*v;
	char	*cause = NULL, *s = NULL;

	if ((v = expr_eval(ex, tmpl, ctx, &cause)) == NULL) {
		alarm_fail(d, what, cause);
		return (NULL);
	}
	if (json_is_string(v))
		s = xstrdup(json_string_value(v));
	else if (json_is_integer(v) || json_is_real(v))
		s = json_dumps(v, JSON_ENCODE_ANY);
	if (s == NULL || *s == '\0')
		xasprintf(&cause, "gave %s, expected a non-empty string",
		    s != NULL ? "\"\"" : alarm_json_kind(v));
	else if (strlen(s) > ALARM_KEY_MAX)
		xasprintf(&cause, "gave %zu bytes, more than %d",
		    strlen(s), ALARM_KEY_MAX);
	json_decref(v);
	if (cause != NULL) {
		free(s);
		alarm_fail(d, what, cause);
		return (NULL);
	}
	return (s);
}

/* The key of the event for trigger t; 0, or -1 after alarm_fail(). */
static int
alarm_decide_key(struct expr *ex, const struct alarm_trig *t,
    const struct alarm_event *ev, const struct expr_ctx *ctx,
    struct alarm_decision *d)
{
	if (t->key == NULL) {
		d->key = xstrdup(ev->key);
		return (0);
	}
	d->key = alarm_eval_text(ex, t->key, ctx, d, "key");
	return (d->key != NULL ? 0 : -1);
}

/* The key of the event for trigger t, or NULL when it fails. */
static char *
alarm_quiet_key(struct expr *ex, const struct alarm_trig *t,
    const struct alarm_event *ev, const struct expr_ctx *ctx)
{
	struct alarm_decision	 d;

	if (t->key == NULL)
		return (xstrdup(ev->key));
	memset(&d, 0, sizeof d);
	if (alarm_decide_key(ex, t, ev, ctx, &d) != 0) {
		free(d.reason);
		return (NULL);
	}
	free(d.reason);
	return (d.key);
}

/* One trigger's verdict on the event. */
static void
alarm_decide(struct expr *ex, const struct alarm_trig *t,
    const struct alarm_event *ev, const struct expr_ctx *ctx,
    struct alarm_decision *d)
{
	json_t	*v;
	char	*cause = NULL, *shown;

	d->workflow = alarm_strdup(t->workflow);
	d->cloud = alarm_strdup(t->cloud);
	d->once_within_ms = t->once_within_ms;
	d->until_resolved = t->until_resolved;
	d->limit_count = t->limit_count;
	d->limit_window_ms = t->limit_window_ms;

	if (ev->status == ALARM_RESOLVED &&
	    t->on_resolved != DSL_RESOLVED_START) {
		if (alarm_decide_key(ex, t, ev, ctx, d) != 0)
			return;
		if (t->on_resolved == DSL_RESOLVED_CANCEL) {
			d->verdict = ALARM_V_CANCELLED;
			xasprintf(&d->reason, "resolved: cancels the "
			    "execution of key %s if it still runs", d->key);
		} else {
			d->verdict = ALARM_V_RESOLVED_IGNORED;
			d->reason = xstrdup("resolved alarms start nothing "
			    "(on-resolved: ignore)");
		}
		return;
	}

	if (t->when != NULL) {
		if ((v = expr_eval(ex, t->when, ctx, &cause)) == NULL) {
			alarm_fail(d, "when", cause);
			return;
		}
		if (!expr_truthy(v)) {
			shown = alarm_json_show(v);
			d->verdict = ALARM_V_WHEN_FALSE;
			xasprintf(&d->reason, "when is %s", shown);
			free(shown);
			json_decref(v);
			/* Still a resolution of the key's hold. */
			if (ev->status == ALARM_RESOLVED && t->until_resolved)
				d->key = alarm_quiet_key(ex, t, ev, ctx);
			return;
		}
		json_decref(v);
	}
	if (alarm_decide_key(ex, t, ev, ctx, d) != 0)
		return;

	if (t->input == NULL)
		d->input = json_object();
	else if ((d->input = expr_eval(ex, t->input, ctx, &cause)) == NULL) {
		alarm_fail(d, "input", cause);
		return;
	} else if (!json_is_object(d->input)) {
		xasprintf(&cause, "gave %s, expected an object",
		    alarm_json_kind(d->input));
		json_decref(d->input);
		d->input = NULL;
		alarm_fail(d, "input", cause);
		return;
	}

	if (t->limit_count > 0 && t->limit_by != NULL &&
	    (d->limit_by = alarm_eval_text(ex, t->limit_by, ctx, d,
	    "limit.by")) == NULL)
		return;

	d->verdict = ALARM_V_STARTED;
	xasprintf(&d->reason, "starts %s", d->workflow != NULL ?
	    d->workflow : "?");
}

/* Every listening trigger's verdict on one event. */
size_t
alarm_match(const struct alarm_triggers *ts, struct expr *ex,
    const struct alarm_event *ev, struct alarm_decision **out)
{
	struct alarm_decision	*v;
	struct expr_ctx		 ctx;
	json_t			*vars;
	size_t			 i, n = 0;

	*out = NULL;
	if (ts == NULL || ts->n == 0)
		return (0);
	v = xcalloc(ts->n, sizeof *v);
	vars = json_pack("{s:o}", "alert", alarm_event_json(ev));
	memset(&ctx, 0, sizeof ctx);
	ctx.vars = vars;
	for (i = 0; i < ts->n; i++) {
		if (!alarm_trigger_listens(ts, i, ev->source))
			continue;
		v[n].trigger = i;
		v[n].name = ts->v[i].name;
		alarm_decide(ex, &ts->v[i], ev, &ctx, &v[n]);
		n++;
	}
	json_decref(vars);
	if (n == 0) {
		free(v);
		return (0);
	}
	*out = v;
	return (n);
}

void
alarm_decisions_free(struct alarm_decision *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].workflow);
		free(v[i].cloud);
		json_decref(v[i].input);
		free(v[i].key);
		free(v[i].limit_by);
		free(v[i].reason);
	}
	free(v);
}

/* A decision as JSON. */
json_t *
alarm_decision_json(const struct alarm_decision *d)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}",
	    "trigger", d->name,
	    "verdict", alarm_verdict_name(d->verdict),
	    "workflow", alarm_json_str(d->workflow),
	    "input", d->input != NULL ? json_incref(d->input) : json_null(),
	    "key", alarm_json_str(d->key),
	    "reason", alarm_json_str(d->reason));
	if (d->verdict == ALARM_V_STARTED && d->limit_count > 0)
		json_object_set_new(o, "limit_by", alarm_json_str(d->limit_by));
	if (d->cloud != NULL)
		json_object_set_new(o, "cloud", json_string(d->cloud));
	return (o);
}

/* A template as its text: an expression as written, else JSON. */
static json_t *
alarm_tmpl_json(json_t *j)
{
	return (j != NULL ? json_incref(j) : json_null());
}

/*
 * Trigger i as JSON: {name, source, when, workflow, input, key,
 * once_within_ms, until_resolved, limit: {count, window_ms, by} or
 * null, on_resolved, description, file}.
 */
json_t *
alarm_trigger_json(const struct alarm_triggers *ts, size_t i)
{
	static const char *const on_resolved[] = { "ignore", "cancel",
	    "start" };
	const struct alarm_trig	*t;
	json_t			*src, *o;
	size_t			 j;

	if (i >= ts->n)
		return (NULL);
	t = &ts->v[i];
	src = json_array();
	for (j = 0; j < t->nsources; j++)
		json_array_append_new(src, json_string(t->sources[j]));
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:s, s:o, "
	    "s:o}", "name", t->name, "source", src,
	    "when", alarm_tmpl_json(t->when),
	    "workflow", alarm_json_str(t->workflow),
	    "input", alarm_tmpl_json(t->input),
	    "key", alarm_tmpl_json(t->key),
	    "once_within_ms", (json_int_t)t->once_within_ms,
	    "until_resolved", t->until_resolved,
	    "on_resolved", (size_t)t->on_resolved < nitems(on_resolved) ?
	    on_resolved[t->on_resolved] : "?",
	    "description", alarm_json_str(t->description),
	    "file", alarm_json_str(t->file));
	if (t->limit_count > 0)
		json_object_set_new(o, "limit", json_pack("{s:I, s:I, s:o}",
		    "count", (json_int_t)t->limit_count,
		    "window_ms", (json_int_t)t->limit_window_ms,
		    "by", alarm_tmpl_json(t->limit_by)));
	else
		json_object_set_new(o, "limit", json_null());
	return (o);
}
