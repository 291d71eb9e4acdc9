/*
 * cli-msgs.c -- "bora notification retry": a notification given up
 * (DEAD) sent again.  Listing, showing and deleting user messages and
 * notifications are the generic commands of cli-client.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

/* bora notification retry ID */
int
cli_notification_retry(const struct cli_cmd *self, int argc, char **argv)
{
	json_t	*body, *v = NULL;
	char	*path;
	int	 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	path = cli_http_path("notifications", argv[optind], NULL);
	body = json_pack("{s:s}", "state", "PENDING");
	rc = cli_http_json("PUT", path, body, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_change(v, "Notification %s (%s of execution %s) "
		    "goes again.", cli_obj_id(v, NULL),
		    json_string_value(json_object_get(v, "event")),
		    json_string_value(json_object_get(v, "execution_id")));
	json_decref(v);
	json_decref(body);
	free(path);
	return (rc);
}
