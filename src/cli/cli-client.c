/*
 * cli-client.c -- the bora commands that talk to borad's REST API
 * through libcurl: workbooks, workflows, executions, tasks and actions.
 *
 * Each command parses its own options, makes one or a few requests
 * and prints the answer as a table (people) or as JSON or YAML
 * (scripts, with -f).  Errors from the API are printed as
 * "bora: <faultstring>" and exit 1; no answer at all exits 3.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "lib/lib.h"
#include "dl/dl.h"
#include "cli/cli.h"
#include "cli/cli-int.h"

#define CLI_BODY_MAX	(64 * 1024 * 1024)	/* largest response */
#define CLI_FILE_MAX	(16 * 1024 * 1024)	/* largest definition */
#define CLI_LIST_LIMIT	100

enum {
	OPT_URL = 256,
	OPT_TOKEN,
	OPT_INPUT,
	OPT_ENV,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_STATE,
	OPT_WORKFLOW,
	OPT_LIMIT,
	OPT_NO_RESET,
	OPT_INTERVAL
};

/* Options every API command takes, after its own. */
#define CLI_API_LONGOPTS						\
	{ "format", required_argument, NULL, 'f' },			\
	{ "url", required_argument, NULL, OPT_URL },			\
	{ "token", required_argument, NULL, OPT_TOKEN },		\
	{ NULL, 0, NULL, 0 }

static const struct option cli_api_longopts[] = { CLI_API_LONGOPTS };

/* One API response: body, status and the error header if any. */
struct cli_reply {
	struct buf	 body;
	char		*error;		/* Server-Error-Message */
};

static CURL	*cli_curl;

static void	 cli_http_cleanup(void);
static size_t	 cli_http_write(char *, size_t, size_t, void *);
static size_t	 cli_http_header(char *, size_t, size_t, void *);
static int	 cli_api_opt(const char *, int, char **);
static int	 cli_api_args(const char *, int, char **, int, int);
static int	 cli_one_operand(const char *, int, char **, const char *);
static int	 cli_show_list(json_t *, const char *, const char *const *,
		     size_t);
static int	 cli_show_record(json_t *);
static int	 cli_get_record(const char *, const char *);
static int	 cli_read_input(const char *, json_t *, char **);
static void	 cli_add_durations(json_t *);
static int	 cli_exec_state(const char *, const char *, int, char **);
static int	 cli_wait(const char *, double, json_t **);

static int	 cli_def_create(const struct cli_cmd *, int, char **);
static int	 cli_def_update(const struct cli_cmd *, int, char **);
static int	 cli_def_list(const struct cli_cmd *, int, char **);
static int	 cli_def_get(const struct cli_cmd *, int, char **);
static int	 cli_def_delete(const struct cli_cmd *, int, char **);
static int	 cli_execution_start(const struct cli_cmd *, int, char **);
static int	 cli_execution_list(const struct cli_cmd *, int, char **);
static int	 cli_execution_get(const struct cli_cmd *, int, char **);
static int	 cli_execution_tasks(const struct cli_cmd *, int, char **);
static int	 cli_execution_events(const struct cli_cmd *, int, char **);
static int	 cli_execution_watch(const struct cli_cmd *, int, char **);
static int	 cli_execution_pause(const struct cli_cmd *, int, char **);
static int	 cli_execution_resume(const struct cli_cmd *, int, char **);
static int	 cli_execution_cancel(const struct cli_cmd *, int, char **);
static int	 cli_execution_rerun(const struct cli_cmd *, int, char **);
static int	 cli_task_get(const struct cli_cmd *, int, char **);
static int	 cli_action_list(const struct cli_cmd *, int, char **);
static int	 cli_action_run(const struct cli_cmd *, int, char **);

/*
 * A kind of definition the API stores from YAML text: its collection
 * (the path under /v2 and the key of its list), the query of its list
 * and the columns of its table.  Creating or updating a workbook
 * answers the workbook; a file of workflows answers their list.
 */
struct cli_def {
	const char		*what;		/* "workbook", in messages */
	const char		*coll;		/* "workbooks" */
	const char		*list_query;	/* after '?' */
	const char *const	*cols;
	size_t			 ncols;
	int			 many;		/* create answers a list */
};

static const char *const cli_workbook_cols[] = {
	"name", "tags", "scope", "created_at", "updated_at"
};
static const char *const cli_workflow_cols[] = {
	"id", "name", "input", "created_at", "updated_at"
};

static const struct cli_def cli_def_workbook = {
	"workbook", "workbooks", "sort_keys=created_at&sort_dirs=asc",
	cli_workbook_cols, nitems(cli_workbook_cols), 0
};
static const struct cli_def cli_def_workflow = {
	"workflow", "workflows", "sort_keys=created_at&sort_dirs=asc",
	cli_workflow_cols, nitems(cli_workflow_cols), 1
};

const struct cli_cmd cli_client_cmds[] = {
	{ "workbook create", "FILE", "Create a workbook from a YAML file",
	  cli_def_create,
	  "Upload FILE (a workbook in the Mistral v2 language) as a new\n"
	  "workbook.  Its workflows and actions become available at once.\n",
	  &cli_def_workbook },
	{ "workbook update", "FILE", "Store a new version of a workbook",
	  cli_def_update,
	  "Upload FILE as a new version of the workbook it names.  Running\n"
	  "executions keep the version they started with.\n",
	  &cli_def_workbook },
	{ "workbook list", "", "List workbooks", cli_def_list,
	  "List the workbooks, oldest first.\n", &cli_def_workbook },
	{ "workbook get", "NAME", "Show a workbook and its definition",
	  cli_def_get, "Show workbook NAME with its definition.\n",
	  &cli_def_workbook },
	{ "workbook delete", "NAME", "Delete a workbook", cli_def_delete,
	  "Delete workbook NAME and the workflows it defines.\n",
	  &cli_def_workbook },

	{ "workflow create", "FILE", "Create workflows from a YAML file",
	  cli_def_create,
	  "Upload FILE, which may define several workflows, and list the\n"
	  "workflows created.\n", &cli_def_workflow },
	{ "workflow update", "FILE", "Store new versions of workflows",
	  cli_def_update,
	  "Upload FILE as new versions of the workflows it defines.\n",
	  &cli_def_workflow },
	{ "workflow list", "", "List workflows", cli_def_list,
	  "List the workflows, oldest first.\n", &cli_def_workflow },
	{ "workflow get", "NAME", "Show a workflow and its definition",
	  cli_def_get, "Show workflow NAME (a name or an id).\n",
	  &cli_def_workflow },
	{ "workflow delete", "NAME", "Delete a workflow", cli_def_delete,
	  "Delete workflow NAME (a name or an id).\n", &cli_def_workflow },

	{ "execution start",
	  "NAME [-i key=value]... [--input JSON] [--env JSON] [--wait]"
	  " [--timeout S]",
	  "Start an execution of a workflow", cli_execution_start,
	  "Start workflow NAME (a name or an id) and print the execution.\n"
	  "\n"
	  "Options:\n"
	  "  -i key=value    an input value; the value is read as JSON when\n"
	  "                  it parses (42, true, [1,2], {\"a\":1}), else it\n"
	  "                  is a string; may be repeated\n"
	  "  --input JSON    the input as a JSON object; -i values override\n"
	  "  --env JSON      the environment (env()) as a JSON object\n"
	  "  --wait          wait until the execution ends; exit 0 on\n"
	  "                  SUCCESS, 1 on ERROR or CANCELLED\n"
	  "  --timeout S     with --wait, give up after S seconds (exit 1)\n",
	  NULL },
	{ "execution list", "[--state S] [--workflow W] [--limit N]",
	  "List executions, newest first", cli_execution_list,
	  "List executions, newest first.\n"
	  "\n"
	  "Options:\n"
	  "  --state S       only executions in state S (RUNNING, SUCCESS,\n"
	  "                  ERROR, PAUSED, CANCELLED)\n"
	  "  --workflow W    only executions of workflow W\n"
	  "  --limit N       at most N executions (default 100)\n", NULL },
	{ "execution get", "ID", "Show an execution", cli_execution_get,
	  "Show execution ID with its input, output and parameters.\n", NULL },
	{ "execution tasks", "ID", "List the tasks of an execution",
	  cli_execution_tasks,
	  "List the tasks of execution ID in the order they started, with\n"
	  "their states and durations.\n", NULL },
	{ "execution events", "ID", "Show the progress events of an execution",
	  cli_execution_events,
	  "Show the progress events of execution ID: one table per task of\n"
	  "time, progress, level and message.\n", NULL },
	{ "execution watch", "ID [--interval S]",
	  "Follow an execution live until it ends", cli_execution_watch,
	  "Show execution ID as a tree of tasks (and sub-workflows) with\n"
	  "state symbols and durations until it ends.  On a terminal the\n"
	  "tree is redrawn in place; otherwise each change is a new line.\n"
	  "Exit 0 when it ends in SUCCESS, 1 on ERROR or CANCELLED.\n"
	  "\n"
	  "Options:\n"
	  "  --interval S    seconds between polls (default 1)\n", NULL },
	{ "execution pause", "ID", "Pause a running execution",
	  cli_execution_pause,
	  "Pause execution ID: running tasks finish, no new task starts.\n",
	  NULL },
	{ "execution resume", "ID", "Resume a paused execution",
	  cli_execution_resume, "Resume the paused execution ID.\n", NULL },
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

	{ "task get", "ID", "Show a task with its result", cli_task_get,
	  "Show task ID with its result and published values.\n", NULL },

	{ "action list", "", "List the actions", cli_action_list,
	  "List the actions: built-in (std.*), from catalogs, and ad-hoc.\n",
	  NULL },
	{ "action run", "NAME [-i key=value]... [--input JSON]",
	  "Run one action and print its result", cli_action_run,
	  "Run action NAME once, outside any workflow, and print the action\n"
	  "execution with its output.  Exit 1 when the action fails.\n"
	  "\n"
	  "Options:\n"
	  "  -i key=value    an input value (JSON when it parses, else a\n"
	  "                  string); may be repeated\n"
	  "  --input JSON    the input as a JSON object\n", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

/* ---- HTTP ------------------------------------------------------- */

/* Free the shared curl handle at exit. */
static void
cli_http_cleanup(void)
{
	if (cli_curl != NULL)
		curl_easy_cleanup(cli_curl);
	cli_curl = NULL;
	curl_global_cleanup();
}

/* The shared curl handle, made on first use (libcurl is loaded then). */
static CURL *
cli_http_handle(void)
{
	char	*cause;

	if (cli_curl == NULL) {
		if (dl_curl_load(&cause) != 0)
			fatalx("%s", cause);
		if ((cli_curl = curl_easy_init()) == NULL)
			fatalx("curl_easy_init failed");
		atexit(cli_http_cleanup);
	}
	return (cli_curl);
}

/* A path component or query value, %-escaped (caller frees). */
char *
cli_http_escape(const char *s)
{
	CURL	*c;
	char	*e, *out;

	c = cli_http_handle();	/* loads libcurl: before naming its function */
	e = curl_easy_escape(c, s, 0);
	if (e == NULL)
		fatalx("curl_easy_escape failed");
	out = xstrdup(e);
	curl_free(e);
	return (out);
}

/* curl write callback: append to the reply body, within its maximum. */
static size_t
cli_http_write(char *p, size_t size, size_t n, void *arg)
{
	struct cli_reply	*r = arg;

	if (buf_add(&r->body, p, size * n) != 0)
		return (0);
	return (size * n);
}

/* curl header callback: keep Server-Error-Message. */
static size_t
cli_http_header(char *p, size_t size, size_t n, void *arg)
{
	struct cli_reply	*r = arg;
	const char		*name = "Server-Error-Message:";
	size_t			 len = size * n, nl = strlen(name);

	if (len > nl && strncasecmp(p, name, nl) == 0) {
		p += nl;
		len -= nl;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		free(r->error);
		r->error = xstrndup(p, len);
	}
	return (size * n);
}

/* The base URL without a trailing slash (caller frees). */
static char *
cli_http_base(void)
{
	char	*base;
	size_t	 len;

	base = xstrdup(cli_url);
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	return (base);
}

/* Call the API; see cli-int.h. */
int
cli_http(const char *method, const char *path, const char *ctype,
    const char *body, json_t **out)
{
	CURL			*c;
	CURLcode		 cc;
	struct curl_slist	*hdrs = NULL;
	struct cli_reply	 r;
	json_error_t		 jerr;
	json_t			*v = NULL, *fault;
	char			*base, *url = NULL, *h;
	char			 errbuf[CURL_ERROR_SIZE];
	const char		*why, *dash;
	long			 status = 0, oserr = 0;
	int			 rc = CLI_EXIT_FAIL;

	*out = NULL;
	buf_init(&r.body, CLI_BODY_MAX);
	r.error = NULL;
	c = cli_http_handle();
	curl_easy_reset(c);
	base = cli_http_base();
	xasprintf(&url, "%s%s", base, path);

	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (ctype != NULL) {
		xasprintf(&h, "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (cli_token != NULL && *cli_token != '\0') {
		xasprintf(&h, "Authorization: Bearer %s", cli_token);
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bora/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, cli_http_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (cc == CURLE_URL_MALFORMAT ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL) {
			fprintf(stderr, "bora: invalid URL '%s': %s\n", url,
			    curl_easy_strerror(cc));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (cc == CURLE_WRITE_ERROR) {
			fprintf(stderr, "bora: %s %s: response larger than "
			    "%d bytes\n", method, path, CLI_BODY_MAX);
			goto out;
		}
		if (cc == CURLE_COULDNT_CONNECT && oserr != 0)
			why = strerror((int)oserr);
		else if (errbuf[0] != '\0')
			why = errbuf;
		else
			why = curl_easy_strerror(cc);
		dash = strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0 ?
		    "\xe2\x80\x94" : "--";
		fprintf(stderr, "bora: cannot reach %s: %s %s is borad "
		    "running?\n", base, why, dash);
		rc = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

	if (r.body.len != 0) {
		v = json_loadb(r.body.data, r.body.len, JSON_DECODE_ANY, &jerr);
		if (v == NULL && status < 400) {
			fprintf(stderr, "bora: %s %s: invalid JSON in the "
			    "response (line %d: %s)\n", method, path, jerr.line,
			    jerr.text);
			goto out;
		}
	}
	if (status >= 400) {
		fault = json_object_get(v, "faultstring");
		if (json_is_string(fault))
			fprintf(stderr, "bora: %s\n", json_string_value(fault));
		else if (r.error != NULL)
			fprintf(stderr, "bora: %s\n", r.error);
		else
			fprintf(stderr, "bora: %s %s: HTTP %ld\n", method, path,
			    status);
		goto out;
	}
	*out = v;
	v = NULL;
	rc = CLI_EXIT_OK;
out:
	json_decref(v);
	curl_slist_free_all(hdrs);
	free(r.error);
	buf_free(&r.body);
	free(url);
	free(base);
	return (rc);
}

/* ---- helpers ---------------------------------------------------- */

/* Handle an option every API command takes; CLI_EXIT_USAGE if bad. */
static int
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
	case OPT_URL:
		cli_url = optarg;
		return (0);
	case OPT_TOKEN:
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
static int
cli_api_args(const char *name, int argc, char **argv, int min, int max)
{
	int	 ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:", cli_api_longopts,
	    NULL)) != -1) {
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
static int
cli_one_operand(const char *name, int argc, char **argv, const char *what)
{
	if (argc - optind < 1)
		return (cli_usage(name, "missing %s", what));
	if (argc - optind > 1)
		return (cli_usage(name, "unexpected argument '%s'",
		    argv[optind + 1]));
	return (0);
}

/* Print the array under key of a list reply, as a table or data. */
static int
cli_show_list(json_t *reply, const char *key, const char *const *cols,
    size_t ncols)
{
	json_t	*rows;

	rows = json_is_array(reply) ? reply : json_object_get(reply, key);
	if (!json_is_array(rows)) {
		fprintf(stderr, "bora: the response has no '%s' list\n", key);
		return (CLI_EXIT_FAIL);
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

/* Print one object as a record or data. */
static int
cli_show_record(json_t *obj)
{
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

/* GET /v2/<coll>/<id> and print it as a record. */
static int
cli_get_record(const char *coll, const char *id)
{
	json_t	*v;
	char	*e, *path;
	int	 rc;

	e = cli_http_escape(id);
	xasprintf(&path, "/v2/%s/%s", coll, e);
	rc = cli_http("GET", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_record(v);
	json_decref(v);
	free(path);
	free(e);
	return (rc);
}

/* Merge the JSON object in text s into obj. */
static int
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
static void
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
	char		*text, *e, *path;
	int		 rc, i;

	if ((rc = cli_api_args(name, argc, argv, 1, 1)) != 0)
		return (rc);
	body = json_pack("{ss}", "state", state);
	text = json_dumps(body, JSON_COMPACT);
	e = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v2/executions/%s", e);
	rc = cli_http("PUT", path, "application/json", text, &v);
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
	if (rc == CLI_EXIT_OK)
		rc = cli_show_record(v);
	json_decref(v);
	json_decref(body);
	free(path);
	free(e);
	free(text);
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
	char		*e, *path;
	int		 rc;

	*out = NULL;
	e = cli_http_escape(id);
	xasprintf(&path, "/v2/executions/%s", e);
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
	free(e);
	return (rc);
}

/* ---- definitions: workbooks and workflows ------------------------ */

/* POST or PUT definition FILE as text/plain to /v2/<coll>; print it. */
static int
cli_def_upload(const struct cli_cmd *self, const char *method, int argc,
    char **argv)
{
	const struct cli_def	*d = self->data;
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
	xasprintf(&path, "/v2/%s", d->coll);
	rc = cli_http(method, path, "text/plain", text, &v);
	if (rc == CLI_EXIT_OK) {
		if (d->many && json_object_get(v, d->coll) != NULL)
			rc = cli_show_list(v, d->coll, d->cols, d->ncols);
		else
			rc = cli_show_record(v);
	}
	json_decref(v);
	free(path);
	free(text);
	return (rc);
}

/* bora workbook|workflow create FILE */
static int
cli_def_create(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_def_upload(self, "POST", argc, argv));
}

/* bora workbook|workflow update FILE */
static int
cli_def_update(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_def_upload(self, "PUT", argc, argv));
}

/* bora workbook|workflow list */
static int
cli_def_list(const struct cli_cmd *self, int argc, char **argv)
{
	const struct cli_def	*d = self->data;
	json_t			*v;
	char			*path;
	int			 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 0, 0)) != 0)
		return (rc);
	xasprintf(&path, "/v2/%s%s%s", d->coll, d->list_query != NULL ?
	    "?" : "", d->list_query != NULL ? d->list_query : "");
	rc = cli_http("GET", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_list(v, d->coll, d->cols, d->ncols);
	json_decref(v);
	free(path);
	return (rc);
}

/* bora workbook|workflow get NAME */
static int
cli_def_get(const struct cli_cmd *self, int argc, char **argv)
{
	const struct cli_def	*d = self->data;
	int			 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	return (cli_get_record(d->coll, argv[optind]));
}

/* bora workbook|workflow delete NAME */
static int
cli_def_delete(const struct cli_cmd *self, int argc, char **argv)
{
	const struct cli_def	*d = self->data;
	json_t			*v;
	char			*e, *path;
	int			 rc;

	if ((rc = cli_api_args(self->name, argc, argv, 1, 1)) != 0)
		return (rc);
	e = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v2/%s/%s", d->coll, e);
	rc = cli_http("DELETE", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK && cli_fmt == CLI_FMT_TABLE)
		printf("Deleted %s %s.\n", d->what, argv[optind]);
	json_decref(v);
	free(path);
	free(e);
	return (rc);
}

/* ---- executions ------------------------------------------------- */

/* bora execution start */
static int
cli_execution_start(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, OPT_INPUT },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CLI_API_LONGOPTS
	};
	const char	*name = "execution start", *state;
	json_t		*input, *items, *env = NULL, *body, *v = NULL, *w;
	char		*cause, *text = NULL, *end;
	double		 timeout = 0;
	int		 ch, rc = CLI_EXIT_USAGE, wait = 0;

	input = json_object();
	items = json_object();
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:i:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (cli_parse_kv(items, optarg, &cause) != 0) {
				rc = cli_usage(name, "-i: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case OPT_INPUT:
			if (cli_read_input(optarg, input, &cause) != 0) {
				rc = cli_usage(name, "--input: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case OPT_ENV:
			json_decref(env);
			env = json_object();
			if (cli_read_input(optarg, env, &cause) != 0) {
				rc = cli_usage(name, "--env: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case OPT_WAIT:
			wait = 1;
			break;
		case OPT_TIMEOUT:
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
	json_object_update(input, items);

	body = json_object();
	json_object_set_new(body, uuid_valid(argv[optind]) ? "workflow_id" :
	    "workflow_name", json_string(argv[optind]));
	json_object_set_new(body, "description", json_string(""));
	if (json_object_size(input) != 0) {
		text = json_dumps(input, JSON_COMPACT);
		json_object_set_new(body, "input", json_string_nocheck(text));
		free(text);
	}
	if (env != NULL) {
		w = json_pack("{sO}", "env", env);
		text = json_dumps(w, JSON_COMPACT);
		json_object_set_new(body, "params", json_string_nocheck(text));
		free(text);
		json_decref(w);
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	rc = cli_http("POST", "/v2/executions", "application/json", text, &v);
	if (rc != CLI_EXIT_OK)
		goto out;

	if (wait) {
		rc = cli_wait(json_string_value(json_object_get(v, "id")),
		    timeout, &w);
		if (w != NULL) {
			json_decref(v);
			v = w;
		}
		state = json_string_value(json_object_get(v, "state"));
		if (rc == CLI_EXIT_FAIL && !cli_state_final(state)) {
			cli_show_record(v);
			fprintf(stderr, "bora: execution %s still %s after "
			    "%gs\n", json_string_value(json_object_get(v,
			    "id")), state != NULL ? state : "?", timeout);
			goto out;
		}
		if (rc != CLI_EXIT_OK)
			goto out;
		cli_show_record(v);
		rc = cli_state_exit(state);
		goto out;
	}
	rc = cli_show_record(v);
out:
	json_decref(v);
	json_decref(env);
	json_decref(items);
	json_decref(input);
	free(text);
	return (rc);
}

/* bora execution list [--state S] [--workflow W] [--limit N] */
static int
cli_execution_list(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "workflow", required_argument, NULL, OPT_WORKFLOW },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		CLI_API_LONGOPTS
	};
	static const char *const cols[] = {
		"id", "workflow_name", "state", "created_at", "duration",
		"state_info"
	};
	const char	*name = "execution list";
	const char	*state = NULL, *workflow = NULL;
	json_t		*v = NULL;
	struct buf	 path;
	char		*e, *end;
	long		 limit = CLI_LIST_LIMIT;
	int		 ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_STATE:
			state = optarg;
			break;
		case OPT_WORKFLOW:
			workflow = optarg;
			break;
		case OPT_LIMIT:
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    limit < 1 || limit > 100000) {
				return (cli_usage(name, "--limit: not a "
				    "positive number: '%s'", optarg));
			}
			break;
		default:
			if ((rc = cli_api_opt(name, ch, argv)) != 0)
				return (rc);
			break;
		}
	}
	if (optind != argc)
		return (cli_usage(name, "unexpected argument '%s'",
		    argv[optind]));

	buf_init(&path, 0);
	buf_printf(&path, "/v2/executions?sort_keys=created_at&sort_dirs=desc"
	    "&limit=%ld", limit);
	if (state != NULL) {
		e = cli_http_escape(state);
		buf_printf(&path, "&state=%s", e);
		free(e);
	}
	if (workflow != NULL) {
		e = cli_http_escape(workflow);
		buf_printf(&path, "&workflow_name=%s", e);
		free(e);
	}
	rc = cli_http("GET", path.data, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_list(v, "executions", cols, nitems(cols));
	json_decref(v);
	buf_free(&path);
	return (rc);
}

/* bora execution get ID */
static int
cli_execution_get(const struct cli_cmd *self, int argc, char **argv)
{
	int	 rc;

	if ((rc = cli_api_args("execution get", argc, argv, 1, 1)) != 0)
		return (rc);
	return (cli_get_record("executions", argv[optind]));
}

/* bora execution tasks ID */
static int
cli_execution_tasks(const struct cli_cmd *self, int argc, char **argv)
{
	static const char *const cols[] = {
		"id", "name", "state", "started_at", "duration", "state_info"
	};
	json_t	*v;
	char	*e, *path;
	int	 rc;

	if ((rc = cli_api_args("execution tasks", argc, argv, 1, 1)) != 0)
		return (rc);
	e = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v2/executions/%s/tasks?sort_keys=created_at&"
	    "sort_dirs=asc", e);
	rc = cli_http("GET", path, NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_list(v, "tasks", cols, nitems(cols));
	json_decref(v);
	free(path);
	free(e);
	return (rc);
}

/* Print the events of one task (rows of a group) as a table. */
static void
cli_events_group(const char *title, json_t *rows)
{
	static const char *const cols[] = {
		"time", "progress", "level", "message"
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
	}
	printf("%s\n", title);
	cli_print_table(stdout, rows, cols, nitems(cols));
}

/* bora execution events ID */
static int
cli_execution_events(const struct cli_cmd *self, int argc, char **argv)
{
	json_t		*v, *rows, *groups, *row, *g;
	const char	*task, *id, *key;
	char		*e, *path, *title;
	size_t		 i;
	int		 rc, first = 1;

	if ((rc = cli_api_args("execution events", argc, argv, 1, 1)) != 0)
		return (rc);
	e = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v2/executions/%s/events", e);
	rc = cli_http("GET", path, NULL, NULL, &v);
	free(path);
	free(e);
	if (rc != CLI_EXIT_OK)
		return (rc);
	rows = json_is_array(v) ? v : json_object_get(v, "events");
	if (!json_is_array(rows)) {
		fprintf(stderr, "bora: the response has no 'events' list\n");
		json_decref(v);
		return (CLI_EXIT_FAIL);
	}
	if (cli_fmt != CLI_FMT_TABLE) {
		rc = cli_show_list(rows, "events", NULL, 0);
		json_decref(v);
		return (rc);
	}

	/* Group by task, in the order each task first appears. */
	groups = json_object();
	json_array_foreach(rows, i, row) {
		task = json_string_value(json_object_get(row, "task_name"));
		id = json_string_value(json_object_get(row, "task_id"));
		if (task == NULL)
			xasprintf(&title, "Execution %s", argv[optind]);
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
	if (json_array_size(rows) == 0)
		printf("No events.\n");
	json_decref(groups);
	json_decref(v);
	return (CLI_EXIT_OK);
}

/* bora execution watch ID [--interval S] */
static int
cli_execution_watch(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		CLI_API_LONGOPTS
	};
	const char	*name = "execution watch";
	double		 interval = 1;
	char		*end;
	int		 ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_INTERVAL:
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
static int
cli_execution_pause(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_exec_state("execution pause", "PAUSED", argc, argv));
}

/* bora execution resume ID */
static int
cli_execution_resume(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_exec_state("execution resume", "RUNNING", argc, argv));
}

/* bora execution cancel ID */
static int
cli_execution_cancel(const struct cli_cmd *self, int argc, char **argv)
{
	return (cli_exec_state("execution cancel", "CANCELLED", argc, argv));
}

/* bora execution rerun TASK_ID [--no-reset] */
static int
cli_execution_rerun(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-reset", no_argument, NULL, OPT_NO_RESET },
		CLI_API_LONGOPTS
	};
	const char	*name = "execution rerun";
	json_t		*body, *v;
	char		*text, *e, *path;
	int		 ch, rc, reset = 1;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:", longopts, NULL)) != -1) {
		if (ch == OPT_NO_RESET)
			reset = 0;
		else if ((rc = cli_api_opt(name, ch, argv)) != 0)
			return (rc);
	}
	if ((rc = cli_one_operand(name, argc, argv, "TASK_ID")) != 0)
		return (rc);
	body = json_pack("{sssssb}", "id", argv[optind], "state", "RUNNING",
	    "reset", reset);
	text = json_dumps(body, JSON_COMPACT);
	e = cli_http_escape(argv[optind]);
	xasprintf(&path, "/v2/tasks/%s", e);
	rc = cli_http("PUT", path, "application/json", text, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_record(v);
	json_decref(v);
	json_decref(body);
	free(path);
	free(e);
	free(text);
	return (rc);
}

/* ---- tasks and actions ------------------------------------------ */

/* bora task get ID */
static int
cli_task_get(const struct cli_cmd *self, int argc, char **argv)
{
	int	 rc;

	if ((rc = cli_api_args("task get", argc, argv, 1, 1)) != 0)
		return (rc);
	return (cli_get_record("tasks", argv[optind]));
}

/* bora action list */
static int
cli_action_list(const struct cli_cmd *self, int argc, char **argv)
{
	static const char *const cols[] = {
		"name", "input", "description"
	};
	json_t	*v;
	int	 rc;

	if ((rc = cli_api_args("action list", argc, argv, 0, 0)) != 0)
		return (rc);
	rc = cli_http("GET", "/v2/actions", NULL, NULL, &v);
	if (rc == CLI_EXIT_OK)
		rc = cli_show_list(v, "actions", cols, nitems(cols));
	json_decref(v);
	return (rc);
}

/* bora action run NAME [-i key=value]... [--input JSON] */
static int
cli_action_run(const struct cli_cmd *self, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, OPT_INPUT },
		CLI_API_LONGOPTS
	};
	const char	*name = "action run", *state;
	json_t		*input, *items, *body = NULL, *v = NULL;
	char		*cause, *text = NULL;
	int		 ch, rc = CLI_EXIT_USAGE;

	input = json_object();
	items = json_object();
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:i:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (cli_parse_kv(items, optarg, &cause) != 0) {
				rc = cli_usage(name, "-i: %s", cause);
				free(cause);
				goto out;
			}
			break;
		case OPT_INPUT:
			if (cli_read_input(optarg, input, &cause) != 0) {
				rc = cli_usage(name, "--input: %s", cause);
				free(cause);
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
	json_object_update(input, items);
	text = json_dumps(input, JSON_COMPACT);
	body = json_pack("{ssss}", "name", argv[optind], "input", text);
	free(text);
	text = json_dumps(body, JSON_COMPACT);
	rc = cli_http("POST", "/v2/action_executions", "application/json",
	    text, &v);
	if (rc != CLI_EXIT_OK)
		goto out;
	cli_show_record(v);
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
