/*
 * alarm-alertmanager.c -- Prometheus Alertmanager's webhook (version 4):
 * a message is a snapshot of a whole group, so each alert in it becomes
 * one event, keyed by its fingerprint (stable across resends).  Grafana
 * sends the same shape (alarm-grafana.c).
 *
 *	{"receiver": "...", "status": "firing", "alerts": [{"status":
 *	 "firing", "labels": {...}, "annotations": {...}, "startsAt":
 *	 "...", "endsAt": "...", "fingerprint": "407df3e2609e3cae"}, ...],
 *	 "groupLabels": {...}, "version": "4", "groupKey": "...", ...}
 *
 * The resource is read from the labels: an instance when one of
 * instance_uuid, instance_id or server_id is set, else a host from host,
 * hostname, hypervisor_hostname, hypervisor, node or nodename, else from
 * Prometheus's instance label without its port.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms-int.h"

/* Labels naming an instance, then a host, in order of preference. */
static const char *const am_instance_labels[] = {
	"instance_uuid", "instance_id", "server_id"
};
static const char *const am_host_labels[] = {
	"host", "hostname", "hypervisor_hostname", "hypervisor", "node",
	"nodename"
};

static int	am_alert(struct alarm_pctx *, json_t *, const char *);

const struct alarm_source alarm_source_alertmanager = {
	.name = "alertmanager",
	.route = "/v1/alarms/alertmanager",
	.parse = alarm_am_group
};

/* A non-empty label, or NULL. */
static const char *
am_label(json_t *labels, const char *name)
{
	const char	*s;

	s = json_string_value(json_object_get(labels, name));
	return (s != NULL && *s != '\0' ? s : NULL);
}

/* Resource of an alert from its labels. */
static void
am_resource(struct alarm_event *ev)
{
	const char	*s, *host = NULL;
	size_t		 i, n;

	for (i = 0; i < nitems(am_host_labels) && host == NULL; i++)
		host = am_label(ev->labels, am_host_labels[i]);
	if (host != NULL)
		ev->res_host = xstrdup(host);
	else if ((s = am_label(ev->labels, "instance")) != NULL) {
		/* "compute-1:9100" -> "compute-1"; "[::1]:9100" kept. */
		n = strlen(s);
		if (strchr(s, ':') == strrchr(s, ':') && strchr(s, ':') != NULL)
			n = (size_t)(strchr(s, ':') - s);
		if (n > 0)
			ev->res_host = xstrndup(s, n);
	}
	for (i = 0; i < nitems(am_instance_labels); i++) {
		if ((s = am_label(ev->labels, am_instance_labels[i])) != NULL) {
			ev->res_kind = ALARM_RES_INSTANCE;
			ev->res_id = xstrdup(s);
			return;
		}
	}
	if (ev->res_host != NULL) {
		ev->res_kind = ALARM_RES_HOST;
		ev->res_id = xstrdup(ev->res_host);
	} else
		ev->res_kind = ALARM_RES_OTHER;
}

/* One alert of the group at path. */
static int
am_alert(struct alarm_pctx *ctx, json_t *a, const char *path)
{
	struct alarm_event	*ev;
	const char		*st, *fp, *starts;
	char			 kp[96];

	if (!json_is_object(a))
		return (alarm_perr(ctx, path, "expected an object, got %s",
		    alarm_json_kind(a)));
	if (alarm_get_str(ctx, a, path, "status", ALARM_REQUIRED, &st) != 0 ||
	    alarm_get_str(ctx, a, path, "fingerprint", ALARM_REQUIRED |
	    ALARM_NONEMPTY, &fp) != 0 ||
	    alarm_get_str(ctx, a, path, "startsAt", 0, &starts) != 0)
		return (-1);
	if (strcmp(st, "firing") != 0 && strcmp(st, "resolved") != 0) {
		snprintf(kp, sizeof kp, "%s.status", path);
		return (alarm_perr(ctx, kp, "expected \"firing\" or "
		    "\"resolved\", got \"%.40s\"", st));
	}
	if ((ev = alarm_event_add(ctx, path)) == NULL)
		return (-1);
	snprintf(kp, sizeof kp, "%s.fingerprint", path);
	if (alarm_event_key(ctx, ev, kp, fp) != 0)
		return (-1);
	ev->status = strcmp(st, "firing") == 0 ? ALARM_FIRING :
	    ALARM_RESOLVED;
	if (alarm_get_strmap(ctx, a, path, "labels", ev->labels) != 0 ||
	    alarm_get_strmap(ctx, a, path, "annotations",
	    ev->annotations) != 0)
		return (-1);
	ev->name = alarm_strdup(am_label(ev->labels, "alertname"));
	ev->severity = alarm_lower(am_label(ev->labels, "severity"));
	/* Go's zero time means "not set". */
	if (starts != NULL && *starts != '\0' &&
	    strncmp(starts, "0001-01-01T", 11) != 0)
		ev->starts_at = xstrdup(starts);
	am_resource(ev);
	ev->raw = json_incref(a);
	return (0);
}

/*
 * A group message: every alert, in order.  The whole array is checked
 * against the limit first, so a huge group costs no events.
 */
int
alarm_am_group(struct alarm_pctx *ctx, json_t *body)
{
	json_t		*alerts, *a;
	const char	*s;
	char		 path[64];
	size_t		 i;

	if (!json_is_object(body))
		return (alarm_perr(ctx, "$", "expected an object, got %s",
		    alarm_json_kind(body)));
	if (alarm_get_str(ctx, body, "$", "status", 0, &s) != 0 ||
	    alarm_get_str(ctx, body, "$", "receiver", 0, &s) != 0 ||
	    alarm_get_str(ctx, body, "$", "version", 0, &s) != 0)
		return (-1);
	alerts = json_object_get(body, "alerts");
	if (alerts == NULL)
		return (alarm_perr(ctx, "$.alerts", "missing"));
	if (!json_is_array(alerts))
		return (alarm_perr(ctx, "$.alerts", "expected an array, got "
		    "%s", alarm_json_kind(alerts)));
	if (json_array_size(alerts) > ctx->lim.max_events)
		return (alarm_perr_large(ctx, "$.alerts", "%zu alerts, more "
		    "than %zu (limit alarm-max-events)",
		    json_array_size(alerts), ctx->lim.max_events));
	json_array_foreach(alerts, i, a) {
		snprintf(path, sizeof path, "$.alerts[%zu]", i);
		if (am_alert(ctx, a, path) != 0)
			return (-1);
	}
	return (0);
}
