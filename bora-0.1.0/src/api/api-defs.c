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
	json_object_set_new(o, "namespace", json_string(""));
	json_object_set_new(o, "scope", json_string("private"));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	api_def_time(o, "created_at");
	api_def_time(o, "updated_at");
	return (o);
}

/* Find a workflow by id or name in the engine's list (new ref). */
static json_t *
api_workflow_find(struct api_req *req, const char *key)
{
	json_t		*all, *w, *found = NULL;
	size_t		 i;
	const char	*id, *name;

	if ((all = engine_workflows(req->api->engine)) == NULL)
		return (NULL);
	json_array_foreach(all, i, w) {
		id = json_string_value(json_object_get(w, "id"));
		name = json_string_value(json_object_get(w, "name"));
		if ((id != NULL && strcmp(id, key) == 0) ||
		    (name != NULL && strcmp(name, key) == 0)) {
			found = json_incref(w);
			break;
		}
	}
	json_decref(all);
	return (found);
}

/* The definition version a workflow currently runs from, or NULL. */
static struct store_def *
api_workflow_def(struct api_req *req, const char *name)
{
	struct store_workflow	*w;
	struct store_def	*d = NULL;

	if (store_workflow_load(req->store, name, &w) != STORE_OK)
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

/* Load a definition through the engine; answer the error if any. */
static struct store_def *
api_def_load(struct api_req *req, const char *kind, const char *name,
    const char *text, int create_only)
{
	struct dsl_errors	 errs;
	struct store_def	*d = NULL;
	enum store_rc		 rc;
	char			*msg;

	dsl_errors_init(&errs);
	rc = engine_def_load(req->api->engine, kind, name, text, API_SRC,
	    create_only, &errs, &d);
	if (rc == STORE_OK && d != NULL) {
		dsl_errors_free(&errs);
		log_info("api: %s %s version %d saved [%s]", kind, d->name,
		    d->version, req->rid);
		return (d);
	}
	if (rc == STORE_OK || errs.n > 0) {
		msg = api_def_errors(&errs);
		api_error(req, rc == STORE_CONFLICT ? 409 : 400, "%s", msg);
		free(msg);
	} else if (rc == STORE_CONFLICT)
		api_error(req, 409, "Duplicate entry for %s: %s",
		    strcmp(kind, "workbook") == 0 ? "Workbook" :
		    strcmp(kind, "actions") == 0 ? "Action" :
		    "WorkflowDefinition", name != NULL ? name : "(unnamed)");
	else
		api_store_error(req, rc, 0, "Definition", NULL);
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

static json_t *
api_workbook_json(const struct store_def *d)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "namespace", json_string(""));
	json_object_set_new(o, "definition", json_string(d->text));
	json_object_set_new(o, "tags", json_array());
	json_object_set_new(o, "scope", json_string("private"));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	json_object_set_new(o, "source", api_strornull(d->source));
	json_object_set_new(o, "version", json_integer(d->version));
	json_object_set_new(o, "created_at", api_time(d->created_at));
	json_object_set_new(o, "updated_at", api_time(d->updated_at));
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
			json_array_append_new(all, api_workbook_json(v[i]));
		store_def_free(v[i]);
	}
	free(v);
	api_list_reply(req, &l, "workbooks", api_list_memory(&l,
	    api_def_fields, all));
	json_decref(all);
	api_list_free(&l);
}

void
api_workbook_get(struct api_req *req)
{
	struct store_def	*d;
	enum store_rc		 rc;
	char			*what;

	rc = store_def_load_current(req->store, "workbook", req->params[0],
	    &d);
	if (rc != STORE_OK) {
		xasprintf(&what, "Workbook [name=%s]", req->params[0]);
		api_store_error(req, rc, 0, what, NULL);
		free(what);
		return;
	}
	api_reply(req, 200, api_workbook_json(d));
	store_def_free(d);
}

/* Create or update a workbook. */
static void
api_workbook_save(struct api_req *req, int create)
{
	struct store_def	*d, *cur = NULL;
	const char		*text;
	char			*what;
	struct dsl_workbook	*wb;
	struct dsl_errors	 errs;
	char			*wbname = NULL;

	if ((text = api_def_text(req)) == NULL)
		return;
	dsl_errors_init(&errs);
	wb = dsl_parse(API_UPLOAD_FILE, text, req->body.len, NULL, &errs);
	if (wb != NULL && wb->name != NULL)
		wbname = xstrdup(wb->name);
	dsl_workbook_free(wb);
	dsl_errors_free(&errs);
	if (wbname != NULL && !create) {
		if (store_def_load_current(req->store, "workbook", wbname,
		    &cur) == STORE_OK) {
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
	if ((d = api_def_load(req, "workbook", NULL, text, create)) == NULL)
		goto out;
	api_reply(req, create ? 201 : 200, api_workbook_json(d));
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
	char			*what;

	xasprintf(&what, "Workbook [name=%s]", req->params[0]);
	rc = store_def_load_current(req->store, "workbook", req->params[0],
	    &d);
	if (rc != STORE_OK) {
		api_store_error(req, rc, 0, what, NULL);
		free(what);
		return;
	}
	if (!api_def_file_owned(req, d, what)) {
		rc = engine_def_delete(req->api->engine, "workbook",
		    req->params[0]);
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

/* ---- workflows --------------------------------------------------- */

void
api_workflow_list(struct api_req *req)
{
	struct api_list	 l;
	json_t		*all, *wire, *w;
	size_t		 i;
	char		*cause;

	if (api_list_parse(req, api_def_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	if ((all = engine_workflows(req->api->engine)) == NULL)
		all = json_array();
	wire = json_array();
	json_array_foreach(all, i, w)
		json_array_append_new(wire, api_workflow_wire(w, 0));
	json_decref(all);
	api_list_reply(req, &l, "workflows", api_list_memory(&l,
	    api_def_fields, wire));
	json_decref(wire);
	api_list_free(&l);
}

void
api_workflow_get(struct api_req *req)
{
	json_t	*w;

	if ((w = api_workflow_find(req, req->params[0])) == NULL) {
		api_error(req, 404, "Workflow not found [workflow_identifier="
		    "%s]", req->params[0]);
		return;
	}
	api_reply(req, 200, api_workflow_wire(w, 0));
	json_decref(w);
}

/*
 * Create or update workflows from a workflow file.  The stored
 * definition's name lists its workflows ("a,b"); an update of a
 * workflow that came alone keeps the name it was created under.
 */
static void
api_workflow_save(struct api_req *req, int create)
{
	struct store_def	*d = NULL, *cur;
	const char		*text;
	char			**names = NULL, *joined, *what, *defname;
	size_t			 n = 0, i;
	int			 is_wb;
	json_t			*out, *w;

	if ((text = api_def_text(req)) == NULL)
		return;
	joined = api_def_names(text, req->body.len, 0, &names, &n, &is_wb);
	if (is_wb) {
		api_error(req, 400, "This text is a workbook (it has name: "
		    "and workflows:); send it to /v2/workbooks");
		goto out;
	}
	defname = joined;
	for (i = 0; i < n; i++) {
		cur = api_workflow_def(req, names[i]);
		if (cur == NULL)
			continue;
		if (create) {
			api_error(req, 409, "Duplicate entry for "
			    "WorkflowDefinition ['name', 'namespace', "
			    "'project_id']: %s, , None", names[i]);
			store_def_free(cur);
			goto out;
		}
		xasprintf(&what, "Workflow %s", names[i]);
		if (api_def_file_owned(req, cur, what) ||
		    (strcmp(cur->kind, "workbook") == 0 &&
		    (api_error(req, 409, "%s belongs to workbook %s; update "
		    "the workbook", what, cur->name), 1))) {
			free(what);
			store_def_free(cur);
			goto out;
		}
		free(what);
		if (n == 1 && strcmp(cur->kind, "workflows") == 0) {
			free(joined);
			joined = defname = xstrdup(cur->name);
		}
		store_def_free(cur);
	}
	if ((d = api_def_load(req, "workflows", defname != NULL ? defname :
	    API_SRC, text, create)) == NULL)
		goto out;
	out = json_array();
	for (i = 0; i < n; i++) {
		if ((w = api_workflow_find(req, names[i])) != NULL) {
			json_array_append_new(out, api_workflow_wire(w,
			    create));
			json_decref(w);
		}
	}
	api_reply(req, create ? 201 : 200, json_pack("{s:o}", "workflows",
	    out));
out:
	free(joined);
	api_names_free(names, n);
	store_def_free(d);
}

void
api_workflow_create(struct api_req *req)
{
	api_workflow_save(req, 1);
}

void
api_workflow_update(struct api_req *req)
{
	api_workflow_save(req, 0);
}

void
api_workflow_delete(struct api_req *req)
{
	struct store_def	*d;
	json_t			*w;
	const char		*name;
	char			*what;
	enum store_rc		 rc;

	if ((w = api_workflow_find(req, req->params[0])) == NULL) {
		api_error(req, 404, "Workflow not found [workflow_identifier="
		    "%s]", req->params[0]);
		return;
	}
	name = json_string_value(json_object_get(w, "name"));
	xasprintf(&what, "Workflow %s", name != NULL ? name : "?");
	d = name != NULL ? api_workflow_def(req, name) : NULL;
	if (d == NULL)
		api_error(req, 404, "Workflow not found [workflow_identifier="
		    "%s]", req->params[0]);
	else if (api_def_file_owned(req, d, what))
		;
	else if (strcmp(d->kind, "workbook") == 0)
		api_error(req, 409, "%s belongs to workbook %s; update or "
		    "delete the workbook", what, d->name);
	else {
		rc = engine_def_delete(req->api->engine, d->kind, d->name);
		if (rc != STORE_OK)
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
	json_object_set_new(o, "namespace", json_string(""));
	json_object_set_new(o, "scope", json_string(json_is_true(
	    json_object_get(o, "is_system")) ? "public" : "private"));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	api_def_time(o, "created_at");
	api_def_time(o, "updated_at");
	return (o);
}

/* Find an action by name (new ref). */
static json_t *
api_action_find(struct api_req *req, const char *name)
{
	json_t		*all, *a, *found = NULL;
	size_t		 i;
	const char	*s;

	if ((all = engine_actions(req->api->engine)) == NULL)
		return (NULL);
	json_array_foreach(all, i, a) {
		s = json_string_value(json_object_get(a, "name"));
		if (s != NULL && strcmp(s, name) == 0) {
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
	struct api_list	 l;
	json_t		*all, *wire, *a;
	size_t		 i;
	char		*cause;

	if (api_list_parse(req, api_def_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	if ((all = engine_actions(req->api->engine)) == NULL)
		all = json_array();
	wire = json_array();
	json_array_foreach(all, i, a)
		json_array_append_new(wire, api_action_wire(a));
	json_decref(all);
	api_list_reply(req, &l, "actions", api_list_memory(&l,
	    api_def_fields, wire));
	json_decref(wire);
	api_list_free(&l);
}

void
api_action_get(struct api_req *req)
{
	json_t	*a;

	if ((a = api_action_find(req, req->params[0])) == NULL) {
		api_error(req, 404, "Action not found [name=%s]",
		    req->params[0]);
		return;
	}
	api_reply(req, 200, api_action_wire(a));
	json_decref(a);
}

/*
 * The stored definition that defines an ad-hoc action: API uploads are
 * named by their actions ("a,b"); files are parsed.
 */
static struct store_def *
api_action_def(struct api_req *req, const char *name)
{
	struct store_def	**v = NULL, *found = NULL;
	char			**names, *joined;
	size_t			  n = 0, i, j, nn;
	int			  is_wb;

	if (store_def_list_current(req->store, &v, &n) != STORE_OK)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (found == NULL && !v[i]->deleted &&
		    (strcmp(v[i]->kind, "actions") == 0 ||
		    strcmp(v[i]->kind, "workbook") == 0)) {
			joined = api_def_names(v[i]->text, strlen(v[i]->text),
			    1, &names, &nn, &is_wb);
			for (j = 0; j < nn; j++) {
				if (strcmp(names[j], name) == 0)
					break;
			}
			if (j < nn) {
				found = v[i];
				v[i] = NULL;
			}
			free(joined);
			api_names_free(names, nn);
		}
		store_def_free(v[i]);
	}
	free(v);
	return (found);
}

/* Create or update ad-hoc actions. */
static void
api_action_save(struct api_req *req, int create)
{
	struct store_def	*d = NULL, *cur;
	const char		*text;
	char			**names = NULL, *joined, *what, *defname;
	size_t			 n = 0, i;
	int			 is_wb;
	json_t			*out, *a;

	if ((text = api_def_text(req)) == NULL)
		return;
	joined = api_def_names(text, req->body.len, 1, &names, &n, &is_wb);
	defname = joined;
	for (i = 0; i < n; i++) {
		if ((a = api_action_find(req, names[i])) == NULL)
			continue;
		if (create || json_is_true(json_object_get(a, "is_system"))) {
			api_error(req, 409, "Duplicate entry for Action: %s",
			    names[i]);
			json_decref(a);
			goto out;
		}
		json_decref(a);
		if ((cur = api_action_def(req, names[i])) == NULL)
			continue;
		xasprintf(&what, "Action %s", names[i]);
		if (api_def_file_owned(req, cur, what)) {
			free(what);
			store_def_free(cur);
			goto out;
		}
		free(what);
		if (n == 1 && strcmp(cur->kind, "actions") == 0) {
			free(joined);
			joined = defname = xstrdup(cur->name);
		}
		store_def_free(cur);
	}
	if ((d = api_def_load(req, "actions", defname != NULL ? defname :
	    API_SRC, text, create)) == NULL)
		goto out;
	out = json_array();
	for (i = 0; i < n; i++) {
		if ((a = api_action_find(req, names[i])) != NULL) {
			json_array_append_new(out, api_action_wire(a));
			json_decref(a);
		}
	}
	api_reply(req, create ? 201 : 200, json_pack("{s:o}", "actions", out));
out:
	free(joined);
	api_names_free(names, n);
	store_def_free(d);
}

void
api_action_create(struct api_req *req)
{
	api_action_save(req, 1);
}

void
api_action_update(struct api_req *req)
{
	api_action_save(req, 0);
}

void
api_action_delete(struct api_req *req)
{
	struct store_def	*d;
	json_t			*a;
	char			*what;
	enum store_rc		 rc;

	if ((a = api_action_find(req, req->params[0])) == NULL) {
		api_error(req, 404, "Action not found [name=%s]",
		    req->params[0]);
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
	if ((d = api_action_def(req, req->params[0])) == NULL)
		api_error(req, 404, "Action not found [name=%s]",
		    req->params[0]);
	else if (api_def_file_owned(req, d, what))
		;
	else if (strcmp(d->kind, "workbook") == 0)
		api_error(req, 409, "%s belongs to workbook %s; update or "
		    "delete the workbook", what, d->name);
	else {
		rc = engine_def_delete(req->api->engine, d->kind, d->name);
		if (rc != STORE_OK)
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
