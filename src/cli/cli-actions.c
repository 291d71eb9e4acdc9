/*
 * cli-actions.c -- "bora action run": one action run by borad outside
 * any workflow.  Listing, showing, creating and deleting actions and
 * action executions are the generic commands of cli-client.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

/* bora action run NAME [-i key=value]... [--input JSON] */
int
cli_action_run(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, CLI_OPT_INPUT },
		CLI_API_LONGOPTS
	};
	const char	*name = self->name, *state;
	json_t		*input, *items, *body = NULL, *v = NULL;
	char		*text = NULL;
	int		 ch, rc = CLI_EXIT_USAGE;

	input = json_object();
	items = json_object();
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:" CLI_API_SHORTOPTS,
	    longopts, NULL)) != -1) {
		if (ch == 'i' || ch == CLI_OPT_INPUT) {
			if (cli_input_opt(name, ch, input, items) != 0)
				goto out;
		} else if ((rc = cli_api_opt(name, ch, argv)) != 0)
			goto out;
	}
	if ((rc = cli_one_operand(name, argc, argv, "NAME")) != 0)
		goto out;
	json_object_update(input, items);
	text = json_dumps(input, JSON_COMPACT);
	body = json_pack("{ssss}", "name", argv[optind], "input", text);
	rc = cli_http_json("POST", "/v2/action_executions", body, &v);
	if (rc != CLI_EXIT_OK)
		goto out;
	cli_show_record(v, NULL);
	state = json_string_value(json_object_get(v, "state"));
	rc = state != NULL && strcmp(state, "ERROR") == 0 ?
	    CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	json_decref(v);
	json_decref(body);
	json_decref(items);
	json_decref(input);
	free(text);
	return (rc);
}
