/*
 * cli-validate.c -- "bora validate FILE...": parse and check workbooks
 * and workflow files offline, printing every error as
 * "FILE:LINE:COL: message (path)".
 *
 * Actions are known when they are built in, ad-hoc in one of the files
 * given, or ad-hoc in the shipped actions directory (read only when a
 * name is not found otherwise).  Workflows are known when one of the
 * files defines them.  Expressions are compiled in a sandbox.
 */

#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/actions.h"
#include "alarms/alarms.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "dsl/dsl.h"
#include "expr/expr.h"
#include "lib/lib.h"

/* What the resolver callbacks see. */
struct cli_validate {
	struct dsl_workbook	**wbs;		/* the files given */
	size_t			  nwbs;
	struct dsl_workbook	**shipped;	/* the actions directory */
	size_t			  nshipped;
	int			  shipped_loaded;
	struct expr		 *expr;
	int			  expr_failed;
};

/* Print usage to f. */
static void
cli_validate_usage(FILE *f)
{
	fprintf(f,
	    "usage: bora validate FILE...\n"
	    "\n"
	    "Parse and check workbooks and workflow files without a server.\n"
	    "Each error is printed to stderr as FILE:LINE:COL: message (path);\n"
	    "each valid file prints \"FILE: OK\".  Exit status: 0 when all\n"
	    "files are valid, 1 when some are not, 2 on bad usage.\n");
}

/* The shipped actions directory (allocated), or NULL. */
static char *
cli_validate_actions_dir(void)
{
	const char	*dir;

	if ((dir = getenv("BORA_ACTIONS_DIR")) != NULL && *dir != '\0')
		return (xstrdup(dir));
	return (conf_data_dir("actions"));
}

/* Read the ad-hoc actions of the shipped catalogs (errors ignored). */
static void
cli_validate_load_shipped(struct cli_validate *cv)
{
	struct dsl_errors	 errs;
	struct dsl_workbook	*wb;
	struct dirent		*de;
	DIR			*d;
	char			*dir, *path;
	size_t			 l;

	cv->shipped_loaded = 1;
	if ((dir = cli_validate_actions_dir()) == NULL)
		return;
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (!(l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0) &&
		    !(l > 4 && strcmp(de->d_name + l - 4, ".yml") == 0))
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		dsl_errors_init(&errs);
		if ((wb = dsl_parse_file(path, NULL, &errs)) != NULL) {
			cv->shipped = xreallocarray(cv->shipped,
			    cv->nshipped + 1, sizeof *cv->shipped);
			cv->shipped[cv->nshipped++] = wb;
		}
		dsl_errors_free(&errs);
		free(path);
	}
	closedir(d);
	free(dir);
}

/* 1 if some workbook of a list defines an ad-hoc action by full name. */
static int
cli_validate_has_action(struct dsl_workbook **wbs, size_t n,
    const char *name)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < wbs[i]->nactions; j++) {
			if (strcmp(wbs[i]->actions[j].name, name) == 0)
				return (1);
		}
	}
	return (0);
}

/* Resolver: built-in actions, then the files, then the catalogs. */
static int
cli_validate_action_exists(void *arg, const char *name)
{
	struct cli_validate	*cv = arg;

	if (action_find(name) != NULL)
		return (1);
	if (cli_validate_has_action(cv->wbs, cv->nwbs, name))
		return (1);
	if (!cv->shipped_loaded)
		cli_validate_load_shipped(cv);
	return (cli_validate_has_action(cv->shipped, cv->nshipped, name));
}

/* Resolver: a workflow defined in one of the files. */
static int
cli_validate_workflow_exists(void *arg, const char *name)
{
	struct cli_validate	*cv = arg;
	size_t			 i, j;

	for (i = 0; i < cv->nwbs; i++) {
		for (j = 0; j < cv->wbs[i]->nworkflows; j++) {
			if (strcmp(cv->wbs[i]->workflows[j].name, name) == 0)
				return (1);
		}
	}
	return (0);
}

/* Resolver: compile one expression in a sandbox made on first use. */
static int
cli_validate_expr_check(void *arg, const char *lua, char **cause)
{
	struct cli_validate	*cv = arg;
	char			*why = NULL;

	*cause = NULL;
	if (cv->expr == NULL && !cv->expr_failed) {
		if ((cv->expr = expr_create(NULL, NULL, &why)) == NULL) {
			cv->expr_failed = 1;
			fprintf(stderr, "bora validate: expressions not "
			    "checked: %s\n", why != NULL ? why : "?");
			free(why);
		}
	}
	if (cv->expr == NULL)
		return (0);
	return (expr_check(cv->expr, lua, cause));
}

/* Diagnostics being sorted: by line, column, then order of creation. */
static const struct dsl_diag *cli_validate_diags;

/* Compare two diagnostic indexes by position, then by index. */
static int
cli_validate_diagcmp(const void *a, const void *b)
{
	size_t			 ia = *(const size_t *)a;
	size_t			 ib = *(const size_t *)b;
	const struct dsl_diag	*da = &cli_validate_diags[ia];
	const struct dsl_diag	*db = &cli_validate_diags[ib];

	if (da->pos.line != db->pos.line)
		return (da->pos.line < db->pos.line ? -1 : 1);
	if (da->pos.col != db->pos.col)
		return (da->pos.col < db->pos.col ? -1 : 1);
	return (ia < ib ? -1 : ia > ib);
}

/* Print a file's errors to stderr, sorted by position. */
static void
cli_validate_print(const struct dsl_errors *errs)
{
	struct dsl_errors	 sorted;
	size_t			*idx, i;
	char			*text;

	idx = xreallocarray(NULL, errs->n + 1, sizeof *idx);
	for (i = 0; i < errs->n; i++)
		idx[i] = i;
	cli_validate_diags = errs->v;
	qsort(idx, errs->n, sizeof *idx, cli_validate_diagcmp);
	sorted = *errs;
	sorted.v = xreallocarray(NULL, errs->n + 1, sizeof *sorted.v);
	for (i = 0; i < errs->n; i++)
		sorted.v[i] = errs->v[idx[i]];
	text = dsl_errors_format(&sorted);
	fputs(text, stderr);
	free(text);
	free(sorted.v);
	free(idx);
}

/* bora validate FILE...: exit 0 when all are valid, 1 if not, 2 on usage. */
int
cli_cmd_validate(const struct cli_cmd *self, int argc, char **argv)
{
	struct cli_validate	 cv;
	struct dsl_resolver	 res;
	struct dsl_errors	*errs;
	struct dsl_workbook	**byfile;
	char			**files;
	size_t			 nfiles = 0, i;
	int			 a, rc = CLI_EXIT_OK, opts = 1;

	files = xcalloc((size_t)argc + 1, sizeof *files);
	for (a = 1; a < argc; a++) {
		if (opts && strcmp(argv[a], "--") == 0) {
			opts = 0;
			continue;
		}
		if (opts && (strcmp(argv[a], "--help") == 0 ||
		    strcmp(argv[a], "-h") == 0)) {
			cli_validate_usage(stdout);
			free(files);
			return (CLI_EXIT_OK);
		}
		if (opts && argv[a][0] == '-' && argv[a][1] != '\0') {
			fprintf(stderr, "bora validate: unknown option %s\n",
			    argv[a]);
			cli_validate_usage(stderr);
			free(files);
			return (CLI_EXIT_USAGE);
		}
		files[nfiles++] = argv[a];
	}
	if (nfiles == 0) {
		cli_validate_usage(stderr);
		free(files);
		return (CLI_EXIT_USAGE);
	}

	memset(&cv, 0, sizeof cv);
	cv.wbs = xcalloc(nfiles, sizeof *cv.wbs);
	errs = xcalloc(nfiles, sizeof *errs);
	byfile = xcalloc(nfiles, sizeof *byfile);
	for (i = 0; i < nfiles; i++) {
		dsl_errors_init(&errs[i]);
		byfile[i] = dsl_parse_file(files[i], NULL, &errs[i]);
		if (byfile[i] != NULL)
			cv.wbs[cv.nwbs++] = byfile[i];
	}

	res.action_exists = cli_validate_action_exists;
	res.workflow_exists = cli_validate_workflow_exists;
	res.expr_check = cli_validate_expr_check;
	res.source_check = alarm_source_check;
	res.arg = &cv;
	for (i = 0; i < nfiles; i++) {
		if (byfile[i] != NULL)
			dsl_validate(byfile[i], &res, &errs[i]);
		if (errs[i].n != 0) {
			cli_validate_print(&errs[i]);
			rc = CLI_EXIT_FAIL;
		} else
			printf("%s: OK\n", files[i]);
	}
	fflush(stdout);

	for (i = 0; i < nfiles; i++)
		dsl_errors_free(&errs[i]);
	free(errs);
	for (i = 0; i < cv.nwbs; i++)
		dsl_workbook_free(cv.wbs[i]);
	free(cv.wbs);
	free(byfile);
	for (i = 0; i < cv.nshipped; i++)
		dsl_workbook_free(cv.shipped[i]);
	free(cv.shipped);
	expr_free(cv.expr);
	free(files);
	return (rc);
}
