/*
 * cli-trigger.c -- "bora trigger test FILE... --alarm PAYLOAD --source S":
 * what the triggers of some workbooks would make of one alarm, offline.
 *
 * The payload goes through the source's adapter as borad would take it;
 * each event is matched against every trigger of the files, in the same
 * sandbox and with the Lua library the daemon uses.  For each event it
 * prints which triggers would start which workflow with what input, and
 * why the others would not.  Duplicates and limits need the store's
 * memory of earlier alarms: a trigger that would start here may still be
 * held back there.
 */
#include "config.h"

#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms/alarms.h"
#include "cli/cli.h"
#include "cli/cli-int.h"
#include "dsl/dsl.h"
#include "expr/expr.h"
#include "lib/lib.h"

#define TRIG_MAX_HEADERS	32

/* What the resolver callbacks see. */
struct trig_files {
	struct dsl_workbook	**wbs;
	size_t			  n;
	struct expr		 *ex;
};

static const struct option trig_longopts[] = {
	{ "alarm", required_argument, NULL, 'a' },
	{ "source", required_argument, NULL, 's' },
	{ "header", required_argument, NULL, 'H' },
	{ "format", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 }
};

/* How a verdict reads when nothing is started for real. */
static const char *const trig_dry[] = {
	"would start", "duplicate", "when false", "limited",
	"resolved, ignored", "would cancel", "failed"
};

/* Resolver: a workflow defined in one of the files. */
static int
trig_workflow_exists(void *arg, const char *name)
{
	struct trig_files		*tf = arg;
	const struct dsl_workflow	*wf;
	size_t				 i;

	for (i = 0; i < tf->n; i++) {
		wf = dsl_workflow_find(tf->wbs[i], name);
		if (wf != NULL && strcmp(wf->name, name) == 0)
			return (1);
	}
	return (0);
}

/* Resolver: expressions compile in the sandbox that will run them. */
static int
trig_expr_check(void *arg, const char *lua, char **cause)
{
	struct trig_files	*tf = arg;

	return (expr_check(tf->ex, lua, cause));
}

/* The Lua library folder: $BORA_LUA_DIR, installed, or the sources'. */
static const char *
trig_lua_dir(void)
{
	static const char *const dirs[] = {
#ifdef BORA_DATADIR
		BORA_DATADIR "/lua",
#endif
#ifdef BORA_SRCDIR
		BORA_SRCDIR "/lua",
#endif
		NULL
	};
	struct stat	 st;
	const char	*d;
	size_t		 i;

	if ((d = getenv("BORA_LUA_DIR")) != NULL && *d != '\0')
		return (d);
	for (i = 0; dirs[i] != NULL; i++) {
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return (dirs[i]);
	}
	return (NULL);
}

/*
 * Parse and validate the files, all of them before any is checked (a
 * trigger may name another file's workflow); 0, or -1 after printing
 * every error.
 */
static int
trig_load(struct trig_files *tf, char **files, size_t nfiles)
{
	struct dsl_resolver	 res;
	struct dsl_errors	*errs;
	struct dsl_workbook	**byfile;
	char			*text;
	size_t			 i;
	int			 bad = 0;

	errs = xcalloc(nfiles, sizeof *errs);
	byfile = xcalloc(nfiles, sizeof *byfile);
	for (i = 0; i < nfiles; i++) {
		dsl_errors_init(&errs[i]);
		if ((byfile[i] = dsl_parse_file(files[i], NULL,
		    &errs[i])) != NULL)
			tf->wbs[tf->n++] = byfile[i];
	}
	memset(&res, 0, sizeof res);
	res.workflow_exists = trig_workflow_exists;
	res.expr_check = trig_expr_check;
	res.source_check = alarm_source_check;
	res.arg = tf;
	for (i = 0; i < nfiles; i++) {
		if (byfile[i] != NULL)
			dsl_validate(byfile[i], &res, &errs[i]);
		if (errs[i].n != 0) {
			text = dsl_errors_format(&errs[i]);
			fputs(text, stderr);
			free(text);
			bad = 1;
		}
		dsl_errors_free(&errs[i]);
	}
	free(errs);
	free(byfile);
	return (bad ? -1 : 0);
}

/* The triggers of the files that do not listen to source. */
static json_t *
trig_others(struct trig_files *tf, const char *source)
{
	const struct dsl_trigger	*g;
	json_t				*a, *srcs;
	char				*name;
	size_t				 i, j, k;

	a = json_array();
	for (i = 0; i < tf->n; i++) {
		for (j = 0; j < tf->wbs[i]->ntriggers; j++) {
			g = &tf->wbs[i]->triggers[j];
			srcs = json_array();
			for (k = 0; k < g->nsources; k++) {
				if (strcmp(g->sources[k], source) == 0)
					break;
				json_array_append_new(srcs,
				    json_string(g->sources[k]));
			}
			if (k < g->nsources) {
				json_decref(srcs);
				continue;
			}
			if (tf->wbs[i]->name != NULL)
				xasprintf(&name, "%s.%s", tf->wbs[i]->name,
				    g->name);
			else
				name = xstrdup(g->name);
			json_array_append_new(a, json_pack("{s:s, s:o}",
			    "trigger", name, "sources", srcs));
			free(name);
		}
	}
	return (a);
}

/*
 * One event: a table of verdicts, then each trigger's detail in full
 * (the input it would start with, or why not), since cells are cut.
 */
static void
trig_print_event(json_t *e, size_t i, size_t n)
{
	static const char *const cols[] = {
		"trigger", "verdict", "workflow", "key"
	};
	json_t		*alert, *res, *verdicts, *rows, *d;
	const char	*v, *id, *kind, *name;
	char		*in;
	size_t		 j;
	int		 vi;

	alert = json_object_get(e, "alert");
	res = json_object_get(alert, "resource");
	kind = json_string_value(json_object_get(res, "kind"));
	id = json_string_value(json_object_get(res, "id"));
	name = json_string_value(json_object_get(alert, "name"));
	printf("%sevent %zu of %zu: %s %s, key %s, name %s, %s %s\n",
	    i > 0 ? "\n" : "", i + 1, n,
	    json_string_value(json_object_get(alert, "source")),
	    json_string_value(json_object_get(alert, "status")),
	    json_string_value(json_object_get(alert, "key")),
	    name != NULL ? name : "-", kind != NULL ? kind : "?",
	    id != NULL ? id : "-");
	verdicts = json_object_get(e, "verdicts");
	if (json_array_size(verdicts) == 0) {
		printf("no trigger listens to %s\n",
		    json_string_value(json_object_get(alert, "source")));
		return;
	}
	rows = json_array();
	json_array_foreach(verdicts, j, d) {
		v = json_string_value(json_object_get(d, "verdict"));
		vi = alarm_verdict_find(v != NULL ? v : "");
		json_array_append_new(rows, json_pack("{s:O, s:s, s:O, s:O}",
		    "trigger", json_object_get(d, "trigger"),
		    "verdict", vi >= 0 && (size_t)vi < nitems(trig_dry) ?
		    trig_dry[vi] : "?",
		    "workflow", json_object_get(d, "workflow"),
		    "key", json_object_get(d, "key")));
	}
	cli_print_table(stdout, rows, cols, nitems(cols));
	json_decref(rows);
	json_array_foreach(verdicts, j, d) {
		v = json_string_value(json_object_get(d, "verdict"));
		printf("  %s: ", json_string_value(json_object_get(d,
		    "trigger")));
		if (alarm_verdict_find(v != NULL ? v : "") == ALARM_V_STARTED) {
			in = json_dumps(json_object_get(d, "input"),
			    JSON_COMPACT | JSON_SORT_KEYS);
			printf("input %s\n", in != NULL ? in : "{}");
			free(in);
		} else
			printf("%s\n", json_string_value(json_object_get(d,
			    "reason")));
	}
}

/* Print the whole result. */
static void
trig_print(json_t *res, int fmt)
{
	json_t	*events, *e, *others, *o, *s;
	size_t	 i, j;

	if (fmt == CLI_FMT_JSON) {
		cli_print_json(stdout, res);
		return;
	}
	if (fmt == CLI_FMT_YAML) {
		cli_print_yaml(stdout, res);
		return;
	}
	events = json_object_get(res, "events");
	json_array_foreach(events, i, e)
		trig_print_event(e, i, json_array_size(events));
	others = json_object_get(res, "not_listening");
	if (json_array_size(others) > 0) {
		printf("\nnot listening to %s:",
		    json_string_value(json_object_get(res, "source")));
		json_array_foreach(others, i, o) {
			printf("%s %s (", i > 0 ? "," : "",
			    json_string_value(json_object_get(o, "trigger")));
			json_array_foreach(json_object_get(o, "sources"), j, s)
				printf("%s%s", j > 0 ? ", " : "",
				    json_string_value(s));
			printf(")");
		}
		printf("\n");
	}
}

/* Match every event of a batch; *failed set when a trigger failed. */
static json_t *
trig_run(struct trig_files *tf, const struct alarm_batch *b, int *failed)
{
	struct alarm_triggers	*ts;
	struct alarm_decision	*d;
	json_t			*events, *verdicts;
	size_t			 i, j, n;

	ts = alarm_triggers_create();
	for (i = 0; i < tf->n; i++)
		alarm_triggers_add(ts, tf->wbs[i]);
	events = json_array();
	for (i = 0; i < b->n; i++) {
		n = alarm_match(ts, tf->ex, &b->v[i], &d);
		verdicts = json_array();
		for (j = 0; j < n; j++) {
			if (d[j].verdict == ALARM_V_FAILED)
				*failed = 1;
			json_array_append_new(verdicts,
			    alarm_decision_json(&d[j]));
		}
		alarm_decisions_free(d, n);
		json_array_append_new(events, json_pack("{s:o, s:o}",
		    "alert", alarm_event_json(&b->v[i]),
		    "verdicts", verdicts));
	}
	alarm_triggers_free(ts);
	return (events);
}

/* Read an alarm payload: a file, or "-" for stdin (see cli-int.h). */
char *
cli_read_payload(const char *path, size_t *len, char **cause)
{
	struct buf	 b;
	char		 chunk[8192];
	size_t		 n;

	if (strcmp(path, "-") != 0)
		return (file_read(path, ALARM_DEFAULT_MAX_BODY + 1, len,
		    cause));
	buf_init(&b, ALARM_DEFAULT_MAX_BODY + 1);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (buf_add(&b, chunk, n) != 0) {
			buf_free(&b);
			*cause = xstrdup("stdin: more than the body limit");
			return (NULL);
		}
	}
	*len = b.len;
	if (b.data == NULL)
		buf_add(&b, "", 0);
	return (buf_take(&b));
}

/* bora trigger test FILE... --alarm PAYLOAD --source S. */
int
cli_cmd_trigger_test(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct trig_files	 tf;
	struct alarm_header	 hdr[TRIG_MAX_HEADERS];
	struct alarm_request	 req;
	struct alarm_batch	*batch = NULL;
	const char		*alarm = NULL, *source = NULL;
	char			*body = NULL, *cause = NULL, *p;
	char			*hcopy[TRIG_MAX_HEADERS];
	json_t			*res;
	size_t			 nhdr = 0, i;
	int			 ch, fmt = cli_fmt, rc = CLI_EXIT_USAGE;
	int			 failed = 0;

	memset(&tf, 0, sizeof tf);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "a:s:H:f:", trig_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			alarm = optarg;
			break;
		case 's':
			source = optarg;
			break;
		case 'H':
			if (nhdr == TRIG_MAX_HEADERS ||
			    (p = strchr(optarg, ':')) == NULL || p == optarg) {
				rc = cli_usage("trigger test", "-H wants "
				    "'Name: value' (at most %d)",
				    TRIG_MAX_HEADERS);
				goto out;
			}
			hcopy[nhdr] = xstrdup(optarg);
			p = hcopy[nhdr] + (p - optarg);
			*p++ = '\0';
			while (*p == ' ')
				p++;
			hdr[nhdr].name = hcopy[nhdr];
			hdr[nhdr].value = p;
			nhdr++;
			break;
		case 'f':
			if ((fmt = cli_format_parse(optarg)) < 0) {
				rc = cli_usage("trigger test", "unknown format "
				    "'%s' (table, json or yaml)", optarg);
				goto out;
			}
			break;
		default:
			rc = cli_usage("trigger test", "unknown option '%s'",
			    argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc || alarm == NULL || source == NULL) {
		rc = cli_usage("trigger test", "%s",
		    optind >= argc ? "no workbook given" : alarm == NULL ?
		    "--alarm PAYLOAD is required" :
		    "--source SOURCE is required");
		goto out;
	}
	if (!alarm_source_exists(source)) {
		alarm_source_check(NULL, source, &cause);
		rc = cli_usage("trigger test", "%s", cause);
		goto out;
	}

	rc = CLI_EXIT_FAIL;
	if ((tf.ex = expr_create_lazy(NULL, trig_lua_dir(), &cause)) == NULL) {
		fprintf(stderr, "bora: trigger test: %s\n", cause);
		goto out;
	}
	tf.wbs = xcalloc((size_t)(argc - optind), sizeof *tf.wbs);
	if (trig_load(&tf, argv + optind, (size_t)(argc - optind)) != 0)
		goto out;

	memset(&req, 0, sizeof req);
	if ((body = cli_read_payload(alarm, &req.len, &cause)) == NULL) {
		fprintf(stderr, "bora: trigger test: %s\n", cause);
		goto out;
	}
	req.body = body;
	req.headers = hdr;
	req.nheaders = nhdr;
	if (alarm_parse(source, &req, NULL, &batch, &cause) != ALARM_OK) {
		fprintf(stderr, "bora: trigger test: %s: %s\n", alarm, cause);
		goto out;
	}

	res = json_pack("{s:s, s:o, s:o}", "source", source,
	    "events", trig_run(&tf, batch, &failed),
	    "not_listening", trig_others(&tf, source));
	trig_print(res, fmt);
	json_decref(res);
	rc = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	fflush(stdout);
	alarm_batch_free(batch);
	free(body);
	free(cause);
	for (i = 0; i < nhdr; i++)
		free(hcopy[i]);
	for (i = 0; i < tf.n; i++)
		dsl_workbook_free(tf.wbs[i]);
	free(tf.wbs);
	expr_free(tf.ex);
	return (rc);
}
