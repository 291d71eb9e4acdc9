/*
 * api-env.c -- environments, as Mistral's /v2/environments: named sets
 * of variables (per cloud, per site) that an execution gets as its env
 * when started with params {"env": "NAME"}, and env() shows.
 *
 * Bodies are JSON; variables come as a JSON string (what the client
 * sends) or an object, and go out as a JSON string.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "api/api-int.h"

static const struct api_field api_env_fields[] = {
	{ "id", "id" },
	{ "name", "name" },
	{ "description", "description" },
	{ "variables", "variables" },
	{ "scope", "scope" },
	{ "created_at", "created_at" },
	{ "updated_at", "updated_at" },
	{ NULL, NULL }
};

/* An environment as Mistral shows it. */
static json_t *
api_env_json(const struct store_env *v)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "id", json_string(v->id));
	json_object_set_new(o, "name", json_string(v->name));
	json_object_set_new(o, "description", api_strornull(v->description));
	json_object_set_new(o, "variables", api_jstr(v->variables, "{}"));
	json_object_set_new(o, "scope", json_string(v->scope != NULL ?
	    v->scope : "private"));
	json_object_set_new(o, "project_id", json_string("<default-project>"));
	json_object_set_new(o, "created_at", api_time(v->created_at));
	json_object_set_new(o, "updated_at", v->updated_at != v->created_at ?
	    api_time(v->updated_at) : json_null());
	return (o);
}

/* Answer a failed load or delete: Mistral's 404, or the store's error. */
static void
api_env_fail(struct api_req *req, enum store_rc rc, const char *name)
{
	if (rc == STORE_NOTFOUND)
		api_error(req, 404, "Environment not found [name=%s]", name);
	else
		api_store_error(req, rc, 0, "Environment",
		    store_error(req->store));
}

/*
 * Read the body's variables (a JSON string or an object) into *out, a
 * new reference (NULL when absent); the body's scope into *scope.
 * Answers 400 and returns -1 when either is wrong.
 */
static int
api_env_body(struct api_req *req, json_t **out, const char **scope)
{
	json_t		*v = NULL;
	char		*cause = NULL;

	*out = NULL;
	*scope = json_string_value(json_object_get(req->json, "scope"));
	if (*scope != NULL && strcmp(*scope, "private") != 0 &&
	    strcmp(*scope, "public") != 0) {
		api_error(req, 400, "scope must be private or public, not "
		    "'%s'", *scope);
		return (-1);
	}
	if (api_json_value(json_object_get(req->json, "variables"), &v,
	    &cause) != 0 || (v != NULL && !json_is_object(v))) {
		api_error(req, 400, "variables: %s", cause != NULL ? cause :
		    "must be a JSON object");
		free(cause);
		json_decref(v);
		return (-1);
	}
	*out = v;
	return (0);
}

void
api_env_list(struct api_req *req)
{
	struct api_list		  l;
	struct store_env	**v = NULL;
	size_t			  n = 0, i;
	enum store_rc		  rc;
	json_t			 *items;
	char			 *cause;

	if (api_list_parse(req, api_env_fields, "asc", &l, &cause) != 0) {
		api_error(req, 400, "%s", cause);
		free(cause);
		return;
	}
	rc = store_env_list(req->store, &l.q, &v, &n);
	if (rc != STORE_OK) {
		api_store_error(req, rc, rc == STORE_ERROR, "Environment list",
		    store_error(req->store));
		goto out;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(items, api_env_json(v[i]));
		store_env_free(v[i]);
	}
	api_list_reply(req, &l, "environments", items);
out:
	free(v);
	api_list_free(&l);
}

void
api_env_get(struct api_req *req)
{
	struct store_env	*v;
	enum store_rc		 rc;

	if ((rc = store_env_load(req->store, req->params[0], &v)) != STORE_OK) {
		api_env_fail(req, rc, req->params[0]);
		return;
	}
	api_reply(req, 200, api_env_json(v));
	store_env_free(v);
}

/* POST /v2/environments. */
void
api_env_create(struct api_req *req)
{
	struct store_env	 v, *got = NULL;
	struct store_tx		*tx;
	json_t			*vars;
	const char		*name, *scope;
	enum store_rc		 rc;

	name = json_string_value(json_object_get(req->json, "name"));
	if (name == NULL || *name == '\0') {
		api_error(req, 400, "The body must be a JSON object with the "
		    "environment's name and variables");
		return;
	}
	if (api_env_body(req, &vars, &scope) != 0)
		return;
	memset(&v, 0, sizeof v);
	uuid_make(v.id);
	v.name = (char *)name;
	v.description = (char *)json_string_value(json_object_get(req->json,
	    "description"));
	v.variables = vars != NULL ? vars : json_object();
	v.scope = (char *)(scope != NULL ? scope : "private");
	tx = store_tx_create();
	store_tx_env_insert(tx, &v);
	rc = store_tx_commit(req->store, tx);
	store_tx_free(tx);
	json_decref(v.variables);
	if (rc == STORE_CONFLICT) {
		api_error(req, 409, "Duplicate entry for Environment ['name', "
		    "'project_id']: %s, <default-project>", name);
		return;
	}
	if (rc != STORE_OK || store_env_load(req->store, v.id, &got) !=
	    STORE_OK) {
		api_store_error(req, rc != STORE_OK ? rc : STORE_ERROR, 0,
		    "Environment", store_error(req->store));
		return;
	}
	log_info("api: environment %s created [%s]", name, req->rid);
	api_reply(req, 201, api_env_json(got));
	store_env_free(got);
}

/* PUT /v2/environments: the body names it; what it gives changes. */
void
api_env_update(struct api_req *req)
{
	struct store_env	*v = NULL;
	struct store_tx		*tx;
	json_t			*vars, *desc;
	const char		*name, *scope;
	enum store_rc		 rc;
	unsigned		 mask = 0;

	name = json_string_value(json_object_get(req->json, "name"));
	if (name == NULL || *name == '\0') {
		api_error(req, 400, "The body must be a JSON object with the "
		    "environment's name");
		return;
	}
	if (api_env_body(req, &vars, &scope) != 0)
		return;
	if ((rc = store_env_load(req->store, name, &v)) != STORE_OK) {
		api_env_fail(req, rc, name);
		json_decref(vars);
		return;
	}
	if (vars != NULL) {
		json_decref(v->variables);
		v->variables = vars;
		mask |= SF_VARIABLES;
	}
	if ((desc = json_object_get(req->json, "description")) != NULL) {
		free(v->description);
		v->description = json_is_string(desc) ?
		    xstrdup(json_string_value(desc)) : NULL;
		mask |= SF_DESCRIPTION;
	}
	if (scope != NULL) {
		free(v->scope);
		v->scope = xstrdup(scope);
		mask |= SF_SCOPE;
	}
	if (mask != 0) {
		tx = store_tx_create();
		store_tx_env_update(tx, v, mask, NULL);
		rc = store_tx_commit(req->store, tx);
		store_tx_free(tx);
		store_env_free(v);
		v = NULL;
		if (rc != STORE_OK || (rc = store_env_load(req->store, name,
		    &v)) != STORE_OK) {
			api_store_error(req, rc, 0, "Environment",
			    store_error(req->store));
			return;
		}
	}
	log_info("api: environment %s updated [%s]", name, req->rid);
	api_reply(req, 200, api_env_json(v));
	store_env_free(v);
}

void
api_env_delete(struct api_req *req)
{
	enum store_rc	 rc;

	if ((rc = store_env_delete(req->store, req->params[0])) != STORE_OK) {
		api_env_fail(req, rc, req->params[0]);
		return;
	}
	log_info("api: environment %s deleted [%s]", req->params[0], req->rid);
	api_reply(req, 204, NULL);
}
