/*
 * cli-client.c -- the bora commands that talk to borad's REST API: the
 * table of them, the resources the generic commands work on (list, get,
 * delete, create, update), and the options and output every one of
 * them shares.
 *
 * Each command parses its own options, makes one or a few requests and
 * prints the answer as a table or one line (people), as JSON or YAML
 * (scripts, with -f), or as ids only (-q).  Errors from the API are
 * printed as "bora: <faultstring>" and exit 1; no answer at all exits 3.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

#define CLI_FILTERS_MAX	8	/* filters of one resource */

static const struct option cli_api_longopts[] = { CLI_API_LONGOPTS };

static int	 cli_res_upload(const struct cli_cmd *, const char *, int,
		     char **);

/* ---- resources -------------------------------------------------- */

static const char *const cli_workbook_cols[] = {
	"name", "tags", "scope", "created_at", "updated_at"
};
static const char *const cli_workflow_cols[] = {
	"id", "name", "input", "created_at", "updated_at"
};
static const char *const cli_action_cols[] = {
	"name", "input", "description"
};
static const char *const cli_execution_cols[] = {
	"id", "workflow_name", "state", "created_at", "duration", "state_info"
};
static const char *const cli_task_cols[] = {
	"id", "name", "state", "workflow_execution_id", "duration",
	"state_info"
};
static const char *const cli_actex_cols[] = {
	"id", "name", "task_name", "state", "updated_at", "state_info"
};

static const char *const cli_message_cols[] = {
	"id", "event_id", "resource_type", "resource_uuid", "created_at",
	"user_message"
};
static const char *const cli_notification_cols[] = {
	"id", "event", "execution_id", "state", "attempts", "target",
	"last_error"
};

static const struct cli_filter cli_message_filters[] = {
	{ "event", "event_id", NULL },
	{ "level", "message_level", NULL },
	{ "type", "resource_type", NULL },
	{ "resource", "resource_uuid", NULL },
	{ "request", "request_id", NULL },
	{ "project", "project_id", NULL },
	{ "since", "created_at", "gte:" },
	{ "until", "created_at", "lte:" },
	{ NULL, NULL, NULL }
};
static const struct cli_filter cli_notification_filters[] = {
	{ "execution", "execution_id", NULL },
	{ "state", "state", NULL },
	{ "event", "event", NULL },
	{ NULL, NULL, NULL }
};

static const struct cli_filter cli_execution_filters[] = {
	{ "state", "state", NULL },
	{ "workflow", "workflow_name", NULL },
	{ "task", "task_execution_id", NULL },
	{ NULL, NULL, NULL }
};
static const struct cli_filter cli_task_filters[] = {
	{ "execution", "workflow_execution_id", NULL },
	{ "state", "state", NULL },
	{ "workflow", "workflow_name", NULL },
	{ "name", "name", NULL },
	{ NULL, NULL, NULL }
};
static const struct cli_filter cli_actex_filters[] = {
	{ "task", "task_execution_id", NULL },
	{ "execution", "workflow_execution_id", NULL },
	{ "state", "state", NULL },
	{ "name", "name", NULL },
	{ NULL, NULL, NULL }
};

static const struct cli_res cli_res_workbook = {
	.what = "workbook",
	.coll = "workbooks",
	.idkey = "name",
	.query = "sort_keys=created_at&sort_dirs=asc",
	.filters = NULL,
	.cols = cli_workbook_cols,
	.ncols = nitems(cli_workbook_cols),
	.limit = 0,
	.many = 0,
	.force = 0
};
static const struct cli_res cli_res_workflow = {
	.what = "workflow",
	.coll = "workflows",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=asc",
	.filters = NULL,
	.cols = cli_workflow_cols,
	.ncols = nitems(cli_workflow_cols),
	.limit = 0,
	.many = 1,
	.force = 0
};
static const struct cli_res cli_res_action = {
	.what = "action",
	.coll = "actions",
	.idkey = "name",
	.query = NULL,
	.filters = NULL,
	.cols = cli_action_cols,
	.ncols = nitems(cli_action_cols),
	.limit = 0,
	.many = 1,
	.force = 0
};
static const struct cli_res cli_res_execution = {
	.what = "execution",
	.coll = "executions",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=desc",
	.filters = cli_execution_filters,
	.cols = cli_execution_cols,
	.ncols = nitems(cli_execution_cols),
	.limit = 100,
	.many = 0,
	.force = 1
};
static const struct cli_res cli_res_task = {
	.what = "task",
	.coll = "tasks",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=desc",
	.filters = cli_task_filters,
	.cols = cli_task_cols,
	.ncols = nitems(cli_task_cols),
	.limit = 100,
	.many = 0,
	.force = 0
};
static const struct cli_res cli_res_actex = {
	.what = "action execution",
	.coll = "action_executions",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=desc",
	.filters = cli_actex_filters,
	.cols = cli_actex_cols,
	.ncols = nitems(cli_actex_cols),
	.limit = 100,
	.many = 0,
	.force = 0
};

static const struct cli_res cli_res_message = {
	.what = "message",
	.coll = "messages",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=desc",
	.filters = cli_message_filters,
	.cols = cli_message_cols,
	.ncols = nitems(cli_message_cols),
	.limit = 100,
	.many = 0,
	.force = 0
};
static const struct cli_res cli_res_notification = {
	.what = "notification",
	.coll = "notifications",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=desc",
	.filters = cli_notification_filters,
	.cols = cli_notification_cols,
	.ncols = nitems(cli_notification_cols),
	.limit = 100,
	.many = 0,
	.force = 0
};

/* ---- the commands ----------------------------------------------- */

const struct cli_cmd cli_client_cmds[] = {
	{ "workbook create", "FILE", "Create a workbook from a YAML file",
	  cli_res_create,
	  "Upload FILE (a workbook in the Mistral v2 language) as a new\n"
	  "workbook.  Its workflows and actions become available at once.\n"
	  "Prints one line naming it (-q: its name).\n", &cli_res_workbook },
	{ "workbook update", "FILE", "Store a new version of a workbook",
	  cli_res_update,
	  "Upload FILE as a new version of the workbook it names.  Running\n"
	  "executions keep the version they started with.\n",
	  &cli_res_workbook },
	{ "workbook list", "[--limit N]", "List workbooks", cli_res_list,
	  "List the workbooks, oldest first (-q: their names).\n",
	  &cli_res_workbook },
	{ "workbook get", "NAME", "Show a workbook and its definition",
	  cli_res_get, "Show workbook NAME with its definition.\n",
	  &cli_res_workbook },
	{ "workbook delete", "NAME", "Delete a workbook", cli_res_delete,
	  "Delete workbook NAME and the workflows it defines.\n",
	  &cli_res_workbook },

	{ "workflow create", "FILE", "Create workflows from a YAML file",
	  cli_res_create,
	  "Upload FILE, which may define several workflows, and list the\n"
	  "workflows created.\n", &cli_res_workflow },
	{ "workflow update", "FILE", "Store new versions of workflows",
	  cli_res_update,
	  "Upload FILE as new versions of the workflows it defines.\n",
	  &cli_res_workflow },
	{ "workflow list", "[--limit N]", "List workflows", cli_res_list,
	  "List the workflows, oldest first.\n", &cli_res_workflow },
	{ "workflow get", "NAME", "Show a workflow and its definition",
	  cli_res_get, "Show workflow NAME (a name or an id).\n",
	  &cli_res_workflow },
	{ "workflow delete", "NAME", "Delete a workflow", cli_res_delete,
	  "Delete workflow NAME (a name or an id).\n", &cli_res_workflow },

	{ "execution start",
	  "NAME [-i key=value]... [--input JSON] [--params JSON] [--env JSON]"
	  " [--task TARGET] [--wait | --watch] [--timeout S]",
	  "Start an execution of a workflow", cli_execution_start,
	  "Start workflow NAME (a name or an id).  Prints one line with the\n"
	  "new execution's id (-q: the id alone; -f json|yaml: the\n"
	  "execution).\n"
	  "\n"
	  "Options:\n"
	  "  -i key=value    an input value; the value is read as JSON when\n"
	  "                  it parses (42, true, [1,2], {\"a\":1}), else it\n"
	  "                  is a string; may be repeated\n"
	  "  --input JSON    the input as a JSON object; -i values override\n"
	  "  --params JSON   the execution parameters as a JSON object, as\n"
	  "                  Mistral takes them (env, task_name, ...)\n"
	  "  --env JSON      the environment (env()) as a JSON object; the\n"
	  "                  same as params' env\n"
	  "  --task TARGET   the target task of a reverse workflow; the\n"
	  "                  same as params' task_name\n"
	  "  --wait          wait until the execution ends, then print it and\n"
	  "                  its tasks as a table; exit 0 on SUCCESS, 1 on\n"
	  "                  ERROR or CANCELLED\n"
	  "  --watch         follow it live as 'execution watch' does, and\n"
	  "                  exit as with --wait\n"
	  "  --timeout S     with --wait, give up after S seconds (exit 1)\n",
	  NULL },
	{ "execution list",
	  "[--state S] [--workflow W] [--task TASK_ID] [--limit N]",
	  "List executions, newest first", cli_res_list,
	  "List executions, newest first.\n"
	  "\n"
	  "Options:\n"
	  "  --state S       only executions in state S (RUNNING, SUCCESS,\n"
	  "                  ERROR, PAUSED, CANCELLED)\n"
	  "  --workflow W    only executions of workflow W\n"
	  "  --task TASK_ID  only the sub-workflow executions of a task\n"
	  "  --limit N       at most N executions (default 100)\n",
	  &cli_res_execution },
	{ "execution get", "ID", "Show an execution", cli_res_get,
	  "Show execution ID with its input, output and parameters.\n",
	  &cli_res_execution },
	{ "execution tasks", "ID", "List the tasks of an execution",
	  cli_execution_tasks,
	  "List the tasks of execution ID in the order they started, with\n"
	  "their states and durations.\n", NULL },
	{ "execution events", "ID [--progress]",
	  "Show the progress events of an execution", cli_execution_events,
	  "Show the progress events of execution ID and of its sub-workflows:\n"
	  "one table per task of request id, action, start time, progress and\n"
	  "message, in the order the tasks started.\n"
	  "  --progress      only the messages workflows declare or emit\n",
	  NULL },
	{ "execution watch", "ID [--interval S]",
	  "Follow an execution live until it ends", cli_execution_watch,
	  "Show execution ID as a tree of tasks (and sub-workflows) with\n"
	  "state symbols and durations until it ends.  On a terminal the\n"
	  "tree is redrawn in place, with the last event under it;\n"
	  "otherwise each event of the execution and of its sub-workflows is\n"
	  "a line stamped with the time it happened, so the output reads as\n"
	  "a log.  Exit 0 when it ends in SUCCESS, 1 on ERROR or CANCELLED.\n"
	  "\n"
	  "Options:\n"
	  "  --interval S    seconds between polls (default 1)\n", NULL },
	{ "execution pause", "ID", "Pause a running execution",
	  cli_execution_pause,
	  "Pause execution ID: running tasks finish, no new task starts.\n"
	  "Prints one line with its state.\n", NULL },
	{ "execution resume", "ID", "Resume a paused execution",
	  cli_execution_resume,
	  "Resume the paused execution ID.  Prints one line with its state.\n",
	  NULL },
	{ "execution cancel", "ID", "Cancel an execution",
	  cli_execution_cancel,
	  "Cancel execution ID; it ends at once in state CANCELLED.\n", NULL },
	{ "execution rerun", "TASK_ID [--no-reset]",
	  "Re-run a failed task and resume its execution", cli_execution_rerun,
	  "Run the failed task TASK_ID again and resume its execution.\n"
	  "\n"
	  "Options:\n"
	  "  --no-reset      for a with-items task, run only the failed\n"
	  "                  items again instead of all of them\n", NULL },
	{ "execution delete", "ID [--force]", "Delete an execution",
	  cli_res_delete,
	  "Delete execution ID, which must have ended, with its tasks and\n"
	  "action executions.\n"
	  "\n"
	  "Options:\n"
	  "  --force         cancel it first if it is still running\n",
	  &cli_res_execution },

	{ "task list",
	  "[--execution ID] [--state S] [--workflow W] [--name N] [--limit N]",
	  "List tasks, newest first", cli_res_list,
	  "List tasks of all executions, newest first.\n"
	  "\n"
	  "Options:\n"
	  "  --execution ID  only the tasks of execution ID\n"
	  "  --state S       only tasks in state S\n"
	  "  --workflow W    only tasks of workflow W\n"
	  "  --name N        only tasks named N\n"
	  "  --limit N       at most N tasks (default 100)\n", &cli_res_task },
	{ "task get", "ID", "Show a task with its result", cli_res_get,
	  "Show task ID with its result and published values.\n",
	  &cli_res_task },

	{ "action create", "FILE", "Create ad-hoc actions from a YAML file",
	  cli_res_create,
	  "Upload FILE, Mistral's file of ad-hoc actions (version: '2.0' and\n"
	  "the actions by name), and list the actions created.\n",
	  &cli_res_action },
	{ "action update", "FILE", "Store new versions of ad-hoc actions",
	  cli_res_update,
	  "Upload FILE as new versions of the ad-hoc actions it defines.\n",
	  &cli_res_action },
	{ "action list", "[--limit N]", "List the actions", cli_res_list,
	  "List the actions: built-in (std.*), from catalogs, and ad-hoc.\n",
	  &cli_res_action },
	{ "action get", "NAME", "Show an action", cli_res_get,
	  "Show action NAME: its input, description and, for an ad-hoc\n"
	  "action, its definition.\n", &cli_res_action },
	{ "action delete", "NAME", "Delete an ad-hoc action", cli_res_delete,
	  "Delete the ad-hoc action NAME.\n", &cli_res_action },
	{ "action run", "NAME [-i key=value]... [--input JSON]",
	  "Run one action and print its result", cli_action_run,
	  "Run action NAME once, outside any workflow, and print the action\n"
	  "execution with its output.  Exit 1 when the action fails.\n"
	  "\n"
	  "Options:\n"
	  "  -i key=value    an input value (JSON when it parses, else a\n"
	  "                  string); may be repeated\n"
	  "  --input JSON    the input as a JSON object\n", NULL },

	{ "action-execution list",
	  "[--task ID] [--execution ID] [--state S] [--name N] [--limit N]",
	  "List action executions, newest first", cli_res_list,
	  "List action executions (one per attempt and per item of a task,\n"
	  "and one per 'action run'), newest first.\n"
	  "\n"
	  "Options:\n"
	  "  --task ID       only those of task ID\n"
	  "  --execution ID  only those of execution ID\n"
	  "  --state S       only those in state S\n"
	  "  --name N        only runs of action N\n"
	  "  --limit N       at most N (default 100)\n", &cli_res_actex },
	{ "action-execution get", "ID", "Show an action execution",
	  cli_res_get,
	  "Show action execution ID with its input and output.\n",
	  &cli_res_actex },

	{ "message list",
	  "[--event ID] [--level L] [--type T] [--resource UUID]"
	  " [--request ID] [--project ID] [--since TIME] [--until TIME]"
	  " [--limit N]",
	  "List what users are told, newest first", cli_res_list,
	  "List user messages: why an execution or a task failed, a lock or\n"
	  "a callback that never came, a notification given up; newest\n"
	  "first.  Each has an event id of the catalog (BORA-EXE-001, ...),\n"
	  "the resource it is about and the request that started the work.\n"
	  "\n"
	  "Options:\n"
	  "  --event ID      only messages of event id ID\n"
	  "  --level L       only ERROR or WARNING ones\n"
	  "  --type T        only those about a resource type (execution,\n"
	  "                  task, notification, ...)\n"
	  "  --resource UUID only those about that resource\n"
	  "  --request ID    only those of the work request ID started\n"
	  "  --project ID    only those of project ID\n"
	  "  --since TIME    made at or after TIME (YYYY-MM-DD HH:MM:SS,\n"
	  "                  UTC, or ISO 8601)\n"
	  "  --until TIME    made at or before TIME\n"
	  "  --limit N       at most N messages (default 100)\n",
	  &cli_res_message },
	{ "message get", "ID", "Show a message", cli_res_get,
	  "Show message ID.\n", &cli_res_message },
	{ "message delete", "ID", "Delete a message", cli_res_delete,
	  "Delete message ID (messages also go when they expire).\n",
	  &cli_res_message },

	{ "notification list",
	  "[--execution ID] [--state S] [--event E] [--limit N]",
	  "List notifications of executions' events, newest first",
	  cli_res_list,
	  "List the notifications of executions' events (notify): PENDING\n"
	  "until their receiver takes them, SENT, or DEAD when given up.\n"
	  "\n"
	  "Options:\n"
	  "  --execution ID  only those of execution ID\n"
	  "  --state S       only PENDING, SENT or DEAD ones\n"
	  "  --event E       only event E (WORKFLOW_FAILED, ...)\n"
	  "  --limit N       at most N (default 100)\n",
	  &cli_res_notification },
	{ "notification get", "ID", "Show a notification with its body",
	  cli_res_get, "Show notification ID with the body it sends.\n",
	  &cli_res_notification },
	{ "notification retry", "ID", "Send a given-up notification again",
	  cli_notification_retry,
	  "Send notification ID, given up (DEAD), again: it is PENDING with\n"
	  "its attempts counted from zero.  Prints one line (-q: its id).\n",
	  NULL },

	{ "alarm send", "SOURCE FILE [-H 'Name: value']...",
	  "Send an alarm to borad as SOURCE would", cli_alarm_send,
	  "Post FILE (a payload as SOURCE sends it: alertmanager, aodh,\n"
	  "vitrage, grafana, zabbix or generic; - for stdin) to borad's\n"
	  "route for SOURCE, and print the verdict of each trigger on each\n"
	  "event: which executions started, which events were duplicates\n"
	  "or limited, and why the other triggers did not start.  The alarm\n"
	  "is stored before it is matched.  Exit 0 when borad took it, 1\n"
	  "when it refused the payload or the credentials.\n"
	  "\n"
	  "Options:\n"
	  "  -H 'Name: value'  a request header, such as a source's\n"
	  "                    credentials (then --token is not sent) or\n"
	  "                    Idempotency-Key; may be repeated\n", NULL },
	{ "alarm list",
	  "[--source S] [--status S] [--state S] [--verdict V] [--since T]"
	  " [--until T] [--limit N]", "List alarms received, newest first", cli_res_list,
	  "List the alarms borad received, newest first, with the verdicts\n"
	  "their events reached (the decision log).\n"
	  "\n"
	  "Options:\n"
	  "  --source S      only alarms of source S\n"
	  "  --status S      firing, resolved (every event), or none for\n"
	  "                  invalid payloads; --state invalid lists those\n"
	  "  --state S       received (not decided yet), decided or invalid\n"
	  "  --verdict V     only alarms where some trigger reached V\n"
	  "                  (started, duplicate, when_false, limited,\n"
	  "                  resolved_ignored, cancelled, failed)\n"
	  "  --since T       received at T or later (YYYY-MM-DD HH:MM:SS,\n"
	  "                  ISO 8601 or ms since the epoch; UTC)\n"
	  "  --until T       received before T\n"
	  "  --limit N       at most N alarms (default 100)\n",
	  &cli_res_alarm },
	{ "alarm get", "ID", "Show an alarm: its events, verdicts and "
	  "executions", cli_alarm_get,
	  "Show alarm ID: where it came from, then a table of each trigger's\n"
	  "verdict on each event (event, trigger, verdict, execution) with\n"
	  "the reasons, and the executions it started.\n", NULL },
	{ "alarm replay", "ID [--apply]",
	  "Decide a stored alarm again against today's triggers",
	  cli_alarm_replay,
	  "Match the stored alarm ID again against the triggers in force now\n"
	  "and print the verdicts, without changing anything: a dry run.\n"
	  "Duplicates and limits are judged against what the store holds now.\n"
	  "\n"
	  "Options:\n"
	  "  --apply         decide it for real: a new alarm (replay of ID)\n"
	  "                  is stored and its executions start\n", NULL },
	{ "trigger list", "", "List the triggers in force", cli_trigger_list,
	  "List the triggers of the workbooks borad has loaded: the sources\n"
	  "each listens to, the workflow it starts and how it holds back\n"
	  "repeats (once-within, until-resolved, limit) and resolutions.\n",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

/* ---- options and output ----------------------------------------- */

/* Handle an option every API command takes; CLI_EXIT_USAGE if bad. */
int
cli_api_opt(const char *name, int ch, char **argv)
{
	int	 fmt;

	switch (ch) {
	case 'f':
		if ((fmt = cli_format_parse(optarg)) == -1) {
			return (cli_usage(name, "unknown format '%s' "
			    "(table, json or yaml)", optarg));
		}
		cli_fmt = fmt;
		return (0);
	case 'q':
		cli_quiet = 1;
		return (0);
	case CLI_OPT_URL:
		cli_url = optarg;
		return (0);
	case CLI_OPT_TOKEN:
		cli_token = optarg;
		return (0);
	case ':':
		return (cli_usage(name, "option '%s' needs a value",
		    argv[optind - 1]));
	default:
		if (optopt != 0 && optopt < 256)
			return (cli_usage(name, "unknown option '-%c'",
			    optopt));
		return (cli_usage(name, "unknown option '%s'",
		    argv[optind - 1]));
	}
}

/*
 * Parse the options of a command that takes only the common ones and
 * check it got between min and max operands; optind is left at the
 * first.  Returns 0 or CLI_EXIT_USAGE.
 */
int
cli_api_args(const char *name, int argc, char **argv, int min, int max)
{
	int	 ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS,
	    cli_api_longopts, NULL)) != -1) {
		if ((rc = cli_api_opt(name, ch, argv)) != 0)
			return (rc);
	}
	if (argc - optind < min)
		return (cli_usage(name, "missing argument"));
	if (argc - optind > max) {
		return (cli_usage(name, "unexpected argument '%s'",
		    argv[optind + max]));
	}
	return (0);
}

/* Check that exactly one operand (what) is left after the options. */
int
cli_one_operand(const char *name, int argc, char **argv, const char *what)
{
	if (argc - optind < 1)
		return (cli_usage(name, "missing %s", what));
	if (argc - optind > 1)
		return (cli_usage(name, "unexpected argument '%s'",
		    argv[optind + 1]));
	return (0);
}

/* Field idkey ("id" when NULL) of an object, else its name; or "". */
const char *
cli_obj_id(json_t *obj, const char *idkey)
{
	const char	*s;

	s = json_string_value(json_object_get(obj, idkey != NULL ? idkey :
	    "id"));
	if (s == NULL)
		s = json_string_value(json_object_get(obj, "name"));
	return (s != NULL ? s : "");
}

/* Print the array under key of a list reply: table, data or ids. */
int
cli_show_list(json_t *reply, const char *key, const char *idkey,
    const char *const *cols, size_t ncols)
{
	json_t	*rows, *row;
	size_t	 i;

	rows = json_is_array(reply) ? reply : json_object_get(reply, key);
	if (!json_is_array(rows)) {
		fprintf(stderr, "bora: the response has no '%s' list\n", key);
		return (CLI_EXIT_FAIL);
	}
	if (cli_quiet) {
		json_array_foreach(rows, i, row)
			printf("%s\n", cli_obj_id(row, idkey));
		return (CLI_EXIT_OK);
	}
	cli_decode_fields(rows);
	switch (cli_fmt) {
	case CLI_FMT_JSON:
		cli_print_json(stdout, rows);
		break;
	case CLI_FMT_YAML:
		cli_print_yaml(stdout, rows);
		break;
	default:
		cli_add_durations(rows);
		cli_print_table(stdout, rows, cols, ncols);
		break;
	}
	return (CLI_EXIT_OK);
}

/* Print one object as a record, as data, or its id. */
int
cli_show_record(json_t *obj, const char *idkey)
{
	if (cli_quiet) {
		printf("%s\n", cli_obj_id(obj, idkey));
		return (CLI_EXIT_OK);
	}
	cli_decode_fields(obj);
	switch (cli_fmt) {
	case CLI_FMT_JSON:
		cli_print_json(stdout, obj);
		break;
	case CLI_FMT_YAML:
		cli_print_yaml(stdout, obj);
		break;
	default:
		if (json_is_object(obj))
			cli_print_record(stdout, obj);
		else
			cli_print_json(stdout, obj);
		break;
	}
	return (CLI_EXIT_OK);
}

/* A change made to obj: one line, the object as data, or its id. */
int
cli_show_change(json_t *obj, const char *fmt, ...)
{
	va_list	 ap;

	if (cli_quiet || cli_fmt != CLI_FMT_TABLE)
		return (cli_show_record(obj, NULL));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return (CLI_EXIT_OK);
}

/* Merge the JSON object in text s into obj. */
int
cli_read_input(const char *s, json_t *obj, char **cause)
{
	json_error_t	 jerr;
	json_t		*v;

	if ((v = json_loads(s, JSON_DECODE_ANY, &jerr)) == NULL) {
		xasprintf(cause, "not valid JSON: %s (column %d)", jerr.text,
		    jerr.column);
		return (-1);
	}
	if (!json_is_object(v)) {
		xasprintf(cause, "not a JSON object");
		json_decref(v);
		return (-1);
	}
	json_object_update(obj, v);
	json_decref(v);
	return (0);
}

/* -i key=value into items, or --input JSON into input. */
int
cli_input_opt(const char *name, int ch, json_t *input, json_t *items)
{
	char	*cause;
	int	 rc;

	if (ch == 'i' && cli_parse_kv(items, optarg, &cause) != 0) {
		rc = cli_usage(name, "-i: %s", cause);
		free(cause);
		return (rc);
	}
	if (ch != 'i' && cli_read_input(optarg, input, &cause) != 0) {
		rc = cli_usage(name, "--input: %s", cause);
		free(cause);
		return (rc);
	}
	return (0);
}

/* Whether an execution or task state is final. */
int
cli_state_final(const char *s)
{
	return (s != NULL && (strcmp(s, "SUCCESS") == 0 ||
	    strcmp(s, "ERROR") == 0 || strcmp(s, "CANCELLED") == 0));
}

/* Exit status of a final state: 0 for SUCCESS, else 1. */
int
cli_state_exit(const char *s)
{
	return (s != NULL && strcmp(s, "SUCCESS") == 0 ?
	    CLI_EXIT_OK : CLI_EXIT_FAIL);
}

/* Seconds since the epoch of an API time; -1 when it does not parse. */
static long
cli_time_parse(const char *s)
{
	struct tm	 tm;
	time_t		 t;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%d-%d-%d%*1[ T]%d:%d:%d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec) != 6)
		return (-1);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return (-1);
	return ((long)t);
}

/* Seconds from one API time to another (NULL: now); -1 if unknown. */
long
cli_time_diff(const char *from, const char *to)
{
	long	 a, b;

	if ((a = cli_time_parse(from)) == -1)
		return (-1);
	b = to == NULL ? (long)time(NULL) : cli_time_parse(to);
	if (b == -1)
		return (-1);
	return (b < a ? 0 : b - a);
}

/* A duration for people: "12s", "3m05s", "1h02m", "2d03h". */
void
cli_duration(long s, char *out, size_t len)
{
	if (s < 0)
		snprintf(out, len, "-");
	else if (s < 60)
		snprintf(out, len, "%lds", s);
	else if (s < 3600)
		snprintf(out, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(out, len, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
}

/* The duration of a task or execution row into d; "" when unknown. */
void
cli_row_duration(json_t *row, char *d, size_t len)
{
	const char	*from, *to, *state;

	d[0] = '\0';
	state = json_string_value(json_object_get(row, "state"));
	from = json_string_value(json_object_get(row, "started_at"));
	to = json_string_value(json_object_get(row, "finished_at"));
	if (from == NULL) {
		from = json_string_value(json_object_get(row, "created_at"));
		if (cli_state_final(state))
			to = json_string_value(json_object_get(row,
			    "updated_at"));
	}
	if (from == NULL || (to == NULL && cli_state_final(state)))
		return;
	cli_duration(cli_time_diff(from, to), d, len);
}

/* Add a "duration" to each task or execution row (tables only). */
void
cli_add_durations(json_t *rows)
{
	json_t	*row;
	size_t	 i;
	char	 d[32];

	json_array_foreach(rows, i, row) {
		cli_row_duration(row, d, sizeof d);
		if (d[0] != '\0')
			json_object_set_new(row, "duration", json_string(d));
	}
}

/* ---- the generic commands --------------------------------------- */

/*
 * bora <resource> list [--FILTER VALUE]... [--limit N]: the resource's
 * filters are its options, each adding its parameter to the query.
 */
int
cli_res_list(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option api[] = { CLI_API_LONGOPTS };
	const struct cli_res	*r = self->data;
	struct option		 longopts[CLI_FILTERS_MAX + nitems(api) + 1];
	const char		*values[CLI_FILTERS_MAX];
	struct buf		 path;
	json_t			*v = NULL;
	char			*e, *end;
	size_t			 n = 0, i;
	long			 limit = r->limit;
	int			 ch, rc;

	memset(values, 0, sizeof values);
	for (i = 0; r->filters != NULL && r->filters[i].opt != NULL; i++) {
		assert(n < CLI_FILTERS_MAX);
		longopts[n].name = r->filters[i].opt;
		longopts[n].has_arg = required_argument;
		longopts[n].flag = NULL;
		longopts[n].val = CLI_OPT_FILTER + (int)i;
		n++;
	}
	longopts[n].name = "limit";
	longopts[n].has_arg = required_argument;
	longopts[n].flag = NULL;
	longopts[n].val = CLI_OPT_LIMIT;
	n++;
	memcpy(&longopts[n], api, sizeof api);

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch >= CLI_OPT_FILTER &&
		    ch < CLI_OPT_FILTER + CLI_FILTERS_MAX) {
			values[ch - CLI_OPT_FILTER] = optarg;
			continue;
		}
		if (ch == CLI_OPT_LIMIT) {
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    limit < 1 || limit > 100000) {
				return (cli_usage(self->name, "--limit: not a "
				    "positive number: '%s'", optarg));
			}
			continue;
		}
		if ((rc = cli_api_opt(self->name, ch, argv)) != 0)
			return (rc);
	}
	if (optind != argc)
		return (cli_usage(self->name, "unexpected argument '%s'",
		    argv[optind]));

	buf_init(&path, 0);
	buf_printf(&path, "%s/%s?%s", r->base != NULL ? r->base : "/v2",
	    r->coll, r->query != NULL ? r->query : "");
	if (limit > 0)
		buf_printf(&path, "&limit=%ld", limit);
	for (i = 0; r->filters != NULL && r->filters[i].opt != NULL; i++) {
		if (values[i] == NULL)
			continue;
		e = cli_http_escape(values[i]);
		buf_printf(&path, "&%s=%s%s", r->filters[i].param,
		    r->filters[i].prefix != NULL ? r->filters[i].prefix : "",
		    e);
		free(e);
	}
	rc = cli_http("GET", path.data, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_list(v, r->coll, r->idkey, r->cols, r->ncols);
	json_decref(v);
	buf_free(&path);
	return (rc);
}

/* bora <resource> get ID */
int
cli_res_get(const struct cli_cmd *self, int argc, char **argv)
{
	const struct cli_res	*r = self->data;
	json_t			*v;
	char			*path;
	int			 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	path = cli_http_path(r->coll, argv[optind], NULL);
	rc = cli_http("GET", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_record(v, r->idkey);
	json_decref(v);
	free(path);
	return (rc);
}

/* bora <resource> delete ID [--force] */
int
cli_res_delete(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, CLI_OPT_FORCE },
		CLI_API_LONGOPTS
	};
	const struct cli_res	*r = self->data;
	json_t			*v;
	char			*path, *p;
	int			 ch, rc, force = 0;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS,
	    r->force ? longopts : longopts + 1, NULL)) != -1) {
		if (ch == CLI_OPT_FORCE)
			force = 1;
		else if ((rc = cli_api_opt(self->name, ch, argv)) != 0)
			return (rc);
	}
	if ((rc = cli_one_operand(self->name, argc, argv, "argument")) != 0)
		return (rc);
	path = cli_http_path(r->coll, argv[optind], NULL);
	if (force) {
		xasprintf(&p, "%s?force=true", path);
		free(path);
		path = p;
	}
	rc = cli_http("DELETE", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK) {
		if (cli_quiet)
			printf("%s\n", argv[optind]);
		else if (cli_fmt == CLI_FMT_TABLE)
			printf("Deleted %s %s.\n", r->what, argv[optind]);
	}
	json_decref(v);
	free(path);
	return (rc);
}

/* POST or PUT definition FILE as text/plain to /v2/<coll>; report it. */
static int
cli_res_upload(const struct cli_cmd *self, const char *method, int argc,
    char **argv)
{
	const struct cli_res	*r = self->data;
	json_t			*v = NULL;
	char			*text, *cause, *path;
	int			 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	if ((text = file_read(argv[optind], CLI_FILE_MAX, NULL,
	    &cause)) == NULL) {
		fprintf(stderr, "bora: %s\n", cause);
		free(cause);
		return (CLI_EXIT_FAIL);
	}
	xasprintf(&path, "/v2/%s", r->coll);
	rc = cli_http(method, path, "text/plain", text, &v);
	if (rc == CLI_EXIT_OK) {
		if (r->many && json_object_get(v, r->coll) != NULL)
			rc = cli_show_list(v, r->coll, r->idkey, r->cols,
			    r->ncols);
		else if (cli_quiet || cli_fmt != CLI_FMT_TABLE)
			rc = cli_show_record(v, r->idkey);
		else
			printf("%s %s %s.\n", strcmp(method, "POST") == 0 ?
			    "Created" : "Updated", r->what,
			    cli_obj_id(v, r->idkey));
	}
	json_decref(v);
	free(path);
	free(text);
	return (rc);
}

/* bora <resource> create FILE */
int
cli_res_create(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_res_upload(self, "POST", argc, argv));
}

/* bora <resource> update FILE */
int
cli_res_update(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_res_upload(self, "PUT", argc, argv));
}
