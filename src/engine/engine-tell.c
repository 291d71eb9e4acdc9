/*
 * engine-tell.c -- what an execution's receivers are told: Mistral's
 * notify.  An execution's params.notify ([{type: webhook, url, headers,
 * event_types}], inherited by its sub-workflows) and borad's default
 * receivers (the notify option) name who hears of its moves; each move
 * that is one of Mistral's events (WORKFLOW_LAUNCHED, TASK_FAILED, ...)
 * becomes one outbox row per receiver, in the change set of the move,
 * so that it is delivered (engine-outbox.c) if and only if the move
 * happened.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "engine/engine-int.h"

#define TELL_MAX_TARGETS	16	/* receivers of one execution */
#define TELL_URL_MAX		2048

/* Mistral's events, in its order. */
static const char *const tell_events[] = {
	"WORKFLOW_LAUNCHED", "WORKFLOW_SUCCEEDED", "WORKFLOW_FAILED",
	"WORKFLOW_CANCELLED", "WORKFLOW_PAUSED", "WORKFLOW_RESUMED",
	"WORKFLOW_RERUN", "TASK_LAUNCHED", "TASK_SUCCEEDED", "TASK_FAILED",
	"TASK_CANCELLED", "TASK_PAUSED", "TASK_RESUMED", "TASK_RERUN"
};

/* Is name one of Mistral's events? */
static int
tell_event_known(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && i < nitems(tell_events); i++) {
		if (strcmp(tell_events[i], name) == 0)
			return (1);
	}
	return (0);
}

/* Say which event of which receiver is unknown, and the known ones. */
static void
tell_unknown_event(char **cause, size_t i, const char *list, size_t n)
{
	struct buf	 b;
	size_t		 k;

	buf_init(&b, 0);
	for (k = 0; k < nitems(tell_events); k++)
		buf_printf(&b, "%s%s", k == 0 ? "" : k + 1 ==
		    nitems(tell_events) ? " or " : ", ", tell_events[k]);
	xasprintf(cause, "notify[%zu].%s[%zu]: unknown event (expected %s)",
	    i, list, n, b.data);
	buf_free(&b);
}

/* Check one receiver; -1 + *cause naming it. */
static int
tell_check_one(json_t *t, size_t i, char **cause)
{
	const char	*type, *url, *k, *lists[] = { "event_types", "events" };
	json_t		*v, *h;
	size_t		 j, n;

	if (!json_is_object(t)) {
		xasprintf(cause, "notify[%zu]: expected an object", i);
		return (-1);
	}
	type = json_string_value(json_object_get(t, "type"));
	if (type == NULL)
		type = json_object_get(t, "url") != NULL ? "webhook" : NULL;
	if (type == NULL || (strcmp(type, "webhook") != 0 &&
	    strcmp(type, "noop") != 0)) {
		xasprintf(cause, "notify[%zu].type: expected webhook or noop",
		    i);
		return (-1);
	}
	if (strcmp(type, "noop") == 0)
		return (0);
	url = json_string_value(json_object_get(t, "url"));
	if (url == NULL || (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) || strlen(url) > TELL_URL_MAX ||
	    strpbrk(url, " \t\r\n") != NULL) {
		xasprintf(cause, "notify[%zu].url: expected an http:// or "
		    "https:// URL", i);
		return (-1);
	}
	h = json_object_get(t, "headers");
	if (h != NULL && !json_is_object(h)) {
		xasprintf(cause, "notify[%zu].headers: expected an object", i);
		return (-1);
	}
	json_object_foreach(h, k, v) {
		if (!json_is_string(v) || *k == '\0' ||
		    strpbrk(k, ": \t\r\n") != NULL ||
		    strpbrk(json_string_value(v), "\r\n") != NULL) {
			xasprintf(cause, "notify[%zu].headers.%s: expected a "
			    "header name and a one-line text", i, k);
			return (-1);
		}
	}
	for (j = 0; j < nitems(lists); j++) {
		v = json_object_get(t, lists[j]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_array(v)) {
			xasprintf(cause, "notify[%zu].%s: expected a list of "
			    "events", i, lists[j]);
			return (-1);
		}
		for (n = 0; n < json_array_size(v); n++) {
			if (!tell_event_known(json_string_value(
			    json_array_get(v, n)))) {
				tell_unknown_event(cause, i, lists[j], n);
				return (-1);
			}
		}
	}
	return (0);
}

/* See engine-int.h. */
int
engine_tell_check(json_t *notify, char **cause)
{
	json_t	*t;
	size_t	 i;

	if (notify == NULL || json_is_null(notify))
		return (0);
	if (!json_is_array(notify)) {
		xasprintf(cause, "notify: expected a list of receivers");
		return (-1);
	}
	if (json_array_size(notify) > TELL_MAX_TARGETS) {
		xasprintf(cause, "notify: at most %d receivers",
		    TELL_MAX_TARGETS);
		return (-1);
	}
	json_array_foreach(notify, i, t) {
		if (tell_check_one(t, i, cause) != 0)
			return (-1);
	}
	return (0);
}

/*
 * The next word of a spec at *p, in place: words are separated by
 * spaces, and single quotes keep spaces in one ('Bearer 9f2c').  NULL
 * at the end.
 */
static char *
tell_word(char **p)
{
	char	*w, *r, *out;
	int	 q = 0;

	w = *p + strspn(*p, " \t");
	if (*w == '\0')
		return (NULL);
	for (r = out = w; *r != '\0' && (q || (*r != ' ' && *r != '\t'));
	    r++) {
		if (*r == '\'')
			q = !q;
		else
			*out++ = *r;
	}
	*p = *r != '\0' ? r + 1 : r;
	*out = '\0';
	return (w);
}

/*
 * A default receiver from its spec in borad.conf, "URL
 * [events=EVENT,...] [header=NAME:VALUE]...", as params.notify writes
 * one.  NULL + *cause when it is wrong; no value of the spec is in it
 * (a header may be a credential).
 */
json_t *
engine_tell_parse(const char *spec, char **cause)
{
	json_t		*t, *h, *ev, *list;
	char		*copy, *p, *w, *e, *colon, *last, *why;

	copy = p = xstrdup(spec);
	t = json_object();
	h = json_object();
	ev = NULL;
	while ((w = tell_word(&p)) != NULL) {
		if (json_object_get(t, "url") == NULL) {
			json_object_set_new(t, "url", json_string(w));
		} else if (strncmp(w, "events=", 7) == 0) {
			if (ev == NULL)
				ev = json_array();
			for (e = strtok_r(w + 7, ",", &last); e != NULL;
			    e = strtok_r(NULL, ",", &last))
				json_array_append_new(ev, json_string(e));
		} else if (strncmp(w, "header=", 7) == 0 &&
		    (colon = strchr(w + 7, ':')) != NULL && colon > w + 7) {
			*colon++ = '\0';
			json_object_set_new(h, w + 7, json_string(colon));
		} else {
			xasprintf(cause, "unexpected '%.*s...' (expected URL "
			    "[events=EVENT,...] [header=NAME:VALUE]...)",
			    (int)strcspn(w, "=:"), w);
			goto fail;
		}
	}
	json_object_set_new(t, "type", json_string("webhook"));
	json_object_set_new(t, "headers", h);
	h = NULL;
	if (ev != NULL)
		json_object_set_new(t, "event_types", ev);
	ev = NULL;
	list = json_pack("[O]", t);
	if (engine_tell_check(list, &why) != 0) {
		/* "notify[0].url: ..." says "url: ...". */
		xasprintf(cause, "%s", why + (strncmp(why, "notify[0].",
		    10) == 0 ? 10 : 0));
		free(why);
		json_decref(list);
		goto fail;
	}
	json_decref(list);
	free(copy);
	return (t);
fail:
	json_decref(ev);
	json_decref(h);
	json_decref(t);
	free(copy);
	return (NULL);
}

/* See engine-int.h. */
json_t *
engine_tell_targets(struct engine *e, const struct store_exec *ex)
{
	json_t	*out, *n, *t;
	size_t	 i;

	out = json_array();
	n = ex != NULL ? json_object_get(ex->params, "notify") : NULL;
	json_array_foreach(n, i, t) {
		/* noop receivers have no URL. */
		if (json_string_value(json_object_get(t, "url")) != NULL)
			json_array_append(out, t);
	}
	json_array_foreach(e->notify_default, i, t)
		json_array_append(out, t);
	if (json_array_size(out) == 0) {
		json_decref(out);
		return (NULL);
	}
	return (out);
}

/* Does receiver t want event? */
static int
tell_wants(json_t *t, const char *event)
{
	json_t	*l, *v;
	size_t	 i;

	if ((l = json_object_get(t, "event_types")) == NULL ||
	    json_is_null(l))
		l = json_object_get(t, "events");
	if (l == NULL || json_is_null(l))
		return (1);
	json_array_foreach(l, i, v) {
		if (strcmp(json_string_value(v), event) == 0)
			return (1);
	}
	return (0);
}

/* A time as the API writes it, or null. */
static json_t *
tell_time(int64_t ms)
{
	char	 buf[32];

	if (ms <= 0)
		return (json_null());
	time_format(ms, buf);
	return (json_string(buf));
}

/* What Mistral posts about an execution or a task. */
static json_t *
tell_body(const struct store_exec *ex, const struct store_task *t,
    const char *event)
{
	const char	*proj;
	json_t		*o;

	proj = json_string_value(json_object_get(ex->params, "project_id"));
	if (proj == NULL)
		proj = MSG_PROJECT_DEFAULT;
	if (t == NULL)
		return (json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s?, s:s?, "
		    "s:s, s:s?, s:s?, s:o, s:o, s:s}", "id", ex->id, "name",
		    ex->workflow_name, "workflow_name", ex->workflow_name,
		    "workflow_namespace", "", "workflow_id",
		    ex->workflow_id[0] != '\0' ? ex->workflow_id : NULL,
		    "state", ex->state, "state_info", ex->state_info,
		    "project_id", proj, "task_execution_id",
		    ex->parent_task_id, "root_execution_id", ex->root_id,
		    "created_at", tell_time(ex->created_at), "updated_at",
		    tell_time(time_now_ms()), "event", event));
	o = json_pack("{s:s, s:s?, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:s?, "
	    "s:s, s:s?, s:o, s:o, s:o, s:o, s:s}", "id", t->id, "name",
	    t->name, "workflow_execution_id", ex->id, "workflow_name",
	    ex->workflow_name, "workflow_namespace", "", "workflow_id",
	    ex->workflow_id[0] != '\0' ? ex->workflow_id : NULL, "state",
	    t->state, "state_info", t->state_info, "type", t->type,
	    "project_id", proj, "root_execution_id", ex->root_id,
	    "created_at", tell_time(t->created_at), "updated_at",
	    tell_time(time_now_ms()), "started_at", tell_time(t->started_at),
	    "finished_at", tell_time(t->finished_at), "event", event);
	return (o);
}

/* See engine-int.h. */
int
engine_tell_add(struct store_tx *tx, json_t *targets,
    const struct store_exec *ex, const struct store_task *t,
    const char *event)
{
	struct store_outbox	 o;
	json_t			*r, *h;
	size_t			 i;
	int			 n = 0;

	json_array_foreach(targets, i, r) {
		if (!tell_wants(r, event))
			continue;
		memset(&o, 0, sizeof o);
		uuid_make(o.id);
		memcpy(o.execution_id, ex->id, UUID_STRLEN);
		o.event = (char *)event;
		o.target = (char *)json_string_value(json_object_get(r, "url"));
		h = json_object_get(r, "headers");
		o.headers = h != NULL ? json_incref(h) : json_object();
		o.body = tell_body(ex, t, event);
		o.state = (char *)ST_PENDING;
		store_tx_insert(tx, &store_outbox_table, &o);
		json_decref(o.headers);
		json_decref(o.body);
		n++;
	}
	return (n);
}

/* The event of an execution's move, or NULL. */
static const char *
tell_exec_event(enum store_state from, enum store_state to)
{
	switch (to) {
	case STATE_RUNNING:
		if (from == STATE_PAUSED)
			return ("WORKFLOW_RESUMED");
		return (STATE_FINAL(from) ? "WORKFLOW_RERUN" :
		    "WORKFLOW_LAUNCHED");
	case STATE_PAUSED:
		return ("WORKFLOW_PAUSED");
	case STATE_SUCCESS:
		return ("WORKFLOW_SUCCEEDED");
	case STATE_ERROR:
		return ("WORKFLOW_FAILED");
	case STATE_CANCELLED:
		return ("WORKFLOW_CANCELLED");
	default:
		return (NULL);
	}
}

/*
 * The event of a task's move, or NULL; started says it ran before
 * (retries and waits that come back to RUNNING are no event).
 */
static const char *
tell_task_event(enum store_state from, enum store_state to, int started)
{
	switch (to) {
	case STATE_RUNNING:
		if (from == STATE_ERROR)
			return ("TASK_RERUN");
		if (!started)
			return ("TASK_LAUNCHED");
		return (from == STATE_IDLE ? "TASK_RESUMED" : NULL);
	case STATE_IDLE:
		return (from == STATE_NONE ? NULL : "TASK_PAUSED");
	case STATE_SUCCESS:
		return ("TASK_SUCCEEDED");
	case STATE_ERROR:
		return (from == STATE_ERROR ? NULL : "TASK_FAILED");
	case STATE_CANCELLED:
		return ("TASK_CANCELLED");
	default:
		return (NULL);
	}
}

/* See engine-int.h. */
void
engine_tell_exec(struct exec_rt *rt, enum store_state from,
    enum store_state to, struct step *s)
{
	const char	*ev;

	if (rt->notify == NULL || (ev = tell_exec_event(from, to)) == NULL)
		return;
	if (engine_tell_add(s->tx, rt->notify, rt->row, NULL, ev) > 0)
		s->notified = 1;
}

/* See engine-int.h. */
void
engine_tell_task(struct task_rt *t, enum store_state from,
    enum store_state to, int started, struct step *s)
{
	struct exec_rt	*rt = t->exec;
	const char	*ev;

	if (rt == NULL || rt->notify == NULL ||
	    (ev = tell_task_event(from, to, started)) == NULL)
		return;
	if (engine_tell_add(s->tx, rt->notify, rt->row, t->row, ev) > 0)
		s->notified = 1;
}

/* See engine-int.h. */
int
engine_tell_row(struct engine *e, struct store_tx *tx,
    const struct store_exec *ex, enum store_state from, enum store_state to)
{
	json_t		*targets;
	const char	*ev;
	int		 n = 0;

	if ((ev = tell_exec_event(from, to)) == NULL ||
	    (targets = engine_tell_targets(e, ex)) == NULL)
		return (0);
	n = engine_tell_add(tx, targets, ex, NULL, ev);
	json_decref(targets);
	return (n);
}
