/*
 * store-ops.c -- the typed functions of store.h: each is a table
 * descriptor or one of the statements below handed to the generic verbs
 * of store.c, so that no backend knows any table.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

#define ALL	INT64_MAX	/* a limit of "no limit" */

/* ---- statements --------------------------------------------------- */

/* The newest version of (kind, name, namespace) ($1, $2, $3). */
#define DEF_LAST "(SELECT max(version) FROM definitions WHERE " \
	"kind = $1 AND name = $2 AND namespace = $3)"

static struct store_sql def_bump = STORE_SQL("UPDATE def_generation SET "
    "value = value + 1 WHERE id = 1", 0, "definition generation");
static struct store_sql def_absent = STORE_SQL("SELECT 1 WHERE NOT EXISTS "
    "(SELECT 1 FROM definitions WHERE kind = $1 AND name = $2 AND "
    "namespace = $3 AND deleted = 0 AND version = " DEF_LAST ")",
    STORE_GUARD, "definition");
static struct store_sql def_present = STORE_SQL("SELECT 1 FROM definitions "
    "WHERE kind = $1 AND name = $2 AND namespace = $3 AND deleted = 0 AND "
    "version = " DEF_LAST, STORE_GUARD, "definition");
static struct store_sql def_insert = STORE_SQL("INSERT INTO definitions "
    "(id, kind, name, namespace, scope, version, text, source, deleted, "
    "created_at, updated_at) VALUES ($4, $1, $2, $3, $7, (SELECT "
    "COALESCE(max(version), 0) + 1 FROM definitions WHERE kind = $1 AND "
    "name = $2 AND namespace = $3), $5, $6, $8::integer, bora_now_ms(), "
    "bora_now_ms())", 0, "insert definition");
static struct store_sql def_current = STORE_SELECT(&store_def_table,
    "kind = $1 AND name = $2 AND namespace = $3 ORDER BY version DESC "
    "LIMIT 1", "definition");
/* The first version since the last deletion: the identity's birth. */
static struct store_sql def_first = STORE_SELECT(&store_def_table,
    "kind = $1 AND name = $2 AND namespace = $3 AND deleted = 0 AND "
    "version > COALESCE((SELECT max(version) FROM definitions x WHERE "
    "x.kind = $1 AND x.name = $2 AND x.namespace = $3 AND x.deleted = 1), "
    "0) ORDER BY version LIMIT 1", "definition");
/* Insertion order breaks ties of the creation time. */
static struct store_sql def_list = STORE_SELECT(&store_def_table,
    "deleted = 0 AND version = (SELECT max(version) FROM definitions x "
    "WHERE x.kind = definitions.kind AND x.name = definitions.name AND "
    "x.namespace = definitions.namespace) ORDER BY created_at, @ROWID",
    "definitions");
static struct store_sql def_generation = STORE_SQL("SELECT value FROM "
    "def_generation WHERE id = 1", 0, "generation");

static struct store_sql wf_save = STORE_SQL("INSERT INTO workflows (id, "
    "name, namespace, def_id, created_at, updated_at) VALUES ($1, $2, $4, "
    "$3, bora_now_ms(), bora_now_ms()) ON CONFLICT (name, namespace) DO "
    "UPDATE SET def_id = excluded.def_id, updated_at = excluded.updated_at",
    0, "save workflow");
static struct store_sql wf_load = STORE_SELECT(&store_workflow_table,
    "id = $1 OR (name = $1 AND namespace = $2) ORDER BY id = $1 DESC "
    "LIMIT 1", "workflow");
static struct store_sql wf_delete = STORE_SQL("DELETE FROM workflows WHERE "
    "(name = $1 AND namespace = $2) OR id = $1", STORE_GUARD,
    "delete workflow");

static struct store_sql tasks_of_many = STORE_SELECT(&store_task_table,
    "execution_id IN @IDS ORDER BY execution_id, seq, created_at, id",
    "tasks");
static struct store_sql execs_many = STORE_SELECT(&store_exec_table,
    "id IN @IDS", "executions");
static struct store_sql work_due = STORE_SELECT(&store_work_table,
    "execution_id = $1 AND due_at <= $2::bigint ORDER BY due_at, id",
    "due work");
/* In due order, the first that counts: no walk over every timer. */
static struct store_sql work_next = STORE_SQL("SELECT w.due_at FROM work w "
    "JOIN executions e ON e.id = w.execution_id WHERE e.state NOT IN "
    STORE_FINAL " AND (e.owner IS NULL OR e.owner = $1 OR e.lease_until <= "
    "bora_now_ms()) ORDER BY w.due_at LIMIT 1", 0, "next due");
static struct store_sql work_delete = STORE_SQL("DELETE FROM work WHERE "
    "id = $1::bigint", STORE_GUARD, "delete work");
static struct store_sql work_delete_task = STORE_SQL("DELETE FROM work "
    "WHERE task_id = $1", 0, "delete work");

static struct store_sql lock_acquire = STORE_SQL("INSERT INTO locks (name, "
    "execution_id, created_at) VALUES ($1, $2, bora_now_ms()) ON CONFLICT "
    "(name) DO UPDATE SET execution_id = excluded.execution_id WHERE "
    "locks.execution_id = excluded.execution_id", STORE_GUARD, "lock");
static struct store_sql lock_release = STORE_SQL("DELETE FROM locks WHERE "
    "execution_id = $1", 0, "unlock");
static struct store_sql lock_owner = STORE_SQL("SELECT execution_id FROM "
    "locks WHERE name = $1", 0, "lock");

static struct store_sql msg_delete = STORE_SQL("DELETE FROM messages WHERE "
    "id = $1 RETURNING id", 0, "delete message");
static struct store_sql msg_reap = STORE_SQL("DELETE FROM messages WHERE "
    "id IN (SELECT id FROM messages WHERE expires_at > 0 AND expires_at <= "
    "$1::bigint ORDER BY expires_at LIMIT $2::bigint@LOCK) "
    "RETURNING id", 0, "reap messages");

/* Retention: the reapers' lock, and what a purge takes. */
static struct store_sql reap_lock = STORE_SQL("SELECT CASE WHEN "
    "bora_try_lock($1) THEN 1 ELSE 0 END", 0, "reaper lock");
static struct store_sql reap_unlock = STORE_SQL("SELECT CASE WHEN "
    "bora_unlock($1) THEN 1 ELSE 0 END", 0, "reaper unlock");
static struct store_sql purge_roots = STORE_SQL("SELECT id FROM executions "
    "WHERE root_id IS NULL AND parent_task_id IS NULL AND state IN "
    STORE_FINAL " AND updated_at < $1::bigint ORDER BY updated_at, id "
    "LIMIT $2::bigint", 0, "executions to purge");
static struct store_sql purge_counts[] = {
	STORE_SQL("SELECT count(*) FROM tasks WHERE execution_id IN @IDS",
	    0, "count tasks"),
	STORE_SQL("SELECT count(*) FROM action_executions WHERE "
	    "execution_id IN @IDS OR task_id IN (SELECT t.id FROM tasks t "
	    "WHERE t.execution_id IN @IDS)", 0, "count action executions"),
	STORE_SQL("SELECT count(*) FROM events WHERE execution_id IN @IDS",
	    0, "count events")
};
static struct store_sql outbox_purge = STORE_SQL("DELETE FROM outbox WHERE "
    "id IN (SELECT id FROM outbox WHERE state IN ('SENT', 'DEAD') AND "
    "updated_at < $1::bigint ORDER BY updated_at LIMIT $2::bigint@LOCK) "
    "RETURNING id", 0, "purge notifications");

/*
 * The outbox.  A claim takes the first pending row of each execution
 * and target, so that they go out in order.
 */
static struct store_sql outbox_claim = STORE_SQL("UPDATE outbox SET "
    "owner = $1, lease_until = bora_now_ms() + $2::bigint WHERE id IN "
    "(SELECT o.id FROM outbox o WHERE o.state = 'PENDING' AND o.next_at "
    "<= bora_now_ms() AND (o.owner IS NULL OR o.lease_until <= "
    "bora_now_ms()) AND NOT EXISTS (SELECT 1 FROM outbox p WHERE "
    "p.execution_id = o.execution_id AND p.target = o.target AND "
    "p.state = 'PENDING' AND p.seq < o.seq) ORDER BY o.next_at, "
    "o.created_at LIMIT $3::bigint@LOCK) RETURNING id", 0,
    "claim notifications");
static struct store_sql outbox_many = STORE_SELECT(&store_outbox_table,
    "id IN @IDS ORDER BY execution_id, seq", "notifications");
static struct store_sql outbox_sent = STORE_SQL("UPDATE outbox SET state = "
    "'SENT', attempts = attempts + 1, owner = NULL, lease_until = 0, "
    "last_error = NULL, sent_at = bora_now_ms(), updated_at = "
    "bora_now_ms() WHERE id = $1 AND owner = $2 AND state = 'PENDING'",
    STORE_GUARD, "notification sent");
static struct store_sql outbox_retry = STORE_SQL("UPDATE outbox SET "
    "attempts = attempts + 1, owner = NULL, lease_until = 0, next_at = "
    "$3::bigint, last_error = $4, updated_at = bora_now_ms() WHERE id = $1 "
    "AND owner = $2 AND state = 'PENDING'", STORE_GUARD,
    "notification retry");
static struct store_sql outbox_dead = STORE_SQL("UPDATE outbox SET state = "
    "'DEAD', attempts = attempts + 1, owner = NULL, lease_until = 0, "
    "last_error = $3, updated_at = bora_now_ms() WHERE id = $1 AND "
    "owner = $2 AND state = 'PENDING'", STORE_GUARD, "notification dead");
static struct store_sql outbox_requeue = STORE_SQL("UPDATE outbox SET "
    "state = 'PENDING', attempts = 0, next_at = 0, owner = NULL, "
    "lease_until = 0, updated_at = bora_now_ms() WHERE id = $1 AND "
    "state = 'DEAD' RETURNING id", 0, "requeue notification");
static struct store_sql outbox_release = STORE_SQL("UPDATE outbox SET "
    "owner = NULL, lease_until = 0 WHERE owner = $1 AND state = 'PENDING' "
    "RETURNING id", 0, "release notifications");
static struct store_sql outbox_owners = STORE_SQL("SELECT DISTINCT owner "
    "FROM outbox WHERE owner IS NOT NULL AND state = 'PENDING'", 0,
    "notification owners");

/* An execution and every one under it, through their parent tasks. */
static struct store_sql exec_tree = STORE_SQL("WITH RECURSIVE tree(id) AS "
    "(SELECT $1::text UNION SELECT e.id FROM executions e, tasks t, "
    "tree WHERE t.execution_id = tree.id AND e.parent_task_id = t.id) "
    "SELECT id FROM tree", 0, "execution tree");
static struct store_sql exec_deletes[] = {
	STORE_SQL("DELETE FROM action_executions WHERE execution_id = $1 OR "
	    "task_id IN (SELECT t.id FROM tasks t WHERE t.execution_id = $1)",
	    0, "delete execution"),
	STORE_SQL("DELETE FROM tasks WHERE execution_id = $1", 0,
	    "delete execution"),
	STORE_SQL("DELETE FROM work WHERE execution_id = $1", 0,
	    "delete execution"),
	STORE_SQL("DELETE FROM locks WHERE execution_id = $1", 0,
	    "delete execution"),
	STORE_SQL("DELETE FROM events WHERE execution_id = $1", 0,
	    "delete execution"),
	STORE_SQL("DELETE FROM executions WHERE id = $1 AND (id <> $2 OR "
	    "state IN " STORE_FINAL ")", STORE_GUARD, "delete execution")
};

/* An action execution run outside a workflow, once finished. */
static struct store_sql actex_delete = STORE_SQL("DELETE FROM "
    "action_executions WHERE id = $1 AND task_id IS NULL AND state IN "
    STORE_FINAL, STORE_GUARD, "delete action execution");

/* Environments and cron triggers by name (or id). */
static struct store_sql env_by_name = STORE_SELECT(&store_env_table,
    "name = $1 OR id = $1 ORDER BY name = $1 DESC LIMIT 1", "environment");
static struct store_sql env_delete = STORE_SQL("DELETE FROM environments "
    "WHERE name = $1 OR id = $1", STORE_GUARD, "delete environment");
static struct store_sql cron_by_name = STORE_SELECT(&store_cron_table,
    "name = $1 OR id = $1 ORDER BY name = $1 DESC LIMIT 1", "cron trigger");
static struct store_sql cron_delete = STORE_SQL("DELETE FROM cron_triggers "
    "WHERE name = $1 OR id = $1", STORE_GUARD, "delete cron trigger");
static struct store_sql cron_due = STORE_SELECT(&store_cron_table,
    "next_execution_time <= $1::bigint ORDER BY next_execution_time, id "
    "LIMIT $2::bigint", "cron triggers");
static struct store_sql cron_next_tick = STORE_SQL("SELECT min("
    "next_execution_time) FROM cron_triggers", 0, "next cron tick");
/* A tick is fired once: the trigger moves on from the tick it had. */
static struct store_sql cron_advance = STORE_SQL("UPDATE cron_triggers SET "
    "next_execution_time = $3::bigint, remaining_executions = $4::bigint, "
    "updated_at = bora_now_ms() WHERE id = $1 AND next_execution_time = "
    "$2::bigint", STORE_GUARD, "fire cron trigger");
static struct store_sql cron_last = STORE_SQL("DELETE FROM cron_triggers "
    "WHERE id = $1 AND next_execution_time = $2::bigint", STORE_GUARD,
    "fire cron trigger");

/* Claims: the dialect's candidates (@CLAIM), leased by db clock. */
static struct store_sql exec_claim = STORE_SQL("UPDATE executions SET "
    "owner = $1, lease_until = bora_now_ms() + $2::bigint WHERE id IN "
    "(@CLAIM) RETURNING id", 0, "claim");
/* Only the executions the owner names: one it let go is left to expire. */
static struct store_sql exec_renew = STORE_SQL("UPDATE executions SET "
    "lease_until = bora_now_ms() + $3::bigint WHERE id IN @IDS AND "
    "owner = $2 RETURNING id", 0, "renew");
/* A running execution given back is claimed again at once. */
static struct store_sql exec_release = STORE_SQL("UPDATE executions SET "
    "owner = NULL, lease_until = CASE WHEN state = 'RUNNING' THEN 0 ELSE "
    "bora_now_ms() END WHERE id = $1 AND owner = $2 RETURNING id", 0,
    "release");
/* Engines holding live executions; all of one given back (it died). */
static struct store_sql exec_owners = STORE_SQL("SELECT DISTINCT owner FROM "
    "executions WHERE owner IS NOT NULL AND state IN ('RUNNING', 'PAUSED')",
    0, "execution owners");
static struct store_sql exec_release_all = STORE_SQL("UPDATE executions SET "
    "owner = NULL, lease_until = CASE WHEN state = 'RUNNING' THEN 0 ELSE "
    "bora_now_ms() END WHERE owner = $1 AND state IN ('RUNNING', 'PAUSED') "
    "RETURNING id", 0, "release all");
/* A waiting execution given back: claimed when work of it is due. */
static struct store_sql exec_park = STORE_SQL("UPDATE executions SET "
    "owner = NULL, lease_until = bora_now_ms() WHERE id = $1 AND owner = $2 "
    "AND state = 'RUNNING' RETURNING id", 0, "park");
static struct store_sql db_now = STORE_SQL("SELECT bora_now_ms()", 0, "now");


/* ---- rows of any table ------------------------------------------- */

/*
 * Move the texts of one-column rows (store_text_shape) into *out, an
 * array the caller frees, with its strings.
 */
static void
rows_texts(struct store_rows *rows, char ***out, size_t *n)
{
	size_t	 i;

	*out = NULL;
	*n = 0;
	if (rows->n == 0)
		return;
	*out = xreallocarray(NULL, rows->n, sizeof **out);
	for (i = 0; i < rows->n; i++) {
		(*out)[i] = ((struct store_text *)rows->v[i])->v;
		((struct store_text *)rows->v[i])->v = NULL;
	}
	*n = rows->n;
}

/* Run a statement without parameters; its one-column rows in *out. */
static enum store_rc
run_texts(struct store *s, const struct store_sql *q, char ***out,
    size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*out = NULL;
	*n = 0;
	rc = store_run(s, q, &store_text_shape, &rows, "");
	if (rc == STORE_OK)
		rows_texts(&rows, out, n);
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* See store-int.h. */
char *
store_ids_text(char *const *ids, size_t n)
{
	json_t	*a;
	char	*text;
	size_t	 i;

	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	text = store_json_text(a);
	json_decref(a);
	return (text);
}

/* Load one row of t by its key into *out (T **). */
enum store_rc
store_row_load(struct store *s, const struct store_table *t,
    const char *key, void *out)
{
	memset(out, 0, sizeof(void *));
	return (store_run_one(s, &t->sql->load, out, key, "s", key));
}

/* Record inserting a row of t. */
void
store_tx_insert(struct store_tx *tx, const struct store_table *t,
    const void *row)
{
	struct store_op	*op;

	store_init();
	op = store_tx_add(tx, &t->sql->insert, 0);
	op->table = t;
	op->row = store_row_dup(t, row);
}

/*
 * The update of the same row earlier in tx that an update of it
 * guarded by expect can be folded into (see store-int.h): the last
 * operation on that row updates fields, its state among them, to the
 * state expected (or nothing is expected), and no statement of its own
 * that might touch t comes after it.  NULL when there is none.
 */
static struct store_op *
tx_fold_target(struct store_tx *tx, const struct store_table *t,
    const void *row, const char *expect)
{
	struct store_op	*op;
	const char	*st;
	unsigned	 smask;
	size_t		 i;

	for (i = tx->n; i-- > 0; ) {
		op = &tx->ops[i];
		if (op->table == NULL) {
			if (op->sql->tmpl == NULL || op->sql->from != NULL ||
			    op->sql->of != NULL ||
			    strstr(op->sql->tmpl, t->name) != NULL)
				return (NULL);
			continue;
		}
		if (op->table != t || !store_row_same(t, op->row, row))
			continue;
		if (op->sql != &t->sql->update || op->mask == 0)
			return (NULL);
		st = store_row_state(t, op->row, &smask);
		if (smask == 0 || !(op->mask & smask) || st == NULL)
			return (NULL);
		if (expect != NULL && strcmp(st, expect) != 0)
			return (NULL);
		return (op);
	}
	return (NULL);
}

/*
 * Record updating the fields of a row of t in mask, guarded by its
 * expected state (NULL: none; then a missing row is STORE_NOTFOUND).
 */
void
store_tx_update(struct store_tx *tx, const struct store_table *t,
    const void *row, unsigned mask, const char *expect)
{
	struct store_op	*op;

	store_init();
	if (t->sql->update.id < 0)
		fatalx("%s: %s rows are never updated", __func__, t->label);
	if (mask != 0 && (op = tx_fold_target(tx, t, row, expect)) != NULL) {
		store_row_fold(t, op->row, row, mask);
		op->mask |= mask;
		return;
	}
	op = store_tx_add(tx, &t->sql->update, 0);
	op->table = t;
	op->row = store_row_dup(t, row);
	op->mask = mask;
	op->expect = expect != NULL ? xstrdup(expect) : NULL;
	op->guard = expect != NULL ? STORE_CONFLICT : STORE_NOTFOUND;
}

/* See store-int.h. */
const struct store_value *
store_op_values(const struct store_op *op, struct store_value *buf,
    size_t *n)
{
	if (op->table == NULL) {
		*n = op->nv;
		return (op->v);
	}
	if (op->sql == &op->table->sql->insert)
		*n = store_row_insert_values(op->table, op->row, buf);
	else
		*n = store_row_update_values(op->table, op->row, op->mask,
		    op->expect, buf);
	return (buf);
}

/* See store-int.h; a row's is made when first asked for. */
const char *
store_op_gmsg(struct store_op *op)
{
	struct store_value	 v[STORE_MAXVALUES];
	size_t			 n;
	char			*key;

	if (op->gmsg != NULL || op->table == NULL)
		return (op->gmsg != NULL ? op->gmsg : "guard failed");
	/* The key is the first value of an update. */
	(void)store_op_values(op, v, &n);
	if (v[0].type == STORE_INT)
		xasprintf(&key, "%lld", (long long)v[0].u.i);
	else
		key = xstrdup(v[0].u.s != NULL ? v[0].u.s : "");
	if (op->expect != NULL)
		xasprintf(&op->gmsg, "%s %s is not in state %s",
		    op->table->label, key, op->expect);
	else
		xasprintf(&op->gmsg, "%s %s not found", op->table->label, key);
	free(key);
	return (op->gmsg);
}

/* Statements with text values (store.c). */
#define tx_sql		store_tx_text

/* Record a statement with three text values. */
static struct store_op *
tx_sql3(struct store_tx *tx, const struct store_sql *q, const char *a,
    const char *b, const char *c)
{
	struct store_op	*op;

	op = store_tx_add(tx, q, 3);
	store_value_text(&op->v[0], a);
	store_value_text(&op->v[1], b);
	store_value_text(&op->v[2], c);
	return (op);
}

/* ---- the typed functions ------------------------------------------ */

/* Mistral's names of the states, by enum store_state. */
static const char *const store_state_names[] = {
	[STATE_IDLE] = ST_IDLE, [STATE_WAITING] = ST_WAITING,
	[STATE_RUNNING] = ST_RUNNING, [STATE_DELAYED] = ST_DELAYED,
	[STATE_PAUSED] = ST_PAUSED, [STATE_SUCCESS] = ST_SUCCESS,
	[STATE_ERROR] = ST_ERROR, [STATE_CANCELLED] = ST_CANCELLED
};

/* The name of a state; "?" for STATE_NONE. */
const char *
store_state_name(enum store_state st)
{
	if ((size_t)st >= nitems(store_state_names))
		return ("?");
	return (store_state_names[st]);
}

/* The state of a name; STATE_NONE for NULL or an unknown name. */
enum store_state
store_state_parse(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && i < nitems(store_state_names); i++) {
		if (strcmp(name, store_state_names[i]) == 0)
			return ((enum store_state)i);
	}
	return (STATE_NONE);
}

/* Is this state final (SUCCESS, ERROR or CANCELLED)? */
int
store_state_final(const char *state)
{
	return (STATE_FINAL(store_state_parse(state)));
}

struct store_exec *
store_exec_dup(const struct store_exec *e)
{
	return (store_row_dup(&store_exec_table, e));
}

/* Delete due work; a missing row is a conflict (someone else took it). */
void
store_tx_work_delete(struct store_tx *tx, int64_t id)
{
	struct store_op	*op;

	op = store_tx_add(tx, &work_delete, 1);
	store_value_int(&op->v[0], id);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "work %lld is gone", (long long)id);
}

void
store_tx_work_delete_task(struct store_tx *tx, const char *task_id)
{
	tx_sql(tx, &work_delete_task, task_id, NULL);
}

void
store_tx_lock_acquire(struct store_tx *tx, const char *name,
    const char *execution_id)
{
	struct store_op	*op;

	op = tx_sql(tx, &lock_acquire, name, execution_id);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "lock %s is held by another execution", name);
}

void
store_tx_lock_release_all(struct store_tx *tx, const char *execution_id)
{
	tx_sql(tx, &lock_release, execution_id, NULL);
}

/* Cheap liveness check (reconnects when needed). */
enum store_rc
store_ping(struct store *s)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	rc = store_run(s, &db_now, &store_int_shape, &rows, "");
	store_rows_free(&rows, &store_int_shape);
	return (rc);
}

/* The database clock; the local clock when it cannot be read. */
int64_t
store_now(struct store *s)
{
	int64_t	 v;

	v = store_run_int(s, &db_now, "");
	return (v > 0 ? v : time_now_ms());
}

/* ---- definitions --------------------------------------------------- */

/* Apply a change set made here, free it, load *out by key when asked. */
static enum store_rc
commit_then_load(struct store *s, struct store_tx *tx,
    const struct store_table *t, const struct store_sql *q,
    const char *key, void *out)
{
	enum store_rc	 rc;

	rc = store_tx_commit(s, tx);
	store_tx_free(tx);
	if (rc != STORE_OK || out == NULL)
		return (rc);
	memset(out, 0, sizeof(void *));
	return (store_run_one(s, q != NULL ? q : &t->sql->load, out, key,
	    "s", key));
}

/*
 * Save a new version of (kind, name, namespace).  The counter's row
 * lock, taken first, serializes saves: versions cannot race.
 */
enum store_rc
store_def_save_ns(struct store *s, const char *kind, const char *name,
    const char *ns, const char *scope, const char *text, const char *source,
    int create_only, int deleted, struct store_def **out)
{
	struct store_tx	*tx = store_tx_create();
	struct store_op	*op;
	char		 id[UUID_STRLEN];

	if (out != NULL)
		*out = NULL;
	if (ns == NULL)
		ns = "";
	store_tx_add(tx, &def_bump, 0);
	if (create_only) {
		op = tx_sql3(tx, &def_absent, kind, name, ns);
		op->guard = STORE_CONFLICT;
		xasprintf(&op->gmsg, "%s %s already exists", kind, name);
	}
	if (deleted) {
		op = tx_sql3(tx, &def_present, kind, name, ns);
		op->guard = STORE_NOTFOUND;
		xasprintf(&op->gmsg, "%s %s not found", kind, name);
	}
	uuid_make(id);
	op = store_tx_add(tx, &def_insert, 8);
	store_value_text(&op->v[0], kind);
	store_value_text(&op->v[1], name);
	store_value_text(&op->v[2], ns);
	store_value_text(&op->v[3], id);
	store_value_text(&op->v[4], text != NULL ? text : "");
	store_value_text(&op->v[5], source);
	store_value_text(&op->v[6], scope != NULL ? scope : "private");
	store_value_int(&op->v[7], deleted != 0);
	return (commit_then_load(s, tx, &store_def_table, NULL, id, out));
}

enum store_rc
store_def_save(struct store *s, const char *kind, const char *name,
    const char *text, const char *source, int create_only, int deleted,
    struct store_def **out)
{
	return (store_def_save_ns(s, kind, name, "", NULL, text, source,
	    create_only, deleted, out));
}

/* The current (newest, not deleted) version of (kind, name, ns). */
enum store_rc
store_def_load_current_ns(struct store *s, const char *kind,
    const char *name, const char *ns, struct store_def **out)
{
	enum store_rc	 rc;

	*out = NULL;
	rc = store_run_one(s, &def_current, out, name, "sss", kind, name,
	    ns != NULL ? ns : "");
	if (rc == STORE_OK && (*out)->deleted) {
		store_def_free(*out);
		*out = NULL;
		rc = STORE_NOTFOUND;
	}
	if (rc == STORE_NOTFOUND)
		store_set_error(s, "%s %s not found", kind, name);
	return (rc);
}

enum store_rc
store_def_load_current(struct store *s, const char *kind, const char *name,
    struct store_def **out)
{
	return (store_def_load_current_ns(s, kind, name, "", out));
}

/* The first version of (kind, name, ns) since it was last deleted. */
enum store_rc
store_def_load_first(struct store *s, const char *kind, const char *name,
    const char *ns, struct store_def **out)
{
	*out = NULL;
	return (store_run_one(s, &def_first, out, name, "sss", kind, name,
	    ns != NULL ? ns : ""));
}

/* Every current definition, oldest first. */
enum store_rc
store_def_list_current(struct store *s, struct store_def ***out, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_run(s, &def_list, NULL, &rows, "")) == STORE_OK)
		store_rows_take(&rows, out, n);
	return (rc);
}

/* The definition change counter; -1 when it cannot be read. */
int64_t
store_def_generation(struct store *s)
{
	return (store_run_int(s, &def_generation, ""));
}

/* Create or move a workflow identity to def_id. */
enum store_rc
store_workflow_save_ns(struct store *s, const char *name, const char *ns,
    const char *def_id, struct store_workflow **out)
{
	struct store_tx	*tx = store_tx_create();
	struct store_op	*op;
	char		 id[UUID_STRLEN];
	enum store_rc	 rc;

	if (out != NULL)
		*out = NULL;
	uuid_make(id);
	op = store_tx_add(tx, &wf_save, 4);
	store_value_text(&op->v[0], id);
	store_value_text(&op->v[1], name);
	store_value_text(&op->v[2], def_id);
	store_value_text(&op->v[3], ns != NULL ? ns : "");
	store_tx_add(tx, &def_bump, 0);
	rc = store_tx_commit(s, tx);
	store_tx_free(tx);
	if (rc != STORE_OK || out == NULL)
		return (rc);
	return (store_workflow_load_ns(s, name, ns, out));
}

enum store_rc
store_workflow_save(struct store *s, const char *name, const char *def_id,
    struct store_workflow **out)
{
	return (store_workflow_save_ns(s, name, "", def_id, out));
}

/* A workflow identity by id, or by name in a namespace. */
enum store_rc
store_workflow_load_ns(struct store *s, const char *name_or_id,
    const char *ns, struct store_workflow **out)
{
	*out = NULL;
	return (store_run_one(s, &wf_load, out, name_or_id, "ss", name_or_id,
	    ns != NULL ? ns : ""));
}

enum store_rc
store_workflow_load(struct store *s, const char *name_or_id,
    struct store_workflow **out)
{
	return (store_workflow_load_ns(s, name_or_id, "", out));
}

/* Remove a workflow identity by name in a namespace (or id). */
enum store_rc
store_workflow_delete_ns(struct store *s, const char *name, const char *ns)
{
	struct store_tx	*tx = store_tx_create();
	struct store_op	*op;

	op = tx_sql(tx, &wf_delete, name, ns != NULL ? ns : "");
	op->guard = STORE_NOTFOUND;
	xasprintf(&op->gmsg, "workflow %s not found", name);
	store_tx_add(tx, &def_bump, 0);
	return (commit_then_load(s, tx, NULL, NULL, NULL, NULL));
}

enum store_rc
store_workflow_delete(struct store *s, const char *name)
{
	return (store_workflow_delete_ns(s, name, ""));
}

/* ---- reads ---------------------------------------------------------- */

/* Every row a statement returns for one text key (store.c). */
#define load_rows	store_load_rows

/*
 * The rows for several ids: one statement for all ($1: a JSON array of
 * them) where the dialect batches, else one per id, in their order.
 */
static enum store_rc
load_ids(struct store *s, const struct store_sql *many,
    const struct store_sql *one, char *const *ids, size_t n, void *out,
    size_t *nout)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	char			*text;
	enum store_rc		 rc;
	size_t			 i;

	memset(out, 0, sizeof(void *));
	*nout = 0;
	if (n == 0)
		return (STORE_OK);
	if (!s->m->dialect->batch) {
		for (i = 0; i < n; i++) {
			if ((rc = store_run(s, one, many->from, &rows, "s",
			    ids[i])) != STORE_OK)
				return (rc);
		}
		store_rows_take(&rows, out, nout);
		return (STORE_OK);
	}
	text = store_ids_text(ids, n);
	rc = load_rows(s, many, text, out, nout);
	free(text);
	return (rc);
}

/*
 * The typed functions of store.h, each the generic one on its table:
 * frees, loads by key, inserts and updates of change sets, lists, and
 * rows by one key.
 */
#define ROW_FREE(x)	void store_##x##_free(struct store_##x *r)	\
	{ store_row_free(&store_##x##_table, r); }
#define ROW_LOAD(x)	enum store_rc store_##x##_load(struct store *s,	\
	const char *key, struct store_##x **out)			\
	{ return (store_row_load(s, &store_##x##_table, key, out)); }
#define TX_INSERT(x)	void store_tx_##x##_insert(struct store_tx *tx,	\
	const struct store_##x *r)					\
	{ store_tx_insert(tx, &store_##x##_table, r); }
#define TX_UPDATE(x)	void store_tx_##x##_update(struct store_tx *tx,	\
	const struct store_##x *r, unsigned mask, const char *expect)	\
	{ store_tx_update(tx, &store_##x##_table, r, mask, expect); }
#define LIST(x)		enum store_rc store_##x##_list(struct store *s,	\
	const struct store_query *q, struct store_##x ***out, size_t *n) \
	{ return (store_rows_list(s, &store_##x##_table, q, out, n)); }
#define ROWS_BY(fn, x, clause)						\
	static struct store_sql fn##_sql =				\
	    STORE_SELECT(&store_##x##_table, clause, #x "s");		\
	enum store_rc fn(struct store *s, const char *key,		\
	    struct store_##x ***out, size_t *n)				\
	{ return (load_rows(s, &fn##_sql, key, out, n)); }

ROW_FREE(def) ROW_FREE(workflow) ROW_FREE(exec) ROW_FREE(task)
ROW_FREE(action) ROW_FREE(work) ROW_FREE(event) ROW_FREE(message)
ROW_FREE(env) ROW_FREE(cron)
ROW_FREE(outbox)
ROW_LOAD(def) ROW_LOAD(exec) ROW_LOAD(task) ROW_LOAD(action)
TX_INSERT(exec) TX_INSERT(task) TX_INSERT(action) TX_INSERT(work)
TX_INSERT(env) TX_INSERT(cron) TX_UPDATE(env)
TX_INSERT(event) TX_INSERT(message)
TX_UPDATE(exec) TX_UPDATE(task) TX_UPDATE(action)
LIST(exec) LIST(task) LIST(action) LIST(message) LIST(env) LIST(cron)
LIST(outbox)
ROWS_BY(store_tasks_load, task, "execution_id = $1 ORDER BY seq, "
    "created_at, id")
ROWS_BY(store_actions_load, action, "task_id = $1 ORDER BY attempt, item, "
    "created_at, id")
ROWS_BY(store_events_load, event, "execution_id = $1 ORDER BY time, id")
ROWS_BY(store_exec_children, exec, "parent_task_id = $1 ORDER BY "
    "created_at, id")
ROWS_BY(store_work_load, work, "execution_id = $1 ORDER BY due_at, id")

enum store_rc
store_execs_load(struct store *s, char *const *ids, size_t n,
    struct store_exec ***out, size_t *nout)
{
	return (load_ids(s, &execs_many, &store_exec_table.sql->load, ids, n,
	    out, nout));
}

enum store_rc
store_tasks_load_many(struct store *s, char *const *ids, size_t n,
    struct store_task ***out, size_t *nout)
{
	return (load_ids(s, &tasks_of_many, &store_tasks_load_sql, ids, n,
	    out, nout));
}

/* Due work of one execution, due by now, oldest first. */
enum store_rc
store_work_due(struct store *s, const char *execution_id, int64_t now,
    struct store_work ***out, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*out = NULL;
	*n = 0;
	rc = store_run(s, &work_due, NULL, &rows, "si", execution_id, now);
	if (rc == STORE_OK)
		store_rows_take(&rows, out, n);
	return (rc);
}

/* Earliest due work of executions owner holds or could claim; 0: none. */
int64_t
store_work_next_due(struct store *s, const char *owner)
{
	int64_t	 v;

	v = store_run_int(s, &work_next, "s", owner);
	return (v > 0 ? v : 0);
}

/* Who holds a lock: *execution_id is malloc'd, or NOTFOUND. */
enum store_rc
store_lock_owner(struct store *s, const char *name, char **execution_id)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*execution_id = NULL;
	rc = store_run(s, &lock_owner, &store_text_shape, &rows, "s", name);
	if (rc == STORE_OK && rows.n == 0) {
		store_set_error(s, "lock %s not found", name);
		rc = STORE_NOTFOUND;
	} else if (rc == STORE_OK) {
		*execution_id = ((struct store_text *)rows.v[0])->v;
		((struct store_text *)rows.v[0])->v = NULL;
	}
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* Rows by state of a table with states, for /metrics. */
enum store_rc
store_count_by_state(struct store *s, const char *table, json_t **out)
{
	const struct store_table	*t = store_table_find(table);
	struct store_sql		 q = STORE_SQL(NULL, 0, "count");
	struct store_rows		 rows = { NULL, 0, 0 };
	struct store_count		*c;
	enum store_rc			 rc;
	size_t				 i;

	*out = NULL;
	if (t == NULL || t->sql->update.id < 0) {
		store_set_error(s, "cannot count %s", table);
		return (STORE_ERROR);
	}
	xasprintf((char **)&q.tmpl, "SELECT state, count(*) FROM %s "
	    "GROUP BY state", t->name);
	store_sql_build(&q, s->m->dialect);
	rc = store_run(s, &q, &store_count_shape, &rows, "");
	if (rc == STORE_OK) {
		*out = json_object();
		for (i = 0; i < rows.n; i++) {
			c = rows.v[i];
			json_object_set_new(*out, c->state,
			    json_integer(c->n));
		}
	}
	store_rows_free(&rows, &store_count_shape);
	store_sql_free(&q);
	free((char *)q.tmpl);
	return (rc);
}

/* ---- messages ------------------------------------------------------- */

/* Run a statement returning the rows it changed; their number in *n. */
static enum store_rc
run_count(struct store *s, const struct store_sql *q, size_t *n,
    const char *a, const char *b)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	rc = store_run(s, q, &store_text_shape, &rows, b != NULL ? "ss" : "s",
	    a, b);
	*n = rows.n;
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* Delete one message; NOTFOUND when there is none. */
enum store_rc
store_message_delete(struct store *s, const char *id)
{
	enum store_rc	 rc;
	size_t		 n;

	if ((rc = run_count(s, &msg_delete, &n, id, NULL)) == STORE_OK &&
	    n == 0) {
		store_set_error(s, "message %s not found", id);
		rc = STORE_NOTFOUND;
	}
	return (rc);
}

/* Delete up to batch messages expired at now (0: no limit). */
enum store_rc
store_message_reap(struct store *s, int64_t now, size_t batch, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	rc = store_run(s, &msg_reap, &store_text_shape, &rows, "ii", now,
	    batch > 0 ? (int64_t)batch : ALL);
	*n = rows.n;
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/*
 * Record deleting root execution id and the executions of its tree (the
 * rows of exec_tree), with every row under them.  The root's own delete
 * is guarded by its state: it must still be finished.
 */
static void
tx_exec_delete(struct store_tx *tx, const char *id, struct store_rows *tree)
{
	struct store_op	*op = NULL;
	const char	*x;
	size_t		 i, j;

	for (i = 0; i < tree->n; i++) {
		x = ((struct store_text *)tree->v[i])->v;
		for (j = 0; j < nitems(exec_deletes); j++)
			op = tx_sql(tx, &exec_deletes[j], x,
			    j + 1 == nitems(exec_deletes) ? id : NULL);
		op->guard = STORE_CONFLICT;
		xasprintf(&op->gmsg, "execution %s is not finished", id);
	}
}

/*
 * Delete a finished execution with its sub-executions (found through
 * their parent tasks, recursively) and every row under them, in one
 * transaction.  The execution's own delete is guarded by its state.
 */
enum store_rc
store_exec_delete(struct store *s, const char *id)
{
	struct store_exec	*e = NULL;
	struct store_rows	 tree = { NULL, 0, 0 };
	struct store_tx		*tx;
	enum store_rc		 rc;

	if ((rc = store_exec_load(s, id, &e)) != STORE_OK)
		return (rc);
	if (!store_state_final(e->state)) {
		store_set_error(s, "execution %s is %s, not finished", id,
		    e->state);
		store_exec_free(e);
		return (STORE_CONFLICT);
	}
	store_exec_free(e);
	rc = store_run(s, &exec_tree, &store_text_shape, &tree, "s", id);
	if (rc != STORE_OK)
		return (rc);
	tx = store_tx_create();
	tx_exec_delete(tx, id, &tree);
	store_rows_free(&tree, &store_text_shape);
	return (commit_then_load(s, tx, NULL, NULL, NULL, NULL));
}

/*
 * Run one guarded delete of key in its own transaction; when it deletes
 * nothing, guard with the message fmt (%s: the key).
 */
static enum store_rc
delete_one(struct store *s, const struct store_sql *q, const char *key,
    enum store_rc guard, const char *fmt)
{
	struct store_tx	*tx = store_tx_create();
	struct store_op	*op;

	op = tx_sql(tx, q, key, NULL);
	op->guard = guard;
	xasprintf(&op->gmsg, fmt, key);
	return (commit_then_load(s, tx, NULL, NULL, NULL, NULL));
}

/*
 * Delete an action execution run outside a workflow (one of a task
 * goes with its execution); CONFLICT when it is not finished or belongs
 * to a task.
 */
enum store_rc
store_action_delete(struct store *s, const char *id)
{
	return (delete_one(s, &actex_delete, id, STORE_CONFLICT,
	    "action execution %s belongs to a task or is not finished: only "
	    "a finished one run outside a workflow can be deleted"));
}

/* ---- environments and cron triggers --------------------------------- */

enum store_rc
store_env_load(struct store *s, const char *name, struct store_env **out)
{
	*out = NULL;
	return (store_run_one(s, &env_by_name, out, name, "s", name));
}

/* Delete by name (or id); NOTFOUND when there is none. */
enum store_rc
store_env_delete(struct store *s, const char *name)
{
	return (delete_one(s, &env_delete, name, STORE_NOTFOUND,
	    "Environment not found [name=%s]"));
}

enum store_rc
store_cron_load(struct store *s, const char *name, struct store_cron **out)
{
	*out = NULL;
	return (store_run_one(s, &cron_by_name, out, name, "s", name));
}

enum store_rc
store_cron_delete(struct store *s, const char *name)
{
	return (delete_one(s, &cron_delete, name, STORE_NOTFOUND,
	    "Cron trigger not found [name=%s]"));
}

/* Triggers whose next tick is due by now, at most limit, oldest first. */
enum store_rc
store_cron_due(struct store *s, int64_t now, size_t limit,
    struct store_cron ***out, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*out = NULL;
	*n = 0;
	rc = store_run(s, &cron_due, NULL, &rows, "ii", now,
	    limit > 0 ? (int64_t)limit : ALL);
	if (rc == STORE_OK)
		store_rows_take(&rows, out, n);
	return (rc);
}

/* The earliest next tick of any trigger; 0 when there is none. */
int64_t
store_cron_next(struct store *s)
{
	int64_t	 v;

	v = store_run_int(s, &cron_next_tick, "");
	return (v > 0 ? v : 0);
}

/* See store.h. */
void
store_tx_cron_fire(struct store_tx *tx, const struct store_cron *c,
    int64_t next, int64_t remaining)
{
	struct store_op	*op;

	if (remaining == 0) {
		op = store_tx_add(tx, &cron_last, 2);
		store_value_text(&op->v[0], c->id);
		store_value_int(&op->v[1], c->next_execution_time);
	} else {
		op = store_tx_add(tx, &cron_advance, 4);
		store_value_text(&op->v[0], c->id);
		store_value_int(&op->v[1], c->next_execution_time);
		store_value_int(&op->v[2], next);
		store_value_int(&op->v[3], remaining);
	}
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "cron trigger %s: tick fired by another engine",
	    c->name);
}

/* ---- retention ------------------------------------------------------ */

/* Try to take the reapers' lock name; *got says whether it was had. */
enum store_rc
store_reap_lock(struct store *s, const char *name, int *got)
{
	int64_t	 v;

	*got = 0;
	if ((v = store_run_int(s, &reap_lock, "s", name)) < 0)
		return (STORE_UNAVAILABLE);
	*got = v == 1;
	return (STORE_OK);
}

/* Let go of the reapers' lock name (a lost connection let go already). */
void
store_reap_unlock(struct store *s, const char *name)
{
	(void)store_run_int(s, &reap_unlock, "s", name);
}

/* The rows of a statement counting in a tree (a JSON array of ids). */
static size_t
purge_count(struct store *s, const struct store_sql *q, const char *ids)
{
	int64_t	 v;

	v = store_run_int(s, q, "s", ids);
	return (v > 0 ? (size_t)v : 0);
}

/*
 * Purge one finished root execution and its tree in one transaction,
 * adding what went to *out.  Counted first: whoever runs this holds the
 * reapers' lock, and the root's guard fails the whole change set if it
 * ran again meanwhile, so the counts are what is deleted.
 */
static enum store_rc
purge_one(struct store *s, const char *id, struct store_purged *out)
{
	struct store_rows	 tree = { NULL, 0, 0 };
	struct store_purged	 n;
	struct store_tx		*tx;
	json_t			*a;
	char			*ids;
	enum store_rc		 rc;
	size_t			 i;

	rc = store_run(s, &exec_tree, &store_text_shape, &tree, "s", id);
	if (rc != STORE_OK)
		return (rc);
	a = json_array();
	for (i = 0; i < tree.n; i++)
		json_array_append_new(a, json_string(
		    ((struct store_text *)tree.v[i])->v));
	ids = store_json_text(a);
	json_decref(a);
	n.executions = tree.n;
	n.tasks = purge_count(s, &purge_counts[0], ids);
	n.actions = purge_count(s, &purge_counts[1], ids);
	n.events = purge_count(s, &purge_counts[2], ids);
	free(ids);
	tx = store_tx_create();
	tx_exec_delete(tx, id, &tree);
	store_rows_free(&tree, &store_text_shape);
	rc = store_tx_commit(s, tx);
	store_tx_free(tx);
	if (rc == STORE_OK) {
		out->executions += n.executions;
		out->tasks += n.tasks;
		out->actions += n.actions;
		out->events += n.events;
	}
	return (rc);
}

/* See store.h.  A root that changed meanwhile (re-run) is left alone. */
enum store_rc
store_exec_purge(struct store *s, int64_t before, size_t batch,
    struct store_purged *out)
{
	struct store_rows	 roots = { NULL, 0, 0 };
	enum store_rc		 rc;
	size_t			 i;

	memset(out, 0, sizeof *out);
	rc = store_run(s, &purge_roots, &store_text_shape, &roots, "ii",
	    before, batch > 0 ? (int64_t)batch : ALL);
	for (i = 0; rc == STORE_OK && i < roots.n; i++) {
		rc = purge_one(s, ((struct store_text *)roots.v[i])->v, out);
		if (rc == STORE_CONFLICT || rc == STORE_NOTFOUND)
			rc = STORE_OK;
	}
	store_rows_free(&roots, &store_text_shape);
	return (rc);
}

/* Delete up to batch notifications sent or given up before before. */
enum store_rc
store_outbox_purge(struct store *s, int64_t before, size_t batch, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	rc = store_run(s, &outbox_purge, &store_text_shape, &rows, "ii",
	    before, batch > 0 ? (int64_t)batch : ALL);
	*n = rows.n;
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* ---- the outbox ----------------------------------------------------- */

/* See store.h. */
enum store_rc
store_outbox_claim(struct store *s, const char *owner, int64_t lease_ms,
    size_t limit, struct store_outbox ***out, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;
	char			**ids = NULL;
	size_t			 nids = 0, i;

	*out = NULL;
	*n = 0;
	rc = store_run(s, &outbox_claim, &store_text_shape, &rows, "sii",
	    owner, lease_ms, limit > 0 ? (int64_t)limit : ALL);
	if (rc == STORE_OK)
		rows_texts(&rows, &ids, &nids);
	store_rows_free(&rows, &store_text_shape);
	if (nids > 0)
		rc = load_ids(s, &outbox_many, &store_outbox_table.sql->load,
		    ids, nids, out, n);
	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	return (rc);
}

/* Record an outbox statement guarded by the claim of owner. */
static struct store_op *
tx_outbox(struct store_tx *tx, const struct store_sql *q, const char *id,
    const char *owner, size_t nv)
{
	struct store_op	*op;

	op = store_tx_add(tx, q, nv);
	store_value_text(&op->v[0], id);
	store_value_text(&op->v[1], owner);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "notification %s is no longer claimed by %s",
	    id, owner);
	return (op);
}

void
store_tx_outbox_sent(struct store_tx *tx, const char *id, const char *owner)
{
	(void)tx_outbox(tx, &outbox_sent, id, owner, 2);
}

void
store_tx_outbox_retry(struct store_tx *tx, const char *id, const char *owner,
    int64_t next_at, const char *error)
{
	struct store_op	*op;

	op = tx_outbox(tx, &outbox_retry, id, owner, 4);
	store_value_int(&op->v[2], next_at);
	store_value_text(&op->v[3], error);
}

void
store_tx_outbox_dead(struct store_tx *tx, const char *id, const char *owner,
    const char *error)
{
	struct store_op	*op;

	op = tx_outbox(tx, &outbox_dead, id, owner, 3);
	store_value_text(&op->v[2], error);
}

/* A DEAD notification goes again; NOTFOUND when there is no DEAD one. */
enum store_rc
store_outbox_requeue(struct store *s, const char *id)
{
	enum store_rc	 rc;
	size_t		 n;

	if ((rc = run_count(s, &outbox_requeue, &n, id, NULL)) == STORE_OK &&
	    n == 0) {
		store_set_error(s, "notification %s not found, or not DEAD",
		    id);
		rc = STORE_NOTFOUND;
	}
	return (rc);
}

/* Give back the claims of owner. */
enum store_rc
store_outbox_release(struct store *s, const char *owner, size_t *n)
{
	return (run_count(s, &outbox_release, n, owner, NULL));
}

/* Who holds claims on pending notifications. */
enum store_rc
store_outbox_owners(struct store *s, char ***owners, size_t *n)
{
	return (run_texts(s, &outbox_owners, owners, n));
}

/* ---- leases --------------------------------------------------------- */

/* See store.h. */
enum store_rc
store_exec_claim(struct store *s, const char *owner, int64_t lease_ms,
    size_t limit, char ***ids, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*ids = NULL;
	*n = 0;
	rc = store_run(s, &exec_claim, &store_text_shape, &rows, "sii", owner,
	    lease_ms, limit > 0 ? (int64_t)limit : ALL);
	if (rc == STORE_OK)
		rows_texts(&rows, ids, n);
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* Extend owner's leases on ids; *held gets those it still holds. */
enum store_rc
store_exec_renew(struct store *s, const char *owner, char *const *ids,
    size_t n, int64_t lease_ms, char ***held, size_t *nheld)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;
	char			*text;

	*held = NULL;
	*nheld = 0;
	if (n == 0)
		return (STORE_OK);
	text = store_ids_text(ids, n);
	rc = store_run(s, &exec_renew, &store_text_shape, &rows, "ssi", text,
	    owner, lease_ms);
	free(text);
	if (rc == STORE_OK)
		rows_texts(&rows, held, nheld);
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* Give up one lease by q; CONFLICT when it changed nothing. */
static enum store_rc
lease_give_back(struct store *s, const struct store_sql *q, const char *id,
    const char *owner, const char *or_else)
{
	enum store_rc	 rc;
	size_t		 n;

	if ((rc = run_count(s, q, &n, id, owner)) == STORE_OK && n == 0) {
		store_set_error(s, "execution %s is not leased by %s%s", id,
		    owner, or_else);
		rc = STORE_CONFLICT;
	}
	return (rc);
}

/* Give up one lease; CONFLICT when owner does not hold it. */
enum store_rc
store_exec_release(struct store *s, const char *id, const char *owner)
{
	return (lease_give_back(s, &exec_release, id, owner, ""));
}

enum store_rc
store_exec_owners(struct store *s, char ***owners, size_t *n)
{
	return (run_texts(s, &exec_owners, owners, n));
}

enum store_rc
store_exec_release_all(struct store *s, const char *owner, size_t *n)
{
	return (run_count(s, &exec_release_all, n, owner, NULL));
}

enum store_rc
store_exec_park(struct store *s, const char *id, const char *owner)
{
	return (lease_give_back(s, &exec_park, id, owner, " or not running"));
}

/* Every statement of this file, registered: prepared once per connection. */
struct store_sql *const store_ops_sqls[] = {
	&def_bump, &def_absent, &def_present, &def_insert, &def_current,
	&def_first, &def_list, &def_generation, &wf_save, &wf_load, &wf_delete,
	&tasks_of_many, &execs_many, &work_due, &work_next, &work_delete,
	&work_delete_task, &lock_acquire, &lock_release, &lock_owner,
	&msg_delete, &msg_reap, &exec_tree, &exec_deletes[0],
	&exec_deletes[1], &exec_deletes[2], &exec_deletes[3],
	&exec_deletes[4], &exec_deletes[5], &exec_claim, &exec_renew,
	&exec_release, &exec_park, &exec_owners, &exec_release_all, &db_now,
	&actex_delete, &env_by_name, &env_delete, &cron_by_name, &cron_delete,
	&cron_due, &cron_next_tick, &cron_advance, &cron_last,
	&store_tasks_load_sql,
	&store_actions_load_sql, &store_events_load_sql,
	&store_exec_children_sql, &store_work_load_sql, &reap_lock,
	&reap_unlock, &purge_roots, &purge_counts[0], &purge_counts[1],
	&purge_counts[2], &outbox_purge, &outbox_claim, &outbox_many,
	&outbox_sent, &outbox_retry, &outbox_dead, &outbox_requeue,
	&outbox_release, &outbox_owners, NULL
};
