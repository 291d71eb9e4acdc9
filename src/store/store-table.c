/*
 * store-table.c -- the store's tables, each declared once, column by
 * column, and everything derived from a declaration: row copies and
 * frees, rows read from a result, the values a row binds, and the SQL
 * of its insert, guarded update and load by key.  Also the registry of
 * statements the backends prepare once per connection.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

/*
 * A column of struct ROW: member, type, flags, the SF_* mask of updates
 * that write it; a state column also has the state new rows get.
 */
#define C(m, type, flags, mask) \
	STORE_COL(ROW, m, STORE_##type, flags, mask, NULL)
#define STATE(initial)	STORE_COL(ROW, state, STORE_TEXT, 0, SF_STATE, initial)
#define ROW_TIMES	C(created_at, INT, STORE_NOW, 0), \
	C(updated_at, INT, STORE_TOUCH, 0)

/* ---- the tables ----------------------------------------------------- */

#define ROW store_def
static const struct store_col def_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(kind, TEXT, 0, 0), C(name, TEXT, 0, 0),
	STORE_COL(ROW, namespace, STORE_TEXT, 0, 0, ""),
	STORE_COL(ROW, scope, STORE_TEXT, 0, 0, "private"),
	C(version, INT, 0, 0), C(text, TEXT, 0, 0), C(source, TEXT, 0, 0),
	C(deleted, BOOL, 0, 0), ROW_TIMES
};
#undef ROW
#define ROW store_workflow
static const struct store_col workflow_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(name, TEXT, 0, 0),
	STORE_COL(ROW, namespace, STORE_TEXT, 0, 0, ""),
	C(def_id, TEXT, 0, 0), ROW_TIMES
};
#undef ROW
#define ROW store_exec
static const struct store_col exec_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(workflow_name, TEXT, 0, 0),
	C(workflow_id, TEXT, STORE_NULLSTR, 0),
	C(def_id, TEXT, STORE_NULLSTR, 0), C(parent_task_id, TEXT, 0, 0),
	C(root_id, TEXT, 0, 0), STATE(ST_IDLE),
	C(state_info, TEXT, 0, SF_STATE_INFO), C(input, JSON, 0, SF_INPUT),
	C(output, JSON, 0, SF_OUTPUT), C(params, JSON, 0, SF_PARAMS),
	C(context, JSON, 0, SF_CONTEXT),
	C(description, TEXT, 0, SF_DESCRIPTION), C(request_id, TEXT, 0, 0),
	C(owner, TEXT, 0, 0), C(lease_until, INT, 0, 0), ROW_TIMES,
	STORE_COL(ROW, workflow_namespace, STORE_TEXT, 0, 0, "")
};
#undef ROW
#define ROW store_task
static const struct store_col task_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(execution_id, TEXT, 0, 0),
	C(name, TEXT, 0, 0), STATE(ST_IDLE),
	C(state_info, TEXT, 0, SF_STATE_INFO), C(type, TEXT, 0, 0),
	C(in_context, JSON, 0, SF_IN_CONTEXT),
	C(published, JSON, 0, SF_PUBLISHED), C(result, JSON, 0, SF_RESULT),
	C(runtime, JSON, 0, SF_RUNTIME), C(seq, INT, STORE_SEQ, 0),
	C(created_at, INT, STORE_NOW, 0), C(started_at, INT, 0, SF_STARTED),
	C(finished_at, INT, 0, SF_FINISHED),
	C(updated_at, INT, STORE_TOUCH, 0)
};
#undef ROW
#define ROW store_action
static const struct store_col action_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(task_id, TEXT, 0, 0),
	C(execution_id, TEXT, 0, 0), C(name, TEXT, 0, 0), STATE(ST_RUNNING),
	C(state_info, TEXT, 0, SF_STATE_INFO), C(input, JSON, 0, SF_INPUT),
	C(output, JSON, 0, SF_OUTPUT), C(attempt, INT, 0, 0),
	C(item, INT, 0, 0), C(is_async, BOOL, 0, 0),
	C(request_id, TEXT, 0, 0), ROW_TIMES
};
#undef ROW
#define ROW store_work
static const struct store_col work_cols[] = {
	C(id, INT, STORE_KEY | STORE_SERIAL, 0), C(execution_id, TEXT, 0, 0),
	C(task_id, TEXT, 0, 0), STORE_COL(ROW, kind, STORE_TEXT, 0, 0, ""),
	C(due_at, INT, 0, 0), C(payload, JSON, 0, 0)
};
#undef ROW
#define ROW store_event
static const struct store_col event_cols[] = {
	C(id, INT, STORE_KEY | STORE_SERIAL, 0), C(execution_id, TEXT, 0, 0),
	C(task_id, TEXT, 0, 0), C(task_name, TEXT, 0, 0),
	C(time, INT, STORE_NOW, 0), C(progress, REAL, 0, 0),
	C(message, TEXT, 0, 0), C(level, TEXT, 0, 0),
	C(request_id, TEXT, 0, 0), C(kind, TEXT, 0, 0), C(action, TEXT, 0, 0)
};
#undef ROW
#define ROW store_message
static const struct store_col message_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(event_id, TEXT, 0, 0),
	C(message, TEXT, 0, 0), C(request_id, TEXT, 0, 0),
	C(resource_type, TEXT, 0, 0), C(resource_uuid, TEXT, 0, 0),
	C(level, TEXT, 0, 0), C(created_at, INT, STORE_NOW, 0),
	C(expires_at, INT, 0, 0), C(project_id, TEXT, 0, 0)
};
#undef ROW
#define ROW store_outbox
static const struct store_col outbox_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(execution_id, TEXT, 0, 0),
	C(seq, INT, STORE_SEQ, 0), C(event, TEXT, 0, 0),
	C(target, TEXT, 0, 0), C(headers, JSON, 0, 0), C(body, JSON, 0, 0),
	STATE(ST_PENDING), C(attempts, INT, 0, 0), C(next_at, INT, 0, 0),
	C(owner, TEXT, 0, 0), C(lease_until, INT, 0, 0),
	C(last_error, TEXT, 0, 0), C(sent_at, INT, 0, 0), ROW_TIMES
};
#undef ROW
#define ROW store_alarm
static const struct store_col alarm_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(source, TEXT, 0, 0), C(route, TEXT, 0, 0),
	C(headers, JSON, 0, 0), C(body, TEXT, 0, 0),
	STORE_COL(ROW, encoding, STORE_TEXT, 0, 0, "text"),
	C(size, INT, 0, 0), C(remote, TEXT, 0, 0), C(request_id, TEXT, 0, 0),
	STATE(ST_ALARM_RECEIVED), C(status, TEXT, 0, 0),
	C(error, TEXT, 0, 0), C(events, INT, 0, 0),
	C(verdicts, TEXT, 0, SF_ALARM_DECIDED), C(replay_of, TEXT, 0, 0),
	C(triggers_version, INT, 0, SF_ALARM_DECIDED),
	C(received_at, INT, STORE_NOW, 0),
	C(decided_at, INT, 0, SF_ALARM_DECIDED)
};
#undef ROW
#define ROW store_alarm_event
static const struct store_col alarm_event_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(alarm_id, TEXT, 0, 0), C(seq, INT, 0, 0),
	C(source, TEXT, 0, 0), C(key, TEXT, 0, 0), C(status, TEXT, 0, 0),
	C(name, TEXT, 0, 0), C(severity, TEXT, 0, 0),
	C(resource_kind, TEXT, 0, 0), C(resource_id, TEXT, 0, 0),
	C(resource_host, TEXT, 0, 0), C(labels, JSON, 0, 0),
	C(annotations, JSON, 0, 0), C(starts_at, TEXT, 0, 0),
	C(created_at, INT, STORE_NOW, 0)
};
#undef ROW
#define ROW store_alarm_decision
static const struct store_col alarm_decision_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(alarm_id, TEXT, 0, 0), C(seq, INT, 0, 0),
	C(ord, INT, 0, 0), C(trigger_name, TEXT, 0, 0),
	C(verdict, TEXT, 0, 0), C(workflow, TEXT, 0, 0),
	C(input, JSON, 0, 0), C(key, TEXT, 0, 0),
	C(execution_id, TEXT, 0, 0), C(until_at, INT, 0, 0),
	C(until_resolved, BOOL, 0, 0), C(limit_by, TEXT, 0, 0),
	C(reason, TEXT, 0, 0), C(created_at, INT, STORE_NOW, 0)
};
#undef ROW
#define ROW store_alarm_hold
static const struct store_col alarm_hold_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(trigger_name, TEXT, 0, 0),
	C(key, TEXT, 0, 0), C(execution_id, TEXT, 0, 0),
	C(alarm_id, TEXT, 0, 0), C(until_at, INT, 0, 0),
	C(until_resolved, BOOL, 0, 0), C(resolved_at, INT, 0, 0), ROW_TIMES
};
#undef ROW
#define ROW store_alarm_limit
static const struct store_col alarm_limit_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(trigger_name, TEXT, 0, 0),
	C(by_value, TEXT, 0, 0), C(window_start, INT, 0, 0),
	C(window_ms, INT, 0, 0), C(n, INT, 0, 0),
	C(updated_at, INT, STORE_NOW, 0)
};
#undef ROW
#define ROW store_alarm_auth_failure
static const struct store_col alarm_auth_failure_cols[] = {
	C(id, INT, STORE_KEY | STORE_SERIAL, 0), C(time, INT, STORE_NOW, 0),
	C(source, TEXT, 0, 0), C(route, TEXT, 0, 0), C(remote, TEXT, 0, 0),
	C(size, INT, 0, 0), C(reason, TEXT, 0, 0), C(request_id, TEXT, 0, 0)
};
#undef ROW
#define ROW store_env
static const struct store_col env_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(name, TEXT, 0, 0),
	C(description, TEXT, 0, SF_DESCRIPTION),
	C(variables, JSON, 0, SF_VARIABLES),
	STORE_COL(ROW, scope, STORE_TEXT, 0, SF_SCOPE, "private"), ROW_TIMES
};
#undef ROW
#define ROW store_cron
static const struct store_col cron_cols[] = {
	C(id, TEXT, STORE_KEY, 0), C(name, TEXT, 0, 0), C(pattern, TEXT, 0, 0),
	C(first_execution_time, INT, 0, 0), C(next_execution_time, INT, 0, 0),
	C(remaining_executions, INT, 0, 0), C(workflow_name, TEXT, 0, 0),
	C(workflow_id, TEXT, 0, 0),
	STORE_COL(ROW, workflow_namespace, STORE_TEXT, 0, 0, ""),
	C(workflow_input, JSON, 0, 0), C(workflow_params, JSON, 0, 0),
	STORE_COL(ROW, scope, STORE_TEXT, 0, 0, "private"), ROW_TIMES
};
#undef ROW
#define ROW store_segment
static const struct store_col segment_cols[] = {
	C(id, INT, STORE_KEY | STORE_SERIAL, 0), C(uuid, TEXT, 0, 0),
	C(name, TEXT, 0, SF_ROW), C(description, TEXT, 0, SF_ROW),
	C(recovery_method, TEXT, 0, SF_ROW), C(service_type, TEXT, 0, SF_ROW),
	C(enabled, BOOL, 0, SF_ROW), C(cloud, TEXT, 0, SF_ROW),
	C(options, JSON, 0, SF_ROW), C(source, TEXT, 0, SF_ROW), ROW_TIMES
};
#undef ROW
#define ROW store_host
static const struct store_col host_cols[] = {
	C(id, INT, STORE_KEY | STORE_SERIAL, 0), C(uuid, TEXT, 0, 0),
	C(name, TEXT, 0, SF_ROW), C(segment_uuid, TEXT, 0, SF_ROW),
	C(type, TEXT, 0, SF_ROW), C(control_attributes, TEXT, 0, SF_ROW),
	C(reserved, BOOL, 0, SF_ROW), C(on_maintenance, BOOL, 0, SF_ROW),
	C(source, TEXT, 0, SF_ROW), ROW_TIMES
};
#undef ROW
#define ROW store_notification
static const struct store_col notification_cols[] = {
	C(id, INT, STORE_KEY | STORE_SERIAL, 0),
	C(notification_uuid, TEXT, 0, 0), C(type, TEXT, 0, 0),
	C(hostname, TEXT, 0, 0), C(source_host_uuid, TEXT, 0, 0),
	C(generated_time, INT, 0, 0), C(payload, JSON, 0, 0),
	C(dedup, TEXT, 0, 0), STATE("new"),
	C(state_info, TEXT, 0, SF_STATE_INFO), C(workflow, TEXT, 0, SF_EXEC),
	C(execution_id, TEXT, 0, SF_EXEC), C(retries, INT, 0, SF_EXEC),
	C(request_id, TEXT, 0, 0), ROW_TIMES
};
#undef ROW

/*
 * Fields lists filter and sort on: Mistral's names, most of them the
 * column's own.
 */
#define F(n)	{ #n, #n, STORE_COL_TEXT }
#define FT(n)	{ #n, #n, STORE_COL_TIME }
#define FEND	{ NULL, NULL, STORE_COL_TEXT }
#define EXEC_OF(t, col, field)	{ field, "(SELECT e." col " FROM "	\
	"executions e WHERE e.id = " t ".execution_id)", STORE_COL_TEXT }
static const struct store_column exec_list[] = {
	F(id), F(workflow_name), F(workflow_id), F(state), F(state_info),
	F(description), F(input), F(output), F(params), F(request_id),
	F(workflow_namespace),
	{ "task_execution_id", "parent_task_id", STORE_COL_TEXT },
	{ "root_execution_id", "root_id", STORE_COL_TEXT },
	FT(created_at), FT(updated_at), FEND
};
static const struct store_column task_list[] = {
	F(id), F(name), F(state), F(state_info), F(type), F(result),
	F(published),
	{ "workflow_execution_id", "execution_id", STORE_COL_TEXT },
	EXEC_OF("tasks", "workflow_name", "workflow_name"),
	EXEC_OF("tasks", "workflow_id", "workflow_id"),
	EXEC_OF("tasks", "workflow_namespace", "workflow_namespace"),
	FT(created_at), FT(updated_at), FT(started_at), FT(finished_at), FEND
};
static const struct store_column action_list[] = {
	F(id), F(name), F(state), F(state_info), F(input), F(output),
	F(request_id),
	{ "task_execution_id", "task_id", STORE_COL_TEXT },
	{ "workflow_execution_id", "execution_id", STORE_COL_TEXT },
	{ "task_name", "(SELECT t.name FROM tasks t WHERE "
	    "t.id = action_executions.task_id)", STORE_COL_TEXT },
	EXEC_OF("action_executions", "workflow_name", "workflow_name"),
	EXEC_OF("action_executions", "workflow_namespace",
	    "workflow_namespace"),
	{ "accepted", "is_async", STORE_COL_INT },
	FT(created_at), FT(updated_at), FEND
};
static const struct store_column env_list[] = {
	F(id), F(name), F(description), F(variables), F(scope),
	FT(created_at), FT(updated_at), FEND
};
static const struct store_column cron_list[] = {
	F(id), F(name), F(pattern), F(workflow_name), F(workflow_id),
	F(workflow_namespace), F(workflow_input), F(workflow_params),
	F(scope), { "remaining_executions", "remaining_executions",
	STORE_COL_INT }, FT(first_execution_time), FT(next_execution_time),
	FT(created_at), FT(updated_at), FEND
};
static const struct store_column message_list[] = {
	F(id), F(project_id), F(event_id), F(request_id), F(resource_type),
	F(resource_uuid), { "message_level", "level", STORE_COL_TEXT },
	{ "user_message", "message", STORE_COL_TEXT },
	FT(created_at), FT(expires_at), FEND
};
static const struct store_column outbox_list[] = {
	F(id), F(execution_id), F(event), F(target), F(state), F(last_error),
	{ "seq", "seq", STORE_COL_INT },
	{ "attempts", "attempts", STORE_COL_INT }, FT(next_at), FT(sent_at),
	FT(created_at), FT(updated_at), FEND
};

/* Masakari's lists: its filters and sort keys. */
static const struct store_column segment_list[] = {
	F(id), F(uuid), F(name), F(description), F(recovery_method),
	F(service_type), { "enabled", "enabled", STORE_COL_INT },
	FT(created_at), FT(updated_at), FEND
};
static const struct store_column host_list[] = {
	F(id), F(uuid), F(name), F(type), F(control_attributes),
	{ "failover_segment_id", "segment_uuid", STORE_COL_TEXT },
	{ "reserved", "reserved", STORE_COL_INT },
	{ "on_maintenance", "on_maintenance", STORE_COL_INT },
	FT(created_at), FT(updated_at), FEND
};
static const struct store_column notification_list[] = {
	F(id), F(notification_uuid), F(type), F(source_host_uuid),
	{ "status", "state", STORE_COL_TEXT }, F(hostname),
	FT(generated_time), FT(created_at), FT(updated_at), FEND
};

/*
 * The decision log: alarms by when they came ("created_at" too, the
 * API's default sort), and "verdict" a test on the verdicts reached.
 */
static const struct store_column alarm_list[] = {
	F(id), F(source), F(route), F(state), F(status), F(remote),
	F(request_id), F(error), F(replay_of),
	{ "verdict", "verdicts", STORE_COL_TEXT },
	{ "event_count", "events", STORE_COL_INT },
	{ "created_at", "received_at", STORE_COL_TIME },
	FT(received_at), FT(decided_at), FEND
};
static const struct store_column alarm_auth_failure_list[] = {
	{ "id", "id", STORE_COL_INT }, F(source), F(route), F(remote),
	F(reason), F(request_id),
	{ "created_at", "time", STORE_COL_TIME }, FT(time), FEND
};

/*
 * Definitions (workbooks, workflows, actions) as the API shows them: no
 * table of the store, but listed by its rules (store_list_items()).
 */
static const struct store_column definition_list[] = {
	F(id), F(name), F(namespace), F(input), F(definition), F(scope),
	F(project_id), { "is_system", "is_system", STORE_COL_INT },
	F(description), F(source), F(workbook), F(tags), FT(created_at),
	FT(updated_at), FEND
};
const struct store_item_list store_item_lists[] = {
	{ "definitions", definition_list },
	{ NULL, NULL }
};

static struct store_table_sql def_sql, workflow_sql, exec_sql, task_sql;
static struct store_table_sql action_sql, work_sql, event_sql, message_sql;
static struct store_table_sql env_sql, cron_sql;
static struct store_table_sql segment_sql, host_sql, notification_sql;
static struct store_table_sql outbox_sql;
static struct store_table_sql alarm_sql, alarm_event_sql, alarm_decision_sql;
static struct store_table_sql alarm_hold_sql, alarm_limit_sql;
static struct store_table_sql alarm_auth_failure_sql;

#define TABLE(var, name, label, st, cols, flags, group, list, sql)	\
	const struct store_table var = { name, label,			\
	    sizeof(struct st), cols, nitems(cols), flags, group, list, &sql }

TABLE(store_def_table, "definitions", "definition", store_def, def_cols, 0,
    NULL, NULL, def_sql);
TABLE(store_workflow_table, "workflows", "workflow", store_workflow,
    workflow_cols, 0, NULL, NULL, workflow_sql);
TABLE(store_exec_table, "executions", "execution", store_exec, exec_cols,
    STORE_T_NOTIFY, NULL, exec_list, exec_sql);
TABLE(store_task_table, "tasks", "task", store_task, task_cols, 0,
    "execution_id", task_list, task_sql);
TABLE(store_action_table, "action_executions", "action execution",
    store_action, action_cols, 0, NULL, action_list, action_sql);
TABLE(store_work_table, "work", "work", store_work, work_cols,
    STORE_T_NOTIFY, NULL, NULL, work_sql);
TABLE(store_event_table, "events", "event", store_event, event_cols, 0,
    NULL, NULL, event_sql);
TABLE(store_message_table, "messages", "message", store_message,
    message_cols, 0, NULL, message_list, message_sql);
TABLE(store_env_table, "environments", "environment", store_env, env_cols,
    0, NULL, env_list, env_sql);
TABLE(store_cron_table, "cron_triggers", "cron trigger", store_cron,
    cron_cols, 0, NULL, cron_list, cron_sql);
TABLE(store_segment_table, "segments", "segment", store_segment,
    segment_cols, 0, NULL, segment_list, segment_sql);
TABLE(store_host_table, "segment_hosts", "host", store_host, host_cols, 0,
    NULL, host_list, host_sql);
TABLE(store_notification_table, "ha_notifications", "notification",
    store_notification, notification_cols, 0, NULL, notification_list,
    notification_sql);
TABLE(store_outbox_table, "outbox", "notification", store_outbox,
    outbox_cols, 0, "execution_id", outbox_list, outbox_sql);
TABLE(store_alarm_table, "alarms", "alarm", store_alarm, alarm_cols, 0,
    NULL, alarm_list, alarm_sql);
TABLE(store_alarm_event_table, "alarm_events", "alarm event",
    store_alarm_event, alarm_event_cols, 0, NULL, NULL, alarm_event_sql);
TABLE(store_alarm_decision_table, "alarm_decisions", "alarm decision",
    store_alarm_decision, alarm_decision_cols, 0, NULL, NULL,
    alarm_decision_sql);
TABLE(store_alarm_hold_table, "alarm_holds", "alarm hold",
    store_alarm_hold, alarm_hold_cols, 0, NULL, NULL, alarm_hold_sql);
TABLE(store_alarm_limit_table, "alarm_limits", "alarm limit",
    store_alarm_limit, alarm_limit_cols, 0, NULL, NULL, alarm_limit_sql);
TABLE(store_alarm_auth_failure_table, "alarm_auth_failures",
    "alarm authentication failure", store_alarm_auth_failure,
    alarm_auth_failure_cols, 0, NULL, alarm_auth_failure_list,
    alarm_auth_failure_sql);

const struct store_table *const store_tables[] = {
	&store_def_table, &store_workflow_table, &store_exec_table,
	&store_task_table, &store_action_table, &store_work_table,
	&store_event_table, &store_message_table, &store_env_table,
	&store_cron_table, &store_outbox_table,
	&store_alarm_table, &store_alarm_event_table,
	&store_alarm_decision_table, &store_alarm_hold_table,
	&store_alarm_limit_table, &store_alarm_auth_failure_table,
	&store_segment_table, &store_host_table, &store_notification_table,
	NULL
};

/* Shapes of results that are not rows of a table. */
static const struct store_col int_cols[] = {
	STORE_COL(store_int, v, STORE_INT, 0, 0, NULL)
};
static const struct store_col text_cols[] = {
	STORE_COL(store_text, v, STORE_TEXT, 0, 0, NULL)
};
static const struct store_col count_cols[] = {
	STORE_COL(store_count, state, STORE_TEXT, 0, 0, NULL),
	STORE_COL(store_count, n, STORE_INT, 0, 0, NULL)
};
#define SHAPE(var, st, cols) const struct store_table var = { NULL, NULL, \
	    sizeof(struct st), cols, nitems(cols), 0, NULL, NULL, NULL }
SHAPE(store_int_shape, store_int, int_cols);
SHAPE(store_text_shape, store_text, text_cols);
SHAPE(store_count_shape, store_count, count_cols);

/* The table named name, or NULL. */
const struct store_table *
store_table_find(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && store_tables[i] != NULL; i++) {
		if (strcmp(store_tables[i]->name, name) == 0)
			return (store_tables[i]);
	}
	return (NULL);
}

/* ---- rows ------------------------------------------------------------ */

/* Is a text column held in the row (an array) rather than pointed to? */
#define INLINE(c)	((c)->size != sizeof(char *))
#define AT(row, c)	((char *)(row) + (c)->off)

/* An integer member of either size. */
static int64_t
col_int_get(const void *row, const struct store_col *c)
{
	int64_t	 v;
	int	 i;

	if (c->size == sizeof v) {
		memcpy(&v, AT(row, c), sizeof v);
		return (v);
	}
	memcpy(&i, AT(row, c), sizeof i);
	return (i);
}

/* Set an integer member of either size. */
static void
col_int_set(void *row, const struct store_col *c, int64_t v)
{
	int	 i = (int)v;

	if (c->size == sizeof v)
		memcpy(AT(row, c), &v, sizeof v);
	else
		memcpy(AT(row, c), &i, sizeof i);
}

/* Free a row and what it owns; NULL is a no-op. */
void
store_row_free(const struct store_table *t, void *row)
{
	const struct store_col	*c;

	if (row == NULL)
		return;
	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (c->type == STORE_JSON)
			json_decref(*(json_t **)AT(row, c));
		else if (c->type == STORE_TEXT && !INLINE(c))
			free(*(char **)AT(row, c));
	}
	free(row);
}

/* Do rows a and b of t have the same key? */
int
store_row_same(const struct store_table *t, const void *a, const void *b)
{
	const struct store_col	*c;
	const char		*sa, *sb;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (!(c->flags & STORE_KEY))
			continue;
		if (c->type != STORE_TEXT)
			return (col_int_get(a, c) == col_int_get(b, c));
		if (INLINE(c))
			return (strcmp(AT(a, c), AT(b, c)) == 0);
		memcpy(&sa, AT(a, c), sizeof sa);
		memcpy(&sb, AT(b, c), sizeof sb);
		return (sa != NULL && sb != NULL && strcmp(sa, sb) == 0);
	}
	return (0);
}

/*
 * The state a row of t is in (its "state" column), or NULL when t has
 * none; *mask set to the update mask of that column.
 */
const char *
store_row_state(const struct store_table *t, const void *row,
    unsigned *mask)
{
	const struct store_col	*c;
	const char		*s;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (strcmp(c->name, "state") != 0 || c->type != STORE_TEXT)
			continue;
		*mask = c->mask;
		if (INLINE(c))
			return (AT(row, c));
		memcpy(&s, AT(row, c), sizeof s);
		return (s);
	}
	*mask = 0;
	return (NULL);
}

/* Copy the fields of src in mask into dst, rows of t (see store-int.h). */
void
store_row_fold(const struct store_table *t, void *dst, const void *src,
    unsigned mask)
{
	const struct store_col	*c;
	json_t			*j;
	char			*s;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (!(c->mask & mask))
			continue;
		if (c->type == STORE_JSON) {
			memcpy(&j, AT(dst, c), sizeof j);
			json_decref(j);
			memcpy(&j, AT(src, c), sizeof j);
			json_incref(j);
			memcpy(AT(dst, c), &j, sizeof j);
		} else if (c->type == STORE_TEXT && !INLINE(c)) {
			memcpy(&s, AT(dst, c), sizeof s);
			free(s);
			memcpy(&s, AT(src, c), sizeof s);
			s = s != NULL ? xstrdup(s) : NULL;
			memcpy(AT(dst, c), &s, sizeof s);
		} else
			memcpy(AT(dst, c), AT(src, c), c->size);
	}
}

/* A deep copy of a row (json values increfed). */
void *
store_row_dup(const struct store_table *t, const void *row)
{
	const struct store_col	*c;
	void			*copy;
	char			**s;

	copy = xmalloc(t->size);
	memcpy(copy, row, t->size);
	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (c->type == STORE_JSON)
			json_incref(*(json_t **)AT(copy, c));
		else if (c->type == STORE_TEXT && !INLINE(c)) {
			s = (char **)AT(copy, c);
			if (*s != NULL)
				*s = xstrdup(*s);
		}
	}
	return (copy);
}

/* A row of t from the current row of a result, columns in t's order. */
void *
store_row_read(const struct store_table *t, const struct store_cells *cl)
{
	const struct store_col	*c;
	void			*row;
	const char		*s;
	double			 r;
	json_t			*j;
	char			*copy;
	int			 i, null;

	row = xcalloc(1, t->size);
	for (i = 0, c = t->cols; c < t->cols + t->ncols; c++, i++) {
		null = cl->null(cl->arg, i);
		switch (c->type) {
		case STORE_TEXT:
			s = null ? NULL : cl->text(cl->arg, i);
			if (INLINE(c))
				snprintf(AT(row, c), c->size, "%s",
				    s != NULL ? s : "");
			else {
				copy = s != NULL ? xstrdup(s) : NULL;
				memcpy(AT(row, c), &copy, sizeof copy);
			}
			break;
		case STORE_INT:
		case STORE_BOOL:
			col_int_set(row, c, null ? 0 : cl->integer(cl->arg, i));
			break;
		case STORE_REAL:
			r = null ? 0 : cl->real(cl->arg, i);
			memcpy(AT(row, c), &r, sizeof r);
			break;
		case STORE_JSON:
			j = null ? NULL : store_json_parse(cl->text(cl->arg, i));
			memcpy(AT(row, c), &j, sizeof j);
			break;
		}
	}
	return (row);
}

/* Add a row to a collection. */
void
store_rows_add(struct store_rows *rows, void *row)
{
	if (rows->n == rows->cap) {
		rows->cap = rows->cap == 0 ? 16 : rows->cap * 2;
		rows->v = xreallocarray(rows->v, rows->cap, sizeof *rows->v);
	}
	rows->v[rows->n++] = row;
}

/* Free collected rows of shape t. */
void
store_rows_free(struct store_rows *rows, const struct store_table *t)
{
	size_t	 i;

	for (i = 0; i < rows->n; i++)
		store_row_free(t, rows->v[i]);
	free(rows->v);
	memset(rows, 0, sizeof *rows);
}

/* ---- values ---------------------------------------------------------- */

/* A text value (copied); NULL is SQL NULL. */
void
store_value_text(struct store_value *v, const char *s)
{
	v->type = STORE_TEXT;
	v->null = s == NULL;
	v->u.s = s != NULL ? xstrdup(s) : NULL;
}

/* An integer value. */
void
store_value_int(struct store_value *v, int64_t i)
{
	v->type = STORE_INT;
	v->null = 0;
	v->u.i = i;
}

/* SQL NULL. */
void
store_value_null(struct store_value *v)
{
	v->type = STORE_TEXT;
	v->null = 1;
	v->u.s = NULL;
}

/* Free what values own. */
void
store_values_free(struct store_value *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (v[i].type == STORE_TEXT)
			free(v[i].u.s);
		else if (v[i].type == STORE_JSON)
			json_decref(v[i].u.j);
	}
}

/* A text value borrowed from its owner; NULL is SQL NULL. */
static void
value_borrow(struct store_value *v, const char *s)
{
	v->type = STORE_TEXT;
	v->null = s == NULL;
	v->u.s = (char *)s;
}

/*
 * The value of one column of a row, as written on insert or update,
 * borrowed from the row.
 */
static void
store_col_value(const struct store_col *c, const void *row,
    struct store_value *v)
{
	const char	*s;
	json_t		*j;
	int64_t		 i;

	switch (c->type) {
	case STORE_TEXT:
		if (INLINE(c))
			s = AT(row, c);
		else
			memcpy(&s, AT(row, c), sizeof s);
		if (s != NULL && *s == '\0' && (c->flags & STORE_NULLSTR))
			s = NULL;
		value_borrow(v, s != NULL ? s : c->dflt);
		break;
	case STORE_INT:
	case STORE_BOOL:
		i = col_int_get(row, c);
		if (i == 0 && (c->flags & (STORE_NOW | STORE_TOUCH)))
			store_value_null(v);
		else
			store_value_int(v, i);
		break;
	case STORE_REAL:
		v->type = STORE_REAL;
		v->null = 0;
		memcpy(&v->u.r, AT(row, c), sizeof v->u.r);
		break;
	case STORE_JSON:
		memcpy(&j, AT(row, c), sizeof j);
		v->type = STORE_JSON;
		v->null = j == NULL;
		v->u.j = j;
		break;
	}
}

/* Values for t's insert statement: every column not SERIAL, in order. */
size_t
store_row_insert_values(const struct store_table *t, const void *row,
    struct store_value *v)
{
	const struct store_col	*c;
	size_t			 n = 0;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (!(c->flags & STORE_SERIAL))
			store_col_value(c, row, &v[n++]);
	}
	return (n);
}

/*
 * Values for t's update statement: the key, the mask, the expected state
 * (NULL: no guard), then every updatable column, NULL when not masked.
 */
size_t
store_row_update_values(const struct store_table *t, const void *row,
    unsigned mask, const char *expect, struct store_value *v)
{
	const struct store_col	*c;
	size_t			 n = 3;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (c->flags & STORE_KEY)
			store_col_value(c, row, &v[0]);
		else if (c->mask != 0 && (mask & c->mask))
			store_col_value(c, row, &v[n++]);
		else if (c->mask != 0)
			store_value_null(&v[n++]);
	}
	store_value_int(&v[1], mask);
	value_borrow(&v[2], expect);
	return (n);
}

/* ---- SQL ------------------------------------------------------------- */

/* The SQL type a value of column c is cast to. */
static const char *
col_sqltype(const struct store_col *c)
{
	switch (c->type) {
	case STORE_INT:
	case STORE_BOOL:
		return ("bigint");
	case STORE_REAL:
		return ("float8");
	default:
		return ("text");
	}
}

/* The column list of a table, "id, name, ..."; serial: with SERIAL ones. */
void
store_table_columns(struct buf *b, const struct store_table *t, int serial)
{
	const struct store_col	*c;
	const char		*sep = "";

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (!serial && (c->flags & STORE_SERIAL))
			continue;
		buf_puts(b, sep);
		buf_puts(b, c->name);
		sep = ", ";
	}
}

/* Append strings, up to a NULL, to b (the SQL built at start). */
static void
sql_cat(struct buf *b, ...)
{
	va_list		 ap;
	const char	*s;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)) != NULL)
		buf_puts(b, s);
	va_end(ap);
}

/* Append the placeholder "$n", with a cast when type is not NULL. */
static void
sql_param(struct buf *b, int n, const char *type)
{
	char	 num[16];
	size_t	 i = sizeof num;

	num[--i] = '\0';
	do
		num[--i] = (char)('0' + n % 10);
	while ((n /= 10) > 0 && i > 1);
	num[--i] = '$';
	sql_cat(b, num + i, type != NULL ? "::" : "", type != NULL ? type :
	    "", (char *)NULL);
}

/* The parameter number of t's column flagged flag in its insert. */
static int
insert_param(const struct store_table *t, unsigned flag, const char *name)
{
	const struct store_col	*c;
	int			 n = 0;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (c->flags & STORE_SERIAL)
			continue;
		n++;
		if ((c->flags & flag) ||
		    (name != NULL && strcmp(c->name, name) == 0))
			return (n);
	}
	return (0);
}

/*
 * INSERT of every column but SERIAL ones: NOW columns default to the
 * database clock, TOUCH ones to the NOW column, SEQ ones to the next
 * number of their group.
 */
static char *
table_insert_sql(const struct store_table *t)
{
	const struct store_col	*c;
	struct buf		 b;
	int			 n = 0, now;

	now = insert_param(t, STORE_NOW, NULL);
	buf_init(&b, 0);
	sql_cat(&b, "INSERT INTO ", t->name, " (", (char *)NULL);
	store_table_columns(&b, t, 0);
	buf_puts(&b, ") VALUES (");
	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (c->flags & STORE_SERIAL)
			continue;
		buf_puts(&b, n++ > 0 ? ", " : "");
		if (c->flags & (STORE_NOW | STORE_TOUCH)) {
			buf_puts(&b, "COALESCE(");
			sql_param(&b, n, "bigint");
			if ((c->flags & STORE_TOUCH) && now > 0) {
				buf_puts(&b, ", ");
				sql_param(&b, now, "bigint");
			}
			buf_puts(&b, ", bora_now_ms())");
		} else if (c->flags & STORE_SEQ) {
			buf_puts(&b, "CASE WHEN ");
			sql_param(&b, n, "bigint");
			buf_puts(&b, " > 0 THEN ");
			sql_param(&b, n, "bigint");
			sql_cat(&b, " ELSE (SELECT COALESCE(max(", c->name,
			    "), 0) + 1 FROM ", t->name, " WHERE ", t->group,
			    " = ", (char *)NULL);
			sql_param(&b, insert_param(t, 0, t->group), NULL);
			buf_puts(&b, ") END");
		} else
			sql_param(&b, n, NULL);
	}
	buf_puts(&b, ")");
	return (buf_take(&b));
}

/*
 * UPDATE of the masked columns ($2) of the row with key $1, guarded by
 * its expected state ($3, NULL: any), touching TOUCH columns.  With mask
 * 0 it sets every column, each to its value or to itself by $2; with a
 * mask, only those (same placeholders), guarded only when guard is set.
 * NULL when no column can be updated, or none is set.
 */
static char *
table_update_sql(const struct store_table *t, unsigned mask, int guard)
{
	const struct store_col	*c, *key = NULL;
	struct buf		 b;
	size_t			 head;
	int			 n = 3, state = 0;

	for (c = t->cols; c < t->cols + t->ncols; c++)
		if (strcmp(c->name, "state") == 0)
			state = 1;
	buf_init(&b, 0);
	sql_cat(&b, "UPDATE ", t->name, " SET ", (char *)NULL);
	head = b.len;
	for (c = t->cols; c < t->cols + t->ncols; c++) {
		if (c->flags & STORE_KEY)
			key = c;
		else if (c->mask != 0 && mask == 0) {
			sql_cat(&b, c->name, " = CASE WHEN $2::integer & ",
			    (char *)NULL);
			buf_printf(&b, "%u", c->mask);
			buf_puts(&b, " <> 0 THEN ");
			sql_param(&b, ++n, col_sqltype(c));
			sql_cat(&b, " ELSE ", c->name, " END, ", (char *)NULL);
		} else if (c->mask != 0) {
			if (mask & c->mask) {
				sql_cat(&b, c->name, " = ", (char *)NULL);
				sql_param(&b, n + 1, col_sqltype(c));
				buf_puts(&b, ", ");
			}
			n++;
		} else if (c->flags & STORE_TOUCH)
			sql_cat(&b, c->name, " = bora_now_ms(), ", (char *)NULL);
	}
	if (n == 3 || key == NULL || b.len == head) {
		buf_free(&b);
		return (NULL);
	}
	b.len -= 2;
	/* Without a state column, no guard: $3 is always NULL. */
	sql_cat(&b, " WHERE ", key->name, col_sqltype(key)[0] == 'b' ?
	    " = $1::bigint" : " = $1", mask == 0 ? (state ?
	    " AND ($3::text IS NULL OR state = $3)" : " AND $3::text IS NULL") :
	    guard && state ? " AND state = $3" : "", (char *)NULL);
	return (buf_take(&b));
}

/* The UPDATE of a table's own (every column; see above). */
static char *
table_update_all(const struct store_table *t)
{
	return (table_update_sql(t, 0, 1));
}

/* The clause of a table's load by key (its first column). */
static char *
table_load_clause(const struct store_table *t)
{
	char	*sql;

	xasprintf(&sql, "%s = $1::%s", t->cols[0].name,
	    col_sqltype(&t->cols[0]));
	return (sql);
}

/* ---- the registry ---------------------------------------------------- */

struct store_sql	**store_sqls;
int			  store_nsqls;
static pthread_mutex_t	  store_text_mtx = PTHREAD_MUTEX_INITIALIZER;

/* Expand one dialect's markers in base; placeholders in its style. */
static char *
sql_expand(const char *base, const struct store_dialect *d, int nparams,
    unsigned flags)
{
	static const char *const marks[] = { "@LOCK", "@IDS", "@ROWID",
		"@CLAIM" };
	const char	*sub[] = { d->lock, d->ids, d->rowid, d->claim };
	const char	*p, *at;
	struct buf	 b;
	size_t		 i;
	char		*text, *q;

	buf_init(&b, 0);
	for (p = base; (at = strchr(p, '@')) != NULL; p = at) {
		buf_add(&b, p, at - p);
		for (i = 0; i < nitems(marks); i++) {
			if (strncmp(at, marks[i], strlen(marks[i])) == 0)
				break;
		}
		if (i == nitems(marks))
			fatalx("%s: unknown mark in %s", __func__, base);
		buf_puts(&b, sub[i]);
		at += strlen(marks[i]);
	}
	buf_puts(&b, p);
	if ((flags & STORE_GUARD) && d->guard_dml != NULL)
		xasprintf(&text, strncmp(b.data, "SELECT", 6) == 0 ?
		    d->guard_select : d->guard_dml, b.data, nparams + 1,
		    nparams + 2);
	else
		text = xstrdup(b.data);
	buf_free(&b);
	for (q = text; (q = strchr(q, '$')) != NULL; q++)
		*q = d->param;
	/* Without casts: "$1::bigint" is "?1". */
	for (q = text; !d->casts && (q = strstr(q, "::")) != NULL; ) {
		for (p = q + 2; isalnum((unsigned char)*p) || *p == '_'; p++)
			;
		memmove(q, p, strlen(p) + 1);
	}
	return (text);
}

/* The highest placeholder number of tmpl. */
static int
sql_nparams(const char *tmpl)
{
	const char	*p;
	int		 n, max = 0;

	for (p = tmpl; (p = strchr(p, '$')) != NULL; p++) {
		if ((n = atoi(p + 1)) > max)
			max = n;
	}
	return (max);
}

/* The whole SQL of a statement before expansion; sets nparams. */
static char *
sql_base(struct store_sql *q)
{
	struct buf	 b;

	/* A table's columns hold no placeholder: its clause has them all. */
	q->nparams = sql_nparams(q->tmpl);
	if (q->from == NULL)
		return (xstrdup(q->tmpl));
	buf_init(&b, 0);
	buf_puts(&b, "SELECT ");
	store_table_columns(&b, q->from, 1);
	sql_cat(&b, " FROM ", q->from->name, " WHERE ", q->tmpl, (char *)NULL);
	return (buf_take(&b));
}

/* Fill a dynamic statement's text for dialect d. */
void
store_sql_build(struct store_sql *q, const struct store_dialect *d)
{
	char	*base;

	base = sql_base(q);
	q->text[d->index] = sql_expand(base, d, q->nparams, q->flags);
	free(base);
}

/*
 * The UPDATE of a row of t setting only the columns in mask, guarded by
 * its state when guard is set, for dialect d; it takes the values of the
 * whole one (store_row_update_values).  NULL when it would set nothing.
 */
char *
store_update_text(const struct store_table *t, unsigned mask, int guard,
    const struct store_dialect *d)
{
	char	*base, *text;

	if ((base = table_update_sql(t, mask, guard)) == NULL)
		return (NULL);
	text = sql_expand(base, d, sql_nparams(base), STORE_GUARD);
	free(base);
	return (text);
}

/* Free a dynamic statement's texts. */
void
store_sql_free(struct store_sql *q)
{
	size_t	 i;

	for (i = 0; i < STORE_NDIALECTS; i++)
		free(q->text[i]);
}

/* Register one statement: give it an id. */
static void
store_register(struct store_sql *q)
{
	static size_t	 cap;

	if ((size_t)store_nsqls == cap) {
		cap = cap == 0 ? 64 : cap * 2;
		store_sqls = xreallocarray(store_sqls, cap,
		    sizeof *store_sqls);
	}
	q->id = store_nsqls;
	store_sqls[store_nsqls++] = q;
}

/* Register a statement of table t whose SQL make(t) gives. */
static void
store_register_made(struct store_sql *q, const struct store_table *t,
    char *(*make)(const struct store_table *), unsigned flags,
    const char *verb)
{
	q->make = make;
	q->of = t;
	q->flags = flags;
	if (verb != NULL)
		xasprintf((char **)&q->what, "%s %s", verb, t->label);
	else
		q->what = t->label;
	store_register(q);
}

/* Whether t has a key and a column an update can set. */
static int
table_updatable(const struct store_table *t)
{
	const struct store_col	*c;
	int			 key = 0, set = 0;

	for (c = t->cols; c < t->cols + t->ncols; c++) {
		key |= (c->flags & STORE_KEY) != 0;
		set |= c->mask != 0;
	}
	return (key && set);
}

/* Register the statements of every table, then store-ops.c's. */
static void
store_init_tables(void)
{
	const struct store_table	*t;
	struct store_table_sql		*s;
	struct store_sql *const		*q;
	size_t				 i;

	for (i = 0; (t = store_tables[i]) != NULL; i++) {
		s = t->sql;
		store_register_made(&s->insert, t, table_insert_sql,
		    (t->flags & STORE_T_NOTIFY) ? STORE_WAKE : 0, "insert");
		s->update.id = -1;
		if (table_updatable(t))
			store_register_made(&s->update, t, table_update_all,
			    STORE_GUARD, "update");
		/* The key is the first column. */
		s->load.from = t;
		store_register_made(&s->load, t, table_load_clause, 0, NULL);
	}
	for (q = store_ops_sqls; *q != NULL; q++)
		store_register(*q);
	for (q = store_alarm_sqls; *q != NULL; q++)
		store_register(*q);
	for (q = store_recovery_sqls; *q != NULL; q++)
		store_register(*q);
}

/* See store-int.h. */
void
store_init(void)
{
	static pthread_once_t	 once = PTHREAD_ONCE_INIT;

	pthread_once(&once, store_init_tables);
}

/*
 * See store-int.h.  A registered statement's text is made once per
 * process and dialect, under a lock: any thread may ask first.
 */
const char *
store_sql_text(const struct store_sql *q, const struct store_dialect *d)
{
	struct store_sql	*r;
	const char		*text;
	char			*base;

	if (q->id < 0)
		return (q->text[d->index]);
	r = store_sqls[q->id];
	pthread_mutex_lock(&store_text_mtx);
	if (r->text[d->index] == NULL) {
		if (r->tmpl == NULL)
			r->tmpl = r->make(r->of);
		base = sql_base(r);
		r->text[d->index] = sql_expand(base, d, r->nparams, r->flags);
		free(base);
	}
	text = r->text[d->index];
	pthread_mutex_unlock(&store_text_mtx);
	return (text);
}
