/*
 * api-defs.c -- definitions over the API: /v2/workbooks, /v2/workflows
 * and /v2/actions (list, get, create, update, delete, validate).
 *
 * Uploads are YAML text (text/plain) stored as new versions with source
 * "api".  Definitions that come from a watched file belong to the file:
 * the API answers 409 to an update or delete of them, so a file and an
 * upload never fight over one name (edit or remove the file instead).
 * Lists are built in memory from the engine's registry (definitions are
 * few) and filtered, sorted and paged like the store's lists.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "dsl/dsl.h"
#include "engine/engine.h"
#include "api/api-int.h"

#define API_SRC	"api"
#define API_UPLOAD_FILE "<upload>"

static const struct api_field api_def_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "namespace", "namespace" },
	{ "input", "input" },
	{ "definition", "definition" },
	{ "scope", "scope" },
	{ "project_id", "project_id" },
	{ "is_system", "is_system" },
	{ "description", "description" },
	{ "source", "source" },
	{ "workbook", "workbook" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ NULL, NULL }
};

static json_t	*api_action_find(struct api_req *, const char *,
		     const char *);
static struct store_def *api_action_def(struct api_req *, const char *,
		     const char *);
static json_t	*api_action_wire(json_t *);
static json_t	*api_action_builtin_text(json_t *);

/* Body text, or answer 400 when it is empty. */
static const char *
api_def_text(struct api_req *req)
{
	if (req->body.data == NULL || req->body.len == 0) {
		api_error(req, 400, "The body must be the YAML definition "
		    "(Content-Type: text/plain)");
		return (NULL);
	}
	if (memchr(req->body.data, '\0', req->body.len) != NULL) {
		api_error(req, 400, "The definition holds a NUL byte");
		return (NULL);
	}
	return (req->body.data);
}

/* Errors as one string, without the last newline. */
static char *
api_def_errors(const struct dsl_errors *errs)
{
	char	*s;
	size_t	 len;

	s = dsl_errors_format(errs);
	if (s == NULL)
		return (xstrdup("invalid definition"));
	len = strlen(s);
	while (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	return (s);
}

/* A time that may be ms or already text. */
static void
api_def_time(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (v != NULL && json_is_integer(v))
		json_object_set_new(o, key, api_time(json_integer_value(v)));
	else if (v == NULL)
		json_object_set_new(o, key, json_null());
}

/* The engine's workflow entry in Mistral's shape (interface as text). */
static json_t *
api_workflow_wire(json_t *w, int interface_obj)
{
	json_t	*o, *v;

	o = json_deep_copy(w);
	v = json_object_get(o, "interface");
	if (!interface_obj && v != NULL && !json_is_string(v))
		json_object_set_new(o, "interface", api_jstr(v, NULL));
	if (interface_obj && v != NULL && json_is_string(v)) {
		json_t	*p = json_loads(json_string_value(v), 0, NULL);

		if (p != NULL)
			json_object_set_new(o, "interface", p);
	}
	v = json_object_get(o, "input");
	if (v != NULL && !json_is_string(v))
		json_object_set_new(o, "input", json_string(""));
	if (json_object_get(o, "tags") == NULL ||
	    json_is_null(json_object_get(o, "tags")))
		json_object_set_new(o, "tags", json_array());
	if (json_object_get(o, "namespace") == NULL)
		json_object_set_new(o, "namespace", json_string(""));
	if (json_object_get(o, "scope") == NULL)
		json_object_set_new(o, "scope", json_string("private"));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	api_def_time(o, "created_at");
	api_def_time(o, "updated_at");
	return (o);
}

/*
 * The namespace of the request: ?namespace=, or the second segment of
 * /v2/actions/{name}/{namespace} (how the client asks for an action);
 * "" by default.
 */
static const char *
api_def_ns(struct api_req *req)
{
	const char	*ns = api_query(req, "namespace");

	if (req->nparams > 1 && strncmp(req->path, "/v2/actions/", 12) == 0)
		ns = req->params[1];

	return (ns != NULL ? ns : "");
}

/* The scope of an upload (?scope=): "private" or "public"; NULL: bad. */
static const char *
api_def_scope(struct api_req *req)
{
	const char	*s = api_query(req, "scope");

	if (s == NULL || *s == '\0' || strcmp(s, "private") == 0)
		return ("private");
	if (strcmp(s, "public") == 0)
		return ("public");
	api_error(req, 400, "scope must be private or public, not '%s'", s);
	return (NULL);
}

/* Does an entry of the engine's lists match key (id, or name in ns)? */
static int
api_def_match(json_t *o, const char *key, const char *ns)
{
	const char	*id, *name, *ons;

	id = json_string_value(json_object_get(o, "id"));
	name = json_string_value(json_object_get(o, "name"));
	ons = json_string_value(json_object_get(o, "namespace"));
	if (id != NULL && strcmp(id, key) == 0)
		return (1);
	return (name != NULL && strcmp(name, key) == 0 &&
	    strcmp(ons != NULL ? ons : "", ns) == 0);
}

/* Find a workflow by id, or name in ns, in the engine's list (new ref). */
static json_t *
api_workflow_find(struct api_req *req, const char *key, const char *ns)
{
	json_t		*all, *w, *found = NULL;
	size_t		 i;

	if ((all = engine_workflows(req->api->engine)) == NULL)
		return (NULL);
	json_array_foreach(all, i, w) {
		if (api_def_match(w, key, ns)) {
			found = json_incref(w);
			break;
		}
	}
	json_decref(all);
	return (found);
}

/* The definition version a workflow currently runs from, or NULL. */
static struct store_def *
api_workflow_def(struct api_req *req, const char *name, const char *ns)
{
	struct store_workflow	*w;
	struct store_def	*d = NULL;

	if (store_workflow_load_ns(req->store, name, ns, &w) != STORE_OK)
		return (NULL);
	if (store_def_load(req->store, w->def_id, &d) != STORE_OK)
		d = NULL;
	store_workflow_free(w);
	return (d);
}

/* Answer 409 when a definition belongs to a watched file. */
static int
api_def_file_owned(struct api_req *req, const struct store_def *d,
    const char *what)
{
	if (d == NULL || d->source == NULL || strcmp(d->source, API_SRC) == 0)
		return (0);
	api_error(req, 409, "%s is defined by the file %s; edit or remove "
	    "the file instead", what, d->source);
	return (1);
}

/* Names defined by a text: workflows or actions, joined by ','. */
static char *
api_def_names(const char *text, size_t len, int actions, char ***names,
    size_t *n, int *is_workbook)
{
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	char			*joined = NULL;
	size_t			 i, cnt;

	*names = NULL;
	*n = 0;
	*is_workbook = 0;
	dsl_errors_init(&errs);
	wb = dsl_parse(API_UPLOAD_FILE, text, len, NULL, &errs);
	dsl_errors_free(&errs);
	if (wb == NULL)
		return (NULL);
	*is_workbook = wb->name != NULL;
	cnt = actions ? wb->nactions : wb->nworkflows;
	if (cnt > 0)
		*names = xcalloc(cnt, sizeof **names);
	for (i = 0; i < cnt; i++) {
		(*names)[i] = xstrdup(actions ? wb->actions[i].name :
		    wb->workflows[i].name);
		if (joined != NULL)
			joined = xstrcat(joined, ",");
		joined = xstrcat(joined, (*names)[i]);
	}
	*n = cnt;
	dsl_workbook_free(wb);
	return (joined);
}

static void
api_names_free(char **names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Answer the errors of a failed load or upload. */
static void
api_def_fail(struct api_req *req, enum store_rc rc, struct dsl_errors *errs,
    const char *kind, const char *name)
{
	char	*msg;

	if (rc == STORE_OK || errs->n > 0) {
		msg = api_def_errors(errs);
		api_error(req, rc == STORE_CONFLICT ? 409 : 400, "%s", msg);
		free(msg);
	} else if (rc == STORE_CONFLICT)
		api_error(req, 409, "Duplicate entry for %s: %s",
		    strcmp(kind, "workbook") == 0 ? "Workbook" :
		    strcmp(kind, "actions") == 0 ? "Action" :
		    "WorkflowDefinition", name != NULL ? name : "(unnamed)");
	else
		api_store_error(req, rc, 0, "Definition", NULL);
}

/* Workflows and actions a text defines; 0 if it does not parse. */
static size_t
api_def_entries(const char *text)
{
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	size_t			 n = 0;

	dsl_errors_init(&errs);
	if ((wb = dsl_parse(API_UPLOAD_FILE, text, strlen(text), NULL,
	    &errs)) != NULL)
		n = wb->nworkflows + wb->nactions;
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	return (n);
}

/* Does a text define workflows? */
static int
api_def_has_workflows(const char *text, size_t len)
{
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	int			 has = 0;

	dsl_errors_init(&errs);
	if ((wb = dsl_parse(API_UPLOAD_FILE, text, len, NULL,
	    &errs)) != NULL)
		has = wb->nworkflows > 0;
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	return (has);
}

/* Load a definition through the engine; answer the error if any. */
static struct store_def *
api_def_load(struct api_req *req, const char *kind, const char *name,
    const char *ns, const char *scope, const char *text, int create_only)
{
	struct dsl_errors	 errs;
	struct store_def	*d = NULL;
	enum store_rc		 rc;

	dsl_errors_init(&errs);
	rc = engine_def_load_ns(req->api->engine, kind, name, ns, scope, text,
	    API_SRC, create_only, &errs, &d);
	if (rc == STORE_OK && d != NULL) {
		dsl_errors_free(&errs);
		log_info("api: %s %s version %d saved [%s]", kind, d->name,
		    d->version, req->rid);
		return (d);
	}
	api_def_fail(req, rc, &errs, kind, name);
	dsl_errors_free(&errs);
	store_def_free(d);
	return (NULL);
}

/* Answer {"valid": bool, "error": text}. */
static void
api_def_validate(struct api_req *req)
{
	struct dsl_errors	 errs;
	const char		*text;
	char			*msg;
	size_t			 n;

	if ((text = api_def_text(req)) == NULL)
		return;
	dsl_errors_init(&errs);
	n = engine_def_validate(req->api->engine, API_UPLOAD_FILE, text,
	    &errs);
	if (n == 0 && errs.n == 0)
		api_reply(req, 200, json_pack("{s:b, s:n}", "valid", 1,
		    "error"));
	else {
		msg = api_def_errors(&errs);
		api_reply(req, 200, json_pack("{s:b, s:s}", "valid", 0,
		    "error", msg));
		free(msg);
	}
	dsl_errors_free(&errs);
}

/* ---- workbooks --------------------------------------------------- */

/*
 * A workbook as Mistral shows it: its id and created_at are those of
 * its first version (an update keeps them), updated_at the current
 * version's; tags from its text.
 */
static json_t *
api_workbook_json(struct api_req *req, const struct store_def *d)
{
	struct store_def	*first = NULL;
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	json_t			*o, *tags;
	size_t			 i;

	if (store_def_load_first(req->store, d->kind, d->name, d->namespace,
	    &first) != STORE_OK)
		first = NULL;
	tags = json_array();
	dsl_errors_init(&errs);
	if ((wb = dsl_parse(API_UPLOAD_FILE, d->text, strlen(d->text), NULL,
	    &errs)) != NULL) {
		for (i = 0; i < wb->ntags; i++)
			json_array_append_new(tags, json_string(wb->tags[i]));
		dsl_workbook_free(wb);
	}
	dsl_errors_free(&errs);
	o = json_object();
	json_object_set_new(o, "id", json_string(first != NULL ? first->id :
	    d->id));
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "namespace", json_string(d->namespace != NULL ?
	    d->namespace : ""));
	json_object_set_new(o, "definition", json_string(d->text));
	json_object_set_new(o, "tags", tags);
	json_object_set_new(o, "scope", json_string(d->scope != NULL ?
	    d->scope : "private"));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	json_object_set_new(o, "source", api_strornull(d->source));
	json_object_set_new(o, "version", json_integer(d->version));
	json_object_set_new(o, "created_at", api_time(first != NULL ?
	    first->created_at : d->created_at));
	json_object_set_new(o, "updated_at", first != NULL &&
	    first->version == d->version ? json_null() :
	    api_time(d->created_at));
	store_def_free(first);
	return (o);
}

void
api_workbook_list(struct api_req *req)
{
	struct store_def	**v = NULL;
	struct api_list		  l;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *all;
	char			 *cause;

	if (api_list_parse(req, api_def_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	rc = store_def_list_current(req->store, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, "Workbook list",
		    store_error(req->store));
		api_list_free(&l);
		return;
	}
	all = json_array();
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->kind, "workbook") == 0 && !v[i]->deleted)
			json_array_append_new(all, api_workbook_json(req,
			    v[i]));
		store_def_free(v[i]);
	}
	free(v);
	api_list_items(req, &l, "workbooks", "Workbook list", all);
	json_decref(all);
	api_list_free(&l);
}

void
api_workbook_get(struct api_req *req)
{
	struct store_def	*d;
	enum store_rc		 rc;
	char			*what;

	rc = store_def_load_current_ns(req->store, "workbook", req->params[0],
	    api_def_ns(req), &d);
	if (rc != STORE_OK) {
		xasprintf(&what, "Workbook [name=%s]", req->params[0]);
		api_store_error(req, rc, 0, what, NULL);
		free(what);
		return;
	}
	api_reply(req, 200, api_workbook_json(req, d));
	store_def_free(d);
}

/* Create or update a workbook. */
static void
api_workbook_save(struct api_req *req, int create)
{
	struct store_def	*d, *cur = NULL;
	const char		*text, *ns = api_def_ns(req), *scope;
	char			*what;
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	char			*wbname = NULL;

	if ((text = api_def_text(req)) == NULL ||
	    (scope = api_def_scope(req)) == NULL)
		return;
	dsl_errors_init(&errs);
	wb = dsl_parse(API_UPLOAD_FILE, text, req->body.len, NULL, &errs);
	if (wb != NULL && wb->name != NULL)
		wbname = xstrdup(wb->name);
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	if (wbname != NULL && !create) {
		if (store_def_load_current_ns(req->store, "workbook", wbname,
		    ns, &cur) == STORE_OK) {
			xasprintf(&what, "Workbook %s", wbname);
			if (api_def_file_owned(req, cur, what)) {
				free(what);
				goto out;
			}
			free(what);
		}
		if (req->nparams > 0 && strcmp(req->params[0], wbname) != 0) {
			api_error(req, 400, "The path names workbook %s but "
			    "the text defines %s", req->params[0], wbname);
			goto out;
		}
	}
	if ((d = api_def_load(req, "workbook", NULL, ns, scope, text,
	    create)) == NULL)
		goto out;
	api_reply(req, create ? 201 : 200, api_workbook_json(req, d));
	store_def_free(d);
out:
	store_def_free(cur);
	free(wbname);
}

void
api_workbook_create(struct api_req *req)
{
	api_workbook_save(req, 1);
}

void
api_workbook_update(struct api_req *req)
{
	api_workbook_save(req, 0);
}

void
api_workbook_delete(struct api_req *req)
{
	struct store_def	*d;
	enum store_rc		 rc;
	const char		*ns = api_def_ns(req);
	char			*what;

	xasprintf(&what, "Workbook [name=%s]", req->params[0]);
	rc = store_def_load_current_ns(req->store, "workbook", req->params[0],
	    ns, &d);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, what, NULL);
		free(what);
		return;
	}
	if (!api_def_file_owned(req, d, what)) {
		rc = engine_def_delete_ns(req->api->engine, "workbook",
		    req->params[0], ns);
		if (rc != STORE_OK)
			api_store_error(req, rc, 0, what, NULL);
		else {
			log_info("api: workbook %s deleted [%s]",
			    req->params[0], req->rid);
			api_reply(req, 204, NULL);
		}
	}
	store_def_free(d);
	free(what);
}

void
api_workbook_validate(struct api_req *req)
{
	api_def_validate(req);
}

/* ---- workflows and actions ---------------------------------------- */

/*
 * Create or update the workflows of a workflow file, or the ad-hoc
 * actions of an actions file, in the request's namespace: each is
 * stored on its own (engine_def_upload()).  Names a watched file or a
 * workbook defines cannot be taken over.
 */
static void
api_defs_save(struct api_req *req, int create, int actions)
{
	struct dsl_errors	 errs;
	struct store_def	*cur;
	const char		*text, *ns = api_def_ns(req), *scope;
	const char		*kind = actions ? "actions" : "workflows";
	char			**names = NULL, *joined, *what;
	size_t			 n = 0, i;
	int			 is_wb;
	enum store_rc		 rc;
	json_t			*out, *o;

	if ((text = api_def_text(req)) == NULL ||
	    (scope = api_def_scope(req)) == NULL)
		return;
	joined = api_def_names(text, req->body.len, actions, &names, &n,
	    &is_wb);
	/* An action catalog (name: and actions:) is stored whole. */
	if (is_wb && !(actions && n > 0 && !api_def_has_workflows(text,
	    req->body.len))) {
		api_error(req, 400, "This text is a workbook (it has name: "
		    "and workflows: or actions:); send it to /v2/workbooks");
		goto out;
	}
	for (i = 0; i < n; i++) {
		o = actions ? api_action_find(req, names[i], ns) :
		    api_workflow_find(req, names[i], ns);
		if (o == NULL)
			continue;
		if (create || json_is_true(json_object_get(o, "is_system"))) {
			if (actions)
				api_error(req, 409, "Duplicate entry for "
				    "Action ['name', 'namespace', "
				    "'project_id']: %s, %s, None", names[i],
				    ns);
			else
				api_error(req, 409, "Duplicate entry for "
				    "WorkflowDefinition ['name', 'namespace', "
				    "'project_id']: %s, %s, None", names[i],
				    ns);
			json_decref(o);
			goto out;
		}
		json_decref(o);
		cur = actions ? api_action_def(req, names[i], ns) :
		    api_workflow_def(req, names[i], ns);
		if (cur == NULL)
			continue;
		xasprintf(&what, "%s %s", actions ? "Action" : "Workflow",
		    names[i]);
		if (api_def_file_owned(req, cur, what) ||
		    (strcmp(cur->kind, "workbook") == 0 &&
		    (api_error(req, 409, "%s belongs to workbook %s; update "
		    "the workbook", what, cur->name), 1))) {
			free(what);
			store_def_free(cur);
			goto out;
		}
		free(what);
		store_def_free(cur);
	}
	dsl_errors_init(&errs);
	rc = engine_def_upload(req->api->engine, kind, ns, scope, text,
	    create, &errs);
	if (rc != STORE_OK) {
		api_def_fail(req, rc, &errs, kind, joined);
		dsl_errors_free(&errs);
		goto out;
	}
	dsl_errors_free(&errs);
	log_info("api: %s %s saved [%s]", kind, joined != NULL ? joined : "",
	    req->rid);
	out = json_array();
	for (i = 0; i < n; i++) {
		o = actions ? api_action_find(req, names[i], ns) :
		    api_workflow_find(req, names[i], ns);
		if (o != NULL) {
			json_array_append_new(out, actions ?
			    api_action_wire(o) : api_workflow_wire(o, create));
			json_decref(o);
		}
	}
	api_reply(req, create ? 201 : 200, json_pack("{s:o}", actions ?
	    "actions" : "workflows", out));
out:
	free(joined);
	api_names_free(names, n);
}

/*
 * Delete one workflow or ad-hoc action of a definition that holds
 * several (stored whole before each had its own): the others are
 * stored on their own first, then the definition goes.
 */
static enum store_rc
api_defs_delete_one(struct api_req *req, const struct store_def *d,
    const char *name, const char *ns)
{
	struct dsl_part		*parts = NULL;
	struct dsl_errors	 errs;
	struct store_def	*row;
	enum store_rc		 rc;
	size_t			 n = 0, i;

	if (strcmp(d->name, name) == 0 || api_def_entries(d->text) == 1)
		return (engine_def_delete_ns(req->api->engine, d->kind,
		    d->name, ns));
	if (dsl_split(d->text, strlen(d->text), &parts, &n) != 0)
		return (STORE_CONFLICT);
	rc = engine_def_delete_ns(req->api->engine, d->kind, d->name, ns);
	for (i = 0; i < n && rc == STORE_OK; i++) {
		if (strcmp(parts[i].name, name) == 0)
			continue;
		dsl_errors_init(&errs);
		row = NULL;
		rc = engine_def_load_ns(req->api->engine, d->kind,
		    parts[i].name, ns, d->scope, parts[i].text, API_SRC, 0,
		    &errs, &row);
		store_def_free(row);
		dsl_errors_free(&errs);
	}
	dsl_parts_free(parts, n);
	return (rc);
}

/* ---- workflows --------------------------------------------------- */

/*
 * Answer a list of the engine's workflows or actions (all, taken), each
 * put in Mistral's shape by wire, filtered, sorted and paged.
 */
static void
api_defs_list(struct api_req *req, json_t *all, json_t *(*wire)(json_t *),
    const char *plural, const char *what)
{
	struct api_list	 l;
	json_t		*items, *o;
	size_t		 i;
	char		*cause;

	if (all == NULL)
		all = json_array();
	if (api_list_parse(req, api_def_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		json_decref(all);
		return;
	}
	items = json_array();
	json_array_foreach(all, i, o)
		json_array_append_new(items, wire(o));
	json_decref(all);
	api_list_items(req, &l, plural, what, items);
	json_decref(items);
	api_list_free(&l);
}

/* A workflow in Mistral's list and get shape. */
static json_t *
api_workflow_wire_get(json_t *w)
{
	return (api_workflow_wire(w, 0));
}

void
api_workflow_list(struct api_req *req)
{
	api_defs_list(req, engine_workflows(req->api->engine),
	    api_workflow_wire_get, "workflows", "Workflow list");
}

/* Answer Mistral's 404 of a workflow. */
static void
api_workflow_404(struct api_req *req)
{
	api_error(req, 404, "Workflow not found [workflow_identifier=%s, "
	    "namespace=%s]", req->params[0], api_def_ns(req));
}

void
api_workflow_get(struct api_req *req)
{
	json_t	*w;

	if ((w = api_workflow_find(req, req->params[0],
	    api_def_ns(req))) == NULL) {
		api_workflow_404(req);
		return;
	}
	api_reply(req, 200, api_workflow_wire(w, 0));
	json_decref(w);
}

void
api_workflow_create(struct api_req *req)
{
	api_defs_save(req, 1, 0);
}

void
api_workflow_update(struct api_req *req)
{
	api_defs_save(req, 0, 0);
}

void
api_workflow_delete(struct api_req *req)
{
	struct store_def	*d;
	json_t			*w;
	const char		*name, *ns;
	char			*what;
	enum store_rc		 rc;

	if ((w = api_workflow_find(req, req->params[0],
	    api_def_ns(req))) == NULL) {
		api_workflow_404(req);
		return;
	}
	name = json_string_value(json_object_get(w, "name"));
	ns = json_string_value(json_object_get(w, "namespace"));
	if (ns == NULL)
		ns = "";
	xasprintf(&what, "Workflow %s", name != NULL ? name : "?");
	d = name != NULL ? api_workflow_def(req, name, ns) : NULL;
	if (d == NULL)
		api_workflow_404(req);
	else if (api_def_file_owned(req, d, what))
		;
	else if (strcmp(d->kind, "workbook") == 0)
		api_error(req, 409, "%s belongs to workbook %s; update or "
		    "delete the workbook", what, d->name);
	else {
		rc = api_defs_delete_one(req, d, name, ns);
		if (rc == STORE_CONFLICT)
			api_error(req, 409, "%s shares its text with other "
			    "workflows through YAML anchors; update them "
			    "instead", what);
		else if (rc != STORE_OK)
			api_store_error(req, rc, 0, what, NULL);
		else {
			log_info("api: workflow %s deleted [%s]", name,
			    req->rid);
			api_reply(req, 204, NULL);
		}
	}
	store_def_free(d);
	free(what);
	json_decref(w);
}

void
api_workflow_validate(struct api_req *req)
{
	api_def_validate(req);
}

/* ---- actions ----------------------------------------------------- */

/* An engine action entry in Mistral's shape. */
static json_t *
api_action_wire(json_t *a)
{
	json_t	*o;

	o = json_deep_copy(a);
	if (json_object_get(o, "id") == NULL)
		json_object_set(o, "id", json_object_get(o, "name"));
	if (!json_is_string(json_object_get(o, "input")))
		json_object_set_new(o, "input", json_string(""));
	if (json_object_get(o, "is_system") == NULL)
		json_object_set_new(o, "is_system", json_false());
	if (json_object_get(o, "tags") == NULL)
		json_object_set_new(o, "tags", json_array());
	if (json_object_get(o, "description") == NULL)
		json_object_set_new(o, "description", json_null());
	if (json_object_get(o, "namespace") == NULL)
		json_object_set_new(o, "namespace", json_string(""));
	if (json_object_get(o, "scope") == NULL)
		json_object_set_new(o, "scope", json_string(json_is_true(
		    json_object_get(o, "is_system")) ? "public" : "private"));
	if (json_is_null(json_object_get(o, "definition")) ||
	    json_object_get(o, "definition") == NULL)
		json_object_set_new(o, "definition",
		    api_action_builtin_text(o));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	api_def_time(o, "created_at");
	api_def_time(o, "updated_at");
	return (o);
}

/*
 * What action-get-definition shows of a built-in action: its name,
 * description and input as YAML (it has no text of its own).
 */
static json_t *
api_action_builtin_text(json_t *a)
{
	char	*name, *desc, *input, *text;
	json_t	*o;

	name = json_dumps(json_object_get(a, "name"), JSON_ENCODE_ANY);
	desc = json_dumps(json_object_get(a, "description"), JSON_ENCODE_ANY);
	input = json_dumps(json_object_get(a, "input"), JSON_ENCODE_ANY);
	xasprintf(&text, "# Built into bora: it has no definition text.\n"
	    "%s:\n  description: %s\n  input: %s\n", name != NULL ? name :
	    "action", desc != NULL ? desc : "null", input != NULL ? input :
	    "\"\"");
	o = json_string(text);
	free(name);
	free(desc);
	free(input);
	free(text);
	return (o);
}

/* Find an action by name: an ad-hoc one of ns, else a built-in one. */
static json_t *
api_action_find(struct api_req *req, const char *name, const char *ns)
{
	json_t		*all, *a, *found = NULL;
	size_t		 i;

	if ((all = engine_actions(req->api->engine)) == NULL)
		return (NULL);
	json_array_foreach(all, i, a) {
		if (api_def_match(a, name, ns) ||
		    (json_is_true(json_object_get(a, "is_system")) &&
		    strcmp(json_string_value(json_object_get(a, "name")),
		    name) == 0)) {
			found = json_incref(a);
			break;
		}
	}
	json_decref(all);
	return (found);
}

void
api_action_list(struct api_req *req)
{
	api_defs_list(req, engine_actions(req->api->engine), api_action_wire,
	    "actions", "Action list");
}

void
api_action_get(struct api_req *req)
{
	json_t	*a;

	if ((a = api_action_find(req, req->params[0],
	    api_def_ns(req))) == NULL) {
		api_error(req, 404, "Action not found [name=%s, "
		    "namespace=%s]", req->params[0], api_def_ns(req));
		return;
	}
	api_reply(req, 200, api_action_wire(a));
	json_decref(a);
}

/*
 * The stored definition that defines ad-hoc action name in ns: the
 * registry's current definition of it.
 */
static struct store_def *
api_action_def(struct api_req *req, const char *name, const char *ns)
{
	json_t			*a;
	struct store_def	*d = NULL;
	const char		*id;

	if ((a = api_action_find(req, name, ns)) == NULL)
		return (NULL);
	id = json_string_value(json_object_get(a, "definition_id"));
	if (id != NULL && store_def_load(req->store, id, &d) != STORE_OK)
		d = NULL;
	json_decref(a);
	return (d);
}

void
api_action_create(struct api_req *req)
{
	api_defs_save(req, 1, 1);
}

void
api_action_update(struct api_req *req)
{
	api_defs_save(req, 0, 1);
}

void
api_action_delete(struct api_req *req)
{
	struct store_def	*d;
	json_t			*a;
	const char		*ns = api_def_ns(req);
	char			*what;
	enum store_rc		 rc;

	if ((a = api_action_find(req, req->params[0], ns)) == NULL) {
		api_error(req, 404, "Action not found [name=%s, "
		    "namespace=%s]", req->params[0], ns);
		return;
	}
	if (json_is_true(json_object_get(a, "is_system"))) {
		api_error(req, 400, "Action %s is built in and cannot be "
		    "deleted", req->params[0]);
		json_decref(a);
		return;
	}
	json_decref(a);
	xasprintf(&what, "Action %s", req->params[0]);
	if ((d = api_action_def(req, req->params[0], ns)) == NULL)
		api_error(req, 404, "Action not found [name=%s, "
		    "namespace=%s]", req->params[0], ns);
	else if (api_def_file_owned(req, d, what))
		;
	else if (strcmp(d->kind, "workbook") == 0)
		api_error(req, 409, "%s belongs to workbook %s; update or "
		    "delete the workbook", what, d->name);
	else {
		rc = api_defs_delete_one(req, d, req->params[0], ns);
		if (rc == STORE_CONFLICT)
			api_error(req, 409, "%s is one of several actions of "
			    "%s; update it instead", what, d->name);
		else if (rc != STORE_OK)
			api_store_error(req, rc, 0, what, NULL);
		else
			api_reply(req, 204, NULL);
	}
	store_def_free(d);
	free(what);
}

void
api_action_validate(struct api_req *req)
{
	api_def_validate(req);
}
