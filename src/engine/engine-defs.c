/*
 * engine-defs.c -- the registry of definitions: every stored version of
 * a workbook, workflow file or actions file, parsed once.  The current
 * versions answer name lookups; older ones stay for the executions that
 * started with them.  Callers hold e->api_mtx around lookups.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms.h"
#include "engine/engine-int.h"

static void	 defs_free_one(struct engine_def *);
static int	 defs_segments(struct engine *, struct store *, const char *,
		     const char *, json_t *, struct dsl_errors *);

static void
defs_free_one(struct engine_def *d)
{
	if (d == NULL)
		return;
	free(d->kind);
	free(d->name);
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

/* The current definition holding workflow name (full or short). */
struct engine_def *
engine_defs_workflow(struct engine *e, const char *name,
    const struct dsl_workflow **wf)
{
	size_t				 i;
	const struct dsl_workflow	*w;

	for (i = e->ndefs; i > 0; i--) {
		if (!e->defs[i - 1]->current)
			continue;
		if ((w = dsl_workflow_find(e->defs[i - 1]->wb, name)) != NULL) {
			*wf = w;
			return (e->defs[i - 1]);
		}
	}
	*wf = NULL;
	return (NULL);
}

/* The current definition holding ad-hoc action name. */
struct engine_def *
engine_defs_action(struct engine *e, const char *name,
    const struct dsl_action **a)
{
	size_t			 i;
	const struct dsl_action	*x;

	for (i = e->ndefs; i > 0; i--) {
		if (!e->defs[i - 1]->current)
			continue;
		if ((x = dsl_action_find(e->defs[i - 1]->wb, name)) != NULL) {
			*a = x;
			return (e->defs[i - 1]);
		}
	}
	*a = NULL;
	return (NULL);
}

/* Parse a stored row into a registry entry; NULL + *cause. */
static struct engine_def *
defs_make(const struct store_def *row, char **cause)
{
	struct engine_def	*d;
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;

	dsl_errors_init(&errs);
	wb = dsl_parse(row->source != NULL ? row->source : row->name,
	    row->text, strlen(row->text), NULL, &errs);
	if (wb == NULL) {
		*cause = dsl_errors_format(&errs);
		dsl_errors_free(&errs);
		return (NULL);
	}
	dsl_errors_free(&errs);
	d = xcalloc(1, sizeof *d);
	memcpy(d->id, row->id, UUID_STRLEN);
	d->kind = xstrdup(row->kind);
	d->name = xstrdup(row->name);
	d->source = xstrdup(row->source != NULL ? row->source : "api");
	d->version = row->version;
	d->created_at = row->created_at;
	d->updated_at = row->updated_at;
	d->text = xstrdup(row->text);
	d->wb = wb;
	return (d);
}

/* Add to the registry, making it the current one of its (kind, name). */
static void
defs_add(struct engine *e, struct engine_def *d, int current)
{
	size_t	 i;

	if (current) {
		for (i = 0; i < e->ndefs; i++) {
			if (strcmp(e->defs[i]->kind, d->kind) == 0 &&
			    strcmp(e->defs[i]->name, d->name) == 0)
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
		pthread_mutex_unlock(&e->api_mtx);
		return (d);
	}
	if (store_def_load(st, id, &row) != STORE_OK) {
		pthread_mutex_unlock(&e->api_mtx);
		xasprintf(cause, "definition %s: %s", id, store_error(st));
		return (NULL);
	}
	if ((d = defs_make(row, cause)) != NULL)
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

	if (store_def_list_current(e->st, &rows, &n) != STORE_OK) {
		xasprintf(cause, "loading definitions: %s",
		    store_error(e->st));
		return (-1);
	}
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < n; i++) {
		if ((d = defs_make(rows[i], &err)) == NULL) {
			log_warnx("definition %s (%s): %s", rows[i]->name,
			    rows[i]->kind, err);
			free(err);
			err = NULL;
		} else
			defs_add(e, d, 1);
		store_def_free(rows[i]);
	}
	pthread_mutex_unlock(&e->api_mtx);
	free(rows);
	return (0);
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

	if ((st = store_pool_get(e->pool, &err)) == NULL) {
		free(err);
		return;
	}
	rc = store_def_list_current(st, &rows, &n);
	store_pool_put(e->pool);
	if (rc != STORE_OK)
		return;
	pthread_mutex_lock(&e->api_mtx);
	for (k = 0; k < e->ndefs; k++)
		e->defs[k]->current = 0;
	for (i = 0; i < n; i++) {
		if ((d = engine_defs_find_id(e, rows[i]->id)) != NULL)
			d->current = 1;
		else if ((d = defs_make(rows[i], &err)) != NULL)
			defs_add(e, d, 1);
		else {
			free(err);
			err = NULL;
		}
		store_def_free(rows[i]);
	}
	free(rows);
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
	return (engine_defs_action(e, name, &a) != NULL);
}

static int
defs_workflow_exists(void *arg, const char *name)
{
	struct engine			*e = arg;
	const struct dsl_workflow	*wf;

	return (engine_defs_workflow(e, name, &wf) != NULL);
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

/* See engine.h. */
enum store_rc
engine_def_load(struct engine *e, const char *kind, const char *name,
    const char *text, const char *source, int create_only,
    struct dsl_errors *errs, struct store_def **out)
{
	struct dsl_workbook		*wb;
	struct dsl_resolver		 r;
	struct store_def		*row = NULL;
	struct engine_def		*d, *other;
	const struct dsl_workflow	*wf;
	struct store			*st;
	char				*dname, *cause = NULL;
	enum store_rc			 rc;
	size_t				 i;

	if (out != NULL)
		*out = NULL;
	wb = dsl_parse(source != NULL ? source : kind, text, strlen(text),
	    NULL, errs);
	if (wb == NULL || errs->n > 0) {
		dsl_workbook_free(wb);
		return (STORE_ERROR);
	}
	if (strcmp(kind, "workbook") == 0 && wb->name == NULL) {
		dsl_errors_add(errs, NULL, "name", "a workbook needs a name");
		dsl_workbook_free(wb);
		return (STORE_ERROR);
	}
	/* The pool's connection first, then the registry: that order. */
	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		dsl_errors_add(errs, NULL, "", "%s", cause);
		free(cause);
		dsl_workbook_free(wb);
		return (STORE_UNAVAILABLE);
	}
	pthread_mutex_lock(&e->api_mtx);
	engine_resolver(e, &r);
	if (dsl_validate(wb, &r, errs) > 0) {
		pthread_mutex_unlock(&e->api_mtx);
		store_pool_put(e->pool);
		dsl_workbook_free(wb);
		return (STORE_ERROR);
	}
	dname = defs_name(kind, name, source, wb);
	/* A workflow name belongs to one current definition. */
	for (i = 0; i < wb->nworkflows; i++) {
		other = engine_defs_workflow(e, wb->workflows[i].name, &wf);
		if (other != NULL && (strcmp(other->kind, kind) != 0 ||
		    strcmp(other->name, dname) != 0)) {
			if (create_only) {
				dsl_errors_add(errs, NULL, wb->workflows[i].path,
				    "Duplicate entry for WorkflowDefinition: "
				    "%s", wb->workflows[i].name);
				pthread_mutex_unlock(&e->api_mtx);
				store_pool_put(e->pool);
				free(dname);
				dsl_workbook_free(wb);
				return (STORE_CONFLICT);
			}
		}
	}
	if (defs_segments(e, st, kind, dname, wb->segments, errs) != 0) {
		pthread_mutex_unlock(&e->api_mtx);
		store_pool_put(e->pool);
		free(dname);
		dsl_workbook_free(wb);
		return (STORE_ERROR);
	}
	rc = store_def_save(st, kind, dname, text,
	    source != NULL ? source : "api", create_only, 0, &row);
	if (rc != STORE_OK) {
		if (rc == STORE_CONFLICT)
			dsl_errors_add(errs, NULL, "", "Duplicate entry for "
			    "%s: %s", kind, dname);
		else
			dsl_errors_add(errs, NULL, "", "%s",
			    store_error(st));
		pthread_mutex_unlock(&e->api_mtx);
		store_pool_put(e->pool);
		free(dname);
		dsl_workbook_free(wb);
		return (rc);
	}
	free(dname);
	d = xcalloc(1, sizeof *d);
	memcpy(d->id, row->id, UUID_STRLEN);
	d->kind = xstrdup(row->kind);
	d->name = xstrdup(row->name);
	d->source = xstrdup(row->source);
	d->version = row->version;
	d->created_at = row->created_at;
	d->updated_at = row->updated_at;
	d->text = xstrdup(text);
	d->wb = wb;
	defs_add(e, d, 1);
	for (i = 0; i < wb->nworkflows; i++) {
		struct store_workflow *w = NULL;

		if (store_workflow_save(st, wb->workflows[i].name,
		    d->id, &w) == STORE_OK)
			store_workflow_free(w);
	}
	pthread_mutex_unlock(&e->api_mtx);
	store_pool_put(e->pool);
	(void)cause;
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

/* Delete (kind, name): its workflows and actions are no longer found. */
enum store_rc
engine_def_delete(struct engine *e, const char *kind, const char *name)
{
	struct engine_def	*d = NULL;
	struct store		*st;
	enum store_rc		 rc;
	size_t			 i;
	char			*cause = NULL;

	if ((st = store_pool_get(e->pool, &cause)) == NULL) {
		free(cause);
		return (STORE_UNAVAILABLE);
	}
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		if (e->defs[i]->current &&
		    strcmp(e->defs[i]->kind, kind) == 0 &&
		    strcmp(e->defs[i]->name, name) == 0)
			d = e->defs[i];
	}
	if (d == NULL) {
		pthread_mutex_unlock(&e->api_mtx);
		store_pool_put(e->pool);
		return (STORE_NOTFOUND);
	}
	rc = store_def_save(st, kind, name, "", d->source, 0, 1, NULL);
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
		for (i = 0; i < d->wb->nworkflows; i++) {
			const struct dsl_workflow *wf;

			if (engine_defs_workflow(e, d->wb->workflows[i].name,
			    &wf) == NULL)
				(void)store_workflow_delete(st,
				    d->wb->workflows[i].name);
		}
	}
	pthread_mutex_unlock(&e->api_mtx);
	store_pool_put(e->pool);
	return (rc);
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
	pthread_mutex_lock(&e->api_mtx);
	for (i = 0; i < e->ndefs; i++) {
		d = e->defs[i];
		if (!d->current)
			continue;
		for (k = 0; k < d->wb->nworkflows; k++) {
			wf = &d->wb->workflows[k];
			w = NULL;
			if (st != NULL)
				(void)store_workflow_load(st, wf->name, &w);
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
	char			*input;
	struct buf		 b;

	arr = json_array();
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
		if (!d->current)
			continue;
		for (k = 0; k < d->wb->nactions; k++) {
			buf_init(&b, 0);
			buf_puts(&b, "");
			for (j = 0; j < d->wb->actions[k].ninputs; j++)
				buf_printf(&b, "%s%s", j ? ", " : "",
				    d->wb->actions[k].inputs[j].name);
			o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s}", "name",
			    d->wb->actions[k].name, "input", b.data != NULL ?
			    b.data : "", "is_system", 0, "description",
			    d->wb->actions[k].description != NULL ?
			    d->wb->actions[k].description : "", "definition",
			    d->text, "base", d->wb->actions[k].base);
			buf_free(&b);
			json_array_append_new(arr, o);
		}
	}
	pthread_mutex_unlock(&e->api_mtx);
	return (arr);
}
