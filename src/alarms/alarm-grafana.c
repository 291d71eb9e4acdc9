/*
 * alarm-grafana.c -- Grafana's unified alerting webhook contact point:
 * Alertmanager's message (Grafana embeds Alertmanager) with "version":
 * "1" and more fields (orgId, title, state, message; per alert
 * silenceURL, dashboardURL, panelURL, values), which stay in raw.  One
 * event per alert, keyed by its fingerprint.
 */
#include "config.h"

#include "alarms/alarms-int.h"

const struct alarm_source alarm_source_grafana = {
	.name = "grafana",
	.route = "/v1/alarms/grafana",
	.parse = alarm_am_group
};
