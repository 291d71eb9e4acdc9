/*
 * store-recovery.c -- the queries of Masakari's tables: failover
 * segments, their hosts and notifications (the rows themselves are
 * declared in store-table.c); and the progress events of a recovery,
 * its sub-workflows' included.
 *
 * Two writes carry the guarantees of recovery: taking a reserved host
 * is one guarded update (reserved 1 -> 0), so two recoveries, on one
 * engine or several, never take the same host; and the notifications
 * of a host are serialised by a lock on its row, under which a
 * duplicate inside Masakari's window is refused.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

static struct store_sql seg_find = STORE_SELECT(&store_segment_table,
    "uuid = $1 OR name = $1 ORDER BY uuid = $1 DESC LIMIT 1", "segment");
static struct store_sql seg_all = STORE_SELECT(&store_segment_table,
    "1 = 1 ORDER BY created_at, id", "segments");
static struct store_sql host_find = STORE_SELECT(&store_host_table,
    "uuid = $1 OR name = $1 ORDER BY uuid = $1 DESC LIMIT 1", "host");
static struct store_sql hosts_of = STORE_SELECT(&store_host_table,
    "segment_uuid = $1 ORDER BY created_at DESC, id DESC", "hosts");
static struct store_sql notif_find = STORE_SELECT(&store_notification_table,
    "notification_uuid = $1", "notification");

/* An execution and every one under it, through their parent tasks. */
static struct store_sql events_tree = STORE_SELECT(&store_event_table,
    "execution_id IN (WITH RECURSIVE tree(id) AS (SELECT $1::text UNION "
    "SELECT e.id FROM executions e, tasks t, tree WHERE t.execution_id = "
    "tree.id AND e.parent_task_id = t.id) SELECT id FROM tree) "
    "ORDER BY time, id", "events");

static struct store_sql seg_delete_hosts = STORE_SQL("DELETE FROM "
    "segment_hosts WHERE segment_uuid = $1", 0, "delete segment");
static struct store_sql seg_delete = STORE_SQL("DELETE FROM segments WHERE "
    "uuid = $1", STORE_GUARD, "delete segment");
static struct store_sql host_delete = STORE_SQL("DELETE FROM segment_hosts "
    "WHERE uuid = $1", STORE_GUARD, "delete host");
static struct store_sql host_take = STORE_SQL("UPDATE segment_hosts SET "
    "reserved = 0, updated_at = bora_now_ms() WHERE name = $1 AND "
    "reserved = 1 AND on_maintenance = 0", STORE_GUARD, "take host");
static struct store_sql host_maintain = STORE_SQL("UPDATE segment_hosts SET "
    "on_maintenance = 1, reserved = CASE WHEN $2::bigint = 1 THEN 0 ELSE "
    "reserved END, updated_at = bora_now_ms() WHERE name = $1 AND "
    "on_maintenance = 0", STORE_GUARD, "maintain host");
/* A write that changes nothing but locks the row to the end. */
static struct store_sql host_lock = STORE_SQL("UPDATE segment_hosts SET "
    "updated_at = updated_at WHERE name = $1", 0, "lock host");
static struct store_sql notif_run = STORE_SQL("UPDATE ha_notifications SET "
    "state = 'running', updated_at = bora_now_ms() WHERE notification_uuid = "
    "$1 AND state = 'new'", 0, "notification");
/* An error after a retry is Masakari's "failed". */
static struct store_sql notif_end = STORE_SQL("UPDATE ha_notifications SET "
    "state = CASE WHEN $2 = 'error' AND retries > 0 THEN 'failed' ELSE $2 "
    "END, state_info = $3, updated_at = bora_now_ms() WHERE "
    "notification_uuid = $1 AND state IN ('new', 'running')", 0,
    "notification");
/* Notifications whose recovery failed and was not tried again. */
static struct store_sql notif_retry_due = STORE_SELECT(
    &store_notification_table, "state = 'error' AND retries = 0 AND "
    "execution_id IS NOT NULL AND updated_at <= $1::bigint ORDER BY "
    "updated_at, id LIMIT $2::bigint", "notifications");
static struct store_sql notif_retry = STORE_SQL("UPDATE ha_notifications SET "
    "state = 'running', retries = retries + 1, execution_id = $2, "
    "updated_at = bora_now_ms() WHERE notification_uuid = $1 AND state = "
    "'error' AND retries = 0", STORE_GUARD, "retry notification");
static struct store_sql notif_expire = STORE_SQL("UPDATE ha_notifications "
    "SET state = 'failed', updated_at = bora_now_ms() WHERE state IN "
    "('new', 'error') AND created_at <= $1::bigint RETURNING "
    "notification_uuid", 0, "expire notifications");
static struct store_sql notif_absent = STORE_SQL("SELECT 1 WHERE NOT EXISTS "
    "(SELECT 1 FROM ha_notifications WHERE dedup = $1 AND generated_time >= "
    "$2::bigint)", STORE_GUARD, "notification");

/* One row by a text key into *out (T **). */
static enum store_rc
find_one(struct store *s, const struct store_sql *q, const char *key,
    void *out)
{
	memset(out, 0, sizeof(void *));
	return (store_run_one(s, q, out, key, "s", key));
}

enum store_rc
store_segment_find(struct store *s, const char *key,
    struct store_segment **out)
{
	return (find_one(s, &seg_find, key, out));
}

enum store_rc
store_host_find(struct store *s, const char *key, struct store_host **out)
{
	return (find_one(s, &host_find, key, out));
}

enum store_rc
store_notification_find(struct store *s, const char *uuid,
    struct store_notification **out)
{
	return (find_one(s, &notif_find, uuid, out));
}

enum store_rc
store_hosts_of(struct store *s, const char *segment_uuid,
    struct store_host ***out, size_t *n)
{
	return (store_load_rows(s, &hosts_of, segment_uuid, out, n));
}

enum store_rc
store_events_load_tree(struct store *s, const char *execution_id,
    struct store_event ***out, size_t *n)
{
	return (store_load_rows(s, &events_tree, execution_id, out, n));
}

enum store_rc
store_segments_all(struct store *s, struct store_segment ***out, size_t *n)
{
	return (store_load_rows(s, &seg_all, NULL, out, n));
}

void
store_segment_free(struct store_segment *r)
{
	store_row_free(&store_segment_table, r);
}

void
store_host_free(struct store_host *r)
{
	store_row_free(&store_host_table, r);
}

void
store_notification_free(struct store_notification *r)
{
	store_row_free(&store_notification_table, r);
}

/* Record a guarded statement of text values; refused, it says msg. */
static struct store_op *
tx_guarded(struct store_tx *tx, const struct store_sql *q, const char *a,
    const char *b, enum store_rc guard, const char *fmt, ...)
{
	struct store_op	*op;
	va_list		 ap;

	op = store_tx_text(tx, q, a, b);
	op->guard = guard;
	va_start(ap, fmt);
	xvasprintf(&op->gmsg, fmt, ap);
	va_end(ap);
	return (op);
}

/* Delete a segment and its hosts. */
void
store_tx_segment_delete(struct store_tx *tx, const char *uuid)
{
	store_tx_text(tx, &seg_delete_hosts, uuid, NULL);
	tx_guarded(tx, &seg_delete, uuid, NULL, STORE_NOTFOUND,
	    "Failover segment %s could not be found.", uuid);
}

void
store_tx_host_delete(struct store_tx *tx, const char *uuid)
{
	tx_guarded(tx, &host_delete, uuid, NULL, STORE_NOTFOUND,
	    "Host %s could not be found.", uuid);
}

/* See store.h. */
void
store_tx_host_take(struct store_tx *tx, const char *name)
{
	tx_guarded(tx, &host_take, name, NULL, STORE_CONFLICT,
	    "host %s is no longer a reserved host", name);
}

/* See store.h. */
void
store_tx_host_maintain(struct store_tx *tx, const char *name, int unreserve)
{
	struct store_op	*op;

	op = store_tx_add(tx, &host_maintain, 2);
	store_value_text(&op->v[0], name);
	store_value_int(&op->v[1], unreserve != 0);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "host %s is already under maintenance", name);
}

/* See store.h. */
void
store_tx_notification_unique(struct store_tx *tx, const char *hostname,
    const char *dedup, int64_t since_ms)
{
	struct store_op	*op;

	store_tx_text(tx, &host_lock, hostname, NULL);
	op = store_tx_add(tx, &notif_absent, 2);
	store_value_text(&op->v[0], dedup);
	store_value_int(&op->v[1], since_ms);
	op->guard = STORE_CONFLICT;
	xasprintf(&op->gmsg, "duplicate notification of host %s", hostname);
}

/* See store.h. */
void
store_tx_notification_run(struct store_tx *tx, const char *uuid)
{
	store_tx_text(tx, &notif_run, uuid, NULL);
}

/* See store.h. */
void
store_tx_notification_end(struct store_tx *tx, const char *uuid,
    const char *status, const char *info)
{
	struct store_op	*op;

	op = store_tx_add(tx, &notif_end, 3);
	store_value_text(&op->v[0], uuid);
	store_value_text(&op->v[1], status);
	store_value_text(&op->v[2], info);
}

/* See store.h. */
enum store_rc
store_notifications_to_retry(struct store *s, int64_t before_ms,
    size_t limit, struct store_notification ***out, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	*out = NULL;
	*n = 0;
	rc = store_run(s, &notif_retry_due, NULL, &rows, "ii", before_ms,
	    (int64_t)limit);
	if (rc == STORE_OK)
		store_rows_take(&rows, out, n);
	return (rc);
}

/* See store.h. */
void
store_tx_notification_retry(struct store_tx *tx, const char *uuid,
    const char *execution_id)
{
	tx_guarded(tx, &notif_retry, uuid, execution_id, STORE_CONFLICT,
	    "notification %s was tried again already", uuid);
}

/* See store.h. */
enum store_rc
store_notifications_expire(struct store *s, int64_t before_ms, size_t *n)
{
	struct store_rows	 rows = { NULL, 0, 0 };
	enum store_rc		 rc;

	rc = store_run(s, &notif_expire, &store_text_shape, &rows, "i",
	    before_ms);
	*n = rows.n;
	store_rows_free(&rows, &store_text_shape);
	return (rc);
}

/* The statements of this file, registered with the store's. */
struct store_sql *const store_recovery_sqls[] = {
	&seg_find, &seg_all, &host_find, &hosts_of, &notif_find, &events_tree,
	&seg_delete_hosts, &seg_delete, &host_delete, &host_take,
	&host_maintain, &host_lock, &notif_absent, &notif_run, &notif_end,
	&notif_retry_due, &notif_retry, &notif_expire, NULL
};
