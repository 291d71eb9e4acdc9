/*
 * cli-mistral.c -- "bora environment ..." and "bora cron ...": the
 * environments and cron triggers of Mistral's API.  Listing, showing
 * and deleting are the generic commands of cli-client.c; creating an
 * environment sends a file (JSON or YAML: name, description,
 * variables), creating a cron trigger takes options.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

static int	 cli_env_save(const struct cli_cmd *, int, char **);
static int	 cli_cron_create(const struct cli_cmd *, int, char **);

static const char *const cli_env_cols[] = {
	"name", "description", "scope", "created_at", "updated_at"
};
static const char *const cli_cron_cols[] = {
	"name", "workflow_name", "pattern", "next_execution_time",
	"remaining_executions"
};

static const struct cli_res cli_res_env = {
	.what = "environment",
	.coll = "environments",
	.idkey = "name",
	.query = "sort_keys=created_at&sort_dirs=asc",
	.cols = cli_env_cols,
	.ncols = nitems(cli_env_cols)
};
static const struct cli_res cli_res_cron = {
	.what = "cron trigger",
	.coll = "cron_triggers",
	.idkey = "name",
	.query = "sort_keys=created_at&sort_dirs=asc",
	.cols = cli_cron_cols,
	.ncols = nitems(cli_cron_cols)
};

const struct cli_cmd cli_mistral_cmds[] = {
	{ "environment create", "FILE", "Create an environment",
	  cli_env_save,
	  "Create the environment FILE describes (JSON or YAML: name,\n"
	  "description, variables).  An execution started with params\n"
	  "{\"env\": NAME} gets its variables as env().\n", &cli_res_env },
	{ "environment update", "FILE", "Update an environment",
	  cli_env_save,
	  "Update the environment FILE names: its description, variables\n"
	  "(replaced as a whole) and scope, those FILE gives.\n",
	  &cli_res_env },
	{ "environment list", "[--limit N]", "List environments",
	  cli_res_list, "List the environments, oldest first (-q: names).\n",
	  &cli_res_env },
	{ "environment get", "NAME", "Show an environment", cli_res_get,
	  "Show environment NAME with its variables.\n", &cli_res_env },
	{ "environment delete", "NAME", "Delete an environment",
	  cli_res_delete, "Delete environment NAME.\n", &cli_res_env },

	{ "cron create",
	  "NAME WORKFLOW [--pattern P] [--first-time T] [--count N] "
	  "[-i key=value]... [--input JSON] [--params JSON]",
	  "Start a workflow on a schedule", cli_cron_create,
	  "Create cron trigger NAME: WORKFLOW starts with the input given at\n"
	  "each tick of P, from T on, N times (or for ever).  Ticks are in\n"
	  "UTC; a tick missed while no borad ran fires once at start.\n"
	  "\n"
	  "Options:\n"
	  "  --pattern P     cron pattern: 5 fields (minute hour day month\n"
	  "                  weekday) or 6 (and seconds), or @hourly...\n"
	  "  --first-time T  the first tick, \"YYYY-MM-DD HH:MM\" (UTC), at\n"
	  "                  least a minute ahead\n"
	  "  --count N       fire N times, then the trigger is deleted\n"
	  "  -i key=value    an input value (JSON when it parses); repeated\n"
	  "  --input JSON    the input as a JSON object\n"
	  "  --params JSON   execution params, e.g. {\"env\": \"cloud1\"}\n",
	  &cli_res_cron },
	{ "cron list", "[--limit N]", "List cron triggers", cli_res_list,
	  "List the cron triggers with their next tick (-q: names).\n",
	  &cli_res_cron },
	{ "cron get", "NAME", "Show a cron trigger", cli_res_get,
	  "Show cron trigger NAME.\n", &cli_res_cron },
	{ "cron delete", "NAME", "Delete a cron trigger", cli_res_delete,
	  "Delete cron trigger NAME: it fires no more.\n", &cli_res_cron },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

/* bora environment create|update FILE */
static int
cli_env_save(const struct cli_cmd *self, int argc, char **argv)
{
	const struct cli_res	*r = self->data;
	json_t			*body, *v = NULL, *vars;
	char			*cause = NULL, *text;
	int			 rc, create;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	create = strcmp(self->name, "environment create") == 0;
	if ((body = yaml_load_file(argv[optind], CLI_FILE_MAX,
	    &cause)) == NULL || !json_is_object(body)) {
		fprintf(stderr, "bora: %s\n", cause != NULL ? cause :
		    "the file must hold a mapping (name, variables)");
		free(cause);
		json_decref(body);
		return (CLI_EXIT_FAIL);
	}
	if (!json_is_string(json_object_get(body, "name"))) {
		fprintf(stderr, "bora: %s: no name\n", argv[optind]);
		json_decref(body);
		return (CLI_EXIT_FAIL);
	}
	/* Mistral sends the variables as a JSON string. */
	if ((vars = json_object_get(body, "variables")) != NULL &&
	    !json_is_string(vars)) {
		text = json_dumps(vars, JSON_COMPACT | JSON_ENCODE_ANY);
		json_object_set_new(body, "variables", json_string(text));
		free(text);
	}
	rc = cli_http_json(create ? "POST" : "PUT", "/v2/environments", body,
	    &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_change(v, "%s %s %s.", create ? "Created" :
		    "Updated", r->what, cli_obj_id(v, r->idkey));
	json_decref(v);
	json_decref(body);
	return (rc);
}

/* bora cron create NAME WORKFLOW [options] */
static int
cli_cron_create(const struct cli_cmd *self, int argc, char **argv)
{
	enum { OPT_PATTERN = CLI_OPT_FILTER + 100, OPT_FIRST, OPT_COUNT };
	static const struct option longopts[] = {
		{ "pattern", required_argument, NULL, OPT_PATTERN },
		{ "first-time", required_argument, NULL, OPT_FIRST },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "input", required_argument, NULL, CLI_OPT_INPUT },
		{ "params", required_argument, NULL, CLI_OPT_PARAMS },
		CLI_API_LONGOPTS
	};
	const char	*name = self->name, *pattern = NULL, *first = NULL;
	json_t		*input, *items, *params = NULL, *body = NULL, *v = NULL;
	char		*end, *text, *cause = NULL;
	long		 count = 0;
	int		 ch, rc = CLI_EXIT_USAGE;

	input = json_object();
	items = json_object();
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:" CLI_API_SHORTOPTS,
	    longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PATTERN:
			pattern = optarg;
			break;
		case OPT_FIRST:
			first = optarg;
			break;
		case OPT_COUNT:
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    count < 1) {
				rc = cli_usage(name, "--count: not a positive "
				    "number: '%s'", optarg);
				goto out;
			}
			break;
		case CLI_OPT_PARAMS:
			if (params == NULL)
				params = json_object();
			if (cli_read_input(optarg, params, &cause) != 0) {
				rc = cli_usage(name, "--params: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case 'i':
		case CLI_OPT_INPUT:
			if ((rc = cli_input_opt(name, ch, input, items)) != 0)
				goto out;
			break;
		default:
			if ((rc = cli_api_opt(name, ch, argv)) != 0)
				goto out;
			break;
		}
	}
	if (argc - optind < 2) {
		rc = cli_usage(name, "missing NAME or WORKFLOW");
		goto out;
	}
	if (argc - optind > 2) {
		rc = cli_usage(name, "unexpected argument '%s'",
		    argv[optind + 2]);
		goto out;
	}
	json_object_update(input, items);
	body = json_pack("{s:s,s:s,s:s?,s:s?}", "name", argv[optind],
	    "workflow_name", argv[optind + 1], "pattern", pattern,
	    "first_execution_time", first);
	text = json_dumps(input, JSON_COMPACT);
	json_object_set_new(body, "workflow_input", json_string(text));
	free(text);
	if (params != NULL) {
		text = json_dumps(params, JSON_COMPACT);
		json_object_set_new(body, "workflow_params", json_string(text));
		free(text);
	}
	json_object_set_new(body, "remaining_executions", count > 0 ?
	    json_integer(count) : json_null());
	rc = cli_http_json("POST", "/v2/cron_triggers", body, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_change(v, "Created cron trigger %s: %s, next at "
		    "%s UTC.", argv[optind], argv[optind + 1],
		    json_string_value(json_object_get(v,
		    "next_execution_time")) != NULL ? json_string_value(
		    json_object_get(v, "next_execution_time")) : "?");
out:
	json_decref(v);
	json_decref(body);
	json_decref(params);
	json_decref(items);
	json_decref(input);
	return (rc);
}
