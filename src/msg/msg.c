/*
 * msg.c -- the catalog of what users are told, and messages made from
 * it: one row per entry (event id, level, resource, placeholders, text,
 * suggested action), texts filled with cleaned values, and message rows
 * recorded in the change set of the transition that causes them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "msg/msg-int.h"

#define MSG_MAX_ENTRIES	32
#define MSG_MAX_VARS	8

/* The catalog.  Keep ids stable: deployers and users search by them. */
const struct msg_entry msg_entries[] = {
	{ MSG_EXE_FAILED, "ERROR", "execution",
	  "workflow tasks reason execution",
	  "Workflow {workflow} failed in task {tasks}: {reason}.",
	  "Fix the cause, then re-run the failed task with "
	  "`bora execution rerun TASK_ID` (its id is in "
	  "`bora execution tasks {execution}`)." },
	{ MSG_EXE_ENDED, "ERROR", "execution", "workflow reason execution",
	  "Workflow {workflow} ended in ERROR: {reason}.",
	  "See `bora execution get {execution}`, and start the workflow "
	  "again once the cause is fixed." },
	{ MSG_TASK_UNHANDLED, "ERROR", "task",
	  "task workflow reason task_id execution",
	  "Task {task} of workflow {workflow} failed and nothing handles "
	  "it: {reason}.",
	  "The workflow ends in ERROR once its other tasks are done; re-run "
	  "the task with `bora execution rerun {task_id}`, or give it an "
	  "on-error handler." },
	{ MSG_LOCK_WAIT, "WARNING", "task", "task workflow lock holder",
	  "Task {task} of workflow {workflow} waits for lock '{lock}', held "
	  "by execution {holder}.",
	  "It starts when that execution ends; if that one is stuck, cancel "
	  "it with `bora execution cancel {holder}`." },
	{ MSG_LOCK_TIMEOUT, "ERROR", "task",
	  "task workflow lock holder timeout task_id",
	  "Task {task} of workflow {workflow} could not take lock '{lock}' "
	  "within {timeout} s: execution {holder} holds it.",
	  "Re-run the task with `bora execution rerun {task_id}` once "
	  "execution {holder} has ended, or give the task a longer "
	  "timeout." },
	{ MSG_RESERVED_HOST, "ERROR", "execution",
	  "host segment reason workflow",
	  "No reserved host could be taken to recover host {host} of "
	  "segment {segment}: {reason}.",
	  "Add a reserved host to segment {segment} (or free one), then "
	  "re-run the failed task of workflow {workflow}." },
	{ MSG_ASYNC_TIMEOUT, "ERROR", "task",
	  "task workflow action action_id timeout task_id",
	  "Task {task} of workflow {workflow} waited {timeout} s for the "
	  "result of async action {action} and none came.",
	  "Whatever runs the action must send its result with "
	  "PUT /v2/action_executions/{action_id}; check that it can reach "
	  "borad's callback URL, then re-run the task with "
	  "`bora execution rerun {task_id}`." },
	{ MSG_ALARM_REJECTED, "WARNING", "alarm", "source route reason",
	  "An alarm from {source} at {route} was rejected: {reason}.",
	  "Fix what the sender sends, or the credentials it sends with "
	  "(alarm-auth in borad.conf); `bora trigger test` shows what borad "
	  "makes of a payload." },
	{ MSG_TRIGGER_LIMIT, "WARNING", "trigger",
	  "trigger limit window by key",
	  "Trigger {trigger} reached its limit of {limit} executions per "
	  "{window} (limit.by {by}): alarm {key} and the others of this "
	  "window start nothing.",
	  "If this is no alarm storm, raise the trigger's limit; "
	  "`bora alarm list --verdict limited` shows the alarms turned "
	  "away." },
	{ MSG_NOTIFY_DEAD, "ERROR", "notification",
	  "event execution target attempts reason notification",
	  "The {event} notification of execution {execution} could not be "
	  "delivered to {target} after {attempts} attempts: {reason}.",
	  "Once the receiver works, send it again with "
	  "`bora notification retry {notification}`." },
};
const size_t msg_nentries = nitems(msg_entries);

_Static_assert(nitems(msg_entries) <= MSG_MAX_ENTRIES,
    "MSG_MAX_ENTRIES is too small");

char	*msg_over_message[MSG_MAX_ENTRIES];
char	*msg_over_action[MSG_MAX_ENTRIES];

static int64_t	 msg_ttl_ms;

/* The entry of an event id, or NULL. */
const struct msg_entry *
msg_find(const char *id)
{
	size_t	 i;

	for (i = 0; id != NULL && i < msg_nentries; i++) {
		if (strcmp(msg_entries[i].id, id) == 0)
			return (&msg_entries[i]);
	}
	return (NULL);
}

/* Is the len bytes of name one of the entry's placeholders? */
int
msg_var_known(const struct msg_entry *m, const char *name, size_t len)
{
	const char	*p = m->vars, *end;

	while (*p != '\0') {
		if ((end = strchr(p, ' ')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) == len && strncmp(p, name, len) == 0)
			return (1);
		p = *end == ' ' ? end + 1 : end;
	}
	return (0);
}

void
msg_set_ttl(int64_t ms)
{
	msg_ttl_ms = ms > 0 ? ms : 0;
}

int64_t
msg_ttl(void)
{
	return (msg_ttl_ms);
}

const char *
msg_level(const char *id)
{
	const struct msg_entry	*m = msg_find(id);

	return (m != NULL ? m->level : NULL);
}

const char *
msg_resource_type(const char *id)
{
	const struct msg_entry	*m = msg_find(id);

	return (m != NULL ? m->resource : NULL);
}

/* The value of placeholder name among the pairs, or NULL. */
static const char *
msg_var(const char *const *vars, size_t n, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < n; i += 2) {
		if (strlen(vars[i]) == len && strncmp(vars[i], name, len) == 0)
			return (vars[i + 1]);
	}
	return (NULL);
}

/* Fill a template into b: {name} from the pairs, "{{" and "}}" braces. */
static void
msg_fill(struct buf *b, const struct msg_entry *m, const char *tmpl,
    const char *const *vars, size_t n)
{
	const char	*p, *end, *v;
	char		*clean;
	size_t		 len;

	for (p = tmpl; *p != '\0'; p++) {
		if ((p[0] == '{' || p[0] == '}') && p[1] == p[0]) {
			buf_add(b, p, 1);
			p++;
			continue;
		}
		if (*p != '{' || (end = strchr(p, '}')) == NULL) {
			buf_add(b, p, 1);
			continue;
		}
		len = (size_t)(end - p - 1);
		if (!msg_var_known(m, p + 1, len)) {
			buf_add(b, p, (size_t)(end - p + 1));
			p = end;
			continue;
		}
		v = msg_var(vars, n, p + 1, len);
		clean = msg_clean(v, len == 6 && strncmp(p + 1, "reason", 6) ==
		    0 ? MSG_REASON_MAX : MSG_VALUE_MAX);
		buf_puts(b, clean);
		/* "...exception." then "." reads as one full stop. */
		if (end[1] == '.' && *clean != '\0' &&
		    clean[strlen(clean) - 1] == '.')
			end++;
		free(clean);
		p = end;
	}
}

/* The text of entry m (as overridden) with its action after it. */
static char *
msg_text(const struct msg_entry *m, const char *const *vars, size_t n)
{
	struct buf	 b;
	size_t		 i = (size_t)(m - msg_entries), cut;
	char		*s;

	buf_init(&b, 0);
	msg_fill(&b, m, msg_over_message[i] != NULL ? msg_over_message[i] :
	    m->message, vars, n);
	s = msg_over_action[i] != NULL ? msg_over_action[i] :
	    (char *)m->action;
	if (*s != '\0') {
		buf_puts(&b, " ");
		msg_fill(&b, m, s, vars, n);
	}
	if (b.len > MSG_TEXT_MAX) {
		/* Cut on a character, not inside one. */
		cut = MSG_TEXT_MAX - 3;
		while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
			cut--;
		b.len = cut;
		b.data[cut] = '\0';
		buf_puts(&b, "...");
	}
	return (buf_take(&b));
}

/* Collect name, value pairs up to a NULL name. */
static size_t
msg_pairs(va_list ap, const char **vars)
{
	const char	*name;
	size_t		 n = 0;

	while ((name = va_arg(ap, const char *)) != NULL) {
		if (n == MSG_MAX_VARS * 2)
			fatalx("%s: too many placeholders", __func__);
		vars[n++] = name;
		vars[n++] = va_arg(ap, const char *);
	}
	return (n);
}

/* See msg.h. */
char *
msg_render(const char *id, ...)
{
	const struct msg_entry	*m;
	const char		*vars[MSG_MAX_VARS * 2];
	va_list			 ap;
	size_t			 n;

	if ((m = msg_find(id)) == NULL)
		return (NULL);
	va_start(ap, id);
	n = msg_pairs(ap, vars);
	va_end(ap);
	return (msg_text(m, vars, n));
}

/* Fill row with the message of entry m (row->message is malloc'd). */
static void
msg_row_make(struct store_message *row, const struct msg_entry *m,
    const struct msg_about *about, va_list ap)
{
	const char	*vars[MSG_MAX_VARS * 2];
	size_t		 n;

	n = msg_pairs(ap, vars);
	memset(row, 0, sizeof *row);
	uuid_make(row->id);
	row->event_id = (char *)m->id;
	row->message = msg_text(m, vars, n);
	row->request_id = (char *)about->request_id;
	row->resource_type = (char *)m->resource;
	row->resource_uuid = (char *)about->resource_uuid;
	row->level = (char *)m->level;
	row->expires_at = msg_ttl_ms > 0 ? time_now_ms() + msg_ttl_ms : 0;
	row->project_id = (char *)(about->project_id != NULL ?
	    about->project_id : MSG_PROJECT_DEFAULT);
}

/* See msg.h. */
int
msg_row(struct store_message *row, const char *id,
    const struct msg_about *about, ...)
{
	const struct msg_entry	*m;
	va_list			 ap;

	if ((m = msg_find(id)) == NULL) {
		log_warnx("BUG: %s: unknown message %s", __func__, id);
		return (-1);
	}
	va_start(ap, about);
	msg_row_make(row, m, about, ap);
	va_end(ap);
	return (0);
}

/* See msg.h. */
void
msg_tx_addv(struct store_tx *tx, const char *id,
    const struct msg_about *about, va_list ap)
{
	const struct msg_entry	*m;
	struct store_message	 row;

	if ((m = msg_find(id)) == NULL) {
		log_warnx("BUG: %s: unknown message %s", __func__, id);
		return;
	}
	msg_row_make(&row, m, about, ap);
	store_tx_message_insert(tx, &row);
	free(row.message);
}

void
msg_tx_add(struct store_tx *tx, const char *id,
    const struct msg_about *about, ...)
{
	va_list	 ap;

	va_start(ap, about);
	msg_tx_addv(tx, id, about, ap);
	va_end(ap);
}

/* See msg.h. */
json_t *
msg_catalog_json(void)
{
	const struct msg_entry	*m;
	json_t			*a, *vars;
	const char		*p, *end;
	size_t			 i;

	a = json_array();
	for (i = 0; i < msg_nentries; i++) {
		m = &msg_entries[i];
		vars = json_array();
		for (p = m->vars; *p != '\0'; p = *end == ' ' ? end + 1 : end) {
			if ((end = strchr(p, ' ')) == NULL)
				end = p + strlen(p);
			json_array_append_new(vars, json_stringn(p,
			    (size_t)(end - p)));
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, "
		    "s:o, s:b}", "event_id", m->id, "level", m->level,
		    "resource_type", m->resource, "message",
		    msg_over_message[i] != NULL ? msg_over_message[i] :
		    m->message, "action", msg_over_action[i] != NULL ?
		    msg_over_action[i] : m->action, "placeholders", vars,
		    "overridden", msg_over_message[i] != NULL ||
		    msg_over_action[i] != NULL));
	}
	return (a);
}
