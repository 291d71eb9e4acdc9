/*
 * engine-defs.c -- the registry of definitions: every stored version of
 * a workbook, workflow file or actions file, parsed once.  The current
 * versions answer name lookups; older ones stay for the executions that
 * started with them.  Callers hold e->api_mtx around lookups.
 *
 * An actions file holds ad-hoc actions only (defs_check refuses more),
 * so the registry parses one loaded from the store when an action is
 * first looked up in it: a process that runs one workflow of built-in
 * actions never parses the shipped catalogs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms.h"
#include "alarms/alarms.h"
#include "engine/engine-int.h"

static void	 defs_free_one(struct engine_def *);
static void	 defs_changed(struct engine *);
static int	 defs_is_actions(const struct engine_def *);
static struct dsl_workbook *defs_parse(const char *, const char *,
		     char **);
static int	 defs_segments(struct engine *, struct store *, const char *,
		     const char *, json_t *, struct dsl_errors *);

/* Tell what is built from the current definitions (api_mtx held). */
static void
defs_changed(struct engine *e)
{
	if (e->defs_changed != NULL)
		e->defs_changed(e);
}

static void
defs_free_one(struct engine_def *d)
{
	if (d == NULL)
		return;
	free(d->kind);
	free(d->name);
	free(d->namespace);
	free(d->scope);
	free(d->source);
	free(d->text);
	json_decref(d->wf_ids);
	dsl_workbook_free(d->wb);
	free(d);
}

void
engine_defs_free(struct engine *e)
{
	size_t	 i;

	for (i = 0; i < e->ndefs; i++)
		defs_free_one(e->defs[i]);
	free(e->defs);
	e->defs = NULL;
	e->ndefs = 0;
}

struct engine_def *
engine_defs_find_id(struct engine *e, const char *id)
{
	size_t	 i;

	for (i = 0; i < e->ndefs; i++) {
		if (strcmp(e->defs[i]->id, id) == 0)
			return (e->defs[i]);
	}
	return (NULL);
}

/* Is d current and in namespace ns? */
static int
defs_in(const struct engine_def *d, const char *ns)
{
	return (d->current && strcmp(d->namespace, ns != NULL ? ns : "") == 0);
}

static int
defs_is_actions(const struct engine_def *d)
{
	return (strcmp(d->kind, "actions") == 0);
}

/* Parse a stored text; NULL + *cause. */
static struct dsl_workbook *
defs_parse(const char *file, const char *text, char **cause)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;

	dsl_errors_init(&errs);
	wb = dsl_parse(file, text, strlen(text), NULL, &errs);
	if (wb == NULL)
		*cause = dsl_errors_format(&errs);
	dsl_errors_free(&errs);
	return (wb);
}

/* See engine-int.h. */
const struct dsl_workbook *
engine_def_wb(struct engine_def *d)
{
	char	*cause = NULL;

	if (d->wb != NULL || d->unparsable)
		return (d->wb);
	if ((d->wb = defs_parse(d->source, d->text, &cause)) == NULL) {
		log_warnx("definition %s (%s): %s", d->name, d->kind, cause);
		free(cause);
		d->unparsable = 1;
	}
	return (d->wb);
}

/* A workflow or an ad-hoc action of a definition, by name. */
typedef const void *(*defs_lookup)(struct engine_def *, const char *);

static const void *
defs_lookup_workflow(struct engine_def *d, const char *name)
{
	if (defs_is_actions(d) || d->wb == NULL)
		return (NULL);
	return (dsl_workflow_find(d->wb, name));
}

static const void *
defs_lookup_action(struct engine_def *d, const char *name)
{
	const struct dsl_workbook	*wb;

	if ((wb = engine_def_wb(d)) == NULL)
		return (NULL);
	return (dsl_action_find(wb, name));
}

/*
 * The newest current definition holding name (as lookup finds it) in
 * namespace ns, else in the default one; *out gets what it holds.
 */
static struct engine_def *
defs_find_ns(struct engine *e, const char *name, const char *ns,
    defs_lookup lookup, const void **out)
{
	const void	*x;
	size_t		 i;
	int		 pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = e->ndefs; i > 0; i--) {
			if (!defs_in(e->defs[i - 1], pass == 0 ? ns : ""))
				continue;
			if ((x = lookup(e->defs[i - 1], name)) != NULL) {
				*out = x;
				return (e->defs[i - 1]);
			}
		}
		if (ns == NULL || *ns == '\0')
			break;
	}
	*out = NULL;
	return (NULL);
}

/* The current definition holding workflow name (full or short). */
struct engine_def *
engine_defs_workflow_ns(struct engine *e, const char *name, const char *ns,
    const struct dsl_workflow **wf)
{
	const void		*x;
	struct engine_def	*d;

	d = defs_find_ns(e, name, ns, defs_lookup_workflow, &x);
	*wf = x;
	return (d);
}

struct engine_def *
engine_defs_workflow(struct engine *e, const char *name,
    const struct dsl_workflow **wf)
{
	return (engine_defs_workflow_ns(e, name, "", wf));
}

/* The current definition holding ad-hoc action name, as above. */
struct engine_def *
engine_defs_action_ns(struct engine *e, const char *name, const char *ns,
    const struct dsl_action **a)
{
	const void		*x;
	struct engine_def	*d;

	d = defs_find_ns(e, name, ns, defs_lookup_action, &x);
	*a = x;
	return (d);
}

struct engine_def *
engine_defs_action(struct engine *e, const char *name,
    const struct dsl_action **a)
{
	return (engine_defs_action_ns(e, name, "", a));
}

/*
 * A stored row as a registry entry; NULL + *cause.  An actions file is
 * parsed on first use when lazy is set.
 */
static struct engine_def *
defs_make(const struct store_def *row, int lazy, char **cause)
{
	struct engine_def	*d;
	struct dsl_workbook	*wb = NULL;

	if (!(lazy && strcmp(row->kind, "actions") == 0) &&
	    (wb = defs_parse(row->source != NULL ? row->source : row->name,
	    row->text, cause)) == NULL)
		return (NULL);
	d = xcalloc(1, sizeof *d);
	memcpy(d->id, row->id, UUID_STRLEN);
	d->kind = xstrdup(row->kind);
	d->name = xstrdup(row->name);
	d->namespace = xstrdup(row->namespace != NULL ? row->namespace : "");
	d->scope = xstrdup(row->scope != NULL ? row->scope : "private");
	d->source = xstrdup(row->source != NULL ? row->source : "api");
	d->version = row->version;
	d->created_at = row->created_at;
	d->updated_at = row->updated_at;
	d->text = xstrdup(row->text);
	d->wb = wb;
	return (d);
}

/*
 * Add to the registry, making it the current one of its (kind, name,
 * namespace).
 */
static void
defs_add(struct engine *e, struct engine_def *d, int current)
{
	size_t	 i;

	if (current) {
		for (i = 0; i < e->ndefs; i++) {
			if (strcmp(e->defs[i]->kind, d->kind) == 0 &&
			    strcmp(e->defs[i]->name, d->name) == 0 &&
			    strcmp(e->defs[i]->namespace, d->namespace) == 0)
				e->defs[i]->current = 0;
		}
	}
	d->current = current;
	e->defs = xreallocarray(e->defs, e->ndefs + 1, sizeof *e->defs);
	e->defs[e->ndefs++] = d;
}

/* A definition version by id, parsed on first use. */
struct engine_def *
engine_defs_get(struct engine *e, struct store *st, const char *id,
    char **cause)
{
	struct engine_def	*d;
	struct store_def	*row = NULL;

	pthread_mutex_lock(&e->api_mtx);
	if ((d = engine_defs_find_id(e, id)) != NULL) {
		if (engine_def_wb(d) == NULL) {
			xasprintf(cause, "definition %s does not parse", id);
			d = NULL;
		}
		pthread_mutex_unlock(&e->api_mtx);
		return (d);
	}
	if (store_def_load(st, id, &row) != STORE_OK) {
		pthread_mutex_unlock(&e->api_mtx);
		xasprintf(cause, "definition %s: %s", id, store_error(st));
		return (NULL);
	}
	if ((d = defs_make(row, 0, cause)) != NULL)
		defs_add(e, d, 0);
	store_def_free(row);
	pthread_mutex_unlock(&e->api_mtx);
	return (d);
}

/* Load every current definition from the store (at open). */
int
engine_defs_load_all(struct engine *e, char **cause)
{
	struct store_def	**rows = NULL;
	struct engine_def	*d;
	size_t			 n = 0, i;
	char			*err = NULL;

	e->defs_gen = store_def_generation(e->st);
	if (store_def_list_current(e->st, &rows, &n) != STORE_OK) {
		xasprintf(cause, "loading definitions: %s",
		    store_error(e->st));
		return (-1);
	}
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < n; i++) {
		if ((d = defs_make(rows[i], 1, &err)) == NULL) {
			log_warnx("definition %s (%s): %s", rows[i]->name,
			    rows[i]->kind, err);
			free(err);
			err = NULL;
		} else
			defs_add(e, d, 1);
		store_def_free(rows[i]);
	}
	defs_changed(e);
	pthread_mutex_unlock(&e->api_mtx);
	free(rows);
	return (0);
}

/* See engine-int.h. */
void
engine_defs_sync(struct engine *e, struct store *st)
{
	int64_t	 g;

	if (st == NULL || strcmp(store_backend(st), "postgresql") != 0)
		return;
	g = store_def_generation(st);
	pthread_mutex_lock(&e->api_mtx);
	if (g <= e->defs_gen) {
		pthread_mutex_unlock(&e->api_mtx);
		return;
	}
	pthread_mutex_unlock(&e->api_mtx);
	engine_defs_refresh(e);
}

/* Re-read the current definitions when another engine changed them. */
void
engine_defs_refresh(struct engine *e)
{
	struct store_def	**rows = NULL;
	struct engine_def	*d;
	struct store		*st;
	size_t			 n = 0, i, k;
	char			*err = NULL;
	enum store_rc		 rc;

	int64_t			 g;

	if ((st = store_pool_get(e->pool, &err)) == NULL) {
		free(err);
		return;
	}
	/* The generation first: a change after it is seen next time. */
	g = store_def_generation(st);
	rc = store_def_list_current(st, &rows, &n);
	store_pool_put(e->pool);
	if (rc != STORE_OK)
		return;
	pthread_mutex_lock(&e->api_mtx);
	if (g > e->defs_gen)
		e->defs_gen = g;
	for (k = 0; k < e->ndefs; k++)
		e->defs[k]->current = 0;
	for (i = 0; i < n; i++) {
		if ((d = engine_defs_find_id(e, rows[i]->id)) != NULL)
			d->current = 1;
		else if ((d = defs_make(rows[i], 1, &err)) != NULL)
			defs_add(e, d, 1);
		else {
			free(err);
			err = NULL;
		}
		store_def_free(rows[i]);
	}
	free(rows);
	defs_changed(e);
	pthread_mutex_unlock(&e->api_mtx);
}

/* Resolver callbacks over this engine's registry. */
static int
defs_action_exists(void *arg, const char *name)
{
	struct engine		*e = arg;
	const struct dsl_action	*a;

	if (action_find(name) != NULL)
		return (1);
	return (engine_defs_action_ns(e, name, e->resolve_ns, &a) != NULL);
}

static int
defs_workflow_exists(void *arg, const char *name)
{
	struct engine			*e = arg;
	const struct dsl_workflow	*wf;

	return (engine_defs_workflow_ns(e, name, e->resolve_ns, &wf) != NULL);
}

static int
defs_expr_check(void *arg, const char *lua, char **cause)
{
	struct engine	*e = arg;

	return (expr_check(e->api_ex, lua, cause));
}

/* Fill a resolver; the caller holds e->api_mtx while validating. */
void
engine_resolver(struct engine *e, struct dsl_resolver *r)
{
	memset(r, 0, sizeof *r);
	r->action_exists = defs_action_exists;
	r->workflow_exists = defs_workflow_exists;
	r->expr_check = defs_expr_check;
	r->source_check = alarm_source_check;
	r->arg = e;
}

/* Validate text without saving it; returns the number of errors. */
size_t
engine_def_validate(struct engine *e, const char *file, const char *text,
    struct dsl_errors *errs)
{
	struct dsl_workbook	*wb;
	struct dsl_resolver	 r;
	size_t			 n;

	wb = dsl_parse(file, text, strlen(text), NULL, errs);
	if (wb == NULL)
		return (errs->n > 0 ? errs->n : 1);
	if (errs->n > 0) {
		dsl_workbook_free(wb);
		return (errs->n);
	}
	pthread_mutex_lock(&e->api_mtx);
	engine_resolver(e, &r);
	n = dsl_validate(wb, &r, errs);
	pthread_mutex_unlock(&e->api_mtx);
	dsl_workbook_free(wb);
	return (n);
}

/* The name a definition is stored under. */
static char *
defs_name(const char *kind, const char *name, const char *source,
    const struct dsl_workbook *wb)
{
	if (name != NULL)
		return (xstrdup(name));
	if (strcmp(kind, "workbook") == 0 && wb->name != NULL)
		return (xstrdup(wb->name));
	if (strcmp(kind, "workflows") == 0 && wb->nworkflows > 0 &&
	    (source == NULL || strcmp(source, "api") == 0))
		return (xstrdup(wb->workflows[0].name));
	if (strcmp(kind, "actions") == 0 && wb->nactions > 0 &&
	    (source == NULL || strcmp(source, "api") == 0))
		return (xstrdup(wb->actions[0].name));
	return (xstrdup(source != NULL ? source : "unnamed"));
}

/*
 * Parse and validate a text in namespace ns (workflows and actions it
 * names are looked up there, then in the default one).  NULL with errs
 * filled when it is not valid.  Takes and gives back e->api_mtx.
 */
static struct dsl_workbook *
defs_check(struct engine *e, const char *kind, const char *text,
    const char *source, const char *ns, struct dsl_errors *errs)
{
	struct dsl_workbook	*wb;
	struct dsl_resolver	 r;
	size_t			 n;

	wb = dsl_parse(source != NULL ? source : kind, text, strlen(text),
	    NULL, errs);
	if (wb == NULL || errs->n > 0) {
		dsl_workbook_free(wb);
		return (NULL);
	}
	if (strcmp(kind, "workbook") == 0 && wb->name == NULL) {
		dsl_errors_add(errs, NULL, "name", "a workbook needs a name");
		dsl_workbook_free(wb);
		return (NULL);
	}
	if (strcmp(kind, "actions") == 0 && (wb->nworkflows > 0 ||
	    wb->ntriggers > 0 || wb->segments != NULL)) {
		dsl_errors_add(errs, NULL, wb->nworkflows > 0 ? "workflows" :
		    wb->ntriggers > 0 ? "triggers" : "segments", "an actions "
		    "file holds actions only; put %s in a workbook or a "
		    "workflow file", wb->nworkflows > 0 ? "workflows" :
		    wb->ntriggers > 0 ? "triggers" : "segments");
		dsl_workbook_free(wb);
		return (NULL);
	}
	pthread_mutex_lock(&e->api_mtx);
	e->resolve_ns = ns;
	engine_resolver(e, &r);
	n = dsl_validate(wb, &r, errs);
	e->resolve_ns = NULL;
	pthread_mutex_unlock(&e->api_mtx);
	if (n > 0) {
		dsl_workbook_free(wb);
		return (NULL);
	}
	return (wb);
}

/*
 * Save a checked text as the new version of (kind, dname, ns) and make
 * it current; wb is taken.  The caller holds st (from the pool) and
 * e->api_mtx.
 */
static enum store_rc
defs_save(struct engine *e, struct store *st, const char *kind,
    const char *dname, const char *ns, const char *scope, const char *text,
    const char *source, int create_only, struct dsl_workbook *wb,
    struct dsl_errors *errs, struct store_def **out)
{
	struct store_def		*row = NULL;
	struct engine_def		*d, *other;
	const struct dsl_workflow	*wf;
	struct store_workflow		*w;
	enum store_rc			 rc;
	size_t				 i;

	/* A workflow name belongs to one current definition. */
	for (i = 0; create_only && i < wb->nworkflows; i++) {
		other = engine_defs_workflow_ns(e, wb->workflows[i].name, ns,
		    &wf);
		if (other != NULL && strcmp(other->namespace, ns) == 0 &&
		    (strcmp(other->kind, kind) != 0 ||
		    strcmp(other->name, dname) != 0)) {
			dsl_errors_add(errs, NULL, wb->workflows[i].path,
			    "Duplicate entry for WorkflowDefinition: %s",
			    wb->workflows[i].name);
			dsl_workbook_free(wb);
			return (STORE_CONFLICT);
		}
	}
	if (defs_segments(e, st, kind, dname, wb->segments, errs) != 0) {
		dsl_workbook_free(wb);
		return (STORE_ERROR);
	}
	rc = store_def_save_ns(st, kind, dname, ns, scope, text,
	    source != NULL ? source : "api", create_only, 0, &row);
	if (rc != STORE_OK) {
		if (rc == STORE_CONFLICT)
			dsl_errors_add(errs, NULL, "", "Duplicate entry for "
			    "%s: %s", kind, dname);
		else
			dsl_errors_add(errs, NULL, "", "%s",
			    store_error(st));
		dsl_workbook_free(wb);
		return (rc);
	}
	d = xcalloc(1, sizeof *d);
	memcpy(d->id, row->id, UUID_STRLEN);
	d->kind = xstrdup(row->kind);
	d->name = xstrdup(row->name);
	d->namespace = xstrdup(ns);
	d->scope = xstrdup(scope != NULL ? scope : "private");
	d->source = xstrdup(row->source);
	d->version = row->version;
	d->created_at = row->created_at;
	d->updated_at = row->updated_at;
	d->text = xstrdup(text);
	d->wb = wb;
	defs_add(e, d, 1);
	defs_changed(e);
	for (i = 0; i < wb->nworkflows; i++) {
		w = NULL;
		if (store_workflow_save_ns(st, wb->workflows[i].name, ns,
		    d->id, &w) == STORE_OK)
			store_workflow_free(w);
	}
	if (out != NULL)
		*out = row;
	else
		store_def_free(row);
	return (STORE_OK);
}

/*
 * The failover segments a workbook declares go to the store with it
 * (alarm_segments_apply), owned by "workbook:NAME".  Called with
 * api_mtx held; only when this version or the current one declares
 * some.  0, or -1 with the reason in errs.
 */
static int
defs_segments(struct engine *e, struct store *st, const char *kind,
    const char *name, json_t *segments, struct dsl_errors *errs)
{
	struct engine_def	*cur = NULL;
	char			*owner, *cause = NULL;
	size_t			 i;
	int			 rc = 0;

	if (strcmp(kind, "workbook") != 0 || name == NULL)
		return (0);
	for (i = 0; i < e->ndefs; i++) {
		if (e->defs[i]->current &&
		    strcmp(e->defs[i]->kind, kind) == 0 &&
		    strcmp(e->defs[i]->name, name) == 0)
			cur = e->defs[i];
	}
	if (segments == NULL && (cur == NULL || cur->wb == NULL ||
	    cur->wb->segments == NULL))
		return (0);
	xasprintf(&owner, "workbook:%s", name);
	if (alarm_segments_apply(st, owner, segments, &cause) != STORE_OK) {
		dsl_errors_add(errs, NULL, "segments", "%s", cause);
		rc = -1;
	}
	free(cause);
	free(owner);
	return (rc);
}

/*
 * A connection of the pool for saving a checked workbook: NULL when none
 * can be had (the reason in errs, wb freed).
 */
static struct store *
defs_store(struct engine *e, struct dsl_workbook *wb,
    struct dsl_errors *errs)
{
	struct store	*st;
	char		*cause = NULL;

	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		dsl_errors_add(errs, NULL, "", "%s", cause);
		free(cause);
		dsl_workbook_free(wb);
	}
	return (st);
}

/* See engine.h. */
enum store_rc
engine_def_load_ns(struct engine *e, const char *kind, const char *name,
    const char *ns, const char *scope, const char *text, const char *source,
    int create_only, struct dsl_errors *errs, struct store_def **out)
{
	struct dsl_workbook	*wb;
	struct store		*st;
	char			*dname;
	enum store_rc		 rc;

	if (out != NULL)
		*out = NULL;
	if (ns == NULL)
		ns = "";
	if ((wb = defs_check(e, kind, text, source, ns, errs)) == NULL)
		return (STORE_ERROR);
	/* The pool's connection first, then the registry: that order. */
	if ((st = defs_store(e, wb, errs)) == NULL)
		return (STORE_UNAVAILABLE);
	pthread_mutex_lock(&e->api_mtx);
	dname = defs_name(kind, name, source, wb);
	rc = defs_save(e, st, kind, dname, ns, scope, text, source,
	    create_only, wb, errs, out);
	pthread_mutex_unlock(&e->api_mtx);
	store_pool_put(e->pool);
	free(dname);
	return (rc);
}

/* See engine.h. */
int
engine_def_current(struct engine *e, const char *kind, const char *source,
    const char *text, char **name)
{
	struct engine_def	*d;
	size_t			 i;
	int			 same = 0;

	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		d = e->defs[i];
		if (d->current && d->source != NULL &&
		    strcmp(d->source, source) == 0 &&
		    strcmp(d->kind, kind) == 0 &&
		    strcmp(d->namespace, "") == 0 &&
		    strcmp(d->text, text) == 0) {
			if (name != NULL)
				*name = xstrdup(d->name);
			same = 1;
			break;
		}
	}
	pthread_mutex_unlock(&e->api_mtx);
	return (same);
}

/* See engine.h. */
enum store_rc
engine_def_load(struct engine *e, const char *kind, const char *name,
    const char *text, const char *source, int create_only,
    struct dsl_errors *errs, struct store_def **out)
{
	return (engine_def_load_ns(e, kind, name, "", NULL, text, source,
	    create_only, errs, out));
}

/* See engine.h. */
enum store_rc
engine_def_upload(struct engine *e, const char *kind, const char *ns,
    const char *scope, const char *text, int create_only,
    struct dsl_errors *errs)
{
	struct dsl_workbook	*wb, *pw;
	struct dsl_part		*parts = NULL;
	struct store		*st;
	struct dsl_errors	 perrs;
	char			*joined = NULL;
	enum store_rc		 rc = STORE_OK;
	size_t			 n = 0, i;

	if (ns == NULL)
		ns = "";
	if ((wb = defs_check(e, kind, text, NULL, ns, errs)) == NULL)
		return (STORE_ERROR);
	if ((st = defs_store(e, wb, errs)) == NULL)
		return (STORE_UNAVAILABLE);
	pthread_mutex_lock(&e->api_mtx);
	if (wb->name != NULL ||
	    dsl_split(text, strlen(text), &parts, &n) != 0) {
		/* One definition: a workbook, or entries sharing anchors. */
		joined = wb->name != NULL ? xstrdup(wb->name) :
		    defs_name(kind, NULL, NULL, wb);
		rc = defs_save(e, st, kind, joined, ns, scope, text, "api",
		    create_only, wb, errs, NULL);
		free(joined);
		goto out;
	}
	dsl_workbook_free(wb);
	/* Each entry its own definition, named after it (as Mistral). */
	for (i = 0; i < n && rc == STORE_OK; i++) {
		dsl_errors_init(&perrs);
		pw = dsl_parse(parts[i].name, parts[i].text,
		    strlen(parts[i].text), NULL, &perrs);
		dsl_errors_free(&perrs);
		if (pw == NULL) {
			dsl_errors_add(errs, NULL, parts[i].name,
			    "cannot be stored alone");
			rc = STORE_ERROR;
			break;
		}
		rc = defs_save(e, st, kind, parts[i].name, ns, scope,
		    parts[i].text, "api", create_only, pw, errs, NULL);
	}
	dsl_parts_free(parts, n);
out:
	pthread_mutex_unlock(&e->api_mtx);
	store_pool_put(e->pool);
	return (rc);
}

/* See engine.h. */
enum store_rc
engine_def_delete_ns(struct engine *e, const char *kind, const char *name,
    const char *ns)
{
	struct engine_def		*d = NULL;
	const struct dsl_workflow	*wf;
	struct store			*st;
	enum store_rc			 rc;
	size_t				 i;
	char				*cause = NULL;

	if (ns == NULL)
		ns = "";
	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		free(cause);
		return (STORE_UNAVAILABLE);
	}
	engine_defs_sync(e, st);
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		if (defs_in(e->defs[i], ns) &&
		    strcmp(e->defs[i]->kind, kind) == 0 &&
		    strcmp(e->defs[i]->name, name) == 0)
			d = e->defs[i];
	}
	if (d == NULL) {
		pthread_mutex_unlock(&e->api_mtx);
		store_pool_put(e->pool);
		return (STORE_NOTFOUND);
	}
	rc = store_def_save_ns(st, kind, name, ns, d->scope, "", d->source, 0,
	    1, NULL);
	if (rc == STORE_OK && d->wb != NULL && d->wb->segments != NULL) {
		struct dsl_errors	errs;

		/* Its segments go with it. */
		dsl_errors_init(&errs);
		if (defs_segments(e, st, kind, name, NULL, &errs) != 0)
			log_warnx("%s %s: %s", kind, name, errs.n > 0 ?
			    errs.v[0].msg : "segments not removed");
		dsl_errors_free(&errs);
	}
	if (rc == STORE_OK) {
		d->current = 0;
		defs_changed(e);
		for (i = 0; d->wb != NULL && i < d->wb->nworkflows; i++) {
			if (engine_defs_workflow_ns(e, d->wb->workflows[i].name,
			    ns, &wf) == NULL ||
			    strcmp(engine_defs_workflow_ns(e,
			    d->wb->workflows[i].name, ns, &wf)->namespace,
			    ns) != 0)
				(void)store_workflow_delete_ns(st,
				    d->wb->workflows[i].name, ns);
		}
	}
	pthread_mutex_unlock(&e->api_mtx);
	store_pool_put(e->pool);
	return (rc);
}

/* Delete (kind, name): its workflows and actions are no longer found. */
enum store_rc
engine_def_delete(struct engine *e, const char *kind, const char *name)
{
	return (engine_def_delete_ns(e, kind, name, ""));
}

/* A workflow's stable id, cached on its parsed definition. */
void
engine_workflow_id(struct engine *e, struct store *st, struct engine_def *def,
    const char *name, char *out)
{
	struct store_workflow	*w = NULL;
	json_t			*v;

	out[0] = '\0';
	pthread_mutex_lock(&e->api_mtx);
	if (def->wf_ids == NULL)
		def->wf_ids = json_object();
	v = json_object_get(def->wf_ids, name);
	if (v != NULL)
		snprintf(out, UUID_STRLEN, "%s", json_string_value(v));
	pthread_mutex_unlock(&e->api_mtx);
	if (out[0] != '\0' || store_workflow_load_ns(st, name, def->namespace,
	    &w) != STORE_OK)
		return;
	memcpy(out, w->id, UUID_STRLEN);
	pthread_mutex_lock(&e->api_mtx);
	json_object_set_new(def->wf_ids, name, json_string(w->id));
	pthread_mutex_unlock(&e->api_mtx);
	store_workflow_free(w);
}

/* Mistral's "input" string: "a, b=\"x\"". */
static char *
defs_input_string(const struct dsl_workflow *wf)
{
	struct buf	 b;
	size_t		 i;
	char		*v;

	buf_init(&b, 0);
	buf_puts(&b, "");
	for (i = 0; i < wf->ninputs; i++) {
		if (i > 0)
			buf_puts(&b, ", ");
		buf_puts(&b, wf->inputs[i].name);
		if (wf->inputs[i].def != NULL) {
			v = json_dumps(wf->inputs[i].def, JSON_ENCODE_ANY |
			    JSON_COMPACT);
			buf_printf(&b, "=%s", v != NULL ? v : "null");
			free(v);
		}
	}
	return (buf_take(&b));
}

/* See engine.h. */
json_t *
engine_workflows(struct engine *e)
{
	json_t			*arr, *o, *in, *ifc;
	struct engine_def	*d;
	struct store_workflow	*w;
	struct store		*st;
	size_t			 i, k, j;
	char			 c[20], u[20], *input, *cause = NULL;
	const struct dsl_workflow *wf;

	arr = json_array();
	/* Without a connection the ids are the definitions'. */
	if ((st = store_pool_get(e->pool, &cause)) == NULL)
		free(cause);
	engine_defs_sync(e, st);
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		d = e->defs[i];
		if (!d->current || defs_is_actions(d) || d->wb == NULL)
			continue;
		for (k = 0; k < d->wb->nworkflows; k++) {
			wf = &d->wb->workflows[k];
			w = NULL;
			if (st != NULL)
				(void)store_workflow_load_ns(st, wf->name,
				    d->namespace, &w);
			time_format(w != NULL ? w->created_at : d->created_at,
			    c);
			time_format(d->created_at, u);
			input = defs_input_string(wf);
			in = json_array();
			for (j = 0; j < wf->ninputs; j++) {
				if (wf->inputs[j].def == NULL)
					json_array_append_new(in,
					    json_string(wf->inputs[j].name));
				else
					json_array_append_new(in, json_pack(
					    "{s:O}", wf->inputs[j].name,
					    wf->inputs[j].def));
			}
			ifc = json_pack("{s:o,s:o}", "input", in, "output",
			    json_array());
			if (wf->output != NULL && json_is_object(wf->output)) {
				const char *key;
				json_t *v;
				json_object_foreach(wf->output, key, v)
				    json_array_append_new(json_object_get(ifc,
				    "output"), json_string(key));
			}
			o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:s,s:s,s:s,"
			    "s:s?,s:s,s:i}", "id", w != NULL ? w->id : d->id,
			    "name", wf->name, "input", input, "interface", ifc,
			    "definition", d->text, "tags", json_array(),
			    "created_at", c, "updated_at", u, "source",
			    d->source, "workbook", d->wb->name, "definition_id",
			    d->id, "version", d->version);
			json_object_set_new(o, "namespace",
			    json_string(d->namespace));
			json_object_set_new(o, "scope", json_string(d->scope));
			for (j = 0; j < wf->ntags; j++)
				json_array_append_new(json_object_get(o,
				    "tags"), json_string(wf->tags[j]));
			free(input);
			store_workflow_free(w);
			json_array_append_new(arr, o);
		}
	}
	pthread_mutex_unlock(&e->api_mtx);
	if (st != NULL)
		store_pool_put(e->pool);
	return (arr);
}

/* See engine.h. */
json_t *
engine_actions(struct engine *e)
{
	const struct action_entry *const *all = action_all();
	json_t			*arr, *o;
	struct engine_def	*d;
	size_t			 i, k, j;
	char			*input, c[20], u[20], *cause = NULL;
	struct buf		 b;
	struct store		*st;
	json_t			*tags;
	const struct dsl_action	*a;

	arr = json_array();
	if ((st = store_pool_get(e->pool, &cause)) != NULL) {
		engine_defs_sync(e, st);
		store_pool_put(e->pool);
	} else
		free(cause);
	for (i = 0; all[i] != NULL; i++) {
		input = action_params_string(all[i]);
		o = json_pack("{s:s,s:s,s:b,s:s,s:s?}", "name", all[i]->name,
		    "input", input, "is_system", 1, "description",
		    all[i]->description != NULL ? all[i]->description : "",
		    "definition", NULL);
		free(input);
		json_array_append_new(arr, o);
	}
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		d = e->defs[i];
		if (!d->current || engine_def_wb(d) == NULL)
			continue;
		for (k = 0; k < d->wb->nactions; k++) {
			a = &d->wb->actions[k];
			buf_init(&b, 0);
			buf_puts(&b, "");
			for (j = 0; j < a->ninputs; j++)
				buf_printf(&b, "%s%s", j ? ", " : "",
				    a->inputs[j].name);
			tags = json_array();
			for (j = 0; j < a->ntags; j++)
				json_array_append_new(tags,
				    json_string(a->tags[j]));
			time_format(d->created_at, c);
			time_format(d->updated_at, u);
			o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:s,s:o,"
			    "s:s,s:s,s:s}", "name", a->name, "input",
			    b.data != NULL ? b.data : "", "is_system", 0,
			    "description", a->description != NULL ?
			    a->description : "", "definition", d->text,
			    "base", a->base, "namespace", d->namespace,
			    "scope", d->scope, "tags", tags, "created_at", c,
			    "updated_at", u, "id", d->id);
			json_object_set_new(o, "definition_id",
			    json_string(d->id));
			buf_free(&b);
			json_array_append_new(arr, o);
		}
	}
	pthread_mutex_unlock(&e->api_mtx);
	return (arr);
}
