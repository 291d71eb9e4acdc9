/*
 * store-alarms.c -- the statements of the alarm intake's decision log:
 * holds and limit counters taken by guarded upserts (so that engines
 * sharing a database never both start what one key allows once), the
 * nonces of timestamped signatures, and the reads of one alarm's events
 * and decisions.  The tables themselves are declared in store-table.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

/*
 * A hold is free when it neither waits for a resolution nor lasts
 * beyond now; taking one that is not free changes no row, and the
 * guard fails the change set.
 */
#define HOLD_HELD(t) "((" t ".until_resolved = 1 AND " t ".resolved_at = 0) " \
	"OR " t ".until_at > bora_now_ms())"
#define HOLD_FREE(t) "NOT " HOLD_HELD(t)

static struct store_sql hold_take = STORE_SQL("INSERT INTO alarm_holds (id, "
    "trigger_name, key, execution_id, alarm_id, until_at, until_resolved, "
    "resolved_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
    "CASE WHEN $6::bigint > 0 THEN bora_now_ms() + $6::bigint ELSE 0 END, "
    "$7::bigint, 0, bora_now_ms(), bora_now_ms()) ON CONFLICT (id) DO "
    "UPDATE SET execution_id = excluded.execution_id, alarm_id = "
    "excluded.alarm_id, until_at = excluded.until_at, until_resolved = "
    "excluded.until_resolved, resolved_at = 0, updated_at = "
    "excluded.updated_at WHERE " HOLD_FREE("alarm_holds"), STORE_GUARD,
    "alarm hold");
static struct store_sql hold_release = STORE_SQL("UPDATE alarm_holds SET "
    "resolved_at = bora_now_ms(), updated_at = bora_now_ms() WHERE id = $1 "
    "AND until_resolved = 1 AND resolved_at = 0", 0, "release alarm hold");
/* A window is over when window_start + window_ms is past. */
static struct store_sql limit_take = STORE_SQL("INSERT INTO alarm_limits "
    "(id, trigger_name, by_value, window_start, window_ms, n, updated_at) "
    "VALUES ($1, $2, $3, bora_now_ms(), $4::bigint, 1, bora_now_ms()) ON "
    "CONFLICT (id) DO UPDATE SET window_start = CASE WHEN "
    "alarm_limits.window_start + excluded.window_ms <= bora_now_ms() THEN "
    "bora_now_ms() ELSE alarm_limits.window_start END, n = CASE WHEN "
    "alarm_limits.window_start + excluded.window_ms <= bora_now_ms() THEN 1 "
    "ELSE alarm_limits.n + 1 END, window_ms = excluded.window_ms, "
    "updated_at = bora_now_ms() WHERE alarm_limits.window_start + "
    "excluded.window_ms <= bora_now_ms() OR alarm_limits.n < $5::bigint",
    STORE_GUARD, "alarm limit");
/*
 * One message per window of a limit counter: the counter says which
 * message told its window (taken under the row's lock, so of two
 * engines one wins), and the message is inserted only if it is this
 * one.
 */
static struct store_sql limit_tell = STORE_SQL("UPDATE alarm_limits SET "
    "told_window = window_start, told_message = $2 WHERE id = $1 AND "
    "told_window <> window_start", 0, "alarm limit message");
static struct store_sql limit_told = STORE_SQL("INSERT INTO messages (id, "
    "event_id, message, request_id, resource_type, resource_uuid, level, "
    "created_at, expires_at, project_id) SELECT $2::text, $3::text, "
    "$4::text, $5::text, $6::text, $7::text, $8::text, bora_now_ms(), "
    "$9::bigint, $10::text FROM alarm_limits WHERE id = $1 AND "
    "told_message = $2", 0, "alarm limit message");
/*
 * Retention: decided (or invalid) alarms received before $1 whose hold,
 * if any, is no longer in force; holds and counters over since; refused
 * requests.
 */
static struct store_sql purge_pick = STORE_SQL("SELECT a.id FROM alarms a "
    "WHERE a.received_at < $1::bigint AND a.state <> 'received' AND NOT "
    "EXISTS (SELECT 1 FROM alarm_holds h WHERE h.alarm_id = a.id AND "
    HOLD_HELD("h") ") ORDER BY a.received_at, a.id LIMIT $2::bigint", 0,
    "alarms to purge");
static struct store_sql purge_counts[] = {
	STORE_SQL("SELECT count(*) FROM alarm_events WHERE alarm_id IN @IDS",
	    0, "count alarm events"),
	STORE_SQL("SELECT count(*) FROM alarm_decisions WHERE alarm_id IN "
	    "@IDS", 0, "count alarm decisions")
};
static struct store_sql purge_deletes[] = {
	STORE_SQL("DELETE FROM alarm_decisions WHERE alarm_id IN @IDS", 0,
	    "purge alarms"),
	STORE_SQL("DELETE FROM alarm_events WHERE alarm_id IN @IDS", 0,
	    "purge alarms"),
	STORE_SQL("DELETE FROM alarms WHERE id IN @IDS AND state <> "
	    "'received'", 0, "purge alarms")
};
static struct store_sql purge_rest[] = {
	STORE_SQL("DELETE FROM alarm_holds WHERE id IN (SELECT id FROM "
	    "alarm_holds h WHERE h.updated_at < $1::bigint AND "
	    HOLD_FREE("h") " LIMIT $2::bigint@LOCK) RETURNING id", 0,
	    "purge alarm holds"),
	STORE_SQL("DELETE FROM alarm_limits WHERE id IN (SELECT id FROM "
	    "alarm_limits WHERE window_start + window_ms < $1::bigint LIMIT "
	    "$2::bigint@LOCK) RETURNING id", 0, "purge alarm limits"),
	STORE_SQL("DELETE FROM alarm_auth_failures WHERE id IN (SELECT id "
	    "FROM alarm_auth_failures WHERE time < $1::bigint ORDER BY time "
	    "LIMIT $2::bigint@LOCK) RETURNING id", 0,
	    "purge alarm auth failures")
};
static struct store_sql nonce_take = STORE_SQL("INSERT INTO alarm_nonces "
    "(id, expires_at) VALUES ($1, $2::bigint) ON CONFLICT (id) DO UPDATE "
    "SET expires_at = excluded.expires_at WHERE alarm_nonces.expires_at <= "
    "bora_now_ms()", STORE_GUARD, "alarm nonce");
static struct store_sql nonce_reap = STORE_SQL("DELETE FROM alarm_nonces "
    "WHERE expires_at <= bora_now_ms()", 0, "reap alarm nonces");
static struct store_sql holds_many = STORE_SELECT(&store_alarm_hold_table,
    "id IN @IDS", "alarm holds");
static struct store_sql limits_many = STORE_SELECT(&store_alarm_limit_table,
    "id IN @IDS", "alarm limits");
static struct store_sql events_of = STORE_SELECT(&store_alarm_event_table,
    "alarm_id = $1 ORDER BY seq", "alarm events");
static struct store_sql decisions_of = STORE_SELECT(
    &store_alarm_decision_table, "alarm_id = $1 ORDER BY seq, ord",
    "alarm decisions");
static struct store_sql pending = STORE_SQL("SELECT id FROM alarms WHERE "
    "state = 'received' AND received_at <= $1::bigint ORDER BY "
    "received_at LIMIT $2::bigint", 0, "pending alarms");

/* Every statement of this file, registered with the store's. */
struct store_sql *const store_alarm_sqls[] = {
	&hold_take, &hold_release, &limit_take, &nonce_take, &nonce_reap,
	&holds_many, &limits_many, &events_of, &decisions_of, &pending,
	&limit_tell, &limit_told, &purge_pick, &purge_counts[0],
	&purge_counts[1], &purge_deletes[0], &purge_deletes[1],
	&purge_deletes[2], &purge_rest[0], &purge_rest[1], &purge_rest[2],
	NULL
};

/* See store.h. */
int
store_alarm_undecided(const struct store_alarm *a)
{
	return (a->state != NULL && strcmp(a->state, ST_ALARM_RECEIVED) == 0);
}

/* ["trigger","key"]: one text for a pair, whatever either holds. */
char *
store_alarm_hold_id(const char *trigger, const char *key)
{
	json_t	*a;
	char	*s;

	a = json_pack("[s, s]", trigger, key != NULL ? key : "");
	if (a == NULL || (s = json_dumps(a, JSON_COMPACT)) == NULL)
		fatalx("%s: cannot encode a hold id", __func__);
	json_decref(a);
	return (s);
}

/* Rows of several ids as a JSON array in $1. */
static enum store_rc
load_ids(struct store *s, const struct store_sql *q, char *const *ids,
    size_t n, void *out, size_t *nout)
{
	struct store_rows	 rows;
	char			*text;
	enum store_rc		 rc;

	memset(&rows, 0, sizeof rows);
	memset(out, 0, sizeof(void *));
	*nout = 0;
	if (n == 0)
		return (STORE_OK);
	text = store_ids_text(ids, n);
	rc = store_run(s, q, NULL, &rows, "s", text);
	free(text);
	if (rc != STORE_OK) {
		store_rows_free(&rows, q->from);
		return (rc);
	}
	store_rows_take(&rows, out, nout);
	return (STORE_OK);
}

enum store_rc
store_alarm_holds_load(struct store *s, char *const *ids, size_t n,
    struct store_alarm_hold ***out, size_t *nout)
{
	return (load_ids(s, &holds_many, ids, n, out, nout));
}

enum store_rc
store_alarm_limits_load(struct store *s, char *const *ids, size_t n,
    struct store_alarm_limit ***out, size_t *nout)
{
	return (load_ids(s, &limits_many, ids, n, out, nout));
}

/* Take a hold (see store.h). */
void
store_tx_alarm_hold(struct store_tx *tx, const struct store_alarm_hold *h,
    int64_t hold_ms)
{
	struct store_op	*op;

	op = store_tx_add(tx, &hold_take, 7);
	store_value_text(&op->v[0], h->id);
	store_value_text(&op->v[1], h->trigger_name);
	store_value_text(&op->v[2], h->key);
	store_value_text(&op->v[3], h->execution_id);
	store_value_text(&op->v[4], h->alarm_id);
	store_value_int(&op->v[5], hold_ms);
	store_value_int(&op->v[6], h->until_resolved);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "key %s of trigger %s is held by another "
	    "execution", h->key, h->trigger_name);
}

void
store_tx_alarm_release(struct store_tx *tx, const char *id)
{
	struct store_op	*op;

	op = store_tx_add(tx, &hold_release, 1);
	store_value_text(&op->v[0], id);
}

/* Count one more execution in a limit (see store.h). */
void
store_tx_alarm_limit(struct store_tx *tx, const struct store_alarm_limit *l,
    int64_t count)
{
	struct store_op	*op;

	op = store_tx_add(tx, &limit_take, 5);
	store_value_text(&op->v[0], l->id);
	store_value_text(&op->v[1], l->trigger_name);
	store_value_text(&op->v[2], l->by_value);
	store_value_int(&op->v[3], l->window_ms);
	store_value_int(&op->v[4], count);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "trigger %s reached its limit of %lld",
	    l->trigger_name, (long long)count);
}

/* Record a limit's storm message, once per window (see store.h). */
void
store_tx_alarm_limit_message(struct store_tx *tx, const char *limit_id,
    const struct store_message *m)
{
	struct store_op	*op;

	op = store_tx_add(tx, &limit_tell, 2);
	store_value_text(&op->v[0], limit_id);
	store_value_text(&op->v[1], m->id);
	op = store_tx_add(tx, &limit_told, 10);
	store_value_text(&op->v[0], limit_id);
	store_value_text(&op->v[1], m->id);
	store_value_text(&op->v[2], m->event_id);
	store_value_text(&op->v[3], m->message);
	store_value_text(&op->v[4], m->request_id);
	store_value_text(&op->v[5], m->resource_type);
	store_value_text(&op->v[6], m->resource_uuid);
	store_value_text(&op->v[7], m->level);
	store_value_int(&op->v[8], m->expires_at);
	store_value_text(&op->v[9], m->project_id);
}

void
store_tx_alarm_nonce(struct store_tx *tx, const char *id, int64_t expires_at)
{
	struct store_op	*op;

	op = store_tx_add(tx, &nonce_take, 2);
	store_value_text(&op->v[0], id);
	store_value_int(&op->v[1], expires_at);
	op->guard = STORE_CONFLICT;
	op->gmsg = xstrdup("this signature was already accepted (a replay)");
}

/* Rows of an alarm by a statement. */
static enum store_rc
load_of(struct store *s, const struct store_sql *q, const char *alarm_id,
    void *out, size_t *n)
{
	struct store_rows	 rows;
	enum store_rc		 rc;

	memset(&rows, 0, sizeof rows);
	memset(out, 0, sizeof(void *));
	*n = 0;
	if ((rc = store_run(s, q, NULL, &rows, "s", alarm_id)) != STORE_OK) {
		store_rows_free(&rows, q->from);
		return (rc);
	}
	store_rows_take(&rows, out, n);
	return (STORE_OK);
}

enum store_rc
store_alarm_events_load(struct store *s, const char *alarm_id,
    struct store_alarm_event ***out, size_t *n)
{
	return (load_of(s, &events_of, alarm_id, out, n));
}

enum store_rc
store_alarm_decisions_load(struct store *s, const char *alarm_id,
    struct store_alarm_decision ***out, size_t *n)
{
	return (load_of(s, &decisions_of, alarm_id, out, n));
}

/* Ids of alarms not decided, received before `before`. */
enum store_rc
store_alarms_pending(struct store *s, int64_t before, size_t limit,
    char ***ids, size_t *n)
{
	struct store_rows	 rows;
	struct store_text	*t;
	enum store_rc		 rc;
	size_t			 i;

	memset(&rows, 0, sizeof rows);
	*ids = NULL;
	*n = 0;
	rc = store_run(s, &pending, &store_text_shape, &rows, "ii", before,
	    (int64_t)(limit > 0 ? limit : 100));
	if (rc != STORE_OK) {
		store_rows_free(&rows, &store_text_shape);
		return (rc);
	}
	*ids = xcalloc(rows.n + 1, sizeof **ids);
	for (i = 0; i < rows.n; i++) {
		t = rows.v[i];
		(*ids)[i] = t->v;
		t->v = NULL;
	}
	*n = rows.n;
	store_rows_free(&rows, &store_text_shape);
	return (STORE_OK);
}

/* Delete expired nonces. */
enum store_rc
store_alarm_nonces_reap(struct store *s)
{
	struct store_tx	*tx;
	enum store_rc	 rc;

	tx = store_tx_create();
	(void)store_tx_add(tx, &nonce_reap, 0);
	rc = store_tx_commit(s, tx);
	store_tx_free(tx);
	return (rc);
}

/* Rows deleted by a statement returning their ids, up to batch. */
static size_t
purge_run(struct store *s, const struct store_sql *q, int64_t before,
    int64_t batch, enum store_rc *rc)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	size_t			 n;

	*rc = store_run(s, q, &store_text_shape, &rows, "ii", before, batch);
	n = rows.n;
	store_rows_free(&rows, &store_text_shape);
	return (n);
}

/*
 * See store.h.  Counted first, then deleted in one transaction: whoever
 * runs this holds the reapers' lock, and an alarm that is old and
 * decided stays so, so the counts are what goes.
 */
enum store_rc
store_alarm_purge(struct store *s, int64_t before, size_t batch,
    struct store_alarm_purged *out)
{
	struct store_rows	 pick = { NULL, 0, 0 };
	struct store_tx		*tx;
	struct store_op		*op;
	char			**ids = NULL, *text = NULL;
	int64_t			 lim = batch > 0 ? (int64_t)batch : 100, v;
	enum store_rc		 rc;
	size_t			 n = 0, i, k;

	memset(out, 0, sizeof *out);
	rc = store_run(s, &purge_pick, &store_text_shape, &pick, "ii",
	    before, lim);
	if (rc == STORE_OK && pick.n > 0) {
		ids = xcalloc(pick.n, sizeof *ids);
		for (i = 0; i < pick.n; i++) {
			ids[i] = ((struct store_text *)pick.v[i])->v;
			((struct store_text *)pick.v[i])->v = NULL;
		}
		n = pick.n;
	}
	store_rows_free(&pick, &store_text_shape);
	if (rc != STORE_OK)
		return (rc);
	if (n > 0) {
		text = store_ids_text(ids, n);
		v = store_run_int(s, &purge_counts[0], "s", text);
		out->events = v > 0 ? (size_t)v : 0;
		v = store_run_int(s, &purge_counts[1], "s", text);
		out->decisions = v > 0 ? (size_t)v : 0;
		tx = store_tx_create();
		for (k = 0; k < nitems(purge_deletes); k++) {
			op = store_tx_add(tx, &purge_deletes[k], 1);
			store_value_text(&op->v[0], text);
		}
		rc = store_tx_commit(s, tx);
		store_tx_free(tx);
		if (rc == STORE_OK)
			out->alarms = n;
		else
			out->events = out->decisions = 0;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(text);
	if (rc != STORE_OK)
		return (rc);
	out->holds = purge_run(s, &purge_rest[0], before, lim, &rc);
	if (rc == STORE_OK)
		out->limits = purge_run(s, &purge_rest[1], before, lim, &rc);
	if (rc == STORE_OK)
		out->auth_failures = purge_run(s, &purge_rest[2], before, lim,
		    &rc);
	return (rc);
}
