/*
 * alarm-vitrage.c -- OpenStack Vitrage's webhook notifier, which sends
 * vitrage.alarm.activate and vitrage.alarm.deactivate:
 *
 *	{"notification": "vitrage.alarm.activate", "payload": {
 *	 "vitrage_id": "<uuid>", "name": "Host is down", "state": "Active",
 *	 "vitrage_type": "vitrage", "vitrage_operational_severity":
 *	 "CRITICAL", "update_timestamp": "...", "resource": {"id":
 *	 "compute-1", "name": "compute-1", "vitrage_type": "nova.host"}}}
 *
 * One event keyed by payload.vitrage_id; activate is firing, deactivate
 * resolved.  A nova.host resource is a host, a nova.instance an
 * instance (whose host Vitrage does not send).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alarms/alarms-int.h"

static int	vitrage_parse(struct alarm_pctx *, json_t *);

const struct alarm_source alarm_source_vitrage = {
	.name = "vitrage",
	.route = "/v1/alarms/vitrage",
	.parse = vitrage_parse
};

static const struct {
	const char		*name;
	enum alarm_status	 status;
} vitrage_notes[] = {
	{ "vitrage.alarm.activate", ALARM_FIRING },
	{ "vitrage.alarm.deactivate", ALARM_RESOLVED }
};

/* Payload fields copied into labels: label name, payload field. */
static const char *const vitrage_labels[][2] = {
	{ "vitrage_type", "vitrage_type" },
	{ "vitrage_category", "vitrage_category" },
	{ "state", "state" },
	{ "alarm_id", "id" },
	{ "project_id", "project_id" }
};

/* Copy a string field of obj into labels when present. */
static int
vitrage_label(struct alarm_pctx *ctx, json_t *obj, const char *path,
    const char *field, json_t *labels, const char *label)
{
	const char	*s;

	if (alarm_get_str(ctx, obj, path, field, 0, &s) != 0)
		return (-1);
	if (s != NULL)
		json_object_set_new(labels, label, json_string(s));
	return (0);
}

/* The resource the alarm is on. */
static int
vitrage_resource(struct alarm_pctx *ctx, json_t *p, struct alarm_event *ev)
{
	json_t		*r;
	const char	*type, *id, *name;
	const char	*path = "$.payload.resource";

	ev->res_kind = ALARM_RES_OTHER;
	if (alarm_get_obj(ctx, p, "$.payload", "resource", 0, &r) != 0)
		return (-1);
	if (r == NULL)
		return (0);
	if (alarm_get_str(ctx, r, path, "vitrage_type", 0, &type) != 0 ||
	    alarm_get_str(ctx, r, path, "id", 0, &id) != 0 ||
	    alarm_get_str(ctx, r, path, "name", 0, &name) != 0)
		return (-1);
	if (type != NULL)
		json_object_set_new(ev->labels, "resource_type",
		    json_string(type));
	if (name != NULL)
		json_object_set_new(ev->labels, "resource_name",
		    json_string(name));
	ev->res_id = alarm_strdup(id);
	if (type != NULL && strcmp(type, "nova.host") == 0) {
		ev->res_kind = ALARM_RES_HOST;
		ev->res_host = alarm_strdup(name != NULL ? name : id);
	} else if (type != NULL && strcmp(type, "nova.instance") == 0)
		ev->res_kind = ALARM_RES_INSTANCE;
	return (0);
}

/* One Vitrage notification. */
static int
vitrage_parse(struct alarm_pctx *ctx, json_t *body)
{
	struct alarm_event	*ev;
	json_t			*p;
	const char		*note, *id, *name, *sev, *ts;
	size_t			 i;

	if (!json_is_object(body))
		return (alarm_perr(ctx, "$", "expected an object, got %s",
		    alarm_json_kind(body)));
	if (alarm_get_str(ctx, body, "$", "notification", ALARM_REQUIRED,
	    &note) != 0 ||
	    alarm_get_obj(ctx, body, "$", "payload", ALARM_REQUIRED, &p) != 0)
		return (-1);
	for (i = 0; i < nitems(vitrage_notes); i++) {
		if (strcmp(note, vitrage_notes[i].name) == 0)
			break;
	}
	if (i == nitems(vitrage_notes))
		return (alarm_perr(ctx, "$.notification", "expected "
		    "\"vitrage.alarm.activate\" or \"vitrage.alarm."
		    "deactivate\", got \"%.40s\"", note));
	if (alarm_get_str(ctx, p, "$.payload", "vitrage_id", ALARM_REQUIRED |
	    ALARM_NONEMPTY, &id) != 0 ||
	    alarm_get_str(ctx, p, "$.payload", "name", 0, &name) != 0 ||
	    alarm_get_str(ctx, p, "$.payload", "vitrage_operational_severity",
	    0, &sev) != 0 ||
	    alarm_get_str(ctx, p, "$.payload", "update_timestamp", 0,
	    &ts) != 0)
		return (-1);

	if ((ev = alarm_event_add(ctx, "$")) == NULL ||
	    alarm_event_key(ctx, ev, "$.payload.vitrage_id", id) != 0)
		return (-1);
	ev->status = vitrage_notes[i].status;
	ev->name = alarm_strdup(name);
	ev->severity = alarm_lower(sev);
	ev->starts_at = alarm_strdup(ts);
	for (i = 0; i < nitems(vitrage_labels); i++) {
		if (vitrage_label(ctx, p, "$.payload", vitrage_labels[i][1],
		    ev->labels, vitrage_labels[i][0]) != 0)
			return (-1);
	}
	if (vitrage_resource(ctx, p, ev) != 0)
		return (-1);
	ev->raw = json_incref(body);
	return (0);
}
