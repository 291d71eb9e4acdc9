/*
 * api-json.c -- answers, errors and Mistral's wire habits in one place:
 * store_rc to HTTP status, {"faultcode","faultstring","debuginfo"}
 * bodies, JSON-in-string fields, "YYYY-MM-DD HH:MM:SS" times, and list
 * queries (filters, sort, marker paging, field projection).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "api/api-int.h"

/* Query keys that are not filters; bora has one project. */
static const char *const api_list_ignored[] = {
	"limit", "marker", "sort_keys", "sort_dirs", "fields", "nulls",
	"include_output", "all_projects", "project_id", "skip_validation",
	"force",
	"errors_only", "max_depth", "statistics_only", "tags"
};

static const char *const api_ops[] = {
	"eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "has"
};

/* Answer with a JSON body (stolen). */
void
api_reply(struct api_req *req, unsigned status, json_t *body)
{
	json_decref(req->out);
	free(req->text);
	req->text = NULL;
	req->out = body;
	req->status = status;
}

/* Answer with a text body (stolen). */
void
api_reply_text(struct api_req *req, unsigned status, const char *ctype,
    char *text)
{
	json_decref(req->out);
	req->out = NULL;
	free(req->text);
	req->text = text;
	req->content_type = ctype;
	req->status = status;
}

/* Answer with Mistral's error body. */
void
api_error(struct api_req *req, unsigned status, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	api_reply(req, status, json_pack("{s:s, s:s, s:n}",
	    "faultcode", status >= 500 ? "Server" : "Client",
	    "faultstring", msg, "debuginfo"));
	free(msg);
}

/*
 * The one mapping from store results to HTTP.  input_checked says the
 * operation validated caller input, so STORE_ERROR is the caller's
 * fault (400) rather than the server's (500).
 */
unsigned
api_rc_status(enum store_rc rc, int input_checked)
{
	switch (rc) {
	case STORE_OK:
		return (200);
	case STORE_NOTFOUND:
		return (404);
	case STORE_CONFLICT:
		return (409);
	case STORE_UNAVAILABLE:
		return (503);
	case STORE_ERROR:
		break;
	}
	return (input_checked ? 400 : 500);
}

/*
 * Headers that go with a status: Allow on 405, WWW-Authenticate on 401,
 * and Retry-After on 503 (the store is unreachable; its connections
 * retry with a backoff of up to API_RETRY_AFTER seconds).
 */
void
api_status_headers(struct api_req *req, struct MHD_Response *resp)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(req->headers, k, v)
		MHD_add_response_header(resp, k, json_string_value(v));
	if (req->allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    req->allow);
	switch (req->status) {
	case 401:
		MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, req->challenge != NULL ?
		    req->challenge : "Bearer");
		break;
	case 503:
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    API_RETRY_AFTER);
		break;
	}
}

/* One more header of the answer (a later one of that name replaces it). */
void
api_header(struct api_req *req, const char *name, const char *value)
{
	if (req->headers == NULL)
		req->headers = json_object();
	json_object_set_new(req->headers, name, json_string(value));
}

/* Answer with the error for rc about "what" (e.g. "Execution [id=x]"). */
void
api_store_error(struct api_req *req, enum store_rc rc, int input_checked,
    const char *what, const char *cause)
{
	unsigned	 status = api_rc_status(rc, input_checked);
	const char	*br;

	switch (status) {
	case 404:
		/* A cause that says what is not found says it all. */
		if (cause != NULL && strstr(cause, " not found") != NULL) {
			api_error(req, status, "%s", cause);
			break;
		}
		/* "WorkflowExecution [id=x]": "... not found [id=x]". */
		br = strstr(what, " [");
		api_error(req, status, "%.*s not found%s%s%s",
		    br != NULL ? (int)(br - what) : (int)strlen(what), what,
		    br != NULL ? br : "", cause != NULL ? ": " : "",
		    cause != NULL ? cause : "");
		break;
	case 409:
		api_error(req, status, "%s%s%s", cause != NULL ? cause :
		    "Conflict on ", cause != NULL ? "" : what,
		    cause != NULL ? "" : ": it exists or changed meanwhile");
		break;
	case 503:
		api_error(req, status, "Store unavailable%s%s",
		    cause != NULL ? ": " : "", cause != NULL ? cause : "");
		break;
	default:
		api_error(req, status, "%s%s%s", what,
		    cause != NULL ? ": " : "",
		    cause != NULL ? cause : "error");
		break;
	}
}

/* A JSON value as a JSON string (Mistral's jsontype fields). */
json_t *
api_jstr(const json_t *v, const char *empty)
{
	char	*s;
	json_t	*out;

	if (v == NULL)
		return (empty != NULL ? json_string(empty) : json_null());
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (s == NULL)
		return (json_null());
	out = json_string(s);
	free(s);
	return (out != NULL ? out : json_null());
}

/* "YYYY-MM-DD HH:MM:SS", or null for 0. */
json_t *
api_time(int64_t ms)
{
	char	buf[32];

	if (ms <= 0)
		return (json_null());
	time_format(ms, buf);
	return (json_string(buf));
}

json_t *
api_strornull(const char *s)
{
	json_t	*v;

	if (s == NULL || (v = json_string(s)) == NULL)
		return (json_null());
	return (v);
}

/* States on the wire: the store's RUNNING_DELAYED is Mistral's DELAYED. */
const char *
api_state_out(const char *st)
{
	if (st != NULL && strcmp(st, ST_DELAYED) == 0)
		return ("DELAYED");
	return (st);
}

const char *
api_state_in(const char *st)
{
	if (st != NULL && strcmp(st, "DELAYED") == 0)
		return (ST_DELAYED);
	return (st);
}

/*
 * A JSON argument that may come as an object or as a JSON string (the
 * client sends input and params both ways).  *out is NULL for null or
 * an empty string.
 */
int
api_json_value(const json_t *v, json_t **out, char **cause)
{
	json_error_t	 err;
	const char	*s;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v)) {
		*out = json_incref((json_t *)v);
		return (0);
	}
	s = json_string_value(v);
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return (0);
	if ((*out = json_loads(s, JSON_DECODE_ANY, &err)) == NULL) {
		xasprintf(cause, "not JSON at line %d, column %d: %s",
		    err.line, err.column, err.text);
		return (-1);
	}
	return (0);
}

/* A query argument (decoded), or NULL. */
const char *
api_query(struct api_req *req, const char *key)
{
	return (MHD_lookup_connection_value(req->conn,
	    MHD_GET_ARGUMENT_KIND, key));
}

/* A boolean query argument: true, 1, yes. */
int
api_query_bool(struct api_req *req, const char *key)
{
	const char	*v = api_query(req, key);

	if (v == NULL)
		return (0);
	return (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0 || *v == '\0');
}

/* "http://HOST" from the Host header, else from the listen address. */
char *
api_base_url(struct api_req *req)
{
	const char	*host;
	char		*url;

	host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	if (host == NULL || *host == '\0' || strpbrk(host, " /\"<>") != NULL)
		xasprintf(&url, "http://127.0.0.1:%d", req->api->port);
	else
		xasprintf(&url, "http://%s", host);
	return (url);
}

/* The text body as a string value (definitions). */
json_t *
api_body_str(struct api_req *req)
{
	return (json_stringn(req->body.data != NULL ? req->body.data : "",
	    req->body.len));
}

/* ---- list queries ------------------------------------------------ */

struct api_list_ctx {
	struct api_list		*l;
	const struct api_field	*map;
	char			*err;
};

static const struct api_field *
api_field_find(const struct api_field *map, const char *name)
{
	for (; map->name != NULL; map++) {
		if (strcmp(map->name, name) == 0)
			return (map);
	}
	return (NULL);
}

static char *
api_list_own(struct api_list *l, char *s)
{
	l->owned = xreallocarray(l->owned, l->nowned + 1, sizeof *l->owned);
	l->owned[l->nowned++] = s;
	return (s);
}

/* Add a filter "field=[op:]value" to the list. */
static int
api_list_filter(struct api_list *l, const struct api_field *map,
    const char *key, const char *value, char **cause)
{
	const struct api_field	*f;
	struct store_filter	*sf;
	const char		*op = "eq", *colon, *cands[64];
	char			*v, *t;
	size_t			 i, n;

	if ((f = api_field_find(map, key)) == NULL || f->column == NULL) {
		for (n = 0; map[n].name != NULL && n < nitems(cands); n++)
			cands[n] = map[n].name;
		colon = lib_closest(key, cands, n);
		xasprintf(cause, "Unknown filter field '%s'%s%s%s", key,
		    colon != NULL ? " (did you mean '" : "",
		    colon != NULL ? colon : "", colon != NULL ? "'?)" : "");
		return (-1);
	}
	if ((colon = strchr(value, ':')) != NULL) {
		for (i = 0; i < nitems(api_ops); i++) {
			if (strlen(api_ops[i]) == (size_t)(colon - value) &&
			    strncmp(value, api_ops[i], (size_t)(colon - value))
			    == 0) {
				op = api_ops[i];
				value = colon + 1;
				break;
			}
		}
	}
	v = xstrdup(value);
	if (strcmp(key, "state") == 0) {
		t = xstrdup(api_state_in(v));
		free(v);
		v = t;
	}
	l->filters = xreallocarray(l->filters, l->nfilters + 1,
	    sizeof *l->filters);
	sf = &l->filters[l->nfilters++];
	sf->field = f->column;
	sf->op = op;
	sf->value = api_list_own(l, v);
	return (0);
}

/* Split a csv into owned strings. */
static size_t
api_csv(struct api_list *l, const char *s, char ***out)
{
	char	*copy, *tok, *save;
	size_t	 n = 0;

	*out = NULL;
	if (s == NULL)
		return (0);
	copy = xstrdup(s);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		if (*tok == '\0')
			continue;
		*out = xreallocarray(*out, n + 1, sizeof **out);
		(*out)[n++] = api_list_own(l, xstrdup(tok));
	}
	free(copy);
	return (n);
}

/* Collect filters from every query argument. */
static enum MHD_Result
api_list_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct api_list_ctx	*c = cls;
	size_t			 i;

	if (c->err != NULL)
		return (MHD_YES);
	for (i = 0; i < nitems(api_list_ignored); i++) {
		if (strcmp(key, api_list_ignored[i]) == 0)
			return (MHD_YES);
	}
	api_list_filter(c->l, c->map, key, value != NULL ? value : "",
	    &c->err);
	return (MHD_YES);
}

/*
 * Read limit, marker, sort_keys, sort_dirs, fields, nulls and filters
 * into l (and l->q for the store).  default_dir is "asc" or "desc".
 */
int
api_list_parse(struct api_req *req, const struct api_field *map,
    const char *default_dir, struct api_list *l, char **cause)
{
	struct api_list_ctx	 c;
	const struct api_field	*f;
	const char		*s;
	char			**dirs = NULL, **nulls = NULL, *end;
	size_t			 ndirs, nnulls, i;
	long long		 n;
	struct store_filter	*sf;

	memset(l, 0, sizeof *l);
	*cause = NULL;
	c.l = l;
	c.map = map;
	c.err = NULL;
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
	    api_list_arg, &c);
	if (c.err != NULL) {
		*cause = c.err;
		goto fail;
	}
	nnulls = api_csv(l, api_query(req, "nulls"), &nulls);
	for (i = 0; i < nnulls; i++) {
		if ((f = api_field_find(map, nulls[i])) == NULL ||
		    f->column == NULL) {
			xasprintf(cause, "Unknown field in nulls: '%s'",
			    nulls[i]);
			goto fail;
		}
		l->filters = xreallocarray(l->filters, l->nfilters + 1,
		    sizeof *l->filters);
		sf = &l->filters[l->nfilters++];
		sf->field = f->column;
		sf->op = "eq";
		sf->value = NULL;
	}
	free(nulls);
	nulls = NULL;

	if ((s = api_query(req, "limit")) != NULL && *s != '\0') {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0) {
			xasprintf(cause, "limit must be a number >= 0, not "
			    "'%s'", s);
			goto fail;
		}
		l->limit = (size_t)n;
	}
	if ((s = api_query(req, "marker")) != NULL && *s != '\0')
		l->marker = api_list_own(l, xstrdup(s));

	l->nkeys = api_csv(l, api_query(req, "sort_keys"), &l->keys);
	if (l->nkeys == 0) {
		l->keys = xcalloc(1, sizeof *l->keys);
		l->keys[0] = api_list_own(l, xstrdup("created_at"));
		l->nkeys = 1;
	}
	ndirs = api_csv(l, api_query(req, "sort_dirs"), &dirs);
	l->desc = xcalloc(l->nkeys, sizeof *l->desc);
	l->keys_c = xcalloc(l->nkeys, sizeof *l->keys_c);
	for (i = 0; i < l->nkeys; i++) {
		f = api_field_find(map, l->keys[i]);
		if (f == NULL || f->column == NULL) {
			xasprintf(cause, "Unknown sort key '%s'", l->keys[i]);
			goto fail;
		}
		l->keys_c[i] = f->column;
		s = i < ndirs ? dirs[i] : (ndirs > 0 ? dirs[ndirs - 1] :
		    default_dir);
		if (strcmp(s, "asc") != 0 && strcmp(s, "desc") != 0) {
			xasprintf(cause, "sort_dirs: '%s' is neither asc nor "
			    "desc", s);
			goto fail;
		}
		l->desc[i] = strcmp(s, "desc") == 0;
	}
	free(dirs);
	dirs = NULL;

	l->nfields = api_csv(l, api_query(req, "fields"), &l->fields);
	l->q.filters = l->filters;
	l->q.nfilters = l->nfilters;
	l->q.sort_keys = l->keys_c;
	l->q.sort_desc = l->desc;
	l->q.nsort = l->nkeys;
	l->q.marker = l->marker;
	l->q.limit = l->limit;
	return (0);
fail:
	free(dirs);
	free(nulls);
	api_list_free(l);
	return (-1);
}

void
api_list_free(struct api_list *l)
{
	size_t	i;

	for (i = 0; i < l->nowned; i++)
		free(l->owned[i]);
	free(l->owned);
	free(l->filters);
	free(l->keys);
	free(l->keys_c);
	free(l->desc);
	free(l->fields);
	memset(l, 0, sizeof *l);
}

/* Keep only the requested fields (and id, as Mistral does). */
void
api_list_project(const struct api_list *l, json_t *obj)
{
	const char	*key;
	json_t		*v;
	void		*tmp;
	size_t		 i;

	if (l->nfields == 0 || !json_is_object(obj))
		return;
	json_object_foreach_safe(obj, tmp, key, v) {
		if (strcmp(key, "id") == 0)
			continue;
		for (i = 0; i < l->nfields; i++) {
			if (strcmp(key, l->fields[i]) == 0)
				break;
		}
		if (i == l->nfields)
			json_object_del(obj, key);
	}
}

/* URL-encode a query value. */
static char *
api_urlenc(const char *s)
{
	struct buf	 b;

	buf_init(&b, 0);
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("-_.~,:", *s))
			buf_add(&b, s, 1);
		else
			buf_printf(&b, "%%%02X", (unsigned char)*s);
	}
	buf_add(&b, "", 0);
	return (buf_take(&b));
}

/* Add a query argument but limit and marker to a next page's URL. */
static enum MHD_Result
api_next_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct buf	*b = cls;
	char		*k, *v;

	(void)kind;
	if (strcmp(key, "limit") == 0 || strcmp(key, "marker") == 0)
		return (MHD_YES);
	k = api_urlenc(key);
	v = api_urlenc(value != NULL ? value : "");
	buf_printf(b, "&%s=%s", k, v);
	free(k);
	free(v);
	return (MHD_YES);
}

/* Answer {"plural": items, "next": url when the page is full}. */
void
api_list_reply(struct api_req *req, struct api_list *l, const char *plural,
    json_t *items)
{
	json_t		*out, *v, *last;
	size_t		 i;
	const char	*id;
	struct buf	 b;
	char		*base;

	last = json_array_size(items) > 0 ?
	    json_array_get(items, json_array_size(items) - 1) : NULL;
	id = last != NULL ? json_string_value(json_object_get(last, "id")) :
	    NULL;
	json_array_foreach(items, i, v)
		api_list_project(l, v);
	out = json_object();
	json_object_set_new(out, plural, items);
	if (l->limit > 0 && json_array_size(items) == l->limit && id != NULL) {
		base = api_base_url(req);
		buf_init(&b, 0);
		buf_printf(&b, "%s%s?limit=%zu&marker=%s", base, req->path,
		    l->limit, id);
		/* The next page has the same filters, sort and fields. */
		MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
		    api_next_arg, &b);
		buf_add(&b, "", 0);
		json_object_set_new(out, "next", json_string(b.data));
		buf_free(&b);
		free(base);
	}
	api_reply(req, 200, out);
}

/*
 * List definitions (workbooks, workflows, actions), which live in
 * memory, by the store's list rules, and reply; items are borrowed.
 */
void
api_list_items(struct api_req *req, struct api_list *l, const char *plural,
    const char *what, json_t *items)
{
	json_t		*out;
	char		*cause;
	enum store_rc	 rc;

	rc = store_list_items("definitions", &l->q, items, &out, &cause);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, what, cause);
		free(cause);
		return;
	}
	api_list_reply(req, l, plural, out);
}
