/*
 * cli-alarm.c -- the bora commands of the alarm intake: "alarm send",
 * "alarm get", "alarm replay" and "trigger list" ("alarm list" is the
 * generic list of cli-client.c over cli_res_alarm).
 *
 * An alarm's verdicts print as one table, a row per trigger and event
 * (event, trigger, verdict, execution), then the reason of each row in
 * full, since table cells are cut.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

#define CLI_ALARM_MAX_HEADERS	32
#define CLI_ALARM_MAX_BODY	(16 * 1024 * 1024)

static const char *const cli_alarm_cols[] = {
	"id", "source", "status", "verdicts", "event_count", "received_at"
};

static const struct cli_filter cli_alarm_filters[] = {
	{ "source", "source", NULL },
	{ "status", "status", NULL },
	{ "state", "state", NULL },
	{ "verdict", "verdict", NULL },
	{ "since", "created_at", "gte:" },
	{ "until", "created_at", "lt:" },
	{ NULL, NULL, NULL }
};

const struct cli_res cli_res_alarm = {
	.what = "alarm",
	.coll = "alarms",
	.idkey = "id",
	.query = "sort_keys=created_at&sort_dirs=desc",
	.filters = cli_alarm_filters,
	.cols = cli_alarm_cols,
	.ncols = nitems(cli_alarm_cols),
	.limit = 100,
	.many = 0,
	.force = 0,
	.base = "/v1"
};

/* "1 HostDown firing" for event i. */
static char *
cli_alarm_event_name(json_t *ev, size_t i)
{
	const char	*name, *status;
	char		*s;

	name = json_string_value(json_object_get(ev, "name"));
	status = json_string_value(json_object_get(ev, "status"));
	xasprintf(&s, "%zu %s %s", i + 1, name != NULL ? name :
	    json_string_value(json_object_get(ev, "key")),
	    status != NULL ? status : "?");
	return (s);
}

/*
 * The verdicts of events ([{key, status, name, verdicts: [...]}]) as
 * one table, then each row's reason.
 */
static void
cli_alarm_print_verdicts(json_t *events)
{
	static const char *const cols[] = {
		"event", "trigger", "verdict", "execution"
	};
	json_t		*rows, *ev, *d, *x;
	const char	*reason;
	char		*name;
	size_t		 i, j;

	rows = json_array();
	json_array_foreach(events, i, ev) {
		name = cli_alarm_event_name(ev, i);
		json_array_foreach(json_object_get(ev, "verdicts"), j, d) {
			x = json_object_get(d, "execution_id");
			json_array_append_new(rows, json_pack("{s:s, s:O, s:O, "
			    "s:o}", "event", name, "trigger",
			    json_object_get(d, "trigger"), "verdict",
			    json_object_get(d, "verdict"), "execution",
			    json_is_string(x) ? json_incref(x) :
			    json_string("-")));
		}
		if (json_array_size(json_object_get(ev, "verdicts")) == 0)
			json_array_append_new(rows, json_pack("{s:s, s:s, s:s, "
			    "s:s}", "event", name, "trigger", "-", "verdict",
			    "no trigger listens", "execution", "-"));
		free(name);
	}
	cli_print_table(stdout, rows, cols, nitems(cols));
	json_decref(rows);
	json_array_foreach(events, i, ev) {
		json_array_foreach(json_object_get(ev, "verdicts"), j, d) {
			reason = json_string_value(json_object_get(d,
			    "reason"));
			if (reason != NULL)
				printf("  %zu %s: %s\n", i + 1,
				    json_string_value(json_object_get(d,
				    "trigger")), reason);
		}
	}
}

/* Print an alarm's answer or record: data, its id, or tables. */
static int
cli_alarm_show(json_t *v, const char *idkey, int record)
{
	json_t		*head, *events;
	const char	*k;
	json_t		*x;

	if (cli_quiet) {
		printf("%s\n", cli_obj_id(v, idkey));
		return (CLI_EXIT_OK);
	}
	if (cli_fmt == CLI_FMT_JSON) {
		cli_print_json(stdout, v);
		return (CLI_EXIT_OK);
	}
	if (cli_fmt == CLI_FMT_YAML) {
		cli_print_yaml(stdout, v);
		return (CLI_EXIT_OK);
	}
	events = json_object_get(v, "events");
	if (record) {
		head = json_object();
		json_object_foreach(v, k, x) {
			if (strcmp(k, "events") != 0 &&
			    strcmp(k, "executions") != 0 &&
			    strcmp(k, "body") != 0 && strcmp(k, "headers") != 0)
				json_object_set(head, k, x);
		}
		cli_print_record(stdout, head);
		json_decref(head);
		printf("\n");
	} else
		printf("alarm %s\n", json_string_value(json_object_get(v,
		    idkey)));
	if (json_is_true(json_object_get(v, "pending")))
		printf("pending: %s\n", json_string_value(json_object_get(v,
		    "message")));
	if (json_array_size(events) > 0)
		cli_alarm_print_verdicts(events);
	return (CLI_EXIT_OK);
}

/* bora alarm send SOURCE FILE [-H 'Name: value']... */
int
cli_alarm_send(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "header", required_argument, NULL, 'H' },
		CLI_API_LONGOPTS
	};
	const char	*hdrs[CLI_ALARM_MAX_HEADERS];
	char		*body, *cause = NULL, *path, *src;
	json_t		*v = NULL;
	size_t		 nh = 0, len;
	int		 ch, rc, ctype = 0;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":H:" CLI_API_SHORTOPTS,
	    longopts, NULL)) != -1) {
		if (ch == 'H') {
			if (strchr(optarg, ':') == NULL)
				return (cli_usage(self->name, "-H: expected "
				    "'Name: value', not '%s'", optarg));
			if (nh == nitems(hdrs))
				return (cli_usage(self->name, "more than %zu "
				    "headers", nitems(hdrs)));
			if (strncasecmp(optarg, "Content-Type:", 13) == 0)
				ctype = 1;
			hdrs[nh++] = optarg;
			continue;
		}
		if ((rc = cli_api_opt(self->name, ch, argv)) != 0)
			return (rc);
	}
	if (argc - optind != 2)
		return (cli_usage(self->name, argc - optind < 2 ?
		    "expected SOURCE and FILE" : "unexpected argument '%s'",
		    argv[optind + (argc - optind < 2 ? 0 : 2)]));
	if ((body = cli_read_payload(argv[optind + 1], &len, &cause)) ==
	    NULL) {
		fprintf(stderr, "bora: %s\n", cause);
		free(cause);
		return (CLI_EXIT_FAIL);
	}
	if (memchr(body, '\0', len) != NULL) {
		fprintf(stderr, "bora: %s: the payload holds a NUL byte\n",
		    argv[optind + 1]);
		free(body);
		return (CLI_EXIT_FAIL);
	}
	src = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v1/alarms/%s", src);
	free(src);
	cli_http_headers(hdrs, nh);
	rc = cli_http("POST", path, ctype ? NULL : "application/json", body,
	    &v);
	cli_http_headers(NULL, 0);
	if (rc == CLI_EXIT_OK)
		rc = cli_alarm_show(v, "alarm_id", 0);
	json_decref(v);
	free(path);
	free(body);
	return (rc);
}

/* bora alarm get ID */
int
cli_alarm_get(const struct cli_cmd *self, int argc, char **argv)
{
	json_t	*v = NULL, *ex;
	char	*id, *path;
	int	 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	if (*argv[optind] == '\0')
		return (cli_usage(self->name, "an empty alarm ID"));
	id = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v1/alarms/%s", id);
	free(id);
	rc = cli_http("GET", path, NULL, NULL, &v);
	free(path);
	if (rc != CLI_EXIT_OK)
		return (rc);
	rc = cli_alarm_show(v, "id", 1);
	ex = json_object_get(v, "executions");
	if (!cli_quiet && cli_fmt == CLI_FMT_TABLE &&
	    json_array_size(ex) > 0) {
		static const char *const cols[] = {
			"id", "workflow_name", "state", "created_at"
		};

		printf("\nexecutions started:\n");
		cli_print_table(stdout, ex, cols, nitems(cols));
	}
	json_decref(v);
	return (rc);
}

/* bora alarm replay ID [--apply] */
int
cli_alarm_replay(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "apply", no_argument, NULL, 'A' },
		CLI_API_LONGOPTS
	};
	json_t	*v = NULL;
	char	*id, *path;
	int	 ch, rc, apply = 0;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":" CLI_API_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (ch == 'A') {
			apply = 1;
			continue;
		}
		if ((rc = cli_api_opt(self->name, ch, argv)) != 0)
			return (rc);
	}
	if ((rc = cli_one_operand(self->name, argc, argv, "alarm ID")) != 0)
		return (rc);
	if (*argv[optind] == '\0')
		return (cli_usage(self->name, "an empty alarm ID"));
	id = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v1/alarms/%s/replay%s", id, apply ?
	    "?apply=true" : "");
	free(id);
	rc = cli_http("POST", path, NULL, NULL, &v);
	free(path);
	if (rc == CLI_EXIT_OK) {
		if (!cli_quiet && cli_fmt == CLI_FMT_TABLE)
			printf("%s\n", apply ? "applied: a new alarm, decided "
			    "for real" : "dry run: nothing was started "
			    "(--apply to decide it for real)");
		rc = cli_alarm_show(v, "alarm_id", 0);
	}
	json_decref(v);
	return (rc);
}

/* "until resolved, 10m, limit 3/10m by host", as a policy cell. */
static char *
cli_trigger_policy(json_t *t)
{
	struct buf	 b;
	json_t		*l;
	const char	*sep = "";
	long long	 ms;

	buf_init(&b, 0);
	buf_puts(&b, "");
	if ((ms = json_integer_value(json_object_get(t, "once_within_ms"))) >
	    0) {
		buf_printf(&b, "once within %llds", ms / 1000);
		sep = ", ";
	}
	if (json_is_true(json_object_get(t, "until_resolved"))) {
		buf_printf(&b, "%suntil resolved", sep);
		sep = ", ";
	}
	if (json_is_object(l = json_object_get(t, "limit"))) {
		buf_printf(&b, "%slimit %lld per %llds", sep,
		    (long long)json_integer_value(json_object_get(l, "count")),
		    (long long)json_integer_value(json_object_get(l,
		    "window_ms")) / 1000);
		sep = ", ";
	}
	buf_printf(&b, "%son resolved: %s", sep, json_string_value(
	    json_object_get(t, "on_resolved")));
	return (buf_take(&b));
}

/* bora trigger list */
int
cli_trigger_list(const struct cli_cmd *self, int argc, char **argv)
{
	static const char *const cols[] = {
		"name", "source", "workflow", "policy"
	};
	json_t		*v = NULL, *rows, *t, *src, *s;
	struct buf	 b;
	char		*p;
	size_t		 i, j;
	int		 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 0, 0)) != 0)
		return (rc);
	if ((rc = cli_http("GET", "/v1/triggers", NULL, NULL, &v)) !=
	    CLI_EXIT_OK)
		return (rc);
	if (cli_quiet || cli_fmt != CLI_FMT_TABLE) {
		rc = cli_show_list(v, "triggers", "name", cols, nitems(cols));
		json_decref(v);
		return (rc);
	}
	rows = json_array();
	json_array_foreach(json_object_get(v, "triggers"), i, t) {
		buf_init(&b, 0);
		buf_puts(&b, "");
		src = json_object_get(t, "source");
		json_array_foreach(src, j, s)
			buf_printf(&b, "%s%s", j > 0 ? ", " : "",
			    json_string_value(s));
		p = cli_trigger_policy(t);
		json_array_append_new(rows, json_pack("{s:O, s:s, s:O, s:s}",
		    "name", json_object_get(t, "name"), "source", b.data,
		    "workflow", json_object_get(t, "workflow"), "policy", p));
		free(p);
		buf_free(&b);
	}
	if (json_array_size(rows) == 0)
		printf("no trigger is in force (version %lld)\n", (long long)
		    json_integer_value(json_object_get(v, "version")));
	else
		cli_print_table(stdout, rows, cols, nitems(cols));
	json_decref(rows);
	json_decref(v);
	return (CLI_EXIT_OK);
}
