/*
 * store.c -- the backend-independent half of the store: opening by URL,
 * forwarding to the backend's method table, row copies and frees,
 * change sets, JSON columns and the whitelist of list columns.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store-int.h"

static struct store_op	*store_tx_add(struct store_tx *, enum store_op_kind);
static char		*store_strdup(const char *);

/* Whitelisted list columns per resource (Mistral's filter names). */
static const struct store_column store_exec_columns[] = {
	{ "id", "id", STORE_COL_TEXT },
	{ "workflow_name", "workflow_name", STORE_COL_TEXT },
	{ "workflow_id", "workflow_id", STORE_COL_TEXT },
	{ "state", "state", STORE_COL_TEXT },
	{ "state_info", "state_info", STORE_COL_TEXT },
	{ "description", "description", STORE_COL_TEXT },
	{ "input", "input", STORE_COL_TEXT },
	{ "output", "output", STORE_COL_TEXT },
	{ "params", "params", STORE_COL_TEXT },
	{ "task_execution_id", "parent_task_id", STORE_COL_TEXT },
	{ "root_execution_id", "root_id", STORE_COL_TEXT },
	{ "request_id", "request_id", STORE_COL_TEXT },
	{ "created_at", "created_at", STORE_COL_TIME },
	{ "updated_at", "updated_at", STORE_COL_TIME },
	{ NULL, NULL, STORE_COL_TEXT }
};
static const struct store_column store_task_columns[] = {
	{ "id", "id", STORE_COL_TEXT },
	{ "name", "name", STORE_COL_TEXT },
	{ "state", "state", STORE_COL_TEXT },
	{ "state_info", "state_info", STORE_COL_TEXT },
	{ "type", "type", STORE_COL_TEXT },
	{ "workflow_execution_id", "execution_id", STORE_COL_TEXT },
	{ "workflow_name", "(SELECT e.workflow_name FROM executions e"
	    " WHERE e.id = tasks.execution_id)", STORE_COL_TEXT },
	{ "workflow_id", "(SELECT e.workflow_id FROM executions e"
	    " WHERE e.id = tasks.execution_id)", STORE_COL_TEXT },
	{ "result", "result", STORE_COL_TEXT },
	{ "published", "published", STORE_COL_TEXT },
	{ "created_at", "created_at", STORE_COL_TIME },
	{ "updated_at", "updated_at", STORE_COL_TIME },
	{ "started_at", "started_at", STORE_COL_TIME },
	{ "finished_at", "finished_at", STORE_COL_TIME },
	{ NULL, NULL, STORE_COL_TEXT }
};
static const struct store_column store_action_columns[] = {
	{ "id", "id", STORE_COL_TEXT },
	{ "name", "name", STORE_COL_TEXT },
	{ "state", "state", STORE_COL_TEXT },
	{ "state_info", "state_info", STORE_COL_TEXT },
	{ "task_execution_id", "task_id", STORE_COL_TEXT },
	{ "workflow_execution_id", "execution_id", STORE_COL_TEXT },
	{ "task_name", "(SELECT t.name FROM tasks t"
	    " WHERE t.id = action_executions.task_id)", STORE_COL_TEXT },
	{ "workflow_name", "(SELECT e.workflow_name FROM executions e"
	    " WHERE e.id = action_executions.execution_id)", STORE_COL_TEXT },
	{ "input", "input", STORE_COL_TEXT },
	{ "output", "output", STORE_COL_TEXT },
	{ "accepted", "is_async", STORE_COL_INT },
	{ "request_id", "request_id", STORE_COL_TEXT },
	{ "created_at", "created_at", STORE_COL_TIME },
	{ "updated_at", "updated_at", STORE_COL_TIME },
	{ NULL, NULL, STORE_COL_TEXT }
};
static const struct store_column store_message_columns[] = {
	{ "id", "id", STORE_COL_TEXT },
	{ "event_id", "event_id", STORE_COL_TEXT },
	{ "request_id", "request_id", STORE_COL_TEXT },
	{ "resource_type", "resource_type", STORE_COL_TEXT },
	{ "resource_uuid", "resource_uuid", STORE_COL_TEXT },
	{ "message_level", "level", STORE_COL_TEXT },
	{ "created_at", "created_at", STORE_COL_TIME },
	{ "expires_at", "expires_at", STORE_COL_TIME },
	{ NULL, NULL, STORE_COL_TEXT }
};
static const struct {
	const char			*resource;
	const struct store_column	*columns;
} store_resources[] = {
	{ "executions", store_exec_columns },
	{ "tasks", store_task_columns },
	{ "action_executions", store_action_columns },
	{ "messages", store_message_columns }
};

/* Name of a result code, for logs and errors. */
const char *
store_rc_name(enum store_rc rc)
{
	switch (rc) {
	case STORE_OK:
		return ("ok");
	case STORE_NOTFOUND:
		return ("not found");
	case STORE_CONFLICT:
		return ("conflict");
	case STORE_UNAVAILABLE:
		return ("unavailable");
	case STORE_ERROR:
		return ("error");
	}
	return ("unknown");
}

/* Is this state final (SUCCESS, ERROR or CANCELLED)? */
int
store_state_final(const char *state)
{
	if (state == NULL)
		return (0);
	return (strcmp(state, ST_SUCCESS) == 0 ||
	    strcmp(state, ST_ERROR) == 0 ||
	    strcmp(state, ST_CANCELLED) == 0);
}

/* Copy a string that may be NULL. */
static char *
store_strdup(const char *s)
{
	return (s == NULL ? NULL : xstrdup(s));
}

/* ---- frees ------------------------------------------------------- */

/* Free a definition row. */
void
store_def_free(struct store_def *d)
{
	if (d == NULL)
		return;
	free(d->kind);
	free(d->name);
	free(d->text);
	free(d->source);
	free(d);
}

/* Free a workflow identity row. */
void
store_workflow_free(struct store_workflow *w)
{
	if (w == NULL)
		return;
	free(w->name);
	free(w);
}

/* Free an execution row. */
void
store_exec_free(struct store_exec *e)
{
	if (e == NULL)
		return;
	free(e->workflow_name);
	free(e->parent_task_id);
	free(e->root_id);
	free(e->state);
	free(e->state_info);
	json_decref(e->input);
	json_decref(e->output);
	json_decref(e->params);
	json_decref(e->context);
	free(e->description);
	free(e->request_id);
	free(e->owner);
	free(e);
}

/* Free a task row. */
void
store_task_free(struct store_task *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->state);
	free(t->state_info);
	free(t->type);
	json_decref(t->in_context);
	json_decref(t->published);
	json_decref(t->result);
	json_decref(t->runtime);
	free(t);
}

/* Free an action execution row. */
void
store_action_free(struct store_action *a)
{
	if (a == NULL)
		return;
	free(a->task_id);
	free(a->execution_id);
	free(a->name);
	free(a->state);
	free(a->state_info);
	json_decref(a->input);
	json_decref(a->output);
	free(a->request_id);
	free(a);
}

/* Free a due work row. */
void
store_work_free(struct store_work *w)
{
	if (w == NULL)
		return;
	free(w->task_id);
	free(w->kind);
	json_decref(w->payload);
	free(w);
}

/* Free an event row. */
void
store_event_free(struct store_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->task_id);
	free(ev->task_name);
	free(ev->message);
	free(ev->level);
	free(ev->request_id);
	free(ev);
}

/* Free a message row. */
void
store_message_free(struct store_message *m)
{
	if (m == NULL)
		return;
	free(m->event_id);
	free(m->message);
	free(m->request_id);
	free(m->resource_type);
	free(m->resource_uuid);
	free(m->level);
	free(m);
}

/* ---- copies ------------------------------------------------------ */

/* Deep copy of an execution row (json increfed). */
struct store_exec *
store_exec_dup(const struct store_exec *e)
{
	struct store_exec	*c;

	c = xmalloc(sizeof *c);
	*c = *e;
	c->workflow_name = store_strdup(e->workflow_name);
	c->parent_task_id = store_strdup(e->parent_task_id);
	c->root_id = store_strdup(e->root_id);
	c->state = store_strdup(e->state);
	c->state_info = store_strdup(e->state_info);
	c->input = json_incref(e->input);
	c->output = json_incref(e->output);
	c->params = json_incref(e->params);
	c->context = json_incref(e->context);
	c->description = store_strdup(e->description);
	c->request_id = store_strdup(e->request_id);
	c->owner = store_strdup(e->owner);
	return (c);
}

/* Deep copy of a task row. */
struct store_task *
store_task_dup(const struct store_task *t)
{
	struct store_task	*c;

	c = xmalloc(sizeof *c);
	*c = *t;
	c->name = store_strdup(t->name);
	c->state = store_strdup(t->state);
	c->state_info = store_strdup(t->state_info);
	c->type = store_strdup(t->type);
	c->in_context = json_incref(t->in_context);
	c->published = json_incref(t->published);
	c->result = json_incref(t->result);
	c->runtime = json_incref(t->runtime);
	return (c);
}

/* Deep copy of an action execution row. */
struct store_action *
store_action_dup(const struct store_action *a)
{
	struct store_action	*c;

	c = xmalloc(sizeof *c);
	*c = *a;
	c->task_id = store_strdup(a->task_id);
	c->execution_id = store_strdup(a->execution_id);
	c->name = store_strdup(a->name);
	c->state = store_strdup(a->state);
	c->state_info = store_strdup(a->state_info);
	c->input = json_incref(a->input);
	c->output = json_incref(a->output);
	c->request_id = store_strdup(a->request_id);
	return (c);
}

/* Deep copy of a due work row. */
struct store_work *
store_work_dup(const struct store_work *w)
{
	struct store_work	*c;

	c = xmalloc(sizeof *c);
	*c = *w;
	c->task_id = store_strdup(w->task_id);
	c->kind = store_strdup(w->kind);
	c->payload = json_incref(w->payload);
	return (c);
}

/* Deep copy of an event row. */
struct store_event *
store_event_dup(const struct store_event *ev)
{
	struct store_event	*c;

	c = xmalloc(sizeof *c);
	*c = *ev;
	c->task_id = store_strdup(ev->task_id);
	c->task_name = store_strdup(ev->task_name);
	c->message = store_strdup(ev->message);
	c->level = store_strdup(ev->level);
	c->request_id = store_strdup(ev->request_id);
	return (c);
}

/* Deep copy of a message row. */
struct store_message *
store_message_dup(const struct store_message *m)
{
	struct store_message	*c;

	c = xmalloc(sizeof *c);
	*c = *m;
	c->event_id = store_strdup(m->event_id);
	c->message = store_strdup(m->message);
	c->request_id = store_strdup(m->request_id);
	c->resource_type = store_strdup(m->resource_type);
	c->resource_uuid = store_strdup(m->resource_uuid);
	c->level = store_strdup(m->level);
	return (c);
}

/* ---- change sets ------------------------------------------------- */

/* Create an empty change set. */
struct store_tx *
store_tx_create(void)
{
	return (xcalloc(1, sizeof(struct store_tx)));
}

/* Free a change set and the row copies it holds. */
void
store_tx_free(struct store_tx *tx)
{
	struct store_op	*op;
	size_t		 i;

	if (tx == NULL)
		return;
	for (i = 0; i < tx->n; i++) {
		op = &tx->ops[i];
		free(op->expect);
		switch (op->kind) {
		case STORE_OP_EXEC_INSERT:
		case STORE_OP_EXEC_UPDATE:
			store_exec_free(op->u.exec);
			break;
		case STORE_OP_TASK_INSERT:
		case STORE_OP_TASK_UPDATE:
			store_task_free(op->u.task);
			break;
		case STORE_OP_ACTION_INSERT:
		case STORE_OP_ACTION_UPDATE:
			store_action_free(op->u.action);
			break;
		case STORE_OP_WORK_INSERT:
			store_work_free(op->u.work);
			break;
		case STORE_OP_WORK_DELETE:
			break;
		case STORE_OP_WORK_DELETE_TASK:
			free(op->u.task_id);
			break;
		case STORE_OP_LOCK_ACQUIRE:
		case STORE_OP_LOCK_RELEASE_ALL:
			free(op->u.lock.name);
			free(op->u.lock.execution_id);
			break;
		case STORE_OP_EVENT_INSERT:
			store_event_free(op->u.event);
			break;
		case STORE_OP_MESSAGE_INSERT:
			store_message_free(op->u.message);
			break;
		}
	}
	free(tx->ops);
	free(tx);
}

/* Number of operations recorded. */
size_t
store_tx_size(const struct store_tx *tx)
{
	return (tx->n);
}

/*
 * Move every operation of src to the end of dst, in order; src is left
 * empty.  Several steps of one execution then commit all or nothing.
 */
void
store_tx_append(struct store_tx *dst, struct store_tx *src)
{
	if (src->n == 0)
		return;
	if (dst->n + src->n > dst->cap) {
		dst->cap = dst->n + src->n;
		dst->ops = xreallocarray(dst->ops, dst->cap, sizeof *dst->ops);
	}
	memcpy(dst->ops + dst->n, src->ops, src->n * sizeof *src->ops);
	dst->n += src->n;
	src->n = 0;
}

/* Append a zeroed operation of a kind. */
static struct store_op *
store_tx_add(struct store_tx *tx, enum store_op_kind kind)
{
	struct store_op	*op;

	if (tx->n == tx->cap) {
		tx->cap = tx->cap == 0 ? 8 : tx->cap * 2;
		tx->ops = xreallocarray(tx->ops, tx->cap, sizeof *tx->ops);
	}
	op = &tx->ops[tx->n++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	return (op);
}

/* Record an execution insert. */
void
store_tx_exec_insert(struct store_tx *tx, const struct store_exec *e)
{
	store_tx_add(tx, STORE_OP_EXEC_INSERT)->u.exec = store_exec_dup(e);
}

/* Record an execution update of the fields in mask. */
void
store_tx_exec_update(struct store_tx *tx, const struct store_exec *e,
    unsigned mask, const char *expect_state)
{
	struct store_op	*op;

	op = store_tx_add(tx, STORE_OP_EXEC_UPDATE);
	op->u.exec = store_exec_dup(e);
	op->mask = mask;
	op->expect = store_strdup(expect_state);
}

/* Record a task insert. */
void
store_tx_task_insert(struct store_tx *tx, const struct store_task *t)
{
	store_tx_add(tx, STORE_OP_TASK_INSERT)->u.task = store_task_dup(t);
}

/* Record a task update of the fields in mask. */
void
store_tx_task_update(struct store_tx *tx, const struct store_task *t,
    unsigned mask, const char *expect_state)
{
	struct store_op	*op;

	op = store_tx_add(tx, STORE_OP_TASK_UPDATE);
	op->u.task = store_task_dup(t);
	op->mask = mask;
	op->expect = store_strdup(expect_state);
}

/* Record an action execution insert. */
void
store_tx_action_insert(struct store_tx *tx, const struct store_action *a)
{
	store_tx_add(tx, STORE_OP_ACTION_INSERT)->u.action =
	    store_action_dup(a);
}

/* Record an action execution update of the fields in mask. */
void
store_tx_action_update(struct store_tx *tx, const struct store_action *a,
    unsigned mask, const char *expect_state)
{
	struct store_op	*op;

	op = store_tx_add(tx, STORE_OP_ACTION_UPDATE);
	op->u.action = store_action_dup(a);
	op->mask = mask;
	op->expect = store_strdup(expect_state);
}

/* Record a due work insert. */
void
store_tx_work_insert(struct store_tx *tx, const struct store_work *w)
{
	store_tx_add(tx, STORE_OP_WORK_INSERT)->u.work = store_work_dup(w);
}

/* Record the deletion of one due work row (missing: conflict). */
void
store_tx_work_delete(struct store_tx *tx, int64_t id)
{
	store_tx_add(tx, STORE_OP_WORK_DELETE)->u.id = id;
}

/* Record the deletion of every due work row of a task. */
void
store_tx_work_delete_task(struct store_tx *tx, const char *task_id)
{
	store_tx_add(tx, STORE_OP_WORK_DELETE_TASK)->u.task_id =
	    xstrdup(task_id);
}

/* Record taking a named lock for an execution. */
void
store_tx_lock_acquire(struct store_tx *tx, const char *name,
    const char *execution_id)
{
	struct store_op	*op;

	op = store_tx_add(tx, STORE_OP_LOCK_ACQUIRE);
	op->u.lock.name = xstrdup(name);
	op->u.lock.execution_id = xstrdup(execution_id);
}

/* Record releasing every lock of an execution. */
void
store_tx_lock_release_all(struct store_tx *tx, const char *execution_id)
{
	struct store_op	*op;

	op = store_tx_add(tx, STORE_OP_LOCK_RELEASE_ALL);
	op->u.lock.execution_id = xstrdup(execution_id);
}

/* Record an event insert. */
void
store_tx_event_insert(struct store_tx *tx, const struct store_event *ev)
{
	store_tx_add(tx, STORE_OP_EVENT_INSERT)->u.event = store_event_dup(ev);
}

/* Record a message insert. */
void
store_tx_message_insert(struct store_tx *tx, const struct store_message *m)
{
	store_tx_add(tx, STORE_OP_MESSAGE_INSERT)->u.message =
	    store_message_dup(m);
}

/* Apply one change set: commit_many of one. */
enum store_rc
store_tx_commit(struct store *s, struct store_tx *tx)
{
	enum store_rc	 rc;

	return (store_tx_commit_many(s, &tx, 1, &rc));
}

/* Apply several change sets in one transaction, each all-or-nothing. */
enum store_rc
store_tx_commit_many(struct store *s, struct store_tx **txs, size_t n,
    enum store_rc *rcs)
{
	size_t	 i;

	if (n == 0)
		return (STORE_OK);
	for (i = 0; i < n; i++)
		rcs[i] = STORE_OK;
	return (s->m->commit_many(s, txs, n, rcs));
}

/* ---- opening ----------------------------------------------------- */

/* Open a store by URL scheme. */
struct store *
store_open(const char *url, char **cause)
{
	const struct store_methods	*m;
	struct store			*s;

	*cause = NULL;
	if (url == NULL || *url == '\0') {
		xasprintf(cause, "empty store URL");
		return (NULL);
	}
	if (strncmp(url, "sqlite:", 7) == 0)
		m = &store_sqlite_methods;
	else if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		m = &store_pg_methods;
	else {
		xasprintf(cause, "unknown store URL scheme: %s (use sqlite:PATH"
		    " or postgresql://...)", url);
		return (NULL);
	}
	if (m->version < 1) {
		xasprintf(cause, "store backend %s: method table version %d",
		    m->name, m->version);
		return (NULL);
	}
	s = m->open(url, cause);
	if (s == NULL)
		return (NULL);
	s->m = m;
	s->errbuf[0] = '\0';
	return (s);
}

/* Close a store; NULL is a no-op. */
void
store_close(struct store *s)
{
	if (s != NULL)
		s->m->close(s);
}

/* Name of the backend. */
const char *
store_backend(struct store *s)
{
	return (s->m->name);
}

/* Set the connection's last error text. */
void
store_set_error(struct store *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->errbuf, sizeof s->errbuf, fmt, ap);
	va_end(ap);
}

/* Last error text of this connection (borrowed). */
const char *
store_error(struct store *s)
{
	return (s->errbuf);
}

/* ---- forwarding -------------------------------------------------- */

enum store_rc
store_ping(struct store *s)
{
	return (s->m->ping(s));
}

int64_t
store_now(struct store *s)
{
	return (s->m->now(s));
}

enum store_rc
store_def_save(struct store *s, const char *kind, const char *name,
    const char *text, const char *source, int create_only, int deleted,
    struct store_def **out)
{
	if (out != NULL)
		*out = NULL;
	return (s->m->def_save(s, kind, name, text, source, create_only,
	    deleted, out));
}

enum store_rc
store_def_load(struct store *s, const char *id, struct store_def **out)
{
	*out = NULL;
	return (s->m->def_load(s, id, out));
}

enum store_rc
store_def_load_current(struct store *s, const char *kind, const char *name,
    struct store_def **out)
{
	*out = NULL;
	return (s->m->def_load_current(s, kind, name, out));
}

enum store_rc
store_def_list_current(struct store *s, struct store_def ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->def_list_current(s, out, n));
}

int64_t
store_def_generation(struct store *s)
{
	return (s->m->def_generation(s));
}

enum store_rc
store_workflow_save(struct store *s, const char *name, const char *def_id,
    struct store_workflow **out)
{
	if (out != NULL)
		*out = NULL;
	return (s->m->workflow_save(s, name, def_id, out));
}

enum store_rc
store_workflow_load(struct store *s, const char *name_or_id,
    struct store_workflow **out)
{
	*out = NULL;
	return (s->m->workflow_load(s, name_or_id, out));
}

enum store_rc
store_workflow_delete(struct store *s, const char *name)
{
	return (s->m->workflow_delete(s, name));
}

enum store_rc
store_exec_load(struct store *s, const char *id, struct store_exec **out)
{
	*out = NULL;
	return (s->m->exec_load(s, id, out));
}

enum store_rc
store_tasks_load(struct store *s, const char *execution_id,
    struct store_task ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->tasks_load(s, execution_id, out, n));
}

enum store_rc
store_task_load(struct store *s, const char *id, struct store_task **out)
{
	*out = NULL;
	return (s->m->task_load(s, id, out));
}

enum store_rc
store_actions_load(struct store *s, const char *task_id,
    struct store_action ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->actions_load(s, task_id, out, n));
}

enum store_rc
store_action_load(struct store *s, const char *id, struct store_action **out)
{
	*out = NULL;
	return (s->m->action_load(s, id, out));
}

enum store_rc
store_events_load(struct store *s, const char *execution_id,
    struct store_event ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->events_load(s, execution_id, out, n));
}

enum store_rc
store_exec_children(struct store *s, const char *task_id,
    struct store_exec ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->exec_children(s, task_id, out, n));
}

enum store_rc
store_lock_owner(struct store *s, const char *name, char **execution_id)
{
	*execution_id = NULL;
	return (s->m->lock_owner(s, name, execution_id));
}

enum store_rc
store_exec_list(struct store *s, const struct store_query *q,
    struct store_exec ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->exec_list(s, q, out, n));
}

enum store_rc
store_task_list(struct store *s, const struct store_query *q,
    struct store_task ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->task_list(s, q, out, n));
}

enum store_rc
store_action_list(struct store *s, const struct store_query *q,
    struct store_action ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->action_list(s, q, out, n));
}

enum store_rc
store_message_list(struct store *s, const struct store_query *q,
    struct store_message ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->message_list(s, q, out, n));
}

enum store_rc
store_message_delete(struct store *s, const char *id)
{
	return (s->m->message_delete(s, id));
}

enum store_rc
store_message_reap(struct store *s, int64_t now, size_t batch, size_t *n)
{
	*n = 0;
	return (s->m->message_reap(s, now, batch, n));
}

enum store_rc
store_exec_delete(struct store *s, const char *id)
{
	return (s->m->exec_delete(s, id));
}

enum store_rc
store_exec_claim(struct store *s, const char *owner, int64_t lease_ms,
    size_t limit, char ***ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	return (s->m->exec_claim(s, owner, lease_ms, limit, ids, n));
}

enum store_rc
store_exec_renew(struct store *s, const char *owner, int64_t lease_ms)
{
	return (s->m->exec_renew(s, owner, lease_ms));
}

enum store_rc
store_exec_release(struct store *s, const char *id, const char *owner)
{
	return (s->m->exec_release(s, id, owner));
}

enum store_rc
store_work_due(struct store *s, const char *execution_id, int64_t now,
    struct store_work ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->work_due(s, execution_id, now, out, n));
}

enum store_rc
store_work_load(struct store *s, const char *execution_id,
    struct store_work ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return (s->m->work_load(s, execution_id, out, n));
}

int64_t
store_work_next_due(struct store *s, const char *owner)
{
	return (s->m->work_next_due(s, owner));
}

void
store_notify(struct store *s, const char *channel)
{
	s->m->notify(s, channel);
}

int
store_wait(struct store *s, int timeout_ms)
{
	return (s->m->wait(s, timeout_ms));
}

enum store_rc
store_count_by_state(struct store *s, const char *table, json_t **out)
{
	*out = NULL;
	return (s->m->count_by_state(s, table, out));
}

/* ---- JSON columns ------------------------------------------------ */

/* JSON value to column text; NULL for NULL (json null gives "null"). */
char *
store_json_text(json_t *j)
{
	char	*s;

	if (j == NULL)
		return (NULL);
	s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (s == NULL)
		fatalx("%s: cannot encode JSON", __func__);
	return (s);
}

/* Column text to JSON value; text that does not parse stays a string. */
json_t *
store_json_parse(const char *s)
{
	json_t		*j;
	json_error_t	 err;

	if (s == NULL)
		return (NULL);
	j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (j == NULL)
		j = json_string(s);
	return (j);
}

/* ---- list columns ------------------------------------------------ */

/* The whitelist entry for (resource, field), or NULL. */
const struct store_column *
store_list_field(const char *resource, const char *field)
{
	const struct store_column	*c;
	size_t				 i;

	if (resource == NULL || field == NULL)
		return (NULL);
	for (i = 0; i < nitems(store_resources); i++) {
		if (strcmp(store_resources[i].resource, resource) != 0)
			continue;
		for (c = store_resources[i].columns; c->field != NULL; c++) {
			if (strcmp(c->field, field) == 0)
				return (c);
		}
		return (NULL);
	}
	return (NULL);
}

/* The column for an API field name, or NULL. */
const char *
store_list_column(const char *resource, const char *field)
{
	const struct store_column	*c;

	c = store_list_field(resource, field);
	return (c == NULL ? NULL : c->column);
}

/*
 * Convert a filter value for an integer or time column.  Times accept
 * ms since the epoch, "YYYY-MM-DD HH:MM:SS[.fff]" and
 * "YYYY-MM-DDTHH:MM:SS[.fff][Z]" in UTC; booleans "true"/"false".
 */
int
store_list_int(const struct store_column *c, const char *value,
    int64_t *out, char **cause)
{
	struct tm	 tm;
	const char	*p;
	char		*end;
	long long	 v;
	int		 ms = 0, i;

	*cause = NULL;
	if (c->type == STORE_COL_INT) {
		if (strcmp(value, "true") == 0 ||
		    strcmp(value, "True") == 0) {
			*out = 1;
			return (0);
		}
		if (strcmp(value, "false") == 0 ||
		    strcmp(value, "False") == 0) {
			*out = 0;
			return (0);
		}
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (*value != '\0' && *end == '\0' && errno == 0) {
		*out = v;
		return (0);
	}
	if (c->type != STORE_COL_TIME)
		goto bad;

	memset(&tm, 0, sizeof tm);
	p = strptime(value, "%Y-%m-%d", &tm);
	if (p == NULL)
		goto bad;
	if (*p == ' ' || *p == 'T') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (p == NULL)
			goto bad;
		if (*p == '.') {
			p++;
			for (i = 0; i < 3 && isdigit((unsigned char)*p);
			    i++, p++)
				ms = ms * 10 + (*p - '0');
			for (; i < 3; i++)
				ms *= 10;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0')
		goto bad;
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return (0);

bad:
	if (c->type == STORE_COL_TIME)
		xasprintf(cause, "%s: bad time \"%s\" (want YYYY-MM-DD "
		    "HH:MM:SS)", c->field, value);
	else
		xasprintf(cause, "%s: bad number \"%s\"", c->field, value);
	return (-1);
}

/* See store.h; backends without a batch query get one load per id. */
enum store_rc
store_execs_load(struct store *s, char *const *ids, size_t n,
    struct store_exec ***out, size_t *nout)
{
	struct store_exec	*ex;
	enum store_rc		 rc;
	size_t			 i;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return (STORE_OK);
	if (s->m->execs_load != NULL)
		return (s->m->execs_load(s, ids, n, out, nout));
	*out = xcalloc(n, sizeof **out);
	for (i = 0; i < n; i++) {
		ex = NULL;
		rc = s->m->exec_load(s, ids[i], &ex);
		if (rc == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK) {
			while (*nout > 0)
				store_exec_free((*out)[--(*nout)]);
			free(*out);
			*out = NULL;
			return (rc);
		}
		(*out)[(*nout)++] = ex;
	}
	return (STORE_OK);
}

/* See store.h. */
enum store_rc
store_tasks_load_many(struct store *s, char *const *ids, size_t n,
    struct store_task ***out, size_t *nout)
{
	struct store_task	**t;
	enum store_rc		 rc;
	size_t			 i, k, nt;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return (STORE_OK);
	if (s->m->tasks_load_many != NULL)
		return (s->m->tasks_load_many(s, ids, n, out, nout));
	for (i = 0; i < n; i++) {
		t = NULL;
		nt = 0;
		if ((rc = s->m->tasks_load(s, ids[i], &t, &nt)) != STORE_OK) {
			while (*nout > 0)
				store_task_free((*out)[--(*nout)]);
			free(*out);
			*out = NULL;
			return (rc);
		}
		if (nt > 0) {
			*out = xreallocarray(*out, *nout + nt, sizeof **out);
			for (k = 0; k < nt; k++)
				(*out)[(*nout)++] = t[k];
		}
		free(t);
	}
	return (STORE_OK);
}

/* One filter value, converted for the column's type, to the dialect. */
static int
store_list_value(struct store *s, const struct store_column *c,
    const char *value, struct buf *b, const struct store_sql_dialect *d)
{
	char	*cause;
	int64_t	 i;

	if (c->type == STORE_COL_TEXT) {
		d->value(d->arg, b, 0, 0, value);
		return (0);
	}
	if (store_list_int(c, value, &i, &cause) != 0) {
		store_set_error(s, "%s", cause);
		free(cause);
		return (-1);
	}
	d->value(d->arg, b, 1, i, NULL);
	return (0);
}

/* See store-int.h. */
int
store_list_filter_sql(struct store *s, const char *resource,
    const struct store_filter *f, struct buf *b,
    const struct store_sql_dialect *d)
{
	static const struct {
		const char	*op;
		const char	*sql;
	} cmp[] = {
		{ "eq", "=" }, { "neq", NULL }, { "gt", ">" },
		{ "gte", ">=" }, { "lt", "<" }, { "lte", "<=" }
	};
	const struct store_column	*c;
	const char			*op = f->op != NULL ? f->op : "eq";
	char				*list, *item, *last;
	size_t				 i;
	int				 first;

	if ((c = store_list_field(resource, f->field)) == NULL) {
		store_set_error(s, "unknown filter field \"%s\" for %s",
		    f->field, resource);
		return (-1);
	}
	if (f->value == NULL) {
		if (strcmp(op, "eq") == 0)
			buf_printf(b, " AND %s IS NULL", c->column);
		else if (strcmp(op, "neq") == 0)
			buf_printf(b, " AND %s IS NOT NULL", c->column);
		else {
			store_set_error(s, "%s: operator %s needs a value",
			    f->field, op);
			return (-1);
		}
		return (0);
	}
	for (i = 0; i < nitems(cmp); i++) {
		if (strcmp(op, cmp[i].op) == 0) {
			buf_printf(b, " AND %s %s ", c->column,
			    cmp[i].sql != NULL ? cmp[i].sql : d->neq);
			return (store_list_value(s, c, f->value, b, d));
		}
	}
	if (strcmp(op, "in") == 0 || strcmp(op, "nin") == 0) {
		buf_printf(b, " AND %s %sIN (", c->column,
		    op[0] == 'n' ? "NOT " : "");
		list = xstrdup(f->value);
		first = 1;
		for (item = strtok_r(list, ",", &last); item != NULL;
		    item = strtok_r(NULL, ",", &last)) {
			if (!first)
				buf_puts(b, ", ");
			first = 0;
			if (store_list_value(s, c, item, b, d) != 0) {
				free(list);
				return (-1);
			}
		}
		free(list);
		/* An empty list matches nothing (in) or all (nin). */
		if (first)
			buf_puts(b, "NULL");
		buf_puts(b, ")");
		return (0);
	}
	if (strcmp(op, "has") == 0) {
		if (c->type != STORE_COL_TEXT) {
			store_set_error(s, "%s: operator has needs a text "
			    "field", f->field);
			return (-1);
		}
		d->has(d->arg, b, c->column, f->value);
		return (0);
	}
	store_set_error(s, "%s: unknown operator \"%s\" (want eq, neq, in, "
	    "nin, gt, gte, lt, lte or has)", f->field, op);
	return (-1);
}
