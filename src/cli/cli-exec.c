/*
 * cli-exec.c -- the bora commands on executions: start (and wait for,
 * or watch, what was started), the tasks and events of one, pause,
 * resume, cancel, and re-run of a failed task.  Listing, showing and
 * deleting executions and tasks are the generic commands of
 * cli-client.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

static int	 cli_exec_settled(const char *, const char *);
static int	 cli_exec_state(const char *, const char *, int, char **);
static int	 cli_wait(const char *, double, json_t **);
static int	 cli_exec_summary(json_t *);

/* bora execution start NAME ... */
int
cli_execution_start(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, CLI_OPT_INPUT },
		{ "params", required_argument, NULL, CLI_OPT_PARAMS },
		{ "env", required_argument, NULL, CLI_OPT_ENV },
		{ "task", required_argument, NULL, CLI_OPT_TASK },
		{ "wait", no_argument, NULL, CLI_OPT_WAIT },
		{ "watch", no_argument, NULL, CLI_OPT_WATCH },
		{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },
		CLI_API_LONGOPTS
	};
	const char	*name = self->name, *state, *id, *task = NULL;
	json_t		*input, *items, *params, *env = NULL, *body = NULL;
	json_t		*v = NULL, *w;
	char		*cause, *text = NULL, *end;
	double		 timeout = 0;
	int		 ch, rc = CLI_EXIT_USAGE, wait = 0, watch = 0;

	input = json_object();
	items = json_object();
	params = json_object();
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:" CLI_API_SHORTOPTS,
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
		case CLI_OPT_INPUT:
			if (cli_input_opt(name, ch, input, items) != 0)
				goto out;
			break;
		case CLI_OPT_PARAMS:
			if (cli_read_input(optarg, params, &cause) != 0) {
				rc = cli_usage(name, "--params: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case CLI_OPT_ENV:
			json_decref(env);
			env = json_object();
			if (cli_read_input(optarg, env, &cause) != 0) {
				rc = cli_usage(name, "--env: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case CLI_OPT_TASK:
			task = optarg;
			break;
		case CLI_OPT_WAIT:
			wait = 1;
			break;
		case CLI_OPT_WATCH:
			watch = 1;
			break;
		case CLI_OPT_TIMEOUT:
			timeout = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || timeout <= 0) {
				rc = cli_usage(name, "--timeout: not a number "
				    "of seconds: '%s'", optarg);
				goto out;
			}
			break;
		default:
			if ((rc = cli_api_opt(name, ch, argv)) != 0)
				goto out;
			break;
		}
	}
	if ((rc = cli_one_operand(name, argc, argv, "NAME")) != 0)
		goto out;
	if (wait && watch) {
		rc = cli_usage(name, "--wait and --watch: give one");
		goto out;
	}
	json_object_update(input, items);
	if (env != NULL)
		json_object_set(params, "env", env);
	if (task != NULL)
		json_object_set_new(params, "task_name", json_string(task));

	body = json_object();
	json_object_set_new(body, uuid_valid(argv[optind]) ? "workflow_id" :
	    "workflow_name", json_string(argv[optind]));
	json_object_set_new(body, "description", json_string(""));
	/* Mistral's wire: input and params are JSON text inside the JSON. */
	if (json_object_size(input) != 0) {
		text = json_dumps(input, JSON_COMPACT);
		json_object_set_new(body, "input", json_string_nocheck(text));
		free(text);
		text = NULL;
	}
	if (json_object_size(params) != 0) {
		text = json_dumps(params, JSON_COMPACT);
		json_object_set_new(body, "params", json_string_nocheck(text));
		free(text);
		text = NULL;
	}
	rc = cli_http_json("POST", "/v2/executions", body, &v);
	if (rc != CLI_EXIT_OK)
		goto out;
	id = cli_obj_id(v, NULL);
	state = json_string_value(json_object_get(v, "state"));

	if (watch) {
		if (!cli_quiet && cli_fmt == CLI_FMT_TABLE)
			printf("Started execution %s of %s.\n", id, argv[optind]);
		fflush(stdout);
		rc = cli_watch(id, 1);
		goto out;
	}
	if (!wait) {
		rc = cli_show_change(v, "Started execution %s of %s: %s.", id,
		    argv[optind], state != NULL ? state : "?");
		goto out;
	}

	rc = cli_wait(id, timeout, &w);
	if (w != NULL) {
		json_decref(v);
		v = w;
	}
	if (rc != CLI_EXIT_OK && rc != CLI_EXIT_FAIL)
		goto out;
	state = json_string_value(json_object_get(v, "state"));
	if (cli_exec_summary(v) != CLI_EXIT_OK)
		rc = CLI_EXIT_FAIL;
	else if (!cli_state_final(state)) {
		fprintf(stderr, "bora: execution %s still %s after %gs\n",
		    cli_obj_id(v, NULL), state != NULL ? state : "?", timeout);
		rc = CLI_EXIT_FAIL;
	} else
		rc = cli_state_exit(state);
out:
	json_decref(v);
	json_decref(body);
	json_decref(env);
	json_decref(params);
	json_decref(items);
	json_decref(input);
	free(text);
	return (rc);
}

/*
 * The end of --wait: for people, a line for the execution, its state
 * info and output, then the table of its tasks; for scripts the
 * execution (-f) or its id (-q).
 */
static int
cli_exec_summary(json_t *x)
{
	static const char *const cols[] = {
		"name", "state", "duration", "state_info"
	};
	const char	*info;
	json_t		*v = NULL, *tasks, *out;
	char		*path, d[32];
	int		 rc;

	if (cli_quiet || cli_fmt != CLI_FMT_TABLE)
		return (cli_show_record(x, NULL));
	path = cli_http_path("executions", cli_obj_id(x, NULL),
	    CLI_TASKS_IN_ORDER);
	rc = cli_http("GET", path, NULL, NULL, &v);
	free(path);
	if (rc != CLI_EXIT_OK)
		return (rc);
	tasks = json_is_array(v) ? v : json_object_get(v, "tasks");

	cli_decode_fields(x);
	cli_row_duration(x, d, sizeof d);
	printf("Execution %s  %s  %s %s%s%s\n", cli_obj_id(x, NULL),
	    json_string_value(json_object_get(x, "workflow_name")),
	    cli_state_symbol(json_string_value(json_object_get(x, "state"))),
	    json_string_value(json_object_get(x, "state")),
	    d[0] != '\0' ? "  " : "", d);
	if ((info = json_string_value(json_object_get(x, "state_info"))) !=
	    NULL && *info != '\0')
		printf("  %s\n", info);
	out = json_object_get(x, "output");
	if (out != NULL && !json_is_null(out) && !(json_is_object(out) &&
	    json_object_size(out) == 0)) {
		printf("\nOutput:\n");
		cli_print_json(stdout, out);
	}
	printf("\n");
	cli_add_durations(tasks);
	cli_print_table(stdout, tasks, cols, nitems(cols));
	json_decref(v);
	return (CLI_EXIT_OK);
}

/* bora execution tasks ID */
int
cli_execution_tasks(const struct cli_cmd *self, int argc, char **argv)
{
	static const char *const cols[] = {
		"id", "name", "state", "started_at", "duration", "state_info"
	};
	json_t	*v;
	char	*path;
	int	 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	path = cli_http_path("executions", argv[optind], CLI_TASKS_IN_ORDER);
	rc = cli_http("GET", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_list(v, "tasks", NULL, cols, nitems(cols));
	json_decref(v);
	free(path);
	return (rc);
}

/*
 * Print the events of one task (rows of a group) as the table operators
 * know from Masakari's progress details: request id, action, start time,
 * progress and message.
 */
static void
cli_events_group(const char *title, json_t *rows)
{
	static const char *const cols[] = {
		"request_id", "action", "start_time", "progress", "message"
	};
	json_t	*row, *p;
	size_t	 i;
	char	 pct[16];

	json_array_foreach(rows, i, row) {
		p = json_object_get(row, "progress");
		if (json_is_number(p) && json_number_value(p) >= 0) {
			snprintf(pct, sizeof pct, "%.0f%%",
			    json_number_value(p) * 100);
			json_object_set_new(row, "progress", json_string(pct));
		} else
			json_object_set_new(row, "progress", json_string("-"));
		json_object_set(row, "start_time", json_object_get(row,
		    "time"));
	}
	printf("%s\n", title);
	cli_print_table_cut(stdout, rows, cols, nitems(cols), 1);
}

/*
 * bora execution events ID [--progress]: the events of an execution and
 * of its sub-workflows, one table per task in the order tasks first
 * appear; --progress keeps the messages workflows declare or emit.
 */
int
cli_execution_events(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "progress", no_argument, NULL, CLI_OPT_PROGRESS },
		CLI_API_LONGOPTS
	};
	json_t		*v, *rows, *groups, *row, *g, *kept;
	const char	*task, *id, *key, *kind;
	char		*path, *title;
	size_t		 i;
	int		 ch, rc, first = 1, only = 0;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == CLI_OPT_PROGRESS)
			only = 1;
		else if ((rc = cli_api_opt(self->name, ch, argv)) != 0)
			return (rc);
	}
	if ((rc = cli_one_operand(self->name, argc, argv, "ID")) != 0)
		return (rc);
	path = cli_http_path("executions", argv[optind],
	    "/events?include_children=true");
	rc = cli_http("GET", path, NULL, NULL, &v);
	free(path);
	if (rc != CLI_EXIT_OK)
		return (rc);
	rows = json_is_array(v) ? v : json_object_get(v, "events");
	if (!json_is_array(rows)) {
		fprintf(stderr, "bora: the response has no 'events' list\n");
		json_decref(v);
		return (CLI_EXIT_FAIL);
	}
	kept = json_array();
	json_array_foreach(rows, i, row) {
		kind = json_string_value(json_object_get(row, "kind"));
		if (!only || (kind != NULL && strcmp(kind, "progress") == 0))
			json_array_append(kept, row);
	}
	json_decref(v);
	if (cli_fmt != CLI_FMT_TABLE) {
		rc = cli_show_list(kept, "events", NULL, NULL, 0);
		json_decref(kept);
		return (rc);
	}

	/* Group by task, in the order each task first appears. */
	groups = json_object();
	json_array_foreach(kept, i, row) {
		task = json_string_value(json_object_get(row, "task_name"));
		id = json_string_value(json_object_get(row, "task_id"));
		if (task == NULL)
			xasprintf(&title, "Execution %s", json_string_value(
			    json_object_get(row, "execution_id")));
		else if (id != NULL)
			xasprintf(&title, "Task %s (%s)", task, id);
		else
			xasprintf(&title, "Task %s", task);
		if ((g = json_object_get(groups, title)) == NULL) {
			g = json_array();
			json_object_set_new(groups, title, g);
		}
		json_array_append(g, row);
		free(title);
	}
	json_object_foreach(groups, key, g) {
		if (!first)
			putchar('\n');
		first = 0;
		cli_events_group(key, g);
	}
	if (json_array_size(kept) == 0)
		printf("No events.\n");
	json_decref(groups);
	json_decref(kept);
	return (CLI_EXIT_OK);
}

/* bora execution watch ID [--interval S] */
int
cli_execution_watch(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, CLI_OPT_INTERVAL },
		CLI_API_LONGOPTS
	};
	const char	*name = self->name;
	double		 interval = 1;
	char		*end;
	int		 ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS, longopts, NULL)) != -1) {
		switch (ch) {
		case CLI_OPT_INTERVAL:
			interval = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' ||
			    !(interval >= 0.05 && interval <= 3600)) {
				return (cli_usage(name, "--interval: not a "
				    "number of seconds: '%s'", optarg));
			}
			break;
		default:
			if ((rc = cli_api_opt(name, ch, argv)) != 0)
				return (rc);
			break;
		}
	}
	if ((rc = cli_one_operand(name, argc, argv, "ID")) != 0)
		return (rc);
	return (cli_watch(argv[optind], interval));
}

/* bora execution pause ID */
int
cli_execution_pause(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_exec_state(self->name, "PAUSED", argc, argv));
}

/* bora execution resume ID */
int
cli_execution_resume(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_exec_state(self->name, "RUNNING", argc, argv));
}

/* bora execution cancel ID */
int
cli_execution_cancel(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_exec_state(self->name, "CANCELLED", argc, argv));
}

/* bora execution rerun TASK_ID [--no-reset] */
int
cli_execution_rerun(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-reset", no_argument, NULL, CLI_OPT_NO_RESET },
		CLI_API_LONGOPTS
	};
	const char	*name = self->name, *tname, *xid, *st;
	json_t		*body, *v;
	char		*path;
	int		 ch, rc, reset = 1;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == CLI_OPT_NO_RESET)
			reset = 0;
		else if ((rc = cli_api_opt(name, ch, argv)) != 0)
			return (rc);
	}
	if ((rc = cli_one_operand(name, argc, argv, "TASK_ID")) != 0)
		return (rc);
	body = json_pack("{sssssb}", "id", argv[optind], "state", "RUNNING",
	    "reset", reset);
	path = cli_http_path("tasks", argv[optind], NULL);
	rc = cli_http_json("PUT", path, body, &v);
	if (rc == CLI_EXIT_OK) {
		tname = json_string_value(json_object_get(v, "name"));
		xid = json_string_value(json_object_get(v,
		    "workflow_execution_id"));
		st = json_string_value(json_object_get(v, "state"));
		rc = cli_show_change(v, "Re-running task %s (%s) of execution "
		    "%s: %s.", tname != NULL ? tname : "?", argv[optind],
		    xid != NULL ? xid : "?", st != NULL ? st : "?");
	}
	json_decref(v);
	json_decref(body);
	free(path);
	return (rc);
}

/* Whether an execution in state s has taken the asked state. */
static int
cli_exec_settled(const char *asked, const char *s)
{
	if (s == NULL || cli_state_final(s))
		return (1);
	if (strcmp(asked, "RUNNING") == 0)
		return (strcmp(s, "PAUSED") != 0);
	return (strcmp(asked, s) == 0);
}

/*
 * PUT a new state on an execution and print it.  The engine applies the
 * change in the background, so poll briefly until it shows.
 */
static int
cli_exec_state(const char *name, const char *state, int argc, char **argv)
{
	struct timespec	 ts = { 0, 100 * 1000000 };
	json_t		*body, *v, *w;
	const char	*now;
	char		*path;
	int		 rc, i;

	if ((rc = cli_api_args(name, argc, argv, 1, 1)) != 0)
		return (rc);
	body = json_pack("{ss}", "state", state);
	path = cli_http_path("executions", argv[optind], NULL);
	rc = cli_http_json("PUT", path, body, &v);
	for (i = 0; rc == CLI_EXIT_OK && i < 50; i++) {
		if (cli_exec_settled(state, json_string_value(
		    json_object_get(v, "state"))))
			break;
		nanosleep(&ts, NULL);
		if ((rc = cli_http("GET", path, NULL, NULL, &w)) == 0) {
			json_decref(v);
			v = w;
		}
	}
	if (rc == CLI_EXIT_OK) {
		now = json_string_value(json_object_get(v, "state"));
		rc = cli_show_change(v, "Execution %s is %s.", argv[optind],
		    now != NULL ? now : "?");
	}
	json_decref(v);
	json_decref(body);
	free(path);
	return (rc);
}

/*
 * Poll execution id until it is final or timeout seconds (<= 0: no
 * limit) pass; *out is the last execution seen.  Returns CLI_EXIT_OK
 * when final, CLI_EXIT_FAIL on timeout, or the error of a request.
 */
static int
cli_wait(const char *id, double timeout, json_t **out)
{
	struct timespec	 ts;
	json_t		*v = NULL;
	int64_t		 start, delay = 100;
	char		*path;
	int		 rc;

	*out = NULL;
	path = cli_http_path("executions", id, NULL);
	start = time_mono_ms();
	for (;;) {
		json_decref(v);
		if ((rc = cli_http("GET", path, NULL, NULL, &v)) != 0)
			break;
		if (cli_state_final(json_string_value(json_object_get(v,
		    "state"))))
			break;
		if (timeout > 0 &&
		    time_mono_ms() - start >= (int64_t)(timeout * 1000)) {
			rc = CLI_EXIT_FAIL;
			break;
		}
		ts.tv_sec = delay / 1000;
		ts.tv_nsec = (delay % 1000) * 1000000;
		nanosleep(&ts, NULL);
		if (delay < 1000)
			delay *= 2;
	}
	*out = v;
	free(path);
	return (rc);
}
