/*
 * alarms.c -- the table of alarm sources and the common path of every
 * payload: limits (size, nesting, number of alerts), JSON decoding,
 * the adapter of the source, and the normalized events it makes.
 *
 * Nesting is checked on the raw text before decoding, so a 10,000-deep
 * body costs one pass and no recursion.  jansson refuses invalid UTF-8,
 * NUL characters and duplicate keys.  Every error names where it is, as
 * a JSON path ("$.alerts[3].labels.severity"), and quotes at most a few
 * characters of what was sent.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarms/alarms-int.h"

#define ALARM_SHOW_MAX	40	/* characters of a value in a message */

/* Every source; a new one is one adapter file and one row here. */
const struct alarm_source *const alarm_sources[] = {
	&alarm_source_alertmanager,
	&alarm_source_aodh,
	&alarm_source_vitrage,
	&alarm_source_grafana,
	&alarm_source_zabbix,
	&alarm_source_generic,
	NULL
};

static const char *const alarm_status_names[] = { "firing", "resolved" };
static const char *const alarm_res_kind_names[] = {
	"host", "instance", "other"
};

/* ---- the table -------------------------------------------------------- */

/* A source by name, or NULL. */
const struct alarm_source *
alarm_source_find(const char *name)
{
	size_t	i;

	for (i = 0; alarm_sources[i] != NULL; i++) {
		if (strcmp(alarm_sources[i]->name, name) == 0)
			return (alarm_sources[i]);
	}
	return (NULL);
}

/* 1 if a source has that name. */
int
alarm_source_exists(const char *name)
{
	return (alarm_source_find(name) != NULL);
}

/* Number of sources. */
size_t
alarm_source_count(void)
{
	return (nitems(alarm_sources) - 1);
}

/* Name of source i in table order, or NULL. */
const char *
alarm_source_name(size_t i)
{
	return (i < alarm_source_count() ? alarm_sources[i]->name : NULL);
}

/* Route of source i, or NULL. */
const char *
alarm_source_route(size_t i)
{
	return (i < alarm_source_count() ? alarm_sources[i]->route : NULL);
}

/* The name of the source whose route is path, or NULL. */
const char *
alarm_source_at(const char *path)
{
	size_t	i;

	for (i = 0; alarm_sources[i] != NULL; i++) {
		if (strcmp(alarm_sources[i]->route, path) == 0)
			return (alarm_sources[i]->name);
	}
	return (NULL);
}

/* The default answer: 202 {alarm_id, events} for a stored valid alarm. */
static json_t *
alarm_answer_default(const struct alarm_outcome *o, unsigned *status)
{
	json_t	*body;

	if (o->rc != ALARM_OK || o->alarm_id == NULL)
		return (NULL);
	*status = 202;
	body = json_pack("{s:s, s:o}", "alarm_id", o->alarm_id, "events",
	    o->events != NULL ? json_incref(o->events) : json_array());
	if (o->pending) {
		json_object_set_new(body, "pending", json_true());
		json_object_set_new(body, "message", json_string("the alarm "
		    "is stored; its decisions are made as soon as the store "
		    "allows (GET /v1/alarms/ID)"));
	}
	return (body);
}

/* The answer to a request (see alarms.h). */
json_t *
alarm_answer(const struct alarm_outcome *o, unsigned *status)
{
	const struct alarm_source	*src;

	src = o->source != NULL ? alarm_source_find(o->source) : NULL;
	if (src != NULL && src->answer != NULL)
		return (src->answer(o, status));
	return (alarm_answer_default(o, status));
}

/* Resolver callback for trigger validation. */
int
alarm_source_check(void *arg, const char *name, char **cause)
{
	const char	*names[nitems(alarm_sources)];
	const char	*near;
	struct buf	 b;
	size_t		 i, n = alarm_source_count();

	(void)arg;
	if (alarm_source_exists(name))
		return (0);
	for (i = 0; i < n; i++)
		names[i] = alarm_sources[i]->name;
	buf_init(&b, 0);
	buf_printf(&b, "unknown alarm source '%s'", name);
	if ((near = lib_closest(name, names, n)) != NULL)
		buf_printf(&b, " (did you mean '%s'?)", near);
	else {
		buf_puts(&b, " (expected ");
		for (i = 0; i < n; i++)
			buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ?
			    " or " : ", ", names[i]);
		buf_puts(&b, ")");
	}
	*cause = buf_take(&b);
	return (-1);
}

const char *
alarm_status_name(enum alarm_status st)
{
	return ((size_t)st < nitems(alarm_status_names) ?
	    alarm_status_names[st] : "?");
}

const char *
alarm_res_kind_name(enum alarm_res_kind k)
{
	return ((size_t)k < nitems(alarm_res_kind_names) ?
	    alarm_res_kind_names[k] : "?");
}

/* A header's value; names compare without case. */
const char *
alarm_header_find(const struct alarm_request *req, const char *name)
{
	size_t	i;

	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name != NULL &&
		    strcasecmp(req->headers[i].name, name) == 0)
			return (req->headers[i].value);
	}
	return (NULL);
}

/* ---- errors and values ------------------------------------------------ */

/* Record the first error of a parse. */
static int
alarm_vperr(struct alarm_pctx *ctx, enum alarm_rc rc, const char *path,
    const char *fmt, va_list ap)
{
	char	*msg;

	if (ctx->cause != NULL)
		return (-1);
	xvasprintf(&msg, fmt, ap);
	if (path != NULL)
		xasprintf(&ctx->cause, "%s: %s", path, msg);
	else
		ctx->cause = xstrdup(msg);
	free(msg);
	ctx->rc = rc;
	return (-1);
}

int
alarm_perr(struct alarm_pctx *ctx, const char *path, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	alarm_vperr(ctx, ALARM_INVALID, path, fmt, ap);
	va_end(ap);
	return (-1);
}

int
alarm_perr_large(struct alarm_pctx *ctx, const char *path, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	alarm_vperr(ctx, ALARM_TOO_LARGE, path, fmt, ap);
	va_end(ap);
	return (-1);
}

/* The kind of a JSON value, with its article. */
const char *
alarm_json_kind(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return ("an object");
	case JSON_ARRAY:
		return ("an array");
	case JSON_STRING:
		return ("a string");
	case JSON_INTEGER:
		return ("an integer");
	case JSON_REAL:
		return ("a number");
	case JSON_TRUE:
	case JSON_FALSE:
		return ("a boolean");
	case JSON_NULL:
		return ("null");
	}
	return ("?");
}

/* JSON text of a value, cut after ALARM_SHOW_MAX characters. */
char *
alarm_json_show(json_t *v)
{
	char	*s, *out;
	size_t	 i, n;

	if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		return (xstrdup("?"));
	/* Count characters, not bytes: never cut inside one. */
	for (i = 0, n = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 &&
		    ++n > ALARM_SHOW_MAX)
			break;
	}
	if (s[i] == '\0')
		return (s);
	out = xmalloc(i + 4);
	memcpy(out, s, i);
	memcpy(out + i, "...", 4);
	free(s);
	return (out);
}

/* Report an error at "path.key". */
static int
alarm_perr_key(struct alarm_pctx *ctx, const char *path, const char *key,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	xasprintf(&p, "%s.%s", path, key);
	va_start(ap, fmt);
	alarm_vperr(ctx, ALARM_INVALID, p, fmt, ap);
	va_end(ap);
	free(p);
	return (-1);
}

/*
 * Member key of obj, of JSON type t (want names it): *out borrowed, or
 * NULL when absent or null and not required.  0, or -1 reported.
 */
static int
alarm_member(struct alarm_pctx *ctx, json_t *obj, const char *path,
    const char *key, int flags, json_type t, const char *want, json_t **out)
{
	json_t	*v;

	*out = NULL;
	v = json_object_get(obj, key);
	if (v == NULL && (flags & ALARM_REQUIRED))
		return (alarm_perr_key(ctx, path, key, "missing"));
	if (v == NULL || json_is_null(v)) {
		if (!(flags & ALARM_REQUIRED))
			return (0);
		return (alarm_perr_key(ctx, path, key, "expected %s, got null",
		    want));
	}
	if (json_typeof(v) != t)
		return (alarm_perr_key(ctx, path, key, "expected %s, got %s",
		    want, alarm_json_kind(v)));
	*out = v;
	return (0);
}

/* Member key of obj as a string. */
int
alarm_get_str(struct alarm_pctx *ctx, json_t *obj, const char *path,
    const char *key, int flags, const char **out)
{
	json_t	*v;

	*out = NULL;
	if (alarm_member(ctx, obj, path, key, flags, JSON_STRING, "a string",
	    &v) != 0)
		return (-1);
	if (v == NULL)
		return (0);
	if ((flags & ALARM_NONEMPTY) && json_string_length(v) == 0)
		return (alarm_perr_key(ctx, path, key, "expected a non-empty "
		    "string"));
	*out = json_string_value(v);
	return (0);
}

/* Member key of obj as an object. */
int
alarm_get_obj(struct alarm_pctx *ctx, json_t *obj, const char *path,
    const char *key, int flags, json_t **out)
{
	return (alarm_member(ctx, obj, path, key, flags, JSON_OBJECT,
	    "an object", out));
}

/* 1 if a map key may follow a dot in a path. */
static int
alarm_key_plain(const char *k)
{
	size_t	n;

	for (n = 0; k[n] != '\0'; n++) {
		if (!isalnum((unsigned char)k[n]) && k[n] != '_' &&
		    k[n] != '-')
			return (0);
	}
	return (n > 0 && n <= ALARM_SHOW_MAX);
}

/* Member key of obj as an object of strings, added to dst. */
int
alarm_get_strmap(struct alarm_pctx *ctx, json_t *obj, const char *path,
    const char *key, json_t *dst)
{
	json_t		*m, *v;
	const char	*k;
	char		*p, *shown, *text;
	json_t		*kj;

	if (alarm_get_obj(ctx, obj, path, key, 0, &m) != 0 || m == NULL)
		return (ctx->cause != NULL ? -1 : 0);
	json_object_foreach(m, k, v) {
		if (json_is_string(v)) {
			json_object_set(dst, k, v);
			continue;
		}
		if (json_is_number(v) || json_is_boolean(v)) {
			text = json_dumps(v, JSON_ENCODE_ANY);
			json_object_set_new(dst, k, json_string(text));
			free(text);
			continue;
		}
		if (alarm_key_plain(k))
			xasprintf(&p, "%s.%s.%s", path, key, k);
		else {
			kj = json_string(k);
			shown = alarm_json_show(kj);
			json_decref(kj);
			xasprintf(&p, "%s.%s[%s]", path, key, shown);
			free(shown);
		}
		alarm_perr(ctx, p, "expected a string, got %s",
		    alarm_json_kind(v));
		free(p);
		return (-1);
	}
	return (0);
}

/* ---- events ----------------------------------------------------------- */

char *
alarm_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

char *
alarm_lower(const char *s)
{
	char	*d, *p;

	if (s == NULL)
		return (NULL);
	d = xstrdup(s);
	for (p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return (d);
}

/* A new, empty event at the end of the batch. */
struct alarm_event *
alarm_event_add(struct alarm_pctx *ctx, const char *path)
{
	struct alarm_batch	*b = ctx->batch;
	struct alarm_event	*ev;

	if (b->n >= ctx->lim.max_events) {
		alarm_perr_large(ctx, path, "more than %zu alerts in one "
		    "message (limit alarm-max-events)", ctx->lim.max_events);
		return (NULL);
	}
	b->v = xreallocarray(b->v, b->n + 1, sizeof *b->v);
	ev = &b->v[b->n++];
	memset(ev, 0, sizeof *ev);
	ev->source = ctx->src->name;
	ev->labels = json_object();
	ev->annotations = json_object();
	return (ev);
}

/* Set the key of an event. */
int
alarm_event_key(struct alarm_pctx *ctx, struct alarm_event *ev,
    const char *path, const char *key)
{
	if (key == NULL || *key == '\0')
		return (alarm_perr(ctx, path, "an empty key"));
	if (strlen(key) > ALARM_KEY_MAX)
		return (alarm_perr(ctx, path, "a key of more than %d bytes",
		    ALARM_KEY_MAX));
	free(ev->key);
	ev->key = xstrdup(key);
	return (0);
}

/* Free one event's contents. */
static void
alarm_event_clear(struct alarm_event *ev)
{
	free(ev->key);
	free(ev->name);
	free(ev->severity);
	free(ev->res_id);
	free(ev->res_host);
	free(ev->starts_at);
	json_decref(ev->labels);
	json_decref(ev->annotations);
	json_decref(ev->raw);
}

void
alarm_batch_free(struct alarm_batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		alarm_event_clear(&b->v[i]);
	free(b->v);
	free(b);
}

/* A string or null. */
json_t *
alarm_json_str(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

/* The event as triggers see it. */
json_t *
alarm_event_json(const struct alarm_event *ev)
{
	return (json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:s, s:o, s:o}, "
	    "s:O, s:O, s:o, s:O}",
	    "source", ev->source,
	    "key", ev->key,
	    "status", alarm_status_name(ev->status),
	    "name", alarm_json_str(ev->name),
	    "severity", alarm_json_str(ev->severity),
	    "resource",
		"kind", alarm_res_kind_name(ev->res_kind),
		"id", alarm_json_str(ev->res_id),
		"host", alarm_json_str(ev->res_host),
	    "labels", ev->labels,
	    "annotations", ev->annotations,
	    "starts_at", alarm_json_str(ev->starts_at),
	    "raw", ev->raw != NULL ? ev->raw : json_null()));
}

/* ---- parsing ---------------------------------------------------------- */

/*
 * Check the nesting of JSON text without decoding it: brackets outside
 * strings.  -1 with the byte offset where the limit is passed.
 */
static int
alarm_depth_check(const char *s, size_t len, int max, size_t *at)
{
	size_t	i;
	int	depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > max) {
				*at = i;
				return (-1);
			}
			break;
		case ']':
		case '}':
			depth--;
			break;
		}
	}
	return (0);
}

/* Turn a payload into events. */
enum alarm_rc
alarm_parse(const char *source, const struct alarm_request *req,
    const struct alarm_limits *lim, struct alarm_batch **out, char **cause)
{
	struct alarm_pctx	 ctx;
	json_error_t		 jerr;
	json_t			*body = NULL;
	size_t			 at;
	enum alarm_rc		 rc;

	*out = NULL;
	*cause = NULL;
	memset(&ctx, 0, sizeof ctx);
	ctx.req = req;
	ctx.lim.max_body = ALARM_DEFAULT_MAX_BODY;
	ctx.lim.max_depth = ALARM_DEFAULT_MAX_DEPTH;
	ctx.lim.max_events = ALARM_DEFAULT_MAX_EVENTS;
	if (lim != NULL && lim->max_body != 0)
		ctx.lim.max_body = lim->max_body;
	if (lim != NULL && lim->max_depth != 0)
		ctx.lim.max_depth = lim->max_depth;
	if (lim != NULL && lim->max_events != 0)
		ctx.lim.max_events = lim->max_events;

	if ((ctx.src = alarm_source_find(source)) == NULL) {
		alarm_source_check(NULL, source, cause);
		return (ALARM_NO_SOURCE);
	}
	if (req->len > ctx.lim.max_body) {
		xasprintf(cause, "body is %zu bytes, more than %zu (limit "
		    "http-max-body)", req->len, ctx.lim.max_body);
		return (ALARM_TOO_LARGE);
	}
	if (req->body == NULL || req->len == 0) {
		*cause = xstrdup("empty body (expected a JSON object)");
		return (ALARM_INVALID);
	}
	if (alarm_depth_check(req->body, req->len, ctx.lim.max_depth,
	    &at) != 0) {
		xasprintf(cause, "JSON nested deeper than %d levels at byte "
		    "%zu (limit alarm-max-depth)", ctx.lim.max_depth, at);
		return (ALARM_INVALID);
	}
	body = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL) {
		xasprintf(cause, "invalid JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return (ALARM_INVALID);
	}

	ctx.batch = xcalloc(1, sizeof *ctx.batch);
	ctx.batch->source = ctx.src->name;
	if (ctx.src->parse(&ctx, body) != 0 || ctx.cause != NULL) {
		if (ctx.cause == NULL)
			alarm_perr(&ctx, "$", "not understood");
		goto fail;
	}
	if (ctx.batch->n == 0) {
		alarm_perr(&ctx, "$", "no alert in the message");
		goto fail;
	}
	json_decref(body);
	*out = ctx.batch;
	return (ALARM_OK);

fail:
	json_decref(body);
	alarm_batch_free(ctx.batch);
	rc = ctx.rc;
	*cause = ctx.cause;
	return (rc);
}
