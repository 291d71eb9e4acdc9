/*
 * engine-calls.c -- the engine's calls from other threads (API handlers,
 * bora): each writes rows through a connection borrowed from the
 * engine's pool (the same one its caller may hold) and pokes the loop,
 * which owns every execution in memory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-int.h"

/* Check input against the workflow's declaration; apply defaults. */
static json_t *
exec_input(const struct dsl_workflow *wf, json_t *input, char **cause)
{
	json_t		*in, *v;
	const char	*key;
	size_t		 i, nmiss = 0;
	struct buf	 miss;
	int		 known;

	in = json_object();
	buf_init(&miss, 0);
	for (i = 0; i < wf->ninputs; i++) {
		v = input != NULL ? json_object_get(input,
		    wf->inputs[i].name) : NULL;
		if (v == NULL)
			v = wf->inputs[i].def;
		if (v == NULL) {
			buf_printf(&miss, "%s'%s'", nmiss++ ? ", " : "",
			    wf->inputs[i].name);
			continue;
		}
		json_object_set(in, wf->inputs[i].name, v);
	}
	if (nmiss > 0) {
		xasprintf(cause, "Invalid input [name=%s, missing=[%s]]",
		    wf->name, miss.data);
		buf_free(&miss);
		json_decref(in);
		return (NULL);
	}
	buf_free(&miss);
	if (input != NULL) {
		json_object_foreach(input, key, v) {
			known = 0;
			for (i = 0; i < wf->ninputs; i++)
				if (strcmp(wf->inputs[i].name, key) == 0)
					known = 1;
			if (!known) {
				xasprintf(cause, "Invalid input [name=%s, "
				    "unexpected=['%s']]", wf->name, key);
				json_decref(in);
				return (NULL);
			}
		}
	}
	return (in);
}

/*
 * Commit from another thread's connection, once more if the store was
 * unavailable: nothing was applied then, and a connection the database
 * closed while it sat idle is only noticed on use; the retry reconnects.
 */
static enum store_rc
exec_commit_retry(struct store *st, struct store_tx *tx)
{
	enum store_rc	 rc;

	if ((rc = store_tx_commit(st, tx)) == STORE_UNAVAILABLE)
		rc = store_tx_commit(st, tx);
	return (rc);
}

/*
 * Commit a new execution: from the threads of a daemon, together with
 * the starts other threads commit at the same time (one transaction,
 * one flush to the disk for many), each all or nothing; once more when
 * the store was unavailable, as exec_commit_retry().
 */
static enum store_rc
exec_commit_start(struct engine *e, struct store *st, struct store_tx *tx)
{
	enum store_rc	 rc;

	if (e->cfg.in_process)
		return (exec_commit_retry(st, tx));
	if ((rc = store_group_commit(e->starts, st, tx)) == STORE_UNAVAILABLE)
		rc = store_group_commit(e->starts, st, tx);
	return (rc);
}

/* The execution of a client-supplied id, when it exists (1). */
static int
exec_existing(struct store *st, const char *id, struct store_exec **out)
{
	struct store_exec	*ex = NULL;

	if (id == NULL || store_exec_load(st, id, &ex) != STORE_OK)
		return (0);
	if (out != NULL)
		*out = ex;
	else
		store_exec_free(ex);
	return (1);
}

/*
 * params.env given as a name: the variables of that environment, as
 * Mistral resolves it at start.  -1 + *cause when there is none.
 */
static int
exec_env(struct store *st, json_t *params, char **cause)
{
	struct store_env	*env = NULL;
	const char		*name;

	name = json_string_value(json_object_get(params, "env"));
	if (name == NULL)
		return (0);
	if (store_env_load(st, name, &env) != STORE_OK) {
		xasprintf(cause, "Environment not found [name=%s]", name);
		return (-1);
	}
	json_object_set_new(params, "env", env->variables != NULL ?
	    json_deep_copy(env->variables) : json_object());
	store_env_free(env);
	return (0);
}

/* Build the row of a new execution (see engine.h). */
enum store_rc
engine_exec_prepare(struct engine *e, struct store *st,
    const struct engine_start_opts *o, struct store_exec **out, char **cause)
{
	struct engine_def		*def;
	const struct dsl_workflow	*wf = NULL;
	struct store_exec		*row;
	struct store_workflow		*wfid = NULL;
	json_t				*input, *params;
	const char			*ns, *tn;

	*out = NULL;
	ns = o->namespace != NULL ? o->namespace : "";
	/* What other engines committed is usable here at once. */
	engine_defs_sync(e, st);
	/*
	 * Parsed definitions are never freed while the engine lives.  A
	 * name is looked up in the namespace given, as Mistral does.
	 */
	pthread_mutex_lock(&e->api_mtx);
	def = engine_defs_workflow_ns(e, o->workflow, ns, &wf);
	if (def != NULL && strcmp(def->namespace, ns) != 0)
		def = NULL;
	pthread_mutex_unlock(&e->api_mtx);
	if (def == NULL && uuid_valid(o->workflow) &&
	    store_workflow_load_ns(st, o->workflow, ns, &wfid) == STORE_OK) {
		pthread_mutex_lock(&e->api_mtx);
		def = engine_defs_workflow_ns(e, wfid->name, wfid->namespace,
		    &wf);
		pthread_mutex_unlock(&e->api_mtx);
		ns = def != NULL ? def->namespace : "";
		store_workflow_free(wfid);
	}
	if (def == NULL) {
		xasprintf(cause, "Workflow not found [workflow_identifier=%s, "
		    "namespace=%s]", o->workflow, ns);
		return (STORE_NOTFOUND);
	}
	if (o->id != NULL && !uuid_valid(o->id)) {
		xasprintf(cause, "invalid execution id '%s' (expected a UUID)",
		    o->id);
		return (STORE_ERROR);
	}
	if ((input = exec_input(wf, o->input, cause)) == NULL)
		return (STORE_ERROR);
	params = o->params != NULL ? json_deep_copy(o->params) :
	    json_object();
	if (engine_tell_check(json_object_get(params, "notify"), cause) != 0) {
		json_decref(input);
		json_decref(params);
		return (STORE_ERROR);
	}
	json_object_set_new(params, "namespace", json_string(ns));
	if (o->task_target != NULL)
		json_object_set_new(params, "task_name",
		    json_string(o->task_target));
	if (exec_env(st, params, cause) != 0) {
		json_decref(input);
		json_decref(params);
		return (STORE_NOTFOUND);
	}
	tn = json_string_value(json_object_get(params, "task_name"));
	if (wf->type == DSL_WF_REVERSE && (tn == NULL ||
	    dsl_task_find(wf, tn) == NULL)) {
		xasprintf(cause, "reverse workflow '%s' needs a target task "
		    "(params.task_name): %s", wf->name, tn == NULL ?
		    "none given" : "no such task");
		json_decref(input);
		json_decref(params);
		return (STORE_ERROR);
	}
	row = xcalloc(1, sizeof *row);
	if (o->id != NULL)
		snprintf(row->id, UUID_STRLEN, "%s", o->id);
	else
		uuid_make(row->id);
	row->workflow_name = xstrdup(wf->name);
	row->workflow_namespace = xstrdup(def->namespace);
	engine_workflow_id(e, st, def, wf->name, row->workflow_id);
	memcpy(row->def_id, def->id, UUID_STRLEN);
	row->state = xstrdup(store_state_name(STATE_RUNNING));
	row->input = input;
	row->output = json_object();
	row->params = params;
	row->context = json_object();
	row->description = xstrdup(o->description != NULL ?
	    o->description : "");
	row->request_id = o->request_id != NULL ? xstrdup(o->request_id) :
	    NULL;
	row->created_at = row->updated_at = time_now_ms();
	*out = row;
	return (STORE_OK);
}

/* See engine.h. */
enum store_rc
engine_exec_check(struct engine *e, const struct engine_start_opts *o,
    char **cause)
{
	struct store_exec	*row = NULL;
	struct store		*st;
	enum store_rc		 rc;

	if ((st = store_pool_get(e->pool, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = engine_exec_prepare(e, st, o, &row, cause)) == STORE_OK)
		store_exec_free(row);
	store_pool_put(e->pool);
	return (rc);
}

/* Create an execution (see engine.h). */
enum store_rc
engine_exec_start(struct engine *e, const struct engine_start_opts *o,
    struct store_exec **out, char **cause)
{
	struct store_exec	*row = NULL;
	struct store_tx		*tx;
	struct store		*st;
	enum store_rc		 rc;
	int			 told;

	if (out != NULL)
		*out = NULL;
	if ((st = store_pool_get(e->pool, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	/*
	 * A client-supplied id that exists returns that execution unchanged
	 * (idempotent create), even when its workflow has gone since.  The
	 * common case, a new id, costs no read: the insert itself finds a
	 * duplicate (see below).
	 */
	if ((rc = engine_exec_prepare(e, st, o, &row, cause)) != STORE_OK) {
		if (rc != STORE_UNAVAILABLE && exec_existing(st, o->id, out)) {
			free(*cause);
			*cause = NULL;
			rc = STORE_OK;
		}
		store_pool_put(e->pool);
		return (rc);
	}
	tx = store_tx_create();
	if (o->also != NULL)
		store_tx_append(tx, o->also);
	/* A new execution needs no work row: see engine_exec_recover(). */
	store_tx_exec_insert(tx, row);
	told = engine_tell_row(e, tx, row, STATE_NONE, STATE_RUNNING);
	rc = exec_commit_start(e, st, tx);
	store_tx_free(tx);
	if (rc == STORE_CONFLICT && exec_existing(st, o->id, out)) {
		store_pool_put(e->pool);
		store_exec_free(row);
		return (STORE_OK);
	}
	if (rc != STORE_OK) {
		xasprintf(cause, "%s", store_error(st));
		/*
		 * The input was fine; the store failed.  The caller may try
		 * again (with the same id, a start is idempotent).
		 */
		if (rc == STORE_ERROR)
			rc = STORE_UNAVAILABLE;
	}
	/* The insert woke the other engines in its transaction. */
	store_pool_put(e->pool);
	if (rc == STORE_OK && out != NULL)
		*out = row;
	else
		store_exec_free(row);
	if (rc == STORE_OK)
		engine_poke(e);
	if (rc == STORE_OK && told > 0)
		engine_outbox_poke(e);
	return (rc);
}

/*
 * Insert a work row for an execution from another thread, moving the
 * execution from one state to another as well unless from is
 * STATE_NONE (row, when given, is the execution, for its receivers).
 */
static enum store_rc
exec_post_work(struct engine *e, const char *exec_id, const char *task_id,
    const char *kind, json_t *payload, enum store_state from,
    enum store_state to, const struct store_exec *row, char **cause)
{
	struct store_tx		*tx;
	struct store_work	 w;
	struct store_exec	 ex;
	struct store		*st;
	enum store_rc		 rc;
	int			 told = 0;

	tx = store_tx_create();
	if (from != STATE_NONE) {
		memset(&ex, 0, sizeof ex);
		snprintf(ex.id, UUID_STRLEN, "%s", exec_id);
		if (engine_row_move(tx, ENGINE_EXEC, &ex, from, to, 0) != 0) {
			store_tx_free(tx);
			xasprintf(cause, "execution %s cannot move from %s to "
			    "%s", exec_id, store_state_name(from),
			    store_state_name(to));
			return (STORE_CONFLICT);
		}
		if (row != NULL) {
			/* Receivers hear of the execution as it now is. */
			struct store_exec	 now = *row;

			now.state = (char *)store_state_name(to);
			told = engine_tell_row(e, tx, &now, from, to);
		}
	}
	memset(&w, 0, sizeof w);
	snprintf(w.execution_id, UUID_STRLEN, "%s", exec_id);
	w.task_id = (char *)task_id;
	w.kind = (char *)kind;
	w.due_at = time_now_ms();
	w.payload = payload;
	store_tx_work_insert(tx, &w);
	if ((st = store_pool_get(e->pool, cause)) == NULL) {
		store_tx_free(tx);
		return (STORE_UNAVAILABLE);
	}
	rc = exec_commit_retry(st, tx);
	/* The work row woke the other engines in its transaction. */
	if (rc != STORE_OK)
		xasprintf(cause, "%s", store_error(st));
	store_pool_put(e->pool);
	store_tx_free(tx);
	if (rc == STORE_OK)
		engine_poke(e);
	if (rc == STORE_OK && told > 0)
		engine_outbox_poke(e);
	return (rc);
}

/* Ask for a state change of an execution (applied by its owner). */
enum store_rc
engine_exec_set_state(struct engine *e, const char *id, const char *state,
    const char *state_info, char **cause)
{
	struct store_exec	*ex = NULL;
	struct store		*st;
	json_t			*p;
	enum store_rc		 rc;
	enum store_state	 want;

	if ((st = store_pool_get(e->pool, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = store_exec_load(st, id, &ex)) == STORE_UNAVAILABLE)
		rc = store_exec_load(st, id, &ex);
	store_pool_put(e->pool);
	if (rc != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			xasprintf(cause, "WorkflowExecution not found [id=%s]",
			    id);
		else
			xasprintf(cause, "%s", store_error(st));
		return (rc);
	}
	want = store_state_parse(state);
	if (want != STATE_PAUSED && want != STATE_RUNNING &&
	    !STATE_FINAL(want)) {
		xasprintf(cause, "invalid state '%s' (expected PAUSED, RUNNING, "
		    "CANCELLED, ERROR or SUCCESS)", state);
		store_exec_free(ex);
		return (STORE_ERROR);
	}
	if (STATE_FINAL(store_state_parse(ex->state))) {
		xasprintf(cause, "execution %s is already %s", id, ex->state);
		store_exec_free(ex);
		return (STORE_CONFLICT);
	}
	store_exec_free(ex);
	p = json_pack("{s:s,s:s?}", "state", state, "state_info", state_info);
	rc = exec_post_work(e, id, NULL, WK_STATE, p, STATE_NONE, STATE_NONE,
	    NULL, cause);
	json_decref(p);
	return (rc);
}

/* Re-run a failed task. */
enum store_rc
engine_task_rerun(struct engine *e, const char *task_id, int reset,
    json_t *env, char **cause)
{
	struct store_task	*t = NULL;
	struct store_exec	*ex = NULL;
	struct store		*st;
	json_t			*p;
	enum store_rc		 rc;
	enum store_state	 from;

	if ((st = store_pool_get(e->pool, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = store_task_load(st, task_id, &t)) == STORE_UNAVAILABLE)
		rc = store_task_load(st, task_id, &t);
	if (rc == STORE_OK)
		rc = store_exec_load(st, t->execution_id, &ex);
	store_pool_put(e->pool);
	if (rc == STORE_UNAVAILABLE) {
		store_task_free(t);
		xasprintf(cause, "store unavailable");
		return (rc);
	}
	if (rc != STORE_OK) {
		xasprintf(cause, "TaskExecution not found [id=%s]", task_id);
		store_task_free(t);
		return (STORE_NOTFOUND);
	}
	if (store_state_parse(t->state) != STATE_ERROR) {
		xasprintf(cause, "task '%s' is %s: only a task in ERROR can "
		    "be re-run", t->name, t->state);
		store_task_free(t);
		store_exec_free(ex);
		return (STORE_CONFLICT);
	}
	p = json_pack("{s:b,s:O?}", "reset", reset, "env", env);
	from = store_state_parse(ex->state);
	rc = exec_post_work(e, t->execution_id, task_id, WK_RERUN, p,
	    from != STATE_RUNNING ? from : STATE_NONE, STATE_RUNNING, ex,
	    cause);
	json_decref(p);
	/*
	 * A finished execution keeps the lease of the engine that ended it;
	 * now running again, it must be claimable at once.
	 */
	if (rc == STORE_OK && ex->owner != NULL && STATE_FINAL(from) &&
	    (st = store_pool_get(e->pool, cause)) != NULL) {
		(void)store_exec_release(st, t->execution_id, ex->owner);
		store_pool_put(e->pool);
		engine_poke(e);
	}
	store_task_free(t);
	store_exec_free(ex);
	return (rc);
}

/* An async action's result arrived. */
enum store_rc
engine_action_complete(struct engine *e, const char *id, const char *state,
    json_t *output, char **cause)
{
	struct store_action	*a = NULL;
	struct store		*st;
	json_t			*p;
	enum store_rc		 rc;

	if ((st = store_pool_get(e->pool, cause)) == NULL)
		return (STORE_UNAVAILABLE);
	if ((rc = store_action_load(st, id, &a)) == STORE_UNAVAILABLE)
		rc = store_action_load(st, id, &a);
	store_pool_put(e->pool);
	if (rc == STORE_UNAVAILABLE) {
		xasprintf(cause, "store unavailable");
		return (rc);
	}
	if (rc != STORE_OK) {
		xasprintf(cause, "ActionExecution not found [id=%s]", id);
		return (STORE_NOTFOUND);
	}
	if (store_state_parse(a->state) != STATE_RUNNING) {
		xasprintf(cause, "action execution %s is already %s", id,
		    a->state);
		store_action_free(a);
		return (STORE_CONFLICT);
	}
	if (a->task_id == NULL) {
		/* Outside a workflow: just record it. */
		struct store_tx		*tx = store_tx_create();
		struct store_action	 u = *a;

		u.output = output;
		if (engine_row_move(tx, ENGINE_ACTION, &u, STATE_RUNNING,
		    store_state_parse(state), SF_OUTPUT) != 0) {
			xasprintf(cause, "action execution %s cannot move to "
			    "%s", id, state);
			rc = STORE_ERROR;
		} else if ((st = store_pool_get(e->pool, cause)) == NULL)
			rc = STORE_UNAVAILABLE;
		else {
			rc = exec_commit_retry(st, tx);
			store_pool_put(e->pool);
		}
		store_tx_free(tx);
		store_action_free(a);
		return (rc);
	}
	p = json_pack("{s:s,s:s,s:O?}", "action_id", id, "state", state,
	    "output", output);
	rc = exec_post_work(e, a->execution_id, a->task_id, WK_RESULT, p,
	    STATE_NONE, STATE_NONE, NULL, cause);
	json_decref(p);
	store_action_free(a);
	return (rc);
}

/* The execution and its tasks as JSON (bora run -f json). */
json_t *
engine_exec_json(struct engine *e, const char *id)
{
	struct store_exec	*ex = NULL;
	struct store_task	**ts = NULL;
	size_t			 n = 0, i;
	json_t			*o, *tasks, *t;
	char			 c[20], u[20], s1[20], s2[20];

	if (store_exec_load(e->st, id, &ex) != STORE_OK)
		return (NULL);
	(void)store_tasks_load(e->st, id, &ts, &n);
	tasks = json_array();
	for (i = 0; i < n; i++) {
		if (ts[i]->started_at != 0)
			time_format(ts[i]->started_at, s1);
		if (ts[i]->finished_at != 0)
			time_format(ts[i]->finished_at, s2);
		t = json_pack("{s:s,s:s,s:s,s:s?,s:O?,s:O?,s:s?,s:s?,s:I}",
		    "id", ts[i]->id, "name", ts[i]->name, "state",
		    ts[i]->state, "state_info", ts[i]->state_info, "result",
		    ts[i]->result != NULL ? ts[i]->result : json_null(),
		    "published", ts[i]->published != NULL ?
		    ts[i]->published : json_object(), "started_at",
		    ts[i]->started_at != 0 ? s1 : NULL, "finished_at",
		    ts[i]->finished_at != 0 ? s2 : NULL, "duration_ms",
		    (json_int_t)(ts[i]->finished_at != 0 &&
		    ts[i]->started_at != 0 ? ts[i]->finished_at -
		    ts[i]->started_at : 0));
		json_array_append_new(tasks, t);
		store_task_free(ts[i]);
	}
	free(ts);
	time_format(ex->created_at, c);
	time_format(ex->updated_at, u);
	o = json_pack("{s:s,s:s,s:s,s:s?,s:O?,s:O?,s:s,s:s,s:o}", "id",
	    ex->id, "workflow_name", ex->workflow_name, "state", ex->state,
	    "state_info", ex->state_info, "input", ex->input != NULL ?
	    ex->input : json_object(), "output", ex->output != NULL ?
	    ex->output : json_object(), "created_at", c, "updated_at", u,
	    "tasks", tasks);
	store_exec_free(ex);
	return (o);
}

/* Completion of an action run outside a workflow. */
struct adhoc_run {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 done;
	int		 ok;
	json_t		*result;
	int		 detached;	/* async: record and free */
	struct engine	*e;
	char		 id[UUID_STRLEN];
	const struct dsl_action *adhoc;	/* its output applies */
	char		 ns[256];	/* the namespace it resolved in */
};

/* An action run alone sees its input as _ and nothing else. */
static void
run_fill(void *arg, json_t *data, struct expr_ctx *ctx)
{
	(void)arg;
	memset(ctx, 0, sizeof *ctx);
	ctx->data = data;
}

/* Apply an ad-hoc action's output in a sandbox of this thread. */
static json_t *
run_output(struct engine *e, struct expr *ex, const struct dsl_action *a,
    const char *ns, json_t *result, int *ok)
{
	struct engine_resolve	 rc;
	struct expr		*own = NULL;
	json_t			*v;
	char			*cause = NULL;

	if (a == NULL || !*ok)
		return (json_incref(result));
	if (ex == NULL && (ex = own = expr_create_lazy(NULL, e->cfg.lua_dir,
	    &cause)) == NULL) {
		*ok = 0;
		v = json_sprintf("action '%s', output: %s", a->name, cause);
		free(cause);
		return (v);
	}
	memset(&rc, 0, sizeof rc);
	rc.e = e;
	rc.ex = ex;
	rc.ns = ns;
	rc.fill = run_fill;
	v = engine_adhoc_output_rc(&rc, a, result, ok);
	expr_free(own);
	return (v);
}

static void
engine_action_run_record(struct engine *e, const char *id, int ok,
    json_t *result)
{
	struct store_tx		*tx = store_tx_create();
	struct store_action	 a;
	struct store		*st;
	char			*cause = NULL;

	memset(&a, 0, sizeof a);
	memcpy(a.id, id, UUID_STRLEN);
	a.output = result;
	a.updated_at = time_now_ms();
	if (engine_row_move(tx, ENGINE_ACTION, &a, STATE_RUNNING, ok ?
	    STATE_SUCCESS : STATE_ERROR, SF_OUTPUT) != 0)
		;	/* logged as a bug: nothing to write */
	else if ((st = store_pool_get(e->pool, &cause)) != NULL) {
		if (store_tx_commit(st, tx) != STORE_OK)
			log_warnx("action %s: result not recorded: %s", id,
			    store_error(st));
		store_pool_put(e->pool);
	} else {
		log_warnx("action %s: result not recorded: %s", id, cause);
		free(cause);
	}
	store_tx_free(tx);
}

static void
engine_action_run_done(void *arg, int ok, json_t *result)
{
	struct adhoc_run	*r = arg;
	int			 detached;

	pthread_mutex_lock(&r->mtx);
	r->ok = ok;
	r->result = result;
	r->done = 1;
	detached = r->detached;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mtx);
	if (detached) {
		json_t	*out = run_output(r->e, NULL, r->adhoc, r->ns, result,
		    &ok);

		json_decref(result);
		result = out;
		engine_action_run_record(r->e, r->id, ok, result);
		json_decref(result);
		pthread_mutex_destroy(&r->mtx);
		pthread_cond_destroy(&r->cond);
		free(r);
	}
}

/* See engine.h. */
enum store_rc
engine_action_run(struct engine *e, const char *name, json_t *input,
    int sync, struct store_action **out, char **cause)
{
	return (engine_action_run_ns(e, name, NULL, input, sync, out, cause));
}

/* See engine.h. */
enum store_rc
engine_action_run_ns(struct engine *e, const char *name, const char *ns,
    json_t *input, int sync, struct store_action **out, char **cause)
{
	const struct action_entry	*entry;
	const struct dsl_action		*adhoc = NULL;
	struct engine_resolve		 rsv;
	struct store_action		 a;
	struct store_tx			*tx;
	struct action_ctx		 actx;
	struct adhoc_run		*r;
	struct expr			*ex;
	struct store			*st;
	json_t				*prepared, *base;
	enum store_rc			 rc;
	int				 wait, ok;

	if (out != NULL)
		*out = NULL;
	/* Lua actions and ad-hoc ones need a sandbox of this thread. */
	if ((ex = expr_create_lazy(NULL, e->cfg.lua_dir, cause)) == NULL)
		return (STORE_ERROR);
	if ((st = store_pool_get(e->pool, cause)) == NULL) {
		expr_free(ex);
		return (STORE_UNAVAILABLE);
	}
	engine_defs_sync(e, st);
	store_pool_put(e->pool);
	/* Ad-hoc actions resolve as in a workflow (the engine's registry). */
	memset(&rsv, 0, sizeof rsv);
	rsv.e = e;
	rsv.ex = ex;
	rsv.ns = ns;
	rsv.fill = run_fill;
	base = input != NULL && json_is_object(input) ? json_deep_copy(input) :
	    json_object();
	if ((entry = engine_action_resolve(e, &rsv, name, &base, &adhoc,
	    cause)) == NULL) {
		json_decref(base);
		expr_free(ex);
		if (strstr(*cause, "' not found") != NULL) {
			free(*cause);
			xasprintf(cause, "Action not found [name=%s]", name);
			return (STORE_NOTFOUND);
		}
		return (STORE_ERROR);
	}
	prepared = action_input_prepare(entry, base, cause);
	json_decref(base);
	if (prepared == NULL) {
		expr_free(ex);
		return (STORE_ERROR);
	}
	memset(&a, 0, sizeof a);
	uuid_make(a.id);
	a.name = (char *)name;
	a.state = (char *)store_state_name(STATE_RUNNING);
	a.input = prepared;
	a.item = -1;
	a.is_async = entry->kind == ACTION_ASYNC;
	a.created_at = a.updated_at = time_now_ms();
	if ((st = store_pool_get(e->pool, cause)) == NULL) {
		json_decref(prepared);
		return (STORE_UNAVAILABLE);
	}
	tx = store_tx_create();
	store_tx_action_insert(tx, &a);
	rc = store_tx_commit(st, tx);
	if (rc != STORE_OK)
		xasprintf(cause, "%s", store_error(st));
	store_pool_put(e->pool);
	store_tx_free(tx);
	if (rc != STORE_OK) {
		json_decref(prepared);
		return (rc);
	}
	r = xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mtx, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->e = e;
	r->adhoc = adhoc;
	snprintf(r->ns, sizeof r->ns, "%s", ns != NULL ? ns : "");
	memcpy(r->id, a.id, UUID_STRLEN);
	wait = sync && entry->kind != ACTION_ASYNC;
	r->detached = !wait;
	memset(&actx, 0, sizeof actx);
	actx.action_id = a.id;
	actx.callback_url = e->callback_base[0] != '\0' ? e->callback_base :
	    NULL;
	actx.expr = ex;
	if (!wait && entry->kind == ACTION_INLINE) {
		/* Inline: finishes now; record it as if synchronous. */
		r->detached = 0;
		wait = 1;
	}
	entry->run(entry, prepared, &actx, e->io, engine_action_run_done, r);
	json_decref(prepared);
	if (wait) {
		json_t	*res;

		pthread_mutex_lock(&r->mtx);
		while (!r->done)
			pthread_cond_wait(&r->cond, &r->mtx);
		pthread_mutex_unlock(&r->mtx);
		ok = r->ok;
		res = run_output(e, ex, adhoc, ns, r->result, &ok);
		engine_action_run_record(e, a.id, ok, res);
		json_decref(res);
		json_decref(r->result);
		pthread_mutex_destroy(&r->mtx);
		pthread_cond_destroy(&r->cond);
		free(r);
	}
	expr_free(ex);
	if (out != NULL) {
		if ((st = store_pool_get(e->pool, cause)) == NULL)
			return (STORE_UNAVAILABLE);
		rc = store_action_load(st, a.id, out);
		store_pool_put(e->pool);
	}
	return (rc);
}
