/*
 * sim-keystone.c -- the simulator's Keystone v3: version discovery,
 * tokens by password or application credential (project scoped, with
 * a catalog pointing at the simulator's own Nova and Keystone),
 * validation and revocation, and application credentials.
 *
 * A token's expires_at is token_ttl after it is issued; with
 * token_expires_after the token stops working sooner than it says (a
 * revoked or early-expired token: the client sees 401 mid-flow).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim-int.h"

#define SIM_KS_UNAUTH	"The request you have made requires authentication."

static void	 sim_ks_random(char *, size_t);
static struct sim_user *sim_ks_user(struct sim *, json_t *);
static struct sim_project *sim_ks_scope(struct sim *, json_t *);
static json_t	*sim_ks_catalog(struct sim_call *);
static json_t	*sim_ks_doc(struct sim_call *, struct sim_token *);
static int	 sim_ks_domain(json_t *, const char *);

/* len - 1 random hexadecimal digits (from random UUIDs). */
static void
sim_ks_random(char *out, size_t len)
{
	char	u[UUID_STRLEN];
	size_t	i = 0, k;

	while (i + 1 < len) {
		uuid_make(u);
		for (k = 0; u[k] != '\0' && i + 1 < len; k++) {
			if (u[k] != '-')
				out[i++] = u[k];
		}
	}
	out[len - 1] = '\0';
}

/* Whether a {"id": ...} or {"name": ...} domain is the one named. */
static int
sim_ks_domain(json_t *dom, const char *name)
{
	const char	*id, *n;

	if (dom == NULL)
		return (strcasecmp(name, "Default") == 0);
	id = json_string_value(json_object_get(dom, "id"));
	n = json_string_value(json_object_get(dom, "name"));
	/* Keystone on MySQL compares names without case: accept it. */
	if (n != NULL)
		return (strcasecmp(n, name) == 0);
	return (id != NULL && strcasecmp(id, name) == 0);
}

/* The user of {"id": ...} or {"name": ..., "domain": ...}. */
static struct sim_user *
sim_ks_user(struct sim *s, json_t *u)
{
	const char	*id, *name;
	size_t		 i;

	id = json_string_value(json_object_get(u, "id"));
	name = json_string_value(json_object_get(u, "name"));
	for (i = 0; i < s->nusers; i++) {
		if (id != NULL && strcmp(s->users[i]->id, id) == 0)
			return (s->users[i]);
		if (name != NULL && strcmp(s->users[i]->name, name) == 0 &&
		    sim_ks_domain(json_object_get(u, "domain"),
		    s->users[i]->domain))
			return (s->users[i]);
	}
	return (NULL);
}

/* The project of a scope {"project": {"id"|"name"+"domain"}}. */
static struct sim_project *
sim_ks_scope(struct sim *s, json_t *scope)
{
	json_t		*p = json_object_get(scope, "project");
	const char	*id, *name;
	size_t		 i;

	id = json_string_value(json_object_get(p, "id"));
	name = json_string_value(json_object_get(p, "name"));
	for (i = 0; i < s->nprojects; i++) {
		if (id != NULL && strcmp(s->projects[i]->id, id) == 0)
			return (s->projects[i]);
		if (name != NULL && strcmp(s->projects[i]->name, name) == 0 &&
		    sim_ks_domain(json_object_get(p, "domain"),
		    s->projects[i]->domain))
			return (s->projects[i]);
	}
	return (NULL);
}

/* The catalog: this simulator's Keystone and Nova, three interfaces. */
static json_t *
sim_ks_catalog(struct sim_call *c)
{
	static const char *const ifaces[] = { "public", "internal", "admin" };
	static const struct {
		const char	*type;
		const char	*name;
		const char	*path;
	} svcs[] = {
		{ "identity", "keystone", "/identity" },
		{ "compute", "nova", "/compute/v2.1" },
	};
	json_t		*cat, *eps;
	char		*url;
	size_t		 i, k;

	cat = json_array();
	for (i = 0; i < nitems(svcs); i++) {
		eps = json_array();
		xasprintf(&url, "%s%s", c->req->base_url != NULL ?
		    c->req->base_url : "http://127.0.0.1", svcs[i].path);
		for (k = 0; k < nitems(ifaces); k++)
			json_array_append_new(eps, json_pack("{s:s,s:s,s:s,"
			    "s:s,s:s}", "id", ifaces[k], "interface",
			    ifaces[k], "region", c->sim->region, "region_id",
			    c->sim->region, "url", url));
		free(url);
		json_array_append_new(cat, json_pack("{s:s,s:s,s:s,s:o}",
		    "type", svcs[i].type, "name", svcs[i].name, "id",
		    svcs[i].name, "endpoints", eps));
	}
	return (cat);
}

/* A token as Keystone shows it (never the token itself). */
static json_t *
sim_ks_doc(struct sim_call *c, struct sim_token *t)
{
	json_t		*doc, *roles, *r;
	char		 iss[32], exp[32];
	size_t		 i;

	sim_time(t->issued_wall, 1, iss);
	sim_time(t->expires_wall, 1, exp);
	roles = json_array();
	json_array_foreach(t->roles, i, r)
		json_array_append_new(roles, json_pack("{s:O,s:O}", "id", r,
		    "name", r));
	doc = json_pack("{s:O,s:{s:s,s:s,s:{s:s,s:s},s:n},s:[s],s:s,s:s,"
	    "s:b,s:o}", "methods", t->methods, "user", "id", t->user->id,
	    "name", t->user->name, "domain", "id", "default", "name",
	    t->user->domain, "password_expires_at", "audit_ids", t->audit,
	    "expires_at", exp, "issued_at", iss, "is_domain", 0, "roles",
	    roles);
	if (t->project != NULL) {
		json_object_set_new(doc, "project", json_pack("{s:s,s:s,"
		    "s:{s:s,s:s}}", "id", t->project->id, "name",
		    t->project->name, "domain", "id", "default", "name",
		    t->project->domain));
		json_object_set_new(doc, "catalog", sim_ks_catalog(c));
	}
	if (t->appcred != NULL)
		json_object_set_new(doc, "application_credential", json_pack(
		    "{s:s,s:b}", "id", t->appcred, "restricted", 1));
	return (json_pack("{s:o}", "token", doc));
}

/* GET /identity: the versions, 300 as Keystone answers. */
void
sim_ks_versions(struct sim_call *c)
{
	char	*href;

	xasprintf(&href, "%s/identity/v3/", c->req->base_url != NULL ?
	    c->req->base_url : "");
	sim_reply(c, 300, json_pack("{s:{s:[{s:s,s:s,s:s,s:[{s:s,s:s}],"
	    "s:[{s:s,s:s}]}]}}", "versions", "values", "id", "v3.14", "status",
	    "stable", "updated", "2020-04-07T00:00:00Z", "links", "rel",
	    "self", "href", href, "media-types", "base", "application/json",
	    "type", "application/vnd.openstack.identity-v3+json"));
	free(href);
}

/* GET /identity/v3. */
void
sim_ks_version(struct sim_call *c)
{
	char	*href;

	xasprintf(&href, "%s/identity/v3/", c->req->base_url != NULL ?
	    c->req->base_url : "");
	sim_reply(c, 200, json_pack("{s:{s:s,s:s,s:s,s:[{s:s,s:s}]}}",
	    "version", "id", "v3.14", "status", "stable", "updated",
	    "2020-04-07T00:00:00Z", "links", "rel", "self", "href", href));
	free(href);
}

/* POST /identity/v3/auth/tokens: password or application credential. */
void
sim_ks_issue(struct sim_call *c)
{
	struct sim		*s = c->sim;
	struct sim_token	*t;
	struct sim_user		*u = NULL;
	struct sim_project	*p = NULL;
	struct sim_appcred	*a = NULL;
	json_t			*id, *m, *pw, *ac, *scope, *roles = NULL;
	const char		*method, *secret, *acid, *acname;
	size_t			 i;

	id = json_object_get(json_object_get(c->body, "auth"), "identity");
	m = json_object_get(id, "methods");
	method = json_string_value(json_array_get(m, 0));
	if (!json_is_array(m) || method == NULL) {
		sim_error(c, 400, "Expecting to find identity.methods in auth "
		    "- the server could not comply with the request since it "
		    "is either malformed or otherwise incorrect.");
		return;
	}
	if (strcmp(method, "password") == 0) {
		pw = json_object_get(json_object_get(id, "password"), "user");
		secret = json_string_value(json_object_get(pw, "password"));
		if (!json_is_object(pw) || secret == NULL) {
			sim_error(c, 400, "Expecting to find password.user in "
			    "identity.");
			return;
		}
		u = sim_ks_user(s, pw);
		if (u == NULL || strcmp(u->password, secret) != 0) {
			sim_error(c, 401, SIM_KS_UNAUTH);
			return;
		}
		scope = json_object_get(json_object_get(c->body, "auth"),
		    "scope");
		if (json_object_get(scope, "project") != NULL) {
			p = sim_ks_scope(s, scope);
			/* Only the user's own project can be had. */
			if (p == NULL || u->project == NULL ||
			    strcmp(p->name, u->project) != 0) {
				sim_error(c, 401, SIM_KS_UNAUTH);
				return;
			}
		} else if (scope == NULL && u->project != NULL)
			p = sim_project_find(s, u->project);
		roles = json_deep_copy(u->roles);
	} else if (strcmp(method, "application_credential") == 0) {
		ac = json_object_get(id, "application_credential");
		acid = json_string_value(json_object_get(ac, "id"));
		acname = json_string_value(json_object_get(ac, "name"));
		secret = json_string_value(json_object_get(ac, "secret"));
		if (secret == NULL || (acid == NULL && acname == NULL)) {
			sim_error(c, 400, "Expecting to find "
			    "application_credential.secret and its id or "
			    "name.");
			return;
		}
		for (i = 0; i < s->nappcreds; i++) {
			if (acid != NULL && strcmp(s->appcreds[i]->id,
			    acid) == 0)
				a = s->appcreds[i];
			else if (acid == NULL && strcmp(s->appcreds[i]->name,
			    acname) == 0 && s->appcreds[i]->user ==
			    sim_ks_user(s, json_object_get(ac, "user")))
				a = s->appcreds[i];
		}
		if (a == NULL || strcmp(a->secret, secret) != 0) {
			sim_error(c, 401, SIM_KS_UNAUTH);
			return;
		}
		u = a->user;
		p = a->project != NULL ? sim_project_find(s, a->project) :
		    NULL;
		roles = json_deep_copy(a->roles);
	} else {
		sim_error(c, 401, "Attempted to authenticate with an "
		    "unsupported method.");
		return;
	}

	t = xcalloc(1, sizeof *t);
	t->token = xmalloc(184);
	memcpy(t->token, "gAAAAAB", 7);
	sim_ks_random(t->token + 7, 184 - 7);
	sim_ks_random(t->audit, 23);
	t->user = u;
	t->project = p;
	t->roles = roles;
	t->methods = json_pack("[s]", method);
	t->appcred = a != NULL ? xstrdup(a->id) : NULL;
	t->issued_wall = time_now_ms();
	t->expires_wall = t->issued_wall + s->token_ttl_ms;
	t->dies = c->now + (s->token_dies_ms >= 0 ? s->token_dies_ms :
	    s->token_ttl_ms);
	s->tokens = xreallocarray(s->tokens, s->ntokens + 1,
	    sizeof *s->tokens);
	s->tokens[s->ntokens++] = t;
	json_object_set_new(c->resp->headers, "X-Subject-Token",
	    json_string(t->token));
	sim_reply(c, 201, sim_ks_doc(c, t));
}

/* A token that works now, or NULL. */
struct sim_token *
sim_ks_token(struct sim *s, const char *token, int64_t now)
{
	size_t	i;

	if (token == NULL)
		return (NULL);
	for (i = 0; i < s->ntokens; i++) {
		if (strcmp(s->tokens[i]->token, token) == 0)
			return (now < s->tokens[i]->dies ? s->tokens[i] :
			    NULL);
	}
	return (NULL);
}

/* Whether the token carries the admin role. */
int
sim_ks_admin(struct sim_token *t)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(t->roles, i, r) {
		if (strcmp(json_string_value(r), "admin") == 0)
			return (1);
	}
	return (0);
}

/* GET|HEAD /identity/v3/auth/tokens: validate X-Subject-Token. */
void
sim_ks_validate(struct sim_call *c)
{
	struct sim_token	*t;
	const char		*sub;

	sub = json_string_value(json_object_get(c->req->headers,
	    "x-subject-token"));
	if (sub == NULL) {
		sim_error(c, 400, "X-Subject-Token is needed.");
		return;
	}
	if ((t = sim_ks_token(c->sim, sub, c->now)) == NULL) {
		sim_error(c, 404, "Could not find token: %.8s...", sub);
		return;
	}
	json_object_set_new(c->resp->headers, "X-Subject-Token",
	    json_string(sub));
	sim_reply(c, 200, sim_ks_doc(c, t));
}

/* DELETE /identity/v3/auth/tokens: revoke X-Subject-Token. */
void
sim_ks_revoke(struct sim_call *c)
{
	struct sim_token	*t;
	const char		*sub;

	sub = json_string_value(json_object_get(c->req->headers,
	    "x-subject-token"));
	if ((t = sim_ks_token(c->sim, sub, c->now)) == NULL) {
		sim_error(c, 404, "Could not find token: %.8s...",
		    sub != NULL ? sub : "");
		return;
	}
	t->dies = c->now;
	sim_reply(c, 204, NULL);
}

/* POST /identity/v3/users/{id}/application_credentials. */
void
sim_ks_appcred_create(struct sim_call *c)
{
	struct sim		*s = c->sim;
	struct sim_appcred	*a;
	json_t			*in, *roles, *r;
	const char		*name, *secret;
	char			 gen[40];
	size_t			 i;

	if (strcmp(c->arg[0], c->token->user->id) != 0) {
		sim_error(c, 403, "You are not authorized to perform the "
		    "requested action: identity:create_application_credential."
		    );
		return;
	}
	in = json_object_get(c->body, "application_credential");
	name = json_string_value(json_object_get(in, "name"));
	if (name == NULL || *name == '\0') {
		sim_error(c, 400, "Invalid input for field "
		    "'application_credential': 'name' is a required "
		    "property.");
		return;
	}
	for (i = 0; i < s->nappcreds; i++) {
		if (s->appcreds[i]->user == c->token->user &&
		    strcmp(s->appcreds[i]->name, name) == 0) {
			sim_error(c, 409, "Conflict occurred attempting to "
			    "store application_credential - Duplicate entry.");
			return;
		}
	}
	secret = json_string_value(json_object_get(in, "secret"));
	if (secret == NULL) {
		sim_ks_random(gen, sizeof gen);
		secret = gen;
	}
	a = xcalloc(1, sizeof *a);
	uuid_make(a->id);
	a->name = xstrdup(name);
	a->secret = xstrdup(secret);
	a->user = c->token->user;
	a->project = c->token->project != NULL ?
	    xstrdup(c->token->project->name) : NULL;
	a->roles = json_deep_copy(c->token->roles);
	s->appcreds = xreallocarray(s->appcreds, s->nappcreds + 1,
	    sizeof *s->appcreds);
	s->appcreds[s->nappcreds++] = a;
	roles = json_array();
	json_array_foreach(a->roles, i, r)
		json_array_append_new(roles, json_pack("{s:O,s:O}", "id", r,
		    "name", r));
	sim_reply(c, 201, json_pack("{s:{s:s,s:s,s:s,s:s?,s:o,s:b,s:n}}",
	    "application_credential", "id", a->id, "name", a->name, "secret",
	    a->secret, "project_id", c->token->project != NULL ?
	    c->token->project->id : NULL, "roles", roles, "unrestricted", 0,
	    "expires_at"));
}

/* GET /identity/v3/users/{id}/application_credentials (no secrets). */
void
sim_ks_appcred_list(struct sim_call *c)
{
	json_t	*list;
	size_t	 i;

	if (strcmp(c->arg[0], c->token->user->id) != 0) {
		sim_error(c, 403, "You are not authorized to perform the "
		    "requested action: identity:list_application_credentials.");
		return;
	}
	list = json_array();
	for (i = 0; i < c->sim->nappcreds; i++) {
		if (c->sim->appcreds[i]->user != c->token->user)
			continue;
		json_array_append_new(list, json_pack("{s:s,s:s}", "id",
		    c->sim->appcreds[i]->id, "name",
		    c->sim->appcreds[i]->name));
	}
	sim_reply(c, 200, json_pack("{s:o}", "application_credentials",
	    list));
}
