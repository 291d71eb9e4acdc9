/*
 * api-routes.c -- the one routing table of the REST API: method, path
 * pattern, what the body holds, and the handler.
 *
 * Order matters: the first match wins, so fixed segments come before
 * "{param}" at the same depth.  A path that matches no pattern is 404;
 * a path that matches only with other methods is 405 with Allow.
 */
#include "config.h"

#include "api/api-int.h"

#define N	API_BODY_NONE
#define J	API_BODY_JSON
#define T	API_BODY_TEXT
#define PUB	(API_PUBLIC | API_NOSTORE)

const struct api_route api_routes[] = {
	{ "GET", "/", N, PUB, api_console_root,
	  "API versions (JSON); the web console for browsers (HTML)" },
	{ "GET", "/console/{file}", N, PUB, api_console_file,
	  "Web console: static files" },
	{ "GET", "/console/{dir}/{file}", N, PUB, api_console_file,
	  "Web console: static files" },
	{ "GET", "/console/{dir}/{sub}/{file}", N, PUB, api_console_file,
	  "Web console: static files" },
	{ "GET", "/v2/stream", N, API_NOSTORE, api_stream_get,
	  "Live updates (Server-Sent Events); execution_id= narrows" },
	{ "GET", "/v2", N, API_NOSTORE, api_v2, "Version 2 of the API" },
	{ "GET", "/healthz", N, PUB | API_RESERVED, api_healthz, "Liveness" },
	{ "GET", "/readyz", N, API_PUBLIC | API_STOREOPT | API_RESERVED,
	  api_readyz, "Readiness: store reachable and definitions loaded" },
	{ "GET", "/metrics", N, 0, api_metrics, "Prometheus metrics" },
	{ "GET", "/v2/openapi.json", N, API_NOSTORE, api_openapi_get,
	  "This document" },
	{ "GET", "/v2/services", N, API_NOSTORE, api_services,
	  "Not supported (406), as in Mistral without coordination" },

	{ "POST", "/v2/workbooks/validate", T, 0, api_workbook_validate,
	  "Validate a workbook" },
	{ "GET", "/v2/workbooks", N, 0, api_workbook_list, "List workbooks" },
	{ "POST", "/v2/workbooks", T, 0, api_workbook_create,
	  "Create a workbook (YAML)" },
	{ "PUT", "/v2/workbooks", T, 0, api_workbook_update,
	  "Update a workbook (YAML)" },
	{ "GET", "/v2/workbooks/{name}", N, 0, api_workbook_get,
	  "Get a workbook" },
	{ "PUT", "/v2/workbooks/{name}", T, 0, api_workbook_update,
	  "Update a workbook (YAML)" },
	{ "DELETE", "/v2/workbooks/{name}", N, 0, api_workbook_delete,
	  "Delete a workbook" },

	{ "POST", "/v2/workflows/validate", T, 0, api_workflow_validate,
	  "Validate workflows" },
	{ "GET", "/v2/workflows", N, 0, api_workflow_list, "List workflows" },
	{ "POST", "/v2/workflows", T, 0, api_workflow_create,
	  "Create workflows (YAML)" },
	{ "PUT", "/v2/workflows", T, 0, api_workflow_update,
	  "Update workflows (YAML)" },
	{ "GET", "/v2/workflows/{id}/graph", N, 0, api_workflow_graph,
	  "Planned task graph of a workflow" },
	{ "GET", "/v2/workflows/{id}", N, 0, api_workflow_get,
	  "Get a workflow by id or name" },
	{ "PUT", "/v2/workflows/{id}", T, 0, api_workflow_update,
	  "Update a workflow (YAML)" },
	{ "DELETE", "/v2/workflows/{id}", N, 0, api_workflow_delete,
	  "Delete a workflow" },

	{ "POST", "/v2/actions/validate", T, 0, api_action_validate,
	  "Validate ad-hoc actions" },
	{ "GET", "/v2/actions", N, 0, api_action_list,
	  "List actions, built-in and ad-hoc" },
	{ "POST", "/v2/actions", T, 0, api_action_create,
	  "Create ad-hoc actions (YAML)" },
	{ "PUT", "/v2/actions", T, 0, api_action_update,
	  "Update ad-hoc actions (YAML)" },
	{ "GET", "/v2/actions/{name}", N, 0, api_action_get,
	  "Get an action" },
	{ "PUT", "/v2/actions/{name}", T, 0, api_action_update,
	  "Update ad-hoc actions (YAML)" },
	{ "DELETE", "/v2/actions/{name}", N, 0, api_action_delete,
	  "Delete an ad-hoc action" },
	{ "GET", "/v2/actions/{name}/{namespace}", N, 0, api_action_get,
	  "Get an action of a namespace" },
	{ "DELETE", "/v2/actions/{name}/{namespace}", N, 0, api_action_delete,
	  "Delete an ad-hoc action of a namespace" },

	{ "GET", "/v2/executions", N, 0, api_exec_list, "List executions" },
	{ "POST", "/v2/executions", J, 0, api_exec_create,
	  "Start an execution (idempotent with id)" },
	{ "GET", "/v2/executions/{id}", N, 0, api_exec_get,
	  "Get an execution" },
	{ "PUT", "/v2/executions/{id}", J, 0, api_exec_update,
	  "Pause, resume, cancel, end; description; env" },
	{ "DELETE", "/v2/executions/{id}", N, 0, api_exec_delete,
	  "Delete a finished execution (force: any)" },
	{ "GET", "/v2/executions/{id}/tasks", N, 0, api_exec_tasks,
	  "Tasks of an execution" },
	{ "GET", "/v2/executions/{id}/report", N, 0, api_exec_report,
	  "Execution report: tree and statistics" },
	{ "GET", "/v2/executions/{id}/events", N, 0, api_exec_events,
	  "Progress events of an execution" },
	{ "GET", "/v2/executions/{id}/executions", N, 0, api_exec_children,
	  "Sub-workflow executions" },
	{ "GET", "/v2/executions/{id}/graph", N, 0, api_exec_graph,
	  "Task graph of the execution's definition with task states" },

	{ "GET", "/v2/tasks", N, 0, api_task_list, "List tasks" },
	{ "GET", "/v2/tasks/{id}", N, 0, api_task_get, "Get a task" },
	{ "PUT", "/v2/tasks/{id}", J, 0, api_task_rerun,
	  "Re-run a failed task" },
	{ "GET", "/v2/tasks/{id}/action_executions", N, 0, api_task_actions,
	  "Action executions of a task" },
	{ "GET", "/v2/tasks/{id}/executions", N, 0, api_task_children,
	  "Sub-workflow executions of a task (max_depth, errors_only)" },
	{ "GET", "/v2/tasks/{id}/workflow_executions", N, 0,
	  api_task_children, "Sub-workflow executions of a task" },

	{ "GET", "/v2/action_executions", N, 0, api_actex_list,
	  "List action executions" },
	{ "POST", "/v2/action_executions", J, 0, api_actex_run,
	  "Run an action outside a workflow" },
	{ "GET", "/v2/action_executions/{id}", N, 0, api_actex_get,
	  "Get an action execution" },
	{ "PUT", "/v2/action_executions/{id}", J, 0, api_actex_update,
	  "Async action callback: state and output" },
	{ "DELETE", "/v2/action_executions/{id}", N, 0, api_actex_delete,
	  "Delete a finished action execution run outside a workflow" },

	{ "GET", "/v2/environments", N, 0, api_env_list,
	  "List environments" },
	{ "POST", "/v2/environments", J, 0, api_env_create,
	  "Create an environment (name, description, variables, scope)" },
	{ "PUT", "/v2/environments", J, 0, api_env_update,
	  "Update the environment the body names" },
	{ "GET", "/v2/environments/{name}", N, 0, api_env_get,
	  "Get an environment" },
	{ "DELETE", "/v2/environments/{name}", N, 0, api_env_delete,
	  "Delete an environment" },

	{ "GET", "/v2/cron_triggers", N, 0, api_cron_list,
	  "List cron triggers" },
	{ "POST", "/v2/cron_triggers", J, 0, api_cron_create,
	  "Create a cron trigger (pattern, first_execution_time, "
	  "remaining_executions, workflow, input, params)" },
	{ "GET", "/v2/cron_triggers/{name}", N, 0, api_cron_get,
	  "Get a cron trigger by name or id" },
	{ "DELETE", "/v2/cron_triggers/{name}", N, 0, api_cron_delete,
	  "Delete a cron trigger" },

	{ "GET", "/v2/messages", N, 0, api_msg_list,
	  "User messages: why executions and tasks failed" },
	{ "GET", "/v2/messages/{id}", N, 0, api_msg_get, "Get a message" },
	{ "DELETE", "/v2/messages/{id}", N, 0, api_msg_delete,
	  "Delete a message" },
	{ "GET", "/v2/notifications", N, 0, api_outbox_list,
	  "Notifications of notify's events: pending, sent, given up" },
	{ "GET", "/v2/notifications/{id}", N, 0, api_outbox_get,
	  "Get a notification with its body" },
	{ "PUT", "/v2/notifications/{id}", J, 0, api_outbox_update,
	  "Send a given-up notification again ({\"state\": \"PENDING\"})" },

	/*
	 * Alarm sources: each is received at its route (alarm_source_at());
	 * a source elsewhere than /v1/alarms/ gets a line of its own here.
	 * Each authenticates by its own rule, then the API token.
	 */
	{ "GET", "/v1/alarms", N, 0, api_alarm_list,
	  "The decision log: alarms received, with their verdicts" },
	{ "GET", "/v1/alarms/{id}", N, 0, api_alarm_get,
	  "An alarm, its events, each trigger's verdict, the executions" },
	{ "POST", "/v1/alarms/{id}/replay", N, 0, api_alarm_replay,
	  "Decide a stored alarm again (apply=true: for real)" },
	{ "POST", "/v1/alarms/{source}", N, API_PUBLIC | API_STOREOPT |
	  API_BODYCAP, api_alarm_post,
	  "Receive an alarm: stored, then matched against the triggers" },
	{ "GET", "/v1/triggers", N, API_NOSTORE, api_trigger_list,
	  "The triggers in force" },
	{ "GET", "/v1/alarm_auth_failures", N, 0, api_alarm_auth_failures,
	  "Alarm requests refused by their source's authentication" },
	/* Masakari's API (api-masakari.c), also under /v1/{project}. */
	{ "GET", "/v1", N, PUB, api_masakari_version,
	  "Masakari: version document (microversions 1.0 to 1.2)" },
#define MASAKARI_ROUTES(p)						\
	{ "GET", p "/segments", N, 0, api_masakari_segment_list,	\
	  "Masakari: failover segments" },				\
	{ "POST", p "/segments", J, 0, api_masakari_segment_create,	\
	  "Masakari: create a failover segment" },			\
	{ "GET", p "/segments/{id}", N, 0, api_masakari_segment_get,	\
	  "Masakari: a failover segment" },				\
	{ "PUT", p "/segments/{id}", J, 0, api_masakari_segment_update,	\
	  "Masakari: update a failover segment" },			\
	{ "DELETE", p "/segments/{id}", N, 0,				\
	  api_masakari_segment_delete,					\
	  "Masakari: delete a failover segment and its hosts" },	\
	{ "GET", p "/segments/{id}/hosts", N, 0, api_masakari_host_list, \
	  "Masakari: hosts of a segment" },				\
	{ "POST", p "/segments/{id}/hosts", J, 0,			\
	  api_masakari_host_create, "Masakari: add a host" },		\
	{ "GET", p "/segments/{id}/hosts/{host}", N, 0,			\
	  api_masakari_host_get, "Masakari: a host" },			\
	{ "PUT", p "/segments/{id}/hosts/{host}", J, 0,			\
	  api_masakari_host_update, "Masakari: update a host" },	\
	{ "DELETE", p "/segments/{id}/hosts/{host}", N, 0,		\
	  api_masakari_host_delete, "Masakari: delete a host" },	\
	{ "POST", p "/notifications", J, 0,				\
	  api_masakari_notification_create,				\
	  "Masakari: a notification of masakari-monitors" },		\
	{ "GET", p "/notifications", N, 0,				\
	  api_masakari_notification_list, "Masakari: notifications" },	\
	{ "GET", p "/notifications/{id}", N, 0,			\
	  api_masakari_notification_get,				\
	  "Masakari: a notification and its recovery" }
	MASAKARI_ROUTES("/v1"),
	MASAKARI_ROUTES("/v1/{project}"),
#undef MASAKARI_ROUTES
};
const size_t api_nroutes = nitems(api_routes);
