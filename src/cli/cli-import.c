/*
 * cli-import.c -- "bora import FILE... [-o DIR | --in-place] [--check]":
 * Mistral workbooks, workflows and action files with YAQL or Jinja
 * expressions rewritten with bora's Lua ones.
 *
 * Each file is converted in memory (cli-import-yaml.c), then written
 * to standard output (one file), into DIR under the same name, or over
 * itself through a temporary file and rename(2).  Expressions that
 * cannot be translated stay as they were and are reported as
 * "FILE:LINE:COL: cannot translate '...': reason".  Exit 0 when every
 * expression was translated, 1 when some were not, 2 on bad usage or a
 * file that cannot be read, parsed or written.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lib.h"
#include "cli/cli.h"
#include "cli/cli-import.h"

#define IMPORT_MAX_FILE	(16 * 1024 * 1024)

struct import_opts {
	const char	*outdir;
	int		 in_place;
	int		 check;
	int		 quiet;
};

static const struct option import_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "in-place", no_argument, NULL, 'I' },
	{ "check", no_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

/* Write len bytes to path through a temporary file in the same folder. */
static int
import_write(const char *path, const char *text, size_t len, char **cause)
{
	struct stat	 sb;
	FILE		*f;
	char		*tmp;
	int		 fd;

	xasprintf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	if (stat(path, &sb) == 0)
		(void)fchmod(fd, sb.st_mode & 07777);
	else
		(void)fchmod(fd, 0644);
	if ((f = fdopen(fd, "w")) == NULL) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	if (fwrite(text, 1, len, f) != len || fflush(f) != 0) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return (0);

fail:
	unlink(tmp);
	free(tmp);
	return (-1);
}

/* Where a converted file goes under -o DIR (caller frees). */
static char *
import_target(const char *dir, const char *file)
{
	char	*copy, *path;

	copy = xstrdup(file);
	xasprintf(&path, "%s/%s", dir, basename(copy));
	free(copy);
	return (path);
}

/* Convert one file; returns CLI_EXIT_OK, _FAIL (flagged) or _USAGE. */
static int
import_file(const char *file, const struct import_opts *o, FILE *report)
{
	struct import_result	 res;
	char			*text, *out = NULL, *cause = NULL, *path;
	size_t			 len, outlen, i;
	int			 rc;

	if ((text = file_read(file, IMPORT_MAX_FILE, &len, &cause)) == NULL) {
		fprintf(stderr, "bora import: %s\n", cause);
		free(cause);
		return (CLI_EXIT_USAGE);
	}
	if (import_yaml(text, len, &out, &outlen, &res, &cause) != 0) {
		fprintf(stderr, "%s:%s\n", file, cause);
		free(cause);
		free(text);
		import_result_free(&res);
		return (CLI_EXIT_USAGE);
	}
	for (i = 0; i < res.ndiags; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", file, res.diags[i].line,
		    res.diags[i].col, res.diags[i].msg);
	rc = res.ndiags > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;

	if (!o->check) {
		if (o->in_place || o->outdir != NULL) {
			path = o->in_place ? xstrdup(file) :
			    import_target(o->outdir, file);
			if (import_write(path, out, outlen, &cause) != 0) {
				fprintf(stderr, "bora import: %s\n", cause);
				free(cause);
				rc = CLI_EXIT_USAGE;
			}
			free(path);
		} else if (fwrite(out, 1, outlen, stdout) != outlen ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "bora import: stdout: %s\n",
			    strerror(errno));
			rc = CLI_EXIT_USAGE;
		}
	}
	if (!o->quiet && rc != CLI_EXIT_USAGE) {
		if (res.ndiags == 0)
			fprintf(report, "%s: %zu expression%s translated\n",
			    file, res.nexprs, res.nexprs == 1 ? "" : "s");
		else
			fprintf(report, "%s: %zu of %zu expression%s left "
			    "unchanged\n", file, res.ndiags, res.nexprs,
			    res.nexprs == 1 ? "" : "s");
	}
	import_result_free(&res);
	free(out);
	free(text);
	return (rc);
}

/* bora import FILE... [-o DIR | --in-place] [--check] [-q]. */
int
cli_cmd_import(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct import_opts	 o;
	struct stat		 sb;
	FILE			*report;
	int			 ch, i, rc = CLI_EXIT_OK, frc;

	memset(&o, 0, sizeof o);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:o:q", import_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'o':
			o.outdir = optarg;
			break;
		case 'I':
			o.in_place = 1;
			break;
		case 'c':
			o.check = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case ':':
			return (cli_usage("import", "option '%s' needs a value",
			    argv[optind - 1]));
		default:
			return (cli_usage("import", "unknown option '%s'",
			    argv[optind - 1]));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (cli_usage("import", "no file given"));
	if (o.outdir != NULL && o.in_place)
		return (cli_usage("import", "-o and --in-place exclude each "
		    "other"));
	if (!o.check && o.outdir == NULL && !o.in_place && argc > 1)
		return (cli_usage("import", "several files need -o DIR or "
		    "--in-place"));
	if (o.outdir != NULL && !o.check) {
		if (stat(o.outdir, &sb) != 0 && mkdir(o.outdir, 0755) != 0) {
			fprintf(stderr, "bora import: %s: %s\n", o.outdir,
			    strerror(errno));
			return (CLI_EXIT_USAGE);
		}
		if (stat(o.outdir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "bora import: %s: not a directory\n",
			    o.outdir);
			return (CLI_EXIT_USAGE);
		}
	}
	/* Reports go to stdout unless the converted text does. */
	report = (o.check || o.outdir != NULL || o.in_place) ? stdout :
	    stderr;
	for (i = 0; i < argc; i++) {
		frc = import_file(argv[i], &o, report);
		if (frc > rc)
			rc = frc;
	}
	fflush(stdout);
	return (rc);
}
