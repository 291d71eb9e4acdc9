/*
 * alarms-masakari.c -- masakari-monitors' notifications: the request
 * as Masakari's API checks it, what its engine would do with it (which
 * flow, with what input, or why nothing), the notification as its API
 * shows it, and the progress details of its recovery in Masakari's
 * shape (recovery_workflow_details).
 *
 * Nothing here does I/O: the API reads the rows, asks, and writes what
 * the decision says in one change set with the execution it starts.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsl/dsl.h"
#include "alarms/alarms-int.h"

#define NOTE_FIELD_MAX	255
#define NOTE_NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789-._"

/* The payload keys of each type: required ones first, then optional. */
static const struct note_type {
	const char		*type;
	const char *const	 required[4];
	const char *const	 optional[4];
	const char		*workflow;
	unsigned		 flows;
} note_types[] = {
	{ "COMPUTE_HOST", { "event", NULL }, { "cluster_status", "host_status",
	  NULL }, "masakari.host_failure", DSL_FLOW_HOST },
	{ "VM", { "event", "instance_uuid", "vir_domain_event", NULL },
	  { NULL }, "masakari.instance_failure", DSL_FLOW_INSTANCE },
	{ "PROCESS", { "process_name", "event", NULL }, { NULL },
	  "masakari.process_failure", DSL_FLOW_PROCESS },
};

/* The VM events Masakari's engine acts on (instance_events.py). */
static const char *const note_vm_events[][2] = {
	{ "LIFECYCLE", "STOPPED_FAILED" },
	{ "IO_ERROR", "IO_ERROR_REPORT" },
	{ "QEMU_GUEST_AGENT_ERROR", "STOPPED_FAILED" },
};

static const struct note_type *
note_type_find(const char *type)
{
	size_t	 i;

	for (i = 0; i < nitems(note_types); i++) {
		if (strcmp(note_types[i].type, type) == 0)
			return (&note_types[i]);
	}
	return (NULL);
}

/* 1 if key is one of the NULL-ended names. */
static int
note_key_in(const char *key, const char *const *names)
{
	size_t	 i;

	for (i = 0; i < 4 && names[i] != NULL; i++) {
		if (strcmp(key, names[i]) == 0)
			return (1);
	}
	return (0);
}

/* "Invalid input for field/attribute K. Value: V. why" */
static int
note_invalid(char **cause, const char *key, json_t *v, const char *why)
{
	char	*show = v != NULL ? alarm_json_show(v) : xstrdup("None");

	xasprintf(cause, "Invalid input for field/attribute %s. Value: %s. %s",
	    key, show, why);
	free(show);
	return (-1);
}

/* The payload of a type: exact keys, strings of at most 255. */
static int
note_payload(const struct note_type *nt, json_t *p, char **cause)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(p))
		return (note_invalid(cause, "payload", p, "It is not an "
		    "object."));
	for (i = 0; i < 4 && nt->required[i] != NULL; i++) {
		if (json_object_get(p, nt->required[i]) == NULL) {
			xasprintf(cause, "Invalid input for field/attribute "
			    "payload. '%s' is a required property",
			    nt->required[i]);
			return (-1);
		}
	}
	json_object_foreach(p, k, v) {
		if (!note_key_in(k, nt->required) &&
		    !note_key_in(k, nt->optional)) {
			xasprintf(cause, "Invalid input for field/attribute "
			    "payload. Additional properties are not allowed "
			    "('%s' was unexpected)", k);
			return (-1);
		}
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > (strcmp(k, "process_name") == 0 ?
		    4096 : NOTE_FIELD_MAX))
			return (note_invalid(cause, k, v, "It is not a "
			    "non-empty string of at most 255 characters."));
	}
	return (0);
}

/*
 * Read {"notification": {type, hostname, generated_time, payload}} into
 * row (type, hostname, generated_time, payload, dedup).  0, or -1 and
 * *cause in Masakari's words (a 400).
 */
int
alarm_notification_read(json_t *body, struct store_notification *row,
    char **cause)
{
	const struct note_type	*nt;
	json_t			*o, *v;
	const char		*k, *s;
	char			*payload;
	int64_t			 ms;

	if (!json_is_object(body) || (o = json_object_get(body,
	    "notification")) == NULL)
		return (note_invalid(cause, "notification", NULL,
		    "'notification' is a required property"));
	json_object_foreach(body, k, v) {
		if (strcmp(k, "notification") != 0) {
			xasprintf(cause, "Additional properties are not allowed "
			    "('%s' was unexpected)", k);
			return (-1);
		}
	}
	if (!json_is_object(o))
		return (note_invalid(cause, "notification", o, "It is not an "
		    "object."));
	json_object_foreach(o, k, v) {
		if (strcmp(k, "type") != 0 && strcmp(k, "hostname") != 0 &&
		    strcmp(k, "generated_time") != 0 &&
		    strcmp(k, "payload") != 0) {
			xasprintf(cause, "Additional properties are not allowed "
			    "('%s' was unexpected)", k);
			return (-1);
		}
	}
	v = json_object_get(o, "type");
	if (v == NULL)
		return (note_invalid(cause, "type", NULL, "'type' is a "
		    "required property"));
	if (!json_is_string(v) || (nt = note_type_find(json_string_value(
	    v))) == NULL)
		return (note_invalid(cause, "type", v, "It is not one of "
		    "['COMPUTE_HOST', 'VM', 'PROCESS']."));
	v = json_object_get(o, "hostname");
	if (v == NULL)
		return (note_invalid(cause, "hostname", NULL, "'hostname' is "
		    "a required property"));
	s = json_string_value(v);
	if (s == NULL || *s == '\0' || strlen(s) > NOTE_FIELD_MAX ||
	    strspn(s, NOTE_NAME_CHARS) != strlen(s))
		return (note_invalid(cause, "hostname", v, "It does not match "
		    "'^[a-zA-Z0-9-._]*$' (1 to 255 characters)."));
	v = json_object_get(o, "generated_time");
	if (v == NULL)
		return (note_invalid(cause, "generated_time", NULL,
		    "'generated_time' is a required property"));
	if (!json_is_string(v) || time_parse_iso(json_string_value(v),
	    &ms) != 0)
		return (note_invalid(cause, "generated_time", v, "It is not a "
		    "'date-time'."));
	v = json_object_get(o, "payload");
	if (v == NULL)
		return (note_invalid(cause, "payload", NULL, "'payload' is a "
		    "required property"));
	if (note_payload(nt, v, cause) != 0)
		return (-1);
	free(row->type);
	row->type = xstrdup(nt->type);
	free(row->hostname);
	row->hostname = xstrdup(s);
	row->generated_time = ms;
	json_decref(row->payload);
	row->payload = json_copy(v);
	/* Masakari compares type, host and the payload as a whole. */
	payload = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	free(row->dedup);
	xasprintf(&row->dedup, "%s %s %s", nt->type, s, payload);
	free(payload);
	return (0);
}

/* A payload value, or "". */
static const char *
note_get(const struct store_notification *n, const char *key)
{
	const char	*s;

	s = json_string_value(json_object_get(n->payload, key));
	return (s != NULL ? s : "");
}

/* Segment options for the flows of a type into input. */
static void
note_options(json_t *input, const struct store_segment *seg, unsigned flows)
{
	const struct dsl_flow_option	*o;
	const char			*k;
	json_t				*v;

	json_object_foreach(seg->options, k, v) {
		if ((o = dsl_flow_option_find(k)) != NULL &&
		    (o->flows & flows))
			json_object_set(input, k, v);
	}
}

/* Set the decision to a status reached at once, with its reason. */
static void
note_settle(struct alarm_note_decision *d, const char *status,
    const char *fmt, ...)
{
	va_list	 ap;

	d->status = status;
	va_start(ap, fmt);
	xvasprintf(&d->reason, fmt, ap);
	va_end(ap);
}

/*
 * What Masakari's engine does with a notification from host (in seg):
 * a flow to run (status "new", workflow and input, the host put on
 * maintenance), or a status at once (ignored, finished) and why.
 * reserved are the segment's hosts, newest first.
 */
void
alarm_notification_decide(const struct store_notification *n,
    const struct store_host *host, const struct store_segment *seg,
    struct store_host *const *hosts, size_t nhosts,
    struct alarm_note_decision *d)
{
	const struct note_type	*nt = note_type_find(n->type);
	const char		*event, *status;
	json_t			*list;
	size_t			 i;

	memset(d, 0, sizeof *d);
	if (nt == NULL) {
		note_settle(d, "ignored", "unknown type %s", n->type);
		return;
	}
	if (!seg->enabled) {
		note_settle(d, "ignored", "failover segment %s is disabled",
		    seg->name);
		return;
	}
	event = note_get(n, "event");
	if (strcmp(nt->type, "COMPUTE_HOST") == 0) {
		status = json_string_value(json_object_get(n->payload,
		    "host_status"));
		if (status == NULL) {
			note_settle(d, "ignored", "the payload has no "
			    "host_status");
			return;
		}
		if (strcasecmp(status, "NORMAL") != 0) {
			note_settle(d, "ignored", "host_status is %s, not "
			    "NORMAL: the host may still run servers", status);
			return;
		}
		if (strcasecmp(event, "STARTED") == 0) {
			note_settle(d, "finished", "host %s started",
			    host->name);
			return;
		}
		if (strcasecmp(event, "STOPPED") != 0) {
			note_settle(d, "ignored", "invalid event %s for "
			    "COMPUTE_HOST", event);
			return;
		}
		d->maintain = 1;
		d->unreserve = host->reserved;
		d->input = json_pack("{s:s,s:s,s:s}", "host_name", host->name,
		    "notification_uuid", n->notification_uuid,
		    "recovery_method", seg->recovery_method);
		list = json_array();
		for (i = 0; i < nhosts; i++) {
			if (hosts[i]->reserved && !hosts[i]->on_maintenance &&
			    strcmp(hosts[i]->name, host->name) != 0)
				json_array_append_new(list,
				    json_string(hosts[i]->name));
		}
		json_object_set_new(d->input, "reserved_host_list", list);
	} else if (strcmp(nt->type, "VM") == 0) {
		for (i = 0; i < nitems(note_vm_events); i++) {
			if (strcmp(event, note_vm_events[i][0]) == 0 &&
			    strcmp(note_get(n, "vir_domain_event"),
			    note_vm_events[i][1]) == 0)
				break;
		}
		if (i == nitems(note_vm_events)) {
			note_settle(d, "ignored", "event %s/%s is not one the "
			    "engine acts on", event,
			    note_get(n, "vir_domain_event"));
			return;
		}
		d->input = json_pack("{s:s,s:s}", "instance_uuid",
		    note_get(n, "instance_uuid"), "notification_uuid",
		    n->notification_uuid);
	} else {
		if (strcasecmp(event, "STARTED") == 0) {
			note_settle(d, "finished", "process %s started",
			    note_get(n, "process_name"));
			return;
		}
		if (strcasecmp(event, "STOPPED") != 0) {
			note_settle(d, "ignored", "invalid event %s for PROCESS",
			    event);
			return;
		}
		d->maintain = 1;
		d->input = json_pack("{s:s,s:s,s:s}", "host_name", host->name,
		    "process_name", note_get(n, "process_name"),
		    "notification_uuid", n->notification_uuid);
	}
	note_options(d->input, seg, nt->flows);
	d->status = "new";
	d->workflow = nt->workflow;
}

void
alarm_note_decision_free(struct alarm_note_decision *d)
{
	json_decref(d->input);
	free(d->reason);
	memset(d, 0, sizeof *d);
}

/* A notification as Masakari's API shows it. */
json_t *
alarm_notification_json(const struct store_notification *n)
{
	return (json_pack("{s:s,s:I,s:s,s:s,s:o,s:o,s:O,s:s,s:b,s:o,s:o,"
	    "s:n,s:o,s:o,s:o}",
	    "notification_uuid", n->notification_uuid, "id",
	    (json_int_t)n->id, "type", n->type, "status", n->state,
	    "source_host_uuid", alarm_json_str(n->source_host_uuid),
	    "generated_time", alarm_masakari_time(n->generated_time),
	    "payload", n->payload != NULL ? n->payload : json_object(),
	    "hostname", n->hostname, "deleted", 0,
	    "created_at", alarm_masakari_time(n->created_at),
	    "updated_at", alarm_masakari_time(n->updated_at > n->created_at ?
	    n->updated_at : 0), "deleted_at",
	    "execution_id", alarm_json_str(n->execution_id),
	    "workflow", alarm_json_str(n->workflow),
	    "status_reason", alarm_json_str(n->state_info)));
}

/* ---- recovery_workflow_details ------------------------------------- */

/* A name of Masakari's tasks (StopInstanceTask): capitalised, "Task". */
static int
note_task_named(const char *name)
{
	size_t	 len = strlen(name);

	return (len > 4 && name[0] >= 'A' && name[0] <= 'Z' &&
	    strcmp(name + len - 4, "Task") == 0 &&
	    strchr(name, '_') == NULL);
}

/* The task of that id among tasks, or NULL. */
static struct store_task *
note_task(struct store_task *const *tasks, size_t n, const char *id)
{
	size_t	 i;

	for (i = 0; id != NULL && i < n; i++) {
		if (strcmp(tasks[i]->id, id) == 0)
			return (tasks[i]);
	}
	return (NULL);
}

/* The nearest task named like Masakari's, from a task up its parents. */
static struct store_task *
note_group_task(struct store_task *t, struct store_task *const *tasks,
    size_t nt, struct store_exec *const *execs, size_t ne)
{
	size_t	 i, depth;

	for (depth = 0; t != NULL && depth < 64; depth++) {
		if (note_task_named(t->name))
			return (t);
		for (i = 0; i < ne; i++) {
			if (strcmp(execs[i]->id, t->execution_id) == 0)
				break;
		}
		if (i == ne)
			return (NULL);
		t = note_task(tasks, nt, execs[i]->parent_task_id);
	}
	return (NULL);
}

/* Taskflow's state of a task. */
static const char *
note_task_state(const char *state)
{
	if (strcmp(state, ST_SUCCESS) == 0)
		return ("SUCCESS");
	if (strcmp(state, ST_ERROR) == 0 || strcmp(state, ST_CANCELLED) == 0)
		return ("FAILURE");
	if (strcmp(state, ST_RUNNING) == 0 || strcmp(state, ST_DELAYED) == 0)
		return ("RUNNING");
	return ("PENDING");
}

/*
 * Masakari's recovery_workflow_details from the progress events of a
 * recovery's executions: one entry per task named like Masakari's
 * (DisableComputeServiceTask ...), in the order they began, holding the
 * messages of that task and of everything under it.
 */
json_t *
alarm_workflow_details(struct store_event *const *events, size_t nev,
    struct store_task *const *tasks, size_t nt,
    struct store_exec *const *execs, size_t ne)
{
	struct store_task	*t, *g;
	json_t			*out, *entry, *details;
	char			 ts[40], iso[32], pv[16];
	size_t			 i, j;

	out = json_array();
	for (i = 0; i < nev; i++) {
		if (events[i]->kind == NULL ||
		    strcmp(events[i]->kind, "progress") != 0)
			continue;
		t = note_task(tasks, nt, events[i]->task_id);
		if ((g = note_group_task(t, tasks, nt, execs, ne)) == NULL)
			continue;
		entry = NULL;
		json_array_foreach(out, j, entry) {
			if (strcmp(json_string_value(json_object_get(entry,
			    "name")), g->name) == 0)
				break;
		}
		if (j == json_array_size(out)) {
			entry = json_pack("{s:s,s:f,s:s,s:[]}", "name",
			    g->name, "progress", 0.0, "state",
			    note_task_state(g->state), "progress_details");
			json_array_append_new(out, entry);
		}
		/* A later run of the same task speaks for it. */
		json_object_set_new(entry, "state",
		    json_string(note_task_state(g->state)));
		/* str(datetime): "2019-03-07 13:54:28.842031". */
		time_format_iso(events[i]->time, iso);
		snprintf(ts, sizeof ts, "%.10s %.12s000", iso, iso + 11);
		snprintf(pv, sizeof pv, "%.1f", events[i]->progress < 0 ? 0.0 :
		    events[i]->progress);
		details = json_object_get(entry, "progress_details");
		json_array_append_new(details, json_pack("{s:s,s:s,s:s}",
		    "timestamp", ts, "message", events[i]->message != NULL ?
		    events[i]->message : "", "progress", pv));
		if (events[i]->progress >= 0)
			json_object_set_new(entry, "progress",
			    json_real(events[i]->progress));
	}
	return (out);
}
