/*
 * alarm-aodh.c -- OpenStack Aodh's http:// alarm action, sent on every
 * state transition (and each evaluation with repeat_actions):
 *
 *	{"alarm_name": "...", "alarm_id": "<uuid>", "severity": "critical",
 *	 "previous": "ok", "current": "alarm", "reason": "...",
 *	 "reason_data": {"type": "threshold", ...}}
 *
 * One event keyed by alarm_id.  "alarm" and "insufficient data" are
 * firing, "ok" is resolved.  Labels are the event's traits (event
 * alarms: reason_data.event.traits, [name, type, value] triples) and
 * current, previous and type (of reason_data); the reason is an
 * annotation.  The resource comes from the traits instance_id, host and
 * resource_id; a threshold alarm names none.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms-int.h"

static int	aodh_parse(struct alarm_pctx *, json_t *);

const struct alarm_source alarm_source_aodh = {
	.name = "aodh",
	.route = "/v1/alarms/aodh",
	.parse = aodh_parse
};

/* Aodh states and what they mean here. */
static const struct {
	const char		*name;
	enum alarm_status	 status;
} aodh_states[] = {
	{ "alarm", ALARM_FIRING },
	{ "insufficient data", ALARM_FIRING },
	{ "ok", ALARM_RESOLVED }
};

/* Event alarms: the traits, [name, type, value] each, into labels. */
static int
aodh_traits(struct alarm_pctx *ctx, json_t *rd, json_t *labels)
{
	json_t		*ev, *traits, *t, *name, *val;
	char		 path[80], *text;
	size_t		 i;

	if ((ev = json_object_get(rd, "event")) == NULL || json_is_null(ev))
		return (0);
	if (!json_is_object(ev))
		return (alarm_perr(ctx, "$.reason_data.event", "expected an "
		    "object, got %s", alarm_json_kind(ev)));
	if ((traits = json_object_get(ev, "traits")) == NULL ||
	    json_is_null(traits))
		return (0);
	if (!json_is_array(traits))
		return (alarm_perr(ctx, "$.reason_data.event.traits",
		    "expected an array, got %s", alarm_json_kind(traits)));
	json_array_foreach(traits, i, t) {
		snprintf(path, sizeof path, "$.reason_data.event.traits[%zu]",
		    i);
		name = json_array_get(t, 0);
		val = json_array_get(t, 2);
		if (!json_is_array(t) || json_array_size(t) != 3 ||
		    !json_is_string(name) || json_string_length(name) == 0)
			return (alarm_perr(ctx, path, "expected [name, type, "
			    "value]"));
		if (json_is_string(val))
			json_object_set(labels, json_string_value(name), val);
		else if (json_is_number(val) || json_is_boolean(val)) {
			text = json_dumps(val, JSON_ENCODE_ANY);
			json_object_set_new(labels, json_string_value(name),
			    json_string(text));
			free(text);
		} else if (!json_is_null(val))
			return (alarm_perr(ctx, path, "expected a scalar "
			    "value, got %s", alarm_json_kind(val)));
	}
	return (0);
}

/* The resource named by the traits. */
static void
aodh_resource(struct alarm_event *ev)
{
	const char	*inst, *host, *res;

	inst = json_string_value(json_object_get(ev->labels, "instance_id"));
	host = json_string_value(json_object_get(ev->labels, "host"));
	res = json_string_value(json_object_get(ev->labels, "resource_id"));
	ev->res_host = alarm_strdup(host);
	if (inst != NULL) {
		ev->res_kind = ALARM_RES_INSTANCE;
		ev->res_id = xstrdup(inst);
	} else if (host != NULL) {
		ev->res_kind = ALARM_RES_HOST;
		ev->res_id = xstrdup(host);
	} else {
		ev->res_kind = ALARM_RES_OTHER;
		ev->res_id = alarm_strdup(res);
	}
}

/* One Aodh notification. */
static int
aodh_parse(struct alarm_pctx *ctx, json_t *body)
{
	struct alarm_event	*ev;
	json_t			*rd;
	const char		*id, *name, *sev, *prev, *cur, *reason, *type;
	const char		*gen = NULL;
	size_t			 i;

	if (!json_is_object(body))
		return (alarm_perr(ctx, "$", "expected an object, got %s",
		    alarm_json_kind(body)));
	if (alarm_get_str(ctx, body, "$", "alarm_id", ALARM_REQUIRED |
	    ALARM_NONEMPTY, &id) != 0 ||
	    alarm_get_str(ctx, body, "$", "current", ALARM_REQUIRED,
	    &cur) != 0 ||
	    alarm_get_str(ctx, body, "$", "previous", 0, &prev) != 0 ||
	    alarm_get_str(ctx, body, "$", "alarm_name", 0, &name) != 0 ||
	    alarm_get_str(ctx, body, "$", "severity", 0, &sev) != 0 ||
	    alarm_get_str(ctx, body, "$", "reason", 0, &reason) != 0 ||
	    alarm_get_obj(ctx, body, "$", "reason_data", 0, &rd) != 0)
		return (-1);
	for (i = 0; i < nitems(aodh_states); i++) {
		if (strcmp(cur, aodh_states[i].name) == 0)
			break;
	}
	if (i == nitems(aodh_states))
		return (alarm_perr(ctx, "$.current", "expected \"alarm\", "
		    "\"ok\" or \"insufficient data\", got \"%.40s\"", cur));
	type = NULL;
	if (rd != NULL && (alarm_get_str(ctx, rd, "$.reason_data", "type", 0,
	    &type) != 0))
		return (-1);

	if ((ev = alarm_event_add(ctx, "$")) == NULL ||
	    alarm_event_key(ctx, ev, "$.alarm_id", id) != 0)
		return (-1);
	ev->status = aodh_states[i].status;
	ev->name = alarm_strdup(name);
	ev->severity = alarm_lower(sev);
	if (rd != NULL && aodh_traits(ctx, rd, ev->labels) != 0)
		return (-1);
	json_object_set_new(ev->labels, "current", json_string(cur));
	if (prev != NULL)
		json_object_set_new(ev->labels, "previous", json_string(prev));
	if (type != NULL)
		json_object_set_new(ev->labels, "type", json_string(type));
	if (reason != NULL)
		json_object_set_new(ev->annotations, "reason",
		    json_string(reason));
	if (rd != NULL)
		gen = json_string_value(json_object_get(json_object_get(rd,
		    "event"), "generated"));
	ev->starts_at = alarm_strdup(gen);
	aodh_resource(ev);
	ev->raw = json_incref(body);
	return (0);
}
