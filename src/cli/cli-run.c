/*
 * cli-run.c -- "bora run": load a workflow file, run one execution in
 * this process on the embedded store, show its tasks as they move, and
 * print the result.
 */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "dsl/dsl.h"
#include "engine/engine.h"

#define RUN_MAX_FILE	(4 * 1024 * 1024)

struct run_view {
	int		 live;		/* print transitions */
	int64_t		 start;
};

static int	 run_usage(const char *);
static const char *run_data_dir(const char *);
static int	 run_load_actions(struct engine *, const char *);
static void	 run_on_task(void *, const struct store_exec *,
		     const struct store_task *);
static void	 run_print_table(json_t *);

static const struct option run_longopts[] = {
	{ "input", required_argument, NULL, 'I' },
	{ "task", required_argument, NULL, 't' },
	{ "format", required_argument, NULL, 'f' },
	{ "db", required_argument, NULL, 'd' },
	{ "resume", required_argument, NULL, 'r' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

static int
run_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "bora run: %s\n", msg);
	fprintf(stderr, "usage: bora run FILE [WORKFLOW] [-i key=value]... "
	    "[--input JSON] [--task TARGET]\n"
	    "                [-f table|json|yaml] [--db URL] [--resume ID] "
	    "[--timeout SECONDS]\n");
	return (CLI_EXIT_USAGE);
}

/*
 * A data folder (lua, actions): $BORA_<NAME>_DIR, else where bora and
 * borad look for it (conf_data_dir).
 */
static const char *
run_data_dir(const char *name)
{
	static char	*path[2];
	static int	 slot;
	char		 env[64], *v, *p, **pp;

	snprintf(env, sizeof env, "BORA_%s_DIR", name);
	for (p = env; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 32;
	if ((v = getenv(env)) != NULL)
		return (v);
	pp = &path[slot++ & 1];
	free(*pp);
	*pp = conf_data_dir(name);
	return (*pp);
}

/* Load the shipped ad-hoc action catalogs (*.yaml in dir). */
static int
run_load_actions(struct engine *e, const char *dir)
{
	DIR			*d;
	struct dirent		*de;
	struct dsl_errors	 errs;
	char			*path, *text, *cause = NULL, *msg;
	size_t			 len;
	int			 rc = 0;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if ((text = file_read(path, RUN_MAX_FILE, NULL,
		    &cause)) == NULL) {
			fprintf(stderr, "bora run: %s\n", cause);
			free(cause);
			free(path);
			rc = -1;
			continue;
		}
		dsl_errors_init(&errs);
		/* Unchanged since the last run: nothing to save again. */
		if (!engine_def_current(e, "actions", path, text, NULL) &&
		    engine_def_load(e, "actions", path, text, path, 0, &errs,
		    NULL) != STORE_OK) {
			msg = dsl_errors_format(&errs);
			fprintf(stderr, "%s", msg);
			free(msg);
			rc = -1;
		}
		dsl_errors_free(&errs);
		free(text);
		free(path);
	}
	closedir(d);
	return (rc);
}

/* Show a task transition as it happens. */
static void
run_on_task(void *arg, const struct store_exec *ex,
    const struct store_task *t)
{
	struct run_view	*v = arg;
	int64_t		 el = time_mono_ms() - v->start;

	if (!v->live)
		return;
	printf("%7.3fs  %s %-24s %s%s%s%s\n", (double)el / 1000.0,
	    cli_state_symbol(t->state), t->name, t->state,
	    ex->parent_task_id != NULL ? "  (sub-workflow)" : "",
	    t->state_info != NULL && strcmp(t->state, "ERROR") == 0 ?
	    "  " : "", t->state_info != NULL &&
	    strcmp(t->state, "ERROR") == 0 ? t->state_info : "");
	fflush(stdout);
}

/* The result for people: the execution, its task table, its output. */
static void
run_print_table(json_t *o)
{
	static const char *const cols[] = { "name", "state", "duration",
	    "state_info" };
	json_t		*rows, *t, *r;
	size_t		 i;
	json_int_t	 ms;
	char		 dur[32];

	printf("Execution %s  %s  %s\n",
	    json_string_value(json_object_get(o, "id")),
	    json_string_value(json_object_get(o, "workflow_name")),
	    json_string_value(json_object_get(o, "state")));
	if (json_is_string(json_object_get(o, "state_info")))
		printf("  %s\n", json_string_value(json_object_get(o,
		    "state_info")));
	rows = json_array();
	json_array_foreach(json_object_get(o, "tasks"), i, t) {
		ms = json_integer_value(json_object_get(t, "duration_ms"));
		if (json_object_get(t, "finished_at") == NULL ||
		    json_is_null(json_object_get(t, "finished_at")))
			snprintf(dur, sizeof dur, "-");
		else if (ms < 1000)
			snprintf(dur, sizeof dur, "%lldms", (long long)ms);
		else
			snprintf(dur, sizeof dur, "%.1fs", (double)ms / 1000);
		r = json_pack("{s:O,s:O,s:s,s:O}", "name",
		    json_object_get(t, "name"), "state",
		    json_object_get(t, "state"), "duration", dur,
		    "state_info", json_object_get(t, "state_info") != NULL ?
		    json_object_get(t, "state_info") : json_null());
		json_array_append_new(rows, r);
	}
	printf("\n");
	cli_print_table(stdout, rows, cols, nitems(cols));
	json_decref(rows);
	printf("\nOutput:\n");
	cli_print_json(stdout, json_object_get(o, "output"));
}

/* bora run FILE [WORKFLOW] ... */
int
cli_cmd_run(const struct cli_cmd *self, int argc, char **argv)
{
	struct engine_config	 cfg;
	struct engine_start_opts so;
	struct engine_observer	 obs;
	struct run_view		 view;
	struct engine		*e = NULL;
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb = NULL;
	struct store_exec	*ex = NULL;
	const char		*file = NULL, *wfname = NULL, *task = NULL;
	const char		*db, *resume = NULL, *kind;
	char			*text = NULL, *cause = NULL, *msg, *id = NULL;
	json_t			*input, *v, *out;
	json_error_t		 jerr;
	int			 ch, fmt = cli_fmt, rc = CLI_EXIT_USAGE, quiet = 0;
	double			 timeout = 0;
	enum store_rc		 src;

	input = json_object();
	db = getenv("BORA_DB") != NULL ? getenv("BORA_DB") : "sqlite:bora.db";
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+i:f:q", run_longopts,
	    NULL)) != -1 ||
	    (optind < argc && argv[optind][0] != '-' && (ch = 0) == 0)) {
		switch (ch) {
		case 0:
			/* A positional argument between options. */
			if (file == NULL)
				file = argv[optind];
			else if (wfname == NULL)
				wfname = argv[optind];
			else {
				rc = run_usage("too many arguments");
				goto out;
			}
			optind++;
			break;
		case 'i':
			if (cli_parse_kv(input, optarg, &cause) != 0) {
				fprintf(stderr, "bora run: -i %s: %s\n",
				    optarg, cause);
				free(cause);
				goto out;
			}
			break;
		case 'I':
			v = json_loads(optarg, 0, &jerr);
			if (v == NULL || !json_is_object(v)) {
				fprintf(stderr, "bora run: --input: %s\n",
				    v == NULL ? jerr.text :
				    "expected a JSON object");
				json_decref(v);
				goto out;
			}
			json_object_update_missing(input, v);
			json_decref(v);
			break;
		case 't':
			task = optarg;
			break;
		case 'f':
			if ((fmt = cli_format_parse(optarg)) < 0) {
				rc = run_usage("unknown format (expected "
				    "table, json or yaml)");
				goto out;
			}
			break;
		case 'd':
			db = optarg;
			break;
		case 'r':
			resume = optarg;
			break;
		case 'T':
			timeout = strtod(optarg, NULL);
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			rc = run_usage(NULL);
			goto out;
		}
	}
	if (optind < argc) {
		rc = run_usage("unexpected argument");
		goto out;
	}
	if (file == NULL && resume == NULL) {
		rc = run_usage("no workflow file given");
		goto out;
	}

	memset(&cfg, 0, sizeof cfg);
	cfg.db_url = db;
	cfg.lua_dir = run_data_dir("lua");
	cfg.in_process = 1;
	if ((e = engine_open(&cfg, &cause)) == NULL) {
		fprintf(stderr, "bora run: %s\n", cause);
		free(cause);
		rc = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	if (run_load_actions(e, run_data_dir("actions")) != 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	if (file != NULL) {
		if ((text = file_read(file, RUN_MAX_FILE, NULL,
		    &cause)) == NULL) {
			fprintf(stderr, "bora run: %s\n", cause);
			free(cause);
			goto out;
		}
		dsl_errors_init(&errs);
		wb = dsl_parse(file, text, strlen(text), NULL, &errs);
		if (wb == NULL || errs.n > 0) {
			msg = dsl_errors_format(&errs);
			fprintf(stderr, "%s", msg);
			free(msg);
			dsl_errors_free(&errs);
			goto out;
		}
		kind = wb->name != NULL ? "workbook" : "workflows";
		if (wfname == NULL) {
			/* The only or the first workflow of the file. */
			if (wb->nworkflows == 0) {
				fprintf(stderr, "bora run: %s holds no "
				    "workflow\n", file);
				dsl_errors_free(&errs);
				goto out;
			}
			wfname = wb->workflows[0].name;
		} else if (dsl_workflow_find(wb, wfname) == NULL) {
			/* A short name inside a workbook. */
			char *full;
			xasprintf(&full, "%s.%s", wb->name != NULL ?
			    wb->name : "", wfname);
			if (dsl_workflow_find(wb, full) == NULL) {
				fprintf(stderr, "bora run: no workflow '%s' in "
				    "%s\n", wfname, file);
				free(full);
				dsl_errors_free(&errs);
				goto out;
			}
			wfname = dsl_workflow_find(wb, full)->name;
			free(full);
		}
		if (!engine_def_current(e, kind, file, text, NULL) &&
		    engine_def_load(e, kind, NULL, text, file, 0, &errs,
		    NULL) != STORE_OK) {
			msg = dsl_errors_format(&errs);
			fprintf(stderr, "%s", msg);
			free(msg);
			dsl_errors_free(&errs);
			goto out;
		}
		dsl_errors_free(&errs);
	}

	memset(&view, 0, sizeof view);
	view.live = fmt == CLI_FMT_TABLE && !quiet && isatty(STDOUT_FILENO);
	view.start = time_mono_ms();
	memset(&obs, 0, sizeof obs);
	obs.task = run_on_task;
	obs.arg = &view;
	engine_set_observer(e, &obs);

	if (resume != NULL && file == NULL) {
		id = xstrdup(resume);
		if (store_exec_load(engine_store(e), id, &ex) != STORE_OK) {
			fprintf(stderr, "bora run: no execution %s in %s\n",
			    id, db);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		if (strcmp(ex->state, "PAUSED") == 0 &&
		    engine_exec_set_state(e, id, "RUNNING", NULL,
		    &cause) != STORE_OK) {
			fprintf(stderr, "bora run: %s\n", cause);
			free(cause);
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		store_exec_free(ex);
		ex = NULL;
	} else {
		memset(&so, 0, sizeof so);
		so.workflow = wfname;
		so.input = input;
		so.task_target = task;
		so.id = resume;
		src = engine_exec_start(e, &so, &ex, &cause);
		if (src != STORE_OK) {
			fprintf(stderr, "bora run: %s\n", cause);
			free(cause);
			rc = src == STORE_UNAVAILABLE ? CLI_EXIT_UNREACHABLE :
			    CLI_EXIT_USAGE;
			goto out;
		}
		id = xstrdup(ex->id);
		store_exec_free(ex);
		ex = NULL;
	}

	src = engine_run_until(e, id, (int64_t)(timeout * 1000), &ex);
	if (ex == NULL) {
		fprintf(stderr, "bora run: execution %s: %s\n", id,
		    store_error(engine_store(e)));
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (src == STORE_UNAVAILABLE)
		fprintf(stderr, "bora run: timed out after %gs; the execution "
		    "is still %s (continue with --resume %s)\n", timeout,
		    ex->state, id);
	out = engine_exec_json(e, id);
	if (fmt == CLI_FMT_JSON)
		cli_print_json(stdout, out);
	else if (fmt == CLI_FMT_YAML)
		cli_print_yaml(stdout, out);
	else {
		if (view.live)
			printf("\n");
		run_print_table(out);
	}
	json_decref(out);
	rc = strcmp(ex->state, "SUCCESS") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	store_exec_free(ex);
	free(id);
	dsl_workbook_free(wb);
	free(text);
	json_decref(input);
	engine_close(e);
	return (rc);
}
