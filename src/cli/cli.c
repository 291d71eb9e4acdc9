/*
 * cli.c -- the bora command line: global options, the table of
 * commands and dispatch, and help.
 *
 *	bora [--url URL] [--token TOKEN] [-f table|json|yaml] [-q] COMMAND ...
 *
 * A command is one word ("run") or a group and a verb ("execution
 * start").  Each runs with its own argc/argv, argv[0] being its last
 * word, and returns the exit status (CLI_EXIT_* in cli.h).  "--help"
 * anywhere in a command's arguments shows its help instead.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "cli/cli.h"

#define CLI_DEFAULT_URL	"http://127.0.0.1:8989"

enum { OPT_URL = 256, OPT_TOKEN };

const char	*cli_url = CLI_DEFAULT_URL;
const char	*cli_token;
int		 cli_fmt = CLI_FMT_TABLE;
int		 cli_quiet;

/* Commands that work without borad. */
static const struct cli_cmd cli_local_cmds[] = {
	{ "run",
	  "FILE [WORKFLOW] [-i key=value]... [--input JSON] [--task TARGET]"
	  " [-f table|json|yaml] [--db URL] [--resume ID] [--timeout S] [-q]",
	  "Run a workflow in-process on the embedded store", cli_cmd_run,
	  "Run WORKFLOW of FILE (a workbook or a workflow file; the only or\n"
	  "first workflow when WORKFLOW is not given) in this process, on\n"
	  "the embedded store, without borad.  On a terminal each task\n"
	  "transition is shown as it happens; then the table of tasks is\n"
	  "printed.  Exit 0 when the execution ends in SUCCESS, 1 on ERROR,\n"
	  "2 for bad usage or an invalid workflow.\n"
	  "\n"
	  "Options:\n"
	  "  -i key=value    an input value; the value is read as JSON when\n"
	  "                  it parses, else it is a string; may be repeated\n"
	  "  --input JSON    the input as a JSON object; -i values override\n"
	  "  --task TARGET   the target task of a reverse workflow\n"
	  "  -f FORMAT       table (default), json or yaml\n"
	  "  --db URL        the store, sqlite:PATH (BORA_DB; default\n"
	  "                  sqlite:./bora.db)\n"
	  "  --resume ID     resume execution ID, left unfinished in the\n"
	  "                  store\n"
	  "  --timeout S     stop waiting after S seconds; the execution\n"
	  "                  stays in the store for --resume\n"
	  "  -q, --quiet     do not show transitions as they happen\n", NULL },
	{ "import", "FILE... [-o DIR | --in-place] [--check] [-q]",
	  "Convert Mistral workbooks (YAQL, Jinja) to bora's Lua",
	  cli_cmd_import,
	  "Rewrite each Mistral workbook, workflow or action FILE with its\n"
	  "YAQL (<% %>) and Jinja ({{ }}) expressions translated to Lua,\n"
	  "keeping everything else as it is: layout, comments, key order\n"
	  "and quoting (a scalar is re-quoted only when its new text needs\n"
	  "it).  What cannot be translated is left unchanged and reported\n"
	  "as FILE:LINE:COL: cannot translate '...': reason.  Without -o or\n"
	  "--in-place the converted file is written to standard output.\n"
	  "Exit 0 when every expression was translated, 1 when some were\n"
	  "left unchanged, 2 for bad usage or a file that cannot be read,\n"
	  "parsed or written.  See bora-import(1).\n"
	  "\n"
	  "Options:\n"
	  "  -o, --output DIR  write each converted file into DIR\n"
	  "  --in-place        replace each FILE by its conversion\n"
	  "  --check           only report what cannot be translated\n"
	  "  -q, --quiet       no summary line per file\n", NULL },
	{ "validate", "FILE...", "Check workflow files and report every error",
	  cli_cmd_validate,
	  "Parse and validate each FILE without running it.  Every error is\n"
	  "reported as FILE:LINE:COL: message (path).  Exit 0 when all files\n"
	  "are valid, 1 otherwise.\n", NULL },
	{ "trigger test",
	  "FILE... --alarm PAYLOAD --source SOURCE [-H 'Name: value']..."
	  " [-f table|json|yaml]",
	  "Show what the triggers of FILEs would do with an alarm",
	  cli_cmd_trigger_test,
	  "Read the workbooks FILE... and the alarm PAYLOAD (a request body\n"
	  "as SOURCE sends it: alertmanager, aodh, vitrage, grafana, zabbix\n"
	  "or generic; - for stdin), turn it into events as borad would, and\n"
	  "match each event against every trigger, without a server.  For\n"
	  "each event it prints the triggers that would start a workflow,\n"
	  "with the workflow's input, and why the others would not (when\n"
	  "is false, a resolved alarm ignored, an expression failing);\n"
	  "triggers of other sources are listed at the end.  Duplicates and\n"
	  "limits depend on earlier alarms and are decided by borad.  Exit\n"
	  "0 when all went through, 1 for an invalid file or payload or a\n"
	  "failing trigger, 2 for bad usage.\n"
	  "\n"
	  "Options:\n"
	  "  --alarm PAYLOAD     the request body, a file or -\n"
	  "  --source SOURCE     the source that sent it\n"
	  "  -H 'Name: value'    a request header (generic reads\n"
	  "                      Idempotency-Key); may be repeated\n"
	  "  -f FORMAT           table (default), json or yaml\n", NULL },
	{ "sim", "[--listen HOST:PORT] [--scenario FILE] [--log FILE]"
	  " [--delay S] [--port-file FILE]",
	  "Run a simulated OpenStack cloud to rehearse flows on", cli_cmd_sim,
	  "Serve a simulated Keystone v3 (/identity) and Nova (/compute/v2.1)\n"
	  "until interrupted: compute hosts and services, servers that stop,\n"
	  "start, evacuate and migrate in their own time, aggregates,\n"
	  "migrations, and the failures a scenario file injects.  Each call\n"
	  "is logged as a JSON line.  Without a scenario: hosts compute-1 to\n"
	  "compute-4, three servers on compute-1, users admin/secret\n"
	  "(project admin) and demo/demo.  See bora-sim(1).\n"
	  "\n"
	  "Options:\n"
	  "  --listen HOST:PORT  where to listen (default 127.0.0.1:8774;\n"
	  "                      port 0: a free one)\n"
	  "  --scenario FILE     the cloud and its failures, in YAML\n"
	  "  --log FILE          append the JSON lines to FILE (default\n"
	  "                      stdout)\n"
	  "  --delay S           every operation takes S seconds (0: done by\n"
	  "                      the next call)\n"
	  "  --port-file FILE    write the port there once listening\n", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

static const struct option cli_longopts[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "url", required_argument, NULL, OPT_URL },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static const char *const cli_options_help =
	"  -f, --format FORMAT  table (default), json or yaml\n"
	"  -q, --quiet          print only ids (of what a command made,\n"
	"                       changed or lists)\n"
	"  --url URL            borad's API (BORA_URL; default "
	CLI_DEFAULT_URL ")\n"
	"  --token TOKEN        bearer token sent to the API (BORA_TOKEN)\n";

/* The tables of commands through the API. */
static const struct cli_cmd *const cli_api_tables[] = {
	cli_client_cmds, cli_mistral_cmds, NULL
};

static const struct cli_cmd	*cli_find(const char *, int *);
static int	 cli_is_group(const char *);
static void	 cli_help_all(FILE *);
static void	 cli_help_group(FILE *, const char *);
static void	 cli_help_cmd(FILE *, const struct cli_cmd *, int);
static int	 cli_help(int, char **);
static int	 cli_unknown(int, char **);

/* Find a command by its full name; *api set when it talks to borad. */
static const struct cli_cmd *
cli_find(const char *name, int *api)
{
	const struct cli_cmd	*c, *const *t;

	for (c = cli_local_cmds; c->name != NULL; c++) {
		if (strcmp(c->name, name) == 0) {
			*api = 0;
			return (c);
		}
	}
	for (t = cli_api_tables; *t != NULL; t++) {
		for (c = *t; c->name != NULL; c++) {
			if (strcmp(c->name, name) == 0) {
				*api = 1;
				return (c);
			}
		}
	}
	return (NULL);
}

/* Whether word is the first word of a group of commands, local or not. */
static int
cli_is_group(const char *word)
{
	const struct cli_cmd	*c, *const *t;
	size_t			 len = strlen(word);

	for (c = cli_local_cmds; c->name != NULL; c++) {
		if (strncmp(c->name, word, len) == 0 && c->name[len] == ' ')
			return (1);
	}
	for (t = cli_api_tables; *t != NULL; t++) {
		for (c = *t; c->name != NULL; c++) {
			if (strncmp(c->name, word, len) == 0 &&
			    c->name[len] == ' ')
				return (1);
		}
	}
	return (0);
}

/* Print a list of commands, aligned, optionally only those of a group. */
static void
cli_help_list(FILE *f, const struct cli_cmd *cmds, const char *group,
    int with_args)
{
	const struct cli_cmd	*c;
	size_t			 len = group != NULL ? strlen(group) : 0;
	char			*s;

	for (c = cmds; c->name != NULL; c++) {
		if (group != NULL && (strncmp(c->name, group, len) != 0 ||
		    c->name[len] != ' '))
			continue;
		if (with_args) {
			xasprintf(&s, "%s%s%s", c->name, *c->args != '\0' ?
			    " " : "", c->args);
			fprintf(f, "  %s\n      %s\n", s, c->summary);
			free(s);
		} else
			fprintf(f, "  %-18s %s\n", c->name, c->summary);
	}
}

/* The whole help: usage, every command, global options. */
static void
cli_help_all(FILE *f)
{
	const struct cli_cmd *const	*t;

	fprintf(f,
	    "usage: bora [--url URL] [--token TOKEN] [-f table|json|yaml] [-q] "
	    "COMMAND [ARGS]...\n"
	    "       bora help COMMAND\n"
	    "       bora -V\n"
	    "\n"
	    "Commands that run here, without borad:\n");
	cli_help_list(f, cli_local_cmds, NULL, 0);
	fprintf(f, "\nCommands through borad's API:\n");
	for (t = cli_api_tables; *t != NULL; t++)
		cli_help_list(f, *t, NULL, 0);
	fprintf(f, "\nOptions:\n%s", cli_options_help);
	fprintf(f,
	    "  -V, --version        print the version and exit\n"
	    "  -h, --help           print this help and exit\n"
	    "\n"
	    "Run 'bora help COMMAND' or 'bora COMMAND --help' for the "
	    "options of a command.\n");
}

/* Help of a group ("execution"): its commands with their arguments. */
static void
cli_help_group(FILE *f, const char *group)
{
	const struct cli_cmd *const	*t;

	fprintf(f, "usage: bora %s COMMAND [ARGS]...\n\nCommands:\n", group);
	cli_help_list(f, cli_local_cmds, group, 1);
	for (t = cli_api_tables; *t != NULL; t++)
		cli_help_list(f, *t, group, 1);
	fprintf(f, "\nRun 'bora %s COMMAND --help' for the options of a "
	    "command.\n", group);
}

/* Help of one command: usage line, description, options. */
static void
cli_help_cmd(FILE *f, const struct cli_cmd *c, int api)
{
	fprintf(f, "usage: bora %s%s%s\n\n", c->name, *c->args != '\0' ?
	    " " : "", c->args);
	fputs(c->help != NULL ? c->help : c->summary, f);
	if (c->help == NULL)
		fputc('\n', f);
	if (api)
		fprintf(f, "\nAPI options:\n%s", cli_options_help);
}

/* Report a usage error of a command; see cli.h. */
int
cli_usage(const char *name, const char *fmt, ...)
{
	const struct cli_cmd	*c = NULL;
	va_list			 ap;
	int			 api;

	if (name != NULL)
		c = cli_find(name, &api);
	fputs("bora: ", stderr);
	if (name != NULL)
		fprintf(stderr, "%s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c != NULL) {
		fprintf(stderr, "usage: bora %s%s%s\n", c->name,
		    *c->args != '\0' ? " " : "", c->args);
		fprintf(stderr, "Run 'bora %s --help' for more.\n", c->name);
	} else
		fprintf(stderr, "Run 'bora --help' for the commands.\n");
	return (CLI_EXIT_USAGE);
}

/* "bora help [COMMAND...]". */
static int
cli_help(int argc, char **argv)
{
	const struct cli_cmd	*c;
	char			*name;
	int			 api;

	if (argc == 0) {
		cli_help_all(stdout);
		return (CLI_EXIT_OK);
	}
	if (argc >= 2) {
		xasprintf(&name, "%s %s", argv[0], argv[1]);
		c = cli_find(name, &api);
		free(name);
		if (c != NULL) {
			cli_help_cmd(stdout, c, api);
			return (CLI_EXIT_OK);
		}
	}
	if ((c = cli_find(argv[0], &api)) != NULL) {
		cli_help_cmd(stdout, c, api);
		return (CLI_EXIT_OK);
	}
	if (argc == 1 && cli_is_group(argv[0])) {
		cli_help_group(stdout, argv[0]);
		return (CLI_EXIT_OK);
	}
	return (cli_unknown(argc, argv));
}

/*
 * Report an unknown command, suggesting the closest one: among the
 * verbs of the group when the first word is a group, else among the
 * top-level words.
 */
static int
cli_unknown(int argc, char **argv)
{
	const struct cli_cmd	*c, *const *t;
	const char		**cands, *best;
	size_t			 n = 0, i, len;
	char			*word, *sp;

	cands = xcalloc(64, sizeof *cands);
	if (argc >= 2 && cli_is_group(argv[0])) {
		len = strlen(argv[0]);
		for (c = cli_local_cmds; c->name != NULL && n < 64; c++) {
			if (strncmp(c->name, argv[0], len) == 0 &&
			    c->name[len] == ' ')
				cands[n++] = c->name + len + 1;
		}
		for (t = cli_api_tables; *t != NULL; t++) {
			for (c = *t; c->name != NULL && n < 64; c++) {
				if (strncmp(c->name, argv[0], len) == 0 &&
				    c->name[len] == ' ')
					cands[n++] = c->name + len + 1;
			}
		}
		best = lib_closest(argv[1], cands, n);
		fprintf(stderr, "bora: unknown command '%s %s'", argv[0],
		    argv[1]);
		if (best != NULL)
			fprintf(stderr, " (did you mean '%s %s'?)", argv[0],
			    best);
		fputc('\n', stderr);
		free(cands);
		cli_help_group(stderr, argv[0]);
		return (CLI_EXIT_USAGE);
	}

	/* Top-level words: local commands, "help", and group names. */
	for (c = cli_local_cmds; c->name != NULL; c++) {
		cands[n] = xstrdup(c->name);
		if ((sp = strchr(cands[n], ' ')) != NULL)
			*sp = '\0';
		n++;
	}
	cands[n++] = xstrdup("help");
	for (t = cli_api_tables; *t != NULL; t++) {
		for (c = *t; c->name != NULL && n < 64; c++) {
			word = xstrdup(c->name);
			if ((sp = strchr(word, ' ')) != NULL)
				*sp = '\0';
			for (i = 0; i < n; i++) {
				if (strcmp(cands[i], word) == 0)
					break;
			}
			if (i == n)
				cands[n++] = word;
			else
				free(word);
		}
	}
	best = lib_closest(argv[0], cands, n);
	fprintf(stderr, "bora: unknown command '%s'", argv[0]);
	if (best != NULL)
		fprintf(stderr, " (did you mean '%s'?)", best);
	fprintf(stderr, "\nRun 'bora --help' for the commands.\n");
	for (i = 0; i < n; i++)
		free((char *)cands[i]);
	free(cands);
	return (CLI_EXIT_USAGE);
}

/* The bora command line; returns the exit status. */
int
cli_main(int argc, char **argv)
{
	const struct cli_cmd	*c;
	const char		*env, *fmtname = NULL;
	char			*name, **nargv;
	int			 ch, i, n = 0, api, nwords, fmt, rc;

	setlocale(LC_CTYPE, "");
	if ((env = getenv("BORA_URL")) != NULL && *env != '\0')
		cli_url = env;
	if ((env = getenv("BORA_TOKEN")) != NULL && *env != '\0')
		cli_token = env;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:f:qhV", cli_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			if ((fmt = cli_format_parse(optarg)) == -1) {
				return (cli_usage(NULL, "unknown format '%s' "
				    "(table, json or yaml)", optarg));
			}
			cli_fmt = fmt;
			fmtname = optarg;
			break;
		case 'q':
			cli_quiet = 1;
			break;
		case OPT_URL:
			cli_url = optarg;
			break;
		case OPT_TOKEN:
			cli_token = optarg;
			break;
		case 'h':
			cli_help_all(stdout);
			return (CLI_EXIT_OK);
		case 'V':
			printf("bora %s\n", PACKAGE_VERSION);
			return (CLI_EXIT_OK);
		case ':':
			return (cli_usage(NULL, "option '%s' needs a value",
			    argv[optind - 1]));
		default:
			if (optopt != 0 && optopt < 256) {
				return (cli_usage(NULL, "unknown option '-%c'",
				    optopt));
			}
			return (cli_usage(NULL, "unknown option '%s'",
			    argv[optind - 1]));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		cli_help_all(stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[0], "help") == 0)
		return (cli_help(argc - 1, argv + 1));

	/* A two-word command first, then one word. */
	c = NULL;
	nwords = 0;
	if (argc >= 2) {
		xasprintf(&name, "%s %s", argv[0], argv[1]);
		if ((c = cli_find(name, &api)) != NULL)
			nwords = 2;
		free(name);
	}
	if (c == NULL && (c = cli_find(argv[0], &api)) != NULL)
		nwords = 1;
	if (c == NULL) {
		if (cli_is_group(argv[0]) && (argc == 1 || argv[1][0] == '-')) {
			if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
			    strcmp(argv[1], "-h") == 0)) {
				cli_help_group(stdout, argv[0]);
				return (CLI_EXIT_OK);
			}
			fprintf(stderr, "bora: %s: missing command\n", argv[0]);
			cli_help_group(stderr, argv[0]);
			return (CLI_EXIT_USAGE);
		}
		return (cli_unknown(argc, argv));
	}
	argc -= nwords - 1;
	argv += nwords - 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cli_help_cmd(stdout, c, api);
			return (CLI_EXIT_OK);
		}
	}

	/* "bora -f json -q run ..." passes the options on to run. */
	if ((fmtname != NULL || cli_quiet) && c->fn == cli_cmd_run) {
		nargv = xcalloc(argc + 4, sizeof *nargv);
		nargv[n++] = argv[0];
		if (fmtname != NULL) {
			nargv[n++] = (char *)"-f";
			nargv[n++] = (char *)fmtname;
		}
		if (cli_quiet)
			nargv[n++] = (char *)"-q";
		for (i = 1; i < argc; i++)
			nargv[n++] = argv[i];
		optind = 0;
		rc = c->fn(c, n, nargv);
		free(nargv);
		return (rc);
	}
	optind = 0;
	return (c->fn(c, argc, argv));
}
